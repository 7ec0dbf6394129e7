"""One test pair per duty rule: a tiny instance where the rule binds and one where it does not.

Binding instances are built so that the rule itself is what makes the roster impossible (the
explanation must name it) or what changes the roster; every roster that is produced is
verified by the independent checker in tests/roster_checker.py.  Day index d is 10月(d+1)日.
"""
from __future__ import annotations

import pytest

from engine.errors import InfeasibleError
from engine.roster.model import load_problem
from engine.roster.solve import solve

from roster_build import ring, write_problem
from roster_checker import violations

OCT = lambda day: day - 1  # noqa: E731  (10月day日 -> day index)


def solved(folder, **kw):
    ro = solve(load_problem(folder), time_limit=kw.pop("time_limit", 5), **kw)
    assert violations(ro) == []
    return ro


def infeasible(folder) -> str:
    with pytest.raises(InfeasibleError) as exc:
        solve(load_problem(folder), time_limit=5)
    return "\n".join(exc.value.explanation)


def rule_lines(text: str) -> set[str]:
    """The rule labels named in an explanation (「...」 after 规则)."""
    import re
    return set(re.findall(r"规则「([^」]+)」", text)) | ({"请假"} if "事实「请假」" in text else set())


# -- grid_cover -----------------------------------------------------------------------------

def test_grid_cover_binds_when_worker_and_both_backups_on_leave(tmp_path):
    grids, staff = ring(4)
    f = write_problem(tmp_path, grids=grids, staff=staff, rules={"joint_patrol": {"allowed": False}},
                      leave=[["W1", "2026-10-12", "2026-10-12", "病假"], ["W2", "2026-10-12", "2026-10-12", "事假"],
                             ["W4", "2026-10-12", "2026-10-12", "事假"]])
    text = infeasible(f)
    assert rule_lines(text) == {"网格每日巡查", "请假"}
    assert "网格 G1 在 10月12日 需要巡查 1 次，但本人、B岗、C岗（网格员1、网格员2、网格员4）均在请假" in text


def test_grid_cover_backup_steps_in_when_only_worker_on_leave(tmp_path):
    grids, staff = ring(4)
    f = write_problem(tmp_path, grids=grids, staff=staff, leave=[["W1", "2026-10-12", "2026-10-12", "病假"]])
    ro = solved(f)
    assert ro.patrol["G1", OCT(12)] in {"W2", "W4"}


# -- own_grid_first -------------------------------------------------------------------------

def _own_first(tmp_path, enabled):
    # G2 has only W1 as backup; with one grid a day, W1 must leave G1 to W3 whenever W2 rests.
    grids = [["G1", "C1", "否", "W1", "W2;W3", "", ""], ["G2", "C1", "否", "W2", "W1", "", ""]]
    staff = [["W1", "甲", "网格员", "鹤山镇", "C1", ""], ["W2", "乙", "网格员", "鹤山镇", "C1", ""],
             ["W3", "丙", "协管员", "鹤山镇", "C1", ""]]
    return write_problem(tmp_path, grids=grids, staff=staff,
                         rules={"max_grids_per_day": {"grids": 1}, "own_grid_first": {"enabled": enabled},
                                "joint_patrol": {"allowed": False}})


def test_own_grid_first_binds(tmp_path):
    assert "本人在岗须巡本格" in rule_lines(infeasible(_own_first(tmp_path, True)))


def test_own_grid_first_off_lets_worker_cover_elsewhere(tmp_path):
    ro = solved(_own_first(tmp_path, False))
    assert any(ro.patrol["G2", d] == "W1" and ro.patrol["G1", d] == "W3" for d in range(31))


# -- max_grids_per_day ----------------------------------------------------------------------

def test_max_grids_binds_when_one_person_left_for_three_grids(tmp_path):
    grids, staff = ring(3)
    leave = [["W1", "2026-10-20", "2026-10-20", "病假"], ["W2", "2026-10-20", "2026-10-20", "病假"]]
    f = write_problem(tmp_path, grids=grids, staff=staff, leave=leave)
    assert "每人每日巡查上限" in rule_lines(infeasible(f))


