"""`wangge run / history list / correct / compare / paysheet` end to end with the real scorer."""
from __future__ import annotations

import csv
import io
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("engine.scoring")

from engine.cli import main  # noqa: E402
from engine.demo import generate, month_list  # noqa: E402
from engine.history import History  # noqa: E402
from engine.policy import load_policy  # noqa: E402

POLICY_DIR = Path(__file__).parent / "fixtures" / "history" / "policy"
MONTHS = month_list("2026-10", 3)


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    """鹤山镇 demo data (68 workers) for Oct-Dec 2026, and a workspace with a copy of the policy."""
    root = tmp_path_factory.mktemp("town")
    rules = root / "rules"
    rules.mkdir()
    for f in ("chengguan-periods.yaml", "chengguan-whatif.yaml"):
        text = (POLICY_DIR / f).read_text(encoding="utf-8")
        # the copy lives elsewhere: point `extends` at the preset by absolute path
        preset = (POLICY_DIR / "../../../../rules/chengguan.yaml").resolve()
        (rules / f).write_text(text.replace("../../../../rules/chengguan.yaml", str(preset)), encoding="utf-8")
    pol = load_policy([rules / "chengguan-periods.yaml"]).for_month("2026-10")
    paths = generate(pol, root / "in", "town", MONTHS)
    return root, paths


def invoke(*args):
    res = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return res.exit_code, res.output


def run_month(root, paths, m, data, out, policy="chengguan-periods.yaml", cmd="run", *extra):
    return invoke(cmd, "--policy", root / "rules" / policy, "--month", m, "--workers", paths["workers"],
                  "--metrics", paths["metrics"], "--events", paths["events"], "--data", data, "--out", out, *extra)


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_run_three_months_rerun_correct_and_paysheet(town, tmp_path):
    root, paths = town
    data = tmp_path / "data"
    for m in MONTHS:
        code, out = run_month(root, paths, m, data, tmp_path / "out" / m)
        assert code == 0, out
        assert f"已存入 {int(m[:4])}年{int(m[5:])}月考核结果" in out
    assert "新增网格员 68 人" not in out            # only October brought new workers
    assert sorted(files(tmp_path / "out" / "2026-12")) == [
        "findings.csv", "paysheet.csv", "paysheet.xlsx", "period_findings.csv", "results.csv", "results.json"]
    dec = json.loads((tmp_path / "out" / "2026-12" / "results.json").read_text(encoding="utf-8"))
    assert dec["period_rules_applied"] is True
    assert dec == History(data).month_results("2026-12")
    # December: every worker has an annual grade; 好 within floor(20% x 68) = 13, 较好 within floor(30% x 68) = 20
    grades = [f["grade"] for w in dec["workers"] for f in w["period_findings"] if f["kind"] == "annual_grade"]
    assert len(grades) == 68 and grades.count("good") <= 13 and grades.count("fair") <= 20
    for w in dec["workers"]:
        assert Decimal(w["payable"]) == Decimal(w["pay"]) - Decimal(w["withheld"]) >= 0

    code, out = invoke("history", "list", "--data", data)
    assert code == 0 and all(m in out for m in MONTHS) and "chengguan" in out

    # re-running a month gives byte-identical outputs
    before = files(tmp_path / "out" / "2026-11")
    code, out = run_month(root, paths, "2026-11", data, tmp_path / "out" / "2026-11")
    assert code == 0 and "已替换 2026年11月" in out
    assert files(tmp_path / "out" / "2026-11") == before

    # correction: W0001's October paper diaries were entered as 0 (quota 8, 1 point each)
    rows = list(csv.reader(io.StringIO(Path(paths["metrics"]).read_text(encoding="utf-8"))))
    col = rows[0].index("纸质民情日志")
    for r in rows[1:]:
        if r[0] == "2026-10" and r[1] == "W0001":
            old_diary = int(r[col])
            r[col] = "0"
    fixed = tmp_path / "metrics-corrected.csv"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    fixed.write_text(buf.getvalue(), encoding="utf-8")
    old = {w["worker_id"]: w for w in History(data).month_results("2026-10")["workers"]}["W0001"]
    code, out = invoke("correct", "--policy", root / "rules" / "chengguan-periods.yaml", "--month", "2026-10",
                       "--workers", paths["workers"], "--metrics", fixed, "--events", paths["events"],
                       "--data", data, "--out", tmp_path / "corr", "--note", "申诉 2026-017")
    assert code == 0, out
    new = {w["worker_id"]: w for w in History(data).month_results("2026-10")["workers"]}["W0001"]
    assert Decimal(old["score"]) - Decimal(new["score"]) == min(8, old_diary)
    assert "2026年10月得分变化" in out and "W0001" in out and "已重新计算其后月份：2026-11、2026-12" in out
    assert History(data).corrections()[0]["note"] == "申诉 2026-017"

    code, out = invoke("paysheet", "--month", "2026-12", "--data", data, "--out", tmp_path / "ps")
    assert code == 0 and sorted(files(tmp_path / "ps")) == ["paysheet.csv", "paysheet.xlsx"]

    # a later month's outputs, written again from history after the correction
    code, out = invoke("history", "export", "--month", "2026-11", "--data", data, "--out", tmp_path / "x11")
    assert code == 0, out
    assert json.loads((tmp_path / "x11" / "results.json").read_text(encoding="utf-8")) == \
        History(data).month_results("2026-11")
    assert sorted(files(tmp_path / "x11")) == ["paysheet.csv", "paysheet.xlsx", "period_findings.csv", "results.json"]


