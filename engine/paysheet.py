"""The pay sheet for finance (绩效工资发放表): .xlsx to print and sign, CSV to import, bank export.

Built from one month's results.json (with period additions when `wangge run` applied them).
Rows go in the office's order (engine/ordering.py), grouped by town and community, with a
subtotal after each community, a total after each town and a grand total; every sum is a
Decimal sum of the fen amounts in results.json, written as a value (not a formula), and every
number is stored exactly as it is displayed (engine/sheets.py `exact`).

The printed workbook is what finance signs: one worksheet per town (and a 汇总 sheet when there
are several), rows 9 mm tall with a 本人签字 column, a fixed number of worker rows per printed
page each closed by 本页小计, the town's total with 合计（大写）, and the 制表人/审核人/单位负责人/
日期/盖章 line; landscape A4, one page wide, the title rows repeated on every page.

The band and ratio of each row are the ones the worker was paid by (results.json `band`; a
vetoed worker's band is the veto's, issue 11.1), so that 绩效基数 × 发放比例 = 绩效工资 on every row.
Names and other free text are always written as strings (engine/sheets.py): a worker called
`=HYPERLINK("x")` stays text.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from .ordering import OfficeOrder
from .rmb import rmb_upper
from .scoring import VETO_BAND, veto_band
from .sheets import ROUNDING_NOTE, csv_safe, exact, open_workbook

__all__ = ["COLUMNS", "PayRow", "Page", "TownSheet", "paysheet_rows", "town_sheets", "paid_band",
           "write_paysheet", "write_paysheet_xlsx", "write_paysheet_csv", "write_tables_xlsx", "write_bank_xlsx", "sheet_name",
           "SIGN_LINE"]

ZERO = Decimal("0.00")

# (header, key, kind) in sheet order; kind decides the cell format.
COLUMNS = (
    ("序号", "seq", "int"), ("工号", "worker_id", "text"), ("姓名", "name", "text"), ("乡镇（街道）", "town", "text"),
    ("社区（村）", "community", "text"), ("网格", "grid", "text"), ("月工资", "wage", "money"),
    ("绩效基数", "performance_base", "money"), ("考核得分", "score", "score"), ("档次", "band", "text"),
    ("发放比例", "ratio", "ratio"), ("绩效工资", "pay", "money"), ("扣发金额", "withheld", "money"),
    ("扣发原因", "withheld_reason", "text"), ("实发绩效工资", "payable", "money"),
)
SIGN_COLUMN = ("本人签字", "sign", "text")
_MONEY = ("wage", "performance_base", "pay", "withheld", "payable")
_WIDTHS = {"seq": 5, "worker_id": 8, "name": 8, "town": 10, "community": 11, "grid": 8, "wage": 10,
           "performance_base": 10, "score": 7, "band": 9, "ratio": 7, "pay": 10, "withheld": 9,
           "withheld_reason": 30, "payable": 11, "sign": 14}
ROW_MM = 9                       # a signature row: 8-10 mm is what a pen needs
SIGN_LINE = ("制表人：", "审核人：", "单位负责人：", "日期：　　年　　月　　日", "（盖章）")
TAIL_ROWS = 3                    # a town's last page also holds its total, 合计（大写） and the signature line


@dataclass
class PayRow:
    kind: str                  # 明细 | 社区小计 | 乡镇合计 | 总计 | 本页小计
    values: dict


def _dec(v: Any) -> Decimal:
    if v.__class__ is str:       # results.json's amounts: few distinct texts in a province's sheet
        d = _DECIMALS.get(v)
        if d is None:
            if len(_DECIMALS) >= 100_000:
                _DECIMALS.clear()
            d = _DECIMALS[v] = Decimal(v) if v else ZERO
        return d
    return Decimal(str(v)) if v is not None else ZERO


_DECIMALS: dict[str, Decimal] = {}


def paid_band(w: Mapping[str, Any]) -> dict:
    """The band a worker was paid by: results.json's `band`.  A month stored before the band
    named the veto (issue 11.1) gets the same answer as one scored now."""
    band = dict(w.get("band") or {})
    vetoes = [v for v in w.get("vetoes") or [] if v.get("effect", {}).get("fail", True)
              or v.get("effect", {}).get("pay", "withhold") == "withhold"]
    if not band or band.get("id") == VETO_BAND or not vetoes:
        return band
    withhold = any(v.get("effect", {}).get("pay", "withhold") == "withhold" for v in vetoes)
    return veto_band(vetoes, band, _dec(w.get("pay_ratio")) if w.get("pay_ratio") is not None else ZERO, withhold)


def _reason(w: Mapping[str, Any], band: Mapping[str, Any]) -> str:
    """Why the pay on this row is less than base x the score's ratio: the veto, then each withholding."""
    parts = [band["reason"]] if band.get("reason") else []
    parts += [f"{f['rule_label']}：{f['reason']}（{f['amount']}元）"
              for f in w.get("period_findings", []) if _dec(f.get("amount")) > 0]
    return "；".join(parts)


