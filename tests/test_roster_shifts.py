"""Rosters by person and shift (kind: shifts): each rule with a binding and a non-binding instance.

Periods start on Monday 2026-11-02 (no holiday in November 2026); 白 is an 8-hour day shift (D),
夜 a 12-hour night shift (N).  Every roster produced is verified by the independent oracle."""
from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.errors import DataError, InfeasibleError
from engine.roster.check import check_roster
from engine.roster.model import load_problem
from engine.roster.solve import Roster, solve

from roster_build import write_shifts
from roster_checker import violations
from test_roster_rules import rule_lines

ROOT = Path(__file__).resolve().parents[1]
EVERY = lambda shift, need, low=0, under=10, over=1: ["每天", shift, need, low, under, over]  # noqa: E731


def solved(folder, **kw):
    ro = solve(load_problem(folder), time_limit=kw.pop("time_limit", 8), **kw)
    assert violations(ro) == [], violations(ro)
    assert all(c.ok for c in check_roster(ro)), [c.violations for c in check_roster(ro) if not c.ok]
    return ro


def infeasible(folder) -> str:
    with pytest.raises(InfeasibleError) as exc:
        solve(load_problem(folder), time_limit=8)
    return "\n".join(exc.value.explanation)


def located(folder) -> list[str]:
    """The problems loading the folder finds, each said with its file relative to the folder."""
    with pytest.raises(DataError) as exc:
        load_problem(folder)
    return [str(p).replace(str(folder) + "/", "") for p in exc.value.problems]


def shifts(ro, pid, s):
    return sum(1 for d in range(ro.problem.cal.days) if ro.duty.get((pid, d)) == s)


# -- a plain shift roster, any period ---------------------------------------------------------

def test_a_shift_roster_without_grids_over_a_period_from_a_wednesday(tmp_path):
    f = write_shifts(tmp_path, staff=[["A", "甲"], ["B", "乙"], ["C", "丙"]], demand=[EVERY("白", 1, 1)],
                     period={"start": "2026-11-04", "days": 10})
    ro = solved(f)
    cal = ro.problem.cal
    assert cal.days == 10 and cal.start.weekday() == 2 and cal.title() == "2026年11月4日至11月13日"
    assert cal.weekends() == [[3, 4]]                 # 11月7日–8日
    assert all(sum(ro.duty.get((p, d)) == "D" for p in "ABC") >= 1 for d in range(10))
    assert not ro.problem.grids and ro.problem.towns == ["值班室"]


# -- shift_eligibility -------------------------------------------------------------------------

def _nights(tmp_path, a, b):
    return write_shifts(tmp_path, staff=[["A", "甲", a], ["B", "乙", b]], staff_columns=["可上班次"],
                        demand=[EVERY("夜", 1, 1)], rules={"max_consecutive_work": False})


def test_shift_eligibility_binds_when_nobody_may_work_nights(tmp_path):
    text = infeasible(_nights(tmp_path, "白", "白"))
    assert rule_lines(text) == {"可上班次", "班次最少人数"}
    assert "甲 只上 白 班" in text and "11月2日 夜班至少 1 人" in text
    assert "（可上此班 0 人）" in text           # nobody's 可上班次 has nights (two people in all)


def test_only_those_who_may_work_nights_do(tmp_path):
    ro = solved(_nights(tmp_path, "白", ""))
    assert shifts(ro, "A", "N") == 0 and shifts(ro, "B", "N") == 14


# -- shift_caps --------------------------------------------------------------------------------

def _caps(tmp_path, cap):
    return write_shifts(tmp_path, staff=[["A", "甲"], ["B", "乙"], ["C", "丙"]], demand=[EVERY("夜", 1, 1)],
                        rules={"shift_caps": {"max": {"N": cap}}})


def test_shift_caps_bind_when_three_times_four_nights_are_not_fourteen(tmp_path):
    assert rule_lines(infeasible(_caps(tmp_path, 4))) == {"班次次数上限", "班次最少人数"}


def test_shift_caps_of_five_fit(tmp_path):
    ro = solved(_caps(tmp_path, 5))
    assert all(shifts(ro, p, "N") <= 5 for p in "ABC")


