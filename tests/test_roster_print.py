"""The printed duty-room roster (值班表, kind shifts): by person and day with shift codes, the people
on duty against the people wanted, totals per person, legend and signatures, on landscape A4."""
from __future__ import annotations

import copy
import csv
import datetime as dt
import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.notices import PackRequest, is_pack_file, load_settings, render_print_pack, render_roster_print
from engine.notices.context import shift_roster_context
from engine.roster.model import load_problem

ROOT = Path(__file__).resolve().parents[1]
ROOM = ROOT / "rosters" / "demo-dutyroom"
PUBLISHED = ROOT / "tests" / "fixtures" / "roster" / "dutyroom-published" / "roster.json"
GOLDEN = ROOT / "tests" / "golden" / "roster"
DATE = "2026-10-30"


@pytest.fixture(scope="module")
def settings():
    return load_settings(ROOM / "office.yaml")


@pytest.fixture()
def roster():
    return json.loads(PUBLISHED.read_text(encoding="utf-8"))


def _html(roster, settings, tmp_path) -> str:
    pack = render_roster_print(roster, settings, tmp_path, formats=("html",), date=DATE)
    assert pack.files == ["值班表-指挥值班室.html"]
    return (tmp_path / "值班表-指挥值班室.html").read_text(encoding="utf-8")


