"""Period rules: the policy's `periods:` section, checked and evaluated over stored months.

Monthly scoring looks at one month; these rules look across months (ranking inside a peer
group, last places running, bottom shares in a year, vetoes in a year, quarter and year
scores, annual grades with quotas, the 优秀网格员 share, the wage floor).  They are plainly
reasoned here in Python rather than in durable_rules: each rule kind is one function below,
named after what it checks, and every consequence it draws is a finding with a Chinese reason.

Everything works on plain values: `views_from_results(results)` turns a results.json dict
into `WorkerMonth` records, `evaluate(rules_for, views, targets)` returns the period
additions (peer_group, peer_rank, peer_size, period_findings, withheld, payable) for the
target months, computed only from the target month and the months before it.

Money: amounts withheld are the worker's performance pay or a fixed amount from the policy
(both already in fen), allocated in rule order and never above what is left of the month's
pay, so `payable = pay - withheld >= 0` needs no rounding.  Quarter and year scores are
combined with Decimal and rounded once, ROUND_HALF_UP, to the decimals the policy states.
"""
from __future__ import annotations

import math
from itertools import groupby
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Callable, Iterable, Mapping

from .errors import PolicyError, ProblemList
from .sources import LocDict, dotted, line_of

FEN = Decimal("0.01")
ZERO = Decimal("0.00")

__all__ = ["PeriodRules", "Ranking", "Rule", "WorkerMonth", "parse_period_rules", "views_from_results",
           "evaluate", "merge_additions", "RULE_KINDS", "month_add", "month_label"]

# --------------------------------------------------------------------------- the rule model


@dataclass(frozen=True)
class Ranking:
    id: str
    label: str
    peer_group: str            # all | town | community | grid | role | employment | attribute:<name>
    last_place_ties: str       # all: every worker tied for last place is last; none: nobody is


