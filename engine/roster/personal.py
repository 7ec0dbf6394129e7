"""Rosters by person and shift built person by person, the demand in view: phase 2's start, and
phase 1 of long rosters (solve.py).

Phase 1 of the full model finds a roster meeting every hard rule with no regard to the demand: on
the benchmark's Instance13 it left about 780 person-shifts short, 77,939 of its 79,122 penalty,
which 60 s of neighbourhood steps on the 65,000-variable model could not repair
(benchmarks/README-roster.md).  Here every hard rule of a person alone — hours, runs of days on and
off, shift caps and eligibility, forbidden successions, weekends, leave — makes a small model of
that person; each person in turn gets the roster of their own that costs least given everybody
else's: a shift on a day and shift short of people saves its under-staffing weight, one already
covered costs its over-staffing weight (exact for one person, who adds at most one to a count),
plus the person's own requests, and a demand's hard minimum the others do not reach forces the
shift.  Rounds over everybody repeat, in a shuffled order, until a round improves nothing or the
time is spent; from a valid roster every round's roster is valid.

From nobody on duty (phase 1 of a long roster) the first round gives each person any roster of
their own: the whole meets every hard rule unless a demand's hard minimum (最少人数), which people
meet together, is missed; PersonalRoster.coupled then makes it a hint for the full model.  A
fairness rule's max_spread binds people together in a way this does not keep: it is not used then.
"""
from __future__ import annotations

import dataclasses
import logging
import random
import time
from dataclasses import dataclass
from typing import Any

from ortools.sat.python import cp_model
from ortools.sat.python.cp_model import LinearExpr

from .constraints import RosterModel
from .model import RosterProblem

PERSON_SECONDS = 0.3        # most time for one person's model (Instance13's take about 0.1 s, load 3)
OWN_SHIFTS_FROM_DAYS = 90  # from this length a person's model has their own shifts only (solve.PERSONAL_FIRST_DAYS)
PATTERN_SECONDS = 3.0       # most time for the shifts on days on duty found by work_pattern (Instance24: 0.5-0.7 s)
FAIR_RULES = ("fair_days", "fair_weekends", "fair_holidays", "fair_nights")

log = logging.getLogger(__name__)


@dataclass
class PersonalRoster:
    duty: dict[tuple[str, int], str]      # (person, day) -> shift, days on duty only
    objective: float                      # demand and requests (the soft rules of one person), as priced here
    rounds: int
    seconds: float
    coupled: bool                         # some hard rule binds people together: the roster is a hint only
    people: list["_One"] | None = None    # each person's own model, for the next call (personal_roster(models=…))


def applies(prob: RosterProblem) -> bool:
    """Rosters by person and shift with nothing but people rostered by shift."""
    return (prob.kind == "shifts" and not prob.teams and not prob.grids and bool(prob.people)
            and all(p.role == "shift_worker" for p in prob.people.values()))


def coupled(prob: RosterProblem) -> bool:
    """Whether a hard rule binds people together (a demand's hard minimum, a fairness max_spread)."""
    if prob.on("shift_min_cover") and any(dem.min > 0 for dem in prob.demand.values()):
        return True
    return any(prob.on(r) and prob.rule(r)["max_spread"] is not None for r in FAIR_RULES)


