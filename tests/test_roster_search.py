"""The search behind the roster: phase 1's staggered hint, the lanes of towns, neighbourhood search."""
from __future__ import annotations

import importlib
import itertools
import os
import random
from pathlib import Path

import pytest

from engine.roster.constraints import RosterModel
from engine.roster.greedy import _cheapest_days_off, duty_hint
from engine.roster.model import load_problem
from engine.roster.solve import _lanes, first_roster, solve, solve_part

from roster_build import ring, write_problem
from roster_checker import violations


def _runs_ok(off: set[int], n: int, run: int) -> bool:
    on = 0
    for d in range(n):
        on = 0 if d in off else on + 1
        if on > run:
            return False
    return True


def test_cheapest_days_off_is_the_cheapest_pattern_within_the_rules():
    rng = random.Random(5)
    for _ in range(40):
        n, run, least = 9, rng.randint(2, 4), rng.randint(1, 4)
        price = [rng.randint(1, 9) for _ in range(n)]
        fixed = set(rng.sample(range(n), rng.randint(0, 2)))
        forced_on = set(rng.sample(sorted(set(range(n)) - fixed), 1))
        best = None
        for k in range(n + 1):
            for days in itertools.combinations(range(n), k):
                off = set(days)
                if not fixed <= off or off & forced_on or len(off) < least or not _runs_ok(off, n, run):
                    continue
                cost = sum(price[d] for d in off - fixed)
                best = cost if best is None else min(best, cost)
        got = _cheapest_days_off(price, fixed, forced_on, run, least)
        if best is None:
            continue
        assert fixed <= got and not got & forced_on and len(got) >= least and _runs_ok(got, n, run)
        assert sum(price[d] for d in got - fixed) == best


def test_cheapest_days_off_with_a_most_and_savings_is_the_cheapest_pattern_within_the_rules():
    # working_days gives at most so many days off too, and a day off on a rest day saves its duty
    # (a negative price); both against every pattern of a short period, worked out by enumeration.
    rng = random.Random(11)
    checked = 0
    for _ in range(60):
        n, run = 10, rng.randint(2, 5)
        least = rng.randint(0, 4)
        most = rng.choice([None, least + rng.randint(0, 3)])
        price = [rng.randint(-4, 9) for _ in range(n)]
        fixed = set(rng.sample(range(n), rng.randint(0, 2)))
        forced_on = set(rng.sample(sorted(set(range(n)) - fixed), rng.randint(0, 1)))
        best = None
        for k in range(n + 1):
            for days in itertools.combinations(range(n), k):
                off = set(days)
                if not fixed <= off or off & forced_on - fixed or len(off) < least or \
                        (most is not None and len(off) > most) or not _runs_ok(off, n, run):
                    continue
                cost = sum(price[d] for d in off - fixed)
                best = cost if best is None else min(best, cost)
        got = _cheapest_days_off(price, fixed, forced_on, run, least, most)
        if best is None:
            assert got == fixed
            continue
        checked += 1
        assert fixed <= got and not got & forced_on and len(got) >= least and _runs_ok(got, n, run)
        assert most is None or len(got) <= most
        assert sum(price[d] for d in got - fixed) == best
    assert checked > 30


def test_hint_keeps_each_b_post_on_duty_when_the_worker_is_off(tmp_path):
    grids, staff = ring(10)
    prob = load_problem(write_problem(tmp_path / "p", grids=grids, staff=staff, rules={"total_days": {"max": 26}}))
    rm = RosterModel(prob).build(objective=False)
    on = {(v.index): val for v, val in duty_hint(rm)}
    off = {pid: {d for d in range(rm.n) if not on[rm.work[pid, d].index]} for pid in prob.people}
    for g, grid in prob.grids.items():
        assert len(off[grid.worker]) >= 5 and _runs_ok(off[grid.worker], rm.n, 6)
        assert prob.cal.first_working_monday not in off[grid.worker]          # 消防宣传日
        assert not off[grid.worker] & off[grid.backups[0]], g         # the B岗 covers every day off


