"""Roster problem data: loading rosters/<name>/ and validating it, all problems at once.

Two kinds of problem folder (docs/roster.md):

* `kind: patrol` (default): problem.yaml, staff.csv, communities.csv, grids.csv and optionally
  leave.csv and requests.csv; or, with `register:` in problem.yaml, the grid workers, their
  communities and grids come from the scoring register (engine/inputs.read_register) and the
  roster's own tables add what the register does not hold (AB岗, neighbours, supervisors, squads).
* `kind: shifts`: a roster by person and shift with no grids (a duty room, a hotline, a squad by
  person): problem.yaml, staff.csv (people and their contracts), demand.csv (people wanted per
  day and shift), and optionally leave.csv and requests.csv.

Tables may be CSV or XLSX with Chinese or English headers.  `previous:` names last period's
published roster, for continuity across the boundary (continuity.py).  `load_problem` returns a
`RosterProblem` or raises `DataError` listing every located problem; nothing here knows about
CP-SAT.
"""
from __future__ import annotations

import copy
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DataError, InputError, Problem, ProblemList
from ..mapping import table_headers
from ..sources import LocDict, Row, _norm_header, dotted, line_of, load_yaml, parse_bool_cell, read_table
from .calendar import MonthCalendar, UnknownYear, build_calendar, build_period
from .rules import ALL_ROLES, CATALOG, PERSON_OPTIONS, ROLE_ALIASES, ROLE_LABELS, RuleConfig

SEP = re.compile(r"[;；,，、\s]+")
ARGUMENT = "（参数）"       # the file of a problem with an argument given by the caller (not a file)
MONTH_ARG = "排班月份"      # the field of a problem with the month given by the caller
PREVIOUS_ARG = "上期排班"   # … and with the previous roster given by the caller
KINDS = ("patrol", "shifts")
TEAM = "班组:"              # prefix of a team's unit id, so teams and people share one duty table
SHIFT_TIME = re.compile(r"(\d{1,2}):(\d{2})\s*[-–—~～至]+\s*(\d{1,2}):(\d{2})")   # a shift's clock times


@dataclass
class ShiftType:
    id: str
    label: str                   # what the roster prints, e.g. 夜
    minutes: int | None          # length, for working-time rules; None when not given
    night: bool                  # counts for 夜班均衡
    time: str | None = None      # clock times printed in the legend, e.g. 08:00-16:00


@dataclass
class Person:
    id: str
    name: str
    role: str
    town: str
    community: str | None
    team: str | None
    where: tuple[str, int]
    shifts: list[str] | None = None                     # shifts this person may work (None: every shift)
    caps: dict[str, int] = field(default_factory=dict)  # shift id -> most times in the period
    options: dict[tuple[str, str], Any] = field(default_factory=dict)   # (rule, option) -> own value


@dataclass
class Community:
    id: str
    name: str
    town: str
    manager: str | None


@dataclass
class Grid:
    id: str
    name: str
    community: str
    town: str
    households: int
    type: str
    key: bool
    worker: str
    backups: list[str]
    adjacent: list[str]
    supervisor: str | None
    where: tuple[str, int]


@dataclass
class Team:
    id: str
    town: str
    members: list[str]


@dataclass
class Leave:
    person: str
    start: dt.date
    end: dt.date
    reason: str
    where: tuple[str, int]

    def days(self, cal: MonthCalendar) -> list[int]:
        return [i for i, d in enumerate(cal.dates) if self.start <= d <= self.end]


@dataclass
class Request:
    person: str
    day: int
    want: str            # "off" or "on"
    weight: int
    where: tuple[str, int]
    shift: str | None = None     # a request for (or against) one shift; None: the whole day


@dataclass
class Demand:
    """People wanted on one shift of one day (kind: shifts)."""

    target: int                  # 需求人数: under and over it cost the weights below
    min: int                     # 最少人数: a hard minimum (0: none)
    under_weight: int
    over_weight: int
    where: tuple[str, int]


@dataclass
class History:
    """The last days of the previous period's published roster (continuity.py)."""

    days: int                                   # H: index -H .. -1 before the period's first day
    duty: dict[str, list[str | None]]           # unit -> shift id (None: off) for each of those days
    visits: set[tuple[str, str, int]]           # (visitor, grid, day < 0)
    source: str

    def shift(self, unit: str, d: int) -> str | None:
        """The shift of `unit` on day d < 0 (None: off, or before the history)."""
        row = self.duty.get(unit)
        i = self.days + d
        return row[i] if row is not None and 0 <= i < len(row) else None

    def known(self, unit: str) -> bool:
        return unit in self.duty


@dataclass
class RosterProblem:
    name: str
    folder: Path
    cal: MonthCalendar
    people: dict[str, Person]
    communities: dict[str, Community]
    grids: dict[str, Grid]
    teams: dict[str, Team]
    leaves: list[Leave]
    requests: list[Request]
    rules: dict[str, RuleConfig]
    decompose: bool
    time_limit: float
    seed: int
    shift_labels: dict[str, str] = field(default_factory=dict)
    kind: str = "patrol"
    unit: str = ""                                   # kind shifts: the duty room's name (its one part)
    shift_types: dict[str, ShiftType] = field(default_factory=dict)
    demand: dict[tuple[int, str], Demand] = field(default_factory=dict)
    history: History | None = None
    register: str | None = None                      # the register file the grid workers come from

    @property
    def towns(self) -> list[str]:
        if self.kind == "shifts":
            return [self.unit]
        return sorted({c.town for c in self.communities.values()})

    @property
    def month(self) -> str:
        return f"{self.cal.year:04d}-{self.cal.month:02d}"

    @property
    def period(self) -> dict[str, str]:
        return {"start": str(self.cal.start), "end": str(self.cal.end)}

    @property
    def team_shifts(self) -> list[str]:
        return list(self.rules["shift_cover"]["shifts"]) if self.on("shift_cover") else ["day", "night"]

    @property
    def person_shifts(self) -> list[str]:
        """The shifts people of kind shifts are rostered on."""
        return [s for s in self.shift_types if s != "duty"] if self.kind == "shifts" else []

    def rule(self, rule_id: str) -> RuleConfig:
        return self.rules[rule_id]

    def on(self, rule_id: str) -> bool:
        return self.rules[rule_id].enabled

    def param(self, unit: str, rule_id: str, key: str) -> Any:
        """A rule option for one unit: the person's own value (a contract column) or the rule's."""
        person = self.people.get(unit)
        if person is not None and (rule_id, key) in person.options:
            return person.options[rule_id, key]
        return self.rules[rule_id].params[key]

    def is_night(self, shift: str | None) -> bool:
        st = self.shift_types.get(shift or "")
        return bool(st and st.night) or shift == "night"

    def minutes(self, shift: str) -> int:
        st = self.shift_types.get(shift)
        return st.minutes if st is not None and st.minutes is not None else 0

    def rounds(self, g: str, d: int) -> int:
        """Patrol rounds grid g needs on day d: the largest of per_day, key-day and key-grid rounds."""
        r = self.rules["grid_cover"]
        need = r["per_day"]
        if self.cal.is_key[d]:
            need = max(need, r["key_day_per_day"])
        if self.grids[g].key:
            need = max(need, r["key_grid_per_day"])
        return need

    def grid_cap(self, d: int) -> tuple[int, int]:
        """(grids, rounds) one person may patrol on day d (max_grids_per_day, rest-day options)."""
        r = self.rules["max_grids_per_day"]
        if self.cal.is_rest_day[d]:
            return (r["rest_day_grids"] or r["grids"], r["rest_day_rounds"] or r["rounds"])
        return r["grids"], r["rounds"]

    def leave_days(self, person: str) -> set[int]:
        out: set[int] = set()
        for lv in self.leaves:
            if lv.person == person:
                out.update(lv.days(self.cal))
        return out

    def team_away(self, team: str) -> set[int]:
        """Days on which every member of a team is on leave: the team cannot work them."""
        members = self.teams[team].members
        days = [self.leave_days(m) for m in members]
        return set.intersection(*days) if days else set()

    def away(self, unit: str) -> set[int]:
        """Days a unit (a person, or TEAM + team id) cannot work: leave."""
        if unit.startswith(TEAM):
            return self.team_away(unit[len(TEAM):])
        return self.leave_days(unit)

    def target_days(self, pid: str) -> int:
        """The official working days of the period less this person's leave on them (working_days)."""
        away = self.leave_days(pid)
        return sum(1 for d in range(self.cal.days) if not self.cal.is_rest_day[d] and d not in away)

    def restrict(self, towns: list[str]) -> "RosterProblem":
        """The sub-problem of some towns (exact when nothing crosses a town border)."""
        import dataclasses
        if self.kind == "shifts":
            return self
        keep = set(towns)
        people = {k: p for k, p in self.people.items() if p.town in keep}
        return dataclasses.replace(
            self, people=people,
            communities={k: c for k, c in self.communities.items() if c.town in keep},
            grids={k: g for k, g in self.grids.items() if g.town in keep},
            teams={k: t for k, t in self.teams.items() if t.town in keep},
            leaves=[lv for lv in self.leaves if lv.person in people],
            requests=[r for r in self.requests if r.person in people])


