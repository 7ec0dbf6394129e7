"""Roster problem data: loading rosters/<name>/ and validating it, all problems at once.

A problem folder holds problem.yaml (month, calendar, rule options), staff.csv,
communities.csv, grids.csv and optionally leave.csv and requests.csv (CSV or XLSX, Chinese
or English headers).  `load_problem` returns a `RosterProblem` or raises `DataError` listing
every located problem; nothing here knows about CP-SAT.
"""
from __future__ import annotations

import copy
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DataError, InputError, ProblemList
from ..sources import LocDict, Row, dotted, line_of, load_yaml, parse_bool_cell, read_table
from .calendar import MonthCalendar, UnknownYear, build_calendar
from .rules import ALL_ROLES, CATALOG, ROLE_ALIASES, ROLE_LABELS, RuleConfig

SEP = re.compile(r"[;；,，、\s]+")


@dataclass
class Person:
    id: str
    name: str
    role: str
    town: str
    community: str | None
    team: str | None
    where: tuple[str, int]


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

    @property
    def towns(self) -> list[str]:
        return sorted({c.town for c in self.communities.values()})

    @property
    def month(self) -> str:
        return f"{self.cal.year:04d}-{self.cal.month:02d}"

    def rule(self, rule_id: str) -> RuleConfig:
        return self.rules[rule_id]

    def on(self, rule_id: str) -> bool:
        return self.rules[rule_id].enabled

    def rounds(self, g: str, d: int) -> int:
        """Patrol rounds grid g needs on day d: the largest of per_day, key-day and key-grid rounds."""
        r = self.rules["grid_cover"]
        need = r["per_day"]
        if self.cal.is_key[d]:
            need = max(need, r["key_day_per_day"])
        if self.grids[g].key:
            need = max(need, r["key_grid_per_day"])
        return need

    def leave_days(self, person: str) -> set[int]:
        out: set[int] = set()
        for lv in self.leaves:
            if lv.person == person:
                out.update(lv.days(self.cal))
        return out

    def restrict(self, towns: list[str]) -> "RosterProblem":
        """The sub-problem of some towns (exact when nothing crosses a town border)."""
        keep = set(towns)
        people = {k: p for k, p in self.people.items() if p.town in keep}
        return RosterProblem(
            name=self.name, folder=self.folder, cal=self.cal, people=people,
            communities={k: c for k, c in self.communities.items() if c.town in keep},
            grids={k: g for k, g in self.grids.items() if g.town in keep},
            teams={k: t for k, t in self.teams.items() if t.town in keep},
            leaves=[lv for lv in self.leaves if lv.person in people],
            requests=[r for r in self.requests if r.person in people],
            rules=self.rules, decompose=self.decompose, time_limit=self.time_limit, seed=self.seed,
            shift_labels=self.shift_labels)


# --------------------------------------------------------------------------- loading

STAFF_COLS = {"id": ["编号", "人员编号", "工号"], "name": ["姓名", "名字"], "role": ["角色", "岗位"],
              "town": ["镇街", "乡镇", "镇", "街道"], "community": ["社区", "村", "社区/村"],
              "team": ["班组", "巡防队", "小队"]}
COMMUNITY_COLS = {"id": ["编号", "社区编号"], "name": ["名称", "社区名称"], "town": ["镇街", "乡镇", "镇", "街道"],
                  "manager": ["网格管理者", "管理者"]}
GRID_COLS = {"id": ["网格编号", "编号"], "name": ["名称", "网格名称"], "community": ["社区", "村"],
             "households": ["户数"], "type": ["类型", "网格类型"], "key": ["重点网格", "重点"],
             "worker": ["网格员", "本人"], "backups": ["AB岗", "后备", "顶岗人员"],
             "adjacent": ["相邻网格", "相邻"], "supervisor": ["督导员"]}
LEAVE_COLS = {"person": ["人员", "人员编号", "编号"], "start": ["开始", "开始日期"], "end": ["结束", "结束日期"],
              "reason": ["事由", "原因", "类型"]}
REQUEST_COLS = {"person": ["人员", "人员编号", "编号"], "date": ["日期"], "want": ["申请", "类型"],
                "weight": ["权重"]}

WANT = {"off": "off", "休息": "off", "休": "off", "on": "on", "上班": "on", "值班": "on"}
GRID_TYPES = {"普通": "普通", "专属": "专属", "normal": "普通", "special": "专属"}
TOP_KEYS = {"name", "month", "decompose", "time_limit", "seed", "calendar", "rules", "shifts"}
CAL_KEYS = {"key_days", "sensitive_periods", "holidays", "workdays"}


