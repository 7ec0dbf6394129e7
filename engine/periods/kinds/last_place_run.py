"""last_place_run: last place N calendar months running.

    连续两个月排名末位的，扣发两个月绩效工资      months: 2, withhold_months: 2, withhold: performance_pay
    连续三个月排名末位的，予以末位淘汰            months: 3, consequence: 予以末位淘汰

A month missing from history breaks the run.  The month completing the run and the
withhold_months − 1 following months each withhold (`withhold_allowance`); a rule with only a
`consequence` draws it once, in the month completing the run.  A longer run triggers again every
N months (4 running with N = 2: months 2 and 4).  Criticised only in the triggering month.
"""
from __future__ import annotations

from typing import ClassVar, Literal, Optional

from ..base import ZERO, Count, PeriodRule, Text, Ties, Withhold, consequence_text, finding, withhold_text
from ..months import month_add, months_label
from ..ranking import tie_text


class LastPlaceRun(PeriodRule):
    kind: Literal["last_place_run"]
    months: Count
    withhold_months: Optional[Count] = None
    withhold: Optional[Withhold] = None
    consequence: Optional[Text] = None           # a consequence that is not money: 约谈, 末位淘汰 …
    ties: Optional[Ties] = None                  # default: the ranking's last_place_ties

    flags: ClassVar = (True, False)

    def check_alone(self, add, rules, path):
        if self.withhold is None and self.consequence is None:
            add(path, None, "withhold（扣发）或 consequence（如 约谈、末位淘汰）至少一项")
        if self.withhold is not None and self.withhold_months is None:
            add(path + ["withhold_months"], None, "扣发的月数（withhold 需要写 withhold_months）")
        if self.withhold is None and self.withhold_months is not None:
            add(path + ["withhold_months"], self.withhold_months, "不填（没有 withhold 时不扣发）")

    def evaluate(self, ev, rules, month, adds):
        n = self.months
        hold = self.withhold_months if self.withhold is not None else 1
        ties = self.ties or rules.ranking.last_place_ties
        for wid in adds:
            # a trigger in month t withholds months t .. t+M-1; look back for the latest trigger in reach
            for back in range(hold):
                t = month_add(month, -back)
                run = ev.run_ending(t, wid, rules, ties)
                if not run or run % n:
                    continue
                run_months = [month_add(t, -i) for i in range(n - 1, -1, -1)]
                amount, words = ZERO, None
                if self.withhold is not None:
                    held = [month_add(t, i) for i in range(hold)]
                    amount = ev.withhold(adds, wid, self.withhold)
                    words = f"扣发{hold}个月{withhold_text(self.withhold)}（{months_label(held)}）"
                group = adds[wid]["peer_group"]
                tie = tie_text(ev.placings(t, rules.ranking)[wid], ties) if back == 0 else ""
                # the office's consequence is said in the month completing the run; later months only withhold
                reason = f"{months_label(run_months)}连续{n}个月在{group}排名末位{tie}，" + \
                    consequence_text(words, self.consequence if back == 0 else None)
                if back:
                    reason += f"，本月为第{back + 1}个月"
                extra = {"consequence": self.consequence} if self.consequence and back == 0 else {}
                adds[wid]["period_findings"].append(finding(
                    self, "withhold_allowance", run_months, reason, amount=amount,
                    criticise=self.criticised and back == 0, **extra))
                break