def _detail(seq: int, w: Mapping[str, Any]) -> dict:
    band = paid_band(w)
    ratio = w.get("pay_ratio") if w.get("pay_ratio") is not None else band.get("ratio")
    return {
        "seq": seq, "worker_id": w["worker_id"], "name": w.get("name", ""), "town": w.get("town") or "",
        "community": w.get("community") or "", "grid": w.get("grid") or "", "wage": _dec(w.get("wage")),
        "performance_base": _dec(w.get("performance_base")), "score": _dec(w.get("score")),
        "band": band.get("label", ""), "ratio": _dec(ratio) if ratio is not None else None,
        "pay": _dec(w.get("pay")), "withheld": _dec(w.get("withheld", "0")),
        "withheld_reason": _reason(w, band),
        "payable": _dec(w["payable"]) if "payable" in w else _dec(w.get("pay")),
        "vetoed": band.get("id") == "veto",
    }


def _total(kind: str, label: str, members: list[dict], count: int | None = None) -> PayRow:
    """A total row of `members`: worker rows, or (with `count`, the workers they hold) total rows
    (exact decimals: a sum of subtotals is the sum of their rows)."""
    count = len(members) if count is None else count
    vals = {k: sum([m[k] for m in members], ZERO) for k in _MONEY}
    vals.update(seq=None, worker_id="", name=f"{count}人", town=label, community="", grid="", score=None,
                band="", ratio=None, withheld_reason="", count=count)
    if kind in ("社区小计", "本页小计"):
        vals["town"], vals["community"] = "", label
    return PayRow(kind, vals)


def _order(results: Mapping[str, Any], order: OfficeOrder | None) -> OfficeOrder:
    return order if order is not None else OfficeOrder(results["workers"])


def paysheet_rows(results: Mapping[str, Any], order: OfficeOrder | None = None) -> list[PayRow]:
    """Worker rows in the office's order (towns and communities as the register or the settings
    list them, grids in natural order), with community, town and grand totals."""
    order = _order(results, order)
    workers = order.sorted(results["workers"])
    rows: list[PayRow] = []
    comm_members: list[dict] = []
    town_parts: list[dict] = []          # the town's community subtotals so far
    towns: list[dict] = []               # each town's total
    for i, w in enumerate(workers):
        vals = _detail(i + 1, w)
        rows.append(PayRow("明细", vals))
        comm_members.append(vals)
        nxt = workers[i + 1] if i + 1 < len(workers) else None
        same_town = nxt is not None and (nxt.get("town") or "") == vals["town"]
        if not same_town or (nxt.get("community") or "") != vals["community"]:
            sub = _total("社区小计", f"{vals['community'] or '（未填社区）'}小计", comm_members)
            rows.append(sub)
            town_parts.append(sub.values)
            comm_members = []
        if not same_town:
            total = _total("乡镇合计", f"{vals['town'] or '（未填乡镇）'}合计", town_parts,
                           sum(p["count"] for p in town_parts))
            rows.append(total)
            towns.append(total.values)
            town_parts = []
    rows.append(_total("总计", "总计", towns, len(workers)))
    return rows


# --------------------------------------------------------------------------- printed pages


@dataclass
class Page:
    rows: list[PayRow]             # worker rows and community subtotals on this printed page
    subtotal: PayRow               # 本页小计: the worker rows of this page
    last: bool = False             # the town's last page: its total, 合计（大写） and signatures follow


