"""Spreadsheets and CSV files written for people: the one guard against formula injection.

Every workbook the engine writes is opened here (this is the only xlsxwriter importer), with
text never turned into formulas, links or numbers, and every CSV cell of free text goes through
`csv_safe`, so a worker called `=HYPERLINK("x")` or a grid named `+1` stays text in Excel and
WPS, whichever writer made the file.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable

import xlsxwriter

__all__ = ["open_workbook", "csv_safe", "csv_text", "write_csv", "exact", "ROUNDING_NOTE"]

ROUNDING_NOTE = "金额单位：元；金额和得分均为四舍五入保留两位小数后的数值，合计为各行数值之和"

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def open_workbook(path: str | Path, *, title: str = "", author: str = "wangge",
                  constant_memory: bool = False) -> "xlsxwriter.Workbook":
    """A workbook that writes text as text.  The creation date is fixed, so the same content
    gives a byte-identical file when a month is run again."""
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                         "strings_to_numbers": False, "constant_memory": constant_memory})
    props = {"author": author or "wangge", "created": datetime(2000, 1, 1)}
    if title:
        props["title"] = title
    wb.set_properties(props)
    return wb


class _Exact(float):
    """A float that xlsxwriter writes as its shortest round-trip text.  xlsxwriter formats numbers
    with '%.16G', which stores 517.19 as 517.1900000000001 and 89.99 as 89.98999999999999: the cell
    then holds a value other than the one displayed.  repr() is the shortest text that reads back
    as the same double, i.e. exactly the decimal written."""

    __slots__ = ()

    def __format__(self, spec: str) -> str:
        return repr(float(self))


def exact(value: Any, places: int = 2) -> float:
    """A decimal amount or score as the number to write into a cell: rounded to `places` (it
    already is, for every amount the engine computes; the check is that nothing is re-rounded
    silently), stored exactly as displayed."""
    d = Decimal(str(value))
    q = d.quantize(Decimal(1).scaleb(-places))
    if q != d:
        raise ValueError(f"{value} has more than {places} decimals")
    return _Exact(q)


def csv_safe(text: Any) -> str:
    """Free text for CSV: a leading apostrophe keeps spreadsheets from reading it as a formula."""
    s = "" if text is None else str(text)
    if _PLAIN_NUMBER.fullmatch(s):   # -2.00 is a number, not a formula
        return s
    return "'" + s if s.startswith(_FORMULA_START) else s


def csv_text(rows: Iterable[Iterable[Any]], *, bom: bool = True) -> str:
    """CSV (CRLF, as Excel writes it) with every cell guarded (plain numbers stay numbers).
    The BOM makes Chinese Excel open UTF-8 correctly."""
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\r\n")
    for row in rows:
        wr.writerow([csv_safe(v) for v in row])
    return ("\ufeff" if bom else "") + buf.getvalue()


def write_csv(path: str | Path, rows: Iterable[Iterable[Any]]) -> None:
    Path(path).write_text(csv_text(rows), encoding="utf-8", newline="")
