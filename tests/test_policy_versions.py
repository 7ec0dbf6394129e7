"""Policy versions as use cases (engine/app/policy_versions.py, policy_view.py, policy_forms.py): a
draft written out whole, checked as `wangge validate` checks a file, said as the office reads it,
compared with another version, refused for publishing when a stored month would move to it, and
its cost on stored months worked out by hand from tests/fixtures/notices (docs in test_notices.py)."""
from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from engine.app.policy_forms import form_values, rule_form, spec_from_values
from engine.app.policy_versions import check_policy_text, draft_text, flatten_policy, preview_change, publish_problems
from engine.app.policy_view import policy_changes, policy_view
from engine.errors import InputError
from engine.policy import load_policy_file
from engine.policy_edit import set_entry

ROOT = Path(__file__).resolve().parents[1]
CHENGGUAN = ROOT / "rules" / "chengguan.yaml"


@pytest.fixture(scope="module")
def flat():
    return flatten_policy(CHENGGUAN)


def line_of(text: str, needle: str, after: str = "") -> int:
    start = text.index(after) if after else 0
    return text[:text.index(needle, start)].count("\n") + 1


def test_an_inherited_policy_written_out_whole_is_the_same_policy(flat, tmp_path):
    path = tmp_path / "v2.yaml"
    path.write_text(flat, encoding="utf-8")
    one, original = load_policy_file(path), load_policy_file(CHENGGUAN)
    assert len(one.files) == 1 and "extends" not in flat and "abstract" not in flat
    assert one.hash == original.hash                      # every rule, band and period rule as before
    assert flat.startswith("# 城关镇网格员月度考核细则（chengguan.yaml、base.yaml 合并为一个文件")


def test_a_draft_carries_its_version_and_month(flat, tmp_path):
    text = draft_text(flat, "2026.2", "2026-11")
    check = check_policy_text(text, "v2.yaml", policy_id="chengguan")
    assert check.ok and check.policy.version == "2026.2" and check.policy.doc.effective_from == "2026-11"
    with pytest.raises(InputError) as exc:
        draft_text(flat, "", "2026-13")
    assert [(p.field, p.found) for p in exc.value.problems] == [("版本", ""), ("生效月份", "2026-13")]


def test_overlapping_tiers_are_located_at_their_line(flat):
    text = set_entry(flat, ["items", "info", "rules", "entry_rate_low", "tiers", "tiers"],
                     [{"range": "[90, 100)", "points": 2}, {"range": "[0, 95)", "points": 5}])
    check = check_policy_text(text, "v2.yaml")
    (p,) = check.problems
    assert (p.file, p.field, p.found) == ("v2.yaml", "items[1].rules[3].tiers.tiers[1].range", "[0, 95)")
    assert p.line == line_of(text, '{range: "[0, 95)"', after="id: entry_rate_low")
    assert "与第 1 档 [90, 100) 不重叠" in p.expected


def test_a_gap_between_pay_bands_is_located_and_examples_are_run(flat):
    gap = set_entry(flat, ["pay", "bands", "p90", "range"], "[85, 90)")
    (p,) = check_policy_text(gap, "v2.yaml").problems
    assert p.field == "pay.bands" and p.line == line_of(gap, "  bands:") and "空档" in p.found
    # 巡查到位率 92% is in the [90, 95) tier: 4 points instead of 2 makes the worked example 74, not 76
    harsher = set_entry(flat, ["items", "patrol", "rules", "patrol_rate_low", "tiers", "tiers", 0, "points"], 4)
    check = check_policy_text(harsher, "v2.yaml")
    assert not check.problems
    assert [(m.field, m.found) for m in check.mismatches] == [("examples[1].expect.score", "74"),
                                                              ("examples[1].expect.findings.patrol_rate_low", "-4")]


def test_a_version_stands_alone_and_keeps_the_policy_id(tmp_path):
    text = CHENGGUAN.read_text(encoding="utf-8").replace("id: chengguan", "id: other")
    fields = {p.field for p in check_policy_text(text, "v.yaml", policy_id="chengguan").problems}
    assert fields == {"extends"} or fields == {"extends", "id"}
    assert "extends" in fields


def test_the_policy_as_the_office_reads_it():
    v = policy_view(load_policy_file(CHENGGUAN))
    rules = {r["id"]: r for it in v["items"] for r in it["rules"]}
    assert rules["complaint"]["text"] == "群众有效投诉：第1次扣2分、第2次扣3分、第3次及以后每次扣5分"
    assert rules["e_diary_short"]["text"] == ("电子日志周均篇数低于定额（按网格员类别：村2篇、社区5篇）时，每少1篇扣1分"
                                              "（不足一个单位按一个单位计）")
    assert [(t["range"], t["points"]) for t in rules["patrol_rate_low"]["table"]] == [
        ("90%及以上、低于95%", "2"), ("0%及以上、低于90%", "5")]
    assert rules["urgent_late"]["text"] == "等级为紧急、发现到上报超过3小时、不超过24小时的事件：每件扣2分"
    assert [(b["label"], b["range"], b["ratio"]) for b in v["pay"]["bands"]][:2] == [
        ("全额发放", "90分及以上", "100%"), ("发放90%", "80分及以上、低于90分", "90%")]
    assert v["vetoes"][0]["effect"] == "本月考核不合格，绩效工资不予发放，星级为0"
    assert v["bonus"]["cap"] == "5" and len(v["examples"]) == 7


