"""Large-neighbourhood search on one part's full model: phase 2 of a solve (solve.py).

CP-SAT's own neighbourhoods are mostly random sets of variables; a better roster usually needs
the off days of a worker and of the AB岗 backups covering them to move together.  Each step here
frees every decision of a few units (people, teams) on some days — the workers of a community or
of a chain of AB岗 posts, a few visitors, or everybody on a few days — fixes every other decision
to the incumbent roster, and lets one CP-SAT worker re-optimise the full objective of the part
(fairness included) from the incumbent as a complete hint.  Every step is a solve of the same
model with fewer free variables, so every roster it returns meets every hard rule.

The neighbourhood size adapts: it grows while steps are solved to optimality quickly and shrinks
when a step runs out of time; after STALL_STEPS steps without a better roster, the neighbourhoods
grow and the steps get twice the time (long runs).
"""
from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from .constraints import TEAM, RosterModel

STEP_SECONDS = 0.5          # time limit of one neighbourhood solve
START_UNITS = 8             # units freed in the first steps
STALL_STEPS = 30            # steps without a better roster before neighbourhoods grow and get more time
MAX_STEP_SECONDS = 8.0

log = logging.getLogger(__name__)


@dataclass
class LnsResult:
    solver: cp_model.CpSolver | None     # the solve that produced the incumbent (None: no step improved)
    values: list[int]                    # the incumbent: a value for every model variable
    objective: float
    steps: int
    improved: int
    history: list[tuple[float, float]] = field(default_factory=list)   # (seconds, objective) of each better roster
    optimal: bool = False                # a step freed every decision and proved the roster optimal


class Neighbourhoods:
    """Decision variables by (unit, day) cell, and the ways of choosing a set of cells to free."""

    def __init__(self, rm: RosterModel, rng: random.Random):
        self.rm, self.rng, self.n = rm, rng, rm.n
        worker = {g: grid.worker for g, grid in rm.p.grids.items()}
        cells: dict[tuple[str, int], list[int]] = {}

        def add(u: str, d: int, var) -> None:
            cells.setdefault((u, d), []).append(var.index)

        for (u, d), v in rm.work.items():
            add(u, d, v)
        for (u, d, _), v in rm.shift.items():
            add(u, d, v)
        for (g, d, c), v in rm.patrol.items():
            # A patrol belongs to the grid's worker (who is away) and to the one covering.
            add(worker[g], d, v)
            add(c, d, v)
        for (pid, _, d), v in rm.visit.items():
            add(pid, d, v)
        for (g, d), v in rm.fire.items():
            add(worker[g], d, v)
        self.cells = cells
        self.decisions = sorted({i for idx in cells.values() for i in idx})
        variables = rm.m.proto.variables
        self.domain = {i: (variables[i].domain[0], variables[i].domain[1]) for i in self.decisions}
        self.units = sorted({u for u, _ in cells})
        # Who covers whom: the AB岗 chains and joint-patrol neighbours, both ways.
        self.linked: dict[str, set[str]] = {u: set() for u in self.units}
        for g, cands in rm.candidates.items():
            for c, _ in cands:
                if c != worker[g]:
                    self.linked[worker[g]].add(c)
                    self.linked[c].add(worker[g])
        self.patrollers = sorted(u for u, links in self.linked.items() if links) or self.units
        self.community: dict[str, list[str]] = {}
        for g, grid in sorted(rm.p.grids.items()):
            members = self.community.setdefault(grid.community, [])
            for u in [grid.worker] + [c for c, _ in rm.candidates[g]]:
                if u not in members:
                    members.append(u)
        self.visitors = sorted({pid for pid, _, _ in rm.visit})
        self.teams = sorted(u for u in self.units if u.startswith(TEAM))
        self._cycle: list[str] = []

    def choose(self, size: float) -> tuple[str, set[str], list[int]]:
        """A kind of neighbourhood, its units and its days, about `size` units × all days."""
        rng, k = self.rng, max(1, round(size))
        days = list(range(self.n))
        roll = rng.random()
        if roll < 0.35 and self.community:
            # Communities in turn (a shuffled cycle), so that every one is re-optimised in a round.
            units: set[str] = set()
            while len(units) < 0.7 * k and len(units) < len(self.patrollers):
                if not self._cycle:
                    self._cycle = sorted(self.community)
                    rng.shuffle(self._cycle)
                units.update(self.community[self._cycle.pop()])
            return "community", units, days
        if roll < 0.65:
            return "chain", self._chain(k), days
        if roll < 0.75 and self.visitors:
            return "visitors", set(rng.sample(self.visitors, min(k, len(self.visitors)))), days
        if roll < 0.85 and self.teams:
            # Every team: their shifts and nights are balanced among them (夜班均衡).
            return "teams", set(self.teams), days
        if roll < 0.92:
            # Everybody on a few days, not necessarily adjacent: moves days off (weekends, holidays) between them.
            length = max(2, min(self.n, round(k * self.n / max(1, len(self.units)))))
            return "days", set(self.units), sorted(rng.sample(days, length))
        return "random", set(rng.sample(self.units, min(k, len(self.units)))), days

    def _chain(self, k: int) -> set[str]:
        """Breadth-first along AB岗 and neighbour links from a random unit."""
        start = self.rng.choice(self.patrollers)
        seen, queue = {start}, [start]
        while queue and len(seen) < k:
            u = queue.pop(0)
            nxt = sorted(self.linked.get(u, ()) - seen)
            self.rng.shuffle(nxt)
            for v in nxt:
                if len(seen) >= k:
                    break
                seen.add(v)
                queue.append(v)
        return seen

    def free(self, units: set[str], days: list[int]) -> set[int]:
        out: set[int] = set()
        for u in units:
            for d in days:
                out.update(self.cells.get((u, d), ()))
        return out


