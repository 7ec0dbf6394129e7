"""An independent scorer written from docs/policy.md alone, used to cross-check the engine.

It deliberately shares nothing with engine.scoring / engine.assessment: only the parsed policy
model (engine.policy.PolicyDoc) and Interval.contains are reused, so a misreading of the
specification in the engine shows up as a disagreement here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

from engine.policy import Policy, PolicyDoc, QuotaBy, RuleDef, VetoEffect

ZERO = Decimal(0)
FEN = Decimal("0.01")


@dataclass
class OEvent:
    """One event of the worker's month; delay_hours None = never reported (infinitely late)."""

    event_id: str
    category: str
    severity: str
    delay_hours: Decimal | None
    handling_hours: Decimal | None
    unclosed: bool


@dataclass
class OResult:
    score: Decimal
    deductions: Decimal
    bonus: Decimal
    stars: int | None
    band: str | None
    pay: Decimal | None
    vetoes: list[str]
    failed: bool
    rules: dict[str, Decimal] = field(default_factory=dict)   # rule id -> signed points (0 omitted)
    metrics: dict[str, Any] = field(default_factory=dict)     # the metric values used, counted ones included
    items: dict[str, tuple[Decimal, bool]] = field(default_factory=dict)   # item id -> (deducted, capped)
    base: Decimal | None = None                               # performance base wage × share, rounded to the fen


def event_matches(f, ev: OEvent) -> bool:
    """Every given filter must hold; a never-reported event has an infinite delay."""
    if f.category is not None and ev.category not in f.category:
        return False
    if f.severity is not None and ev.severity not in f.severity:
        return False
    if f.delay_hours is not None:
        if ev.delay_hours is None:
            # infinite delay: inside the interval only when it is open to +inf
            if f.delay_hours.hi is not None:
                return False
        elif not f.delay_hours.contains(ev.delay_hours):
            return False
    if f.handling_hours is not None:
        # an unclosed event has no handling time, so no handling interval can hold it
        if ev.handling_hours is None or not f.handling_hours.contains(ev.handling_hours):
            return False
    if f.unclosed is not None and ev.unclosed != f.unclosed:
        return False
    return True


def _escalated(seq: list[Decimal], n: int) -> Decimal:
    """Sum of the first n occurrences, the last listed value repeating."""
    total = ZERO
    for k in range(n):
        total += seq[min(k, len(seq) - 1)]
    return total


def _quota(q, attributes: dict[str, str]) -> Decimal | None:
    if isinstance(q, QuotaBy):
        v = attributes.get(q.by)
        if v is not None and v in q.values:
            return q.values[v]
        return q.default
    return q


def rule_points(r: RuleDef, metrics: dict[str, Any], attributes: dict[str, str],
                events: list[OEvent]) -> Decimal:
    """Unsigned points of one rule, after its own cap."""
    pts = ZERO
    if r.per_count is not None:
        pc = r.per_count
        count = metrics[pc.metric]
        if count > 0:
            n = int(count)
            pts = pc.points * count if pc.points is not None else _escalated(pc.escalate, n)
    elif r.shortfall is not None:
        sf = r.shortfall
        q = _quota(sf.quota, attributes)
        value = metrics[sf.metric]
        if q is not None and value < q:
            units = (q - value) / sf.per
            if sf.partial == "up":
                units = units.to_integral_value(rounding=ROUND_CEILING)
            elif sf.partial == "down":
                units = units.to_integral_value(rounding=ROUND_FLOOR)
            pts = units * sf.points
            if sf.partial == "exact":   # docs/policy.md: exact shortfall points are rounded to 0.01, half up
                pts = pts.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    elif r.tiers is not None:
        value = metrics[r.tiers.metric]
        for t in r.tiers.tiers:
            if t.range.contains(value):
                pts = t.points
                break
    elif r.event is not None:
        n = sum(1 for ev in events if event_matches(r.event, ev))
        if n:
            pts = r.event.points * n if r.event.points is not None else _escalated(r.event.escalate, n)
    else:  # pragma: no cover - the loader guarantees one form
        raise ValueError(f"rule {r.id} has no form")
    if r.cap is not None and pts > r.cap:
        pts = r.cap
    return pts


def veto_fires(doc: PolicyDoc, v, metrics: dict[str, Any]) -> bool:
    m = doc.metrics[v.metric]
    x = metrics[v.metric]
    if m.type == "bool":
        return bool(x)
    if v.range is not None:
        return v.range.contains(x)
    return x >= 1


def score(policy: Policy, attributes: dict[str, str], metrics: dict[str, Any],
          events: list[OEvent], wage: Decimal | None) -> OResult:
    doc: PolicyDoc = policy.doc
    metrics = dict(metrics)
    for mid, m in doc.metrics.items():
        if m.count_events is not None:
            metrics[mid] = Decimal(sum(1 for ev in events if event_matches(m.count_events, ev)))

    per_rule: dict[str, Decimal] = {}
    items: dict[str, tuple[Decimal, bool]] = {}
    deductions = ZERO
    for it in doc.items:
        total = ZERO
        for r in it.rules:
            p = rule_points(r, metrics, attributes, events)
            if p:
                per_rule[r.id] = -p
            total += p
        items[it.id] = (min(total, it.points), total > it.points)   # 扣完为止
        deductions += items[it.id][0]

    bonus = ZERO
    if doc.bonus is not None:
        total = ZERO
        for r in doc.bonus.rules:
            p = rule_points(r, metrics, attributes, events)
            if p:
                per_rule[r.id] = p
            total += p
        bonus = min(total, doc.bonus.cap)

    sc = doc.full_score - deductions + bonus

    fired = [v for v in doc.vetoes if veto_fires(doc, v, metrics)]
    effects: list[VetoEffect] = [v.effect or doc.veto_effect for v in fired]
    if any(e.score == "zero" for e in effects):
        sc = ZERO
    failed = any(e.fail for e in effects)
    withhold = any(e.pay == "withhold" for e in effects)
    stars_zero = any(e.stars == "zero" for e in effects)

    stars = None
    if doc.stars is not None:
        if stars_zero:
            stars = 0
        else:
            hit = [s.stars for s in doc.stars if s.range.contains(sc)]
            assert len(hit) == 1, f"stars do not partition: score {sc} in {hit}"
            stars = hit[0]

    band = None
    pay = None
    base = None
    if doc.pay is not None:
        hit = [b for b in doc.pay.bands if b.range.contains(sc)]
        assert len(hit) == 1, f"bands do not partition: score {sc} in {[b.id for b in hit]}"
        band = hit[0].id
        if fired and (failed or withhold):
            band = "veto"      # a veto that fails the month or withholds pay is the band paid (issue 11.1)
        if wage is not None:
            base = (wage * doc.pay.performance_share).quantize(FEN, rounding=ROUND_HALF_UP)   # shown only
            raw = ZERO if withhold else wage * doc.pay.performance_share * hit[0].ratio
            pay = raw.quantize(FEN, rounding=ROUND_HALF_UP)   # rounded once, at the very end

    return OResult(score=sc, deductions=deductions, bonus=bonus, stars=stars, band=band, pay=pay,
                   vetoes=[v.id for v in fired], failed=failed, rules=per_rule, metrics=metrics, base=base, items=items)


def ranks(results: list[OResult]) -> list[int]:
    """Competition ranking by score (1, 2, 2, 4); failed months rank after every other month."""
    key = [(r.failed, -r.score) for r in results]
    return [1 + sum(1 for other in key if other < k) for k in key]