def test_a_persons_own_cap_overrides_the_rule(tmp_path):
    f = write_shifts(tmp_path, staff=[["A", "甲", "夜=1"], ["B", "乙", ""], ["C", "丙", ""]], staff_columns=["班次上限"],
                     demand=[EVERY("夜", 1, 1)], rules={"shift_caps": {"max": {"N": 7}}})
    ro = solved(f)
    assert shifts(ro, "A", "N") <= 1


# -- working_time ------------------------------------------------------------------------------

def _hours(tmp_path, most):
    # 14 day shifts of 8 hours = 112 hours to share between two people.
    return write_shifts(tmp_path, staff=[["A", "甲"], ["B", "乙"]], demand=[EVERY("白", 1, 1)],
                        rules={"working_time": {"max_hours": most}})


def test_working_time_binds_below_the_hours_the_cover_needs(tmp_path):
    text = infeasible(_hours(tmp_path, 48))
    assert rule_lines(text) == {"工作时长上下限", "班次最少人数"}
    assert "甲 本期工作至多 48 小时" in text


def test_working_time_of_56_hours_each_fits_exactly(tmp_path):
    ro = solved(_hours(tmp_path, 56))
    assert [shifts(ro, p, "D") for p in "AB"] == [7, 7]


def _leave_hours(tmp_path, credit):
    # 甲 must work 96 hours (12 day shifts) but is on leave 3 of the 14 days.
    return write_shifts(tmp_path, staff=[["A", "甲", 96], ["B", "乙", ""]], staff_columns=["最少工时"],
                        demand=[EVERY("白", 1, 0, 10, 1)], leave=[["A", "2026-11-09", "2026-11-11", "年休假"]],
                        shifts={"D": {"label": "白", "hours": 8}}, rules={"working_time": {"leave_hours": credit}, "max_consecutive_work": False})


def test_leave_without_credited_hours_makes_the_minimum_impossible(tmp_path):
    assert rule_lines(infeasible(_leave_hours(tmp_path, 0))) == {"工作时长上下限", "请假"}


def test_leave_hours_lower_the_minimum(tmp_path):
    ro = solved(_leave_hours(tmp_path, 8))
    assert shifts(ro, "A", "D") >= 9           # 96 − 3 × 8 = 72 hours


# -- min_consecutive_work ----------------------------------------------------------------------

def _runs(tmp_path, k):
    reqs = [["A", "2026-11-04", "", "休息", 5], ["A", "2026-11-05", "", "上班", 5], ["A", "2026-11-06", "", "休息", 5]]
    return write_shifts(tmp_path, staff=[["A", "甲", k], ["B", "乙", ""]], staff_columns=["最少连续工作天数"],
                        demand=[EVERY("白", 1, 1)], requests=reqs)


def test_min_consecutive_work_breaks_a_one_day_run(tmp_path):
    ro = solved(_runs(tmp_path, 3))
    # Off–on–off would be a one-day run inside the period: one request (5) goes unmet.
    assert ro.breakdown()["requests"] == 5


def test_without_min_consecutive_work_every_request_is_met(tmp_path):
    ro = solved(_runs(tmp_path, ""))
    assert ro.breakdown().get("requests", 0) == 0 and ro.duty.get(("A", 3)) == "D"


# -- max_working_weekends ----------------------------------------------------------------------

def _weekends(tmp_path, most):
    return write_shifts(tmp_path, staff=[["A", "甲"], ["B", "乙"]], demand=[EVERY("白", 1, 1)],
                        rules={"max_working_weekends": {"max": most}, "max_consecutive_work": False})


def test_max_working_weekends_zero_binds(tmp_path):
    assert rule_lines(infeasible(_weekends(tmp_path, 0))) == {"最多上班周末数", "班次最少人数"}


def test_one_weekend_each_fits(tmp_path):
    ro = solved(_weekends(tmp_path, 1))
    for p in "AB":
        assert sum(any((p, d) in ro.duty for d in wk) for wk in ro.problem.cal.weekends()) <= 1


