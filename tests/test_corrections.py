"""Appeals and corrections as use cases (engine/app/corrections.py) and the 更正通知 they end in
(engine/notices/correction.py, engine/app/notices.make_correction_notice), on tests/fixtures/notices:

  September, 鹤山镇: W01 张伟 100, W02 李娜 98, W06 杨洋 63 (last);  October: W01 100, W02 96, W06 70 (last)
  so 连续两个月排名末位 withholds W06's October pay (80% band of 2,600 × 20% = 416.00), paid 0.00.

W06's appeal: September's figures were entered wrong (e-diary 5 a week, 8 paper diaries, 2 quality
reports, entry 100%, patrol 100%, satisfaction 95%, no complaint, no absence), the urgent conflict
E021 was reported at 10:00 (not 14:00: one hour, not five) and one conflict and two hazards were not
entered.  Corrected, W06 has no deduction: 100, 全额发放, 520.00.  W02 (98) becomes September's last,
W06 is no longer last two months running: October's withholding of 416.00 disappears and W06 is paid
416.00 in October.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from engine.app.corrections import Edit, check_corrected, correct_files, inputs_fingerprint, run_correction, worker_rows
from engine.app.month import month_results
from engine.app.notices import Issue, make_correction_notice, number_register
from engine.errors import DataError
from engine.notices import DEFAULT_SETTINGS

ROOT = Path(__file__).resolve().parents[1]
POLICY = [str(ROOT / "rules" / "chengguan.yaml")]
GOLDEN = ROOT / "tests" / "golden" / "notices"


@pytest.fixture()
def data(notices_root, tmp_path):
    shutil.copytree(notices_root / "data", tmp_path / "data")
    return tmp_path / "data"


def w06_edits(data) -> dict[str, Edit]:
    rows = {w.kind: w for w in worker_rows(POLICY, data, "2026-09", "W06")}
    m, e = rows["metrics"], rows["events"]
    (mrow, _), = m.rows
    col = {h: i for i, h in enumerate(m.header)}
    fixed = {"电子日志周均篇数": "5", "纸质民情日志": "8", "高质量信息": "2", "信息采集录入率": "100", "巡查到位率": "100",
             "群众满意率": "95", "群众有效投诉": "0", "培训缺勤": "0"}
    (erow, ecells), = [r for r in e.rows if r[1][0] == "E021"]
    ecol = {h: i for i, h in enumerate(e.header)}
    added = [["E090", "W06", "矛盾纠纷", "一般", "2026-09-20 09:00", "2026-09-20 10:00", "2026-09-20 18:00"],
             ["E091", "W06", "安全隐患", "一般", "2026-09-21 09:00", "2026-09-21 10:00", "2026-09-21 18:00"],
             ["E092", "W06", "安全隐患", "一般", "2026-09-22 09:00", "2026-09-22 10:00", "2026-09-22 18:00"]]
    return {"metrics": Edit(cells={mrow: {col[k]: v for k, v in fixed.items()}}),
            "events": Edit(cells={erow: {ecol["上报时间"]: "2026-09-15 10:00"}}, added=added)}


def test_a_workers_rows_of_the_stored_month(data):
    rows = {w.kind: w for w in worker_rows(POLICY, data, "2026-09", "W06")}
    # the phone and id number (13412345678, 370521199306066789 in the file) are not an appeal's business
    assert rows["workers"].rows == [(7, ["W06", "杨洋", "鹤山镇", "东村社区", "1-1-03", "网格员", "专职", "2600", "社区",
                                         "", "", ""])]
    assert rows["workers"].private == (9, 10) and rows["metrics"].private == ()
    assert [r for r, _ in rows["metrics"].rows] == [7]          # September's row, not October's
    assert [c[0] for _, c in rows["events"].rows] == ["E021", "E042"]


def test_only_the_workers_own_rows_change(data, tmp_path):
    files, changes = correct_files(POLICY, data, "2026-09", "W06", w06_edits(data), tmp_path / "c")
    assert len(changes) == 12 and changes[0] == {"file": "月度指标表", "row": 7, "record": "", "column": "电子日志周均篇数",
                                                 "before": "2", "after": "5"}
    assert {c["column"] for c in changes if c["file"] == "事件台账"} == {"上报时间", "（新增一行）"}
    src = Path(month_results(data, "2026-09")["inputs"]["metrics"]["path"]).read_text(encoding="utf-8-sig").splitlines()
    out = Path(files.metrics).read_text(encoding="utf-8-sig").splitlines()
    assert [i for i, (a, b) in enumerate(zip(src, out)) if a != b] == [6]      # row 7 only
    assert check_corrected(POLICY, "2026-09", files) == []
    with pytest.raises(DataError) as exc:
        correct_files(POLICY, data, "2026-09", "W06", {"metrics": Edit(cells={2: {3: "0"}})}, tmp_path / "x")
    assert [(p.file, p.line, p.expected) for p in exc.value.problems] == [("月度指标表", 2, "W06 本人的行")]
    with pytest.raises(DataError) as exc:
        correct_files(POLICY, data, "2026-09", "W06", {}, tmp_path / "y")
    assert exc.value.problems[0].expected.startswith("至少一处更正")


def test_the_correction_and_what_it_changes_in_october(data, tmp_path):
    based = inputs_fingerprint(data, "2026-09")
    files, changes = correct_files(POLICY, data, "2026-09", "W06", w06_edits(data), tmp_path / "c")
    report = run_correction(POLICY, "2026-09", files, data, tmp_path / "out", based_on=based, note="申诉 1")
    assert [(s["worker_id"], s["old_score"], s["new_score"], s["old_band"], s["new_band"], s["old_pay"], s["new_pay"])
            for s in report.score_changes] == [("W06", "63", "100", "扣发", "全额发放", "0.00", "520.00")]
    assert [(c["month"], c["worker_id"], c["change"], c["rule_id"], c["amount"]) for c in report.consequence_changes] == [
        ("2026-10", "W06", "消失", "last_place_twice", "416.00")]
    assert [(p["month"], p["worker_id"], p["old_payable"], p["new_payable"]) for p in report.pay_changes] == [
        ("2026-09", "W06", "0.00", "520.00"), ("2026-10", "W06", "0.00", "416.00")]
    october = {w["worker_id"]: w for w in month_results(data, "2026-10")["workers"]}
    assert (october["W06"]["withheld"], october["W06"]["payable"]) == ("0.00", "416.00")
    # the same correction again starts from inputs that are no longer the month's: refused
    with pytest.raises(DataError) as exc:
        run_correction(POLICY, "2026-09", files, data, tmp_path / "out", based_on=based, note="again")
    assert exc.value.problems[0].found == "该月已重新运行"


def test_the_correction_notice_draft_then_issued_with_its_own_number(data, tmp_path):
    based = inputs_fingerprint(data, "2026-09")
    files, changes = correct_files(POLICY, data, "2026-09", "W06", w06_edits(data), tmp_path / "c")
    report = run_correction(POLICY, "2026-09", files, data, tmp_path / "out", based_on=based, note="申诉 1")
    case = {"month": "2026-09", "worker": {"worker_id": "W06", "name": "杨洋", "town": "鹤山镇", "community": "东村社区",
                                           "grid": "1-1-03"},
            "reason": "九月份巡查和日志数据录入有误，三件事件漏录", "changes": changes, "score_changes": report.score_changes,
            "consequence_changes": report.consequence_changes, "pay_changes": report.pay_changes}
    out = tmp_path / "notice"
    draft = make_correction_notice(data, out, DEFAULT_SETTINGS, case, key="correction-1", title="2026年9月考核结果更正通知（杨洋）",
                                   progress=None)
    assert draft["draft"] and draft["files"] == ["考核结果更正通知.html", "考核结果更正通知.pdf"]
    assert number_register(data) == []
    html = (out / "考核结果更正通知.html").read_text(encoding="utf-8")
    assert "送审稿" in html and "〔2026〕" not in html
    issued = make_correction_notice(data, out, DEFAULT_SETTINGS, case, key="correction-1",
                                    title="2026年9月考核结果更正通知（杨洋）", issue=Issue(date="2026-11-10"))
    assert issued["number"]["text"] == "鹤网格〔2026〕1号" and issued["issued"][0]["kind"] == "correction-1"
    html = (out / "考核结果更正通知.html").read_text(encoding="utf-8")
    golden = GOLDEN / "考核结果更正通知.html"
    if os.environ.get("WANGGE_UPDATE_GOLDEN"):
        golden.write_text(html, encoding="utf-8")
    assert html == golden.read_text(encoding="utf-8"), "rerun with WANGGE_UPDATE_GOLDEN=1 after checking it"
    for said in ("鹤山镇东村社区网格员杨洋（1-1-03网格）对2026年9月考核结果提出申诉", "月度指标表中的“巡查到位率”由“85”更正为“100”", "事件台账中事件E021的“上报时间”由“2026-09-15 14:00”更正为“2026-09-15 10:00”", "事件台账补录一条：事件编号E090，类别矛盾纠纷，等级一般，发现时间2026-09-20 09:00",
                 "杨洋：得分由63分更正为100分，档次由“扣发”更正为“全额发放”，绩效工资由0.00元更正为520.00元（增加520.00元）",
                 "杨洋2026年10月因“连续两个月排名末位”扣发的416.00元予以撤销",
                 "杨洋2026年10月实发绩效工资由0.00元更正为416.00元（增加416.00元）"):
        assert said.replace("“", "“") in html.replace("\u2060", ""), said
    assert "第7行" not in html and "events.csv" not in html           # rows and files stay in the audit log
    again = make_correction_notice(data, out, DEFAULT_SETTINGS, case, key="correction-1",
                                   title="2026年9月考核结果更正通知（杨洋）", issue=Issue(date="2026-11-20"))
    assert again["number"]["text"] == "鹤网格〔2026〕1号" and again["issued"] == []     # a reprint keeps its number
    assert [r["title"] for r in number_register(data)] == ["2026年9月考核结果更正通知（杨洋）"]
