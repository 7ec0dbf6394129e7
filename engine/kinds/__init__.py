"""The catalogue of rule forms (kinds) a policy's items and bonus rules are written in.

Each kind is one module here (see base.py for what it provides); this list is the only place
that names them all.  A new form an office needs is one new module and one line below.
"""
from __future__ import annotations

from . import composite, event, per_count, records, shortfall, tiers
from .base import RuleKind

KINDS: dict[str, RuleKind] = {k.key: k for k in (
    per_count.KIND,      # 按次
    shortfall.KIND,      # 按差额
    tiers.KIND,          # 分档
    event.KIND,          # 按事件
    records.KIND,        # 按日/按周记录
    composite.KIND,      # 加权综合
)}
RULE_FORMS = tuple(KINDS)

__all__ = ["KINDS", "RULE_FORMS", "RuleKind"]