@dataclass(frozen=True)
class Rule:
    id: str
    label: str
    kind: str
    params: Mapping[str, Any]
    criticise: bool = False
    commend: bool = False

    def __getitem__(self, key: str) -> Any:
        return self.params[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.params.get(key, default)


@dataclass(frozen=True)
class PeriodRules:
    ranking: Ranking
    rules: tuple[Rule, ...]
    file: str = ""

    def of_kind(self, kind: str) -> list[Rule]:
        return [r for r in self.rules if r.kind == kind]


# --------------------------------------------------------------------------- validation

_PEER_GROUPS = ("all", "town", "community", "grid", "role", "employment")
_ORDER_KEYS = ("year_score", "min_month_score", "five_star_months", "star_total")

# field -> (required, checker name); checkers are methods of _Checker below.
_COMMON = {"id": (True, "ident"), "label": (True, "text"), "kind": (True, "kind"),
           "criticise": (False, "bool"), "commend": (False, "bool")}
RULE_KINDS: dict[str, dict[str, tuple[bool, str]]] = {
    # last place N months running -> pay withheld for M months, starting with the N-th month
    "last_place_run": {"months": (True, "count"), "withhold_months": (True, "count"),
                       "withhold": (True, "withhold")},
    # in the bottom p% of the peer group k or more times in a calendar year
    "bottom_share": {"percent": (True, "percent"), "rounding": (True, "rounding"), "times": (True, "count"),
                     "withhold": (False, "withhold"), "award_ineligible": (False, "bool"),
                     "reclaim": (False, "bool")},
    # no criticised finding and no veto in any stored month of the year (evaluated in December)
    "never_criticised": {"priority": (False, "text")},
    # count or more vetoes in a calendar year
    "veto_count": {"count": (True, "count"), "consequence": (True, "text"), "withhold": (False, "withhold"),
                   "award_ineligible": (False, "bool")},
    "quarter_score": {"combine": (True, "combine"), "decimals": (True, "decimals")},
    "year_score": {"combine": (True, "combine"), "decimals": (True, "decimals")},
    "annual_grade": {"grades": (True, "grades"), "scope": (True, "scope"), "quota_rounding": (True, "rounding"),
                     "order_by": (True, "order_by"), "boundary_ties": (True, "boundary")},
    "excellent": {"percent": (True, "percent"), "rounding": (True, "rounding"), "order_by": (True, "order_by"),
                  "boundary_ties": (True, "boundary"), "from_grades": (False, "idlist")},
    "wage_floor": {"amount": (True, "money"), "employment": (True, "textlist")},
}
_DEFAULT_FLAGS = {"last_place_run": (True, False), "bottom_share": (True, False), "veto_count": (True, False),
                  "never_criticised": (False, True), "excellent": (False, True)}
_GRADE_FIELDS = {"id": (True, "ident"), "label": (True, "text"), "every_month_min_stars": (False, "stars"),
                 "at_least": (False, "at_least"), "quota_percent": (False, "percent"), "no_veto": (False, "bool")}


class _Checker:
    """Checks one value; on failure adds a located problem and returns None."""

    def __init__(self, raw: Any, file: str, problems: ProblemList):
        self.raw, self.file, self.problems = raw, file, problems

    def bad(self, path: tuple, found: Any, expected: str, hint: str = "") -> None:
        self.problems.add(self.file, line_of(self.raw, path), dotted(path), found, expected, hint)

    def mapping(self, value: Any, path: tuple, fields: Mapping[str, tuple[bool, str]]) -> dict | None:
        if not isinstance(value, dict):
            self.bad(path, value, "一个映射（键: 值）")
            return None
        out = {}
        for key in value:
            if key not in fields:
                self.bad(path + (key,), key, "已知的字段之一：" + "、".join(fields),
                         "字段名可能拼写错误")
        for key, (required, checker) in fields.items():
            if key not in value:
                if required:
                    self.bad(path + (key,), None, f"必填字段 {key}")
                    out[key] = None   # callers skip a spec with a None: it cannot be built
                continue
            out[key] = getattr(self, "c_" + checker)(value[key], path + (key,))
        return out

    def c_ident(self, v, path):
        if isinstance(v, str) and v and all(c.isalnum() or c in "_-" for c in v) and v.isascii():
            return v
        return self.bad(path, v, "由字母、数字、下划线组成的标识")

    def c_text(self, v, path):
        if isinstance(v, str) and v.strip():
            return v.strip()
        return self.bad(path, v, "非空的文字")

    def c_kind(self, v, path):
        if isinstance(v, str) and v in RULE_KINDS:
            return v
        return self.bad(path, v, "规则类型之一：" + "、".join(RULE_KINDS))

    def c_bool(self, v, path):
        if isinstance(v, bool):
            return v
        return self.bad(path, v, "true 或 false")

    def c_count(self, v, path):
        if isinstance(v, int) and not isinstance(v, bool) and v >= 1:
            return v
        return self.bad(path, v, "不小于 1 的整数")

    def c_stars(self, v, path):
        if isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 10:
            return v
        return self.bad(path, v, "0 到 10 之间的整数星级")

    def c_decimals(self, v, path):
        if isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 4:
            return v
        return self.bad(path, v, "0 到 4 之间的整数（保留小数位数）")

    def _decimal(self, v) -> Decimal | None:
        if isinstance(v, bool) or not isinstance(v, (int, float, str)):
            return None
        try:
            d = Decimal(str(v).strip().rstrip("%"))
        except InvalidOperation:
            return None
        return d if d.is_finite() else None

    def c_percent(self, v, path):
        d = self._decimal(v)
        if d is not None and 0 < d <= 100:
            return d
        return self.bad(path, v, "大于 0、不超过 100 的百分数（如 3 表示 3%）")

    def c_money(self, v, path):
        d = self._decimal(v)
        if d is not None and d >= 0 and d == d.quantize(FEN):
            return d.quantize(FEN)
        return self.bad(path, v, "不小于 0、最多两位小数的金额（元），建议写成带引号的字符串如 \"24000.00\"")

    def c_rounding(self, v, path):
        if v in ("floor", "ceil"):
            return v
        return self.bad(path, v, "floor（向下取整）或 ceil（向上取整）")

    def c_combine(self, v, path):
        if v in ("mean", "sum"):
            return v
        return self.bad(path, v, "mean（各月平均）或 sum（各月相加）")

    def c_scope(self, v, path):
        if v in ("all", "peer_group"):
            return v
        return self.bad(path, v, "all（全体一起评定）或 peer_group（按排名分组分别评定）")

    def c_boundary(self, v, path):
        if v in ("fall", "admit"):
            return v
        return self.bad(path, v, "fall（名额边界上并列的人都降入下一等次）或 admit（并列者都入选，可超名额）")

    def c_order_by(self, v, path):
        items = [v] if isinstance(v, str) else v
        if isinstance(items, list) and items and all(i in _ORDER_KEYS for i in items) and len(set(items)) == len(items):
            return tuple(items)
        return self.bad(path, v, "排序依据（一个或不重复的列表）：" + "、".join(_ORDER_KEYS))

    def c_idlist(self, v, path):
        if isinstance(v, list) and v and all(isinstance(i, str) and i for i in v):
            return tuple(v)
        return self.bad(path, v, "非空的等次 id 列表")

    def c_textlist(self, v, path):
        items = [v] if isinstance(v, str) else v
        if isinstance(items, list) and items and all(isinstance(i, str) and i.strip() for i in items):
            return tuple(i.strip() for i in items)
        return self.bad(path, v, "非空的文字列表（如 [专职]）")

    def c_withhold(self, v, path):
        if v in ("performance_pay",):
            return ("performance_pay", None)
        if isinstance(v, dict) and set(v) == {"fixed"}:
            amount = self.c_money(v["fixed"], path + ("fixed",))
            return ("fixed", amount) if amount is not None else None
        return self.bad(path, v, "performance_pay（扣发当月绩效工资）或 {fixed: \"200.00\"}（扣发固定金额）")

    def c_at_least(self, v, path):
        spec = self.mapping(v, path, {"stars": (True, "stars"), "months": (True, "count")})
        if spec is None or None in spec.values():
            return None
        return spec

    def c_grades(self, v, path):
        if not isinstance(v, list) or not v:
            return self.bad(path, v, "非空的等次列表（从高到低）")
        grades = []
        for i, g in enumerate(v):
            spec = self.mapping(g, path + (i,), _GRADE_FIELDS)
            if spec is not None:
                grades.append(spec)
        if grades and ("quota_percent" in grades[-1] or "every_month_min_stars" in grades[-1]
                       or "at_least" in grades[-1]):
            self.bad(path + (len(v) - 1,), grades[-1].get("id"), "最后一个等次不设条件和名额（其余人员都归入此等次）")
        ids = [g.get("id") for g in grades]
        for i, gid in enumerate(ids):
            if gid is not None and ids.index(gid) != i:
                self.bad(path + (i, "id"), gid, "不重复的等次 id")
        return tuple(grades)


def parse_period_rules(raw: Any, file: str) -> PeriodRules | None:
    """Validate the raw `periods:` mapping; raise PolicyError with every located problem.

    `raw` is a LocDict from `load_yaml` (so problems carry line numbers) or None when the
    policy has no period rules.  Paths in problems start at `periods`.
    """
    if raw is None:
        return None
    problems = ProblemList()
    root = LocDict(periods=raw)
    root.lines["periods"] = getattr(raw, "line", None) or 0
    ck = _Checker(root, file, problems)
    top = ck.mapping(raw, ("periods",), {"ranking": (True, "ranking"), "rules": (False, "rules")}) \
        if isinstance(raw, dict) else ck.bad(("periods",), raw, "一个映射，包含 ranking 和 rules")
    problems.raise_if_any(PolicyError)
    return PeriodRules(ranking=top["ranking"], rules=tuple(top.get("rules") or ()), file=file)


def _c_ranking(self: _Checker, v, path):
    spec = self.mapping(v, path, {"id": (True, "ident"), "label": (True, "text"), "peer_group": (True, "peer"),
                                  "order": (True, "rank_order"), "last_place_ties": (True, "ties")})
    if spec is None or None in spec.values():
        return None
    return Ranking(spec["id"], spec["label"], spec["peer_group"], spec["last_place_ties"])


def _c_peer(self: _Checker, v, path):
    if v in _PEER_GROUPS or (isinstance(v, str) and v.startswith("attribute:") and len(v) > len("attribute:")):
        return v
    return self.bad(path, v, "排名分组之一：" + "、".join(_PEER_GROUPS) + "，或 attribute:<属性名>")


def _c_rank_order(self: _Checker, v, path):
    if v == "competition":
        return v
    return self.bad(path, v, "competition（并列同名次，下一名次顺延，如 1、2、2、4）")


def _c_ties(self: _Checker, v, path):
    if v in ("all", "none"):
        return v
    return self.bad(path, v, "all（并列末位者都算末位）或 none（末位并列时都不算末位）")


def _c_rules(self: _Checker, v, path):
    if not isinstance(v, list):
        return self.bad(path, v, "规则列表")
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(v):
        p = path + (i,)
        if not isinstance(item, dict):
            self.bad(p, item, "一条规则（映射，含 id、label、kind）")
            continue
        kind = item.get("kind")
        if not isinstance(kind, str) or kind not in RULE_KINDS:
            # without a known kind the other keys cannot be judged: report the kind (or its absence) only
            self.c_kind(kind, p + ("kind",)) if "kind" in item else self.bad(p + ("kind",), None, "必填字段 kind")
            continue
        fields = dict(_COMMON)
        fields.update(RULE_KINDS[kind])
        spec = self.mapping(item, p, fields)
        if spec is None:
            continue
        if spec.get("id") is not None:   # ids stay unique even among rules with other problems
            if spec["id"] in seen:
                self.bad(p + ("id",), spec["id"], "不重复的规则 id", f"与第 {seen[spec['id']] + 1} 条规则重复")
                continue
            seen[spec["id"]] = i
        if any(spec.get(k) is None for k in spec):
            continue
        crit, comm = _DEFAULT_FLAGS.get(kind, (False, False))
        params = {k: val for k, val in spec.items() if k not in _COMMON}
        rules.append(Rule(spec["id"], spec["label"], kind, params,
                          spec.get("criticise", crit), spec.get("commend", comm)))
    kinds = [r.kind for r in rules]
    single = ("quarter_score", "year_score", "annual_grade", "excellent", "never_criticised")
    first_of: dict[str, int] = {}
    for i, item in enumerate(v):
        kind = item.get("kind") if isinstance(item, dict) else None
        if kind in single:
            if kind in first_of:
                self.bad(path + (i, "kind"), kind, "此类规则只能有一条", f"第 {first_of[kind] + 1} 条已是 {kind}")
            first_of.setdefault(kind, i)
    for i, item in enumerate(v):
        if not isinstance(item, dict) or item.get("kind") not in ("annual_grade", "excellent"):
            continue
        order = item.get("order_by")
        order = [order] if isinstance(order, str) else (order or [])
        if "year_score" in order and "year_score" not in kinds:
            self.bad(path + (i, "order_by"), item.get("order_by"), "先定义一条 kind: year_score 规则（说明年度得分怎样由月得分合成）")
        if item.get("kind") == "excellent" and item.get("from_grades"):
            grade_ids = {g.get("id") for r in rules if r.kind == "annual_grade" for g in r["grades"]}
            for gid in item["from_grades"] if isinstance(item["from_grades"], list) else []:
                if gid not in grade_ids:
                    self.bad(path + (i, "from_grades"), gid, "annual_grade 规则中定义的等次 id")
    return tuple(rules)


for _name, _fn in {"ranking": _c_ranking, "peer": _c_peer, "rank_order": _c_rank_order, "ties": _c_ties,
                   "rules": _c_rules}.items():
    setattr(_Checker, "c_" + _name, _fn)


# --------------------------------------------------------------------------- month arithmetic


def month_add(month: str, n: int) -> str:
    y, m = int(month[:4]), int(month[5:7])
    idx = y * 12 + (m - 1) + n
    return f"{idx // 12:04d}-{idx % 12 + 1:02d}"


def month_label(month: str) -> str:
    return f"{int(month[:4])}年{int(month[5:7])}月"


def months_label(months: Iterable[str]) -> str:
    """['2026-09', '2026-10'] -> '2026年9月、10月' (year said once while it does not change)."""
    out, year = [], None
    for m in months:
        out.append(month_label(m) if m[:4] != year else f"{int(m[5:7])}月")
        year = m[:4]
    return "、".join(out)


# --------------------------------------------------------------------------- the facts rules read


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
            performance_base=Decimal(w.get("performance_base") or "0"), pay=Decimal(w.get("pay") or "0")))
    return out