class _One:
    """One person's own model: every hard rule of the person, and their requests as the base cost."""

    def __init__(self, prob: RosterProblem, pid: str):
        person = prob.people[pid]
        mine = [r for r in prob.requests if r.person == pid]
        self.weight = prob.rule("requests")["weight"] if prob.on("requests") else 0
        changes: dict[str, Any] = dict(people={pid: person}, leaves=[lv for lv in prob.leaves if lv.person == pid],
                                       requests=mine, demand={})
        constant = 0
        if prob.cal.days >= OWN_SHIFTS_FROM_DAYS and prob.on("shift_eligibility") and person.shifts is not None:
            # A long roster: variables for the person's own shifts only (the others are 0 anyway), so
            # that the model builds faster (Instance23's 100 people, 10 of 16 shifts each: 16 s).  A
            # request about another shift is then a constant: met when it asks for the shift off.
            own = set(person.shifts)
            changes["shift_types"] = {s: st for s, st in prob.shift_types.items() if s in own or s == "duty"}
            changes["requests"] = [r for r in mine if r.shift is None or r.shift in own]
            constant = sum(self.weight * r.weight for r in mine
                           if r.shift is not None and r.shift not in own and r.want != "off")
        sub = dataclasses.replace(prob, **changes)
        rm = RosterModel(sub).build(objective=False)
        if prob.on("requests"):
            rm.add_requests()
        self.pid, self.rm = pid, rm
        self.cells = [(d, s, v) for (_, d, s), v in rm.shift.items()]
        self.base = (sum(s.coef * s.expr for s in rm.soft) if rm.soft else 0) + (constant if prob.on("requests") else 0)
        self.requests = mine if prob.on("requests") else []
        self.roster: dict[int, str] = {}
        self.base_cost = 0.0          # the requests' cost of `roster`
        self.solved: tuple | None = None    # the prices of the last solve, when it proved its roster optimal

    def request_cost(self) -> int:
        """What the person's requests cost with `roster` (as RosterModel.add_requests prices them)."""
        out = 0
        for rq in self.requests:
            on = self.roster.get(rq.day) == rq.shift if rq.shift is not None else rq.day in self.roster
            out += self.weight * rq.weight * int(on if rq.want == "off" else not on)
        return out


