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
* Errors inside actions are swallowed -> durable_rules' Python Host, which swallows them, is
  not used (see _Host): our own loop runs the actions, which only record the match; any
  exception there is kept and raised as RuleEngineError.
* Strings compare as text -> metric values are converted to numbers/bools before posting,
  and attribute conditions compare strings only with equality.
* A fact that matches no rule makes the whole batch raise -> a catch-all rule per fact type
  also proves that every fact was seen exactly once (a lost fact is an error, not a zero).
* The background dispatcher can run actions behind our back -> no Host, hence no dispatcher
  thread: the C engine is called directly, one thread per process.
"""
from __future__ import annotations

import itertools
import json
import os
import re
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

import durable_rules_engine as _dre     # durable_rules' C engine (see _Host)
from durable import engine as _dr      # its exception types

from .cases import EventCase, RecordPeriod, WorkerCase
from .errors import RuleEngineError
from .kinds import KINDS
from .kinds.base import double_text, range_terms
from .kinds.event import EventFacts
from .kinds.records import RecordFacts
from .policy import Policy

BATCH = 100                             # workers per sid: amortises sid set-up and callbacks (see _run_sid)
CAP = 1_000_000                         # `cap`: a rule's matches in one sid arrive in one callback

__all__ = ["EventCase", "WorkerCase", "RecordPeriod", "CompiledRule", "Hit", "Evaluator", "compile_policy",
           "evaluate_cases", "evaluator_for", "CHUNK"]


@dataclass(frozen=True)
class CompiledRule:
    """One durable_rules rule and what it stands for in the policy."""

    index: int
    name: str                 # durable_rules rule name
    target: str               # "w" worker fact, "e" event fact, "p" record period fact
    rule_id: str              # policy rule / veto id
    kind: str                 # a rule form of engine/kinds, or "veto"
    section: str              # item id, "bonus", or "veto"
    tier: int | None = None   # tiers: which tier; records: which slot
    quota_key: str | None = None   # shortfall by attribute: which attribute value ("*" = default)
    place: int | None = None       # records: which day or week of the month


class Hit(NamedTuple):    # a tuple: made millions of times, 5x cheaper than a frozen dataclass
    rule: int                 # CompiledRule.index
    case: int                 # index of the WorkerCase
    event: int | None = None  # index of the EventCase within the worker (for "p" rules: of the records fact)


# --------------------------------------------------------------------------- compiling


class FieldNames:
    """Short fact field names ("m3", "a0"): every fact travels through JSON in each callback."""

    def __init__(self, policy: Policy):
        self.metric = {mid: f"m{i}" for i, mid in enumerate(policy.doc.metrics)}
        self.attr = {name: f"a{i}" for i, name in enumerate(policy.doc.attributes)}


class CompileContext:
    """What a rule kind's `conditions` may read: fact field names and the event fields in use."""

    def __init__(self, policy: Policy):
        self.names = FieldNames(policy)
        self.events = EventFacts(policy.doc)
        self.periods = RecordFacts(policy.doc, self.names)
        self.doc = policy.doc


def compile_policy(policy: Policy) -> tuple[list[CompiledRule], list[dict]]:
    """Each policy rule becomes one or more durable_rules conditions (tiers and quotas split)."""
    doc = policy.doc
    ctx = CompileContext(policy)
    names = ctx.names
    table: list[CompiledRule] = []
    conds: list[dict] = []

    def emit(rule_id: str, kind: str, section: str, target: str, terms: list[dict], **kw) -> None:
        idx = len(table)
        table.append(CompiledRule(idx, f"r{idx}_{rule_id}", target, rule_id, kind, section, **kw))
        conds.append({"$and": terms} if len(terms) > 1 else terms[0])

    def rule(r, section: str) -> None:
        kind = KINDS[r.kind]
        for c in kind.conditions(r.spec, ctx):
            emit(r.id, r.kind, section, kind.target, c.terms, tier=c.tier, quota_key=c.quota_key, place=c.place)

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
            terms = [{"t": "w"}] + range_terms(fld, v.range)
        else:
            terms = [{"t": "w"}, {"$gte": {fld: 1}}]
        emit(v.id, "veto", "veto", "w", terms)
    return table, conds


# --------------------------------------------------------------------------- the host


