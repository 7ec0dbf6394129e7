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
from dataclasses import dataclass, replace
from functools import lru_cache
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Callable

from .assessment import CHUNK, CompiledRule, EventCase, Hit, WorkerCase, compile_policy, evaluate_cases
from .errors import Problem, RuleEngineError
from .kinds import KINDS
from .kinds.base import compile_reason, compile_template, unit_of, value_text
from .inputs import MonthInputs, WorkerInfo, parse_timestamp, read_month
from .kinds.event import make_event
from .kinds.records import example_records
from .policy import ExampleDef, Policy, RuleDef, coerce_metric
from .prepare import prepare_case
from .policy_values import n
from .sources import dotted, line_of, sha256_file

FEN = Decimal("0.01")
ROUNDING_RULE = "绩效工资 = 月工资 × 绩效比例 × 发放比例，只在最后一步按分（0.01 元）四舍五入（满 0.005 元进为 0.01 元）"
FORMAT = "wangge.results/1"


@lru_cache(maxsize=8192)
def money(d: Decimal) -> str:
    return format(d.quantize(FEN, rounding=ROUND_HALF_UP), "f")


@dataclass(slots=True)
class Finding:
    """A finding as the worked examples and tests read it (score_cases).  The month pipeline keeps
    each finding as its results.json entry from the start (see `entry`): no object in between."""

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

    @classmethod
    def of(cls, made: tuple) -> "Finding":
        """A finding of the pipeline, (signed points, results.json entry), as an object."""
        p, d = made
        return cls(d["rule_id"], d["rule_label"], d["item_id"], d["item_label"], d["category"], d["kind"], p,
                   d["values"], d["reason"], d["source"], d.get("event_id"))

    def as_dict(self) -> dict:
        return entry(self.rule_id, self.rule_label, self.item_id, self.item_label, self.category, self.kind,
                     self.points, self.values, self.reason, self.source, self.event_id)[1]


def entry(rule_id: str, rule_label: str, item_id: str, item_label: str, category: str, kind: str, points: Decimal,
          values: dict, reason: str, source: dict | None, event_id: str | None = None) -> tuple[Decimal, dict]:
    """A finding as the pipeline keeps it: (signed points, its results.json entry, docs/results.md)."""
    d = {"rule_id": rule_id, "rule_label": rule_label, "item_id": item_id, "item_label": item_label,
         "category": category, "kind": kind, "points": n(points), "values": values, "reason": reason}
    if event_id is not None:
        d["event_id"] = event_id
    d["source"] = source
    return points, d


@dataclass
class WorkerResult:
    case: WorkerCase | None
    findings: list                 # Finding objects from score_cases; (points, entry) in the month pipeline
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


ZERO = Decimal(0)


