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


# -- a published roster that does not fit, and a past that conflicts ------------------------

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from engine.errors import DataError, InfeasibleError  # noqa: E402

FIX = Path(__file__).resolve().parent / "fixtures" / "roster"
FITS = "应为 网格 G1 现在的本人、AB岗或相邻网格网格员（10月3日 已过去，不能改动）（已发布排班与现在的 grids.csv 不符）"


@pytest.mark.parametrize("name,expected", [
    # Each of these used to end in a traceback (exit 70).
    ("not-an-object", ["（根）: 发现 '[1, 2, 3]'，应为 wangge roster 写出的 roster.json（一个 JSON 对象）"]),
    ("tables-not-tables", ["duty: 发现 '\"x\"'，应为 对象：编号 → 每天一项的列表",
                           "patrol: 发现 '{\"G1\": 5}'，应为 对象：编号 → 每天一项的列表"]),
    ("visit-without-day", ["visits[0]: 发现 '[\"S1\", \"G1\"]'，应为 [人员编号, 网格编号, 日（0 起）]",
                           "fire.G1: 发现 '[\"10月8日\"]'，应为 日（0 起）的列表"]),
    # The past is pinned: a patroller who can no longer patrol the grid there made the re-plan
    # infeasible with a useless explanation; later days just count as changes.
    ("past-not-fitting-the-problem", ["duty.W1[1]: 发现 'night'，应为 班次之一：duty",
                                      "duty.ZZ: 发现 'ZZ'，应为 problem 中已有的人员或班组",
                                      f"patrol.G1[2]: 发现 'W9'，{FITS}"]),
])
def test_published_roster_that_does_not_fit_gives_located_errors(name, expected):
    f = FIX / "published-rosters" / f"{name}.json"
    with pytest.raises(DataError) as exc:
        load_published(f, load_problem(FIX / "valid"), 14)
    assert [str(p) for p in exc.value.problems] == [f"{f} {m}" for m in expected]


def _pinned_past(tmp_path, leave):
    grids = [["G1", "C1", "否", "W1", "W2", "", ""]]
    staff = [["W1", "甲", "网格员", "鹤山镇", "C1", ""], ["W2", "乙", "协管员", "鹤山镇", "C1", ""]]
    rules = {"fire_check": False, "publicity_day": False, "max_consecutive_work": False}
    prob = load_problem(write_problem(tmp_path, grids=grids, staff=staff, rules=rules, leave=leave))
    # Published: 甲 patrolled G1 on 10月1日–6日.
    pub = {"month": "2026-10", "duty": {"W1": ["duty"] * 6}, "patrol": {"G1": ["W1"] * 6}}
    (tmp_path / "roster.json").write_text(json.dumps(pub), encoding="utf-8")
    pub = load_published(tmp_path / "roster.json", prob, 6)
    return clip_leave(prob, 6), hook_for(pub, 6)


def test_conflict_with_the_pinned_past_is_explained_as_a_fact(tmp_path):
    # 乙 is sick from 10月7日: 甲 would work a seventh day in a row.  The explanation used to say
    # the month was feasible and to raise the time limit.
    prob, hook = _pinned_past(tmp_path, [["W2", "2026-10-07", "2026-10-10", "病假"]])
    with pytest.raises(InfeasibleError) as exc:
        solve(prob, time_limit=3, hook_for=hook)
    assert exc.value.explanation == [
        "【鹤山镇】已证明无可行排班，冲突的规则和事实：",
        "  规则「网格每日巡查」：网格 G1 在 10月7日 需要巡查 1 次，可巡查的只有：本人 甲、B岗 乙",
        "  事实「请假」：乙 10月7日至10月10日病假",
        "  规则「每7天至少休息1天」：甲 每 7 天至少休息 1 天",
        "  事实「已发布排班」：甲 10月7日 之前的已发布排班不变（10月1日至10月6日：班 班 班 班 班 班）",
    ]


def test_pinned_past_without_conflict_replans(tmp_path):
    prob, hook = _pinned_past(tmp_path, [["W2", "2026-10-08", "2026-10-10", "病假"]])
    ro = solve(prob, time_limit=3, hook_for=hook)
    assert violations(ro) == [] and not ro.duty.get(("W1", 6)) and ro.patrol["G1", 6] == "W2"