def peer_key(view: WorkerMonth, peer_group: str) -> str:
    if peer_group == "all":
        return "全体"
    if peer_group.startswith("attribute:"):
        return str(view.group["attributes"].get(peer_group[len("attribute:"):], "") or "（未填）")
    return view.group[peer_group] or "（未填）"


# --------------------------------------------------------------------------- ranking


@dataclass
class Placing:
    group: str
    rank: int                  # competition rank inside the group, failed months last
    size: int
    worse: int                 # workers in the group ranked strictly below this one
    tied: int                  # workers sharing this rank (including this one)


def rank_month(views: list[WorkerMonth], ranking: Ranking) -> dict[str, Placing]:
    """Competition ranking (1, 2, 2, 4) inside each peer group; a failed month ranks below every passed one."""
    groups: dict[str, list[WorkerMonth]] = {}
    for v in views:
        groups.setdefault(peer_key(v, ranking.peer_group), []).append(v)
    out: dict[str, Placing] = {}
    for key, members in groups.items():
        ordered = sorted(members, key=lambda v: (v.failed, -v.score))
        size = len(ordered)
        first = 0
        for _k, tie in groupby(ordered, key=lambda v: (v.failed, -v.score)):
            tie = list(tie)
            for v in tie:
                out[v.worker_id] = Placing(key, first + 1, size, size - first - len(tie), len(tie))
            first += len(tie)
    return out


