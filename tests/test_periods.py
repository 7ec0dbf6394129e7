"""Period rules: validation of `periods:` and multi-month scenarios worked out by hand.

Fixture rules (tests/fixtures/history/periods-003.yaml = the periods of rules/chengguan.yaml): ranking
in the town, competition ranking, every worker tied for last counts as last; last place 2
months running -> performance pay withheld 2 months; bottom 3% (ceil) 6 times a year ->
withheld to December and award-ineligible; 2 vetoes a year; mean quarter/year scores to 2
places; grades 好 20% / 较好 30% (floor), ordered by year score then 5-star months, ties at
the quota line fall; 优秀 10% (floor) from 好/较好; wage floor 24000.00 a year for 专职.
"""
from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "history"))
from build import month, rules, worker  # noqa: E402

from engine.errors import PolicyError  # noqa: E402
from engine.periods import evaluate, parse_period_rules, rank_month, views_from_results  # noqa: E402
from engine.sources import load_yaml  # noqa: E402

R = rules()


def run(months: dict[str, list[dict]], rules_=R, targets=None):
    views = {m: views_from_results(month(m, ws)) for m, ws in months.items()}
    return evaluate(lambda m: rules_, views, targets or list(months))


def findings(adds, wid, kind=None):
    return [f for f in adds[wid]["period_findings"] if kind is None or f["kind"] == kind]


def three(m_scores):
    """Three workers in one town with the given scores (W1, W2, W3)."""
    return [worker(f"W{i + 1}", s) for i, s in enumerate(m_scores)]


# --------------------------------------------------------------------------- validation


def write(tmp_path, text):
    p = tmp_path / "p.yaml"
    p.write_text(text, encoding="utf-8")
    return p, load_yaml(p)["periods"]


def test_the_shipped_preset_carries_the_fixture_rules():
    shipped = Path(__file__).resolve().parents[1] / "rules" / "chengguan.yaml"
    assert parse_period_rules(load_yaml(shipped)["periods"], str(shipped)).rules == R.rules


def test_example_file_parses_with_all_rule_kinds():
    kinds = [r.kind for r in R.rules]
    assert kinds == ["last_place_run", "bottom_share", "veto_count", "quarter_score", "year_score",
                     "annual_grade", "never_criticised", "excellent", "wage_floor"]
    assert R.ranking.peer_group == "town" and R.ranking.last_place_ties == "all"


def test_every_problem_is_reported_with_line_field_and_value(tmp_path):
    p, raw = write(tmp_path, """\
periods:
  ranking:
    id: r
    label: 排名
    peer_group: county
    order: competition
    last_place_ties: all
  rules:
    - id: a
      label: 末位
      kind: last_place_run
      months: 2
      withold_months: 2
      withhold: performance_pay
    - id: b
      label: 后3%
      kind: bottom_share
      percent: "300"
      rounding: ceil
      times: 6
    - id: a
      label: 重复
      kind: veto_count
      count: 2
      consequence: 处理
""")
    with pytest.raises(PolicyError) as ei:
        parse_period_rules(raw, str(p))
    got = sorted((pr.line, pr.field, pr.found) for pr in ei.value.problems)
    assert got == [
        (5, "periods.ranking.peer_group", "county"),
        (13, "periods.rules[0].withold_months", 2),         # the typo itself (可能是 withhold_months)
        (18, "periods.rules[1].percent", "300"),
        (21, "periods.rules[2].id", "a"),
    ]
    assert "可能是 withhold_months" in str(ei.value)
    assert all(pr.file == str(p) for pr in ei.value.problems)
    assert "不重复的规则 id" in str(ei.value)


def test_unknown_kind_and_bad_money_are_errors(tmp_path):
    p, raw = write(tmp_path, """\
periods:
  ranking: {id: r, label: 排名, peer_group: "attribute:worker_type", order: competition, last_place_ties: none}
  rules:
    - {id: a, label: x, kind: last_place_runs, months: 2}
    - {id: b, label: y, kind: wage_floor, employment: [专职], amount: "1.005"}
""")
    with pytest.raises(PolicyError) as ei:
        parse_period_rules(raw, str(p))
    fields = [(pr.line, pr.field) for pr in ei.value.problems]
    assert fields == [(4, "periods.rules[0].kind"), (5, "periods.rules[1].amount")]