class _RulePlan:
    """What every finding of one policy rule shares, worked out once per policy: its place on the
    sheet, its sign and verb (扣 in a deduction item, 得 in an earn item, 加 in the bonus), its
    reason template (the policy's own or its kind's default), and the kind's fixed wording (`k`)."""

    __slots__ = ("rid", "rule", "label", "kind", "spec", "section", "slabel", "cat", "sign", "verb", "fkind", "k",
                 "fill", "common", "earn_item", "item_points", "pts")

    def __init__(self, doc, rule: RuleDef, section: str, slabel: str, cat: str, earn_item: bool = False,
                 item_points: Decimal | None = None):
        self.rid, self.rule, self.label = rule.id, rule, rule.label
        self.pts: dict[Decimal, tuple] = {}
        self.kind = KINDS[rule.kind]
        self.spec = spec = rule.spec
        self.section, self.slabel, self.cat = section, slabel, cat
        self.earn_item, self.item_points = earn_item, item_points
        if section == "bonus":
            self.sign, self.verb, self.fkind = Decimal(1), "加", "bonus"
        elif earn_item and rule.effect != "deduct":
            self.sign, self.verb, self.fkind = Decimal(1), "得", "earn"
        else:
            self.sign, self.verb, self.fkind = Decimal(-1), "扣", "deduction"
        self.common = {"规则": rule.label, "label": rule.label, "得扣": self.verb, "项目": slabel}
        self.fill = compile_reason(rule.reason or self.kind.default_reason(spec, doc), self.common)
        self.k = self.kind.plan(doc, rule, spec)

    def _points(self, points: Decimal) -> tuple:
        """(signed points, their text, the unsigned points' text), once per distinct value of the rule."""
        got = self.pts.get(points)
        if got is None:
            signed = self.sign * points
            got = (signed, n(signed), n(points))
            if len(self.pts) < 10_000:
                self.pts[points] = got
        return got

    def finding(self, points: Decimal, values: dict, texts: dict, src, event_id=None) -> tuple[Decimal, dict]:
        """One finding of `points` (unsigned): `values` go to results.json, `texts` only fill the reason.
        Made as (signed points, results.json entry) directly (see `entry`): a finding is made millions
        of times in a month."""
        got = self._points(points)
        return self._made(got, values, self.fill(values, texts, got[2]), src, event_id)

    def reason(self, points: Decimal, values: dict, texts: dict) -> str:
        return self.fill(values, texts, n(points))

    def known(self, points: Decimal, values: dict, reason: str, src, event_id=None) -> tuple[Decimal, dict]:
        """A finding whose reason is already written (kinds memoize the reasons of recurring values)."""
        return self._made(self._points(points), values, reason, src, event_id)

    def _made(self, pts: tuple, values: dict, reason: str, src, event_id) -> tuple[Decimal, dict]:
        """`entry` of this rule, written out."""
        d = {"rule_id": self.rid, "rule_label": self.label, "item_id": self.section, "item_label": self.slabel,
             "category": self.cat, "kind": self.fkind, "points": pts[1], "values": values, "reason": reason}
        if event_id is not None:
            d["event_id"] = event_id
        d["source"] = src
        return pts[0], d


VETO_REASON = {True: "{否决项}（{领域}一票否决）{后果}", False: "{指标}{数值}{单位}，{否决项}（{领域}一票否决）{后果}"}
VETO_PLACEHOLDERS = ["否决项", "领域", "指标", "数值", "单位", "后果"]


