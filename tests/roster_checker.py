"""An independent checker of hard duty rules for tests (does not import engine.roster.check).

Written from the rule definitions in docs/roster.md, against the plain dictionaries of a solved
roster: duty[(unit, day)] -> shift, patrol[(grid, day)] -> person, visits {(who, grid, day)},
fire {grid: [days]}.  Returns a list of violation strings (empty = every hard rule holds).
"""
from __future__ import annotations


def rounds_needed(p, g, d):
    r = p.rules["grid_cover"].params
    k = r["per_day"]
    if p.cal.is_key[d]:
        k = max(k, r["key_day_per_day"])
    if p.grids[g].key:
        k = max(k, r["key_grid_per_day"])
    return k


def violations(ro) -> list[str]:
    p, out = ro.problem, []
    n = p.cal.days
    on = lambda u, d: (u, d) in ro.duty  # noqa: E731
    leave = {pid: set() for pid in p.people}
    for lv in p.leaves:
        for d, day in enumerate(p.cal.dates):
            if lv.start <= day <= lv.end:
                leave[lv.person].add(d)
    rule = lambda rid: p.rules[rid].params if p.rules[rid].enabled else None  # noqa: E731

    def units(roles):
        us = [pid for pid, x in p.people.items() if x.role in roles and x.role != "squad"]
        return us + (["班组:" + t for t in p.teams] if "squad" in roles else [])

    for pid, days in leave.items():
        for d in days:
            if on(pid, d):
                out.append(f"leave {pid} {d}")
    jp = rule("joint_patrol")
    for g, grid in p.grids.items():
        ok = {grid.worker, *grid.backups}
        if jp and jp["allowed"]:
            ok |= {p.grids[a].worker for a in grid.adjacent if a in p.grids}
        for d in range(n):
            who = ro.patrol.get((g, d))
            if who is None or who not in ok or not on(who, d):
                out.append(f"grid_cover {g} {d} {who}")
            if rule("own_grid_first") is not None and on(grid.worker, d) and who != grid.worker:
                out.append(f"own_grid_first {g} {d}")
    if (r := rule("max_grids_per_day")) is not None:
        for pid in p.people:
            for d in range(n):
                mine = [g for g in p.grids if ro.patrol.get((g, d)) == pid]
                rounds = sum(rounds_needed(p, g, d) + (d in ro.fire.get(g, [])) for g in mine)
                if len(mine) > r["grids"] or rounds > r["rounds"]:
                    out.append(f"max_grids_per_day {pid} {d}")
    if (r := rule("fire_check")) is not None:
        for g, grid in p.grids.items():
            days = ro.fire.get(g, [])
            if len(days) != r["per_month"] or any(p.cal.is_rest_day[d] or ro.patrol.get((g, d)) != grid.worker for d in days):
                out.append(f"fire_check {g}")
    vis = []
    if (r := rule("supervisor_visits")) is not None:
        vis += [(r, grid.supervisor, g) for g, grid in p.grids.items() if grid.supervisor]
    if (r := rule("manager_visits")) is not None:
        vis += [(r, p.communities[grid.community].manager, g) for g, grid in p.grids.items()
                if p.communities[grid.community].manager]
    for r, who, g in vis:
        days = sorted(d for (w, gg, d) in ro.visits if w == who and gg == g)
        for s in range(n - r["window"] + 1):
            if not any(s <= d < s + r["window"] for d in days):
                out.append(f"visits {who} {g} {s}")
    if (r := rule("rest_in_window")) is not None:
        for u in units(r["applies_to"]):
            for s in range(n - r["window"] + 1):
                if r["window"] - sum(on(u, d) for d in range(s, s + r["window"])) < r["min_off"]:
                    out.append(f"rest_in_window {u} {s}")
    if (r := rule("max_consecutive_work")) is not None:
        for u in units(r["applies_to"]):
            for s in range(n - r["days"]):
                if all(on(u, d) for d in range(s, s + r["days"] + 1)):
                    out.append(f"max_consecutive_work {u} {s}")
    if (r := rule("min_consecutive_off")) is not None:
        for u in units(r["applies_to"]):
            work = "".join("1" if on(u, d) else "0" for d in range(n))
            for length in range(1, r["days"]):
                if "1" + "0" * length + "1" in work:
                    out.append(f"min_consecutive_off {u} {length}")
    if (r := rule("forbidden_succession")) is not None:
        for t in p.teams:
            for a, b in r["pairs"]:
                for d in range(n - 1):
                    if ro.duty.get(("班组:" + t, d)) == a and ro.duty.get(("班组:" + t, d + 1)) == b:
                        out.append(f"forbidden_succession {t} {d}")
    if (r := rule("shift_cover")) is not None and p.teams:
        for d in range(n):
            for s, opt in r["shifts"].items():
                teams = [t for t in p.teams if ro.duty.get(("班组:" + t, d)) == s]
                present = sum(1 for t in teams for m in p.teams[t].members if d not in leave[m])
                need = opt["min_strength"]
                if p.cal.is_key[d] and r["key_day_min_strength"] is not None:
                    need = max(need, r["key_day_min_strength"])
                if len(teams) < opt["min_teams"] or present < need:
                    out.append(f"shift_cover {d} {s}")
    if rule("department_4plus1") is not None:
        for pid, x in p.people.items():
            if x.role != "department":
                continue
            weeks = {}
            for d, day in enumerate(p.cal.dates):
                weeks.setdefault(day.isocalendar()[1], []).append(d)
            for days in weeks.values():
                wd = [d for d in days if not p.cal.is_rest_day[d]]
                k = sum(on(pid, d) for d in wd)
                excused = sum(d in leave[pid] for d in wd)
                if any(on(pid, d) for d in days if p.cal.is_rest_day[d]) or \
                        (len(wd) >= 5 and k > len(wd) - 1) or (k < len(wd) - 1 - excused):
                    out.append(f"department_4plus1 {pid} {days[0]}")
    if rule("publicity_day") is not None:
        # The first Monday that is an official working day (not the holiday 10月5日).
        mondays = [d for d, day in enumerate(p.cal.dates) if day.weekday() == 0 and not p.cal.is_rest_day[d]]
        for pid, x in p.people.items():
            if mondays and x.role in ("grid_worker", "co_manager") and mondays[0] not in leave[pid] \
                    and not on(pid, mondays[0]):
                out.append(f"publicity_day {pid}")
    if (r := rule("max_weekends")) is not None and r["max"] is not None:
        for u in units(r["applies_to"]):
            if sum(on(u, d) for d in range(n) if p.cal.is_weekend[d] and p.cal.is_rest_day[d]) > r["max"]:
                out.append(f"max_weekends {u}")
    if (r := rule("total_days")) is not None:
        for u in units(r["applies_to"]):
            k = sum(on(u, d) for d in range(n))
            if r["max"] is not None and k > r["max"]:
                out.append(f"total_days {u}")
            if r["min"] is not None and k < r["min"] - len(leave.get(u, ())):
                out.append(f"total_days {u}")
    return out
