"""How the papers write: the small rules of Chinese office text that every notice follows.

- mainland quotation marks “…” (not 「…」);
- no space between a number and the Chinese next to it (扣 6 分 -> 扣6分), and no line break
  between them on paper: a WORD JOINER (U+2060, invisible, zero width) binds a number to the
  characters around it in the PDF and the .docx, so a line never ends with 扣6 and starts with 分;
- one clause said once per sentence (本月考核不合格 said by the veto and again by the notice);
- 发放90%的11人, not 发放90%11人 (a count right after a percentage reads as one number);
- amounts as 1,234.50.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["tidy", "once", "labelled", "band_phrase", "money_text", "bind_numbers", "WJ"]

WJ = "\u2060"
_CJK = r"\u4e00-\u9fff"
_SPACE_AFTER_NUMBER = re.compile(rf"(?<=[\d%])[ \u00a0]+(?=[{_CJK}（“])")
_SPACE_BEFORE_NUMBER = re.compile(rf"(?<=[{_CJK}）”：，])[ \u00a0]+(?=[\d+\-−])")
_CLAUSE = re.compile(r"([^，；。]+)([，；。]?)")


def tidy(text: Any) -> str:
    """A sentence as a notice prints it: “…” for 「…」, no space between a number and the Chinese
    next to it, and a clause said twice in one sentence said once."""
    s = "" if text is None else str(text)
    s = s.replace("「", "“").replace("」", "”").replace("『", "‘").replace("』", "’")
    s = _SPACE_BEFORE_NUMBER.sub("", _SPACE_AFTER_NUMBER.sub("", s))
    return once(s)


def once(text: str) -> str:
    """Drop a later repeat of a clause (between ，；。) that holds no number.  Clauses with numbers
    (扣5分) may rightly recur, and short ones (是) are not judged."""
    seen: set[str] = set()
    out: list[str] = []
    for clause, stop in _CLAUSE.findall(text):
        key = clause.strip()
        if key in seen and len(key) >= 4 and not re.search(r"\d", key):
            if out and stop == "。" and out[-1][-1:] in "，；":
                out[-1] = out[-1][:-1] + stop      # the sentence still ends with its full stop
            continue
        seen.add(key)
        out.append(clause + stop)
    return "".join(out)


def labelled(label: str, reason: str) -> str:
    """'label：reason', or the reason alone when it already names the rule."""
    reason = tidy(reason)
    return reason if not label or label in reason else f"{label}：{reason}"


def band_phrase(label: str, count: int) -> str:
    """'全额发放', 30 -> '全额发放30人'; '发放90%', 11 -> '发放90%的11人'."""
    return f"{label}{'的' if re.search(r'[0-9%]$', label) else ''}{count}人"


def money_text(value: Any) -> str:
    """'1234.5' -> '1,234.50' (the amount is already rounded; this only formats it)."""
    if value in (None, ""):
        return ""
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return f"{d:,.2f}"


_TEXT = re.compile(r">([^<]+)<")
_BIND = re.compile(rf"(?<=[{_CJK}])(?=[0-9])|(?<=[0-9%])(?=[{_CJK}])")


def bind_numbers(markup: str) -> str:
    """Insert a WORD JOINER between a number and the Chinese characters touching it, in the text
    of an HTML or WordprocessingML document (between tags only: attributes and tag names are
    left alone).  2026年10月 and 扣6分 then never break across lines."""
    def text(m: re.Match) -> str:
        return ">" + _BIND.sub(WJ, m.group(1)) + "<"
    return _TEXT.sub(text, markup)
