"""Scoring a month from files, checked against values worked out by hand from rules/chengguan.yaml."""
from __future__ import annotations

import json
from decimal import Decimal

import openpyxl
import pytest

from engine.policy import load_policy
from engine.scoring import score_month

from conftest import FIXTURES, RULES

DATA = FIXTURES / "data"


@pytest.fixture(scope="module")
def month():
    policy = load_policy(RULES / "chengguan.yaml").for_month("2026-10")
    return score_month(policy, "2026-10", DATA / "workers.csv", DATA / "metrics.csv", DATA / "events.csv")


def by_id(res):
    return {w["worker_id"]: w for w in res["workers"]}


def test_scores_bands_and_pay_worked_by_hand(month):
    w = by_id(month)
    # W01: every quota met (2 conflicts, 2 hazards in October; the September row and event are ignored).
    # W02: diary 1 + 2, conflicts 2, hazards 4, entry rate 2, patrol 2, urgent 5 h late 2,
    #      satisfaction 1, complaints 2+3, training 3 = 24 -> 76, 2500 x 20% x 0.8 = 400.00.
    # W03: patrol 85% -> 5, satisfaction 88% -> 1, 2 trainings missed -> 6 = 12 -> 88, 3000 x 20% x 0.9 = 540.00;
    #      the major hazard reported after exactly 4 h is inside the limit "(4, +inf)" and costs nothing.
    # W04: perfect sheet but a veto: score kept, 0 stars, pay withheld, ranked last; its band is the veto's.
    got = {k: (v["score"], v["stars"], v["band"]["id"], v["pay"], v["failed"], v["rank"]) for k, v in w.items()}
    assert got == {
        "W01": ("100", 5, "full", "600.00", False, 1),
        "W02": ("76", 2, "p80", "400.00", False, 3),
        "W03": ("88", 3, "p90", "540.00", False, 2),
        "W04": ("100", 0, "veto", "0.00", True, 4),
    }


def test_a_vetoed_workers_band_is_the_veto_and_its_ratio_the_one_applied(month):
    """Issue 11.1: band, ratio and pay agree (base x ratio = pay) and the band says why."""
    w04 = by_id(month)["W04"]
    assert w04["band"] == {"id": "veto", "label": "一票否决", "range": "", "ratio": "0", "vetoes": ["veto_major_case"],
                           "reason": "一票否决：迟报漏报引发重大案件，绩效工资不予发放",
                           "score_band": {"id": "full", "label": "全额发放", "range": "[90, +inf)", "ratio": "1"}}
    assert w04["pay_ratio"] == "0" and w04["pay"] == "0.00" and w04["performance_base"] == "600.00"
    for w in month["workers"]:
        assert Decimal(w["performance_base"]) * Decimal(w["band"]["ratio"]) == Decimal(w["pay"])
        assert w["band"]["ratio"] == w["pay_ratio"]


def test_every_point_is_explained(month):
    for w in month["workers"]:
        total = sum(Decimal(f["points"]) for f in w["findings"])
        assert total == Decimal(w["score"]) - Decimal(100), w["worker_id"]
        for f in w["findings"]:
            assert f["rule_id"] and f["rule_label"] and f["reason"]


def test_findings_name_rule_reason_and_source_row(month):
    w02 = by_id(month)["W02"]
    late = next(f for f in w02["findings"] if f["rule_id"] == "urgent_late")
    assert late == {
        "rule_id": "urgent_late", "rule_label": "紧急信息迟报", "item_id": "timeliness", "item_label": "信息报送时效",
        "category": "应急处置", "kind": "deduction", "points": "-2",
        "values": {"事件编号": "E6", "类别": "治安", "等级": "紧急", "上报延迟": "5小时"},
        "reason": "事件E6（治安，紧急）发现后5小时才上报（超过3小时、不超过24小时），属“紧急信息迟报”，扣2分",
        "event_id": "E6", "source": {"file": "events.csv", "row": 7}}
    diary = next(f for f in w02["findings"] if f["rule_id"] == "e_diary_short")
    assert diary["reason"] == ("电子日志周均篇数1.5篇，低于定额2篇（网格员类别：村），差0.5篇，"
                               "每差1篇扣1分（不足1篇按1篇计），扣1分")
    assert diary["source"] == {"file": "metrics.csv", "row": 4}
    veto = by_id(month)["W04"]["veto"]
    assert veto["rule_id"] == "veto_major_case" and veto["domain"] == "综合治理"


def test_item_caps_are_reported(month):
    w02 = by_id(month)["W02"]
    items = {i["item_id"]: i for i in w02["items"]}
    assert items["service"] == {"item_id": "service", "label": "群众满意", "category": "民意评价", "points": "10",
                                "deducted": "6", "capped": False, "earned": "4"}


def test_results_are_deterministic(month):
    policy = load_policy(RULES / "chengguan.yaml").for_month("2026-10")
    again = score_month(policy, "2026-10", DATA / "workers.csv", DATA / "metrics.csv", DATA / "events.csv")
    assert json.dumps(again, ensure_ascii=False) == json.dumps(month, ensure_ascii=False)


def test_xlsx_with_english_headers_gives_the_same_results(tmp_path, month):
    import csv

    def to_xlsx(src, dst, rename):
        wb = openpyxl.Workbook()
        ws = wb.active
        for i, row in enumerate(csv.reader(open(src, encoding="utf-8"))):
            ws.append([rename.get(c, c) for c in row] if i == 0 else row)
        wb.save(dst)

    to_xlsx(DATA / "workers.csv", tmp_path / "w.xlsx", {"工号": "worker_id", "姓名": "name", "乡镇": "town",
                                                        "社区": "community", "网格": "grid", "月工资": "wage",
                                                        "网格员类别": "worker_type"})
    to_xlsx(DATA / "metrics.csv", tmp_path / "m.xlsx", {"工号": "worker_id", "月份": "month",
                                                        "巡查到位率": "patrol_rate"})
    to_xlsx(DATA / "events.csv", tmp_path / "e.xlsx", {"事件编号": "event_id", "工号": "worker_id",
                                                       "发现时间": "discovered", "上报时间": "reported"})
    policy = load_policy(RULES / "chengguan.yaml").for_month("2026-10")
    res = score_month(policy, "2026-10", tmp_path / "w.xlsx", tmp_path / "m.xlsx", tmp_path / "e.xlsx")
    assert [(w["worker_id"], w["score"], w["pay"]) for w in res["workers"]] == \
           [(w["worker_id"], w["score"], w["pay"]) for w in month["workers"]]


def test_gbk_csv_as_saved_by_chinese_excel(tmp_path, month):
    for name in ("workers.csv", "metrics.csv", "events.csv"):
        (tmp_path / name).write_bytes((DATA / name).read_text(encoding="utf-8").encode("gb18030"))
    policy = load_policy(RULES / "chengguan.yaml").for_month("2026-10")
    res = score_month(policy, "2026-10", tmp_path / "workers.csv", tmp_path / "metrics.csv", tmp_path / "events.csv")
    assert [w["score"] for w in res["workers"]] == [w["score"] for w in month["workers"]]