def test_grade_order_by_needs_a_year_score_rule(tmp_path):
    p, raw = write(tmp_path, """\
periods:
  ranking: {id: r, label: 排名, peer_group: town, order: competition, last_place_ties: all}
  rules:
    - id: g
      label: 等次
      kind: annual_grade
      scope: all
      quota_rounding: floor
      order_by: [year_score]
      boundary_ties: fall
      grades:
        - {id: good, label: 好, quota_percent: 20}
        - {id: ordinary, label: 一般}
""")
    with pytest.raises(PolicyError) as ei:
        parse_period_rules(raw, str(p))
    assert [(pr.line, pr.field) for pr in ei.value.problems] == [(9, "periods.rules[0].order_by")]


# --------------------------------------------------------------------------- ranking


def test_competition_ranking_and_last_place_ties():
    views = views_from_results(month("2026-01", three([90, 80, 80])))
    placing = rank_month(views, R.ranking)
    assert [(placing[w].rank, placing[w].size) for w in ("W1", "W2", "W3")] == [(1, 3), (2, 3), (2, 3)]
    # W2 and W3 tie for last place: under "all" both are last, under "none" neither is
    adds = run({"2026-01": three([90, 80, 80]), "2026-02": three([90, 80, 80])})["2026-02"]
    assert [len(findings(adds, w, "withhold_allowance")) for w in ("W1", "W2", "W3")] == [0, 1, 1]
    none_rules = parse_period_rules(_with_ties("none"), "x.yaml")
    adds = run({"2026-01": three([90, 80, 80]), "2026-02": three([90, 80, 80])}, none_rules)["2026-02"]
    assert [len(findings(adds, w, "withhold_allowance")) for w in ("W1", "W2", "W3")] == [0, 0, 0]


def _with_ties(ties):
    raw = load_yaml(Path(__file__).parent / "fixtures" / "history" / "periods-003.yaml")["periods"]
    raw["ranking"]["last_place_ties"] = ties
    return raw


def test_failed_month_ranks_last_whatever_the_score():
    ws = [worker("W1", 99, vetoes=1), worker("W2", 70)]
    placing = rank_month(views_from_results(month("2026-01", ws)), R.ranking)
    assert (placing["W1"].rank, placing["W2"].rank) == (2, 1)


# --------------------------------------------------------------------------- last place running


def test_last_place_two_months_running_withholds_two_months():
    # W3 last in Jan (85) and Feb (86): the run completes in Feb -> Feb and Mar withheld.
    # pay: Feb 86 -> 600.00 x 0.90 = 540.00 withheld; Mar 95 -> 600.00 withheld.
    adds = run({"2026-01": three([95, 90, 85]), "2026-02": three([95, 90, 86]), "2026-03": three([90, 80, 95])})
    feb, mar = adds["2026-02"]["W3"], adds["2026-03"]["W3"]
    f = findings(adds["2026-02"], "W3", "withhold_allowance")
    assert [(x["amount"], x["months"], x["criticise"]) for x in f] == [("540.00", ["2026-01", "2026-02"], True)]
    assert f[0]["reason"] == "2026年1月、2月连续2个月在鹤山镇排名末位，扣发2个月当月绩效工资（2026年2月、3月）"
    assert (feb["withheld"], feb["payable"]) == ("540.00", "0.00")
    f = findings(adds["2026-03"], "W3", "withhold_allowance")
    assert [(x["amount"], x["criticise"]) for x in f] == [("600.00", False)]
    assert f[0]["reason"].endswith("本月为第2个月")
    assert (mar["withheld"], mar["payable"]) == ("600.00", "0.00")
    # nothing in January: one last place is not a run
    assert findings(adds["2026-01"], "W3", "withhold_allowance") == []
    # in March W2 is last (80) but was not last in February -> nothing
    assert findings(adds["2026-03"], "W2", "withhold_allowance") == []


def test_non_consecutive_last_places_do_not_trigger():
    # W3 last in Jan, Mar, May; never two months running
    seq = {"2026-01": [95, 90, 85], "2026-02": [95, 80, 86], "2026-03": [95, 90, 85],
           "2026-04": [95, 80, 86], "2026-05": [95, 90, 85]}
    adds = run({m: three(s) for m, s in seq.items()})
    assert [(m, w) for m in seq for w in ("W1", "W2", "W3") if findings(adds[m], w, "withhold_allowance")] == []


def test_a_month_missing_from_history_breaks_the_run():
    # Jan and Mar stored, Feb not: Jan and Mar are not "running"
    adds = run({"2026-01": three([95, 90, 85]), "2026-03": three([95, 90, 85])})
    assert findings(adds["2026-03"], "W3", "withhold_allowance") == []


