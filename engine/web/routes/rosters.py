"""Rosters (巡查排班) on the page, per month and town: solve a town's month in the background with its
progress; read it as a calendar by person and by grid, with coverage, backups, supervisors' visits,
fairness figures and every hard rule's check; adjust a cell by hand (every hard rule checked again at
once, what breaks said in Chinese at its cell) and undo; enter leave reported mid-month and re-plan
from a date with as few changes as possible (the changed cells marked); publish; print.

A clerk works on their own town only; every change is in the audit log (engine/web/rosters.py keeps
the files, engine/app/rosters.py does the work)."""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse

from ...errors import DataError, InputError
from ...periods import month_label
from .. import rosters as wr
from ..deps import Viewer, check_form, client_ip, page, require, require_town, submit_once, viewer, web_of
from ..jobs import problem_dict
from ..words import STATE_LABELS
from .month import download, valid_month

router = APIRouter()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PRINT_DAYS = 11          # days per printed table: names of three grids' patrollers fit across a landscape A4
SOURCE_LABELS = {"solved": "系统排出", "replanned": "请假后重新调整", "edited": "手工调整"}
TITLES = {"patrol": "巡查排班", "shifts": "值班排班"}     # a duty room's roster is by person and shift


def _office_problem(request: Request, v: Viewer) -> str:
    if not v.office.get("roster_problem"):
        raise HTTPException(409, "本单位还没有排班数据目录（wangge user add --roster-problem），不能排班")
    return v.office["roster_problem"]


def _town(request: Request, v: Viewer, month: str, town: str, what: str = "rosters") -> Path:
    """The town's roster folder, after the viewer's role and town are checked (a refusal is audited)."""
    require(request, v, what)
    valid_month(month)
    require_town(request, v, town)
    _office_problem(request, v)
    try:
        towns = wr.problem_towns(v.office, month)
    except DataError as exc:
        raise HTTPException(409, "排班数据有问题：" + "；".join(str(p) for p in exc.problems[:5])) from None
    if town not in towns:
        raise HTTPException(404, f"排班数据中没有镇街「{town}」")
    return wr.town_dir(v.data, month, town)


def _audit(request: Request, v: Viewer, action: str, target: str, after=None, before=None) -> None:
    web_of(request).store.audit(user=v.user.as_dict(), action=action, target=target, before=before, after=after,
                                ip=client_ip(request))


@router.get("/rosters")
def rosters_page(request: Request, month: str = "", v: Viewer = Depends(viewer)):
    require(request, v, "rosters")
    web = web_of(request)
    if not v.office.get("roster_problem"):
        return page(request, "rosters.html", problem=None, rows=[], month="", towns=[], jobs=[], title=TITLES["patrol"])
    month = valid_month(month) if month else _default_month(v.office)
    towns = [t for t in wr.problem_towns(v.office, month) if v.sees_town(t)]
    kind = wr.problem_kind(v.office)
    rows = []
    for m in sorted(set(wr.months_with_rosters(v.data)) | {month}, reverse=True):
        for t in wr.towns_with_rosters(v.data, m):
            if v.sees_town(t):
                state = wr.load_state(wr.town_dir(v.data, m, t))
                meta = state[1] if state else {}
                rows.append({"month": m, "town": t, "meta": meta,
                             "published": wr.is_published(wr.town_dir(v.data, m, t))})
    jobs = web.queue.recent(v.office["id"], towns=v.towns, limit=8, kind="roster_town")
    current = {r["town"]: r for r in rows if r["month"] == month}
    return page(request, "rosters.html", problem=v.office["roster_problem"], rows=rows, current=current, month=month,
                towns=towns,
                jobs=jobs, sources=SOURCE_LABELS, states=STATE_LABELS, label=month_label(month), month_label=month_label,
                title=TITLES[kind], kind=kind)


def _default_month(office: dict) -> str:
    from ...app.rosters import load

    return load(office["roster_problem"]).month


@router.get("/rosters/{month}/{town}")
def roster_page(request: Request, month: str, town: str, v: Viewer = Depends(viewer)):
    return _roster_page(request, month, town, v)


def _roster_page(request: Request, month: str, town: str, v: Viewer, status: int = 200, errors: list | None = None):
    folder = _town(request, v, month, town)
    web = web_of(request)
    state = wr.load_state(folder)
    view = _view(state, folder) if state else None
    jobs = [j for j in web.queue.recent(v.office["id"], towns={town}, limit=5, kind="roster_town")
            if j.params.get("month") == month and j.params.get("town") == town]
    kind = wr.problem_kind(v.office)
    return page(request, "roster.html", status=status, month=month, town=town, label=month_label(month), view=view,
                kind=kind, title=TITLES[kind],
                meta=state[1] if state else None, leaves=wr.leaves(folder), undo=wr.undo_depth(folder),
                published=wr.is_published(folder), prints=wr.printed(folder), jobs=jobs,
                states=STATE_LABELS,
                sources=SOURCE_LABELS, can_edit=v.can("roster_edit"), errors=errors or [])


