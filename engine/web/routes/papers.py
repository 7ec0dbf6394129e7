"""Papers: the pay sheet (a town's or the county's), the print pack (draft or issued) with its
downloads per town as a zip, and the register of document numbers."""
from __future__ import annotations

import datetime as dt
import tempfile
import zipfile
from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse

from ...app.notices import number_register
from ...app.results import write_town_paysheet
from ...errors import HistoryError
from ...notices import DOCUMENTS, is_pack_file
from ...periods import month_label
from ..deps import Viewer, check_form, client_ip, page, require, require_town, submit_once, viewer, web_of
from ..tasks import month_roster, print_dir, roster_dir, town_rosters
from ..words import STATE_LABELS
from .month import download, stored, valid_month
from .results import _results

router = APIRouter()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def pack_files(v, month: str) -> list[Path]:
    folder = print_dir(v.data, month)
    return sorted(p for p in folder.iterdir() if p.is_file() and is_pack_file(p)) if folder.is_dir() else []


def town_files(files: list[Path], town: str) -> list[Path]:
    """A town's own papers in the pack: the per-town files named …-<town>.*"""
    return [p for p in files if p.stem.endswith("-" + town)]


@router.get("/papers/{month}")
def papers_page(request: Request, month: str, v: Viewer = Depends(viewer)):
    web = web_of(request)
    require(request, v, "papers")
    res = _results(request, month)
    towns = sorted({w.get("town", "") for w in res["workers"] if v.sees_town(w.get("town", ""))})
    files = pack_files(v, month)
    per_town = {t: town_files(files, t) for t in towns}
    jobs = [j for j in web.queue.recent(v.office["id"], towns=v.towns, limit=10, kind="print_pack")
            if j.params.get("month") == month]
    rosters = [j for j in web.queue.recent(v.office["id"], towns=v.towns, limit=5, kind="roster")
               if j.params.get("month") == month]
    roster = month_roster(v.data, v.office, month)
    # which notices are drafts and which issued (no town's data in it: every role may see it)
    last = next((j for j in web.queue.recent(v.office["id"], limit=20, kind="print_pack")
                 if j.params.get("month") == month and j.state == "done"), None)
    numbers = (last.result or {}).get("numbers", {}) if last else {}
    return page(request, "papers.html", month=month, label=month_label(month), towns=towns, files=files,
                per_town=per_town, county=[p for p in files if not any(p in fs for fs in per_town.values())],
                jobs=jobs, numbers=numbers, documents=DOCUMENTS, states=STATE_LABELS,
                settings=bool(v.office.get("settings_path")), today=dt.date.today().isoformat(),
                rosters=rosters, roster=roster, own_roster=roster == str(roster_dir(v.data, month)),
                town_rosters=[t for t in town_rosters(v.data, month) if v.sees_town(t)],
                can_roster=bool(v.office.get("roster_problem")), roster_title=_roster_title(v.office))


def _roster_title(office: dict) -> str:
    """巡查排班, or 值班排班 for an office whose roster problem is a duty room (kind shifts)."""
    from ..rosters import problem_kind

    shifts = office.get("roster_problem") and problem_kind(office) == "shifts"
    return "值班排班" if shifts else "巡查排班"


@router.get("/papers/{month}/paysheet.{fmt}")
def paysheet(request: Request, month: str, fmt: str, town: str = "", v: Viewer = Depends(viewer)):
    web = web_of(request)
    require(request, v, "papers")
    if fmt not in ("xlsx", "csv"):
        raise HTTPException(404, "发放表有 .xlsx 和 .csv 两种")
    res = _results(request, month)
    require_town(request, v, town or None)
    towns = {town} if town else v.towns
    tmp = Path(tempfile.mkdtemp(prefix="wangge-pay-"))
    write_town_paysheet(res, towns, tmp, unit=v.office.get("unit") or "")
    web.store.audit(user=v.user.as_dict(), action="download", target=f"{month} 发放表 {town or '全县'}.{fmt}",
                    ip=client_ip(request))
    name = f"{month}-绩效工资发放表-{town or ('全部' if towns is None else '、'.join(sorted(towns)))}.{fmt}"
    return download(tmp / f"paysheet.{fmt}", name, XLSX if fmt == "xlsx" else "text/csv", cleanup=tmp)


