"""The office's order of towns, communities, grids and workers on every paper and sheet.

Code-point order puts 凤凰三 before 凤凰二 and 鹤鸣社区 last; an office lists its towns and
communities in its own order (the worker register's row order, which is the order of
results.json) or states one in the office settings.  Inside a community, grids and worker ids
go in natural order: 1-2 before 1-10, W9 before W10.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Iterable, Mapping, Sequence

__all__ = ["natural_key", "OfficeOrder"]

_PARTS = re.compile(r"(\d+)")


def natural_key(text: Any) -> tuple:
    """'1-10' -> ('', 1, '-', 10, ''): numbers compare as numbers, the rest as text.
    (Each part is tagged so that a number and a text never meet in one comparison.)"""
    out = []
    for i, part in enumerate(_PARTS.split("" if text is None else str(text))):
        out.append((1, int(part), part) if i % 2 else (0, 0, part))
    return tuple(out)


class OfficeOrder:
    """Ranks for towns and communities: first those the settings list (in that order), then the
    others in the order they first appear in the register (results.json keeps the register's
    row order).  Communities are ranked within their town."""

    def __init__(self, workers: Iterable[Mapping[str, Any]], towns: Sequence[str] = (),
                 communities: Sequence[str] = ()):
        self.towns: dict[str, int] = {t: i for i, t in enumerate(towns)}
        self.named_communities: dict[str, int] = {c: i for i, c in enumerate(communities)}
        self.communities: dict[tuple[str, str], int] = {}
        self.workers: dict[str, int] = {}
        for w in workers:
            self.add(w.get("town") or "", w.get("community") or "", w.get("worker_id"))

    def add(self, town: str, community: str = "", worker_id: Any = None) -> None:
        """Record a place (and worker) seen in the register, keeping the first position."""
        self.towns.setdefault(town, len(self.towns))
        self.communities.setdefault((town, community), len(self.communities))
        if worker_id is not None:
            self.workers.setdefault(worker_id, len(self.workers))

    def town_key(self, town: str) -> tuple:
        return (self.towns.get(town, len(self.towns)), natural_key(town))

    def community_key(self, town: str, community: str) -> tuple:
        named = self.named_communities.get(community)
        return (self.town_key(town), 0 if named is not None else 1, named or 0,
                self.communities.get((town, community), len(self.communities)), natural_key(community))

    def worker_key(self, w: Mapping[str, Any]) -> tuple:
        """Town, community, grid (natural), then the register's row, then the id (natural)."""
        town, community = w.get("town") or "", w.get("community") or ""
        return (self.community_key(town, community), natural_key(w.get("grid") or ""),
                self.workers.get(w.get("worker_id"), len(self.workers)), natural_key(w.get("worker_id")))

    def sorted(self, workers: Iterable[Mapping[str, Any]]) -> list:
        """Workers in `worker_key` order, with a flatter key that sorts the same (a province's pay
        sheet sorts 100,000 workers): each community's key replaced by its rank among the
        communities present, and the id's natural key left out where the register row already
        decides (every worker of the register has a row of their own)."""
        workers = list(workers)
        count = len(self.workers)
        places: dict[tuple[str, str], tuple] = {}
        for w in workers:
            place = (w.get("town") or "", w.get("community") or "")
            if place not in places:
                places[place] = self.community_key(*place)
        ranks = {k: i for i, k in enumerate(sorted(set(places.values())))}
        place_rank = {place: ranks[k] for place, k in places.items()}

        def key(w: Mapping[str, Any]) -> tuple:
            wid = w.get("worker_id")
            row = self.workers.get(wid, count)
            return (place_rank[(w.get("town") or "", w.get("community") or "")], natural_key(w.get("grid") or ""),
                    row, natural_key(wid) if row == count else ())
        return sorted(workers, key=key)

    def sort_keys(self, keys: Iterable[str], key: Callable[[str], tuple] | None = None) -> list[str]:
        """Town names in the office's order."""
        return sorted(keys, key=key or self.town_key)
