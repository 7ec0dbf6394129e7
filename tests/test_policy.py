"""Policy files: presets, worked examples, inheritance, versions, and every broken fixture's exact message."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import PolicyError
from engine.policy import load_policy, load_policy_file, policy_json_schema
from engine.scoring import run_examples

from conftest import FIXTURES, RULES

PRESETS = ["chengguan.yaml", "youhao.yaml", "kongjiazhuang.yaml", "pingtai.yaml", "xunchai.yaml"]
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
    [p] = run_examples(policy)
    assert (p.file, p.line, p.field, p.found) == (str(BROKEN / "error-example-mismatch.yaml"), 18,
                                                  "examples[0].expect.score", "94")
    assert str(p).replace(str(BROKEN) + "/", "") == (
        "error-example-mismatch.yaml:18 examples[0].expect.score: 发现 '94'，"
        "应为 95（示例「投诉3次」写明的得分；发现的是按细则算出的得分）（计算明细：投诉3次（每次扣2分），扣6分）")


def test_every_expectation_of_an_example_is_located_with_found_and_expected():
    policy = load_policy_file(BROKEN / "error-example-mismatch-every-field.yaml")
    assert [(p.line, p.field, p.found, p.expected.split("（")[0]) for p in run_examples(policy)] == [
        (32, "examples[0].expect.score", "95", "96"),
        (33, "examples[0].expect.stars", "5", "0"),
        (34, "examples[0].expect.band", "full", "part"),
        (35, "examples[0].expect.pay", "200.00", "100.00"),
        (36, "examples[0].expect.veto", "false", "true"),
        (37, "examples[0].expect.findings.complaint", "-6", "-4"),
        (37, "examples[0].expect.findings", "praised: 1", "列出触发的每一条规则"),
        (41, "examples[1].expect.veto", "true", "false")]


def test_validate_reports_example_mismatches_as_problems_with_exit_2():
    from click.testing import CliRunner

    from engine.cli import main

    res = CliRunner().invoke(main, ["validate", str(BROKEN / "error-example-mismatch.yaml"), str(RULES / "youhao.yaml")])
    assert res.exit_code == 2
    assert res.output.replace(str(BROKEN) + "/", "").splitlines()[-2:] == [
        "错误：考核细则中的示例有 1 处与计算结果不符：",
        "  error-example-mismatch.yaml:18 examples[0].expect.score: 发现 '94'，应为 95"
        "（示例「投诉3次」写明的得分；发现的是按细则算出的得分）（计算明细：投诉3次（每次扣2分），扣6分）"]


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
        "error-typo-key.yaml:3 itmes: 发现 'itmes'，应为 已知的字段（此字段名不认识，可能拼写有误）（可能是 items）"]


def test_error_yaml_syntax_has_a_line():
    # the brace left open on line 4 is noticed on line 5; the message names the line of the brace
    assert messages(BROKEN / "error-yaml-syntax.yaml") == [
        "error-yaml-syntax.yaml:4 YAML 语法: 发现 '未闭合的花括号 {'，应为 与 { 配对的 }（第 5 列，读到第 5 行时发现）"]


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


# --------------------------------------------------------------------------- audit: hostile policies


def test_error_duplicate_key_is_reported_with_everything_else():
    assert messages(BROKEN / "error-duplicate-key.yaml") == [
        "error-duplicate-key.yaml:5 metrics.complaints: 发现 'complaints'，应为 每个键只出现一次"
        "（第 4 行已有「complaints」，后一个会覆盖前一个）",
        "error-duplicate-key.yaml:6 items: 发现 '各项分值合计 90'，应为 等于满分 full_score = 100",
        "error-duplicate-key.yaml:10 items[0].points: 发现 'points'，应为 每个键只出现一次（第 9 行已有「points」，后一个会覆盖前一个）"]


def test_error_duplicate_key_names_its_dotted_path():
    assert messages(BROKEN / "error-duplicate-key-in-rule.yaml") == [
        "error-duplicate-key-in-rule.yaml:17 items[2].rules[0].cap: 发现 'cap'，应为 每个键只出现一次"
        "（第 15 行已有「cap」，后一个会覆盖前一个）",
        "error-duplicate-key-in-rule.yaml:18 items[2].rules[1].per_count.points: 发现 'points'，应为 每个键只出现一次"
        "（第 18 行已有「points」，后一个会覆盖前一个）"]


def test_duplicate_key_path_through_anchors_and_merge_keys(tmp_path):
    (tmp_path / "p.yaml").write_text("a: &b {x: 1, x: 2}\nc:\n  - d: *b\n  - {<<: *b, y: 1, y: 2}\n", encoding="utf-8")
    with pytest.raises(PolicyError) as exc:
        load_policy_file(tmp_path / "p.yaml")
    dups = [(p.line, p.field) for p in exc.value.problems if p.expected == "每个键只出现一次"]
    assert dups == [(1, "a.x"), (4, "c[1].y")]


def test_error_yaml_tab_is_said_in_chinese():
    assert messages(BROKEN / "error-yaml-tab.yaml") == [
        "error-yaml-tab.yaml:4 YAML 语法: 发现 '制表符（Tab）'，应为 用空格缩进（YAML 不允许 Tab）（第 1 列）"]


@pytest.mark.parametrize("text, found, expected", [
    ("id: a\nname: b: c\n", "此处多出的冒号“:”", "每行一个“键: 值”，值中含冒号时加引号，冒号后留一个空格"),
    ("id: a\nitems: [\n  {id: x\n", "未闭合的花括号 {", "与 { 配对的 }"),
    ("id: a\nname: *nope\n", "未定义的引用 *nope", "先用 &nope 定义锚点再引用"),
    ("id: a\n---\nid: b\n", "多个 YAML 文档（多余的 ---）", "一个文件只写一份内容"),
    ("id: a\n{[1]: 2}: 3\n", "用列表或映射作键", "文字或数字作键"),
    ("a: &a [*a]\n", "自己引用自己的 &锚点", "有限层次的 YAML"),
    ("pay:\n  performance_share: %20\n", "以 % 开头的值", "以 % 开头的值加上引号，如 \"%…\""),
])
def test_yaml_syntax_errors_never_crash_and_are_chinese(tmp_path, text, found, expected):
    (tmp_path / "p.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as exc:
        load_policy_file(tmp_path / "p.yaml")
    [p] = exc.value.problems
    assert (p.field, p.found, p.expected) == ("YAML 语法", found, expected) and p.line


def test_alias_bomb_is_refused_quickly(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    (tmp_path / "bomb.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(PolicyError) as exc:
        load_policy_file(tmp_path / "bomb.yaml")
    assert exc.value.problems[0].found == "别名（*引用）展开后过大"


def test_non_utf8_policy_names_the_line(tmp_path):
    (tmp_path / "p.yaml").write_bytes(b"id: x\nname: ok\nlabel: \xff\xfe\n")
    with pytest.raises(PolicyError) as exc:
        load_policy_file(tmp_path / "p.yaml")
    [p] = exc.value.problems
    assert (p.line, p.found) == (3, "无法识别的文字编码")


def test_error_example_bad_values_are_policy_errors_not_crashes():
    assert messages(BROKEN / "error-example-bad-values.yaml") == [
        "error-example-bad-values.yaml:27 examples[0].worker.worker_type: 发现 '城镇'，应为 属性「类别」的取值之一：村、社区",
        "error-example-bad-values.yaml:27 examples[0].worker.wage: 发现 '三千'，应为 不小于 0、最多两位小数的月工资（元）",
        "error-example-bad-values.yaml:28 examples[0].metrics.visits: 发现 '很多'，应为 数字（走访户数）",
        "error-example-bad-values.yaml:28 examples[0].metrics.late_n: 发现 2，"
        "应为 不填（「迟报件数」由事件计数，请在示例的 events 中写出事件）",
        "error-example-bad-values.yaml:28 examples[0].metrics: 发现 （缺失），应为 写出指标「到位率」（rate）的数值（该指标没有默认值）",
        "error-example-bad-values.yaml:30 examples[0].events[0].category: 发现 '火灾'，应为 events.categories 中声明的类别之一：纠纷、隐患",
        "error-example-bad-values.yaml:30 examples[0].events[0].delay_hours: 发现 '-1'，应为 不小于 0 的小时数",
        "error-example-bad-values.yaml:31 examples[0].expect.veto: 发现 'v_fire'，应为 true、false 或 vetoes 中的否决项 id（已有：v_acc）",
        "error-example-bad-values.yaml:34 examples[1].metrics.visits: 发现 9999，应为 在 [0, 500] 范围内的数值（走访户数，单位户）"]


def test_error_attribute_default_outside_its_values():
    assert messages(BROKEN / "error-attribute-default.yaml") == [
        "error-attribute-default.yaml:4 attributes.worker_type.default: 发现 '城镇'，应为 values 中的取值之一：村、社区"
        "（名册中此列留空的人会取默认值）",
        "error-attribute-default.yaml:5 attributes.grade.values: 发现 []，应为 至少一个取值（或不写 values，不限取值）"]


def test_error_remove_without_extends():
    assert messages(BROKEN / "error-remove-without-extends.yaml") == [
        "error-remove-without-extends.yaml:3 remove: 发现 ['training']，应为 只在继承（extends）时使用，"
        "删除继承来的项目、规则或否决项（本文件没有 extends；不要的项目直接删去即可）"]


def test_error_percent_points_are_not_silently_divided_by_100():
    pct = "应为 不带 % 的数字（百分数只用于 performance_share、ratio 和 weight；百分比指标的数值直接写 95）"
    assert messages(BROKEN / "error-percent-points.yaml") == [
        f"error-percent-points.yaml:8 items[0].points: 发现 '40%'，{pct}",
        f"error-percent-points.yaml:10 items[0].rules[0].shortfall.quota: 发现 '95%'，{pct}"]


def test_error_huge_number():
    assert messages(BROKEN / "error-huge-number.yaml") == [
        "error-huge-number.yaml:4 metrics.visits.max: 发现 '1e400'，应为 绝对值不超过 1,000,000,000,000 的数字"]


def test_error_never_fires():
    assert messages(BROKEN / "error-never-fires.yaml") == [
        "error-never-fires.yaml:11 items[0].rules[0].tiers.tiers[0].range: 发现 '(1, 2)'，"
        "应为 含有整数的区间（「差错」是整数指标，此区间内没有整数，规则永远不会触发）",
        "error-never-fires.yaml:12 items[0].rules[1].per_count.escalate: 发现 ['0', '0']，应为 至少一个大于 0 的分值（否则永远不扣分）",
        "error-never-fires.yaml:13 items[0].rules[2].event.repeat_months: 发现 '[0, 1)'，"
        "应为 与 [1, +inf) 有交集的月数区间（否则永远不会触发）",
        "error-never-fires.yaml:16 items[0].rules[3].reason: 发现 '{count}'，应为 可用的占位符之一："
        "{规则}、{分值}、{得扣}、{项目}、{label}、{points}、{指标}、{数值}、{单位}、{计分方式}、{errors}",
        "error-never-fires.yaml:19 vetoes[0].metric: 发现 'none_ever'，"
        "应为 最大值至少为 1 的计数指标（不写 range 时次数 ≥ 1 即否决，否则永远不会触发）",
        "error-never-fires.yaml:22 stars[1].stars: 发现 -1，应为 不小于 0 的星级"]


def test_error_periods_references_unknown_attribute_and_stars():
    assert messages(BROKEN / "error-periods-references.yaml") == [
        "error-periods-references.yaml:14 periods.ranking.peer_group: 发现 'attribute:worker_kind'，"
        "应为 attribute: 后接 attributes 中声明的人员属性（已声明：worker_type）",
        "error-periods-references.yaml:29 periods.rules[1].grades[0].every_month_min_stars: 发现 6，"
        "应为 不超过本细则的最高星级 5（否则无人能评上）"]


def test_error_schema_cascade_gives_no_false_problems():
    assert messages(BROKEN / "error-schema-cascade.yaml") == [
        "error-schema-cascade.yaml:4 metrics.complaints.type: 发现 'integr'，应为 以下之一：integer、number、percent、bool",
        "error-schema-cascade.yaml:7 items[0].points: 发现 （缺失），应为 必填项",
        "error-schema-cascade.yaml:9 items[0].pionts: 发现 100，应为 已知的字段（此字段名不认识，可能拼写有误）（可能是 points）",
        "error-schema-cascade.yaml:12 items[0].rules[1].partial: 发现 'round'，应为 已知的字段（此字段名不认识，可能拼写有误）"]


def test_a_child_rule_may_change_its_form():
    child = load_policy_file(BROKEN / "inherit-form" / "child-change-form.yaml")
    rule = child.doc.items[0].rules[0]
    assert (rule.kind, rule.label) == ("tiers", "投诉")
    assert run_examples(child) == []


def test_validate_of_a_folder_reports_overlapping_versions():
    from click.testing import CliRunner

    from engine.cli import main

    res = CliRunner().invoke(main, ["validate", str(BROKEN / "versions-overlap")])
    assert res.exit_code == 2
    assert f"{BROKEN / 'versions-overlap' / 'v2027.yaml'}:5 effective_from: 发现 '2026-10'，应为 晚于 " \
           f"{BROKEN / 'versions-overlap' / 'v2026.yaml'} 的截止月份 2026-12（同一考核细则的版本不能重叠）" in res.output


def test_error_unquoted_text_suggests_quotes():
    assert messages(BROKEN / "error-unquoted-text.yaml") == [
        "error-unquoted-text.yaml:3 version: 发现 2026.1，应为 文字（不加引号时 YAML 把它读成了数字，请用引号括起来）",
        "error-unquoted-text.yaml:4 effective_from: 发现 202601，应为 文字（不加引号时 YAML 把它读成了数字，请用引号括起来）"]


def test_error_periods_missing_fields_are_reported_not_crashed_on():
    assert messages(BROKEN / "error-periods-missing-fields.yaml") == [
        "error-periods-missing-fields.yaml:9 periods.ranking.last_place_ties: 发现 （缺失），应为 必填项",
        "error-periods-missing-fields.yaml:11 periods.rules[0].label: 发现 （缺失），应为 必填项",
        "error-periods-missing-fields.yaml:20 periods.rules[1].grades[0].id: 发现 （缺失），应为 必填项"]


def test_error_late_overlapping_missed_would_deduct_twice():
    assert messages(BROKEN / "error-late-overlaps-missed.yaml") == [
        "error-late-overlaps-missed.yaml:16 items[0].rules[1].event.delay_hours: 发现 '(24, +inf)'，"
        "应为 与同一项目中规则「紧急信息迟报」（urgent_late）的上报延迟区间 (3, 48] 不重叠的区间"
        "（迟报与漏报区间重叠：同一事件会被两条规则重复扣分；写明边界归属，如把「紧急信息迟报」改为 (3, 24]）",
        "error-late-overlaps-missed.yaml:35 items[1].rules[1].event.handling_hours: 发现 '[72, +inf)'，"
        "应为 与同一项目中规则「办理超时」（slow）的办理用时区间 (24, 96] 不重叠的区间"
        "（办理超时各档区间重叠：同一事件会被两条规则重复扣分；写明边界归属，如把「办理超时」改为 (24, 72)）"]


def test_two_versions_starting_the_same_month_are_an_error_not_a_silent_pick():
    with pytest.raises(PolicyError) as exc:
        load_policy(BROKEN / "versions-same-start")
    assert [str(p).replace(str(BROKEN) + "/", "") for p in exc.value.problems] == [
        "versions-same-start/v2026b.yaml:5 effective_from: 发现 '2026-01'，应为 与 "
        "versions-same-start/v2026a.yaml 不同的生效月份（两个版本同月生效，无法判断用哪一个）"]


def test_one_file_named_twice_is_one_version():
    ps = load_policy([RULES / "youhao.yaml", RULES / "youhao.yaml", RULES / ".." / "rules" / "youhao.yaml"])
    assert len(ps.versions) == 1 and ps.for_month("2026-10").files == [str(RULES / "youhao.yaml")]


def test_many_unknown_keys_are_refused_quickly_with_a_bounded_list(tmp_path):
    # 20,000 unknown keys took minutes (each pruning pass looked every key up in a list of the
    # others); the check is linear now, and lists 100 problems and counts the rest.
    import time

    junk = "".join(f"junk_{i}: {i}\n" for i in range(10_000))
    nested = "".join(f"    junk_{i}: {i}\n" for i in range(10_000))
    text = (RULES / "youhao.yaml").read_text(encoding="utf-8")
    text = text.replace("metrics:\n", "metrics:\n  zz:\n    label: 多余\n    type: integer\n" + nested, 1) + junk
    (tmp_path / "p.yaml").write_text(text, encoding="utf-8")
    t0 = time.perf_counter()
    with pytest.raises(PolicyError) as exc:
        load_policy_file(tmp_path / "p.yaml")
    assert time.perf_counter() - t0 < 30
    problems = exc.value.problems
    assert len(problems) == 101
    assert problems[0].field == "metrics.zz.junk_0" and problems[99].field == "metrics.zz.junk_99"
    last = problems[-1]
    assert (last.field, last.found, last.expected) == (
        "（其余）", "另有 19900 处问题未逐一列出", "先改正以上 100 处问题，再次检查时会列出其余问题")


def test_period_rules_are_in_the_schema_one_model_per_kind():
    defs = policy_json_schema()["$defs"]
    rules = defs["PeriodsDef"]["properties"]["rules"]["items"]
    assert rules["discriminator"]["propertyName"] == "kind"
    assert {"LastPlaceRun", "BottomShare", "Grade", "AnnualGrade", "WageFloor"} <= set(defs)
    assert defs["LastPlaceRun"]["additionalProperties"] is False


def test_an_unchanged_policy_keeps_the_hash_its_stored_months_carry():
    # The format gained keys (records, composite, stages, effect, mode …); a file that uses none of them
    # hashes as before, or history would refuse every month stored under it.  Hashes of commit 1baa63a:
    assert load_policy_file(RULES / "chengguan.yaml").hash == \
        "7fef371d576a2746f80b1c455ed3c3f972cedef7421c9731a26b51da7bf6acc5"
    assert load_policy_file(RULES / "youhao.yaml").hash == \
        "90d7517d33b489e6709dc6bc4a7c8f7203c36dc51d94cae931932f708190be6c"
