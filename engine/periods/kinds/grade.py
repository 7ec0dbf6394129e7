"""grade (any period) and annual_grade (the year): grades with conditions and quotas.

    年度考核：好（每月≥4星且至少一次5星，不超过20%）、较好（每月≥3星，不超过30%）、一般
        kind: annual_grade, grades: [{id: good, label: 好, every_month_min_stars: 4, at_least: {stars: 5, months: 1},
                                      quota_percent: 20}, …]
    上报不及时引发重大案件的，季度考核不得评为好
        kind: grade, period: quarter, grades: [{id: good, label: 好, quota_percent: 20,
                                                 require: [{metric: major_case, total: "[0, 0]"}]}, …]
    每月考核结果分为A、B、C、D、E五个等次（90、75、60、40分为界）
        kind: grade, period: month, grades: [{id: A, label: A, require: [{score: "[90, +inf)"}]}, …, {id: E, label: E}]

Graded are the workers present in every stored month of the period (a worker who joined later
is not graded).  Grades are tried best first; each may require stars every month, a number of
months at some stars, no veto, conditions on any metric or rule over the period's months
(`require`: the total over the months, or every month's value, in an interval; or the period
score in an interval), and a `quota_percent` of the graded workers (`quota_rounding` makes it a
head count; with `scope: peer_group` per group).  When more qualify than the quota allows, they
are ordered by `order_by` (descending); a tie across the quota line either all falls (`fall`) or
is all admitted (`admit`).  Who does not get a grade falls to the next grade they qualify for,
and the reason says why; the last grade has no conditions and takes everyone left.  Grade labels
are the office's own (好/较好/一般, A–E), independent of the pay bands.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, ClassVar, Iterable, Literal, Mapping, Optional

from pydantic import BeforeValidator

from ...policy_values import Range, Strict, n
from ..base import Count, Decimals, Ident, OrderKey, PeriodRule, Percent, Rounding, Stars, Text, finding
from ..months import months_label, period_ends, period_label
from ..ranking import head_count


_WITHIN = {"year": "全年", "half": "半年内", "quarter": "季度内", "month": "当月"}


class AtLeast(Strict):
    stars: Stars
    months: Count


class Condition(Strict):
    """One condition on the period: a metric or a rule's findings (their total over the months, or
    each month's value) or the period score, in an interval."""

    metric: Optional[str] = None
    rule: Optional[str] = None
    score: Optional[Range] = None
    total: Optional[Range] = None
    every_month: Optional[Range] = None
    label: Optional[Text] = None          # how the reason says it, e.g. 无因迟报漏报引发重大案件


class GradeDef(Strict):
    id: Ident
    label: Text
    every_month_min_stars: Optional[Stars] = None
    at_least: Optional[AtLeast] = None
    quota_percent: Optional[Percent] = None
    no_veto: Optional[bool] = None
    require: list[Condition] = []


class ScoreSpec(Strict):
    combine: Literal["mean", "sum"] = "mean"
    decimals: Decimals = 2


def _order(v: Any) -> Any:
    return [v] if isinstance(v, str) else v


OrderBy = Annotated[tuple[OrderKey, ...], BeforeValidator(_order)]


