"""bottom_share: in the bottom p% of the peer group k or more times in a calendar year.

    一年内6次以上（3%）排名落后的，取消当年工作补贴和评优评先资格
        percent: 3, rounding: ceil, times: 6, withhold: performance_pay, award_ineligible: true

p% of the group's size becomes a head count by the rule's `rounding` (floor, ceil or half_up),
and the finding says how (68人的3%为2.04人，向上取整为3人).  A tie that holds rank 1 is never at
the bottom; `ties` (default: the ranking's) says whether a tie reaching into the bottom counts.
From the k-th time to December each month carries `withdraw_year` (withholding if `withhold` is
given); `reclaim` states, in the k-th month, the pay already paid earlier in the year.
"""
from __future__ import annotations

from typing import ClassVar, Literal, Optional

from ..base import ZERO, Count, PeriodRule, Percent, Rounding, Text, Ties, Withhold, consequence_text, finding, \
    withhold_text
from ..months import month_label, months_label
from ..ranking import head_count, in_bottom, share_text, tie_text


class BottomShare(PeriodRule):
    kind: Literal["bottom_share"]
    percent: Percent
    rounding: Rounding
    times: Count
    withhold: Optional[Withhold] = None
    award_ineligible: bool = False
    reclaim: bool = False
    consequence: Optional[Text] = None           # what it draws; default 取消当年工作补贴
    ties: Optional[Ties] = None

    flags: ClassVar = (True, False)

    def bottom_months(self, ev, rules, month: str, wid: str) -> list[str]:
        ties = self.ties or rules.ranking.last_place_ties
        out = []
        for m in ev.year_months(month):
            p = ev.placings(m, rules.ranking).get(wid)
            if p is not None and in_bottom(p, head_count(self.percent, p.size, self.rounding), ties):
                out.append(m)
        return out

    def evaluate(self, ev, rules, month, adds):
        ties = self.ties or rules.ranking.last_place_ties
        for wid in adds:
            hits = self.bottom_months(ev, rules, month, wid)
            if len(hits) < self.times:
                continue
            first = hits[self.times - 1] == month
            how = ""
            if first:
                p = ev.placings(month, rules.ranking)[wid]
                how = f"；本月{share_text(self.percent, p.size, self.rounding)}" + tie_text(p, ties)
            draws = self.consequence or ("取消当年工作补贴" + ("和评优评先资格" if self.award_ineligible else ""))
            amount, words = ZERO, None
            if self.withhold is not None:
                amount = ev.withhold(adds, wid, self.withhold)
                words = f"{month_label(month)}扣发{withhold_text(self.withhold)}"
            reason = (f"{month[:4]}年内第{self.times}次排名{adds[wid]['peer_group']}后{self.percent}%"
                      f"（{months_label(hits[:self.times])}{how}），{consequence_text(draws, words)}")
            extra = {}
            if self.consequence:
                extra["consequence"] = self.consequence
            if self.reclaim and first:
                paid, got = ev.paid_before(month, wid)
                extra["reclaim"] = str(paid)
                reason += f"；本年此前已发绩效工资{paid}元（{len(got)}个月）应予追回"
            adds[wid]["period_findings"].append(finding(
                self, "withdraw_year", hits[:self.times], reason, amount=amount,
                criticise=self.criticised and first, award_ineligible=self.award_ineligible, **extra))
