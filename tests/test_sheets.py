"""Every spreadsheet and CSV the engine writes keeps a formula-looking name as text (engine/sheets.py)."""
from __future__ import annotations

import csv

import openpyxl

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
