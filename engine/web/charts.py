"""Chart geometry for the pages' inline SVG (drawn by templates/_charts.html): no library, no
JavaScript, the numbers come from engine/app/results.py.  Each function returns plain shapes in
pixels with their labels and the value each shape stands for (shown as a tooltip and as text)."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

__all__ = ["histogram", "hbars", "line"]


def histogram(bins: list[dict], width: int = 560, height: int = 220) -> dict[str, Any]:
    """Vertical bars, one per score bin, with the bin and its count."""
    left, bottom, top = 36, 28, 12
    plot_w, plot_h = width - left - 8, height - bottom - top
    top_count = max((b["count"] for b in bins), default=0)
    peak = max(4, -(-top_count // 4) * 4)           # a multiple of 4: whole people on every gridline
    n = max(len(bins), 1)
    bw = plot_w / n
    bars = []
    for i, b in enumerate(bins):
        h = plot_h * b["count"] / peak if peak else 0
        bars.append({"x": round(left + i * bw + 2, 1), "y": round(top + plot_h - h, 1), "w": round(bw - 4, 1),
                     "h": round(h, 1), "label": f"{b['from']}", "value": b["count"],
                     "title": f"{b['from']}–{b['to']} 分：{b['count']} 人", "cx": round(left + i * bw + bw / 2, 1)})
    ticks = [{"y": round(top + plot_h - plot_h * k / 4, 1), "label": str(peak * k // 4)} for k in range(5)]
    return {"width": width, "height": height, "bars": bars, "ticks": ticks, "left": left, "base": top + plot_h,
            "right": width - 8}


def hbars(rows: list[dict], value: str, label: str, fmt=str, width: int = 560, bar_h: int = 22,
          label_w: int = 170, title=None) -> dict[str, Any]:
    """Horizontal bars, one per row (a rule, a town), longest = the largest value."""
    peak = max((float(r[value]) for r in rows), default=0) or 1
    plot_w = width - label_w - 70
    bars = []
    for i, r in enumerate(rows):
        v = float(r[value])
        w = max(plot_w * v / peak, 1 if v else 0)
        bars.append({"y": i * (bar_h + 6) + 4, "w": round(w, 1), "label": str(r[label]), "text": fmt(r[value]),
                     "title": title(r) if title else f"{r[label]}：{fmt(r[value])}"})
    return {"width": width, "height": len(rows) * (bar_h + 6) + 8, "bars": bars, "x0": label_w, "bar_h": bar_h}


def line(points: list[dict], value: str, label: str, width: int = 560, height: int = 200,
         low: float | None = None, high: float | None = None) -> dict[str, Any]:
    """A line through one value per month (the trend), with each point labelled."""
    left, bottom, top, right = 56, 28, 18, 24
    plot_w, plot_h = width - left - right, height - bottom - top
    vals = [float(p[value]) for p in points]
    lo = low if low is not None else (min(vals) if vals else 0)
    hi = high if high is not None else (max(vals) if vals else 1)
    if hi - lo < 1:
        lo, hi = lo - 1, hi + 1
    n = len(points)
    pad = 24                      # the first and last points' labels stay clear of the axis labels
    dots = []
    for i, p in enumerate(points):
        x = left + pad + ((plot_w - 2 * pad) * i / (n - 1) if n > 1 else (plot_w - 2 * pad) / 2)
        y = top + plot_h - plot_h * (float(p[value]) - lo) / (hi - lo)
        dots.append({"x": round(x, 1), "y": round(y, 1), "label": str(p[label]), "text": str(p[value]),
                     "title": f"{p[label]}：{p[value]}"})
    path = " ".join(f"{'M' if i == 0 else 'L'}{d['x']},{d['y']}" for i, d in enumerate(dots))
    ticks = [{"y": round(top + plot_h - plot_h * k / 4, 1), "label": f"{lo + (hi - lo) * k / 4:.1f}"} for k in range(5)]
    return {"width": width, "height": height, "dots": dots, "path": path, "ticks": ticks, "left": left,
            "base": top + plot_h, "right": width - right}


def money_text(v: Any) -> str:
    return f"{Decimal(str(v)):,.2f}"
