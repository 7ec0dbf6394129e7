"""The month's print pack: which documents, their numbers, and rendering them into a folder.

`build_pack` renders every wanted document to HTML (Jinja, sandboxed), then PDF (WeasyPrint,
in parallel processes), .docx for the notices staff edit (docxtpl) and .xlsx where a table is
the point (the ranking, the pay sheet finance signs, the bank transfer list).  It writes only
into the staging folder it is given; the caller moves the files into place after recording the
document numbers, so a failed or killed run leaves the previous pack and the number register
as they were.  The PDF processes die with the process that started them and close the files
they inherited (the history database among them).  `progress(done, total)` is told of every
file written.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import re
import signal
import stat
import sys
import threading
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from ..errors import DOCUMENTS_FIELD, DataError, Problem, TemplateError
from .context import (bulletin_context, commended, commendation_context, criticised, criticism_context,
                      is_shift_roster, office_context, office_order, paysheet_context, register_context,
                      roster_context, roster_towns, shift_roster_context, slips_context, text_width)
from .render import TemplateSet, cn_date
from .settings import DOCUMENTS, OfficeSettings

__all__ = ["PackRequest", "Pack", "REPORTS_DIR", "NUMBERED", "SHIFT_ROSTER_STEM", "wanted_documents", "plan_numbers", "build_pack",
           "parse_only", "is_pack_file", "Progress"]

REPORTS_DIR = Path(__file__).resolve().parents[2] / "reports"
NUMBERED = ("bulletin", "criticism", "commendation")          # 公文 with a 发文字号, in numbering order
FILE_STEMS = {"bulletin": "考核通报", "criticism": "通报批评", "commendation": "通报表彰", "slips": "考核结果通知单",
              "paysheet": "绩效工资发放表-签字版", "roster": "巡查排班表", "boards": "网格公示牌", "cards": "服务联系卡"}
SHIFT_ROSTER_STEM = "值班表"                                  # a roster by person and shift (kind shifts)
PACK_WORKBOOKS = ("考核排名.xlsx", "绩效工资发放表.xlsx", "银行代发清单.xlsx")
PER_TOWN = ("slips", "roster", "boards", "cards")              # one file per town: what a town office prints
DOCX = {"bulletin": "docx/bulletin.docx", "criticism": "docx/criticism.docx", "commendation": "docx/commendation.docx"}
FORMATS = ("html", "pdf", "docx", "xlsx")
TEXT_BLOCK_PT = 442.2                                          # 156 mm, the width of the red header line
MAX_NAME_BYTES = 200                                           # a file name's limit is 255 bytes on most disks
PHOTO_TYPES = (".jpg", ".jpeg", ".png")
MAX_PHOTO_BYTES = 10_000_000

Progress = Callable[[int, int], None]     # (files written, files to write)


@dataclass
class PackRequest:
    results: Mapping[str, Any]
    settings: OfficeSettings
    roster: Mapping[str, Any] | None = None
    register: list[Mapping[str, Any]] | None = None
    only: set[str] | None = None
    formats: set[str] | None = None       # None: all of FORMATS
    town_rosters: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)   # town -> the patrol roster
                                          # that town published itself: printed for that town instead of `roster`
    jobs: int = 2
    draft: str | None = None              # 送审稿 / 征求意见稿: the 公文 carry that mark and no number
                                          # (a number planned with draft=True is marked 送审稿 too)

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
        path.name in PACK_WORKBOOKS or any(path.stem == s or path.stem.startswith(s + "-") for s in (*FILE_STEMS.values(), SHIFT_ROSTER_STEM)))


def parse_only(text: str | None) -> set[str] | None:
    """'bulletin,slips' -> {'bulletin', 'slips'}; unknown keys are an error naming the valid ones."""
    if not text:
        return None
    keys = {k.strip() for k in re.split(r"[,，、\s]+", text) if k.strip()}
    bad = sorted(keys - set(DOCUMENTS))
    if bad:
        raise TemplateError([Problem(DOCUMENTS_FIELD, None, DOCUMENTS_FIELD, "、".join(bad),
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
        elif kind == "roster" and req.roster is None and not req.town_rosters:
            skipped.append(f"{label}：未给出排班结果")
        elif kind in ("boards", "cards") and req.register is None:
            skipped.append(f"{label}：未给出网格员名册")
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


# --------------------------------------------------------------------------- file names


def _safe_name(text: str) -> str:
    """A town's name as part of a file name: no path separators, reserved or control characters;
    a name too long for a file system shortened, with a short digest so it stays unique."""
    name = re.sub(r'[\\/:*?"<>|\s\x00-\x1f\x7f]+', "_", text).strip("_. ") or "未填"
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]
        while len(name.encode("utf-8")) > MAX_NAME_BYTES - 10:
            name = name[:-1]
        name = f"{name}~{digest}"
    return name


def _file_names(towns: list[str], where: str) -> dict[str, str]:
    """Town -> its part of the per-town file names; two towns that come out the same (东城/北 and
    东城:北 are both 东城_北) would overwrite each other's files, so that stops the run."""
    names: dict[str, str] = {}
    by_name: dict[str, list[str]] = {}
    for t in towns:
        names[t] = _safe_name(t)
        by_name.setdefault(names[t], []).append(t)
    clashes = {n: ts for n, ts in by_name.items() if len(ts) > 1}
    if clashes:
        raise DataError([Problem(where, None, "乡镇（街道）", "、".join(ts), "文件名各不相同的乡镇（街道）名称",
                                 f"这些名称去掉文件名中不能用的字符（\\ / : * ? \" < > | 和空白）后都是“{n}”，"
                                 "各乡镇的通知单、排班表、公示牌和联系卡会互相覆盖；请在名册中改用不同的名称")
                         for n, ts in clashes.items()])
    return names


