"""Minimal-change re-planning: keep the published past, change as few future assignments as possible.

The published roster is the roster.json of an earlier run.  Days before `from_day` are pinned
to it; from `from_day` on, every assignment that differs from it costs `replan.change_weight`
(hint + penalty: hints alone left hundreds of changes in our measurements, docs/roster.md).
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from ..errors import DataError, ProblemList
from .constraints import TEAM, Enforced, RosterModel, Soft
from .model import RosterProblem
from .solve import Roster


@dataclasses.dataclass
class Published:
    duty: dict[tuple[str, int], str]
    patrol: dict[tuple[str, int], str]
    visits: set[tuple[str, str, int]]
    fire: dict[str, list[int]]


def load_published(path: str | Path, prob: RosterProblem, from_day: int | None = None) -> Published:
    """Read a published roster.json and check it fits the problem (every problem at once).

    With `from_day`, the days before it are the ones that will be pinned: there a patroller who
    can no longer patrol the grid, or a team shift that no longer exists, is an error.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "roster.json"
    name = str(path)
    probs = ProblemList()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError([dataclasses.replace(_problem(name, "文件", str(path), "已发布排班的 roster.json"),
                                             hint=str(getattr(exc, "strerror", None) or exc))])
    if not isinstance(data, dict):
        raise DataError([_problem(name, "（根）", _short(data), "wangge roster 写出的 roster.json（一个 JSON 对象）")])
    if data.get("month") != prob.month:
        probs.add(name, None, "month", data.get("month"), f"与本次排班同月（{prob.month}）")
    elif data.get("days") and (data["days"][0], data["days"][-1]) != (str(prob.cal.start), str(prob.cal.end)):
        probs.add(name, None, "days", f"{data['days'][0]}～{data['days'][-1]}",
                  f"与本次排班同一期间（{prob.cal.start}～{prob.cal.end}）")
    n = prob.cal.days
    past = range(from_day if from_day is not None else 0)

    def table(key: str) -> dict:
        v = data.get(key) or {}
        if not isinstance(v, dict) or not all(isinstance(x, list) for x in v.values()):
            probs.add(name, None, key, _short(v), "对象：编号 → 每天一项的列表")
            return {}
        return v

    units = {pid for pid, x in prob.people.items() if x.role != "squad"} | {TEAM + t for t in prob.teams}
    duty, patrol = {}, {}
    for u, days in table("duty").items():
        if u not in units:
            probs.add(name, None, f"duty.{u}", u, "problem 中已有的人员或班组")
            continue
        for d, s in enumerate(days[:n]):
            if not s:
                continue
            want = unit_shifts(prob, u)
            if s not in want:
                if d in past:
                    probs.add(name, None, f"duty.{u}[{d}]", s, "班次之一：" + "、".join(want))
                continue
            duty[u, d] = s
    allowed = _patrollers(prob)
    for g, days in table("patrol").items():
        if g not in prob.grids:
            probs.add(name, None, f"patrol.{g}", g, "problem 中已有的网格编号")
            continue
        for d, c in enumerate(days[:n]):
            if not c:
                continue
            if d in past and c not in allowed[g]:
                probs.add(name, None, f"patrol.{g}[{d}]", c,
                          f"网格 {g} 现在的本人、AB岗或相邻网格网格员（{prob.cal.label(d)} 已过去，不能改动）",
                          "已发布排班与现在的 grids.csv 不符")
                continue
            patrol[g, d] = c
    visits = set()
    raw_visits = data.get("visits") or []
    if not isinstance(raw_visits, list):
        probs.add(name, None, "visits", _short(raw_visits), "[人员, 网格, 日] 的列表")
        raw_visits = []
    for i, v in enumerate(raw_visits):
        if not (isinstance(v, list) and len(v) == 3 and isinstance(v[2], int) and not isinstance(v[2], bool)):
            probs.add(name, None, f"visits[{i}]", _short(v), "[人员编号, 网格编号, 日（0 起）]")
            continue
        visits.add((str(v[0]), str(v[1]), v[2]))
    fire = {}
    for g, ds in table("fire").items():
        if not all(isinstance(d, int) and not isinstance(d, bool) for d in ds):
            probs.add(name, None, f"fire.{g}", _short(ds), "日（0 起）的列表")
            continue
        fire[str(g)] = list(ds)
    probs.raise_if_any(DataError)
    return Published(duty, patrol, visits, fire)