# --------------------------------------------------------------------------- columns

STAFF_COLS = {"id": ["编号", "人员编号", "工号"], "name": ["姓名", "名字"], "role": ["角色", "岗位"],
              "town": ["镇街", "乡镇", "镇", "街道"], "community": ["社区", "村", "社区/村"],
              "team": ["班组", "巡防队", "小队"],
              # A person's own contract (PERSON_OPTIONS) and, for kind shifts, their shifts.
              "shifts": ["可上班次"], "caps": ["班次上限"],
              "max_consecutive": ["最多连续工作天数"], "min_consecutive": ["最少连续工作天数"],
              "min_consecutive_off": ["最少连续休息天数"], "max_weekends": ["最多上班周末", "最多上班周末数"],
              "min_hours": ["最少工时", "最少工作小时"], "max_hours": ["最多工时", "最多工作小时"],
              "min_days": ["最少工作天数"], "max_days": ["最多工作天数"]}
COMMUNITY_COLS = {"id": ["编号", "社区编号"], "name": ["名称", "社区名称"], "town": ["镇街", "乡镇", "镇", "街道"],
                  "manager": ["网格管理者", "管理者"]}
GRID_COLS = {"id": ["网格编号", "编号"], "name": ["名称", "网格名称"], "community": ["社区", "村"],
             "households": ["户数"], "type": ["类型", "网格类型"], "key": ["重点网格", "重点"],
             "worker": ["网格员", "本人"], "backups": ["AB岗", "后备", "顶岗人员"],
             "adjacent": ["相邻网格", "相邻"], "supervisor": ["督导员"]}
LEAVE_COLS = {"person": ["人员", "人员编号", "编号"], "start": ["开始", "开始日期"], "end": ["结束", "结束日期"],
              "reason": ["事由", "原因", "类型"]}
REQUEST_COLS = {"person": ["人员", "人员编号", "编号"], "date": ["日期"], "want": ["申请", "类型"],
                "weight": ["权重"], "shift": ["班次"]}
DEMAND_COLS = {"date": ["日期", "星期"], "shift": ["班次"], "target": ["需求人数", "需求"],
               "min": ["最少人数", "最少"], "under_weight": ["缺员权重"], "over_weight": ["超员权重"]}

WANT = {"off": "off", "休息": "off", "休": "off", "on": "on", "上班": "on", "值班": "on"}
GRID_TYPES = {"普通": "普通", "专属": "专属", "normal": "普通", "special": "专属"}
TOP_KEYS = {"name", "kind", "month", "period", "unit", "register", "previous", "decompose", "time_limit", "seed",
            "calendar", "rules", "shifts"}
