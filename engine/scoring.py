"""Findings -> score, veto, stars, band and pay for each worker-month; the month's results.

durable_rules (engine/assessment.py) says which rule matched which worker or event; this
module turns every match into a finding with exact decimal points and a Chinese reason,
caps each item at its points (扣完为止) and the bonus at its cap, applies vetoes, and
derives stars, pay band and performance pay.  The findings of a worker add up exactly to
`score - full_score` (docs/results.md).

Money rule: performance pay = wage × performance share × band ratio, rounded once to the
fen (0.01 yuan) with ROUND_HALF_UP; the displayed performance base is rounded the same way.
"""
from __future__ import annotations

import csv
import gc
import io
import json
import marshal
import os
import re
import threading
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import lru_cache
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Callable

from .assessment import CHUNK, CompiledRule, EventCase, Hit, WorkerCase, compile_policy, evaluate_cases
from .errors import Problem, RuleEngineError
from .inputs import MonthInputs, WorkerInfo, read_month
from .policy import ExampleDef, MetricDef, Policy, QuotaBy, RuleDef
from .sources import dotted, line_of, sha256_file

FEN = Decimal("0.01")
ROUNDING_RULE = "绩效工资 = 月工资 × 绩效比例 × 发放比例，只在最后一步按分（0.01 元）四舍五入（满 0.005 元进为 0.01 元）"
FORMAT = "wangge.results/1"


@lru_cache(maxsize=8192)
def n(d: Decimal | int) -> str:
    """Decimal -> shortest exact text: 2, 1.5, -0.25 (memoized: the same few values recur)."""
    if type(d) is int:
        return str(d)
    if d == d.to_integral_value():
        return str(int(d))
    return format(d.normalize(), "f")


@lru_cache(maxsize=8192)
def money(d: Decimal) -> str:
    return format(d.quantize(FEN, rounding=ROUND_HALF_UP), "f")


@dataclass(slots=True)
class Finding:
    rule_id: str
    rule_label: str
    item_id: str
    item_label: str
    category: str
    kind: str                      # deduction | bonus | veto | cap | bonus_cap
    points: Decimal                # signed effect on the score
    values: dict[str, str]
    reason: str
    source: dict | None = None
    event_id: str | None = None

    def as_dict(self) -> dict:
        d = {"rule_id": self.rule_id, "rule_label": self.rule_label, "item_id": self.item_id,
             "item_label": self.item_label, "category": self.category, "kind": self.kind,
             "points": n(self.points), "values": self.values, "reason": self.reason}
        if self.event_id is not None:
            d["event_id"] = self.event_id
        d["source"] = self.source
        return d


@dataclass
class WorkerResult:
    case: WorkerCase | None
    findings: list[Finding]
    items: list[tuple]             # (ItemDef, deducted, capped)
    deductions: Decimal
    bonus: Decimal
    score: Decimal
    vetoes: list[dict]
    failed: bool
    stars: int | None
    band: dict | None
    pay_ratio: Decimal | None
    performance_base: Decimal | None
    pay: Decimal | None
    rank: int = 0

    def __getstate__(self):
        state = dict(self.__dict__)
        state["case"] = None   # the parent process has the inputs already
        return state


# --------------------------------------------------------------------------- per-rule points


def _unit(m: MetricDef) -> str:
    return m.unit or ""


def _val(m: MetricDef, v) -> str:
    if isinstance(v, bool):
        return "是" if v else "否"
    return f"{n(v)}{_unit(m)}"


