"""Every spreadsheet and CSV the engine writes keeps a formula-looking name as text (engine/sheets.py)."""
from __future__ import annotations

import csv

import openpyxl
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.roster.check import check_roster
from engine.roster.model import load_problem
from engine.roster.output import write_all
from engine.roster.solve import solve
from engine.sheets import csv_safe, csv_text
from roster_build import ring, write_problem

EVIL = '=HYPERLINK("http://x","点我")'


def test_csv_safe_guards_formulas_but_not_plain_numbers():
    assert csv_safe(EVIL) == "'" + EVIL
    assert csv_safe("+1") == "'+1"
    assert csv_safe("-2+3") == "'-2+3"
    assert csv_safe("@SUM(A1)") == "'@SUM(A1)"
    assert csv_safe("-2.00") == "-2.00"
    assert csv_safe("17") == "17"
    assert csv_text([["a", EVIL, 3]]) == "\ufeffa,\"'=HYPERLINK(\"\"http://x\"\",\"\"点我\"\")\",3\r\n"


def test_roster_outputs_keep_a_formula_name_as_text(tmp_path):
    grids, staff = ring(4)
    staff[0][1] = EVIL
    prob = load_problem(write_problem(tmp_path / "p", grids=grids, staff=staff), "2026-10")
    ro = solve(prob, time_limit=5)
    out = tmp_path / "out"
    out.mkdir()
    write_all(ro, check_roster(ro), out, {})
    wb = openpyxl.load_workbook(out / "排班.xlsx")
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert any(c.value == EVIL and c.data_type == "s" for c in cells)
    cells = [v for p in out.glob("*.csv") for row in csv.reader(p.open(encoding="utf-8-sig")) for v in row]
    assert EVIL not in cells
    assert "'" + EVIL in cells


AWKWARD = ["张三", "A&B <c> \"d\"", " leading", "trailing ", "line\nbreak", "ctl\x01\x1f", "_x0041_ literal",
           "<r>looks rich</r>", "\ufffe", "😀 emoji", EVIL, "x" * 20_000,
           "\u3000全角空格在前", "全角空格在后\u3000", "tab\tinside", "a_b", "a>b", "x"]


def _row_sheet_book(path, constant_memory: bool, by_row: bool) -> None:
    """The same workbook written with RowSheet.write_cells (by_row) or cell by cell."""
    from engine.sheets import exact, open_workbook

    wb = open_workbook(path, title="t", constant_memory=constant_memory)
    plain = wb.add_format({"border": 1})
    money = wb.add_format({"num_format": "#,##0.00", "bold": True})
    ws = wb.add_worksheet("甲")
    ws.merge_range(0, 0, 0, 3, "标题", plain)
    rows = [[(text, plain), (exact("517.19"), money), (None, plain), (17, money), (exact("0"), plain)]
            for text in AWKWARD]
    rows.insert(3, [(None, money), (exact("-2.5", 4), plain), (1e-7, plain), (2 ** 40, money)])
    # equal values of other classes or signs, written in other ways: 17 / 17.0 / exact 17, 0 / -0
    rows.append([(17, plain), (17.0, plain), (exact("17"), plain), (0.0, money), (-0.0, money),
                    (exact("-0.00"), money), (exact("0"), money), (0, plain), (True, plain)])
    rows.append([(17.0, plain), (17, plain), (-0.0, money), (0.0, money), (exact("17"), plain)])
    r = 1
    for cells in rows:
        r += 1
        ws.set_row(r, 25.5)
        if by_row:
            assert ws.write_cells(r, cells) == 0
        else:
            for c, (value, fmt) in enumerate(cells):
                if value is None:
                    ws.write_blank(r, c, None, fmt)
                elif isinstance(value, str):
                    ws.write_string(r, c, value, fmt)
                else:
                    ws.write_number(r, c, value, fmt)
    ws.write_string(r + 2, 0, "末行", plain)
    wb.add_worksheet("乙").write_string(0, 0, "另一张", money)
    wb.close()


def test_row_sheet_writes_the_bytes_cell_by_cell_writing_gives(tmp_path):
    """write_cells makes a row's XML itself (the pay sheet of 100,000 workers is 1.5 million
    cells): the file must be the one xlsxwriter's own write_* calls give, whatever the text."""
    for constant_memory in (True, False):
        a, b = tmp_path / f"rows-{constant_memory}.xlsx", tmp_path / f"cells-{constant_memory}.xlsx"
        _row_sheet_book(a, constant_memory, by_row=True)
        _row_sheet_book(b, constant_memory, by_row=False)
        assert a.read_bytes() == b.read_bytes()
    ws = openpyxl.load_workbook(tmp_path / "rows-True.xlsx")["甲"]
    assert [ws.cell(r, 1).value for r in (3, 4, 8)] == ["张三", "A&B <c> \"d\"", "line\nbreak"]
    assert ws.cell(3, 2).value == 517.19 and ws.cell(3, 3).value is None and ws.cell(3, 4).value == 17


def test_row_sheet_refuses_a_row_written_both_ways(tmp_path):
    import pytest

    from engine.sheets import open_workbook

    wb = open_workbook(tmp_path / "x.xlsx", constant_memory=True)
    f = wb.add_format({})
    ws = wb.add_worksheet("甲")
    ws.write_cells(1, [("a", f), ("b", f)])
    ws.write_string(1, 3, "c", f)
    with pytest.raises(ValueError, match="row 2"):
        ws.write_string(2, 0, "d", f)
    assert ws.write_cells(0, [("too late", f)]) == -2        # constant memory: rows go in order


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab张_x0F&<>\"' \t\n\r\u3000\x01\x1f\ufffe\uffff")) | st.characters(),
               max_size=12))
def test_row_sheet_inline_text_is_what_xlsxwriter_escaping_gives(text):
    """RowSheet writes most texts as they are, without running xlsxwriter's escapes: for any text,
    what it writes is what those escapes give."""
    from xlsxwriter.worksheet import _preserve_whitespace

    from engine.sheets import RowSheet

    ws = RowSheet()
    esc = ws._escape_control_characters(text)
    if esc.startswith("<r>") and esc.endswith("</r>"):
        want = f' t="inlineStr"><is>{esc}</is></c>'
    else:
        keep = ' xml:space="preserve"' if _preserve_whitespace(esc) else ""
        want = f' t="inlineStr"><is><t{keep}>{ws._escape_data(esc)}</t></is></c>'
    assert ws._inline(text) == want
