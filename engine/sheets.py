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
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet, _preserve_whitespace

__all__ = ["open_workbook", "RowSheet", "csv_safe", "csv_text", "write_csv", "exact", "ROUNDING_NOTE"]

ROUNDING_NOTE = "金额单位：元；金额和得分均为四舍五入保留两位小数后的数值，合计为各行数值之和"

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# text xlsxwriter writes as it is: no control character, no _xHHHH_-like underscore, nothing XML
# escapes, no non-character, and no space at either end (which would need xml:space="preserve")
_NOTHING_TO_ESCAPE = re.compile(r'[^\s\x00-\x1f_&<>"\ufffe\uffff](?:[^\x00-\x1f_&<>"\ufffe\uffff]*[^\s\x00-\x1f_&<>"\ufffe\uffff])?')
_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def open_workbook(path: str | Path, *, title: str = "", author: str = "wangge",
                  constant_memory: bool = False) -> "xlsxwriter.Workbook":
    """A workbook that writes text as text.  The creation date is fixed, so the same content
    gives a byte-identical file when a month is run again."""
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                         "strings_to_numbers": False, "constant_memory": constant_memory})
    wb.worksheet_class = RowSheet
    props = {"author": author or "wangge", "created": datetime(2000, 1, 1)}
    if title:
        props["title"] = title
    wb.set_properties(props)
    return wb


class RowSheet(Worksheet):
    """A worksheet that can also take a whole row of cells at once (`write_cells`), for sheets of
    100,000 rows: in a constant-memory workbook the row's XML is made in one go when the row is
    flushed, instead of a call, a bounds check, a cell tuple and an XML helper per cell (the pay
    sheet of a province-sized month spent most of its time there).  The file is byte for byte
    the one write_string / write_number / write_blank would give (tests/test_sheets.py compares
    both on awkward text), so the XML below follows xlsxwriter's own (`_write_cell`, inline
    strings; it relies on that internal layout, which the comparison guards)."""

    def __init__(self) -> None:
        super().__init__()
        self._rows: dict[int, list] = {}       # row -> its cells, made into XML when the row is flushed
        self._tails: dict[tuple, str] = {}     # (class, value, id(format)) -> the cell's XML after r="A1"
        self._styles: dict[int, str] = {}      # id(format) -> its s attribute, once the format has its index
        self._columns: list[str] = []          # '<c r="A', '<c r="B', ...

    def write_cells(self, row: int, cells: list[tuple[Any, Any]]) -> int:
        """Write `cells` [(value, format), ...] into `row` from column A, as write_blank (value
        None), write_string (str) or write_number (int, float) would, each with its format.  The
        row holds these cells only (merged ranges and single cells go on other rows).  Returns what
        those would (0, or -1 / -2 when the row is out of bounds or already written)."""
        if not cells:
            return 0
        plain = not self.constant_memory
        longest = self.xls_strmax // 2
        for value, fmt in cells:
            if fmt is None or (value.__class__ is str and len(value) > longest):
                plain = True
                break
        if plain:
            for col, (value, fmt) in enumerate(cells):   # the plain path (long text is cut as Excel needs)
                if value is None:
                    self.write_blank(row, col, None, fmt)
                elif type(value) is str:
                    self.write_string(row, col, value, fmt)
                else:
                    self.write_number(row, col, value, fmt)
            return 0
        error = self._check_dimensions(row, 0) or self._check_dimensions(row, len(cells) - 1)
        if error:
            return error
        if row > self.previous_row:
            self._write_single_row(row)
        if self.table.get(row):
            raise ValueError(f"row {row + 1} already has cells written one by one")
        self._rows[row] = cells
        return 0

    def _write_single_row(self, current_row_num: int = 0) -> None:
        cells = self._rows.pop(self.previous_row, None)
        if cells is None:
            super()._write_single_row(current_row_num)
            return
        row = self.previous_row
        if self.table.get(row):
            raise ValueError(f"row {row + 1} has cells written both one by one and by write_cells")
        self.previous_row = current_row_num
        self._write_row(row, None, self.row_info.get(row))
        while len(self._columns) < len(cells):
            self._columns.append(f'<c r="{xl_col_to_name(len(self._columns))}')
        r = str(row + 1)
        styles, tails = self._styles, self._tails
        out = []
        add = out.append
        for column, (value, fmt) in zip(self._columns, cells):
            # a cell's XML after its reference, once per distinct (class, value, format); numeric
            # zeros are not kept (0.0 == -0.0, and their texts differ), nor blanks
            key = (value.__class__, value, id(fmt)) if value or value.__class__ is str else None
            tail = tails.get(key) if key else None
            if tail is None:
                style = styles.get(id(fmt))
                if style is None:    # the format's index is given at its first use, as _write_cell does
                    style = styles[id(fmt)] = f'" s="{fmt._get_xf_index()}"'
                if value is None:
                    tail = f"{style}/>"
                elif value.__class__ is str:
                    tail = style + self._inline(value)
                else:
                    tail = f"{style}><v>{value:.16G}</v></c>"
                if key:
                    tails[key] = tail
            add(f"{column}{r}{tail}")
        add("</row>")
        self.fh.write("".join(out))
        self.table.clear()

    def _inline(self, text: str) -> str:
        """An inline string cell after its r and s attributes, as xlsxwriter writes it."""
        if _NOTHING_TO_ESCAPE.fullmatch(text):     # most names, ids and grids: no escape, no space to keep
            return f' t="inlineStr"><is><t>{text}</t></is></c>'
        text = self._escape_control_characters(text)
        if text.startswith("<r>") and text.endswith("</r>"):
            return f' t="inlineStr"><is>{text}</is></c>'
        preserve = ' xml:space="preserve"' if _preserve_whitespace(text) else ""
        return f' t="inlineStr"><is><t{preserve}>{self._escape_data(text)}</t></is></c>'


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
    if not s.startswith(_FORMULA_START) or _PLAIN_NUMBER.fullmatch(s):   # -2.00 is a number, not a formula
        return s
    return "'" + s


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
