"""Ranking inside a peer group, and the one rule of who is at the bottom of it.

Competition ranking: equal scores share a rank and the next rank skips (1, 2, 2, 4); a month
failed by a veto ranks below every passed month.  `in_bottom` is the only place that decides
who is in the bottom k (the last place is k = 1): the period rules and the monthly 通报批评
(engine/notices, through `last_places`) both ask it, so they cannot disagree.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from itertools import groupby
from typing import Mapping

from ..policy_values import n


@dataclass
class Placing:
    group: str
    rank: int                  # competition rank inside the group, failed months last
    size: int
    worse: int                 # workers in the group ranked strictly below this one
    tied: int                  # workers sharing this rank (including this one)


def rank_group(keys: list[tuple[bool, Decimal]]) -> list[tuple[int, int, int]]:
    """(rank, worse, tied) of each (failed, score) key, by competition ranking, in the given order."""
    order = sorted(range(len(keys)), key=lambda i: (keys[i][0], -keys[i][1]))
    out: list[tuple[int, int, int]] = [(0, 0, 0)] * len(keys)
    size, first = len(keys), 0
    for _k, tie in groupby(order, key=lambda i: keys[i]):
        tie = list(tie)
        for i in tie:
            out[i] = (first + 1, size - first - len(tie), len(tie))
        first += len(tie)
    return out


def in_bottom(p: Placing, k: int, ties: str) -> bool:
    """In the bottom k of the group.  A tie that holds rank 1 is never at the bottom (with everyone
    tied, nobody is last; four tied at the top of five are not the bottom 40%).  ties=all: a tie
    reaching into the bottom k is wholly in it (two tied for last are both last); ties=none: a tie
    that does not fit inside the bottom k is wholly out.  A group of one has no bottom."""
    if k <= 0 or p.size < 2 or p.rank == 1:
        return False
    if ties == "all":
        return p.worse + 1 <= k
    return p.worse + p.tied <= k


def tie_text(p: Placing, ties: str) -> str:
    """'（与另1人并列第3名，并列者都算在内）' when a tie decided it, else ''."""
    if p.tied < 2:
        return ""
    return f"（与另{p.tied - 1}人并列第{p.rank}名，" + ("并列者都算在内）" if ties == "all" else "并列者都不算）")


@lru_cache(maxsize=4096)      # pure; asked per worker, month and rule
def head_count(percent: Decimal, size: int, rounding: str) -> int:
    """p% of a group as a head count: floor, ceil or half_up (四舍五入) as the rule states."""
    exact = Decimal(percent) * size / 100
    if rounding == "floor":
        return math.floor(exact)
    if rounding == "ceil":
        return math.ceil(exact)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


ROUNDING_WORDS = {"floor": "向下取整", "ceil": "向上取整", "half_up": "四舍五入"}


def share_text(percent: Decimal, size: int, rounding: str) -> str:
    """'68人的3%为2.04人，向上取整为3人' — how a share became a head count."""
    exact = Decimal(percent) * size / 100
    k = head_count(percent, size, rounding)
    if exact == exact.to_integral_value():
        return f"{size}人的{n(Decimal(percent))}%为{k}人"
    return f"{size}人的{n(Decimal(percent))}%为{n(exact.normalize())}人，{ROUNDING_WORDS[rounding]}为{k}人"


def last_places(ranked: list[tuple[int, Mapping]], ties: str = "all") -> list[Mapping]:
    """Who is last in one group ranked competition-style as [(rank, worker)], by `in_bottom`.  When
    period rules ran, each worker carries `last_place`, decided by the same rule under the policy's
    tie setting, and that is taken as it is."""
    if ranked and all("last_place" in w for _, w in ranked):
        return [w for _, w in ranked if w["last_place"]]
    size = len(ranked)
    counts: dict[int, int] = {}
    for r, _ in ranked:
        counts[r] = counts.get(r, 0) + 1
    out = []
    for r, w in ranked:
        worse = sum(c for rr, c in counts.items() if rr > r)
        if in_bottom(Placing("", r, size, worse, counts[r]), 1, ties):
            out.append(w)
    return out
