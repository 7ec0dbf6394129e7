"""The catalogue of duty rules: id, Chinese label, kind and default options.

Every rule id and label here flows unchanged into problem.yaml, the objective breakdown,
infeasibility explanations, the coverage check and error messages.  `hard` rules are
constraints; `soft` rules are weighted objective terms; `softable` hard rules may be broken
(at `relax_weight` per broken instance) only when the user asks for a relaxed roster.  A rule
that is not `on_by_default` applies only when problem.yaml names it under `rules:` (its options
are the office's own numbers, e.g. how many duty days above the official working days it pays).

`PERSON_OPTIONS` lists the rule options a person may have of their own (a contract): a column of
staff.csv overrides the rule's option for that person.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ALL_ROLES = ["grid_worker", "co_manager", "supervisor", "manager", "squad", "department", "shift_worker"]
PATROL_ROLES = ("grid_worker", "co_manager")

ROLE_LABELS = {
    "grid_worker": "网格员", "co_manager": "协管员", "supervisor": "督导员",
    "manager": "网格管理者", "squad": "巡防队员", "department": "下沉干部", "shift_worker": "值班人员",
}
# Accepted spellings in staff.csv, Chinese or English.
ROLE_ALIASES = {**{v: k for k, v in ROLE_LABELS.items()}, **{k: k for k in ROLE_LABELS},
                "网格长": "grid_worker", "专职网格员": "grid_worker", "兼职网格员": "grid_worker",
                "网格协管员": "co_manager", "网格督导员": "supervisor", "巡防队": "squad",
                "值班员": "shift_worker", "话务员": "shift_worker", "接线员": "shift_worker",
                "指挥员": "shift_worker", "队员": "shift_worker"}


@dataclass(frozen=True)
class RuleSpec:
    id: str
    label: str
    kind: str                      # "hard", "soft" or "option"
    defaults: dict[str, Any]
    softable: bool = False         # may be broken in a relaxed roster
    doc: str = ""
    on_by_default: bool = True     # False: applies only when problem.yaml names it


def _spec(id, label, kind, defaults, softable=False, doc="", on_by_default=True):
    return RuleSpec(id, label, kind, defaults, softable, doc, on_by_default)


PERSON_ROLES = ["grid_worker", "co_manager", "squad", "department", "shift_worker"]


# Hard
_HARD = [
    _spec("leave", "请假不排班", "hard", {},
          doc="nobody is rostered on a day of leave, nor a team all of whose members are on leave (a fact of "
              "leave.csv; cannot be switched off)"),
    _spec("grid_cover", "网格每日巡查", "hard",
          {"per_day": 1, "key_day_per_day": 2, "key_grid_per_day": 2},
          doc="every grid has exactly one patroller a day, who patrols it per_day times "
              "(key_day_per_day on key days, key_grid_per_day for key grids; the largest applies)"),
    _spec("own_grid_first", "本人在岗须巡本格", "hard", {}, softable=True,
          doc="a grid's own worker who is on duty patrols that grid; backups cover only when the worker is off"),
    _spec("max_grids_per_day", "每人每日巡查上限", "hard",
          {"grids": 2, "rounds": 4, "rest_day_grids": None, "rest_day_rounds": None}, softable=True,
          doc="a person patrols at most `grids` grids and `rounds` rounds (fire checks count as a round) a day; "
              "on rest days `rest_day_grids` and `rest_day_rounds` when given (the duty worker covers more)"),
    _spec("supervisor_visits", "督导员每周督导", "hard", {"window": 7, "max_per_day": 3}, softable=True,
          doc="every `window` consecutive days contain a visit by the supervisor to each of their grids"),
    _spec("manager_visits", "网格管理者每周走访", "hard", {"window": 7, "max_per_day": 4}, softable=True,
          doc="every `window` consecutive days contain a visit by the community manager to each grid of the community"),
    _spec("rest_in_window", "每7天至少休息1天", "hard",
          {"window": 7, "min_off": 1, "applies_to": PERSON_ROLES},
          softable=True, doc="every `window` consecutive days contain at least `min_off` days off"),
    _spec("max_consecutive_work", "最多连续工作天数", "hard",
          {"days": 6, "applies_to": PERSON_ROLES}, softable=True,
          doc="no more than `days` working days in a row"),
    _spec("min_consecutive_work", "最少连续工作天数", "hard",
          {"days": 1, "applies_to": PERSON_ROLES}, softable=True,
          doc="a run of working days that starts and ends inside the period lasts at least `days` days"),
    _spec("min_consecutive_off", "最少连续休息天数", "hard",
          {"days": 1, "applies_to": PERSON_ROLES}, softable=True,
          doc="a stretch of days off inside the month lasts at least `days` days"),
    _spec("forbidden_succession", "禁止的班次衔接", "hard", {"pairs": [["night", "day"]]}, softable=True,
          doc="shift pairs that may not follow each other on consecutive days (夜班后不接白班)"),
    _spec("shift_eligibility", "可上班次", "hard", {},
          doc="a person works only the shifts listed for them in staff.csv (可上班次); blank: every shift"),
    _spec("shift_caps", "班次次数上限", "hard", {"max": {}}, softable=True,
          doc="a person works each shift at most `max[shift]` times in the period (staff.csv 班次上限 overrides)"),
    _spec("working_time", "工作时长上下限", "hard",
          {"min_hours": None, "max_hours": None, "leave_hours": 0, "applies_to": ["shift_worker"]}, softable=True,
          doc="hours worked in the period (shift lengths from `shifts:`) within min_hours, less leave_hours a day "
              "of leave, and max_hours; staff.csv 最少工时/最多工时 override per person"),
    _spec("max_working_weekends", "最多上班周末数", "hard", {"max": None, "applies_to": PERSON_ROLES}, softable=True,
          doc="at most `max` weekends worked in the period; a weekend counts as worked when Saturday or Sunday is"),
    _spec("shift_min_cover", "班次最少人数", "hard", {},
          doc="each shift each day has at least the 最少人数 of demand.csv on it (coverage: never relaxed)"),
    _spec("shift_cover", "班次最低人数", "hard",
          {"shifts": {"day": {"min_teams": 1, "min_strength": 5}, "night": {"min_teams": 1, "min_strength": 5}},
           "key_day_min_strength": None},
          doc="per town, each shift each day has at least min_teams teams and min_strength people present"),
    _spec("department_4plus1", "下沉干部“4+1”", "hard", {}, softable=True,
          doc="department staff spend all but one official working day of each week at the street and none of the rest days"),
    _spec("fire_check", "出租房屋消防检查", "hard", {"per_month": 1}, softable=True,
          doc="each grid gets `per_month` fire-safety checks of rental homes on official working days, by that day's patroller"),
    _spec("publicity_day", "消防宣传日全员在岗", "hard", {}, softable=True,
          doc="on the month's first Monday every grid worker and co-manager not on leave is on duty"),
    _spec("max_weekends", "每月周末值班上限", "hard",
          {"max": None, "applies_to": ["grid_worker", "co_manager"]}, softable=True,
          doc="at most `max` weekend rest days worked in the month (None: rule off)"),
    _spec("total_days", "月工作天数上下限", "hard",
          {"min": None, "max": None, "applies_to": ["grid_worker", "co_manager", "shift_worker"]}, softable=True,
          doc="total working days in the month between `min` and `max` (days on leave reduce `min`)"),
    _spec("working_days", "按法定工作日排班", "hard",
          {"extra_days": 0, "below": 0, "extra_weight": 5, "applies_to": ["grid_worker", "co_manager"]},
          softable=True, on_by_default=False,
          doc="days worked within the period's official working days (less the person's leave on them) "
              "minus `below` and plus `extra_days`: duty on rest days beyond `extra_days` is given back "
              "as 补休 on working days; each day above the official working days (paid duty) costs "
              "`extra_weight`, so 补休 comes first"),
    _spec("duty_cover", "休息日值班最低人数", "hard", {"per_community": 1, "per_town": None}, on_by_default=False,
          doc="on every rest day at least `per_community` 网格员/协管员 of each community with grids, and "
              "`per_town` of each town, are on duty"),
]
# Soft
_SOFT = [
    _spec("backup_order", "AB岗按顺序顶岗", "soft", {"weight": 3},
          doc="using the n-th backup costs n × weight; adjacent-grid workers rank after the named backups"),
    _spec("shift_cover_excess", "班次超配", "soft", {"weight": 2},
          doc="each team on a shift beyond min_teams costs weight"),
    _spec("shift_cover_shortfall", "班次人数未达目标", "soft", {"weight": 5},
          doc="each person short of a shift's target_strength costs weight"),
    _spec("fair_days", "工作天数均衡", "soft", {"weight": 10, "max_spread": None}, softable=True,
          doc="per town and group (网格员, 班组, 值班人员): weight × (most days worked) + weight × (most − fewest); "
              "`max_spread` makes most − fewest a hard limit"),
    _spec("fair_weekends", "周末值班均衡", "soft", {"weight": 10, "max_spread": None}, softable=True,
          doc="per town and group: weight × (most weekend days worked by one unit) + weight × (most − fewest)"),
    _spec("fair_holidays", "节假日值班均衡", "soft", {"weight": 10, "max_spread": None}, softable=True,
          doc="as fair_weekends, for public holidays"),
    _spec("fair_nights", "夜班均衡", "soft", {"weight": 10, "max_spread": None}, softable=True,
          doc="as fair_weekends, for night shifts (of teams and of people rostered by shift)"),
    _spec("fair_backup", "顶岗均衡", "soft", {"weight": 5, "max_spread": None}, softable=True,
          doc="as fair_weekends, for patrols of other people's grids"),
    _spec("rest_day_duty", "休息日值班从简", "soft",
          {"weight": 4, "holiday_weight": 8, "applies_to": ["grid_worker", "co_manager"]}, on_by_default=False,
          doc="each day worked on a rest day costs weight (holiday_weight on a public holiday), so rest-day and "
              "holiday duty (paid, or given back as 补休) is kept to what the cover rules need"),
    _spec("shift_demand", "班次人数需求", "soft", {"weight": 1, "under_weight": 10, "over_weight": 1},
          doc="each person short of a shift's 需求人数 costs its 缺员权重 × weight, each person beyond it its 超员权重 × weight"),
    _spec("visit_economy", "督导走访从简", "soft", {"weight": 1},
          doc="each supervisor or manager visit costs weight, so visits are not scheduled beyond what the rules need"),
    _spec("requests", "休息/上班申请", "soft", {"weight": 1},
          doc="an unmet request (a day off or on, or a shift on a day) costs its own weight × this weight"),
]
# Options
_OPTIONS = [
    _spec("joint_patrol", "相邻网格联合巡查", "option", {"allowed": True},
          doc="when allowed, workers of adjacent grids in the same town may cover a grid after its named backups"),
    _spec("relax", "放宽规则", "option", {"relax_weight": 1000},
          doc="cost of breaking one instance of a softable rule in a relaxed roster (--relax)"),
    _spec("replan", "调整排班", "option", {"change_weight": 50},
          doc="cost of each changed future assignment in --replan"),
]

CATALOG: dict[str, RuleSpec] = {r.id: r for r in _HARD + _SOFT + _OPTIONS}
HARD_IDS = [r.id for r in _HARD]
SOFT_IDS = [r.id for r in _SOFT]
FAIR_IDS = ["fair_days", "fair_weekends", "fair_holidays", "fair_nights", "fair_backup"]

# Per-person options (a person's contract): staff.csv column -> (rule, option).  Hours are hours.
PERSON_OPTIONS: dict[str, tuple[str, str]] = {
    "max_consecutive": ("max_consecutive_work", "days"),
    "min_consecutive": ("min_consecutive_work", "days"),
    "min_consecutive_off": ("min_consecutive_off", "days"),
    "max_weekends": ("max_working_weekends", "max"),
    "min_hours": ("working_time", "min_hours"),
    "max_hours": ("working_time", "max_hours"),
    "min_days": ("total_days", "min"),
    "max_days": ("total_days", "max"),
}


def label(rule_id: str) -> str:
    return CATALOG[rule_id].label


@dataclass
class RuleConfig:
    """One rule as an office configured it."""

    id: str
    enabled: bool = True
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def spec(self) -> RuleSpec:
        return CATALOG[self.id]

    @property
    def label(self) -> str:
        return self.spec.label

    def __getitem__(self, key: str) -> Any:
        return self.params[key]
