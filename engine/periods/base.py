"""What every period rule is: its common keys, the value types period rules are written in, and
the finding each consequence becomes.  One module per kind in engine/periods/kinds/ defines a
model (kind-specific keys, checked by pydantic like the rest of the policy) and its `evaluate`.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, ClassVar, Literal, Optional, Union

from pydantic import BeforeValidator, WithJsonSchema

from ..policy_values import Strict

FEN = Decimal("0.01")
ZERO = Decimal("0.00")


def _decimal(v: Any) -> Decimal | None:
    """A finite decimal (a trailing % is dropped: `3` and `"3%"` are the same percent), else None."""
    if isinstance(v, bool) or not isinstance(v, (int, float, str, Decimal)):
        return None
    try:
        d = Decimal(str(v).strip().rstrip("%"))
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def _percent(v: Any) -> Decimal:
    d = _decimal(v)
    if d is None or not 0 < d <= 100:
        raise ValueError("大于 0、不超过 100 的百分数（如 3 表示 3%）")
    return d


def _money(v: Any) -> Decimal:
    d = _decimal(v)
    if d is None or d < 0 or d != d.quantize(FEN):
        raise ValueError("不小于 0、最多两位小数的金额（元），建议写成带引号的字符串如 \"24000.00\"")
    return d.quantize(FEN)


def _count(v: Any) -> int:
    if isinstance(v, int) and not isinstance(v, bool) and v >= 1:
        return v
    raise ValueError("不小于 1 的整数")


def _text(v: Any) -> str:
    if isinstance(v, str) and v.strip():
        return v.strip()
    raise ValueError("非空的文字")


def _ident(v: Any) -> str:
    if isinstance(v, str) and v and v.isascii() and all(c.isalnum() or c in "_-" for c in v):
        return v
    raise ValueError("由字母、数字、下划线组成的标识")


NUMBER_SCHEMA = {"anyOf": [{"type": "number"}, {"type": "string"}]}
Percent = Annotated[Decimal, BeforeValidator(_percent), WithJsonSchema(NUMBER_SCHEMA)]
Money = Annotated[Decimal, BeforeValidator(_money), WithJsonSchema(NUMBER_SCHEMA)]
Count = Annotated[int, BeforeValidator(_count), WithJsonSchema({"type": "integer", "minimum": 1})]
Text = Annotated[str, BeforeValidator(_text), WithJsonSchema({"type": "string", "minLength": 1})]
Ident = Annotated[str, BeforeValidator(_ident), WithJsonSchema({"type": "string", "pattern": "^[A-Za-z0-9_-]+$"})]
def _between(lo: int, hi: int, expected: str):
    def check(v: Any) -> int:
        if isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi:
            return v
        raise ValueError(expected)
    return check


Stars = Annotated[int, BeforeValidator(_between(0, 10, "0 到 10 之间的整数星级")),
                  WithJsonSchema({"type": "integer", "minimum": 0, "maximum": 10})]
Decimals = Annotated[int, BeforeValidator(_between(0, 4, "0 到 4 之间的整数（保留小数位数）")),
                     WithJsonSchema({"type": "integer", "minimum": 0, "maximum": 4})]
Rounding = Literal["floor", "ceil", "half_up"]
Ties = Literal["all", "none"]
OrderKey = Literal["year_score", "period_score", "min_month_score", "five_star_months", "star_total"]


class Fixed(Strict):
    fixed: Money


Withhold = Union[Literal["performance_pay"], Fixed]


def withhold_text(spec) -> str:
    return "当月绩效工资" if spec == "performance_pay" else f"固定金额{spec.fixed}元"


class PeriodRule(Strict):
    """The keys every period rule has; subclasses (one per kind) add theirs and `evaluate`."""

    id: Ident
    label: Text
    criticise: Optional[bool] = None       # its findings belong in a 通报批评 (default per kind)
    commend: Optional[bool] = None         # … in a 通报表彰

    flags: ClassVar[tuple[bool, bool]] = (False, False)   # default (criticise, commend)
    phase: ClassVar[int] = 0               # 0 monthly rules, 1 grades, 2 year-end rules reading the month's findings
    single: ClassVar[bool] = False         # at most one rule of this kind in a policy

    @property
    def criticised(self) -> bool:
        return self.flags[0] if self.criticise is None else self.criticise

    @property
    def commended(self) -> bool:
        return self.flags[1] if self.commend is None else self.commend

    def check_alone(self, add, rules, path: list) -> None:
        """Problems the period rules show on their own (keys that go together, references between rules)."""

    def check(self, ck, rules, path: list) -> None:
        """Problems only the whole policy shows (a metric, an attribute, stars, pay it needs)."""

    def evaluate(self, ev, rules, month: str, adds: dict) -> None:
        raise NotImplementedError


def finding(rule: PeriodRule, kind: str, months: list[str], reason: str, *, amount: Decimal = ZERO,
            criticise: bool | None = None, commend: bool | None = None, **extra) -> dict:
    """A period finding (docs/results.md): `amount` is money withheld this month, "0.00" if none."""
    f = {"rule_id": rule.id, "rule_label": rule.label, "kind": kind, "months": list(months), "reason": reason,
         "amount": str(amount.quantize(FEN)),
         "criticise": rule.criticised if criticise is None else criticise,
         "commend": rule.commended if commend is None else commend}
    f.update(extra)
    return f


def consequence_text(*parts: str | None) -> str:
    """What a rule draws, said once: '扣发…' and/or the office's own words (约谈, 末位淘汰 …)."""
    return "，".join(p for p in parts if p)