def test_max_grids_allows_three_grids_when_cap_is_three(tmp_path):
    grids, staff = ring(3)
    leave = [["W1", "2026-10-20", "2026-10-20", "病假"], ["W2", "2026-10-20", "2026-10-20", "病假"]]
    f = write_problem(tmp_path, grids=grids, staff=staff, leave=leave,
                      rules={"max_grids_per_day": {"grids": 3, "rounds": 6}})
    ro = solved(f)
    assert [ro.patrol[g, OCT(20)] for g in ("G1", "G2", "G3")] == ["W3", "W3", "W3"]


# -- joint_patrol ---------------------------------------------------------------------------

def _two_lonely_grids(tmp_path, allowed):
    grids = [["G1", "C1", "否", "W1", "", "G2", ""], ["G2", "C1", "否", "W2", "", "G1", ""]]
    _, staff = ring(2)
    return write_problem(tmp_path, grids=grids, staff=staff, rules={"joint_patrol": {"allowed": allowed}})


def test_joint_patrol_lets_neighbour_cover(tmp_path):
    ro = solved(_two_lonely_grids(tmp_path, True))
    assert any(ro.patrol["G1", d] == "W2" for d in range(31))


def test_without_joint_patrol_a_grid_without_backups_cannot_rest(tmp_path):
    assert rule_lines(infeasible(_two_lonely_grids(tmp_path, False))) & {"每7天至少休息1天", "最多连续工作天数"}


# -- supervisor_visits and manager_visits ---------------------------------------------------

def _visits(tmp_path, who, leave_end):
    grids, staff = ring(3, supervisor="S1" if who == "S1" else "")
    staff.append([who, "督导", "督导员" if who == "S1" else "网格管理者", "鹤山镇", "", ""])
    comms = [["C1", "和平社区", "鹤山镇", "M1" if who == "M1" else ""]]
    return write_problem(tmp_path, grids=grids, staff=staff, communities=comms,
                         leave=[[who, "2026-10-05", leave_end, "年休假"]])


@pytest.mark.parametrize("who,label", [("S1", "督导员每周督导"), ("M1", "网格管理者每周走访")])
def test_weekly_visit_binds_after_seven_days_of_leave(tmp_path, who, label):
    assert rule_lines(infeasible(_visits(tmp_path, who, "2026-10-11"))) == {label, "请假"}


@pytest.mark.parametrize("who", ["S1", "M1"])
def test_weekly_visit_fits_around_six_days_of_leave(tmp_path, who):
    ro = solved(_visits(tmp_path, who, "2026-10-10"))
    days = sorted({d for w, g, d in ro.visits if w == who and g == "G1"})
    assert all(any(s <= d < s + 7 for d in days) for s in range(25))


# -- rest_in_window and max_consecutive_work ------------------------------------------------

def _lonely(tmp_path, rules):
    grids = [["G1", "C1", "否", "W1", "", "", ""]]
    staff = [["W1", "甲", "网格员", "鹤山镇", "C1", ""]]
    # Without the publicity day the conflict is exactly: cover every day + the rule under test.
    return write_problem(tmp_path, grids=grids, staff=staff, rules={"publicity_day": False, **rules})


def test_rest_in_window_binds_for_a_grid_nobody_else_can_cover(tmp_path):
    f = _lonely(tmp_path, {"max_consecutive_work": False})
    assert rule_lines(infeasible(f)) == {"网格每日巡查", "每7天至少休息1天"}


def test_rest_in_window_off_lets_the_worker_work_every_day(tmp_path):
    ro = solved(_lonely(tmp_path, {"max_consecutive_work": False, "rest_in_window": False}))
    assert all(ro.duty.get(("W1", d)) for d in range(31))


def test_max_consecutive_work_binds(tmp_path):
    f = _lonely(tmp_path, {"rest_in_window": False})
    assert rule_lines(infeasible(f)) == {"网格每日巡查", "最多连续工作天数"}


