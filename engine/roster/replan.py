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
from .constraints import TEAM, RosterModel, Soft
from .model import RosterProblem
from .solve import Roster


@dataclasses.dataclass
class Published:
    duty: dict[tuple[str, int], str]
    patrol: dict[tuple[str, int], str]
    visits: set[tuple[str, str, int]]
    fire: dict[str, list[int]]


def load_published(path: str | Path, prob: RosterProblem) -> Published:
    """Read a published roster.json and check it fits the problem."""
    path = Path(path)
    if path.is_dir():
        path = path / "roster.json"
    name = str(path)
    probs = ProblemList()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError([dataclasses.replace(_problem(name, "文件", str(path), "已发布排班的 roster.json"), hint=str(exc))])
    if data.get("month") != prob.month:
        probs.add(name, None, "month", data.get("month"), f"与本次排班同月（{prob.month}）")
    units = {pid for pid, x in prob.people.items() if x.role != "squad"} | {TEAM + t for t in prob.teams}
    duty, patrol = {}, {}
    for u, days in (data.get("duty") or {}).items():
        if u not in units:
            probs.add(name, None, f"duty.{u}", u, "problem 中已有的人员或班组")
            continue
        for d, s in enumerate(days[:prob.cal.days]):
            if s:
                duty[u, d] = s
    for g, days in (data.get("patrol") or {}).items():
        if g not in prob.grids:
            probs.add(name, None, f"patrol.{g}", g, "problem 中已有的网格编号")
            continue
        for d, c in enumerate(days[:prob.cal.days]):
            if c:
                patrol[g, d] = c
    visits = {(v[0], v[1], int(v[2])) for v in data.get("visits") or []}
    fire = {g: list(ds) for g, ds in (data.get("fire") or {}).items()}
    probs.raise_if_any(DataError)
    return Published(duty, patrol, visits, fire)


def _problem(file, field_, found, expected):
    from ..errors import Problem
    return Problem(file, None, field_, found, expected)


def clip_leave(prob: RosterProblem, from_day: int) -> RosterProblem:
    """Leave before `from_day` is history: the past is pinned, so only future leave days count."""
    start = prob.cal.dates[from_day]
    leaves = [dataclasses.replace(lv, start=max(lv.start, start)) for lv in prob.leaves if lv.end >= start]
    requests = [r for r in prob.requests if r.day >= from_day]
    return dataclasses.replace(prob, leaves=leaves, requests=requests)


def hook_for(pub: Published, from_day: int):
    """A model hook that pins the past and penalises each future change."""

    def make(sub: RosterProblem):
        def hook(rm: RosterModel) -> None:
            w = rm.p.rule("replan")["change_weight"]
            m = rm.m
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
                    m.add(v == int(was))
                elif not u.startswith(TEAM):
                    rm.soft.append(Soft("replan", f"变更({rm.name(u)},{rm.day(d)})", v if not was else 1 - v, w))
            for (u, d, s), v in rm.shift.items():
                was = pub.duty.get((u, d)) == s
                hint(v, was)
                if d < from_day:
                    m.add(v == int(was))
                else:
                    # A team moving between shifts counts once for the shift it left and once for the one it took.
                    rm.soft.append(Soft("replan", f"变更({rm.name(u)},{rm.day(d)},{s})", v if not was else 1 - v, w))
            for (g, d, c), v in rm.patrol.items():
                was = pub.patrol.get((g, d)) == c
                hint(v, was)
                if d < from_day:
                    m.add(v == int(was))
                elif was:
                    rm.soft.append(Soft("replan", f"变更(网格{g},{rm.day(d)})", 1 - v, w))
            for (pid, g, d), v in rm.visit.items():
                was = (pid, g, d) in pub.visits
                hint(v, was)
                if d < from_day:
                    m.add(v == int(was))
                else:
                    rm.soft.append(Soft("replan", f"变更(走访{rm.name(pid)},{g},{rm.day(d)})", v if not was else 1 - v, w))
            for (g, d), v in rm.fire.items():
                was = d in pub.fire.get(g, [])
                hint(v, was)
                if d < from_day:
                    m.add(v == int(was))
        return hook

    return make


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
