"""The month's print pack: which documents, their numbers, and rendering them into a folder.

`build_pack` renders every wanted document to HTML (Jinja, sandboxed), then PDF (WeasyPrint,
in parallel processes), .docx for the notices staff edit (docxtpl) and .xlsx where a table is
the point.  It writes only into the staging folder it is given; the caller moves the files into
place after recording the document numbers, so a failed or killed run leaves the previous
pack and the number register as they were.
"""
from __future__ import annotations

import os
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Mapping

from ..errors import TemplateError
from .context import (bulletin_context, commended, commendation_context, criticised, criticism_context,
                      office_context, paysheet_context, register_context, roster_context, slips_context)
from .context import text_width
from .render import TemplateSet, cn_date
from .settings import DOCUMENTS, OfficeSettings

__all__ = ["PackRequest", "Pack", "REPORTS_DIR", "NUMBERED", "wanted_documents", "plan_numbers", "build_pack",
           "parse_only", "is_pack_file"]

REPORTS_DIR = Path(__file__).resolve().parents[2] / "reports"
NUMBERED = ("bulletin", "criticism", "commendation")          # 公文 with a 发文字号, in numbering order
FILE_STEMS = {"bulletin": "考核通报", "criticism": "通报批评", "commendation": "通报表彰", "slips": "考核结果通知单",
              "paysheet": "绩效工资发放表-签字版", "roster": "巡查排班表", "boards": "网格公示牌", "cards": "服务联系卡"}
PER_TOWN = ("slips", "roster", "boards", "cards")              # one file per town: what a town office prints
DOCX = {"bulletin": "docx/bulletin.docx", "criticism": "docx/criticism.docx", "commendation": "docx/commendation.docx"}
FORMATS = ("html", "pdf", "docx", "xlsx")
TEXT_BLOCK_PT = 442.2                                          # 156 mm, the width of the red header line


@dataclass
class PackRequest:
    results: Mapping[str, Any]
    settings: OfficeSettings
    roster: Mapping[str, Any] | None = None
    register: list[Mapping[str, Any]] | None = None
    only: set[str] | None = None
    formats: set[str] | None = None       # None: all of FORMATS
    jobs: int = 2

    def __post_init__(self) -> None:
        if self.formats is None:
            self.formats = set(FORMATS)


@dataclass
class Pack:
    files: list[str] = field(default_factory=list)
    pages: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    numbers: dict[str, dict] = field(default_factory=dict)    # kind -> {year, number, text, date}


def is_pack_file(path: Path) -> bool:
    """Whether a file in an output folder is one of the print pack's own (replaced as a set)."""
    return path.suffix in (".html", ".pdf", ".docx", ".xlsx") and (
        path.name == "考核排名.xlsx" or any(path.stem == s or path.stem.startswith(s + "-") for s in FILE_STEMS.values()))


def parse_only(text: str | None) -> set[str] | None:
    """'bulletin,slips' -> {'bulletin', 'slips'}; unknown keys are an error naming the valid ones."""
    if not text:
        return None
    keys = {k.strip() for k in re.split(r"[,，、\s]+", text) if k.strip()}
    bad = sorted(keys - set(DOCUMENTS))
    if bad:
        from ..errors import Problem
        raise TemplateError([Problem("命令行 --only", None, "--only", "、".join(bad),
                                     "以下之一：" + "、".join(f"{k}（{v}）" for k, v in DOCUMENTS.items()))])
    return keys


def wanted_documents(req: PackRequest) -> tuple[list[str], list[str]]:
    """The documents to make, and for each one left out, why (in Chinese)."""
    kinds, skipped = [], []
    for kind in DOCUMENTS:
        if req.only is not None and kind not in req.only:
            continue
        label = DOCUMENTS[kind]
        if kind == "criticism" and not criticised(req.results, req.settings):
            skipped.append(f"{label}：本月没有应予通报批评的网格员")
        elif kind == "commendation" and not commended(req.results, req.settings):
            skipped.append(f"{label}：本月没有应予通报表彰的网格员")
        elif kind == "roster" and req.roster is None:
            skipped.append(f"{label}：未给出 --roster（wangge roster 的输出文件夹）")
        elif kind in ("boards", "cards") and req.register is None:
            skipped.append(f"{label}：未给出 --workers（网格员名册）")
        else:
            kinds.append(kind)
    return kinds, skipped


