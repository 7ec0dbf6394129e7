"""A roster adjusted by hand in 排班.xlsx (or its CSV tables) read back, every hard rule checked by the
coverage check, each break said at its cell, and published as the month's roster."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from engine.app.rosters import check_edited, import_roster, publish, replan_roster, solve_roster
from engine.cli import main
from engine.errors import DataError

from roster_build import ring, write_problem

ROOT = Path(__file__).resolve().parents[1]
VALID = ROOT / "tests" / "fixtures" / "roster" / "valid"
DAY0 = 5          # the first day column (A–E: 人员编号/网格编号 … 班组/网格员)


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    out = tmp_path_factory.mktemp("solved")
    run = solve_roster(VALID, time_limit=3, deterministic=True)
    publish(run, out)
    return run, out


def edited(solved, tmp_path, changes: dict[str, dict[tuple[str, int], str | None]]) -> Path:
    """A copy of 排班.xlsx with cells changed: sheet -> {(row id, day 1–31): new text}."""
    _, out = solved
    path = tmp_path / "排班.xlsx"
    wb = openpyxl.load_workbook(out / "排班.xlsx")
    for sheet, cells in changes.items():
        ws = wb[sheet]
        rows = {r[0].value: r[0].row for r in ws.iter_rows(min_row=2)}
        for (key, day), text in cells.items():
            ws.cell(rows[key], DAY0 + day).value = text
    wb.save(path)
    return path


def test_an_unchanged_roster_reads_back_as_it_was_and_is_priced_alike(solved, tmp_path):
    run, out = solved
    back = import_roster(VALID, out / "排班.xlsx")
    assert back.roster.duty == run.roster.duty and back.roster.patrol == run.roster.patrol
    assert back.roster.visits == run.roster.visits and back.roster.fire == run.roster.fire
    assert back.roster.objective == run.roster.objective and not back.failed
    publish(back, tmp_path / "published")
    data = json.loads((tmp_path / "published" / "roster.json").read_text(encoding="utf-8"))
    assert data["source"] == "imported"


def test_the_csv_tables_read_back_too(solved):
    run, out = solved
    back = import_roster(VALID, out)              # the folder of 排班_按人员.csv, 排班_按网格.csv, 督导走访.csv
    assert back.roster.duty == run.roster.duty and back.roster.patrol == run.roster.patrol


def test_a_grid_left_without_patrol_is_said_at_its_cells(solved, tmp_path):
    run, _ = solved
    day = next(d for d in range(1, 32) if run.roster.patrol["G1", d - 1] == "W1" and d not in (12, 13))
    path = edited(solved, tmp_path, {"排班_按网格": {("G1", day): None}})
    result = check_edited(VALID, path)
    head = [h for h in _heads(path, "排班_按网格")][DAY0 + day - 1]
    label = f"10月{day}日"
    assert [str(p) for p in result.problems] == [
        f"{path}「排班_按网格」:2 {head}: 发现 （缺失），应为 符合「网格每日巡查」：网格 G1 {label} 无人巡查",
        f"{path}「排班_按人员」:{_row(path, 'W1')} {head}: 发现 '班'，应为 符合「本人在岗须巡本格」：张一 {label} 在岗但未巡查本网格 G1",
    ]
    with pytest.raises(DataError):
        import_roster(VALID, path)


def test_duty_on_a_day_of_leave_is_said_at_the_persons_cell(solved, tmp_path):
    # 张一 put on duty on 10月12日 (sick leave) and patrolling G1 again.
    path = edited(solved, tmp_path, {"排班_按人员": {("W1", 12): "班"}, "排班_按网格": {("G1", 12): "张一×1"}})
    head = _heads(path, "排班_按人员")[DAY0 + 12 - 1]
    problems = [str(p) for p in check_edited(VALID, path).problems]
    assert f"{path}「排班_按人员」:{_row(path, 'W1')} {head}: 发现 '班'，应为 符合「请假不排班」：张一 10月12日 请假却被排班" in problems


def test_cells_that_cannot_be_read_are_listed_all_at_once(solved, tmp_path):
    path = edited(solved, tmp_path, {"排班_按人员": {("W2", 3): "早", ("W3", 4): "假"},
                                     "排班_按网格": {("G2", 5): "陌生人×1"}})
    heads_p, heads_g = _heads(path, "排班_按人员"), _heads(path, "排班_按网格")
    assert [str(p) for p in check_edited(VALID, path).problems] == [
        f"{path}「排班_按人员」:{_row(path, 'W2')} {heads_p[DAY0 + 2]}: 发现 '早'，应为 以下之一：班、休、假",
        f"{path}「排班_按人员」:{_row(path, 'W3')} {heads_p[DAY0 + 3]}: 发现 '假'，应为 班次、休（此人这一天没有登记请假：请假先写入 leave.csv）",
        f"{path}「排班_按网格」:3 {heads_g[DAY0 + 4]}: 发现 '陌生人×1'，应为 甲镇 一名人员的姓名或编号（本人、AB岗或相邻网格网格员："
        "张二、张三、张一）",
    ]


def test_a_broken_rule_that_may_be_relaxed_is_accepted_with_relax(solved, tmp_path):
    run, _ = solved
    # 王九 on duty ten days running (10月20日–29日): 每7天至少休息1天 and 最多连续工作天数 broken.
    cells = {("W9", d): "班" for d in range(20, 30)}
    grid = {("G9", d): "王九×1" for d in range(20, 30)}
    path = edited(solved, tmp_path, {"排班_按人员": cells, "排班_按网格": grid})
    strict = check_edited(VALID, path)
    assert {p.expected.split("」")[0] for p in strict.problems} == {"符合「每7天至少休息1天", "符合「最多连续工作天数"}
    loose = import_roster(VALID, path, relax=True)
    assert {c.rule for c in loose.relaxed} == {"rest_in_window", "max_consecutive_work"} and not loose.failed
    publish(loose, tmp_path / "out")
    with open(tmp_path / "out" / "放宽的规则.csv", encoding="utf-8-sig") as fh:
        assert {r["规则编号"] for r in csv.DictReader(fh)} == {"rest_in_window", "max_consecutive_work"}


def test_an_imported_roster_is_the_base_of_a_replan(solved, tmp_path):
    _, out = solved
    publish(import_roster(VALID, out / "排班.xlsx"), tmp_path / "published")
    again = replan_roster(VALID, tmp_path / "published", "2026-10-20", time_limit=3)
    assert again.change_count == 0 and not again.failed


def test_squad_members_must_show_their_teams_shift(tmp_path):
    grids, staff = ring(3)
    staff += [["Q11", "队员甲", "巡防队员", "鹤山镇", "", "T1"], ["Q12", "队员乙", "巡防队员", "鹤山镇", "", "T1"],
              ["Q21", "队员丙", "巡防队员", "鹤山镇", "", "T2"], ["Q22", "队员丁", "巡防队员", "鹤山镇", "", "T2"]]
    f = write_problem(tmp_path / "p", grids=grids, staff=staff,
                      rules={"shift_cover": {"shifts": {"day": {"min_teams": 1, "min_strength": 2},
                                                        "night": {"min_teams": 1, "min_strength": 2}}},
                             "rest_in_window": {"applies_to": ["grid_worker"]},
                             "max_consecutive_work": {"applies_to": ["grid_worker"]}})
    run = solve_roster(f, time_limit=3)
    publish(run, tmp_path / "out")
    wb = openpyxl.load_workbook(tmp_path / "out" / "排班.xlsx")
    ws = wb["排班_按人员"]
    rows = {r[0].value: r[0].row for r in ws.iter_rows(min_row=2)}
    first = ws.cell(rows["Q11"], DAY0 + 1).value
    ws.cell(rows["Q12"], DAY0 + 1, "夜" if first == "白" else "白")
    wb.save(tmp_path / "edited.xlsx")
    [problem] = check_edited(f, tmp_path / "edited.xlsx").problems
    assert problem.line == rows["Q12"] and problem.expected == f"与班组 T1 其他队员相同（巡防队按班组排班：第{rows['Q11']}行 队员甲 是 {first}）"


def test_the_command_line_checks_then_publishes(solved, tmp_path):
    _, out = solved
    run = CliRunner().invoke
    res = run(main, ["roster", "--problem", str(VALID), "--import", str(out / "排班.xlsx"), "--check"])
    assert res.exit_code == 0 and "符合全部硬性规则；加 --out 可作为本期排班发布" in res.output
    bad = edited((None, out), tmp_path, {"排班_按人员": {("W2", 3): "早"}})
    res = run(main, ["roster", "--problem", str(VALID), "--import", str(bad), "--check"])
    assert res.exit_code == 2 and "错误：数据文件有 1 处问题，未写出任何结果：" in res.output
    res = run(main, ["roster", "--problem", str(VALID), "--import", str(out / "排班.xlsx"), "--out", str(tmp_path / "pub")])
    assert res.exit_code == 0, res.output
    assert "作为本期排班发布" in res.output and (tmp_path / "pub" / "roster.json").exists()
    res = run(main, ["roster", "--problem", str(VALID), "--check"])
    assert res.exit_code == 2 and "命令行 --check: 发现 True，应为 与 --import 同用" in res.output


def _heads(path: Path, sheet: str) -> list[str]:
    return [c.value for c in openpyxl.load_workbook(path)[sheet][1]]


def _row(path: Path, key: str) -> int:
    ws = openpyxl.load_workbook(path)["排班_按人员"]
    return next(r[0].row for r in ws.iter_rows(min_row=2) if r[0].value == key)


def test_a_missing_sheet_is_said(solved, tmp_path):
    _, out = solved
    shutil.copy(out / "排班.xlsx", tmp_path / "x.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "x.xlsx")
    del wb["排班_按网格"]
    wb.save(tmp_path / "x.xlsx")
    assert [str(p) for p in check_edited(VALID, tmp_path / "x.xlsx").problems] == [
        f"{tmp_path / 'x.xlsx'} 工作表: 发现 '排班_按网格'，应为 名为「排班_按网格」的工作表（排班.xlsx 写出时的表名）"]


def test_a_duty_room_roster_reads_back_by_person_and_shift(tmp_path):
    room = ROOT / "rosters" / "demo-dutyroom"
    run = solve_roster(room, time_limit=5)
    publish(run, tmp_path / "out")
    back = import_roster(room, tmp_path / "out" / "排班.xlsx")
    assert back.roster.duty == run.roster.duty and not back.failed
    wb = openpyxl.load_workbook(tmp_path / "out" / "排班.xlsx")
    ws = wb["排班_按人员"]
    row = next(r[0].row for r in ws.iter_rows(min_row=2) if r[0].value == "Z03")     # Z03 works no nights
    day0 = [c.value for c in ws[1]].index("11/2(一)")           # a shift roster has no 班组 column
    ws.cell(row, day0 + 1).value = "夜"
    wb.save(tmp_path / "edited.xlsx")
    problems = [str(p) for p in check_edited(room, tmp_path / "edited.xlsx").problems]
    assert any(p.startswith(f"{tmp_path / 'edited.xlsx'}「排班_按人员」:{row} 11/2(一): 发现 '夜'，应为 符合「可上班次」：唐艳 11月2日 上夜班，此人只上 早、中 班")
               for p in problems), problems


def test_a_duty_room_roster_saved_as_one_csv_under_its_own_name_reads_back(tmp_path):
    """排班_按人员 is the whole of a roster by person and shift: a clerk's CSV of it, saved by Excel under
    a name of its own and in GB18030, is the roster; its breaks are said at its cells."""
    room = ROOT / "rosters" / "demo-dutyroom"
    run = solve_roster(room, time_limit=5)
    publish(run, tmp_path / "out")
    rows = list(csv.reader((tmp_path / "out" / "排班_按人员.csv").open(encoding="utf-8-sig")))
    own = tmp_path / "值班表（调整后）.csv"
    with own.open("w", encoding="gb18030", newline="") as f:
        csv.writer(f).writerows(rows)
    back = import_roster(room, own)
    assert back.roster.duty == run.roster.duty and not back.failed
    row = next(i for i, r in enumerate(rows, 1) if r[0] == "Z03")       # Z03 works no nights
    col = rows[0].index("11/2(一)")
    rows[row - 1][col] = "夜"
    with own.open("w", encoding="gb18030", newline="") as f:
        csv.writer(f).writerows(rows)
    problems = [str(p) for p in check_edited(room, own).problems]
    assert f"{own}:{row} 11/2(一): 发现 '夜'，应为 符合「可上班次」：唐艳 11月2日 上夜班，此人只上 早、中 班" in problems, problems


def test_a_shift_short_of_its_minimum_is_said_at_its_days_column(tmp_path):
    room = ROOT / "rosters" / "demo-dutyroom"
    run = solve_roster(room, time_limit=5)
    publish(run, tmp_path / "out")
    rows = list(csv.reader((tmp_path / "out" / "排班_按人员.csv").open(encoding="utf-8-sig")))
    col = rows[0].index("11/3(二)")
    for r in rows[1:]:                          # nobody on the night of 11月3日 (at least 1 wanted)
        if r[col] == "夜":
            r[col] = "休"
    edited_csv = tmp_path / "edited.csv"
    with edited_csv.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(rows)
    problems = [str(p) for p in check_edited(room, edited_csv).problems]
    assert f"{edited_csv} 11/3(二): 发现 （缺失），应为 符合「班次最少人数」：11月3日 夜班 0 人，至少 1 人" in problems, problems


def test_one_csv_cannot_be_a_patrol_roster(solved, tmp_path):
    _, out = solved
    one = tmp_path / "调整.csv"
    shutil.copy(out / "排班_按人员.csv", one)
    problems = [str(p) for p in check_edited(VALID, one).problems]
    assert problems == [f"{one} 文件: 发现 '调整.csv'，应为 巡查排班的排班.xlsx，或排班_按人员.csv、排班_按网格.csv 等所在的文件夹"
                        f"（一个 CSV 文件只能是按人员、按班次的值班表）"], problems


def test_a_duty_room_roster_in_a_workbook_of_one_sheet_under_another_name_reads_back(tmp_path):
    """The CSV opened in WPS and saved as 值班表（调整后）.xlsx: one sheet, named after the file."""
    room = ROOT / "rosters" / "demo-dutyroom"
    run = solve_roster(room, time_limit=5)
    publish(run, tmp_path / "out")
    rows = list(csv.reader((tmp_path / "out" / "排班_按人员.csv").open(encoding="utf-8-sig")))
    row = next(i for i, r in enumerate(rows, 1) if r[0] == "Z03")
    rows[row - 1][rows[0].index("11/2(一)")] = "夜"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "值班表（调整后）"
    for r in rows:
        ws.append(r)
    own = tmp_path / "值班表（调整后）.xlsx"
    wb.save(own)
    problems = [str(p) for p in check_edited(room, own).problems]
    assert f"{own}「值班表（调整后）」:{row} 11/2(一): 发现 '夜'，应为 符合「可上班次」：唐艳 11月2日 上夜班，此人只上 早、中 班" in problems, problems
    wb.create_sheet("备注")                       # two sheets, neither 排班_按人员: which one is meant is not said
    wb.save(own)
    assert [str(p) for p in check_edited(room, own).problems] == [
        f"{own} 工作表: 发现 '排班_按人员'，应为 名为「排班_按人员」的工作表（排班.xlsx 写出时的表名）"]


def test_a_day_column_deleted_by_hand_is_named_as_written(tmp_path):
    # It was named by its internal key: 包含列「d1」.
    from roster_build import write_shifts
    room = write_shifts(tmp_path / "room", staff=[["A", "甲"], ["B", "乙"]], demand=[["每天", "白", 1, 1, 10, 1]],
                        period={"start": "2026-11-04", "days": 7})
    publish(solve_roster(room, time_limit=2), tmp_path / "out")
    rows = list(csv.reader((tmp_path / "out" / "排班_按人员.csv").open(encoding="utf-8-sig")))
    col = rows[0].index("11/5(四)")
    edited_csv = tmp_path / "edited.csv"
    with edited_csv.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows([r[:col] + r[col + 1:] for r in rows])
    problems = [str(p) for p in check_edited(room, edited_csv).problems]
    assert problems == [f"{edited_csv}:1 表头: 发现 （缺失），应为 包含列「11/5(四)」（也可写作 11/5）"], problems