def test_max_consecutive_work_not_binding_at_31(tmp_path):
    solved(_lonely(tmp_path, {"rest_in_window": False, "max_consecutive_work": {"days": 31}}))


# -- min_consecutive_off --------------------------------------------------------------------

def _single_days_off(tmp_path, days):
    grids, staff = ring(3)
    reqs = [["W1", "2026-10-14", "休息", 5], ["W1", "2026-10-15", "上班", 5], ["W1", "2026-10-16", "休息", 5]]
    return write_problem(tmp_path, grids=grids, staff=staff, requests=reqs,
                         rules={"min_consecutive_off": {"days": days}})


def test_min_consecutive_off_one_day_grants_all_requests(tmp_path):
    ro = solved(_single_days_off(tmp_path, 1))
    assert [bool(ro.duty.get(("W1", OCT(d)))) for d in (14, 15, 16)] == [False, True, False]
    assert ro.breakdown().get("requests", 0) == 0


def test_min_consecutive_off_two_days_breaks_one_request(tmp_path):
    ro = solved(_single_days_off(tmp_path, 2))
    # Off-on-off would leave two single days off; the cheapest fix breaks exactly one request (5).
    assert ro.breakdown()["requests"] == 5


# -- forbidden_succession, shift_cover, fair_nights (teams) ---------------------------------

def _teams(tmp_path, rules, teams=2, size=1, leave=()):
    grids, staff = ring(3)
    for t in range(1, teams + 1):
        for k in range(1, size + 1):
            staff.append([f"Q{t}{k}", f"队员{t}{k}", "巡防队员", "鹤山镇", "", f"T{t}"])
    base = {"shift_cover": {"shifts": {"day": {"min_teams": 1, "min_strength": size},
                                       "night": {"min_teams": 1, "min_strength": size}}},
            "rest_in_window": {"applies_to": ["grid_worker"]}, "max_consecutive_work": {"applies_to": ["grid_worker"]},
            "fair_nights": {"weight": 10}}
    base.update(rules)
    return write_problem(tmp_path, grids=grids, staff=staff, rules=base, leave=leave)


def nights(ro, t):
    return sum(ro.duty.get(("班组:" + t, d)) == "night" for d in range(31))


def test_forbidden_successions_pin_each_team_to_one_shift(tmp_path):
    ro = solved(_teams(tmp_path, {"forbidden_succession": {"pairs": [["night", "day"], ["day", "night"]]}}))
    assert sorted([nights(ro, "T1"), nights(ro, "T2")]) == [0, 31]


def test_without_forbidden_successions_nights_are_shared(tmp_path):
    ro = solved(_teams(tmp_path, {"forbidden_succession": False}))
    assert sorted([nights(ro, "T1"), nights(ro, "T2")]) == [15, 16]


def test_shift_cover_binds_when_teams_are_too_small(tmp_path):
    f = _teams(tmp_path, {"shift_cover": {"shifts": {"day": {"min_teams": 1, "min_strength": 3},
                                                     "night": {"min_teams": 1, "min_strength": 3}}}}, teams=3, size=2)
    assert rule_lines(infeasible(f)) == {"班次最低人数"}


def test_shift_cover_keeps_a_short_team_off_shift(tmp_path):
    # Teams of 3 and a minimum of 3: T1 (one member on leave 10月10日–12日) cannot hold a shift alone
    # then, and a second team on a shift costs more than anything else here.
    ro = solved(_teams(tmp_path, {"shift_cover": {"shifts": {"day": {"min_teams": 1, "min_strength": 3},
                                                               "night": {"min_teams": 1, "min_strength": 3}}},
                                  "shift_cover_excess": {"weight": 100}},
                       teams=3, size=3, leave=[["Q11", "2026-10-10", "2026-10-12", "病假"]]))
    assert [ro.duty.get(("班组:T1", OCT(d))) for d in (10, 11, 12)] == [None, None, None]
    assert [ro.person_shift("Q11", OCT(d)) for d in (10, 11, 12)] == [None, None, None]


