"""Working-time rules of issue 13, each with a binding and a non-binding instance on tiny towns.

October 2026: 18 official working days (10月10日 a working Saturday), 13 rest days of which 7
holidays.  Three grids in a ring, at most two grids a person on a working day, need at least two
patrollers a day; every roster is verified by the independent oracle (tests/roster_checker.py).
"""
from __future__ import annotations

import pytest
from ortools.sat.python import cp_model

from engine.errors import InfeasibleError
from engine.roster.check import check_roster
from engine.roster.constraints import RosterModel
from engine.roster.model import TEAM, load_problem
from engine.roster.solve import Roster, solve

from roster_build import ring, write_problem
from roster_checker import violations
from test_roster_rules import rule_lines

OCT = lambda day: day - 1  # noqa: E731
REST = [d for d in range(31) if d + 1 in (1, 2, 3, 4, 5, 6, 7, 11, 17, 18, 24, 25, 31)]


def solved(folder, **kw):
    ro = solve(load_problem(folder), time_limit=kw.pop("time_limit", 8), **kw)
    assert violations(ro) == [], violations(ro)
    assert all(c.ok for c in check_roster(ro))
    return ro


def infeasible(folder) -> str:
    with pytest.raises(InfeasibleError) as exc:
        solve(load_problem(folder), time_limit=8)
    return "\n".join(exc.value.explanation)


def days(ro, w):
    return sum(1 for d in range(31) if (w, d) in ro.duty)


# -- working_days -----------------------------------------------------------------------------

def _three(tmp_path, rules, leave=()):
    grids, staff = ring(3)
    return write_problem(tmp_path, grids=grids, staff=staff, leave=leave,
                         rules={"publicity_day": False, "fire_check": False, **rules})


def _lonely(tmp_path, extra):
    # One grid nobody else may patrol: its worker is on duty all 31 days.
    grids = [["G1", "C1", "否", "W1", "", "", ""]]
    staff = [["W1", "甲", "网格员", "鹤山镇", "C1", ""]]
    return write_problem(tmp_path, grids=grids, staff=staff,
                         rules={"publicity_day": False, "rest_in_window": False, "max_consecutive_work": False,
                                "working_days": {"extra_days": extra}})


def test_working_days_bind_when_the_grid_needs_more_than_official_days_plus_paid_duty(tmp_path):
    text = infeasible(_lonely(tmp_path, 12))
    assert rule_lines(text) == {"网格每日巡查", "按法定工作日排班"}
    assert "甲 本月法定工作日 18 天，应工作 18～30 天（休息日值班超出 12 天的须补休）" in text


def test_working_days_with_thirteen_paid_days_fit(tmp_path):
    ro = solved(_lonely(tmp_path, 13))
    assert days(ro, "W1") == 31
    assert ro.breakdown()["working_days"] == 13 * 5      # each paid day costs extra_weight: 补休 comes first


def test_working_days_with_three_paid_days_fit(tmp_path):
    # 3 × 21 = 63 ≥ 62: everyone works 20 or 21 days.
    ro = solved(_three(tmp_path, {"working_days": {"extra_days": 3}}))
    assert sorted(days(ro, f"W{i}") for i in (1, 2, 3)) in ([20, 21, 21], [21, 21, 21])


def test_a_duty_worker_covering_three_grids_on_rest_days_fits_the_official_days(tmp_path):
    # On rest days one worker may patrol all three grids: 13 + 18 × 2 = 49 person-days ≤ 3 × 18.
    ro = solved(_three(tmp_path, {"working_days": {"extra_days": 0},
                                  "max_grids_per_day": {"rest_day_grids": 3, "rest_day_rounds": 6}}))
    assert [days(ro, f"W{i}") for i in (1, 2, 3)] == [18, 18, 18]
    # Every day of duty on a rest day was given back as 补休 on a working day.
    for w in ("W1", "W2", "W3"):
        rest = sum(1 for d in REST if (w, d) in ro.duty)
        comp = sum(1 for d in range(31) if d not in REST and (w, d) not in ro.duty)
        assert rest == comp


