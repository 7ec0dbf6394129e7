"""An independent scorer written from docs/policy.md alone, used to cross-check the engine.

It deliberately shares nothing with engine.scoring / engine.assessment / engine.kinds /
engine.prepare: only the parsed policy model (engine.policy.PolicyDoc) and Interval.contains
are reused, so a misreading of the specification in the engine shows up as a disagreement here.
Event times, deadlines, problem runs, records, working days (chinese_calendar directly) and
composites are all worked out here from the raw inputs, the way docs/policy.md states them.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

import chinese_calendar

from engine.policy import Policy, PolicyDoc, QuotaBy, RuleDef, VetoEffect

ZERO = Decimal(0)
FEN = Decimal("0.01")


@dataclass
class OEvent:
    """One event of the worker's log.  Either abstract (hours; delay_hours None = never reported,
    infinitely late; the month is the example's) or with `times` (stage -> datetime) from which
    everything else is derived for the scored month."""

    event_id: str
    category: str
    severity: str
    delay_hours: Decimal | None
    handling_hours: Decimal | None
    unclosed: bool
    times: dict | None = None
    problem: str = ""


@dataclass
class ORecord:
    """One row of the records sheet: its 类型, its day, start/end times, amount."""

    type: str
    day: dt.date
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    amount: Decimal | None = None


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


# --------------------------------------------------------------------------- event times


def _next_month_start(month: str) -> dt.datetime:
    y, m = int(month[:4]), int(month[5:7])
    return dt.datetime(y + 1, 1, 1) if m == 12 else dt.datetime(y, m + 1, 1)


def _month(t: dt.datetime) -> str:
    return f"{t.year:04d}-{t.month:02d}"


def _hours(a: dt.datetime, b: dt.datetime) -> Decimal:
    """docs: whole minutes between two times, as hours to 4 decimals."""
    minutes = int((b - a).total_seconds()) // 60
    return (Decimal(minutes) / 60).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def derive(ev: OEvent, month: str) -> OEvent:
    """The hours view of an event with times, for the scored month (cut-off = end of the month)."""
    if ev.times is None:
        return ev
    t = ev.times
    disc, rep, clo = t["discovered"], t.get("reported"), t.get("closed")
    return OEvent(ev.event_id, ev.category, ev.severity,
                  None if rep is None else _hours(disc, rep),
                  None if (rep is None or clo is None) else _hours(rep, clo),
                  clo is None or clo >= _next_month_start(month), t, ev.problem)


def _happened(ev: OEvent, stage: str) -> bool:
    if ev.times is not None:
        return ev.times.get(stage) is not None
    return {"discovered": True, "reported": ev.delay_hours is not None,
            "closed": ev.handling_hours is not None}.get(stage, False)


def _span(ev: OEvent, a: str, b: str) -> Decimal | None:
    if ev.times is not None:
        if ev.times.get(a) is None or ev.times.get(b) is None:
            return None
        return _hours(ev.times[a], ev.times[b])
    known = {("discovered", "reported"): ev.delay_hours, ("reported", "closed"): ev.handling_hours}
    if (a, b) in known:
        return known[(a, b)]
    if (a, b) == ("discovered", "closed") and ev.delay_hours is not None and ev.handling_hours is not None:
        return ev.delay_hours + ev.handling_hours
    return None


def _late_this_month(ev: OEvent, od, month: str | None) -> bool:
    """docs: `to` not within the limit of `from`, counted in the month the deadline passed."""
    limit = od.hours if od.hours is not None else od.days * 24
    if ev.times is None:
        if not _happened(ev, od.from_):
            return False
        h = _span(ev, od.from_, od.to)
        return h is None or h > limit
    start = ev.times.get(od.from_)
    if start is None:
        return False
    due = start + dt.timedelta(minutes=int(limit * 60))
    done = ev.times.get(od.to)
    if done is not None and done <= due:
        return False
    return _month(due) == month


def _counts_in(ev: OEvent, by: str | None, month: str | None) -> bool:
    by = by or "discovered"
    if ev.times is None:
        return _happened(ev, by)
    t = ev.times.get(by)
    return t is not None and _month(t) == month


def _repeat(ev: OEvent, events: list[OEvent]) -> int:
    """Months running, the event's discovery month included, the worker had an event with its problem key."""
    if not ev.problem:
        return 0
    if ev.times is None:
        return 1
    months = {_month(e.times["discovered"]) for e in events if e.problem == ev.problem and e.times is not None}
    y, m = ev.times["discovered"].year, ev.times["discovered"].month
    run = 0
    while f"{y:04d}-{m:02d}" in months:
        run += 1
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return run