def improve(rm: RosterModel, start: cp_model.CpSolver, seed: int, deadline: float) -> LnsResult:
    """Neighbourhood steps from the roster of the solve `start` until `deadline` (perf_counter
    seconds); returns the best roster found."""
    rng = random.Random(seed)
    hoods = Neighbourhoods(rm, rng)
    res = LnsResult(None, list(start.response_proto.solution), start.objective_value, 0, 0)
    begin = time.perf_counter()
    size, step, stalled = float(START_UNITS), STEP_SECONDS, 0
    # The part's model with every decision fixed to the incumbent; a step copies it and frees some.
    fixed = cp_model.CpModel()
    fixed.proto.copy_from(rm.m.proto)
    fixed.proto.clear_solution_hint()
    _fix(fixed.proto.variables, hoods.decisions, res.values)
    while True:
        left = deadline - time.perf_counter()
        if left < 0.2:
            break
        res.steps += 1
        kind, units, days = hoods.choose(size)
        free = hoods.free(units, days)
        sub = cp_model.CpModel()
        sub.proto.copy_from(fixed.proto)
        variables = sub.proto.variables
        for i in free:
            dom = variables[i].domain
            dom[0], dom[1] = hoods.domain[i]
        sub.proto.solution_hint.vars.extend(range(len(res.values)))
        sub.proto.solution_hint.values.extend(res.values)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = seed + res.steps
        # The LP of the second linearisation level solves these neighbourhoods several times faster.
        solver.parameters.linearization_level = 2
        solver.parameters.max_time_in_seconds = min(step, left)
        status = solver.solve(sub)
        if status == cp_model.MODEL_INVALID:
            raise RuntimeError(f"neighbourhood model invalid: {sub.validate()}")
        found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        log.debug("step %d %s size=%.1f units=%d free=%d %s objective=%s best=%s %.2fs", res.steps, kind, size,
                  len(units), len(free), solver.status_name(status), solver.objective_value if found else None,
                  res.objective, solver.wall_time)
        if found and solver.objective_value < res.objective - 0.5:
            res.values = list(solver.response_proto.solution)
            res.objective = solver.objective_value
            res.solver = solver
            res.improved += 1
            res.history.append((round(time.perf_counter() - begin, 2), res.objective))
            _fix(fixed.proto.variables, free, res.values)
            stalled = 0
        else:
            stalled += 1
        if status == cp_model.OPTIMAL and len(free) == len(hoods.decisions):
            # Nothing was fixed: the whole part is solved (small problems, e.g. the tests).
            res.optimal = True
            res.solver = res.solver or solver
            break
        if status == cp_model.OPTIMAL and solver.wall_time < step / 2:
            size = min(size * 1.15, len(hoods.units))
        elif status != cp_model.OPTIMAL:
            size = max(2.0, size * 0.8)
        if stalled >= STALL_STEPS:
            # A local optimum for neighbourhoods of this size: allow larger ones more time.
            step, size, stalled = min(step * 2, MAX_STEP_SECONDS), min(size * 1.5, len(hoods.units)), 0
    return res


def _fix(variables, indices, values: list[int]) -> None:
    for i in indices:
        dom = variables[i].domain
        dom[0] = dom[1] = values[i]