def unit_shifts(prob: RosterProblem, u: str) -> list[str]:
    """The shifts a unit may be on: a team's shifts, a shift worker's, else the one duty shift."""
    if u.startswith(TEAM):
        return prob.team_shifts
    if prob.people[u].role == "shift_worker":
        return prob.person_shifts
    return ["duty"]


def _short(v) -> str:
    text = json.dumps(v, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "…"


def _patrollers(prob: RosterProblem) -> dict[str, set[str]]:
    """Who may patrol each grid: its worker, AB岗 backups and (joint patrol) neighbours' workers."""
    joint = prob.on("joint_patrol") and prob.rule("joint_patrol")["allowed"]
    out = {}
    for g, grid in prob.grids.items():
        ok = {grid.worker, *grid.backups}
        if joint:
            ok |= {prob.grids[a].worker for a in grid.adjacent if a in prob.grids and prob.grids[a].town == grid.town}
        out[g] = ok
    return out


def _problem(file, field_, found, expected):
    from ..errors import Problem
    return Problem(file, None, field_, found, expected)


def clip_leave(prob: RosterProblem, from_day: int, pub: Published | None = None) -> RosterProblem:
    """Leave before `from_day` is history: the past is pinned.  A past day of leave on which the
    published roster has the person on duty (leave entered afterwards) cannot change the past and is
    dropped; the other past leave stays, so that rules about those days (the publicity day, the
    minimum days less leave) still see it.  Requests before `from_day` no longer count."""
    cal = prob.cal
    leaves = []
    for lv in prob.leaves:
        squad = prob.people[lv.person].role == "squad"
        days = [d for d in lv.days(cal)
                if d >= from_day or (pub is not None and (squad or (lv.person, d) not in pub.duty))]
        # Consecutive runs of the days kept, each a leave of its own.
        run: list[int] = []
        for d in days + [None]:
            if d is not None and (not run or d == run[-1] + 1):
                run.append(d)
                continue
            if run:
                leaves.append(dataclasses.replace(lv, start=cal.dates[run[0]], end=cal.dates[run[-1]]))
            run = [d] if d is not None else []
    requests = [r for r in prob.requests if r.day >= from_day]
    return dataclasses.replace(prob, leaves=leaves, requests=requests)


def hook_for(pub: Published, from_day: int):
    """A model hook that pins the past and penalises each future change."""

    def make(sub: RosterProblem):
        def hook(rm: RosterModel) -> None:
            w = rm.p.rule("replan")["change_weight"]
            m = rm.m
            pins = _Pins(rm, pub, from_day)
            hinted: set[int] = set()

            def hint(v, was: bool) -> None:
                # A grid's own patrol may be its worker's duty variable itself (RosterModel.add_variables).
                if v.index not in hinted:
                    hinted.add(v.index)
                    m.add_hint(v, was)
            for (u, d), v in rm.work.items():
                was = (u, d) in pub.duty
                hint(v, was)
                if d < from_day:
                    pins.add(("unit", u), v, was)
                elif u not in rm.unit_shifts:
                    rm.soft.append(Soft("replan", f"变更({rm.name(u)},{rm.day(d)})", v if not was else 1 - v, w))
            for (u, d, s), v in rm.shift.items():
                was = pub.duty.get((u, d)) == s
                hint(v, was)
                if d < from_day:
                    pins.add(("unit", u), v, was)
                else:
                    # A team moving between shifts counts once for the shift it left and once for the one it took.
                    rm.soft.append(Soft("replan", f"变更({rm.name(u)},{rm.day(d)},{s})", v if not was else 1 - v, w))
            for (g, d, c), v in rm.patrol.items():
                was = pub.patrol.get((g, d)) == c
                hint(v, was)
                if d < from_day:
                    pins.add(("grid", g), v, was)
                elif was:
                    rm.soft.append(Soft("replan", f"变更(网格{g},{rm.day(d)})", 1 - v, w))
            for (pid, g, d), v in rm.visit.items():
                was = (pid, g, d) in pub.visits
                hint(v, was)
                if d < from_day:
                    pins.add(("visitor", pid), v, was)
                else:
                    rm.soft.append(Soft("replan", f"变更(走访{rm.name(pid)},{g},{rm.day(d)})", v if not was else 1 - v, w))
            for (g, d), v in rm.fire.items():
                was = d in pub.fire.get(g, [])
                hint(v, was)
                if d < from_day:
                    pins.add(("fire", g), v, was)
        return hook

    return make


class _Pins:
    """The published past, pinned.  When explaining, each unit's, grid's and visitor's past is one
    fact with its own literal, so that an explanation can name the part of the past that conflicts."""

    def __init__(self, rm: RosterModel, pub: Published, from_day: int):
        self.rm, self.pub, self.from_day = rm, pub, from_day
        self.lits: dict[tuple, object] = {}

    def add(self, key: tuple, var, value: bool) -> None:
        ct = self.rm.m.add(var == int(value))
        if self.rm.mode != "explain":
            return
        if key not in self.lits:
            lit = self.rm.m.new_bool_var(f"published{key}")
            self.lits[key] = lit
            self.rm.enforced.append(Enforced(lit, "published", key, self._text(key)))
        ct.only_enforce_if(self.lits[key])

    def _text(self, key: tuple) -> str:
        rm, pub, f = self.rm, self.pub, self.from_day
        first = max(0, f - 7)
        span = f"{rm.day(first)}至{rm.day(f - 1)}" if f - 1 > first else rm.day(first)
        kind, what = key
        if kind == "unit":
            labels = rm.p.shift_labels
            cells = " ".join(labels.get(pub.duty[what, d], pub.duty[what, d]) if (what, d) in pub.duty else "休"
                             for d in range(first, f))
            return f"{rm.name(what)} {rm.day(f)} 之前的已发布排班不变（{span}：{cells}）"
        if kind == "grid":
            cells = " ".join(rm.name(pub.patrol[what, d]) if (what, d) in pub.patrol else "无"
                             for d in range(first, f))
            return f"网格 {what} {rm.day(f)} 之前的已发布巡查人不变（{span}：{cells}）"
        if kind == "visitor":
            days = sorted({d for p, _, d in pub.visits if p == what and d < f})
            shown = "、".join(rm.day(d) for d in days[-3:]) or "无"
            return f"{rm.name(what)} {rm.day(f)} 之前的已发布走访不变（最近的走访：{shown}）"
        days = [d for d in pub.fire.get(what, []) if d < f]
        return f"网格 {what} {rm.day(f)} 之前的消防检查不变（" + ("、".join(rm.day(d) for d in days) or "尚未检查") + "）"


def changes(prob: RosterProblem, pub: Published, new: Roster, from_day: int) -> list[list]:
    """Rows of what changed from `from_day` on: kind, who/what, date, before, after."""
    labels = prob.shift_labels
    rows = [["类型", "对象", "日期", "原安排", "新安排"]]

    def uname(u):
        return f"班组{u[len(TEAM):]}" if u.startswith(TEAM) else prob.people[u].name

    def pname(pid):
        return prob.people[pid].name if pid else "（无）"

    def shown(u, d, s):
        if s:
            return labels.get(s, s)
        return "假" if not u.startswith(TEAM) and d in leave.get(u, ()) else "休"

    leave = {pid: prob.leave_days(pid) for pid in prob.people}
    units = [pid for pid, x in prob.people.items() if x.role != "squad"] + [TEAM + t for t in prob.teams]
    for d in range(from_day, prob.cal.days):
        day = str(prob.cal.dates[d])
        for u in units:
            a, b = pub.duty.get((u, d)), new.duty.get((u, d))
            if a != b:
                rows.append(["人员排班", uname(u), day, labels.get(a, a) if a else "休", shown(u, d, b)])
        for g in sorted(prob.grids):
            a, b = pub.patrol.get((g, d)), new.patrol.get((g, d))
            if a != b:
                rows.append(["网格巡查", g, day, pname(a), pname(b)])
    old_v = {v for v in pub.visits if v[2] >= from_day}
    new_v = {v for v in new.visits if v[2] >= from_day}
    for pid, g, d in sorted(old_v - new_v):
        rows.append(["督导走访", f"{pname(pid)}→{g}", str(prob.cal.dates[d]), "走访", "取消"])
    for pid, g, d in sorted(new_v - old_v):
        rows.append(["督导走访", f"{pname(pid)}→{g}", str(prob.cal.dates[d]), "无", "走访"])
    return rows
