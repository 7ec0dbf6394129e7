"""The three monthly inputs an office keeps: worker register, metrics sheet, event log.

Each is a CSV or XLSX with English or Chinese headers (docs/inputs.md).  `read_month`
checks them against a policy and returns one `WorkerCase` per worker, or raises DataError
with every problem of all three files at once.
"""
from __future__ import annotations

import gc
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

from .assessment import EventCase, WorkerCase
from .beside import beside
from .errors import RECORDS_FIELD, DataError, Problem, ProblemList
from .intervals import Interval
from .kinds.event import cutoff, earlier_event_uses, make_event, needs_other_months, problem_keys_used, stage_names
from .kinds.event import event_matches  # noqa: F401  (engine.inputs.event_matches: its first home)
from .kinds.records import Record, calendar_problem, date_span, month_days, neighbour_days, records_rules
from .policy import EventVocabulary, MetricDef, Policy, PolicyDoc, coerce_metric
from .periods.months import month_add, month_label
from .policy_values import QuotaBy
from .prepare import prepare_case
from .sources import Row, parse_decimal_cell, read_table

WORKER_COLUMNS = {
    "worker_id": ["工号", "编号", "人员编号", "网格员编号", "id"],
    "name": ["姓名", "网格员", "网格员姓名"],
    "town": ["乡镇", "街道", "乡镇街道", "乡镇/街道", "镇街"],
    "community": ["社区", "村", "村社区", "社区/村", "村/社区"],
    "grid": ["网格", "网格编号", "所属网格"],
    "role": ["岗位", "角色", "职务"],
    "employment": ["用工性质", "专兼职", "专职/兼职", "类型"],
    "wage": ["月工资", "工资", "月工资（元）", "月工资(元)", "基本工资"],
    "phone": ["电话", "联系电话", "手机", "手机号"],
    "id_number": ["身份证号", "身份证号码", "身份证"],
    "duties": ["职责", "工作职责"],
}
WORKER_REQUIRED = ["worker_id", "name", "town", "community", "grid"]
MAX_WAGE = 10_000_000   # yuan a month, when the policy has no pay (and so no wage bounds of its own)
PARALLEL_READ_BYTES = 2_000_000   # a register file under this (about 20,000 rows) is read in one process

METRIC_BASE_COLUMNS = {
    "worker_id": ["工号", "编号", "人员编号", "网格员编号", "id"],
    "month": ["月份", "考核月份"],
    "name": ["姓名"],  # tolerated for readability, checked against the register
}

EVENT_COLUMNS = {
    "event_id": ["事件编号", "编号", "事件号", "id"],
    "worker_id": ["工号", "网格员工号", "网格员编号", "人员编号", "上报人工号"],
    "category": ["类别", "事件类别", "类型"],
    "severity": ["等级", "事件等级", "紧急程度", "级别"],
    "discovered": ["发现时间"],
    "reported": ["上报时间"],
    "closed": ["办结时间", "结案时间"],
    "name": ["姓名", "网格员"],
    "description": ["描述", "事件描述", "内容", "备注"],
}
EVENT_REQUIRED = ["event_id", "worker_id", "category", "severity", "discovered"]

_TS_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M",
               "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y年%m月%d日 %H:%M", "%Y年%m月%d日%H:%M", "%Y年%m月%d日 %H时%M分"]


@dataclass
class WorkerInfo:
    worker_id: str
    name: str
    town: str
    community: str
    grid: str
    role: str
    employment: str
    wage: Decimal | None
    attributes: dict[str, str]
    phone: str = ""
    id_number: str = ""
    duties: str = ""
    source: tuple[str, int] = ("", 0)


@dataclass
class MonthInputs:
    month: str
    workers: list[WorkerInfo]
    cases: list[WorkerCase]
    metric_rows: list[tuple[str, int] | None]          # source of each worker's metrics row
    event_times: list[list[datetime]] = field(default_factory=list)   # discovered, per case event
    files: dict[str, str] = field(default_factory=dict)
    no_events: bool = False          # the caller stated that the month had no events
    notes: list[str] = field(default_factory=list)    # what the clerk should know (Chinese), not a problem


_TS_FAST = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")