class _Scorer:
    def __init__(self, policy: Policy):
        self.policy = policy
        self.doc = doc = policy.doc
        self.table, _ = compile_policy(policy)
        # one plan per rule, in policy order, so that findings read like the sheet
        self.plans: list[_RulePlan] = [_RulePlan(doc, r, it.id, it.label, it.category, it.mode == "earn", it.points)
                                       for it in doc.items for r in it.rules]
        if doc.bonus:
            self.plans += [_RulePlan(doc, r, "bonus", doc.bonus.label, "加分") for r in doc.bonus.rules]
        position = {plan.rid: i for i, plan in enumerate(self.plans)}
        self.plan_of = [position.get(cr.rule_id) if cr.kind != "veto" else None for cr in self.table]
        self.vetoes = {v.id: v for v in doc.vetoes}
        self._veto_fill = {v.id: compile_template(v.reason or VETO_REASON[doc.metrics[v.metric].type == "bool"])
                           for v in doc.vetoes}
        self._grades: dict[Decimal, tuple] = {}
        self._earn_base: dict[str, tuple] = {}
        self._entries: dict[tuple, dict] = {}
        self._pays: dict[tuple, tuple] = {}
        self._bands = {id(b): {"id": b.id, "label": b.label, "range": str(b.range), "ratio": n(b.ratio)}
                       for b in (doc.pay.bands if doc.pay is not None else [])}
        # results.json entry of an item nothing was deducted from (copied for each worker)
        self._untouched = {it.id: _item_entry(it, ZERO, False) for it in doc.items}
        # the metric values (as scored, counted and computed ones included) that period conditions read;
        # results.json carries them only when such a condition exists (a tenth of the scoring time otherwise)
        ids = sorted(metrics_period_rules_read(doc))
        self._metric_values = (lambda values: {mid: v if type(v) is bool else n(v) for mid in ids
                                               if (v := values.get(mid)) is not None}) if ids else None

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
            if (pos := plan_of[h.rule]) is None:     # a veto
                veto_hits.append(cr)
            elif (got := by_plan.get(pos)) is not None:
                got.append((cr, h))
            else:
                by_plan[pos] = [(cr, h)]
        msrc = {"file": _basename(metric_src[0]), "row": metric_src[1]} if metric_src else None

        findings_by_section: dict[str, list[tuple]] = {}
        for pos in sorted(by_plan):          # policy order, so that findings read like the sheet
            plan, matches = self.plans[pos], by_plan[pos]
            fs = plan.kind.findings(plan, matches, case, msrc)
            rule, sign = plan.rule, plan.sign
            if rule.cap is not None:
                total = sum((abs(f[0]) for f in fs), ZERO)
                if total > rule.cap:
                    excess = total - rule.cap
                    fs.append(entry(plan.rid, rule.label, plan.section, plan.slabel, plan.cat, "cap", -sign * excess,
                                    {"合计": n(total), "上限": n(rule.cap)},
                                    f"“{rule.label}”合计{n(total)}分，超过该规则上限{n(rule.cap)}分，"
                                    f"按{n(rule.cap)}分计（{'退回' if sign < 0 else '扣回'}{n(excess)}分）", msrc))
            if fs:
                findings_by_section.setdefault(plan.section, []).extend(fs)

        findings: list[tuple] = []
        items: list[tuple] = []
        deductions = ZERO
        for it in doc.items:
            fs = findings_by_section.get(it.id)
            if it.mode == "earn":
                ded, capped, fs = self._earned(it, fs or [], msrc)
            elif not fs:
                items.append((it, ZERO, False))
                continue
            else:
                raw = -sum((f[0] for f in fs), ZERO)
                capped = raw > it.points
                if capped:
                    fs.append(entry(it.id, it.label, it.id, it.label, it.category, "cap", raw - it.points,
                                    {"扣分合计": n(raw), "项目分值": n(it.points)},
                                    f"“{it.label}”扣分合计{n(raw)}分，超过该项分值{n(it.points)}分，"
                                    f"扣完为止，只扣{n(it.points)}分（退回{n(raw - it.points)}分）", msrc))
                ded = min(raw, it.points)
            deductions += ded
            items.append((it, ded, capped))
            findings.extend(fs)
        bonus = ZERO
        if doc.bonus:
            fs = findings_by_section.get("bonus", [])
            raw = sum((f[0] for f in fs), ZERO)
            if raw > doc.bonus.cap:
                fs.append(entry("bonus", doc.bonus.label, "bonus", doc.bonus.label, "加分", "bonus_cap",
                                doc.bonus.cap - raw, {"加分合计": n(raw), "加分上限": n(doc.bonus.cap)},
                                f"加分合计{n(raw)}分，超过加分上限{n(doc.bonus.cap)}分，按{n(doc.bonus.cap)}分计",
                                msrc))
            bonus = min(raw, doc.bonus.cap)
            findings.extend(fs)
        score = doc.full_score - deductions + bonus

        if veto_hits:
            vetoes, failed, zero_score, withhold, zero_stars = self._vetoes(case, veto_hits, findings, msrc)
        else:    # most months: nothing vetoed
            vetoes, failed, zero_score, withhold, zero_stars = [], False, False, False, False
        if zero_score and score != 0:
            findings.append(entry(vetoes[0]["rule_id"], vetoes[0]["label"], "veto", "一票否决", vetoes[0]["domain"],
                                  "veto", -score, {"否决前得分": n(score)}, f"得分由{n(score)}分计为0分", msrc))
            score = ZERO

        stars, b = self._grade(score)
        if stars is not None and zero_stars and vetoes:
            stars = 0
        band, ratio, base, pay = self._pay(b, withhold, wage)
        if band is not None and vetoes and (failed or withhold):
            band = veto_band(vetoes, band, ratio, withhold)
        return WorkerResult(case, findings, items, deductions, bonus, score, vetoes, failed, stars, band, ratio,
                            base, pay)

    def _vetoes(self, case: WorkerCase, veto_hits: list, findings: list, msrc) -> tuple:
        """The month's vetoes (their findings appended to `findings`): (vetoes, failed, zero score,
        withhold pay, zero stars)."""
        doc = self.doc
        vetoes, failed, zero_score, withhold, zero_stars = [], False, False, False, False
        fired = [self.vetoes[cr.rule_id] for cr in sorted(veto_hits, key=lambda c: c.index)]
        effects = [self.policy.veto_effect(v) for v in fired]
        consequences = []
        if any(e.fail for e in effects):
            consequences.append("本月考核不合格")
        if any(e.pay == "withhold" for e in effects) and doc.pay is not None:
            consequences.append("绩效工资不予发放")
        if any(e.stars == "zero" for e in effects) and doc.stars is not None:
            consequences.append("星级计为0星")
        for j, (v, eff) in enumerate(zip(fired, effects)):
            failed |= eff.fail
            zero_score |= eff.score == "zero"
            withhold |= eff.pay == "withhold"
            zero_stars |= eff.stars == "zero"
            m = doc.metrics[v.metric]
            val = case.metrics[v.metric]
            vetoes.append({"rule_id": v.id, "label": v.label, "domain": v.domain,
                           "effect": {"fail": eff.fail, "score": eff.score, "pay": eff.pay, "stars": eff.stars}})
            # the consequences of all the month's vetoes are said once, in the first veto's reason
            texts = {"否决项": v.label, "领域": v.domain, "指标": m.label, "数值": n(val) if not isinstance(val, bool) else
                     ("是" if val else "否"), "单位": unit_of(m), "后果": "，" + "，".join(consequences)
                     if j == 0 and consequences else ""}
            findings.append(entry(v.id, v.label, "veto", "一票否决", v.domain, "veto", ZERO,
                                  {v.metric: value_text(m, val)}, self._veto_fill[v.id](texts), msrc))
        return vetoes, failed, zero_score, withhold, zero_stars

    def _pay(self, b, withhold: bool, wage: Decimal | None) -> tuple:
        """The band entry, the ratio paid, the performance base and the pay: wage × share × ratio,
        rounded once to the fen, half up (the base shown beside it is rounded the same way)."""
        if b is None:
            return None, None, None, None
        band = dict(self._bands[id(b)])
        ratio = ZERO if withhold else b.ratio
        key = (id(b), withhold, wage)      # a month has few distinct wages: each worked out once
        got = self._pays.get(key)
        if got is None:
            base = pay = None
            if wage is not None:
                share = wage * self.doc.pay.performance_share
                base = share.quantize(FEN, rounding=ROUND_HALF_UP)
                pay = (share * ratio).quantize(FEN, rounding=ROUND_HALF_UP)
            got = (base, pay)
            if len(self._pays) < 100_000:
                self._pays[key] = got
        return band, ratio, got[0], got[1]

    def _earned(self, it, fs: list[tuple], msrc) -> tuple[Decimal, bool, list[tuple]]:
        """An earn item starts at 0, earns what its rules give, nets its own deductions, and ends
        between 0 and its points.  Returns (deducted = points − earned, capped, findings)."""
        net = sum((f[0] for f in fs), ZERO)
        earned = min(max(net, ZERO), it.points)
        base = self._earn_base.get(it.id)
        if base is None:   # the same words for every worker: worked out once per item
            base = self._earn_base[it.id] = (-it.points, n(it.points), f"“{it.label}”为得分项，从0分起计，满分{n(it.points)}分")
        out = [entry(it.id, it.label, it.id, it.label, it.category, "earn_base", base[0], {"项目分值": base[1]}, base[2], msrc)]
        out += fs
        if net > it.points:
            out.append(entry(it.id, it.label, it.id, it.label, it.category, "cap", it.points - net,
                             {"得分合计": n(net), "项目分值": n(it.points)},
                             f"“{it.label}”得分合计{n(net)}分，超过该项分值{n(it.points)}分，按{n(it.points)}分计", msrc))
        elif net < 0:
            out.append(entry(it.id, it.label, it.id, it.label, it.category, "cap", -net,
                             {"得分合计": n(net), "项目分值": n(it.points)},
                             f"“{it.label}”扣分多于得分（合计{n(net)}分），本项按0分计", msrc))
        return it.points - earned, net > it.points or net < 0, out

    def worker_dict(self, w: WorkerInfo, r: WorkerResult) -> dict:
        """A worker's results.json entry (docs/results.md)."""
        untouched = self._untouched
        return {
            "worker_id": w.worker_id, "name": w.name, "town": w.town, "community": w.community, "grid": w.grid,
            "role": w.role, "employment": w.employment, "attributes": w.attributes,
            "wage": money(w.wage) if w.wage is not None else None,
            "items": [dict(untouched[it.id]) if ded is ZERO else self._item_entry(it, ded, capped)
                      for it, ded, capped in r.items],
            "deductions": n(r.deductions), "bonus": n(r.bonus), "score": n(r.score),
            "veto": r.vetoes[0] if r.vetoes else None, "vetoes": r.vetoes, "failed": r.failed,
            "stars": r.stars, "band": r.band,
            "pay_ratio": n(r.pay_ratio) if r.pay_ratio is not None else None,
            "performance_base": money(r.performance_base) if r.performance_base is not None else None,
            "pay": money(r.pay) if r.pay is not None else None,
            "rank": r.rank,
            **({"metrics": self._metric_values(r.case.metrics)} if self._metric_values is not None else {}),
            "findings": [d for _, d in r.findings],
        }

    def _item_entry(self, it, ded: Decimal, capped: bool) -> dict:
        """An item's results.json entry, worked out once per item and points deducted (a copy each time)."""
        key = (it.id, ded, capped)
        got = self._entries.get(key)
        if got is None:
            got = _item_entry(it, ded, capped)
            if len(self._entries) < 100_000:
                self._entries[key] = got
        return dict(got)