def _find_tables(folder: Path, stem: str) -> list[Path]:
    return [folder / (stem + ext) for ext in (".csv", ".xlsx") if (folder / (stem + ext)).exists()]


def _date(text: Any) -> dt.date:
    if isinstance(text, dt.datetime):
        return text.date()
    if isinstance(text, dt.date):
        return text
    return dt.date.fromisoformat(str(text).strip())


def load_problem(folder: str | Path, month: str | None = None, *, decompose: bool | None = None) -> RosterProblem:
    """Read and validate a problem folder; `month` (YYYY-MM) overrides problem.yaml's."""
    folder = Path(folder)
    probs = ProblemList()
    if not folder.is_dir():
        raise DataError([_p(str(folder), None, "目录", str(folder), "存在的排班问题目录（含 problem.yaml、staff.csv 等）")])
    ypath = folder / "problem.yaml"
    yname = str(ypath)
    # A broken problem.yaml is reported with everything else: the tables are still checked.
    yaml_ok = False
    y: Any = LocDict()
    if not ypath.exists():
        probs.add(yname, None, "文件", None, "问题目录中的 problem.yaml")
    else:
        try:
            y = load_yaml(ypath, DataError)
            yaml_ok = isinstance(y, dict)
            if not yaml_ok:
                probs.add(yname, 1, "（根）", "空文件" if y is None else y, "键: 值 形式的设置（至少有 month: YYYY-MM）")
                y = LocDict()
        except DataError as exc:
            probs.extend(exc.problems)
    for k in y:
        if k not in TOP_KEYS:
            probs.add(yname, line_of(y, [k]), str(k), k, "已知的键之一：" + "、".join(sorted(TOP_KEYS)))

    # Month and calendar.
    month_text = month or y.get("month")
    ym = None
    try:
        ym = dt.datetime.strptime(str(month_text), "%Y-%m")
    except (TypeError, ValueError):
        if month or yaml_ok:
            probs.add("命令行 --month" if month else yname, None if month else line_of(y, ["month"]), "month",
                      month_text, "YYYY-MM 形式的月份，如 2026-10")
    cal_y = y.get("calendar") or LocDict()
    key_days: dict[dt.date, str] = {}
    office_hol = office_work = None
    if not isinstance(cal_y, dict):
        probs.add(yname, line_of(y, ["calendar"]), "calendar", cal_y,
                  "键 key_days、sensitive_periods、holidays、workdays 的映射")
    else:
        for key in CAL_KEYS:
            if cal_y.get(key) is not None and not isinstance(cal_y[key], list):
                probs.add(yname, line_of(y, ["calendar", key]), f"calendar.{key}", cal_y[key],
                          "列表，如 [2026-10-12]" if key != "sensitive_periods"
                          else "列表，每项 {name, start, end}")
                cal_y = LocDict({**cal_y, key: []})   # reported once; read as empty
        for k in cal_y:
            if k not in CAL_KEYS:
                probs.add(yname, line_of(y, ["calendar", k]), f"calendar.{k}", k, "已知的键之一：" + "、".join(sorted(CAL_KEYS)))
        for i, text in enumerate(cal_y.get("key_days") or []):
            try:
                key_days[_date(text)] = "重点日"
            except ValueError:
                probs.add(yname, line_of(y, ["calendar", "key_days", i]), f"calendar.key_days[{i}]", text, "日期 YYYY-MM-DD")
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
                probs.add(yname, line_of(y, path), dotted(path), per, "{name, start, end}，start 不晚于 end")
        for key in ("holidays", "workdays"):
            if key in cal_y:
                vals = []
                for i, text in enumerate(cal_y.get(key) or []):
                    try:
                        vals.append(_date(text))
                    except ValueError:
                        probs.add(yname, line_of(y, ["calendar", key, i]), f"calendar.{key}[{i}]", text, "日期 YYYY-MM-DD")
                if key == "holidays":
                    office_hol = vals
                else:
                    office_work = vals
        for d in sorted(set(office_hol or []) & set(office_work or [])):
            i = office_work.index(d)
            probs.add(yname, line_of(y, ["calendar", "workdays", i]), f"calendar.workdays[{i}]", str(d),
                      "不同时列在 holidays 中的日期（一天不能既是节假日又是调休上班日）")
    cal = None
    if ym:
        try:
            cal = build_calendar(ym.year, ym.month, holidays=office_hol, workdays=office_work, key_days=key_days)
        except UnknownYear:
            where = ("calendar",) if "calendar" in y else ("month",)
            probs.add("命令行 --month" if month else yname, None if month else line_of(y, list(where)), "month",
                      month_text, "chinese-calendar 已知的年份（2004–2026），或在 problem.yaml 的 calendar 下填写该月的 "
                      "holidays（法定节假日）和 workdays（调休上班日）")

    rules = _load_rules(y, yname, probs)
    dec = y.get("decompose", True) if decompose is None else decompose
    if not isinstance(dec, bool):
        probs.add(yname, line_of(y, ["decompose"]), "decompose", dec, "true 或 false")
        dec = True
    if isinstance(y.get("name"), (dict, list)):
        probs.add(yname, line_of(y, ["name"]), "name", y["name"], "排班名称（文字）")
    tl = y.get("time_limit", 20)
    if not isinstance(tl, (int, float)) or isinstance(tl, bool) or tl <= 0:
        probs.add(yname, line_of(y, ["time_limit"]), "time_limit", tl, "正数（秒）")
        tl = 20
    seed = y.get("seed", 1)
    if not isinstance(seed, int) or isinstance(seed, bool):
        probs.add(yname, line_of(y, ["seed"]), "seed", seed, "整数")
        seed = 1
    shift_labels = {"duty": "班", "day": "白", "night": "夜"}
    if isinstance(y.get("shifts"), dict):
        for k, v in y["shifts"].items():
            if v is None or isinstance(v, (dict, list)) or not str(v).strip():
                probs.add(yname, line_of(y, ["shifts", k]), f"shifts.{k}", v, "排班表中显示的班次简称，如 白")
            else:
                shift_labels[str(k)] = str(v).strip()
    elif y.get("shifts") is not None:
        probs.add(yname, line_of(y, ["shifts"]), "shifts", y["shifts"], "班次编号到简称的映射，如 {day: 白, night: 夜}")

    # Tables.  A table that cannot be used is reported once: references into it, and references
    # to rows already reported as wrong, are not reported again.
    failed: set[str] = set()

    def table(stem, cols, required, optional=False):
        found = _find_tables(folder, stem)
        if not found:
            if not optional:
                probs.add(str(folder / (stem + ".csv")), None, "文件", None, f"{stem}.csv 或 {stem}.xlsx")
                failed.add(stem)
            return []
        if len(found) > 1:
            probs.add(str(found[1]), None, "文件", found[1].name,
                      f"{stem}.csv 和 {stem}.xlsx 只保留一个（两个都在时不知道该用哪个）")
            failed.add(stem)
            return []
        try:
            rows, _ = read_table(found[0], cols, required=required)
        except InputError as exc:
            probs.extend(exc.problems)
            failed.add(stem)
            return []
        if not rows and not optional:
            probs.add(str(found[0]), 2, "（数据行）", "只有表头", f"至少一行{_WHAT[stem]}")
            failed.add(stem)
        return rows

    staff_rows = table("staff", STAFF_COLS, ["id", "name", "role", "town"])
    comm_rows = table("communities", COMMUNITY_COLS, ["id", "town"])
    grid_rows = table("grids", GRID_COLS, ["id", "community", "worker"])
    leave_rows = table("leave", LEAVE_COLS, ["person", "start", "end"], optional=True)
    req_rows = table("requests", REQUEST_COLS, ["person", "date", "want"], optional=True)

    people: dict[str, Person] = {}
    communities: dict[str, Community] = {}
    bad_people: set[str] = set()      # ids whose own staff row is wrong (reported there)
    bad_comms: set[str] = set()

    def no_person(r: Row, col: str, pid: str | None, expected: str = "staff 中已有的人员编号") -> bool:
        """True when pid is not a usable person; reported unless it follows from another error."""
        if pid in people:
            return False
        if not pid or not (pid in bad_people or "staff" in failed):
            probs.add(r.file, r.row, col, pid, expected)
        return True

    def no_community(r: Row, col: str, cid: str | None) -> bool:
        if cid in communities:
            return False
        if not cid or not (cid in bad_comms or "communities" in failed):
            probs.add(r.file, r.row, col, cid, "communities 中已有的社区编号")
        return True

    comm_row: dict[str, Row] = {}
    for cid, r in _unique(comm_rows, comm_row, "社区", probs):
        town = _s(r.get("town"))
        if not town:
            probs.add(r.file, r.row, "town", None, "社区所属的镇街")
            bad_comms.add(cid)
            continue
        communities[cid] = Community(cid, _s(r.get("name")) or cid, town, _s(r.get("manager")))
    towns = {c.town for c in communities.values()}

    for r in staff_rows:
        pid = _s(r.get("id"))
        if not pid:
            probs.add(r.file, r.row, "id", None, "人员编号")
            continue
        if pid in people or pid in bad_people:
            first = people[pid].where[1] if pid in people else None
            probs.add(r.file, r.row, "id", pid, "不重复的人员编号", f"第{first}行已有" if first else "")
            continue
        role = ROLE_ALIASES.get(_s(r.get("role")) or "")
        town = _s(r.get("town"))
        if role is None:
            probs.add(r.file, r.row, "role", r.get("role"), "角色之一：" + "、".join(ROLE_LABELS.values()))
        if not town:
            probs.add(r.file, r.row, "town", None, "所属镇街")
        elif towns and town not in towns and not bad_comms:   # a community without a town hides its town
            probs.add(r.file, r.row, "town", town, "communities 中的镇街之一：" + "、".join(sorted(towns)))
            town = None
        if role is None or not town:
            bad_people.add(pid)
            continue
        team = _s(r.get("team"))
        if role == "squad" and not team:
            probs.add(r.file, r.row, "team", None, "巡防队员所属班组")
        elif role != "squad" and team:
            # One person, one role: a supervisor cannot also be rostered with a squad.
            probs.add(r.file, r.row, "team", team, f"空（只有巡防队员属于班组，此人是{ROLE_LABELS[role]}）")
        comm = _s(r.get("community"))
        if comm and not no_community(r, "community", comm) and communities[comm].town != town:
            probs.add(r.file, r.row, "community", comm, f"{town} 的社区（此社区属 {communities[comm].town}）")
        people[pid] = Person(pid, _s(r.get("name")) or pid, role, town, comm,
                             team if role == "squad" else None, (r.file, r.row))

    for cid, c in communities.items():
        r, mgr = comm_row[cid], c.manager
        if not mgr:
            continue
        if no_person(r, "manager", mgr):
            c.manager = None
        elif people[mgr].role != "manager":
            probs.add(r.file, r.row, "manager", mgr, f"角色为网格管理者的人员（此人是{ROLE_LABELS[people[mgr].role]}）")
            c.manager = None
        elif dec and people[mgr].town != c.town:
            probs.add(r.file, r.row, "manager", mgr, f"{c.town} 的人员（按镇分解时不能跨镇，此人属 {people[mgr].town}）")
            c.manager = None

    grids: dict[str, Grid] = {}
    grid_row: dict[str, Row] = {}
    for gid, r in _unique(grid_rows, grid_row, "网格", probs):
        comm = _s(r.get("community"))
        if no_community(r, "community", comm):
            continue
        town = communities[comm].town
        worker = _s(r.get("worker"))
        ok = True
        if not worker:
            probs.add(r.file, r.row, "worker", None, "本网格的网格员编号（每个网格必须有网格员）")
            ok = False
        elif no_person(r, "worker", worker):
            ok = False
        elif people[worker].role not in ("grid_worker", "co_manager"):
            probs.add(r.file, r.row, "worker", worker, f"网格员或协管员（此人是{ROLE_LABELS[people[worker].role]}）")
            ok = False
        elif dec and people[worker].town != town:
            probs.add(r.file, r.row, "worker", worker, f"{town} 的人员（此人属 {people[worker].town}）")
            ok = False
        backups = [b for b in SEP.split(_s(r.get("backups")) or "") if b]
        for b in backups:
            if no_person(r, "backups", b, "staff 中已有的人员编号（AB岗人员不存在）"):
                ok = False
            elif b == worker:
                probs.add(r.file, r.row, "backups", b, "本网格网格员以外的人员")
                ok = False
            elif people[b].role not in ("grid_worker", "co_manager"):
                probs.add(r.file, r.row, "backups", b, f"网格员或协管员（此人是{ROLE_LABELS[people[b].role]}）")
                ok = False
            elif dec and people[b].town != town:
                probs.add(r.file, r.row, "backups", b, f"{town} 的人员（按镇分解时不能跨镇，此人属 {people[b].town}）")
                ok = False
        if len(set(backups)) != len(backups):
            probs.add(r.file, r.row, "backups", r.get("backups"), "不重复的 AB岗人员")
        sup = _s(r.get("supervisor"))
        if sup:
            if no_person(r, "supervisor", sup):
                sup = None
            elif people[sup].role != "supervisor":
                probs.add(r.file, r.row, "supervisor", sup, f"督导员（此人是{ROLE_LABELS[people[sup].role]}）")
                sup = None
            elif dec and people[sup].town != town:
                probs.add(r.file, r.row, "supervisor", sup,
                          f"{town} 的督导员（按镇分解时督导员不能跨镇督导，此人属 {people[sup].town}）",
                          "改为本镇督导员，或用 --no-decompose 整县求解")
                sup = None
        hh = r.get("households")
        try:
            households = int(float(hh)) if hh is not None else 0
            if households < 0:
                raise ValueError
        except (TypeError, ValueError):
            probs.add(r.file, r.row, "households", hh, "非负整数")
            households = 0
        gtype = GRID_TYPES.get(_s(r.get("type")) or "普通")
        if gtype is None:
            probs.add(r.file, r.row, "type", r.get("type"), "普通 或 专属")
        try:
            key = parse_bool_cell(r.get("key"))
        except ValueError:
            probs.add(r.file, r.row, "key", r.get("key"), "是 或 否")
            key = False
        adjacent = [a for a in SEP.split(_s(r.get("adjacent")) or "") if a]
        if ok:
            grids[gid] = Grid(gid, _s(r.get("name")) or gid, comm, town, households, gtype or "普通", key, worker,
                              backups, adjacent, sup, (r.file, r.row))
    for g in grids.values():
        for a in g.adjacent:
            if a == g.id:
                probs.add(g.where[0], g.where[1], "adjacent", a, "本网格以外的网格编号")
            elif a not in grid_row:
                probs.add(g.where[0], g.where[1], "adjacent", a, "grids 中已有的网格编号")

    teams: dict[str, Team] = {}
    for p in people.values():
        if p.role == "squad" and p.team:
            t = teams.setdefault(p.team, Team(p.team, p.town, []))
            if t.town != p.town:
                probs.add(p.where[0], p.where[1], "town", p.town, f"与班组 {p.team} 其他队员同镇（{t.town}）")
            t.members.append(p.id)

    leaves: list[Leave] = []
    for r in leave_rows:
        pid = _s(r.get("person"))
        if no_person(r, "person", pid):
            continue
        try:
            a = _date(r.get("start"))
        except (TypeError, ValueError):
            probs.add(r.file, r.row, "start", r.get("start"), "存在的日期 YYYY-MM-DD")
            continue
        try:
            b = _date(r.get("end"))
        except (TypeError, ValueError):
            probs.add(r.file, r.row, "end", r.get("end"), "存在的日期 YYYY-MM-DD")
            continue
        if b < a:
            probs.add(r.file, r.row, "end", str(b), f"不早于开始日期 {a}")
            continue
        lv = Leave(pid, a, b, _s(r.get("reason")) or "请假", (r.file, r.row))
        for other in leaves:
            if other.person == pid and not (b < other.start or a > other.end):
                probs.add(r.file, r.row, "start", f"{a}～{b}",
                          f"与第{other.where[1]}行的请假（{other.start}～{other.end}）不重叠")
        leaves.append(lv)

    requests: list[Request] = []
    asked: dict[tuple[str, dt.date], Row] = {}
    for r in req_rows:
        pid = _s(r.get("person"))
        if no_person(r, "person", pid):
            continue
        if people[pid].role == "squad":
            probs.add(r.file, r.row, "person", pid, "按人排班的人员（巡防队员按班组排班，个人请改为请假）")
            continue
        try:
            d = _date(r.get("date"))
        except (TypeError, ValueError):
            probs.add(r.file, r.row, "date", r.get("date"), "存在的日期 YYYY-MM-DD")
            continue
        if cal and d not in cal.dates:
            probs.add(r.file, r.row, "date", str(d), f"{cal.year}年{cal.month}月内的日期")
            continue
        if (pid, d) in asked:
            probs.add(r.file, r.row, "date", str(d), f"每人每天只有一条申请（第{asked[pid, d].row}行已有此人这一天的申请）")
            continue
        asked[pid, d] = r
        want = WANT.get(_s(r.get("want")) or "")
        if want is None:
            probs.add(r.file, r.row, "want", r.get("want"), "休息 或 上班")
            continue
        if want == "on":
            lv = next((lv for lv in leaves if lv.person == pid and lv.start <= d <= lv.end), None)
            if lv is not None:
                probs.add(r.file, r.row, "want", r.get("want"),
                          f"请假日以外的上班申请（leave 第{lv.where[1]}行：{lv.start}～{lv.end}{lv.reason}）")
                continue
        w = r.get("weight")
        weight = _positive_int(w) if w is not None else 1
        if weight is None:
            probs.add(r.file, r.row, "weight", w, "正整数")
            continue
        if cal:
            requests.append(Request(pid, cal.dates.index(d), want, weight, (r.file, r.row)))

    probs.raise_if_any(DataError)
    assert cal is not None
    return RosterProblem(str(y.get("name") or folder.name), folder, cal, people, communities, grids, teams,
                         leaves, requests, rules, bool(dec), float(tl), int(seed), shift_labels)


