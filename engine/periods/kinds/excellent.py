"""excellent: December: the best p% of the graded workers are 优秀网格员.

    评选优秀网格员，名额为网格员总数的10%，从年度考核好、较好中产生
        percent: 10, rounding: floor, order_by: [year_score], boundary_ties: fall, from_grades: [good, fair]

Not award-ineligible (bottom_share/veto_count with award_ineligible), in `from_grades` if given
(grades of an annual_grade, or of a grade rule with period: year).
"""
from __future__ import annotations

from typing import ClassVar, Literal, Optional

from ..base import Ident, PeriodRule, Percent, Rounding, finding
from ..ranking import head_count, share_text
from .grade import OrderBy, check_order_by


class Excellent(PeriodRule):
    kind: Literal["excellent"]
    percent: Percent
    rounding: Rounding
    order_by: OrderBy
    boundary_ties: Literal["fall", "admit"]
    from_grades: Optional[list[Ident]] = None

    flags: ClassVar = (False, True)
    phase: ClassVar = 2
    single: ClassVar = True

    def check_alone(self, add, rules, path):
        grade_ids = {g.id for r in rules.rules if r.kind in ("annual_grade", "grade")
                     and getattr(r, "grade_period", None) == "year" for g in r.grades}
        for gid in self.from_grades or []:
            if gid not in grade_ids:
                add(path + ["from_grades"], gid, "年度等次规则（annual_grade 或 period: year 的 grade）中定义的等次 id")
        if self.from_grades is not None and not self.from_grades:
            add(path + ["from_grades"], [], "非空的等次 id 列表")
        check_order_by(add, rules, self.order_by, path)

    def evaluate(self, ev, rules, month, adds):
        if month[5:7] != "12":
            return
        months = ev.year_months(month)
        members = [wid for wid in adds if ev.present_all_year(month, wid)]
        quota = head_count(self.percent, len(members), self.rounding)
        eligible = []
        for wid in members:
            if ev.year_flags(month, wid, adds, "award_ineligible"):
                continue
            if self.from_grades:
                grade = next((f["grade"] for f in adds[wid]["period_findings"]
                              if f["kind"] in ("annual_grade", "grade") and f.get("period", "year") == "year"), None)
                if grade not in self.from_grades:
                    continue
            eligible.append(wid)
        facts = {wid: ev.order_facts(rules, months, wid) for wid in eligible}
        chosen, _ = ev.select_by_quota(eligible, quota, self.order_by, self.boundary_ties, facts)
        for wid in chosen:
            reason = (f"{month[:4]}年度得分{facts[wid]['year_score']}分，列入{self.percent}%名额"
                      f"（{share_text(self.percent, len(members), self.rounding)}），评为{self.label}")
            adds[wid]["period_findings"].append(finding(self, "excellent", months, reason))
