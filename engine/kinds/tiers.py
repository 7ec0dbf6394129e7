"""tiers (分档): the points of the tier a metric's value lies in.

    巡查到位率95%（含）至100%扣1分，90%至95%扣3分，90%以下扣8分
        tiers: {metric: patrol_rate, tiers: [{range: "[95, 100)", points: 1}, {range: "[90, 95)", points: 3},
                                             {range: "[0, 90)", points: 8}]}
    ≥90%得1分，<90%不得分（得分项）   tiers: {metric: verify_rate, tiers: [{range: "[90, 100]", points: 1}]}
"""
from __future__ import annotations

from ..policy_values import Num, Range, Strict, n
from .base import Checks, Cond, RuleKind, check_reachable, range_terms, unit_of


class Tier(Strict):
    range: Range
    points: Num


class Tiers(Strict):
    metric: str
    tiers: list[Tier]


class _Tiers(RuleKind):
    key = "tiers"
    title = "分档"
    model = Tiers

    def check(self, ck: Checks, rule, spec, path):
        p = path + [self.key]
        m = ck.metric(spec.metric, p + ["metric"])
        if not spec.tiers:
            ck.add(p + ["tiers"], [], "至少一档")
        for j, t in enumerate(spec.tiers):
            ck.positive(t.points, p + ["tiers", j, "points"])
            if m is not None:
                check_reachable(m, t.range, p + ["tiers", j, "range"], ck.add)
            for k in range(j):
                if spec.tiers[k].range.overlaps(t.range):
                    ck.add(p + ["tiers", j, "range"], str(t.range),
                           f"与第 {k + 1} 档 {spec.tiers[k].range} 不重叠的区间", "同一数值只能落在一档")

    def conditions(self, spec, ctx):
        fld = ctx.names.metric[spec.metric]
        return [Cond([{"t": "w"}] + range_terms(fld, t.range), tier=j) for j, t in enumerate(spec.tiers)]

    def placeholders(self, spec, doc):
        return ["指标", "数值", "单位", "档位", "档位说明", spec.metric]

    def default_reason(self, spec, doc):
        return "{指标}{数值}{单位}，在“{档位说明}”档，{得扣}{分值}分"

    def plan(self, doc, rule, spec):
        m = doc.metrics[spec.metric]
        return {"label": m.label, "unit": unit_of(m), "memo": {},
                "tiers": [(t.points, str(t.range), t.range.human(unit_of(m))) for t in spec.tiers]}

    def findings(self, rp, matches, case, msrc):
        spec, k = rp.spec, rp.k
        v = case.metrics[spec.metric]
        out = []
        for cr, _ in matches:
            got = k["memo"].get((cr.tier, v))   # recurring values: words worked out once
            if got is None:
                points, rng, human = k["tiers"][cr.tier]
                values = {spec.metric: n(v), "档位": rng}
                got = (points, values, rp.reason(points, values, {"指标": k["label"], "数值": n(v), "单位": k["unit"],
                                                                  "档位说明": human}))
                if len(k["memo"]) < 10_000:
                    k["memo"][(cr.tier, v)] = got
            out.append(rp.known(got[0], got[1], got[2], msrc))
        return out

    def demo_role(self, spec):
        return ("tiers", spec.tiers)


KIND = _Tiers()
