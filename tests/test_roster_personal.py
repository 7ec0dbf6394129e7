"""Each person's best roster given everybody else's (engine/roster/personal.py), the start of
phase 2 of a roster by person and shift: it fills the days short of people, keeps every hard rule
of each person and every demand's hard minimum, and stands aside when a rule binding people
together is one it does not keep (a fairness max_spread).  Periods start on Monday 2026-11-02."""
from __future__ import annotations

import importlib
import time

from engine.roster.model import load_problem
from engine.roster.personal import personal_roster
from engine.roster.solve import Roster

from roster_build import write_shifts
from roster_checker import violations

solve_module = importlib.import_module("engine.roster.solve")     # (the package exports the function solve)
WEEK = {"start": "2026-11-02", "days": 7}


def run(folder, duty=None, seconds=10.0):
    prob = load_problem(folder)
    return prob, personal_roster(prob, time.perf_counter() + seconds, prob.seed, duty)


def valid(prob, duty) -> list[str]:
    return violations(Roster(prob, duty=dict(duty)))


def _three_of_three(tmp_path):
    # One week, 2 wanted a day (14), three people of at most 3 days each (9): at best 5 short × 10.
    return write_shifts(tmp_path, staff=[["A", "甲", 3], ["B", "乙", 3], ["C", "丙", 3]], staff_columns=["最多工作天数"],
                        demand=[["每天", "白", 2, 0, 10, 1]], period=WEEK, rules={"max_consecutive_work": False})


def test_the_days_short_of_people_are_filled_from_a_roster_blind_to_them(tmp_path):
    # Everybody on Monday to Wednesday (3 on each, nobody after): 1 beyond × 3 days + 2 short × 4 days.
    start = {(p, d): "D" for p in "ABC" for d in range(3)}
    prob, got = run(_three_of_three(tmp_path), start)
    assert got.objective == 50 and got.rounds >= 2
    assert valid(prob, got.duty) == []
    # Nine days worked, nobody beyond the two wanted.
    assert len(got.duty) == 9 and max(sum((p, d) in got.duty for p in "ABC") for d in range(7)) == 2


def test_from_nobody_on_duty_every_person_gets_a_roster_of_their_own(tmp_path):
    prob, got = run(_three_of_three(tmp_path))
    assert got.objective == 50 and valid(prob, got.duty) == []


def _alone_and_wishing_to_be_off(tmp_path, least):
    # One wanted a day (2 a person short), `least` a day required; 甲 alone on every day to start
    # with, though asking every day to be off that shift (5 each): going home saves 3 a day.
    return write_shifts(tmp_path, staff=[["A", "甲"], ["B", "乙", "夜"]], staff_columns=["可上班次"],
                        demand=[["每天", "白", 1, least, 2, 1]], period=WEEK, rules={"max_consecutive_work": False},
                        requests=[["A", f"2026-11-0{d + 2}", "白", "休息", 5] for d in range(7)])


def test_a_demands_minimum_keeps_the_only_person_on_its_shift(tmp_path):
    prob, got = run(_alone_and_wishing_to_be_off(tmp_path, 1), {("A", d): "D" for d in range(7)})
    assert sorted(got.duty) == [("A", d) for d in range(7)] and got.objective == 35
    assert valid(prob, got.duty) == []


def test_without_a_minimum_the_person_wishing_to_be_off_goes_home(tmp_path):
    prob, got = run(_alone_and_wishing_to_be_off(tmp_path, 0), {("A", d): "D" for d in range(7)})
    assert got.duty == {} and got.objective == 14


def test_a_persons_own_rules_are_kept_while_the_demand_pulls_against_them(tmp_path):
    # 2 wanted every night; 甲 and 乙 may work at most 4 nights and never a day shift after a night.
    f = write_shifts(tmp_path, staff=[["A", "甲", "N=4"], ["B", "乙", "N=4"]], staff_columns=["班次上限"],
                     demand=[["每天", "夜", 2, 0, 10, 1], ["每天", "白", 1, 0, 10, 1]], period=WEEK,
                     rules={"forbidden_succession": {"pairs": [["N", "D"]]}, "max_consecutive_work": False})
    prob, got = run(f)
    assert valid(prob, got.duty) == []
    assert all(sum(got.duty.get((p, d)) == "N" for d in range(7)) <= 4 for p in "AB")


def test_a_fairness_spread_binding_people_together_is_left_to_the_full_model(tmp_path):
    f = write_shifts(tmp_path, staff=[["A", "甲"], ["B", "乙"]], demand=[["每天", "白", 1, 0, 10, 1]], period=WEEK,
                     rules={"fair_days": {"max_spread": 1}, "max_consecutive_work": False})
    assert run(f)[1] is None


def test_without_a_fairness_spread_the_same_roster_is_built(tmp_path):
    f = write_shifts(tmp_path, staff=[["A", "甲"], ["B", "乙"]], demand=[["每天", "白", 1, 0, 10, 1]], period=WEEK,
                     rules={"max_consecutive_work": False})
    prob, got = run(f)
    assert got.objective == 0 and valid(prob, got.duty) == []


# -- phase 1 of a long roster by shift ---------------------------------------------------------

def _long(tmp_path, days):
    return write_shifts(tmp_path, staff=[["A", "甲"], ["B", "乙"], ["C", "丙"]], demand=[["每天", "白", 1, 0, 10, 1]],
                        period={"start": "2026-06-01", "days": days})


def _first(monkeypatch, folder):
    calls = []

    def spy(*args, **kw):
        calls.append(kw)
        return personal_roster(*args, **kw)

    monkeypatch.setattr(solve_module, "personal_roster", spy)
    prob = load_problem(folder)
    first = solve_module.first_roster(prob, 20)
    return prob, first, calls


def test_a_roster_by_shift_of_ninety_days_starts_person_by_person(monkeypatch, tmp_path):
    prob, first, calls = _first(monkeypatch, _long(tmp_path, 90))
    assert first.status == "FEASIBLE" and calls == [{"rounds_at_most": 1, "feasible_only": True}]
    duty = {key[:2]: key[2] for (which, key), v in first.hint if which == "shift" and v}
    assert valid(prob, duty) == []


def test_a_roster_by_shift_of_eighty_nine_days_starts_from_the_full_model(monkeypatch, tmp_path):
    prob, first, calls = _first(monkeypatch, _long(tmp_path, 89))
    assert first.status == "FEASIBLE" and calls == []
