"""The pay sheet for finance (绩效工资发放表): .xlsx for printing and CSV for import.

Built from one month's results.json (with period additions when `wangge run` applied them).
Rows are grouped by town and community with a subtotal after each community, a total after
each town and a grand total; every sum is a Decimal sum of the fen amounts in results.json,
written as a value (not a formula), so the sheet shows exactly what the engine computed.
Names and other free text are always written as strings: the workbook is opened with
`strings_to_formulas=False` and every text cell goes through `write_string`, so a worker
called `=HYPERLINK("x")` stays text.  In the CSV such cells get a leading apostrophe, the
usual guard against spreadsheet formula injection (both in engine/sheets.py).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Mapping

from .sheets import csv_safe, open_workbook

__all__ = ["COLUMNS", "PayRow", "paysheet_rows", "write_paysheet_xlsx", "write_paysheet_csv",
           "write_tables_xlsx"]

ZERO = Decimal("0.00")

# (header, key, kind) in sheet order; kind decides the cell format.
COLUMNS = (
    ("序号", "seq", "int"), ("工号", "worker_id", "text"), ("姓名", "name", "text"), ("乡镇（街道）", "town", "text"),
    ("社区（村）", "community", "text"), ("网格", "grid", "text"), ("月工资", "wage", "money"),
    ("绩效基数", "performance_base", "money"), ("考核得分", "score", "score"), ("档次", "band", "text"),
    ("发放比例", "ratio", "ratio"), ("绩效工资", "pay", "money"), ("扣发金额", "withheld", "money"),
    ("扣发原因", "withheld_reason", "text"), ("实发绩效工资", "payable", "money"),
)
_MONEY = ("wage", "performance_base", "pay", "withheld", "payable")
_WIDTHS = {"seq": 5, "worker_id": 9, "name": 9, "town": 10, "community": 11, "grid": 8, "wage": 11,
           "performance_base": 10, "score": 8, "band": 9, "ratio": 8, "pay": 10, "withheld": 10,
           "withheld_reason": 40, "payable": 11}


@dataclass
class PayRow:
    kind: str                  # 明细 | 社区小计 | 乡镇合计 | 总计
    values: dict


def _dec(v: Any) -> Decimal:
    return Decimal(str(v)) if v not in (None, "") else ZERO


def paysheet_rows(results: Mapping[str, Any]) -> list[PayRow]:
    """Worker rows sorted by town, community, worker id, with community, town and grand totals."""
    workers = sorted(results["workers"], key=lambda w: (w.get("town") or "", w.get("community") or "", w["worker_id"]))
    rows: list[PayRow] = []

    def total(kind: str, label: str, members: list[dict]) -> PayRow:
        vals = {k: sum((m[k] for m in members), ZERO) for k in _MONEY}
        vals.update(seq=None, worker_id="", name=f"{len(members)}人", town=label if kind != "总计" else "总计",
                    community="", grid="", score=None, band="", ratio=None, withheld_reason="")
        if kind == "社区小计":
            vals["town"], vals["community"] = "", label
        return PayRow(kind, vals)

    seq = 0
    town_members: list[dict] = []
    comm_members: list[dict] = []
    all_members: list[dict] = []
    for i, w in enumerate(workers):
        seq += 1
        findings = [f for f in w.get("period_findings", []) if _dec(f.get("amount")) > 0]
        vals = {
            "seq": seq, "worker_id": w["worker_id"], "name": w.get("name", ""), "town": w.get("town") or "",
            "community": w.get("community") or "", "grid": w.get("grid") or "", "wage": _dec(w.get("wage")),
            "performance_base": _dec(w.get("performance_base")), "score": _dec(w.get("score")),
            "band": (w.get("band") or {}).get("label", ""), "ratio": _dec((w.get("band") or {}).get("ratio")),
            "pay": _dec(w.get("pay")), "withheld": _dec(w.get("withheld", "0")),
            "withheld_reason": "；".join(f"{f['rule_label']}：{f['reason']}（{f['amount']}元）" for f in findings),
            "payable": _dec(w["payable"]) if "payable" in w else _dec(w.get("pay")),
        }
        rows.append(PayRow("明细", vals))
        comm_members.append(vals)
        town_members.append(vals)
        all_members.append(vals)
        nxt = workers[i + 1] if i + 1 < len(workers) else None
        same_town = nxt is not None and (nxt.get("town") or "") == vals["town"]
        if not same_town or (nxt.get("community") or "") != vals["community"]:
            rows.append(total("社区小计", f"{vals['community'] or '（未填社区）'}小计", comm_members))
            comm_members = []
        if not same_town:
            rows.append(total("乡镇合计", f"{vals['town'] or '（未填乡镇）'}合计", town_members))
            town_members = []
    rows.append(total("总计", "总计", all_members))
    return rows


def _title(results: Mapping[str, Any]) -> str:
    m = results["month"]
    return f"{int(m[:4])}年{int(m[5:7])}月网格员绩效工资发放表"


def _subtitle(results: Mapping[str, Any]) -> str:
    pol = results.get("policy") or {}
    text = f"考核细则：{pol.get('name', '')}（{pol.get('version', '')}）"
    if results.get("period_rules_applied"):
        text += "；已计入跨月规则扣发"
    return text


def write_paysheet_xlsx(results: Mapping[str, Any], path: str | Path, *, unit: str = "") -> None:
    """A printable workbook: merged title, units, money formats, totals, landscape A4, one page wide."""
    rows = paysheet_rows(results)
    # rows are written in order: constant memory keeps it flat for 100,000 workers
    wb = open_workbook(path, title=_title(results), author=unit, constant_memory=True)
    ws = wb.add_worksheet("绩效工资发放表")
    base = {"font_name": "宋体", "font_size": 10, "border": 1, "valign": "vcenter"}
    f_title = wb.add_format({"font_name": "黑体", "font_size": 16, "bold": True, "align": "center", "valign": "vcenter"})
    f_note = wb.add_format({"font_name": "宋体", "font_size": 10})
    f_unit = wb.add_format({"font_name": "宋体", "font_size": 10, "align": "right"})
    f_head = wb.add_format({**base, "bold": True, "align": "center", "text_wrap": True, "bg_color": "#D9D9D9"})
    fmts = {}
    for bold in (False, True):
        extra = {"bold": True, "bg_color": "#F2F2F2"} if bold else {}
        fmts[bold] = {
            "text": wb.add_format({**base, **extra}),
            "wrap": wb.add_format({**base, **extra, "text_wrap": True}),
            "int": wb.add_format({**base, **extra, "align": "center", "num_format": "0"}),
            "money": wb.add_format({**base, **extra, "num_format": "#,##0.00"}),
            "score": wb.add_format({**base, **extra, "num_format": "0.00"}),
            "ratio": wb.add_format({**base, **extra, "num_format": "0%"}),
        }
    if any(r.values["ratio"] is not None and (r.values["ratio"] * 100) % 1 for r in rows):
        for bold in fmts:
            fmts[bold]["ratio"] = wb.add_format({**base, **({"bold": True} if bold else {}), "num_format": "0.00%"})

    last_col = len(COLUMNS) - 1
    ws.merge_range(0, 0, 0, last_col, _title(results), f_title)
    ws.set_row(0, 30)
    ws.write_string(1, 0, (f"填报单位：{unit}　" if unit else "") + _subtitle(results), f_note)
    ws.write_string(1, last_col, "单位：元", f_unit)
    header_row = 2
    for c, (head, key, _kind) in enumerate(COLUMNS):
        ws.write_string(header_row, c, head, f_head)
        ws.set_column(c, c, _WIDTHS[key])
    ws.set_row(header_row, 28)
    r = header_row
    for row in rows:
        r += 1
        fm = fmts[row.kind != "明细"]
        for c, (_head, key, kind) in enumerate(COLUMNS):
            v = row.values.get(key)
            if v is None or v == "":
                ws.write_blank(r, c, None, fm["text"])
            elif kind == "text":
                ws.write_string(r, c, str(v), fm["wrap" if key == "withheld_reason" else "text"])
            elif kind == "int":
                ws.write_number(r, c, int(v), fm["int"])
            else:
                # Decimals with at most 2 places (4 for ratios) are shown exactly by these formats
                ws.write_number(r, c, float(v), fm[kind])
    r += 2
    ws.write_string(r, 0, "制表人：", f_note)
    ws.write_string(r, 5, "审核人：", f_note)
    ws.write_string(r, 10, "单位负责人：", f_note)

    ws.set_landscape()
    ws.set_paper(9)                   # A4
    ws.fit_to_pages(1, 0)             # one page wide, as many pages tall as needed
    ws.repeat_rows(header_row)        # the header row on every printed page
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.set_footer("&C第 &P 页，共 &N 页")
    ws.freeze_panes(header_row + 1, 0)
    ws.center_horizontally()
    wb.close()


def paysheet_csv_text(results: Mapping[str, Any]) -> str:
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\r\n")
    wr.writerow(["行类型"] + [h for h, _k, _t in COLUMNS])
    for row in paysheet_rows(results):
        out = [row.kind]
        for _h, key, kind in COLUMNS:
            v = row.values.get(key)
            if v is None:
                out.append("")
            elif kind == "text":
                out.append(csv_safe(v))
            elif kind in ("money",):
                out.append(str(v.quantize(Decimal("0.01"))))
            else:
                out.append(str(v))
        wr.writerow(out)
    return "\ufeff" + buf.getvalue()   # BOM: Chinese Excel opens UTF-8 CSV correctly only with it


def write_paysheet_csv(results: Mapping[str, Any], path: str | Path) -> None:
    Path(path).write_text(paysheet_csv_text(results), encoding="utf-8", newline="")


def write_tables_xlsx(path: str | Path, sheets: list[dict], *, author: str = "wangge") -> None:
    """A workbook of plain printable tables (e.g. the bulletin's ranking), same safety as the pay sheet.

    Each sheet: {"name", "title", "columns": [(header, kind, width)], "rows": [[...]]}; kind is
    text | int | money | score.  Text is always written as a string (never a formula); numbers
    come as decimal strings and are shown exactly by their formats.
    """
    wb = open_workbook(path, author=author)
    base = {"font_name": "宋体", "font_size": 10, "border": 1, "valign": "vcenter"}
    f_title = wb.add_format({"font_name": "黑体", "font_size": 14, "bold": True, "align": "center", "valign": "vcenter"})
    f_head = wb.add_format({**base, "bold": True, "align": "center", "text_wrap": True, "bg_color": "#D9D9D9"})
    fmt = {"text": wb.add_format(base), "int": wb.add_format({**base, "align": "center", "num_format": "0"}),
           "money": wb.add_format({**base, "num_format": "#,##0.00"}),
           "score": wb.add_format(base)}   # General: 92.5 and 100 as written
    for sheet in sheets:
        ws = wb.add_worksheet(sheet["name"][:31])
        cols = sheet["columns"]
        ws.merge_range(0, 0, 0, len(cols) - 1, sheet["title"], f_title)
        ws.set_row(0, 26)
        for c, (head, _kind, width) in enumerate(cols):
            ws.write_string(1, c, head, f_head)
            ws.set_column(c, c, width)
        for r, row in enumerate(sheet["rows"], start=2):
            for c, v in enumerate(row):
                kind = cols[c][1]
                if v is None or v == "":
                    ws.write_blank(r, c, None, fmt["text"])
                elif kind == "text":
                    ws.write_string(r, c, str(v), fmt["text"])
                elif kind == "int":
                    ws.write_number(r, c, int(v), fmt["int"])
                else:
                    ws.write_number(r, c, float(Decimal(str(v))), fmt[kind])
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(1)
        ws.freeze_panes(2, 0)
        ws.set_footer("&C第 &P 页，共 &N 页")
    wb.close()
