"""Solving: split the problem by town, run CP-SAT on each part in parallel, collect one roster.

Decomposition is exact because validation forbids posts, supervisors, managers and squads
that cross a town border when it is on.  Phase 1 finds every part's first roster; phase 2
improves each part with neighbourhood search (lns.py), one worker per part and `jobs` parts side
by side, larger parts getting more of the time; with a long budget the full search (8 workers:
the bound-raising subsolvers only start at 8, see docs/roster.md) ends it, for a bound.  A town
without any roster is explained in words (explain.py) or, with `relax`, solved again allowing
softable rules to break.
"""
from __future__ import annotations

import dataclasses
import multiprocessing
import os
import pickle
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

from ortools.sat.python import cp_model

from ..errors import InfeasibleError, NotFoundInTime
from .constraints import RosterModel
from .greedy import duty_hint
from .lns import END_MARGIN, improve
from .model import TEAM, RosterProblem
from .personal import applies as personal_applies, decisions, personal_roster
from .rules import CATALOG

DEFAULT_TIME_LIMIT = 20.0
SEARCH_WORKERS = 8
CONFLICTS_PER_SECOND = 200      # --deterministic budget: search conflicts per second of --time-limit (measured ~200/s on the demo county, 2026-12-03)
MIN_PHASE2 = 2.0        # seconds: below this a part's phase 2 is skipped (phase 1's roster is kept and priced)
FULL_SEARCH_FROM = 30.0 # seconds: a part's phase 2 ends with the full search (for a bound) only from this budget
FULL_SEARCH_SHARE = 0.2 # and then gives it this share (after the neighbourhood search, see lns.py)
QUICK_PHASE1 = 3.0      # seconds: phase 1's two-worker search, before more workers take over
QUICK_SHARE = 0.1       # (or this share of the time limit when larger)
QUICK_PER_VARIABLE = 2e-4     # seconds of the quick search per model variable (64,000: 12.8 s)
PHASE1_WORKERS = 4
EXTEND_FROM_VARIABLES = 30_000  # a roster by shift this large keeps improving by steps instead of the full search
PERSONAL_FIRST_DAYS = 90    # a roster by shift this long starts person by person (personal.py), not by the full search
# Of a long roster's phase 1, the share for the personal rosters: the full model the rest needs takes
# its time too (Instance23: 28-30 s for the people, 17 s to build the full model, 3 s to check).
PERSONAL_FIRST_SHARE = 0.6
PERSONAL_SHARE = 0.5    # most of a roster by shift's phase 2 for rounds of each person's best roster (personal.py)
FIXED_SOLVE_LEAST = 2.0 # seconds a roster's check by the full model gets even at the deadline (else it is lost)


@dataclass
class PartResult:
    """What one town's solve produced."""

    town: str
    status: str                      # OPTIMAL / FEASIBLE / INFEASIBLE / UNKNOWN
    objective: float | None = None
    bound: float | None = None
    wall: float = 0.0
    first_solution: float | None = None   # seconds to the first roster meeting every hard rule
    lines: list[tuple[str, str, int]] = field(default_factory=list)   # (rule, report line, cost)
    broken: list[tuple[str, str]] = field(default_factory=list)       # relaxed: (rule, instance text)
    explanation: list[str] = field(default_factory=list)

    @property
    def gap(self) -> float | None:
        if self.objective is None or self.bound is None:
            return None
        if self.objective == 0:
            return 0.0
        return abs(self.objective - self.bound) / abs(self.objective)