# -- department_4plus1 ----------------------------------------------------------------------

def _dept(tmp_path, enabled):
    grids, staff = ring(3)
    staff.append(["D1", "下沉", "下沉干部", "鹤山镇", "C1", ""])
    reqs = [["D1", f"2026-10-{d:02d}", "上班", 1] for d in range(1, 32)]
    return write_problem(tmp_path, grids=grids, staff=staff, requests=reqs,
                         rules={"department_4plus1": {"enabled": enabled},
                                "rest_in_window": {"applies_to": ["grid_worker"]},
                                "max_consecutive_work": {"applies_to": ["grid_worker"]}})


def test_department_4plus1_binds(tmp_path):
    ro = solved(_dept(tmp_path, True))
    # 10月12日–16日 is a Monday–Friday week of working days: exactly four at the street.
    assert sum(bool(ro.duty.get(("D1", OCT(d)))) for d in range(12, 17)) == 4
    assert not ro.duty.get(("D1", OCT(1))) and not ro.duty.get(("D1", OCT(18)))   # holiday and Sunday


def test_department_without_4plus1_follows_requests(tmp_path):
    ro = solved(_dept(tmp_path, False))
    assert all(ro.duty.get(("D1", d)) for d in range(31))


# -- fire_check -----------------------------------------------------------------------------

def test_fire_check_binds_when_worker_away_every_working_day(tmp_path):
    grids, staff = ring(4)
    f = write_problem(tmp_path, grids=grids, staff=staff, leave=[["W1", "2026-10-08", "2026-10-31", "病假"]])
    assert rule_lines(infeasible(f)) == {"出租房屋消防检查", "请假"}


def test_fire_check_on_a_working_day_after_leave(tmp_path):
    grids, staff = ring(4)
    f = write_problem(tmp_path, grids=grids, staff=staff, leave=[["W1", "2026-10-08", "2026-10-20", "病假"]])
    ro = solved(f)
    [d] = ro.fire["G1"]
    assert d >= OCT(21) and not ro.problem.cal.is_rest_day[d] and ro.patrol["G1", d] == "W1"


# -- publicity_day --------------------------------------------------------------------------

def _publicity(tmp_path, enabled, day="2026-10-12"):
    grids, staff = ring(3)
    return write_problem(tmp_path, grids=grids, staff=staff, requests=[["W1", day, "休息", 5]],
                         rules={"publicity_day": {"enabled": enabled}})


def test_publicity_day_overrides_a_day_off_request(tmp_path):
    ro = solved(_publicity(tmp_path, True))
    # 10月5日 is the first Monday but a National Day holiday: the publicity day is 10月12日.
    assert ro.problem.cal.first_working_monday == OCT(12)
    assert ro.duty.get(("W1", OCT(12))) and ro.breakdown()["requests"] == 5


def test_without_publicity_day_the_request_is_granted(tmp_path):
    ro = solved(_publicity(tmp_path, False))
    assert not ro.duty.get(("W1", OCT(12))) and ro.breakdown().get("requests", 0) == 0


def test_the_publicity_day_is_not_a_holiday(tmp_path):
    # It used to be 10月5日, the first Monday, inside the National Day holiday: every grid worker was
    # put on holiday duty for it.
    ro = solved(_publicity(tmp_path, True, day="2026-10-05"))
    assert not ro.duty.get(("W1", OCT(5))) and ro.breakdown().get("requests", 0) == 0


# -- max_weekends and total_days ------------------------------------------------------------

def test_max_weekends_zero_binds(tmp_path):
    grids, staff = ring(3)
    f = write_problem(tmp_path, grids=grids, staff=staff, rules={"max_weekends": {"max": 0}})
    assert "每月周末值班上限" in rule_lines(infeasible(f))


