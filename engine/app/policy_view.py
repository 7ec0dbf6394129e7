"""A policy as the office reads it, and what changed between two versions.

`policy_view(policy)` turns a validated policy into plain data for a page: the 100-point sheet
item by item with each rule said in words (每次扣3分, 95%及以上、低于100%扣2分 …), the bonus, the
one-vote vetoes, stars and pay bands as tables, the metrics and where each comes from, the rules
across months and the worked examples.  Every rule form of the catalogue (engine/kinds) is said
in words; a form without its own wording is listed by its fields, so a new form shows without
changes here.

`policy_changes(a, b)` compares two versions entity by entity (item, rule, veto, band …) and says,
for each difference, what it was and what it becomes, in the same words.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable

from ..intervals import Interval
from ..kinds import KINDS
from ..policy_values import QuotaBy, n

__all__ = ["policy_view", "policy_changes", "rule_text", "Change", "FIELD_LABELS", "VALUE_LABELS", "value_text"]

TYPE_LABELS = {"integer": "整数", "number": "数值", "percent": "百分比", "bool": "是/否"}
MODE_LABELS = {"deduct": "扣分项目（从满分扣起，扣完为止）", "earn": "得分项目（从0分得起，不超过本项分值）"}

# Chinese names of the fields of the rule forms (and of their parts), for forms and for forms
# that have no wording of their own.  (model name, field) entries take precedence.
FIELD_LABELS = {
    "metric": "指标", "points": "分值", "escalate": "逐次分值", "quota": "定额", "per": "每多少为一个单位",
    "partial": "不足一个单位时", "tiers": "分档", "range": "区间", "category": "事件类别", "severity": "事件等级",
    "delay_hours": "上报延迟（小时，区间）", "handling_hours": "办理用时（小时，区间）", "unclosed": "月底仍未办结",
    "interval": "两个环节之间的时长", "overdue": "期限内未到下一环节", "repeat_months": "同一问题连续出现月数（区间）",
    "month_by": "计入月份", "from": "从环节", "from_": "从环节", "to": "到环节", "hours": "小时", "days": "天",
    "series": "记录", "every": "按", "slots": "各时段定额", "period_cap": "每天（每周）最多", "terms": "各项",
    "ratio": "比率（分子指标、分母指标）", "weight": "权重", "complement": "取 100 减去该率", "full": "满分",
    "empty": "分母为0时的率", "decimals": "保留小数位数", "out_of": "综合分满分（默认为项目分值）", "by": "按人员属性",
    "values": "各属性值的定额", "default": "其他人员的定额",
    ("RecordsRule", "days"): "计入的日子", ("Span", "hours"): "小时（区间）", ("Span", "days"): "天（区间）",
    ("Overdue", "hours"): "期限（小时）", ("Overdue", "days"): "期限（天）",
    # rules across months (engine/periods)
    "months": "月数", "label": "", "withhold_months": "扣发月数", "withhold": "扣发", "percent": "比例（%）", "rounding": "人数取整",
    "times": "次数", "award_ineligible": "取消评先评优资格", "reclaim": "追回已发绩效", "count": "次数",
    "consequence": "后果", "ties": "并列", "combine": "合并方式", "grades": "等次", "scope": "范围",
    "quota_rounding": "名额取整", "order_by": "排序依据", "boundary_ties": "名额线上并列", "period": "期间",
    "amount": "金额（元/年）", "employment": "用工性质", "priority": "待遇", "from_grades": "从以下等次中评",
    "score": "得分", "require": "条件", "quota_percent": "名额（%）", "every_month_min_stars": "每月至少星级",
    "at_least": "至少", "stars": "星级", "no_veto": "无一票否决", "total": "合计", "every_month": "每月",
    ("RecordsRule", "days"): "计入的日子",
}
VALUE_LABELS = {
    "up": "不足一个单位按一个单位计", "down": "不足一个单位不计", "exact": "按比例计",
    "day": "每天", "week": "每周", "working": "只计工作日",
    "discovered": "发现", "reported": "上报", "closed": "办结",
    "performance_pay": "当月绩效工资", "ceil": "向上取整", "floor": "向下取整", "half_up": "四舍五入",
    "mean": "平均", "sum": "合计", "fall": "均不进入", "admit": "均进入", "none": "不计", "month": "月度",
    "quarter": "季度", "half": "半年", "year": "年度", "peer_group": "排名组内", "period_score": "期间得分",
    "year_score": "年度得分", "five_star_months": "五星月数", "min_month_score": "最低月得分", "star_total": "星级合计",
}
# a value said differently in one field: `all` is every day in a records rule, everyone in a scope
FIELD_VALUE_LABELS = {("days", "all"): "每天都计", ("scope", "all"): "全体", ("ties", "all"): "并列者都计"}
STAGE_WORDS = {"discovered": "发现", "reported": "上报", "closed": "办结"}


def field_label(model: str, name: str) -> str:
    return FIELD_LABELS.get((model, name)) or FIELD_LABELS.get(name) or name


def value_text(v: Any, field: str = "") -> str:
    if isinstance(v, str) and (field, v) in FIELD_VALUE_LABELS:
        return FIELD_VALUE_LABELS[(field, v)]
    if v is None:
        return ""
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, Decimal):
        return n(v)
    if isinstance(v, Interval):
        return str(v)
    if isinstance(v, (list, tuple)):
        return "、".join(value_text(x, field) for x in v)
    if isinstance(v, dict):
        return "，".join(f"{k}：{value_text(x)}" for k, x in v.items())
    if hasattr(type(v), "model_fields"):
        parts = []
        for name in type(v).model_fields:
            x = getattr(v, name)
            if x is not None and x != type(v).model_fields[name].default and name != "id":
                parts.append(f"{field_label(type(v).__name__, name)}{value_text(x, name)}")
        return "（" + "，".join(parts) + "）" if parts else ""
    return VALUE_LABELS.get(str(v), str(v))


# --------------------------------------------------------------------------- rules in words


def _metric(doc, mid: str):
    return doc.metrics.get(mid)


def _unit(doc, mid: str, default: str = "") -> str:
    m = _metric(doc, mid)
    return (m.unit if m is not None and m.unit else default)


def _mlabel(doc, mid: str) -> str:
    m = _metric(doc, mid)
    return m.label if m is not None else mid


def _quota_text(doc, quota, unit: str) -> str:
    if isinstance(quota, QuotaBy):
        attr = doc.attributes.get(quota.by)
        parts = [f"{k}{n(v)}{unit}" for k, v in quota.values.items()]
        if quota.default is not None:
            parts.append(f"其他{n(quota.default)}{unit}")
        return f"按{attr.label if attr else quota.by}：" + "、".join(parts)
    return f"{n(quota)}{unit}" if quota is not None else ""


def _escalate(points, escalate, verb: str, unit: str = "次") -> str:
    if escalate and len(escalate) > 1:
        parts = [f"第{k}{unit}{verb}{n(p)}分" for k, p in enumerate(escalate, 1)]
        parts[-1] = f"第{len(escalate)}{unit}及以后每{unit}{verb}{n(escalate[-1])}分"
        return "、".join(parts)
    if escalate:
        points = escalate[0]
    return f"每{unit}{verb}{n(points)}分" if points is not None else ""


def _event_filter_text(spec, doc) -> str:
    bits = []
    if spec.category:
        bits.append("类别为" + "或".join(spec.category))
    if spec.severity:
        bits.append("等级为" + "或".join(spec.severity))
    if spec.delay_hours is not None:
        bits.append("发现到上报" + spec.delay_hours.human("小时"))
    if spec.handling_hours is not None:
        bits.append("上报到办结" + spec.handling_hours.human("小时"))
    if spec.unclosed is not None:
        bits.append("月底仍未办结" if spec.unclosed else "月内已办结")
    stages = dict(STAGE_WORDS, **((doc.events.stages or {}) if doc.events is not None else {}))
    if spec.interval is not None:
        iv = spec.interval
        rng = iv.hours if iv.hours is not None else iv.days
        bits.append(f"{stages.get(iv.from_, iv.from_)}到{stages.get(iv.to, iv.to)}"
                    + (rng.human("小时" if iv.hours is not None else "天") if rng is not None else ""))
    if spec.overdue is not None:
        o = spec.overdue
        limit = f"{n(o.hours)}小时" if o.hours is not None else f"{n(o.days or 0)}天"
        bits.append(f"{stages.get(o.from_, o.from_)}后{limit}内未{stages.get(o.to, o.to)}")
    if spec.repeat_months is not None:
        bits.append("同一问题连续" + spec.repeat_months.human("个月") + "出现")
    if spec.month_by is not None:
        bits.append(f"按{stages.get(spec.month_by, spec.month_by)}月份计入")
    return "、".join(bits)


def rule_text(rule, doc, verb: str = "扣") -> tuple[str, list[dict]]:
    """A rule in the office's words, and a table (rows of {range, points}) for forms that have one."""
    kind, spec = rule.kind, rule.spec
    if kind == "per_count":
        unit = _unit(doc, spec.metric, "次")
        return f"{_mlabel(doc, spec.metric)}：{_escalate(spec.points, spec.escalate, verb, unit)}", []
    if kind == "shortfall":
        unit = _unit(doc, spec.metric)
        per = f"{n(spec.per)}{unit or '个单位'}"
        return (f"{_mlabel(doc, spec.metric)}低于定额（{_quota_text(doc, spec.quota, unit)}）时，每少{per}{verb}{n(spec.points)}分"
                f"（{VALUE_LABELS[spec.partial]}）"), []
    if kind == "tiers":
        unit = _unit(doc, spec.metric)
        rows = [{"range": t.range.human(unit), "interval": str(t.range), "points": n(t.points),
                 "text": f"{t.range.human(unit)}{verb}{n(t.points)}分"} for t in spec.tiers]
        return f"按{_mlabel(doc, spec.metric)}分档：" + "；".join(r["text"] for r in rows), rows
    if kind == "event":
        what = _event_filter_text(spec, doc)
        return f"{what or '每件'}的事件：{_escalate(spec.points, spec.escalate, verb, '件')}", []
    if kind == "records":
        series = doc.records.get(spec.series)
        label = series.label if series is not None else spec.series
        every = "每天" if spec.every == "day" else "每周"
        days = "（只计工作日）" if spec.days == "working" else ""
        if spec.slots:
            quota = "、".join(f"{k}不少于{n(v)}" for k, v in spec.slots.items())
        else:
            quota = "不少于" + _quota_text(doc, spec.quota, "")
        how = f"每少{n(spec.per)}{verb}{n(spec.points)}分" if spec.per else f"{verb}{n(spec.points)}分"
        cap = f"，每{'天' if spec.every == 'day' else '周'}最多{verb}{n(spec.period_cap)}分" if spec.period_cap else ""
        return f"{label}{every}{days}{quota}，不足的{how}{cap}", []
    if kind == "composite":
        terms = []
        for t in spec.terms:
            name = _mlabel(doc, t.metric) if t.metric else "÷".join(_mlabel(doc, x) for x in (t.ratio or []))
            if t.complement:
                name = f"（100−{name}）"
            terms.append(f"{name}×{n(t.weight * 100)}%")
        return f"综合得分＝{' + '.join(terms)}，保留{spec.decimals}位小数", []
    model = type(spec).__name__
    parts = [f"{field_label(model, k)}：{value_text(getattr(spec, k), k)}" for k in type(spec).model_fields
             if getattr(spec, k) is not None]
    return (KINDS[kind].title if kind in KINDS else kind) + "：" + "；".join(parts), []