class _Grades(PeriodRule):
    grades: list[GradeDef]
    scope: Literal["all", "peer_group"]
    quota_rounding: Rounding
    order_by: OrderBy
    boundary_ties: Literal["fall", "admit"]
    score: ScoreSpec = ScoreSpec()

    phase: ClassVar = 1
    finding_kind: ClassVar = "grade"

    @property
    def grade_period(self) -> str:
        return "year"

    def check_alone(self, add, rules, path):
        if not self.grades:
            add(path + ["grades"], [], "非空的等次列表（从高到低）")
            return
        last = self.grades[-1]
        if last.quota_percent is not None or last.every_month_min_stars is not None or last.at_least is not None \
                or last.require or last.no_veto:
            add(path + ["grades", len(self.grades) - 1], last.id, "最后一个等次不设条件和名额（其余人员都归入此等次）")
        seen: set[str] = set()
        for gi, g in enumerate(self.grades):
            if g.id in seen:
                add(path + ["grades", gi, "id"], g.id, "不重复的等次 id")
            seen.add(g.id)
        check_order_by(add, rules, self.order_by, path)

    def check(self, ck, rules, path):
        for gi, g in enumerate(self.grades):
            _check_stars(ck, g, path + ["grades", gi])
            for ci, c in enumerate(g.require):
                _check_condition(ck, c, path + ["grades", gi, "require", ci])
        for k in self.order_by:
            if k in ("five_star_months", "star_total") and ck.doc.stars is None:
                ck.add(path + ["order_by"], k, "不依星级排序（本细则没有 stars 星级）")

    def evaluate(self, ev, rules, month, adds):
        period = self.grade_period
        if not period_ends(month, period):
            return
        months = ev.stored_months(month, period)
        pools: dict[str, list[str]] = {}
        for wid in adds:
            if ev.present_all(months, wid):
                pool = adds[wid]["peer_group"] if self.scope == "peer_group" else "全体"
                pools.setdefault(pool, []).append(wid)
        for pool, members in pools.items():
            scores = {wid: ev.combined(self.score.combine, self.score.decimals, months, wid)[0] for wid in members}
            facts = {wid: ev.order_facts(rules, months, wid, scores[wid]) for wid in members}
            left = list(members)
            spilled: dict[str, list[str]] = {}
            missed: dict[str, list[tuple[str, list[str]]]] = {}
            for rank, g in enumerate(self.grades, 1):
                qualified = []
                for wid in left:
                    failed = self._unmet(ev, g, months, wid, scores[wid])
                    if failed:
                        missed.setdefault(wid, []).append((g.label, failed))
                    else:
                        qualified.append(wid)
                if g.quota_percent is not None:
                    quota = head_count(g.quota_percent, len(members), self.quota_rounding)
                    chosen, overflow = ev.select_by_quota(qualified, quota, self.order_by, self.boundary_ties, facts)
                else:
                    quota, chosen, overflow = None, qualified, []
                for wid in chosen:
                    reason = self._reason(g, month, months, facts[wid], scores[wid], quota, len(members), pool)
                    reason += _spilled_text(spilled.get(wid, []))
                    if missed.get(wid):
                        label, why = missed[wid][-1]   # the grade just above: why it was not reached
                        reason += f"；未评为“{label}”：" + "、".join(why)
                    extra = {"period": period} if self.finding_kind == "grade" else {}
                    adds[wid]["period_findings"].append(finding(
                        self, self.finding_kind, months, reason, grade=g.id, grade_label=g.label, grade_rank=rank,
                        score=str(scores[wid]), **extra))
                # those tied on the quota line with more of them than places left fell together
                # (boundary_ties: fall): said as such, not as "below the line by the order"
                edge = _key(facts, self.order_by, overflow[0]) if overflow and len(chosen) < quota else None
                line = [wid for wid in overflow if edge is not None and _key(facts, self.order_by, wid) == edge]
                for wid in overflow:
                    tie = (len(line), quota - len(chosen), quota) if wid in line else None
                    spilled.setdefault(wid, []).append((g.label, tie))
                left = [wid for wid in left if wid not in chosen]

    def _unmet(self, ev, g: GradeDef, months: list[str], wid: str, score: Decimal) -> list[str]:
        """The conditions of grade `g` the worker does not meet, said in Chinese (empty: meets all)."""
        vs = [ev.views[m][wid] for m in months]
        out = []
        if g.every_month_min_stars is not None and any((v.stars or 0) < g.every_month_min_stars for v in vs):
            out.append(f"有月份低于{g.every_month_min_stars}星")
        if g.at_least is not None and sum(1 for v in vs if (v.stars or 0) >= g.at_least.stars) < g.at_least.months:
            out.append(f"达到{g.at_least.stars}星的月份不足{g.at_least.months}个")
        if g.no_veto and any(v.veto_count for v in vs):
            out.append("有一票否决")
        for c in g.require:
            if not _holds(c, vs, score):
                out.append("不满足：" + _condition_text(c))
        return out

    def _reason(self, g: GradeDef, month, months, facts, score, quota, pool_size, pool) -> str:
        conds = []
        if g.every_month_min_stars is not None:
            conds.append(f"每月不低于{g.every_month_min_stars}星")
        if g.at_least is not None:
            conds.append(f"至少{g.at_least.months}个月达到{g.at_least.stars}星")
        if g.no_veto:
            conds.append(_WITHIN[self.grade_period] + "无一票否决")
        conds += [_condition_text(c) for c in g.require]
        text = self._score_words(month, months, facts, score) + f"，评为“{g.label}”"
        if conds:
            text += "（" + "、".join(conds) + "）"
        if quota is not None:
            text += f"，{pool}{pool_size}人中名额{quota}人（{n(g.quota_percent)}%）"
        return text

    def _score_words(self, month, months, facts, score) -> str:
        if self.grade_period == "month":
            return f"{period_label(month, 'month')}得分{n(score)}分"
        return f"{period_label(month, self.grade_period)}（{months_label(months)}）得分{score}分"


class Grade(_Grades):
    kind: Literal["grade"]
    period: Literal["month", "quarter", "half", "year"]

    @property
    def grade_period(self) -> str:
        return self.period


class AnnualGrade(_Grades):
    """The year's grade (the first kind of grades; its findings keep the kind `annual_grade`)."""

    kind: Literal["annual_grade"]

    single: ClassVar = True
    finding_kind: ClassVar = "annual_grade"

    def _score_words(self, month, months, facts, score) -> str:
        return f"{months_label(months)}考核，年度得分{facts['year_score']}分"