def event_matches(f, ev: OEvent, month: str | None = None, events: list[OEvent] | None = None) -> bool:
    """Every given filter must hold; a never-reported event has an infinite delay."""
    if f.category is not None and ev.category not in f.category:
        return False
    if f.severity is not None and ev.severity not in f.severity:
        return False
    if getattr(f, "overdue", None) is not None:
        if not _late_this_month(ev, f.overdue, month):
            return False
    elif not _counts_in(ev, getattr(f, "month_by", None), month):
        return False
    if f.delay_hours is not None:
        if ev.delay_hours is None:
            # infinite delay: inside the interval only when it is open to +inf
            if f.delay_hours.hi is not None:
                return False
        elif not f.delay_hours.contains(ev.delay_hours):
            return False
    if f.handling_hours is not None:
        # an event not closed has no handling time, so no handling interval can hold it
        if ev.handling_hours is None or not f.handling_hours.contains(ev.handling_hours):
            return False
    if f.unclosed is not None and ev.unclosed != f.unclosed:
        return False
    span = getattr(f, "interval", None)
    if span is not None:
        h = _span(ev, span.from_, span.to)
        if h is None:
            return False
        if span.hours is not None:
            if not span.hours.contains(h):
                return False
        else:
            d = span.days
            lo_ok = d.lo is None or h > d.lo * 24 or (h == d.lo * 24 and d.lo_closed)
            hi_ok = d.hi is None or h < d.hi * 24 or (h == d.hi * 24 and d.hi_closed)
            if not (lo_ok and hi_ok):
                return False
    rm = getattr(f, "repeat_months", None)
    if rm is not None and not rm.contains(Decimal(_repeat(ev, events or [ev]))):
        return False
    return True


# --------------------------------------------------------------------------- records