def plan_numbers(issued: Mapping[str, Mapping], last: int, settings: OfficeSettings, month: str,
                 kinds: list[str], date: str, *, date_fixed: bool = False) -> tuple[dict[str, dict], list[dict]]:
    """Numbers for the month's numbered notices: those issued before keep number and date (unless
    the date is fixed by --date or the settings), new ones continue the year's sequence.  Returns
    (kind -> number, rows to record).  `last` is the highest number of `date`'s year already issued."""
    prefix = settings.document_number.prefix
    out, new = {}, []
    nxt = max(last, settings.document_number.start - 1)
    for kind in NUMBERED:
        if kind not in kinds:
            continue
        if kind in issued:
            year, number, issued_on = issued[kind]["year"], issued[kind]["number"], issued[kind]["issued_on"]
        else:
            nxt += 1
            year, number, issued_on = int(date[:4]), nxt, date
            new.append({"prefix": prefix, "year": year, "number": number, "month": month, "kind": kind,
                        "issued_on": issued_on})
        out[kind] = {"year": year, "number": number, "text": f"{prefix}〔{year}〕{number}号",
                     "date": date if date_fixed else issued_on}
    return out, new


def _safe_name(text: str) -> str:
    return re.sub(r'[\\/:*?"<>|\s]+', "_", text).strip("_") or "未填"


def _office(settings: OfficeSettings, number: Mapping | None, date: str) -> dict:
    office = office_context(settings, number, date)
    office["addressees"] = office["addressees"].rstrip("：:")
    size = min(42.0, TEXT_BLOCK_PT / max(1, len(office["header"])))
    office["header_size"] = f"{size:.1f}pt"
    # GB/T 9704: the date four characters in from the right, the issuer centred above it (moved
    # right as far as the right margin allows when it is the longer line).  Widths in em of 3号.
    date_em = text_width(cn_date(office["date"]))
    issuer_em = text_width(office["signature"])
    office["date_indent"] = "4em"
    office["issuer_indent"] = f"{max(0.0, 4 + (date_em - issuer_em) / 2):.2f}em"
    return office


def _towns(req: PackRequest, kind: str) -> list[str]:
    if kind == "roster":
        return sorted({c["town"] for c in req.roster["directory"]["communities"].values()})
    if kind in ("boards", "cards"):
        return sorted({w.get("town") or "" for w in req.register})
    return sorted({w.get("town") or "" for w in req.results["workers"]})


def _documents(req: PackRequest, kinds: list[str], numbers: Mapping[str, Mapping], date: str):
    """(kind, file stem, template, context) for every file to write."""
    s, res = req.settings, req.results
    docs = []
    for kind in kinds:
        office = _office(s, numbers.get(kind), numbers[kind]["date"] if kind in numbers else date)
        stem = FILE_STEMS[kind]
        if kind == "bulletin":
            docs.append((kind, stem, "bulletin.html.j2", bulletin_context(res, s, office)))
        elif kind == "criticism":
            docs.append((kind, stem, "criticism.html.j2", criticism_context(res, s, office)))
        elif kind == "commendation":
            docs.append((kind, stem, "commendation.html.j2", commendation_context(res, s, office)))
        elif kind == "paysheet":
            docs.append((kind, stem, "paysheet.html.j2", paysheet_context(res, s, office)))
        else:
            for town in _towns(req, kind):
                name = f"{stem}-{_safe_name(town)}"
                if kind == "slips":
                    ctx = slips_context(res, s, office, _by_id(req.register), towns=[town])
                elif kind == "roster":
                    ctx = roster_context(req.roster, s, office, towns=[town])
                else:
                    ctx = register_context([w for w in req.register if (w.get("town") or "") == town], s, office, kind)
                docs.append((kind, name, f"{kind}.html.j2", ctx))
    return docs