class _Host:
    """durable_rules' C engine (the rete network that matches), driven without its Python Host.

    durable_rules' own Host wraps every call in json.dumps/json.loads of whole facts, builds a
    Closure and a Content per matched fact and re-serialises the session state after every
    callback; at 100 workers per session that glue cost more than the matching.  Here the fact
    text is written directly (compact, only the fields rules read), and of each result only
    the rule name and the keys of the matched facts are read back (see `_keys`).  There is no
    background dispatcher thread at all, so nothing can run an action behind our back.
    The calls are those of durable_rules 2.0.28's `durable.engine.Ruleset` (the pinned version).
    """

    def __init__(self):
        self._handles: dict[str, int] = {}

    def register(self, name: str, spec: dict) -> None:
        # ASCII only (\u escapes), like every fact (see _jstr): durable_rules compares strings as written
        self._handles[name] = _dre.create_ruleset(name, json.dumps(spec))

    def assert_facts(self, ruleset: str, payload: str) -> int:
        """Assert a JSON array of facts; returns the session's state offset for `results`."""
        code, state = _dre.assert_facts(self._handles[ruleset], payload)
        if code == 1:
            raise _dr.MessageNotHandledException(payload[:200])
        if code == 2:
            raise _dr.MessageObservedException(payload[:200])
        return state

    def results(self, ruleset: str, state: int):
        """Each pending action of the session, as durable_rules' JSON text {"rule": [{"m": fact}, …]}."""
        handle = self._handles[ruleset]
        started = _dre.start_action_for_state(handle, state)
        text = started[1] if started else None
        while text is not None:
            yield text
            text = _dre.complete_and_start_action(handle, state)

    def delete_state(self, ruleset: str, sid: str) -> None:
        _dre.delete_state(self._handles[ruleset], sid)


# The key every fact starts with: "k" (worker) and, for events, "ei".  Inside a JSON string every
# quote is escaped, so `{"k":` can only open one of our facts (durable_rules hands a fact back as
# it was written, and we write "k" first: a fact read otherwise would be missed by the check that
# every fact was seen once).  The brace makes the literal the scan looks for rarer: long record
# facts are a quarter faster to scan.
_KEY = re.compile(r'\{"k":(\d+)(?:,"ei":(\d+))?')


def _keys(text: str) -> list[tuple[str, str]]:
    """(k, ei) of each fact in a result, as text; ei is "" for a worker fact."""
    return _KEY.findall(text)


class _Ints(dict):
    """Key text -> int, each text converted once ("" -> None: a worker fact has no event index).
    A hit reads two: a dict lookup is half the cost of int()."""

    def __missing__(self, text: str) -> int | None:
        if len(self) >= 100_000:
            self.clear()
            self[""] = None
        got = self[text] = int(text) if text else None
        return got


_INT = _Ints()


def _rule_name(text: str) -> str:
    return text[2:text.index('"', 2)]


@lru_cache(maxsize=4096)
def _jstr(v: str) -> str:
    """A string as fact text, ASCII only (\\u escapes).  durable_rules compares a fact's string with a
    condition's as both were written (not unescaped), so the rulesets are written the same way
    (_Host.register; rule ids are ASCII already).  Each result repeats whole facts (a records fact a
    dozen times a worker): as pure ASCII, Python reads that text back without UTF-8 decoding, one byte
    a character (one attribute such as 社区 made every result text two bytes a character)."""
    return json.dumps(v)


_COUNTER = itertools.count()


