"""Evaluating period rules over stored months: what each worker-month offers the rules, and the
helpers every kind shares (ranking, months of a period, withholding from the month's pay).

Everything works on plain values: `views_from_results(results)` turns a results.json dict into
`WorkerMonth` records, `evaluate(rules_for, views, targets)` returns the period additions
(peer_group, peer_rank, peer_size, last_place, period_findings, withheld, payable) for the
target months, computed only from the target month and the months before it.

Money: amounts withheld are the worker's performance pay or a fixed amount from the policy
(both already in fen), allocated in rule order and never above what is left of the month's
pay, so `payable = pay - withheld >= 0` needs no rounding.  Period scores are combined with
Decimal and rounded once, ROUND_HALF_UP, to the decimals the policy states.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable, Iterable, Mapping

from .base import FEN, ZERO
from .months import month_add, period_months
from .ranking import Placing, in_bottom, rank_group


_QUANTUM = {k: Decimal(1).scaleb(-k) for k in range(5)}     # decimals a period score may have (0-4)


@dataclass
class WorkerMonth:
    """What period rules need of one worker in one month (read from results.json)."""

    worker_id: str
    name: str
    employment: str
    group: dict                # the fields a peer group can be formed on
    score: Decimal
    failed: bool
    veto_count: int
    stars: int | None
    wage: Decimal
    performance_base: Decimal
    pay: Decimal
    facts: dict[str, Decimal] = field(default_factory=dict)   # "metric:<id>" values, "rule:<id>" finding counts


def month_facts(w: Mapping[str, Any]) -> dict[str, Decimal]:
    """The values grade conditions read: each metric (是 = 1), and how many findings each rule and
    veto gave (a rule's own cap finding is not a second finding)."""
    facts: dict[str, Decimal] = {}
    for mid, v in (w.get("metrics") or {}).items():
        facts["metric:" + mid] = Decimal(1 if v is True else 0) if isinstance(v, bool) else Decimal(str(v))
    for f in w.get("findings") or ():
        if f["kind"] in ("deduction", "earn", "bonus", "veto") and not (f["kind"] == "veto" and f["points"] != "0"):
            key = "rule:" + f["rule_id"]
            facts[key] = facts.get(key, Decimal(0)) + 1
    return facts


def views_from_results(results: Mapping[str, Any]) -> list[WorkerMonth]:
    out = []
    for w in results["workers"]:
        out.append(WorkerMonth(
            worker_id=w["worker_id"], name=w.get("name", ""), employment=w.get("employment") or "",
            group={"town": w.get("town") or "", "community": w.get("community") or "", "grid": w.get("grid") or "",
                   "role": w.get("role") or "", "employment": w.get("employment") or "",
                   "attributes": dict(w.get("attributes") or {})},
            score=Decimal(w["score"]), failed=bool(w.get("failed")),
            veto_count=len(w.get("vetoes") or ([w["veto"]] if w.get("veto") else [])),
            stars=w.get("stars"), wage=Decimal(w.get("wage") or "0"),
            performance_base=Decimal(w.get("performance_base") or "0"), pay=Decimal(w.get("pay") or "0"),
            facts=month_facts(w)))
    return out


def peer_key(view: WorkerMonth, peer_group: str) -> str:
    if peer_group == "all":
        return "全体"
    if peer_group.startswith("attribute:"):
        return str(view.group["attributes"].get(peer_group[len("attribute:"):], "") or "（未填）")
    return view.group[peer_group] or "（未填）"


def rank_month(views: list[WorkerMonth], ranking) -> dict[str, Placing]:
    """Competition ranking (1, 2, 2, 4) inside each peer group; a failed month ranks below every passed one."""
    groups: dict[str, list[WorkerMonth]] = {}
    for v in views:
        groups.setdefault(peer_key(v, ranking.peer_group), []).append(v)
    out: dict[str, Placing] = {}
    for key, members in groups.items():
        for v, (rank, worse, tied) in zip(members, rank_group([(v.failed, v.score) for v in members])):
            out[v.worker_id] = Placing(key, rank, len(members), worse, tied)
    return out


class Evaluator:
    """Evaluates period rules; all month data is held in `views` (month -> worker_id -> WorkerMonth)."""

    def __init__(self, rules_for: Callable[[str], Any], views: Mapping[str, list[WorkerMonth]]):
        self.rules_for = rules_for
        self.months = sorted(views)
        self.views = {m: {v.worker_id: v for v in vs} for m, vs in views.items()}
        self._placings: dict[tuple, dict[str, Placing]] = {}
        self._additions: dict[str, dict[str, dict] | None] = {}
        self.stored: Callable[[str], dict | None] | None = None
        self.first_target: str | None = None
        self._year_months: dict[str, list[str]] = {}
        self._placings_of: dict[tuple[str, int], tuple[Any, dict[str, Placing]]] = {}

    def placings(self, month: str, ranking) -> dict[str, Placing]:
        # asked per worker, month and rule: looked up by the ranking's identity first (hashing and
        # comparing the pydantic model took 40 % of a year's evaluation); the entry holds the
        # ranking, so its id is not reused while the entry lives
        hit = self._placings_of.get((month, id(ranking)))
        if hit is not None and hit[0] is ranking:
            return hit[1]
        key = (month, ranking)
        if key not in self._placings:
            self._placings[key] = rank_month(list(self.views[month].values()), ranking)
        self._placings_of[(month, id(ranking))] = (ranking, self._placings[key])
        return self._placings[key]

    def additions(self, month: str) -> dict[str, dict] | None:
        """Period additions of one stored month (memoised: later months read earlier findings)."""
        if month in self._additions:
            return self._additions[month]
        if self.stored is not None and self.first_target is not None and month < self.first_target:
            self._additions[month] = self.stored(month)
            return self._additions[month]
        rules = self.rules_for(month)
        if rules is None:
            self._additions[month] = None
            return None
        placing = self.placings(month, rules.ranking)
        adds: dict[str, dict] = {}
        for wid, v in self.views[month].items():
            p = placing[wid]
            adds[wid] = {"peer_group": p.group, "peer_rank": p.rank, "peer_size": p.size,
                         "last_place": in_bottom(p, 1, rules.ranking.last_place_ties),
                         "period_findings": [], "_remaining": v.pay}
        # monthly rules first (in policy order, which is also the order withholdings take from pay),
        # then grades, then the year-end ones, which read the month's findings and final payable amounts
        for rule in sorted(rules.rules, key=lambda r: r.phase):
            rule.evaluate(self, rules, month, adds)
        for a in adds.values():
            withheld = sum((Decimal(f["amount"]) for f in a["period_findings"]), ZERO)
            a["withheld"] = str(withheld.quantize(FEN))
            a["payable"] = str(a.pop("_remaining").quantize(FEN))
        self._additions[month] = adds
        return adds

    # -- helpers the kinds share

    def withhold(self, adds: dict, wid: str, spec) -> Decimal:
        """Take an amount from what is left of this month's pay (never below zero)."""
        a = adds[wid]
        want = a["_remaining"] if spec == "performance_pay" else spec.fixed
        take = min(want, a["_remaining"])
        a["_remaining"] -= take
        return take

    def year_months(self, month: str) -> list[str]:
        got = self._year_months.get(month)
        if got is None:   # asked per worker and rule
            got = self._year_months[month] = [m for m in self.months if m[:4] == month[:4] and m <= month]
        return list(got)

    def stored_months(self, month: str, period: str) -> list[str]:
        """The stored months of the period (quarter, half year, year, month) that `month` lies in, up to it."""
        wanted = set(period_months(month, period))
        return [m for m in self.months if m in wanted]

    def is_last(self, month: str, wid: str, rules, ties: str) -> bool:
        p = self.placings(month, rules.ranking).get(wid)
        return p is not None and in_bottom(p, 1, ties)

    def present_all(self, months: Iterable[str], wid: str) -> bool:
        return all(wid in self.views[m] for m in months)

    def present_all_year(self, month: str, wid: str) -> bool:
        return self.present_all(self.year_months(month), wid)

    def run_ending(self, month: str, wid: str, rules, ties: str) -> int:
        """How many calendar months running, ending with `month`, the worker was last (0 if not last)."""
        run, cur = 0, month
        while cur in self.views and wid in self.views[cur] and self.is_last(cur, wid, rules, ties):
            run += 1
            cur = month_add(cur, -1)
        return run

    def paid_before(self, month: str, wid: str) -> tuple[Decimal, list[str]]:
        """Performance pay actually paid (payable) in the year's stored months before `month`."""
        total, got = ZERO, []
        for m in self.year_months(month):
            if m == month or wid not in self.views[m]:
                continue
            earlier = self.additions(m)
            total += Decimal(earlier[wid]["payable"]) if earlier else self.views[m][wid].pay
            got.append(m)
        return total.quantize(FEN), got

    def veto_months(self, month: str, wid: str) -> list[tuple[str, int]]:
        return [(m, self.views[m][wid].veto_count) for m in self.year_months(month)
                if wid in self.views[m] and self.views[m][wid].veto_count]

    def combined(self, combine: str, decimals: int, months: list[str], wid: str) -> tuple[Decimal, list[str]]:
        got = [m for m in months if wid in self.views[m]]
        scores = [self.views[m][wid].score for m in got]
        total = sum(scores, Decimal(0))
        value = total if combine == "sum" else total / len(scores)
        return value.quantize(_QUANTUM[decimals], rounding=ROUND_HALF_UP), got

    def period_flags(self, months: list[str], month: str, wid: str, adds: dict, key: str) -> list[dict]:
        """Period findings of `months` (this month's too) with a true `key`."""
        found = []
        for m in months:
            a = adds if m == month else (self.additions(m) or {})
            found += [f for f in a.get(wid, {}).get("period_findings", []) if f.get(key)]
        return found

    def year_flags(self, month: str, wid: str, adds: dict, key: str) -> list[dict]:
        return self.period_flags(self.year_months(month), month, wid, adds, key)

    def order_facts(self, rules, months: list[str], wid: str, period_score=None) -> dict:
        """The keys grades and 优秀 order by, over `months`."""
        vs = [self.views[m][wid] for m in months if wid in self.views[m]]
        year_rules = rules.of_kind("year_score")
        stars = [v.stars for v in vs]
        year = self.year_months(months[-1]) if months else []
        return {"year_score": self.combined(year_rules[0].combine, year_rules[0].decimals, year, wid)[0]
                if year_rules else Decimal(0),
                "period_score": period_score if period_score is not None else Decimal(0),
                "min_month_score": min(v.score for v in vs),
                "five_star_months": sum(1 for s in stars if s is not None and s >= 5),
                "star_total": sum(s or 0 for s in stars)}

    @staticmethod
    def select_by_quota(candidates: list[str], quota: int, order_by: tuple, boundary: str,
                        facts: dict) -> tuple[list[str], list[str]]:
        """Best first by `order_by` (all descending); ties straddling the quota fall or are admitted."""
        def key(wid):
            return tuple(facts[wid][k] for k in order_by)
        ranked = sorted(candidates, key=key, reverse=True)
        if len(ranked) <= quota:
            return ranked, []
        if quota == 0:
            return [], ranked
        edge = key(ranked[quota - 1])
        if key(ranked[quota]) != edge:
            return ranked[:quota], ranked[quota:]
        if boundary == "admit":
            cut = quota
            while cut < len(ranked) and key(ranked[cut]) == edge:
                cut += 1
        else:
            cut = quota - 1
            while cut >= 0 and key(ranked[cut]) == edge:
                cut -= 1
            cut += 1
        return ranked[:cut], ranked[cut:]


def evaluate(rules_for: Callable[[str], Any], views: Mapping[str, list[WorkerMonth]],
             targets: Iterable[str], *, stored: Callable[[str], dict | None] | None = None
             ) -> dict[str, dict[str, dict] | None]:
    """Period additions for each target month: month -> worker_id -> additions (None: no period rules).

    `views` must hold every stored month up to the last target (rules look back through them).
    `stored(month)`, when given, returns the additions already stored for a month that is not a
    target (they cannot change: findings depend only on a month and the months before it), so
    earlier months are read rather than evaluated again.
    """
    targets = sorted(targets)
    ev = Evaluator(rules_for, views)
    if stored is not None:
        ev.stored = stored
        ev.first_target = targets[0] if targets else None
    return {m: ev.additions(m) for m in targets}


def merge_additions(results: Mapping[str, Any], additions: Mapping[str, dict] | None) -> dict:
    """A copy of results.json with the period additions laid into each worker."""
    out = dict(results)
    if additions is None:
        return out
    out["period_rules_applied"] = True
    out["workers"] = [{**w, **additions[w["worker_id"]]} for w in results["workers"]]
    return out