def metrics_period_rules_read(doc) -> set[str]:
    """Metric ids that grade conditions of the policy's period rules read (engine/periods)."""
    if doc.periods is None:
        return set()
    return {c.metric for r in doc.periods.rules for g in getattr(r, "grades", ()) for c in g.require
            if c.metric is not None}


VETO_BAND = "veto"       # band id of a month decided by a veto (issue 11.1)


def veto_band(vetoes: list[dict], score_band: dict, ratio: Decimal, withhold: bool) -> dict:
    """The band a vetoed worker actually got: the one answer every sheet reads (results.json,
    CSVs, pay sheets, slips, bulletin), so that 档次, 发放比例 and 绩效工资 agree and the reason
    is named.  The band the score alone would have earned stays in `score_band` (the policy's
    worked examples check that one)."""
    reason = "一票否决：" + "、".join(v["label"] for v in vetoes) + ("，绩效工资不予发放" if withhold else "")
    return {"id": VETO_BAND, "label": "一票否决", "range": "", "ratio": n(ratio),
            "vetoes": [v["rule_id"] for v in vetoes], "reason": reason, "score_band": score_band}


def _item_entry(it, ded: Decimal, capped: bool) -> dict:
    """An item's entry in a worker's results.json."""
    return {"item_id": it.id, "label": it.label, "category": it.category, "points": n(it.points),
            "deducted": n(ded), "capped": capped, "earned": n(it.points - ded)}


