"""Policy -> durable_rules rulesets -> which rule fired for which worker or event.

This is the only module that imports durable_rules.  durable_rules decides *which* rules
match; engine/scoring.py turns each match into points with exact decimals.  The traps
listed in shared/notes/durable_rules.md are guarded here, each with a test in
tests/test_assessment_traps.py:

* An event fires only one rule -> every input is asserted as a *fact*, never posted as an
  event, so all matching rules fire.
* State leaks between months -> every batch uses a fresh sid (run nonce + batch number) and
  the sid is deleted right after; nothing is kept in `c.s`.
* 1,024 live sids crash the process -> at most one live sid per ruleset at a time (asserted).
* Errors inside actions are swallowed -> actions only record the match; any exception there
  is captured on our side and raised as RuleEngineError, and `state['exception']` is checked
  whenever a call fails.
* Strings compare as text -> metric values are converted to numbers/bools before posting,
  and attribute conditions compare strings only with equality.
* A fact that matches no rule makes the whole batch raise -> a catch-all rule per fact type
  also proves that every fact was seen exactly once (a lost fact is an error, not a zero).
* The background dispatcher can run actions behind our back -> a Host with `_run` disabled.
"""
from __future__ import annotations

import itertools
import os
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable

from durable import engine as _dr

from .errors import RuleEngineError
from .intervals import Interval
from .policy import EventFilter, Policy, QuotaBy, RuleDef

BATCH = 100                             # workers per sid: amortises sid set-up and callbacks (see _run_sid)
CAP = 1_000_000                         # `cap`: a rule's matches in one sid arrive in one callback


# --------------------------------------------------------------------------- inputs


@dataclass
class EventCase:
    event_id: str
    category: str
    severity: str
    delay_hours: Decimal | None          # reported - discovered; None = never reported (infinitely late)
    handling_hours: Decimal | None       # closed - reported; None if not closed
    unclosed: bool
    source: tuple[str, int] | None = None


@dataclass
class WorkerCase:
    """One worker-month, with values already checked and converted."""

    worker_id: str
    attributes: dict[str, str]
    metrics: dict[str, Any]              # metric id -> Decimal or bool
    events: list[EventCase] = field(default_factory=list)


@dataclass(frozen=True)
class CompiledRule:
    """One durable_rules rule and what it stands for in the policy."""

    index: int
    name: str                 # durable_rules rule name
    target: str               # "w" worker fact, "e" event fact
    rule_id: str              # policy rule / veto id
    kind: str                 # per_count | shortfall | tiers | event | veto
    section: str              # item id, "bonus", or "veto"
    tier: int | None = None   # tiers: which tier
    quota_key: str | None = None   # shortfall by attribute: which attribute value ("*" = default)


@dataclass(frozen=True)
class Hit:
    rule: int                 # CompiledRule.index
    case: int                 # index of the WorkerCase
    event: int | None = None  # index of the EventCase within the worker


# --------------------------------------------------------------------------- compiling


def _num(d: Decimal) -> float:
    """Decimals reach durable_rules as doubles; values have at most 4 decimals, so order is kept."""
    return float(d)


def _range_terms(fld: str, rng: Interval) -> list[dict]:
    terms = []
    if rng.lo is not None:
        terms.append({("$gte" if rng.lo_closed else "$gt"): {fld: _num(rng.lo)}})
    if rng.hi is not None:
        terms.append({("$lte" if rng.hi_closed else "$lt"): {fld: _num(rng.hi)}})
    return terms


def _any_of(fld: str, values: list[str]) -> dict:
    return {"$or": [{fld: v} for v in values]} if len(values) > 1 else {fld: values[0]}


class FieldNames:
    """Short fact field names ("m3", "a0"): every fact travels through JSON in each callback."""

    def __init__(self, policy: Policy):
        self.metric = {mid: f"m{i}" for i, mid in enumerate(policy.doc.metrics)}
        self.attr = {name: f"a{i}" for i, name in enumerate(policy.doc.attributes)}


def event_terms(f: EventFilter) -> list[dict]:
    terms: list[dict] = [{"t": "e"}]
    if f.category:
        terms.append(_any_of("cat", f.category))
    if f.severity:
        terms.append(_any_of("sev", f.severity))
    if f.delay_hours is not None:
        # An event never reported is infinitely late: it lies in every interval open to +inf, and
        # in no bounded one.  It carries nr=true and no delay field.
        reported = [{"nr": False}] + _range_terms("dh", f.delay_hours)
        if f.delay_hours.hi is None:
            terms.append({"$or": [{"nr": True}, {"$and": reported}]})
        else:
            terms += reported
    if f.handling_hours is not None:
        terms += [{"$ex": {"hh": 1}}] + _range_terms("hh", f.handling_hours)
    if f.unclosed is not None:
        terms.append({"uc": bool(f.unclosed)})
    return terms