def test_max_weekends_six_fits(tmp_path):
    # 8 weekend rest days × 3 grids, at most 2 grids a person: ≥ 16 person-days; 3 × 6 = 18 fits (3 × 5 does not).
    grids, staff = ring(3)
    ro = solved(write_problem(tmp_path, grids=grids, staff=staff, rules={"max_weekends": {"max": 6}}))
    wk = [d for d in range(31) if ro.problem.cal.is_weekend[d] and ro.problem.cal.is_rest_day[d]]
    # Weekend rest days: 10月3, 4 (holiday), 11, 17, 18, 24, 25, 31 (10月10日 is an adjusted working Saturday).
    assert [d + 1 for d in wk] == [3, 4, 11, 17, 18, 24, 25, 31]
    assert all(sum(bool(ro.duty.get((w, d))) for d in wk) <= 6 for w in ("W1", "W2", "W3"))


def test_total_days_binds_when_a_lone_grid_needs_31_days(tmp_path):
    f = _lonely(tmp_path, {"rest_in_window": False, "max_consecutive_work": False, "total_days": {"max": 30}})
    assert rule_lines(infeasible(f)) == {"网格每日巡查", "月工作天数上下限"}


def test_total_days_31_fits(tmp_path):
    solved(_lonely(tmp_path, {"rest_in_window": False, "max_consecutive_work": False, "total_days": {"max": 31}}))


# -- soft rules: backup_order, requests, fairness -------------------------------------------

def test_backup_order_calls_b_before_c(tmp_path):
    grids, staff = ring(4)
    ro = solved(write_problem(tmp_path, grids=grids, staff=staff, leave=[["W1", "2026-10-12", "2026-10-12", "病假"]]))
    assert ro.patrol["G1", OCT(12)] == "W2"


def test_backup_order_calls_c_when_b_is_away(tmp_path):
    grids, staff = ring(4)
    ro = solved(write_problem(tmp_path, grids=grids, staff=staff, leave=[["W1", "2026-10-12", "2026-10-12", "病假"],
                                                                          ["W2", "2026-10-12", "2026-10-12", "病假"]]))
    assert ro.patrol["G1", OCT(12)] == "W4"


def test_fair_weekends_spreads_weekend_duty(tmp_path):
    grids, staff = ring(4)
    ro = solved(write_problem(tmp_path, grids=grids, staff=staff, rules={"fair_weekends": {"weight": 10}}))
    wk = [d for d in range(31) if ro.problem.cal.is_weekend[d] and ro.problem.cal.is_rest_day[d] and not ro.problem.cal.is_holiday[d]]
    counts = [sum(bool(ro.duty.get((f"W{i}", d))) for d in wk) for i in range(1, 5)]
    assert max(counts) - min(counts) <= 1


def _target(tmp_path, target):
    return _teams(tmp_path, {"shift_cover": {"shifts": {"day": {"min_teams": 1, "min_strength": 2, "target_strength": target},
                                                        "night": {"min_teams": 1, "min_strength": 2}}},
                             "shift_cover_excess": {"weight": 1}, "shift_cover_shortfall": {"weight": 5},
                             "fair_nights": False},
                  teams=3, size=2)


def test_shift_target_strength_puts_two_teams_on_day_shift(tmp_path):
    # A target of 4 on the day shift: a second team (2 more people) costs 1 of excess and saves 2 × 5 of shortfall.
    ro = solved(_target(tmp_path, 4), time_limit=10)
    assert all(sum(ro.duty.get(("班组:" + t, d)) == "day" for t in ("T1", "T2", "T3")) == 2 for d in range(31))
    assert ro.breakdown().get("shift_cover_shortfall", 0) == 0


def test_shift_target_equal_to_minimum_adds_nobody(tmp_path):
    ro = solved(_target(tmp_path, 2))
    assert all(sum(ro.duty.get(("班组:" + t, d)) == "day" for t in ("T1", "T2", "T3")) == 1 for d in range(31))