@dataclass
class TownSheet:
    town: str
    pages: list[Page]
    total: PayRow                  # 乡镇合计
    upper: str                     # 合计（大写） of the amount actually paid (实发)
    details: list[PayRow] = field(default_factory=list)


def _paginate(lines: list[PayRow], capacity: float, weight: Callable[[PayRow], float]) -> list[list[PayRow]]:
    """Cut a town's lines into pages of at most `capacity` (in rows); the last page keeps room
    for the town's total, 合计（大写） and the signature line."""
    pages: list[list[PayRow]] = [[]]
    used = 0.0
    for line in lines:
        w = weight(line)
        if pages[-1] and used + w > capacity:
            pages.append([])
            used = 0.0
        pages[-1].append(line)
        used += w
    last = pages[-1]
    if used > capacity - TAIL_ROWS:
        # the total and the signatures do not fit under these rows: the rows from the last
        # worker on go to a page of their own (with its 本页小计, as every page)
        cut = max(i for i, line in enumerate(last) if line.kind == "明细")
        if cut > 0:
            pages[-1:] = [last[:cut], last[cut:]]
    return pages


def town_sheets(results: Mapping[str, Any], order: OfficeOrder | None = None, *, rows_per_page: int = 14,
                weight: Callable[[PayRow], float] | None = None,
                rows: list[PayRow] | None = None) -> tuple[list[TownSheet], PayRow]:
    """Each town's printed pages (worker rows and community subtotals, 本页小计 per page) and
    total, and the grand total.  `weight` is how many rows a line takes on paper (1 by default);
    `rows`: paysheet_rows(results, order) when the caller has them already."""
    rows = paysheet_rows(results, order) if rows is None else rows
    weight = weight or (lambda r: 1.0)
    towns: list[TownSheet] = []
    lines: list[PayRow] = []
    for r in rows:
        if r.kind in ("明细", "社区小计"):
            lines.append(r)
        elif r.kind == "乡镇合计":
            details = [x for x in lines if x.kind == "明细"]
            pages = []
            for chunk in _paginate(lines, rows_per_page, weight):
                members = [x.values for x in chunk if x.kind == "明细"]
                pages.append(Page(chunk, _total("本页小计", "本页小计", members)))
            pages[-1].last = True
            towns.append(TownSheet(details[0].values["town"] if details else "", pages, r,
                                   rmb_upper(r.values["payable"]), details))
            lines = []
    return towns, rows[-1]


def sheet_name(town: str, taken: set[str]) -> str:
    """A worksheet name for a town: Excel forbids []:*?/\\ and more than 31 characters; unique."""
    base = "".join("_" if ch in "[]:*?/\\" else ch for ch in town).strip("'") or "未填乡镇"
    base = base[:31]
    name, k = base, 2
    while name.lower() in taken:
        suffix = f"({k})"
        name, k = base[:31 - len(suffix)] + suffix, k + 1
    taken.add(name.lower())
    return name


def _title(results: Mapping[str, Any]) -> str:
    m = results["month"]
    return f"{int(m[:4])}年{int(m[5:7])}月网格员绩效工资发放表"


def _subtitle(results: Mapping[str, Any], show_version: bool = True) -> str:
    pol = results.get("policy") or {}
    text = f"考核细则：《{pol.get('name', '')}》" + (f"（{pol['version']}）" if show_version and pol.get("version") else "")
    if results.get("period_rules_applied"):
        text += "；已计入跨月规则扣发"
    return text


