"""What every rule form (kind) of the 100-point sheet provides, and what the kinds share.

A kind is one module in engine/kinds/ holding one `RuleKind` object: the pydantic model of
its YAML form, its checks, its compilation into durable_rules conditions (plain JSON-like
data: durable_rules itself is imported only by engine/assessment.py), the placeholders and
default wording of its reason, how its matches become points and reasons, and what demo
data exercises it.  The catalogue (engine/kinds/__init__.py) lists them in YAML order.
"""
from __future__ import annotations

import re
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any, Callable, NamedTuple

from ..intervals import Interval
from ..policy_values import QuotaBy, n

FEN = Decimal("0.01")
ZERO = Decimal(0)


class Cond(NamedTuple):
    """One durable_rules condition standing for (part of) a policy rule."""

    terms: list[dict]
    tier: int | None = None          # tiers: which tier; records: which slot (index)
    quota_key: str | None = None     # quota by attribute: which attribute value ("*" = default)
    place: int | None = None         # records: which day or week of the month


class Checks:
    """What a kind's semantic check needs: the policy, a located `add`, and metric look-ups."""

    def __init__(self, doc, add: Callable, pruned_metrics: set[str]):
        self.doc, self.add, self.pruned_metrics = doc, add, pruned_metrics

    def metric(self, mid: str, path: list, *, numeric: bool = True):
        """The metric a rule reads, or None after saying why it cannot be used."""
        m = self.doc.metrics.get(mid)
        if m is None:
            if mid not in self.pruned_metrics and "*" not in self.pruned_metrics:
                names = "、".join(self.doc.metrics)
                self.add(path, mid, "metrics 中已声明的指标", f"已声明：{names}" if names else "尚未声明任何指标")
            return None
        if numeric and m.type == "bool":
            self.add(path, mid, "数值指标（是/否指标只能用于一票否决或跨月条件）")
            return None
        return m

    def positive(self, value, path: list, what: str = "分值") -> None:
        if value is not None and value <= 0:
            self.add(path, n(value), f"大于 0 的{what}")


class RuleKind:
    """The interface of a rule form; see the module docstring.  `spec` is the form's model."""

    key = ""                 # the YAML key: per_count, shortfall, ...
    title = ""               # Chinese name in messages: 按次
    model: type = None       # the pydantic model of the form
    target = "w"             # fact type its conditions match: w worker, e event, p record period

    def metrics(self, spec) -> set[str]:
        """Metrics the conditions read (they travel on the worker fact)."""
        metric = getattr(spec, "metric", None)
        return {metric} if metric is not None else set()

    def check(self, ck: Checks, rule, spec, path: list) -> None:
        """Problems of one rule of this form (`path` points at the rule)."""

    def check_together(self, ck: Checks, rules: list, path: list, bonus: bool) -> None:
        """Problems between the rules of one item (or of the bonus) — `rules` is that whole list."""

    def conditions(self, spec, ctx) -> list[Cond]:
        raise NotImplementedError

    def placeholders(self, spec, doc) -> list[str]:
        """What a `reason:` template of this form may use (besides the common ones)."""
        return []

    def default_reason(self, spec, doc) -> str:
        raise NotImplementedError

    def plan(self, doc, rule, spec) -> Any:
        """Whatever wording every finding of this rule shares, worked out once per policy."""
        return None

    def findings(self, rp, matches: list, case, msrc) -> list:
        """The findings of one rule for one worker: `rp` is scoring's rule plan (rp.finding makes
        one), `matches` the (CompiledRule, Hit) pairs durable_rules returned for it."""
        raise NotImplementedError

    def demo_role(self, spec) -> tuple | None:
        """How engine/demo.py should generate the metric this rule reads: (role, extra)."""
        return None


# Placeholders every rule's reason may use.  `label` and `points` are the names of the first
# version of the format; they stay valid.
COMMON_PLACEHOLDERS = ["规则", "分值", "得扣", "项目", "label", "points"]
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def template_fields(template: str) -> list[str]:
    return _PLACEHOLDER.findall(template)


