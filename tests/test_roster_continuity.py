"""Continuity with the previous month's published roster: rest windows, runs, successions and visit
windows reach back across 10月1日 (the previous roster is a roster.json of September, written here)."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from engine.app.rosters import solve_roster
from engine.errors import DataError, InfeasibleError
from engine.roster.check import check_roster
from engine.roster.model import TEAM, load_problem
from engine.roster.solve import Roster, solve

from roster_build import ring, write_problem
from test_roster_rules import rule_lines

SEPTEMBER = [str(dt.date(2026, 9, d)) for d in range(1, 31)]


def september(tmp_path, duty: dict[str, list], visits=()) -> str:
    """A published September roster.json: each unit's last days as given, the earlier days off."""
    rows = {u: [None] * (30 - len(tail)) + list(tail) for u, tail in duty.items()}
    data = {"month": "2026-09", "days": SEPTEMBER, "duty": rows, "visits": [list(v) for v in visits]}
    path = tmp_path / "september" / "roster.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path.parent)


def _wants_oct_1(tmp_path, rules):
    grids, staff = ring(3)
    return write_problem(tmp_path / "october", grids=grids, staff=staff, requests=[["W1", "2026-10-01", "上班", 50]],
                         rules={"publicity_day": False, **rules})


def checked(ro):
    assert all(c.ok for c in check_roster(ro)), [c.violations for c in check_roster(ro) if not c.ok]
    return ro


def test_six_days_at_the_end_of_september_keep_the_first_of_october_off(tmp_path):
    f = _wants_oct_1(tmp_path, {"rest_in_window": False})
    prev = september(tmp_path, {"W1": ["duty"] * 6})
    ro = checked(solve(load_problem(f, previous=prev), time_limit=5))
    assert ("W1", 0) not in ro.duty and ro.breakdown()["requests"] == 50


def test_without_the_previous_roster_the_first_of_october_is_free(tmp_path):
    ro = checked(solve(load_problem(_wants_oct_1(tmp_path, {"rest_in_window": False})), time_limit=5))
    assert ("W1", 0) in ro.duty and ro.breakdown().get("requests", 0) == 0


def test_a_single_day_off_on_the_last_of_september_continues_into_october(tmp_path):
    # At least two days off in a row: 9月30日 off after working 9月29日, so 10月1日 is off too.
    f = _wants_oct_1(tmp_path, {"min_consecutive_off": {"days": 2}})
    prev = september(tmp_path, {"W1": ["duty", None]})
    ro = checked(solve(load_problem(f, previous=prev), time_limit=5))
    assert ("W1", 0) not in ro.duty and ro.breakdown()["requests"] == 50


def test_a_newcomer_without_a_previous_row_starts_free(tmp_path):
    f = _wants_oct_1(tmp_path, {"rest_in_window": False})
    prev = september(tmp_path, {"W2": ["duty"] * 6, "W99": ["duty"] * 6})     # W99 has left
    ro = checked(solve(load_problem(f, previous=prev), time_limit=5))
    assert ("W1", 0) in ro.duty


def _teams(tmp_path):
    grids, staff = ring(3)
    staff += [["Q1", "队员1", "巡防队员", "鹤山镇", "", "T1"], ["Q2", "队员2", "巡防队员", "鹤山镇", "", "T2"]]
    rules = {"shift_cover": {"shifts": {"day": {"min_teams": 1, "min_strength": 1},
                                        "night": {"min_teams": 1, "min_strength": 1}}},
             "rest_in_window": {"applies_to": ["grid_worker"]}, "max_consecutive_work": {"applies_to": ["grid_worker"]}}
    return write_problem(tmp_path / "october", grids=grids, staff=staff, rules=rules)


def test_a_night_on_the_last_of_september_is_not_followed_by_a_day_shift(tmp_path):
    prev = september(tmp_path, {TEAM + "T1": ["night"], TEAM + "T2": ["day"]})
    prob = load_problem(_teams(tmp_path), previous=prev)
    ro = checked(solve(prob, time_limit=5))
    assert ro.duty.get((TEAM + "T1", 0)) != "day"
    wrong = Roster(prob, duty={(TEAM + "T1", 0): "day"})
    found = {c.rule: c for c in check_roster(wrong)}
    assert "班组T1 上期最后一天 夜班后次日上白班" in found["forbidden_succession"].violations


def _visits(tmp_path):
    grids, staff = ring(3, supervisor="S1")
    staff.append(["S1", "督导", "督导员", "鹤山镇", "", ""])
    return write_problem(tmp_path / "october", grids=grids, staff=staff,
                         leave=[["S1", "2026-10-01", "2026-10-03", "年休假"]])