def test_four_months_running_trigger_twice():
    # last Jan..Apr: runs complete in Feb and Apr -> withheld Feb, Mar, Apr, May; criticised in Feb and Apr
    ms = {f"2026-0{i}": three([95, 90, 85]) for i in range(1, 6)}
    ms["2026-05"] = three([85, 90, 95])
    adds = run(ms)
    got = [(m, [(f["months"][0], f["criticise"]) for f in findings(adds[m], "W3", "withhold_allowance")])
           for m in sorted(ms)]
    assert got == [("2026-01", []), ("2026-02", [("2026-01", True)]), ("2026-03", [("2026-01", False)]),
                   ("2026-04", [("2026-03", True)]), ("2026-05", [("2026-03", False)])]


# --------------------------------------------------------------------------- bottom share, vetoes


def test_bottom_three_percent_six_times_withdraws_the_year():
    # 12 workers: 3% of 12 = 0.36, ceil -> bottom 1.  W12 scores 60 (pay 0.00) in Jan, Mar, May, Jul,
    # Sep, Oct and is last then; otherwise 99 (pay 600.00) and first.  The 6th time is October ->
    # withdrawn from October to December.  Sep+Oct are also a last-place run, withholding Oct and Nov;
    # that rule comes first, so in November it takes the 600.00 and the withdrawal finds nothing left.
    def month_ws(last):
        return [worker(f"W{i:02d}", 90 + i % 5) for i in range(1, 12)] + [worker("W12", 60 if last else 99)]
    lasts = {"01", "03", "05", "07", "09", "10"}
    ms = {f"2026-{i:02d}": month_ws(f"{i:02d}" in lasts) for i in range(1, 13)}
    adds = run(ms)
    for m in ("2026-01", "2026-09"):
        assert findings(adds[m], "W12", "withdraw_year") == []
    for m in ("2026-10", "2026-11", "2026-12"):
        f = findings(adds[m], "W12", "withdraw_year")
        assert len(f) == 1 and f[0]["months"] == ["2026-01", "2026-03", "2026-05", "2026-07", "2026-09", "2026-10"]
        assert f[0]["award_ineligible"] is True and f[0]["criticise"] is (m == "2026-10")
    # reclaim: pay already paid Jan-Sep = Feb, Apr, Jun, Aug at 600.00 (the 60-score months paid 0.00),
    # none withheld (no two last places running before Sep/Oct): 4 x 600.00 = 2400.00; stated once, in Oct
    oct_f = findings(adds["2026-10"], "W12", "withdraw_year")[0]
    assert oct_f["reclaim"] == "2400.00" and oct_f["reason"].endswith("本年此前已发绩效工资2400.00元（9个月）应予追回")
    assert "reclaim" not in findings(adds["2026-11"], "W12", "withdraw_year")[0]
    # Nov: score 99 -> pay 600.00; the last-place run (Sep, Oct) withholds it first, nothing left
    nov = adds["2026-11"]["W12"]
    assert [f["amount"] for f in findings(adds["2026-11"], "W12")
            if f["kind"] in ("withhold_allowance", "withdraw_year")] == ["600.00", "0.00"]
    assert (nov["withheld"], nov["payable"]) == ("600.00", "0.00")
    # Dec: only the year withdrawal: 600.00 withheld
    assert (adds["2026-12"]["W12"]["withheld"], adds["2026-12"]["W12"]["payable"]) == ("600.00", "0.00")
    assert findings(adds["2026-12"], "W12", "excellent") == [] and findings(adds["2026-12"], "W12", "priority") == []


def test_second_veto_in_the_year_draws_the_consequence_once():
    ms = {"2026-01": [worker("W1", 90, vetoes=1), worker("W2", 90)],
          "2026-02": [worker("W1", 90), worker("W2", 90)],
          "2026-03": [worker("W1", 90, vetoes=1), worker("W2", 90)],
          "2026-04": [worker("W1", 90, vetoes=1), worker("W2", 90)]}
    adds = run(ms)
    got = {m: [f["reason"] for f in findings(adds[m], "W1", "veto_count")] for m in ms}
    assert got == {"2026-01": [], "2026-02": [], "2026-04": [],
                   "2026-03": ["2026年内累计2次一票否决（2026年1月、3月），按绩效考核办法处理，取消年度评先评优资格"]}


# --------------------------------------------------------------------------- scores, grades, year end


