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
            if on(pid, d) and p.people[pid].role != "squad":
                out.append(f"leave {pid} {d}")
    for t in p.teams:
        for d in away(p, "班组:" + t, leave):
            if on("班组:" + t, d):
                out.append(f"team leave {t} {d}")
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
                rest = p.cal.is_rest_day[d]
                most_g = r["rest_day_grids"] if rest and r["rest_day_grids"] else r["grids"]
                most_r = r["rest_day_rounds"] if rest and r["rest_day_rounds"] else r["rounds"]
                if len(mine) > most_g or rounds > most_r:
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
            k = own(p, u, "max_consecutive", r["days"])
            for s in range(n - k):
                if all(on(u, d) for d in range(s, s + k + 1)):
                    out.append(f"max_consecutive_work {u} {s}")
    if (r := rule("min_consecutive_off")) is not None:
        for u in units(r["applies_to"]):
            work = "".join("1" if on(u, d) else "0" for d in range(n))
            for length in range(1, own(p, u, "min_consecutive_off", r["days"])):
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
            hi = own(p, u, "max_days", r["max"])
            lo = own(p, u, "min_days", r["min"])
            if hi is not None and k > hi:
                out.append(f"total_days {u}")
            if lo is not None and k < lo - len(away(p, u, leave)):
                out.append(f"total_days {u}")
    out += _working_time_and_shifts(ro, p, on, leave, rule, units)
    return out


def own(p, u, column, default):
    """A person's own contract value (a staff.csv column) or the rule's."""
    person = p.people.get(u)
    keys = {"max_days": ("total_days", "max"), "min_days": ("total_days", "min"),
            "max_consecutive": ("max_consecutive_work", "days"), "min_consecutive": ("min_consecutive_work", "days"),
            "min_consecutive_off": ("min_consecutive_off", "days"), "max_weekends": ("max_working_weekends", "max"),
            "min_hours": ("working_time", "min_hours"), "max_hours": ("working_time", "max_hours")}
    if person is not None and keys[column] in person.options:
        return person.options[keys[column]]
    return default


def away(p, u, leave):
    if u.startswith("班组:"):
        members = p.teams[u[3:]].members
        return set.intersection(*[leave[m] for m in members])
    return leave.get(u, set())


def _working_time_and_shifts(ro, p, on, leave, rule, units) -> list[str]:
    """The rules of issue 13, from docs/roster.md: official working days, rest-day cover, fairness
    limits, and the rules of rosters by person and shift.  No history (continuity is tested apart)."""
    out, n, cal = [], p.cal.days, p.cal
    official = [d for d in range(n) if not cal.is_rest_day[d]]
    if (r := rule("working_days")) is not None:
        for u in units(r["applies_to"]):
            if u.startswith("班组:"):
                continue
            target = len([d for d in official if d not in leave[u]])
            k = sum(on(u, d) for d in range(n))
            if k > target + r["extra_days"] or (r["below"] is not None and k < target - r["below"]):
                out.append(f"working_days {u} {k} {target}")
    if (r := rule("duty_cover")) is not None and r["per_community"]:
        for c in p.communities:
            ps = {g.worker for g in p.grids.values() if g.community == c}
            if not ps:
                continue
            for d in range(n):
                if cal.is_rest_day[d] and sum(on(w, d) for w in ps) < r["per_community"]:
                    out.append(f"duty_cover {c} {d}")
    # Fairness limits: most − fewest (fewest among those without leave on the days counted).
    weekend = [d for d in range(n) if cal.is_weekend[d] and cal.is_rest_day[d] and not cal.is_holiday[d]]
    holiday = [d for d in range(n) if cal.is_holiday[d]]
    for rid, days in (("fair_days", list(range(n))), ("fair_weekends", weekend), ("fair_holidays", holiday),
                      ("fair_nights", list(range(n)))):
        r = rule(rid)
        if r is None or r["max_spread"] is None or not days:
            continue
        for town in p.towns:
            groups = [[pid for pid, x in p.people.items() if x.role in ("grid_worker", "co_manager") and x.town == town],
                      ["班组:" + t for t, team in p.teams.items() if team.town == town],
                      [pid for pid, x in p.people.items() if x.role == "shift_worker" and x.town == town]]
            for us in groups:
                if rid == "fair_nights":
                    us = [u for u in us if u.startswith("班组:") or p.people[u].role == "shift_worker"]
                    us = [u for u in us if u.startswith("班组:") or p.people[u].shifts is None
                          or any(p.is_night(s) for s in p.people[u].shifts)]
                    count = {u: sum(p.is_night(ro.duty.get((u, d))) for d in days) for u in us}
                else:
                    count = {u: sum(on(u, d) for d in days) for u in us}
                full = [u for u in us if not (away(p, u, leave) & set(days))]
                if len(full) >= 2 and max(count.values()) - min(count[u] for u in full) > r["max_spread"]:
                    out.append(f"{rid} {town}")
    workers = [pid for pid, x in p.people.items() if x.role == "shift_worker"]
    if not workers:
        return out
    if rule("shift_eligibility") is not None:
        for w in workers:
            allowed = p.people[w].shifts
            for d in range(n):
                s = ro.duty.get((w, d))
                if s is not None and (s not in p.person_shifts or allowed is not None and s not in allowed):
                    out.append(f"shift_eligibility {w} {d}")
    if (r := rule("shift_caps")) is not None:
        for w in workers:
            for s in p.person_shifts:
                cap = p.people[w].caps.get(s, r["max"].get(s))
                if cap is not None and sum(ro.duty.get((w, d)) == s for d in range(n)) > cap:
                    out.append(f"shift_caps {w} {s}")
    if (r := rule("working_time")) is not None:
        for w in workers:
            lo, hi = own(p, w, "min_hours", r["min_hours"]), own(p, w, "max_hours", r["max_hours"])
            hours = sum(p.shift_types[ro.duty[w, d]].minutes for d in range(n) if (w, d) in ro.duty) / 60
            credit = r["leave_hours"] * len(leave[w])
            if (lo is not None and hours < lo - credit - 1e-9) or (hi is not None and hours > hi + 1e-9):
                out.append(f"working_time {w} {hours}")
    if (r := rule("min_consecutive_work")) is not None:
        for w in workers:
            k = own(p, w, "min_consecutive", r["days"])
            work = "".join("1" if on(w, d) else "0" for d in range(n))
            for length in range(1, k):
                if "0" + "1" * length + "0" in work:
                    out.append(f"min_consecutive_work {w} {length}")
    if (r := rule("max_working_weekends")) is not None:
        for w in workers:
            most = own(p, w, "max_weekends", r["max"])
            sats = [d for d in range(n) if cal.dates[d].weekday() == 5]
            weekends = [[d, d + 1] for d in sats] + ([[0]] if cal.dates[0].weekday() == 6 else [])
            worked = sum(any(on(w, d) for d in wk if d < n) for wk in weekends)
            if most is not None and worked > most:
                out.append(f"max_working_weekends {w} {worked}")
    if rule("forbidden_succession") is not None:
        for w in workers:
            for a, b in rule("forbidden_succession")["pairs"]:
                for d in range(n - 1):
                    if ro.duty.get((w, d)) == a and ro.duty.get((w, d + 1)) == b:
                        out.append(f"forbidden_succession {w} {d}")
    if rule("shift_min_cover") is not None:
        for (d, s), dem in p.demand.items():
            if sum(ro.duty.get((w, d)) == s for w in workers) < dem.min:
                out.append(f"shift_min_cover {d} {s}")
    return out