# --------------------------------------------------------------------------- the whole policy


def _metric_source(m, doc) -> str:
    if m.count_events is not None:
        what = _event_filter_text(m.count_events, doc)
        return "事件台账中" + (what + "的" if what else "") + "事件件数"
    if m.from_records is not None:
        series = doc.records.get(m.from_records.series)
        stat = {"total": "合计", "per_day": "日均", "per_week": "周均", "days_with": "有记录的天数"}
        return f"记录表：{series.label if series else m.from_records.series}{stat.get(m.from_records.stat, '')}"
    return "月度指标表"


def _rules_view(rules, doc, verb_of) -> list[dict]:
    out = []
    for r in rules:
        verb = verb_of(r)
        text, table = rule_text(r, doc, verb)
        out.append({"id": r.id, "label": r.label, "kind": r.kind, "kind_title": KINDS[r.kind].title if r.kind in KINDS else r.kind,
                    "text": text, "table": table, "cap": n(r.cap) if r.cap is not None else "",
                    "effect": r.effect or "", "reason": r.reason or "", "verb": verb})
    return out


def _veto_view(v, pol) -> dict:
    doc = pol.doc
    m = doc.metrics.get(v.metric)
    if v.range is not None:
        when = f"{m.label if m else v.metric}{v.range.human(m.unit if m else '')}"
    elif m is not None and m.type == "bool":
        when = f"{m.label}为“是”"
    else:
        when = f"{m.label if m else v.metric}1{m.unit if m and m.unit else '次'}及以上"
    eff = pol.veto_effect(v)
    effects = []
    if eff.fail:
        effects.append("本月考核不合格")
    if eff.score == "zero":
        effects.append("得分记为0")
    effects.append("绩效工资不予发放" if eff.pay == "withhold" else "绩效工资照常发放")
    if eff.stars == "zero":
        effects.append("星级为0")
    return {"id": v.id, "label": v.label, "domain": v.domain, "when": when, "effect": "，".join(effects)}


