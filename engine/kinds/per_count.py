"""per_count (按次): points for each occurrence a count metric records.

    每次无故缺席培训扣3分                 per_count: {metric: training_absent, points: 3}
    投诉第1次扣2分、第2次扣3分、以后每次扣5分  per_count: {metric: complaints, escalate: [2, 3, 5]}
    每有效上报1起得2分（得分项）            per_count: {metric: valid_reports, points: 2}
"""
from __future__ import annotations

from typing import Optional

from ..policy_values import Num, Strict, n
from .base import Checks, Cond, RuleKind, check_points_or_escalate, count_unit, escalated


class PerCount(Strict):
    metric: str
    points: Optional[Num] = None
    escalate: Optional[list[Num]] = None      # points for the 1st, 2nd, 3rd… occurrence; the last repeats


class _PerCount(RuleKind):
    key = "per_count"
    title = "按次"
    model = PerCount

    def check(self, ck: Checks, rule, spec, path):
        check_points_or_escalate(ck, spec, path + [self.key])
        m = ck.metric(spec.metric, path + [self.key, "metric"])
        if m is None:
            return
        if m.type != "integer":
            ck.add(path + [self.key, "metric"], f"{spec.metric}（{m.type}）", "integer 类型的计数指标（按次计分）")
        elif m.max is not None and m.max < 1:
            ck.add(path + [self.key, "metric"], spec.metric, "最大值至少为 1 的计数指标（否则永远不会触发）")

    def conditions(self, spec, ctx):
        return [Cond([{"t": "w"}, {"$gt": {ctx.names.metric[spec.metric]: 0}}])]

    def placeholders(self, spec, doc):
        return ["指标", "数值", "单位", "计分方式", spec.metric]

    def default_reason(self, spec, doc):
        return "{指标}{数值}{单位}（{计分方式}），{得扣}{分值}分"

    def plan(self, doc, rule, spec):
        m = doc.metrics[spec.metric]
        return {"label": m.label, "unit": count_unit(m), "memo": {}}

    def findings(self, rp, matches, case, msrc):
        spec, k = rp.spec, rp.k
        v = case.metrics[spec.metric]
        count = int(v)
        got = k["memo"].get(count)   # the same count gives the same points and words: work them out once
        if got is None:
            pts, how = escalated(spec, count, rp.verb, k["unit"])
            values = {spec.metric: n(v)}
            texts = {"指标": k["label"], "数值": n(v), "单位": k["unit"], "计分方式": how}
            got = (pts, values, rp.reason(pts, values, texts))
            if len(k["memo"]) < 10_000:
                k["memo"][count] = got
        pts, values, reason = got
        return [rp.known(pts, values, reason, msrc)]

    def demo_role(self, spec):
        return ("count", None)


KIND = _PerCount()