def in_bottom(p: Placing, k: int, ties: str) -> bool:
    """In the bottom k of the group.  ties=all: a tie reaching into the bottom k is wholly in it;
    ties=none: a tie that does not fit inside the bottom k is wholly out."""
    if k <= 0 or p.size < 2:
        return False
    if ties == "all":
        return p.worse + 1 <= k
    return p.worse + p.tied <= k


def head_count(percent: Decimal, size: int, rounding: str) -> int:
    exact = percent * size / 100
    return math.floor(exact) if rounding == "floor" else math.ceil(exact)


# --------------------------------------------------------------------------- evaluation


def _finding(rule: Rule, kind: str, months: list[str], reason: str, *, amount: Decimal = ZERO,
             criticise: bool | None = None, commend: bool | None = None, **extra) -> dict:
    f = {"rule_id": rule.id, "rule_label": rule.label, "kind": kind, "months": list(months), "reason": reason,
         "amount": str(amount.quantize(FEN)),
         "criticise": rule.criticise if criticise is None else criticise,
         "commend": rule.commend if commend is None else commend}
    f.update(extra)
    return f


_PHASE = {"annual_grade": 1, "excellent": 2, "never_criticised": 2, "wage_floor": 2}


def _withhold_text(spec) -> str:
    return "当月绩效工资" if spec[0] == "performance_pay" else f"固定金额{spec[1]}元"