CAL_KEYS = {"key_days", "sensitive_periods", "holidays", "workdays"}
WEEKDAYS = {"周一": 0, "周二": 1, "周三": 2, "周四": 3, "周五": 4, "周六": 5, "周日": 6, "周天": 6,
            "星期一": 0, "星期二": 1, "星期三": 2, "星期四": 3, "星期五": 4, "星期六": 5, "星期日": 6, "星期天": 6,
            "mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
EVERY_DAY = {"每天", "每日", "全部", "all", "*"}
PATROL_ROLE_NAMES = [ROLE_LABELS[r] for r in ALL_ROLES if r != "shift_worker"]
_WHAT = {"staff": "人员", "communities": "社区", "grids": "网格", "demand": "班次需求"}


def _date(text: Any) -> dt.date:
    if isinstance(text, dt.datetime):
        return text.date()
    if isinstance(text, dt.date):
        return text
    return dt.date.fromisoformat(str(text).strip())


def _written_headers(path: Path, cols: dict) -> dict[str, str]:
    """Column -> the header the file writes for it (one of its accepted names)."""
    try:
        written = {_norm_header(h): h for h in table_headers(path)}
    except InputError:
        return {}
    out = {}
    for col, names in cols.items():
        got = next((written[_norm_header(n)] for n in (col, *names) if _norm_header(n) in written), None)
        if got is not None:
            out[col] = got
    return out


def load_problem(folder: str | Path, month: str | None = None, *, decompose: bool | None = None,
                 previous: str | Path | None = None) -> RosterProblem:
    """Read and validate a problem folder; `month` (YYYY-MM) overrides problem.yaml's month or
    period, `previous` its previous roster."""
    return _Loader(Path(folder), month, decompose, previous).load()


class _Loader:
    def __init__(self, folder: Path, month: str | None, decompose: bool | None, previous):
        self.folder, self.month_arg, self.decompose_arg, self.previous_arg = folder, month, decompose, previous
        self.probs = ProblemList()
        self.failed: set[str] = set()        # tables that cannot be used (reported once)
        self.y: Any = LocDict()
        self.yname = str(folder / "problem.yaml")
        self.yaml_ok = False
        self.cal: MonthCalendar | None = None
        self.people: dict[str, Person] = {}
        self.bad_people: set[str] = set()     # ids whose own staff row is wrong (reported there)
        self.communities: dict[str, Community] = {}
        self.bad_comms: set[str] = set()
        self.headers: dict[str, dict[str, str]] = {}   # table file -> column -> its header as the file writes it

    def add(self, *a, **kw) -> None:
        self.probs.add(*a, **kw)

    def _said_as_written(self) -> None:
        """Problems at a table's column name the column by its header as the clerk's file writes it
        (AB岗, 网格编号), not by the reader's own name for it (backups, id)."""
        for i, p in enumerate(self.probs.problems):
            got = self.headers.get(str(p.file), {}).get(p.field)
            if got is not None:
                self.probs.problems[i] = Problem(p.file, p.line, got, p.found, p.expected, p.hint)

    # ------------------------------------------------------------------ the whole folder

    def load(self) -> RosterProblem:
        folder = self.folder
        if not folder.is_dir():
            raise DataError([Problem(str(folder), None, "目录", str(folder),
                                     "存在的排班问题目录（含 problem.yaml、staff.csv 等）")])
        self._read_yaml()
        y = self.y
        kind = y.get("kind", "patrol")
        if kind not in KINDS:
            self.add(self.yname, line_of(y, ["kind"]), "kind", kind, "patrol（网格巡查排班）或 shifts（按人按班次排班）")
            kind = "patrol"
        self.kind = kind
        self.cal = self._calendar()
        rules = self.rules = _load_rules(y, self.yname, self.probs, kind)
        shift_types = self._shift_types(rules)
        dec = y.get("decompose", True) if self.decompose_arg is None else self.decompose_arg
        if not isinstance(dec, bool):
            self.add(self.yname, line_of(y, ["decompose"]), "decompose", dec, "true 或 false")
            dec = True
        self.dec = dec
        if isinstance(y.get("name"), (dict, list)):
            self.add(self.yname, line_of(y, ["name"]), "name", y["name"], "排班名称（文字）")
        tl = y.get("time_limit", 20)
        if not isinstance(tl, (int, float)) or isinstance(tl, bool) or tl <= 0:
            self.add(self.yname, line_of(y, ["time_limit"]), "time_limit", tl, "正数（秒）")
            tl = 20
        seed = y.get("seed", 1)
        if not isinstance(seed, int) or isinstance(seed, bool):
            self.add(self.yname, line_of(y, ["seed"]), "seed", seed, "整数")
            seed = 1
        unit = y.get("unit") or (y.get("name") if kind == "shifts" and isinstance(y.get("name"), str) else None) \
            or folder.name
        if isinstance(unit, (dict, list)):
            self.add(self.yname, line_of(y, ["unit"]), "unit", unit, "值班单位的名称（文字）")
            unit = folder.name
        self.unit = str(unit)
        if kind == "shifts" and "register" in y:
            self.add(self.yname, line_of(y, ["register"]), "register", y["register"],
                     "不填（名册只用于网格巡查排班 kind: patrol）")

        register = None
        if kind == "patrol":
            grids, teams, register = self._patrol_tables(shift_types)
            demand: dict = {}
        else:
            grids, teams = {}, {}
            self._shift_staff(shift_types)
            demand = self._demand(shift_types)
        self._contract_checks(shift_types)
        leaves = self._leave()
        requests = self._requests(leaves, shift_types)
        history = None
        prev = self.previous_arg if self.previous_arg is not None else y.get("previous")
        if prev is not None and self.cal is not None:
            from .continuity import load_history
            base = folder if self.previous_arg is None else Path.cwd()
            where = (ARGUMENT, None) if self.previous_arg is not None else (self.yname, line_of(y, ["previous"]))
            history = load_history(Path(prev) if Path(prev).is_absolute() else base / prev, self.cal,
                                   set(self.people) | {TEAM + t for t in teams}, where, self.probs)
        self._said_as_written()
        self.probs.raise_if_any(DataError)
        assert self.cal is not None
        labels = {s.id: s.label for s in shift_types.values()}
        return RosterProblem(str(y.get("name") or folder.name), folder, self.cal, self.people, self.communities, grids,
                             teams, leaves, requests, rules, bool(dec), float(tl), int(seed), labels, kind, self.unit,
                             shift_types, demand, history, register)

    def _read_yaml(self) -> None:
        ypath = self.folder / "problem.yaml"
        # A broken problem.yaml is reported with everything else: the tables are still checked.
        if not ypath.exists():
            self.add(self.yname, None, "文件", None, "问题目录中的 problem.yaml")
            return
        try:
            y = load_yaml(ypath, DataError)
            self.yaml_ok = isinstance(y, dict)
            if not self.yaml_ok:
                self.add(self.yname, 1, "（根）", "空文件" if y is None else y, "键: 值 形式的设置（至少有 month: YYYY-MM）")
                y = LocDict()
            self.y = y
        except DataError as exc:
            self.probs.extend(exc.problems)
        for k in self.y:
            if k not in TOP_KEYS:
                self.add(self.yname, line_of(self.y, [k]), str(k), k, "已知的键之一：" + "、".join(sorted(TOP_KEYS)))

    # ------------------------------------------------------------------ calendar

    def _calendar(self) -> MonthCalendar | None:
        y, yname, month = self.y, self.yname, self.month_arg
        start, days, where = None, None, None
        if month is not None or "period" not in y:
            month_text = month or y.get("month")
            try:
                ym = dt.datetime.strptime(str(month_text), "%Y-%m")
                start = dt.date(ym.year, ym.month, 1)
            except (TypeError, ValueError):
                if month or self.yaml_ok:
                    self.add(ARGUMENT if month else yname, None if month else line_of(y, ["month"]),
                             MONTH_ARG if month else "month", month_text, "YYYY-MM 形式的月份，如 2026-10")
            where = (ARGUMENT, None, month) if month else (yname, line_of(y, ["month"]), month_text)
            if "period" in y and "month" in y and not month:
                self.add(yname, line_of(y, ["period"]), "period", y["period"], "month 与 period 只写一个")
        else:
            per = y["period"]
            if "month" in y:
                self.add(yname, line_of(y, ["period"]), "period", per, "month 与 period 只写一个")
            try:
                start = _date(per["start"])
                if per.get("days") is not None and per.get("end") is not None:
                    raise ValueError
                if per.get("days") is not None:
                    days = per["days"]
                    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 366:
                        raise ValueError
                else:
                    days = (_date(per["end"]) - start).days + 1
                    if days < 1 or days > 366:
                        raise ValueError
            except (KeyError, TypeError, ValueError, AttributeError):
                self.add(yname, line_of(y, ["period"]), "period", per,
                         "{start: YYYY-MM-DD, days: 天数（1 到 366）} 或 {start: …, end: …}，end 不早于 start")
                start = None
            where = (yname, line_of(y, ["period"]), per)
        key_days, office_hol, office_work = self._calendar_keys()
        if start is None:
            return None
        try:
            if days is None:
                return build_calendar(start.year, start.month, holidays=office_hol, workdays=office_work,
                                      key_days=key_days)
            return build_period(start, days, holidays=office_hol, workdays=office_work, key_days=key_days)
        except UnknownYear:
            file, line, found = where
            self.add(file, line, "period" if days is not None else (MONTH_ARG if file == ARGUMENT else "month"), found,
                     "chinese-calendar 已知的年份（2004–2026），或在 problem.yaml 的 calendar 下填写该期间的 "
                     "holidays（法定节假日）和 workdays（调休上班日）")
            return None

    def _calendar_keys(self):
        y, yname = self.y, self.yname
        cal_y = y.get("calendar") or LocDict()
        key_days: dict[dt.date, str] = {}
        office_hol = office_work = None
        if not isinstance(cal_y, dict):
            self.add(yname, line_of(y, ["calendar"]), "calendar", cal_y,
                     "键 key_days、sensitive_periods、holidays、workdays 的映射")
            return key_days, None, None
        for key in CAL_KEYS:
            if cal_y.get(key) is not None and not isinstance(cal_y[key], list):
                self.add(yname, line_of(y, ["calendar", key]), f"calendar.{key}", cal_y[key],
                         "列表，如 [2026-10-12]" if key != "sensitive_periods" else "列表，每项 {name, start, end}")
                cal_y = LocDict({**cal_y, key: []})   # reported once; read as empty
        for k in cal_y:
            if k not in CAL_KEYS:
                self.add(yname, line_of(y, ["calendar", k]), f"calendar.{k}", k, "已知的键之一：" + "、".join(sorted(CAL_KEYS)))
        for i, text in enumerate(cal_y.get("key_days") or []):
            try:
                key_days[_date(text)] = "重点日"
            except ValueError:
                self.add(yname, line_of(y, ["calendar", "key_days", i]), f"calendar.key_days[{i}]", text, "日期 YYYY-MM-DD")
        for i, per in enumerate(cal_y.get("sensitive_periods") or []):
            path = ["calendar", "sensitive_periods", i]
            try:
                a, b = _date(per["start"]), _date(per["end"])
                if b < a:
                    raise ValueError
                d = a
                while d <= b:
                    key_days[d] = str(per.get("name", "敏感期"))
                    d += dt.timedelta(days=1)
            except (KeyError, TypeError, ValueError):
                self.add(yname, line_of(y, path), dotted(path), per, "{name, start, end}，start 不晚于 end")
        for key in ("holidays", "workdays"):
            if key in cal_y:
                vals = []
                for i, text in enumerate(cal_y.get(key) or []):
                    try:
                        vals.append(_date(text))
                    except ValueError:
                        self.add(yname, line_of(y, ["calendar", key, i]), f"calendar.{key}[{i}]", text, "日期 YYYY-MM-DD")
                if key == "holidays":
                    office_hol = vals
                else:
                    office_work = vals
        for d in sorted(set(office_hol or []) & set(office_work or [])):
            i = office_work.index(d)
            self.add(yname, line_of(y, ["calendar", "workdays", i]), f"calendar.workdays[{i}]", str(d),
                     "不同时列在 holidays 中的日期（一天不能既是节假日又是调休上班日）")
        return key_days, office_hol, office_work

    # ------------------------------------------------------------------ shifts

    def _shift_types(self, rules: dict[str, RuleConfig]) -> dict[str, ShiftType]:
        """`shifts:` maps a shift id to its label, or to {label, hours, night}."""
        y, yname = self.y, self.yname
        out: dict[str, ShiftType] = {}
        if self.kind == "patrol":
            out = {"duty": ShiftType("duty", "班", None, False), "day": ShiftType("day", "白", None, False),
                   "night": ShiftType("night", "夜", None, True)}
        given = y.get("shifts")
        if given is not None and not isinstance(given, dict):
            self.add(yname, line_of(y, ["shifts"]), "shifts", given,
                     "班次编号到简称（或 {label: 简称, hours: 小时数, night: 是否夜班}）的映射，如 {day: 白, night: 夜}")
            given = {}
        for k, v in (given or {}).items():
            path = ["shifts", k]
            k = str(k)
            if isinstance(v, dict):
                bad = [x for x in v if x not in ("label", "hours", "night", "time")]
                for x in bad:
                    self.add(yname, line_of(y, path + [x]), dotted(path + [x]), x, "label、hours、night、time 之一")
                label = v.get("label", k)
                hours = v.get("hours")
                night = v.get("night", k == "night")
                if label is None or isinstance(label, (dict, list)) or not str(label).strip():
                    self.add(yname, line_of(y, path + ["label"]), dotted(path + ["label"]), label, "排班表中显示的班次简称，如 白")
                    label = k
                minutes = None
                if hours is not None:
                    if isinstance(hours, bool) or not isinstance(hours, (int, float)) or not 0 < hours <= 24:
                        self.add(yname, line_of(y, path + ["hours"]), dotted(path + ["hours"]), hours,
                                 "班次时长（小时，大于 0、不超过 24，如 8 或 7.5）")
                    else:
                        minutes = round(hours * 60)
                if not isinstance(night, bool):
                    self.add(yname, line_of(y, path + ["night"]), dotted(path + ["night"]), night, "true 或 false")
                    night = False
                out[k] = ShiftType(k, str(label).strip(), minutes, night,
                                   self._shift_time(v.get("time"), minutes, path + ["time"]))
            elif v is None or isinstance(v, list) or not str(v).strip():
                self.add(yname, line_of(y, path), dotted(path), v, "排班表中显示的班次简称，如 白")
            else:
                old = out.get(k)
                out[k] = ShiftType(k, str(v).strip(), None, old.night if old else k == "night")
        if self.kind == "shifts":
            out.pop("duty", None)
            if not out:
                self.add(yname, line_of(y, ["shifts"]) if "shifts" in y else None, "shifts", given,
                         "至少一个班次，如 {early: {label: 早, hours: 8}, night: {label: 夜, hours: 8, night: true}}")
        labels: dict[str, str] = {}
        for s in out.values():
            if s.label in labels and (self.kind == "shifts" or s.id in rules["shift_cover"]["shifts"]):
                self.add(yname, line_of(y, ["shifts", s.id]), f"shifts.{s.id}", s.label,
                         f"与其他班次不同的简称（{labels[s.label]} 已用「{s.label}」）")
            labels.setdefault(s.label, s.id)
        self.shift_ids = {s.id for s in out.values()}
        self._types = out
        self._check_shift_refs(rules, out)
        return out

    def _shift_time(self, value: Any, minutes: int | None, path: list) -> str | None:
        """A shift's clock times `HH:MM-HH:MM` (the end may be past midnight), for the printed legend;
        they must span the shift's `hours` when both are given."""
        if value is None:
            return None
        m = SHIFT_TIME.fullmatch(str(value).strip())
        times = [(int(m[i]), int(m[i + 1])) for i in (1, 3)] if m else []
        if not m or any(h > 24 or mi > 59 or (h == 24 and mi) for h, mi in times):
            self.add(self.yname, line_of(self.y, path), dotted(path), value, "上下班时间 HH:MM-HH:MM，如 08:00-16:00")
            return None
        (h1, m1), (h2, m2) = times
        span = (h2 * 60 + m2 - h1 * 60 - m1) % (24 * 60) or 24 * 60
        if minutes is not None and span != minutes:
            self.add(self.yname, line_of(self.y, path), dotted(path), value,
                     f"与 hours（{minutes / 60:g} 小时）一致的上下班时间", f"{value} 是 {span / 60:g} 小时")
            return None
        next_day = "次日" if h2 * 60 + m2 <= h1 * 60 + m1 else ""
        return f"{h1:02d}:{m1:02d}—{next_day}{h2:02d}:{m2:02d}"

    def _check_shift_refs(self, rules: dict[str, RuleConfig], types: dict[str, ShiftType]) -> None:
        """forbidden_succession pairs, shift_caps and working_time against the shifts there are."""
        y, yname = self.y, self.yname
        if self.kind == "shifts":
            known, where = [s for s in types], "shifts"
        else:
            known = list(rules["shift_cover"]["shifts"]) if rules["shift_cover"].enabled else ["day", "night"]
            where = "shift_cover.shifts"
        given_rules = y.get("rules") if isinstance(y.get("rules"), dict) else {}
        given = given_rules.get("forbidden_succession")
        pairs = rules["forbidden_succession"].params["pairs"]
        path = ["rules", "forbidden_succession", "pairs"]
        if not isinstance(pairs, list):
            self.add(yname, line_of(y, path), dotted(path), pairs, "班次对的列表，如 [[night, day]]")
            pairs = []
        if not (isinstance(given, dict) and "pairs" in given):
            # The default pair (night, day) applies only where both shifts exist.
            rules["forbidden_succession"].params["pairs"] = [pr for pr in pairs if isinstance(pr, list)
                                                             and all(x in known for x in pr)]
        else:
            good = []
            for i, pair in enumerate(pairs):
                if not (isinstance(pair, list) and len(pair) == 2):
                    self.add(yname, line_of(y, path + [i]), dotted(path + [i]), pair,
                             "两个班次编号 [前一天的班次, 后一天的班次]，如 [night, day]")
                    continue
                if [x for x in pair if x not in known]:
                    self.add(yname, line_of(y, path + [i]), dotted(path + [i]), pair,
                             f"{where} 中的班次编号：" + "、".join(map(str, known)))
                    continue
                good.append(pair)
            rules["forbidden_succession"].params["pairs"] = good
        caps = rules["shift_caps"].params["max"]
        for s in list(caps):
            if s not in known:
                self.add(yname, line_of(y, ["rules", "shift_caps", "max", s]), f"rules.shift_caps.max.{s}", s,
                         f"{where} 中的班次编号：" + "、".join(map(str, known)))
                caps.pop(s)

    # ------------------------------------------------------------------ tables

    def table(self, stem: str, cols: dict, required: list[str], optional: bool = False) -> list[Row]:
        folder = self.folder
        found = [folder / (stem + ext) for ext in (".csv", ".xlsx") if (folder / (stem + ext)).exists()]
        if not found:
            if not optional:
                self.add(str(folder / (stem + ".csv")), None, "文件", None, f"{stem}.csv 或 {stem}.xlsx")
                self.failed.add(stem)
            return []
        if len(found) > 1:
            self.add(str(found[1]), None, "文件", found[1].name,
                     f"{stem}.csv 和 {stem}.xlsx 只保留一个（两个都在时不知道该用哪个）")
            self.failed.add(stem)
            return []
        try:
            rows, _ = read_table(found[0], cols, required=required)
        except InputError as exc:
            self.probs.extend(exc.problems)
            self.failed.add(stem)
            return []
        self.headers[str(found[0])] = _written_headers(found[0], cols)
        if not rows and not optional:
            self.add(str(found[0]), 2, "（数据行）", "只有表头", f"至少一行{_WHAT[stem]}")
            self.failed.add(stem)
        return rows

    def no_person(self, r: Row, col: str, pid: str | None, expected: str = "staff 中已有的人员编号") -> bool:
        """True when pid is not a usable person; reported unless it follows from another error."""
        if pid in self.people:
            return False
        if not pid or not (pid in self.bad_people or "staff" in self.failed):
            self.add(r.file, r.row, col, pid, expected)
        return True

    def no_community(self, r: Row, col: str, cid: str | None) -> bool:
        if cid in self.communities:
            return False
        if not cid or not (cid in self.bad_comms or "communities" in self.failed):
            self.add(r.file, r.row, col, cid, "communities 中已有的社区编号")
        return True

    def _patrol_tables(self, shift_types) -> tuple[dict[str, Grid], dict[str, Team], str | None]:
        y, dec = self.y, self.dec
        register = None
        reg_rows = None
        if y.get("register") is not None:
            from .register import register_tables
            reg = Path(str(y["register"]))
            reg = reg if reg.is_absolute() else self.folder / reg
            register = str(reg)
            reg_rows = register_tables(reg, (self.yname, line_of(y, ["register"])), self.probs)
            if reg_rows is None:
                self.failed.add("register")
        named = register is not None
        staff_rows = self.table("staff", STAFF_COLS, ["id", "name", "role", "town"], optional=named)
        comm_rows = self.table("communities", COMMUNITY_COLS, ["id", "town"], optional=named)
        grid_rows = self.table("grids", GRID_COLS, ["id"] if named else ["id", "community", "worker"], optional=named)
        if reg_rows is not None:
            from .register import merge_register
            staff_rows, comm_rows, grid_rows = merge_register(reg_rows, staff_rows, comm_rows, grid_rows, self.probs)
        elif named:
            # The register could not be read: the people, communities and grids it would give are
            # unknown, so what refers to them is not judged (the tables' own file problems were said).
            self.failed |= {"staff", "communities", "grids"}
            return {}, {}, register

        comm_row: dict[str, Row] = {}
        for cid, r in _unique(comm_rows, comm_row, "社区", self.probs):
            town = _s(r.get("town"))
            if not town:
                self.add(r.file, r.row, "town", None, "社区所属的镇街")
                self.bad_comms.add(cid)
                continue
            self.communities[cid] = Community(cid, _s(r.get("name")) or cid, town, _s(r.get("manager")))
        towns = {c.town for c in self.communities.values()}

        for r in staff_rows:
            self._person(r, towns, patrol=True)

        for cid, c in self.communities.items():
            r, mgr = comm_row[cid], c.manager
            if not mgr:
                continue
            if self.no_person(r, "manager", mgr):
                c.manager = None
            elif self.people[mgr].role != "manager":
                self.add(r.file, r.row, "manager", mgr,
                         f"角色为网格管理者的人员（此人是{ROLE_LABELS[self.people[mgr].role]}）")
                c.manager = None
            elif dec and self.people[mgr].town != c.town:
                self.add(r.file, r.row, "manager", mgr,
                         f"{c.town} 的人员（按镇分解时不能跨镇，此人属 {self.people[mgr].town}）")
                c.manager = None

        grids = self._grids(grid_rows)
        teams: dict[str, Team] = {}
        for p in self.people.values():
            if p.role == "squad" and p.team:
                t = teams.setdefault(p.team, Team(p.team, p.town, []))
                if t.town != p.town:
                    self.add(p.where[0], p.where[1], "town", p.town, f"与班组 {p.team} 其他队员同镇（{t.town}）")
                t.members.append(p.id)
        return grids, teams, register

    def _person(self, r: Row, towns: set[str], *, patrol: bool) -> None:
        people, probs = self.people, self.probs
        pid = _s(r.get("id"))
        if not pid:
            probs.add(r.file, r.row, "id", None, "人员编号")
            return
        if pid in people or pid in self.bad_people:
            first = people[pid].where[1] if pid in people else None
            probs.add(r.file, r.row, "id", pid, "不重复的人员编号", f"第{first}行已有" if first else "")
            return
        role_text = _s(r.get("role"))
        if patrol:
            role = ROLE_ALIASES.get(role_text or "")
            if role == "shift_worker":
                role = None
            town = _s(r.get("town"))
        else:
            role = "shift_worker" if not role_text else ROLE_ALIASES.get(role_text)
            if role not in (None, "shift_worker"):
                probs.add(r.file, r.row, "role", role_text,
                          "值班人员（按人按班次排班的问题只有值班人员；网格员等请用 kind: patrol）")
                self._row_cells(r, pid)
                return
            town = self.unit
        if role is None:
            probs.add(r.file, r.row, "role", r.get("role"),
                      "角色之一：" + "、".join(PATROL_ROLE_NAMES if patrol else ["值班人员"]))
        if not town:
            probs.add(r.file, r.row, "town", None, "所属镇街")
        elif patrol and towns and town not in towns and not self.bad_comms:   # a community without a town hides its town
            probs.add(r.file, r.row, "town", town, "communities 中的镇街之一：" + "、".join(sorted(towns)))
            town = None
        if role is None or not town:
            self._row_cells(r, pid)
            return
        team = _s(r.get("team"))
        if role == "squad" and not team:
            probs.add(r.file, r.row, "team", None, "巡防队员所属班组")
        elif role != "squad" and team:
            # One person, one role: a supervisor cannot also be rostered with a squad.
            probs.add(r.file, r.row, "team", team, f"空（只有巡防队员属于班组，此人是{ROLE_LABELS[role]}）")
        comm = _s(r.get("community")) if patrol else None
        if comm and not self.no_community(r, "community", comm) and self.communities[comm].town != town:
            probs.add(r.file, r.row, "community", comm, f"{town} 的社区（此社区属 {self.communities[comm].town}）")
        person = Person(pid, _s(r.get("name")) or pid, role, town, comm, team if role == "squad" else None,
                        (r.file, r.row))
        self._contract(r, person)
        people[pid] = person

    def _row_cells(self, r: Row, pid: str) -> None:
        """A person left out for their role or town: the other cells of the row are still checked, so
        that every problem of the row is said in one run."""
        self.bad_people.add(pid)
        self._contract(r, Person(pid, pid, "", "", None, None, (r.file, r.row)))

    def _contract(self, r: Row, person: Person) -> None:
        """A person's own rule options (PERSON_OPTIONS columns), shifts and shift caps."""
        for col, (rule, opt) in PERSON_OPTIONS.items():
            v = r.get(col)
            if v is None or (isinstance(v, str) and not v.strip()):
                continue
            hours = opt.endswith("hours")
            try:
                f = float(str(v).strip())
                if f < 0 or (not hours and not f.is_integer()):
                    raise ValueError
            except ValueError:
                self.add(r.file, r.row, col, v, "非负" + ("数（小时）" if hours else "整数"))
                continue
            if person.role == "squad":
                self.add(r.file, r.row, col, v, "空（巡防队员按班组排班，个人合同条件请用按人排班 kind: shifts）")
                continue
            person.options[rule, opt] = f if hours else int(f)
        for rule, lo, hi in (("working_time", "min_hours", "max_hours"), ("total_days", "min", "max")):
            if (rule, lo) not in person.options and (rule, hi) not in person.options:
                continue     # the rule's own min and max are checked in problem.yaml
            a, b = self._own_or_rule(person, rule, lo), self._own_or_rule(person, rule, hi)
            if a is not None and b is not None and a > b:
                lo_col = next(c for c, ro in PERSON_OPTIONS.items() if ro == (rule, lo))
                hi_col = next(c for c, ro in PERSON_OPTIONS.items() if ro == (rule, hi))
                if (rule, lo) in person.options:
                    self.add(r.file, r.row, lo_col, r.get(lo_col), f"不大于最多值（{b:g}）")
                else:
                    self.add(r.file, r.row, hi_col, r.get(hi_col),
                             f"不小于 problem.yaml 中 rules.{rule}.{lo} 的 {a:g}（或在本行写此人自己的最少值）")
        text = _s(r.get("shifts"))
        if text:
            if self.kind != "shifts":
                self.add(r.file, r.row, "shifts", text, "空（可上班次只用于按人按班次排班 kind: shifts）")
            else:
                got = []
                for tok in SEP.split(text):
                    s = self._shift_id(tok)
                    if s is None:
                        self.add(r.file, r.row, "shifts", tok, "班次编号或简称之一：" + self._shift_list())
                    elif s not in got:
                        got.append(s)
                person.shifts = got
        text = _s(r.get("caps"))
        if text:
            if self.kind != "shifts":
                self.add(r.file, r.row, "caps", text, "空（班次上限只用于按人按班次排班 kind: shifts）")
                return
            for tok in SEP.split(text):
                m = re.fullmatch(r"(.+?)[=:：](\d+)", tok)
                s = self._shift_id(m.group(1)) if m else None
                if m is None or s is None:
                    self.add(r.file, r.row, "caps", tok, "班次=次数，如 夜=4；多个用分号隔开（班次：" + self._shift_list() + "）")
                    continue
                person.caps[s] = int(m.group(2))

    def _own_or_rule(self, person: Person, rule: str, opt: str):
        if (rule, opt) in person.options:
            return person.options[rule, opt]
        return self.rules[rule].params.get(opt)

    def _shift_id(self, token: str) -> str | None:
        token = token.strip()
        if token in self.shift_ids and token != "duty":
            return token
        for s in self._types.values():
            if s.label == token and s.id != "duty":
                return s.id
        return None

    def _shift_list(self) -> str:
        return "、".join(f"{s.id}（{s.label}）" for s in self._types.values() if s.id != "duty")

    def _contract_checks(self, shift_types: dict[str, ShiftType]) -> None:
        """Working time is counted in hours: every shift of a person it applies to needs a length."""
        wt = self.rules["working_time"]
        if not wt.enabled:
            return
        roles = set(wt["applies_to"])
        hours = [p for p in self.people.values() if p.role in roles and p.role != "squad" and (
            self._own_or_rule(p, "working_time", "min_hours") is not None
            or self._own_or_rule(p, "working_time", "max_hours") is not None)]
        if not hours:
            return
        used = set(self.person_shift_ids(shift_types)) if any(p.role == "shift_worker" for p in hours) else set()
        if any(p.role != "shift_worker" for p in hours):
            used.add("duty")
        for s in sorted(used):
            if s in shift_types and shift_types[s].minutes is None:
                self.add(self.yname, line_of(self.y, ["shifts", s]), f"shifts.{s}.hours", None,
                         f"班次时长（「{CATALOG['working_time'].label}」按工时计算，要写每个班次的 hours）")

    def person_shift_ids(self, shift_types: dict[str, ShiftType]) -> list[str]:
        return [s for s in shift_types if s != "duty"] if self.kind == "shifts" else []

    def _grids(self, grid_rows: list[Row]) -> dict[str, Grid]:
        people, dec = self.people, self.dec
        grids: dict[str, Grid] = {}
        grid_row: dict[str, Row] = {}
        for gid, r in _unique(grid_rows, grid_row, "网格", self.probs):
            comm = _s(r.get("community"))
            if self.no_community(r, "community", comm):
                continue
            town = self.communities[comm].town
            worker = _s(r.get("worker"))
            ok = True
            if not worker:
                self.add(r.file, r.row, "worker", None, "本网格的网格员编号（每个网格必须有网格员）")
                ok = False
            else:
                ok = self._patroller(r, "worker", worker, town, "staff 中已有的人员编号", "")
            backups = [b for b in SEP.split(_s(r.get("backups")) or "") if b]
            for b in backups:
                if b == worker and b in people:
                    self.add(r.file, r.row, "backups", b, "本网格网格员以外的人员")
                    ok = False
                elif not self._patroller(r, "backups", b, town, "staff 中已有的人员编号（AB岗人员不存在）",
                                         "按镇分解时不能跨镇，"):
                    ok = False
            if len(set(backups)) != len(backups):
                self.add(r.file, r.row, "backups", r.get("backups"), "不重复的 AB岗人员")
            sup = _s(r.get("supervisor"))
            if sup:
                if self.no_person(r, "supervisor", sup):
                    sup = None
                elif people[sup].role != "supervisor":
                    self.add(r.file, r.row, "supervisor", sup, f"督导员（此人是{ROLE_LABELS[people[sup].role]}）")
                    sup = None
                elif dec and people[sup].town != town:
                    self.add(r.file, r.row, "supervisor", sup,
                             f"{town} 的督导员（按镇分解时督导员不能跨镇督导，此人属 {people[sup].town}）",
                             "改为本镇督导员，或在 problem.yaml 中写 decompose: false 整县求解")
                    sup = None
            hh = r.get("households")
            try:
                households = int(float(hh)) if hh is not None else 0
                if households < 0:
                    raise ValueError
            except (TypeError, ValueError):
                self.add(r.file, r.row, "households", hh, "非负整数")
                households = 0
            gtype = GRID_TYPES.get(_s(r.get("type")) or "普通")
            if gtype is None:
                self.add(r.file, r.row, "type", r.get("type"), "普通 或 专属")
            try:
                key = parse_bool_cell(r.get("key"))
            except ValueError:
                self.add(r.file, r.row, "key", r.get("key"), "是 或 否")
                key = False
            adjacent = [a for a in SEP.split(_s(r.get("adjacent")) or "") if a]
            if ok:
                grids[gid] = Grid(gid, _s(r.get("name")) or gid, comm, town, households, gtype or "普通", key, worker,
                                  backups, adjacent, sup, (r.file, r.row))
        for g in grids.values():
            for a in g.adjacent:
                if a == g.id:
                    self.add(g.where[0], g.where[1], "adjacent", a, "本网格以外的网格编号")
                elif a not in grid_row:
                    self.add(g.where[0], g.where[1], "adjacent", a, "grids 中已有的网格编号")
        return grids

    def _patroller(self, r: Row, col: str, pid: str, town: str, unknown: str, across: str) -> bool:
        """Whether a grid's worker or backup is a grid worker or co-manager of the grid's town (when
        decomposing); each problem said where it is."""
        if self.no_person(r, col, pid, unknown):
            return False
        person = self.people[pid]
        if person.role not in ("grid_worker", "co_manager"):
            self.add(r.file, r.row, col, pid, f"网格员或协管员（此人是{ROLE_LABELS[person.role]}）")
            return False
        if self.dec and person.town != town:
            self.add(r.file, r.row, col, pid, f"{town} 的人员（{across}此人属 {person.town}）")
            return False
        return True

    # ------------------------------------------------------------------ kind: shifts

    def _shift_staff(self, shift_types: dict[str, ShiftType]) -> None:
        for r in self.table("staff", STAFF_COLS, ["id", "name"]):
            self._person(r, set(), patrol=False)

    def _demand(self, shift_types: dict[str, ShiftType]) -> dict[tuple[int, str], Demand]:
        """demand.csv: per date, weekday or every day and shift, the people wanted; the most specific
        row applies (a date over a weekday over every day)."""
        rows = self.table("demand", DEMAND_COLS, ["shift", "target"])
        cal = self.cal
        sd = self.rules["shift_demand"].params
        by: dict[tuple[int, object, str], tuple[Demand, Row]] = {}    # (specificity, when, shift)
        for r in rows:
            when_text = _s(r.get("date"))
            spec, when, when_ok = 0, None, True
            try:
                if when_text is None or when_text.lower() in EVERY_DAY:
                    spec, when = 0, None
                elif when_text.lower() in WEEKDAYS or when_text in WEEKDAYS:
                    spec, when = 1, WEEKDAYS.get(when_text, WEEKDAYS.get(when_text.lower()))
                else:
                    spec, when = 2, _date(r.get("date"))
                    if cal and when not in cal.dates:
                        self.add(r.file, r.row, "date", str(when), f"排班期间内的日期（{cal.start}～{cal.end}）")
                        when_ok = False
            except ValueError:
                self.add(r.file, r.row, "date", r.get("date"), "日期 YYYY-MM-DD、星期（周一…周日）或 每天")
                when_ok = False
            s = self._shift_id(_s(r.get("shift")) or "")
            if s is None:
                self.add(r.file, r.row, "shift", r.get("shift"), "班次编号或简称之一：" + self._shift_list())
            vals = {}
            ok = True
            for col, default in (("target", None), ("min", 0), ("under_weight", sd["under_weight"]),
                                 ("over_weight", sd["over_weight"])):
                v = r.get(col)
                if v is None:
                    if default is None:
                        self.add(r.file, r.row, col, None, "非负整数（需要的人数）")
                        ok = False
                    vals[col] = default
                    continue
                n = _nonneg_int(v)
                if n is None:
                    self.add(r.file, r.row, col, v, "非负整数")
                    ok = False
                vals[col] = n
            if ok and vals["min"] > vals["target"]:
                self.add(r.file, r.row, "min", r.get("min"), f"不大于需求人数（{vals['target']}）")
                ok = False
            if not (ok and when_ok and s is not None):
                continue
            key = (spec, when, s)
            if key in by:
                self.add(r.file, r.row, "date", r.get("date"),
                         f"每个日期（或星期、每天）每个班次只有一行（第{by[key][1].row}行已有）")
                continue
            by[key] = (Demand(vals["target"], vals["min"], vals["under_weight"], vals["over_weight"],
                              (r.file, r.row)), r)
        out: dict[tuple[int, str], Demand] = {}
        if cal is None:
            return out
        for d, day in enumerate(cal.dates):
            for s in shift_types:
                for key in ((2, day, s), (1, day.weekday(), s), (0, None, s)):
                    if key in by:
                        out[d, s] = by[key][0]
                        break
        return out

    # ------------------------------------------------------------------ leave and requests

    def _leave(self) -> list[Leave]:
        leaves: list[Leave] = []
        for r in self.table("leave", LEAVE_COLS, ["person", "start", "end"], optional=True):
            pid = _s(r.get("person"))
            known = not self.no_person(r, "person", pid)
            dates = []
            for col in ("start", "end"):       # each cell said, whatever the others hold
                try:
                    dates.append(_date(r.get(col)))
                except (TypeError, ValueError):
                    self.add(r.file, r.row, col, r.get(col), "存在的日期 YYYY-MM-DD")
            if len(dates) < 2:
                continue
            a, b = dates
            if b < a:
                self.add(r.file, r.row, "end", str(b), f"不早于开始日期 {a}")
                continue
            if not known:
                continue
            lv = Leave(pid, a, b, _s(r.get("reason")) or "请假", (r.file, r.row))
            for other in leaves:
                if other.person == pid and not (b < other.start or a > other.end):
                    self.add(r.file, r.row, "start", f"{a}～{b}",
                             f"与第{other.where[1]}行的请假（{other.start}～{other.end}）不重叠")
            leaves.append(lv)
        return leaves

    def _requests(self, leaves: list[Leave], shift_types) -> list[Request]:
        cal, people = self.cal, self.people
        requests: list[Request] = []
        asked: dict[tuple[str, dt.date, str | None], Row] = {}
        for r in self.table("requests", REQUEST_COLS, ["person", "date", "want"], optional=True):
            # Every cell is judged whatever the others hold, so that a row's problems are said in one run.
            pid = _s(r.get("person"))
            known = not self.no_person(r, "person", pid)
            if known and people[pid].role == "squad":
                self.add(r.file, r.row, "person", pid, "按人排班的人员（巡防队员按班组排班，个人请改为请假）")
                known = False
            d = None
            try:
                d = _date(r.get("date"))
            except (TypeError, ValueError):
                self.add(r.file, r.row, "date", r.get("date"), "存在的日期 YYYY-MM-DD")
            if d is not None and cal and d not in cal.dates:
                what = f"{cal.year}年{cal.month}月内的日期" if cal.is_month else f"排班期间内的日期（{cal.start}～{cal.end}）"
                self.add(r.file, r.row, "date", str(d), what)
                d = None
            shift, shift_ok = None, True
            if _s(r.get("shift")):
                if self.kind != "shifts" or (known and people[pid].role != "shift_worker"):
                    self.add(r.file, r.row, "shift", r.get("shift"), "空（按班次的申请只用于按人按班次排班 kind: shifts）")
                    shift_ok = False
                else:
                    shift = self._shift_id(_s(r.get("shift")))
                    if shift is None:
                        self.add(r.file, r.row, "shift", r.get("shift"), "班次编号或简称之一：" + self._shift_list())
                        shift_ok = False
            want = WANT.get(_s(r.get("want")) or "")
            if want is None:
                self.add(r.file, r.row, "want", r.get("want"), "休息 或 上班")
            w = r.get("weight")
            weight = _positive_int(w) if w is not None else 1
            if weight is None:
                self.add(r.file, r.row, "weight", w, "正整数")
            if not known or d is None or not shift_ok:
                continue
            if (pid, d, shift) in asked:
                what = "这一天这个班次" if shift else "这一天"
                self.add(r.file, r.row, "date", str(d),
                         f"每人每天{'每个班次' if shift else ''}只有一条申请（第{asked[pid, d, shift].row}行已有此人{what}的申请）")
                continue
            asked[pid, d, shift] = r
            if want is None or weight is None:
                continue
            if want == "on":
                lv = next((lv for lv in leaves if lv.person == pid and lv.start <= d <= lv.end), None)
                if lv is not None:
                    self.add(r.file, r.row, "want", r.get("want"),
                             f"请假日以外的上班申请（leave 第{lv.where[1]}行：{lv.start}～{lv.end}{lv.reason}）")
                    continue
            if cal:
                requests.append(Request(pid, cal.dates.index(d), want, weight, (r.file, r.row), shift))
        return requests


# --------------------------------------------------------------------------- rules

def _load_rules(y: dict, yname: str, probs: ProblemList, kind: str = "patrol") -> dict[str, RuleConfig]:
    given = y.get("rules") or {}
    out: dict[str, RuleConfig] = {}
    if not isinstance(given, dict):
        probs.add(yname, line_of(y, ["rules"]), "rules", given, "规则编号到选项的映射")
        given = {}
    for rid in given:
        if rid not in CATALOG:
            probs.add(yname, line_of(y, ["rules", rid]), f"rules.{rid}", rid,
                      "已知的规则编号之一：" + "、".join(CATALOG))
    for rid, spec in CATALOG.items():
        opts = given.get(rid, {})
        params = copy.deepcopy(spec.defaults)   # never share the catalogue's lists and dicts
        # A rule that is not on by default applies when problem.yaml names it.
        enabled = spec.on_by_default or rid in given
        if opts is False:
            enabled, opts = False, {}
        elif opts is None or opts is True:
            opts = {}
        if not isinstance(opts, dict):
            probs.add(yname, line_of(y, ["rules", rid]), f"rules.{rid}", opts, "选项映射，或 false 表示停用")
            opts = {}
        for k, v in opts.items():
            path = ["rules", rid, k]
            if k == "enabled":
                if not isinstance(v, bool):
                    probs.add(yname, line_of(y, path), dotted(path), v, "true 或 false")
                enabled = bool(v)
                continue
            if k not in spec.defaults:
                probs.add(yname, line_of(y, path), dotted(path), k,
                          f"「{spec.label}」的选项之一：" + ("、".join(spec.defaults) or "enabled"))
                continue
            want = spec.defaults[k]
            if k == "applies_to":
                if not isinstance(v, list) or any(x not in ALL_ROLES for x in v):
                    probs.add(yname, line_of(y, path), dotted(path), v, "角色列表，取自 " + "、".join(ALL_ROLES))
                    continue
            elif k in HOURS:
                if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0):
                    probs.add(yname, line_of(y, path), dotted(path), v, "非负数（小时）" + ("，或 null 表示不限" if k in NULLABLE else ""))
                    continue
            elif rid == "shift_caps":
                if not isinstance(v, dict) or any(not isinstance(x, int) or isinstance(x, bool) or x < 0
                                                  for x in v.values()):
                    probs.add(yname, line_of(y, path), dotted(path), v, "班次编号到非负整数的映射，如 {night: 8}")
                    continue
                v = {str(s): x for s, x in v.items()}
            elif isinstance(want, bool):
                if not isinstance(v, bool):
                    probs.add(yname, line_of(y, path), dotted(path), v, "true 或 false")
                    continue
            elif isinstance(want, int) or (want is None and k in NULLABLE):
                if (v is None and k not in NULLABLE) or (
                        v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 0)):
                    probs.add(yname, line_of(y, path), dotted(path), v,
                              "非负整数" + ("，或 null 表示不限" if k in NULLABLE else ""))
                    continue
            params[k] = v
        out[rid] = RuleConfig(rid, enabled, params)
    _check_rules(out, y, yname, probs, kind)
    return out


