"""A staggered duty pattern for grid workers, given to phase 1 as a hint.

Left alone, phase 1 (the first roster meeting every hard rule) gives AB岗 backups days off on the
same days as the workers they stand in for, so that C岗 or neighbours cover, and phase 2 spends
most of its first seconds undoing that.  Here each grid worker in turn gets the cheapest days off
that keep their runs of duty within the rest rules, the price of a day off being what covering
their grid costs under 「AB岗按顺序顶岗」 given everybody else's days off (the first backup on duty
covers), plus what it costs the grids this worker would have covered.  Two passes over the
workers, along the AB岗 chains.  Only the days on duty are hinted; phase 1 completes them to a
roster meeting every hard rule (on demo-county at once) or departs from them where they break one.
"""
from __future__ import annotations

from .constraints import PATROL_ROLES, RosterModel

INF = float("inf")     # an unreachable state of _cheapest_days_off
NO_COVER = 100          # price of a day off nobody can cover (phase 1 will find another way)


def duty_hint(rm: RosterModel) -> list[tuple[object, int]]:
    """(variable, value) pairs: the grid workers' days on duty."""
    p, n = rm.p, rm.n
    people = [pid for pid, x in p.people.items() if x.role in PATROL_ROLES]
    if not people:
        return []
    weight = p.rule("backup_order")["weight"] if p.on("backup_order") else 1
    run = _longest_run(rm)
    most = [n]
    if p.on("total_days") and p.rule("total_days")["max"] is not None:
        most.append(p.rule("total_days")["max"])
    forced_on = {p.cal.first_working_monday} if p.on("publicity_day") and p.cal.first_working_monday is not None \
        else set()
    wd = p.rule("working_days").params if p.on("working_days") else None
    rest_cost, rest_units = {}, set()
    if p.on("rest_day_duty"):
        r = p.rule("rest_day_duty")
        rest_units = set(r["applies_to"])
        rest_units = {pid for pid in people if p.people[pid].role in rest_units}
        rest_cost = {d: r["holiday_weight"] if p.cal.is_holiday[d] else r["weight"]
                     for d in range(n) if p.cal.is_rest_day[d]}
    own = {pid: [g for g, grid in p.grids.items() if grid.worker == pid] for pid in people}
    covers = {pid: [] for pid in people}          # grids a person may cover, with their rank
    for g, cands in rm.candidates.items():
        for c, rank in cands:
            if rank and c in covers:
                covers[c].append((g, rank))
    off = {pid: set(rm.leave[pid]) for pid in people}

    def cover_price(g: str, d: int, away: set[str]) -> int:
        """What grid g costs on day d when its worker is off: the first candidate on duty covers."""
        for c, rank in rm.candidates[g]:
            if rank and c not in away and d not in off[c]:
                return weight * rank
        return NO_COVER

    order = _chain_order(rm, people)
    for _ in range(2):
        for pid in order:
            fixed = set(rm.leave[pid])
            off[pid] = set(fixed)
            price = []
            for d in range(n):
                if d in fixed or d in forced_on:
                    price.append(0)
                    continue
                cost = sum(cover_price(g, d, {pid}) for g in own[pid])
                # The grids this person would have covered on d now need someone further down.
                for g, rank in covers[pid]:
                    if d in off.get(p.grids[g].worker, ()):
                        first = cover_price(g, d, set())
                        if first == weight * rank:
                            cost += cover_price(g, d, {pid}) - first
                # A day off on a rest day saves its rest-day duty (休息日值班从简).
                if d in rest_cost and pid in rest_units:
                    cost -= rest_cost[d]
                price.append(cost)
            # At most so many days on duty: total_days' max, and working_days' official days + extra;
            # at least working_days' official days − below.
            cap = min(most + ([p.target_days(pid) + wd["extra_days"]] if wd else []))
            floor = p.target_days(pid) - wd["below"] if wd and wd["below"] is not None else None
            off[pid] = _cheapest_days_off(price, fixed, forced_on, run, max(n - cap, len(fixed)),
                                          None if floor is None else max(n - floor, len(fixed)))
    hint: list[tuple[object, int]] = []
    for pid in people:
        hint += [(rm.work[pid, d], int(d not in off[pid])) for d in range(n)]
    return hint


def _longest_run(rm: RosterModel) -> int:
    """The longest run of days on duty the rest rules allow a grid worker (the month when none;
    exact for one day off in each window, the default)."""
    p, run = rm.p, rm.n

    def applies(rule: str) -> bool:
        return p.on(rule) and any(role in p.rule(rule)["applies_to"] for role in PATROL_ROLES)

    if applies("rest_in_window") and p.rule("rest_in_window")["min_off"] >= 1:
        run = min(run, p.rule("rest_in_window")["window"] - p.rule("rest_in_window")["min_off"])
    if applies("max_consecutive_work"):
        run = min(run, p.rule("max_consecutive_work")["days"])
    return max(1, run)


def _cheapest_days_off(price: list[int], fixed: set[int], forced_on: set[int], run: int, least: int,
                       most: int | None = None) -> set[int]:
    """Days off of least total price with no more than `run` days on duty in a row and at least
    `least` (at most `most`) days off, the `fixed` ones (leave) included, never on `forced_on` days."""
    # Dynamic programme over (days on duty in a row r, days off so far c: capped at `least`, or exact
    # up to `most` when there is one), a table of rows by r.  A day on duty moves row r to r + 1; a day
    # off takes each column's cheapest row to row 0, one column on.  Rows as lists and columns by
    # zip(), not a dictionary of states: the county's hint took 4.7 CPU s that way, 0.6 s this way.
    top = least if most is None else most
    blank = [INF] * (top + 1)
    cost = [[0] + [INF] * top] + [blank] * run          # cost[r][c]; rows are never changed in place
    tables = [cost]
    for d in range(len(price)):
        new = [blank] + (cost[:-1] if d not in fixed else [blank] * run)
        if d not in forced_on or d in fixed:
            p = 0 if d in fixed else price[d]
            col = list(map(min, zip(*cost)))
            row = [INF] + [m + p for m in col[:top]]
            if most is None:
                row[top] = min(row[top], col[top] + p)
            new[0] = row
        cost = new
        tables.append(cost)
    best = min((cost[r][c], r, c) for r in range(run + 1) for c in range(least, top + 1))
    if best[0] == INF:
        return set(fixed)
    _, r, c = best
    off: set[int] = set()
    for d in range(len(price) - 1, -1, -1):       # back from the cheapest end: which state came before
        if r:
            r -= 1
            continue
        off.add(d)
        p = 0 if d in fixed else price[d]
        prev, here = tables[d], tables[d + 1][0][c]
        sources = [c - 1] + ([top] if most is None and c == top else [])
        r, c = next((r2, c2) for c2 in sources if c2 >= 0 for r2 in range(run + 1) if prev[r2][c2] + p == here)
    return off


def _chain_order(rm: RosterModel, people: list[str]) -> list[str]:
    """Grid workers along their AB岗 chains (breadth first), so that neighbours come together."""
    links, among = rm.cover_links(), set(people)
    linked = {pid: [v for v in links.get(pid, ()) if v in among] for pid in people}
    order, seen = [], set()
    for start in people:
        if start in seen:
            continue
        queue = [start]
        seen.add(start)
        while queue:
            u = queue.pop(0)
            order.append(u)
            for v in linked[u]:
                if v not in seen:
                    seen.add(v)
                    queue.append(v)
    return order