def parse_timestamp(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return _parse_timestamp_text(str(value).strip())


@lru_cache(maxsize=1 << 17)
def _parse_timestamp_text(text: str) -> datetime:
    """A timestamp's text -> datetime, remembered: a platform's log repeats its minutes (a month has
    44,640 of them; a 400,000-event log reads each about ten times), and datetimes are immutable."""
    m = _TS_FAST.match(text)   # the usual shapes without strptime (10x faster on a year of events)
    if m:
        y, mo, d, h, mi, sec = m.groups()
        try:
            return datetime(int(y), int(mo), int(d), int(h), int(mi), int(sec or 0))
        except ValueError:
            raise ValueError(text)
    for fmt in _TS_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError(text)


def read_workers(path: str | Path, policy: Policy) -> list[WorkerInfo]:
    workers, problems = _read_workers(path, policy)
    problems.raise_if_any(DataError)
    return workers


def read_register(path: str | Path) -> list[WorkerInfo]:
    """The register alone, for what needs no policy (grid boards, contact cards): ids, names,
    places, role, phone, id number, duties; policy attributes and wages are not checked."""
    workers, problems = _read_workers(path, None)
    problems.raise_if_any(DataError)
    return workers


def _read_workers(path: str | Path, policy: Policy | None) -> tuple[list[WorkerInfo], ProblemList]:
    """The register and its problems; rows with problems are still returned when they have an id,
    so the other files can be checked against it in the same pass."""
    attributes = policy.doc.attributes if policy is not None else {}
    pay = policy.doc.pay if policy is not None else None
    needs_wage = pay is not None
    extra = {name: [a.label] for name, a in attributes.items()}
    problems = ProblemList()
    rows, present = read_table(path, WORKER_COLUMNS, required=WORKER_REQUIRED + [a for a, d in attributes.items()
                                                                                   if d.default is None],
                               extra=extra, keep_unknown=True, problems=problems, merged="fill")
    out: list[WorkerInfo] = []
    seen: dict[str, int] = {}
    for r in rows:
        wid = _text(r.get("worker_id"))
        if not wid:
            problems.add(r.file, r.row, "工号", None, "非空的工号")
            continue
        duplicate = wid in seen
        if duplicate:
            problems.add(r.file, r.row, "工号", wid, "唯一的工号", f"与第 {seen[wid]} 行重复")
        else:
            seen[wid] = r.row
        for col, label in (("name", "姓名"), ("town", "乡镇/街道"), ("community", "社区/村"), ("grid", "网格")):
            if not _text(r.get(col)) and col not in r.flagged:
                problems.add(r.file, r.row, label, None, "非空的" + label)
        wage = None
        if r.get("wage") is not None:
            try:
                wage = parse_decimal_cell(r.get("wage"))
                if wage < 0 or wage.as_tuple().exponent < -2:
                    raise ValueError
            except ValueError:
                problems.add(r.file, r.row, "月工资", r.get("wage"), "不小于 0、最多两位小数的金额（元）")
                wage = None
            if wage is not None and pay is not None and not pay.wage_min <= wage <= pay.wage_max:
                low = wage < pay.wage_min
                problems.add(r.file, r.row, "月工资", r.get("wage"),
                             f"{_yuan(pay.wage_min)} 到 {_yuan(pay.wage_max)} 元之间的月工资（考核细则 pay.wage_min、pay.wage_max）",
                             ("可能按千元或万元填写了（如 3.4 应为 3400）" if low else "可能按分填写了，或多打了 0")
                             + "；金额确实如此时，请在考核细则中调整 " + ("pay.wage_min" if low else "pay.wage_max"))
                wage = None
            elif wage is not None and wage > MAX_WAGE:
                problems.add(r.file, r.row, "月工资", r.get("wage"), f"不超过 {MAX_WAGE:,} 元的月工资", "检查单位和小数点")
                wage = None
        elif needs_wage and "wage" not in r.flagged:
            problems.add(r.file, r.row, "月工资", None, "月工资金额（计算绩效工资需要）")
        attrs: dict[str, str] = {}
        for name, a in attributes.items():
            val = _text(r.get(name)) or a.default
            if val is None:
                problems.add(r.file, r.row, a.label, None, f"{a.label}（考核细则中的人员属性）")
                continue
            if a.values is not None and val not in a.values:
                problems.add(r.file, r.row, a.label, val, "以下之一：" + "、".join(a.values))
            attrs[name] = val
        if duplicate:
            continue  # its other cells were still checked above
        out.append(WorkerInfo(wid, _text(r.get("name")), _text(r.get("town")), _text(r.get("community")),
                              _text(r.get("grid")), _text(r.get("role")), _text(r.get("employment")), wage, attrs,
                              _text(r.get("phone")), _text(r.get("id_number")), _text(r.get("duties")),
                              (r.file, r.row)))
    if not rows:
        problems.add(str(path), None, "名册", None, "至少一名网格员")
    return out, problems


def _yuan(d: Decimal) -> str:
    """3400 -> '3,400', 1650.5 -> '1,650.50' (bounds as a clerk writes money)."""
    return f"{d:,.0f}" if d == d.to_integral_value() else f"{d:,.2f}"


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()


def read_month(policy: Policy, month: str, workers: str | Path, metrics: str | Path,
               events: str | Path | None, records: str | Path | None = None, *,
               no_events: bool = False) -> MonthInputs:
    """Read and check the month's files (register, metrics, event log, records sheet when the policy
    counts dated records); all problems of all files are raised together.

    A policy that counts events needs the event log: without one (`events=None`) every event
    quota would be short for everyone, so that is a problem unless the caller states that the
    month had no events (`no_events=True`).  A log whose events all lie in other months is a
    problem too (last month's file by mistake), unless `no_events` says so; with `no_events` a
    log holding an event of the month is a problem.
    """
    # reading makes millions of objects and no garbage cycles: the collector would only walk them
    # again and again (a sixth of reading a 20,000-worker month)
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _read_month(policy, month, workers, metrics, events, records, no_events)
    finally:
        if collecting:
            gc.enable()


def _read_month(policy: Policy, month: str, workers, metrics, events, records, no_events: bool) -> MonthInputs:
    problems = ProblemList()

    def read_register_and_metrics():
        try:
            register, reg_problems = _read_workers(workers, policy)
            reg_problems = reg_problems.problems
        except DataError as exc:   # unreadable file or header problems: nothing to check against
            register, reg_problems = [], exc.problems
        try:
            got = _read_metrics(metrics, policy, month, register)
        except DataError as exc:
            got = exc              # (returned: it is this file's problems, reported with the others)
        return register, reg_problems, got

    # A large month's register and metrics sheet are read by a second process while this one reads
    # the event log (the longest of the three); the log's worker ids are checked against the
    # register once it is here, each problem in the place it would have had in one process.
    event_map: dict[str, list[tuple[EventCase, datetime]]] = {}
    event_problems: list[Problem] = []
    with beside(read_register_and_metrics, parallel=_large(workers), doing="读取名册和指标表") as reading:
        if events is not None:
            try:
                event_map = _read_events(events, policy, month, lambda: reading.wait()[0], no_events)
            except DataError as exc:
                event_problems = exc.problems
        register, reg_problems, got = reading.wait()
    problems.extend(reg_problems)
    if isinstance(got, DataError):
        problems.extend(got.problems)
        metric_values, metric_src, metric_cols = {}, {}, set()
        metrics_read = False
    else:
        metric_values, metric_src, metric_cols, mprobs = got
        problems.extend(mprobs.problems)
        metrics_read = True
    problems.extend(event_problems)
    if events is None and not no_events and (uses := event_uses(policy.doc)):
        more = f" 等 {len(uses)} 项" if len(uses) > 3 else ""
        problems.add("事件台账", None, "文件", None,
                     f"{month} 的事件台账（本细则按事件计分：{'、'.join(uses[:3])}{more}）",
                     "不提供台账，这些项目都会按本月没有任何事件计算（如录入定额会给每个人扣分）；" + NO_EVENTS_SAID)
    notes: list[str] = []
    record_map = _read_records_into(problems, notes, records, policy, month, register)
    # per-worker rows are looked for only when the sheet could be read and holds this month at all
    metrics_readable = metrics_read and not any(p.file == str(metrics) and p.line is None for p in problems.problems)

    doc = policy.doc
    cases, srcs, times = [], [], []
    needs_row = any(m.default is None and not m.computed for m in doc.metrics.values())
    for w in register:
        vals = dict(metric_values.get(w.worker_id, {}))
        evs = event_map.get(w.worker_id, [])
        if needs_row and metrics_readable and w.worker_id not in metric_src:
            problems.add(str(metrics), None, "工号", w.worker_id,
                         f"名册中的 {w.worker_id}（{w.name}）在指标表中有一行 {month} 的数据", "未设默认值的指标必须填写")
        for mid, m in doc.metrics.items():
            if not m.computed and mid not in vals and m.default is not None:
                vals[mid] = coerce_metric(m, m.default)
        # counted metrics, the events that count this month, record periods (engine/prepare.py)
        case = prepare_case(policy, month, w.worker_id, w.attributes, vals, [ev for ev, _ in evs],
                            record_map.get(w.worker_id, []) if record_map is not None else None)
        cases.append(case)
        times.append([ev.times["discovered"] for ev in case.events])
        srcs.append(metric_src.get(w.worker_id))
    problems.raise_if_any(DataError)
    files = {"workers": str(workers), "metrics": str(metrics)}
    if events is not None:
        files["events"] = str(events)
    if records is not None:
        files["records"] = str(records)
    if events is not None and not no_events:
        notes[:0] = _earlier_months_note(doc, month, event_map)
    return MonthInputs(month, register, cases, srcs, times, files, no_events, notes)


def _earlier_months_note(doc: PolicyDoc, month: str, event_map: dict) -> list[str]:
    """A log of the scored month alone, under a policy that also counts earlier months' events (their
    deadline passes, or they are reported or closed, this month; the same problem again): not an error
    (an office's first month has no earlier log), but said, so that the log's missing month is not
    taken for a month without such events."""
    uses = earlier_event_uses(doc)
    if not uses:
        return []
    before = month_add(month, -1)
    first = cutoff(before)
    if any(disc < first for evs in event_map.values() for _, disc in evs):
        return []
    more = f"等 {len(uses)} 项" if len(uses) > 3 else ""
    return [f"事件台账中没有{month_label(month)}以前发现的事件，而“{'”“'.join(uses[:3])}”{more}也计入此前发现的事件"
            f"（在本月上报或办结、在本月逾期、同一问题连续出现）：请在台账中一并提供{month_label(before)}的事件，"
            "否则这些情形按没有发生计算"]


def _large(workers) -> bool:
    """Whether a month is worth reading on two processes, judged by its register file's size."""
    try:
        return os.path.getsize(workers) >= PARALLEL_READ_BYTES
    except (OSError, TypeError, ValueError):
        return False        # (an unreadable register is reported by the reading)


NO_EVENTS_SAID = "本月确实没有事件时，请提供只有表头的空台账，或注明“本月无事件”"


def event_uses(doc: PolicyDoc) -> list[str]:
    """Labels of what the policy computes from the event log: counted metrics, event rules."""
    return [m.label for m in doc.metrics.values() if m.count_events is not None] + \
        [r.label for r in _rules(doc) if r.event is not None]


def _rules(doc: PolicyDoc) -> list:
    """Every rule of the items and the bonus."""
    return [r for it in doc.items for r in it.rules] + (doc.bonus.rules if doc.bonus else [])


def _read_metrics(path, policy: Policy, month: str, register: list[WorkerInfo]):
    doc = policy.doc
    stored = {mid: m for mid, m in doc.metrics.items() if not m.computed}
    # counted metrics are recognised too, so that a column for one gets its own message
    extra = {mid: [m.label] + ([f"{m.label}（{m.unit}）", f"{m.label}({m.unit})"] if m.unit else [])
             for mid, m in doc.metrics.items()}
    problems = ProblemList()
    rows, present = read_table(path, METRIC_BASE_COLUMNS, required=["worker_id"], extra=extra, problems=problems)
    for mid in present:
        m = doc.metrics.get(mid)
        if m is not None and m.computed:
            source = "事件台账按条件计数" if m.count_events is not None else "记录表统计"
            problems.add(str(path), 1, "表头", m.label, f"不含此列（「{m.label}」由{source}，不在指标表中填写）",
                         "请删除此列")
    known = {w.worker_id: w for w in register}
    values: dict[str, dict[str, Any]] = {}
    src: dict[str, tuple[str, int]] = {}
    for mid, m in stored.items():
        if mid not in present and m.default is None:
            problems.add(str(path), 1, "表头", None, f"包含指标列「{m.label}」（或 {mid}）", "未设默认值的指标必须有一列")
    months_seen: set[str] = set()
    # percent columns that may be fractions (0.97 for 97%): metric id -> (row, raw, value) of the month
    suspect = {mid: thresholds for mid in present if (m := stored.get(mid)) is not None and m.type == "percent"
               and m.scale is None and (thresholds := _fraction_suspect_thresholds(doc, mid))}
    percent_values: dict[str, list[tuple[int, Any, Decimal]]] = {mid: [] for mid in suspect}
    coerced = _Coerced()
    for r in rows:
        if "month" in present:
            rm = _month_cell(r.get("month"))
            if rm is None:
                problems.add(r.file, r.row, "月份", r.get("month"), "月份，如 2026-10、2026/10 或 2026年10月")
                continue
            months_seen.add(rm)
            if rm != month:
                continue  # other months in the same sheet are not this run's business
        wid = _text(r.get("worker_id"))
        if not wid:
            problems.add(r.file, r.row, "工号", None, "非空的工号")
            continue
        if register and wid not in known:
            problems.add(r.file, r.row, "工号", wid, "名册中已有的工号")
            continue
        if wid in src:
            problems.add(r.file, r.row, "工号", wid, "每人每月一行", f"与第 {src[wid][1]} 行重复")
            continue
        src[wid] = (r.file, r.row)
        vals = {}
        for mid in present:   # the file's column order, so messages read left to right
            m = stored.get(mid)
            if m is None or mid in r.flagged:
                continue
            raw = r.get(mid)
            if raw is None:
                if m.default is None:
                    problems.add(r.file, r.row, m.label, None, f"数值（{m.label}未设默认值，不能留空）")
                    continue
                raw = m.default
            elif m.scale == "fraction":
                try:
                    raw = _fraction_as_percent(raw, m)
                except ValueError as e:
                    problems.add(r.file, r.row, m.label, raw, str(e))
                    continue
            try:
                vals[mid] = coerced(m, mid, raw)
            except ValueError as e:
                problems.add(r.file, r.row, m.label, raw, str(e))
                continue
            if mid in percent_values and r.get(mid) is not None:
                percent_values[mid].append((r.row, r.get(mid), vals[mid]))
        values[wid] = vals
    for mid, seen in percent_values.items():
        if _looks_like_fractions(seen):
            row, raw, _ = next((x for x in seen if 0 < x[2] < 1), None) or next(x for x in seen if x[2] > 0)
            bounds = "、".join(format(t.normalize(), "f") for t in suspect[mid][:4]) + ("…" if len(suspect[mid]) > 4 else "")
            problems.add(str(path), None, stored[mid].label,
                         f"全部 {len(seen)} 个数值都在 0 到 1 之间（如第 {row} 行的 {raw}）",
                         f"0 到 100 的百分数（97 表示 97%；考核细则对此指标的界限是 {bounds}，都远大于 1）",
                         "平台导出的可能是小数（0.97 表示 97%）：请把此列乘以 100 后重新提供，"
                         f"或在考核细则中为指标 {mid} 写 scale: fraction；若本月数值确实都不超过 1%，写 scale: percent")
    if "month" in present and not src and months_seen:
        # one problem instead of one per worker: the sheet holds other months only
        problems.add(str(path), None, "月份", "、".join(sorted(months_seen)), f"包含 {month} 的数据行",
                     "月份列中没有本月")
    return values, src, set(present), problems


class _Coerced:
    """coerce_metric, remembered per metric and cell text: a sheet of 100,000 rows holds few distinct
    values per column (counts, rates), and the result (a Decimal or bool, or the reason it does not
    fit) depends on nothing else."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, Any], Any] = {}

    def __call__(self, m: MetricDef, mid: str, raw: Any) -> Any:
        key = (mid, raw) if isinstance(raw, str) else None
        got = self.seen.get(key) if key else None
        if got is None:
            try:
                got = coerce_metric(m, raw)
            except ValueError as exc:
                got = exc
            if key:
                self.seen[key] = got
        if isinstance(got, ValueError):
            raise ValueError(str(got))
        return got


FRACTION_GAP = Decimal(10)   # every threshold of a percent metric at least this: a column in [0, 1] is suspect


def _fraction_suspect_thresholds(doc: PolicyDoc, mid: str) -> list[Decimal]:
    """The policy's thresholds for a percent metric (tier and veto bounds, quotas), sorted, when all
    of them are far above 1 (so values in [0, 1] are below every one); [] otherwise."""
    found: list[Decimal | None] = []
    for r in _rules(doc):
        if r.tiers is not None and r.tiers.metric == mid:
            found += [b for t in r.tiers.tiers for b in (t.range.lo, t.range.hi)]
        if r.shortfall is not None and r.shortfall.metric == mid:
            q = r.shortfall.quota
            found += [*q.values.values(), q.default] if isinstance(q, QuotaBy) else [q]
    for v in doc.vetoes:
        if v.metric == mid and v.range is not None:
            found += [v.range.lo, v.range.hi]
    thresholds = sorted({t for t in found if t is not None and t != 0})
    return thresholds if thresholds and thresholds[0] >= FRACTION_GAP else []


def _looks_like_fractions(seen: list[tuple[int, Any, Decimal]]) -> bool:
    """Every value of the month in [0, 1], one above 0, none written with a % sign."""
    return (any(v > 0 for _, _, v in seen) and all(0 <= v <= 1 for _, _, v in seen)
            and not any(_written_as_percent(raw) for _, raw, _ in seen))


def _written_as_percent(raw: Any) -> bool:
    """'97%' in a CSV, or an .xlsx number formatted as a percent (read as '97%')."""
    return isinstance(raw, str) and raw.rstrip().endswith(("%", "％"))


def _fraction_as_percent(raw: Any, m: MetricDef) -> Any:
    """A cell of a `scale: fraction` column as a percent: 0.97 -> 97; a cell written (or, in an .xlsx,
    formatted) as 97% is a percent already."""
    if _written_as_percent(raw):
        return raw
    expected = f"0 到 1 之间的小数（{m.label}：考核细则写明 scale: fraction，0.97 表示 97%）"
    try:
        d = parse_decimal_cell(raw)
    except ValueError:
        raise ValueError(expected)
    if not 0 <= d <= 1:
        raise ValueError(expected)
    d = (d * 100).normalize()
    return d.quantize(Decimal(1)) if d.as_tuple().exponent > 0 else d


def _month_cell(value: Any) -> str | None:
    """'2026-10', '2026/10', '2026年10月', '2026-10-01' or a date cell -> '2026-10'; None if not a month."""
    if isinstance(value, datetime):
        return f"{value.year:04d}-{value.month:02d}"
    text = _text(value).replace("/", "-").replace("年", "-").replace("月", "").replace(".", "-")
    m = re.match(r"^(\d{4})-(\d{1,2})(?:-\d{1,2}(?:日)?)?$", text)
    if not m or not 1 <= int(m.group(2)) <= 12:
        return None
    return f"{m.group(1)}-{int(m.group(2)):02d}"


def _read_events(path, policy: Policy, month: str, register: Callable[[], list[WorkerInfo]],
                 no_events: bool = False):
    """The month's events by worker id.  `register()` gives the register (it may be being read
    beside): the worker ids are checked against it when the log has been read."""
    doc = policy.doc
    problems = ProblemList()
    rows, present = read_table(path, EVENT_COLUMNS, required=EVENT_REQUIRED, problems=problems,
                               extra=event_extra_columns(policy))
    to_check: list[tuple[int, int, str]] = []     # (place among the problems, row, worker id)
    vocab = doc.events
    days = (vocab or EventVocabulary()).max_days_after_month
    year, mon = map(int, month.split("-"))
    last_day = date(year + mon // 12, mon % 12 + 1, 1) - timedelta(days=1)
    latest = last_day + timedelta(days=days)        # a report or closing after this day is a typed date
    out: dict[str, list[tuple[EventCase, datetime]]] = {}
    seen: dict[str, int] = {}
    other_months: set[str] = set()
    of_month: list[int] = []        # rows of this month (or whose month is unknown)
    # per log, not per row (a province's log has 400,000 rows): the time columns, whether events of
    # earlier months can count (event_counts_in), each distinct time's text parsed once
    stages = stage_columns(policy)
    time_columns = (("discovered", "发现时间"), ("reported", "上报时间"), ("closed", "办结时间")) + stages
    earlier_count, end = needs_other_months(doc), cutoff(month)
    stamps: dict[Any, datetime] = {}
    discovered: dict[Any, tuple[str, bool]] = {}    # a discovery time's text -> (its month, whether it counts)
    for r in rows:
        cells = r.values               # read_table's text is stripped already: _text() of it is itself
        eid, wid = cells.get("event_id"), cells.get("worker_id")
        eid = eid if type(eid) is str else _text(eid)
        wid = wid if type(wid) is str else _text(wid)
        bad = False
        disc_raw = cells.get("discovered")
        disc_month = None
        counts = False
        try:
            if disc_raw is not None:
                known_disc = discovered.get(disc_raw)
                if known_disc is None:
                    found = stamps.get(disc_raw) or stamps.setdefault(disc_raw, parse_timestamp(disc_raw))
                    m = _month_of(found)
                    known_disc = discovered[disc_raw] = (m, m == month or (earlier_count and found < end))
                disc_month, counts = known_disc                 # counts: event_counts_in
                if disc_month != month:
                    other_months.add(disc_month)
                if not counts:
                    if eid:   # ids stay unique over the whole log; nothing else of another month is checked
                        if eid in seen:
                            problems.add(r.file, r.row, "事件编号", eid, "唯一的事件编号", f"与第 {seen[eid]} 行重复")
                        seen.setdefault(eid, r.row)
                    continue
        except ValueError:
            pass              # reported below
        if disc_month in (None, month):
            of_month.append(r.row)
        if not eid:
            problems.add(r.file, r.row, "事件编号", None, "非空的事件编号")
            bad = True
        elif eid in seen:
            problems.add(r.file, r.row, "事件编号", eid, "唯一的事件编号", f"与第 {seen[eid]} 行重复")
            bad = True
        else:
            seen[eid] = r.row
        to_check.append((len(problems.problems), r.row, wid))
        cat, sev = cells.get("category"), cells.get("severity")
        cat = cat if type(cat) is str else _text(cat)
        sev = sev if type(sev) is str else _text(sev)
        if vocab and vocab.categories is not None and cat not in vocab.categories:
            problems.add(r.file, r.row, "类别", cat or None, "以下之一：" + "、".join(vocab.categories))
            bad = True
        if vocab and vocab.severities is not None and sev not in vocab.severities:
            problems.add(r.file, r.row, "等级", sev or None, "以下之一：" + "、".join(vocab.severities))
            bad = True
        times = {}
        for col, label in time_columns:
            raw = cells.get(col)
            if col in r.flagged:
                bad = True
                continue
            if raw is None:
                if col == "discovered":
                    problems.add(r.file, r.row, label, None, "时间，如 2026-10-05 14:30")
                    bad = True
                continue
            try:
                times[col] = stamps.get(raw) or stamps.setdefault(raw, parse_timestamp(raw))
            except ValueError:
                problems.add(r.file, r.row, label, raw, "时间，如 2026-10-05 14:30")
                bad = True
        rep, clo = times.get("reported"), times.get("closed")
        disc = times.get("discovered")
        if disc is not None and rep is not None and rep < disc:
            problems.add(r.file, r.row, "上报时间", str(r.get("reported")), f"不早于发现时间 {disc:%Y-%m-%d %H:%M}")
            bad = True
        if clo is not None and rep is None:
            problems.add(r.file, r.row, "上报时间", None, "已办结的事件应有上报时间")
            bad = True
        if clo is not None and rep is not None and clo < rep:
            problems.add(r.file, r.row, "办结时间", str(r.get("closed")), f"不早于上报时间 {rep:%Y-%m-%d %H:%M}")
            bad = True
        for col, label, t in (("reported", "上报时间", rep), ("closed", "办结时间", clo)):
            if t is not None and t.date() > latest:
                problems.add(r.file, r.row, label, str(r.get(col)), f"不晚于 {latest:%Y-%m-%d}（本月结束后 {days} 天内）",
                             "可能录错了年份或日期；确实如此晚时，请在考核细则 events.max_days_after_month 中放宽天数")
                bad = True
        bad = stage_problems(policy, times, r, problems, stages) or bad
        if bad:
            continue
        if not counts:    # event_counts_in(policy, month, disc): disc is the time parsed above
            continue  # an event belongs to the month it was discovered in, unless the policy says otherwise
        out.setdefault(wid, []).append((make_event(eid, cat, sev, times, month, _text(cells.get("problem")),
                                                   (r.file, r.row)), disc))
    if no_events and of_month:
        problems.add(str(path), of_month[0], "发现时间", f"{len(of_month)} 件 {month} 发现的事件",
                     "没有本月的事件（已注明“本月无事件”）", "请核对：台账中有本月事件时，不要注明本月无事件")
    elif not no_events and other_months and not of_month:
        # one problem instead of silence: last month's file would dock every event quota
        problems.add(str(path), None, "发现时间", "、".join(sorted(other_months)), f"包含 {month} 发现的事件",
                     "台账中只有其他月份的事件，可能选错了文件；" + NO_EVENTS_SAID)
    if known := {w.worker_id for w in register()}:
        # (a row with an unknown id is kept in `out` meanwhile: its problem is raised below)
        name = str(path)
        for place, row, wid in reversed([c for c in to_check if c[2] not in known]):
            problems.problems.insert(place, Problem(name, row, "工号", wid or None, "名册中已有的工号"))
    problems.raise_if_any(DataError)
    for lst in out.values():
        lst.sort(key=lambda p: (p[1], p[0].event_id))
    return out


def _month_of(t: datetime) -> str:
    """YYYY-MM of a time (strftime took a fifth of reading a 400,000-event log)."""
    return f"{t.year:04d}-{t.month:02d}"


# --------------------------------------------------------------------------- event stages and months
# (policy helper, issue 16: named stages, problem keys, events of other months; rules in engine/kinds/event.py)


def event_extra_columns(policy: Policy) -> dict[str, list[str]]:
    """Event log columns the policy asks for beyond the fixed ones: a `<name>时间` column per named
    stage (events.stages), and the problem key when a rule looks for the same problem again."""
    extra = {sid: [f"{name}时间", name] for sid, name in stage_names(policy.doc).items() if sid not in EVENT_COLUMNS}
    if problem_keys_used(policy.doc):
        extra["problem"] = ["问题编号", "问题类型", "问题"]
    return extra


def stage_columns(policy: Policy) -> tuple[tuple[str, str], ...]:
    """(column key, header) of each named stage, read like the fixed times."""
    return tuple((sid, f"{name}时间") for sid, name in stage_names(policy.doc).items() if sid not in EVENT_COLUMNS)


def stage_problems(policy: Policy, times: dict[str, datetime], r: Row, problems: ProblemList,
                   stages: tuple[tuple[str, str], ...] | None = None) -> bool:
    """A named stage cannot happen before the event was discovered (`stages`: stage_columns(policy))."""
    disc, bad = times.get("discovered"), False
    for sid, header in stage_columns(policy) if stages is None else stages:
        if disc is not None and sid in times and times[sid] < disc:
            problems.add(r.file, r.row, header, str(r.get(sid)), f"不早于发现时间 {disc:%Y-%m-%d %H:%M}")
            bad = True
    return bad


def event_counts_in(policy: Policy, month: str, discovered: datetime) -> bool:
    """Whether an event of the log can count in `month`: discovered in it, or (when the policy counts
    by report or closing month, ages deadlines, or follows a problem over months) discovered before
    its end."""
    if f"{discovered.year:04d}-{discovered.month:02d}" == month:
        return True
    return needs_other_months(policy.doc) and discovered < cutoff(month)


# --------------------------------------------------------------------------- dated records
# (policy helper, issue 16: the records sheet; aggregation in engine/kinds/records.py)

RECORD_COLUMNS = {
    "worker_id": ["工号", "网格员工号", "网格员编号", "人员编号", "编号"],
    "type": ["类型", "记录类型", "类别", "项目"],
    "date": ["日期", "记录日期", "工作日期"],
    "start": ["开始时间", "起始时间", "开始"],
    "end": ["结束时间", "截止时间", "结束"],
    "amount": ["数量", "条数", "篇数", "次数"],
    "record_id": ["记录编号", "记录号"],
    "name": ["姓名", "网格员"],
}
RECORD_REQUIRED = ["worker_id", "type"]
MAX_SESSION_HOURS = 24   # one record longer than a day is a typing error, not a patrol


def _read_records_into(problems: ProblemList, notes: list[str], path, policy: Policy, month: str,
                       register: list[WorkerInfo]) -> dict[str, list[Record]] | None:
    """The records sheet's rows per worker (None when the policy reads no records); problems added."""
    doc = policy.doc
    used = bool(records_rules(doc)) or any(m.from_records is not None for m in doc.metrics.values())
    if not used:
        return None
    why = calendar_problem(doc, month)
    if why:   # the month's working days cannot be known: nothing can be counted
        problems.add(policy.files[0], None, "calendar", month, why)
        problems.raise_if_any(DataError)
    if path is None:
        problems.add(RECORDS_FIELD, None, RECORDS_FIELD, None,
                     "按日/按周记录考核的记录表（CSV/XLSX：工号、类型、日期或开始/结束时间、数量）",
                     "考核细则中有按记录统计的规则或指标；没有记录的月份请给一个只有表头的记录表")
        return None
    try:
        out, probs, said = read_records(path, policy, month, register)
    except DataError as exc:
        problems.extend(exc.problems)
        return {}
    problems.extend(probs.problems)
    notes.extend(said)
    return out