def test_a_weekend_counts_when_saturday_or_sunday_is_worked(tmp_path):
    prob = load_problem(_weekends(tmp_path, 1))
    # 甲 works Saturday 11月7日 and Sunday 11月15日: two weekends.
    ro = Roster(prob, duty={("A", 5): "D", ("A", 13): "D"})
    found = {c.rule: c for c in check_roster(ro)}
    assert found["max_working_weekends"].violations == ["甲 本期上了 2 个周末，最多 1 个"]


# -- shift_demand (soft) and shift_min_cover (hard) --------------------------------------------

def test_under_staffing_costs_its_weight_per_person_short(tmp_path):
    # One week, 2 wanted a day (14), three people of at most 3 days each (9): 5 short × 10.
    f = write_shifts(tmp_path, staff=[["A", "甲", 3], ["B", "乙", 3], ["C", "丙", 3]], staff_columns=["最多工作天数"],
                     demand=[EVERY("白", 2, 0, 10, 1)], period={"start": "2026-11-02", "days": 7})
    ro = solved(f)
    assert ro.breakdown() == {"shift_demand": 50}


def test_over_staffing_costs_its_weight_per_person_beyond(tmp_path):
    # 1 wanted a day (7), three people of at least 3 days each (9): 2 beyond × 1.
    f = write_shifts(tmp_path, staff=[["A", "甲", 3], ["B", "乙", 3], ["C", "丙", 3]], staff_columns=["最少工作天数"],
                     demand=[EVERY("白", 1, 0, 10, 1)], period={"start": "2026-11-02", "days": 7}, shifts={"D": {"label": "白", "hours": 8}})
    ro = solved(f)
    assert ro.breakdown() == {"shift_demand": 2}


def test_no_compulsory_minimum_without_a_minimum(tmp_path):
    # Nobody wanted on nights and no minimum: nights stay empty; a date row overrides the every-day row.
    f = write_shifts(tmp_path, staff=[["A", "甲"], ["B", "乙"]],
                     demand=[EVERY("白", 1, 1), EVERY("夜", 0, 0), ["2026-11-05", "夜", 1, 1, 10, 1]])
    ro = solved(f)
    assert [sum(ro.duty.get((p, d)) == "N" for p in "AB") for d in range(14)] == [0, 0, 0, 1] + [0] * 10


# -- requests for a shift, leave, forbidden successions ---------------------------------------

def _wish(tmp_path, may):
    return write_shifts(tmp_path, staff=[["A", "甲", may], ["B", "乙", ""], ["C", "丙", ""]], staff_columns=["可上班次"],
                        demand=[EVERY("白", 1, 1), EVERY("夜", 1, 1)],
                        requests=[["A", "2026-11-04", "夜", "上班", 5], ["A", "2026-11-05", "白", "休息", 3]])


def test_a_request_for_a_shift_is_met(tmp_path):
    ro = solved(_wish(tmp_path, ""))
    assert ro.duty.get(("A", 2)) == "N" and ro.duty.get(("A", 3)) != "D" and ro.breakdown().get("requests", 0) == 0


def test_a_request_for_a_shift_one_may_not_work_costs_its_weight(tmp_path):
    ro = solved(_wish(tmp_path, "白"))
    assert ro.breakdown()["requests"] == 5


def _away(tmp_path, who):
    return write_shifts(tmp_path, staff=[["A", "甲"], ["B", "乙"]], demand=[EVERY("白", 2, 1)],
                        leave=[[w, "2026-11-03", "2026-11-05", "病假"] for w in who], rules={"max_consecutive_work": False})


def test_leave_blocks_every_shift_even_when_people_are_wanted(tmp_path):
    ro = solved(_away(tmp_path, "A"))
    # 2 wanted every day: 乙 alone on 11月3日–5日, 1 short each day (10 a person).
    assert all(("A", d) not in ro.duty for d in (1, 2, 3)) and ro.breakdown() == {"shift_demand": 30}


def test_leave_of_everyone_binds_against_the_minimum(tmp_path):
    assert rule_lines(infeasible(_away(tmp_path, "AB"))) == {"请假", "班次最少人数"}


def test_a_night_is_never_followed_by_a_day_shift(tmp_path):
    f = write_shifts(tmp_path, staff=[["A", "甲"], ["B", "乙"]], demand=[EVERY("白", 1, 1), EVERY("夜", 1, 1)],
                     rules={"forbidden_succession": {"pairs": [["N", "D"]]}, "max_consecutive_work": False})
    ro = solved(f)
    for p in "AB":
        assert not any(ro.duty.get((p, d)) == "N" and ro.duty.get((p, d + 1)) == "D" for d in range(13))


