"""Rendering pages: the web's Jinja2 environment (its only jinja2 importer), autoescaped, with
undefined names an error, and the few filters pages use."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

__all__ = ["env", "render_page"]

TEMPLATES = Path(__file__).with_name("templates")


def _money(v: Any) -> str:
    if v is None or v == "":
        return ""
    return f"{Decimal(str(v)):,.2f}"


def _signed(v: Any) -> str:
    s = str(v)
    return s if s.startswith("-") or s in ("0", "0.00", "") else "+" + s


def _band_range(text: str) -> str:
    """A band's interval as a clerk reads it: "[90, +inf)" -> "90 分及以上", "[80, 90)" -> "80 至 90 分（不含 90）"."""
    import re

    m = re.match(r"^\s*([\[(])\s*([^,]+?)\s*,\s*([^\])]+?)\s*([\])])\s*$", str(text or ""))
    if not m:
        return str(text or "")
    lo_in, lo, hi, hi_in = m.group(1) == "[", m.group(2), m.group(3), m.group(4) == "]"
    if hi in ("+inf", "inf"):
        return f"{lo} 分及以上" if lo_in else f"高于 {lo} 分"
    if lo in ("-inf",):
        return f"{hi} 分及以下" if hi_in else f"低于 {hi} 分"
    text = f"{lo} 至 {hi} 分"
    notes = [f"不含 {x}" for x, inc in ((lo, lo_in), (hi, hi_in)) if not inc]
    return text + (f"（{'，'.join(notes)}）" if notes else "")


def _query(params: dict, **change) -> str:
    """The current filters with some changed, as a query string (empty values dropped)."""
    merged = {**params, **change}
    return urlencode({k: v for k, v in merged.items() if v not in (None, "")})


env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html", "svg"], default=True),
                  undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
env.filters.update(money=_money, signed=_signed, band_range=_band_range)
env.globals.update(query=_query)


def render_page(name: str, **context: Any) -> str:
    return env.get_template(name).render(**context)