class _Formats:
    """The workbook's cell formats: body rows and shaded total rows."""

    def __init__(self, wb, ratio_places: int):
        base = {"font_name": "宋体", "font_size": 10, "border": 1, "valign": "vcenter"}
        self.title = wb.add_format({"font_name": "黑体", "font_size": 16, "bold": True, "align": "center",
                                    "valign": "vcenter"})
        self.note = wb.add_format({"font_name": "宋体", "font_size": 10, "valign": "vcenter"})
        self.right = wb.add_format({"font_name": "宋体", "font_size": 10, "align": "right", "valign": "vcenter"})
        self.head = wb.add_format({**base, "bold": True, "align": "center", "text_wrap": True, "bg_color": "#D9D9D9"})
        self.upper = wb.add_format({**base, "bold": True, "font_size": 11})
        ratio = "0%" if ratio_places == 0 else "0." + "0" * ratio_places + "%"
        self.cells = {}
        for bold in (False, True):
            extra = {"bold": True, "bg_color": "#F2F2F2"} if bold else {}
            self.cells[bold] = {
                "text": wb.add_format({**base, **extra}),
                "wrap": wb.add_format({**base, **extra, "text_wrap": True, "font_size": 8}),
                "int": wb.add_format({**base, **extra, "align": "center", "num_format": "0"}),
                "money": wb.add_format({**base, **extra, "num_format": "#,##0.00"}),
                "ratio": wb.add_format({**base, **extra, "num_format": ratio}),
                **_score_formats(wb, {**base, **extra}),
            }


def _score_formats(wb, base: dict) -> dict:
    """Two decimals for scores; 3 or 4 for the rare score that has them (a policy's points may
    have 4), so that the display never rounds what is stored."""
    return {"score" + ("" if k == 2 else str(k)): wb.add_format({**base, "num_format": "0." + "0" * k})
            for k in (2, 3, 4)}


def _number(v: Any, kind: str, fm: Mapping[str, Any]) -> tuple[float, Any]:
    """The exact value to store and its format (money: fen; scores: as many decimals as they have)."""
    places = max(2, -Decimal(str(v)).as_tuple().exponent)
    key = kind if kind != "score" or places == 2 else f"score{places}"
    return exact(v, places), fm[key]


def _ratio_places(rows: Iterable[PayRow]) -> int:
    """Decimals a percentage needs: 0 for 90%, 2 for 87.5% (ratios are stored exactly)."""
    places = 0
    for r in rows:
        v = r.values.get("ratio")
        if v is not None:
            exp = -(v * 100).normalize().as_tuple().exponent
            places = max(places, exp)
    return min(places, 4)


def _write_cells(ws, r: int, columns, values: Mapping[str, Any], fm: Mapping[str, Any],
                 numbers: dict | None = None) -> None:
    """One row of cells; `numbers` remembers each distinct amount's cell value and format over a
    sheet (a province's sheet has 1.5 million cells and few distinct wages, bases and ratios)."""
    numbers = {} if numbers is None else numbers
    fid, text, wrap, whole = id(fm), fm["text"], fm["wrap"], fm["int"]
    cells = []
    add = cells.append
    for _head, key, kind in columns:
        v = values.get(key)
        if v is None or (v.__class__ is str and not v):      # (Decimal == "" is slow)
            add((None, text))
        elif kind == "text":
            add((str(v), wrap if key == "withheld_reason" else text))
        elif kind == "int":
            add((int(v), whole))
        else:
            got = numbers.get((kind, str(v), fid))      # (90.000 is not 90.00: a score's decimals show)
            if got is None:
                got = numbers[(kind, str(v), fid)] = (exact(v, 4), fm["ratio"]) if kind == "ratio" \
                    else _number(v, kind, fm)
            add(got)
    ws.write_cells(r, cells)


def _page_setup(ws, repeat_to: int, last_col: int) -> None:
    ws.set_landscape()
    ws.set_paper(9)                   # A4
    ws.fit_to_pages(1, 0)             # one page wide, as many pages tall as needed
    ws.repeat_rows(0, repeat_to)      # the title, unit line and header on every printed page
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    ws.set_footer("&C第 &P 页，共 &N 页")
    ws.freeze_panes(repeat_to + 1, 0)
    ws.center_horizontally()


def _head(ws, f: _Formats, columns, title: str, left: str, right: str) -> int:
    last = len(columns) - 1
    ws.merge_range(0, 0, 0, last, title, f.title)
    ws.set_row(0, 30)
    ws.merge_range(1, 0, 1, last - 3, left, f.note)
    ws.merge_range(1, last - 2, 1, last, right, f.right)
    ws.set_row(1, 20)
    for c, (head, key, _kind) in enumerate(columns):
        ws.write_string(2, c, head, f.head)
        ws.set_column(c, c, _WIDTHS.get(key, 10))
    ws.set_row(2, 30)
    return 2


