"""Infeasibility in words, relaxed rosters and bad input (located errors, all at once, nothing written)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.errors import DataError, InfeasibleError
from engine.roster.model import load_problem
from engine.roster.solve import solve

from roster_build import write_problem
from roster_checker import violations

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures" / "roster"


def test_demo_infeasible_names_exactly_the_cover_rule_and_three_leaves():
    prob = load_problem(ROOT / "rosters" / "demo-infeasible")
    name = {pid: prob.people[pid].name for pid in ("W307", "W308", "W306")}
    with pytest.raises(InfeasibleError) as exc:
        solve(prob, time_limit=5)
    # 10月12日 is an office key day, so the grid needs two patrols.
    assert exc.value.explanation == [
        "【小河镇】已证明无可行排班，冲突的规则和事实：",
        f"  规则「网格每日巡查」：网格 3-07 在 10月12日 需要巡查 2 次，但本人、B岗、C岗"
        f"（{name['W307']}、{name['W308']}、{name['W306']}）均在请假",
        f"  事实「请假」：{name['W307']} 10月10日至10月14日病假",
        f"  事实「请假」：{name['W308']} 10月12日至10月12日事假",
        f"  事实「请假」：{name['W306']} 10月11日至10月13日年休假",
    ]


def test_relaxed_roster_breaks_only_the_softable_rule(tmp_path):
    f = write_problem(tmp_path, grids=[["G1", "C1", "否", "W1", "", "", ""]],
                      staff=[["W1", "甲", "网格员", "鹤山镇", "C1", ""]],
                      rules={"max_consecutive_work": False, "publicity_day": False})
    ro = solve(load_problem(f), time_limit=5, relax=True)
    broken = [b for part in ro.parts for b in part.broken]
    assert broken == [("rest_in_window", "甲 每 7 天至少休息 1 天")]
    assert all(ro.patrol["G1", d] == "W1" for d in range(31))
    assert [v for v in violations(ro) if not v.startswith("rest_in_window")] == []


def test_cover_is_never_relaxed():
    with pytest.raises(InfeasibleError) as exc:
        solve(load_problem(ROOT / "rosters" / "demo-infeasible"), time_limit=5, relax=True)
    assert "即使放宽" in str(exc.value)


def problems(name):
    with pytest.raises(DataError) as exc:
        load_problem(FIX / name)
    return [(Path(p.file).name, p.line, p.field, p.found) for p in exc.value.problems], exc.value.problems


@pytest.mark.parametrize("name,expected", [
    ("backup-unknown-worker", [("grids.csv", 2, "AB岗", "W7")]),
    ("grid-without-worker", [("grids.csv", 3, "网格员", None)]),
    ("unknown-worker", [("grids.csv", 4, "网格员", "W88")]),
    ("overlapping-leave", [("leave.csv", 3, "开始", "2026-10-13～2026-10-15")]),
    ("impossible-leave", [("leave.csv", 3, "结束", "2026-10-18"), ("leave.csv", 4, "开始", "2026-02-30")]),
    ("leave-unknown-person", [("leave.csv", 2, "人员", "W77")]),
    ("supervisor-other-town", [("grids.csv", 5, "督导员", "S1")]),
    ("unknown-rule", [("problem.yaml", 4, "rules.rest_in_windw", "rest_in_windw")]),
    ("unknown-year", [("problem.yaml", 2, "month", "2031-10")]),
])
def test_broken_fixture_fails_with_its_located_error(name, expected):
    found, _ = problems(name)
    assert found == expected


def test_all_problems_reported_at_once_in_chinese():
    found, probs = problems("many-faults")
    assert found == [("grids.csv", 2, "AB岗", "W7"), ("grids.csv", 3, "网格员", None),
                     ("grids.csv", 5, "督导员", "S1"), ("leave.csv", 3, "开始", "2026-10-13～2026-10-15"),
                     ("leave.csv", 4, "人员", "W77")]
    assert probs[2].expected == "乙镇 的督导员（按镇分解时督导员不能跨镇督导，此人属 甲镇）"
    assert probs[0].expected == "staff 中已有的人员编号（AB岗人员不存在）"


def test_supervisor_in_another_town_is_fine_without_decomposition():
    prob = load_problem(FIX / "supervisor-other-town", decompose=False)
    assert prob.grids["G9"].supervisor == "S1"


def test_unknown_year_works_when_the_office_supplies_the_days(tmp_path):
    f = write_problem(tmp_path, grids=[["G1", "C1", "否", "W1", "W2", "", ""], ["G2", "C1", "否", "W2", "W1", "", ""]],
                      staff=[["W1", "甲", "网格员", "鹤山镇", "C1", ""], ["W2", "乙", "网格员", "鹤山镇", "C1", ""]],
                      month="2031-10",
                      calendar={"holidays": [f"2031-10-0{d}" for d in range(1, 8)], "workdays": ["2031-10-11"]})
    cal = load_problem(f).cal
    assert cal.source == "office"
    assert [cal.is_holiday[d] for d in (0, 6, 7)] == [True, True, False]
    assert not cal.is_rest_day[10] and cal.is_rest_day[11]     # Saturday 10月11日 worked, Sunday 12日 off


# -- explanations a clerk can act on (acceptance audit) -------------------------------------

def _three(tmp_path, **kw):
    grids = [["G1", "C1", "否", "W1", "W2;W3", "", ""], ["G2", "C1", "否", "W2", "W3;W1", "", ""],
             ["G3", "C1", "否", "W3", "W1;W2", "", ""]]
    staff = [["W1", "甲", "网格员", "鹤山镇", "C1", ""], ["W2", "乙", "网格员", "鹤山镇", "C1", ""],
             ["W3", "丙", "网格员", "鹤山镇", "C1", ""]]
    return write_problem(tmp_path, grids=grids, staff=staff, **kw)


def explanation(folder):
    with pytest.raises(InfeasibleError) as exc:
        solve(load_problem(folder), time_limit=5)
    return exc.value.explanation


def test_one_day_cover_shortage_reads_without_every_day(tmp_path):
    # Key day 10月12日: three grids need 2 rounds each; with 甲 and 乙 away, 丙 can do 4 rounds.
    f = _three(tmp_path, calendar={"key_days": ["2026-10-12"]}, rules={"max_grids_per_day": {"grids": 3, "rounds": 4}},
               leave=[["W1", "2026-10-12", "2026-10-12", "病假"], ["W2", "2026-10-12", "2026-10-12", "病假"]])
    assert explanation(f) == [
        "【鹤山镇】已证明无可行排班，冲突的规则和事实：",
        "  规则「网格每日巡查」：网格 G1 在 10月12日 需要巡查 2 次，可巡查的只有：本人 甲、B岗 乙、C岗 丙",
        "  规则「网格每日巡查」：网格 G2 在 10月12日 需要巡查 2 次，可巡查的只有：本人 乙、B岗 丙、C岗 甲",
        "  事实「请假」：甲 10月12日至10月12日病假",
        "  事实「请假」：乙 10月12日至10月12日病假",
        # Another minimal core than before the publicity day moved to 10月12日 (丙 on duty must patrol
        # G3 too): the model changed, and CP-SAT meets this one first.
        "  规则「本人在岗须巡本格」：丙 在岗时须巡查本网格 G3",
        "  规则「每人每日巡查上限」：丙 每日最多巡查 3 个网格、4 次",
    ]


def test_fire_checks_beyond_the_working_days_say_how_many_there_are(tmp_path):
    f = _three(tmp_path, rules={"fire_check": {"per_month": 19}})
    assert explanation(f) == [
        "【鹤山镇】已证明无可行排班，冲突的规则和事实：",
        "  规则「出租房屋消防检查」：网格 G1 本月由 甲 做 19 次出租房屋消防检查（在工作日巡查本网格时；本月共 18 个工作日）",
    ]


def test_total_days_minimum_names_the_leave_and_the_month_length(tmp_path):
    f = _three(tmp_path, rules={"total_days": {"min": 33}}, leave=[["W1", "2026-10-20", "2026-10-20", "事假"]])
    assert explanation(f) == [
        "【鹤山镇】已证明无可行排班，冲突的规则和事实：",
        "  规则「月工作天数上下限」：甲 本月至少工作 32 天（33 天减去请假 1 天），本月只有 31 天",
    ]


def test_shift_cover_on_many_days_is_one_line_per_shift(tmp_path):
    # Four teams of 3 and 5 people a shift: both shifts need two teams every day, so no team can rest.
    grids = [["G1", "C1", "否", "W1", "W2", "", ""], ["G2", "C1", "否", "W2", "W1", "", ""]]
    staff = [["W1", "甲", "网格员", "鹤山镇", "C1", ""], ["W2", "乙", "网格员", "鹤山镇", "C1", ""]]
    staff += [[f"Q{t}{k}", f"队员{t}{k}", "巡防队员", "鹤山镇", "", f"T{t}"] for t in range(1, 5) for k in range(1, 4)]
    lines = explanation(write_problem(tmp_path, grids=grids, staff=staff,
                                      rules={"max_consecutive_work": {"applies_to": ["grid_worker"]}}))
    cover = [x for x in lines if "「班次最低人数」" in x]
    # It used to be one line per shift and day: 14 lines for one week.
    assert len(cover) == 2 and all(re.search(r"（共 \d+ 天）", x) and "至少 1 个班组、5 人在岗（各班组可到岗：T1 3人、T2 3人、T3 3人、T4 3人）" in x
                                   for x in cover)
    assert {x.split("：")[0].strip() for x in lines[1:]} == {"规则「班次最低人数」", "规则「每7天至少休息1天」"}


# -- rosters by person and shift: many days' minimums, and the time spent shrinking ---------------

def _short_room(tmp_path):
    # Two people at most 24 hours (three 8-hour days) each, a day shift wanted every day of a week:
    # every day's minimum takes part in the conflict.
    from roster_build import write_shifts
    return write_shifts(tmp_path, staff=[["A", "甲"], ["B", "乙"]], demand=[["每天", "白", 1, 1, 10, 1]],
                        period={"start": "2026-11-02", "days": 7},
                        rules={"working_time": {"max_hours": 24}, "max_consecutive_work": False})


def test_a_shifts_minimum_on_many_days_is_one_line_per_shift(tmp_path):
    lines = explanation(_short_room(tmp_path))
    cover = [x for x in lines if "「班次最少人数」" in x]
    # It used to be one line per day (62 lines for three shifts over three weeks).
    assert cover == ["  规则「班次最少人数」：11月2日、11月3日、11月4日、11月5日、11月6日、11月7日、11月8日（共 7 天） "
                     "白班至少 1 人（可上此班 2 人）"]


def test_shrinking_an_explanation_stops_at_its_budget_and_says_so(tmp_path, monkeypatch):
    # A counting conflict of 72 instances took 20 s a check to shrink, 24 minutes in all.
    import engine.roster.explain as ex
    monkeypatch.setattr(ex, "SHRINK_BUDGET", 0.0)
    lines = explanation(_short_room(tmp_path))
    assert lines[-1] == "  （0 秒内未能确认以上每一条都不可缺少：其中一些去掉后可能仍然冲突）"
    assert {x.split("：")[0].strip() for x in lines[1:-1]} == {"规则「班次最少人数」", "规则「工作时长上下限」"}