def read_records(path, policy: Policy, month: str, register: list[WorkerInfo]
                 ) -> tuple[dict[str, list[Record]], ProblemList, list[str]]:
    """Rows of the records sheet that fall in the month's days (and its weeks' days), per worker; and
    what to say of the sheet (notes)."""
    doc = policy.doc
    problems = ProblemList()
    rows, present = read_table(path, RECORD_COLUMNS, required=RECORD_REQUIRED, problems=problems)
    known = {w.worker_id for w in register}
    by_type: dict[str, list[str]] = {}
    for sid, s in doc.records.items():
        for t in s.types:
            by_type.setdefault(t, []).append(sid)
    first, last = date_span(doc, month)
    in_month = month_days(month)
    sides: set[bool] = set()       # neighbouring days the sheet holds rows of (True: before the month)
    out: dict[str, list[Record]] = {}
    seen: dict[str, int] = {}
    outside = 0
    for r in rows:
        wid, kind = _text(r.get("worker_id")), _text(r.get("type"))
        series = by_type.get(kind)
        if series is None:
            problems.add(r.file, r.row, "类型", kind or None, "记录类型之一：" + "、".join(by_type),
                         "考核细则 records 中声明的类型；与考核无关的行请删去")
            continue
        measures = {doc.records[sid].measure for sid in series}   # a type may feed several series
        s = doc.records[series[0]]
        if r.get("date") is not None:   # the date first: clock times are read on it
            try:
                _date_cell(r.get("date"))
            except ValueError:
                problems.add(r.file, r.row, "日期", r.get("date"), "日期，如 2026-10-05")
                continue
        times: dict[str, Any] = {}
        unreadable = False
        for col, label in (("start", "开始时间"), ("end", "结束时间")):
            raw = r.get(col)
            if raw is None or col in r.flagged:
                unreadable |= col in r.flagged
                continue
            try:
                times[col] = _clock_or_time(raw, r.get("date"))
            except ValueError:
                problems.add(r.file, r.row, label, raw, "时间，如 2026-10-05 08:30（或有日期列时写 08:30）")
                unreadable = True
        if r.get("date") is not None:
            day = _date_cell(r.get("date"))
        elif "start" in times:
            day = times["start"].date()
        else:
            problems.add(r.file, r.row, "日期", None, "日期，或开始时间")
            continue
        if not first <= day <= last:
            outside += 1
            continue   # another month's records: the sheet may hold several
        if not in_month[0] <= day <= in_month[-1]:
            sides.add(day < in_month[0])
        rid = _text(r.get("record_id"))
        if rid:
            if rid in seen:
                problems.add(r.file, r.row, "记录编号", rid, "唯一的记录编号", f"与第 {seen[rid]} 行重复")
                continue
            seen[rid] = r.row
        if register and wid not in known:
            problems.add(r.file, r.row, "工号", wid or None, "名册中已有的工号")
            continue
        amount = None
        start, end = times.get("start"), times.get("end")
        if measures & {"minutes", "hours"} and (start is None or end is None):
            if not unreadable:   # an unreadable time was reported above
                problems.add(r.file, r.row, "开始时间" if start is None else "结束时间", None,
                             f"开始和结束时间（「{s.label}」按时长统计）")
            continue
        if start is not None and end is not None:   # a count's or amount's times too: a typo is still one
            if end < start or (end == start and measures & {"minutes", "hours"}):
                problems.add(r.file, r.row, "结束时间", str(r.get("end")), f"晚于开始时间 {start:%Y-%m-%d %H:%M}")
                continue
            if end - start > timedelta(hours=MAX_SESSION_HOURS):
                problems.add(r.file, r.row, "结束时间", str(r.get("end")),
                             f"与开始时间相隔不超过 {MAX_SESSION_HOURS} 小时", "检查日期是否写错")
                continue
        if "amount" in measures:
            try:
                amount = parse_decimal_cell(r.get("amount"))
                if amount < 0:
                    raise ValueError
            except (ValueError, TypeError):
                problems.add(r.file, r.row, "数量", r.get("amount"), f"不小于 0 的数量（「{s.label}」按数量统计）")
                continue
        out.setdefault(wid, []).append(Record(tuple(series), day, times.get("start"), times.get("end"), amount,
                                              (r.file, r.row)))
    if rows and not out and outside and not problems:
        problems.add(str(path), None, "日期", None, f"包含 {first:%Y-%m-%d} 至 {last:%Y-%m-%d} 的记录",
                     "记录表中没有本月的记录（是否给错了月份的文件？）")
    return out, problems, _neighbour_days_note(doc, month, sides) if out else []