def compile_policy(policy: Policy) -> tuple[list[CompiledRule], list[dict]]:
    """Each policy rule becomes one or more durable_rules conditions (tiers and quotas split)."""
    doc = policy.doc
    names = FieldNames(policy)
    table: list[CompiledRule] = []
    conds: list[dict] = []

    def emit(rule_id: str, kind: str, section: str, target: str, terms: list[dict], **kw) -> None:
        idx = len(table)
        table.append(CompiledRule(idx, f"r{idx}_{rule_id}", target, rule_id, kind, section, **kw))
        conds.append({"$and": terms} if len(terms) > 1 else terms[0])

    def rule(r: RuleDef, section: str) -> None:
        spec = r.spec
        if r.kind == "event":
            emit(r.id, "event", section, "e", event_terms(spec))
            return
        fld = names.metric[spec.metric]
        if r.kind == "per_count":
            emit(r.id, "per_count", section, "w", [{"t": "w"}, {"$gt": {fld: 0}}])
        elif r.kind == "tiers":
            for j, t in enumerate(spec.tiers):
                emit(r.id, "tiers", section, "w", [{"t": "w"}] + _range_terms(fld, t.range), tier=j)
        elif r.kind == "shortfall":
            q = spec.quota
            if isinstance(q, QuotaBy):
                af = names.attr[q.by]
                for val, quota in q.values.items():
                    emit(r.id, "shortfall", section, "w", [{"t": "w"}, {af: val}, {"$lt": {fld: _num(quota)}}],
                         quota_key=val)
                if q.default is not None:
                    others = [{"$neq": {af: v}} for v in q.values]
                    emit(r.id, "shortfall", section, "w", [{"t": "w"}] + others + [{"$lt": {fld: _num(q.default)}}],
                         quota_key="*")
            else:
                emit(r.id, "shortfall", section, "w", [{"t": "w"}, {"$lt": {fld: _num(q)}}])

    for it in doc.items:
        for r in it.rules:
            rule(r, it.id)
    if doc.bonus:
        for r in doc.bonus.rules:
            rule(r, "bonus")
    for v in doc.vetoes:
        m = doc.metrics[v.metric]
        fld = names.metric[v.metric]
        if m.type == "bool":
            terms = [{"t": "w"}, {fld: True}]
        elif v.range is not None:
            terms = [{"t": "w"}] + _range_terms(fld, v.range)
        else:
            terms = [{"t": "w"}, {"$gte": {fld: 1}}]
        emit(v.id, "veto", "veto", "w", terms)
    return table, conds


# --------------------------------------------------------------------------- the host


class _QuietHost(_dr.Host):
    """A Host without the background dispatcher threads (see the module docstring)."""

    def _run(self):  # noqa: D401 - durable_rules hook
        pass


_COUNTER = itertools.count()


