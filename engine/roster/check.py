"""The coverage check: verifies every hard rule on a produced roster, independently of the model.

It reads only the problem data and the roster's plain dictionaries (who is on which shift,
who patrols which grid, visits, fire checks) and recomputes each rule from its definition in
rules.py, so a modelling mistake in constraints.py shows up here as a violation.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .rules import CATALOG
from .solve import Roster

TEAM = "班组:"
PATROL_ROLES = ("grid_worker", "co_manager")


@dataclass
class RuleCheck:
    rule: str
    checked: int = 0
    violations: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return CATALOG[self.rule].label

    @property
    def ok(self) -> bool:
        return not self.violations


def check_roster(ro: Roster) -> list[RuleCheck]:
    p = ro.problem
    cal = p.cal
    n = cal.days
    leave = {pid: p.leave_days(pid) for pid in p.people}
    out: dict[str, RuleCheck] = {}

    def rc(rule):
        return out.setdefault(rule, RuleCheck(rule))

    def on_duty(u: str, d: int) -> bool:
        return (u, d) in ro.duty

    def series(u: str) -> list[bool]:
        return [on_duty(u, d) for d in range(n)]

    def units(roles):
        us = [pid for pid, x in p.people.items() if x.role in roles and x.role != "squad"]
        if "squad" in roles:
            us += [TEAM + t for t in p.teams]
        return us

    # Leave is a fact, but a roster that schedules someone on leave is wrong whatever the rules.
    c = rc("grid_cover")
    for pid, days in leave.items():
        for d in days:
            if p.people[pid].role != "squad" and on_duty(pid, d):
                c.violations.append(f"{p.people[pid].name} {cal.label(d)} 请假却被排班")

    joint = p.on("joint_patrol") and p.rule("joint_patrol")["allowed"]
    for g, grid in p.grids.items():
        allowed = {grid.worker, *grid.backups}
        if joint:
            allowed |= {p.grids[a].worker for a in grid.adjacent if a in p.grids and p.grids[a].town == grid.town}
        for d in range(n):
            c.checked += 1
            who = ro.patrol.get((g, d))
            if who is None:
                c.violations.append(f"网格 {g} {cal.label(d)} 无人巡查")
            elif who not in allowed:
                c.violations.append(f"网格 {g} {cal.label(d)} 由非本人、非AB岗人员 {p.people[who].name} 巡查")
            elif not on_duty(who, d):
                c.violations.append(f"网格 {g} {cal.label(d)} 的巡查人 {p.people[who].name} 当日不在岗")
            if p.on("own_grid_first") and on_duty(grid.worker, d) and who != grid.worker:
                rc("own_grid_first").violations.append(f"{p.people[grid.worker].name} {cal.label(d)} 在岗但未巡查本网格 {g}")
    if p.on("own_grid_first"):
        rc("own_grid_first").checked = len(p.grids) * n

    if p.on("fire_check"):
        c = rc("fire_check")
        for g, grid in p.grids.items():
            c.checked += 1
            days = ro.fire.get(g, [])
            if len(days) != p.rule("fire_check")["per_month"]:
                c.violations.append(f"网格 {g} 本月消防检查 {len(days)} 次，应为 {p.rule('fire_check')['per_month']} 次")
            for d in days:
                if cal.is_rest_day[d] or ro.patrol.get((g, d)) != grid.worker:
                    c.violations.append(f"网格 {g} {cal.label(d)} 的消防检查不是本人在工作日完成")

    if p.on("max_grids_per_day"):
        r = p.rule("max_grids_per_day")
        c = rc("max_grids_per_day")
        load: dict[tuple[str, int], list[int]] = {}
        for (g, d), who in ro.patrol.items():
            x = load.setdefault((who, d), [0, 0])
            x[0] += 1
            x[1] += p.rounds(g, d) + (1 if d in ro.fire.get(g, []) else 0)
        for (who, d), (grids_, rounds) in load.items():
            c.checked += 1
            if grids_ > r["grids"] or rounds > r["rounds"]:
                c.violations.append(f"{p.people[who].name} {cal.label(d)} 巡查 {grids_} 个网格、{rounds} 次，超过上限")

    for rule, visitor_of in (("supervisor_visits", {g: x.supervisor for g, x in p.grids.items() if x.supervisor}),
                             ("manager_visits", {g: p.communities[x.community].manager for g, x in p.grids.items()
                                                 if p.communities[x.community].manager})):
        if not p.on(rule):
            continue
        r = p.rule(rule)
        c = rc(rule)
        for g, v in visitor_of.items():
            days = {d for (pv, gv, d) in ro.visits if pv == v and gv == g}
            for s in range(0, n - r["window"] + 1):
                c.checked += 1
                if not days & set(range(s, s + r["window"])):
                    c.violations.append(f"{p.people[v].name} {cal.label(s)} 起 {r['window']} 天内未到网格 {g}")
        per_day: dict[tuple[str, int], int] = {}
        for (pv, gv, d) in ro.visits:
            if visitor_of.get(gv) == pv:
                per_day[pv, d] = per_day.get((pv, d), 0) + 1
        for (pv, d), k in per_day.items():
            if k > r["max_per_day"]:
                c.violations.append(f"{p.people[pv].name} {cal.label(d)} 走访 {k} 个网格，超过 {r['max_per_day']}")

    def uname(u):
        return f"班组{u[len(TEAM):]}" if u.startswith(TEAM) else p.people[u].name

    if p.on("rest_in_window"):
        r = p.rule("rest_in_window")
        c = rc("rest_in_window")
        for u in units(r["applies_to"]):
            s_ = series(u)
            for s in range(0, n - r["window"] + 1):
                c.checked += 1
                off = r["window"] - sum(s_[s:s + r["window"]])
                if off < r["min_off"]:
                    c.violations.append(f"{uname(u)} {cal.label(s)} 起 {r['window']} 天只休息 {off} 天")
    if p.on("max_consecutive_work"):
        r = p.rule("max_consecutive_work")
        c = rc("max_consecutive_work")
        for u in units(r["applies_to"]):
            c.checked += 1
            run = 0
            for d, w in enumerate(series(u)):
                run = run + 1 if w else 0
                if run == r["days"] + 1:
                    c.violations.append(f"{uname(u)} 到 {cal.label(d)} 已连续工作 {run} 天")
    if p.on("min_consecutive_off"):
        r = p.rule("min_consecutive_off")
        c = rc("min_consecutive_off")
        for u in units(r["applies_to"]):
            c.checked += 1
            s_ = series(u)
            d = 0
            while d < n:
                if not s_[d]:
                    e = d
                    while e < n and not s_[e]:
                        e += 1
                    if d > 0 and e < n and e - d < r["days"]:
                        c.violations.append(f"{uname(u)} {cal.label(d)} 起只连续休息 {e - d} 天")
                    d = e
                else:
                    d += 1
    if p.on("forbidden_succession"):
        c = rc("forbidden_succession")
        for t in p.teams:
            u = TEAM + t
            for a, b in p.rule("forbidden_succession")["pairs"]:
                for d in range(n - 1):
                    c.checked += 1
                    if ro.duty.get((u, d)) == a and ro.duty.get((u, d + 1)) == b:
                        c.violations.append(f"{uname(u)} {cal.label(d)} {a} 后接 {b}")
    if p.on("shift_cover") and p.teams:
        r = p.rule("shift_cover")
        c = rc("shift_cover")
        for town in p.towns:
            ts = [t for t, team in p.teams.items() if team.town == town]
            if not ts:
                continue
            for d in range(n):
                for s, opt in r["shifts"].items():
                    c.checked += 1
                    on = [t for t in ts if ro.duty.get((TEAM + t, d)) == s]
                    present = sum(1 for t in on for mbr in p.teams[t].members if d not in leave[mbr])
                    need = opt.get("min_strength", 0)
                    if cal.is_key[d] and r["key_day_min_strength"] is not None:
                        need = max(need, r["key_day_min_strength"])
                    if len(on) < opt.get("min_teams", 1) or present < need:
                        c.violations.append(f"{town} {cal.label(d)} {s} 班 {len(on)} 个班组、{present} 人，不足")
    if p.on("department_4plus1"):
        c = rc("department_4plus1")
        weeks: dict[tuple, list[int]] = {}
        for d, day in enumerate(cal.dates):
            weeks.setdefault(day.isocalendar()[:2], []).append(d)
        for pid, x in p.people.items():
            if x.role != "department":
                continue
            for days in weeks.values():
                c.checked += 1
                wd = [d for d in days if not cal.is_rest_day[d]]
                at = sum(1 for d in wd if on_duty(pid, d))
                low = max(0, len(wd) - 1 - sum(1 for d in wd if d in leave[pid]))
                if any(on_duty(pid, d) for d in days if cal.is_rest_day[d]):
                    c.violations.append(f"{x.name} 在休息日到岗")
                if (len(wd) >= 5 and at > len(wd) - 1) or (wd and at < low):
                    c.violations.append(f"{x.name} {cal.label(days[0])} 所在周到街道 {at} 天，不符合“4+1”")
    if p.on("publicity_day"):
        c = rc("publicity_day")
        d = cal.first_monday
        for pid, x in p.people.items():
            if x.role in PATROL_ROLES and d not in leave[pid]:
                c.checked += 1
                if not on_duty(pid, d):
                    c.violations.append(f"{x.name} {cal.label(d)}（消防宣传日）未在岗")
    if p.on("max_weekends") and p.rule("max_weekends")["max"] is not None:
        r = p.rule("max_weekends")
        c = rc("max_weekends")
        wk = [d for d in range(n) if cal.is_weekend[d] and cal.is_rest_day[d]]
        for u in units(r["applies_to"]):
            c.checked += 1
            k = sum(1 for d in wk if on_duty(u, d))
            if k > r["max"]:
                c.violations.append(f"{uname(u)} 周末值班 {k} 天，超过 {r['max']}")
    if p.on("total_days"):
        r = p.rule("total_days")
        if r["min"] is not None or r["max"] is not None:
            c = rc("total_days")
            for u in units(r["applies_to"]):
                c.checked += 1
                k = sum(series(u))
                lo = None if r["min"] is None else max(0, r["min"] - len(leave.get(u, ())))
                if (lo is not None and k < lo) or (r["max"] is not None and k > r["max"]):
                    c.violations.append(f"{uname(u)} 本月工作 {k} 天，超出范围")
    return [out[r] for r in CATALOG if r in out]
