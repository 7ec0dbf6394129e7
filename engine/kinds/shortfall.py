"""shortfall (按差额): points for each unit a metric falls short of its quota.

    纸质日志每月不少于8篇，每少1篇扣1分        shortfall: {metric: paper_diary, quota: 8, points: 1}
    村网格员每周2篇、社区网格员每周5篇         quota: {by: worker_type, values: {村: 2, 社区: 5}}
    每差0.5个百分点扣1分，不足0.5的不计        per: 0.5, partial: down
"""
from __future__ import annotations

from decimal import Decimal
from typing import Literal, Union

from ..policy_values import Num, QuotaBy, Strict, n
from .base import (PARTIAL_TEXT, Checks, RuleKind, check_quota, half_up, quota_conditions, quota_for,
                   round_units, unit_of)


class Shortfall(Strict):
    metric: str
    quota: Union[Num, QuotaBy]
    points: Num                               # per `per` units short
    per: Num = Decimal(1)
    partial: Literal["up", "down", "exact"] = "up"


class _Shortfall(RuleKind):
    key = "shortfall"
    title = "按差额"
    model = Shortfall

    def check(self, ck: Checks, rule, spec, path):
        p = path + [self.key]
        ck.positive(spec.points, p + ["points"])
        ck.positive(spec.per, p + ["per"], "单位")
        m = ck.metric(spec.metric, p + ["metric"])
        check_quota(ck, spec.quota, m, p + ["quota"])

    def conditions(self, spec, ctx):
        return quota_conditions(spec.quota, [{"t": "w"}], ctx.names.metric[spec.metric], ctx.names)

    def placeholders(self, spec, doc):
        return ["指标", "数值", "单位", "定额", "差额", "人员属性", "计分方式", "取整", spec.metric]

    def default_reason(self, spec, doc):
        return "{指标}{数值}{单位}，低于定额{定额}{单位}{人员属性}，差{差额}{单位}，{计分方式}{取整}，{得扣}{分值}分"

    def plan(self, doc, rule, spec):
        m = doc.metrics[spec.metric]
        unit = unit_of(m)
        per = f"{n(spec.per)}{unit or '个单位'}"
        attr = doc.attributes.get(spec.quota.by) if isinstance(spec.quota, QuotaBy) else None
        return {"label": m.label, "unit": unit, "per": per, "attr": attr.label if attr else "", "memo": {},
                "partial": PARTIAL_TEXT[spec.partial].format(per=per)}

    def findings(self, rp, matches, case, msrc):
        spec, k = rp.spec, rp.k
        v = case.metrics[spec.metric]
        out = []
        for cr, _ in matches:
            key = (cr.quota_key, v, case.attributes.get(spec.quota.by) if k["attr"] else None)
            got = k["memo"].get(key)   # recurring values: points and words worked out once
            if got is not None:
                out.append(rp.known(got[0], got[1], got[2], msrc))
                continue
            quota, who = quota_for(spec.quota, case.attributes, cr.quota_key)
            short = quota - v
            exact = short / spec.per
            units = round_units(exact, spec.partial)
            pts = units * spec.points
            if spec.partial == "exact":   # proportional points can be non-terminating (1/3): fen, half up
                pts = half_up(pts)
            if pts <= 0:
                continue
            values = {spec.metric: n(v), "定额": n(quota), "差额": n(short)}
            texts = {"指标": k["label"], "数值": n(v), "单位": k["unit"], "定额": n(quota), "差额": n(short),
                     "人员属性": f"（{k['attr']}：{who}）" if who is not None else "",
                     "计分方式": f"每差{k['per']}{rp.verb}{n(spec.points)}分",
                     "取整": f"（{k['partial']}）" if units != short or spec.per != 1 else ""}
            got = (pts, values, rp.reason(pts, values, texts))
            if len(k["memo"]) < 10_000:
                k["memo"][key] = got
            out.append(rp.known(got[0], got[1], got[2], msrc))
        return out

    def demo_role(self, spec):
        return ("shortfall", spec.quota)


KIND = _Shortfall()
