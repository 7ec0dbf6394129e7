"""wage_floor: December: a year's actual pay below the floor (for the employment types named).

    专职网格员年收入不低于上年度当地居民人均可支配收入    amount: "24000.00", employment: [专职]

Σ over the year's stored months of (wage − performance base + payable).  A worker stored fewer
than 12 months is held to amount × months / 12, half up to the fen.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator

from ..base import FEN, ZERO, Money, PeriodRule, finding
from ..months import months_label


def _texts(v: Any) -> Any:
    items = [v] if isinstance(v, str) else v
    if isinstance(items, list) and items and all(isinstance(i, str) and i.strip() for i in items):
        return [i.strip() for i in items]
    raise ValueError("非空的文字列表（如 [专职]）")


class WageFloor(PeriodRule):
    kind: Literal["wage_floor"]
    amount: Money
    employment: Annotated[list[str], BeforeValidator(_texts)]

    phase: ClassVar = 2
    single: ClassVar = False

    def check(self, ck, rules, path):
        if ck.doc.pay is None:
            ck.add(path + ["kind"], self.kind, "细则中有 pay（绩效工资）时才能扣发、追回或核算收入", "本细则没有 pay")

    def evaluate(self, ev, rules, month, adds):
        if month[5:7] != "12":
            return
        months = ev.year_months(month)
        for wid, a in adds.items():
            if ev.views[month][wid].employment not in self.employment:
                continue
            total, got = ZERO, []
            for m in months:
                v = ev.views[m].get(wid)
                if v is None:
                    continue
                earlier = ev.additions(m) if m != month else None
                payable = a["_remaining"] if m == month else \
                    (Decimal(earlier[wid]["payable"]) if earlier else v.pay)   # a month without period rules
                total += v.wage - v.performance_base + payable
                got.append(m)
            # a worker on the register only part of the year is held to the floor pro rata (HALF_UP to fen)
            floor = (self.amount * len(got) / 12).quantize(FEN, rounding=ROUND_HALF_UP)
            if total < floor:
                basis = f"保障线{self.amount}元" if len(got) == 12 else \
                    f"保障线{self.amount}元按{len(got)}个月折算为{floor}元"
                reason = (f"{months_label(got)}共{len(got)}个月实发工资合计{total.quantize(FEN)}元，"
                          f"低于{basis}，差{(floor - total).quantize(FEN)}元")
                a["period_findings"].append(finding(self, "wage_floor", got, reason,
                                                    annual_pay=str(total.quantize(FEN)), floor=str(floor)))