@lru_cache(maxsize=64)
def _basename(path: str) -> str:
    return Path(path).name


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
            r.findings = [Finding.of(f) for f in r.findings]
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
            _to_old_generation()
            gc.enable()


def _to_old_generation() -> None:
    """Everything the collector tracks moved to its oldest generation, without a pass over it.

    The month's results (millions of dicts and lists, all alive) were made with the collector
    off, so they sit in the youngest generation with its count far over the threshold: the first
    allocation after `gc.enable()` would walk all of them (and a later middle-generation pass
    again), only to find them alive.  gc.freeze() then gc.unfreeze() moves every generation into
    the oldest one as two list splices; nothing stays frozen, and the next full collection (the
    collector's own schedule) sees them as before.  Skipped when someone else has frozen objects
    (a server that froze its start-up heap), which unfreeze would thaw."""
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()


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
    tasks = _tasks(len(cases))
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


def _tasks(n: int) -> list[tuple[int, int]]:
    """Chunks of CHUNK cases, the last two or three chunks' worth in quarters: whoever takes the
    last chunk decides when the month is done, and the other process should not sit idle for most
    of a chunk (one chunk ≈ 0.8 s of CPU under the new forms).  Quarters start where whole chunks
    would (multiples of BATCH), so every durable_rules session holds the same workers as before."""
    tail = max((n - 2 * CHUNK) // CHUNK * CHUNK, 0)
    small = max(CHUNK // 4, 1)
    return [(off, min(off + CHUNK, tail)) for off in range(0, tail, CHUNK)] + \
        [(off, min(off + small, n)) for off in range(tail, n, small)]


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
        _widen(recv)
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


def _widen(conn) -> None:
    """The pipe's buffer as large as the system allows (Linux: /proc/sys/fs/pipe-max-size, 1 MiB by
    default, against 64 KiB).  A helper's part is megabytes; the thread that receives it needs the
    GIL for every read, and gets it only between this process's own scoring steps (every 5 ms): with
    64 KiB reads a helper sat blocked on a full pipe for a third of its time (measured: 100,000
    workers, the helper busy 7.0 s of 11.3)."""
    import fcntl

    try:
        size = int(Path("/proc/sys/fs/pipe-max-size").read_text())
        fcntl.fcntl(conn.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), min(size, 16 << 20))
    except (OSError, ValueError):
        pass       # not Linux, or not allowed: the default buffer works, only slower


def _helper(take, conn, tasks) -> None:
    """A forked helper of _shared_out: scores chunks until none is left, sends each one back.

    A thread sends, so that scoring goes on while a part waits for room in the pipe (a part is
    megabytes, and the parent's receiving thread empties the pipe only when it gets the GIL;
    measured: 0.6 s of 6 blocked in sending, 30,000 workers under load)."""
    import pickle
    import queue

    out: queue.SimpleQueue = queue.SimpleQueue()

    def send() -> None:
        while (msg := out.get()) is not None:
            conn.send_bytes(msg)

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        while (i := take()) < len(tasks):
            out.put(pickle.dumps((i, _pooled_chunk(tasks[i])), pickle.HIGHEST_PROTOCOL))
    except BaseException as exc:  # the parent raises it
        try:
            msg = pickle.dumps((-1, exc))
        except Exception:
            msg = pickle.dumps((-1, RuleEngineError(f"并行评分的子进程出错：{exc!r}")))
        out.put(msg)
    finally:
        out.put(b"")
        out.put(None)
        sender.join()
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
                progress: Callable[[int], None] | None = None, inputs: MonthInputs | None = None,
                records=None) -> dict:
    """Read, check and score one month; returns the results.json structure (docs/results.md)."""
    if inputs is None:
        inputs = read_month(policy, month, workers, metrics, events, records)
    return build_results(policy, month, inputs, score_workers(policy, inputs, processes, progress))