def test_leave_on_working_days_lowers_the_official_days(tmp_path):
    # 10月12日–16日 (five working days) of leave: W1 has 13 official days left, and works exactly that.
    f = _three(tmp_path, {"working_days": {"extra_days": 0},
                          "max_grids_per_day": {"rest_day_grids": 3, "rest_day_rounds": 6}},
               leave=[["W1", "2026-10-12", "2026-10-16", "年休假"]])
    ro = solved(f)
    assert days(ro, "W1") == 13


def _all_off(tmp_path, below):
    # W1 asks for every day off; three others can cover four grids (23 days each at most).
    grids, staff = ring(4)
    rules = {"working_days": {"extra_days": 5, "below": below},
             "max_grids_per_day": {"rest_day_grids": 3, "rest_day_rounds": 6}}
    reqs = [["W1", f"2026-10-{d:02d}", "休息", 20] for d in range(1, 32)]
    return write_problem(tmp_path, grids=grids, staff=staff, requests=reqs,
                         rules={"publicity_day": False, "fire_check": False, **rules})


def test_below_none_lets_a_worker_work_fewer_days_than_the_official_ones(tmp_path):
    ro = solved(_all_off(tmp_path, None))
    assert days(ro, "W1") == 0 and ro.breakdown().get("requests", 0) == 0


def test_below_zero_keeps_every_worker_to_the_official_days(tmp_path):
    ro = solved(_all_off(tmp_path, 0))
    assert days(ro, "W1") == 18 and ro.breakdown()["requests"] == 18 * 20


# -- duty_cover and rest_day_duty -------------------------------------------------------------

def _four(tmp_path, rules):
    grids, staff = ring(4)
    return write_problem(tmp_path, grids=grids, staff=staff,
                         rules={"publicity_day": False, "fire_check": False,
                                "max_grids_per_day": {"rest_day_grids": 3, "rest_day_rounds": 6}, **rules})


def test_rest_day_duty_keeps_rest_day_duty_to_what_cover_needs(tmp_path):
    without = solved(_four(tmp_path / "a", {}))
    priced = solved(_four(tmp_path / "b", {"rest_day_duty": {"weight": 4, "holiday_weight": 8}}))
    count = lambda ro: sum(1 for w in ("W1", "W2", "W3", "W4") for d in REST if (w, d) in ro.duty)  # noqa: E731
    # Four grids, three a person on rest days: two on duty each rest day is the least.
    assert count(priced) == 2 * len(REST) < count(without)


def test_duty_cover_puts_three_on_every_rest_day(tmp_path):
    ro = solved(_four(tmp_path, {"rest_day_duty": {"weight": 4}, "duty_cover": {"per_community": 3}}))
    assert all(sum(1 for w in ("W1", "W2", "W3", "W4") if (w, d) in ro.duty) >= 3 for d in REST)


def test_duty_cover_binds_beyond_the_people_there_are(tmp_path):
    text = infeasible(_four(tmp_path, {"duty_cover": {"per_community": 5}}))
    assert rule_lines(text) == {"休息日值班最低人数"}
    assert "和平社区 10月1日（休息日）至少 5 名网格员值班" in text


# -- fairness limits --------------------------------------------------------------------------

def _capped(tmp_path, spread):
    # 网格员1 works 10 days at most (own contract); the two grids need someone every day.
    grids, staff = ring(2)
    staff[0].append(10)
    return write_problem(tmp_path, grids=grids, staff=staff, staff_columns=["最多工作天数"],
                         rules={"publicity_day": False, "fair_days": {"weight": 1, "max_spread": spread}})