def test_department_4plus1_excuses_leave_days():
    # Two days of sick leave in the full week 10月12日–16日 used to make the month infeasible:
    # the week had to have exactly four street days.  Leave days now count as away.
    from pathlib import Path
    fix = Path(__file__).resolve().parent / "fixtures" / "roster" / "department-leave-in-a-full-week"
    ro = solved(fix, time_limit=3)
    week = [bool(ro.duty.get(("D1", OCT(d)))) for d in range(12, 17)]
    assert not week[1] and not week[2] and 2 <= sum(week) <= 3


# -- pairs added by the acceptance audit ----------------------------------------------------

def _key_rounds(tmp_path, key_grid="否", key_days=None):
    # 甲 away on 10月20日: 乙 or 丙 must patrol G1 beside their own grid, within 2 rounds a day.
    grids, staff = ring(3)
    grids[0][2] = key_grid
    return write_problem(tmp_path, grids=grids, staff=staff, leave=[["W1", "2026-10-20", "2026-10-20", "病假"]],
                         rules={"max_grids_per_day": {"grids": 2, "rounds": 2}, "fire_check": False},
                         calendar={"key_days": key_days} if key_days else None)


def test_key_grid_rounds_bind(tmp_path):
    text = infeasible(_key_rounds(tmp_path, key_grid="是"))
    assert rule_lines(text) >= {"网格每日巡查", "请假", "每人每日巡查上限"}
    assert "网格 G1 在 10月20日 需要巡查 2 次" in text


def test_key_day_rounds_bind(tmp_path):
    # Every grid needs 2 rounds that day; 乙 keeps their own grid (本人在岗须巡本格) and cannot add G1.
    text = infeasible(_key_rounds(tmp_path, key_days=["2026-10-20"]))
    assert rule_lines(text) >= {"网格每日巡查", "请假", "每人每日巡查上限"}
    assert "网格 G1 在 10月20日 需要巡查 2 次" in text


def test_ordinary_grid_and_day_need_one_round(tmp_path):
    ro = solved(_key_rounds(tmp_path))
    assert ro.patrol["G1", OCT(20)] in {"W2", "W3"}


def _daily_supervisor(tmp_path, cap):
    grids, staff = ring(3, supervisor="S1")
    staff.append(["S1", "督导", "督导员", "鹤山镇", "", ""])
    return write_problem(tmp_path, grids=grids, staff=staff,
                         rules={"supervisor_visits": {"window": 1, "max_per_day": cap}})


def test_supervisor_daily_cap_binds(tmp_path):
    assert rule_lines(infeasible(_daily_supervisor(tmp_path, 2))) == {"督导员每周督导"}


def test_supervisor_daily_cap_of_three_fits_three_grids(tmp_path):
    ro = solved(_daily_supervisor(tmp_path, 3))
    assert all(len({g for w, g, dd in ro.visits if w == "S1" and dd == d}) == 3 for d in range(31))


def _key_strength(tmp_path, strength):
    return _teams(tmp_path, {"shift_cover": {"shifts": {"day": {"min_teams": 1, "min_strength": 2},
                                                        "night": {"min_teams": 1, "min_strength": 2}},
                                             "key_day_min_strength": strength},
                             "fair_nights": False},
                  teams=3, size=2)


def test_key_day_min_strength_binds(tmp_path):
    # On the office's key day 10月12日 each shift needs 4 people: two teams of 2 each, 4 teams; there are 3.
    f = _key_strength(tmp_path, 4)
    import yaml
    y = yaml.safe_load((f / "problem.yaml").read_text(encoding="utf-8"))
    y["calendar"] = {"key_days": ["2026-10-12"]}
    (f / "problem.yaml").write_text(yaml.safe_dump(y, allow_unicode=True), encoding="utf-8")
    text = infeasible(f)
    assert rule_lines(text) == {"班次最低人数"} and "10月12日" in text


def test_key_day_min_strength_null_keeps_one_team_per_shift(tmp_path):
    ro = solved(_key_strength(tmp_path, None))
    assert all(sum(ro.duty.get(("班组:" + t, OCT(12))) == s for t in ("T1", "T2", "T3")) >= 1 for s in ("day", "night"))