class _Evaluator:
    """Evaluates period rules; all month data is held in `views` (month -> worker_id -> WorkerMonth)."""

    def __init__(self, rules_for: Callable[[str], PeriodRules | None], views: Mapping[str, list[WorkerMonth]]):
        self.rules_for = rules_for
        self.months = sorted(views)
        self.views = {m: {v.worker_id: v for v in vs} for m, vs in views.items()}
        self._placings: dict[tuple, dict[str, Placing]] = {}
        self._additions: dict[str, dict[str, dict]] = {}
        self.stored: Callable[[str], dict | None] | None = None
        self.first_target: str | None = None

    def placings(self, month: str, ranking: Ranking) -> dict[str, Placing]:
        key = (month, ranking)
        if key not in self._placings:
            self._placings[key] = rank_month(list(self.views[month].values()), ranking)
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
        month_views = self.views[month]
        placing = self.placings(month, rules.ranking)
        adds: dict[str, dict] = {}
        for wid, v in month_views.items():
            p = placing[wid]
            adds[wid] = {"peer_group": p.group, "peer_rank": p.rank, "peer_size": p.size,
                         "period_findings": [], "_remaining": v.pay}
        # monthly rules first (in policy order, which is also the order withholdings take from pay),
        # then the year-end ones, which read the month's findings and final payable amounts
        for rule in sorted(rules.rules, key=lambda r: _PHASE.get(r.kind, 0)):
            getattr(self, "rule_" + rule.kind)(rule, rules, month, adds)
        for wid, a in adds.items():
            withheld = sum((Decimal(f["amount"]) for f in a["period_findings"]), ZERO)
            a["withheld"] = str(withheld.quantize(FEN))
            a["payable"] = str(a.pop("_remaining").quantize(FEN))
        self._additions[month] = adds
        return adds

    # -- helpers

    def withhold(self, adds: dict, wid: str, spec) -> Decimal:
        """Take an amount from what is left of this month's pay (never below zero)."""
        a = adds[wid]
        want = a["_remaining"] if spec[0] == "performance_pay" else spec[1]
        take = min(want, a["_remaining"])
        a["_remaining"] -= take
        return take

    def year_months(self, month: str) -> list[str]:
        return [m for m in self.months if m[:4] == month[:4] and m <= month]

    def is_last(self, month: str, wid: str, rules: PeriodRules) -> bool:
        p = self.placings(month, rules.ranking).get(wid)
        return p is not None and in_bottom(p, 1, rules.ranking.last_place_ties)

    def present_all_year(self, month: str, wid: str) -> bool:
        return all(wid in self.views[m] for m in self.year_months(month))

    # -- one method per rule kind

    def rule_last_place_run(self, rule: Rule, rules: PeriodRules, month: str, adds: dict) -> None:
        n, m_hold = rule["months"], rule["withhold_months"]
        for wid in adds:
            # a trigger in month t withholds months t .. t+M-1; look back for the latest trigger in reach
            for back in range(m_hold):
                t = month_add(month, -back)
                run = self._run_ending(t, wid, rules)
                if run and run % n == 0:
                    run_months = [month_add(t, -i) for i in range(n - 1, -1, -1)]
                    held = [month_add(t, i) for i in range(m_hold)]
                    amount = self.withhold(adds, wid, rule["withhold"])
                    group = adds[wid]["peer_group"]
                    reason = (f"{months_label(run_months)}连续{n}个月在{group}排名末位，"
                              f"扣发{m_hold}个月{_withhold_text(rule['withhold'])}（{months_label(held)}）")
                    if back:
                        reason += f"，本月为第{back + 1}个月"
                    adds[wid]["period_findings"].append(_finding(
                        rule, "withhold_allowance", run_months, reason, amount=amount,
                        criticise=rule.criticise and back == 0))
                    break

    def _run_ending(self, month: str, wid: str, rules: PeriodRules) -> int:
        """How many calendar months running, ending with `month`, the worker was last (0 if not last)."""
        run = 0
        cur = month
        while cur in self.views and wid in self.views[cur] and self.is_last(cur, wid, rules):
            run += 1
            cur = month_add(cur, -1)
        return run

    def bottom_months(self, rule: Rule, rules: PeriodRules, month: str, wid: str) -> list[str]:
        out = []
        for m in self.year_months(month):
            p = self.placings(m, rules.ranking).get(wid)
            if p is not None and in_bottom(p, head_count(rule["percent"], p.size, rule["rounding"]),
                                           rules.ranking.last_place_ties):
                out.append(m)
        return out

    def rule_bottom_share(self, rule: Rule, rules: PeriodRules, month: str, adds: dict) -> None:
        for wid in adds:
            hits = self.bottom_months(rule, rules, month, wid)
            if len(hits) < rule["times"]:
                continue
            trigger = hits[rule["times"] - 1]
            first = trigger == month
            reason = (f"{month[:4]}年内第{rule['times']}次排名{adds[wid]['peer_group']}后{rule['percent']}%"
                      f"（{months_label(hits[:rule['times']])}），取消当年工作补贴")
            if rule.get("award_ineligible"):
                reason += "和评优评先资格"
            amount = ZERO
            if rule.get("withhold"):
                amount = self.withhold(adds, wid, rule["withhold"])
                reason += f"，{month_label(month)}扣发{_withhold_text(rule['withhold'])}"
            extra = {}
            if rule.get("reclaim") and first:
                paid, got = self.paid_before(month, wid)
                extra["reclaim"] = str(paid)
                reason += f"；本年此前已发绩效工资{paid}元（{len(got)}个月）应予追回"
            adds[wid]["period_findings"].append(_finding(
                rule, "withdraw_year", hits[:rule["times"]], reason, amount=amount,
                criticise=rule.criticise and first, award_ineligible=bool(rule.get("award_ineligible")), **extra))

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

    def rule_veto_count(self, rule: Rule, rules: PeriodRules, month: str, adds: dict) -> None:
        for wid in adds:
            hits = self.veto_months(month, wid)
            total = sum(c for _, c in hits)
            before = total - self.views[month][wid].veto_count
            if total < rule["count"] or before >= rule["count"]:
                continue  # the consequence is drawn once, in the month the count is reached
            months = [m for m, _ in hits]
            reason = f"{month[:4]}年内累计{total}次一票否决（{months_label(months)}），{rule['consequence']}"
            amount = ZERO
            if rule.get("withhold"):
                amount = self.withhold(adds, wid, rule["withhold"])
                reason += f"，{month_label(month)}扣发{_withhold_text(rule['withhold'])}"
            adds[wid]["period_findings"].append(_finding(
                rule, "veto_count", months, reason, amount=amount,
                award_ineligible=bool(rule.get("award_ineligible"))))

    def combined(self, rule: Rule, months: list[str], wid: str) -> tuple[Decimal, list[str]]:
        got = [m for m in months if wid in self.views[m]]
        scores = [self.views[m][wid].score for m in got]
        total = sum(scores, Decimal(0))
        value = total if rule["combine"] == "sum" else total / len(scores)
        return value.quantize(Decimal(1).scaleb(-rule["decimals"]), rounding=ROUND_HALF_UP), got

    def _score_finding(self, rule: Rule, kind: str, month: str, months: list[str], adds: dict, what: str) -> None:
        how = "平均" if rule["combine"] == "mean" else "累计"
        for wid in adds:
            value, got = self.combined(rule, months, wid)
            reason = f"{what}（{months_label(got)}，共{len(got)}个月）月得分{how}{value}分"
            adds[wid]["period_findings"].append(_finding(rule, kind, got, reason, score=str(value)))

    def rule_quarter_score(self, rule: Rule, rules: PeriodRules, month: str, adds: dict) -> None:
        q = (int(month[5:7]) - 1) // 3
        months = [m for m in self.year_months(month) if (int(m[5:7]) - 1) // 3 == q]
        self._score_finding(rule, "quarter_score", month, months, adds, f"{month[:4]}年第{q + 1}季度截至{int(month[5:7])}月")

    def rule_year_score(self, rule: Rule, rules: PeriodRules, month: str, adds: dict) -> None:
        self._score_finding(rule, "year_score", month, self.year_months(month), adds,
                            f"{month[:4]}年截至{int(month[5:7])}月")

    # -- year-end rules (December)

    def year_facts(self, rules: PeriodRules, month: str, wid: str) -> dict:
        months = self.year_months(month)
        vs = [self.views[m][wid] for m in months if wid in self.views[m]]
        ys = rules.of_kind("year_score")
        stars = [v.stars for v in vs]
        return {"year_score": self.combined(ys[0], months, wid)[0] if ys else Decimal(0),
                "min_month_score": min(v.score for v in vs),
                "five_star_months": sum(1 for s in stars if s is not None and s >= 5),
                "star_total": sum(s or 0 for s in stars)}

    def year_flags(self, month: str, wid: str, adds: dict, key: str) -> list[dict]:
        """Period findings of the year so far (earlier months and this one) with a true `key`."""
        found = []
        for m in self.year_months(month):
            a = adds if m == month else (self.additions(m) or {})
            found += [f for f in a.get(wid, {}).get("period_findings", []) if f.get(key)]
        return found

    def select_by_quota(self, candidates: list[str], quota: int, order_by: tuple, boundary: str,
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

    def graded_workers(self, month: str, adds: dict) -> list[str]:
        return [wid for wid in adds if self.present_all_year(month, wid)]

    def rule_annual_grade(self, rule: Rule, rules: PeriodRules, month: str, adds: dict) -> None:
        if month[5:7] != "12":
            return
        months = self.year_months(month)
        pools: dict[str, list[str]] = {}
        for wid in self.graded_workers(month, adds):
            pool = adds[wid]["peer_group"] if rule["scope"] == "peer_group" else "全体"
            pools.setdefault(pool, []).append(wid)
        grades = rule["grades"]
        for pool, members in pools.items():
            facts = {wid: self.year_facts(rules, month, wid) for wid in members}
            left = list(members)
            spilled: dict[str, list[str]] = {}
            for g in grades:
                qualified = [wid for wid in left if self._meets(g, months, wid)]
                if "quota_percent" in g:
                    quota = head_count(g["quota_percent"], len(members), rule["quota_rounding"])
                    chosen, overflow = self.select_by_quota(qualified, quota, rule["order_by"],
                                                            rule["boundary_ties"], facts)
                else:
                    quota, chosen, overflow = None, qualified, []
                for wid in chosen:
                    reason = self._grade_reason(g, months, facts[wid], quota, len(members), pool, rule)
                    if spilled.get(wid):
                        reason += "；符合「" + "」「".join(spilled[wid]) + "」条件但超出名额，按排序依次降入本等次"
                    adds[wid]["period_findings"].append(_finding(
                        rule, "annual_grade", months, reason, grade=g["id"], grade_label=g["label"],
                        commend=rule.commend, criticise=rule.criticise))
                for wid in overflow:
                    spilled.setdefault(wid, []).append(g["label"])
                left = [wid for wid in left if wid not in chosen]

    def _meets(self, g: dict, months: list[str], wid: str) -> bool:
        vs = [self.views[m][wid] for m in months]
        if "every_month_min_stars" in g and any((v.stars or 0) < g["every_month_min_stars"] for v in vs):
            return False
        if "at_least" in g and sum(1 for v in vs if (v.stars or 0) >= g["at_least"]["stars"]) < g["at_least"]["months"]:
            return False
        if g.get("no_veto") and any(v.veto_count for v in vs):
            return False
        return True

    def _grade_reason(self, g, months, facts, quota, pool_size, pool, rule) -> str:
        conds = []
        if "every_month_min_stars" in g:
            conds.append(f"每月不低于{g['every_month_min_stars']}星")
        if "at_least" in g:
            conds.append(f"至少{g['at_least']['months']}个月达到{g['at_least']['stars']}星")
        if g.get("no_veto"):
            conds.append("全年无一票否决")
        text = f"{months_label(months)}考核，年度得分{facts['year_score']}分，评为「{g['label']}」"
        if conds:
            text += "（" + "、".join(conds) + "）"
        if quota is not None:
            text += f"，{pool}{pool_size}人中名额{quota}人（{g['quota_percent']}%）"
        return text

    def rule_excellent(self, rule: Rule, rules: PeriodRules, month: str, adds: dict) -> None:
        if month[5:7] != "12":
            return
        months = self.year_months(month)
        members = self.graded_workers(month, adds)
        quota = head_count(rule["percent"], len(members), rule["rounding"])
        eligible = []
        for wid in members:
            if self.year_flags(month, wid, adds, "award_ineligible"):
                continue
            if rule.get("from_grades"):
                grade = next((f["grade"] for f in adds[wid]["period_findings"] if f["kind"] == "annual_grade"), None)
                if grade not in rule["from_grades"]:
                    continue
            eligible.append(wid)
        facts = {wid: self.year_facts(rules, month, wid) for wid in eligible}
        chosen, _ = self.select_by_quota(eligible, quota, rule["order_by"], rule["boundary_ties"], facts)
        for wid in chosen:
            reason = (f"{month[:4]}年度得分{facts[wid]['year_score']}分，列入{rule['percent']}%名额"
                      f"（{len(members)}人中{quota}人），评为{rule.label}")
            adds[wid]["period_findings"].append(_finding(rule, "excellent", months, reason))

    def rule_never_criticised(self, rule: Rule, rules: PeriodRules, month: str, adds: dict) -> None:
        if month[5:7] != "12":
            return
        months = self.year_months(month)
        for wid in self.graded_workers(month, adds):
            if self.year_flags(month, wid, adds, "criticise") or self.veto_months(month, wid):
                continue
            if self.year_flags(month, wid, adds, "award_ineligible"):
                continue
            reason = f"{months_label(months)}全年未受通报批评、无一票否决，{rule.get('priority') or '列为评先评优和提拔使用优先人选'}"
            adds[wid]["period_findings"].append(_finding(rule, "priority", months, reason))

    def rule_wage_floor(self, rule: Rule, rules: PeriodRules, month: str, adds: dict) -> None:
        if month[5:7] != "12":
            return
        months = self.year_months(month)
        for wid, a in adds.items():
            if self.views[month][wid].employment not in rule["employment"]:
                continue
            total = ZERO
            got = []
            for m in months:
                v = self.views[m].get(wid)
                if v is None:
                    continue
                earlier = self.additions(m) if m != month else None
                payable = a["_remaining"] if m == month else \
                    (Decimal(earlier[wid]["payable"]) if earlier else v.pay)   # a month without period rules
                total += v.wage - v.performance_base + payable
                got.append(m)
            # a worker on the register only part of the year is held to the floor pro rata (HALF_UP to fen)
            floor = (rule["amount"] * len(got) / 12).quantize(FEN, rounding=ROUND_HALF_UP)
            if total < floor:
                basis = f"保障线{rule['amount']}元" if len(got) == 12 else \
                    f"保障线{rule['amount']}元按{len(got)}个月折算为{floor}元"
                reason = (f"{months_label(got)}共{len(got)}个月实发工资合计{total.quantize(FEN)}元，"
                          f"低于{basis}，差{(floor - total).quantize(FEN)}元")
                a["period_findings"].append(_finding(rule, "wage_floor", got, reason,
                                                     annual_pay=str(total.quantize(FEN)), floor=str(floor)))


def evaluate(rules_for: Callable[[str], PeriodRules | None], views: Mapping[str, list[WorkerMonth]],
             targets: Iterable[str], *, stored: Callable[[str], dict | None] | None = None
             ) -> dict[str, dict[str, dict] | None]:
    """Period additions for each target month: month -> worker_id -> additions (None: no period rules).

    `views` must hold every stored month up to the last target (rules look back through them).
    `stored(month)`, when given, returns the additions already stored for a month that is not a
    target (they cannot change: findings depend only on a month and the months before it), so
    earlier months are read rather than evaluated again.
    """
    targets = sorted(targets)
    ev = _Evaluator(rules_for, views)
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