def test_quarter_and_year_scores_are_means_rounded_half_up():
    ms = {"2026-01": [worker("W1", "90")], "2026-02": [worker("W1", "91")], "2026-03": [worker("W1", "91")],
          "2026-04": [worker("W1", "80.5")]}
    adds = run(ms)
    # Q1 to March: (90 + 91 + 91) / 3 = 90.666.. -> 90.67; year to April: (272 + 80.5) / 4 = 88.125 -> 88.13
    q = findings(adds["2026-03"], "W1", "quarter_score")[0]
    assert q["score"] == "90.67" and q["months"] == ["2026-01", "2026-02", "2026-03"]
    assert findings(adds["2026-04"], "W1", "quarter_score")[0]["score"] == "80.50"
    assert findings(adds["2026-04"], "W1", "year_score")[0]["score"] == "88.13"


def _year(workers_by_month):
    return {f"2026-{i:02d}": workers_by_month(i) for i in range(1, 13)}


def test_annual_grade_quota_overflow_falls_to_the_next_grade():
    # 10 workers all year.  好 quota floor(20% x 10) = 2, 较好 floor(30% x 10) = 3.
    # A, B, C: every month 4 stars, one month 5 stars (qualify for 好); year scores 94 > 93 > 92.
    # C overflows 好 and falls into 较好 (it meets 较好: every month >= 3 stars).
    # D, E, F: every month 3 stars, scores 85, 84, 84 -> 较好 has 3 places: C (92), D (85), then E and F
    # tie at 84 on the last place; boundary_ties: fall -> both fall to 一般.
    # G..J: a month with 2 stars -> 一般.
    spec = {"A": (94, 4), "B": (93, 4), "C": (92, 4), "D": (85, 3), "E": (84, 3), "F": (84, 3),
            "G": (80, 2), "H": (80, 2), "I": (80, 2), "J": (80, 2)}

    def month_ws(i):
        return [worker(w, s, stars=5 if (i == 6 and st == 4) else st) for w, (s, st) in spec.items()]
    adds = run(_year(month_ws), targets=["2026-12"])["2026-12"]
    grade = {w: findings(adds, w, "annual_grade")[0]["grade"] for w in spec}
    assert grade == {"A": "good", "B": "good", "C": "fair", "D": "fair", "E": "ordinary", "F": "ordinary",
                     "G": "ordinary", "H": "ordinary", "I": "ordinary", "J": "ordinary"}
    c = findings(adds, "C", "annual_grade")[0]["reason"]
    assert c == ("2026年1月、2月、3月、4月、5月、6月、7月、8月、9月、10月、11月、12月考核，年度得分92.00分，"
                 "评为“较好”（每月不低于3星），全体10人中名额3人（30%）；符合“好”条件但超出名额，按排序依次降入本等次")
    e = findings(adds, "E", "annual_grade")[0]["reason"]
    # E and F tie at 84 on 较好's line: C and D took 2 of its 3 places, 1 left for the 2 of them
    assert "；符合“较好”条件，但2人并列在名额线上，多于剩余名额1人（名额3人），按细则并列者均不评为“较好”" in e
    assert "超出名额，按排序" not in e
    assert e.endswith("；未评为“好”：有月份低于4星、达到5星的月份不足1个")
    # 优秀网格员: floor(10% x 10) = 1, from 好/较好, by year score -> A
    assert [w for w in spec if findings(adds, w, "excellent")] == ["A"]


def test_annual_grade_only_in_december_and_only_for_workers_present_all_year():
    def month_ws(i):
        ws = [worker("A", 95, stars=5), worker("B", 95, stars=5)]
        return ws if i >= 3 else ws[:1]          # B joined in March
    adds = run(_year(month_ws))
    assert findings(adds["2026-11"], "A", "annual_grade") == []
    assert [f["grade"] for f in findings(adds["2026-12"], "A", "annual_grade")] == ["ordinary"]  # floor(20% x 1) = 0
    assert findings(adds["2026-12"], "B", "annual_grade") == []


def test_never_criticised_priority_and_wage_floor():
    # W1: never last (W2 always below) and no veto -> priority.  W2 last every month -> criticised.
    # Wage floor 24000.00 for 专职: W1 wage 2000.00, base 400.00, score 95 -> paid 2000 - 400 + 400 = 2000.00
    # a month, 24000.00 a year: not below.  W3 (兼职) is not checked.  W2 wage 2000, score 60 -> pay 0;
    # monthly 1600.00 -> 19200.00 < 24000.00, short by 4800.00.
    def month_ws(i):
        return [worker("W1", 95, wage="2000.00"), worker("W2", 60, wage="2000.00"),
                worker("W3", 90, wage="1000.00", employment="兼职")]
    adds = run(_year(month_ws), targets=["2026-12"])["2026-12"]
    assert [w for w in ("W1", "W2", "W3") if findings(adds, w, "priority")] == ["W1", "W3"]
    assert findings(adds, "W1", "priority")[0]["commend"] is True
    assert findings(adds, "W1", "wage_floor") == [] and findings(adds, "W3", "wage_floor") == []
    f = findings(adds, "W2", "wage_floor")[0]
    assert f["annual_pay"] == "19200.00"
    assert f["reason"].endswith("共12个月实发工资合计19200.00元，低于保障线24000.00元，差4800.00元")


