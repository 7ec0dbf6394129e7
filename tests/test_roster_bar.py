"""Issue 13's bar on the demo town's roster, worked out independently of the engine: the official
working days straight from chinese-calendar, leave and the office's options from the problem
folder's own files, the roster from its published roster.json."""
from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import chinese_calendar
import pytest
import yaml

from engine.app.rosters import publish, solve_roster
from engine.roster.check import check_roster
from engine.roster.model import TEAM, load_problem
from engine.roster.solve import Roster

from roster_checker import violations

ROOT = Path(__file__).resolve().parents[1]
TOWN = ROOT / "rosters" / "demo-town"
OCTOBER = [dt.date(2026, 10, d) for d in range(1, 32)]


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    out = tmp_path_factory.mktemp("town")
    run = solve_roster(TOWN, time_limit=10)
    assert not run.failed
    assert violations(run.roster) == []          # the test oracle agrees with the coverage check
    publish(run, out)
    return json.loads((out / "roster.json").read_text(encoding="utf-8")), out


def _leave() -> dict[str, set[dt.date]]:
    out: dict[str, set[dt.date]] = {}
    with open(TOWN / "leave.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            a, b = dt.date.fromisoformat(r["开始"]), dt.date.fromisoformat(r["结束"])
            out.setdefault(r["人员"], set()).update(d for d in OCTOBER if a <= d <= b)
    return out


def _grid_workers() -> list[str]:
    with open(TOWN / "workers.csv", encoding="utf-8") as fh:
        return [r["工号"] for r in csv.DictReader(fh)]


def test_october_2026_has_18_official_working_days():
    # 10月1日–7日 National Day, 10月10日 (Saturday) an adjusted working day: 8, 9, 10, 12–16, 19–23, 26–30.
    assert sum(chinese_calendar.is_workday(d) for d in OCTOBER) == 18


def test_no_grid_worker_works_beyond_the_official_days_plus_the_paid_duty_days(published):
    roster, _ = published
    office = yaml.safe_load((TOWN / "problem.yaml").read_text(encoding="utf-8"))["rules"]["working_days"]
    assert office == {"extra_days": 2, "below": 0}
    leave = _leave()
    for w in _grid_workers():
        target = sum(1 for d in OCTOBER if chinese_calendar.is_workday(d) and d not in leave.get(w, set()))
        worked = sum(1 for s in roster["duty"][w] if s)
        assert target <= worked <= target + 2, (w, worked, target)


def test_duty_days_are_counted_for_pay(published):
    roster, out = published
    for w in _grid_workers():
        row = roster["duty"][w]
        rest = [i for i, d in enumerate(OCTOBER) if not chinese_calendar.is_workday(d)]
        off_workdays = [i for i, d in enumerate(OCTOBER) if chinese_calendar.is_workday(d) and not row[i]
                        and d not in _leave().get(w, set())]
        counts = roster["counts"][w]
        assert counts["值班"] == sum(1 for i in rest if row[i])
        assert counts["补休"] == len(off_workdays)
        assert counts["值班"] - counts["补休"] <= 2          # at most two duty days paid, the rest given back
    with open(out / "排班_按人员.csv", encoding="utf-8-sig") as fh:
        head = next(csv.reader(fh))
    assert head[-9:] == ["工作天数", "应出勤", "值班", "周末", "节假日", "补休", "夜班", "顶岗", "工时"]


def test_holiday_duty_is_spread_within_one_day(published):
    roster, _ = published
    holidays = [i for i, d in enumerate(OCTOBER) if chinese_calendar.get_holiday_detail(d)[1] == "National Day"
                and not chinese_calendar.is_workday(d)]
    assert [i + 1 for i in holidays] == [1, 2, 3, 4, 5, 6, 7]
    leave = _leave()
    counts = {w: sum(1 for i in holidays if roster["duty"][w][i]) for w in _grid_workers()}
    present = [c for w, c in counts.items() if not any(OCTOBER[i] in leave.get(w, set()) for i in holidays)]
    assert max(counts.values()) - min(present) <= 1


def team_spread(duty: dict[str, list]) -> tuple[int, int]:
    """(most − fewest days, most − fewest nights) among the squad teams of a roster's duty table."""
    teams = {u: row for u, row in duty.items() if u.startswith(TEAM)}
    days = [sum(1 for s in row if s) for row in teams.values()]
    nights = [sum(1 for s in row if s == "night") for row in teams.values()]
    return max(days) - min(days), max(nights) - min(nights)


def test_every_team_within_two_days_and_one_night_of_the_others(published):
    roster, _ = published
    days, nights = team_spread(roster["duty"])
    assert days <= 2 and nights <= 1


def _issue_13_teams() -> dict[str, list]:
    """The squad of the roster of issue 13: T1 25 days with 14 nights, T4 1 day and no night."""
    t1 = ["night"] * 14 + ["day"] * 11 + [None] * 6
    t4 = ["day"] + [None] * 30
    t2 = [None if i % 2 else "day" for i in range(31)]
    t3 = [None if i % 2 == 0 else "night" for i in range(31)]
    return {TEAM + "T1": t1, TEAM + "T2": t2, TEAM + "T3": t3, TEAM + "T4": t4}


def test_the_bar_and_the_coverage_check_reject_the_squad_roster_of_issue_13():
    duty = _issue_13_teams()
    assert team_spread(duty) == (24, 15)
    prob = load_problem(TOWN)
    ro = Roster(prob, duty={(u, d): s for u, row in duty.items() for d, s in enumerate(row) if s})
    found = {c.rule: c for c in check_roster(ro)}
    assert "鹤山镇班组 最多 25（班组T1）、最少 1（班组T4），相差 24，超过 2" in found["fair_days"].violations
    # T3 works the 15 odd days at night; T2 and T4 no night.
    assert "鹤山镇班组 最多 15（班组T3）、最少 0（班组T2、班组T4），相差 15，超过 1" in found["fair_nights"].violations