def test_a_visit_window_begun_in_september_binds(tmp_path):
    # Last visit to each grid on 9月24日: the window 9月25日–10月1日 needs a visit, and S1 is away on 10月1日.
    prev = september(tmp_path, {"S1": ["duty"] + [None] * 6}, visits=[["S1", g, 23] for g in ("G1", "G2", "G3")])
    with pytest.raises(InfeasibleError) as exc:
        solve(load_problem(_visits(tmp_path), previous=prev), time_limit=5)
    text = "\n".join(exc.value.explanation)
    assert rule_lines(text) == {"督导员每周督导", "请假"}
    assert "上期排班：督导 最近一次到网格 G1 是本期开始前 7 天" in text


def test_without_september_the_first_visit_may_wait_for_the_leave(tmp_path):
    ro = checked(solve(load_problem(_visits(tmp_path)), time_limit=5))
    assert min(d for w, g, d in ro.visits if g == "G1") >= 3


def test_a_previous_roster_that_does_not_end_the_day_before_is_refused(tmp_path):
    path = tmp_path / "august.json"
    path.write_text(json.dumps({"days": [str(dt.date(2026, 8, d)) for d in range(1, 32)], "duty": {}}), encoding="utf-8")
    with pytest.raises(DataError) as exc:
        load_problem(_wants_oct_1(tmp_path, {}), previous=path)
    assert [str(p) for p in exc.value.problems] == [
        f"{path} days: 发现 '2026-08-01～2026-08-31'，应为 截至 2026-09-30 的上期排班（与本期 2026-10-01 起的排班相接）"]


def test_the_previous_roster_named_in_problem_yaml_and_solved_by_the_app(tmp_path):
    f = _wants_oct_1(tmp_path, {"rest_in_window": False})
    september(tmp_path, {"W1": ["duty"] * 6})
    text = (f / "problem.yaml").read_text(encoding="utf-8")
    (f / "problem.yaml").write_text(text + "previous: ../september\n", encoding="utf-8")
    run = solve_roster(f, time_limit=5)
    assert run.problem.history is not None and run.problem.history.source == str(tmp_path / "october" / ".." / "september" / "roster.json")
    assert not run.failed and ("W1", 0) not in run.roster.duty


# -- a run that ends on the previous period's last day is judged once this period's first day is known

def _shift_room(tmp_path, rule):
    from roster_build import write_shifts
    return write_shifts(tmp_path / "november", staff=[["A", "甲"], ["B", "乙"], ["C", "丙"]],
                        demand=[["每天", "白", 1, 1, 10, 1]], rules={"max_consecutive_work": False, rule: {"days": 2}})


def _october(tmp_path, duty):
    days = [str(dt.date(2026, 10, 26) + dt.timedelta(d)) for d in range(7)]     # 10月26日–11月1日
    path = tmp_path / "october" / "roster.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"days": days, "duty": duty}, ensure_ascii=False), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("rule, last, first, what", [
    ("min_consecutive_work", [None] * 6 + ["D"], None, "甲 上期最后 1 天起只连续上班 1 天（至少 2 天）"),
    ("min_consecutive_off", ["D"] * 6 + [None], "D", "甲 上期最后 1 天起只连续休息 1 天（至少 2 天）"),
])
def test_a_one_day_run_on_the_previous_last_day_ended_by_the_first_day_is_flagged(tmp_path, rule, last, first, what):
    # The model forbids it (the pattern reaches back into the previous roster): the check must too,
    # or a hand-edited roster breaking it is published, and neither period's check ever judged the run.
    prob = load_problem(_shift_room(tmp_path, rule), previous=_october(tmp_path, {"A": last, "B": [None] * 7}))
    ro = checked(solve(prob, time_limit=5))
    assert ro.duty.get(("A", 0)) == ("D" if first is None else None)
    others = {("B", d): "D" for d in range(14)}
    edited = Roster(prob, duty={**others, **({("A", 0): first} if first else {})})
    found = {c.rule: c for c in check_roster(edited)}
    assert what in found[rule].violations


def test_working_the_first_day_after_a_previous_run_already_beyond_the_limit_is_flagged(tmp_path):
    # The previous month allowed 6 days in a row and its roster ends with 6; this month's limit is 4.
    # The model keeps the first day off; the check counted a run only where it reached 5, inside the
    # previous roster, so a hand-edited roster working the first day passed.
    f = _shift_room(tmp_path, "min_consecutive_work")
    text = (f / "problem.yaml").read_text(encoding="utf-8").replace("max_consecutive_work: false",
                                                                   "max_consecutive_work: {days: 4}")
    (f / "problem.yaml").write_text(text, encoding="utf-8")
    prob = load_problem(f, previous=_october(tmp_path, {"A": [None] + ["D"] * 6, "B": [None] * 7}))
    ro = checked(solve(prob, time_limit=5))
    assert ("A", 0) not in ro.duty
    edited = Roster(prob, duty={**{("B", d): "D" for d in range(14)}, ("A", 0): "D", ("A", 1): "D"})
    found = {c.rule: c for c in check_roster(edited)}
    assert [v for v in found["max_consecutive_work"].violations if v.startswith("甲")] == [
        "甲 到 11月2日 已连续工作 7 天（最多 4 天）"]
