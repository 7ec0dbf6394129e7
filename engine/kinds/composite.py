"""composite (加权综合): an item's points as a weighted sum of rates, rounded once at the end.

    综合得分 = 有效上报率×40% + (1−漏报率)×20% + 按时核实率×20% + 按时核查率×20%
        composite: {terms: [{metric: valid_rate, weight: 40%}, {metric: miss_rate, weight: 20%, complement: true},
                            {ratio: [verified_on_time, verified], weight: 20%}, {metric: check_rate, weight: 20%}]}
    “3+1+X”：督查40分、舆情30分、群众评议30分，按权重折算
        terms: [{metric: supervision_score, full: 40, weight: 50%}, …]

Each term is a rate on a 0–100 scale: a percent metric's value; another metric's value as a
share of its `full` mark (value ÷ full × 100; `full` defaults to the metric's max); or
`ratio: [numerator, denominator]` of two count metrics (× 100; a zero denominator counts as
`empty`, default 100: nothing to do, nothing missed).  A rate above 100 (a numerator larger than
its denominator, a value above its full mark) counts as 100, and the reason says so.
`complement: true` takes 100 − the rate (1 − 漏报率).  The weights add up to 100%.  The composite = out_of × Σ(weight × rate) ÷ 100
(`out_of` defaults to the item's points), computed exactly and rounded once, half up, to
`decimals` places.  In a deduction item the rule deducts out_of − composite; in an earn item it
earns the composite.  The reason shows every term.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Optional

from ..policy_values import Num, Ratio, Strict, n
from .base import Checks, Cond, RuleKind, half_up, metric_domain


class Term(Strict):
    metric: Optional[str] = None
    ratio: Optional[list[str]] = None          # [numerator metric, denominator metric]
    weight: Ratio                              # 40% or 0.4
    complement: bool = False                   # 100 − the rate (1 − 漏报率)
    full: Optional[Num] = None                 # full mark of a non-percent metric (default: its max)
    empty: Optional[Num] = None                # a ratio over zero: this rate (default 100)


class Composite(Strict):
    terms: list[Term]
    decimals: int = 2
    out_of: Optional[Num] = None               # default: the item's points


class _Composite(RuleKind):
    key = "composite"
    title = "加权综合"
    model = Composite

    def metrics(self, spec):
        out = set()
        for t in spec.terms:
            out |= {t.metric} if t.metric is not None else set(t.ratio or ())
        return out

    def check(self, ck: Checks, rule, spec, path):
        p = path + [self.key]
        if path[0] == "bonus":
            ck.add(p, "composite", "不用于加分项目（加权综合是一个项目的得分）")
        if rule.effect == "deduct":
            ck.add(path + ["effect"], rule.effect, "不填（加权综合在得分项目中得其综合分，在扣分项目中扣满分与综合分之差）")
        if not spec.terms:
            ck.add(p + ["terms"], [], "至少一项")
        total = sum((t.weight for t in spec.terms), Decimal(0))
        if spec.terms and total != 1:
            ck.add(p + ["terms"], f"权重合计{n(total * 100)}%", "各项权重合计 100%")
        if not 0 <= spec.decimals <= 4:
            ck.add(p + ["decimals"], spec.decimals, "0 到 4 之间的整数（保留小数位数）")
        ck.positive(spec.out_of, p + ["out_of"], "满分")
        for j, t in enumerate(spec.terms):
            tp = p + ["terms", j]
            if t.weight <= 0:
                ck.add(tp + ["weight"], n(t.weight), "大于 0 的权重，如 40%")
            if (t.metric is None) == (t.ratio is None):
                ck.add(tp, None if t.metric is None else "metric 与 ratio 都写了",
                       "metric（一个指标）或 ratio（[分子指标, 分母指标]）二选一")
                continue
            if t.metric is not None:
                m = ck.metric(t.metric, tp + ["metric"])
                if m is None:
                    continue
                if t.empty is not None:
                    ck.add(tp + ["empty"], n(t.empty), "不填（empty 只用于 ratio）")
                if m.type == "percent":
                    if t.full is not None:
                        ck.add(tp + ["full"], n(t.full), "不填（百分比指标的满分就是 100%）")
                    continue
                if t.full is None and m.max is None:
                    ck.add(tp + ["full"], None, f"指标「{m.label}」的满分（该指标没有 max），如 full: 40")
                elif t.full is not None and t.full <= 0:
                    ck.add(tp + ["full"], n(t.full), "大于 0 的满分")
                lo = metric_domain(m).lo
                if lo is None or lo < 0:
                    ck.add(tp + ["metric"], t.metric, f"取值不小于 0 的指标（「{m.label}」可能为负，请写 min: 0）")
                continue
            if len(t.ratio) != 2:
                ck.add(tp + ["ratio"], t.ratio, "两个计数指标：[分子, 分母]，如 [按时核实, 核实总数]")
                continue
            for k, mid in enumerate(t.ratio):
                m = ck.metric(mid, tp + ["ratio", k])
                if m is not None and m.type != "integer":
                    ck.add(tp + ["ratio", k], mid, "integer 类型的计数指标")
            if t.full is not None:
                ck.add(tp + ["full"], n(t.full), "不填（比率的满分就是 100%）")
            if t.empty is not None and not 0 <= t.empty <= 100:
                ck.add(tp + ["empty"], n(t.empty), "0 到 100 之间（分母为 0 时按此比率计）")

    def conditions(self, spec, ctx):
        return [Cond([{"t": "w"}])]   # every worker has a composite; its value is computed exactly below

    def placeholders(self, spec, doc):
        return ["算式", "原值", "综合", "取整", "满分"]

    def default_reason(self, spec, doc):
        return "综合得分＝{算式}＝{原值}分，{取整}为{综合}分（满分{满分}分），{得扣}{分值}分"

    def plan(self, doc, rule, spec):
        terms = []
        for t in spec.terms:
            if t.metric is not None:
                m = doc.metrics[t.metric]
                full = Decimal(100) if m.type == "percent" else (t.full if t.full is not None else m.max)
                terms.append(("metric", t, m.label, m.unit if m.type != "percent" else "%", full,
                              f"×{n(t.weight * 100)}%"))
            else:
                num, den = (doc.metrics[x] for x in t.ratio)
                terms.append(("ratio", t, (num.label, den.label), "", Decimal(100) if t.empty is None else t.empty,
                              f"×{n(t.weight * 100)}%"))
        return {"terms": terms, "rounding": f"四舍五入保留{spec.decimals}位小数" if spec.decimals else "四舍五入取整"}

    def value(self, spec, k, metrics, out_of: Decimal) -> tuple[Decimal, Decimal, list[str], dict]:
        """(exact composite, rounded composite, each term's words, values) for one worker."""
        raw, words, values = Decimal(0), [], {}
        for kind, t, label, unit, full, weight_text in k["terms"]:
            if kind == "metric":
                v = metrics[t.metric]
                rate = v if unit == "%" else v / full * 100
                shown = f"{label}{n(v)}{unit}" if unit == "%" else f"{label}{n(v)}{unit}÷{n(full)}{unit}"
                values[t.metric] = n(v)
            else:
                a, b = (metrics[x] for x in t.ratio)
                rate = full if b == 0 else a / b * 100
                shown = f"{label[0]}÷{label[1]}（" + (f"{n(a)}/{n(b)}）" if b != 0 else f"分母为0，按{n(full)}%计）")
                values[t.ratio[0]], values[t.ratio[1]] = n(a), n(b)
            if rate > 100:   # a numerator above its denominator, a value above its full mark
                rate = Decimal(100)
                shown += "（超过100%，按100%计）"
            if t.complement:
                rate = 100 - rate
                shown = f"（1－{shown}）"
            raw += t.weight * rate
            words.append(shown + weight_text)
        exact = out_of * raw / 100
        return exact, half_up(exact, spec.decimals), words, values

    def findings(self, rp, matches, case, msrc):
        spec, k = rp.spec, rp.k
        out_of = spec.out_of if spec.out_of is not None else rp.item_points
        exact, got, words, values = self.value(spec, k, case.metrics, out_of)
        points = got if rp.earn_item else out_of - got
        if points == 0:
            return []
        formula = "＋".join(words)
        if out_of != 100:
            formula = f"（{formula}）×{n(out_of)}÷100"
        # the exact value, as long as it is short; a repeating one (2/3) is shown to 6 places and marked
        exact_text = n(exact) if exact == half_up(exact, 6) else n(half_up(exact, 6)) + "…"
        values.update({"综合": n(got), "原值": exact_text})
        texts = {"算式": formula, "原值": exact_text, "综合": n(got), "取整": k["rounding"], "满分": n(out_of)}
        return [rp.finding(points, values, texts, msrc)]

    def demo_role(self, spec):
        return ("rate", spec)   # rates near 100%; a complement term's (漏报率) near 0


KIND = _Composite()
