"""Policy files: presets, worked examples, inheritance, versions, and every broken fixture's exact message."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import ExampleMismatch, PolicyError
from engine.policy import load_policy, load_policy_file, policy_json_schema
from engine.scoring import run_examples

from conftest import FIXTURES, RULES

PRESETS = ["chengguan.yaml", "youhao.yaml", "kongjiazhuang.yaml"]
BROKEN = FIXTURES / "policies"


@pytest.mark.parametrize("name", PRESETS)
def test_preset_examples_pass(name):
    policy = load_policy_file(RULES / name)
    assert policy.doc.examples, "every preset carries worked examples"
    assert run_examples(policy) == []


def test_base_is_abstract_and_not_scorable():
    with pytest.raises(PolicyError) as exc:
        load_policy(RULES / "base.yaml")
    assert "abstract" in str(exc.value)


def test_a_wrong_example_is_reported_with_the_actual_breakdown():
    policy = load_policy_file(BROKEN / "error-example-mismatch.yaml")
    failures = run_examples(policy)
    assert failures == [
        f"{BROKEN / 'error-example-mismatch.yaml'} 示例「投诉3次」：得分应为 95，实际为 94",
        f"{BROKEN / 'error-example-mismatch.yaml'} 示例「投诉3次」：实际计算明细：投诉 3 次（每次 2 分），扣 6 分",
    ]


def messages(path: Path) -> list[str]:
    with pytest.raises(PolicyError) as exc:
        load_policy_file(path)
    return [str(p).replace(str(BROKEN) + "/", "") for p in exc.value.problems]


def test_error_unknown_metric():
    assert messages(BROKEN / "error-unknown-metric.yaml") == [
        "error-unknown-metric.yaml:12 items[0].rules[0].tiers.metric: 发现 'patrol_rte'，"
        "应为 metrics 中已声明的指标（已声明：patrol_rate）"]


def test_error_points_sum():
    assert messages(BROKEN / "error-points-sum.yaml") == [
        "error-points-sum.yaml:5 items: 发现 '各项分值合计 90'，应为 等于满分 full_score = 100"]


def test_error_band_gap_names_the_uncovered_boundary():
    [msg] = messages(BROKEN / "error-band-gap.yaml")
    assert msg.startswith("error-band-gap.yaml:7 pay.bands: 发现 '80 及以上未被任何区间覆盖")


def test_error_unreachable_band():
    assert messages(BROKEN / "error-unreachable-band.yaml") == [
        "error-unreachable-band.yaml:9 pay.bands[1].range: 发现 '(100, 120]'，应为 与得分范围 [0, 100] 有交集（否则永远用不到）"]


def test_error_typo_key_is_not_a_silent_default():
    assert messages(BROKEN / "error-typo-key.yaml") == [
        "error-typo-key.yaml:3 itmes: 发现 'itmes'，应为 已知的字段（此字段名不认识，可能拼写有误）"]


def test_error_yaml_syntax_has_a_line():
    [msg] = messages(BROKEN / "error-yaml-syntax.yaml")
    assert msg.startswith("error-yaml-syntax.yaml:5 YAML 语法:")


def test_error_duplicate_id():
    assert messages(BROKEN / "error-duplicate-id.yaml") == [
        "error-duplicate-id.yaml:15 items[1].rules[0].id: 发现 'complaint'，应为 唯一的 id（与 items[0].rules[0] 重复）"]


def test_error_cyclic():
    assert messages(BROKEN / "error-cyclic-a.yaml") == [
        "error-cyclic-b.yaml:3 extends: 发现 'error-cyclic-a.yaml'，应为 不循环的继承关系"
        "（循环：error-cyclic-a.yaml → error-cyclic-b.yaml → error-cyclic-a.yaml）"]


def test_error_bad_quota_attribute():
    assert messages(BROKEN / "error-bad-quota-attribute.yaml") == [
        "error-bad-quota-attribute.yaml:14 items[0].rules[0].shortfall.quota.by: 发现 'worker_kind'，"
        "应为 attributes 中声明的人员属性（已声明：worker_type）",
        "error-bad-quota-attribute.yaml:17 items[0].rules[1].shortfall.quota.values.城市: 发现 '城市'，"
        "应为 属性「类别」的取值之一：村、社区"]


def test_many_problems_are_all_reported_in_one_pass():
    msgs = messages(BROKEN / "error-many-problems.yaml")
    fields = [m.split(" ")[1].rstrip(":") for m in msgs]
    assert fields == ["effective_from", "items[0].points", "items[1].rules[0].per_count.point",
                      "items[1].rules[1].tiers.tiers[1].range", "items[1].rules[1].tiers.tiers[2].range",
                      "pay.bands", "pay.bands"]
    assert "[85, 95)" in msgs[3] and "[101, 120)" in msgs[4]


def test_inheritance_overrides_adds_and_removes_by_id():
    child = load_policy_file(BROKEN / "inherit" / "child.yaml")
    items = {it.id: it for it in child.doc.items}
    assert list(items) == ["service", "attendance", "fire"]          # training removed, fire added
    assert items["attendance"].points == 25                          # overridden field
    assert [r.id for r in items["attendance"].rules] == ["absence", "absence_escalate"]  # rule added
    assert items["service"].rules[0].per_count.points == 3           # rule overridden by id
    assert items["service"].rules[0].label == "投诉（本镇从严）"
    assert run_examples(child) == []
    assert [Path(f).name for f in child.files] == ["child.yaml", "parent.yaml"]


def test_effective_dates_pick_the_version_in_force():
    ps = load_policy(BROKEN / "inherit")
    assert ps.for_month("2026-12").version == ""
    assert ps.for_month("2027-01").version == "2027"
    v2026, v2027 = ps.for_month("2026-06"), ps.for_month("2027-03")
    assert v2026.hash != v2027.hash
    complaint = lambda p: p.doc.items[0].rules[0].per_count.points  # noqa: E731
    assert (complaint(v2026), complaint(v2027)) == (3, 4)
    with pytest.raises(PolicyError) as exc:
        ps.for_month("2025-12")
    assert "在该月有效" in str(exc.value)


def test_hash_ignores_examples_but_not_rules(tmp_path):
    src = (RULES / "youhao.yaml").read_text(encoding="utf-8")
    (tmp_path / "a.yaml").write_text(src, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(src.replace("name: 全部达标", "name: 全部达标（改名）"), encoding="utf-8")
    (tmp_path / "c.yaml").write_text(src.replace("points: 5}", "points: 6}", 1), encoding="utf-8")
    a, b, c = (load_policy_file(tmp_path / f"{x}.yaml") for x in "abc")
    assert a.hash == b.hash != c.hash


def test_json_schema_describes_the_format():
    schema = policy_json_schema()
    assert schema["additionalProperties"] is False
    assert {"items", "metrics", "pay", "vetoes", "examples"} <= set(schema["properties"])