def _view(state, folder: Path) -> dict:
    """What the calendar shows, from the working roster (engine/roster/output.py's tables)."""
    from ...roster.output import check_rows, day_headers, demand_rows, fairness_rows, grid_rows, person_rows, visit_rows

    run, meta = state
    ro, prob = run.roster, run.problem
    cal, n = prob.cal, prob.cal.days
    marks: dict[tuple, str] = {}
    for sheet, key, d in meta.get("changed") or []:
        marks[(sheet, key, d)] = "changed"
    for p in meta.get("problems") or []:
        if p.get("key") is not None and p.get("day") is not None:
            marks[(p["sheet"], p["key"], p["day"])] = "broken"
    last = (meta.get("edits") or [None])[-1]
    if last and (last["sheet"], last["key"], last["day"]) not in marks:
        marks[(last["sheet"], last["key"], last["day"])] = "edited"
    people, grids = person_rows(ro), grid_rows(ro)
    F, G = wr.first_day(people[0], run), wr.first_day(grids[0], run)
    covered = sum(1 for g in prob.grids for d in range(n) if ro.patrol.get((g, d)))
    by_backup = sum(1 for (g, d), who in ro.patrol.items() if who != prob.grids[g].worker)
    cover_check = next((c for c in run.checks if c.rule == "grid_cover"), None)
    return {
        "days": [{"head": h, "rest": cal.is_rest_day[d], "holiday": cal.is_holiday[d], "key": cal.is_key[d],
                  "date": str(cal.dates[d])} for d, h in enumerate(day_headers(ro))],
        "people": [{"key": r[0], "lead": r[1:F], "cells": r[F:F + n], "counts": r[F + n:]} for r in people[1:]],
        "count_heads": people[0][F + n:],
        "grids": [{"key": r[0], "lead": r[1:G], "cells": r[G:G + n]} for r in grids[1:]],
        "visits": visit_rows(ro)[1:], "fairness": fairness_rows(ro), "checks": check_rows(run.checks, run.relaxed_rules)[1:],
        "marks": {f"{s}|{k}|{d}": m for (s, k, d), m in marks.items()},
        "coverage": {"covered": covered, "total": len(prob.grids) * n, "by_backup": by_backup,
                     "ok": cover_check.ok if cover_check else None},
        "failed": [c.label for c in run.failed], "objective": ro.objective,
        "shift_values": sorted(set(prob.shift_labels.values())) + ["休"],
        "persons": sorted(((pid, p.name) for pid, p in prob.people.items()), key=lambda x: x[0]),
        "patrollers": sorted((pid, p.name) for pid, p in prob.people.items() if p.role in ("grid_worker", "co_manager")),
        "sheets": {"people": wr.PEOPLE_SHEET, "grids": wr.GRIDS_SHEET}, "spans": [(0, n)],
        "kind": prob.kind, **(_shift_cover(prob, demand_rows(ro)) if prob.kind == "shifts" else {}),
    }


def _shift_cover(prob, rows: list[list]) -> dict:
    """A roster by shift: per shift and day 在岗/需求 (short marked), and the people short and beyond in all."""
    dates = {str(d): i for i, d in enumerate(prob.cal.dates)}
    labels = [prob.shift_labels.get(s, s) for s in prob.person_shifts]
    cells = {lab: [""] * prob.cal.days for lab in labels}
    short = {lab: [False] * prob.cal.days for lab in labels}
    total_short = total_beyond = 0
    for date, lab, target, _least, on, miss, beyond, _who in rows[1:]:
        d = dates[date]
        cells[lab][d] = f"{on}/{target}" if target != "" else str(on)
        short[lab][d] = bool(miss)
        total_short += miss or 0
        total_beyond += beyond or 0
    return {"shift_cover": [{"label": lab, "cells": cells[lab], "short": short[lab]} for lab in labels],
            "short_total": total_short, "beyond_total": total_beyond}


async def _post(request: Request, v: Viewer, month: str, town: str):
    form = await check_form(request, v)
    folder = _town(request, v, month, town, "roster_edit")
    return form, folder


def _problem_page(request, v, month, town, exc: DataError):
    return _roster_page(request, month, town, v, status=422, errors=[problem_dict(p) for p in exc.problems])


@router.post("/rosters/{month}/{town}/solve")
async def solve(request: Request, month: str, town: str, v: Viewer = Depends(viewer)):
    """Solve the town's month in the background (the working roster is replaced; undo takes it back)."""
    form, folder = await _post(request, v, month, town)
    return _submit(request, v, month, town, form, None)


def _submit(request: Request, v: Viewer, month: str, town: str, form, start: str | None):
    try:
        limit = min(max(float(form.get("time_limit") or 20), 1.0), 600.0)
    except ValueError:
        raise HTTPException(400, "求解时限应为秒数，如 20") from None
    params = {"month": month, "town": town, "key": f"roster:{month}:{town}", "time_limit": limit}
    if start:
        params["from"] = start
    return submit_once(request, v, "roster_town", params, town)