# --------------------------------------------------------------------------- documents


def _office(settings: OfficeSettings, number: Mapping | None, date: str, draft: str | None = None) -> dict:
    office = office_context(settings, number, date, draft)
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
    """The towns of a per-town document, in the office's order."""
    if kind == "roster":
        office_roster = req.roster if req.roster is not None and not is_shift_roster(req.roster) else None
        return roster_towns(office_roster, req.settings, req.town_rosters)
    order = office_order(req.results, req.settings)
    source = req.register if kind in ("boards", "cards") else req.results["workers"]
    for w in source:
        order.add(w.get("town") or "")
    return order.sort_keys({w.get("town") or "" for w in source})


def _documents(req: PackRequest, kinds: list[str], numbers: Mapping[str, Mapping], date: str):
    """(kind, file stem, template, context) for every file to write."""
    s, res = req.settings, req.results
    docs = []
    photos = photo_urls(req.register, s) if req.register is not None else {}
    for kind in kinds:
        draft = None
        if kind in NUMBERED:     # a notice not issued (yet) is a draft: its mark, no number
            draft = req.draft or ("送审稿" if (numbers.get(kind) or {}).get("draft") else None)
        office = _office(s, numbers.get(kind), numbers[kind]["date"] if kind in numbers else date, draft)
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
            if kind == "roster" and req.roster is not None and is_shift_roster(req.roster):   # one duty room
                ctx = shift_roster_context(req.roster, office)
                docs.append((kind, f"{SHIFT_ROSTER_STEM}-{_safe_name(ctx['unit'])}", "shift_roster.html.j2", ctx))
            towns = _towns(req, kind)
            names = _file_names(towns, "网格员名册" if kind in ("boards", "cards") else
                                ("排班结果" if kind == "roster" else "考核结果（乡镇）"))
            for town in towns:
                name = f"{stem}-{names[town]}"
                if kind == "slips":
                    ctx = slips_context(res, s, office, _by_id(req.register), towns=[town])
                elif kind == "roster":
                    ctx = roster_context(req.town_rosters.get(town) or req.roster, s, office, towns=[town])
                else:
                    ctx = register_context([w for w in req.register if (w.get("town") or "") == town], s, office,
                                           kind, photos)
                docs.append((kind, name, f"{kind}.html.j2", ctx))
    return docs


def _by_id(register: list[Mapping] | None) -> dict[str, Mapping] | None:
    return None if register is None else {w["worker_id"]: w for w in register}


_SAFE_ID = re.compile(r"[\w\-]+(\.[\w\-]+)*")


