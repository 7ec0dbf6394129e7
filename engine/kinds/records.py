"""records (按日/按周记录): quotas a worker's dated records must meet each day or each week.

    上午巡查不少于60分钟、下午不少于70分钟，不够扣1分，一天最多扣2分
        records: {series: patrol, every: day, days: working, slots: {上午: 60, 下午: 70}, points: 1, period_cap: 2}
    村级网格员每周2条、社区网格员每周5条，每少1条扣1分
        records: {series: diary, every: week, quota: {by: worker_type, values: {村: 2, 社区: 5}}, points: 1, per: 1}
    日均巡查不少于1小时      a metric: from_records: {series: patrol_h, stat: per_day, days: working}

A record series (top-level `records:`) says which rows of the records sheet belong to it (by
the 类型 column), what a record contributes (`measure`: minutes or hours between start and end,
1 per record, or the 数量 column) and, optionally, the parts of a day (`slots`, by clock hour).
Aggregation, stated once: a day's value is the sum of its records (a session crossing midnight
or a slot boundary is split there, by the minute); a day without records is 0.  `days: working`
counts the official working days (the national calendar with its 调休 days, engine/calendar.py),
`days: all` every day.  A week runs Monday to Sunday and belongs to the month holding its
Thursday (so every week belongs to exactly one month, and a month has 4 or 5), and its value is
the sum of its counted days, including days in the neighbouring month: the records sheet must
hold those days too.  Means (`per_day`, `per_week`) are rounded once, half up, to `decimals`.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Literal, Optional, Union

from ..cases import RecordPeriod
from ..intervals import Interval
from ..policy_values import Num, QuotaBy, Range, StrList, Strict, n
from .base import (DOUBLES, PARTIAL_TEXT, ZERO, Checks, RuleKind, check_quota, double_text, half_up,
                   quota_conditions, quota_for, round_units)

MEASURE_UNITS = {"minutes": "分钟", "hours": "小时", "count": "条", "amount": ""}


class RecordSeries(Strict):
    label: str
    type: Optional[StrList] = None               # values of the 类型 column (default: the label)
    measure: Literal["minutes", "hours", "count", "amount"]
    unit: Optional[str] = None                    # how values are said; default by measure
    slots: Optional[dict[str, Range]] = None     # parts of the day by clock hour: {上午: "[0, 12)"}

    @property
    def types(self) -> list[str]:
        return self.type or [self.label]

    @property
    def unit_text(self) -> str:
        return self.unit if self.unit is not None else MEASURE_UNITS[self.measure]


class FromRecords(Strict):
    """A metric computed from a record series."""

    series: str
    stat: Literal["total", "per_day", "per_week", "days_with"]
    days: Literal["all", "working"] = "all"
    decimals: int = 2


class RecordsRule(Strict):
    series: str
    every: Literal["day", "week"]
    days: Literal["all", "working"] = "all"
    quota: Optional[Union[Num, QuotaBy]] = None
    slots: Optional[dict[str, Num]] = None       # a quota per slot of the series (every: day)
    points: Num                                  # per short day/week (or slot), or per `per` units short
    per: Optional[Num] = None
    partial: Literal["up", "down", "exact"] = "up"
    period_cap: Optional[Num] = None             # at most this many points per day / week


@dataclass
class Record:
    """One row of the records sheet, for one worker."""

    series: tuple[str, ...]                      # the series (ids) its 类型 belongs to
    day: dt.date
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    amount: Decimal | None = None
    source: tuple[str, int] | None = None


# --------------------------------------------------------------------------- the calendar of a month


def month_days(month: str) -> list[dt.date]:
    y, m = int(month[:4]), int(month[5:7])
    first = dt.date(y, m, 1)
    nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
    return [first + dt.timedelta(days=i) for i in range((nxt - first).days)]


def month_weeks(month: str) -> list[dt.date]:
    """The Mondays of the weeks that belong to the month (their Thursday is in it)."""
    days = month_days(month)
    thursdays = [d for d in days if d.weekday() == 3]
    return [t - dt.timedelta(days=3) for t in thursdays]


def date_span(doc, month: str) -> tuple[dt.date, dt.date]:
    """The first and last date whose records count in `month` (weeks reach into neighbouring months)."""
    days = month_days(month)
    lo, hi = days[0], days[-1]
    if any(r.records.every == "week" for r in records_rules(doc)) or \
            any(m.from_records is not None and m.from_records.stat == "per_week" for m in doc.metrics.values()):
        weeks = month_weeks(month)
        lo, hi = min(lo, weeks[0]), max(hi, weeks[-1] + dt.timedelta(days=6))
    return lo, hi


def neighbour_days(doc, month: str) -> tuple[list[str], list[dt.date]]:
    """(labels, days) of what counts records of the neighbouring months: the weekly rules and metrics,
    and the days outside `month` that their weeks count (working days only where all of them say so)."""
    users = [(r.label, r.records.days) for r in records_rules(doc) if r.records.every == "week"]
    users += [(m.label, m.from_records.days) for m in doc.metrics.values()
              if m.from_records is not None and m.from_records.stat == "per_week"]
    if not users:
        return [], []
    days = month_days(month)
    first, last = date_span(doc, month)
    outside = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    outside = [d for d in outside if not days[0] <= d <= days[-1]]
    if all(how == "working" for _, how in users):
        outside = [d for d in outside if is_working(d, doc.calendar)]
    return [label for label, _ in users], outside


class CalendarDef(Strict):
    """The office's own holidays and working days (调休), over the national calendar: needed for a
    year chinese-calendar does not know yet, and for a local adjustment."""

    holidays: list[str] = []
    workdays: list[str] = []


@lru_cache(maxsize=128)
def _working(year: int, month: int, holidays: tuple = (), workdays: tuple = ()) -> dict[dt.date, bool]:
    from ..calendar import build_calendar
    office = bool(holidays or workdays)
    cal = build_calendar(year, month, holidays=list(holidays) if office else None,
                         workdays=list(workdays) if office else None)
    return {d: not rest for d, rest in zip(cal.dates, cal.is_rest_day)}


def _office_days(cal: CalendarDef | None) -> tuple[tuple, tuple]:
    if cal is None:
        return (), ()
    return tuple(_date(d) for d in cal.holidays), tuple(_date(d) for d in cal.workdays)


def is_working(day: dt.date, cal: CalendarDef | None = None) -> bool:
    """An official working day (engine.calendar.UnknownYear for a year the calendar lacks, unless the
    office lists its days in the policy's `calendar:`)."""
    return _working(day.year, day.month, *_office_days(cal))[day]


def calendar_problem(doc, month: str) -> str | None:
    """Why the working days of `month` (and of its weeks' neighbouring days) cannot be known, or None."""
    if not uses_working_days(doc):
        return None
    from ..calendar import UnknownYear
    first, last = date_span(doc, month)
    for d in (first, last):
        try:
            is_working(d, doc.calendar)
        except UnknownYear:
            return (f"{d.year}年的法定节假日和调休安排（chinese-calendar 还没有该年的数据）："
                    f"请升级 chinese-calendar，或在考核细则的 calendar 中写明该年的节假日（holidays）和调休上班日（workdays）")
    return None


def uses_working_days(doc) -> bool:
    return any(r.records.days == "working" for r in records_rules(doc)) or \
        any(m.from_records is not None and m.from_records.days == "working" for m in doc.metrics.values())


def records_rules(doc) -> list:
    rules = [r for it in doc.items for r in it.rules] + (doc.bonus.rules if doc.bonus else [])
    return [r for r in rules if getattr(r, "records", None) is not None]


# --------------------------------------------------------------------------- aggregation


def _slot_minutes(rng: Interval) -> tuple[int, int, Interval]:
    """A slot's clock window in minutes after midnight, [lo, hi), and its interval of hours."""
    lo = rng.lo if rng.lo is not None else Decimal(0)
    hi = rng.hi if rng.hi is not None else Decimal(24)
    return int(lo * 60), int(hi * 60), rng


_DAY = 24 * 60


def day_values(series: RecordSeries, records: list[Record], first: dt.date, last: dt.date
               ) -> dict[dt.date, dict[str, Decimal]]:
    """date -> {"all": the day's value, <slot>: the slot's value} for every date in [first, last]."""
    slots = [(name, *_slot_minutes(rng)) for name, rng in (series.slots or {}).items()]
    names = ["all"] + [name for name, *_ in slots]
    span = (last - first).days + 1
    timed = series.measure in ("minutes", "hours")
    # totals[day index][k]: minutes (timed series) or values, k = 0 for the day, 1.. for each slot
    totals = [[0 if timed else Decimal(0)] * len(names) for _ in range(span)]
    for rec in records:
        if timed:
            # split at midnight and at slot edges, by the minute
            i = (rec.start.date() - first).days
            a = rec.start.hour * 60 + rec.start.minute
            length = int((rec.end - rec.start).total_seconds() // 60)
            while length > 0:
                piece = min(length, _DAY - a)
                if 0 <= i < span:
                    row = totals[i]
                    row[0] += piece
                    for k, (_, lo, hi, _rng) in enumerate(slots, 1):
                        overlap = min(a + piece, hi) - max(a, lo)
                        if overlap > 0:
                            row[k] += overlap
                length -= piece
                i, a = i + 1, 0
            continue
        i = (rec.day - first).days
        if not 0 <= i < span:
            continue
        value = Decimal(1) if series.measure == "count" else (rec.amount or Decimal(0))
        row = totals[i]
        row[0] += value
        if rec.start is not None and slots:
            hour = Decimal(rec.start.hour) + Decimal(rec.start.minute) / 60
            for k, (_, _lo, _hi, rng) in enumerate(slots, 1):
                if rng.contains(hour):
                    row[k] += value
    out: dict[dt.date, dict[str, Decimal]] = {}
    for i, row in enumerate(totals):
        if series.measure == "minutes":
            row = [Decimal(x) for x in row]
        elif series.measure == "hours":
            row = [(Decimal(x) / 60).quantize(Decimal("0.0001")) for x in row]
        out[first + dt.timedelta(days=i)] = dict(zip(names, row))
    return out


def _counted(day: dt.date, days: str, cal=None) -> bool:
    return days == "all" or is_working(day, cal)


class WorkerRecords:
    """A worker's records of the month, aggregated once per series."""

    def __init__(self, doc, month: str, records: list[Record]):
        self.doc, self.month = doc, month
        self.first, self.last = date_span(doc, month)
        self._values: dict[str, dict[dt.date, dict[str, Decimal]]] = {}
        self._records = records

    def values(self, series_id: str) -> dict[dt.date, dict[str, Decimal]]:
        got = self._values.get(series_id)
        if got is None:
            mine = [r for r in self._records if series_id in r.series]
            got = self._values[series_id] = day_values(self.doc.records[series_id], mine, self.first, self.last)
        return got

    def week_total(self, series_id: str, monday: dt.date, days: str) -> Decimal:
        vals = self.values(series_id)
        week = [monday + dt.timedelta(days=i) for i in range(7)]
        return sum((vals[d]["all"] for d in week if _counted(d, days, self.doc.calendar)), Decimal(0))

    def metric(self, f: FromRecords) -> Decimal:
        vals = self.values(f.series)
        days = [d for d in month_days(self.month) if _counted(d, f.days, self.doc.calendar)]
        if f.stat == "total":
            return sum((vals[d]["all"] for d in days), Decimal(0))
        if f.stat == "days_with":
            return Decimal(sum(1 for d in days if vals[d]["all"] > 0))
        if f.stat == "per_day":
            total = sum((vals[d]["all"] for d in days), Decimal(0))
            return half_up(total / len(days), f.decimals) if days else Decimal(0)
        weeks = month_weeks(self.month)
        total = sum((self.week_total(f.series, w, f.days) for w in weeks), Decimal(0))
        return half_up(total / len(weeks), f.decimals)

    def periods(self) -> dict[tuple[str, str, int], RecordPeriod]:
        """Each day (or week) of a series that a records rule of the policy checks, by (series, every, index)."""
        wanted = sorted({(r.records.series, r.records.every) for r in records_rules(self.doc)})
        out: dict[tuple[str, str, int], RecordPeriod] = {}
        for series_id, every in wanted:
            if every == "day":
                vals = self.values(series_id)
                days = {r.records.days for r in records_rules(self.doc)
                        if r.records.series == series_id and r.records.every == "day"}
                for d in month_days(self.month):
                    working = is_working(d, self.doc.calendar) if "working" in days else True
                    if working or "all" in days:   # a day no rule counts is no fact
                        out[(series_id, "day", d.day - 1)] = RecordPeriod(series_id, "day", d, working, vals[d], d.day - 1)
            else:
                for i, w in enumerate(month_weeks(self.month)):
                    values = {"all": self.week_total(series_id, w, "all")}
                    if any(r.records.days == "working" for r in records_rules(self.doc)
                           if r.records.series == series_id and r.records.every == "week"):
                        values["working"] = self.week_total(series_id, w, "working")
                    out[(series_id, "week", i)] = RecordPeriod(series_id, "week", w, True, values, i)
        return out


# --------------------------------------------------------------------------- worked examples


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(str(text).strip())


def example_dates(r, cal=None) -> list[dt.date]:
    """The dates an example record stands for (ValueError if they cannot be read)."""
    if r.date is not None:
        return [_date(r.date)]
    if r.dates is None:
        return []
    a, _, b = str(r.dates).partition("/")
    lo, hi = _date(a), _date(b)
    if hi < lo:
        raise ValueError(r.dates)
    out = []
    while lo <= hi:
        if r.days == "all" or is_working(lo, cal):
            out.append(lo)
        lo += dt.timedelta(days=1)
    return out


def example_clock(text) -> dt.time:
    h, _, m = str(text).strip().partition(":")
    return dt.time(int(h), int(m or 0))


def example_records(doc, ex) -> list[Record]:
    out = []
    for r in ex.records:
        # a row of the sheet belongs to every series whose types hold its type
        s = doc.records[r.series]
        series = tuple(sid for sid, other in doc.records.items() if set(other.types) & set(s.types))
        for d in example_dates(r, doc.calendar):
            start = dt.datetime.combine(d, example_clock(r.start)) if r.start is not None else None
            end = dt.datetime.combine(d, example_clock(r.end)) if r.end is not None else None
            out.append(Record(series, d, start, end, r.amount))
    return out


# --------------------------------------------------------------------------- checks


def check_series(ck: Checks) -> None:
    """The top-level `records:` declarations."""
    for sid, s in ck.doc.records.items():
        path = ["records", sid]
        day = Interval(Decimal(0), True, Decimal(24), False, "[0, 24)")
        names = list((s.slots or {}).items())
        for j, (name, rng) in enumerate(names):
            if not rng.overlaps(day):
                ck.add(path + ["slots", name], str(rng), "与一天的钟点 [0, 24) 有交集的区间")
            for other, rng2 in names[:j]:
                if rng.overlaps(rng2):
                    ck.add(path + ["slots", name], str(rng), f"与时段「{other}」{rng2} 不重叠的区间")


def check_from_records(ck: Checks, mid: str, m, path: list) -> None:
    f = m.from_records
    s = ck.doc.records.get(f.series)
    if s is None:
        ck.add(path + ["series"], f.series, "records 中声明的记录系列", "已声明：" + ("、".join(ck.doc.records) or "无"))
    if m.count_events is not None:
        ck.add(path, "from_records", "不与 count_events 同时使用（指标要么由事件计数，要么由记录统计）")
    if f.stat in ("per_day", "per_week") and m.type not in ("number",):
        ck.add(path[:-1] + ["type"], m.type, "number（平均数有小数）")
    elif m.type not in ("number", "integer"):
        ck.add(path[:-1] + ["type"], m.type, "number 或 integer")
    elif m.type == "integer" and f.stat == "total" and s is not None and s.measure not in ("count", "minutes"):
        ck.add(path[:-1] + ["type"], m.type, "number（按小时或数量合计可能有小数）")
    if not 0 <= f.decimals <= 4:
        ck.add(path + ["decimals"], f.decimals, "0 到 4 之间的整数")


# --------------------------------------------------------------------------- durable_rules facts


# A month has 28-31 days and 4 or 5 weeks (those whose Thursday it holds): conditions are compiled for
# every place a day or week can take, and a worker's fact carries the places the month has.
PLACES = {"day": 31, "week": 5}
# durable_rules walks the alpha nodes a fact meets on a stack of 64 (events.c MAX_STACK_SIZE; error 303
# beyond): the value checks a fact can meet at once (all of its places short), the attribute checks
# beside them and the chain above them must stay below that.  It also reads at most 255 properties
# of a fact (state.c MAX_OBJECT_PROPERTIES).  A worker's days and weeks take as many facts as needed.
ALPHA_STACK = 64
FACT_FIELDS = 200


class RecordFacts:
    """A worker's checked days and weeks as few durable_rules facts.

    Each day (or week) of a series is one place: day `i` of the month, or the month's week `i`.
    Its values travel as fields named after the group (series and every) and the place:
    `p<g>_<i>` (the day's or week's value), `p<g>_<i>w` (a week's working-day value), `p<g>_<i>s<j>`
    (slot j's value) and `p<g>_<i>d` (a working day: only when rules of the series count both
    working days and all days; otherwise the places written are the days the rules count).
    A records rule becomes one condition per place (and per slot and quota key), so that
    durable_rules still checks every day and week of every worker, and one fact carries many
    places: a fact per day or week cost more than the checks themselves (per fact the C engine
    stores, hashes and returns the message; measured 3x the time of packed facts).  The quota's
    attributes travel on each fact.
    """

    def __init__(self, doc, names):
        rules = records_rules(doc)
        self.active = bool(rules)
        self.attrs = sorted({r.records.quota.by for r in rules if isinstance(r.records.quota, QuotaBy)})
        self.attr_fields = [(a, names.attr[a]) for a in self.attrs if a in names.attr]
        self._slots = {sid: list(s.slots or {}) for sid, s in doc.records.items()}
        groups = sorted({(r.records.series, r.records.every) for r in rules})
        self.group = {key: g for g, key in enumerate(groups)}
        # per group: the value keys rules read with their field suffixes, whether places carry the
        # working-day flag, and how many value checks one place can meet at once
        self._reads: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self._flag: dict[tuple[str, str], bool] = {}
        self._checks: dict[tuple[str, str], int] = {}
        for key in groups:
            series, every = key
            mine = [r.records for r in rules if (r.records.series, r.records.every) == key]
            slots = self._slots[series]
            reads: dict[str, str] = {}
            for spec in mine:
                for name in (spec.slots or {}):
                    reads[name] = f"s{slots.index(name)}"
                if spec.slots is None:
                    value = self.value_key(spec)
                    reads[value] = "w" if value == "working" else ""
            self._reads[key] = list(reads.items())
            self._flag[key] = every == "day" and len({spec.days for spec in mine}) > 1
            self._checks[key] = sum(len(spec.slots) if spec.slots is not None else 1 for spec in mine)
        # the attribute checks under t=p a fact can meet (each quota's values and its default's first check)
        attr_checks = sum(len(r.records.quota.values) + (r.records.quota.default is not None)
                          for r in rules if isinstance(r.records.quota, QuotaBy))
        self.fact_checks = ALPHA_STACK - 8 - attr_checks   # 8: the root, t=p, a working-day check, margin
        self._layouts: dict[tuple, list] = {}
        self._flagged = any(self._flag.values())   # whether a layout depends on the working days

    @staticmethod
    def value_key(spec: RecordsRule) -> str:
        """Which value of a period a quota (not slot) rule checks."""
        return "working" if spec.every == "week" and spec.days == "working" else "all"

    def field(self, spec: RecordsRule, place: int, slot: str | None = None) -> str:
        g = self.group[(spec.series, spec.every)]
        if slot is not None:
            return f"p{g}_{place}s{self._slots[spec.series].index(slot)}"
        return f"p{g}_{place}" + ("w" if self.value_key(spec) == "working" else "")

    def working_terms(self, spec: RecordsRule, place: int) -> list[dict]:
        """The working-day condition of a place, when the places written are not all working days."""
        key = (spec.series, spec.every)
        if spec.every == "day" and spec.days == "working" and self._flag[key]:
            return [{f"p{self.group[key]}_{place}d": True}]
        return []

    def _layout(self, periods: dict) -> list[tuple[str, tuple[tuple[str, ...], ...]]]:
        """How a worker's places are written: per fact, a %-template (the attributes, then each value)
        and, for each of its places in turn (the periods in their order), the value keys that fill
        it.  It depends only on the places and their working days (the month and the calendar), so
        it is worked out once per month."""
        out: list = []
        parts, reads, checks, fields = ["%s"], [], 0, 4 + len(self.attr_fields)   # k, ei, t, sid, attributes
        for key, p in periods.items():
            group = (p.series, p.every)
            g_reads, n_checks = self._reads[group], self._checks[group]
            n_fields = len(g_reads) + self._flag[group]
            if reads and (checks + n_checks > self.fact_checks or fields + n_fields > FACT_FIELDS):
                out.append(("".join(parts), tuple(reads)))
                parts, reads, checks, fields = ["%s"], [], 0, 4 + len(self.attr_fields)
            name = f"p{self.group[group]}_{p.index}"
            parts += [f',"{name}{suffix}":%s' for _value, suffix in g_reads]
            if self._flag[group]:
                parts.append(f',"{name}d":{"true" if p.working else "false"}')
            reads.append(tuple(value for value, _suffix in g_reads))
            checks += n_checks
            fields += n_fields
        if reads:
            out.append(("".join(parts), tuple(reads)))
        return out

    def bodies(self, case) -> list[str]:
        """The worker's checked days and weeks as the fields of as few facts as durable_rules allows."""
        periods = case.periods
        # the places and, when a place carries its working-day flag, those flags: the same places in
        # another month (or a worked example scored by the same process) may fall on other working days
        key = (tuple(periods), tuple([p.working for p in periods.values()])) if self._flagged else tuple(periods)
        layout = self._layouts.get(key)
        if layout is None:
            if len(self._layouts) >= 64:
                self._layouts.clear()
            layout = self._layouts[key] = self._layout(periods)
        attrs = "".join(f',"{fld}":{_json_text("" if (v := case.attributes.get(a)) is None else str(v))}'
                        for a, fld in self.attr_fields)
        known = DOUBLES.get
        out = []
        # the places in the order of the periods (each template takes the next ones): no look-up of a
        # period by its key (a tuple, hashed afresh each time) and no map object per place
        places = iter(periods.values())
        for template, reads in layout:
            values = [p.values[v] for keys, p in zip(reads, places) for v in keys]
            texts = [known(v) for v in values]
            if None in texts:
                texts = [double_text(v) for v in values]
            out.append(template % (attrs, *texts))
        return out


@lru_cache(maxsize=4096)
def _json_text(s: str) -> str:
    return json.dumps(s)    # ASCII only, as every fact's text (engine/assessment.py _jstr)


# --------------------------------------------------------------------------- the rule form


class _Records(RuleKind):
    key = "records"
    title = "按日/按周记录"
    model = RecordsRule
    target = "p"

    def check(self, ck: Checks, rule, spec, path):
        p = path + [self.key]
        s = ck.doc.records.get(spec.series)
        if s is None:
            ck.add(p + ["series"], spec.series, "records 中声明的记录系列", "已声明：" + ("、".join(ck.doc.records) or "无"))
        if (spec.quota is None) == (spec.slots is None):
            ck.add(p, "quota 与 slots 都写了" if spec.quota is not None else None,
                   "quota（每天/每周定额）与 slots（各时段定额）二选一")
        if spec.slots is not None:
            if spec.every != "day":
                ck.add(p + ["slots"], list(spec.slots), "不填（分时段定额只用于 every: day）")
            for name, q in spec.slots.items():
                if s is not None and name not in (s.slots or {}):
                    ck.add(p + ["slots", name], name, "记录系列中声明的时段之一：" + ("、".join(s.slots or {}) or "（未声明时段）"))
                ck.positive(q, p + ["slots", name], "定额")
        if spec.quota is not None:
            check_quota(ck, spec.quota, None, p + ["quota"])
            for qpath, q in ([([], spec.quota)] if not isinstance(spec.quota, QuotaBy) else
                             [(["values", k], v) for k, v in spec.quota.values.items()]
                             + ([(["default"], spec.quota.default)] if spec.quota.default is not None else [])):
                ck.positive(q, p + ["quota"] + qpath, "定额")
        ck.positive(spec.points, p + ["points"])
        ck.positive(spec.per, p + ["per"], "单位")
        ck.positive(spec.period_cap, p + ["period_cap"], "上限")

    def conditions(self, spec, ctx):
        """One condition per place (day of the month, week of the month) and slot (and quota key):
        [t=p, the quota's attribute, value < quota, a working day] (see RecordFacts)."""
        facts = ctx.periods
        out = []
        for place in range(PLACES[spec.every]):
            working = facts.working_terms(spec, place)
            if spec.slots is None:
                conds = quota_conditions(spec.quota, [{"t": "p"}], facts.field(spec, place), ctx.names)
            else:
                conds = [c for j, (name, q) in enumerate(spec.slots.items())
                         for c in quota_conditions(q, [{"t": "p"}], facts.field(spec, place, name), ctx.names, tier=j)]
            out += [c._replace(terms=c.terms + working, place=place) for c in conds]
        return out

    def placeholders(self, spec, doc):
        return ["日期", "记录", "情形", "计分方式", "封顶", "单位"]

    def default_reason(self, spec, doc):
        return "{日期}{记录}{情形}，{计分方式}{封顶}，{得扣}{分值}分"

    def plan(self, doc, rule, spec):
        s = doc.records[spec.series]
        unit = s.unit_text
        per = f"{n(spec.per)}{unit}" if spec.per is not None else None
        what = "时段" if spec.slots is not None else ("天" if spec.every == "day" else "周")
        how = (f"每差{per}{{verb}}{n(spec.points)}分" + ("" if spec.partial == "up" and spec.per == 1 else
                                                          f"（{PARTIAL_TEXT[spec.partial].format(per=per)}）")
               if per is not None else f"每{what}不足{{verb}}{n(spec.points)}分")
        cap = f"，每{'天' if spec.every == 'day' else '周'}最多{{verb}}{n(spec.period_cap)}分" \
            if spec.period_cap is not None else ""
        slots = list((spec.slots or {}).items())
        return {"label": s.label, "unit": unit, "how": how, "cap": cap, "slots": slots,
                "each": "每天" if spec.every == "day" else "每周", "value": RecordFacts.value_key(spec), "memo": {},
                "dates": {}, "slot_keys": [name for name, _q in slots]}

    def findings(self, rp, matches, case, msrc):
        spec, k = rp.spec, rp.k
        by_place: dict[int, list] = {}
        for cr, _h in matches:
            got = by_place.get(cr.place)
            if got is None:
                by_place[cr.place] = [cr]
            else:
                got.append(cr)
        words = k.get("words")
        if words is None:   # the plan's fixed words, with this rule's verb (扣/得), once
            words = k["words"] = (k["how"].format(verb=rp.verb), k["cap"].format(verb=rp.verb))
        memo, periods, label, unit, dates = k["memo"], case.periods, k["label"], k["unit"], k["dates"]
        series, every, cap = spec.series, spec.every, spec.period_cap
        slot_keys, value_key = k["slot_keys"], k["value"]
        fill, made, points_of = rp.fill, rp._made, rp._points
        out = []
        for place in sorted(by_place):   # date order
            period = periods[(series, every, place)]
            vals = period.values
            crs = by_place[place]
            if len(crs) > 1:
                crs.sort(key=_tier)
            shorts = []
            for cr in crs:
                value = vals[slot_keys[cr.tier] if cr.tier is not None else value_key]
                got = memo.get((cr.index, value), _UNSEEN)   # a slot's value below its quota recurs: said once
                if got is _UNSEEN:
                    got = self._short(spec, k, cr, case, value)
                    if len(memo) < 10_000:
                        memo[(cr.index, value)] = got
                if got is not None:
                    shorts.append(got)
            if not shorts:
                continue
            if len(shorts) == 1:   # one slot (or the quota) short, the usual case: its memo entry says it all
                total, value_name, value_text, quota_key, quota_text, situation = shorts[0]
                total = ZERO + total   # as the sum below makes it (the same Decimal, exponent included)
                values = {value_name: value_text, quota_key: quota_text}
            else:
                parts, total, values = [], ZERO, {}
                for pts, value_name, value_text, quota_key, quota_text, part in shorts:
                    total += pts
                    values[value_name] = value_text
                    values[quota_key] = quota_text
                    parts.append(part)
                situation = "、".join(parts)
            capped = cap is not None and total >= cap   # the cap is said once reached
            date = dates.get(period.start)
            if date is None:   # the day's (week's) two texts, once per rule and date
                if len(dates) >= 1024:
                    dates.clear()
                date = dates[period.start] = (_iso(period.start), _period_text(period.every, period.start))
            values["日期"] = date[0]
            texts = {"日期": date[1], "记录": label, "情形": situation,
                     "单位": unit, "计分方式": words[0], "封顶": words[1] if capped else ""}
            pts = points_of(min(total, cap) if capped else total)   # rp.finding, written out
            out.append(made(pts, values, fill(values, texts, pts[2]), None, None))
        return out

    @staticmethod
    def _short(spec, k, cr, case, value) -> tuple | None:
        """What one slot (or quota) below its quota gives: (points, value key, value, quota key, quota,
        words), or None when the shortfall rounds to no points.  The quota is the condition's own
        (its slot, or its quota key), so the same value of the same condition always gives the same."""
        unit = k["unit"]
        if spec.slots is not None:
            where, quota = k["slots"][cr.tier]
        else:
            quota, _who = quota_for(spec.quota, case.attributes, cr.quota_key)
            where = ""
        short = quota - value
        if spec.per is None:
            pts = spec.points
        else:
            pts = round_units(short / spec.per, spec.partial) * spec.points
            if spec.partial == "exact":
                pts = half_up(pts)
        if pts <= 0:
            return None
        if where:
            part = f"{where}{n(value)}{unit}（应不少于{n(quota)}{unit}）"
        else:
            part = f"{n(value)}{unit}，低于{k['each']}{n(quota)}{unit}，差{n(short)}{unit}"
        return (pts, where or "数值", n(value), (where + "定额") if where else "定额", n(quota), part)

    def demo_role(self, spec):
        return ("records", spec)


_UNSEEN = object()


def _tier(cr) -> int:
    return cr.tier or 0


@lru_cache(maxsize=1024)
def _iso(d: dt.date) -> str:
    return d.isoformat()


@lru_cache(maxsize=1024)
def _period_text(every: str, d: dt.date) -> str:
    if every == "day":
        return f"{d.month}月{d.day}日"
    end = d + dt.timedelta(days=6)
    return f"{d.month}月{d.day}日至{end.month if end.month != d.month else ''}{'月' if end.month != d.month else ''}{end.day}日这一周"


KIND = _Records()