def test_total_days_minimum_binds_against_rest(tmp_path):
    # One day off in every 7 leaves at most 27 working days in October.
    grids, staff = ring(3)
    f = write_problem(tmp_path, grids=grids, staff=staff, rules={"total_days": {"min": 28}, "max_consecutive_work": False})
    assert rule_lines(infeasible(f)) == {"月工作天数上下限", "每7天至少休息1天"}


def test_total_days_minimum_26_fits(tmp_path):
    grids, staff = ring(3)
    ro = solved(write_problem(tmp_path, grids=grids, staff=staff, rules={"total_days": {"min": 26}}))
    assert all(sum(bool(ro.duty.get((w, d))) for d in range(31)) >= 26 for w in ("W1", "W2", "W3"))


def test_fair_holidays_spreads_national_day(tmp_path):
    grids, staff = ring(4)
    ro = solved(write_problem(tmp_path, grids=grids, staff=staff, rules={"fair_holidays": {"weight": 10}}))
    hol = [d for d in range(31) if ro.problem.cal.is_holiday[d]]
    counts = [sum(bool(ro.duty.get((f"W{i}", d))) for d in hol) for i in range(1, 5)]
    assert len(hol) == 7 and max(counts) - min(counts) <= 1


def test_fair_holidays_does_not_bind_in_a_month_without_holidays(tmp_path):
    grids, staff = ring(4)
    ro = solved(write_problem(tmp_path, grids=grids, staff=staff, month="2026-11", rules={"fair_holidays": {"weight": 10}}))
    assert "fair_holidays" not in ro.breakdown()


def test_fair_nights_does_not_bind_without_a_night_shift(tmp_path):
    ro = solved(_teams(tmp_path, {"shift_cover": {"shifts": {"day": {"min_teams": 1, "min_strength": 1}}}}))
    assert "fair_nights" not in ro.breakdown() and nights(ro, "T1") == nights(ro, "T2") == 0


def _backup_load(tmp_path, weight):
    # 甲 away 10月12日–21日: G1's B岗 乙 and C岗 丁 cover it; without fair_backup AB岗 order sends 乙 first.
    grids, staff = ring(4)
    return write_problem(tmp_path, grids=grids, staff=staff, leave=[["W1", "2026-10-12", "2026-10-21", "病假"]],
                         rules={"fair_backup": {"weight": weight} if weight else False,
                                "joint_patrol": {"allowed": False}})


def covers(ro, who):
    return sum(ro.patrol[g, d] == who and ro.problem.grids[g].worker != who for g in ro.problem.grids for d in range(31))


def test_fair_backup_shares_the_covering(tmp_path):
    ro = solved(_backup_load(tmp_path, 100))
    assert abs(covers(ro, "W2") - covers(ro, "W4")) <= 1


def test_without_fair_backup_the_b_post_covers_most(tmp_path):
    ro = solved(_backup_load(tmp_path, 0))
    assert covers(ro, "W2") > covers(ro, "W4") + 1


def _visits_economy(tmp_path, on):
    grids, staff = ring(3, supervisor="S1")
    staff.append(["S1", "督导", "督导员", "鹤山镇", "", ""])
    return write_problem(tmp_path, grids=grids, staff=staff, rules={"visit_economy": {"weight": 1} if on else False})


def test_visit_economy_keeps_visits_to_the_weekly_minimum(tmp_path):
    # Every 7-day window of October holds a visit to each grid: 4 visits per grid at the fewest.
    ro = solved(_visits_economy(tmp_path, True))
    assert len(ro.visits) == 12 and ro.breakdown()["visit_economy"] == 12


def test_without_visit_economy_visits_are_not_priced(tmp_path):
    ro = solved(_visits_economy(tmp_path, False))
    assert "visit_economy" not in ro.breakdown() and len(ro.visits) >= 12
