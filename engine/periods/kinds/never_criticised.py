"""never_criticised: December: no criticised period finding and no veto in any stored month of the year.

    全年未受通报批评的，列为评先评优和提拔使用优先人选      priority: 列为评先评优和提拔使用优先人选
"""
from __future__ import annotations

from typing import ClassVar, Literal, Optional

from ..base import PeriodRule, Text, finding
from ..months import months_label


class NeverCriticised(PeriodRule):
    kind: Literal["never_criticised"]
    priority: Optional[Text] = None

    flags: ClassVar = (False, True)
    phase: ClassVar = 2
    single: ClassVar = True

    def evaluate(self, ev, rules, month, adds):
        if month[5:7] != "12":
            return
        months = ev.year_months(month)
        for wid in adds:
            if not ev.present_all_year(month, wid):
                continue
            if ev.year_flags(month, wid, adds, "criticise") or ev.veto_months(month, wid):
                continue
            if ev.year_flags(month, wid, adds, "award_ineligible"):
                continue
            reason = f"{months_label(months)}全年未受通报批评、无一票否决，{self.priority or '列为评先评优和提拔使用优先人选'}"
            adds[wid]["period_findings"].append(finding(self, "priority", months, reason))