def _neighbour_days_note(doc: PolicyDoc, month: str, sides: set[bool]) -> list[str]:
    """A sheet holding none of the neighbouring months' days that the month's weeks count: each of those
    days would be a day without records (0) for everybody.  Said, not refused (a new office's sheet
    may start on the 1st)."""
    labels, days = neighbour_days(doc, month)
    first = month_days(month)[0]
    missing = [d for d in days if (d < first) not in sides]
    if not missing:
        return []
    spans = []
    for side in (True, False):
        got = [d for d in missing if (d < first) == side]
        if got:
            spans.append(f"{got[0].month}月{got[0].day}日" + (f"至{got[-1].day}日" if len(got) > 1 else ""))
    more = f"等 {len(labels)} 项" if len(labels) > 3 else ""
    return [f"记录表中没有{'、'.join(spans)}的记录，而“{'”“'.join(labels[:3])}”{more}按周统计（一周属于其周四所在的月份），"
            f"这些天也计入{month_label(month)}：请在记录表中一并提供，否则按没有记录（0）计算"]


def _date_cell(value: Any):
    """'2026-10-05', '2026/10/5', '2026年10月5日' or a date cell -> date."""
    if isinstance(value, datetime):
        return value.date()
    text = _text(value).replace("/", "-").replace("年", "-").replace("月", "-").replace("日", "").replace(".", "-")
    m = re.match(r"^(\d{4})-(\d{1,2})-(\d{1,2})$", text)
    if not m:
        raise ValueError(text)
    return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))


def _clock_or_time(value: Any, day_value: Any) -> datetime:
    """A full time ('2026-10-05 08:30'), or a clock time ('08:30') on the row's date."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, time):
        return datetime.combine(_date_cell(day_value), value)
    text = _text(value)
    m = re.match(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$", text)
    if m and day_value is not None:
        return datetime.combine(_date_cell(day_value), time(int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)))
    return parse_timestamp(text)