@dataclass
class Roster:
    """A solved roster, independent of CP-SAT: what every unit does every day."""

    problem: RosterProblem
    duty: dict[tuple[str, int], str] = field(default_factory=dict)       # (unit, d) -> shift id, only when on duty
    patrol: dict[tuple[str, int], str] = field(default_factory=dict)     # (grid, d) -> patroller id
    visits: set[tuple[str, str, int]] = field(default_factory=set)      # (visitor, grid, d)
    fire: dict[str, list[int]] = field(default_factory=dict)            # grid -> days of fire checks
    parts: list[PartResult] = field(default_factory=list)
    first_valid_seconds: float | None = None     # wall time until every part had a valid roster
    source: str = "solved"                       # "solved", "replanned" or "imported" (a hand-edited roster)

    def person_shift(self, pid: str, d: int) -> str | None:
        """The shift a person works on day d (squad members follow their team unless on leave)."""
        person = self.problem.people[pid]
        if d in self.problem.leave_days(pid):
            return None
        if person.role == "squad":
            return self.duty.get((TEAM + person.team, d))
        return self.duty.get((pid, d))

    def breakdown(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for part in self.parts:
            for rule, _, cost in part.lines:
                out[rule] = out.get(rule, 0) + cost
        return out

    @property
    def objective(self) -> float | None:
        vals = [p.objective for p in self.parts]
        return None if any(v is None for v in vals) else sum(vals)

    @property
    def bound(self) -> float | None:
        vals = [p.bound for p in self.parts]
        return None if any(v is None for v in vals) else sum(vals)


@dataclass
class Progress:
    """What a solve is doing, for a progress display: reported by `solve(progress=…)` from the
    solving threads (a display must be thread-safe), often during the search."""

    phase: str                 # "first" (looking for a valid roster), "improve", "full" (search for a
                               # bound), "done" (a part finished), "explain" (looking for the conflict)
    part: str                  # the town (or duty room) concerned
    parts_done: int            # parts finished so far
    parts_total: int
    best: float | None         # the best roster's penalty so far, summed over parts (None: not all have one)
    elapsed: float             # seconds since the solve started
    time_limit: float          # the solve's time limit in seconds
    message: str               # the same in plain Chinese, for a clerk


class _Tracker:
    """Collects each part's best objective and reports Progress to the caller's callback."""

    def __init__(self, callback, parts: list[str], time_limit: float):
        self.callback, self.parts, self.tl = callback, parts, time_limit
        self.start = time.perf_counter()
        self.best: dict[str, float] = {}
        self.done: set[str] = set()
        self.lock = threading.Lock()

    def __call__(self, phase: str, part: str, objective: float | None = None) -> None:
        if self.callback is None:
            return
        with self.lock:
            if objective is not None:
                self.best[part] = min(objective, self.best.get(part, objective))
            if phase == "done":
                self.done.add(part)
            total = sum(self.best.values()) if len(self.best) == len(self.parts) else None
            best = self.best.get(part)
            message = {
                "first": f"{part}：正在找满足全部硬性规则的排班",
                "improve": f"{part}：正在改进排班" + (f"，目前最好的罚分 {best:g}" if best is not None else ""),
                "full": f"{part}：正在做完整搜索，核实排班还能否更好",
                "done": f"{part}：完成" + (f"，罚分 {best:g}" if best is not None else ""),
                "explain": f"{part}：排不出满足全部硬性规则的排班，正在查找冲突的规则",
            }[phase]
            event = Progress(phase, part, len(self.done), len(self.parts), total,
                             time.perf_counter() - self.start, self.tl, message)
        self.callback(event)


class _FirstSolution(cp_model.CpSolverSolutionCallback):
    def __init__(self, start: float, report: Callable[[float], None] | None = None):
        super().__init__()
        self.start = start
        self.first: float | None = None
        self.report = report

    def on_solution_callback(self) -> None:
        if self.first is None:
            self.first = time.perf_counter() - self.start
        if self.report is not None:
            self.report(self.objective_value)


def parameters(time_limit: float, seed: int, workers: int = SEARCH_WORKERS, deterministic: bool = False,
               first_only: bool = False):
    solver = cp_model.CpSolver()
    solver.parameters.stop_after_first_solution = first_only
    solver.parameters.num_search_workers = workers
    solver.parameters.random_seed = seed
    if deterministic:
        # One worker stopped by a conflict count, not the clock, gives the same roster on every run
        # whatever the machine load (CP-SAT's deterministic time did not bound our models reliably).
        solver.parameters.num_search_workers = 1
        solver.parameters.max_number_of_conflicts = int(time_limit * CONFLICTS_PER_SECOND)
        solver.parameters.max_time_in_seconds = time_limit * 20
    else:
        solver.parameters.max_time_in_seconds = time_limit
    return solver


@dataclass
class FirstRoster:
    """Phase 1 of one part: any roster meeting every hard rule, or a proof there is none."""

    status: str
    seconds: float
    hint: list = field(default_factory=list)
    model: Any = None
    solver: Any = None
    people: Any = None      # the people's own models when it was built person by person (personal.py)
    priced: bool = False    # `model` has the objective terms and `solver` priced the roster with them


def first_roster(prob: RosterProblem, time_limit: float, hook: Callable[[RosterModel], None] | None = None,
                 deterministic: bool = False, deadline: float | None = None) -> FirstRoster:
    """Phase 1 has no objective or fairness terms and two workers: it finds a valid roster (or
    proves there is none) several times faster than the full model.  Phase 2 adds the objective
    to the same model instead of building it again.  `deadline` (perf_counter seconds, the solve's
    start plus its time limit) ends it when earlier than `time_limit` from now: every step below
    gets the time left, so that building models and earlier steps are charged to the solve's limit."""
    start = time.perf_counter()
    if deadline is not None and not deterministic:
        time_limit = max(0.0, min(time_limit, deadline - start))
    personal = not deterministic and hook is None and personal_applies(prob)
    early = None
    if personal and prob.cal.days >= PERSONAL_FIRST_DAYS:
        # A long roster by person and shift: each person's own roster in turn first (the full model
        # found none for the benchmark's 182-day Instance20 and 21 in 60 s; this way 14 s and 26 s).
        early = personal_roster(prob, start + PERSONAL_FIRST_SHARE * time_limit, prob.seed, rounds_at_most=1,
                                feasible_only=True)
    # A roster built person by person meeting every hard rule (not coupled) is checked by the full
    # model with its objective, which prices it at once for phase 2 (FirstRoster.priced): pricing it
    # again took Instance23's 624,000-variable model 2.2 s for the terms and 3.6 s for the solve.
    priced = early is not None and not early.coupled
    if personal and prob.cal.days >= PERSONAL_FIRST_DAYS and \
            _build_estimate(prob) / 2 > start + time_limit - time.perf_counter():
        # The full model cannot even be built in the time left (Instance24, 150 people x 364 days x
        # 32 shifts: 71 s to build at load 5): say so now rather than past the time limit.  (Half the
        # estimate: it came out at 1.6-2.1 times the full model's build on Instance22-24.)
        return FirstRoster("UNKNOWN", time.perf_counter() - start)
    fm = RosterModel(prob).build(objective=priced)
    if priced:
        fm.set_objective()
    if hook:
        hook(fm)
    else:
        for var, value in duty_hint(fm):
            fm.m.add_hint(var, value)
    if early is not None:
        got = _from_personal(fm, early, start, prob.seed, start + time_limit)
        if got is not None:
            got.people, got.priced = early.people, priced
            return got
        if priced:
            fm.m.clear_objective()      # (phase 1's searches below look for any roster)
    # The hint usually completes to a roster at once; a light presolve (one pass, no probing, no
    # symmetry) then saves two thirds of phase 1 (measured on demo-county: 8.3 → 2.8 CPU seconds).
    # Two search workers, not one: with the working-time and fairness rules one worker's fixed search
    # stalled on 4 of the 11 towns of the demo problems for over 15 s, two found every town's roster
    # in 0.6 s (demo-town) and 10.4 s for all of demo-county's ten (2026-12, load 2.4).  Should they
    # stall too, four workers with another seed take over (also with the light presolve: a full one
    # under a load of 5 once took the rest of a 60 s limit without a roster).  Four also prove at once
    # what two do not in 10 s: three people with at most 4 nights each for 14 nights (the fourth
    # worker's subsolver).
    # A large model's presolve alone can outlast the quick share (the benchmark's Instance13, 64,000
    # variables: 4.6 s of presolve and the first roster at 6.8 s, load 8), and the four workers then
    # start again from nothing: the quick search of a roster by shift gets QUICK_PER_VARIABLE a
    # variable at least (patrol towns are below 3 s by this measure; a whole county as one model is
    # left as it was measured, benchmarks/README-roster.md).
    size = len(fm.m.proto.variables) if prob.kind == "shifts" else 0
    # (What building the model and the personal rosters took comes out of the time limit.)
    quick = time_limit if deterministic else min(max(0.0, time_limit - (time.perf_counter() - start)),
                                                 max(QUICK_PHASE1, QUICK_SHARE * time_limit, QUICK_PER_VARIABLE * size))
    s1 = parameters(quick, prob.seed, 2, deterministic, first_only=True)
    s1.parameters.max_presolve_iterations = 1
    s1.parameters.cp_model_probing_level = 0
    s1.parameters.symmetry_level = 0
    st = s1.solve(fm.m)
    left = time_limit - (time.perf_counter() - start)
    if st == cp_model.UNKNOWN and personal and early is None and left > 1.0:
        # A roster by person and shift without a roster after the quick search: each person's own
        # roster in turn (personal.py), the way long rosters start.
        early = personal_roster(prob, start + time_limit - left / 2, prob.seed, rounds_at_most=1, feasible_only=True)
        got = _from_personal(fm, early, start, prob.seed, start + time_limit) if early is not None else None
        if got is not None:
            got.people = early.people
            return got
        left = time_limit - (time.perf_counter() - start)
    if st == cp_model.UNKNOWN and not deterministic and left > 0.5:
        s1 = parameters(left, prob.seed + 1, PHASE1_WORKERS, first_only=True)
        s1.parameters.max_presolve_iterations = 1
        s1.parameters.cp_model_probing_level = 0
        s1.parameters.symmetry_level = 0
        st = s1.solve(fm.m)
    res = FirstRoster(s1.status_name(st), time.perf_counter() - start, model=fm, solver=s1)
    if st in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        res.status = "FEASIBLE"
        res.hint = _decisions(fm, s1)
    return res


def _build_estimate(prob: RosterProblem) -> float:
    """Seconds to build the full model of a roster by person and shift, from building one person's
    part of it: the model's variables and constraints are almost all per person (Instance22-24:
    0.1-0.5 s a person)."""
    pid, person = next(iter(prob.people.items()))
    one = dataclasses.replace(prob, people={pid: person}, leaves=[lv for lv in prob.leaves if lv.person == pid],
                              requests=[], demand={})
    t = time.perf_counter()
    RosterModel(one).build(objective=False)
    return (time.perf_counter() - t) * len(prob.people)


def _from_personal(fm: RosterModel, got, start: float, seed: int, deadline: float) -> FirstRoster | None:
    """Phase 1's result from a roster built person by person (personal.py), checked by the full
    model; None when a hard rule binding people together is broken, the roster then hinted."""
    fixed = None if got.coupled else _fixed_solve(fm, decisions(fm, got.duty), seed, deadline)
    if fixed is not None:
        res = FirstRoster("FEASIBLE", time.perf_counter() - start, model=fm, solver=fixed)
        res.hint = _decisions(fm, fixed)
        return res
    fm.m.clear_hints()
    dicts = _decision_dicts(fm)
    for (which, key), value in decisions(fm, got.duty):
        fm.m.add_hint(dicts[which][key], value)
    return None


def solve_part(prob: RosterProblem, town: str, time_limit: float, *, relax: bool = False,
               hook: Callable[[RosterModel], None] | None = None, workers: int = SEARCH_WORKERS,
               deterministic: bool = False, first: FirstRoster | None = None, price_only: bool = False,
               track: Callable[..., None] | None = None,
               deadline: float | None = None) -> tuple[PartResult, RosterModel, cp_model.CpSolver]:
    """Phase 2: the best roster within `time_limit`, starting from phase 1's roster as a complete hint.

    Unless deterministic, neighbourhood search (lns.py) improves phase 1's roster; with at least
    FULL_SEARCH_FROM seconds the full CP-SAT search then starts from its best roster for the last
    FULL_SEARCH_SHARE of the time, for a bound.  A deterministic solve is the full search alone.
    `deadline` (the solve's start plus its time limit) caps `time_limit` unless deterministic; pricing
    phase 1's roster gets FIXED_SOLVE_LEAST seconds even past it (else the roster would be lost)."""
    start = time.perf_counter()
    if deadline is not None and not deterministic:
        time_limit = max(0.0, min(time_limit, deadline - start))
    hint = first.hint if first else []
    if hint:
        rm = first.model
        if not first.priced:
            rm.add_objective_terms()
    else:
        rm = RosterModel(prob, "relax" if relax else "solve").build()
        if hook:
            hook(rm)
    rm.set_objective()
    track = track or (lambda *a, **k: None)
    # `incumbent`: a solve holding the best roster so far (phase 1's, priced by the full model).
    incumbent = None
    until = None if deterministic else start + time_limit      # (the pricing solves' deadline)
    if hint and not price_only and not deterministic and hook is None and personal_applies(prob):
        # A roster by person and shift: phase 1's roster has no regard to the demand (Instance13: 780
        # person-shifts short); each person's best roster given the others' repairs most of it at a
        # fraction of the neighbourhood steps' cost (benchmarks/README-roster.md).
        track("improve", town)
        duty = {key[:2]: key[2] for (which, key), v in hint if which == "shift" and v}
        got = personal_roster(prob, start + PERSONAL_SHARE * time_limit, prob.seed, duty, models=first.people)
        if got is not None:
            incumbent = _complete_hint(rm, decisions(rm, got.duty), prob.seed, until)
    if hint and incumbent is None and first.priced:
        incumbent = first.solver
        _set_hint(rm, list(incumbent.response_proto.solution))
    if hint and incumbent is None:
        incumbent = _complete_hint(rm, hint, prob.seed, until)
    if incumbent is not None:
        track("improve", town, incumbent.objective_value)
    share = FULL_SEARCH_SHARE if time_limit >= FULL_SEARCH_FROM else 0.0
    lns = bool(incumbent and rm.soft and not price_only and not deterministic)
    proved = False
    # (Not even set up when no step would start: that copies the model, 7.7 s for Instance23's.)
    if lns and time.perf_counter() < start + (1 - share) * time_limit - END_MARGIN:
        # The neighbourhood search improves a roster much faster than the full search (measured in
        # benchmarks/README-roster.md); the full search only follows with a long budget, for a bound.
        # A large roster by person and shift: while the steps still improve when the full search is
        # due, they keep its time (benchmarks/README-roster.md: CP-SAT's full search on Instance13's
        # 65,000 variables found nothing better in its 12 s; on Instance9's 5,400, a run without the
        # full search ended worse, 948 against 704 at the same load).
        large = prob.kind == "shifts" and len(rm.m.proto.variables) >= EXTEND_FROM_VARIABLES
        extend = dict(extend_to=start + time_limit, while_better_within=share * time_limit / 2) \
            if large and share else {}
        found = improve(rm, incumbent, prob.seed, start + (1 - share) * time_limit,
                        on_better=lambda obj: track("improve", town, obj), **extend)
        if found.solver:
            incumbent = found.solver
            _set_hint(rm, found.values)
        proved = found.optimal
    # Building the model, pricing the hint and the neighbourhood search come out of this part's share.
    left = time_limit if deterministic else time_limit - (time.perf_counter() - start)
    solver = parameters(max(0.5, left), prob.seed, workers, deterministic)
    cb = _FirstSolution(start, lambda obj: track("full", town, obj))
    skip = incumbent is not None and (price_only or proved or (lns and (time_limit < FULL_SEARCH_FROM or left < 1.0)))
    if not skip:
        track("full", town)
    status = cp_model.UNKNOWN if skip else solver.solve(rm.m, cb)
    res = PartResult(town, solver.status_name(status), wall=time.perf_counter() - start + (first.seconds if first else 0),
                     first_solution=first.seconds if first else cb.first)
    bound_known = True
    if proved:
        solver, status = incumbent, cp_model.OPTIMAL
        res.status = "OPTIMAL"
    elif status not in (cp_model.OPTIMAL, cp_model.FEASIBLE) and incumbent:
        # The full search was skipped or found nothing in its time: keep the best roster so far.
        solver, status = incumbent, cp_model.FEASIBLE
        res.status = "FEASIBLE"
        res.wall = time.perf_counter() - start + first.seconds
        bound_known = False
    elif status not in (cp_model.OPTIMAL, cp_model.FEASIBLE) and hint:
        return res, first.model, first.solver
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        terms = [(s, solver.value(s.expr) if not isinstance(s.expr, int) else s.expr) for s in rm.soft]
        # Priced term by term: a neighbourhood step's own objective may carry a tie-break (lns.Guide).
        res.objective = float(sum(s.coef * v for s, v in terms))
        # With every decision fixed, the "bound" would only repeat the objective, and a neighbourhood's
        # bound is not one of the part: report none.  A neighbourhood that freed everything proved it.
        res.bound = (solver.best_objective_bound if rm.soft else 0) if bound_known else None
        if proved:
            res.bound = res.objective
        for s, v in terms:
            if v:
                res.lines.append((s.rule, s.name, int(s.coef * v)))
        for e in rm.enforced:
            if not solver.boolean_value(e.lit):
                res.broken.append((e.rule, e.text))
    return res, rm, solver


def _complete_hint(rm: RosterModel, hint: list, seed: int, deadline: float | None = None) -> cp_model.CpSolver | None:
    """Price phase 1's roster in the full model and hint every variable of it, auxiliaries included
    (a partial hint can be worse than none, docs/roster.md); returns the pricing solve."""
    solver = _fixed_solve(rm, hint, seed, deadline)
    if solver is not None:
        _set_hint(rm, list(solver.response_proto.solution))
    return solver


def _fixed_solve(rm: RosterModel, hint: list, seed: int, deadline: float | None = None) -> cp_model.CpSolver | None:
    """The model solved with every decision fixed to `hint` (None: some hard rule is broken, or,
    with a `deadline`, not settled by then: at least FIXED_SOLVE_LEAST seconds); the solve's values
    are those of the model's own variables (a clone keeps their indices)."""
    clone = rm.m.clone()
    names = _decision_dicts(rm)
    variables = clone.proto.variables
    for (which, key), value in hint:
        # Fixed in the domain, not by a constraint each: Instance13's 64,000 took 3.0 s that way, 1.3 s this.
        dom = variables[names[which][key].index].domain
        dom[0] = dom[1] = value
    clone.clear_hints()
    seconds = 30.0 if deadline is None else min(30.0, max(FIXED_SOLVE_LEAST, deadline - time.perf_counter()))
    solver = parameters(seconds, seed, 1)
    solver.parameters.max_presolve_iterations = 1       # every decision is fixed: a light presolve does
    solver.parameters.cp_model_probing_level = 0
    solver.parameters.symmetry_level = 0
    if solver.solve(clone) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return solver


def _set_hint(rm: RosterModel, values: list[int]) -> None:
    """Hint a value for every variable of the model."""
    rm.m.clear_hints()
    rm.m.proto.solution_hint.vars.extend(range(len(values)))
    rm.m.proto.solution_hint.values.extend(values)


def _decision_dicts(rm: RosterModel) -> dict[str, dict]:
    return {"work": rm.work, "shift": rm.shift, "patrol": rm.patrol, "visit": rm.visit, "fire": rm.fire}


def _decisions(rm: RosterModel, solver: cp_model.CpSolver) -> list[tuple[tuple[str, Any], int]]:
    """Every decision variable's value, keyed by dictionary name and key (stable across models)."""
    return [((which, key), int(solver.boolean_value(v)))
            for which, d in _decision_dicts(rm).items() for key, v in d.items()]


Pieces = tuple[dict, dict, set, dict]     # one part's duty, patrol, visits and fire, as in Roster


def pieces(rm: RosterModel, solver: cp_model.CpSolver) -> Pieces:
    """One part's solution as plain dictionaries (what a solving process sends back)."""
    duty, patrol, visits, fire = {}, {}, set(), {}
    for (u, d), v in rm.work.items():
        if not solver.boolean_value(v):
            continue
        if u in rm.unit_shifts:
            duty[u, d] = next(s for s in rm.unit_shifts[u] if solver.boolean_value(rm.shift[u, d, s]))
        else:
            duty[u, d] = "duty"
    for (g, d, c), v in rm.patrol.items():
        if solver.boolean_value(v):
            patrol[g, d] = c
    for key, v in rm.visit.items():
        if solver.boolean_value(v):
            visits.add(key)
    for (g, d), v in rm.fire.items():
        if solver.boolean_value(v):
            fire.setdefault(g, []).append(d)
    return duty, patrol, visits, fire


def _merge(roster: Roster, got: Pieces) -> None:
    duty, patrol, visits, fire = got
    roster.duty.update(duty)
    roster.patrol.update(patrol)
    roster.visits |= visits
    for g, days in fire.items():
        roster.fire.setdefault(g, []).extend(days)


@dataclass
class _Outcome:
    """What solving the parts gave, whichever way they were run: phase 1's status of every part
    (None when phase 1 was skipped: relax), and for each part phase 2 ran on (or, first_only, phase
    1 found a roster for) its result and solution (None when it found none)."""

    first_valid: float
    first_status: dict[int, str | None]
    done: dict[int, tuple[PartResult, Pieces | None]]


def solve(prob: RosterProblem, *, time_limit: float | None = None, relax: bool = False, jobs: int = 2,
          hook_for: Callable[[RosterProblem], Callable[[RosterModel], None]] | None = None,
          workers: int = SEARCH_WORKERS, deterministic: bool = False, explain: bool = True,
          first_only: bool = False, progress: Callable[[Progress], None] | None = None) -> Roster:
    """Solve every town (or the whole problem when decomposition is off) and return one roster.

    Towns are solved `jobs` at a time on lanes; with more than one lane, no hook and more than one
    core, each lane is a process of its own (_in_processes), otherwise a thread of this one.
    Raises InfeasibleError with a Chinese explanation when some part is proved to have no roster
    (and `relax` is off), NotFoundInTime when a part has none within the time limit but was not
    proved impossible.  `progress` is called with a Progress now and then, from solving threads (or
    the thread reading the lane processes' reports).
    """
    began = time.perf_counter()       # every phase of every part ends by began + tl (the lanes' deadline)
    tl = time_limit if time_limit is not None else prob.time_limit
    parts = [[t] for t in prob.towns] if prob.decompose else [prob.towns]
    subs = [prob.restrict(towns) if prob.decompose else prob for towns in parts]
    names = ["、".join(towns) for towns in parts]
    track = _Tracker(progress, names, tl)
    roster = Roster(prob)
    opts = dict(tl=tl, relax=relax, workers=workers, deterministic=deterministic, first_only=first_only, start=began)
    if (PROCESSES and hook_for is None and min(jobs, len(parts)) > 1 and (os.cpu_count() or 1) > 1
            and not multiprocessing.current_process().daemon):      # (a daemonic process may not have children)
        out = _in_processes(subs, names, jobs, track, **opts)
    else:
        out = _in_threads(subs, names, jobs, track, [hook_for(sub) if hook_for else None for sub in subs], **opts)
    roster.first_valid_seconds = out.first_valid
    failed = [(parts[i], PartResult(names[i], status)) for i, status in out.first_status.items()
              if status not in (None, "FEASIBLE")]
    for i in sorted(out.done):
        res, got = out.done[i]
        if got is not None:
            _merge(roster, got)
            roster.parts.append(res)
        else:
            failed.append((parts[i], res))
    if failed and relax:
        towns, res = failed[0]
        sub = prob.restrict(towns) if prob.decompose else prob
        if res.status != "INFEASIBLE":
            raise NotFoundInTime(f"{res.town} 在 {tl:g} 秒内未找到排班（放宽可放宽的规则后也未找到；"
                                 "这不等于排不出，请加大求解时限再试）")
        track("explain", res.town)
        raise InfeasibleError(f"{res.town} 即使放宽可放宽的规则也排不出班（覆盖要求无法满足）",
                              _explain(sub, hook_for) if explain else [])
    if failed:
        lines: list[str] = []
        proved = False
        for towns, res in failed:
            sub = prob.restrict(towns) if prob.decompose else prob
            if res.status == "INFEASIBLE":
                proved = True
                track("explain", res.town)
                lines.append(f"【{res.town}】已证明无可行排班，冲突的规则和事实：")
                lines += ["  " + x for x in (_explain(sub, hook_for) if explain else [])]
            else:
                lines.append(f"【{res.town}】在 {tl:g} 秒内未找到满足全部硬性规则的排班"
                             "（未证明排不出：请加大求解时限再试）")
        if proved:
            raise InfeasibleError("无法排出满足全部硬性规则的排班", lines)
        raise NotFoundInTime("在求解时限内未找到满足全部硬性规则的排班（这不等于排不出）", lines)
    roster.parts.sort(key=lambda r: r.town)
    return roster


def _in_threads(subs, names, jobs: int, track, hooks, *, tl: float, relax: bool, workers: int,
                deterministic: bool, first_only: bool, start: float) -> _Outcome:
    """Every part in this process: phase 1 on `jobs` threads, then phase 2 on `jobs` lanes, all by
    the deadline `start` + `tl` (`start`: when the solve began)."""
    idx = range(len(subs))

    def first(i: int) -> FirstRoster:
        track("first", names[i])
        return first_roster(subs[i], tl, hooks[i], deterministic, deadline=start + tl)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        # Phase 1 everywhere first, so that a valid roster of every town exists as early as possible.
        firsts = [None] * len(subs) if relax else list(pool.map(first, idx))
        out = _Outcome(time.perf_counter() - start, {i: f and f.status for i, f in enumerate(firsts)}, {})
        ok = [i for i in idx if relax or firsts[i].status == "FEASIBLE"]
        if first_only:
            for i in ok:
                out.done[i] = (PartResult(names[i], "FEASIBLE", wall=firsts[i].seconds,
                                          first_solution=firsts[i].seconds),
                               pieces(firsts[i].model, firsts[i].solver))
            return out

        def run(lane):
            return _run_lane(lane, subs, names, firsts, hooks, start + tl, tl, relax=relax, workers=workers,
                             deterministic=deterministic, track=track)

        lanes = _lanes(ok, [_size(sub) for sub in subs], jobs)
        for lane_results in pool.map(run, lanes):
            for i, (res, rm, solver) in lane_results:
                out.done[i] = (res, pieces(rm, solver) if res.status in ("OPTIMAL", "FEASIBLE") else None)
    return out


PROCESSES = True        # lanes as processes when they can be (a switch for measuring one against the other)


def _in_processes(subs, names, jobs: int, track, *, tl: float, relax: bool, workers: int, deterministic: bool,
                  first_only: bool, start: float) -> _Outcome:
    """Every lane a process of its own: it runs phase 1 of its parts, waits until every lane has
    done so (a valid roster of every town as early as possible, as on threads), then phase 2 of
    its parts, and sends back progress, phase 1's statuses and each part's result and solution as
    plain dictionaries.  Building a model and the hint are Python, one core at a time per process:
    on threads they took turns (the GIL) and the county's first roster waited for them.

    A fork when this process has no other thread (nothing to copy: the problem is inherited), else
    a fork server (a fork copies only the calling thread, and another thread may hold a lock), whose
    children get their parts pickled (the demo county: 0.3 MB).  A lane that fails sends its
    exception, which is raised here; a lane that dies is an internal error."""
    sizes = [_size(sub) for sub in subs]
    lanes = _lanes(list(range(len(subs))), sizes, jobs)
    if threading.active_count() == 1:
        ctx = multiprocessing.get_context("fork")
    else:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([__name__])
    queue = ctx.Queue()
    barrier = ctx.Barrier(len(lanes))
    procs = [ctx.Process(target=_lane_main, daemon=True,
                         args=(k, [(i, subs[i], names[i], size) for i, size in lane], start, tl, relax, workers,
                               deterministic, first_only, queue, barrier))
             for k, lane in enumerate(lanes)]
    out = _Outcome(0.0, {}, {})
    ended: set[int] = set()
    errors: list[BaseException] = []
    try:
        for proc in procs:
            proc.start()
        while len(ended) < len(procs):
            try:
                msg = queue.get(timeout=0.5)
            except Exception:  # noqa: BLE001 - queue.Empty: see that every lane still working is alive
                if all(p.is_alive() for k, p in enumerate(procs) if k not in ended):
                    continue
                try:
                    msg = queue.get(timeout=2.0)     # its last words may still be on the way
                except Exception:  # noqa: BLE001
                    codes = [p.exitcode for p in procs]
                    raise RuntimeError(f"求解排班的子进程意外退出（退出码 {codes}）") from None
            kind = msg[0]
            if kind == "track":
                track(*msg[1:])
            elif kind == "first":
                out.first_status[msg[1]] = msg[2]
                if len(out.first_status) == len(subs):
                    out.first_valid = time.perf_counter() - start
            elif kind == "part":
                out.done[msg[1]] = (msg[2], msg[3])
            elif kind == "end":
                ended.add(msg[1])
                if msg[2] is not None:
                    errors.append(msg[2])
    finally:
        for proc in procs:
            if proc.pid is None:        # never started (the fork server failed)
                continue
            if proc.is_alive() and len(ended) < len(procs):
                proc.terminate()
            proc.join()
        queue.close()
    if errors:
        # A lane that failed breaks the barrier the others wait at: raise the failure, not theirs.
        raise next((e for e in errors if not isinstance(e, threading.BrokenBarrierError)), errors[0])
    out.first_status = dict(sorted(out.first_status.items()))
    if relax:
        out.first_valid = time.perf_counter() - start
        out.first_status = {i: None for i in range(len(subs))}
    return out


def _lane_main(number: int, lane, start: float, tl: float, relax: bool, workers: int, deterministic: bool,
               first_only: bool, queue, barrier) -> None:
    """A lane process (see _in_processes)."""
    def track(phase: str, part: str, objective: float | None = None) -> None:
        queue.put(("track", phase, part, objective))

    try:
        subs = {i: sub for i, sub, _, _ in lane}
        names = {i: name for i, _, name, _ in lane}
        firsts = {i: None for i in subs}
        if not relax:
            for i, sub, name, _ in lane:
                track("first", name)
                firsts[i] = first_roster(sub, tl, None, deterministic, deadline=start + tl)
                queue.put(("first", i, firsts[i].status))
        barrier.wait()
        ok = [(i, size) for i, _, _, size in lane if relax or firsts[i].status == "FEASIBLE"]
        if first_only:
            for i, _ in ok:
                f = firsts[i]
                queue.put(("part", i, PartResult(names[i], "FEASIBLE", wall=f.seconds, first_solution=f.seconds),
                           pieces(f.model, f.solver)))
        else:
            for i, (res, rm, solver) in _run_lane(ok, subs, names, firsts, {i: None for i in subs}, start + tl, tl,
                                                   relax=relax, workers=workers, deterministic=deterministic,
                                                   track=track):
                queue.put(("part", i, res, pieces(rm, solver) if res.status in ("OPTIMAL", "FEASIBLE") else None))
        queue.put(("end", number, None))
    except BaseException as exc:  # noqa: BLE001 - sent to the parent, raised there
        barrier.abort()
        try:
            pickle.loads(pickle.dumps(exc))     # the queue pickles in a thread of its own: try it here
        except Exception:  # noqa: BLE001 - an exception that does not pickle
            exc = RuntimeError(repr(exc))
        queue.put(("end", number, exc))
    finally:
        queue.close()
        queue.join_thread()


def _size(sub: RosterProblem) -> int:
    """How much solving a part needs, roughly: its grids and people."""
    return len(sub.grids) + len(sub.people)


def _lanes(order: list[int], sizes: list[int], jobs: int) -> list[list[tuple[int, int]]]:
    """The parts shared among `jobs` lanes that run side by side, largest part first onto the least
    loaded lane, so that the lanes end together; each entry is (part index, size)."""
    lanes: list[list[tuple[int, int]]] = [[] for _ in range(max(1, min(jobs, len(order))))]
    load = [0] * len(lanes)
    for i in sorted(order, key=lambda i: (-sizes[i], i)):
        j = load.index(min(load))
        lanes[j].append((i, sizes[i]))
        load[j] += sizes[i]
    return lanes


def _run_lane(lane, subs, names, firsts, hooks, deadline: float, tl: float, *, relax: bool, workers: int,
              deterministic: bool, track=None) -> list[tuple[int, tuple]]:
    """Phase 2 of a lane's parts one after the other; each part gets the lane's time left in
    proportion to its size (large towns get more).  Deterministic budgets come from `tl` alone,
    never from the clock, so that the same input gives the same roster."""
    out = []
    total = sum(size for _, size in lane)
    for k, (i, size) in enumerate(lane):
        if deterministic:
            budget = tl * size / total
        else:
            budget = (deadline - time.perf_counter()) * size / sum(s for _, s in lane[k:])
        # Under MIN_PHASE2 seconds a part cannot even reload the hint: keep and price phase 1's roster.
        price_only = budget < MIN_PHASE2 and not relax
        result = solve_part(subs[i], names[i], max(MIN_PHASE2, budget), relax=relax, hook=hooks[i], workers=workers,
                            deterministic=deterministic, first=firsts[i], price_only=price_only, track=track,
                            deadline=deadline)
        if track is not None:
            track("done", names[i], result[0].objective)
        out.append((i, result))
    return out


def _explain(sub: RosterProblem, hook_for=None) -> list[str]:
    from .explain import explain
    # Re-planning: the pinned past is part of what may conflict.
    return explain(sub, hook_for(sub) if hook_for else None)


def rule_label(rule: str) -> str:
    return CATALOG[rule].label if rule in CATALOG else ("请假" if rule == "leave" else rule)


def price(roster: Roster, *, hook_for=None) -> None:
    """Price a given roster (a hand-edited one) by the objective, part by part, into roster.parts:
    every decision of the model is fixed to the roster and the soft rules are read off.  A part the
    model cannot take as it is (some hard rule of the model broken) gets status UNPRICED."""
    prob = roster.problem
    parts = [[t] for t in prob.towns] if prob.decompose else [prob.towns]
    roster.parts = []
    for towns in parts:
        sub = prob.restrict(towns) if prob.decompose else prob
        rm = RosterModel(sub).build()
        if hook_for is not None:
            hook_for(sub)(rm)
        rm.set_objective()
        for var, value in _roster_values(rm, roster):
            rm.m.add(var == value)
        start = time.perf_counter()
        solver = parameters(30, prob.seed, 1)
        status = solver.solve(rm.m)
        res = PartResult("、".join(towns), "IMPORTED", wall=time.perf_counter() - start)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            terms = [(s, solver.value(s.expr) if not isinstance(s.expr, int) else s.expr) for s in rm.soft]
            res.objective = float(sum(s.coef * v for s, v in terms))
            res.lines = [(s.rule, s.name, int(s.coef * v)) for s, v in terms if v]
        else:
            res.status = "UNPRICED"
        roster.parts.append(res)


def _roster_values(rm: RosterModel, ro: Roster) -> list[tuple[Any, int]]:
    """(variable, value) for every decision of the model, read from a roster's plain dictionaries."""
    out: list[tuple[Any, int]] = []
    seen: set[int] = set()

    def put(var, value: bool) -> None:
        if var.index not in seen:
            seen.add(var.index)
            out.append((var, int(value)))

    for (u, d), v in rm.work.items():
        put(v, (u, d) in ro.duty)
    for (u, d, s), v in rm.shift.items():
        put(v, ro.duty.get((u, d)) == s)
    for (g, d, c), v in rm.patrol.items():
        put(v, ro.patrol.get((g, d)) == c)
    for key, v in rm.visit.items():
        put(v, key in ro.visits)
    for (g, d), v in rm.fire.items():
        put(v, d in ro.fire.get(g, ()))
    return out
