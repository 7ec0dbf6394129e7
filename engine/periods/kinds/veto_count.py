"""veto_count: the year's vetoes reach `count`.

    一年内两次及以上一票否决的，按绩效考核办法处理，取消年度评先评优资格
        count: 2, consequence: 按绩效考核办法处理，取消年度评先评优资格, award_ineligible: true

Each veto fired counts; the consequence is drawn once, in the month the count is reached.
"""
from __future__ import annotations

from typing import ClassVar, Literal, Optional

from ..base import ZERO, Count, PeriodRule, Text, Withhold, consequence_text, finding, withhold_text
from ..months import month_label, months_label


class VetoCount(PeriodRule):
    kind: Literal["veto_count"]
    count: Count
    consequence: Text
    withhold: Optional[Withhold] = None
    award_ineligible: bool = False

    flags: ClassVar = (True, False)

    def evaluate(self, ev, rules, month, adds):
        for wid in adds:
            hits = ev.veto_months(month, wid)
            total = sum(c for _, c in hits)
            before = total - ev.views[month][wid].veto_count
            if total < self.count or before >= self.count:
                continue  # the consequence is drawn once, in the month the count is reached
            months = [m for m, _ in hits]
            amount, words = ZERO, None
            if self.withhold is not None:
                amount = ev.withhold(adds, wid, self.withhold)
                words = f"{month_label(month)}扣发{withhold_text(self.withhold)}"
            reason = f"{month[:4]}年内累计{total}次一票否决（{months_label(months)}），" + \
                consequence_text(self.consequence, words)
            adds[wid]["period_findings"].append(finding(
                self, "veto_count", months, reason, amount=amount, award_ineligible=self.award_ineligible,
                consequence=self.consequence))