def _by_id(register: list[Mapping] | None) -> dict[str, Mapping] | None:
    return None if register is None else {w["worker_id"]: w for w in register}


def template_set(settings: OfficeSettings) -> TemplateSet:
    dirs = [d for d in (settings.template_dir(), REPORTS_DIR) if d is not None]
    return TemplateSet(dirs, time_limit=settings.render_time_limit)


def stylesheets(tset: TemplateSet, templates: list[str]) -> list[tuple[str, str]]:
    """The text of every stylesheet and template the documents use (for the font check)."""
    out, seen = [], set()
    names = list(templates) + ["gongwen.html.j2", "css/gongwen.css", "css/sheet.css"]
    for name in names:
        if name in seen:
            continue
        seen.add(name)
        try:
            src, path, _ = tset.env.loader.get_source(tset.env, name)
        except Exception:  # noqa: BLE001 - a missing template is reported by the template check
            continue
        out.append((path or name, src))
    return out


def build_pack(req: PackRequest, stage: Path, kinds: list[str], numbers: Mapping[str, Mapping], date: str) -> Pack:
    """Render the documents `kinds` into `stage`.  All template problems are raised together."""
    from .docx import render_docx
    from .pdf import check_fonts, html_to_pdf
    from .tables import write_bulletin_xlsx

    pack = Pack()
    tset = template_set(req.settings)
    docs = _documents(req, kinds, numbers, date)
    templates = sorted({t for _, _, t, _ in docs})
    tset.check(templates)
    if "pdf" in req.formats and docs:
        pack.notes.extend(check_fonts(stylesheets(tset, templates)))

    rendered, problems = [], []
    for kind, stem, template, ctx in docs:
        try:
            rendered.append((kind, stem, tset.render(template, ctx), ctx))
        except TemplateError as exc:
            problems.extend(exc.problems)
    docx_jobs = []
    if "docx" in req.formats:
        for kind, stem, _, ctx in rendered:
            if kind in DOCX:
                try:
                    docx_jobs.append((stem + ".docx", render_docx(tset, DOCX[kind], ctx)))
                except TemplateError as exc:
                    problems.extend(exc.problems)
    if problems:
        raise TemplateError(problems)

    for kind, stem, html, _ in rendered:
        if "html" in req.formats:
            (stage / f"{stem}.html").write_text(html, encoding="utf-8")
            pack.files.append(f"{stem}.html")
    for name, data in docx_jobs:
        (stage / name).write_bytes(data)
        pack.files.append(name)
    if "xlsx" in req.formats:
        for kind, stem, _, ctx in rendered:
            if kind == "bulletin":
                write_bulletin_xlsx(ctx, stage / "考核排名.xlsx")
                pack.files.append("考核排名.xlsx")
    if "pdf" in req.formats and rendered:
        tasks = sorted(((html, str(stage / f"{stem}.pdf")) for _, stem, html, _ in rendered),
                       key=lambda t: -len(t[0]))
        for path, pages in _pdfs(tasks, req.jobs, html_to_pdf):
            pack.pages[Path(path).name] = pages
            pack.files.append(Path(path).name)
    pack.files.sort()
    return pack


def _pdf_task(task: tuple[str, str]) -> tuple[str, int]:
    from .pdf import html_to_pdf
    html, path = task
    return path, html_to_pdf(html, Path(path), base_url=str(REPORTS_DIR))


def _pdfs(tasks: list[tuple[str, str]], jobs: int, html_to_pdf) -> list[tuple[str, int]]:
    """WeasyPrint holds the GIL, so several documents go to several processes (forked after import)."""
    from .pdf import _weasyprint
    _weasyprint()   # import once, before forking, so each child starts with it loaded
    jobs = max(1, min(jobs, len(tasks), os.cpu_count() or 1))
    if jobs == 1:
        return [_pdf_task(t) for t in tasks]
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("fork")) as pool:
        return list(pool.map(_pdf_task, tasks))
