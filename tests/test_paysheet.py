"""The pay sheet: exact totals per community and town, a real printable .xlsx, formula-safe text."""
from __future__ import annotations

import csv
import io
import re
import sys
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "history"))
from build import month, rules, worker  # noqa: E402

from engine.periods import evaluate, merge_additions, views_from_results  # noqa: E402
from engine.paysheet import COLUMNS, paysheet_csv_text, paysheet_rows, write_paysheet_xlsx  # noqa: E402
from engine.sheets import ROUNDING_NOTE  # noqa: E402

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


def test_xlsx_is_printable_signable_and_text_stays_text(tmp_path):
    path = tmp_path / "paysheet.xlsx"
    write_paysheet_xlsx(sample(), path, unit="鹤山镇网格化服务管理中心")
    wb = openpyxl.load_workbook(path)
    # two towns: a summary first, then one worksheet per town (issue 11.6)
    assert wb.sheetnames == ["汇总", "A镇", "B镇"]
    ws = wb["A镇"]
    assert ws["A1"].value == "2026年2月网格员绩效工资发放表"
    assert ws["A2"].value.startswith("填报单位：鹤山镇网格化服务管理中心")
    assert ws["N2"].value == "乡镇（街道）：A镇　单位：元"
    assert [c.value for c in ws[3]] == HEADERS + ["本人签字"]
    # the worker named like a formula is a plain string, not a formula
    assert ws["C5"].value == '=HYPERLINK("x")' and ws["C5"].data_type == "s"
    assert ws["L4"].value == 600 and ws["L4"].number_format == "#,##0.00"
    assert ws["I4"].number_format == "0.00" and ws["K5"].number_format == "0%" and ws["K5"].value == 0.9
    assert (ws["M5"].value, ws["O5"].value) == (540, 0)
    # rows tall enough to sign: 9 mm
    assert ws.row_dimensions[4].height == pytest.approx(9 / 25.4 * 72, abs=0.1)   # Excel keeps 0.75 pt steps
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=4)]
    labels = [r[0] if isinstance(r[0], (int, str)) else (r[4] or r[3]) for r in rows]
    assert labels == [1, 2, "东村小计", 3, "西村小计", "本页小计", "A镇合计", "A镇合计（大写）：人民币壹仟壹佰元整",
                      ROUNDING_NOTE, "制表人："]
    page = rows[5]
    assert (page[2], page[6], page[11], page[12], page[14]) == ("3人", 8500, 1640, 540, 1100)
    assert [r[c] for r in rows[-1:] for c in (0, 3, 6, 10, 14)] == ["制表人：", "审核人：", "单位负责人：",
                                                                  "日期：　　年　　月　　日", "（盖章）"]
    # print setup: landscape A4, one page wide, title rows repeated
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    # fitToWidth is left out when it is 1, the OOXML default; fitToHeight 0 = as many pages as needed
    assert (ws.page_setup.fitToWidth or 1, ws.page_setup.fitToHeight) == (1, 0)
    assert ws.print_title_rows == "$1:$3"
    assert ws.freeze_panes == "A4"
    summary = [[c.value for c in r] for r in wb["汇总"].iter_rows(min_row=3)]
    assert summary[:3] == [["序号", "乡镇（街道）", "人数", "月工资", "绩效基数", "绩效工资", "扣发金额", "实发绩效工资", "签收人"],
                           [1, "A镇", 3, 8500, 1700, 1640, 540, 1100, None],
                           [2, "B镇", 1, 3333.33, 666.67, 533.34, 0, 533.34, None]]
    assert summary[3][1:8] == ["总计", 4, 11833.33, 2366.67, 2173.34, 540, 1633.34]
    assert summary[4][0] == "总计（大写）：人民币壹仟陆佰叁拾叁元叁角肆分"


def test_each_printed_page_closes_with_its_own_subtotal(tmp_path):
    """25 workers in one community, 14 rows a page: 14 on the first page; the 11 left and the
    community subtotal (12 rows) leave no room for the town's total, 合计（大写） and the signature
    line (3 rows), so the last worker and the subtotal go to a third page.  A manual page break
    after each 本页小计, and the page subtotals add up to the town's total."""
    ws_ = [worker(f"W{i:02d}", 95 if i % 3 else 85, town="A镇", community="一村", wage=str(2000 + 17 * i) + ".35")
           for i in range(25)]
    res = month("2026-03", ws_)
    path = tmp_path / "p.xlsx"
    write_paysheet_xlsx(res, path, rows_per_page=14)
    ws = openpyxl.load_workbook(path)["A镇"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=4)]
    subtotals = [(i + 4, r) for i, r in enumerate(rows) if r[4] == "本页小计"]
    assert [r[2] for _, r in subtotals] == ["14人", "10人", "1人"]
    assert [b.id for b in ws.row_breaks.brk] == [subtotals[0][0], subtotals[1][0]]
    total = next(r for r in rows if r[3] == "A镇合计")
    for col in (6, 7, 11, 14):
        assert sum(Decimal(str(r[col])) for _, r in subtotals) == Decimal(str(total[col]))
        details = [Decimal(str(r[col])) for r in rows if isinstance(r[0], int)]
        assert sum(details) == Decimal(str(total[col]))


def test_stored_numbers_are_the_displayed_two_decimal_numbers(tmp_path):
    """Issue 11.7: xlsxwriter writes floats with 16 significant digits, so 517.19 was stored as
    517.1900000000001.  Every number cell must hold exactly the decimal displayed."""
    res = month("2026-03", [worker("W1", "89.99", wage="2585.95"), worker("W2", "90.5", wage="4000.05")])
    path = tmp_path / "p.xlsx"
    write_paysheet_xlsx(res, path)
    import zipfile
    with zipfile.ZipFile(path) as z:
        values = [v for n in z.namelist() if n.startswith("xl/worksheets/")
                  for v in re.findall(r"<v>([^<]*)</v>", z.read(n).decode())]
    assert "517.19" in values and "89.99" in values         # 2585.95 x 20%; the score
    for v in values:
        d = Decimal(v)
        assert d == d.quantize(Decimal("0.01")), v          # nothing like 517.1900000000001
    ws = openpyxl.load_workbook(path)["鹤山镇"] if "鹤山镇" in openpyxl.load_workbook(path).sheetnames else None
    assert ws is not None and ws["H4"].value == 517.19 and ws["I4"].value == 89.99


def test_a_vetoed_workers_row_agrees_with_itself():
    """Issue 11.1: 档次 一票否决, 比例 0, 绩效工资 0.00 and the reason column names the veto, also for
    a month stored before the band named the veto (this hand-built month's band is 不予发放)."""
    res = month("2026-03", [worker("W1", 94, vetoes=1)])
    row = paysheet_rows(res)[0].values
    assert (row["band"], row["ratio"], row["pay"]) == ("一票否决", Decimal(0), Decimal("0.00"))
    assert row["performance_base"] * row["ratio"] == row["pay"]
    assert row["withheld_reason"] == "一票否决：安全生产一票否决，绩效工资不予发放"


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