def test_a_month_stored_under_a_policy_that_changed_is_refused(town, tmp_path):
    root, paths = town
    rules = tmp_path / "rules"
    shutil.copytree(root / "rules", rules)
    data = tmp_path / "data"
    assert run_month(tmp_path, paths, "2026-10", data, tmp_path / "o10")[0] == 0
    # the office edits the policy after October was stored (every score now earns 5 stars)
    p = rules / "chengguan-periods.yaml"
    p.write_text(p.read_text(encoding="utf-8") + "\nstars:\n  - {stars: 5, range: \"[0, +inf)\"}\n",
                 encoding="utf-8")
    code, out = run_month(tmp_path, paths, "2026-11", data, tmp_path / "o11")
    assert code == 2
    assert "历史中有 1 个月份的考核细则与现在不符，未写入任何内容" in out and "2026-10 的考核细则" in out
    assert [i.month for i in History(data).months()] == ["2026-10"] and not (tmp_path / "o11" / "results.json").exists()


def test_compare_two_policies_on_one_month(town, tmp_path):
    root, paths = town
    code, out = invoke("compare", "--policy", root / "rules" / "chengguan-periods.yaml",
                       "--policy", root / "rules" / "chengguan-whatif.yaml", "--month", "2026-10",
                       "--workers", paths["workers"], "--metrics", paths["metrics"], "--events", paths["events"],
                       "--out", tmp_path / "cmp")
    assert code == 0, out
    d = json.loads((tmp_path / "cmp" / "compare.json").read_text(encoding="utf-8"))
    changed = [r for r in d["workers"] if r["changed"]]
    # only the band moved: same scores; exactly the workers scoring [85, 90) changed, each gaining
    # 10% of the performance base (p90 -> full)
    assert d["totals"]["score_changed"] == 0
    assert changed and all(Decimal(85) <= Decimal(r["score_a"]) < 90 for r in changed)
    assert all(r["band_a"] == "发放90%" and r["band_b"] == "全额发放" for r in changed)
    assert sum(Decimal(r["pay_delta"]) for r in changed) == Decimal(d["totals"]["pay_delta"]) > 0
    assert f"档次变化 {len(changed)} 人" in out


