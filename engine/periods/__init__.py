"""Period rules: the policy's `periods:` section, checked and evaluated over stored months.

Monthly scoring looks at one month; these rules look across months (ranking inside a peer
group, last places running, bottom shares in a year, vetoes in a year, period scores, grades for
any period with conditions and quotas, the 优秀网格员 share, the wage floor).  They are plainly
reasoned in Python rather than in durable_rules: each kind is one module of periods/kinds/,
with its model (typed like the rest of the policy) and its `evaluate`, and every consequence it
draws is a finding with a Chinese reason.  Ranking and "who is last" live in ranking.py, used by
the period rules and the monthly 通报批评 alike.
"""
from __future__ import annotations

from .evaluate import Evaluator, WorkerMonth, evaluate, merge_additions, month_facts, peer_key, rank_month, \
    views_from_results
from .kinds import PERIOD_KINDS
from .kinds.grade import grade_counts
from .model import PeriodRules, PeriodsDef, Ranking, check_with_policy, parse_period_rules, period_rules
from .months import month_add, month_label, months_label, period_label, period_months
from .ranking import Placing, head_count, in_bottom, last_places, share_text

RULE_KINDS = PERIOD_KINDS   # the name callers of the first version import

__all__ = ["PeriodRules", "PeriodsDef", "Ranking", "WorkerMonth", "parse_period_rules", "period_rules",
           "views_from_results", "evaluate", "merge_additions", "RULE_KINDS", "PERIOD_KINDS", "month_add",
           "month_label", "months_label", "period_label", "period_months", "rank_month", "in_bottom",
           "head_count", "share_text", "last_places", "Placing", "peer_key", "month_facts", "check_with_policy",
           "Evaluator", "grade_counts"]