def test_a_forbidden_pair_listed_twice_forbids_no_more_than_once(tmp_path):
    # The pairs are one constraint per day and first shift in a plain solve; a pair counted twice
    # there would forbid the day shift after every day (no day shift after the first day: impossible
    # with one wanted at least every day).  A always on nights and B on days meets every rule.
    f = write_shifts(tmp_path, staff=[["A", "甲"], ["B", "乙"]], demand=[EVERY("白", 1, 1), EVERY("夜", 1, 1)],
                     rules={"forbidden_succession": {"pairs": [["N", "D"], ["N", "D"]]}, "max_consecutive_work": False})
    ro = solved(f)
    assert all(sum(ro.duty.get((p, d)) == "D" for p in "AB") == 1 for d in range(14))
    for p in "AB":
        assert not any(ro.duty.get((p, d)) == "N" and ro.duty.get((p, d + 1)) == "D" for d in range(13))


# -- loading ---------------------------------------------------------------------------------

def test_every_problem_of_a_shift_problem_is_located(tmp_path):
    f = write_shifts(tmp_path, staff=[["A", "甲", "晚", "夜4", ""], ["B", "乙", "", "", "网格员"]],
                     staff_columns=["可上班次", "班次上限", "角色"],
                     demand=[EVERY("白", 1, 1), EVERY("白", 2, 1), EVERY("早", 1, 0), ["每天", "夜", 1, 2, 10, 1]],
                     requests=[["A", "2026-11-04", "晚", "上班", 1]],
                     rules={"working_time": {"max_hours": 80}})
    (f / "problem.yaml").write_text((f / "problem.yaml").read_text(encoding="utf-8").replace("hours: 8\n", ""),
                                    encoding="utf-8")
    assert located(f) == [
        "staff.csv:2 可上班次: 发现 '晚'，应为 班次编号或简称之一：D（白）、N（夜）",
        "staff.csv:2 班次上限: 发现 '夜4'，应为 班次=次数，如 夜=4；多个用分号隔开（班次：D（白）、N（夜））",
        "staff.csv:3 角色: 发现 '网格员'，应为 值班人员（按人按班次排班的问题只有值班人员；网格员等请用 kind: patrol）",
        "demand.csv:3 日期: 发现 '每天'，应为 每个日期（或星期、每天）每个班次只有一行（第2行已有）",
        "demand.csv:4 班次: 发现 '早'，应为 班次编号或简称之一：D（白）、N（夜）",
        "demand.csv:5 最少人数: 发现 '2'，应为 不大于需求人数（1）",
        "problem.yaml:16 shifts.D.hours: 发现 （缺失），应为 班次时长（「工作时长上下限」按工时计算，要写每个班次的 hours）",
        "requests.csv:2 班次: 发现 '晚'，应为 班次编号或简称之一：D（白）、N（夜）",
    ]


# -- the demo duty room, solved, checked and written -------------------------------------------