def test_bad_month_and_missing_history_are_clean_errors(tmp_path):
    code, out = invoke("paysheet", "--month", "2026-13", "--data", tmp_path, "--out", tmp_path / "o")
    assert code == 2 and "应为 YYYY-MM" in out
    code, out = invoke("history", "list", "--data", tmp_path / "none")
    assert code == 2 and "没有历史库" in out


def test_an_unwritable_output_folder_changes_nothing(town, tmp_path):
    root, paths = town
    blocker = tmp_path / "out"
    blocker.write_text("a file where the output folder should be", encoding="utf-8")
    code, out = run_month(root, paths, "2026-10", tmp_path / "data", blocker / "2026-10")
    assert code == 2
    assert out == ("错误：输入文件有 1 处问题，未写出任何结果：\n"
                   f"  {blocker / '2026-10'} --out: 发现 '{blocker / '2026-10'}'，应为 可以写入的输出文件夹"
                   f"（{blocker} 是一个文件，不是文件夹）\n")
    assert not (tmp_path / "data").exists()          # not even an empty history.sqlite3


def test_bad_out_and_data_are_reported_with_the_input_problems_in_one_pass(town, tmp_path):
    root, paths = town
    (tmp_path / "f").write_text("x", encoding="utf-8")
    bad_metrics = tmp_path / "m.csv"
    bad_metrics.write_text(Path(paths["metrics"]).read_text(encoding="utf-8").replace(",W0001,", ",W9999,", 1),
                           encoding="utf-8")
    code, out = invoke("run", "--policy", root / "rules" / "chengguan-periods.yaml", "--month", "2026-10",
                       "--workers", paths["workers"], "--metrics", bad_metrics, "--events", paths["events"],
                       "--data", tmp_path / "f" / "data", "--out", tmp_path / "f" / "out")
    assert code == 2
    lines = out.splitlines()
    assert lines[0] == "错误：输入文件有 4 处问题，未写出任何结果："
    assert lines[1:3] == [
        f"  {tmp_path / 'f' / 'out'} --out: 发现 '{tmp_path / 'f' / 'out'}'，应为 可以写入的输出文件夹（{tmp_path / 'f'} 是一个文件，不是文件夹）",
        f"  {tmp_path / 'f' / 'data'} --data: 发现 '{tmp_path / 'f' / 'data'}'，应为 可以写入的历史数据文件夹（{tmp_path / 'f'} 是一个文件，不是文件夹）"]
    assert all(str(bad_metrics) in line for line in lines[3:])


def test_a_run_failing_while_writing_leaves_no_folders_behind(town, tmp_path, monkeypatch):
    root, paths = town
    monkeypatch.setenv("WANGGE_FAULT", "after_stage")
    code, out = run_month(root, paths, "2026-10", tmp_path / "data", tmp_path / "new" / "out")
    assert code == 1 and "故障注入" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("cmd", [["run"], ["correct"], ["compare"], ["paysheet"], ["history", "list"],
                                 ["history", "export"]])
def test_every_command_has_help_with_an_example(cmd):
    code, out = invoke(*cmd, "--help")
    assert code == 0 and "示例：" in out and "wangge " + " ".join(cmd) in out