class Evaluator:
    """One compiled policy registered in one process-local Host."""

    def __init__(self, policy: Policy):
        self.policy = policy
        self.table, conds = compile_policy(policy)
        self.ruleset = f"p{policy.hash[:10]}_{os.getpid()}_{next(_COUNTER)}"
        self._hits: list[tuple[int, dict]] = []
        self._errors: list[BaseException] = []
        self._seen: list[tuple[str, int, int]] = []
        self._live_sids = 0
        spec: dict[str, dict] = {}
        # Every rule is capped: durable_rules then calls the action once per sid with all the
        # facts that matched, instead of once per fact (each callback costs ~35 µs of state JSON).
        for cr, cond in zip(self.table, conds):
            spec[cr.name] = {"all": [{"m": cond}], "cap": CAP, "run": self._action(cr.index)}
        # catch-alls: every fact matches at least one rule, and we can prove each was seen once
        spec["seen_worker"] = {"all": [{"m": {"t": "w"}}], "cap": CAP, "run": self._seen_action("w")}
        spec["seen_event"] = {"all": [{"m": {"t": "e"}}], "cap": CAP, "run": self._seen_action("e")}
        # every metric and attribute a rule reads must be on every fact: a missing field never matches
        self.required_metrics = _referenced_metrics(policy)
        names = FieldNames(policy)
        self.attr_fields = list(names.attr.items())
        self.metric_fields = names.metric
        self.host = _QuietHost()
        self.host.register_rulesets({self.ruleset: spec})

    def _action(self, index: int):
        hits, errors = self._hits, self._errors

        def act(c):  # exactly one parameter: durable_rules treats two as an async action
            try:
                for m in _messages(c):
                    record_hit(hits, index, m)
            except BaseException as exc:  # durable_rules would swallow it; we keep it
                errors.append(exc)

        return act

    def _seen_action(self, kind: str):
        seen, errors = self._seen, self._errors

        def act(c):
            try:
                for d in _messages(c):
                    seen.append((kind, d["k"], d.get("ei", -1)))
            except BaseException as exc:
                errors.append(exc)

        return act

    def evaluate(self, cases: list[WorkerCase], offset: int = 0) -> list[Hit]:
        """Run every case through the ruleset; Hit.case is offset + position in `cases`."""
        out: list[Hit] = []
        nonce = uuid.uuid4().hex[:12]
        for b in range(0, len(cases), BATCH):
            batch = cases[b:b + BATCH]
            sid = f"{nonce}:{b}"
            facts, expected = self._facts(batch, b, sid)
            try:
                out.extend(self._run_sid(sid, facts, expected, offset))
            except _Retry:
                # a rare fact-id collision inside one sid: fall back to one sid per worker
                for i, case in enumerate(batch):
                    sid1 = f"{nonce}:{b}:{i}"
                    facts1, expected1 = self._facts([case], b + i, sid1)
                    out.extend(self._run_sid(sid1, facts1, expected1, offset))
        return out

    def _facts(self, batch: list[WorkerCase], base: int, sid: str) -> tuple[list[dict], set]:
        facts, expected = [], set()
        for i, case in enumerate(batch):
            k = base + i
            f: dict[str, Any] = {"t": "w", "k": k, "sid": sid}
            missing = self.required_metrics - case.metrics.keys()
            if missing:
                raise RuleEngineError(f"工号 {case.worker_id} 缺少指标 {'、'.join(sorted(missing))}，无法评分")
            for name, fld in self.attr_fields:   # an absent value is "", so a quota's default applies
                val = case.attributes.get(name)
                f[fld] = "" if val is None else str(val)
            fields = self.metric_fields
            for mid, val in case.metrics.items():
                f[fields[mid]] = val if val is True or val is False else float(val)
            facts.append(f)
            expected.add(("w", k, -1))
            for j, ev in enumerate(case.events):
                e: dict[str, Any] = {"t": "e", "k": k, "ei": j, "sid": sid,
                                     "cat": ev.category or "", "sev": ev.severity or "", "uc": bool(ev.unclosed)}
                e["nr"] = ev.delay_hours is None
                if ev.delay_hours is not None:
                    e["dh"] = _num(ev.delay_hours)
                if ev.handling_hours is not None:
                    e["hh"] = _num(ev.handling_hours)
                facts.append(e)
                expected.add(("e", k, j))
        return facts, expected

    def _run_sid(self, sid: str, facts: list[dict], expected: set, offset: int) -> list[Hit]:
        self._hits.clear()
        self._seen.clear()
        self._errors.clear()
        if self._live_sids != 0:
            raise RuleEngineError(f"规则引擎会话未释放（{self._live_sids} 个），为避免超过 1024 个会话的上限而停止")
        self._live_sids += 1
        try:
            try:
                if len(facts) == 1:
                    self.host.assert_fact(self.ruleset, facts[0])
                else:
                    self.host.assert_facts(self.ruleset, facts)
            except _dr.MessageObservedException:
                raise _Retry()
            except Exception as exc:
                raise RuleEngineError(f"规则引擎拒绝了输入：{exc}") from exc
            if self._errors:
                raise RuleEngineError(f"规则动作执行出错：{self._errors[0]!r}") from self._errors[0]
            seen = self._seen
            if len(seen) != len(expected) or set(seen) != expected:
                state = self.host.get_state(self.ruleset, sid)
                detail = f"；引擎记录的异常：{state['exception']}" if state and "exception" in state else ""
                raise RuleEngineError(
                    f"规则引擎只处理了 {len(set(seen) & expected)}/{len(expected)} 条事实{detail}")
            return [Hit(rule, offset + d["k"], d.get("ei")) for rule, d in self._hits]
        finally:
            self._delete(sid)

    def _delete(self, sid: str) -> None:
        try:
            self.host.delete_state(self.ruleset, sid)
        except Exception:
            pass  # a sid that never got state (the call raised before storing) has nothing to delete
        self._live_sids -= 1


def _referenced_metrics(policy: Policy) -> set[str]:
    doc = policy.doc
    rules = [r for it in doc.items for r in it.rules] + (doc.bonus.rules if doc.bonus else [])
    used = {r.spec.metric for r in rules if r.kind != "event"} | {v.metric for v in doc.vetoes}
    return used


class _Retry(Exception):
    pass


def _messages(c) -> list[dict]:
    """The matched facts of a capped rule's callback, as plain dicts."""
    m = c.m
    items = m if isinstance(m, list) else [m]
    return [x._d if hasattr(x, "_d") else x for x in items]


def record_hit(hits: list, index: int, message: dict) -> None:
    """What every rule action does: remember which rule matched which fact."""
    hits.append((index, message))


# --------------------------------------------------------------------------- processes


_PROC_EVALUATORS: dict[str, Evaluator] = {}


def evaluator_for(policy: Policy) -> Evaluator:
    """The process-local evaluator of a policy (one Host per process: durable_rules holds the GIL)."""
    ev = _PROC_EVALUATORS.get(policy.hash)
    if ev is None:
        ev = _PROC_EVALUATORS[policy.hash] = Evaluator(policy)
    return ev


CHUNK = 2000


def evaluate_cases(policy: Policy, cases: list[WorkerCase], progress=None) -> list[Hit]:
    """Evaluate all cases in this process (engine/scoring.py spreads chunks over processes)."""
    ev = evaluator_for(policy)
    hits: list[Hit] = []
    for off in range(0, len(cases), CHUNK):
        chunk = cases[off:off + CHUNK]
        hits.extend(ev.evaluate(chunk, off))
        if progress:
            progress(len(chunk))
    return hits