NULLABLE = ("max", "min", "key_day_min_strength", "max_spread", "below", "per_community", "per_town",
            "min_hours", "max_hours", "rest_day_grids", "rest_day_rounds")
HOURS = ("min_hours", "max_hours", "leave_hours")
# Options that must be at least this much (0 would make the rule meaningless or every month impossible).
AT_LEAST_ONE = {"grid_cover": ("per_day", "key_day_per_day", "key_grid_per_day"),
                "max_grids_per_day": ("grids", "rounds", "rest_day_grids", "rest_day_rounds"),
                "supervisor_visits": ("window", "max_per_day"), "manager_visits": ("window", "max_per_day"),
                "rest_in_window": ("window",), "max_consecutive_work": ("days",), "min_consecutive_off": ("days",),
                "min_consecutive_work": ("days",)}
SHIFT_OPTIONS = {"min_teams": 1, "min_strength": 0, "target_strength": None}


def _check_rules(out: dict[str, RuleConfig], y: dict, yname: str, probs: ProblemList, kind: str) -> None:
    """Checks across options of one rule, and the shape of `shift_cover.shifts`."""
    def bad(path, found, expected, hint=""):
        probs.add(yname, line_of(y, path), dotted(path), found, expected, hint)

    if kind == "patrol" and not out["grid_cover"].enabled:
        bad(["rules", "grid_cover"], False, "启用（「网格每日巡查」是排班的前提，不能停用）")
    if not out["leave"].enabled:
        bad(["rules", "leave"], False, "启用（请假的人不能排班，此规则不能停用）")
    for rid, keys in AT_LEAST_ONE.items():
        for k in keys:
            v = out[rid].params[k]
            if isinstance(v, int) and v < 1:
                bad(["rules", rid, k], v, "正整数（至少 1）")
                out[rid].params[k] = CATALOG[rid].defaults[k]
    for rid in ("rest_in_window", "supervisor_visits", "manager_visits"):
        if out[rid].params["window"] > 31:
            bad(["rules", rid, "window"], out[rid].params["window"], "1 到 31 的整数（窗口比一个月还长，规则永远不起作用）")
    r = out["rest_in_window"].params
    if r["min_off"] > r["window"]:
        bad(["rules", "rest_in_window", "min_off"], r["min_off"], f"不大于 window（{r['window']}）的整数")
    for rid, lo, hi in (("total_days", "min", "max"), ("working_time", "min_hours", "max_hours")):
        t = out[rid].params
        if t[lo] is not None and t[hi] is not None and t[lo] > t[hi]:
            bad(["rules", rid, lo], t[lo], f"不大于 {hi}（{t[hi]}）的{'整数' if rid == 'total_days' else '数'}")
    if kind == "shifts":
        for rid in ("grid_cover", "shift_cover", "working_days", "duty_cover", "rest_day_duty"):
            if rid in (y.get("rules") or {}) and (y.get("rules") or {}).get(rid) is not False:
                bad(["rules", rid], rid, "按人按班次排班（kind: shifts）适用的规则（此规则只用于网格巡查排班）")
    sc = out["shift_cover"].params
    shifts = sc["shifts"]
    if not isinstance(shifts, dict) or not shifts:
        bad(["rules", "shift_cover", "shifts"], shifts,
            "班次编号到要求的映射，如 {day: {min_teams: 1, min_strength: 5}, night: {...}}")
        sc["shifts"] = shifts = dict(CATALOG["shift_cover"].defaults["shifts"])
    for s, opt in list(shifts.items()):
        path = ["rules", "shift_cover", "shifts", s]
        if s == "duty":
            bad(path, s, "duty 以外的班次编号（duty 是网格员的在岗班）")
        if opt is None:
            opt = shifts[s] = {}
        if not isinstance(opt, dict):
            bad(path, opt, "{min_teams: 整数, min_strength: 整数, target_strength: 整数（可省）}")
            shifts[s] = {}
            continue
        for k, v in opt.items():
            if k not in SHIFT_OPTIONS:
                bad(path + [k], k, "班次要求之一：" + "、".join(SHIFT_OPTIONS))
            elif (v is None and SHIFT_OPTIONS[k] is not None) or (
                    v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 0)):
                bad(path + [k], v, "非负整数")
        shifts[s] = {**{k: d for k, d in SHIFT_OPTIONS.items()},
                     **{k: v for k, v in opt.items() if k in SHIFT_OPTIONS and isinstance(v, int) and v >= 0}}
        if shifts[s]["min_teams"] < 1:
            bad(path + ["min_teams"], shifts[s]["min_teams"], "正整数（至少 1 个班组）")


def _unique(rows: list[Row], seen: dict[str, Row], what: str, probs: ProblemList):
    """(id, row) for each row with a new id; empty and repeated ids are reported."""
    for r in rows:
        rid = _s(r.get("id"))
        if not rid or rid in seen:
            probs.add(r.file, r.row, "id", rid, f"不重复的{what}编号", f"第{seen[rid].row}行已有" if rid in seen else "")
            continue
        seen[rid] = r
        yield rid, r


def _positive_int(v: Any) -> int | None:
    """A positive whole number from a cell (3, 3.0, "3"), else None."""
    n = _nonneg_int(v)
    return n if n else None


def _nonneg_int(v: Any) -> int | None:
    """A non-negative whole number from a cell (3, 3.0, "3"), else None."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    if isinstance(v, bool) or not f.is_integer() or f < 0:
        return None
    return int(f)


def _s(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    t = str(v).strip()
    return t or None