@router.post("/rosters/{month}/{town}/edit")
async def edit(request: Request, month: str, town: str, v: Viewer = Depends(viewer)):
    """One cell changed by hand; every hard rule checked again at once."""
    form, folder = await _post(request, v, month, town)
    try:
        day = int(form.get("day") or "")
    except ValueError:
        raise HTTPException(400, "请选择日期") from None
    sheet = wr.GRIDS_SHEET if form.get("sheet") == "grids" else wr.PEOPLE_SHEET
    try:
        prob = wr.problem(v.office, month, town, folder)
        got = wr.edit_cell(prob, folder, sheet, str(form.get("key") or ""), day, str(form.get("value") or ""),
                           v.user.username)
    except DataError as exc:
        return _problem_page(request, v, month, town, exc)
    _audit(request, v, "roster.edit", f"{month} {town} 排班", after=got["edit"],
           before={"broken": len(got["problems"])})
    return RedirectResponse(f"/rosters/{month}/{town}?msg={'roster_broken' if got['problems'] else 'roster_edited'}#adjust",
                            status_code=303)


@router.post("/rosters/{month}/{town}/undo")
async def undo(request: Request, month: str, town: str, v: Viewer = Depends(viewer)):
    form, folder = await _post(request, v, month, town)
    meta = wr.undo(folder)
    if meta is None:
        raise HTTPException(409, "没有可以撤销的调整")
    _audit(request, v, "roster.undo", f"{month} {town} 排班", after={"source": meta.get("source")})
    return RedirectResponse(f"/rosters/{month}/{town}?msg=roster_undone#adjust", status_code=303)


@router.post("/rosters/{month}/{town}/leave")
async def leave(request: Request, month: str, town: str, v: Viewer = Depends(viewer)):
    """Leave reported mid-month, kept for every later solve and re-plan of the month."""
    form, folder = await _post(request, v, month, town)
    try:
        prob = wr.problem(v.office, month, town, folder)
        entry = wr.add_leave(prob, folder, str(form.get("person") or ""), str(form.get("start") or ""),
                             str(form.get("end") or ""), str(form.get("reason") or ""), v.user.username)
    except DataError as exc:
        return _problem_page(request, v, month, town, exc)
    _audit(request, v, "roster.leave", f"{month} {town} 排班", after=entry)
    return RedirectResponse(f"/rosters/{month}/{town}?msg=leave_added#leave", status_code=303)


@router.post("/rosters/{month}/{town}/replan")
async def replan(request: Request, month: str, town: str, v: Viewer = Depends(viewer)):
    """Re-plan from a date: the published roster kept before it, as few changes as possible from it on."""
    form, folder = await _post(request, v, month, town)
    if not wr.is_published(folder):
        raise HTTPException(409, "先发布本月排班，才能在其基础上重新调整")
    start = str(form.get("from") or "")
    try:
        wr.check_from(wr.problem(v.office, month, town, folder), start)
    except DataError as exc:
        return _problem_page(request, v, month, town, exc)
    _audit(request, v, "roster.replan", f"{month} {town} 排班", after={"from": start})
    return _submit(request, v, month, town, form, start)


@router.post("/rosters/{month}/{town}/publish")
async def publish(request: Request, month: str, town: str, v: Viewer = Depends(viewer)):
    form, folder = await _post(request, v, month, town)
    try:
        files = wr.publish(folder, v.user.username, v.office)
    except InputError as exc:
        _audit(request, v, "roster.publish.refused", f"{month} {town} 排班", after=[str(p) for p in exc.problems])
        return _problem_page(request, v, month, town, exc)
    _audit(request, v, "roster.publish", f"{month} {town} 排班", after={"files": files})
    return RedirectResponse(f"/rosters/{month}/{town}?msg=roster_published", status_code=303)


@router.get("/rosters/{month}/{town}/print")
def print_view(request: Request, month: str, town: str, v: Viewer = Depends(viewer)):
    """The published roster (else the working one, marked 草稿) as a page to print: by grid, then by person."""
    folder = _town(request, v, month, town)
    run = wr.load_published(folder)
    draft = run is None
    state = None if not draft else wr.load_state(folder)
    if draft and state is None:
        raise HTTPException(404, "本月还没有排班")
    view = _view((run, {}) if run is not None else state, folder)
    n = len(view["days"])
    view["spans"] = [(lo, min(lo + PRINT_DAYS, n)) for lo in range(0, n, PRINT_DAYS)]
    kind = view["kind"]
    return page(request, "roster_print.html", month=month, town=town, label=month_label(month), view=view, draft=draft,
                kind=kind, title={"patrol": "网格巡查排班表", "shifts": "值班表"}[kind])


@router.get("/rosters/{month}/{town}/files/{name}")
def published_file(request: Request, month: str, town: str, name: str, v: Viewer = Depends(viewer)):
    folder = _town(request, v, month, town)
    path = folder / wr.PUBLISHED / name
    if "/" in name or name.startswith(".") or not path.is_file():
        raise HTTPException(404, "没有这个文件")
    _audit(request, v, "download", f"{month} {town} 排班 {name}")
    kind = {".xlsx": XLSX, ".json": "application/json", ".pdf": "application/pdf",
            ".html": "text/html; charset=utf-8"}.get(path.suffix, "text/csv")
    return download(path, f"{month}-{town}-{name}", kind)

