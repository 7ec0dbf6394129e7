"""The converter of the Curtois & Qu benchmark (benchmarks/shift_benchmark.py), on a small instance
written here in the benchmark's text format (the benchmark's own data is not part of wangge)."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from engine.roster.model import load_problem
from engine.roster.solve import solve

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("shift_benchmark", ROOT / "benchmarks" / "shift_benchmark.py")
bench = importlib.util.module_from_spec(spec)
sys.modules["shift_benchmark"] = bench          # (its dataclasses look their module up there)
spec.loader.exec_module(bench)

INSTANCE = """\
# A small instance in the benchmark's text format, made up for this test.
SECTION_HORIZON
# The horizon length in days:
14

SECTION_SHIFTS
# ShiftID, Length in mins, Shifts which cannot follow this shift | separated
D,480,
N,720,D

SECTION_STAFF
# ID, MaxShifts, MaxTotalMinutes, MinTotalMinutes, MaxConsecutiveShifts, MinConsecutiveShifts, MinConsecutiveDaysOff, MaxWeekends
A,D=14|N=3,5760,2880,5,2,2,1
B,D=14|N=3,5760,2880,5,2,2,1
C,D=14|N=0,4800,2400,4,1,1,2
D,D=14|N=4,5760,2880,5,2,2,1

SECTION_DAYS_OFF
# EmployeeID, DayIndexes (start at zero)
A,0
C,6,7

SECTION_SHIFT_ON_REQUESTS
# EmployeeID, Day, ShiftID, Weight
B,2,D,2
D,9,N,3
A,0,D,4

SECTION_SHIFT_OFF_REQUESTS
# EmployeeID, Day, ShiftID, Weight
C,3,D,1

SECTION_COVER
# Day, ShiftID, Requirement, Weight for under, Weight for over
""" + "".join(f"{d},D,2,100,1\n{d},N,1,100,1\n" for d in range(14))


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    path = root / "Instance99.txt"
    path.write_text(INSTANCE, encoding="utf-8")
    inst = bench.read_instance(path)
    unavoidable = bench.write_problem(inst, root / "Instance99", time_limit=5)
    return inst, root / "Instance99", unavoidable


def test_the_text_form_is_read_as_written(converted):
    inst, _, unavoidable = converted
    assert inst.days == 14 and inst.shifts == {"D": 480, "N": 720} and inst.cannot_follow == {"D": set(), "N": {"D"}}
    assert [s.id for s in inst.staff] == ["A", "B", "C", "D"] and inst.staff[2].max_shifts == {"D": 14, "N": 0}
    assert inst.days_off == {"A": {0}, "C": {6, 7}} and inst.cover[5, "N"] == (1, 100, 1)
    assert unavoidable == 4             # A asks for a day shift on their day off


def test_the_converted_problem_holds_every_rule_of_the_instance(converted):
    _, folder, _ = converted
    prob = load_problem(folder)
    c = prob.people["C"]
    assert c.shifts == ["D"] and prob.param("C", "working_time", "max_hours") == 80
    assert prob.param("C", "max_consecutive_work", "days") == 4 and prob.param("A", "max_working_weekends", "max") == 1
    assert prob.rule("forbidden_succession")["pairs"] == [["N", "D"]] and prob.cal.start.weekday() == 0
    assert {(lv.person, lv.start.day) for lv in prob.leaves} == {("A", 1), ("C", 7), ("C", 8)}


def test_a_solved_roster_is_valid_by_the_instance_and_priced_alike(converted):
    inst, folder, unavoidable = converted
    ro = solve(load_problem(folder), time_limit=5)
    bad, penalty = bench.evaluate(inst, dict(ro.duty))
    assert bad == []
    assert penalty == ro.objective + unavoidable


def test_the_evaluator_finds_what_breaks(converted):
    inst, _, _ = converted
    # C on 7 day shifts in a row from day 0 (on their days off too), a night before a day for A.
    roster = {("C", d): "D" for d in range(7)} | {("A", 3): "N", ("A", 4): "D"}
    bad, _ = bench.evaluate(inst, roster)
    assert "C day 6: works a day off" in bad and "A day 3: D follows N" in bad
    assert "C day 0: 7 shifts in a row > 4" in bad