@router.get("/papers/{month}/print/{name}.zip")
def print_zip(request: Request, month: str, name: str, v: Viewer = Depends(viewer)):
    """`<town>.zip`: a town's own papers and its pay sheet; `全部.zip`: the whole pack (not for town clerks)."""
    web = web_of(request)
    require(request, v, "papers")
    res = _results(request, month)
    files = pack_files(v, month)
    if not files:
        raise HTTPException(404, f"{month_label(month)}还没有生成打印材料")
    if name == "全部":
        if v.towns is not None:
            raise HTTPException(403, "镇街办事员只能下载本镇街的材料")
        chosen, towns = files, None
    else:
        require_town(request, v, name)
        chosen, towns = town_files(files, name), {name}
        if not chosen and name not in {w.get("town") for w in res["workers"]}:
            raise HTTPException(404, f"{month_label(month)}没有镇街 {name[:40]}")
    tmp = Path(tempfile.mkdtemp(prefix="wangge-zip-"))
    out = tmp / "pack.zip"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in chosen:
            zf.write(p, p.name)
        if towns is not None:
            sheet = write_town_paysheet(res, towns, tmp / "pay", unit=v.office.get("unit") or "")
            zf.write(sheet[0], f"绩效工资发放表-{name}.xlsx")
    web.store.audit(user=v.user.as_dict(), action="download", target=f"{month} 打印材料 {name}.zip", ip=client_ip(request))
    return download(out, f"{month}-打印材料-{name}.zip", "application/zip", cleanup=tmp)


@router.post("/papers/{month}/print")
async def make_pack(request: Request, month: str, v: Viewer = Depends(viewer)):
    """A draft print pack (送审稿), or with `issue` (administrators) the numbered notices issued."""
    web = web_of(request)
    form = await check_form(request, v)
    issue = form.get("issue") == "yes"
    require(request, v, "issue" if issue else "print")
    _results(request, month)
    params = {"month": month, "key": f"print:{month}"}
    if form.get("formats") == "html":       # a quick look: HTML only, no PDF or Word files
        params["formats"] = ["html"]
    if issue:
        day = str(form.get("date") or "")
        try:
            dt.date.fromisoformat(day)
        except ValueError:
            raise HTTPException(400, f"成文日期应为 YYYY-MM-DD，发现 {day[:20]!r}") from None
        params.update(issue=True, date=day)
    running = web.queue.active(v.office["id"], "print_pack", params["key"])
    if running is not None:
        return RedirectResponse(f"/jobs/{running.id}", status_code=303)
    jid = web.queue.submit(v.office["id"], "print_pack", params, town=v.user.town, user=v.user.as_dict(),
                           ip=client_ip(request))
    return RedirectResponse(f"/jobs/{jid}", status_code=303)


@router.post("/papers/{month}/roster")
async def make_roster(request: Request, month: str, v: Viewer = Depends(viewer)):
    """Solve the month's patrol roster in the background (administrators)."""
    web = web_of(request)
    await check_form(request, v)
    require(request, v, "issue")
    valid_month(month)
    if not v.office.get("roster_problem"):
        raise HTTPException(409, "本单位还没有排班数据目录（wangge user add --roster-problem），不能排班")
    return submit_once(request, v, "roster", {"month": month, "key": f"roster:{month}", "time_limit": 20}, None)


@router.get("/numbers")
def numbers(request: Request, v: Viewer = Depends(viewer)):
    require(request, v, "numbers")
    try:
        rows = number_register(v.data)
    except HistoryError:
        rows = []
    return page(request, "numbers.html", rows=rows)
