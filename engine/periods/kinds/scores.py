"""quarter_score and year_score: the period's score so far, every month.

    季度得分取各月平均，保留两位小数      kind: quarter_score, combine: mean, decimals: 2

Combined with Decimal and rounded once, half up, to `decimals`.  `year_score` is what
`order_by: year_score` of grades and 优秀 reads.
"""
from __future__ import annotations

from typing import ClassVar, Literal

from ..base import Decimals, PeriodRule, finding
from ..months import months_label


class _Score(PeriodRule):
    combine: Literal["mean", "sum"]
    decimals: Decimals

    single: ClassVar = True

    def _findings(self, ev, kind: str, months: list[str], adds: dict, what: str) -> None:
        how = "平均" if self.combine == "mean" else "累计"
        labels: dict[tuple[str, ...], str] = {}      # most workers have the same months
        for wid in adds:
            value, got = ev.combined(self.combine, self.decimals, months, wid)
            label = labels.get(tuple(got))
            if label is None:
                label = labels[tuple(got)] = f"{months_label(got)}，共{len(got)}个月"
            reason = f"{what}（{label}）月得分{how}{value}分"
            adds[wid]["period_findings"].append(finding(self, kind, got, reason, score=str(value)))


class QuarterScore(_Score):
    kind: Literal["quarter_score"]

    def evaluate(self, ev, rules, month, adds):
        q = (int(month[5:7]) - 1) // 3
        self._findings(ev, "quarter_score", ev.stored_months(month, "quarter"), adds,
                       f"{month[:4]}年第{q + 1}季度截至{int(month[5:7])}月")


class YearScore(_Score):
    kind: Literal["year_score"]

    def evaluate(self, ev, rules, month, adds):
        self._findings(ev, "year_score", ev.year_months(month), adds, f"{month[:4]}年截至{int(month[5:7])}月")
