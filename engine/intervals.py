"""Intervals written the way a maths teacher writes them: "[80, 90)", "(24, +inf)", "[90, 100]".

Every boundary in a policy (pay bands, stars, tiers, delays) is an interval, so which side
owns exactly 90 is always written down, never implied.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

INF_WORDS = {"inf", "+inf", "∞", "+∞", "infinity", "+infinity"}
NEG_INF_WORDS = {"-inf", "-∞", "-infinity"}

_RX = re.compile(r"^\s*([\[\(（【])\s*([^,，]+?)\s*[,，]\s*([^\]\)）】]+?)\s*([\]\)）】])\s*$")

HELP = "区间写法，如 \"[80, 90)\"（含80不含90）、\"[90, +inf)\"（90及以上）、\"(24, +inf)\"（超过24）"


@dataclass(frozen=True)
class Interval:
    lo: Decimal | None        # None = minus infinity
    lo_closed: bool
    hi: Decimal | None        # None = plus infinity
    hi_closed: bool
    text: str

    def contains(self, x: Decimal) -> bool:
        if self.lo is not None and (x < self.lo or (x == self.lo and not self.lo_closed)):
            return False
        if self.hi is not None and (x > self.hi or (x == self.hi and not self.hi_closed)):
            return False
        return True

    def is_empty(self) -> bool:
        if self.lo is None or self.hi is None:
            return False
        if self.lo > self.hi:
            return True
        return self.lo == self.hi and not (self.lo_closed and self.hi_closed)

    def intersect(self, other: "Interval") -> "Interval":
        lo, lo_closed = self.lo, self.lo_closed
        if other.lo is not None and (lo is None or other.lo > lo or (other.lo == lo and not other.lo_closed)):
            lo, lo_closed = other.lo, other.lo_closed
        hi, hi_closed = self.hi, self.hi_closed
        if other.hi is not None and (hi is None or other.hi < hi or (other.hi == hi and not other.hi_closed)):
            hi, hi_closed = other.hi, other.hi_closed
        return Interval(lo, lo_closed, hi, hi_closed, f"{self.text}∩{other.text}")

    def overlaps(self, other: "Interval") -> bool:
        return not self.intersect(other).is_empty()

    def __str__(self) -> str:
        return self.text

    def human(self, unit: str = "") -> str:
        """Chinese reading of the interval: "95%及以上、低于100%", "超过24小时", "90及以上"."""
        lo = None if self.lo is None else f"{_fmt(self.lo, True)}{unit}"
        hi = None if self.hi is None else f"{_fmt(self.hi, False)}{unit}"
        if lo is None and hi is None:
            return "任意值"
        if hi is None:
            return f"{lo}及以上" if self.lo_closed else f"超过{lo}"
        if lo is None:
            return f"{hi}及以下" if self.hi_closed else f"低于{hi}"
        low = f"{lo}及以上" if self.lo_closed else f"超过{lo}"
        high = f"不超过{hi}" if self.hi_closed else f"低于{hi}"
        return f"{low}、{high}"


def parse_interval(text: object) -> Interval:
    """Parse an interval; raises ValueError with a Chinese explanation."""
    if not isinstance(text, str):
        raise ValueError(HELP)
    m = _RX.match(text)
    if not m:
        raise ValueError(HELP)
    lb, a, b, rb = m.groups()
    lo = _bound(a, low=True)
    hi = _bound(b, low=False)
    lo_closed = lb in "[【" and lo is not None
    hi_closed = rb in "]】" and hi is not None
    canon = f"{'[' if lo_closed else '('}{_fmt(lo, True)}, {_fmt(hi, False)}{']' if hi_closed else ')'}"
    iv = Interval(lo, lo_closed, hi, hi_closed, canon)
    if iv.is_empty():
        raise ValueError(f"区间 {canon} 不含任何值")
    return iv


def _bound(s: str, low: bool) -> Decimal | None:
    s = s.strip().lower()
    if s in INF_WORDS:
        if low:
            raise ValueError("区间左端不能是 +inf")
        return None
    if s in NEG_INF_WORDS:
        if not low:
            raise ValueError("区间右端不能是 -inf")
        return None
    try:
        d = Decimal(s)
    except InvalidOperation:
        raise ValueError(HELP)
    if not d.is_finite():
        raise ValueError(HELP)
    return d


def _fmt(d: Decimal | None, low: bool) -> str:
    if d is None:
        return "-inf" if low else "+inf"
    return format(d.normalize(), "f") if d == d.to_integral() else format(d, "f")


def covers(intervals: list[Interval], domain: Interval) -> list[str]:
    """Problems (Chinese) if `intervals` do not partition `domain` exactly: gaps or overlaps."""
    problems = []
    for i, a in enumerate(intervals):
        for b in intervals[i + 1:]:
            if a.overlaps(b):
                problems.append(f"{a} 与 {b} 重叠")
    # Gaps: walk the domain from the left using the intervals sorted by lower end.
    pts = sorted(intervals, key=lambda iv: (iv.lo is not None, iv.lo or 0, not iv.lo_closed))
    cur, cur_closed = domain.lo, domain.lo_closed  # the next value that must be covered
    for iv in pts:
        if iv.is_empty():
            continue
        starts_ok = (iv.lo is None or cur is not None and (iv.lo < cur or (iv.lo == cur and (iv.lo_closed or not cur_closed))))
        if not starts_ok and cur is not None and (domain.hi is None or cur < domain.hi or (cur == domain.hi and domain.hi_closed)):
            problems.append(f"{_from(cur, cur_closed)}未被任何区间覆盖（{iv} 之前有空档）")
        if iv.hi is None:
            cur = None
            break
        if cur is None or iv.hi > cur or (iv.hi == cur and iv.hi_closed and cur_closed):
            cur, cur_closed = iv.hi, not iv.hi_closed
    if cur is not None:
        end_ok = domain.hi is not None and (cur > domain.hi or (cur == domain.hi and (not cur_closed or not domain.hi_closed)))
        if not end_ok:
            problems.append(f"{_from(cur, cur_closed)}未被任何区间覆盖（应覆盖到 {_fmt(domain.hi, False)}）")
    return problems


def _from(x: Decimal, closed: bool) -> str:
    return f"{_fmt(x, True)} {'及以上' if closed else '以上（不含）'}"