def check_order_by(add, rules, order_by, path: list) -> None:
    if len(set(order_by)) != len(order_by):
        add(path + ["order_by"], list(order_by), "不重复的排序依据")
    if "year_score" in order_by and not rules.of_kind("year_score"):
        add(path + ["order_by"], list(order_by),
            "先定义一条 kind: year_score 规则（说明年度得分怎样由月得分合成）")


def _values(c: Condition, vs: list) -> list[Decimal]:
    key = ("metric:" + c.metric) if c.metric is not None else ("rule:" + c.rule)
    return [v.facts.get(key, Decimal(0)) for v in vs]


def _holds(c: Condition, vs: list, score: Decimal) -> bool:
    if c.score is not None:
        return c.score.contains(score)
    values = _values(c, vs)
    if c.total is not None:
        return c.total.contains(sum(values, Decimal(0)))
    return all(c.every_month.contains(x) for x in values)


def _condition_text(c: Condition) -> str:
    if c.label:
        return c.label
    if c.score is not None:
        return f"得分{c.score.human('分')}"
    what = c.metric or c.rule
    rng = c.total if c.total is not None else c.every_month
    if c.total is not None and rng.lo == 0 and rng.hi == 0:
        return f"无{what}"
    return f"{what}{'合计' if c.total is not None else '各月'}{rng.human()}"


def _check_stars(ck, g: GradeDef, path: list) -> None:
    doc = ck.doc
    top = max((st.stars for st in doc.stars), default=None) if doc.stars is not None else None
    wants = [("every_month_min_stars", g.every_month_min_stars)]
    if g.at_least is not None:
        wants.append(("at_least", g.at_least.stars))
    for key, n_stars in wants:
        if n_stars is None:
            continue
        if top is None:
            ck.add(path + [key], n_stars, "不设星级条件（本细则没有 stars 星级）")
        elif n_stars > top:
            ck.add(path + [key], n_stars, f"不超过本细则的最高星级 {top}（否则无人能评上）")


def _check_condition(ck, c: Condition, path: list) -> None:
    doc = ck.doc
    subjects = [k for k in ("metric", "rule", "score") if getattr(c, k) is not None]
    if len(subjects) != 1:
        ck.add(path, "、".join(subjects) or None, "metric（指标）、rule（规则）或 score（本期得分）三选一")
        return
    if c.score is not None:
        if c.total is not None or c.every_month is not None:
            ck.add(path, "total/every_month", "不填（score 本身就是区间）")
        return
    if (c.total is None) == (c.every_month is None):
        ck.add(path, None, "total（各月合计）或 every_month（每月）二选一，写成区间，如 \"[0, 0]\"")
    if c.metric is not None and c.metric not in doc.metrics:
        ck.add(path + ["metric"], c.metric, "metrics 中已声明的指标", "已声明：" + "、".join(doc.metrics))
    if c.rule is not None:
        ids = {r.id for it in doc.items for r in it.rules} | {v.id for v in doc.vetoes} | \
            ({r.id for r in doc.bonus.rules} if doc.bonus else set())
        if c.rule not in ids:
            ck.add(path + ["rule"], c.rule, "本细则中的规则或一票否决 id")


def _key(facts: dict, order_by: tuple, wid: str) -> tuple:
    return tuple(facts[wid][k] for k in order_by)


def _spilled_text(spilled: list[tuple[str, tuple | None]]) -> str:
    """Why a worker who met a higher grade's conditions is not in it: beyond its quota by the order,
    or tied on its quota line with more workers than places left (all of them fall)."""
    out = ""
    by_order = [label for label, tie in spilled if tie is None]
    if by_order:
        out += "；符合“" + "”“".join(by_order) + "”条件但超出名额，按排序依次降入本等次"
    for label, tie in spilled:
        if tie is not None:
            tied, left, quota = tie
            out += (f"；符合“{label}”条件，但{tied}人并列在名额线上，多于剩余名额{left}人（名额{quota}人），"
                    f"按细则并列者均不评为“{label}”")
    return out


def grade_counts(workers: Iterable[Mapping]) -> list[tuple[str, list[tuple[str, int]]]]:
    """(rule label, [(grade label, head count), …] best grade first) of each grade rule in a month's
    results, in the order the rules first appear (what a bulletin and a run's summary say)."""
    rules: dict[str, tuple[str, dict[tuple[int, str], int]]] = {}
    for w in workers:
        for f in w.get("period_findings", ()):
            if f.get("grade_label") is not None:
                counts = rules.setdefault(f["rule_id"], (f["rule_label"], {}))[1]
                key = (f.get("grade_rank", 1 << 30), f["grade_label"])   # months stored before the rank: as found
                counts[key] = counts.get(key, 0) + 1
    return [(label, [(g, k) for (_, g), k in sorted(counts.items(), key=lambda kv: kv[0][0])])
            for label, counts in rules.values()]
