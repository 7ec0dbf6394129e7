"""Editing a policy file in place (engine/policy_edit.py): only the entry that changes is written again;
comments, anchors and the layout of everything else stay byte for byte."""
from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from engine.policy_edit import EditError, append_entry, delete_entry, flat_text, quoted, read_tree, set_entry, set_top

ROOT = Path(__file__).resolve().parents[1]
CHENGGUAN = (ROOT / "rules" / "chengguan.yaml").read_text(encoding="utf-8")


def changed(a: str, b: str) -> list[str]:
    return [ln for ln in difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=0)
            if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]


def test_a_tiers_points_change_rewrites_one_line():
    new = set_entry(CHENGGUAN, ["items", "info", "rules", "entry_rate_low", "tiers", "tiers"],
                    [{"range": "[95, 100)", "points": 2}, {"range": "[0, 95)", "points": 6}])
    assert changed(CHENGGUAN, new) == ['-            - {range: "[0, 95)", points: 5}',
                                       '+            - {range: "[0, 95)", points: 6}']


def test_comments_inside_the_edited_rule_stay_in_their_columns():
    rule = {"id": "e_diary_short", "label": "电子日志不足",
            "shortfall": {"metric": "e_diary_weekly", "quota": {"by": "worker_type", "values": {"村": 3, "社区": 5}},
                          "points": 1, "partial": "up"}}
    new = set_entry(CHENGGUAN, ["items", "diary", "rules", "e_diary_short"], rule)
    assert changed(CHENGGUAN, new) == [
        "-          quota: {by: worker_type, values: {村: 2, 社区: 5}}   # 村网格员每周2篇，社区网格员每周5篇",
        "+          quota: {by: worker_type, values: {村: 3, 社区: 5}}   # 村网格员每周2篇，社区网格员每周5篇"]


def test_every_preset_keeps_its_other_lines_when_one_item_changes():
    for path in sorted((ROOT / "rules").glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        tree = read_tree(text)
        if not tree.get("items"):
            continue
        first = tree["items"][0]
        new = set_entry(text, ["items", first["id"], "points"], int(first["points"]) + 1)
        assert changed(text, new) == [f"-    points: {first['points']}", f"+    points: {int(first['points']) + 1}"], path.name


def test_deleting_the_only_rule_leaves_an_empty_list():
    new = delete_entry(CHENGGUAN, ["items", "training", "rules", "training_absent"])
    assert "    rules: []" in new.splitlines()
    assert "training_absent:" not in new.split("bonus:")[0].split("id: training")[1].split("\n  - id:")[0]


def test_adding_a_rule_puts_it_after_the_last_one_of_its_item():
    new = append_entry(CHENGGUAN, ["items", "service", "rules"],
                       {"id": "rude", "label": "态度粗暴", "per_count": {"metric": "complaints", "points": 1}})
    assert changed(CHENGGUAN, new) == ["+      - id: rude", "+        label: 态度粗暴",
                                       "+        per_count: {metric: complaints, points: 1}"]


def test_top_level_keys_set_quoted_and_added_after_their_neighbour():
    text = "id: x\nname: 某细则\nversion: \"1\"\neffective_until: \"2026-12\"\nfull_score: 100\n"
    new = set_top(text, {"version": quoted("2027.1"), "effective_from": quoted("2027-01")}, after=("version",),
                  drop=("effective_until",))
    assert new == 'id: x\nname: 某细则\nversion: "2027.1"\neffective_from: "2027-01"\nfull_score: 100\n'


def test_a_path_that_is_not_there_is_said():
    with pytest.raises(EditError, match="找不到 nosuch"):
        set_entry(CHENGGUAN, ["items", "nosuch", "points"], 1)


def test_flat_text_quotes_what_would_be_read_as_a_number():
    text = flat_text({"id": "x", "version": "2026.1", "percent": "3", "pay": {"bands": [{"id": "a", "ratio": 1}]}},
                     "说明")
    assert text.startswith("# 说明\nid: x\nversion: \"2026.1\"\npercent: \"3\"\n")
    assert "- {id: a, ratio: 1}" in text