class Evaluator:
    """One compiled policy registered in one process-local ruleset."""

    def __init__(self, policy: Policy):
        self.policy = policy
        self.table, conds = compile_policy(policy)
        self.ruleset = f"p{policy.hash[:10]}_{os.getpid()}_{next(_COUNTER)}"
        self._hits: list[tuple[int, list[tuple[str, str]]]] = []
        self._errors: list[BaseException] = []
        self._seen: list[tuple[str, str]] = []
        self._live_sids = 0
        spec: dict[str, dict] = {}
        self._actions: dict[str, Any] = {}
        # Every rule is capped: durable_rules then hands over all the facts that matched a rule in
        # one sid in one result, instead of one result per fact.
        for cr, cond in zip(self.table, conds):
            spec[cr.name] = {"all": [{"m": cond}], "cap": CAP}
            self._actions[cr.name] = self._action(cr.index)
        # catch-alls: every fact matches at least one rule, and we can prove each was seen once
        spec["seen_worker"] = {"all": [{"m": {"t": "w"}}], "cap": CAP}
        spec["seen_event"] = {"all": [{"m": {"t": "e"}}], "cap": CAP}
        spec["seen_period"] = {"all": [{"m": {"t": "p"}}], "cap": CAP}
        # (k, ei) keys tell worker, event and record-period facts apart: one action records all.
        self._actions["seen_worker"] = self._actions["seen_event"] = self._actions["seen_period"] = \
            self._seen_action()
        # every metric and attribute a rule reads must be on every fact: a missing field never
        # matches.  Only those go on the fact: the rest would only be carried through JSON.
        self.required_metrics = _referenced_metrics(policy)
        names = FieldNames(policy)
        self.attr_names = list(names.attr)
        metric_ids = [mid for mid in names.metric if mid in self.required_metrics]
        self._metric_values = lambda metrics: [metrics[mid] for mid in metric_ids]
        # fact text templates: %s for k (and ei), the sid, then each field's JSON value
        fields = [names.attr[a] for a in self.attr_names] + [names.metric[mid] for mid in metric_ids]
        self._worker_fact = '{"k":%s,"t":"w","sid":%s' + "".join(f',"{f}":%s' for f in fields) + "}"
        self._event_fact = '{"k":%s,"ei":%s,"t":"e","sid":%s,"cat":%s,"sev":%s,"uc":%s%s%s%s}'
        ctx = CompileContext(policy)
        # the event fields only some policies read (stage months, intervals, deadlines, problem runs)
        self._event_extras = ctx.events.extras if ctx.events.active else None
        # record periods (days, weeks) are facts only when a rule checks them; their "ei" follows the events'
        self._record_bodies = ctx.periods.bodies if ctx.periods.active else None
        self.host = _Host()
        self.host.register(self.ruleset, spec)

    def _action(self, index: int):
        hits, errors = self._hits, self._errors

        def act(keys):
            try:
                record_hit(hits, index, keys)
            except BaseException as exc:  # an action must never be lost silently; we keep it
                errors.append(exc)

        return act

    def _seen_action(self):
        seen, errors = self._seen, self._errors

        def act(keys):
            try:
                seen.extend(keys)
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

    def _facts(self, batch: list[WorkerCase], base: int, sid: str) -> tuple[str, set]:
        """The batch as the JSON array durable_rules reads, and the (k, ei) keys it must return."""
        parts, expected = [], set()
        sid = _jstr(sid)
        worker_fact, event_fact, attr_names, metric_values = \
            self._worker_fact, self._event_fact, self.attr_names, self._metric_values
        for i, case in enumerate(batch):
            k = str(base + i)
            try:
                values = metric_values(case.metrics)
            except KeyError:
                missing = self.required_metrics - case.metrics.keys()
                raise RuleEngineError(f"工号 {case.worker_id} 缺少指标 {'、'.join(sorted(missing))}，无法评分")
            attrs = case.attributes
            # an absent attribute value is "", so a quota's default applies
            texts = [_jstr("" if attrs.get(a) is None else str(attrs[a])) for a in attr_names]
            texts += ["true" if v is True else "false" if v is False else double_text(v) for v in values]
            parts.append(worker_fact % (k, sid, *texts))
            expected.add((k, ""))
            extras = self._event_extras
            for j, ev in enumerate(case.events):
                ej = str(j)
                parts.append(event_fact % (
                    k, ej, sid, _jstr(ev.category or ""), _jstr(ev.severity or ""), "true" if ev.unclosed else "false",
                    ',"nr":true' if ev.delay_hours is None else ',"nr":false,"dh":' + double_text(ev.delay_hours),
                    "" if ev.handling_hours is None else ',"hh":' + double_text(ev.handling_hours),
                    extras(ev) if extras is not None else ""))
                expected.add((k, ej))
            if self._record_bodies is not None:
                for j, body in enumerate(self._record_bodies(case), len(case.events)):
                    ej = str(j)
                    parts.append('{"k":%s,"ei":%s,"t":"p","sid":%s%s}' % (k, ej, sid, body))
                    expected.add((k, ej))
        return "[" + ",".join(parts) + "]", expected

    def _run_sid(self, sid: str, facts: str, expected: set, offset: int) -> list[Hit]:
        self._hits.clear()
        self._seen.clear()
        self._errors.clear()
        if self._live_sids != 0:
            raise RuleEngineError(f"规则引擎会话未释放（{self._live_sids} 个），为避免超过 1024 个会话的上限而停止")
        self._live_sids += 1
        try:
            try:
                state = self.host.assert_facts(self.ruleset, facts)
            except _dr.MessageObservedException:
                raise _Retry()
            except Exception as exc:
                raise RuleEngineError(f"规则引擎拒绝了输入：{exc}") from exc
            actions = self._actions
            for text in self.host.results(self.ruleset, state):
                actions[_rule_name(text)](_keys(text))
            if self._errors:
                raise RuleEngineError(f"规则动作执行出错：{self._errors[0]!r}") from self._errors[0]
            seen = self._seen
            if len(seen) != len(expected) or set(seen) != expected:
                raise RuleEngineError(f"规则引擎只处理了 {len(set(seen) & expected)}/{len(expected)} 条事实")
            new = tuple.__new__   # Hit(...) goes through a Python-level __new__: twice the cost
            return [new(Hit, (rule, offset + _INT[k], _INT[ei])) for rule, keys in self._hits for k, ei in keys]
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
    return set().union(*(KINDS[r.kind].metrics(r.spec) for r in rules)) | {v.metric for v in doc.vetoes}


class _Retry(Exception):
    pass


def record_hit(hits: list, index: int, keys: list[tuple[str, str]]) -> None:
    """What every rule action does: remember which rule matched which facts ((k, ei) as text)."""
    hits.append((index, keys))


# --------------------------------------------------------------------------- processes


_PROC_EVALUATORS: dict[str, Evaluator] = {}


def evaluator_for(policy: Policy) -> Evaluator:
    """The process-local evaluator of a policy (one ruleset per process: durable_rules holds the GIL)."""
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
