"""Each durable_rules trap from shared/notes/durable_rules.md, and the guard against it.

Every test here fails if its guard in engine/assessment.py is removed.
"""
from __future__ import annotations

from decimal import Decimal

import pytest

from engine import assessment
from engine.assessment import EventCase, Evaluator, WorkerCase
from engine.errors import RuleEngineError
from engine.policy import load_policy_file
from engine.scoring import score_cases

from conftest import write

POLICY = """
id: traps
name: 陷阱测试
events: {categories: [矛盾纠纷, 治安], severities: [一般, 紧急]}
metrics:
  complaints: {label: 投诉, type: integer, max: 20, default: 0}
  diaries: {label: 日志, type: integer, max: 100, default: 30}
items:
  - id: a
    label: 服务
    points: 50
    rules:
      - {id: complaint, label: 投诉, per_count: {metric: complaints, points: 2}}
      - id: many_complaints
        label: 投诉过多
        tiers: {metric: complaints, tiers: [{range: "[3, +inf)", points: 5}]}
  - id: b
    label: 日志
    points: 50
    rules:
      - {id: diary_short, label: 日志不足, shortfall: {metric: diaries, quota: 9, points: 1}}
      - {id: late, label: 紧急迟报, event: {severity: 紧急, delay_hours: "(3, +inf)", points: 3}}
pay:
  performance_share: 20%
  bands: [{id: all, label: 全额, range: "[0, 100]", ratio: 1}]
"""


@pytest.fixture
def policy(tmp_path):
    return load_policy_file(write(tmp_path / "traps.yaml", POLICY))


def case(wid="W1", complaints=0, diaries=30, events=()):
    return WorkerCase(wid, {}, {"complaints": Decimal(complaints), "diaries": Decimal(diaries)}, list(events))


def rules_fired(result):
    return sorted(f.rule_id for f in result.findings)


def test_one_input_fires_every_matching_rule(policy):
    # As a durable_rules *event* only one of the two rules on `complaints` would fire.
    [r] = score_cases(policy, [case(complaints=4)], [Decimal(1000)], processes=1)
    assert rules_fired(r) == ["complaint", "many_complaints"]
    assert r.score == Decimal(100 - 8 - 5)


def test_no_state_leaks_between_months(policy):
    first = score_cases(policy, [case(complaints=4, diaries=5)], [None], processes=1)
    second = score_cases(policy, [case(complaints=0, diaries=30)], [None], processes=1)
    assert first[0].score == 100 - 13 - 4
    assert second[0].findings == [] and second[0].score == 100


def test_more_than_1024_sessions_in_one_process(policy, monkeypatch):
    # One sid per worker and 3,000 workers: without delete_state the 1,025th sid crashes the process.
    monkeypatch.setattr(assessment, "BATCH", 1)
    cases = [case(f"W{i}", complaints=i % 3) for i in range(3000)]
    results = score_cases(policy, cases, [None] * 3000, processes=1)
    assert [r.score for r in results[:3]] == [100, 98, 96]


def test_a_session_left_open_stops_the_run_before_the_limit(policy, monkeypatch):
    monkeypatch.setattr(Evaluator, "_delete", lambda self, sid: None)
    ev = Evaluator(policy)
    ev.evaluate([case("W1")])
    with pytest.raises(RuleEngineError, match="会话未释放"):
        ev.evaluate([case("W2")])


def test_an_error_inside_an_action_is_not_swallowed(policy, monkeypatch):
    def broken(hits, index, message):
        raise ValueError("boom")

    monkeypatch.setattr(assessment, "record_hit", broken)
    with pytest.raises(RuleEngineError, match="boom"):
        Evaluator(policy).evaluate([case(complaints=2)])


def test_numbers_from_text_compare_as_numbers(tmp_path, policy):
    # "10" < "9" as text; the inputs path converts cells before they reach durable_rules.
    from engine.inputs import read_month

    write(tmp_path / "w.csv", "工号,姓名,乡镇,社区,网格,月工资\nW1,甲,镇,社区,G1,1000\n")
    write(tmp_path / "m.csv", "工号,投诉,日志\nW1,0,10\n")
    inputs = read_month(policy, "2026-10", tmp_path / "w.csv", tmp_path / "m.csv", None, no_events=True)
    [r] = score_cases(policy, inputs.cases, [Decimal(1000)], processes=1)
    assert r.findings == []          # 10 diaries is not below the quota of 9


def test_a_fact_that_matches_no_rule_does_not_break_the_batch(policy):
    quiet = EventCase("E1", "矛盾纠纷", "一般", Decimal(1), None, True)
    loud = EventCase("E2", "治安", "紧急", Decimal(5), None, True)
    results = score_cases(policy, [case("W1", events=[quiet]), case("W2", events=[loud, quiet])], [None, None],
                          processes=1)
    assert [rules_fired(r) for r in results] == [[], ["late"]]


def test_a_lost_fact_is_an_error_not_a_perfect_score(policy, monkeypatch):
    def deaf(self):
        return lambda c: None   # the catch-all no longer records what it saw

    monkeypatch.setattr(Evaluator, "_seen_action", deaf)
    with pytest.raises(RuleEngineError, match="只处理了"):
        Evaluator(policy).evaluate([case(complaints=1)])


