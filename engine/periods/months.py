"""Month arithmetic and how months are said ('2026年9月、10月')."""
from __future__ import annotations

from functools import lru_cache
from typing import Iterable


@lru_cache(maxsize=4096)      # pure, and asked once per worker and rule (a province: 100,000 times a month)
def month_add(month: str, n: int) -> str:
    y, m = int(month[:4]), int(month[5:7])
    idx = y * 12 + (m - 1) + n
    return f"{idx // 12:04d}-{idx % 12 + 1:02d}"


@lru_cache(maxsize=4096)
def month_label(month: str) -> str:
    return f"{int(month[:4])}年{int(month[5:7])}月"


def months_label(months: Iterable[str]) -> str:
    """['2026-09', '2026-10'] -> '2026年9月、10月' (year said once while it does not change)."""
    out, year = [], None
    for m in months:
        out.append(month_label(m) if m[:4] != year else f"{int(m[5:7])}月")
        year = m[:4]
    return "、".join(out)


PERIODS = {"month": 1, "quarter": 3, "half": 6, "year": 12}
PERIOD_WORDS = {"month": "月度", "quarter": "季度", "half": "半年", "year": "年度"}


def period_months(month: str, period: str) -> list[str]:
    """The calendar months of the period (month, quarter, half year, year) that `month` lies in, up to it."""
    size = PERIODS[period]
    m = int(month[5:7])
    first = (m - 1) // size * size + 1
    return [f"{month[:4]}-{k:02d}" for k in range(first, m + 1)]


def period_ends(month: str, period: str) -> bool:
    return int(month[5:7]) % PERIODS[period] == 0


def period_label(month: str, period: str) -> str:
    """'2026年第3季度', '2026年上半年', '2026年10月', '2026年度'."""
    y, m = int(month[:4]), int(month[5:7])
    if period == "month":
        return month_label(month)
    if period == "quarter":
        return f"{y}年第{(m - 1) // 3 + 1}季度"
    if period == "half":
        return f"{y}年{'上' if m <= 6 else '下'}半年"
    return f"{y}年度"
