"""Hypothesis properties of the engine on the 城关镇 preset (rules/chengguan.yaml, 2026-10).

The properties hold for any correct scorer: the score stays inside [0, full_score + bonus cap],
and more violations never raise a score.  The oracle is also checked on the same inputs.
"""
from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.assessment import EventCase, WorkerCase
from engine.inputs import event_matches
from engine.policy import load_policy
from engine.scoring import score_cases

sys.path.insert(0, str(Path(__file__).resolve().parent))
import oracle  # noqa: E402

D = Decimal
ROOT = Path(__file__).resolve().parents[1]
POLICY = load_policy(ROOT / "rules" / "chengguan.yaml").for_month("2026-10")
DOC = POLICY.doc
MAX_SCORE = DOC.full_score + (DOC.bonus.cap if DOC.bonus else 0)
CATEGORIES = DOC.events.categories
SEVERITIES = DOC.events.severities
COUNTED_CATEGORIES = {c for m in DOC.metrics.values() if m.count_events for c in (m.count_events.category or [])}

_RULES = [r for it in DOC.items for r in it.rules]
# per_count metrics that only deduct (a bonus per_count would legitimately raise the score)
DEDUCT_COUNTS = sorted({r.per_count.metric for r in _RULES if r.per_count}
                       - {r.per_count.metric for r in DOC.bonus.rules if r.per_count})
SHORTFALL_METRICS = sorted({r.shortfall.metric for r in _RULES if r.shortfall
                            and DOC.metrics[r.shortfall.metric].count_events is None})
PROPS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _bounds(m):
    lo = m.min if m.min is not None else D(0)
    hi = m.max if m.max is not None else (D(100) if m.type == "percent" else lo + 60)
    return lo, hi


def metric_value(m):
    if m.type == "bool":
        return st.booleans()
    lo, hi = _bounds(m)
    if m.type == "integer":
        return st.integers(int(lo), int(hi)).map(D)
    nice = st.sampled_from([x for x in (lo, hi, D(80), D(90), D(95), D(98), D(2), D(5), D("94.9999")) if lo <= x <= hi])
    return st.one_of(nice, st.decimals(min_value=lo, max_value=hi, places=4, allow_nan=False, allow_infinity=False))


hours = st.decimals(min_value=0, max_value=60, places=2, allow_nan=False, allow_infinity=False)
events_st = st.lists(st.tuples(st.sampled_from(CATEGORIES), st.sampled_from(SEVERITIES),
                               st.one_of(st.none(), st.sampled_from([D(3), D(4), D(24), D("3.01")]), hours),
                               st.one_of(st.none(), hours)), max_size=6)
worker_st = st.fixed_dictionaries({
    "attributes": st.fixed_dictionaries({"worker_type": st.sampled_from(["村", "社区"])}),
    "metrics": st.fixed_dictionaries({mid: metric_value(m) for mid, m in DOC.metrics.items() if m.count_events is None}),
    "events": events_st,
    "wage": st.decimals(min_value=1000, max_value=8000, places=2, allow_nan=False, allow_infinity=False),
})


def to_events(raw) -> list[oracle.OEvent]:
    out = []
    for i, (cat, sev, delay, handling) in enumerate(raw):
        unclosed = delay is None or handling is None
        out.append(oracle.OEvent(f"E{i}", cat, sev, delay, None if unclosed else handling, unclosed))
    return out


def run_engine(w: dict, events: list[oracle.OEvent]):
    evs = [EventCase(e.event_id, e.category, e.severity,
                     e.delay_hours,
                     e.handling_hours, e.unclosed) for e in events]
    metrics = dict(w["metrics"])
    for mid, m in DOC.metrics.items():
        if m.count_events is not None:
            metrics[mid] = D(sum(1 for e in evs if event_matches(m.count_events, e)))
    return score_cases(POLICY, [WorkerCase("W1", w["attributes"], metrics, evs)], [w["wage"]], processes=1)[0]


@PROPS
@given(worker_st)
def test_score_within_bounds(w):
    res = run_engine(w, to_events(w["events"]))
    assert D(0) <= res.score <= MAX_SCORE
    assert D(0) <= res.deductions <= DOC.full_score
    assert D(0) <= res.bonus <= DOC.bonus.cap


@PROPS
@given(worker_st, st.sampled_from(DEDUCT_COUNTS), st.integers(1, 5))
def test_more_counted_violations_never_raise_score(w, mid, extra):
    m = DOC.metrics[mid]
    _, hi = _bounds(m)
    before = run_engine(w, to_events(w["events"])).score
    w2 = {**w, "metrics": {**w["metrics"], mid: min(hi, w["metrics"][mid] + extra)}}
    assert run_engine(w2, to_events(w["events"])).score <= before


@PROPS
@given(worker_st, st.sampled_from(SHORTFALL_METRICS), st.decimals(min_value=0, max_value=10, places=4,
                                                                   allow_nan=False, allow_infinity=False))
def test_lower_shortfall_metric_never_raises_score(w, mid, drop):
    lo, _ = _bounds(DOC.metrics[mid])
    value = max(lo, w["metrics"][mid] - drop)
    if DOC.metrics[mid].type == "integer":
        value = value.to_integral_value(rounding="ROUND_FLOOR")
    before = run_engine(w, to_events(w["events"])).score
    w2 = {**w, "metrics": {**w["metrics"], mid: value}}
    assert run_engine(w2, to_events(w["events"])).score <= before


@PROPS
@given(worker_st, st.sampled_from(sorted(set(CATEGORIES) - COUNTED_CATEGORIES)),
       st.sampled_from(SEVERITIES), st.one_of(st.none(), st.decimals(min_value=3, max_value=100, places=2,
                                                                       allow_nan=False, allow_infinity=False)))
def test_late_event_never_raises_score(w, cat, sev, delay):
    # the category is not counted towards any quota, so an extra event can only cost points
    events = to_events(w["events"])
    before = run_engine(w, events).score
    late = oracle.OEvent("LATE", cat, sev, delay, None, True)
    assert run_engine(w, events + [late]).score <= before


@PROPS
@given(worker_st)
def test_engine_matches_oracle_on_preset(w):
    events = to_events(w["events"])
    res = run_engine(w, events)
    o = oracle.score(POLICY, w["attributes"], w["metrics"], events, w["wage"])
    assert (res.score, res.deductions, res.bonus, res.stars, res.band["id"], res.pay, res.failed) == \
           (o.score, o.deductions, o.bonus, o.stars, o.band, o.pay, o.failed)
    assert sorted(v["rule_id"] for v in res.vetoes) == sorted(o.vetoes)


def test_preset_has_the_metrics_the_properties_need():
    """If the preset changes, the monotonicity properties must not silently test nothing."""
    assert DEDUCT_COUNTS and SHORTFALL_METRICS and set(CATEGORIES) - COUNTED_CATEGORIES


if __name__ == "__main__":
    pytest.main([__file__, "-q"])
