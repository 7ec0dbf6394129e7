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
from typing import Any, Callable

from ortools.sat.python import cp_model

from .constraints import TEAM, RosterModel

STEP_SECONDS = 0.5          # time limit of one neighbourhood solve
START_UNITS = 8             # units freed in the first steps
# Rosters by person and shift: fewer, longer steps.  Their neighbourhoods must move whole rosters
# of people under hours and run limits; 0.5 s steps stalled near 2,000 on the benchmark's Instance8
# (best known 1,300) while 2 s steps kept improving (60 s, load 6: 2,635 against 1,869).
SHIFT_STEP_SECONDS = 2.0
SHIFT_START_UNITS = 6
# The steps that free everybody over a few days (rosters by shift) get this many times a step's time.
SPAN_STEP = 1.5
STALL_STEPS = 30            # steps without a better roster before neighbourhoods grow and get more time
MAX_STEP_SECONDS = 8.0
GUIDE_AFTER = 15            # steps without a better roster before steps use the fairness tie-break (Guide)
END_MARGIN = 0.3            # seconds before the deadline when no further step starts

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
        links = rm.cover_links()
        self.linked: dict[str, set[str]] = {u: set(links.get(u, ())) for u in self.units}
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
        self.short: list[int] = []      # days on which the incumbent is short of people (set by improve)
        # Days of the steps that free everybody (rosters by shift): from main's k × days / people,
        # one more while such a step is solved to optimality in under half its time, one less when
        # it is not solved (improve).  With 120 people that formula always gave 2 days, where 4
        # gained ten times as much a step on Instance13 (benchmarks/README-roster.md).
        self.span: int | None = None

    def choose(self, size: float) -> tuple[str, set[str], list[int]]:
        """A kind of neighbourhood, its units and its days, about `size` units × all days."""
        rng, k = self.rng, max(1, round(size))
        days = list(range(self.n))
        if not self.community:
            return self._choose_shifts(k)
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
            length = min(self.n, max(2, round(k * self.n / max(1, len(self.units)))))
            return "days", set(self.units), sorted(rng.sample(days, length))
        return "random", set(rng.sample(self.units, min(k, len(self.units)))), days

    def _choose_shifts(self, k: int) -> tuple[str, set[str], list[int]]:
        """Without grids (a roster by person and shift): the rosters of a few people over the whole
        period, or of more people over a block of consecutive days (where runs, weekends and the
        cover of each day interact), or everybody over a short block."""
        rng, n, units = self.rng, self.n, self.units
        roll = rng.random()
        if self.short and roll < 0.3:
            # Around a day the roster is short of people: everybody over a few days around it (half the
            # time: every person's shift on those days may move, which a cover shortfall of a day
            # needs and the other kinds rarely free at once), else many people over more days.
            d = rng.choice(self.short)
            if rng.random() < 0.5:
                length = self._span(k)
                first = max(0, min(n - length, d - length // 2))
                return "short days", set(units), list(range(first, first + length))
            people = min(len(units), max(2, round(k * rng.choice((2, 3, 4)))))
            length = min(n, max(3, round(k * n / people)))   # a period of 1 or 2 days has no 3
            first = max(0, min(n - length, d - length // 2))
            return "short", set(rng.sample(units, people)), list(range(first, first + length))
        roll = rng.random()
        if roll < 0.35:
            return "people", set(rng.sample(units, min(k, len(units)))), list(range(n))
        if roll < 0.8:
            # k × n cells as about twice the people over half the days, or more over fewer.
            people = min(len(units), max(2, round(k * rng.choice((1.5, 2, 3)))))
            length = min(n, max(3, round(k * n / people)))   # a period of 1 or 2 days has no 3
            first = rng.randrange(0, n - length + 1)
            return "block", set(rng.sample(units, people)), list(range(first, first + length))
        length = self._span(k)
        first = rng.randrange(0, n - length + 1)
        return "days", set(units), list(range(first, first + length))

    def _span(self, k: int) -> int:
        """The days of a step that frees everybody."""
        if self.span is None:
            self.span = max(2, min(self.n, round(k * self.n / max(1, len(self.units)))))
        return min(self.span, self.n)

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


class Guide:
    """The objective of the steps once plain steps stall: the part's objective first, then, as a
    tie-break, how many units are at each fairness term's largest count (and at its smallest).

    A fairness term only improves when the last unit at its largest count moves off it, which
    one neighbourhood rarely achieves; a step that moves some of them off is no better by the
    objective alone, so plain steps stop there (measured: demo-town stuck at 周末值班均衡 90).  The
    tie-break's weight is below one unit of the objective, so a step it accepts is never worse.
    """

    def __init__(self, rm: RosterModel):
        self.model = rm.m.clone()
        self.model.clear_hints()
        self.size = len(rm.m.proto.variables)    # rm's variables come first, with the same indices
        m, n = self.model, rm.n
        self.primary = sum(s.coef * s.expr for s in rm.soft)
        # (threshold variable, [(count, flag)], True: flags the units at the largest count)
        self.sides: list[tuple[Any, list[tuple[Any, Any]], bool]] = []
        flags = []
        for counts, base in rm.fair:
            for group, top in ((counts, True), (base, False)):
                if not group:
                    continue
                t = m.new_int_var(-1, n + 1, "guide_level")
                pairs = []
                for c in group:
                    f = m.new_bool_var("guide_flag")
                    # A count at the level (or beyond it) forces its flag.
                    m.add(c - (n + 2) * f <= t - 1 if top else c + (n + 2) * f >= t + 1)
                    pairs.append((c, f))
                    flags.append(f)
                self.sides.append((t, pairs, top))
        self.weight = len(flags) + 1
        m.minimize(self.weight * self.primary + sum(flags))

    def values(self, solver: cp_model.CpSolver, values: list[int]) -> tuple[list[int], float]:
        """The guide model's values for a roster (levels at its largest and smallest counts), and
        the guided objective."""
        out = list(values[:self.size]) + [0] * (len(self.model.proto.variables) - self.size)
        guided = self.weight * solver.value(self.primary)
        for t, pairs, top in self.sides:
            counts = [solver.value(c) for c, _ in pairs]
            level = max(counts) if top else min(counts)
            out[t.index] = level
            for (_, f), c in zip(pairs, counts):
                out[f.index] = int(c >= level if top else c <= level)
                guided += out[f.index]
        return out, guided


def improve(rm: RosterModel, start: cp_model.CpSolver, seed: int, deadline: float,
            on_better: Callable[[float], None] | None = None, *, extend_to: float | None = None,
            while_better_within: float = 0.0) -> LnsResult:
    """Neighbourhood steps from the roster of the solve `start` until `deadline` (perf_counter
    seconds); returns the best roster found.  `on_better(objective)` is told of each better roster.
    With `extend_to`, the steps go on past `deadline` (up to `extend_to`) while they found a better
    roster in the last `while_better_within` seconds."""
    rng = random.Random(seed)
    hoods = Neighbourhoods(rm, rng)
    res = LnsResult(None, list(start.response_proto.solution), start.objective_value, 0, 0)
    begin = time.perf_counter()
    shifts = rm.p.kind == "shifts"
    size, step, stalled = (float(SHIFT_START_UNITS), SHIFT_STEP_SECONDS, 0) if shifts \
        else (float(START_UNITS), STEP_SECONDS, 0)
    current = start                 # the solve holding the incumbent's values
    guide: Guide | None = None
    # The models with every decision fixed to the incumbent; a step copies one and frees some.
    plain = _fixed_copy(rm.m, hoods.decisions, res.values)
    guided_copy = None
    last_better = time.perf_counter()
    while True:
        now = time.perf_counter()
        if extend_to is not None and now >= deadline - END_MARGIN and now - last_better < while_better_within:
            deadline = extend_to          # still improving: keep the steps going instead of the full search
        left = deadline - now
        if left < END_MARGIN:
            break
        res.steps += 1
        under = getattr(rm, "under", None)
        if under:
            hoods.short = sorted({d for (d, _), v in under.items() if res.values[v.index] > 0})
        kind, units, days = hoods.choose(size)
        free = hoods.free(units, days)
        guided = stalled >= GUIDE_AFTER and bool(rm.fair)
        if guided and guide is None:
            guide = Guide(rm)
            guided_copy = _fixed_copy(guide.model, hoods.decisions, res.values)
        if guided:
            hint, before = guide.values(current, res.values)
        else:
            hint, before = res.values, res.objective
        sub = cp_model.CpModel()
        sub.proto.copy_from((guided_copy if guided else plain).proto)
        variables = sub.proto.variables
        for i in free:
            dom = variables[i].domain
            dom[0], dom[1] = hoods.domain[i]
        if guided:
            # The levels of the tie-break are the incumbent's largest and smallest counts.
            _fix(variables, [t.index for t, _, _ in guide.sides], hint)
        sub.proto.solution_hint.vars.extend(range(len(hint)))
        sub.proto.solution_hint.values.extend(hint)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = seed + res.steps
        # The LP of the second linearisation level solves these neighbourhoods several times faster.
        solver.parameters.linearization_level = 2
        everybody = shifts and kind in ("short days", "days")
        limit = step * SPAN_STEP if everybody else step
        solver.parameters.max_time_in_seconds = min(limit, left - END_MARGIN / 2)
        status = solver.solve(sub)
        if status == cp_model.MODEL_INVALID:
            raise RuntimeError(f"neighbourhood model invalid: {sub.validate()}")
        found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        log.debug("step %d %s%s size=%.1f units=%d free=%d %s objective=%s was=%s best=%s %.2fs", res.steps, kind,
                  "*" if guided else "", size, len(units), len(free), solver.status_name(status),
                  solver.objective_value if found else None, before, res.objective, solver.wall_time)
        if found and solver.objective_value < before - 0.5:
            objective = solver.value(guide.primary) if guided else solver.objective_value
            res.values = list(solver.response_proto.solution)[:len(res.values)]
            current = solver
            for model in (plain, guided_copy):
                if model is not None:
                    _fix(model.proto.variables, free, res.values)
            if objective < res.objective - 0.5:
                last_better = time.perf_counter()
                res.improved += 1
                res.history.append((round(time.perf_counter() - begin, 2), objective))
                stalled = 0
                if on_better is not None:
                    on_better(objective)
            res.objective, res.solver = objective, solver
        else:
            stalled += 1
        if status == cp_model.OPTIMAL and len(free) == len(hoods.decisions) and not guided:
            # Nothing was fixed: the whole part is solved (small problems, e.g. the tests).
            res.optimal = True
            res.solver = res.solver or solver
            break
        if everybody:
            if status == cp_model.OPTIMAL and solver.wall_time < limit / 2:
                hoods.span = min(hoods.span + 1, hoods.n)
            elif status != cp_model.OPTIMAL:
                hoods.span = max(min(2, hoods.n), hoods.span - 1)
        elif status == cp_model.OPTIMAL and solver.wall_time < step / 2:
            size = min(size * 1.15, len(hoods.units))
        elif status != cp_model.OPTIMAL:
            size = max(2.0, size * 0.8)
        if stalled >= STALL_STEPS:
            # A local optimum for neighbourhoods of this size: allow larger ones more time.
            step, size, stalled = min(step * 2, MAX_STEP_SECONDS), min(size * 1.5, len(hoods.units)), GUIDE_AFTER
    return res


def _fixed_copy(model: cp_model.CpModel, decisions: list[int], values: list[int]) -> cp_model.CpModel:
    out = cp_model.CpModel()
    out.proto.copy_from(model.proto)
    out.proto.clear_solution_hint()
    _fix(out.proto.variables, decisions, values)
    return out


def _fix(variables, indices, values: list[int]) -> None:
    for i in indices:
        dom = variables[i].domain
        dom[0] = dom[1] = values[i]