def _escalated(spec, count: int) -> tuple[Decimal, str]:
    """Points for `count` occurrences and a sentence saying how they add up."""
    if spec.escalate is None:
        return spec.points * count, f"每次 {n(spec.points)} 分"
    parts, total = [], Decimal(0)
    for k in range(1, count + 1):
        p = spec.escalate[min(k, len(spec.escalate)) - 1]
        parts.append(p)
        total += p
    return total, "逐次递增：" + "、".join(f"第{k}次 {n(p)} 分" for k, p in enumerate(parts, 1))


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _fill(template: str, values: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


ZERO = Decimal(0)


class _RulePlan:
    """What every finding of one policy rule shares, worked out once per policy."""

    __slots__ = ("rid", "rule", "kind", "spec", "section", "slabel", "cat", "sign", "verb", "fkind",
                 "metric", "unit", "tiers", "per", "rnd", "delay_text", "handling_text", "escalated")

    def __init__(self, doc, rule: RuleDef, section: str, slabel: str, cat: str):
        self.rid, self.rule, self.kind = rule.id, rule, rule.kind
        self.spec = spec = getattr(rule, rule.kind)
        self.section, self.slabel, self.cat = section, slabel, cat
        bonus = section == "bonus"
        self.sign = Decimal(1) if bonus else Decimal(-1)
        self.verb = "加" if bonus else "扣"
        self.fkind = "bonus" if bonus else "deduction"
        self.escalated: dict[int, tuple[Decimal, str]] = {}
        if rule.kind == "event":
            self.metric, self.unit = None, ""
            self.delay_text = _hours_text(spec.delay_hours) if spec.delay_hours is not None else None
            self.handling_text = _hours_text(spec.handling_hours) if spec.handling_hours is not None else None
            return
        self.metric = m = doc.metrics[spec.metric]
        self.unit = _unit(m)
        if rule.kind == "tiers":
            self.tiers = [(t.points, str(t.range), _range_text(t.range, m)) for t in spec.tiers]
        elif rule.kind == "shortfall":
            self.per = f"每差 {n(spec.per)}{self.unit}" if spec.per != 1 else f"每差 1{self.unit or '个'}"
            self.rnd = {"up": "不足一个单位按一个单位计", "down": "不足一个单位不计", "exact": "按比例计"}[spec.partial]

    def finding(self, points: Decimal, values: dict, reason: str, src, event_id=None) -> Finding:
        rule = self.rule
        if rule.reason:
            reason = _fill(rule.reason, {**values, "label": rule.label, "points": n(points)})
        return Finding(self.rid, rule.label, self.section, self.slabel, self.cat, self.fkind, self.sign * points,
                       values, reason, src, event_id)

    def count_points(self, count: int) -> tuple[Decimal, str]:
        got = self.escalated.get(count)
        if got is None:
            got = self.escalated[count] = _escalated(self.spec, count)
        return got


class _Scorer:
    def __init__(self, policy: Policy):
        self.policy = policy
        self.doc = doc = policy.doc
        self.table, _ = compile_policy(policy)
        # one plan per rule, in policy order, so that findings read like the sheet
        self.plans: list[_RulePlan] = [_RulePlan(doc, r, it.id, it.label, it.category)
                                       for it in doc.items for r in it.rules]
        if doc.bonus:
            self.plans += [_RulePlan(doc, r, "bonus", doc.bonus.label, "加分") for r in doc.bonus.rules]
        position = {plan.rid: i for i, plan in enumerate(self.plans)}
        self.plan_of = [position.get(cr.rule_id) if cr.kind != "veto" else None for cr in self.table]
        self.vetoes = {v.id: v for v in doc.vetoes}
        self._grades: dict[Decimal, tuple] = {}
        self._bands = {id(b): {"id": b.id, "label": b.label, "range": str(b.range), "ratio": n(b.ratio)}
                       for b in (doc.pay.bands if doc.pay is not None else [])}
        # results.json entry of an item nothing was deducted from (copied for each worker)
        self._untouched = {it.id: _item_entry(it, ZERO, False) for it in doc.items}

    def _grade(self, score: Decimal) -> tuple:
        """(stars, pay band) of a score, looked up once per distinct score."""
        got = self._grades.get(score)
        if got is None:
            doc = self.doc
            stars = next((s.stars for s in doc.stars if s.range.contains(score)), 0) if doc.stars is not None else None
            band = next((b for b in doc.pay.bands if b.range.contains(score)), None) if doc.pay is not None else None
            got = (stars, band)
            if len(self._grades) < 100_000:
                self._grades[score] = got
        return got

    def score(self, case: WorkerCase, hits: list[Hit], wage: Decimal | None,
              metric_src: tuple[str, int] | None) -> WorkerResult:
        doc = self.doc
        table, plan_of = self.table, self.plan_of
        by_plan: dict[int, list[tuple[CompiledRule, Hit]]] = {}   # plan position -> its matches
        veto_hits: list[CompiledRule] = []
        for h in hits:
            cr = table[h.rule]
            if cr.kind == "veto":
                veto_hits.append(cr)
            elif (pos := plan_of[h.rule]) in by_plan:
                by_plan[pos].append((cr, h))
            else:
                by_plan[pos] = [(cr, h)]
        msrc = {"file": _basename(metric_src[0]), "row": metric_src[1]} if metric_src else None

        findings_by_section: dict[str, list[Finding]] = {}
        for pos in sorted(by_plan):          # policy order, so that findings read like the sheet
            plan, matches = self.plans[pos], by_plan[pos]
            fs = self._rule_findings(plan, matches, case, msrc)
            rule, sign = plan.rule, plan.sign
            if rule.cap is not None:
                total = sum((abs(f.points) for f in fs), ZERO)
                if total > rule.cap:
                    excess = total - rule.cap
                    fs.append(Finding(plan.rid, rule.label, plan.section, plan.slabel, plan.cat, "cap", -sign * excess,
                                      {"合计": n(total), "上限": n(rule.cap)},
                                      f"「{rule.label}」合计 {n(total)} 分，超过该规则上限 {n(rule.cap)} 分，"
                                      f"按 {n(rule.cap)} 分计（{'退回' if sign < 0 else '扣回'} {n(excess)} 分）", msrc))
            if fs:
                findings_by_section.setdefault(plan.section, []).extend(fs)

        findings: list[Finding] = []
        items: list[tuple] = []
        deductions = ZERO
        for it in doc.items:
            fs = findings_by_section.get(it.id)
            if not fs:
                items.append((it, ZERO, False))
                continue
            raw = -sum((f.points for f in fs), ZERO)
            capped = raw > it.points
            if capped:
                fs.append(Finding(it.id, it.label, it.id, it.label, it.category, "cap", raw - it.points,
                                  {"扣分合计": n(raw), "项目分值": n(it.points)},
                                  f"「{it.label}」扣分合计 {n(raw)} 分，超过该项分值 {n(it.points)} 分，"
                                  f"扣完为止，只扣 {n(it.points)} 分（退回 {n(raw - it.points)} 分）", msrc))
            ded = min(raw, it.points)
            deductions += ded
            items.append((it, ded, capped))
            findings.extend(fs)
        bonus = ZERO
        if doc.bonus:
            fs = findings_by_section.get("bonus", [])
            raw = sum((f.points for f in fs), ZERO)
            if raw > doc.bonus.cap:
                fs.append(Finding("bonus", doc.bonus.label, "bonus", doc.bonus.label, "加分", "bonus_cap",
                                  doc.bonus.cap - raw, {"加分合计": n(raw), "加分上限": n(doc.bonus.cap)},
                                  f"加分合计 {n(raw)} 分，超过加分上限 {n(doc.bonus.cap)} 分，按 {n(doc.bonus.cap)} 分计",
                                  msrc))
            bonus = min(raw, doc.bonus.cap)
            findings.extend(fs)
        score = doc.full_score - deductions + bonus

        vetoes, failed, zero_score, withhold, zero_stars = [], False, False, False, False
        for cr in sorted(veto_hits, key=lambda c: c.index):
            v = self.vetoes[cr.rule_id]
            eff = self.policy.veto_effect(v)
            m = doc.metrics[v.metric]
            val = case.metrics[v.metric]
            consequences = []
            if eff.fail:
                consequences.append("本月考核不合格")
                failed = True
            if eff.score == "zero":
                consequences.append("得分计为 0 分")
                zero_score = True
            if eff.pay == "withhold":
                consequences.append("绩效工资不予发放")
                withhold = True
            if eff.stars == "zero":
                zero_stars = True
                if doc.stars is not None:
                    consequences.append("星级计为 0 星")
            vetoes.append({"rule_id": v.id, "label": v.label, "domain": v.domain,
                           "effect": {"fail": eff.fail, "score": eff.score, "pay": eff.pay, "stars": eff.stars}})
            findings.append(Finding(v.id, v.label, "veto", "一票否决", v.domain, "veto", ZERO,
                                    {v.metric: _val(m, val)},
                                    f"{m.label}为{_val(m, val)}，触发「{v.label}」（{v.domain}一票否决），"
                                    + "，".join(consequences or ["记录在案"]), msrc))
        if zero_score and score != 0:
            findings.append(Finding(vetoes[0]["rule_id"], vetoes[0]["label"], "veto", "一票否决", vetoes[0]["domain"],
                                    "veto", -score, {"否决前得分": n(score)},
                                    f"一票否决：得分由 {n(score)} 分计为 0 分", msrc))
            score = ZERO

        stars, b = self._grade(score)
        if stars is not None and zero_stars and vetoes:
            stars = 0
        band, ratio, base, pay = None, None, None, None
        if b is not None:
            band = dict(self._bands[id(b)])
            ratio = ZERO if withhold else b.ratio
            if wage is not None:
                share = wage * doc.pay.performance_share
                base = share.quantize(FEN, rounding=ROUND_HALF_UP)
                pay = (share * ratio).quantize(FEN, rounding=ROUND_HALF_UP)
        return WorkerResult(case, findings, items, deductions, bonus, score, vetoes, failed, stars, band, ratio,
                            base, pay)

    def worker_dict(self, w: WorkerInfo, r: WorkerResult) -> dict:
        """A worker's results.json entry (docs/results.md)."""
        untouched = self._untouched
        return {
            "worker_id": w.worker_id, "name": w.name, "town": w.town, "community": w.community, "grid": w.grid,
            "role": w.role, "employment": w.employment, "attributes": w.attributes,
            "wage": money(w.wage) if w.wage is not None else None,
            "items": [dict(untouched[it.id]) if ded is ZERO else _item_entry(it, ded, capped)
                      for it, ded, capped in r.items],
            "deductions": n(r.deductions), "bonus": n(r.bonus), "score": n(r.score),
            "veto": r.vetoes[0] if r.vetoes else None, "vetoes": r.vetoes, "failed": r.failed,
            "stars": r.stars, "band": r.band,
            "pay_ratio": n(r.pay_ratio) if r.pay_ratio is not None else None,
            "performance_base": money(r.performance_base) if r.performance_base is not None else None,
            "pay": money(r.pay) if r.pay is not None else None,
            "rank": r.rank,
            "findings": [f.as_dict() for f in r.findings],
        }

    def _rule_findings(self, plan: _RulePlan, matches, case: WorkerCase, msrc) -> list[Finding]:
        doc = self.doc
        spec, verb = plan.spec, plan.verb
        kind = plan.kind
        if kind == "event":
            out: list[Finding] = []
            all_events = case.events
            for k, ei in enumerate(sorted(h.event for _, h in matches), 1):   # in the order of the log
                ev = all_events[ei]
                p = spec.points if spec.escalate is None else spec.escalate[min(k, len(spec.escalate)) - 1]
                values = {"事件编号": ev.event_id, "类别": ev.category, "等级": ev.severity}
                desc = []
                if plan.delay_text is not None:
                    if ev.delay_hours is None:
                        values["上报延迟"] = "未上报"
                        desc.append("未上报")
                    else:
                        values["上报延迟"] = f"{n(ev.delay_hours)}小时"
                        desc.append(f"发现后 {n(ev.delay_hours)} 小时才上报（{plan.delay_text}）")
                if plan.handling_text is not None:
                    values["办理用时"] = f"{n(ev.handling_hours)}小时"
                    desc.append(f"上报后 {n(ev.handling_hours)} 小时办结（{plan.handling_text}）")
                if spec.unclosed:
                    desc.append("月底仍未办结")
                nth = f"，本月第 {k} 次" if spec.escalate is not None else ""
                reason = (f"事件 {ev.event_id}（{ev.category}，{ev.severity}）" + "，".join(desc or ["符合条件"])
                          + f"，属「{plan.rule.label}」{nth}，{verb} {n(p)} 分")
                src = {"file": _basename(ev.source[0]), "row": ev.source[1]} if ev.source else None
                out.append(plan.finding(p, values, reason, src, ev.event_id))
            return out

        m = plan.metric
        v = case.metrics[spec.metric]
        if kind == "per_count":
            pts, how = plan.count_points(int(v))
            reason = f"{m.label} {n(v)} 次（{how}），{verb} {n(pts)} 分"
            return [plan.finding(pts, {spec.metric: n(v)}, reason, msrc)]
        out = []
        if kind == "tiers":
            for cr, _ in matches:
                points, rng, rng_text = plan.tiers[cr.tier]
                reason = f"{m.label} {_val(m, v)}，在{rng_text}档，{verb} {n(points)} 分"
                out.append(plan.finding(points, {spec.metric: n(v), "档位": rng}, reason, msrc))
        elif kind == "shortfall":
            unit = plan.unit
            for cr, _ in matches:
                q = spec.quota
                who = ""
                if isinstance(q, QuotaBy):
                    attr_val = case.attributes.get(q.by)
                    quota = q.values[attr_val] if cr.quota_key != "*" else q.default
                    who = f"（{doc.attributes[q.by].label}：{attr_val}）"
                else:
                    quota = q
                short = quota - v
                units = short / spec.per
                if spec.partial == "up":
                    units = units.to_integral_value(rounding=ROUND_CEILING)
                elif spec.partial == "down":
                    units = units.to_integral_value(rounding=ROUND_FLOOR)
                pts = units * spec.points
                if spec.partial == "exact":   # proportional points can be non-terminating (1/3): fen, half up
                    pts = pts.quantize(FEN, rounding=ROUND_HALF_UP)
                if pts > 0:
                    values = {spec.metric: n(v), "定额": n(quota), "差额": n(short)}
                    reason = (f"{m.label} {_val(m, v)}，低于定额 {_val(m, quota)}{who}，差 {n(short)}{unit}，"
                              f"{plan.per}{verb} {n(spec.points)} 分"
                              + (f"（{plan.rnd}）" if spec.per != 1 or units != short else "") + f"，{verb} {n(pts)} 分")
                    out.append(plan.finding(pts, values, reason, msrc))
        return out


def _item_entry(it, ded: Decimal, capped: bool) -> dict:
    """An item's entry in a worker's results.json."""
    return {"item_id": it.id, "label": it.label, "category": it.category, "points": n(it.points),
            "deducted": n(ded), "capped": capped, "earned": n(it.points - ded)}


@lru_cache(maxsize=64)
def _basename(path: str) -> str:
    return Path(path).name


def _range_text(rng, m: MetricDef) -> str:
    return f"「{rng.human(m.unit)}」"


def _hours_text(rng) -> str:
    return rng.human("小时")


# --------------------------------------------------------------------------- month


PARALLEL_FROM = 4 * CHUNK   # below this many workers one process is faster than starting helpers


def score_cases(policy: Policy, cases: list[WorkerCase], wages: list[Decimal | None],
                metric_srcs: list | None = None, processes: int | None = None,
                progress: Callable[[int], None] | None = None) -> list[WorkerResult]:
    """Evaluate and score every case; returns WorkerResult objects (ranked)."""
    with _gc_paused():
        results = _run_chunks(policy, cases, wages, metric_srcs, None, processes, progress)
        for part_case, r in zip(cases, results):
            r.case = part_case
        _rank(results, lambda r: (r.failed, r.score))
    return results


def score_workers(policy: Policy, inputs: MonthInputs, processes: int | None = None,
                  progress: Callable[[int], None] | None = None) -> list[dict]:
    """The month pipeline: each worker's results.json entry, built where it was scored (ranked)."""
    wages = [w.wage for w in inputs.workers]
    with _gc_paused():
        dicts = _run_chunks(policy, inputs.cases, wages, inputs.metric_rows, inputs.workers, processes, progress)
        _rank(dicts, lambda d: (d["failed"], Decimal(d["score"])), setter=lambda d, k: d.__setitem__("rank", k))
    return dicts


@contextmanager
def _gc_paused():
    """Results are millions of new objects and no garbage cycles: a collection while they are
    built, arrive or are ranked only re-walks everything alive (measured: half the scoring
    time in one process, and most of the parent's ranking)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _run_chunks(policy, cases, wages, srcs, infos, processes, progress) -> list:
    """Chunks of cases through evaluate + score, in this process or spread over several.

    With `infos` (the register rows) each chunk returns worker dicts, which cross process
    boundaries 2-3x cheaper than result objects full of Decimals; without, WorkerResults.
    """
    with _ONE_AT_A_TIME:   # _JOB, the per-policy evaluators and the forked helpers are per process
        return _run_chunks_locked(policy, cases, wages, srcs, infos, processes, progress)


# Scoring is one month at a time per process: two threads (a server's requests) take turns here
# instead of sharing the module-level job and the durable_rules session counter.
_ONE_AT_A_TIME = threading.Lock()


def _run_chunks_locked(policy, cases, wages, srcs, infos, processes, progress) -> list:
    srcs = srcs or [None] * len(cases)
    if processes is None:
        processes = (os.cpu_count() or 1) if len(cases) >= PARALLEL_FROM else 1
    tasks = [(off, min(off + CHUNK, len(cases))) for off in range(0, len(cases), CHUNK)]
    global _JOB
    _JOB = (policy, cases, wages, srcs, infos)
    out: list = []
    try:
        if processes <= 1 or len(tasks) <= 1:
            parts = map(_score_chunk, tasks)
            for (lo, hi), part in zip(tasks, parts):
                out.extend(part)
                if progress:
                    progress(hi - lo)
        else:
            # fork: helpers inherit _JOB (policy and inputs) instead of receiving pickles;
            # each registers its own durable_rules ruleset, and only results travel back.
            # gc.freeze: otherwise each child's collector walks the whole inherited heap and
            # copy-on-write duplicates it (measured: 2 processes slower than 1 at 100k workers).
            gc.freeze()
            try:
                out = [x for part in _shared_out(tasks, processes, infos is not None, progress) for x in part]
            finally:
                gc.unfreeze()
    finally:
        _JOB = None
    return out


def _shared_out(tasks: list[tuple[int, int]], processes: int, dicts: bool, progress) -> list[list]:
    """Each task's part, scored by this process and `processes - 1` forked helpers.

    Whoever is free takes the next chunk (a shared counter), so a helper slowed down by other
    jobs on the machine does not hold the month up.  This process scores chunks in place too:
    only the helpers' chunks are serialised and loaded, and no process sits collecting results
    (with a Pool the parent only waited, unpickled and competed for the cores).  A helper that
    fails sends its exception; one that dies leaves its chunk missing, which is an error.
    """
    import multiprocessing as mp
    import pickle
    import threading

    ctx = mp.get_context("fork")
    counter = ctx.Value("i", 0)

    def take() -> int:
        with counter.get_lock():
            i = counter.value
            counter.value = i + 1
        return i

    helpers, conns = [], []
    for _ in range(processes - 1):
        recv, send = ctx.Pipe(duplex=False)
        helper = ctx.Process(target=_helper, args=(take, send, tasks), daemon=True)
        helper.start()
        send.close()
        helpers.append(helper)
        conns.append(recv)
    inbox: list[bytes] = []   # helpers' messages, received by threads so that no helper waits on a full pipe

    def receive(conn) -> None:
        try:
            while msg := conn.recv_bytes():
                inbox.append(msg)
        except EOFError:
            pass

    readers = [threading.Thread(target=receive, args=(c,), daemon=True) for c in conns]
    parts: list = [None] * len(tasks)

    def done(i: int, part) -> None:
        parts[i] = part
        if progress:
            progress(tasks[i][1] - tasks[i][0])

    def unpack() -> None:
        while inbox:
            i, part = pickle.loads(inbox.pop())
            if i < 0:
                raise part
            done(i, marshal.loads(part) if dicts else part)

    try:
        for r in readers:
            r.start()
        while (i := take()) < len(tasks):
            done(i, _score_chunk(tasks[i]))
            unpack()
        for r in readers:
            r.join()
        unpack()
        for h in helpers:
            h.join()
        if any(part is None for part in parts):
            codes = "、".join(str(h.exitcode) for h in helpers)
            raise RuleEngineError(f"并行评分的子进程意外退出（退出码 {codes}），本月未完成评分")
    finally:
        for h in helpers:
            if h.is_alive():
                h.terminate()
                h.join()
        for c in conns:
            c.close()
    return parts


def _helper(take, conn, tasks) -> None:
    """A forked helper of _shared_out: scores chunks until none is left, sends each one back."""
    import pickle

    try:
        while (i := take()) < len(tasks):
            conn.send_bytes(pickle.dumps((i, _pooled_chunk(tasks[i])), pickle.HIGHEST_PROTOCOL))
    except BaseException as exc:  # the parent raises it
        try:
            msg = pickle.dumps((-1, exc))
        except Exception:
            msg = pickle.dumps((-1, RuleEngineError(f"并行评分的子进程出错：{exc!r}")))
        conn.send_bytes(msg)
    finally:
        conn.send_bytes(b"")
        conn.close()


_JOB: tuple | None = None
_SCORERS: dict[str, "_Scorer"] = {}


def _score_chunk(task: tuple[int, int]) -> list:
    lo, hi = task
    policy, all_cases, wages, srcs, infos = _JOB
    cases = all_cases[lo:hi]
    hits = evaluate_cases(policy, cases)
    per_case: list[list[Hit]] = [[] for _ in cases]
    for h in hits:
        per_case[h.case].append(h)
    scorer = _SCORERS.get(policy.hash)
    if scorer is None:
        scorer = _SCORERS[policy.hash] = _Scorer(policy)
    results = [scorer.score(c, per_case[i], wages[lo + i], srcs[lo + i]) for i, c in enumerate(cases)]
    if infos is None:
        return results
    return [scorer.worker_dict(infos[lo + i], r) for i, r in enumerate(results)]


def _pooled_chunk(task: tuple[int, int]) -> list | bytes:
    """_score_chunk in a helper process.  Worker dicts (only dicts, lists, text, numbers, bools
    and None) travel as marshal bytes: half the cost of pickling them, and loaded as fast."""
    part = _score_chunk(task)
    return marshal.dumps(part) if _JOB[4] is not None else part


def _rank(items: list, key, setter=lambda r, k: setattr(r, "rank", k)) -> None:
    """Competition ranking (1, 2, 2, 4) by score, highest first; failed months (vetoes) rank last.
    `key(item)` gives (failed, score)."""
    keys = [key(x) for x in items]
    order = sorted(range(len(items)), key=lambda i: (keys[i][0], -keys[i][1]))
    prev, rank = None, 0
    for pos, i in enumerate(order, 1):
        if keys[i] != prev:
            rank, prev = pos, keys[i]
        setter(items[i], rank)


def score_month(policy: Policy, month: str, workers, metrics, events=None, *, processes: int | None = None,
                progress: Callable[[int], None] | None = None, inputs: MonthInputs | None = None) -> dict:
    """Read, check and score one month; returns the results.json structure (docs/results.md)."""
    if inputs is None:
        inputs = read_month(policy, month, workers, metrics, events)
    return build_results(policy, month, inputs, score_workers(policy, inputs, processes, progress))


def build_results(policy: Policy, month: str, inputs: MonthInputs, workers: list[dict]) -> dict:
    return {
        "format": FORMAT,
        "month": month,
        "policy": {"id": policy.id, "name": policy.name, "version": policy.version, "hash": policy.hash,
                   "files": policy.files, "full_score": n(policy.full_score), "max_score": n(policy.max_score)},
        "inputs": {k: {"path": v, "sha256": sha256_file(v)} for k, v in inputs.files.items()},
        "rounding": ROUNDING_RULE,
        "workers": workers,
    }


# --------------------------------------------------------------------------- outputs


RESULT_COLUMNS = ["工号", "姓名", "乡镇", "社区", "网格", "得分", "扣分", "加分", "一票否决", "星级", "档次",
                  "发放比例", "绩效基数", "绩效工资", "名次"]
FINDING_COLUMNS = ["工号", "姓名", "规则编号", "规则名称", "考核项目", "类型", "分值", "原因", "来源文件", "来源行", "事件编号"]
KIND_ZH = {"deduction": "扣分", "bonus": "加分", "veto": "一票否决", "cap": "扣完为止", "bonus_cap": "加分封顶"}


def _safe_cell(v: Any) -> str:
    """CSV cells that a spreadsheet would run as formulas get a leading apostrophe."""
    s = "" if v is None else str(v)
    if s and s[0] in "=+-@\t\r" and not _is_number(s):
        return "'" + s
    return s


def _is_number(s: str) -> bool:
    try:
        Decimal(s)
        return True
    except Exception:
        return False


def results_csv(res: dict) -> str:
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\n")
    wr.writerow(RESULT_COLUMNS)
    for w in res["workers"]:
        wr.writerow([_safe_cell(x) for x in (
            w["worker_id"], w["name"], w["town"], w["community"], w["grid"], w["score"], w["deductions"], w["bonus"],
            "、".join(v["label"] for v in w["vetoes"]), w["stars"] if w["stars"] is not None else "",
            (w["band"] or {}).get("label", ""), w["pay_ratio"] or "", w["performance_base"] or "", w["pay"] or "",
            w["rank"])])
    return buf.getvalue()


def findings_csv(res: dict) -> str:
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\n")
    wr.writerow(FINDING_COLUMNS)
    for w in res["workers"]:
        for f in w["findings"]:
            src = f.get("source") or {}
            wr.writerow([_safe_cell(x) for x in (
                w["worker_id"], w["name"], f["rule_id"], f["rule_label"], f["item_label"], KIND_ZH[f["kind"]],
                f["points"], f["reason"], src.get("file", ""), src.get("row", ""), f.get("event_id", ""))])
    return buf.getvalue()


def results_json(res: dict) -> str:
    return json.dumps(res, ensure_ascii=False, indent=1) + "\n"


def write_results(res: dict, stage: Path) -> None:
    """Write results.json, results.csv (UTF-8 with BOM, so Excel shows Chinese) and findings.csv."""
    (stage / "results.json").write_text(results_json(res), encoding="utf-8")
    (stage / "results.csv").write_text("\ufeff" + results_csv(res), encoding="utf-8")
    (stage / "findings.csv").write_text("\ufeff" + findings_csv(res), encoding="utf-8")


# --------------------------------------------------------------------------- worked examples


def run_examples(policy: Policy) -> list[Problem]:
    """Score each worked example of the policy; return its mismatches as located problems
    (examples[i].expect.<what>: found = what the policy computes, expected = what the example says)."""
    doc = policy.doc
    if not doc.examples:
        return []
    cases, wages, problems, checked = [], [], [], []
    for i, ex in enumerate(doc.examples):
        attrs = {}
        for name, a in doc.attributes.items():
            attrs[name] = str(ex.worker.get(name, a.default if a.default is not None else (a.values or [""])[0]))
        metrics = {}
        events = [EventCase(e.id or f"例{k + 1}", e.category, e.severity,
                            e.delay_hours,
                            e.handling_hours, e.unclosed) for k, e in enumerate(ex.events)]
        from .inputs import event_matches
        from .policy import coerce_metric

        for mid, m in doc.metrics.items():
            if m.count_events is not None:
                metrics[mid] = Decimal(sum(1 for e in events if event_matches(m.count_events, e)))
            elif mid in ex.metrics:
                metrics[mid] = coerce_metric(m, ex.metrics[mid])
            elif m.default is not None:
                metrics[mid] = coerce_metric(m, m.default)
            else:   # the policy check reports this first; kept so an example is never scored without it
                problems.append(Problem(policy.files[0], line_of(policy.raw, ["examples", i, "metrics"]),
                                        dotted(["examples", i, "metrics"]), None,
                                        f"写出指标「{m.label}」（{mid}）的数值（该指标没有默认值）"))
                break
        else:
            checked.append(i)
            cases.append(WorkerCase(f"例{i + 1}", attrs, metrics, events))
            wage = ex.worker.get("wage")
            wages.append(Decimal(str(wage)) if wage is not None else None)
    results = score_cases(policy, cases, wages, processes=1) if cases else []
    for i, r in zip(checked, results):
        problems.extend(_compare_example(policy, i, doc.examples[i], r))
    return problems


def _rule_ids(policy: Policy) -> set[str]:
    doc = policy.doc
    ids = {r.id for it in doc.items for r in it.rules}
    return ids | ({r.id for r in doc.bonus.rules} if doc.bonus else set())


def _compare_example(policy: Policy, i: int, ex: ExampleDef, r: WorkerResult) -> list[Problem]:
    e = ex.expect
    out: list[Problem] = []

    def chk(key: str | list, label: str, want, got) -> None:
        if want is not None and want != got:
            path = ["examples", i, "expect"] + ([key] if isinstance(key, str) else key)
            out.append(Problem(policy.files[0], line_of(policy.raw, path), dotted(path), _shown(got),
                               f"{_shown(want)}（示例「{ex.name}」写明的{label}；发现的是按细则算出的{label}）"))

    chk("score", "得分", n(e.score) if e.score is not None else None, n(r.score))
    chk("deductions", "扣分", n(e.deductions) if e.deductions is not None else None, n(r.deductions))
    chk("bonus", "加分", n(e.bonus) if e.bonus is not None else None, n(r.bonus))
    chk("stars", "星级", e.stars, r.stars)
    chk("band", "档次", e.band, (r.band or {}).get("id"))
    chk("pay", "绩效工资", money(e.pay) if e.pay is not None else None, money(r.pay) if r.pay is not None else None)
    if e.veto is not None:
        got = bool(r.vetoes) if isinstance(e.veto, bool) else ",".join(v["rule_id"] for v in r.vetoes) or "无"
        chk("veto", "一票否决", e.veto, got)
    if e.findings is not None:
        got: dict[str, Decimal] = defaultdict(Decimal)
        rule_ids = _rule_ids(policy)
        for f in r.findings:
            # a rule's points net of its own cap; item caps and the bonus cap are not a rule's
            if f.kind in ("deduction", "bonus") or (f.kind == "cap" and f.rule_id in rule_ids):
                got[f.rule_id] += f.points
        for rid, pts in e.findings.items():
            chk(["findings", rid], "分值", n(pts), n(got.get(rid, Decimal(0))))
        extra = [rid for rid in got if rid not in e.findings]
        if extra:
            path = ["examples", i, "expect", "findings"]
            out.append(Problem(policy.files[0], line_of(policy.raw, path), dotted(path),
                               "、".join(f"{x}: {n(got[x])}" for x in extra),
                               f"列出触发的每一条规则（示例「{ex.name}」的 findings 没有列出发现的这些规则及其分值）"))
    if out:
        detail = "；".join(f.reason for f in r.findings) or "无扣分"
        out[0] = replace(out[0], hint=f"计算明细：{detail}")
    return out


def _shown(v: Any) -> str | None:
    """An expected or computed value as the policy file writes it (true/false, 2.5, 540.00)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    return None if v is None else str(v)