def test_what_changed_between_two_versions(flat, tmp_path):
    a = tmp_path / "a.yaml"
    b = tmp_path / "b.yaml"
    a.write_text(flat, encoding="utf-8")
    text = set_entry(draft_text(flat, "2026.2", "2026-11"), ["items", "patrol", "rules", "patrol_rate_low", "tiers",
                                                              "tiers", 0, "points"], 3)
    b.write_text(set_entry(text, ["pay", "bands", "p90", "ratio"], 0.85), encoding="utf-8")
    got = [(c.section, c.what, c.before, c.after) for c in policy_changes(load_policy_file(a), load_policy_file(b))]
    assert got == [
        ("基本信息", "版本", "2026.1", "2026.2"), ("基本信息", "生效月份", "2026-01", "2026-11"),
        ("考核规则", "日常巡查 › 巡查到位率不足（patrol_rate_low）：计分",
         "按巡查到位率分档：90%及以上、低于95%扣2分；0%及以上、低于90%扣5分",
         "按巡查到位率分档：90%及以上、低于95%扣3分；0%及以上、低于90%扣5分"),
        ("绩效档次", "发放90%（p90）：发放比例", "90%", "85%")]


def test_forms_come_from_the_rule_forms_models():
    spec = {"metric": "e_diary_weekly", "quota": {"by": "worker_type", "values": {"村": 2, "社区": 5}}, "points": 1,
            "partial": "up"}
    fields = rule_form("shortfall")
    assert [(f.name, f.widget) for f in fields] == [("metric", "metric"), ("quota", "quota"), ("points", "number"),
                                                    ("per", "number"), ("partial", "choice")]
    assert spec_from_values(fields, form_values(fields, spec)) == spec
    event = {"category": ["矛盾纠纷", "安全隐患"], "severity": "重大", "delay_hours": "(4, +inf)", "points": 3,
             "overdue": {"from": "reported", "to": "closed", "hours": 24}}
    fields = rule_form("event")
    assert spec_from_values(fields, form_values(fields, event)) == event
    values = form_values(rule_form("tiers"), {"metric": "m", "tiers": [{"range": "[0, 90)", "points": 5}]})
    values.update({"tiers[1].range": "[90, 95)", "tiers[1].points": "2.5", "tiers[2].range": "", "tiers[2].points": ""})
    assert spec_from_values(rule_form("tiers"), values) == {
        "metric": "m", "tiers": [{"range": "[0, 90)", "points": 5}, {"range": "[90, 95)", "points": 2.5}]}
    # what is not a number stays as typed, so the check says what is wrong with it at its line
    values["tiers[1].points"] = "两分"
    assert spec_from_values(rule_form("tiers"), values)["tiers"][1]["points"] == "两分"


@pytest.fixture()
def history(notices_root, tmp_path):
    shutil.copytree(notices_root / "data", tmp_path / "data")
    return tmp_path / "data"


def test_publishing_keeps_stored_months_on_their_policy(flat, history, tmp_path):
    later = tmp_path / "later.yaml"
    later.write_text(draft_text(flat, "2026.2", "2026-11"), encoding="utf-8")
    assert publish_problems([str(CHENGGUAN)], str(later), history) == []
    stored = tmp_path / "stored.yaml"
    stored.write_text(draft_text(flat, "2026.2", "2026-10"), encoding="utf-8")
    (p,) = publish_problems([str(CHENGGUAN)], str(stored), history)
    assert (p.field, p.found) == ("effective_from", "2026-10") and "2026-10" in p.expected
    same = tmp_path / "same.yaml"
    same.write_text(draft_text(flat, "2026.2", "2026-01"), encoding="utf-8")
    assert any("同月生效" in p.expected for p in publish_problems([str(CHENGGUAN)], str(same), None))


def test_what_a_draft_would_cost_worked_out_by_hand(flat, history, tmp_path):
    """October of the fixture under a draft whose 巡查到位率 tiers deduct 8 below 90% (was 5) and 6 in
    [90, 95) (was 2): only W06 (90%: the [90, 95) tier) moves, 70 -> 66, from 发放80% (416.00 of 520.00)
    to 发放0（扣发）: pay 0.00.  W06 is last in 鹤山镇 in September and October either way, so October's
    withholding stays, at the new pay: 416.00 withheld before, 0.00 now; W06's 实发 is 0.00 in both."""
    draft = tmp_path / "d.yaml"
    text = draft_text(flat, "2026.2", "2026-11")
    text = set_entry(text, ["items", "patrol", "rules", "patrol_rate_low", "tiers", "tiers"],
                     [{"range": "[90, 95)", "points": 6}, {"range": "[0, 90)", "points": 8}])
    draft.write_text(text, encoding="utf-8")
    assert check_policy_text(text, "d.yaml").problems == []
    report = preview_change(draft, history, ["2026-10"])
    (month,) = report["months"]
    changed = [w for w in month["workers"] if w["changed"]]
    assert [(w["worker_id"], w["score_a"], w["score_b"], w["band_a"], w["band_b"], w["pay_a"], w["pay_b"],
             w["payable_a"], w["payable_b"]) for w in changed] == [
        ("W06", "70", "66", "发放80%", "扣发", "416.00", "0.00", "0.00", "0.00")]
    assert month["totals"]["pay_delta"] == "-416.00" and month["totals"]["payable_delta"] == "0.00"
    town = {t["town"]: t for t in month["towns"]}
    assert (town["鹤山镇"]["band_changed"], town["鹤山镇"]["pay_delta"], town["凤凰街道"]["pay_delta"]) == (1, "-416.00", "0.00")
    # the withholding of 连续两个月排名末位 is still drawn, of 0.00 now: it disappears as 416.00, appears as 0.00
    assert sorted((c["change"], c["rule_id"], c["amount"]) for c in report["consequences"]) == [
        ("出现", "last_place_twice", "0.00"), ("消失", "last_place_twice", "416.00")]
    assert report["pay_changes"] == []
    assert Decimal(month["totals"]["pay_a"]) - Decimal(month["totals"]["pay_b"]) == Decimal("416.00")
