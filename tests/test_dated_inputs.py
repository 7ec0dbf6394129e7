"""The records sheet and the event log's named stages and problem keys, read from files as an office
gives them (engine/inputs.py, the policy helper's delimited pieces), with their located problems."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.errors import DataError
from engine.policy import load_policy
from engine.scoring import score_month

from conftest import RULES

WORKERS = "工号,姓名,乡镇,社区,网格,月工资,网格员类别\nW01,张伟,鹤山镇,东村,1-1-01,3000,社区\nW02,李娜,鹤山镇,东村,1-1-02,2500,村\n"
WORKING = ["2026-10-08", "2026-10-09", "2026-10-10"] + [f"2026-10-{d}" for d in
                                                        (12, 13, 14, 15, 16, 19, 20, 21, 22, 23, 26, 27, 28, 29, 30)]


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def xunchai():
    return load_policy(RULES / "xunchai.yaml").for_month("2026-10")


def full_month(wid: str, skip: set = frozenset()) -> list[str]:
    rows = []
    for d in WORKING:
        if d not in skip:
            rows += [f"{wid},巡查,{d},08:00,09:10,", f"{wid},巡查,{d},14:00,15:20,"]
    return rows


def diaries(wid: str, n: int = 1) -> list[str]:
    import datetime as dt
    day = dt.date(2026, 9, 28)
    out = []
    while day <= dt.date(2026, 11, 1):
        out += [f"{wid},民情日志,{day:%Y-%m-%d},,,"] * n
        day += dt.timedelta(days=1)
    return out


def records_csv(rows: list[str]) -> str:
    return "工号,类型,日期,开始时间,结束时间,数量\n" + "\n".join(rows) + "\n"


def month_files(folder: Path, rows: list[str]) -> list[Path]:
    """The register of W01 and W02, a metrics sheet of their ids and a records sheet of `rows`."""
    return [write(folder, n, t) for n, t in (("w.csv", WORKERS), ("m.csv", "工号\nW01\nW02\n"),
                                             ("r.csv", records_csv(rows)))]


def test_a_records_sheet_is_read_and_scored(tmp_path, xunchai):
    # W01 misses the morning of 10月9日 (0 of 60 minutes: 1 point); W02 has every half-day; both write
    # a diary a day.  A row of September (the week of 9月28日 belongs to October) counts, one of 10月31日's
    # neighbour month 12月 is ignored.
    rows = full_month("W01") + full_month("W02") + diaries("W01") + diaries("W02")
    rows = [r for r in rows if r != "W01,巡查,2026-10-09,08:00,09:10,"] + ["W01,巡查,2026-12-01,08:00,09:00,"]
    paths = month_files(tmp_path, rows)
    res = score_month(xunchai, "2026-10", paths[0], paths[1], None, records=paths[2])
    got = {w["worker_id"]: (w["score"], [f["reason"] for f in w["findings"]]) for w in res["workers"]}
    assert got == {"W01": ("99", ["10月9日巡查上午0分钟（应不少于60分钟），每时段不足扣1分，扣1分"]), "W02": ("100", [])}
    assert res["inputs"]["records"]["path"] == str(paths[2])
    from decimal import Decimal
    from engine.inputs import read_month
    inputs = read_month(xunchai, "2026-10", paths[0], paths[1], None, paths[2])
    assert inputs.cases[0].metrics["patrol_daily_hours"] == Decimal("2.44")   # (17×2.5 + 80/60) / 18 = 2.4352


def test_every_problem_of_a_records_sheet_is_located(tmp_path, xunchai):
    rows = ["W01,巡查,2026-10-08,09:00,08:00,", "W01,巡查,2026-10-09,08:00,,", "W09,巡查,2026-10-09,08:00,09:00,",
            "W01,走访,2026-10-09,,,3", "W01,巡查,2026-10-3x,08:00,09:00,",
            "W01,巡查,,2026-10-12 08:00,2026-10-13 09:00,"]
    paths = month_files(tmp_path, rows)
    with pytest.raises(DataError) as exc:
        score_month(xunchai, "2026-10", paths[0], paths[1], None, records=paths[2])
    got = [(p.line, p.field, p.found) for p in exc.value.problems]
    assert got == [(2, "结束时间", "08:00"), (3, "结束时间", None), (4, "工号", "W09"), (5, "类型", "走访"),
                   (6, "日期", "2026-10-3x"), (7, "结束时间", "2026-10-13 09:00")]
    assert exc.value.problems[-1].expected == "与开始时间相隔不超过 24 小时"


def test_a_count_rows_times_out_of_order_are_located_and_an_instant_is_not(tmp_path, xunchai):
    # 民情日志 counts rows (its times only place it in a slot): 09:00 to 08:00 is still a typo, and so is a
    # 25-hour span; a diary written at one instant (start = end) is fine
    rows = full_month("W01") + full_month("W02") + diaries("W01") + diaries("W02") + [
        "W01,民情日志,2026-10-08,09:00,08:00,", "W02,民情日志,,2026-10-12 08:00,2026-10-13 09:00,",
        "W02,民情日志,2026-10-14,10:00,10:00,"]
    paths = month_files(tmp_path, rows)
    with pytest.raises(DataError) as exc:
        score_month(xunchai, "2026-10", paths[0], paths[1], None, records=paths[2])
    n = len(rows) + 1
    got = [(p.line, p.field, p.found) for p in exc.value.problems]
    assert got == [(n - 2, "结束时间", "08:00"), (n - 1, "结束时间", "2026-10-13 09:00")]


def test_a_sheet_without_the_neighbouring_days_a_week_counts_is_said(tmp_path, xunchai):
    # October's weeks run from 9月28日 to 11月1日 (a week belongs to the month of its Thursday) and the diary
    # quota counts every day of them: a sheet of October alone makes those days 0 for everybody
    from engine.inputs import read_month

    def notes(rows):
        paths = month_files(tmp_path, rows)
        return read_month(xunchai, "2026-10", paths[0], paths[1], None, paths[2], no_events=True).notes

    rows = full_month("W01") + full_month("W02") + diaries("W01") + diaries("W02")
    assert notes(rows) == []
    october = [r for r in rows if ",2026-10-" in r]
    assert notes(october) == [
        "记录表中没有9月28日至30日、11月1日的记录，而“每周民情日志不足”按周统计（一周属于其周四所在的月份），"
        "这些天也计入2026年10月：请在记录表中一并提供，否则按没有记录（0）计算"]
    # one worker's row on each side shows the sheet holds those days
    assert notes(october + ["W02,民情日志,2026-09-30,,,", "W01,民情日志,2026-11-01,,,"]) == []

def test_a_records_policy_without_a_records_sheet_stops(tmp_path, xunchai):
    paths = [write(tmp_path, n, t) for n, t in (("w.csv", WORKERS), ("m.csv", "工号\nW01\nW02\n"))]
    with pytest.raises(DataError) as exc:
        score_month(xunchai, "2026-10", paths[0], paths[1], None)
    [p] = exc.value.problems
    assert (p.file, p.field) == ("记录表", "记录表")


def test_a_records_sheet_of_another_month_is_refused(tmp_path, xunchai):
    rows = [f"W01,巡查,2026-07-{d:02d},08:00,09:00," for d in range(1, 20)]
    paths = month_files(tmp_path, rows)
    with pytest.raises(DataError) as exc:
        score_month(xunchai, "2026-10", paths[0], paths[1], None, records=paths[2])
    [p] = exc.value.problems
    assert (p.field, p.expected) == ("日期", "包含 2026-09-28 至 2026-11-01 的记录")


def test_working_days_of_a_year_the_calendar_does_not_know_are_asked_for(tmp_path, xunchai):
    paths = month_files(tmp_path, ["W01,巡查,2027-03-08,08:00,09:00,"])
    with pytest.raises(DataError) as exc:
        score_month(xunchai, "2027-03", paths[0], paths[1], None, records=paths[2])
    [p] = exc.value.problems
    assert p.field == "calendar" and p.expected.startswith("2027年的法定节假日和调休安排")


def test_stage_times_and_problem_keys_are_read_from_the_event_log(tmp_path):
    policy = load_policy(RULES / "pingtai.yaml").for_month("2026-10")
    events = ("事件编号,工号,类别,等级,发现时间,上报时间,办结时间,受理时间,核实时间,问题编号\n"
              "E1,W01,环境卫生,一般,2026-09-10 08:00,2026-09-10 09:00,2026-09-10 18:00,2026-09-10 10:00,"
              "2026-09-10 12:00,垃圾乱堆\n"
              "E2,W01,环境卫生,一般,2026-10-05 08:00,2026-10-05 09:00,2026-10-05 18:00,2026-10-05 10:00,"
              "2026-10-05 12:00,垃圾乱堆\n"
              "E3,W02,治安,一般,2026-10-20 08:00,2026-10-20 10:00,2026-11-02 10:00,2026-10-23 09:00,,\n"
              "E4,W02,治安,一般,2026-10-21 08:00,2026-10-21 10:00,,2026-10-21 07:00,,\n")
    metrics = "工号,有效上报率,按时核查率,群众满意率\nW01,100,100,96\nW02,100,100,96\n"
    paths = [write(tmp_path, n, t) for n, t in (("w.csv", WORKERS), ("m.csv", metrics), ("e.csv", events))]
    with pytest.raises(DataError) as exc:   # E4 accepted before it was discovered
        score_month(policy, "2026-10", *paths)
    assert [(p.line, p.field) for p in exc.value.problems] == [(5, "受理时间")]
    paths[2].write_text(events.replace("2026-10-21 07:00", "2026-10-21 11:00"), encoding="utf-8")
    res = score_month(policy, "2026-10", *paths)
    by = {w["worker_id"]: {f["rule_id"]: f for f in w["findings"]} for w in res["workers"]}
    # W01: the same problem as in September (the September row is read for it, then dropped)
    assert by["W01"]["repeat_issue"]["values"] == {"事件编号": "E2", "类别": "环境卫生", "等级": "一般",
                                                   "问题": "垃圾乱堆", "连续月数": "2"}
    # W02: E3 accepted after 2 days and closed in November: late for 受理 and for 24-hour handling in October
    assert set(by["W02"]) >= {"accept_late", "handled_late"}
    assert by["W02"]["accept_late"]["source"] == {"file": "e.csv", "row": 4}


def test_wangge_score_takes_the_records_sheet(tmp_path):
    rows = full_month("W01") + full_month("W02") + diaries("W01") + diaries("W02")
    paths = month_files(tmp_path, rows)
    res = CliRunner().invoke(main, ["score", "--policy", str(RULES / "xunchai.yaml"), "--month", "2026-10",
                                    "--workers", str(paths[0]), "--metrics", str(paths[1]),
                                    "--records", str(paths[2]), "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "out" / "results.json").exists()
    res = CliRunner().invoke(main, ["score", "--policy", str(RULES / "xunchai.yaml"), "--month", "2026-10",
                                    "--workers", str(paths[0]), "--metrics", str(paths[1]),
                                    "--out", str(tmp_path / "out2")])
    assert res.exit_code == 2 and "--records" in res.output
