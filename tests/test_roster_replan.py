"""Minimal-change re-planning: a worker sick for five days changes only assignments near them."""
from __future__ import annotations

import json

from engine.roster.model import load_problem
from engine.roster.output import to_json
from engine.roster.replan import changes, clip_leave, hook_for, load_published
from engine.roster.solve import solve

from roster_build import ring, write_problem
from roster_checker import violations


def test_five_sick_days_change_only_the_neighbourhood(tmp_path):
    grids, staff = ring(10)
    first = write_problem(tmp_path / "v1", grids=grids, staff=staff)
    # Deterministic search: the same rosters on every run, so this test cannot pass or fail by luck.
    ro = solve(load_problem(first), time_limit=5, deterministic=True)
    (tmp_path / "pub").mkdir()
    (tmp_path / "pub" / "roster.json").write_text(json.dumps(to_json(ro, []), ensure_ascii=False), encoding="utf-8")

    # W5 falls sick 10月15日–19日; days before the 15th are already worked and stay as published.
    second = write_problem(tmp_path / "v2", grids=grids, staff=staff, leave=[["W5", "2026-10-15", "2026-10-19", "病假"]])
    prob = load_problem(second)
    pub = load_published(tmp_path / "pub", prob)
    from_day = 14
    prob = clip_leave(prob, from_day)
    new = solve(prob, time_limit=5, hook_for=hook_for(pub, from_day), deterministic=True)
    assert violations(new) == []

    assert all(new.duty.get(k) == v for k, v in pub.duty.items() if k[1] < from_day)
    assert all(new.patrol[k] == v for k, v in pub.patrol.items() if k[1] < from_day)
    rows = changes(prob, pub, new, from_day)[1:]
    # Near W5: their grid G5, the grids they back up (G4, G6), and the people who can cover those.
    near_grids = {"G4", "G5", "G6"}
    near_people = {prob.people[p].name for p in ("W3", "W4", "W5", "W6", "W7")}
    assert rows, "the sick days must change something"
    for kind, what, day, before, after in rows:
        assert (kind == "网格巡查" and what in near_grids) or (kind == "人员排班" and what in near_people), rows
    # W5 was on duty on some of the five days; each such day changes at most W5's day, G5 and one cover's day.
    assert len(rows) <= 15


def test_deterministic_search_gives_the_same_roster_twice(tmp_path):
    grids, staff = ring(6)
    f = write_problem(tmp_path, grids=grids, staff=staff, rules={"fair_weekends": {"weight": 10}},
                      leave=[["W2", "2026-10-08", "2026-10-09", "病假"]])
    a = solve(load_problem(f), time_limit=1, deterministic=True)
    b = solve(load_problem(f), time_limit=1, deterministic=True)
    assert (a.duty, a.patrol, a.objective) == (b.duty, b.patrol, b.objective)
