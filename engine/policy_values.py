"""The value types a policy file is written in: numbers, shares, intervals, lists of names.

Shared by the policy model (engine/policy.py), the rule kinds (engine/kinds/) and the period
rules (engine/periods/): each is a pydantic type that accepts what a clerk writes (`15`,
`"0.5"`, `"20%"` where a share is meant, `"[80, 90)"`) and says in Chinese what it expected.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Annotated, Any, Optional

from pydantic import BaseModel, BeforeValidator, ConfigDict, WithJsonSchema

from .intervals import Interval, parse_interval

MONTH_RX = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
ID_RX = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")
MAX_DECIMALS = 4   # values are compared as doubles inside durable_rules; 4 places keep that exact
MAX_MAGNITUDE = Decimal(10) ** 12   # no score, count or amount of a grid office comes near it


def to_decimal(v: Any, allow_percent: bool = False) -> Decimal:
    if isinstance(v, bool):
        raise ValueError("数字，不能是 true/false")
    if isinstance(v, Decimal):
        d = v
    elif isinstance(v, int):
        d = Decimal(v)
    elif isinstance(v, float):
        d = Decimal(repr(v))
    elif isinstance(v, str):
        t = v.strip()
        pct = t.endswith("%") or t.endswith("％")
        try:
            d = Decimal(t[:-1] if pct else t)
        except InvalidOperation:
            raise ValueError("数字（可带 %）" if allow_percent else "数字")
        if pct and not allow_percent:
            # "95%" would mean 0.95 here, while a percent metric's values are 0-100: never guess
            raise ValueError("不带 % 的数字（百分数只用于 performance_share、ratio 和 weight；百分比指标的数值直接写 95）")
        if pct:
            d = d / 100
    else:
        raise ValueError("数字")
    if not d.is_finite():
        raise ValueError("有限的数字")
    if abs(d) > MAX_MAGNITUDE:
        raise ValueError(f"绝对值不超过 {MAX_MAGNITUDE:,f} 的数字")
    if d.as_tuple().exponent < -MAX_DECIMALS - 2:
        raise ValueError(f"小数位过多（最多 {MAX_DECIMALS} 位）")
    return d


def to_interval(v: Any) -> Interval:
    if isinstance(v, Interval):
        return v
    return parse_interval(v)


def to_str_list(v: Any) -> list[str]:
    if isinstance(v, str):
        return [v]
    return v


Num = Annotated[Decimal, BeforeValidator(to_decimal),
                WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^-?[0-9.]+$"}]})]
# a share or a ratio: 0.2 or "20%"
Ratio = Annotated[Decimal, BeforeValidator(lambda v: to_decimal(v, allow_percent=True)),
                  WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^-?[0-9.]+%?$"}]})]
Range = Annotated[Interval, BeforeValidator(to_interval),
                  WithJsonSchema({"type": "string", "pattern": r"^\s*[\[(（【].*[,，].*[\])）】]\s*$",
                                  "description": "区间，如 [80, 90) 或 [90, +inf)"})]
StrList = Annotated[list[str], BeforeValidator(to_str_list),
                    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]})]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class QuotaBy(Strict):
    """A quota that depends on a worker attribute: {by: worker_type, values: {村: 2, 社区: 5}, default: 3}."""

    by: str
    values: dict[str, Num]
    default: Optional[Num] = None


@lru_cache(maxsize=8192)
def n(d: Decimal | int) -> str:
    """Decimal -> shortest exact text: 2, 1.5, -0.25 (memoized: the same few values recur)."""
    if type(d) is int:
        return str(d)
    if d == d.to_integral_value():
        return str(int(d))
    return format(d.normalize(), "f")
