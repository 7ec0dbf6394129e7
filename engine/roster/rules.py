"""The catalogue of duty rules: id, Chinese label, kind and default options.

Every rule id and label here flows unchanged into problem.yaml, the objective breakdown,
infeasibility explanations, the coverage check and error messages.  `hard` rules are
constraints; `soft` rules are weighted objective terms; `softable` hard rules may be broken
(at `relax_weight` per broken instance) only when the user asks for a relaxed roster.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ALL_ROLES = ["grid_worker", "co_manager", "supervisor", "manager", "squad", "department"]

ROLE_LABELS = {
    "grid_worker": "网格员", "co_manager": "协管员", "supervisor": "督导员",
    "manager": "网格管理者", "squad": "巡防队员", "department": "下沉干部",
}
# Accepted spellings in staff.csv, Chinese or English.
ROLE_ALIASES = {**{v: k for k, v in ROLE_LABELS.items()}, **{k: k for k in ROLE_LABELS},
                "网格长": "grid_worker", "专职网格员": "grid_worker", "兼职网格员": "grid_worker",
                "网格协管员": "co_manager", "网格督导员": "supervisor", "巡防队": "squad"}


@dataclass(frozen=True)
class RuleSpec:
    id: str
    label: str
    kind: str                      # "hard", "soft" or "option"
    defaults: dict[str, Any]
    softable: bool = False         # may be broken in a relaxed roster
    doc: str = ""


def _spec(id, label, kind, defaults, softable=False, doc=""):
    return RuleSpec(id, label, kind, defaults, softable, doc)


# Hard
_HARD = [
    _spec("grid_cover", "网格每日巡查", "hard",
          {"per_day": 1, "key_day_per_day": 2, "key_grid_per_day": 2},
          doc="every grid has exactly one patroller a day, who patrols it per_day times "
              "(key_day_per_day on key days, key_grid_per_day for key grids; the largest applies)"),
    _spec("own_grid_first", "本人在岗须巡本格", "hard", {}, softable=True,
          doc="a grid's own worker who is on duty patrols that grid; backups cover only when the worker is off"),
    _spec("max_grids_per_day", "每人每日巡查上限", "hard", {"grids": 2, "rounds": 4}, softable=True,
          doc="a person patrols at most `grids` grids and `rounds` rounds (fire checks count as a round) a day"),
    _spec("supervisor_visits", "督导员每周督导", "hard", {"window": 7, "max_per_day": 3}, softable=True,
          doc="every `window` consecutive days contain a visit by the supervisor to each of their grids"),
    _spec("manager_visits", "网格管理者每周走访", "hard", {"window": 7, "max_per_day": 4}, softable=True,
          doc="every `window` consecutive days contain a visit by the community manager to each grid of the community"),
    _spec("rest_in_window", "每7天至少休息1天", "hard",
          {"window": 7, "min_off": 1, "applies_to": ["grid_worker", "co_manager", "squad", "department"]},
          softable=True, doc="every `window` consecutive days contain at least `min_off` days off"),
    _spec("max_consecutive_work", "最多连续工作天数", "hard",
          {"days": 6, "applies_to": ["grid_worker", "co_manager", "squad", "department"]}, softable=True,
          doc="no more than `days` working days in a row"),
    _spec("min_consecutive_off", "最少连续休息天数", "hard",
          {"days": 1, "applies_to": ["grid_worker", "co_manager", "squad", "department"]}, softable=True,
          doc="a stretch of days off inside the month lasts at least `days` days"),
    _spec("forbidden_succession", "禁止的班次衔接", "hard", {"pairs": [["night", "day"]]}, softable=True,
          doc="shift pairs that may not follow each other on consecutive days (夜班后不接白班)"),
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
          {"min": None, "max": None, "applies_to": ["grid_worker", "co_manager"]}, softable=True,
          doc="total working days in the month between `min` and `max` (days on leave reduce `min`)"),
]
# Soft
_SOFT = [
    _spec("backup_order", "AB岗按顺序顶岗", "soft", {"weight": 3},
          doc="using the n-th backup costs n × weight; adjacent-grid workers rank after the named backups"),
    _spec("shift_cover_excess", "班次超配", "soft", {"weight": 2},
          doc="each team on a shift beyond min_teams costs weight"),
    _spec("shift_cover_shortfall", "班次人数未达目标", "soft", {"weight": 5},
          doc="each person short of a shift's target_strength costs weight"),
    _spec("fair_weekends", "周末值班均衡", "soft", {"weight": 10},
          doc="per town: weight × (most weekend days worked by one person) + weight × (most − fewest)"),
    _spec("fair_holidays", "节假日值班均衡", "soft", {"weight": 10}, doc="as fair_weekends, for public holidays"),
    _spec("fair_nights", "夜班均衡", "soft", {"weight": 10}, doc="as fair_weekends, for night shifts of teams"),
    _spec("fair_backup", "顶岗均衡", "soft", {"weight": 5}, doc="as fair_weekends, for patrols of other people's grids"),
    _spec("visit_economy", "督导走访从简", "soft", {"weight": 1},
          doc="each supervisor or manager visit costs weight, so visits are not scheduled beyond what the rules need"),
    _spec("requests", "休息/上班申请", "soft", {"weight": 1},
          doc="an unmet request costs its own weight × this weight"),
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
