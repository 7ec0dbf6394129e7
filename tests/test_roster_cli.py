"""`wangge roster` as a clerk uses it: files written, errors in Chinese, nothing written on failure."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
from click.testing import CliRunner

from engine.cli import main

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures" / "roster"


def run(*args):
    return CliRunner().invoke(main, ["roster", *map(str, args)])


def test_roster_writes_every_output_and_verifies_every_hard_rule(tmp_path):
    res = run("--problem", FIX / "valid", "--month", "2026-10", "--out", tmp_path, "--time-limit", 3)
    assert res.exit_code == 0, res.output
    # The rules with something to check here: 请假不排班, 网格每日巡查, 本人在岗须巡本格, 每人每日巡查上限,
    # 督导员每周督导, 每7天至少休息1天, 最多连续工作天数, 出租房屋消防检查, 消防宣传日全员在岗.
    assert "规则校验：9 条硬性规则全部通过" in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["排班_按人员.csv", "排班_按网格.csv", "督导走访.csv", "公平性.csv", "目标分解.csv", "求解情况.csv",
         "规则校验.csv", "roster.json", "排班.xlsx"])
    with open(tmp_path / "规则校验.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["结果"] for r in rows} == {"通过"}
    wb = openpyxl.load_workbook(tmp_path / "排班.xlsx")
    assert wb.sheetnames == ["排班_按人员", "排班_按网格", "督导走访", "公平性", "目标分解", "求解情况", "规则校验"]
    head = [c.value for c in wb["排班_按网格"][1]]
    assert head[:6] == ["网格编号", "社区", "镇街", "重点网格", "网格员", "10/1(四)节"]
    # Every grid cell names a patroller; 10月12日 (index 16 after 5 fixed columns) is W1's first leave day.
    g1 = [c.value for c in wb["排班_按网格"][2]]
    assert g1[0] == "G1" and all(g1[5:])
    assert g1[5 + 11].startswith(("张二(B岗)", "张三(C岗)"))
    data = json.loads((tmp_path / "roster.json").read_text(encoding="utf-8"))
    assert data["month"] == "2026-10" and data["patrol"]["G1"][11] in ("W2", "W3")


def test_bad_input_lists_every_problem_and_writes_nothing(tmp_path):
    res = run("--problem", FIX / "many-faults", "--out", tmp_path / "out")
    assert res.exit_code == 2
    f = FIX / "many-faults"
    assert res.output.splitlines() == [
        "错误：数据文件有 5 处问题，未写出任何结果：",
        f"  {f}/grids.csv:2 AB岗: 发现 'W7'，应为 staff 中已有的人员编号（AB岗人员不存在）",
        f"  {f}/grids.csv:3 网格员: 发现 （缺失），应为 本网格的网格员编号（每个网格必须有网格员）",
        f"  {f}/grids.csv:5 督导员: 发现 'S1'，应为 乙镇 的督导员（按镇分解时督导员不能跨镇督导，此人属 甲镇）"
        "（改为本镇督导员，或在 problem.yaml 中写 decompose: false 整县求解）",
        f"  {f}/leave.csv:3 开始: 发现 '2026-10-13～2026-10-15'，应为 与第2行的请假（2026-10-12～2026-10-13）不重叠",
        f"  {f}/leave.csv:4 人员: 发现 'W77'，应为 staff 中已有的人员编号",
    ]
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_infeasible_month_is_explained_and_nothing_written(tmp_path):
    res = run("--problem", ROOT / "rosters" / "demo-infeasible", "--out", tmp_path / "out", "--time-limit", 5)
    assert res.exit_code == 1
    assert "错误：无法排出满足全部硬性规则的排班" in res.output
    assert "网格 3-07 在 10月12日 需要巡查 2 次，但本人、B岗、C岗" in res.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_replan_from_cli_reports_changes(tmp_path):
    assert run("--problem", FIX / "valid", "--out", tmp_path / "v1", "--time-limit", 3).exit_code == 0
    res = run("--problem", FIX / "valid", "--out", tmp_path / "v2", "--time-limit", 3,
              "--replan", tmp_path / "v1", "--from", "2026-10-20")
    assert res.exit_code == 0, res.output
    # Same data, nothing new: the published roster stands unchanged.
    assert "相对已发布排班，10月20日 起共改动 0 项" in res.output
    assert (tmp_path / "v2" / "变更.csv").exists()


def test_replan_needs_from(tmp_path):
    res = run("--problem", FIX / "valid", "--out", tmp_path, "--replan", tmp_path)
    assert res.exit_code == 2
    assert "--replan 与 --from 同时给出" in res.output


def test_help_has_example():
    res = CliRunner().invoke(main, ["roster", "--help"])
    assert res.exit_code == 0 and "示例：" in res.output and "--time-limit" in res.output


def test_relaxed_roster_is_written_with_exit_0_and_its_broken_rule_marked(tmp_path):
    # A --relax roster used to exit 1 ("verification failure") for the very rule it was asked to relax.
    res = run("--problem", FIX / "lone-worker-needs-relax", "--out", tmp_path, "--relax")
    assert res.exit_code == 0, res.output
    assert "规则校验：4 条硬性规则通过，1 条按 --relax 放宽" in res.output
    assert "  每7天至少休息1天（rest_in_window）（已放宽）：25 处，例如 甲 10月1日 起 7 天只休息 0 天" in res.output
    with open(tmp_path / "规则校验.csv", encoding="utf-8-sig") as fh:
        result = {r["规则编号"]: r["结果"] for r in csv.DictReader(fh)}
    assert result["rest_in_window"] == "已放宽" and {v for k, v in result.items() if k != "rest_in_window"} == {"通过"}
    with open(tmp_path / "放宽的规则.csv", encoding="utf-8-sig") as fh:
        assert list(csv.reader(fh))[1:] == [["rest_in_window", "每7天至少休息1天", "甲 每 7 天至少休息 1 天"]]


def test_without_relax_the_lone_worker_month_is_explained(tmp_path):
    res = run("--problem", FIX / "lone-worker-needs-relax", "--out", tmp_path / "out")
    assert res.exit_code == 1
    assert res.output.splitlines()[1:] == [
        "错误：无法排出满足全部硬性规则的排班",
        "  【甲镇】已证明无可行排班，冲突的规则和事实：",
        "    规则「网格每日巡查」：网格 G1 在 10月1日、10月2日、10月3日、10月4日、10月5日、10月6日、10月7日（共 7 天）"
        " 每天需要巡查 1 次，可巡查的只有：本人 甲",
        "    规则「每7天至少休息1天」：甲 每 7 天至少休息 1 天",
    ]


def test_bad_time_limit_and_jobs_are_input_errors(tmp_path):
    # A zero time limit used to run and report "no roster found within 0 seconds" (exit 1).
    res = run("--problem", FIX / "valid", "--out", tmp_path / "out", "--time-limit", 0, "--jobs", 0)
    assert res.exit_code == 2
    assert res.output.splitlines() == [
        "错误：数据文件有 2 处问题，未写出任何结果：",
        "  命令行 --time-limit: 发现 0.0，应为 正数（秒）",
        "  命令行 --jobs: 发现 0，应为 正整数",
    ]
    assert not (tmp_path / "out").exists()


def test_an_unknown_bound_is_explained_and_a_known_one_is_not(tmp_path):
    # The demo town in 3 s: neighbourhood search only (under FULL_SEARCH_FROM), so no bound.  The
    # solver's figures are shown with --verbose only (the default output is in a clerk's words).
    res = run("--problem", ROOT / "rosters" / "demo-town", "--out", tmp_path / "town", "--time-limit", 3, "--verbose")
    assert res.exit_code == 0, res.output
    assert "下界 未知" in res.output and "（下界未知：镇街分到的求解时间不足 30 秒" in res.output
    # Three grids: a neighbourhood that frees everything proves the roster optimal, with its bound.
    res = run("--problem", FIX / "valid", "--out", tmp_path / "small", "--time-limit", 3, "--verbose")
    assert res.exit_code == 0, res.output
    assert "已证明是罚分最低的排班" in res.output and "下界未知" not in res.output and "下界 未知" not in res.output


def test_default_output_speaks_a_clerks_words(tmp_path):
    # Issue 11 item 12: 目标值, 下界, 差距 and 邻域搜索 only behind --verbose.
    res = run("--problem", FIX / "valid", "--out", tmp_path / "small", "--time-limit", 3)
    assert res.exit_code == 0, res.output
    for word in ("目标值", "下界", "差距", "邻域搜索"):
        assert word not in res.output
    assert "罚分合计" in res.output and "已排出" in res.output
