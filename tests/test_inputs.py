"""Inputs an office really has: odd encodings, broken files, random junk — never a crash."""
from __future__ import annotations

import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import DataError, EngineError, PolicyError
from engine.inputs import read_month
from engine.policy import load_policy
from engine.scoring import score_month

from conftest import FIXTURES, RULES

DATA = FIXTURES / "data"


@pytest.fixture(scope="module")
def policy():
    return load_policy(RULES / "chengguan.yaml").for_month("2026-10")


@pytest.mark.parametrize("content, found", [
    (b"", "空文件"),
    (b"\xff\xfe\x00garbage", "无法识别的文字编码"),
])
def test_unreadable_register(tmp_path, policy, content, found):
    (tmp_path / "w.csv").write_bytes(content)
    with pytest.raises(DataError) as exc:
        score_month(policy, "2026-10", tmp_path / "w.csv", DATA / "metrics.csv", DATA / "events.csv")
    assert exc.value.problems[0].found == found


def test_corrupt_xlsx(tmp_path, policy):
    (tmp_path / "m.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DataError) as exc:
        score_month(policy, "2026-10", DATA / "workers.csv", tmp_path / "m.xlsx", None)
    assert exc.value.problems[0].found == "无法打开的 Excel 文件"


def test_missing_metric_row_and_unknown_column(tmp_path, policy):
    text = (DATA / "metrics.csv").read_text(encoding="utf-8").splitlines()
    text[0] = text[0].replace("巡查到位率", "巡查率")           # a misspelt header
    (tmp_path / "m.csv").write_text("\n".join(l for l in text if ",W03," not in l) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as exc:
        score_month(policy, "2026-10", DATA / "workers.csv", tmp_path / "m.csv", DATA / "events.csv")
    fields = [(p.line, p.field, p.found) for p in exc.value.problems]
    assert (1, "第7列表头", "巡查率") in fields


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=st.lists(st.lists(st.text(max_size=8), min_size=0, max_size=12), min_size=0, max_size=6))
def test_random_metric_cells_never_crash(tmp_path_factory, policy, junk):
    tmp = tmp_path_factory.mktemp("junk")
    header = (DATA / "metrics.csv").read_text(encoding="utf-8").splitlines()[0]
    import csv
    with open(tmp / "m.csv", "w", encoding="utf-8", newline="") as fh:
        wr = csv.writer(fh)
        wr.writerow(header.split(","))
        for row in junk:
            wr.writerow(row)
    try:
        score_month(policy, "2026-10", DATA / "workers.csv", tmp / "m.csv", DATA / "events.csv")
    except EngineError:
        pass   # a located complaint is the right answer; anything else is a bug


def test_register_without_pay_column_when_policy_pays(tmp_path, policy):
    text = (DATA / "workers.csv").read_text(encoding="utf-8").replace(",月工资", "").splitlines()
    rows = [",".join(c for i, c in enumerate(l.split(",")) if i != 7) if n else l for n, l in enumerate(text)]
    (tmp_path / "w.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as exc:
        score_month(policy, "2026-10", tmp_path / "w.csv", DATA / "metrics.csv", DATA / "events.csv")
    assert {p.field for p in exc.value.problems} == {"月工资"}
    assert len(exc.value.problems) == 4        # one per worker, all in one pass


# --------------------------------------------------------------------------- audit: hostile data files

BROKEN = DATA / "broken"


def problems_of(policy, workers=DATA / "workers.csv", metrics=DATA / "metrics.csv", events=DATA / "events.csv"):
    with pytest.raises(DataError) as exc:
        score_month(policy, "2026-10", workers, metrics, events)
    return [str(p).replace(str(BROKEN) + "/", "") for p in exc.value.problems]


def test_formula_without_value_is_an_error_not_a_default(policy):
    hint = "（文件未经 Excel/WPS 计算保存；请在 Excel/WPS 中打开后保存，或把公式改为数值）"
    assert problems_of(policy, metrics=BROKEN / "metrics-formula-no-value.xlsx") == [
        f"metrics-formula-no-value.xlsx:3 群众有效投诉: 发现 '=1+1'，应为 数值（此公式没有计算结果）{hint}",
        f"metrics-formula-no-value.xlsx:4 纸质民情日志: 发现 '=4*2'，应为 数值（此公式没有计算结果）{hint}"]


def test_merged_metric_cells_are_an_error(policy):
    assert problems_of(policy, metrics=BROKEN / "metrics-merged-cells.xlsx") == [
        "metrics-merged-cells.xlsx:3 合并单元格 I3:I4（群众有效投诉）: 发现 2，"
        "应为 每行单独填写（合并后只有第一行有值，其余行会被当作空白）（请取消合并后逐行填写）"]


def test_title_row_above_the_header(policy):
    msgs = problems_of(policy, workers=BROKEN / "workers-title-row.xlsx")
    assert msgs[0] == ("workers-title-row.xlsx:1 合并单元格 A1:I1: 发现 '鹤山镇网格员名册'，"
                       "应为 第 1 行是表头，每列一个列名，不合并单元格（若第 1 行是标题，请删除标题行）")
    assert msgs[1] == ("workers-title-row.xlsx:1 表头: 发现 （缺失），应为 包含列「工号」（也可写作 编号、人员编号、"
                       "网格员编号、id、worker_id）（第 1 行似乎是标题「鹤山镇网格员名册」：表头必须在第 1 行，请删除上方的标题行）")


def test_unquoted_comma_shifts_no_column_silently_and_huge_wage(policy):
    assert problems_of(policy, workers=BROKEN / "workers-unquoted-comma-and-huge-wage.csv") == [
        "workers-unquoted-comma-and-huge-wage.csv:2 第10列: 发现 '社区'，应为 不超过表头的 9 列（本行有 10 列以上）"
        "（没有表头的列；CSV 中含逗号的数字（如 3,000）请加引号或去掉逗号，否则后面各列会错位）",
        "workers-unquoted-comma-and-huge-wage.csv:2 月工资: 发现 '3'，应为 100 到 100,000 元之间的月工资"
        "（考核细则 pay.wage_min、pay.wage_max）（可能按千元或万元填写了（如 3.4 应为 3400）；"
        "金额确实如此时，请在考核细则中调整 pay.wage_min）",
        "workers-unquoted-comma-and-huge-wage.csv:2 网格员类别: 发现 '000'，应为 以下之一：村、社区",
        "workers-unquoted-comma-and-huge-wage.csv:5 月工资: 发现 '30000000'，应为 100 到 100,000 元之间的月工资"
        "（考核细则 pay.wage_min、pay.wage_max）（可能按分填写了，或多打了 0；金额确实如此时，请在考核细则中调整 pay.wage_max）"]


def test_unknown_columns_do_not_hide_the_row_problems(policy):
    msgs = problems_of(policy, metrics=BROKEN / "metrics-unknown-columns-bad-month-and-values.csv")
    name = "metrics-unknown-columns-bad-month-and-values.csv"
    assert msgs[0].startswith(f"{name}:1 第13列表头: 发现 '备注'，应为 已知的列名之一：受县级以上表彰（commendations）、")
    assert msgs[1:] == [
        f"{name}:1 表头: 发现 '录入矛盾纠纷'，应为 不含此列（「录入矛盾纠纷」由事件台账按条件计数，不在指标表中填写）（请删除此列）",
        f"{name}:3 月份: 发现 '2026-1O'，应为 月份，如 2026-10、2026/10 或 2026年10月",
        f"{name}:4 纸质民情日志: 发现 '八'，应为 数字（纸质民情日志）",
        f"{name}:5 因迟报漏报引发重大案件: 发现 '也许'，应为 是/否（如 是、否、1、0）",
        f"{name} 工号: 发现 'W02'，应为 名册中的 W02（李娜）在指标表中有一行 2026-10 的数据（未设默认值的指标必须填写）"]


def test_a_sheet_of_other_months_is_one_problem(policy):
    assert problems_of(policy, metrics=BROKEN / "metrics-other-months-only.csv") == [
        "metrics-other-months-only.csv 月份: 发现 '2026-09'，应为 包含 2026-10 的数据行（月份列中没有本月）"]


def _scores(res):
    return {w["worker_id"]: w["score"] for w in res["workers"]}


def test_events_of_other_months_are_not_checked_against_this_register(policy):
    plain = score_month(policy, "2026-10", DATA / "workers.csv", DATA / "metrics.csv", DATA / "events.csv")
    res = score_month(policy, "2026-10", DATA / "workers.csv", DATA / "metrics.csv",
                      BROKEN / "events-past-worker-in-other-month.csv")
    assert _scores(res) == _scores(plain)


@pytest.mark.parametrize("workers, metrics", [
    ("workers-merged-cells.xlsx", None),          # merged town/community cells: every row has them
    (None, "metrics-percent-format.xlsx"),        # 0.95 shown as 95% reads 95
    (None, "metrics-float-noise.xlsx"),           # 1.5000000000000002 reads 1.5, as the sheet shows
])
def test_xlsx_read_as_the_sheet_shows_it(policy, workers, metrics):
    plain = score_month(policy, "2026-10", DATA / "workers.csv", DATA / "metrics.csv", DATA / "events.csv")
    res = score_month(policy, "2026-10", BROKEN / workers if workers else DATA / "workers.csv",
                      BROKEN / metrics if metrics else DATA / "metrics.csv", DATA / "events.csv")
    assert _scores(res) == _scores(plain)
    assert [(w["town"], w["community"]) for w in res["workers"]] == \
        [(w["town"], w["community"]) for w in plain["workers"]]


def test_an_xlsx_saved_under_a_csv_name(tmp_path, policy):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["工号", "姓名"])
    wb.save(tmp_path / "workers.csv")
    assert problems_of(policy, workers=tmp_path / "workers.csv") == [
        f"{tmp_path / 'workers.csv'} 文件: 发现 '名为 .csv 的 Excel 文件'，应为 CSV 或 XLSX 格式的表格"
        "（请把文件扩展名改为 .xlsx，或在 Excel/WPS 中另存为 CSV）"]


def test_misspelt_headers_name_the_column_they_probably_mean_and_list_the_known_ones_once(policy):
    name = "metrics-misspelt-headers.csv"
    msgs = problems_of(policy, metrics=BROKEN / name)
    # 巡察到位率 (7th column) for 巡查到位率, 群众满意度 (8th) for 群众满意率.
    assert msgs[0].startswith(f"{name}:1 第7列表头: 发现 '巡察到位率'，应为 已知的列名之一：受县级以上表彰（commendations）、")
    assert msgs[0].endswith("（可能是 巡查到位率（patrol_rate））")
    assert msgs[1] == (f"{name}:1 第8列表头: 发现 '群众满意度'，应为 已知的列名之一（见第7列表头的说明）"
                       "（可能是 群众满意率（satisfaction））")


# --------------------------------------------------------------------------- wrong data that would change pay

def variant(tmp_path, base_edits=(), edits=(), examples=True):
    """rules/chengguan.yaml on top of rules/base.yaml, with text replacements, as tmp_path/chengguan.yaml."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    files = {"base.yaml": base_edits, "chengguan.yaml": edits}
    for name, changes in files.items():
        text = (RULES / name).read_text(encoding="utf-8")
        if name == "chengguan.yaml" and not examples:
            text = text.split("\nexamples:")[0] + "\n"
        for old, new in changes:
            assert old in text, old
            text = text.replace(old, new, 1)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path / "chengguan.yaml"


def month_policy(path):
    return load_policy(path).for_month("2026-10")


FRACTION_HINT = ("（平台导出的可能是小数（0.97 表示 97%）：请把此列乘以 100 后重新提供，或在考核细则中为指标 {} 写 scale: fraction；"
                 "若本月数值确实都不超过 1%，写 scale: percent）")


def test_percent_columns_given_as_fractions_are_refused(policy):
    # Every rate of the month lies in [0, 1] while the rules draw their lines at 80-100: read as
    # written, each of the four workers would lose 5 points three times (entry, patrol, satisfaction).
    name = "metrics-percent-as-fractions.csv"
    assert problems_of(policy, metrics=BROKEN / name) == [
        f"{name} 信息采集录入率: 发现 '全部 4 个数值都在 0 到 1 之间（如第 4 行的 0.96）'，"
        "应为 0 到 100 的百分数（97 表示 97%；考核细则对此指标的界限是 95、100，都远大于 1）" + FRACTION_HINT.format("info_entry_rate"),
        f"{name} 巡查到位率: 发现 '全部 4 个数值都在 0 到 1 之间（如第 4 行的 0.92）'，"
        "应为 0 到 100 的百分数（97 表示 97%；考核细则对此指标的界限是 90、95，都远大于 1）" + FRACTION_HINT.format("patrol_rate"),
        f"{name} 群众满意率: 发现 '全部 4 个数值都在 0 到 1 之间（如第 3 行的 0.95）'，"
        "应为 0 到 100 的百分数（97 表示 97%；考核细则对此指标的界限是 80、90，都远大于 1）" + FRACTION_HINT.format("satisfaction")]


def _scale(value):
    percent = "    type: percent\n    unit: \"%\"\n"
    return dict(base_edits=[(f"    label: 巡查到位率\n{percent}", f"    label: 巡查到位率\n{percent}    scale: {value}\n"),
                            (f"    label: 群众满意率\n{percent}", f"    label: 群众满意率\n{percent}    scale: {value}\n")],
                edits=[(f"    label: 信息采集录入率\n{percent}", f"    label: 信息采集录入率\n{percent}    scale: {value}\n")])


def test_scale_fraction_reads_fractions_as_percents(tmp_path, policy):
    fractions = month_policy(variant(tmp_path, **_scale("fraction")))
    plain = score_month(policy, "2026-10", DATA / "workers.csv", DATA / "metrics.csv", DATA / "events.csv")
    res = score_month(fractions, "2026-10", DATA / "workers.csv", BROKEN / "metrics-percent-as-fractions.csv",
                      DATA / "events.csv")
    assert _scores(res) == _scores(plain)
    # an .xlsx cell shown as 95% is a percent already, also in a fraction column
    res = score_month(fractions, "2026-10", DATA / "workers.csv", BROKEN / "metrics-percent-format.xlsx", DATA / "events.csv")
    assert _scores(res) == _scores(plain)
    # a whole percent in a fraction column is refused, not divided or multiplied silently
    (tmp_path / "m.csv").write_text((BROKEN / "metrics-percent-as-fractions.csv").read_text(encoding="utf-8")
                                    .replace("W02,1.5,6,2,0.96,", "W02,1.5,6,2,96,"), encoding="utf-8")
    with pytest.raises(DataError) as exc:
        score_month(fractions, "2026-10", DATA / "workers.csv", tmp_path / "m.csv", DATA / "events.csv")
    assert [str(p).replace(str(tmp_path) + "/", "") for p in exc.value.problems] == [
        "m.csv:4 信息采集录入率: 发现 '96'，应为 0 到 1 之间的小数（信息采集录入率：考核细则写明 scale: fraction，0.97 表示 97%）"]


def test_scale_percent_takes_small_rates_as_written(tmp_path):
    as_written = month_policy(variant(tmp_path, **_scale("percent")))
    res = score_month(as_written, "2026-10", DATA / "workers.csv", BROKEN / "metrics-percent-as-fractions.csv",
                      DATA / "events.csv")
    # below every line of the three tier rules: the lowest tier of each, 5 points, for everyone
    for w in res["workers"]:
        points = {f["rule_id"]: f["points"] for f in w["findings"]}
        assert (points["entry_rate_low"], points["patrol_rate_low"], points["satisfaction_low"]) == ("-5", "-5", "-5")


def test_wages_in_thousands_are_refused(policy):
    name = "workers-wage-in-thousands.csv"
    hint = "（可能按千元或万元填写了（如 3.4 应为 3400）；金额确实如此时，请在考核细则中调整 pay.wage_min）"
    assert problems_of(policy, workers=BROKEN / name) == [
        f"{name}:{row} 月工资: 发现 '{wage}'，应为 100 到 100,000 元之间的月工资（考核细则 pay.wage_min、pay.wage_max）{hint}"
        for row, wage in ((2, "3.4"), (3, "2.5"), (4, "3"))]


def test_an_office_sets_its_own_wage_bounds(tmp_path):
    pol = month_policy(variant(tmp_path, base_edits=[("  performance_share: 20%\n",
                                                      "  performance_share: 20%\n  wage_min: 2600\n  wage_max: 2999.99\n")],
                               examples=False))
    with pytest.raises(DataError) as exc:
        score_month(pol, "2026-10", DATA / "workers.csv", DATA / "metrics.csv", DATA / "events.csv")
    msgs = [str(p).replace(str(DATA) + "/", "") for p in exc.value.problems]
    expected = "应为 2,600 到 2,999.99 元之间的月工资（考核细则 pay.wage_min、pay.wage_max）"
    assert msgs == [
        f"workers.csv:2 月工资: 发现 '3000'，{expected}（可能按分填写了，或多打了 0；金额确实如此时，请在考核细则中调整 pay.wage_max）",
        f"workers.csv:3 月工资: 发现 '2500'，{expected}（可能按千元或万元填写了（如 3.4 应为 3400）；金额确实如此时，请在考核细则中调整 pay.wage_min）",
        f"workers.csv:4 月工资: 发现 '3000'，{expected}（可能按分填写了，或多打了 0；金额确实如此时，请在考核细则中调整 pay.wage_max）",
        f"workers.csv:5 月工资: 发现 '3000'，{expected}（可能按分填写了，或多打了 0；金额确实如此时，请在考核细则中调整 pay.wage_max）"]


LATE_HINT = "（可能录错了年份或日期；确实如此晚时，请在考核细则 events.max_days_after_month 中放宽天数）"


def test_report_and_closing_times_far_after_the_month_are_refused(policy):
    name = "events-report-typed-2062.csv"
    # October ends on the 31st; 60 days later is 30 December
    assert problems_of(policy, events=BROKEN / name) == [
        f"{name}:3 上报时间: 发现 '2062-10-05 09:30'，应为 不晚于 2026-12-30（本月结束后 60 天内）{LATE_HINT}",
        f"{name}:4 办结时间: 发现 '2027-10-06 12:00'，应为 不晚于 2026-12-30（本月结束后 60 天内）{LATE_HINT}"]


def test_the_number_of_days_is_the_policys(tmp_path):
    pol = month_policy(variant(tmp_path, base_edits=[("  severities: [一般, 较大, 重大, 紧急]\n",
                                                      "  severities: [一般, 较大, 重大, 紧急]\n  max_days_after_month: 400\n")]))
    name = "events-report-typed-2062.csv"
    # 31 October 2026 + 400 days = 5 December 2027: the closing of 6 October 2027 is now accepted
    assert problems_of(pol, events=BROKEN / name) == [
        f"{name}:3 上报时间: 发现 '2062-10-05 09:30'，应为 不晚于 2027-12-05（本月结束后 400 天内）{LATE_HINT}"]


NO_EVENTS_HINT = "本月确实没有事件时，请提供只有表头的空台账，或注明“本月无事件”）"


def test_an_event_log_of_other_months_only_is_refused(policy):
    name = "events-last-month-only.csv"
    assert problems_of(policy, events=BROKEN / name) == [
        f"{name} 发现时间: 发现 '2026-08、2026-09'，应为 包含 2026-10 发现的事件（台账中只有其他月份的事件，可能选错了文件；"
        + NO_EVENTS_HINT]


def test_no_event_log_for_a_policy_that_counts_events_is_refused(policy):
    with pytest.raises(DataError) as exc:
        score_month(policy, "2026-10", DATA / "workers.csv", DATA / "metrics.csv", None)
    assert [str(p) for p in exc.value.problems] == [
        "事件台账 文件: 发现 （缺失），应为 2026-10 的事件台账（本细则按事件计分：录入矛盾纠纷、录入安全隐患、重大矛盾隐患超4小时报送 等 5 项）"
        "（不提供台账，这些项目都会按本月没有任何事件计算（如录入定额会给每个人扣分）；" + NO_EVENTS_HINT]


def _counted(inputs):
    return [(c.worker_id, c.metrics["conflicts_entered"], c.metrics["hazards_entered"], len(c.events)) for c in inputs.cases]


@pytest.mark.parametrize("events, no_events", [
    (None, True),                                        # stated: no events this month
    (DATA / "events-empty.csv", False),                  # an empty log says the same
    (BROKEN / "events-last-month-only.csv", True),       # a year's log without this month, stated
])
def test_no_events_stated_explicitly(policy, events, no_events):
    from engine.inputs import read_month

    inputs = read_month(policy, "2026-10", DATA / "workers.csv", DATA / "metrics.csv", events, no_events=no_events)
    assert _counted(inputs) == [(w, 0, 0, 0) for w in ("W01", "W02", "W03", "W04")]
    assert inputs.no_events is no_events


def test_no_events_stated_but_the_log_has_some(policy):
    from engine.inputs import read_month

    with pytest.raises(DataError) as exc:
        read_month(policy, "2026-10", DATA / "workers.csv", DATA / "metrics.csv", DATA / "events.csv", no_events=True)
    assert [str(p).replace(str(DATA) + "/", "") for p in exc.value.problems] == [
        "events.csv:2 发现时间: 发现 '14 件 2026-10 发现的事件'，应为 没有本月的事件（已注明“本月无事件”）"
        "（请核对：台账中有本月事件时，不要注明本月无事件）"]


def test_a_policy_without_events_needs_no_log(tmp_path):
    from engine.inputs import read_month

    (tmp_path / "p.yaml").write_text(
        "id: plain\nname: 无事件细则\nmetrics:\n  complaints: {label: 投诉, type: integer}\n"
        "items:\n  - id: service\n    label: 服务\n    points: 100\n    rules:\n"
        "      - {id: complaint, label: 投诉, per_count: {metric: complaints, points: 2}}\n"
        "pay:\n  performance_share: 20%\n  bands: [{id: all, label: 全额, range: \"[0, 100]\", ratio: 1}]\n",
        encoding="utf-8")
    (tmp_path / "w.csv").write_text("工号,姓名,乡镇,社区,网格,月工资\nW1,甲,镇,社区,G1,2000\n", encoding="utf-8")
    (tmp_path / "m.csv").write_text("工号,投诉\nW1,1\n", encoding="utf-8")
    inputs = read_month(month_policy(tmp_path / "p.yaml"), "2026-10", tmp_path / "w.csv", tmp_path / "m.csv", None)
    assert [c.metrics["complaints"] for c in inputs.cases] == [1]


def test_the_new_settings_are_validated_with_their_lines(tmp_path):
    path = variant(tmp_path, base_edits=[
        ("  performance_share: 20%\n", "  performance_share: 20%\n  wage_min: 3000.001\n  wage_max: 2000\n"),
        ("  severities: [一般, 较大, 重大, 紧急]\n", "  severities: [一般, 较大, 重大, 紧急]\n  max_days_after_month: 0\n")],
        edits=[("    label: 电子日志周均篇数\n    type: number\n", "    label: 电子日志周均篇数\n    type: number\n    scale: fraction\n"),
               ("    label: 信息采集录入率\n    type: percent\n", "    label: 信息采集录入率\n    type: percent\n    scale: fractions\n")])
    with pytest.raises(PolicyError) as exc:
        load_policy(path)
    assert [str(p).replace(str(tmp_path) + "/", "") for p in exc.value.problems] == [
        "base.yaml:16 events.max_days_after_month: 发现 0，应为 不小于 1 的天数，如 60",
        "base.yaml:59 pay.wage_min: 发现 '3000.001'，应为 不小于 0、最多两位小数的金额（元），如当地最低工资标准",
        "base.yaml:60 pay.wage_max: 发现 '2000'，应为 大于 wage_min（3000.001 元）的金额（元）",
        "chengguan.yaml:14 metrics.e_diary_weekly.scale: 发现 'fraction'，应为 不填（scale 只用于指标表中填写的 percent 百分比指标）",
        "chengguan.yaml:30 metrics.info_entry_rate.scale: 发现 'fractions'，应为 以下之一：percent、fraction"]


def test_worked_examples_respect_the_wage_bounds(tmp_path):
    path = variant(tmp_path, base_edits=[("  performance_share: 20%\n", "  performance_share: 20%\n  wage_min: 2600\n")])
    with pytest.raises(PolicyError) as exc:
        load_policy(path)
    # the second example is a 村 worker on 2,500 yuan
    assert [str(p).replace(str(tmp_path) + "/", "") for p in exc.value.problems] == [
        "chengguan.yaml:284 examples[1].worker.wage: 发现 2500，应为 2,600 到 100,000 元之间的月工资（pay.wage_min、pay.wage_max）"]


def test_the_new_settings_are_in_the_json_schema():
    from engine.policy import policy_json_schema

    defs = policy_json_schema()["$defs"]
    assert defs["MetricDef"]["properties"]["scale"]["anyOf"][0]["enum"] == ["percent", "fraction"]
    assert {"wage_min", "wage_max"} <= set(defs["PayDef"]["properties"])
    assert defs["EventVocabulary"]["properties"]["max_days_after_month"]["default"] == 60


def test_the_new_settings_leave_the_hash_of_a_policy_alone(tmp_path):
    plain = load_policy(RULES / "chengguan.yaml").for_month("2026-10").hash
    bounds = variant(tmp_path / "a", base_edits=[
        ("  performance_share: 20%\n", "  performance_share: 20%\n  wage_min: 1800\n"),
        ("  severities: [一般, 较大, 重大, 紧急]\n", "  severities: [一般, 较大, 重大, 紧急]\n  max_days_after_month: 90\n")],
        **{k: v for k, v in _scale("percent").items() if k == "edits"})
    fraction = variant(tmp_path / "b", **_scale("fraction"))
    # accepting or refusing data never changes a number; reading fractions does
    assert month_policy(bounds).hash == plain != month_policy(fraction).hash


# --------------------------------------------------------------------------- reading files as offices write them


@pytest.mark.parametrize("ending", ["\r", "mixed"])
def test_cr_only_and_mixed_line_endings_are_read(tmp_path, policy, ending):
    paths = {}
    for name in ("workers.csv", "metrics.csv", "events.csv"):
        lines = (DATA / name).read_text(encoding="utf-8").splitlines()
        ends = ["\r"] * len(lines) if ending == "\r" else [("\r\n", "\n", "\r")[i % 3] for i in range(len(lines))]
        (tmp_path / name).write_bytes("".join(l + e for l, e in zip(lines, ends)).encode("utf-8"))
        paths[name] = tmp_path / name
    plain = score_month(policy, "2026-10", DATA / "workers.csv", DATA / "metrics.csv", DATA / "events.csv")
    res = score_month(policy, "2026-10", paths["workers.csv"], paths["metrics.csv"], paths["events.csv"])
    assert _scores(res) == _scores(plain)
    # every finding traced to the same row as in the LF files
    assert [f["source"]["row"] for w in res["workers"] for f in w["findings"]] == \
        [f["source"]["row"] for w in plain["workers"] for f in w["findings"]]


def test_a_misspelt_required_header_is_named(policy):
    name = "workers-header-typo.csv"
    assert problems_of(policy, workers=BROKEN / name) == [
        f"{name}:1 表头: 发现 （缺失），应为 包含列「姓名」（也可写作 网格员、网格员姓名、name）（第2列表头「姓明」可能是「姓名」的笔误）"]


def test_close_match_knows_two_character_chinese_names():
    from engine.errors import close_match

    assert close_match("姓明", ["工号", "姓名", "网格"]) == "姓名"
    assert close_match("社去", ["社区", "乡镇"]) == "社区"
    assert close_match("工明", ["工号", "工名"]) is None        # two names equally near: no guess


def test_an_unpaired_quote_that_swallows_the_file_is_said_in_chinese(tmp_path, policy):
    # the csv module stops at 131,072 characters in one cell; its English message is not shown.
    # The cell opened on line 2 holds 19 characters of it, then 21 a line: the 6,241st line after
    # it (line 6,243) takes the cell past the limit.
    (tmp_path / "w.csv").write_text("工号,姓名,乡镇,社区,网格\nW01,\"张伟,鹤山镇,东村,1-1-01\n" + "W02,李娜,鹤山镇,东村,1-1-02\n" * 7000,
                                    encoding="utf-8")
    assert problems_of(policy, workers=tmp_path / "w.csv")[0] == (
        f"{tmp_path / 'w.csv'} 文件: 发现 '过长的单元格（可能有未配对的引号 \"，把后面的内容都并进了一格）'，"
        "应为 CSV 或 XLSX 格式的表格（第 6243 行）")


def test_the_same_bad_value_in_many_rows_is_reported_in_every_row(tmp_path, policy):
    # Cells are coerced and timestamps parsed once per distinct text (a 100,000-row sheet repeats
    # them); a remembered bad value must still be reported at each row that holds it.
    metrics = (DATA / "metrics.csv").read_text(encoding="utf-8").splitlines()
    col = metrics[0].split(",").index("巡查到位率")
    for i in (2, 3):                                   # W01 and W02 in October (rows 3 and 4)
        cells = metrics[i].split(",")
        cells[col] = "九十"
        metrics[i] = ",".join(cells)
    (tmp_path / "m.csv").write_text("\n".join(metrics) + "\n", encoding="utf-8")
    events = (DATA / "events.csv").read_text(encoding="utf-8").splitlines()
    disc = events[0].split(",").index("发现时间")
    for i in (1, 2):
        cells = events[i].split(",")
        cells[disc] = "2026-10-32 08:00"
        events[i] = ",".join(cells)
    (tmp_path / "e.csv").write_text("\n".join(events) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as exc:
        score_month(policy, "2026-10", DATA / "workers.csv", tmp_path / "m.csv", tmp_path / "e.csv")
    got = [(p.file, p.line, p.field, p.found) for p in exc.value.problems]
    for row in (2, 3):
        assert (str(tmp_path / "m.csv"), row + 1, "巡查到位率", "九十") in got
        assert (str(tmp_path / "e.csv"), row, "发现时间", "2026-10-32 08:00") in got


@pytest.mark.parametrize("workers, metrics, events", [
    ("workers.csv", "metrics.csv", "events.csv"),
    ("broken/workers-duplicate-id.csv", "broken/metrics-bad-values.csv", "broken/events-bad-times.csv"),
    ("workers.csv", "broken/metrics-misspelt-headers.csv", None),
    ("broken/workers-header-typo.csv", "broken/metrics-unknown-columns-bad-month-and-values.csv",
     "broken/events-report-typed-2062.csv"),
    ("workers.csv", "metrics.csv", "broken/events-unknown-workers-among-other-problems.csv"),
])
def test_a_large_months_register_and_metrics_read_beside_give_what_one_process_gives(monkeypatch, policy, workers, metrics, events):
    # A month whose register file has PARALLEL_READ_BYTES or more reads its register and metrics
    # sheet in a forked process while this one reads the event log, and checks the log's worker ids
    # afterwards: the same cases, or the same problems in the same order.
    import engine.inputs as inputs

    def read():
        try:
            got = inputs.read_month(policy, "2026-10", DATA / workers, DATA / metrics,
                                    DATA / events if events else None)
        except DataError as exc:
            return [str(p) for p in exc.problems]
        return repr(got.cases)

    one = read()
    monkeypatch.setattr(inputs, "PARALLEL_READ_BYTES", 0)
    assert read() == one


def test_event_log_worker_ids_are_checked_in_row_order_among_the_rows_other_problems(policy):
    # The log's worker ids are checked against the register after the log is read (the register may
    # be read beside it); each problem still stands where a clerk reads it: by row, and within a
    # row after the event id and before the category and the times.
    with pytest.raises(DataError) as err:
        read_month(policy, "2026-10", DATA / "workers.csv", DATA / "metrics.csv",
                   DATA / "broken/events-unknown-workers-among-other-problems.csv")
    got = [(p.line, p.field, p.found) for p in err.value.problems]
    assert got == [(2, "工号", "W09"),
                   (3, "事件编号", "E1"), (3, "工号", "W99"), (3, "类别", "打架"),
                   (4, "工号", None),
                   (6, "工号", "W88"), (6, "发现时间", "2026-10-45 09:00")]