def _pct(d: Decimal) -> str:
    return f"{n(d * 100)}%"


def _period_view(rule) -> dict:
    model = type(rule).__name__
    skip = {"id", "label", "kind"}
    parts = [f"{field_label(model, k)}：{value_text(getattr(rule, k), k)}" for k in type(rule).model_fields
             if k not in skip and getattr(rule, k) is not None and getattr(rule, k) != type(rule).model_fields[k].default]
    return {"id": rule.id, "label": rule.label, "kind": rule.kind, "text": "；".join(parts)}


def _example_view(ex, doc) -> dict:
    metrics = "、".join(f"{_mlabel(doc, k)}{v}{_unit(doc, k)}" for k, v in ex.metrics.items())
    worker = "、".join(f"{(doc.attributes[k].label if k in doc.attributes else {'wage': '月工资'}.get(k, k))}{v}"
                       for k, v in ex.worker.items())
    e = ex.expect
    expect = []
    for key, label, fmt in (("score", "得分", lambda v: f"{n(v)}分"), ("deductions", "扣分", lambda v: f"{n(v)}分"),
                            ("bonus", "加分", lambda v: f"{n(v)}分"), ("stars", "星级", lambda v: f"{v}星"),
                            ("band", "档次", str), ("pay", "绩效工资", lambda v: f"{Decimal(v):.2f}元"),
                            ("veto", "一票否决", lambda v: ("是" if v else "否") if isinstance(v, bool) else v)):
        v = getattr(e, key)
        if v is not None:
            expect.append(f"{label}{fmt(v)}")
    if e.findings:
        expect.append("逐条：" + "、".join(f"{k} {n(v)}" for k, v in e.findings.items()))
    return {"name": ex.name, "worker": worker, "metrics": metrics or "（各指标取默认值）",
            "events": len(ex.events), "records": len(ex.records), "expect": "，".join(expect)}