@lru_cache(maxsize=None)
def _national(day: dt.date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:     # a year the package does not know: an ordinary week
        return day.weekday() < 5


def _working(day: dt.date, cal=None) -> bool:
    """docs: the office's holidays and workdays (policy calendar:) over the national calendar."""
    if cal is not None:
        if day.isoformat() in cal.holidays:
            return False
        if day.isoformat() in cal.workdays:
            return True
    return _national(day)


def _month_dates(month: str) -> list[dt.date]:
    first = dt.date(int(month[:4]), int(month[5:7]), 1)
    out = []
    d = first
    while d.month == first.month:
        out.append(d)
        d += dt.timedelta(days=1)
    return out


def _weeks(month: str) -> list[list[dt.date]]:
    """Monday-to-Sunday weeks whose Thursday lies in the month."""
    out = []
    for d in _month_dates(month):
        if d.weekday() == 3:
            monday = d - dt.timedelta(days=3)
            out.append([monday + dt.timedelta(days=i) for i in range(7)])
    return out


def _day_values(series, rows: list[ORecord], days: list[dt.date]) -> dict[dt.date, dict[str, Decimal]]:
    """Each day's value and each slot's: minutes (split at midnight and slot edges), hours, count, amount."""
    slots = series.slots or {}
    out = {d: {"all": ZERO, **{s: ZERO for s in slots}} for d in days}
    for r in rows:
        if series.measure in ("minutes", "hours"):
            # cut the session at every midnight and slot edge it crosses; each piece lies in one day and slot
            edges = {r.start, r.end}
            d = r.start.date()
            while d <= r.end.date():
                base = dt.datetime.combine(d, dt.time())
                edges.add(base)
                for rng in slots.values():
                    for x in (rng.lo, rng.hi):
                        if x is not None:
                            edges.add(base + dt.timedelta(minutes=int(x * 60)))
                d += dt.timedelta(days=1)
            cuts = sorted(e for e in edges if r.start <= e <= r.end)
            for a, b in zip(cuts, cuts[1:]):
                if a.date() not in out:
                    continue
                mins = Decimal(int((b - a).total_seconds()) // 60)
                out[a.date()]["all"] += mins
                h = Decimal(a.hour) + Decimal(a.minute) / 60
                for s, rng in slots.items():
                    lo = rng.lo if rng.lo is not None else Decimal(0)
                    hi = rng.hi if rng.hi is not None else Decimal(24)
                    if lo <= h < hi:
                        out[a.date()][s] += mins
            continue
        if r.day not in out:
            continue
        v = Decimal(1) if series.measure == "count" else (r.amount or ZERO)
        out[r.day]["all"] += v
        if r.start is not None:
            h = Decimal(r.start.hour) + Decimal(r.start.minute) / 60
            for s, rng in slots.items():
                if rng.contains(h):
                    out[r.day][s] += v
    if series.measure == "hours":
        out = {d: {k: (v / 60).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP) for k, v in vals.items()}
               for d, vals in out.items()}
    return out


class _Records:
    def __init__(self, doc: PolicyDoc, month: str, rows: list[ORecord]):
        self.doc, self.month = doc, month
        weeks = _weeks(month)
        self.days = sorted(set(_month_dates(month)) | {d for w in weeks for d in w})
        self.rows = rows
        self.cache: dict[str, dict] = {}

    def values(self, sid: str) -> dict[dt.date, dict[str, Decimal]]:
        if sid not in self.cache:
            s = self.doc.records[sid]
            types = s.type or [s.label]
            self.cache[sid] = _day_values(s, [r for r in self.rows if r.type in types], self.days)
        return self.cache[sid]

    def counted(self, days: str) -> list[dt.date]:
        return [d for d in _month_dates(self.month) if days == "all" or _working(d, self.doc.calendar)]

    def week_value(self, sid: str, week: list[dt.date], days: str) -> Decimal:
        vals = self.values(sid)
        return sum((vals[d]["all"] for d in week if days == "all" or _working(d, self.doc.calendar)), ZERO)

    def metric(self, f) -> Decimal:
        vals = self.values(f.series)
        days = self.counted(f.days)
        if f.stat == "total":
            return sum((vals[d]["all"] for d in days), ZERO)
        if f.stat == "days_with":
            return Decimal(sum(1 for d in days if vals[d]["all"] > 0))
        q = Decimal(1).scaleb(-f.decimals)
        if f.stat == "per_day":
            total = sum((vals[d]["all"] for d in days), ZERO)
            return (total / len(days)).quantize(q, rounding=ROUND_HALF_UP) if days else ZERO
        weeks = _weeks(self.month)
        total = sum((self.week_value(f.series, w, f.days) for w in weeks), ZERO)
        return (total / len(weeks)).quantize(q, rounding=ROUND_HALF_UP)

    def rule_points(self, spec, attributes: dict[str, str]) -> Decimal:
        vals = self.values(spec.series)
        periods = []
        if spec.every == "day":
            for d in _month_dates(self.month):
                if spec.days == "working" and not _working(d, self.doc.calendar):
                    continue
                if spec.slots is not None:
                    periods.append([(vals[d][s], q) for s, q in spec.slots.items()])
                else:
                    periods.append([(vals[d]["all"], _quota(spec.quota, attributes))])
        else:
            for w in _weeks(self.month):
                periods.append([(self.week_value(spec.series, w, spec.days), _quota(spec.quota, attributes))])
        total = ZERO
        for checks in periods:
            pts = ZERO
            for value, quota in checks:
                if quota is None or value >= quota:
                    continue
                pts += spec.points if spec.per is None else _short_points(quota - value, spec)
            if spec.period_cap is not None:
                pts = min(pts, spec.period_cap)
            total += pts
        return total


# --------------------------------------------------------------------------- rules


def _escalated(seq: list[Decimal], n: int) -> Decimal:
    """Sum of the first n occurrences, the last listed value repeating."""
    total = ZERO
    for k in range(n):
        total += seq[min(k, len(seq) - 1)]
    return total


def _short_points(short: Decimal, spec) -> Decimal:
    """points per `per` units short; a part unit counts up, down or exactly (then to 0.01, half up)."""
    units = short / spec.per
    if spec.partial == "up":
        units = units.to_integral_value(rounding=ROUND_CEILING)
    elif spec.partial == "down":
        units = units.to_integral_value(rounding=ROUND_FLOOR)
    pts = units * spec.points
    if spec.partial == "exact":
        pts = pts.quantize(FEN, rounding=ROUND_HALF_UP)
    return pts


def _quota(q, attributes: dict[str, str]) -> Decimal | None:
    if isinstance(q, QuotaBy):
        v = attributes.get(q.by)
        if v is not None and v in q.values:
            return q.values[v]
        return q.default
    return q


def _composite(doc: PolicyDoc, c, metrics: dict[str, Any], out_of: Decimal) -> Decimal:
    """docs: out_of × Σ weight × rate ÷ 100, rates 0–100, rounded once at the end, half up."""
    total = ZERO
    for t in c.terms:
        if t.metric is not None:
            m = doc.metrics[t.metric]
            v = metrics[t.metric]
            if m.type == "percent":
                rate = v
            else:
                full = t.full if t.full is not None else m.max
                rate = v * 100 / full
        else:
            a, b = metrics[t.ratio[0]], metrics[t.ratio[1]]
            rate = (t.empty if t.empty is not None else Decimal(100)) if b == 0 else a * 100 / b
        rate = min(rate, Decimal(100))   # docs: a rate above 100% counts as 100%
        if t.complement:
            rate = 100 - rate
        total += t.weight * rate
    value = out_of * total / 100
    return value.quantize(Decimal(1).scaleb(-c.decimals), rounding=ROUND_HALF_UP)


def rule_points(r: RuleDef, metrics: dict[str, Any], attributes: dict[str, str],
                events: list[OEvent], month: str | None = None, all_events: list[OEvent] | None = None,
                records: _Records | None = None, doc: PolicyDoc | None = None,
                item=None) -> Decimal:
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
            pts = _short_points(q - value, sf)
    elif r.tiers is not None:
        value = metrics[r.tiers.metric]
        for t in r.tiers.tiers:
            if t.range.contains(value):
                pts = t.points
                break
    elif r.event is not None:
        n = sum(1 for ev in events if event_matches(r.event, ev, month, all_events))
        if n:
            pts = r.event.points * n if r.event.points is not None else _escalated(r.event.escalate, n)
    elif getattr(r, "records", None) is not None:
        pts = records.rule_points(r.records, attributes)
    elif getattr(r, "composite", None) is not None:
        c = r.composite
        out_of = c.out_of if c.out_of is not None else item.points
        value = _composite(doc, c, metrics, out_of)
        pts = value if item.mode == "earn" else out_of - value
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
          events: list[OEvent], wage: Decimal | None, month: str | None = None,
          records: list[ORecord] | None = None) -> OResult:
    doc: PolicyDoc = policy.doc
    metrics = dict(metrics)
    all_events = [derive(ev, month) for ev in events] if month is not None else list(events)
    recs = _Records(doc, month, records or []) if month is not None and doc.records else None
    for mid, m in doc.metrics.items():
        if m.count_events is not None:
            metrics[mid] = Decimal(sum(1 for ev in all_events if event_matches(m.count_events, ev, month, all_events)))
        elif getattr(m, "from_records", None) is not None:
            metrics[mid] = recs.metric(m.from_records)

    def points(r, item=None):
        return rule_points(r, metrics, attributes, all_events, month, all_events, recs, doc, item)

    per_rule: dict[str, Decimal] = {}
    items: dict[str, tuple[Decimal, bool]] = {}
    deductions = ZERO
    for it in doc.items:
        if it.mode == "earn":
            net = ZERO
            for r in it.rules:
                p = points(r, it)
                sign = -1 if r.effect == "deduct" else 1
                if p:
                    per_rule[r.id] = sign * p
                net += sign * p
            earned = min(max(net, ZERO), it.points)
            items[it.id] = (it.points - earned, net > it.points or net < 0)
            deductions += it.points - earned
            continue
        total = ZERO
        for r in it.rules:
            p = points(r, it)
            if p:
                per_rule[r.id] = -p
            total += p
        items[it.id] = (min(total, it.points), total > it.points)   # 扣完为止
        deductions += items[it.id][0]

    bonus = ZERO
    if doc.bonus is not None:
        total = ZERO
        for r in doc.bonus.rules:
            p = points(r)
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