def test_workers_that_do_not_match_history_are_located_word_for_word(town, tmp_path):
    root, paths = town
    data = tmp_path / "data"
    assert run_month(root, paths, "2026-10", data, tmp_path / "o10")[0] == 0
    reg = list(csv.reader(io.StringIO(Path(paths["workers"]).read_text(encoding="utf-8"))))
    (id1, name1), (id2, name2, grid2) = reg[1][:2], (reg[2][0], reg[2][1], reg[2][4])
    swap = {id1: (id1, "李四"), id2: ("W9002", name2)}      # W0001 renamed, W0002 given a new id

    def rewrite(src, dest, id_col, name_col=None):
        rows = list(csv.reader(io.StringIO(Path(src).read_text(encoding="utf-8"))))
        i, nm = rows[0].index(id_col), rows[0].index(name_col) if name_col else None
        for r in rows[1:]:
            if r[i] in swap:
                new_id, new_name = swap[r[i]]
                r[i] = new_id
                if nm is not None:
                    r[nm] = new_name
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(rows)
        dest.write_text(buf.getvalue(), encoding="utf-8")
        return dest
    p = {"workers": rewrite(paths["workers"], tmp_path / "w.csv", "工号", "姓名"),
         "metrics": rewrite(paths["metrics"], tmp_path / "m.csv", "工号", "姓名"),
         "events": rewrite(paths["events"], tmp_path / "e.csv", "工号")}
    code, out = run_month(root, p, "2026-11", data, tmp_path / "o11")
    assert code == 2
    assert out == (
        "错误：2026年11月的人员与历史记录不符，共 2 处，未写入任何内容：\n"
        f"  {p['workers']}:2 工号 {id1} 的姓名: 发现 '李四'，应为 「{name1}」（2026年10月历史记录）"
        "（一个工号只能对应一个人；新人请用新工号）\n"
        f"  {p['workers']}:3 工号 W9002: 发现 'W9002'，应为 沿用原工号 {id2}"
        f"（{name2}（{grid2}）在历史中的工号是 {id2}，工号变化会使跨月规则断开）\n")
    assert [i.month for i in History(data).months()] == ["2026-10"] and not (tmp_path / "o11").exists()