def build_results(policy: Policy, month: str, inputs: MonthInputs, workers: list[dict]) -> dict:
    return {
        "format": FORMAT,
        "month": month,
        "policy": {"id": policy.id, "name": policy.name, "version": policy.version, "hash": policy.hash,
                   "files": policy.files, "full_score": n(policy.full_score), "max_score": n(policy.max_score)},
        "inputs": {k: {"path": v, "sha256": sha256_file(v)} for k, v in inputs.files.items()},
        "rounding": ROUNDING_RULE,
        **({"notes": inputs.notes} if inputs.notes else {}),
        "workers": workers,
    }


# --------------------------------------------------------------------------- outputs


RESULT_COLUMNS = ["工号", "姓名", "乡镇", "社区", "网格", "得分", "扣分", "加分", "一票否决", "星级", "档次",
                  "发放比例", "绩效基数", "绩效工资", "名次"]
FINDING_COLUMNS = ["工号", "姓名", "规则编号", "规则名称", "考核项目", "类型", "分值", "原因", "来源文件", "来源行", "事件编号"]
KIND_ZH = {"deduction": "扣分", "bonus": "加分", "veto": "一票否决", "cap": "扣完为止", "bonus_cap": "加分封顶",
           "earn": "得分", "earn_base": "得分项起点"}


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
    from .jsontext import dumps_indented     # json.dumps(res, ensure_ascii=False, indent=1), faster

    return dumps_indented(res, 1) + "\n"


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
        for mid, m in doc.metrics.items():
            if m.computed:
                continue
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
            records = example_records(doc, ex) if ex.records else None
            cases.append(prepare_case(policy, ex.month, f"例{i + 1}", attrs, metrics, _example_events(ex), records))
            wage = ex.worker.get("wage")
            wages.append(Decimal(str(wage)) if wage is not None else None)
    results = score_cases(policy, cases, wages, processes=1) if cases else []
    for i, r in zip(checked, results):
        problems.extend(_compare_example(policy, i, doc.examples[i], r))
    return problems