def personal_roster(prob: RosterProblem, deadline: float, seed: int,
                    duty: dict[tuple[str, int], str] | None = None, rounds_at_most: int | None = None,
                    feasible_only: bool = False, models: list["_One"] | None = None) -> PersonalRoster | None:
    """Rounds of each person's best roster given everybody else's, from the valid roster `duty`
    (phase 1's) or, without one, from nobody on duty (each person's first roster then has no hint,
    several times slower).  None when it cannot be had by `deadline`, some person's own rules admit
    no roster (phase 1 then searches the full model, and explains) or a rule it does not keep binds
    people together (a fairness max_spread).  `rounds_at_most` ends it after so many rounds;
    `feasible_only`: from nobody on duty, the first round gives each person any roster meeting their
    rules (phase 1: several times faster than the best one).  `models`: the people's own models of an
    earlier call on the same problem (PersonalRoster.people), not built again (Instance22's 50 took
    about 6 s, Instance23's 100 about 20 s)."""
    if not applies(prob) or any(prob.on(r) and prob.rule(r)["max_spread"] is not None for r in FAIR_RULES):
        return None
    start = time.perf_counter()
    w = prob.rule("shift_demand")["weight"] if prob.on("shift_demand") else 0
    target = {(d, s): (dem.target, w * dem.under_weight, w * dem.over_weight) for (d, s), dem in prob.demand.items()
              if w and (dem.under_weight or dem.over_weight)}
    least = {(d, s): dem.min for (d, s), dem in prob.demand.items()
             if prob.on("shift_min_cover") and dem.min > 0}
    count = {key: 0 for key in set(target) | set(least)}
    people: list[_One] = []
    if models is not None and [one.pid for one in models] == list(prob.people):
        people = models
        for one in people:
            one.roster, one.base_cost, one.solved = {}, 0.0, None
    for pid in list(prob.people)[len(people):]:
        if time.perf_counter() > deadline:
            return None
        people.append(_One(prob, pid))
    if duty is not None:
        for one in people:
            one.roster = {d: s for (u, d), s in duty.items() if u == one.pid}
            one.base_cost = one.request_cost()
            for d, s in one.roster.items():
                if (d, s) in count:
                    count[d, s] += 1
    rng = random.Random(seed)

    def price(d: int, s: str) -> int:
        """What one more person on shift s of day d costs (negative: saves)."""
        t = target.get((d, s))
        if t is None:
            return 0
        return -t[1] if count[d, s] < t[0] else t[2]

    def reoptimise(one: _One, first: bool, share: float = PERSON_SECONDS) -> bool | None:
        """The best roster of one person given the others'; True: better (taken), None: none found.
        `share`: this person's share of the time left (phase 1 of a long roster)."""
        for d, s in one.roster.items():
            if (d, s) in count:
                count[d, s] -= 1
        coefs = [(v, price(d, s)) for d, s, v in one.cells]
        key = tuple(c for _, c in coefs)
        if not first and one.solved == key:
            # Nothing this person's roster is priced by has changed since it was found optimal.
            for d, s in one.roster.items():
                if (d, s) in count:
                    count[d, s] += 1
            return False
        old = one.base_cost + sum(price(d, s) for d, s in one.roster.items())
        m = one.rm.m
        m.minimize(LinearExpr.weighted_sum([v for v, c in coefs if c], [c for _, c in coefs if c]) + one.base)
        m.clear_hints()
        if not first:
            for d, s, v in one.cells:
                m.add_hint(v, int(one.roster.get(d) == s))
        # A hard minimum the others do not reach: this person must work that shift (they did: the
        # roster met every minimum, and one person counts one).
        # (From nobody on duty, the others do not meet the minimums yet: nothing is forced, and the
        # roster is then a hint for phase 1 only, PersonalRoster.coupled.)
        variables = m.proto.variables
        forced = [] if first else [v.index for d, s, v in one.cells if (d, s) in least and count[d, s] < least[d, s]]
        for i in forced:
            variables[i].domain[0] = 1
        status = cp_model.UNKNOWN
        if not (first and feasible_only):
            solver = _solver(seed, PERSON_SECONDS, deadline)
            status = solver.solve(m)
        for i in forced:
            variables[i].domain[0] = 0
        if first and feasible_only and status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            # The days on duty by a dynamic programme, the shifts by the person's model on those days:
            # at their prices given the others' for a moment (Instance20 at 60 s: 70,364 against 155,113
            # with any shifts, whose start the rounds did not make up for), else any.
            days = work_pattern(prob, one, random.Random(f"{seed} {one.pid}"))
            if days is not None:
                work = [(v.index, int(d in days)) for (_, d), v in one.rm.work.items()]
                kept = [(i, variables[i].domain[0], variables[i].domain[1]) for i, _ in work]
                for i, value in work:
                    variables[i].domain[0] = variables[i].domain[1] = value
                status = cp_model.UNKNOWN
                if share >= 2 * PERSON_SECONDS:     # (time allowing: Instance23's 100 people have 0.25 s each)
                    solver = _solver(seed, PERSON_SECONDS, deadline)
                    status = solver.solve(m)
                if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                    m.clear_objective()
                    solver = _solver(seed, PATTERN_SECONDS, deadline)
                    status = solver.solve(m)
                for i, a, b in kept:
                    variables[i].domain[0], variables[i].domain[1] = a, b
                if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                    status = cp_model.FEASIBLE          # (optimal for the days found: not for the prices)
                else:
                    for i, value in work:
                        m.proto.solution_hint.vars.append(i)
                        m.proto.solution_hint.values.append(value)
        if first and status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            # No roster of this person within the time of one: any roster meeting their rules, with
            # the time left and two workers (the benchmark's Instance20, 182 days and 916-936 hours each:
            # one worker found none in 20 s for some people, two found every one in 0.1-0.4 s).
            m.clear_objective()
            solver = _solver(seed, deadline - time.perf_counter(), deadline, workers=2)
            status = solver.solve(m)
            if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                status = cp_model.FEASIBLE
        better = None
        one.solved = key if status == cp_model.OPTIMAL else None
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            better = first or solver.objective_value < old - 0.5
            if better:
                one.roster = {d: s for d, s, v in one.cells if solver.boolean_value(v)}
                one.base_cost = one.request_cost()
        for d, s in one.roster.items():
            if (d, s) in count:
                count[d, s] += 1
        return better

    rounds = 0
    order = list(people)
    if duty is not None:
        rng.shuffle(order)
    scratch = duty is None
    while time.perf_counter() < deadline:
        first = scratch and rounds == 0
        improved = False
        for k, one in enumerate(order):
            if time.perf_counter() > deadline and not first:
                break
            got = reoptimise(one, first, (deadline - time.perf_counter()) / (len(order) - k))
            if got is None and first:
                return None           # this person's own rules have no roster (or none in time)
            improved |= bool(got) and not first
        rounds += 1
        if log.isEnabledFor(logging.DEBUG):
            log.debug("personal roster: round %d at %.1f s, demand %s", rounds, time.perf_counter() - start,
                      _demand_cost(target, count))
        if (not first and not improved) or (rounds_at_most is not None and rounds >= rounds_at_most):
            break
        rng.shuffle(order)
    total = _demand_cost(target, count) + sum(one.base_cost for one in people)
    log.debug("personal roster: %d rounds, %.1f s, objective %s", rounds, time.perf_counter() - start, total)
    return PersonalRoster({(one.pid, d): s for one in people for d, s in one.roster.items()}, total, rounds,
                          time.perf_counter() - start, coupled(prob), people)


