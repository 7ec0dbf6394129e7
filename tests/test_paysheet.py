"""The pay sheet: exact totals per community and town, a real printable .xlsx, formula-safe text."""
from __future__ import annotations

import csv
import io
import sys
from decimal import Decimal
from pathlib import Path

import openpyxl
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "history"))
from build import month, rules, worker  # noqa: E402

from engine.periods import evaluate, merge_additions, views_from_results  # noqa: E402
from engine.paysheet import COLUMNS, paysheet_csv_text, paysheet_rows, write_paysheet_xlsx  # noqa: E402

HEADERS = [h for h, _k, _t in COLUMNS]


def sample():
    """Two towns; A镇 has two communities.  Feb results after period rules (W2 last Jan and Feb).

    A镇/东村: W1 95 -> 600.00; W2 =HYPERLINK name, 85 -> 540.00, withheld 540.00 (last Jan and Feb)
    A镇/西村: W3 wage 2500.00 -> base 500.00, 91 -> 500.00
    B镇/南村: W4 wage 3333.33 -> base 666.666 -> 666.67, 75 -> 666.67 x 0.80 = 533.336 -> 533.34
    """
    def ws(s2):
        return [worker("W1", 95, town="A镇", community="东村"),
                worker("W2", s2, town="A镇", community="东村", name='=HYPERLINK("x")'),
                worker("W3", 91, town="A镇", community="西村", wage="2500.00"),
                worker("W4", 75, town="B镇", community="南村", wage="3333.33")]
    jan, feb = month("2026-01", ws(84)), month("2026-02", ws(85))
    adds = evaluate(lambda m: rules(), {"2026-01": views_from_results(jan), "2026-02": views_from_results(feb)},
                    ["2026-02"])
    return merge_additions(feb, adds["2026-02"])


def test_rows_and_totals_are_exact():
    rows = paysheet_rows(sample())
    got = [(r.kind, r.values["name"], str(r.values["pay"]), str(r.values["withheld"]), str(r.values["payable"]))
           for r in rows]
    assert got == [
        ("明细", "网格员W1", "600.00", "0.00", "600.00"),
        ("明细", '=HYPERLINK("x")', "540.00", "540.00", "0.00"),
        ("社区小计", "2人", "1140.00", "540.00", "600.00"),       # 600 + 540; 0 + 540; 600 + 0
        ("明细", "网格员W3", "500.00", "0.00", "500.00"),
        ("社区小计", "1人", "500.00", "0.00", "500.00"),
        ("乡镇合计", "3人", "1640.00", "540.00", "1100.00"),      # 1140 + 500; 600 + 500
        ("明细", "网格员W4", "533.34", "0.00", "533.34"),
        ("社区小计", "1人", "533.34", "0.00", "533.34"),
        ("乡镇合计", "1人", "533.34", "0.00", "533.34"),
        ("总计", "4人", "2173.34", "540.00", "1633.34"),          # 1640 + 533.34; 1100 + 533.34
    ]
    assert rows[1].values["withheld_reason"].startswith("连续两个月排名末位：2026年1月、2月连续2个月在A镇排名末位")


def test_xlsx_is_printable_and_text_stays_text(tmp_path):
    path = tmp_path / "paysheet.xlsx"
    write_paysheet_xlsx(sample(), path, unit="鹤山镇网格化服务管理中心")
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    assert [str(r) for r in ws.merged_cells.ranges] == ["A1:O1"]
    assert ws["A1"].value == "2026年2月网格员绩效工资发放表"
    assert ws["O2"].value == "单位：元"
    assert [c.value for c in ws[3]] == HEADERS
    # the worker named like a formula is a plain string, not a formula
    assert ws["C5"].value == '=HYPERLINK("x")' and ws["C5"].data_type == "s"
    assert ws["L4"].value == 600 and ws["L4"].number_format == "#,##0.00"
    assert ws["I4"].number_format == "0.00" and ws["K5"].number_format == "0%" and ws["K5"].value == 0.9
    assert (ws["M5"].value, ws["O5"].value) == (540, 0)
    assert ws["E13"].value is None and ws["D13"].value == "总计" and ws["O13"].value == 1633.34
    # print setup: landscape A4, one page wide, header row repeated
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    # fitToWidth is left out when it is 1, the OOXML default; fitToHeight 0 = as many pages as needed
    assert (ws.page_setup.fitToWidth or 1, ws.page_setup.fitToHeight) == (1, 0)
    assert ws.print_title_rows == "$3:$3"
    assert ws.freeze_panes == "A4"


def test_xlsx_is_byte_identical_for_the_same_month(tmp_path):
    write_paysheet_xlsx(sample(), tmp_path / "a.xlsx")
    write_paysheet_xlsx(sample(), tmp_path / "b.xlsx")
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()


def test_csv_guards_formulas_and_keeps_fen():
    text = paysheet_csv_text(sample())
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == ["行类型"] + HEADERS
    assert rows[2][3] == "'=HYPERLINK(\"x\")"
    assert rows[-1][0] == "总计" and rows[-1][-1] == "1633.34"
    assert sum(Decimal(r[-1]) for r in rows[1:] if r[0] == "明细") == Decimal("1633.34")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["A镇", "B镇"]), st.sampled_from(["一村", "二村", "三村"]),
                          st.integers(min_value=50, max_value=100),
                          st.decimals(min_value=1000, max_value=5000, places=2)), min_size=1, max_size=25))
def test_every_subtotal_is_the_sum_of_its_rows(ws):
    res = month("2026-03", [worker(f"W{i:03d}", s, town=t, community=c, wage=str(wage))
                            for i, (t, c, s, wage) in enumerate(ws)])
    rows = paysheet_rows(res)
    details = [r.values for r in rows if r.kind == "明细"]
    assert len(details) == len(ws)
    for i, r in enumerate(rows):
        if r.kind == "明细":
            continue
        if r.kind == "总计":
            members = details
        elif r.kind == "乡镇合计":
            members = [d for d in details if f"{d['town']}合计" == r.values["town"]]
        else:  # a community subtotal follows the last worker row of its community
            prev = rows[i - 1].values
            members = [d for d in details if (d["town"], d["community"]) == (prev["town"], prev["community"])]
        assert r.values["name"] == f"{len(members)}人"
        for k in ("wage", "performance_base", "pay", "withheld", "payable"):
            assert r.values[k] == sum((m[k] for m in members), Decimal("0.00"))
