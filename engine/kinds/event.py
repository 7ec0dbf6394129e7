"""event (按事件): points for each event of the log that matches a filter; and the filter itself,
which counted metrics (`count_events`) share.

    重大矛盾隐患超过4小时报送，每件扣3分    event: {category: [矛盾纠纷, 安全隐患], severity: 重大,
                                                  delay_hours: "(4, +inf)", points: 3}
    事件2天内受理、7天内办结                overdue: {from: reported, to: accepted, hours: 48} (and 168 to closed)
    24小时内妥善处理得3分（得分项）           handling_hours: "[0, 24]", points: 3
    同样问题连续通报二次扣2分               repeat_months: "[2, +inf)", points: 2
    按办结月份统计                          month_by: closed

Times.  An event has stage times: discovered, reported, closed (built in) and the stages a
policy names in `events.stages` (受理, 核实, …, read from the log's `<name>时间` column).  The
scored month's end is the cut-off.  `unclosed: true` means not closed by the cut-off (closed
later, or not at all), which is what 月底仍未办结 says.  Intervals are hours from one stage to
another, on events where both happened.  `overdue` is a deadline: the `to` stage did not happen
within `hours` of the `from` stage; the event counts in the month the deadline passed (the
month it went late), whether it was done later or is still open at the cut-off.  Every other
filter counts an event in its discovery month, or the month of `month_by`.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal, Optional

from pydantic import Field

from ..cases import EventCase
from ..policy_values import Num, Range, StrList, Strict, n
from .base import Checks, Cond, RuleKind, check_points_or_escalate, double_text, range_terms

BUILT_IN_STAGES = {"discovered": "发现", "reported": "上报", "closed": "办结"}
MONTH_BY = ("discovered", "reported", "closed")


class Span(Strict):
    """Hours between two stages of an event (both must have happened)."""

    from_: str = Field(alias="from")
    to: str
    hours: Optional[Range] = None
    days: Optional[Range] = None


class Overdue(Strict):
    """A deadline: `to` within `hours` (or `days`) of `from`."""

    from_: str = Field(alias="from")
    to: str
    hours: Optional[Num] = None
    days: Optional[Num] = None

    @property
    def limit_hours(self) -> Decimal:
        return self.hours if self.hours is not None else (self.days or Decimal(0)) * 24


class EventFilter(Strict):
    """Which events of the log a rule or a counted metric looks at."""

    category: Optional[StrList] = None        # 类别, any of
    severity: Optional[StrList] = None        # 等级, any of
    delay_hours: Optional[Range] = None       # reported - discovered, in hours
    handling_hours: Optional[Range] = None    # closed - reported, in hours
    unclosed: Optional[bool] = None           # true: not closed by the end of the month
    interval: Optional[Span] = None           # hours between any two stages
    overdue: Optional[Overdue] = None         # a stage not reached in time; counted in the month it went late
    repeat_months: Optional[Range] = None     # months running (this one included) the problem key appeared
    month_by: Optional[Literal["discovered", "reported", "closed"]] = None   # the month an event counts in


class EventRule(EventFilter):
    points: Optional[Num] = None
    escalate: Optional[list[Num]] = None


# --------------------------------------------------------------------------- time


def hours_between(a: datetime, b: datetime) -> Decimal:
    """Whole minutes as hours with 4 decimals at most (durable_rules compares doubles)."""
    return _hours(int((b - a).total_seconds() // 60))


@lru_cache(maxsize=65536)
def _hours(minutes: int) -> Decimal:
    """(a province's log has 800,000 spans and far fewer distinct minute counts)"""
    return (Decimal(minutes) / Decimal(60)).quantize(Decimal("0.0001"))


def month_of(t: datetime) -> str:
    return _month_text(t.year, t.month)


@lru_cache(maxsize=1024)
def _month_text(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


@lru_cache(maxsize=1024)
def _year_month(month: str | None) -> tuple[int, int] | None:
    """(year, month) of a month's text, for `month_of(t) == month` as two integer comparisons
    (None, equal to no time's, when the text is not what month_of writes)."""
    try:
        ym = (int(month[:4]), int(month[5:7]))
    except (TypeError, ValueError):
        return None
    return ym if _month_text(*ym) == month else None


def month_start(month: str) -> datetime:
    return datetime(int(month[:4]), int(month[5:7]), 1)


@lru_cache(maxsize=64)
def cutoff(month: str) -> datetime:
    """The end of the scored month: the first instant of the next month."""
    y, m = int(month[:4]), int(month[5:7])
    return datetime(y + (m == 12), m % 12 + 1, 1)


def make_event(event_id: str, category: str, severity: str, times: dict[str, datetime], month: str,
               problem: str = "", source: tuple[str, int] | None = None) -> EventCase:
    """An event of the log as the rules of `month` see it (times: stage -> datetime, discovered given)."""
    disc, rep, clo = times["discovered"], times.get("reported"), times.get("closed")
    return EventCase(event_id, category, severity,
                     hours_between(disc, rep) if rep is not None else None,      # None: never reported
                     hours_between(rep, clo) if clo is not None and rep is not None else None,
                     clo is None or clo >= cutoff(month), source, times, month, problem)


def stage_names(doc) -> dict[str, str]:
    """Stage id -> Chinese name: the built-in ones, then those the policy declares."""
    names = dict(BUILT_IN_STAGES)
    if doc.events is not None and doc.events.stages:
        names.update(doc.events.stages)
    return names


# --------------------------------------------------------------------------- what a filter reads of an event


def in_month(ev: EventCase, by: str | None) -> bool:
    """Whether the event counts in the scored month when counted by the month of `by`."""
    by = by or "discovered"
    if ev.times is None:   # a worked example given in hours: everything that happened, happened this month
        return by == "discovered" or (by == "reported" and ev.delay_hours is not None) or \
            (by == "closed" and ev.handling_hours is not None)
    t = ev.times.get(by)
    return t is not None and (t.year, t.month) == _year_month(ev.month)


def span_hours(ev: EventCase, a: str, b: str) -> Decimal | None:
    """Hours from stage a to stage b, None unless both happened."""
    if ev.times is not None:
        ta, tb = ev.times.get(a), ev.times.get(b)
        return hours_between(ta, tb) if ta is not None and tb is not None else None
    if (a, b) == ("discovered", "reported"):
        return ev.delay_hours
    if (a, b) == ("reported", "closed"):
        return ev.handling_hours
    if (a, b) == ("discovered", "closed") and ev.delay_hours is not None and ev.handling_hours is not None:
        return ev.delay_hours + ev.handling_hours
    return None


def _happened(ev: EventCase, stage: str) -> bool:
    if ev.times is not None:
        return ev.times.get(stage) is not None
    return stage == "discovered" or (stage == "reported" and ev.delay_hours is not None) or \
        (stage == "closed" and ev.handling_hours is not None)


def overdue_due(ev: EventCase, od: Overdue) -> datetime | None:
    """When the deadline passed, if it went late in the scored month (None otherwise).  For a worked
    example given in hours the month is the example's: late if longer than the limit or never done.
    Worked out once per event and deadline (facts, counted metrics and findings all ask)."""
    cache = ev.derived
    if cache is None:
        cache = ev.derived = {}
    key = id(od)   # the policy's own deadline object (hashing a pydantic model costs more than the work)
    if key in cache:
        return cache[key]
    due = cache[key] = _overdue_due(ev, od, _limit(od))
    return due


def _overdue_due(ev: EventCase, od: Overdue, limit: timedelta) -> datetime | None:
    if ev.times is None:
        if not _happened(ev, od.from_):
            return None
        h = span_hours(ev, od.from_, od.to)
        return datetime.min if h is None or h > od.limit_hours else None
    start = ev.times.get(od.from_)
    if start is None:
        return None        # the clock never started
    due = start + limit
    done = ev.times.get(od.to)
    if done is not None and done <= due:
        return None
    return due if (due.year, due.month) == _year_month(ev.month) else None


_LIMITS: dict[int, tuple[Overdue, timedelta]] = {}


def _limit(od: Overdue) -> timedelta:
    """A deadline's time limit, worked out once per deadline object (kept with it, so that an id
    reused by another object is never mistaken for it)."""
    got = _LIMITS.get(id(od))
    if got is None or got[0] is not od:
        if len(_LIMITS) >= 1024:
            _LIMITS.clear()
        got = _LIMITS[id(od)] = (od, timedelta(hours=float(od.limit_hours)))
    return got[1]


def event_matches(f: EventFilter, ev: EventCase) -> bool:
    """Plain-Python event filter: counted metrics and worked examples (durable_rules decides rules)."""
    if f.category and ev.category not in f.category:
        return False
    if f.severity and ev.severity not in f.severity:
        return False
    if f.overdue is not None:
        if overdue_due(ev, f.overdue) is None:
            return False
    elif not in_month(ev, f.month_by):
        return False
    if f.delay_hours is not None:
        if ev.delay_hours is None:        # never reported: infinitely late
            if f.delay_hours.hi is not None:
                return False
        elif not f.delay_hours.contains(ev.delay_hours):
            return False
    if f.handling_hours is not None and (ev.handling_hours is None or not f.handling_hours.contains(ev.handling_hours)):
        return False
    if f.unclosed is not None and bool(ev.unclosed) != f.unclosed:
        return False
    if f.interval is not None:
        h = span_hours(ev, f.interval.from_, f.interval.to)
        if h is None or not _span_range(f.interval).contains(h):
            return False
    if f.repeat_months is not None and not f.repeat_months.contains(Decimal(ev.repeat)):
        return False
    return True


def _span_range(s: Span):
    if s.hours is not None:
        return s.hours
    from ..intervals import Interval
    d = s.days
    scale = Decimal(24)
    return Interval(None if d.lo is None else d.lo * scale, d.lo_closed, None if d.hi is None else d.hi * scale,
                    d.hi_closed, str(d))


def filters_of(doc) -> list[EventFilter]:
    """Every event filter of the policy: counted metrics, rules and bonus rules."""
    return _event_use(doc)[0]


def needs_other_months(doc) -> bool:
    """Whether events discovered in other months can count this month (so the log reader keeps them)."""
    return _event_use(doc)[1]


def _counts_earlier(f: EventFilter) -> bool:
    """Whether a filter counts events discovered before the scored month (counted by report or closing
    month, a deadline passing this month, the same problem again)."""
    return f.overdue is not None or f.repeat_months is not None or f.month_by not in (None, "discovered")


def earlier_event_uses(doc) -> list[str]:
    """Labels of the metrics and rules whose filters count events discovered before the scored month."""
    out = [m.label for m in doc.metrics.values() if m.count_events is not None and _counts_earlier(m.count_events)]
    rules = [r for it in doc.items for r in it.rules] + (doc.bonus.rules if doc.bonus else [])
    return out + [r.label for r in rules if r.event is not None and _counts_earlier(r.event)]


def problem_keys_used(doc) -> bool:
    return _event_use(doc)[2]


_USES: dict[int, tuple] = {}


def _event_use(doc) -> tuple[list[EventFilter], bool, bool]:
    """(filters_of, needs_other_months, problem_keys_used) of a policy, worked out once per policy
    object (asked for each of a province's 100,000 workers), kept with it as _limit does."""
    got = _USES.get(id(doc))
    if got is None or got[0] is not doc:
        out = [m.count_events for m in doc.metrics.values() if m.count_events is not None]
        rules = [r for it in doc.items for r in it.rules] + (doc.bonus.rules if doc.bonus else [])
        filters = out + [r.event for r in rules if r.event is not None]
        other = any(_counts_earlier(f) for f in filters)
        if len(_USES) >= 64:
            _USES.clear()
        got = _USES[id(doc)] = (doc, filters, other, any(f.repeat_months is not None for f in filters))
    return got[1], got[2], got[3]


def prepare_events(doc, month: str, events: list[EventCase]) -> list[EventCase]:
    """The worker's events that can count in `month`, with `repeat` filled in (log order kept).

    `events` may hold other months (the reader keeps them when `needs_other_months`): they feed
    the problem-key runs and are then dropped unless a filter counts them this month, so that a
    rule counting by discovery month never sees another month's event."""
    filters, other, keys = _event_use(doc)
    if keys:
        seen: dict[str, set[str]] = {}
        for ev in events:
            if ev.problem and ev.times is not None:
                seen.setdefault(ev.problem, set()).add(month_of(ev.times["discovered"]))
        for ev in events:
            if not ev.problem:
                ev.repeat = 0
                continue
            if ev.times is None:
                ev.repeat = ev.repeat or 1
                continue
            run, m = 1, _prev(month_of(ev.times["discovered"]))
            while m in seen[ev.problem]:
                run, m = run + 1, _prev(m)
            ev.repeat = run
    if filters and not other:      # every filter counts by discovery month: one test an event
        return [ev for ev in events if ev.times is None or in_month(ev, None)]
    return [ev for ev in events if ev.times is None or any(_counts_this_month(f, ev) for f in filters)]


def _counts_this_month(f: EventFilter, ev: EventCase) -> bool:
    return overdue_due(ev, f.overdue) is not None if f.overdue is not None else in_month(ev, f.month_by)


def _prev(month: str) -> str:
    y, m = int(month[:4]), int(month[5:7])
    return f"{y - (m == 1):04d}-{(m - 2) % 12 + 1:02d}"


# --------------------------------------------------------------------------- checks


def check_stages(ck: Checks) -> None:
    """`events.stages`: each a stage of its own, read from its own column of the log (<name>时间)."""
    if ck.doc.events is None or not ck.doc.events.stages:
        return
    seen = {name: sid for sid, name in BUILT_IN_STAGES.items()}
    for sid, name in ck.doc.events.stages.items():
        path = ["events", "stages", sid]
        if sid in BUILT_IN_STAGES:
            ck.add(path, sid, "自定义环节的编号（discovered 发现、reported 上报、closed 办结是内置环节，不必声明）")
            continue
        if not re.match(r"^[a-z][a-z0-9_]*$", sid):
            ck.add(path, sid, "小写字母开头、由小写字母数字下划线组成的环节编号，如 accepted")
        name = str(name).strip()
        if not name or name.endswith("时间"):
            ck.add(path, name, "环节名称，如 受理（台账中读“受理时间”列）")
        elif name in seen:
            ck.add(path, name, f"与环节 {seen[name]}（{name}）不同的名称（每个环节读台账中自己的“{name}时间”列）")
        else:
            seen[name] = sid


def check_filter(ck: Checks, f: EventFilter, path: list) -> None:
    doc = ck.doc
    vocab = doc.events
    if vocab and vocab.categories is not None:
        for c in f.category or []:
            if c not in vocab.categories:
                ck.add(path + ["category"], c, "events.categories 中声明的类别之一：" + "、".join(vocab.categories))
    if vocab and vocab.severities is not None:
        for s in f.severity or []:
            if s not in vocab.severities:
                ck.add(path + ["severity"], s, "events.severities 中声明的等级之一：" + "、".join(vocab.severities))
    for key in ("delay_hours", "handling_hours"):
        rng = getattr(f, key)
        if rng is not None and rng.hi is not None and (rng.hi < 0 or (rng.hi == 0 and not rng.hi_closed)):
            ck.add(path + [key], str(rng), "与 [0, +inf) 有交集的小时区间（否则永远不会触发）")
    stages = stage_names(doc)
    for key in ("interval", "overdue"):
        span = getattr(f, key)
        if span is None:
            continue
        for end in ("from", "to"):
            name = span.from_ if end == "from" else span.to
            if name not in stages:
                ck.add(path + [key, end], name, "事件环节之一：" + "、".join(f"{k}（{v}）" for k, v in stages.items()),
                       "其他环节在 events.stages 中声明，如 accepted: 受理")
        if span.from_ == span.to:
            ck.add(path + [key, "to"], span.to, f"与 from（{span.from_}）不同的环节")
        if (span.hours is None) == (span.days is None):
            ck.add(path + [key], "hours 与 days 都写了" if span.hours is not None else None, "hours（小时）或 days（天）二选一")
    if f.overdue is not None:
        limit = f.overdue.hours if f.overdue.hours is not None else f.overdue.days
        if limit is not None and limit <= 0:
            ck.add(path + ["overdue", "hours" if f.overdue.hours is not None else "days"], n(limit), "大于 0 的时限")
        if f.month_by is not None:
            ck.add(path + ["month_by"], f.month_by, "不填（overdue 的事件计入超时发生的月份）")
    if f.repeat_months is not None:
        rng = f.repeat_months
        if rng.hi is not None and (rng.hi < 1 or (rng.hi == 1 and not rng.hi_closed)):
            ck.add(path + ["repeat_months"], str(rng), "与 [1, +inf) 有交集的月数区间（否则永远不会触发）")


_GRADED = ("delay_hours", "handling_hours", "unclosed", "repeat_months")
_HOURS = {"delay_hours": ("上报延迟", "迟报与漏报"), "handling_hours": ("办理用时", "办理超时各档"),
          "repeat_months": ("连续月数", "重复问题各档")}


def _shared_overlap(a: EventFilter, b: EventFilter) -> str | None:
    """The graded filter two rules share whose intervals overlap, when one event can match both."""
    for attr in ("category", "severity"):
        x, y = getattr(a, attr), getattr(b, attr)
        if x and y and not set(x) & set(y):
            return None
    if any((getattr(a, k) is None) != (getattr(b, k) is None) for k in _GRADED + ("interval", "overdue")):
        return None   # one rule also asks for something the other does not: another violation
    if a.unclosed is not None and a.unclosed != b.unclosed:
        return None
    if a.interval != b.interval or a.overdue != b.overdue or (a.month_by or "discovered") != (b.month_by or "discovered"):
        return None
    shared = None
    for key in ("delay_hours", "handling_hours", "repeat_months"):
        x, y = getattr(a, key), getattr(b, key)
        if x is not None and y is not None:
            if not x.overlaps(y):
                return None
            shared = shared or key
    return shared


def _split_hint(a, b) -> str:
    """'，如把「迟报」改为 (3, 24]' when the lower interval can simply end where the upper one starts."""
    (low_label, low), (_, up) = sorted([a, b], key=lambda x: (x[1].lo is not None, x[1].lo or 0, not x[1].lo_closed))
    if low.lo is None or up.lo is None or not (low.lo < up.lo):
        return ""
    if not (up.hi is None or (low.hi is not None and (low.hi < up.hi or (low.hi == up.hi and (up.hi_closed or not low.hi_closed))))):
        return ""   # the lower rule also reaches above the upper one: no simple split to suggest
    return (f"，如把「{low_label}」改为 {'[' if low.lo_closed else '('}{n(low.lo)}, {n(up.lo)}"
            f"{')' if up.lo_closed else ']'}")


# --------------------------------------------------------------------------- durable_rules facts


class EventFacts:
    """What a policy's event rules read of an event beyond category, severity, delay, handling and
    unclosed: months (md/mr/mc), stage intervals (i<j>), deadlines (o<j>), problem runs (rp)."""

    def __init__(self, doc):
        rules = [r for it in doc.items for r in it.rules] + (doc.bonus.rules if doc.bonus else [])
        filters = [r.event for r in rules if r.event is not None]
        self.cross = needs_other_months(doc)
        self.spans: dict[tuple[str, str], str] = {}
        self.deadlines: dict[Overdue, str] = {}
        for f in filters:
            if f.interval is not None:
                self.spans.setdefault((f.interval.from_, f.interval.to), f"i{len(self.spans)}")
            if f.overdue is not None:
                self.deadlines.setdefault(f.overdue, f"o{len(self.deadlines)}")
        self.repeat = any(f.repeat_months is not None for f in filters)
        self.months = sorted({f.month_by or "discovered" for f in filters if f.overdue is None}) if self.cross else []
        self.active = bool(self.cross or self.spans or self.deadlines or self.repeat)
        # each flag's field as written when true and when false
        self._month_fields = [(by, f',"m{by[0]}":true', f',"m{by[0]}":false') for by in self.months]
        self._deadline_fields = [(od, id(od), _limit(od), f',"{fld}":true', f',"{fld}":false')
                                 for od, fld in self.deadlines.items()]

    def terms(self, f: EventFilter) -> list[dict]:
        terms: list[dict] = [{"t": "e"}]
        if f.category:
            terms.append(_any_of("cat", f.category))
        if f.severity:
            terms.append(_any_of("sev", f.severity))
        if f.delay_hours is not None:
            # An event never reported is infinitely late: it lies in every interval open to +inf, and
            # in no bounded one.  It carries nr=true and no delay field.
            reported = [{"nr": False}] + range_terms("dh", f.delay_hours)
            if f.delay_hours.hi is None:
                terms.append({"$or": [{"nr": True}, {"$and": reported}]})
            else:
                terms += reported
        if f.handling_hours is not None:
            terms += [{"$ex": {"hh": 1}}] + range_terms("hh", f.handling_hours)
        if f.unclosed is not None:
            terms.append({"uc": bool(f.unclosed)})
        if f.overdue is not None:
            terms.append({self.deadlines[f.overdue]: True})
        elif self.cross:
            terms.append({"m" + (f.month_by or "discovered")[0]: True})
        if f.interval is not None:
            fld = self.spans[(f.interval.from_, f.interval.to)]
            terms += [{"$ex": {fld: 1}}] + range_terms(fld, _span_range(f.interval))
        if f.repeat_months is not None:
            terms += range_terms("rp", f.repeat_months)
        return terms

    def extras(self, ev: EventCase) -> str:
        """The extra fields of one event fact, as JSON text (',"md":true,...')."""
        out = []
        times = ev.times
        if times is not None:
            ym = _year_month(ev.month)
            for by, yes, no in self._month_fields:
                t = times.get(by)
                out.append(yes if t is not None and (t.year, t.month) == ym else no)
        else:
            for by, yes, no in self._month_fields:
                out.append(yes if in_month(ev, by) else no)
        for (a, b), fld in self.spans.items():
            h = span_hours(ev, a, b)
            if h is not None:
                out.append(f',"{fld}":{double_text(h)}')
        if self._deadline_fields:   # overdue_due written out, all the event's deadlines at once
            cache = ev.derived
            if cache is None:
                cache = ev.derived = {}
            for od, key, limit, yes, no in self._deadline_fields:
                due = cache[key] if key in cache else cache.setdefault(key, _overdue_due(ev, od, limit))
                out.append(yes if due is not None else no)
        if self.repeat:
            out.append(f',"rp":{ev.repeat}')
        return "".join(out)


def _any_of(fld: str, values: list[str]) -> dict:
    return {"$or": [{fld: v} for v in values]} if len(values) > 1 else {fld: values[0]}


# --------------------------------------------------------------------------- the rule form


class _Event(RuleKind):
    key = "event"
    title = "按事件"
    model = EventRule
    target = "e"

    def check(self, ck: Checks, rule, spec, path):
        check_points_or_escalate(ck, spec, path + [self.key])
        check_filter(ck, spec, path + [self.key])

    def check_together(self, ck: Checks, rules, path, bonus):
        """Event rules of one item graded by hours ("late" (3, 24], "missed" (24, +inf)) are tiers of
        one violation: when their intervals overlap, one event matches both and is counted twice,
        which a policy never says out loud.  Rules that grade on different things (one also asks for
        `unclosed` or `handling_hours`) or whose filters no event meets together (other categories or
        severities) are different violations and do not conflict."""
        events = [(j, r.event) for j, r in enumerate(rules) if r.kind == "event"]
        for k, (j, b) in enumerate(events):
            for i, a in events[:k]:
                key = _shared_overlap(a, b)
                if key is None:
                    continue
                word, pair = _HOURS[key]
                ra, rb = getattr(a, key), getattr(b, key)
                ck.add(path + [j, "event", key], str(rb),
                       f"与同一项目中规则「{rules[i].label}」（{rules[i].id}）的{word}区间 {ra} 不重叠的区间",
                       f"{pair}区间重叠：同一事件会被两条规则重复{'加分' if bonus else '扣分'}；写明边界归属"
                       + _split_hint((rules[i].label, ra), (rules[j].label, rb)))
                break

    def conditions(self, spec, ctx):
        return [Cond(ctx.events.terms(spec))]

    def placeholders(self, spec, doc):
        out = ["事件编号", "类别", "等级", "情形", "第几次"]
        if spec.delay_hours is not None:
            out.append("上报延迟")
        if spec.handling_hours is not None:
            out.append("办理用时")
        if spec.interval is not None:
            out.append("间隔")
        if spec.overdue is not None:
            out.append("到期时间")
        if spec.repeat_months is not None:
            out += ["问题", "连续月数"]
        return out

    def default_reason(self, spec, doc):
        return "事件{事件编号}（{类别}，{等级}）{情形}，属“{规则}”{第几次}，{得扣}{分值}分"

    def plan(self, doc, rule, spec):
        stages = stage_names(doc)
        k = {"delay": spec.delay_hours.human("小时") if spec.delay_hours is not None else None,
             "handling": spec.handling_hours.human("小时") if spec.handling_hours is not None else None}
        if spec.interval is not None:
            s = spec.interval
            k["interval"] = (stages.get(s.from_, s.from_), stages.get(s.to, s.to), _span_range(s).human("小时"))
        if spec.overdue is not None:
            o = spec.overdue
            limit = f"{n(o.hours)}小时" if o.hours is not None else f"{n(o.days)}天"
            k["overdue"] = (stages.get(o.from_, o.from_), stages.get(o.to, o.to), limit)
        return k

    def findings(self, rp, matches, case, msrc):
        spec, k = rp.spec, rp.k
        out = []
        all_events = case.events
        delay, handling, unclosed = k["delay"], k["handling"], spec.unclosed
        interval, overdue, repeat, escalate = spec.interval, spec.overdue, spec.repeat_months, spec.escalate
        plain = not (delay is not None or handling is not None or unclosed or interval is not None
                     or overdue is not None or repeat is not None)
        finding, points = rp.finding, spec.points
        for nth, ei in enumerate(sorted([h.event for _, h in matches]), 1):   # in the order of the log
            ev = all_events[ei]
            p = points if escalate is None else escalate[min(nth, len(escalate)) - 1]
            values = {"事件编号": ev.event_id, "类别": ev.category, "等级": ev.severity}
            nth_text = f"，本月第{nth}次" if escalate is not None else ""
            src = _source(ev)
            if plain:   # the event only matched the rule's category and severity: nothing to describe
                out.append(finding(p, values, {"情形": "", "第几次": nth_text}, src, ev.event_id))
                continue
            texts: dict[str, str] = {}
            desc = []
            if delay is not None:
                if ev.delay_hours is None:
                    values["上报延迟"] = "未上报"
                    desc.append("未上报")
                else:
                    hours = n(ev.delay_hours)
                    values["上报延迟"] = f"{hours}小时"
                    desc.append(f"发现后{hours}小时才上报（{delay}）")
            if handling is not None:
                hours = n(ev.handling_hours)
                values["办理用时"] = f"{hours}小时"
                desc.append(f"上报后{hours}小时办结（{handling}）")
            if unclosed:
                desc.append("月底仍未办结")
            if interval is not None:
                a, b, human = k["interval"]
                hours = n(span_hours(ev, interval.from_, interval.to))
                values["间隔"] = f"{hours}小时"
                desc.append(f"{a}后{hours}小时{b}（{human}）")
            if overdue is not None:
                a, b, limit = k["overdue"]
                due = overdue_due(ev, overdue)
                done = ev.times.get(overdue.to) if ev.times is not None else None
                if due is not None and due != datetime.min:
                    values["到期时间"], texts["到期时间"] = _time_texts(due)
                    desc.append(f"{a}后{limit}内未{b}（{texts['到期时间']}到期" +
                                (f"，{_time_texts(done)[1]}才{b}）" if done is not None else "，截至月底仍未" + b + "）"))
                else:
                    texts["到期时间"] = ""
                    desc.append(f"{a}后{limit}内未{b}")
            if repeat is not None:
                values["问题"] = ev.problem
                values["连续月数"] = str(ev.repeat)
                desc.append(f"同一问题（{ev.problem}）连续{ev.repeat}个月出现")
            texts["情形"] = "，".join(desc)
            texts["第几次"] = nth_text
            out.append(finding(p, values, texts, src, ev.event_id))
        return out


def _source(ev: EventCase) -> dict | None:
    """An event's place in the log, one dict for all of its findings (every rule it matched): made
    once, and sent between processes once (marshal writes a shared object once)."""
    if not ev.source:
        return None
    cache = ev.derived
    if cache is None:
        cache = ev.derived = {}
    src = cache.get("source")
    if src is None:
        src = cache["source"] = {"file": _basename(ev.source[0]), "row": ev.source[1]}
    return src


@lru_cache(maxsize=4096)
def _time_texts(t: datetime) -> tuple[str, str]:
    """'2026-10-21 10:00' for results.json, '10月21日10:00' for the reason (written out: strftime
    costs more than the rest of an event's finding; %Y is the year unpadded, as glibc writes it)."""
    hm = f"{t.hour:02d}:{t.minute:02d}"
    return f"{t.year}-{t.month:02d}-{t.day:02d} {hm}", f"{t.month}月{t.day}日{hm}"


@lru_cache(maxsize=64)
def _basename(path: str) -> str:
    return Path(path).name


KIND = _Event()