def policy_view(pol) -> dict:
    """A validated policy (engine.policy.Policy) as plain data for a page."""
    doc = pol.doc
    items = []
    for it in doc.items:
        def verb_of(r, it=it):
            return "扣" if (it.mode == "deduct" or r.effect == "deduct") else "得"
        items.append({"id": it.id, "label": it.label, "category": it.category, "points": n(it.points),
                      "mode": it.mode, "mode_label": MODE_LABELS[it.mode], "description": it.description,
                      "rules": _rules_view(it.rules, doc, verb_of)})
    bonus = None
    if doc.bonus is not None:
        bonus = {"label": doc.bonus.label, "cap": n(doc.bonus.cap), "rules": _rules_view(doc.bonus.rules, doc, lambda r: "加")}
    metrics = [{"id": mid, "label": m.label, "type": TYPE_LABELS.get(m.type, m.type), "unit": m.unit,
                "range": "" if m.type == "bool" else _domain_text(m), "default": value_text(m.default) if m.default is not None else "",
                "source": _metric_source(m, doc)} for mid, m in doc.metrics.items()]
    pay = None
    if doc.pay is not None:
        pay = {"share": _pct(doc.pay.performance_share),
               "bands": [{"id": b.id, "label": b.label, "range": b.range.human("分"), "interval": str(b.range),
                          "ratio": _pct(b.ratio)} for b in doc.pay.bands]}
    periods = None
    if doc.periods is not None:
        r = doc.periods.ranking
        periods = {"ranking": {"label": r.label, "peer_group": r.peer_group},
                   "rules": [_period_view(x) for x in doc.periods.rules]}
    return {
        "id": doc.id, "name": doc.name, "version": doc.version, "effective_from": doc.effective_from or "",
        "effective_until": doc.effective_until or "", "full_score": n(doc.full_score), "hash": pol.hash,
        "files": list(pol.files),
        "attributes": [{"id": k, "label": a.label, "values": "、".join(a.values or []), "default": a.default or ""}
                       for k, a in doc.attributes.items()],
        "metrics": metrics, "items": items, "bonus": bonus,
        "vetoes": [_veto_view(v, pol) for v in doc.vetoes],
        "stars": [{"stars": s.stars, "range": s.range.human("分"), "interval": str(s.range)} for s in (doc.stars or [])],
        "pay": pay, "periods": periods,
        "examples": [_example_view(ex, doc) for ex in doc.examples],
    }