def test_wage_floor_is_prorated_for_part_of_a_year():
    # Oct..Dec only: floor 24000.00 x 3 / 12 = 6000.00; W1 paid 2000.00 x 3 = 6000.00 -> not below
    # (different towns: one-worker peer groups have no last place, so nothing is withheld)
    ms = {m: [worker("W1", 95, wage="2000.00", town="A镇"), worker("W2", 95, wage="1900.00", town="B镇")]
          for m in ("2026-10", "2026-11", "2026-12")}
    adds = run(ms)["2026-12"]
    assert findings(adds, "W1", "wage_floor") == []
    # W2: 1900.00 x 3 = 5700.00, short by 300.00
    assert findings(adds, "W2", "wage_floor")[0]["reason"].endswith(
        "低于保障线24000.00元按3个月折算为6000.00元，差300.00元")


def test_withholdings_never_exceed_the_months_pay():
    # a fixed 200.00 and the whole performance pay both withheld: 540.00 pay -> 540.00 + 0.00
    raw = load_yaml(Path(__file__).parent / "fixtures" / "history" / "periods-003.yaml")["periods"]
    raw["rules"][2]["withhold"] = {"fixed": "200.00"}      # two_vetoes also withholds 200.00
    r = parse_period_rules(raw, "x.yaml")
    ms = {"2026-01": [worker("W1", 60, vetoes=1), worker("W2", 95)],
          "2026-02": [worker("W1", 60, vetoes=1), worker("W2", 95)],
          "2026-03": [worker("W1", 85), worker("W2", 95)]}
    adds = run(ms, r)
    # Feb: second veto -> 200.00 wanted, but a failed month pays 0.00 -> 0.00 withheld
    assert findings(adds["2026-02"], "W1", "veto_count")[0]["amount"] == "0.00"
    # Mar: W1 was last in Jan and Feb (run completed Feb) -> Mar withheld: pay 85 -> 540.00
    assert (adds["2026-03"]["W1"]["withheld"], adds["2026-03"]["W1"]["payable"]) == ("540.00", "0.00")
    assert Decimal(adds["2026-03"]["W2"]["payable"]) == Decimal("600.00")


def test_months_without_period_rules_count_their_full_pay():
    # Jan-Nov under a policy without period rules, Dec with them: the wage floor reads Jan-Nov pay as paid.
    # W1 wage 2000.00, base 400.00, score 95 -> 2000.00 a month, 24000.00 a year: not below the floor.
    ms = {f"2026-{i:02d}": [worker("W1", 95, wage="2000.00", town="A镇")] for i in range(1, 13)}
    adds = evaluate(lambda m: R if m == "2026-12" else None,
                    {m: views_from_results(month(m, ws)) for m, ws in ms.items()}, list(ms))
    assert adds["2026-11"] is None
    assert findings(adds["2026-12"], "W1", "wage_floor") == []
    assert adds["2026-12"]["W1"]["payable"] == "400.00"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(min_value=50, max_value=100), min_size=4, max_size=4), min_size=1, max_size=6),
       st.lists(st.booleans(), min_size=24, max_size=24))