def photo_urls(register: list[Mapping], settings: OfficeSettings) -> dict[str, str]:
    """Worker id -> file: URL of <photos>/<工号>.jpg|.jpeg|.png, for the ids that name a plain file
    inside the photo folder (an id such as ../x, a link leading out of the folder, anything but a
    regular file, or a file over 10 MB is not used)."""
    folder = settings.photo_dir()
    if folder is None or not folder.is_dir():
        return {}
    root = folder.resolve()
    out = {}
    for w in register:
        wid = str(w.get("worker_id") or "")
        if not _SAFE_ID.fullmatch(wid):
            continue
        for ext in PHOTO_TYPES:
            path = root / f"{wid}{ext}"
            try:
                real = path.resolve(strict=True)
                st = real.stat()
            except (OSError, RuntimeError):
                continue
            if real.is_relative_to(root) and stat.S_ISREG(st.st_mode) and st.st_size <= MAX_PHOTO_BYTES:
                out[wid] = real.as_uri()
                break
    return out


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


def _workbooks(req: PackRequest, kinds: list[str]) -> list[str]:
    """The .xlsx files the pack makes (for the progress total)."""
    if "xlsx" not in req.formats:
        return []
    out = ["考核排名.xlsx"] if "bulletin" in kinds else []
    if "paysheet" in kinds:
        out.append("绩效工资发放表.xlsx")
        if req.register is not None and any(w.get("account") for w in req.register):
            out.append("银行代发清单.xlsx")
    return out


def build_pack(req: PackRequest, stage: Path, kinds: list[str], numbers: Mapping[str, Mapping], date: str,
               progress: Progress | None = None) -> Pack:
    """Render the documents `kinds` into `stage`.  All template problems are raised together.
    `progress(done, total)` is called after every file written."""
    from .docx import render_docx
    from .pdf import check_fonts
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
            rendered.append((kind, stem, tset.render(template, ctx), ctx, template))
        except TemplateError as exc:
            problems.extend(exc.problems)
    docx_jobs = []
    if "docx" in req.formats:
        for kind, stem, _, ctx, _ in rendered:
            if kind in DOCX:
                try:
                    docx_jobs.append((stem + ".docx", render_docx(tset, DOCX[kind], ctx)))
                except TemplateError as exc:
                    problems.extend(exc.problems)
    if problems:
        raise TemplateError(problems)

    workbooks = _workbooks(req, kinds)
    total = (len(rendered) * (("html" in req.formats) + ("pdf" in req.formats)) + len(docx_jobs) + len(workbooks))
    done = 0

    def wrote(name: str, pages: int | None = None) -> None:
        nonlocal done
        pack.files.append(name)
        if pages is not None:
            pack.pages[name] = pages
        done += 1
        if progress is not None:
            progress(done, total)

    for kind, stem, html, _, _ in rendered:
        if "html" in req.formats:
            (stage / f"{stem}.html").write_text(html, encoding="utf-8")
            wrote(f"{stem}.html")
    for name, data in docx_jobs:
        (stage / name).write_bytes(data)
        wrote(name)
    if workbooks:
        _write_workbooks(req, rendered, stage, workbooks, pack, wrote, write_bulletin_xlsx)
    if "pdf" in req.formats and rendered:
        roots = [str(d) for d in tset.dirs]
        if req.settings.photo_dir() is not None:
            roots.append(str(req.settings.photo_dir()))
        tasks = sorted(((html, str(stage / f"{stem}.pdf"), kind in NUMBERED, tset.path_of(template))
                        for kind, stem, html, _, template in rendered), key=lambda t: -len(t[0]))
        failed = []
        for path, pages, problem in _pdfs(tasks, req.jobs, roots, req.settings.render_time_limit):
            if problem is not None:
                failed.append(problem)
            else:
                wrote(Path(path).name, pages)
        if failed:
            raise TemplateError(failed)
    pack.files.sort()
    return pack