def test_fair_days_spread_binds_against_a_persons_own_limit(tmp_path):
    # A spread of 2 keeps 网格员2 to 12 days: 22 < 31.
    text = infeasible(_capped(tmp_path, 2))
    assert rule_lines(text) == {"网格每日巡查", "工作天数均衡", "月工作天数上下限"}
    assert "鹤山镇 工作天数均衡：最多与最少相差不超过 2" in text
    assert "网格员1 本月最多工作 10 天" in text


def test_fair_days_wide_spread_fits(tmp_path):
    ro = solved(_capped(tmp_path, 21))
    assert days(ro, "W1") <= 10 and days(ro, "W1") + days(ro, "W2") >= 31


def test_fair_days_spread_one_fits(tmp_path):
    ro = solved(_three(tmp_path, {"working_days": {"extra_days": 3}, "fair_days": {"weight": 1, "max_spread": 1}}))
    worked = [days(ro, f"W{i}") for i in (1, 2, 3)]
    assert max(worked) - min(worked) <= 1


def test_fair_holidays_spread_holds_for_the_holiday_duty(tmp_path):
    ro = solved(_four(tmp_path, {"rest_day_duty": {"weight": 4}, "fair_holidays": {"weight": 1, "max_spread": 0}}))
    hol = [d for d in range(7)]
    counts = {sum(1 for d in hol if (w, d) in ro.duty) for w in ("W1", "W2", "W3", "W4")}
    assert len(counts) == 1


# -- teams: leave of the whole team, total_days less leave ------------------------------------

def _teams_of_one(tmp_path, rules, leave, teams=3):
    grids, staff = ring(3)
    for t in range(1, teams + 1):
        staff.append([f"Q{t}", f"队员{t}", "巡防队员", "鹤山镇", "", f"T{t}"])
    base = {"shift_cover": {"shifts": {"day": {"min_teams": 1, "min_strength": 0},
                                       "night": {"min_teams": 1, "min_strength": 0}}},
            "rest_in_window": {"applies_to": ["grid_worker"]}, "max_consecutive_work": {"applies_to": ["grid_worker"]},
            "forbidden_succession": False}
    return write_problem(tmp_path, grids=grids, staff=staff, leave=leave, rules={**base, **rules})


def test_a_team_of_one_on_leave_is_never_on_a_shift(tmp_path):
    # With a minimum strength of 0, the old model let team T1 take a shift while its one member was away.
    prob = load_problem(_teams_of_one(tmp_path, {}, [["Q1", "2026-10-12", "2026-10-14", "病假"]]))
    rm = RosterModel(prob).build(objective=False)
    rm.m.add(rm.work[TEAM + "T1", OCT(13)] == 1)
    solver = cp_model.CpSolver()
    assert solver.solve(rm.m) == cp_model.INFEASIBLE
    ro = solve(prob, time_limit=5)
    assert all((TEAM + "T1", OCT(d)) not in ro.duty for d in (12, 13, 14))


def test_the_coverage_check_rejects_a_team_on_duty_while_all_its_members_are_away(tmp_path):
    prob = load_problem(_teams_of_one(tmp_path, {}, [["Q1", "2026-10-12", "2026-10-14", "病假"]]))
    ro = Roster(prob, duty={(TEAM + "T1", OCT(13)): "day"})
    leave = next(c for c in check_roster(ro) if c.rule == "leave")
    assert leave.violations == ["班组T1 10月13日 全体队员请假却被排班"]


def test_total_days_minimum_of_a_team_is_lowered_by_its_days_away(tmp_path):
    # 27 days at least, less the team's three days away: 24.  The old model asked 27 of T1, which
    # three days away and a day off in every seven leave no room for (25 at the most).
    f = _teams_of_one(tmp_path, {"total_days": {"min": 27, "applies_to": ["squad"]},
                                 "rest_in_window": {"applies_to": ["grid_worker", "squad"]},
                                 "max_consecutive_work": False},
                      [["Q1", "2026-10-12", "2026-10-14", "病假"]], teams=4)
    ro = solved(f)
    assert days(ro, TEAM + "T1") >= 24