def _sign_rows(ws, f: _Formats, r: int, last: int, prepared_by: str = "", checked_by: str = "") -> int:
    """The rounding rule, then 制表人/审核人/单位负责人/日期/盖章 on one line, room to sign."""
    ws.merge_range(r, 0, r, last, ROUNDING_NOTE, f.note)
    r += 1
    ws.set_row(r, 36)
    spans = [(0, 2), (3, 5), (6, 9), (10, 13), (14, last)]
    texts = (SIGN_LINE[0] + prepared_by, SIGN_LINE[1] + checked_by) + SIGN_LINE[2:]
    for (a, b), text in zip(spans, texts):
        if b > a:
            ws.merge_range(r, a, r, min(b, last), text, f.note)
        else:
            ws.write_string(r, a, text, f.note)
    return r


def write_paysheet_xlsx(results: Mapping[str, Any], path: str | Path, *, unit: str = "",
                        order: OfficeOrder | None = None, rows_per_page: int = 14, prepared_by: str = "",
                        checked_by: str = "", show_version: bool = True, rows: list[PayRow] | None = None) -> None:
    """The workbook finance prints and has signed: a worksheet per town (and 汇总 for several).
    `rows`: paysheet_rows(results, order) when the caller has them already (the CSV needs them too)."""
    towns, grand = town_sheets(results, order, rows_per_page=rows_per_page, rows=rows)
    columns = COLUMNS + (SIGN_COLUMN,)
    last = len(columns) - 1
    title = _title(results)
    left = f"填报单位：{unit or '　' * 12}　{_subtitle(results, show_version)}"
    wb = open_workbook(path, title=title, author=unit, constant_memory=True)
    f = _Formats(wb, _ratio_places(r for t in towns for r in t.details))
    taken: set[str] = set()
    numbers: dict = {}
    if len(towns) > 1:
        _write_summary(wb, f, towns, grand, title, left, sheet_name("汇总", taken), prepared_by, checked_by)
    for t in towns:
        ws = wb.add_worksheet(sheet_name(t.town, taken))
        head = _head(ws, f, columns, title, left, f"乡镇（街道）：{t.town}　单位：元")
        r, breaks = head, []
        for page in t.pages:
            for row in page.rows:
                r += 1
                ws.set_row(r, ROW_MM / 25.4 * 72)
                _write_cells(ws, r, columns, row.values, f.cells[row.kind != "明细"], numbers)
            r += 1
            ws.set_row(r, 22)
            _write_cells(ws, r, columns, page.subtotal.values, f.cells[True], numbers)
            if page.last:
                r += 1
                ws.set_row(r, 22)
                _write_cells(ws, r, columns, t.total.values, f.cells[True], numbers)
                r += 1
                ws.set_row(r, 24)
                ws.merge_range(r, 0, r, last, f"{t.town}合计（大写）：人民币{t.upper}", f.upper)
                r = _sign_rows(ws, f, r + 1, last, prepared_by, checked_by)
            else:
                breaks.append(r + 1)
        ws.set_h_pagebreaks(breaks)
        _page_setup(ws, head, last)
    wb.close()


