"""The `wangge` command as a clerk uses it: whole outputs, exit codes, nothing written on errors."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from engine.cli import main

from conftest import FIXTURES, RULES

DATA = FIXTURES / "data"
BROKEN = DATA / "broken"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_every_command_has_help_with_an_example():
    import click

    def walk(cmd, path):
        if isinstance(cmd, click.Group):
            for name, sub in cmd.commands.items():
                yield from walk(sub, path + [name])
        else:
            yield " ".join(path), cmd

    for name, cmd in walk(main, []):
        assert cmd.help and "示例" in cmd.help, f"wangge {name} has no example in its help"


def test_validate_presets():
    r = run("validate", RULES)
    assert r.exit_code == 0
    assert r.output.splitlines() == [
        f"✓ {RULES / 'base.yaml'}（县网格化服务管理中心网格员考核通用基础，基础细则，供继承）",
        f"✓ {RULES / 'chengguan.yaml'}（城关镇网格员月度考核细则 2026.1）：7 个示例全部通过",
        f"✓ {RULES / 'kongjiazhuang.yaml'}（孔家庄街道三级网格长月度考核细则 2026.1）：4 个示例全部通过",
        f"✓ {RULES / 'pingtai.yaml'}（县网格化服务管理平台网格员月度考核办法 2026.1）：3 个示例全部通过",
        f"✓ {RULES / 'xunchai.yaml'}（网格员日常巡查和民情日志考核细则 2026.1）：3 个示例全部通过",
        f"✓ {RULES / 'youhao.yaml'}（友好社区网格管理员月度考核细则 2026.1）：8 个示例全部通过",
    ]


def test_validate_broken_policy_exact_output():
    path = FIXTURES / "policies" / "error-unknown-metric.yaml"
    r = run("validate", path)
    assert r.exit_code == 2
    assert r.output == (
        "错误：考核细则有 1 处问题，未写出任何结果：\n"
        f"  {path}:12 items[0].rules[0].tiers.metric: 发现 'patrol_rte'，应为 metrics 中已声明的指标（已声明：patrol_rate）\n")


def test_score_writes_results_and_prints_the_ranking(tmp_path):
    out = tmp_path / "out"
    r = run("score", "--policy", RULES / "chengguan.yaml", "--month", "2026-10", "--workers", DATA / "workers.csv",
            "--metrics", DATA / "metrics.csv", "--events", DATA / "events.csv", "--out", out)
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == ["findings.csv", "results.csv", "results.json"]
    lines = r.output.splitlines()
    assert lines[0] == "城关镇网格员月度考核细则（2026.1） 2026-10 考核排名，共 4 人"
    assert "       -2 urgent_late 紧急信息迟报：事件E6（治安，紧急）发现后5小时才上报（超过3小时、不超过24小时），" \
           "属“紧急信息迟报”，扣2分" in lines
    assert "       否决 veto_major_case 迟报漏报引发重大案件：迟报漏报引发重大案件（综合治理一票否决），" \
           "本月考核不合格，绩效工资不予发放，星级计为0星" in lines
    res = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert res["format"] == "wangge.results/1" and len(res["inputs"]) == 3
    csv_text = (out / "results.csv").read_text(encoding="utf-8-sig")
    assert csv_text.splitlines()[0] == "工号,姓名,乡镇,社区,网格,得分,扣分,加分,一票否决,星级,档次,发放比例,绩效基数,绩效工资,名次"
    assert "W02,李娜,鹤山镇,东村,1-1-02,76,24,0,,2,发放80%,0.8,500.00,400.00,3" in csv_text


def test_bad_data_reports_everything_and_writes_nothing(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").write_text("previous", encoding="utf-8")
    r = run("score", "--policy", RULES / "chengguan.yaml", "--month", "2026-10",
            "--workers", BROKEN / "workers-duplicate-id.csv", "--metrics", BROKEN / "metrics-bad-values.csv",
            "--events", BROKEN / "events-bad-times.csv", "--out", out)
    assert r.exit_code == 2
    lines = [line.replace(str(BROKEN) + "/", "") for line in r.output.splitlines()]
    assert lines == [
        "错误：数据文件有 9 处问题，未写出任何结果：",
        "  workers-duplicate-id.csv:3 工号: 发现 'W01'，应为 唯一的工号（与第 2 行重复）",
        "  workers-duplicate-id.csv:3 月工资: 发现 '三千'，应为 不小于 0、最多两位小数的金额（元）",
        "  workers-duplicate-id.csv:3 网格员类别: 发现 '城市'，应为 以下之一：村、社区",
        "  metrics-bad-values.csv:2 纸质民情日志: 发现 '8.5'，应为 整数（纸质民情日志）",
        "  metrics-bad-values.csv:2 群众满意率: 发现 'abc'，应为 数字（群众满意率）",
        "  metrics-bad-values.csv:3 工号: 发现 'W09'，应为 名册中已有的工号",
        "  events-bad-times.csv:2 发现时间: 发现 '2026-10-45 09:00'，应为 时间，如 2026-10-05 14:30",
        "  events-bad-times.csv:3 类别: 发现 '其他'，应为 以下之一：矛盾纠纷、安全隐患、治安、环境卫生、民生服务",
        "  events-bad-times.csv:3 上报时间: 发现 '2026-10-01 09:00'，应为 不早于发现时间 2026-10-02 09:00",
    ]
    assert (out / "results.json").read_text(encoding="utf-8") == "previous"
    assert sorted(p.name for p in out.iterdir()) == ["results.json"]


def test_schema_is_valid_json(tmp_path):
    r = run("schema", "--out", tmp_path / "s.json")
    assert r.exit_code == 0
    schema = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert schema["title"] == "wangge 考核细则（policy）"


def test_demo_runs_the_months_into_history(tmp_path):
    r = run("demo", "--out", tmp_path / "demo", "--no-roster", "--no-print")
    assert r.exit_code == 0, r.output
    assert "共 68 人" in r.output
    assert "已逐月存入历史" in r.output and "2026-01、2026-02" in r.output
    res = json.loads((tmp_path / "demo" / "2026-10" / "results.json").read_text(encoding="utf-8"))
    assert len(res["workers"]) == 68 and len({w["community"] for w in res["workers"]}) == 7
    assert res["period_rules_applied"] is True
    assert (tmp_path / "demo" / "2026-10" / "paysheet.xlsx").exists()


@pytest.mark.slow
def test_demo_makes_the_roster_and_the_print_pack(tmp_path):
    r = run("demo", "--out", tmp_path / "demo")
    assert r.exit_code == 0, r.output
    assert "示例镇 2026-10 巡查排班已排出（全部硬性规则校验通过）" in r.output
    names = {p.name for p in (tmp_path / "demo" / "2026-10" / "print").iterdir()}
    for name in ("考核通报.pdf", "通报批评.pdf", "通报表彰.pdf", "考核结果通知单-鹤山镇.pdf", "绩效工资发放表-签字版.pdf",
                 "巡查排班表-鹤山镇.pdf", "网格公示牌-鹤山镇.pdf", "服务联系卡-鹤山镇.pdf", "考核通报.docx", "考核排名.xlsx"):
        assert name in names


def test_demo_data_is_deterministic(tmp_path):
    run("demo-data", "--out", tmp_path / "a")
    run("demo-data", "--out", tmp_path / "b")
    for name in ("workers.csv", "metrics.csv", "events.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_internal_errors_are_reported_plainly(monkeypatch):
    from engine.cli import score as score_mod

    def boom(*a, **k):
        raise RuntimeError("unexpected")

    monkeypatch.setattr(score_mod, "score_to_dir", boom)
    monkeypatch.delenv("WANGGE_DEBUG", raising=False)
    r = CliRunner().invoke(main, ["score", "--policy", "x", "--month", "2026-10", "--workers", "w",
                                  "--metrics", "m", "--out", "o"])
    assert r.exit_code == 70
    assert "程序内部错误（不是您的文件有误；之前的结果保持不变）：RuntimeError: unexpected" in r.output


def test_out_that_is_a_file_is_a_located_error_not_an_internal_one(tmp_path):
    (tmp_path / "taken").write_text("x", encoding="utf-8")
    for out in (tmp_path / "taken", tmp_path / "taken" / "sub"):
        r = run("score", "--policy", RULES / "chengguan.yaml", "--month", "2026-10", "--workers", DATA / "workers.csv",
                "--metrics", DATA / "metrics.csv", "--events", DATA / "events.csv", "--out", out)
        assert r.exit_code == 2
        assert r.output == ("错误：输入文件有 1 处问题，未写出任何结果：\n"
                            f"  {out} --out: 发现 '{out}'，应为 可以写入的输出文件夹（{tmp_path / 'taken'} 是一个文件，不是文件夹）\n")
    assert (tmp_path / "taken").read_text(encoding="utf-8") == "x"


@pytest.mark.parametrize("args, expected", [
    (["score", "--policy", "x.yaml", "--month", "2026-10"], "错误：缺少选项 '--workers'"),
    (["run", "--policy", "rules", "--month", "2026-10", "--workers", "w", "--metrics", "m", "--out", "o"],
     "错误：'--policy' 的取值不对：文件 'rules' 是文件夹，这里应为文件。"),
    (["scor"], "错误：没有命令 'scor'。 是否想用 'score'？"),
    (["demo-data", "--size", "city", "--out", "x"], "错误：'--size' 的取值不对：'city' 不是以下之一：'town', 'county'。"),
    (["score", "--month"], "错误：选项 '--month' 后面要写一个值。"),
])
def test_command_line_mistakes_are_said_in_chinese(args, expected):
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2 and expected in r.output


@pytest.mark.parametrize("args, expected", [
    (["score", "--policy", "x.yaml", "--month", "2026-10"],
     "用法： wangge score [选项]\n用 'wangge score --help' 查看说明和示例。\n\n错误：缺少选项 '--workers'。\n"),
    (["score", "--policy", "x", "--month", "2026-10", "--workers", "w", "--metrics", "m", "--out", "o", "--top", "x"],
     "用法： wangge score [选项]\n用 'wangge score --help' 查看说明和示例。\n\n错误：'--top' 的取值不对：'x' 不是有效的整数。\n"),
    (["roster", "--problem", "p", "--out", "o", "--time-limit", "abc"],
     "用法： wangge roster [选项]\n用 'wangge roster --help' 查看说明和示例。\n\n错误：'--time-limit' 的取值不对：'abc' 不是有效的数字。\n"),
    (["validate"],
     "用法： wangge validate [选项] 细则文件或文件夹...\n用 'wangge validate --help' 查看说明和示例。\n\n"
     "错误：缺少参数 '细则文件或文件夹...'。\n"),
])
def test_click_messages_have_no_english_fragments(args, expected):
    r = CliRunner().invoke(main, args, prog_name="wangge")
    assert (r.exit_code, r.output) == (2, expected)


def _commands(group, path=()):
    import click

    for name, cmd in group.commands.items():
        yield path + (name,)
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, path + (name,))


def test_every_help_page_is_chinese():
    import re

    pages = {cmd: CliRunner().invoke(main, [*cmd, "--help"], prog_name="wangge").output for cmd in _commands(main)}
    pages[()] = CliRunner().invoke(main, ["--help"], prog_name="wangge").output
    for cmd, text in pages.items():
        usage = text.splitlines()[0]
        assert usage.startswith("用法： wangge") and "[选项]" in usage, (cmd, usage)
        assert not re.search(r"\b(OPTIONS|COMMAND|ARGS|TEXT|INTEGER|FLOAT|BOOLEAN|PATH|FILE|DIRECTORY)\b", text), cmd
        assert "Options:" not in text and "Commands:" not in text and "选项：" in text, cmd


def test_a_log_without_the_earlier_month_that_deadlines_and_repeats_need_is_said(tmp_path):
    """pingtai counts events by report and closing month, ages deadlines and follows a problem over months:
    a log of October alone is scored, with a note naming those rules and asking for September's events;
    with September in the log there is nothing to say, and a policy counting discovery months never says it."""
    from engine.demo import generate
    from engine.policy import load_policy

    pingtai = RULES / "pingtai.yaml"
    alone = generate(load_policy(pingtai).for_month("2026-10"), tmp_path / "alone", "town", ["2026-10"])
    r = run("score", "--policy", pingtai, "--month", "2026-10", "--workers", alone["workers"], "--metrics",
            alone["metrics"], "--events", alone["events"], "--out", tmp_path / "o1")
    assert r.exit_code == 0, r.output
    note = ("提示：事件台账中没有2026年10月以前发现的事件，而“本月上报事件”“24小时内核实事件”“有效上报”等 8 项也计入此前发现的事件"
            "（在本月上报或办结、在本月逾期、同一问题连续出现）：请在台账中一并提供2026年9月的事件，否则这些情形按没有发生计算")
    assert note in r.output
    assert json.loads((tmp_path / "o1" / "results.json").read_text(encoding="utf-8"))["notes"] == [note[3:]]
    both = generate(load_policy(pingtai).for_month("2026-10"), tmp_path / "both", "town", ["2026-09", "2026-10"])
    r = run("score", "--policy", pingtai, "--month", "2026-10", "--workers", both["workers"], "--metrics",
            both["metrics"], "--events", both["events"], "--out", tmp_path / "o2")
    assert r.exit_code == 0 and "提示" not in r.output
    assert "notes" not in json.loads((tmp_path / "o2" / "results.json").read_text(encoding="utf-8"))
    chengguan = RULES / "chengguan.yaml"
    plain = generate(load_policy(chengguan).for_month("2026-10"), tmp_path / "plain", "town", ["2026-10"])
    r = run("score", "--policy", chengguan, "--month", "2026-10", "--workers", plain["workers"], "--metrics",
            plain["metrics"], "--events", plain["events"], "--out", tmp_path / "o3")
    assert r.exit_code == 0 and "提示" not in r.output