def _domain_text(m) -> str:
    lo = m.min if m.min is not None else (Decimal(0) if m.type in ("integer", "percent") else None)
    hi = m.max if m.max is not None else (Decimal(100) if m.type == "percent" else None)
    if lo is None and hi is None:
        return ""
    return f"{n(lo) if lo is not None else '不限'}～{n(hi) if hi is not None else '不限'}"


# --------------------------------------------------------------------------- what changed


@dataclass(frozen=True)
class Change:
    section: str        # 基本信息 / 指标 / 考核项目 / 加分 / 一票否决 / 星级 / 绩效档次 / 跨月规则 / 示例
    what: str           # which entity, in words: 信息采集 › 信息采集录入不全（entry_rate_low）
    change: str         # 新增 / 删除 / 修改
    before: str
    after: str

    def as_dict(self) -> dict:
        return {"section": self.section, "what": self.what, "change": self.change, "before": self.before,
                "after": self.after}


def _keyed(rows: Iterable[dict], key: str = "id") -> dict[str, dict]:
    return {str(r[key]): r for r in rows}


def _compare(section: str, a: dict[str, dict], b: dict[str, dict], name, fields: list[tuple[str, str]],
             out: list[Change], whole=None) -> None:
    """Entities of one section: added, removed, and for those in both, each field that differs."""
    whole = whole or (lambda r: "；".join(f"{label}{r[f]}" for f, label in fields if r.get(f) not in (None, "")))
    for k in a:
        if k not in b:
            out.append(Change(section, name(a[k]), "删除", whole(a[k]), ""))
    for k in b:
        if k not in a:
            out.append(Change(section, name(b[k]), "新增", "", whole(b[k])))
            continue
        for f, label in fields:
            if a[k].get(f) != b[k].get(f):
                out.append(Change(section, f"{name(b[k])}：{label}", "修改", str(a[k].get(f) or "（无）"),
                                  str(b[k].get(f) or "（无）")))