def _solver(seed: int, seconds: float, deadline: float, workers: int = 1) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    solver.parameters.max_time_in_seconds = max(0.05, min(seconds, deadline - time.perf_counter()))
    # A light presolve: one person's model is small, and its presolve was most of a solve's time.
    solver.parameters.max_presolve_iterations = 1
    solver.parameters.cp_model_probing_level = 0
    solver.parameters.symmetry_level = 0
    return solver


def _demand_cost(target: dict, count: dict) -> int:
    return sum(t[1] * max(0, t[0] - count[k]) + t[2] * max(0, count[k] - t[0]) for k, t in target.items())


def decisions(rm: RosterModel, duty: dict[tuple[str, int], str]) -> list[tuple[tuple[str, Any], int]]:
    """The full model's decisions (as solve._decisions gives them) for a roster."""
    return ([(("work", key), int(key in duty)) for key in rm.work]
            + [(("shift", (u, d, s)), int(duty.get((u, d)) == s)) for (u, d, s) in rm.shift])


def _applies(prob: RosterProblem, rm: RosterModel, pid: str, rule: str, key: str) -> Any:
    """A person's value of a rule's option when the rule is on and applies to them, else None."""
    if not prob.on(rule) or pid not in rm.units(prob.rule(rule)["applies_to"]):
        return None
    return prob.param(pid, rule, key)


