"""A stored month as people look at it: the ranking filtered by place and band, one worker's
findings with the rule, the reason and the input row, a worker's months side by side, the figures
behind the charts, and the pay sheet of one town.

Read-only use cases over stored results (results.json with period additions): no scoring, no pay
arithmetic (every amount is the stored one; the only sums are of stored fen amounts, and counts).
`towns` limits what a caller may see: None for all, else the set of towns (a town clerk's own).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..errors import HistoryError
from ..history import History

__all__ = ["visible", "ranking", "RankingFilter", "worker_entry", "worker_history", "places", "score_histogram",
           "deductions_by_rule", "towns_side_by_side", "trend", "write_town_paysheet", "NotVisible",
           "month_fingerprint"]


class NotVisible(HistoryError):
    """A worker (or a place) outside what the caller may see, or not in the month at all: the two
    are not told apart, so that ids cannot be probed."""

    def __init__(self, what: str):
        super().__init__(f"本月没有可查看的{what}", code="not_visible")


def visible(results: Mapping[str, Any], towns: Iterable[str] | None) -> list[dict]:
    """The workers of the month a caller may see, in ranking order."""
    allowed = None if towns is None else set(towns)
    out = [w for w in results["workers"] if allowed is None or w.get("town") in allowed]
    return sorted(out, key=lambda w: (w["rank"], w["worker_id"]))


@dataclass(frozen=True)
class RankingFilter:
    town: str | None = None
    community: str | None = None
    band: str | None = None          # a band id, or "veto" for months failed by a veto


def places(results: Mapping[str, Any], towns: Iterable[str] | None) -> dict:
    """Towns, their communities, and the bands of the month, for the filters (only what is visible)."""
    ws = visible(results, towns)
    by_town: dict[str, set[str]] = defaultdict(set)
    bands: dict[str, str] = {}
    for w in ws:
        by_town[w.get("town", "")].add(w.get("community", ""))
        if w.get("band"):
            bands[w["band"]["id"]] = w["band"]["label"]
    return {"towns": {t: sorted(c) for t, c in sorted(by_town.items())}, "bands": bands,
            "vetoed": any(w.get("failed") for w in ws)}


def ranking(results: Mapping[str, Any], towns: Iterable[str] | None, flt: RankingFilter = RankingFilter()) -> list[dict]:
    """The visible workers that pass the filter, in ranking order."""
    out = []
    for w in visible(results, towns):
        if flt.town and w.get("town") != flt.town:
            continue
        if flt.community and w.get("community") != flt.community:
            continue
        if flt.band == "veto":
            if not w.get("failed"):
                continue
        elif flt.band and ((w.get("band") or {}).get("id") != flt.band or w.get("failed")):
            continue
        out.append(w)
    return out


def worker_entry(results: Mapping[str, Any], worker_id: str, towns: Iterable[str] | None) -> dict:
    """One worker of the month (NotVisible when outside `towns` or not in the month)."""
    for w in visible(results, towns):
        if w["worker_id"] == worker_id:
            return w
    raise NotVisible("网格员")


def month_fingerprint(data: str | Path) -> tuple:
    """Changes whenever any stored month or its period additions change (a re-run, a correction):
    a cache of stored results keyed by it is never stale."""
    with History(data, create=False) as hist:
        return tuple((i.month, i.run_at) for i in hist.months()) + (len(hist.corrections()),)


def worker_history(data: str | Path, worker_id: str, towns: Iterable[str] | None,
                   results_of=None) -> list[dict]:
    """The worker's stored months, oldest first: score, stars, band, pay, withheld, payable, rank and
    the count of deductions.  `results_of(month)` may supply cached results.  A worker outside
    `towns` in any month is not shown for that month (a worker who moved town keeps their privacy)."""
    from .month import month_results

    with History(data, create=False) as hist:
        months = [i.month for i in hist.months()]
    get = results_of or (lambda m: month_results(data, m))
    allowed = None if towns is None else set(towns)
    out = []
    for m in months:
        res = get(m)
        for w in res["workers"]:
            if w["worker_id"] != worker_id:
                continue
            if allowed is not None and w.get("town") not in allowed:
                break
            out.append({"month": m, "name": w.get("name"), "town": w.get("town"), "community": w.get("community"),
                        "score": w["score"], "stars": w.get("stars"), "failed": w.get("failed", False),
                        "band": (w.get("band") or {}).get("label", ""), "pay": w.get("pay"),
                        "withheld": w.get("withheld"), "payable": w.get("payable", w.get("pay")), "rank": w.get("rank"),
                        "peer_rank": w.get("peer_rank"), "peer_size": w.get("peer_size"),
                        "deductions": sum(1 for f in w.get("findings", []) if f["kind"] == "deduction"),
                        "period": [f["rule_label"] for f in w.get("period_findings", [])
                                   if f.get("criticise") or f.get("commend") or f.get("amount") not in (None, "0", "0.00")]})
            break
    if not out:
        raise NotVisible("网格员")
    return out


# --------------------------------------------------------------------------- figures behind the charts


def score_histogram(workers: list[dict], width: int = 5, low: int | None = None, high: int | None = None) -> list[dict]:
    """Counts of scores in bins [a, a+width) from the lowest to the highest bin with anyone in it
    (the top bin includes its upper edge).  Failed months are counted under their score too."""
    if not workers:
        return []
    scores = [Decimal(w["score"]) for w in workers]
    lo = low if low is not None else int(min(scores) // width * width)
    hi = high if high is not None else int(max(scores) // width * width)
    bins = []
    for a in range(lo, hi + 1, width):
        n = sum(1 for s in scores if a <= s < a + width or (a == hi and s == a + width))
        bins.append({"from": a, "to": a + width, "count": n})
    return bins


def deductions_by_rule(workers: list[dict], top: int = 12) -> list[dict]:
    """For each rule that deducted: how many workers it hit and the points it took, largest first."""
    points: dict[str, Decimal] = defaultdict(Decimal)
    hit: Counter = Counter()
    label: dict[str, str] = {}
    for w in workers:
        seen = set()
        for f in w.get("findings", []):
            if f["kind"] != "deduction":
                continue
            points[f["rule_id"]] += -Decimal(f["points"])
            label[f["rule_id"]] = f["rule_label"]
            if f["rule_id"] not in seen:
                hit[f["rule_id"]] += 1
                seen.add(f["rule_id"])
    rows = [{"rule_id": r, "label": label[r], "workers": hit[r], "points": points[r]} for r in points]
    rows.sort(key=lambda r: (-r["points"], r["rule_id"]))
    return rows[:top]


def _mean(values: list[Decimal]) -> Decimal:
    from decimal import ROUND_HALF_UP

    return (sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if values else Decimal(0)


def towns_side_by_side(workers: list[dict]) -> list[dict]:
    """Per town: people, mean / lowest / highest score (mean rounded once, 四舍五入 to 0.01), vetoes,
    and the sums of stored pay and payable amounts."""
    by: dict[str, list[dict]] = defaultdict(list)
    for w in workers:
        by[w.get("town", "")].append(w)
    out = []
    for town, ws in sorted(by.items()):
        scores = [Decimal(w["score"]) for w in ws]
        out.append({"town": town, "workers": len(ws), "mean": _mean(scores), "min": min(scores), "max": max(scores),
                    "vetoes": sum(1 for w in ws if w.get("failed")),
                    "pay": sum((Decimal(w.get("pay") or "0") for w in ws), Decimal("0.00")),
                    "payable": sum((Decimal(w.get("payable", w.get("pay")) or "0") for w in ws), Decimal("0.00"))})
    return out


def trend(data: str | Path, towns: Iterable[str] | None, results_of=None) -> list[dict]:
    """Month by month: people, mean score (四舍五入 to 0.01), vetoes and payable total of the visible workers."""
    from .month import month_results

    with History(data, create=False) as hist:
        months = [i.month for i in hist.months()]
    get = results_of or (lambda m: month_results(data, m))
    out = []
    for m in months:
        ws = visible(get(m), towns)
        if not ws:
            continue
        out.append({"month": m, "workers": len(ws), "mean": _mean([Decimal(w["score"]) for w in ws]),
                    "vetoes": sum(1 for w in ws if w.get("failed")),
                    "payable": sum((Decimal(w.get("payable", w.get("pay")) or "0") for w in ws), Decimal("0.00"))})
    return out


def write_town_paysheet(results: Mapping[str, Any], towns: Iterable[str] | None, folder: str | Path, *,
                        unit: str = "") -> list[Path]:
    """The month's pay sheet (.xlsx, .csv) of the visible towns only, written into `folder` (the
    caller's temporary folder): a town's sheet has that town's rows, subtotals and total."""
    from ..paysheet import write_paysheet

    part = dict(results)
    part["workers"] = visible(results, towns) if towns is not None else list(results["workers"])
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [folder / name for name in write_paysheet(part, folder, unit=unit)]