def test_the_demo_duty_room_is_solved_checked_and_written(tmp_path):
    res = CliRunner().invoke(main, ["roster", "--problem", str(ROOT / "rosters" / "demo-dutyroom"),
                                    "--out", str(tmp_path), "--time-limit", "10"])
    assert res.exit_code == 0, res.output
    assert "排班：网格中心指挥值班室 四周值班表（示例），2026年11月2日至11月29日，指挥值班室，14 人、3 个班次" in res.output
    assert "硬性规则全部通过" in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["排班_按人员.csv", "班次人数.csv", "公平性.csv", "目标分解.csv", "求解情况.csv", "规则校验.csv", "roster.json",
         "排班.xlsx", "值班表-指挥值班室.html", "值班表-指挥值班室.pdf"])
    with open(tmp_path / "班次人数.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 28 * 3 and all(int(r["在岗"]) >= int(r["最少人数"]) for r in rows)
    wb = openpyxl.load_workbook(tmp_path / "排班.xlsx")
    ws = wb["排班_按人员"]
    assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$1:$1"
    head = [c.value for c in ws[1]]
    assert head[:6] == ["人员编号", "姓名", "角色", "单位", "11/2(一)", "11/3(二)"]      # no empty 班组 column
    assert ws.column_dimensions["D"].width > ws.column_dimensions["E"].width      # the day columns are the narrow ones
    assert head[-5:] == ["工作天数", "工时", "夜班", "上班周末", "节假日"]
    # The part-time contract (Z12: 64–96 hours, 4 days in a row, 2 weekends) is kept.
    z12 = next(r for r in ws.iter_rows(values_only=True) if r[0] == "Z12")
    assert 64 <= z12[head.index("工时")] <= 96 and z12[head.index("上班周末")] <= 2


def test_a_persons_own_max_hours_broken_by_hand_is_said_as_written(tmp_path):
    # 最多工时 20 is read as hours (a decimal may be given): the check said "应在 0～20.0 小时".
    f = write_shifts(tmp_path, staff=[["A", "甲", "20"], ["B", "乙", ""]], staff_columns=["最多工时"],
                     demand=[EVERY("白", 1, 1)])
    prob = load_problem(f)
    edited = Roster(prob, duty={**{("B", d): "D" for d in range(14)}, **{("A", d): "D" for d in range(3)}})
    found = {c.rule: c for c in check_roster(edited)}
    assert found["working_time"].violations == ["甲 本期工作 24 小时，应在 0～20 小时"]


def test_every_cell_of_a_row_is_judged_whatever_the_others_hold(tmp_path):
    # A wrong role, date, shift or request used to hide the rest of its row: fixing one problem then
    # showed the next, one run at a time.
    f = write_shifts(tmp_path, staff=[["A", "甲", "", ""], ["B", "乙", "厨师", "abc"]], staff_columns=["角色", "最多连续工作天数"],
                     demand=[EVERY("白", 1, 1), ["2026-12-01", "早", "x", 0, 10, 1]],
                     leave=[["C", "2026-11-32", "2026-11-40", "病假"]],
                     requests=[["A", "2026-11-31", "早", "放假", 0]])
    assert located(f) == [
        "staff.csv:3 角色: 发现 '厨师'，应为 角色之一：值班人员",
        "staff.csv:3 最多连续工作天数: 发现 'abc'，应为 非负整数",
        "demand.csv:3 日期: 发现 '2026-12-01'，应为 排班期间内的日期（2026-11-02～2026-11-15）",
        "demand.csv:3 班次: 发现 '早'，应为 班次编号或简称之一：D（白）、N（夜）",
        "demand.csv:3 需求人数: 发现 'x'，应为 非负整数",
        "leave.csv:2 人员: 发现 'C'，应为 staff 中已有的人员编号",
        "leave.csv:2 开始: 发现 '2026-11-32'，应为 存在的日期 YYYY-MM-DD",
        "leave.csv:2 结束: 发现 '2026-11-40'，应为 存在的日期 YYYY-MM-DD",
        "requests.csv:2 日期: 发现 '2026-11-31'，应为 存在的日期 YYYY-MM-DD",
        "requests.csv:2 班次: 发现 '早'，应为 班次编号或简称之一：D（白）、N（夜）",
        "requests.csv:2 申请: 发现 '放假'，应为 休息 或 上班",
        "requests.csv:2 权重: 发现 '0'，应为 正整数",
    ]


def test_the_neighbourhoods_of_a_period_of_one_or_two_days_stay_within_it():
    """A duty roster of 1 or 2 days stopped with an internal error in the improving steps (a block of
    at least 3 days asked of a 1-day period: ValueError from randrange)."""
    import random

    from engine.roster.lns import Neighbourhoods

    for n in (1, 2, 3):
        nb = object.__new__(Neighbourhoods)
        nb.rng, nb.n, nb.units, nb.short, nb.span = random.Random(n), n, [f"P{i}" for i in range(12)], [0], None
        nb.community, nb.patrollers, nb.visitors, nb.teams, nb._cycle = {}, nb.units, [], [], []
        for k in (1, 4, 12):
            for _ in range(200):
                kind, units, days = nb.choose(k)
                assert days and all(0 <= d < n for d in days) and units <= set(nb.units), (n, k, kind, days)
