"""Explaining infeasibility in words: the smallest set of rules and facts that conflict.

Every rule instance and every leave gets its own assumption literal (RosterModel in mode
"explain"); CP-SAT, with no objective and one worker (assumptions need both, or-tools
#4110), returns a sufficient set, which we shrink by removal to a minimal one and print in
Chinese.  Literals CP-SAT reports that are not ours are dropped (or-tools #5141).  When that
first check cannot decide (counting conflicts, which presolve and the LP would see at once but
assumptions hide from them), rule instances are fixed instead of assumed: whole rules removed
while the rest still conflicts, then their instances in chunks, within a time budget.
"""
from __future__ import annotations

from ortools.sat.python import cp_model

from .constraints import Enforced, RosterModel
from .model import RosterProblem
from .rules import CATALOG

STEP_LIMIT = 20.0       # seconds for each feasibility check
SHRINK_BUDGET = 60.0    # seconds for shrinking a conflicting set by removal
UNDECIDED: list = []    # minimal_core's answer when the first check ran out of time (a distinct object)


class Unshrunk(list):
    """A conflicting set whose shrinking ran out of SHRINK_BUDGET: sufficient, perhaps not minimal."""


def _check(rm: RosterModel, lits: list[Enforced], limit: float = STEP_LIMIT) -> tuple[int, list[Enforced]]:
    rm.m.clear_assumptions()
    rm.m.add_assumptions([e.lit for e in lits])
    solver = cp_model.CpSolver()
    solver.parameters.num_search_workers = 1
    solver.parameters.max_time_in_seconds = limit
    solver.parameters.random_seed = rm.p.seed
    # The LP of the second linearisation level proves counting conflicts (62 patrol-days wanted, 60
    # allowed) at once; without it one worker's search ran out of its 20 s on them.
    solver.parameters.linearization_level = 2
    status = solver.solve(rm.m)
    core: list[Enforced] = []
    if status == cp_model.INFEASIBLE:
        by_index = {e.lit.index: e for e in lits}
        core = [by_index[i] for i in solver.sufficient_assumptions_for_infeasibility() if i in by_index]
    return status, core


def minimal_core(prob: RosterProblem, hook=None) -> list[Enforced] | None:
    """A minimal conflicting set of rule instances and facts, or None when the part is feasible.

    `hook` is the re-planning hook (replan.py), whose pinned past takes part as facts."""
    rm = RosterModel(prob, "explain").build(objective=False)
    if hook:
        hook(rm)
    status, core = _check(rm, rm.enforced)
    if status == cp_model.UNKNOWN:
        # Assumptions are decided during the search, so presolve and the LP never see the rules they
        # guard: counting conflicts (more patrol-days wanted than the working-days rule allows) then
        # stay undecided.  Fix the rules instead, whole rules first, then the instances of those left.
        return _fixed_core(rm)
    if status != cp_model.INFEASIBLE:
        return None
    if not core:
        core = list(rm.enforced)
    # Shrink by removal: drop an item whenever the rest still conflicts.  Within a budget: a check
    # that cannot decide takes STEP_LIMIT, and a counting conflict of many instances (62 shift
    # minimums against 10 people's hours) took 20 s for each of its 72 items, 24 minutes in all.
    import time
    deadline = time.monotonic() + SHRINK_BUDGET
    i = 0
    while i < len(core):
        left = deadline - time.monotonic()
        if left <= 0:
            return Unshrunk(core)
        trial = core[:i] + core[i + 1:]
        st, smaller = _check(rm, trial, min(STEP_LIMIT, left))
        if st == cp_model.INFEASIBLE:
            keep = {id(e) for e in smaller} if smaller else {id(e) for e in trial}
            core = [e for e in trial if id(e) in keep]
        else:
            i += 1
    return core


FIXED_STEP = 10.0        # seconds for each check of _fixed_core
FIXED_BUDGET = 60.0      # seconds for shrinking the instances of _fixed_core's rules


def _holds(rm: RosterModel, on: list[Enforced], limit: float = FIXED_STEP) -> int:
    """The status of the model with the rule instances `on` enforced (their literals fixed to true,
    the others free, so that presolve and the LP see the enforced ones)."""
    clone = cp_model.CpModel()
    clone.proto.copy_from(rm.m.proto)
    clone.clear_assumptions()
    for e in on:
        dom = clone.proto.variables[e.lit.index].domain
        dom[0] = dom[1] = 1
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 2
    solver.parameters.max_time_in_seconds = limit
    solver.parameters.random_seed = rm.p.seed
    return solver.solve(clone)