def test_withheld_is_the_sum_of_amounts_and_payable_never_negative(scores, vetoes):
    ms = {f"2026-{i + 1:02d}": [worker(f"W{j}", s, vetoes=int(vetoes[i * 4 + j]), stars=s // 20)
                                for j, s in enumerate(row)] for i, row in enumerate(scores)}
    adds = run(ms)
    for m, ws in ms.items():
        for w in ws:
            a = adds[m][w["worker_id"]]
            amounts = sum(Decimal(f["amount"]) for f in a["period_findings"])
            assert Decimal(a["withheld"]) == amounts
            assert Decimal(a["payable"]) == Decimal(w["pay"]) - amounts >= 0
            assert 1 <= a["peer_rank"] <= a["peer_size"] == 4


def test_year_end_rules_see_the_months_findings_whatever_their_place_in_the_file():
    # never_criticised written first: W2, last in Nov and Dec (80 < 90 < 95), is criticised in
    # December itself, so it must not be listed for priority.  W3 (90) was last Jan-Oct (W2 99) and
    # criticised then; W1 (95) was never last -> only W1.
    raw = load_yaml(Path(__file__).parent / "fixtures" / "history" / "periods-003.yaml")["periods"]
    raw["rules"].insert(0, raw["rules"].pop(6))
    assert raw["rules"][0]["kind"] == "never_criticised"
    r = parse_period_rules(raw, "x.yaml")
    ms = {f"2026-{i:02d}": [worker("W1", 95), worker("W2", 80 if i >= 11 else 99), worker("W3", 90)]
          for i in range(1, 13)}
    adds = run(ms, r, targets=["2026-12"])["2026-12"]
    assert findings(adds, "W2", "withhold_allowance")[0]["criticise"] is True
    assert [w for w in ("W1", "W2", "W3") if findings(adds, w, "priority")] == ["W1"]


def test_a_mapping_where_a_kind_belongs_is_an_error_not_a_crash(tmp_path):
    p, raw = write(tmp_path, """\
periods:
  ranking: {id: r, label: 排名, peer_group: all, order: competition, last_place_ties: all}
  rules:
    - {id: a, label: x, kind: {}}
""")
    with pytest.raises(PolicyError) as ei:
        parse_period_rules(raw, str(p))
    [pr] = ei.value.problems
    assert (pr.line, pr.field, pr.found) == (4, "periods.rules[0].kind", {})
    assert pr.expected.startswith("规则类型之一：last_place_run")


# --------------------------------------------------------------------------- ties and shares (issue 16, form 6)


def _rules(text: str):
    raw = load_yaml(_write_tmp(text))["periods"]
    return parse_period_rules(raw, "ties.yaml")


def _write_tmp(text: str) -> Path:
    import tempfile
    f = Path(tempfile.mkdtemp()) / "ties.yaml"
    f.write_text(text, encoding="utf-8")
    return f


SHARE = """\
periods:
  ranking: {id: r, label: 排名, peer_group: town, order: competition, last_place_ties: all}
  rules:
    - {id: bottom, label: 排名后40%, kind: bottom_share, percent: 40, rounding: floor, times: 1,
       withhold: performance_pay, ties: TIES}
"""


def test_a_tie_at_the_top_is_never_the_bottom_share():
    # Four tied at 100 among five; bottom 40% of 5 = 2 (floor).  The old rule (ties: all) put all
    # five in the bottom (the tie of four reached into the bottom two): everyone lost the pay.
    # A tie holding rank 1 is never at the bottom: only W5 (95, rank 5) is.
    ws = [worker(f"W{i}", 100) for i in range(1, 5)] + [worker("W5", 95)]
    adds = run({"2026-01": ws}, _rules(SHARE.replace("TIES", "all")))["2026-01"]
    assert [w for w in adds if findings(adds, w, "withdraw_year")] == ["W5"]
    assert [adds[w]["withheld"] for w in adds] == ["0.00"] * 4 + ["600.00"]
    reason = findings(adds, "W5", "withdraw_year")[0]["reason"]
    assert "本月5人的40%为2人" in reason


def test_two_tied_for_last_are_both_last_where_the_office_says_so():
    # 90, 80, 80: W2 and W3 share rank 2 = the last place.  ties: all -> both last (and criticised);
    # ties: none -> neither.  Bottom 40% of 3 = 1.2 -> floor 1: the same decision.
    ws = [worker("W1", 90), worker("W2", 80), worker("W3", 80)]
    both = run({"2026-01": ws}, _rules(SHARE.replace("TIES", "all")))["2026-01"]
    assert [w for w in both if findings(both, w, "withdraw_year")] == ["W2", "W3"]
    assert "（与另1人并列第2名，并列者都算在内）" in findings(both, "W2", "withdraw_year")[0]["reason"]
    neither = run({"2026-01": ws}, _rules(SHARE.replace("TIES", "none")))["2026-01"]
    assert [w for w in neither if findings(neither, w, "withdraw_year")] == []


def test_the_share_is_rounded_as_the_office_states_and_said_so():
    # 3% of 33 = 0.99: floor -> 0 (nobody), ceil -> 1, half_up -> 1
    ws = [worker(f"W{i:02d}", 60 + i) for i in range(1, 34)]
    text = SHARE.replace("percent: 40", "percent: 3").replace("TIES", "all")
    for rounding, who in (("floor", []), ("ceil", ["W01"]), ("half_up", ["W01"])):
        adds = run({"2026-01": ws}, _rules(text.replace("rounding: floor", f"rounding: {rounding}")))["2026-01"]
        assert [w for w in adds if findings(adds, w, "withdraw_year")] == who, rounding
    adds = run({"2026-01": ws}, _rules(text.replace("rounding: floor", "rounding: ceil")))["2026-01"]
    assert "本月33人的3%为0.99人，向上取整为1人" in findings(adds, "W01", "withdraw_year")[0]["reason"]


def test_each_rule_states_its_own_tie_rule():
    # The ranking says ties: all, the last-place rule overrides it with none: W2 and W3 tied for last
    # two months running are not last for that rule, while the ranking's last_place flag says they are.
    text = """\
periods:
  ranking: {id: r, label: 排名, peer_group: town, order: competition, last_place_ties: all}
  rules:
    - {id: lp, label: 连续两月末位, kind: last_place_run, months: 2, withhold_months: 1,
       withhold: performance_pay, ties: none}
"""
    ws = [worker("W1", 90), worker("W2", 80), worker("W3", 80)]
    adds = run({"2026-01": ws, "2026-02": ws}, _rules(text))["2026-02"]
    assert [w for w in adds if findings(adds, w)] == []
    assert [adds[w]["last_place"] for w in adds] == [False, True, True]


def test_the_notice_and_the_period_rules_agree_on_who_is_last():
    # One function decides: with everyone tied nobody is last in either (the period rules used to
    # withhold from all three while the notice named nobody); two tied for last under ties: none
    # are last in neither (the notice used to name both).
    from engine.notices import load_settings
    from engine.notices.context import criticised
    from engine.notices.settings import DEFAULT_SETTINGS
    from engine.periods import merge_additions

    settings = load_settings(DEFAULT_SETTINGS)
    lp = """\
periods:
  ranking: {id: r, label: 排名, peer_group: town, order: competition, last_place_ties: TIES}
  rules:
    - {id: lp, label: 连续两月末位, kind: last_place_run, months: 2, withhold_months: 1, withhold: performance_pay}
"""
    for scores, ties, last in (([85, 85, 85], "all", []), ([90, 80, 80], "none", []),
                               ([90, 80, 80], "all", ["W2", "W3"])):
        ws = three(scores)
        rules_ = _rules(lp.replace("TIES", ties))
        adds = run({"2026-01": ws, "2026-02": ws}, rules_)["2026-02"]
        withheld = [w for w in adds if findings(adds, w, "withhold_allowance")]
        res = merge_additions(month("2026-02", ws), adds)
        named = [e["worker_id"] for e in criticised(res, settings)
                 if any(r["rule_id"] == "monthly_last_place" for r in e["reasons"])]
        assert withheld == named == last, (scores, ties)


def test_consequences_that_are_not_money_are_said_as_such():
    # 连续两个月排名末位的约谈: no withholding, no 扣发 in the reason, the consequence in its own field
    text = """\
periods:
  ranking: {id: r, label: 排名, peer_group: town, order: competition, last_place_ties: all}
  rules:
    - {id: talk, label: 连续两月末位约谈, kind: last_place_run, months: 2, consequence: 由镇网格中心约谈}
"""
    ws = three([95, 90, 85])
    adds = run({"2026-01": ws, "2026-02": ws}, _rules(text))
    [f] = findings(adds["2026-02"], "W3")
    assert f["reason"] == "2026年1月、2月连续2个月在鹤山镇排名末位，由镇网格中心约谈"
    assert (f["amount"], f["consequence"], f["criticise"]) == ("0.00", "由镇网格中心约谈", True)
    assert adds["2026-02"]["W3"]["withheld"] == "0.00"
    assert findings(adds["2026-01"], "W3") == []
    from engine.app.month import period_summary, summary_lines
    from engine.periods import merge_additions
    summary = period_summary(merge_additions(month("2026-02", ws), adds["2026-02"]))
    assert (summary.withheld_workers, summary_lines(summary)) == (0, ["连续两月末位约谈：1 人（由镇网格中心约谈）"])


def test_a_last_place_rule_needs_a_withholding_or_a_consequence(tmp_path):
    p, raw = write(tmp_path, """\
periods:
  ranking: {id: r, label: 排名, peer_group: town, order: competition, last_place_ties: all}
  rules:
    - {id: lp, label: 末位, kind: last_place_run, months: 2}
    - {id: lp2, label: 末位, kind: last_place_run, months: 2, withhold: performance_pay}
""")
    with pytest.raises(PolicyError) as ei:
        parse_period_rules(raw, str(p))
    assert [(pr.line, pr.field, pr.expected) for pr in ei.value.problems] == [
        (4, "periods.rules[0]", "withhold（扣发）或 consequence（如 约谈、末位淘汰）至少一项"),
        (5, "periods.rules[1].withhold_months", "扣发的月数（withhold 需要写 withhold_months）")]


# --------------------------------------------------------------------------- grades for any period (issue 16, form 5)


GRADES = """\
periods:
  ranking: {id: r, label: 排名, peer_group: town, order: competition, last_place_ties: all}
  rules:
    - id: q
      label: 季度等次
      kind: grade
      period: quarter
      scope: all
      quota_rounding: floor
      order_by: [period_score]
      boundary_ties: fall
      grades:
        - id: good
          label: 好
          require:
            - {score: "[90, +inf)"}
            - {metric: major_case, total: "[0, 0]", label: 季度内无因上报不及时引发重大案件}
        - {id: fair, label: 较好, require: [{score: "[80, +inf)"}]}
        - {id: ordinary, label: 一般}
    - id: m
      label: 月度等次
      kind: grade
      period: month
      scope: all
      quota_rounding: floor
      order_by: [period_score]
      boundary_ties: fall
      grades:
        - {id: A, label: A, require: [{score: "[90, +inf)"}]}
        - {id: B, label: B, require: [{score: "[75, +inf)"}]}
        - {id: C, label: C, require: [{score: "[60, +inf)"}]}
        - {id: D, label: D, require: [{score: "[40, +inf)"}]}
        - {id: E, label: E}
"""


def _flagged(wid, score, case=False):
    w = worker(wid, score)
    w["metrics"] = {"major_case": case}
    return w


def test_a_quarterly_grade_condition_on_a_flag_binds():
    # W1 averages 95 over July–September but had a major case in August: not 好 -> 较好, and says why;
    # W2 averages 92 without one: 好.  Graded only in September (the quarter's last month).
    ms = {"2026-07": [_flagged("W1", 95), _flagged("W2", 92)],
          "2026-08": [_flagged("W1", 95, case=True), _flagged("W2", 92)],
          "2026-09": [_flagged("W1", 95), _flagged("W2", 92)]}
    adds = run(ms, _rules(GRADES))
    assert findings(adds["2026-08"], "W1", "grade") and \
        all(f["period"] == "month" for f in findings(adds["2026-08"], "W1", "grade"))
    quarter = {w: [f for f in findings(adds["2026-09"], w, "grade") if f["period"] == "quarter"] for w in ("W1", "W2")}
    assert [(quarter[w][0]["grade"], quarter[w][0]["score"]) for w in ("W1", "W2")] == [("fair", "95.00"), ("good", "92.00")]
    assert quarter["W1"][0]["reason"] == (
        "2026年第3季度（2026年7月、8月、9月）得分95.00分，评为“较好”（得分80分及以上）；"
        "未评为“好”：不满足：季度内无因上报不及时引发重大案件")
    # what a clerk is told after the run: each grade rule's head counts, best grade first (the policy's order)
    from engine.app.month import period_summary, summary_lines
    from engine.periods import merge_additions
    september = merge_additions(month("2026-09", ms["2026-09"]), adds["2026-09"])
    assert summary_lines(period_summary(september)) == ["季度等次：好 1 人、较好 1 人", "月度等次：A 2 人"]


def test_a_quarterly_grade_condition_does_not_bind_without_the_flag():
    ms = {m: [_flagged("W1", 95), _flagged("W2", 92)] for m in ("2026-07", "2026-08", "2026-09")}
    adds = run(ms, _rules(GRADES))["2026-09"]
    assert [f["grade"] for f in findings(adds, "W1", "grade") if f["period"] == "quarter"] == ["good"]


def test_monthly_letters_stand_beside_the_pay_band():
    # A–E at 90/75/60/40 whatever the pay band says: 89.99 is B although it is paid at 90%
    ws = [worker("W1", 90), worker("W2", "89.99"), worker("W3", 60), worker("W4", "39.5")]
    adds = run({"2026-10": ws}, _rules(GRADES))["2026-10"]
    assert [findings(adds, w, "grade")[0]["grade_label"] for w in ("W1", "W2", "W3", "W4")] == ["A", "B", "C", "E"]
    assert findings(adds, "W1", "grade")[0]["reason"] == "2026年10月得分90分，评为“A”（得分90分及以上）"