def policy_changes(a, b) -> list[Change]:
    """What changed from policy `a` to policy `b` (both validated), in the office's words."""
    va, vb = policy_view(a), policy_view(b)
    out: list[Change] = []
    head = [("name", "名称"), ("version", "版本"), ("effective_from", "生效月份"), ("full_score", "满分")]
    for f, label in head:
        if va[f] != vb[f]:
            out.append(Change("基本信息", label, "修改", va[f] or "（无）", vb[f] or "（无）"))
    _compare("指标", _keyed(va["metrics"]), _keyed(vb["metrics"]), lambda r: f"{r['label']}（{r['id']}）",
             [("label", "名称"), ("type", "类型"), ("unit", "单位"), ("range", "取值范围"), ("default", "默认值"),
              ("source", "来源")], out)
    _compare("人员属性", _keyed(va["attributes"]), _keyed(vb["attributes"]), lambda r: f"{r['label']}（{r['id']}）",
             [("label", "名称"), ("values", "取值"), ("default", "默认")], out)
    _compare("考核项目", _keyed(va["items"]), _keyed(vb["items"]), lambda r: f"{r['label']}（{r['id']}）",
             [("label", "名称"), ("points", "分值"), ("mode", "计分方式"), ("category", "类别")], out)
    rule_fields = [("label", "名称"), ("text", "计分"), ("cap", "本条最多"), ("effect", "得扣"), ("reason", "理由写法")]
    rules_a = {r["id"]: dict(r, item=it["label"]) for it in va["items"] for r in it["rules"]}
    rules_b = {r["id"]: dict(r, item=it["label"]) for it in vb["items"] for r in it["rules"]}
    _compare("考核规则", rules_a, rules_b, lambda r: f"{r['item']} › {r['label']}（{r['id']}）", rule_fields, out,
             whole=lambda r: r["text"])
    for k in sorted(set(rules_a) & set(rules_b)):
        if rules_a[k]["item"] != rules_b[k]["item"]:
            out.append(Change("考核规则", f"{rules_b[k]['label']}（{k}）：所属项目", "修改", rules_a[k]["item"],
                              rules_b[k]["item"]))
    ba, bb = va["bonus"] or {"label": "", "cap": "", "rules": []}, vb["bonus"] or {"label": "", "cap": "", "rules": []}
    if ba["cap"] != bb["cap"]:
        out.append(Change("加分", "加分上限", "修改", f"{ba['cap']}分" if ba["cap"] else "（无）",
                          f"{bb['cap']}分" if bb["cap"] else "（无）"))
    _compare("加分", _keyed(ba["rules"]), _keyed(bb["rules"]), lambda r: f"{r['label']}（{r['id']}）", rule_fields, out,
             whole=lambda r: r["text"])
    _compare("一票否决", _keyed(va["vetoes"]), _keyed(vb["vetoes"]), lambda r: f"{r['label']}（{r['id']}）",
             [("label", "名称"), ("domain", "领域"), ("when", "情形"), ("effect", "后果")], out)
    _compare("星级", _keyed(va["stars"], "stars"), _keyed(vb["stars"], "stars"), lambda r: f"{r['stars']}星",
             [("range", "得分")], out)
    pa, pb = va["pay"] or {"share": "", "bands": []}, vb["pay"] or {"share": "", "bands": []}
    if pa["share"] != pb["share"]:
        out.append(Change("绩效档次", "绩效工资占月工资比例", "修改", pa["share"] or "（无）", pb["share"] or "（无）"))
    _compare("绩效档次", _keyed(pa["bands"]), _keyed(pb["bands"]), lambda r: f"{r['label']}（{r['id']}）",
             [("label", "名称"), ("range", "得分"), ("ratio", "发放比例")], out)
    qa = (va["periods"] or {"rules": []})["rules"]
    qb = (vb["periods"] or {"rules": []})["rules"]
    _compare("跨月规则", _keyed(qa), _keyed(qb), lambda r: f"{r['label']}（{r['id']}）",
             [("label", "名称"), ("kind", "种类"), ("text", "内容")], out)
    ea, eb = {e["name"]: e for e in va["examples"]}, {e["name"]: e for e in vb["examples"]}
    _compare("示例", ea, eb, lambda r: f"示例“{r['name']}”", [("metrics", "指标"), ("expect", "应得结果")], out,
             whole=lambda r: r["expect"])
    return out