def test_wangge_run_killed_midway_changes_nothing(town, tmp_path):
    import os
    import subprocess
    import sys
    root, paths = town
    data, out = tmp_path / "data", tmp_path / "out"
    assert run_month(root, paths, "2026-10", data, out)[0] == 0
    before = files(out)
    before_db = History(data).month_results("2026-10")
    args = [sys.executable, "-m", "engine.cli", "run", "--policy", str(root / "rules" / "chengguan-periods.yaml"),
            "--month", "2026-11", "--workers", str(paths["workers"]), "--metrics", str(paths["metrics"]),
            "--events", str(paths["events"]), "--data", str(data), "--out", str(out)]
    env = dict(os.environ, WANGGE_FAULT="before_commit:kill", PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    assert subprocess.run(args, env=env, capture_output=True).returncode == 137
    assert files(out) == before
    assert [i.month for i in History(data).months()] == ["2026-10"]
    assert History(data).month_results("2026-10") == before_db


def compare(root, paths, out=None, b="chengguan-whatif.yaml"):
    return invoke("compare", "--policy", root / "rules" / "chengguan-periods.yaml", "--policy", root / "rules" / b,
                  "--month", "2026-10", "--workers", paths["workers"], "--metrics", paths["metrics"],
                  "--events", paths["events"], *(["--out", out] if out else []))


def test_compare_with_an_unusable_out_prints_only_the_error(town, tmp_path):
    root, paths = town
    (tmp_path / "f").write_text("x", encoding="utf-8")
    code, out = compare(root, paths, tmp_path / "f" / "cmp")
    assert code == 2
    assert out == ("错误：输入文件有 1 处问题，未写出任何结果：\n"
                   f"  {tmp_path / 'f' / 'cmp'} --out: 发现 '{tmp_path / 'f' / 'cmp'}'，应为 可以写入的输出文件夹"
                   f"（{tmp_path / 'f'} 是一个文件，不是文件夹）\n")


def test_compare_failing_to_write_prints_only_the_error_and_leaves_nothing(town, tmp_path, monkeypatch):
    import errno

    root, paths = town
    real = Path.write_text

    def full_disk(self, *a, **kw):
        if self.name == "compare.csv":
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return real(self, *a, **kw)
    monkeypatch.setattr(Path, "write_text", full_disk)
    code, out = compare(root, paths, tmp_path / "new" / "cmp")
    assert code == 2
    assert out == ("错误：输入文件有 1 处问题，未写出任何结果：\n"
                   f"  {tmp_path / 'new' / 'cmp'} --out: 发现 '{tmp_path / 'new' / 'cmp' / 'compare.csv'}'，"
                   "应为 可以写入的输出文件夹（写出文件失败：磁盘空间不足；输出文件夹未改动）\n")
    assert list(tmp_path.iterdir()) == []


def test_compare_of_a_policy_with_itself_is_refused(town, tmp_path):
    root, paths = town
    code, out = compare(root, paths, b="../rules/chengguan-periods.yaml")
    assert code == 2
    same = root / "rules" / "../rules/chengguan-periods.yaml"
    assert out == ("错误：输入文件有 1 处问题，未写出任何结果：\n"
                   f"  {same} --policy: 发现 '{same}'，应为 与原细则 A 不同的新细则文件"
                   "（两次给出的是同一个文件，比较不出差别）\n")


def test_compare_needs_two_policies_said_as_a_usage_mistake(town):
    root, paths = town
    code, out = invoke("compare", "--policy", root / "rules" / "chengguan-periods.yaml", "--month", "2026-10",
                       "--workers", paths["workers"], "--metrics", paths["metrics"])
    assert code == 2
    assert out.endswith("错误：'--policy' 的取值不对：应给出两次（先原细则 A，后新细则 B），实际给出 1 次\n")


def test_compare_says_which_policy_a_data_problem_belongs_to(town, tmp_path):
    root, paths = town
    b = tmp_path / "b.yaml"
    b.write_text((root / "rules" / "chengguan-whatif.yaml").read_text(encoding="utf-8")
                 + "\nmetrics:\n  extra_count: {label: 新增指标, type: integer}\n", encoding="utf-8")
    code, out = compare(root, paths, b=b)
    assert code == 2
    assert out == ("错误：数据文件有 1 处问题，未写出任何结果：\n"
                   f"  {paths['metrics']}:1 表头: 发现 （缺失），应为 包含指标列「新增指标」（或 extra_count）"
                   f"（未设默认值的指标必须有一列；按细则 B（{b}）检查时）\n")


@pytest.fixture(scope="module")
def stored(town, tmp_path_factory):
    """October and November stored."""
    root, paths = town
    work = tmp_path_factory.mktemp("stored")
    for m in MONTHS[:2]:
        assert run_month(root, paths, m, work / "data", work / "out" / m)[0] == 0
    return root, paths, work / "data"


@pytest.mark.parametrize("cmd", [["paysheet"], ["history", "export"]])
def test_exporting_a_month_not_stored_names_the_stored_months(stored, tmp_path, cmd):
    root, paths, data = stored
    code, out = invoke(*cmd, "--month", "2025-01", "--data", data, "--out", tmp_path / "x")
    assert code == 2
    assert out == ("错误：历史中没有 2025年1月（2025-01）的考核结果\n"
                   f"  {data / 'history.sqlite3'} --month: 发现 '2025-01'，应为 已存的月份之一：2026-10、2026-11\n")
    assert not (tmp_path / "x").exists()


def test_correcting_a_month_not_stored_or_without_history_reads_nothing(stored, tmp_path):
    root, paths, data = stored
    code, out = run_month(root, paths, "2026-12", data, tmp_path / "x", cmd="correct")
    assert code == 2
    assert out == ("错误：历史中没有 2026年12月（2026-12），无法更正；新月份请用 wangge run\n"
                   f"  {data / 'history.sqlite3'} --month: 发现 '2026-12'，应为 已存的月份之一：2026-10、2026-11\n")
    code, out = run_month(root, paths, "2026-10", tmp_path / "none", tmp_path / "x", cmd="correct")
    assert code == 2
    assert out == f"错误：数据目录 {tmp_path / 'none'} 中没有历史库 history.sqlite3（还没有存入任何月份）；先用 wangge run 存入月份\n"
    assert list(tmp_path.iterdir()) == []


def _without(src, dest, col, wid):
    rows = list(csv.reader(io.StringIO(Path(src).read_text(encoding="utf-8-sig"))))
    i = rows[0].index(col)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(r for r in rows if r[i] != wid)
    dest.write_text(buf.getvalue(), encoding="utf-8")
    return dest


def test_a_correction_cannot_drop_or_add_a_worker(stored, tmp_path):
    root, paths, data = stored
    before = History(data).month_results("2026-10")
    dropped = {k: _without(paths[k], tmp_path / f"{k}-drop.csv", "工号", "W0003")
               for k in ("workers", "metrics", "events")}
    code, out = run_month(root, dropped, "2026-10", data, tmp_path / "o", cmd="correct")
    assert code == 2
    assert out == ("错误：2026年10月的人员与历史记录不符，共 1 处，未写入任何内容：\n"
                   f"  {dropped['workers']} 工号 W0003: 发现 （缺失），应为 2026年10月已存的网格员 W0003 仍在名册中"
                   "（更正不能删除人员）\n")
    # a new worker W0999 (a copy of the first row) who has no October record
    added = dict(paths, workers=tmp_path / "workers-add.csv", metrics=tmp_path / "metrics-add.csv")
    reg = Path(paths["workers"]).read_text(encoding="utf-8-sig").splitlines()
    header = reg[0].split(",")
    new = reg[1].split(",")
    new[header.index("工号")], new[header.index("姓名")], new[header.index("网格")] = "W0999", "新人甲", "G-NEW"
    added["workers"].write_text("\n".join(reg + [",".join(new)]) + "\n", encoding="utf-8")
    met = Path(paths["metrics"]).read_text(encoding="utf-8-sig").splitlines()
    mh = met[0].split(",")
    copy = [r.split(",") for r in met[1:] if r.split(",")[mh.index("工号")] == reg[1].split(",")[header.index("工号")]]
    for r in copy:
        r[mh.index("工号")], r[mh.index("姓名")] = "W0999", "新人甲"
    added["metrics"].write_text("\n".join(met + [",".join(r) for r in copy]) + "\n", encoding="utf-8")
    code, out = run_month(root, added, "2026-10", data, tmp_path / "o", cmd="correct")
    assert code == 2
    assert out == ("错误：2026年10月的人员与历史记录不符，共 1 处，未写入任何内容：\n"
                   f"  {added['workers']}:{len(reg) + 1} 工号 W0999: 发现 'W0999'，应为 2026年10月已存的网格员之一"
                   "（更正只能改原有人员的记录，不能增加人员）\n")
    assert History(data).month_results("2026-10") == before and not (tmp_path / "o").exists()


@pytest.mark.parametrize("cmd", [["history", "list"], ["paysheet", "--month", "2026-10", "--out", "o"],
                                 ["history", "export", "--month", "2026-10", "--out", "o"]])
def test_a_file_that_is_not_a_history_is_said_in_chinese(tmp_path, cmd):
    (tmp_path / "history.sqlite3").write_text("这不是数据库" * 40, encoding="utf-8")
    code, out = invoke(*cmd, "--data", tmp_path)
    assert (code, out) == (2, f"错误：历史库 {tmp_path / 'history.sqlite3'} 无法打开：该文件不是 wangge 历史库（SQLite 数据库）\n")


def test_a_month_without_an_event_log_is_refused_unless_the_clerk_says_there_were_none(town, tmp_path):
    # The policy counts events (quotas from the log): leaving the log out would dock everyone.
    root, paths = town
    args = ("run", "--policy", root / "rules" / "chengguan-periods.yaml", "--month", "2026-10",
            "--workers", paths["workers"], "--metrics", paths["metrics"], "--data", tmp_path / "data",
            "--out", tmp_path / "out", "--no-print")
    code, out = invoke(*args)
    assert code == 2
    assert "事件台账 文件: 发现 （缺失），应为 2026-10 的事件台账（本细则按事件计分：" in out
    assert "本月确实没有事件时，请提供只有表头的空台账，或加 --no-events" in out
    assert not (tmp_path / "data").exists() and not (tmp_path / "out").exists()
    code, out = invoke(*args, "--no-events")
    assert code == 0, out
    with History(tmp_path / "data", create=False) as h:
        assert h.has_month("2026-10")
