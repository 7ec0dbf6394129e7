"""Notices and printables: the month's print pack from stored results, a roster and the register.

    settings.py   office settings (发文设置): issuer, numbers, addressees, privacy — validated
    context.py    plain data for templates (ranking, criticism/commendation lists, slips, …), masked
    render.py     Jinja2, sandboxed and time-bounded (the only jinja2 importer)
    pdf.py        WeasyPrint and the font check (the only weasyprint importer)
    docx.py       docxtpl for .docx notices (the only docxtpl importer)
    tables.py     the bulletin's tables as .xlsx
    wording.py    how the papers write: quotes, numbers bound to their units, a clause said once
    pack.py       which documents, their files, rendering them into a staging folder (PDF processes)

`render_print_pack` renders into a folder the caller stages; the document numbers it issues are
returned, to be recorded by the caller in the same step that makes the files visible.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Mapping

from ..errors import DataError, Problem
from .pack import (NUMBERED, Pack, PackRequest, Progress, build_pack, is_pack_file, parse_only, plan_numbers,
                   wanted_documents)
from .settings import DEFAULT_SETTINGS, DOCUMENTS, OfficeSettings, load_settings

__all__ = ["render_print_pack", "PackRequest", "Pack", "Progress", "load_settings", "OfficeSettings", "DOCUMENTS",
           "DEFAULT_SETTINGS", "parse_only", "is_pack_file", "load_roster", "render_roster_print", "register_dicts", "find_settings",
           "PRINT_COLUMNS"]


def render_print_pack(req: PackRequest, stage: Path, history=None, *, date: str | None = None,
                      progress: Progress | None = None) -> tuple[Pack, list[dict]]:
    """Render the pack into `stage`; returns it and the document numbers newly issued (not yet recorded).

    The 成文日期 is `date` (--date), else the settings' `date`, else the day a notice's number was
    first issued (stored in history), else today.  `progress(done, total)` is told of every file
    written (a progress bar in the CLI or a web page)."""
    fixed = date or req.settings.date
    day = fixed or dt.date.today().isoformat()
    kinds, skipped = wanted_documents(req)
    prefix = req.settings.document_number.prefix
    month = req.results["month"]
    issued = history.doc_numbers(prefix, month) if history is not None else {}
    last = history.last_doc_number(prefix, int(day[:4])) if history is not None else 0
    numbers, rows = plan_numbers(issued, last, req.settings, month, kinds, day, date_fixed=bool(fixed))
    if not fixed and issued:
        # unnumbered documents carry the date the month's notices were first issued
        day = min(v["issued_on"] for v in issued.values())
    pack = build_pack(req, stage, kinds, numbers, day, progress)
    pack.skipped = skipped
    pack.numbers = numbers
    return pack, rows


def render_roster_print(roster: Mapping[str, Any], settings: OfficeSettings, stage: Path, *,
                        formats: tuple[str, ...] = ("html", "pdf"), date: str | None = None) -> Pack:
    """The printed roster of a roster.json (a duty room's 值班表, or a patrol roster's 巡查排班表 per
    town) rendered into `stage`, as the print pack renders it; no document number is involved."""
    req = PackRequest({"month": roster.get("month", ""), "workers": []}, settings, roster=roster, only={"roster"},
                      formats=set(formats), jobs=1)
    return build_pack(req, stage, ["roster"], {}, date or settings.date or dt.date.today().isoformat())


def find_settings(office: str | None, data_dir: str | Path | None) -> tuple[Path, bool]:
    """The settings file to use and whether it is the bundled example (a warning for the clerk)."""
    if office:
        return Path(office), False
    if data_dir is not None and (Path(data_dir) / "office.yaml").is_file():
        return Path(data_dir) / "office.yaml", False
    return DEFAULT_SETTINGS, True


def load_roster(folder: str | Path) -> dict:
    """The roster.json of a `wangge roster` output folder (or the file itself)."""
    path = Path(folder)
    if path.suffix != ".json":
        path = path / "roster.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DataError([Problem(str(path), None, "文件", str(path), "wangge roster 输出的 roster.json",
                                 str(exc.strerror or exc))]) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataError([Problem(str(path), None, "文件", str(exc)[:80], "wangge roster 输出的 roster.json（JSON）")]) from None
    missing = [k for k in ("month", "days", "duty", "patrol", "directory") if not isinstance(data, dict) or k not in data]
    if missing:
        raise DataError([Problem(str(path), None, k, None, "roster.json 中的此项",
                                 "directory 缺失时请用本版本的 wangge roster 重新生成排班") for k in missing])
    return data


# Register columns only the papers use (the scoring never reads them): the grid's households and
# area on the grid board, the bank account for the transfer list finance sends (代发).
PRINT_COLUMNS = {
    "households": ["户数", "服务户数", "网格户数", "住户数"],
    "area": ["网格范围", "网格四至", "网格描述", "服务范围", "区域"],
    "bank": ["开户银行", "开户行", "银行", "银行名称"],
    "account": ["银行账号", "银行卡号", "账号", "卡号", "工资卡号"],
}


def register_dicts(workers: list[Any]) -> list[dict]:
    """WorkerInfo rows of the register as the plain dicts the context builders read, with the
    print-only columns (PRINT_COLUMNS) where the register has them."""
    extra = _print_columns(workers[0].source[0]) if workers and workers[0].source[0] else {}
    return [{"worker_id": w.worker_id, "name": w.name, "town": w.town, "community": w.community, "grid": w.grid,
             "role": w.role, "employment": w.employment, "phone": w.phone, "id_number": w.id_number,
             "duties": w.duties, **extra.get(w.worker_id, {})} for w in workers]


def _print_columns(path: str) -> dict[str, dict[str, str]]:
    """worker id -> {households, area, bank, account} from the register file (already checked by
    the register reader; a file that cannot be read again simply has none)."""
    from ..errors import InputError
    from ..inputs import WORKER_COLUMNS, _text as _cell
    from ..sources import read_table

    try:
        rows, present = read_table(path, {"worker_id": WORKER_COLUMNS["worker_id"], **PRINT_COLUMNS},
                                   keep_unknown=True, merged="fill")
    except (InputError, OSError):
        return {}
    keys = [k for k in PRINT_COLUMNS if k in present]
    if not keys:
        return {}
    out = {}
    for r in rows:
        wid = _cell(r.get("worker_id"))
        if wid:
            out[wid] = {k: _cell(r.get(k)) for k in keys}
    return out
