"""The `periods:` section of a policy as a typed model (visible in `wangge schema`), and the
checks that need the whole policy.  Rule kinds come from the catalogue (kinds/__init__.py)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union

from pydantic import Field

from ..errors import PolicyError, Problem
from ..policy_values import Strict
from ..sources import dotted
from .base import Ident, Text, Ties
from .kinds import PERIOD_KINDS

_PEER_GROUPS = ("all", "town", "community", "grid", "role", "employment")


def _peer_ok(v: str) -> bool:
    return v in _PEER_GROUPS or (v.startswith("attribute:") and len(v) > len("attribute:"))


class Ranking(Strict):
    id: Ident
    label: Text
    peer_group: str                                       # all | town | … | attribute:<name> (check_alone)
    order: Literal["competition"]                         # 1, 2, 2, 4
    last_place_ties: Ties                                 # the default tie rule of the bottom of the table


AnyRule = Annotated[Union[tuple(PERIOD_KINDS.values())], Field(discriminator="kind")]


class PeriodsDef(Strict):
    ranking: Ranking
    rules: list[AnyRule] = []


@dataclass(frozen=True)
class PeriodRules:
    ranking: Ranking
    rules: tuple
    file: str = ""

    def of_kind(self, kind: str) -> list:
        return [r for r in self.rules if r.kind == kind]


def period_rules(doc, file: str = "") -> PeriodRules | None:
    """The period rules of a validated policy (None when it has none)."""
    p = doc.periods
    return None if p is None else PeriodRules(p.ranking, tuple(p.rules), file)


def parse_period_rules(raw: Any, file: str) -> PeriodRules | None:
    """Validate a raw `periods:` mapping on its own; raise PolicyError with every located problem.

    `raw` is a LocDict from `load_yaml` (so problems carry line numbers) or None when the
    policy has no period rules.  Paths in problems start at `periods`.
    """
    if raw is None:
        return None
    from ..policy import validate_periods_alone   # the one translation of pydantic's errors

    rules, problems = validate_periods_alone(raw, file)
    if problems:
        raise PolicyError(problems)
    return rules


def check_alone(rules: PeriodRules, raw, file: str, add=None) -> list[Problem]:
    """What can be checked of period rules without the monthly policy: unique ids, single kinds."""
    problems: list[Problem] = []
    if add is None:
        from ..sources import line_of

        def add(path, found, expected, hint=""):
            problems.append(Problem(file, line_of(raw, path), dotted(path), found, expected, hint))
    if not _peer_ok(rules.ranking.peer_group):
        add(["periods", "ranking", "peer_group"], rules.ranking.peer_group,
            "排名分组之一：" + "、".join(_PEER_GROUPS) + "，或 attribute:<属性名>")
    first_of: dict[str, int] = {}
    for i, r in enumerate(rules.rules):
        path = ["periods", "rules", i]
        if type(r).single:
            if r.kind in first_of:
                add(path + ["kind"], r.kind, "此类规则只能有一条", f"第 {first_of[r.kind] + 1} 条已是 {r.kind}")
            first_of.setdefault(r.kind, i)
        r.check_alone(add, rules, path)
    return problems


def duplicate_ids(raw_rules: Any) -> list[tuple[int, str, int]]:
    """(index, id, index of its first use) of each rule id written twice, valid rules or not."""
    out, seen = [], {}
    for i, item in enumerate(raw_rules if isinstance(raw_rules, list) else []):
        rid = item.get("id") if isinstance(item, dict) else None
        if isinstance(rid, str):
            if rid in seen:
                out.append((i, rid, seen[rid]))
            seen.setdefault(rid, i)
    return out


def check_with_policy(ck, rules: PeriodRules) -> None:
    """What the period rules name must exist in the monthly policy: an attribute to group by, stars
    as high as a grade asks for, pay to withhold from, metrics and rules conditions read."""
    doc = ck.doc
    peer = rules.ranking.peer_group
    if _peer_ok(peer) and peer.startswith("attribute:") and peer[len("attribute:"):] not in doc.attributes:
        ck.add(["periods", "ranking", "peer_group"], peer, "attribute: 后接 attributes 中声明的人员属性",
               "已声明：" + ("、".join(doc.attributes) or "无"))
    check_alone(rules, None, "", add=ck.add)
    for i, r in enumerate(rules.rules):
        path = ["periods", "rules", i]
        if doc.pay is None:
            for key in ("withhold", "reclaim"):
                if getattr(r, key, None):
                    ck.add(path + [key], getattr(r, key) if key == "reclaim" else "…",
                           "细则中有 pay（绩效工资）时才能扣发、追回或核算收入", "本细则没有 pay")
        r.check(ck, rules, path)