def _fixed_core(rm: RosterModel) -> list[Enforced] | list:
    """A conflicting set found by fixing rule instances: rules (and kinds of fact) removed one by one
    while the rest still conflicts, then, within the time budget, the instances of the rules left
    removed in ever smaller chunks.  UNDECIDED when even all of them together are not proved
    impossible in time."""
    import time
    groups: dict[str, list[Enforced]] = {}
    for e in rm.enforced:
        groups.setdefault(e.rule, []).append(e)
    if _holds(rm, rm.enforced) != cp_model.INFEASIBLE:
        return UNDECIDED
    names = list(groups)
    for g in list(names):
        trial = [e for h in names if h != g for e in groups[h]]
        if _holds(rm, trial) == cp_model.INFEASIBLE:
            names.remove(g)
    core = [e for g in names for e in groups[g]]
    deadline = time.monotonic() + FIXED_BUDGET
    chunk = max(1, len(core) // 2)
    while time.monotonic() < deadline:
        i = 0
        while i < len(core) and time.monotonic() < deadline:
            trial = core[:i] + core[i + chunk:]
            left = max(0.5, min(FIXED_STEP, deadline - time.monotonic()))
            if trial and _holds(rm, trial, left) == cp_model.INFEASIBLE:
                core = trial
            else:
                i += chunk
        if chunk == 1:
            break
        chunk //= 2
    return core


def explain(prob: RosterProblem, hook=None) -> list[str]:
    """Chinese lines naming the conflicting rules and facts."""
    core = minimal_core(prob, hook)
    if core is UNDECIDED:
        return [f"（在 {STEP_LIMIT:g} 秒的检查时限内未能找出冲突的规则；冲突往往涉及许多人和许多天，"
                "请逐条放宽可能冲突的规则试排）"]
    if core is None:
        return ["（单独检查时可以排出：冲突可能来自求解时限，请加大求解时限再试）"]
    if not core:
        # Nothing we can name: the data contradicts itself outside every rule instance.
        return ["（冲突不在任何一条可列出的规则或请假中，请把问题目录报告给开发者）"]
    if isinstance(core, Unshrunk):
        return describe(prob, core) + [f"（{SHRINK_BUDGET:g} 秒内未能确认以上每一条都不可缺少：其中一些去掉后可能仍然冲突）"]
    return describe(prob, core)


def describe(prob: RosterProblem, core: list[Enforced]) -> list[str]:
    lines: list[str] = []
    leaves = [e for e in core if e.rule == "leave"]
    plain: dict[str, list[int]] = {}
    for e in core:
        if e.rule == "grid_cover":
            g, d = e.key
            sentence = _cover_sentence(prob, g, d, leaves)
            if sentence:
                lines.append(sentence)
            else:
                plain.setdefault(g, []).append(d)
    # Many days of one grid read better as one line.
    for g, days in plain.items():
        lines.append(_cover_days(prob, g, sorted(days)))
    # Shift cover on many days, alike but for the date, reads better as one line too: a squad's
    # shift, and a shift's minimum of a roster by shift (62 lines for three shifts over three weeks).
    shift_days: dict[tuple, list[int]] = {}
    for e in core:
        if e.rule in DATED:
            shift_days.setdefault(_undated(prob, e), []).append(DATED[e.rule](e.key))
    for e in core:
        if e.rule == "leave":
            lines.append(f"事实「请假」：{e.text}")
        elif e.rule == "published":
            lines.append(f"事实「已发布排班」：{e.text}")
        elif e.rule in DATED:
            key = _undated(prob, e)
            days = shift_days.pop(key, None)
            if days:
                when = "、".join(prob.cal.label(d) for d in sorted(days))
                when += f"（共 {len(days)} 天）" if len(days) > 1 else ""
                lines.append(f"规则「{CATALOG[e.rule].label}」：" + key[1].replace("{}", when, 1))
                lines += [f"事实：{f}" for f in e.facts]
        elif e.rule != "grid_cover":
            lines.append(f"规则「{CATALOG[e.rule].label}」：{e.text}")
            lines += [f"事实：{f}" for f in e.facts]
    return lines


# Rules whose instances are one a day (and shift): the day of an instance's key.
DATED = {"shift_cover": lambda key: key[1], "shift_min_cover": lambda key: key[0]}


def _undated(prob: RosterProblem, e: Enforced) -> tuple:
    """An instance of a DATED rule with its date left out ({} in its text), to join it with its like."""
    label = prob.cal.label(DATED[e.rule](e.key))
    if e.text.startswith(label + " "):
        text = "{}" + e.text[len(label):]
    else:
        text = e.text.replace(f" {label} ", " {} ", 1)
    return e.rule, text, tuple(e.facts)


def _cover_days(prob: RosterProblem, g: str, days: list[int]) -> str:
    from .constraints import _rank_name
    grid = prob.grids[g]
    rm = RosterModel(prob)
    rm.add_variables()
    who = "、".join(f"{_rank_name(r, len(grid.backups))} {prob.people[c].name}" for c, r in rm.candidates[g])
    need = sorted({rm.k(g, d) for d in days})
    when = "、".join(prob.cal.label(d) for d in days)
    if len(days) > 1:
        when += f"（共 {len(days)} 天） 每天"
    else:
        when += " "
    return (f"规则「{CATALOG['grid_cover'].label}」：网格 {g} 在 {when}需要巡查 "
            f"{'/'.join(map(str, need))} 次，可巡查的只有：{who}")


def _cover_sentence(prob: RosterProblem, g: str, d: int, leaves: list[Enforced]) -> str | None:
    """'网格 3-07 在 10月12日 需要巡查 1 次，但本人、B岗、C岗 均在请假' when leave explains it all."""
    from .constraints import _rank_name
    grid = prob.grids[g]
    rm = RosterModel(prob)
    people = [grid.worker] + grid.backups
    off = {prob.leaves[e.key[1]].person for e in leaves if d in prob.leaves[e.key[1]].days(prob.cal)}
    if not all(p in off for p in people):
        return None
    who = "、".join(_rank_name(i, len(grid.backups)) for i in range(len(people)))
    names = "、".join(prob.people[p].name for p in people)
    return (f"规则「{CATALOG['grid_cover'].label}」：网格 {g} 在 {prob.cal.label(d)} 需要巡查 {rm.k(g, d)} 次，"
            f"但{who}（{names}）均在请假")