def test_lanes_put_the_largest_parts_first_on_the_lighter_lane():
    lanes = _lanes([0, 1, 2, 3, 4], [3, 9, 4, 5, 3], 2)
    assert sorted(i for lane in lanes for i, _ in lane) == [0, 1, 2, 3, 4]
    assert [[i for i, _ in lane] for lane in lanes] == [[1, 0], [3, 2, 4]]
    assert _lanes([], [], 2) == [[]]


def _ring_problem(tmp_path, n):
    grids, staff = ring(n)
    # Fairness on, so that there is something to improve.
    rules = {"fair_weekends": {"weight": 10}, "fair_backup": {"weight": 5}, "total_days": {"max": 26}}
    return load_problem(write_problem(tmp_path / f"ring{n}", grids=grids, staff=staff, rules=rules))


def test_neighbourhood_search_never_makes_the_roster_worse(tmp_path):
    prob = _ring_problem(tmp_path, 24)
    town = prob.towns[0]
    priced, _, _ = solve_part(prob, town, 5, first=first_roster(prob, 5), price_only=True)
    searched, rm, solver = solve_part(prob, town, 4, first=first_roster(prob, 5))
    assert searched.objective <= priced.objective
    assert searched.bound is None or searched.bound <= searched.objective


def test_a_neighbourhood_that_frees_everything_proves_the_roster_optimal(tmp_path):
    # Below FULL_SEARCH_FROM seconds no full search runs: OPTIMAL can only come from the neighbourhood search.
    ro = solve(_ring_problem(tmp_path, 4), time_limit=20)
    assert [p.status for p in ro.parts] == ["OPTIMAL"]
    assert ro.bound == ro.objective
    assert violations(ro) == []


def test_searched_roster_meets_every_hard_rule(tmp_path):
    ro = solve(_ring_problem(tmp_path, 24), time_limit=4)
    assert violations(ro) == []


VALID = Path(__file__).resolve().parent / "fixtures" / "roster" / "valid"        # two towns
solve_module = importlib.import_module("engine.roster.solve")   # (engine.roster.solve is also the function)


def _no_threads(*args, **kwargs):
    raise AssertionError("the lanes ran as threads, not as processes")


def test_lanes_in_processes_give_the_roster_of_lanes_in_threads(monkeypatch):
    # The same deterministic solve three ways: lanes as threads, as forks (no other thread in the
    # process), as children of a fork server (another thread alive: a web worker's heartbeat, the
    # CLI's progress display).  Every part, decision and penalty is the same.
    prob = load_problem(VALID)
    got = {}
    for how, threads in (("threads", 1), ("fork", 1), ("forkserver", 2)):
        with monkeypatch.context() as mp:
            mp.setattr(solve_module, "PROCESSES", how != "threads")
            mp.setattr(solve_module.threading, "active_count", lambda n=threads: n)
            if how != "threads":
                mp.setattr(solve_module, "_in_threads", _no_threads)
            events = []
            ro = solve(prob, time_limit=2, deterministic=True, progress=events.append)
        got[how] = (ro.duty, ro.patrol, ro.visits, ro.fire, [(p.town, p.status, p.objective) for p in ro.parts])
        assert [e.phase for e in events].count("done") == 2 and events[-1].best == ro.objective, how
        assert ro.first_valid_seconds > 0 and not violations(ro), how
    assert got["fork"] == got["threads"] and got["forkserver"] == got["threads"]


def test_a_lane_process_that_fails_raises_its_error_here(monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("phase 1 broke")

    monkeypatch.setattr(solve_module.threading, "active_count", lambda: 1)      # a fork: the patch is inherited
    monkeypatch.setattr(solve_module, "first_roster", broken)
    with pytest.raises(ValueError, match="phase 1 broke"):
        solve(load_problem(VALID), time_limit=2)


def test_a_lane_process_that_dies_is_an_internal_error(monkeypatch):
    monkeypatch.setattr(solve_module.threading, "active_count", lambda: 1)
    monkeypatch.setattr(solve_module, "first_roster", lambda *a, **k: os._exit(3))
    with pytest.raises(RuntimeError, match="求解排班的子进程意外退出"):
        solve(load_problem(VALID), time_limit=2)