def _write_summary(wb, f: _Formats, towns: list[TownSheet], grand: PayRow, title: str, left: str, name: str,
                   prepared_by: str, checked_by: str) -> None:
    columns = (("序号", "seq", "int"), ("乡镇（街道）", "town", "text"), ("人数", "count", "int"),
               ("月工资", "wage", "money"), ("绩效基数", "performance_base", "money"), ("绩效工资", "pay", "money"),
               ("扣发金额", "withheld", "money"), ("实发绩效工资", "payable", "money"), ("签收人", "sign", "text"))
    ws = wb.add_worksheet(name)
    last = len(columns) - 1
    ws.merge_range(0, 0, 0, last, title + "（汇总）", f.title)
    ws.set_row(0, 30)
    ws.merge_range(1, 0, 1, last - 2, left, f.note)
    ws.merge_range(1, last - 1, 1, last, "单位：元", f.right)
    for c, (head, key, _kind) in enumerate(columns):
        ws.write_string(2, c, head, f.head)
        ws.set_column(c, c, {"seq": 6, "town": 16, "count": 8, "sign": 16}.get(key, 14))
    ws.set_row(2, 30)
    r = 2
    for i, t in enumerate(towns, 1):
        r += 1
        ws.set_row(r, ROW_MM / 25.4 * 72)
        _write_cells(ws, r, columns, {**t.total.values, "seq": i, "town": t.town}, f.cells[False])
    r += 1
    _write_cells(ws, r, columns, {**grand.values, "town": "总计"}, f.cells[True])
    r += 1
    ws.set_row(r, 24)
    ws.merge_range(r, 0, r, last, f"总计（大写）：人民币{rmb_upper(grand.values['payable'])}", f.upper)
    r += 1
    ws.merge_range(r, 0, r, last, ROUNDING_NOTE, f.note)
    r += 1
    ws.set_row(r, 36)
    ws.merge_range(r, 0, r, 1, SIGN_LINE[0] + prepared_by, f.note)
    ws.merge_range(r, 2, r, 3, SIGN_LINE[1] + checked_by, f.note)
    ws.merge_range(r, 4, r, 5, SIGN_LINE[2], f.note)
    ws.merge_range(r, 6, r, 7, SIGN_LINE[3], f.note)
    ws.write_string(r, 8, SIGN_LINE[4], f.note)
    _page_setup(ws, 2, last)


def paysheet_csv_text(results: Mapping[str, Any], order: OfficeOrder | None = None, *,
                      rows: list[PayRow] | None = None) -> str:
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\r\n")
    wr.writerow(["行类型"] + [h for h, _k, _t in COLUMNS])
    cent = Decimal("0.01")
    money: dict[Decimal, str] = {}         # each distinct amount's text, worked out once
    for row in paysheet_rows(results, order) if rows is None else rows:
        out = [row.kind]
        add = out.append
        get = row.values.get
        for _h, key, kind in COLUMNS:
            v = get(key)
            if v is None:
                add("")
            elif kind == "text":
                add(csv_safe(v))
            elif kind == "money":
                # (90 and 90.00 are one key: both quantize to 90.00; a zero by its text: -0 is not 0)
                k = v if v else str(v)
                t = money.get(k)
                add(t if t is not None else money.setdefault(k, str(v.quantize(cent))))
            else:
                add(str(v))
        wr.writerow(out)
    return "\ufeff" + buf.getvalue()   # BOM: Chinese Excel opens UTF-8 CSV correctly only with it


def write_paysheet_csv(results: Mapping[str, Any], path: str | Path, order: OfficeOrder | None = None, *,
                       rows: list[PayRow] | None = None) -> None:
    Path(path).write_text(paysheet_csv_text(results, order, rows=rows), encoding="utf-8", newline="")


def write_paysheet(results: Mapping[str, Any], folder: Path, *, unit: str = "",
                   rows: list[PayRow] | None = None) -> list[str]:
    """paysheet.xlsx and paysheet.csv of a month into `folder`, its rows put in order once
    (`rows`: paysheet_rows(results) when the caller has them already)."""
    rows = paysheet_rows(results) if rows is None else rows
    write_paysheet_xlsx(results, folder / "paysheet.xlsx", unit=unit, rows=rows)
    write_paysheet_csv(results, folder / "paysheet.csv", rows=rows)
    return ["paysheet.xlsx", "paysheet.csv"]


# --------------------------------------------------------------------------- bank transfer (代发)


BANK_COLUMNS = (("序号", "seq", "int"), ("姓名", "name", "text"), ("身份证号", "id_number", "text"),
                ("开户银行", "bank", "text"), ("银行账号", "account", "text"), ("金额", "payable", "money"),
                ("工号", "worker_id", "text"), ("乡镇（街道）", "town", "text"), ("社区（村）", "community", "text"))