def work_pattern(prob: RosterProblem, one: _One, rng: random.Random) -> set[int] | None:
    """Days on duty for one person meeting the rules about which days they work — runs of days on
    (最多/最少连续工作天数) and off (最少连续休息天数), weekends worked (最多上班周末), leave, and a number
    of days the hours (working_time) and total_days allow — by a dynamic programme over the days;
    None when it finds none.  A start for the person's own model (which also places the shifts and
    keeps every other rule): on 364 days CP-SAT alone took 5-30 s and more for one person of the
    benchmark's Instance22, whose 232-234 days of 8 hours leave little room under runs of at most 5
    days on and at least 2 off and 26 of 52 weekends (benchmarks/README-roster.md).

    Rules it does not know (a history before the period, rest_in_window, max_weekends) are left to
    the model, which may then reject the days (the caller falls back to the model alone)."""
    pid, rm, n = one.pid, one.rm, prob.cal.days
    shifts = [s for (_, d, s) in rm.shift if d == 0] or ["duty"]
    if prob.on("shift_eligibility") and prob.people[pid].shifts is not None:
        shifts = [s for s in shifts if s in prob.people[pid].shifts]
    lengths = [prob.minutes(s) for s in shifts]
    if not lengths or min(lengths) <= 0:
        return None
    most_on = _applies(prob, rm, pid, "max_consecutive_work", "days")
    least_on = _applies(prob, rm, pid, "min_consecutive_work", "days") or 1
    least_off = _applies(prob, rm, pid, "min_consecutive_off", "days") or 1
    most_weekends = _applies(prob, rm, pid, "max_working_weekends", "max")
    away = prob.away(pid)
    lo_days, hi_days = 0, n - len(away)
    lo_h, hi_h = (_applies(prob, rm, pid, "working_time", k) for k in ("min_hours", "max_hours"))
    if lo_h is not None:
        credit = round(prob.rule("working_time")["leave_hours"] * 60) * len(rm.leave.get(pid, ()))
        lo_days = max(lo_days, -(-max(0, round(lo_h * 60) - credit) // max(lengths)))
    if hi_h is not None:
        hi_days = min(hi_days, round(hi_h * 60) // min(lengths))
    lo_t, hi_t = (_applies(prob, rm, pid, "total_days", k) for k in ("min", "max"))
    if lo_t is not None:
        lo_days = max(lo_days, lo_t - len(away))
    if hi_t is not None:
        hi_days = min(hi_days, hi_t)
    if lo_days > hi_days:
        return None
    # The hours in the middle of the range with the person's average shift (the shifts then fit
    # the hours by their lengths).
    mid = None
    if lo_h is not None and hi_h is not None:
        mid = (round(lo_h * 60) + round(hi_h * 60)) / 2 / (sum(lengths) / len(lengths))
    weekends = prob.cal.weekends() if most_weekends is not None else []
    first_of = {days[0]: i for i, days in enumerate(weekends)}
    in_weekend = {d for days in weekends for d in days}
    wmax = len(weekends) if most_weekends is None else min(most_weekends, len(weekends))
    # A set of reachable (weekends worked w, days worked c) as the bits w × (C + 1) + c of an int.
    C = hi_days
    row = C + 1
    full = (1 << (row * (wmax + 1))) - 1
    below_c = sum(((1 << C) - 1) << (w * row) for w in range(wmax + 1))       # c < C
    below_w = (1 << (row * wmax)) - 1                                          # w < wmax
    on_cap = most_on if most_on else max(least_on, 1)
    # States: (on, run length, exempt) / (off, run length capped at least_off, exempt), and whether
    # this weekend is counted already; a run from the first day is exempt from the minimums.
    layers: list[dict[tuple, int]] = []
    cur: dict[tuple, int] = {}

    def put(state, bits):
        if bits:
            cur[state] = cur.get(state, 0) | bits

    def moves(state, d):
        """(next state, worked, weekend newly counted) from `state` on day d."""
        (kind, j, ex), counted = state[:3], state[3]
        if d in first_of:
            counted = False
        work_ok = d not in away
        out = []
        if kind == "on":
            if work_ok and (not most_on or j < most_on):
                out.append((("on", min(j + 1, on_cap), ex), True))
            if ex or j >= least_on:
                out.append((("off", 1, False), False))
        else:
            out.append((("off", min(j + 1, least_off), ex), False))
            if work_ok and (ex or j >= least_off):
                out.append((("on", 1, False), True))
        res = []
        for nxt, worked in out:
            new_weekend = worked and d in in_weekend and not counted
            res.append((nxt + (counted or (worked and d in in_weekend),), worked, new_weekend))
        return res

    def advance(bits, worked, new_weekend):
        if worked:
            bits = (bits & below_c) << 1
        if new_weekend:
            bits = (bits & below_w) << row
        return bits & full

    # Day 0.
    if 0 not in away:
        put(("on", 1, True, 0 in in_weekend), advance(1, True, 0 in in_weekend))
    put(("off", 1, True, False), 1)
    layers.append(cur)
    for d in range(1, n):
        prev, cur = cur, {}
        for state, bits in prev.items():
            for nxt, worked, new_weekend in moves(state, d):
                put(nxt, advance(bits, worked, new_weekend))
        layers.append(cur)
    # The number of days: reachable, in range, nearest the middle of the hours.
    reach = 0
    for bits in cur.values():
        reach |= bits
    counts = {c for w in range(wmax + 1) for c in range(lo_days, hi_days + 1) if reach >> (w * row + c) & 1}
    if not counts:
        return None
    target = min(counts, key=lambda c: (abs(c - mid) if mid is not None else c, c))
    bit = next(w * row + target for w in range(wmax + 1) if reach >> (w * row + target) & 1)
    ends = [s for s, bits in cur.items() if bits >> bit & 1]
    state = rng.choice(ends)
    worked_days: set[int] = set()
    for d in range(n - 1, 0, -1):
        options = []
        for prev_state, bits in layers[d - 1].items():
            for nxt, worked, new_weekend in moves(prev_state, d):
                if nxt != state:
                    continue
                b = bit - (1 if worked else 0) - (row if new_weekend else 0)
                if b >= 0 and bits >> b & 1:
                    options.append((prev_state, b, worked))
        prev_state, bit, worked = rng.choice(options)
        if worked:
            worked_days.add(d)
        state = prev_state
    if state[0] == "on":
        worked_days.add(0)
    return worked_days