def _write_workbooks(req: PackRequest, rendered, stage: Path, workbooks: list[str], pack: Pack, wrote,
                     write_bulletin_xlsx) -> None:
    from ..paysheet import write_bank_xlsx, write_paysheet_xlsx

    s = req.settings
    for kind, stem, _, ctx, _ in rendered:
        if kind == "bulletin":
            write_bulletin_xlsx(ctx, stage / "考核排名.xlsx")
            wrote("考核排名.xlsx")
    if "绩效工资发放表.xlsx" in workbooks:
        order = office_order(req.results, s)
        write_paysheet_xlsx(req.results, stage / "绩效工资发放表.xlsx", unit=s.unit_text, order=order,
                            rows_per_page=s.paysheet.rows_per_page, prepared_by=s.paysheet.prepared_by,
                            checked_by=s.paysheet.checked_by, show_version=s.show_policy_version)
        wrote("绩效工资发放表.xlsx")
        if "银行代发清单.xlsx" in workbooks:
            accounts = {w["worker_id"]: w for w in req.register}
            missing = write_bank_xlsx(req.results, accounts, stage / "银行代发清单.xlsx", unit=s.unit_text,
                                      order=order)
            wrote("银行代发清单.xlsx")
            if missing:
                pack.notes.append(f"银行代发清单：{len(missing)}人名册中没有银行账号（{'、'.join(missing[:10])}"
                                  + ("等" if len(missing) > 10 else "") + "），请财务补填")


# --------------------------------------------------------------------------- PDF processes


PR_SET_PDEATHSIG = 1
try:    # loaded here, before any fork: a dlopen in a forked child can deadlock on the loader's lock
    _LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
except OSError:
    _LIBC = None


def _pdf_worker_init(parent: int) -> None:
    """In each PDF process: die when the process that started it dies (a kill -9 of the run must
    not leave PDF processes running for minutes), and close the files inherited from it — the
    history database above all — which this process never uses."""
    if sys.platform.startswith("linux"):
        if _LIBC is not None:
            _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:       # the parent died before the signal was armed
            os._exit(1)
        try:
            fds = [int(fd) for fd in os.listdir("/proc/self/fd")]
        except OSError:
            fds = []
        for fd in fds:
            if fd <= 2:
                continue
            try:
                if stat.S_ISREG(os.fstat(fd).st_mode):
                    os.close(fd)
            except OSError:
                pass


def _pdf_task(task: tuple) -> tuple[str, int, Problem | None]:
    """One PDF: (path, pages, None), or (path, 0, the problem) when it was refused or timed out."""
    from .pdf import PdfRefused, PdfTimeout, html_to_pdf

    html, path, numbered, template, roots, limit = task
    try:
        return path, html_to_pdf(html, Path(path), base_url=str(REPORTS_DIR), roots=roots, time_limit=limit,
                                 even_banji=numbered), None
    except PdfRefused as exc:
        return path, 0, Problem(template, None, "外部文件", "、".join(exc.urls[:5]),
                                "只引用模板文件夹、样式和照片文件夹内的文件",
                                f"生成 {Path(path).name} 时被拒绝：模板不能读取这些文件夹以外的文件或网址")
    except PdfTimeout:
        return path, 0, Problem(template, None, "PDF生成时间", f"超过 {limit:g} 秒",
                                f"在 render_time_limit（{limit:g} 秒）内完成",
                                f"{Path(path).name} 太大或模板有过多内容；可拆分文档或在发文设置中调大 render_time_limit")


def _pdfs(tasks: list[tuple], jobs: int, roots: list[str], limit: float) -> Iterator[tuple[str, int, Problem | None]]:
    """WeasyPrint holds the GIL, so several documents go to several processes (forked after import).
    Results come back as each finishes (for the progress count)."""
    from .pdf import _weasyprint
    _weasyprint()   # import once, before forking, so each child starts with it loaded
    full = [(html, path, numbered, template, roots, limit) for html, path, numbered, template in tasks]
    jobs = max(1, min(jobs, len(full), os.cpu_count() or 1))
    # in this process only from the main thread: the time limit is a SIGALRM (a web server's
    # worker thread gets a PDF process, where the limit holds)
    if jobs == 1 and threading.current_thread() is threading.main_thread():
        for task in full:
            yield _pdf_task(task)
        return
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("fork"), initializer=_pdf_worker_init,
                             initargs=(os.getpid(),)) as pool:
        futures = [pool.submit(_pdf_task, t) for t in full]
        for fut in as_completed(futures):
            yield fut.result()
