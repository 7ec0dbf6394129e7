"""The 更正通知: the notice an office issues when an appeal (申诉) is upheld and a month is scored again.

`correction_context` says, in the office's words, whose appeal it was and why, which input values
were corrected (no file names or row numbers: those stay in the audit log), the worker's score, band
and pay before and after, and every consequence in this and later months that appeared or
disappeared because of it (engine/changes.py's report of the correction).  `render_correction`
renders reports/correction.html.j2 (sandboxed, in the 公文 frame) to HTML and PDF in a staging folder.
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Mapping

from ..errors import TemplateError
from ..periods import month_label
from .pack import _office, _pdfs, stylesheets, template_set
from .settings import OfficeSettings
from .wording import money_text, tidy

__all__ = ["correction_context", "render_correction", "TEMPLATE", "FILE_STEM"]

TEMPLATE = "correction.html.j2"
FILE_STEM = "考核结果更正通知"


def _d(v: Any) -> Decimal:
    return Decimal(str(v)) if v not in (None, "") else Decimal("0.00")


def _change_line(c: Mapping[str, Any]) -> str:
    if c.get("column") == "（新增一行）":
        return f"{c['file']}补录一条：{c['after']}"
    if c.get("after") == "（删除）":
        return f"{c['file']}删除一条：{c['before']}"
    where = f"{c['file']}中事件{c['record']}" if c.get("record") else f"{c['file']}中"
    return f"{where}的“{c['column']}”由“{c['before'] or '空白'}”更正为“{c['after'] or '空白'}”"


def _delta_text(delta: Decimal) -> str:
    if delta > 0:
        return f"增加{money_text(delta)}元"
    if delta < 0:
        return f"减少{money_text(-delta)}元"
    return "金额不变"


def _score_line(s: Mapping[str, Any]) -> str:
    band = (f"档次由“{s['old_band']}”更正为“{s['new_band']}”" if s.get("old_band") != s.get("new_band")
            else f"档次仍为“{s.get('new_band') or ''}”")
    return (f"{s.get('name', '')}：得分由{s['old_score']}分更正为{s['new_score']}分，{band}，绩效工资由"
            f"{money_text(s['old_pay'])}元更正为{money_text(s['new_pay'])}元（{_delta_text(_d(s['new_pay']) - _d(s['old_pay']))}）。")


def _consequence_line(c: Mapping[str, Any], names: Mapping[str, str]) -> str:
    who = names.get(c["worker_id"], c["worker_id"])
    when = f"{who}{month_label(c['month'])}"
    if c["change"] == "出现":
        money = f"，扣发{money_text(c['amount'])}元" if _d(c.get("amount")) > 0 else ""
        return f"{when}新增“{c['rule_label']}”{money}：{c['reason']}"
    if _d(c.get("amount")) > 0:
        return f"{when}因“{c['rule_label']}”扣发的{money_text(c['amount'])}元予以撤销。"
    return f"{when}的“{c['rule_label']}”予以撤销。"


def correction_context(case: Mapping[str, Any], settings: OfficeSettings, office: dict) -> dict:
    """`case`: month, worker {worker_id, name, town, community, grid}, reason, changes [...], and the
    correction's report: score_changes, consequence_changes, pay_changes, names {worker_id: name}."""
    month = case["month"]
    w = case["worker"]
    names = dict(case.get("names") or {})
    names.setdefault(w["worker_id"], w.get("name", ""))
    where = f"{w.get('town') or ''}{w.get('community') or ''}"
    grid = f"（{w['grid']}网格）" if w.get("grid") else ""
    reason = tidy(str(case.get("reason") or "").strip().rstrip("。；;."))
    intro = tidy(f"{where}网格员{w.get('name', '')}{grid}对{month_label(month)}考核结果提出申诉：{reason}。"
                 "经核实，申诉理由成立。现将更正情况通知如下。")
    sections = [{"heading": "更正的考核数据",
                 "lines": [tidy(f"{i}.{_change_line(c)}。") for i, c in enumerate(case.get("changes") or [], 1)]
                 or ["无。"]}]
    scores = [dict(s, name=names.get(s["worker_id"], s.get("name", ""))) for s in case.get("score_changes") or []]
    sections.append({"heading": "更正后的考核结果",
                     "lines": [tidy(_score_line(s)) for s in scores]
                     or [tidy(f"{w.get('name', '')}{month_label(month)}的得分、档次和绩效工资不变。")]})
    later = [tidy(_consequence_line(c, names)) for c in case.get("consequence_changes") or []]
    pays = [tidy(f"{names.get(p['worker_id'], p['worker_id'])}{month_label(p['month'])}实发绩效工资由"
                 f"{money_text(p['old_payable'])}元更正为{money_text(p['new_payable'])}元"
                 f"（{_delta_text(_d(p['new_payable']) - _d(p['old_payable']))}）。")
            for p in case.get("pay_changes") or [] if p["month"] != month or not any(
                s["worker_id"] == p["worker_id"] for s in scores)]
    sections.append({"heading": "跨月考核结果的变化",
                     "lines": later + pays or ["本次更正不影响跨月考核结果（排名末位、扣发、等次等）。"]})
    return {"office": office, "title": f"关于更正{month_label(month)}网格员考核结果的通知",
            "month": {"id": month, "label": month_label(month)}, "intro": intro, "sections": sections,
            "closing": "更正后的考核结果以本通知为准，绩效工资按更正后的结果核发。"}


def render_correction(case: Mapping[str, Any], settings: OfficeSettings, stage: Path, *, number: Mapping | None,
                      date: str, formats: set[str] | None = None,
                      progress: Callable[[int, int], None] | None = None) -> tuple[list[str], list[str]]:
    """考核结果更正通知.html/.pdf into `stage` (a folder the caller commits), and notes on the fonts used.
    `number` None: a draft (送审稿, no number); else {text, date} of the number issued for it."""
    from .pdf import check_fonts

    formats = formats or {"html", "pdf"}
    office = _office(settings, number, date, None if number else "送审稿")
    ctx = correction_context(case, settings, office)
    tset = template_set(settings)
    tset.check([TEMPLATE])
    notes = check_fonts(stylesheets(tset, [TEMPLATE])) if "pdf" in formats else []
    html = tset.render(TEMPLATE, ctx)
    files = []
    total = ("html" in formats) + ("pdf" in formats)
    if "html" in formats:
        (stage / f"{FILE_STEM}.html").write_text(html, encoding="utf-8")
        files.append(f"{FILE_STEM}.html")
        if progress:
            progress(len(files), total)
    if "pdf" in formats:
        roots = [str(d) for d in tset.dirs]
        for path, pages, problem in _pdfs([(html, str(stage / f"{FILE_STEM}.pdf"), True, tset.path_of(TEMPLATE))], 1,
                                          roots, settings.render_time_limit):
            if problem is not None:
                raise TemplateError([problem])
            files.append(Path(path).name)
            if progress:
                progress(len(files), total)
    return files, notes