class _Missing(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def compile_template(template: str) -> Callable[[dict], str]:
    """A reason template as a fast fill function (str.format_map; other braces kept literally)."""
    parts = re.split(r"(\{\w+\})", template)
    fmt = "".join(p if _PLACEHOLDER.fullmatch(p) else p.replace("{", "{{").replace("}", "}}") for p in parts)
    return lambda values: fmt.format_map(_Missing(values))


def compile_reason(template: str, common: dict[str, str]) -> Callable[[dict, dict, str], str]:
    """A rule's reason template as `fill(values, texts, points_text)`: the same text as
    compile_template(template)({**common, **values, **texts, "分值": p, "points": p}) — each placeholder
    taken from the points, else the finding's texts, else its values, else the rule's common words,
    else kept as written — without merging four dicts and parsing the template for every finding
    (that was a fifth of a finding's time).  The fill is one f-string (a third faster than a %-format
    of the same pieces): the template's text is written into it escaped (\\u escapes, quotes,
    doubled braces), each placeholder as a lookup by its name (word characters only) and constants."""
    code, consts = [], {}
    for part in re.split(r"(\{\w+\})", template):
        m = _PLACEHOLDER.fullmatch(part)
        if m is None:
            code.append(part.encode("unicode_escape").decode("ascii").replace('"', '\\"')
                        .replace("{", "{{").replace("}", "}}"))
            continue
        key = m.group(1)
        if key in ("分值", "points"):
            code.append("{p}")
            continue
        name = f"c{len(consts)}"
        consts[name] = common.get(key, "{" + key + "}")
        k = repr(key)   # '…' without a backslash for every word character (checked over all of Unicode)
        code.append(f"{{(t[{k}] if {k} in t else v[{k}] if {k} in v else {name})}}")
    return eval('lambda v, t, p: f"' + "".join(code) + '"', consts)  # noqa: S307


# --------------------------------------------------------------------------- metrics


def metric_domain(m) -> Interval:
    if m.type == "percent":
        lo = m.min if m.min is not None else Decimal(0)
        hi = m.max if m.max is not None else Decimal(100)
    else:
        lo = m.min if m.min is not None else (Decimal(0) if m.type == "integer" else None)
        hi = m.max
    return Interval(lo, lo is not None, hi, hi is not None, f"[{lo if lo is not None else '-inf'}, {hi if hi is not None else '+inf'}]")


def has_integer(iv: Interval) -> bool:
    """Whether a non-empty interval contains a whole number."""
    if iv.lo is None or iv.hi is None:
        return True
    first = iv.lo.to_integral_value(rounding=ROUND_CEILING)
    if first == iv.lo and not iv.lo_closed:
        first += 1
    return first < iv.hi or (first == iv.hi and iv.hi_closed)


def check_reachable(m, rng: Interval, path: list, add) -> None:
    dom = metric_domain(m)
    if rng.overlaps(dom) and m.type == "integer" and not has_integer(rng.intersect(dom)):
        add(path, str(rng), f"含有整数的区间（「{m.label}」是整数指标，此区间内没有整数，规则永远不会触发）")
    elif not rng.overlaps(dom):
        add(path, str(rng), f"与指标「{m.label}」的取值范围 {dom} 有交集（否则此规则永远不会触发）")


def check_points_or_escalate(ck: Checks, spec, path: list) -> None:
    """`points` per occurrence or an `escalate` list, exactly one, all positive."""
    if (spec.points is None) == (spec.escalate is None):
        ck.add(path, "points 与 escalate 都写了" if spec.points is not None else None,
               "points（每次分值）与 escalate（逐次递增分值）二选一")
    elif spec.escalate and all(p == 0 for p in spec.escalate):
        ck.add(path + ["escalate"], [n(p) for p in spec.escalate], "至少一个大于 0 的分值（否则永远不扣分）")
    for j, p in enumerate(spec.escalate or []):
        if p < 0:
            ck.add(path + ["escalate", j], n(p), "不小于 0 的分值")
    if spec.escalate is not None and not spec.escalate:
        ck.add(path + ["escalate"], [], "至少一个分值")
    ck.positive(spec.points, path + ["points"])


def check_quota(ck: Checks, quota, m, path: list) -> None:
    """A quota (a number or by a worker attribute) must lie above the metric's minimum."""
    quotas: list[tuple[list, Decimal]] = []
    if isinstance(quota, QuotaBy):
        attr = ck.doc.attributes.get(quota.by)
        if attr is None:
            ck.add(path + ["by"], quota.by, "attributes 中声明的人员属性", "已声明：" + ("、".join(ck.doc.attributes) or "无"))
        elif attr.values is not None:
            for v in quota.values:
                if v not in attr.values:
                    ck.add(path + ["values", v], v, f"属性「{attr.label}」的取值之一：" + "、".join(attr.values))
        quotas += [(["values", k], q) for k, q in quota.values.items()]
        if quota.default is not None:
            quotas.append((["default"], quota.default))
    elif quota is not None:
        quotas.append(([], quota))
    if m is None:
        return
    dom = metric_domain(m)
    for qpath, q in quotas:
        if dom.lo is not None and q <= dom.lo:
            ck.add(path + qpath, n(q), f"大于指标「{m.label}」的最小值 {n(dom.lo)}（否则永远不会差额扣分）")


def quota_conditions(quota, base: list[dict], fld: str, names, tier: int | None = None) -> list[Cond]:
    """`fld < quota`, split per attribute value when the quota depends on one."""
    if isinstance(quota, QuotaBy):
        af = names.attr[quota.by]
        out = [Cond(base + [{af: val}, {"$lt": {fld: float(q)}}], tier, val) for val, q in quota.values.items()]
        if quota.default is not None:
            others = [{"$neq": {af: v}} for v in quota.values]
            out.append(Cond(base + others + [{"$lt": {fld: float(quota.default)}}], tier, "*"))
        return out
    return [Cond(base + [{"$lt": {fld: float(quota)}}], tier)]


def quota_for(quota, attributes: dict, key: str | None):
    """The quota that applied to a worker (by the condition's quota key), and the '（类别：村）' text."""
    if isinstance(quota, QuotaBy):
        value = attributes.get(quota.by)
        return (quota.values[value] if key != "*" else quota.default), value
    return quota, None


# --------------------------------------------------------------------------- conditions and text


def range_terms(fld: str, rng: Interval) -> list[dict]:
    """durable_rules terms for `fld` inside an interval (decimals reach it as doubles, at most
    4 places, so order is kept)."""
    terms = []
    if rng.lo is not None:
        terms.append({("$gte" if rng.lo_closed else "$gt"): {fld: float(rng.lo)}})
    if rng.hi is not None:
        terms.append({("$lte" if rng.hi_closed else "$lt"): {fld: float(rng.hi)}})
    return terms


def unit_of(m, default: str = "") -> str:
    return m.unit or default


def count_unit(m) -> str:
    """The word a count of this metric is said in: its unit (处, 篇, 户), else 次."""
    return m.unit or "次"


def value_text(m, v) -> str:
    if isinstance(v, bool):
        return "是" if v else "否"
    return f"{n(v)}{unit_of(m)}"


def escalated(spec, count: int, verb: str, unit: str = "次") -> tuple[Decimal, str]:
    """Points for `count` occurrences and how they add up ('每次扣2分', '第1次扣2分、第2次扣3分')."""
    if spec.escalate is None:
        return spec.points * count, f"每{unit}{verb}{n(spec.points)}分"
    parts, total = [], Decimal(0)
    for k in range(1, count + 1):
        p = spec.escalate[min(k, len(spec.escalate)) - 1]
        parts.append(p)
        total += p
    return total, "、".join(f"第{k}{unit}{verb}{n(p)}分" for k, p in enumerate(parts, 1))


def round_units(units: Decimal, partial: str) -> Decimal:
    if partial == "up":
        return units.to_integral_value(rounding=ROUND_CEILING)
    if partial == "down":
        return units.to_integral_value(rounding=ROUND_FLOOR)
    return units


def half_up(d: Decimal, places: int = 2) -> Decimal:
    q = _QUANTA.get(places)
    if q is None:   # (making the quantum cost more than the rounding)
        q = _QUANTA[places] = Decimal(1).scaleb(-places)
    return d.quantize(q, rounding=ROUND_HALF_UP)


_QUANTA: dict[int, Decimal] = {}


# numbers as durable_rules reads them, by value (a dict: an lru_cache's bookkeeping cost 3x the lookup)
DOUBLES: dict = {}


def double_text(d) -> str:
    """A Decimal (or int) as durable_rules reads it in a fact: a double (at most 4 decimals keep the order).
    Not for bools (True == 1)."""
    got = DOUBLES.get(d)
    if got is None:
        if len(DOUBLES) >= 100_000:
            DOUBLES.clear()
        got = DOUBLES[d] = repr(float(d))
    return got


PARTIAL_TEXT = {"up": "不足{per}按{per}计", "down": "不足{per}不计", "exact": "按比例计"}