def test_the_printed_duty_room_roster_matches_its_golden_file(roster, settings, tmp_path):
    got = _html(roster, settings, tmp_path)
    golden = GOLDEN / "值班表-指挥值班室.html"
    if os.environ.get("WANGGE_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(got, encoding="utf-8")
    assert got == golden.read_text(encoding="utf-8"), "rerun with WANGGE_UPDATE_GOLDEN=1 after checking it"


def test_a_persons_row_and_totals_worked_out_by_hand(roster):
    # 石文艳 (Z04), from her duty row in the fixture: 早 on days 2,3,15,19,20,23,24,25 of November,
    # 中 on the 16th, 夜 on the 26th and 29th; on leave 9–13 November.  11 shifts of 8 hours; the
    # 15th and the 29th are Sundays.  Shift order early, late, night (problem.yaml).
    ctx = shift_roster_context(roster, {"unit": "单位"})
    assert ctx["total_head"] == ["班数", "早", "中", "夜", "工时", "周末", "请假"]
    (block,) = ctx["blocks"]
    row = next(r for r in block["rows"] if r["name"] == "石文艳")
    assert row["seq"] == 4
    assert [c["text"] for c in row["cells"][:14]] == ["休", "早", "早", "休", "休", "休", "休",
                                                      "假", "假", "假", "假", "假", "休", "早"]
    assert row["totals"] == [11, 8, 1, 2, "88", 2, 5]
    assert [c["cls"] for c in row["cells"][24:25]] == ["night"]
    assert ctx["period"] == "2026年11月2日至11月29日" and ctx["days_count"] == 28
    assert ctx["legend"].startswith("早＝早班（08:00—16:00，8小时）；中＝中班（16:00—24:00，8小时）；"
                                    "夜＝夜班（24:00—次日08:00，8小时）；休＝休息；假＝请假")


def test_a_shift_short_of_demand_is_marked_and_named(roster):
    # 2 November: 3 on the early shift, 3 wanted.  Take one of them off: 2/3, short, and named.
    on = [pid for pid, row in roster["duty"].items() if row[0] == "early"]
    assert len(on) == 3 and roster["directory"]["demand"]["early"][0] == [3, 2]
    roster["duty"][on[0]][0] = None
    ctx = shift_roster_context(roster, {"unit": "单位"})
    early = ctx["blocks"][0]["counts"][0]
    assert early["label"] == "早" and early["cells"][0] == {"text": "2/3", "cls": "short"}
    assert ctx["short"][0] == "11月2日早（2/3）"
    assert ctx["short"] == sorted(ctx["short"], key=lambda t: tuple(map(int, re.findall(r"\d+", t)[:2])))
    # Nobody on the early shift all month: 28 shortages, besides the fixture's own three nights
    # (26–28 November, 1/2); the first twelve named, then how many.
    for row in roster["duty"].values():
        row[:] = [None if s == "early" else s for s in row]
    ctx = shift_roster_context(roster, {"unit": "单位"})
    assert ctx["short_count"] == 31 and len(ctx["short"]) == 13 and ctx["short"][-1] == "等共 31 个班次"
    assert ctx["short"][:2] == ["11月2日早（0/3）", "11月3日早（0/3）"]


def test_every_count_and_total_agrees_with_the_rosters_own_tables(tmp_path):
    """Solved and published by the command: the printed per-day counts against 班次人数.csv and the
    printed totals against 排班_按人员.csv (both written by engine/roster/output.py from the roster)."""
    res = CliRunner().invoke(main, ["roster", "--problem", str(ROOM), "--out", str(tmp_path), "--time-limit", "3"])
    assert res.exit_code == 0, res.output
    assert "值班表-指挥值班室.pdf" in res.output and "示例发文设置" not in res.output
    roster = json.loads((tmp_path / "roster.json").read_text(encoding="utf-8"))
    ctx = shift_roster_context(roster, {"unit": "单位"})
    (block,) = ctx["blocks"]
    with open(tmp_path / "班次人数.csv", encoding="utf-8-sig") as fh:
        demand = list(csv.DictReader(fh))
    labels = [c["label"] for c in block["counts"]]
    for r in demand:
        i = (dt.date.fromisoformat(r["日期"]) - dt.date(2026, 11, 2)).days
        cell = block["counts"][labels.index(r["班次"])]["cells"][i]
        assert cell["text"] == f"{r['在岗']}/{r['需求人数']}"
        assert (cell["cls"] == "short") == (int(r["缺员"]) > 0)
    with open(tmp_path / "排班_按人员.csv", encoding="utf-8-sig") as fh:
        people = list(csv.DictReader(fh))
    for r, row in zip(people, block["rows"]):        # the same people, in the same (the staff list's) order
        assert row["name"] == r["姓名"]
        assert row["totals"][0] == int(r["工作天数"]) and float(row["totals"][4] or 0) == float(r["工时"])
        assert row["totals"][3] == int(r["夜班"])            # the one night shift (夜)
    assert (tmp_path / "值班表-指挥值班室.pdf").read_bytes()[:5] == b"%PDF-"


def test_an_old_roster_json_without_demand_prints_the_counts_alone(roster, settings, tmp_path):
    del roster["directory"]["demand"]
    for s in roster["directory"]["shifts"].values():
        del s["time"]
    ctx = shift_roster_context(roster, {"unit": "单位"})
    assert not ctx["has_demand"] and ctx["short"] == []
    assert ctx["blocks"][0]["counts"][0]["cells"][0] == {"text": "3", "cls": ""}
    assert "在岗人数" in _html(roster, settings, tmp_path)


def test_a_roster_failing_its_checks_says_so_across_the_top(roster, settings, tmp_path):
    roster["check"][0]["violations"] = ["某人某天"]
    html = _html(roster, settings, tmp_path)
    assert f"本排班有 1 条硬性规则未通过校验（{roster['check'][0]['label']}），不能作为正式值班表张贴" in html


def test_a_period_longer_than_a_month_is_cut_at_mondays_with_the_totals_last(roster):
    long = copy.deepcopy(roster)
    start = dt.date(2026, 11, 2)
    n = 42
    days = [start + dt.timedelta(days=i) for i in range(n)]
    long["days"] = [str(d) for d in days]
    long["duty"] = {u: (row * 2)[:n] for u, row in roster["duty"].items()}
    long["directory"]["calendar"] = [{"date": str(d), "weekend": d.weekday() >= 5, "holiday": False,
                                      "rest": d.weekday() >= 5, "holiday_name": "", "key": False, "key_reason": ""}
                                     for d in days]
    long["directory"]["demand"] = {s: (v * 2)[:n] for s, v in roster["directory"]["demand"].items()}
    ctx = shift_roster_context(long, {"unit": "单位"})
    assert [len(b["days"]) for b in ctx["blocks"]] == [28, 14]
    assert [b["label"] for b in ctx["blocks"]] == ["11月2日—11月29日", "11月30日—12月13日"]
    assert [b["totals"] for b in ctx["blocks"]] == [False, True]
    assert ctx["blocks"][0]["rows"][0]["totals"] == []
    # 石文艳: 11 shifts in the first four weeks, and her first two weeks again (早 on the 3rd, 4th, 15th)
    assert ctx["blocks"][1]["rows"][3]["totals"][0] == 11 + 3
    assert ctx["blocks"][1]["days"][1]["month"] == 12           # the month named where it changes


def test_the_print_pack_prints_a_shift_roster_once_for_its_unit(roster, settings, tmp_path):
    req = PackRequest({"month": "2026-11", "workers": []}, settings, roster=roster, only={"roster"}, formats={"html"})
    pack, _ = render_print_pack(req, tmp_path, date=DATE)
    assert pack.files == ["值班表-指挥值班室.html"]
    assert is_pack_file(tmp_path / "值班表-指挥值班室.html")


def test_the_office_settings_are_read_before_solving_and_a_bad_one_stops_the_run(tmp_path):
    bad = tmp_path / "office.yaml"
    bad.write_text("issuer: 某中心\n", encoding="utf-8")
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["roster", "--problem", str(ROOM), "--out", str(out), "--office", str(bad)])
    assert res.exit_code == 2, res.output
    assert f"{bad}:1 document_number" in res.output and not out.exists()


@pytest.mark.parametrize("time, hours, expected", [
    ("25:00-08:00", 8, "上下班时间 HH:MM-HH:MM"),
    ("08:00", 8, "上下班时间 HH:MM-HH:MM"),
    ("08:00-15:00", 8, "与 hours（8 小时）一致的上下班时间"),
])
def test_a_shifts_times_are_checked(tmp_path, time, hours, expected):
    import shutil
    folder = tmp_path / "room"
    shutil.copytree(ROOM, folder)
    text = (folder / "problem.yaml").read_text(encoding="utf-8")
    text = text.replace('early: {label: 早, hours: 8, time: "08:00-16:00"}',
                        f'early: {{label: 早, hours: {hours}, time: "{time}"}}')
    (folder / "problem.yaml").write_text(text, encoding="utf-8")
    from engine.errors import DataError
    with pytest.raises(DataError) as exc:
        load_problem(folder)
    (p,) = exc.value.problems
    assert (Path(p.file).name, p.line, p.field, p.found) == ("problem.yaml", 10, "shifts.early.time", time)
    assert p.expected.startswith(expected)
