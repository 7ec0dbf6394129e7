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
FAIR_RULES = ("fair_days", "fair_weekends", "fair_holidays", "fair_nights")

log = logging.getLogger(__name__)


@dataclass
class PersonalRoster:
    duty: dict[tuple[str, int], str]      # (person, day) -> shift, days on duty only
    objective: float                      # demand and requests (the soft rules of one person), as priced here
    rounds: int
    seconds: float
    coupled: bool                         # some hard rule binds people together: the roster is a hint only


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
        sub = dataclasses.replace(prob, people={pid: person}, leaves=[lv for lv in prob.leaves if lv.person == pid],
                                  requests=[r for r in prob.requests if r.person == pid], demand={})
        rm = RosterModel(sub).build(objective=False)
        if prob.on("requests"):
            rm.add_requests()
        self.pid, self.rm = pid, rm
        self.cells = [(d, s, v) for (_, d, s), v in rm.shift.items()]
        self.base = sum(s.coef * s.expr for s in rm.soft) if rm.soft else 0
        self.requests = sub.requests if prob.on("requests") else []
        self.weight = prob.rule("requests")["weight"] if prob.on("requests") else 0
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
                    feasible_only: bool = False) -> PersonalRoster | None:
    """Rounds of each person's best roster given everybody else's, from the valid roster `duty`
    (phase 1's) or, without one, from nobody on duty (each person's first roster then has no hint,
    several times slower).  None when it cannot be had by `deadline`, some person's own rules admit
    no roster (phase 1 then searches the full model, and explains) or a rule it does not keep binds
    people together (a fairness max_spread).  `rounds_at_most` ends it after so many rounds;
    `feasible_only`: from nobody on duty, the first round gives each person any roster meeting their
    rules (phase 1: several times faster than the best one)."""
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
    for pid in prob.people:
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

    def reoptimise(one: _One, first: bool) -> bool | None:
        """The best roster of one person given the others'; True: better (taken), None: none found."""
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
        for one in order:
            if time.perf_counter() > deadline and not first:
                break
            got = reoptimise(one, first)
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
                          time.perf_counter() - start, coupled(prob))


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