def _example_events(ex: ExampleDef) -> list[EventCase]:
    """An example's events: in hours as written, or read from their times like the log."""
    out = []
    for k, e in enumerate(ex.events):
        eid = e.id or f"例{k + 1}"
        if e.discovered is None:
            out.append(EventCase(eid, e.category, e.severity, e.delay_hours, e.handling_hours, e.unclosed,
                                 problem=e.problem))
            continue
        times = {key: parse_timestamp(v) for key, v in
                 [("discovered", e.discovered), ("reported", e.reported), ("closed", e.closed)] + list(e.stages.items())
                 if v is not None}
        out.append(make_event(eid, e.category, e.severity, times, ex.month, e.problem))
    return out


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
    # an example names the band of the score; a vetoed month's band is VETO_BAND, its score's kept inside
    band = r.band or {}
    chk("band", "档次", e.band, band.get("id") if e.band == band.get("id") else (band.get("score_band") or band).get("id"))
    chk("pay", "绩效工资", money(e.pay) if e.pay is not None else None, money(r.pay) if r.pay is not None else None)
    if e.veto is not None:
        got = bool(r.vetoes) if isinstance(e.veto, bool) else ",".join(v["rule_id"] for v in r.vetoes) or "无"
        chk("veto", "一票否决", e.veto, got)
    if e.findings is not None:
        got: dict[str, Decimal] = defaultdict(Decimal)
        rule_ids = _rule_ids(policy)
        for f in r.findings:
            # a rule's points net of its own cap; item caps and the bonus cap are not a rule's
            if f.kind in ("deduction", "bonus", "earn") or (f.kind == "cap" and f.rule_id in rule_ids):
                got[f.rule_id] += f.points
        for rid, pts in e.findings.items():
            chk(["findings", rid], "分值", n(pts), n(got.get(rid, Decimal(0))))
        extra = [rid for rid in got if rid not in e.findings]
        if extra:
            path = ["examples", i, "expect", "findings"]
            out.append(Problem(policy.files[0], line_of(policy.raw, path), dotted(path),
                               "、".join(f"{x}: {n(got[x])}" for x in extra),
                               f"列出触发的每一条规则（示例「{ex.name}」的 findings 没有列出发现的这些规则及其分值）"))
    for rid, want in (e.reasons or {}).items():
        got_reason = next((f.reason for f in r.findings if f.rule_id == rid and f.kind != "cap"), None)
        chk(["reasons", rid], "原因", want, got_reason)
    if out:
        detail = "；".join(f.reason for f in r.findings) or "无扣分"
        out[0] = replace(out[0], hint=f"计算明细：{detail}")
    return out


def _shown(v: Any) -> str | None:
    """An expected or computed value as the policy file writes it (true/false, 2.5, 540.00)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    return None if v is None else str(v)