def test_a_fact_id_collision_falls_back_to_one_session_per_worker(policy, monkeypatch):
    ev = Evaluator(policy)
    real = ev.host.assert_facts
    calls = {"n": 0}

    def flaky(ruleset, facts):
        calls["n"] += 1
        if calls["n"] == 1:
            raise assessment._dr.MessageObservedException("collision")
        return real(ruleset, facts)

    monkeypatch.setattr(ev.host, "assert_facts", flaky)
    cases = [case("W1", complaints=1), case("W2", diaries=3), case("W3")]
    hits = ev.evaluate(cases)
    fired = sorted((h.case, ev.table[h.rule].rule_id) for h in hits)
    assert fired == [(0, "complaint"), (1, "diary_short")]


def test_parallel_processes_give_the_same_results(policy, monkeypatch):
    from engine import scoring

    monkeypatch.setattr(assessment, "CHUNK", 50)
    monkeypatch.setattr(scoring, "CHUNK", 50)
    cases = [case(f"W{i}", complaints=i % 5, diaries=i % 12) for i in range(400)]
    one = score_cases(policy, cases, [Decimal(1000)] * 400, processes=1)
    two = score_cases(policy, cases, [Decimal(1000)] * 400, processes=2)
    assert [(r.score, r.pay, r.rank, rules_fired(r)) for r in one] == \
           [(r.score, r.pay, r.rank, rules_fired(r)) for r in two]
    assert two[7].case is cases[7]


def _helpers_break(monkeypatch, failure) -> list:
    """Make every chunk a helper process takes fail with `failure`; this process scores slowly
    enough that the helper surely takes one."""
    import time

    from engine import scoring

    real = scoring._score_chunk

    def slow(task):
        time.sleep(0.05)
        return real(task)

    monkeypatch.setattr(scoring, "CHUNK", 50)
    monkeypatch.setattr(scoring, "_score_chunk", slow)
    monkeypatch.setattr(scoring, "_pooled_chunk", failure)   # only helper processes call it
    return [case(f"W{i}") for i in range(400)]


def test_an_error_in_a_helper_process_is_raised_not_lost(policy, monkeypatch):
    def broken(task):
        raise RuleEngineError("助手出错")

    cases = _helpers_break(monkeypatch, broken)
    with pytest.raises(RuleEngineError, match="助手出错"):
        score_cases(policy, cases, [None] * 400, processes=2)


def test_a_helper_process_that_dies_is_an_error_not_missing_workers(policy, monkeypatch):
    import os

    cases = _helpers_break(monkeypatch, lambda task: os._exit(3))
    with pytest.raises(RuleEngineError, match="退出码 3"):
        score_cases(policy, cases, [None] * 400, processes=2)


def test_a_metric_missing_from_the_input_is_refused_not_silently_zero(policy):
    # A rule on a field the fact lacks never matches in durable_rules: that would be a silent 100.
    bare = WorkerCase("W1", {}, {"complaints": Decimal(3)}, [])
    with pytest.raises(RuleEngineError, match="缺少指标 diaries"):
        Evaluator(policy).evaluate([bare])


def test_an_absent_attribute_value_gets_the_default_quota(tmp_path):
    text = POLICY.replace("metrics:\n", "attributes:\n  kind: {label: 类别, values: [村, 社区]}\nmetrics:\n", 1)
    text = text.replace("shortfall: {metric: diaries, quota: 9, points: 1}",
                        "shortfall: {metric: diaries, quota: {by: kind, values: {村: 2}, default: 9}, points: 1}")
    pol = load_policy_file(write(tmp_path / "q.yaml", text))
    [r] = score_cases(pol, [case(diaries=5)], [None], processes=1)
    assert rules_fired(r) == ["diary_short"] and r.score == 96


def test_chinese_strings_match_when_facts_and_rules_are_written_as_ascii(tmp_path):
    # Facts and rulesets are written with \u escapes (durable_rules compares strings as written, so both
    # sides must be): Chinese attribute values and event categories still match, and only where they should.
    text = POLICY.replace("metrics:\n", "attributes:\n  kind: {label: 类别, values: [村, 社区]}\nmetrics:\n", 1)
    text = text.replace("shortfall: {metric: diaries, quota: 9, points: 1}",
                        "shortfall: {metric: diaries, quota: {by: kind, values: {村: 2, 社区: 9}}, points: 1}")
    text = text.replace("{id: late, label: 紧急迟报, event: {severity: 紧急,",
                        "{id: late, label: 紧急迟报, event: {category: 治安, severity: 紧急,")
    pol = load_policy_file(write(tmp_path / "zh.yaml", text))
    late = EventCase("E1", "治安", "紧急", Decimal(5), None, False)
    other = EventCase("E2", "矛盾纠纷", "紧急", Decimal(5), None, False)
    village = WorkerCase("W1", {"kind": "村"}, {"complaints": Decimal(0), "diaries": Decimal(5)}, [late, other])
    town = WorkerCase("W2", {"kind": "社区"}, {"complaints": Decimal(0), "diaries": Decimal(5)}, [])
    r1, r2 = score_cases(pol, [village, town], [None, None], processes=1)
    assert rules_fired(r1) == ["late"] and r1.score == 97
    assert rules_fired(r2) == ["diary_short"] and r2.score == 96


def test_the_collector_is_back_on_after_scoring_and_a_frozen_heap_stays_frozen(policy):
    # Results are moved to the collector's oldest generation without a pass over them (scoring's
    # _to_old_generation); the collector is on again afterwards, and objects someone else froze stay frozen.
    import gc

    score_cases(policy, [case(complaints=3)], [None], processes=1)
    assert gc.isenabled() and gc.get_count()[0] < 700
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        score_cases(policy, [case(complaints=3)], [None], processes=1)
        assert gc.isenabled() and gc.get_freeze_count() > frozen // 2   # (0 if thawed; a few may be freed)
    finally:
        gc.unfreeze()