def write_bank_xlsx(results: Mapping[str, Any], accounts: Mapping[str, Mapping[str, str]], path: str | Path, *,
                    unit: str = "", order: OfficeOrder | None = None) -> list[str]:
    """The bank transfer list (代发) for finance: one row per worker with an amount to pay, the
    account in full (this file is finance's only); returns the ids of workers paid something who
    have no account in the register (the caller says so).  Accounts are text, never numbers: a
    19-digit card number as a number loses its last digits."""
    rows, missing = [], []
    for w in _order(results, order).sorted(results["workers"]):
        amount = _dec(w["payable"]) if "payable" in w else _dec(w.get("pay"))
        if amount <= 0:
            continue
        acc = accounts.get(w["worker_id"]) or {}
        if not acc.get("account"):
            missing.append(w["worker_id"])
        rows.append({"seq": len(rows) + 1, "name": w.get("name", ""), "id_number": acc.get("id_number", ""),
                     "bank": acc.get("bank", ""), "account": acc.get("account", ""), "payable": amount,
                     "worker_id": w["worker_id"], "town": w.get("town") or "", "community": w.get("community") or ""})
    total = sum((r["payable"] for r in rows), ZERO)
    title = _title(results).replace("发放表", "代发清单")
    wb = open_workbook(path, title=title, author=unit)
    f = _Formats(wb, 0)
    ws = wb.add_worksheet("代发清单")
    last = len(BANK_COLUMNS) - 1
    ws.merge_range(0, 0, 0, last, title, f.title)
    ws.merge_range(1, 0, 1, last - 2, f"付款单位：{unit or '　' * 12}　共{len(rows)}笔", f.note)
    ws.merge_range(1, last - 1, 1, last, "单位：元", f.right)
    widths = {"seq": 6, "name": 10, "id_number": 21, "bank": 22, "account": 24, "payable": 12, "worker_id": 9,
              "town": 12, "community": 12}
    for c, (head, key, _kind) in enumerate(BANK_COLUMNS):
        ws.write_string(2, c, head, f.head)
        ws.set_column(c, c, widths[key])
    r = 2
    for row in rows:
        r += 1
        _write_cells(ws, r, BANK_COLUMNS, row, f.cells[False])
    r += 1
    _write_cells(ws, r, BANK_COLUMNS, {"name": f"合计{len(rows)}笔", "payable": total}, f.cells[True])
    r += 1
    ws.merge_range(r, 0, r, last, f"合计（大写）：人民币{rmb_upper(total)}", f.upper)
    r += 1
    ws.merge_range(r, 0, r, last, ROUNDING_NOTE, f.note)
    _page_setup(ws, 2, last)
    wb.close()
    return missing


# --------------------------------------------------------------------------- plain tables


def write_tables_xlsx(path: str | Path, sheets: list[dict], *, author: str = "wangge") -> None:
    """A workbook of plain printable tables (e.g. the bulletin's ranking), same safety as the pay sheet.

    Each sheet: {"name", "title", "columns": [(header, kind, width)], "rows": [[...]], "note"}; kind
    is text | int | money | score.  Text is always written as a string (never a formula); money
    and scores are stored exactly as their two-decimal display, and each sheet says so.
    """
    wb = open_workbook(path, author=author)
    base = {"font_name": "宋体", "font_size": 10, "border": 1, "valign": "vcenter"}
    f_title = wb.add_format({"font_name": "黑体", "font_size": 14, "bold": True, "align": "center", "valign": "vcenter"})
    f_head = wb.add_format({**base, "bold": True, "align": "center", "text_wrap": True, "bg_color": "#D9D9D9"})
    f_note = wb.add_format({"font_name": "宋体", "font_size": 9})
    fmt = {"text": wb.add_format(base), "int": wb.add_format({**base, "align": "center", "num_format": "0"}),
           "money": wb.add_format({**base, "num_format": "#,##0.00"}), **_score_formats(wb, base)}
    taken: set[str] = set()
    for sheet in sheets:
        ws = wb.add_worksheet(sheet_name(sheet["name"], taken))
        cols = sheet["columns"]
        ws.merge_range(0, 0, 0, len(cols) - 1, sheet["title"], f_title)
        ws.set_row(0, 26)
        for c, (head, _kind, width) in enumerate(cols):
            ws.write_string(1, c, head, f_head)
            ws.set_column(c, c, width)
        r = 1
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
                    ws.write_number(r, c, *_number(v, kind, fmt))
        ws.write_string(r + 2, 0, sheet.get("note") or ROUNDING_NOTE, f_note)
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(0, 1)
        ws.freeze_panes(2, 0)
        ws.set_footer("&C第 &P 页，共 &N 页")
    wb.close()