def _load_rules(y: dict, yname: str, probs: ProblemList) -> dict[str, RuleConfig]:
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
        enabled = True
        if opts is False:
            enabled, opts = False, {}
        elif opts is None:
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
    _check_rules(out, y, yname, probs)
    return out


NULLABLE = ("max", "min", "key_day_min_strength")
# Options that must be at least this much (0 would make the rule meaningless or every month impossible).
AT_LEAST_ONE = {"grid_cover": ("per_day", "key_day_per_day", "key_grid_per_day"),
                "max_grids_per_day": ("grids", "rounds"),
                "supervisor_visits": ("window", "max_per_day"), "manager_visits": ("window", "max_per_day"),
                "rest_in_window": ("window",), "max_consecutive_work": ("days",), "min_consecutive_off": ("days",)}
SHIFT_OPTIONS = {"min_teams": 1, "min_strength": 0, "target_strength": None}


def _check_rules(out: dict[str, RuleConfig], y: dict, yname: str, probs: ProblemList) -> None:
    """Checks across options of one rule, and the shapes of `shifts` and `pairs`."""
    def bad(path, found, expected, hint=""):
        probs.add(yname, line_of(y, path), dotted(path), found, expected, hint)

    if not out["grid_cover"].enabled:
        bad(["rules", "grid_cover"], False, "启用（「网格每日巡查」是排班的前提，不能停用）")
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
    t = out["total_days"].params
    if t["min"] is not None and t["max"] is not None and t["min"] > t["max"]:
        bad(["rules", "total_days", "min"], t["min"], f"不大于 max（{t['max']}）的整数")

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
    known = list(shifts) if out["shift_cover"].enabled else ["day", "night"]
    pairs = out["forbidden_succession"].params["pairs"]
    path = ["rules", "forbidden_succession", "pairs"]
    if not isinstance(pairs, list):
        bad(path, pairs, "班次对的列表，如 [[night, day]]")
        pairs = []
    given = (y.get("rules") or {}).get("forbidden_succession") if isinstance(y.get("rules"), dict) else None
    if not (isinstance(given, dict) and "pairs" in given):
        # The default pair (night, day) applies only where both shifts exist.
        out["forbidden_succession"].params["pairs"] = [pr for pr in pairs if all(x in known for x in pr)]
        return
    good = []
    for i, pair in enumerate(pairs):
        if not (isinstance(pair, list) and len(pair) == 2):
            bad(path + [i], pair, "两个班次编号 [前一天的班次, 后一天的班次]，如 [night, day]")
            continue
        wrong = [x for x in pair if x not in known]
        if wrong:
            bad(path + [i], pair, "shift_cover.shifts 中的班次编号：" + "、".join(map(str, known)))
            continue
        good.append(pair)
    out["forbidden_succession"].params["pairs"] = good


def _unique(rows: list[Row], seen: dict[str, Row], what: str, probs: ProblemList):
    """(id, row) for each row with a new id; empty and repeated ids are reported."""
    for r in rows:
        rid = _s(r.get("id"))
        if not rid or rid in seen:
            probs.add(r.file, r.row, "id", rid, f"不重复的{what}编号", f"第{seen[rid].row}行已有" if rid in seen else "")
            continue
        seen[rid] = r
        yield rid, r


_WHAT = {"staff": "人员", "communities": "社区", "grids": "网格"}


def _positive_int(v: Any) -> int | None:
    """A positive whole number from a cell (3, 3.0, "3"), else None."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    if isinstance(v, bool) or not f.is_integer() or f <= 0:
        return None
    return int(f)


def _s(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    t = str(v).strip()
    return t or None


def _p(file, line, field_, found, expected, hint=""):
    from ..errors import Problem
    return Problem(file, line, field_, found, expected, hint)
