"""Indented JSON, the same text as Python's json module writes, about ten times faster (the only
rapidjson importer).

`json.dumps(obj, ensure_ascii=False, indent=n)` runs the pure-Python encoder whenever `indent` is
given (only compact output has a C encoder).  A province-sized results.json (100,426 workers, 300 MB)
took it longer than scoring the month.  python-rapidjson writes the same text in C: the same
indentation, separators, empty containers, numbers (shortest round-trip floats, big integers) and
string escapes, except that it writes the hex digits of a control character's escape in capitals
(\\u001F where json writes \\u001f), which is put right here.  What it refuses and json accepts
(NaN and infinities, keys that are not strings) is written by json itself.  tests/test_jsontext.py
compares the two texts on random documents.
"""
from __future__ import annotations

import json
import re
from typing import Any

import rapidjson

__all__ = ["dumps_indented", "dumps_compact"]

# \u00XY escapes of control characters, not preceded by an odd number of backslashes (that would be
# a backslash of the text followed by the letters u00XY)
_CONTROL = re.compile(r"(?<!\\)((?:\\\\)*)\\u00([01][0-9A-F])")


def dumps_indented(obj: Any, indent: int = 1) -> str:
    """`json.dumps(obj, ensure_ascii=False, indent=indent)`, the same text."""
    return _dumps(obj, indent)


def dumps_compact(obj: Any) -> str:
    """`json.dumps(obj, ensure_ascii=False, separators=(",", ":"))`, the same text (the history keeps
    a month's results so, compressed)."""
    return _dumps(obj, None)


def _dumps(obj: Any, indent: int | None) -> str:
    try:
        text = rapidjson.dumps(obj, ensure_ascii=False, indent=indent)
    except (TypeError, ValueError):      # NaN, infinities, non-string keys; or what json refuses too
        if indent is None:
            return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        return json.dumps(obj, ensure_ascii=False, indent=indent)
    if "\\u00" in text:
        text = _CONTROL.sub(lambda m: m.group(1) + "\\u00" + m.group(2).lower(), text)
    return text
