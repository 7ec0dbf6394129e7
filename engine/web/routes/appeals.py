"""Appeals and corrections (申诉/更正): a clerk files a correction of one worker-month (the changed
cells of that worker's rows in the month's files, with a reason); a county administrator approves it
— the month is run again as a correction in the background and the page shows what changed, in this
month and in later months' period rules — or rejects it with a reason; the 更正通知 is printed as a
draft and issued with its own document number.  Every step is in the audit log."""
from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import uuid
from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select, update

from ...app.corrections import Edit, FILE_LABELS, check_corrected, correct_files, inputs_fingerprint, worker_rows
from ...app.results import NotVisible, worker_entry
from ...errors import InputError
from ...periods import month_label
from ..deps import Viewer, check_form, client_ip, mine, page, refuse, require, viewer, web_of
from ..jobs import problem_dict
from ..store import appeals, now
from ..words import STATE_LABELS as JOB_STATES
from .month import download
from .results import _results

router = APIRouter()

APPEAL_STATES = {"filed": "待审核", "approved": "已批准，正在重算", "rejected": "已驳回", "corrected": "已更正",
                 "failed": "重算未完成"}
_CELL = re.compile(r"^c\.(\w+)\.(\d+)\.(\d+)$")
_DEL = re.compile(r"^d\.(\w+)\.(\d+)$")
_NEW = re.compile(r"^n\.(\w+)\.(\d+)\.(\d+)$")


def appeal_dir(data: Path, folder: str) -> Path:
    return data / "appeals" / folder


def _row(r: dict | None) -> dict | None:
    if r is not None:
        r["changes"] = json.loads(r["changes"])
        r["result"] = json.loads(r["result"]) if r["result"] else None
        r["notice"] = json.loads(r["notice"]) if r["notice"] else None
        r["state_label"] = APPEAL_STATES.get(r["state"], r["state"])
    return r


def visible_appeal(request: Request, v: Viewer, aid: int) -> dict:
    """An appeal of the viewer's office and towns (another town's: 404, audited, so ids cannot be probed)."""
    require(request, v, "appeals")
    row = _row(web_of(request).store.one(select(appeals).where(appeals.c.id == aid)))
    mine(request, v, row, "没有这个申诉")
    if not v.sees_town(row["town"]):
        raise refuse(request, v, "没有这个申诉", 404)
    return row


# --------------------------------------------------------------------------- filing


def _worker(request: Request, v: Viewer, month: str, worker_id: str) -> dict:
    res = _results(request, month)
    try:
        return worker_entry(res, worker_id, v.towns)
    except NotVisible:
        raise refuse(request, v, f"{month_label(month)}没有您可查看的网格员 {worker_id[:40]}", 404) from None


def _form_page(request: Request, v: Viewer, month: str, w: dict, *, values: dict | None = None, reason: str = "",
               problems: list | None = None, status: int = 200):
    web = web_of(request)
    files = worker_rows(v.office["policy_paths"], v.data, month, w["worker_id"])
    return page(request, "appeal_new.html", status=status, month=month, label=month_label(month), w=w, files=files,
                values=values or {}, reason=reason, problems=problems or [])


@router.get("/results/{month}/workers/{worker_id}/appeal")
def appeal_form(request: Request, month: str, worker_id: str, v: Viewer = Depends(viewer)):
    require(request, v, "appeal_file")
    w = _worker(request, v, month, worker_id)
    try:
        return _form_page(request, v, month, w)
    except InputError as exc:
        return page(request, "error.html", status=422, status_code=422,
                    message=f"{month_label(month)}存入时的输入文件无法读取，不能在此更正", problems=[problem_dict(p) for p in exc.problems])


def _edits(form) -> tuple[dict[str, Edit], dict[str, str]]:
    """The submitted cells as edits per file (the form sends every cell; unchanged ones change nothing)."""
    edits: dict[str, Edit] = {}
    values: dict[str, str] = {}
    added: dict[tuple[str, int], dict[int, str]] = {}
    for key, value in form.multi_items():
        if not isinstance(value, str):
            continue
        values[key] = value
        if m := _CELL.match(key):
            edits.setdefault(m.group(1), Edit()).cells.setdefault(int(m.group(2)), {})[int(m.group(3))] = value
        elif m := _DEL.match(key):
            edits.setdefault(m.group(1), Edit()).removed.add(int(m.group(2)))
        elif m := _NEW.match(key):
            added.setdefault((m.group(1), int(m.group(2))), {})[int(m.group(3))] = value
    for (kind, _), cells in sorted(added.items()):
        row = [cells.get(i, "") for i in range(max(cells) + 1)] if cells else []
        edits.setdefault(kind, Edit()).added.append(row)
    return edits, values


@router.post("/results/{month}/workers/{worker_id}/appeal")
async def file_appeal(request: Request, month: str, worker_id: str, v: Viewer = Depends(viewer)):
    form = await check_form(request, v)
    require(request, v, "appeal_file")
    web = web_of(request)
    w = _worker(request, v, month, worker_id)
    reason = str(form.get("reason") or "").strip()
    edits, values = _edits(form)
    if not reason or len(reason) > 2000:
        return _form_page(request, v, month, w, values=values, reason=reason, status=422,
                          problems=[{"file": "申诉", "row": None, "field": "申诉理由", "found": None, "missing": True,
                                     "expected": "写明申诉理由（不超过 2000 字）", "hint": ""}])
    folder = uuid.uuid4().hex
    target = appeal_dir(v.data, folder) / "inputs"
    policies = v.office["policy_paths"]
    try:
        based_on = inputs_fingerprint(v.data, month)
        files, changes = correct_files(policies, v.data, month, worker_id, edits, target)
        problems = check_corrected(policies, month, files)
    except InputError as exc:
        problems, changes = list(exc.problems), []
    if problems:
        shutil.rmtree(appeal_dir(v.data, folder), ignore_errors=True)
        names = {str(Path(p).resolve()): f"更正后的{FILE_LABELS[k]}" for k, p in
                 (("workers", target / "workers.csv"), ("metrics", target / "metrics.csv"),
                  ("events", target / "events.csv"), ("records", target / "records.csv"))}
        shown = [problem_dict(p) for p in problems]
        for p in shown:
            p["file"] = names.get(str(Path(p["file"]).resolve()) if p["file"] else "", p["file"])
        return _form_page(request, v, month, w, values=values, reason=reason, problems=shown, status=422)
    _keep_origins(v.data, month, target)
    rel = {k: str(Path(p).relative_to(v.data)) for k, p in
           (("workers", files.workers), ("metrics", files.metrics), ("events", files.events),
            ("records", files.records)) if p}
    record = {"based_on": based_on, "changes": changes, "files": rel, "no_events": files.no_events}
    with web.store.engine.begin() as c:
        aid = c.execute(appeals.insert().values(
            office_id=v.office["id"], month=month, worker_id=worker_id, worker_name=w.get("name", ""),
            town=w.get("town") or "", reason=reason, changes=json.dumps(record, ensure_ascii=False), folder=folder,
            state="filed", filed_by=v.user.username, filed_at=now())).inserted_primary_key[0]
        web.store.audit(user=v.user.as_dict(), action="appeal.file", target=f"申诉 {aid}：{month} {worker_id}",
                        ip=client_ip(request), conn=c, after={"理由": reason, "更正": changes})
    return RedirectResponse(f"/appeals/{aid}?msg=filed", status_code=303)


def _keep_origins(data: Path, month: str, target: Path) -> None:
    """The corrected files stand where the month's files stood (same rows): their origins.json too, so a
    worker's findings still link to the row of the clerk's own upload."""
    from ...app.month import month_results
    from ..tasks import ORIGINS

    try:
        inputs = month_results(data, month).get("inputs") or {}
    except Exception:   # noqa: BLE001 - without origins the rows are named in the corrected files
        return
    src = Path((inputs.get("workers") or {}).get("path", "")).parent / ORIGINS
    if not src.is_file():
        return
    raw = json.loads(src.read_text(encoding="utf-8"))
    moved = {}
    for kind, f in inputs.items():
        old = str(Path(f["path"]).resolve())
        if old in raw.get("files", {}):
            moved[str((target / f"{kind}.csv").resolve())] = raw["files"][old]
    (target / ORIGINS).write_text(json.dumps({"files": moved, "uploads": raw.get("uploads", {})}, ensure_ascii=False),
                                  encoding="utf-8")


# --------------------------------------------------------------------------- list and one appeal


@router.get("/appeals")
def appeals_page(request: Request, v: Viewer = Depends(viewer)):
    require(request, v, "appeals")
    q = select(appeals).where(appeals.c.office_id == v.office["id"])
    if v.towns is not None:
        q = q.where(appeals.c.town.in_(list(v.towns)))
    rows = [_row(r) for r in web_of(request).store.all(q.order_by(appeals.c.id.desc()).limit(200))]
    return page(request, "appeals.html", rows=rows, month_label=month_label)


def _visible_result(result: dict | None, v: Viewer) -> dict | None:
    """A correction's report as the viewer may see it (a clerk: their towns' workers only)."""
    if result is None or v.towns is None:
        return result
    towns = result.get("towns") or {}
    keep = lambda r: towns.get(r["worker_id"]) in v.towns     # noqa: E731
    out = dict(result)
    hidden = 0
    for key in ("score_changes", "consequence_changes", "pay_changes"):
        rows = result.get(key) or []
        out[key] = [r for r in rows if keep(r)]
        hidden += len(rows) - len(out[key])
    out["hidden"] = hidden
    return out


@router.get("/appeals/{aid}")
def appeal_page(request: Request, aid: int, v: Viewer = Depends(viewer)):
    web = web_of(request)
    row = visible_appeal(request, v, aid)
    jobs = [j for j in web.queue.recent(v.office["id"], limit=30) if j.params.get("appeal") == aid]
    return page(request, "appeal.html", a=row, label=month_label(row["month"]), result=_visible_result(row["result"], v),
                jobs=jobs, job_states=JOB_STATES, today=dt.date.today().isoformat(), month_label=month_label,
                settings=bool(v.office.get("settings_path")))


def _decide(request: Request, v: Viewer, aid: int, frm: tuple[str, ...], to: str, **values) -> dict:
    """Move an appeal from one of `frm` to `to` (only one request can win), audited."""
    web = web_of(request)
    row = visible_appeal(request, v, aid)
    require(request, v, "appeal_decide")
    with web.store.engine.begin() as c:
        got = c.execute(update(appeals).where(appeals.c.id == aid, appeals.c.state.in_(frm)).values(
            state=to, decided_by=v.user.username, decided_at=now(), **values)).rowcount
        if got != 1:
            raise HTTPException(409, f"申诉 {aid} 现为“{row['state_label']}”，不能再{ {'approved': '批准', 'rejected': '驳回'}[to] }")
        web.store.audit(user=v.user.as_dict(), action=f"appeal.{'approve' if to == 'approved' else 'reject'}",
                        target=f"申诉 {aid}：{row['month']} {row['worker_id']}", ip=client_ip(request), conn=c,
                        before={"状态": row["state_label"]}, after={"状态": APPEAL_STATES[to], **values})
    return row


@router.post("/appeals/{aid}/approve")
async def approve(request: Request, aid: int, v: Viewer = Depends(viewer)):
    await check_form(request, v)
    web = web_of(request)
    row = _decide(request, v, aid, ("filed", "failed"), "approved")
    jid = web.queue.submit(v.office["id"], "correction", {"appeal": aid, "month": row["month"], "key": f"appeal:{aid}"},
                           town=row["town"], user=v.user.as_dict(), ip=client_ip(request))
    web.store.run(update(appeals).where(appeals.c.id == aid).values(job_id=jid))
    return RedirectResponse(f"/jobs/{jid}", status_code=303)


@router.post("/appeals/{aid}/reject")
async def reject(request: Request, aid: int, v: Viewer = Depends(viewer)):
    form = await check_form(request, v)
    why = str(form.get("decision") or "").strip()
    if not why:
        visible_appeal(request, v, aid)
        raise HTTPException(400, "驳回申诉须写明理由")
    _decide(request, v, aid, ("filed",), "rejected", decision=why[:2000])
    return RedirectResponse(f"/appeals/{aid}?msg=rejected", status_code=303)


@router.post("/appeals/{aid}/notice")
async def notice(request: Request, aid: int, v: Viewer = Depends(viewer)):
    """The 更正通知 as a draft, or (administrators) issued with the next document number."""
    form = await check_form(request, v)
    web = web_of(request)
    row = visible_appeal(request, v, aid)
    require(request, v, "appeal_decide")
    if row["state"] != "corrected":
        raise HTTPException(409, "申诉更正完成后才能生成更正通知")
    if not v.office.get("settings_path"):
        raise HTTPException(409, "本单位还没有发文设置（office.yaml），不能生成更正通知")
    params = {"appeal": aid, "key": f"notice:{aid}"}
    if form.get("issue") == "yes":
        day = str(form.get("date") or "")
        try:
            dt.date.fromisoformat(day)
        except ValueError:
            raise HTTPException(400, f"成文日期应为 YYYY-MM-DD，发现 {day[:20]!r}") from None
        params.update(issue=True, date=day)
    running = web.queue.active(v.office["id"], "correction_notice", params["key"])
    if running is not None:
        return RedirectResponse(f"/jobs/{running.id}", status_code=303)
    jid = web.queue.submit(v.office["id"], "correction_notice", params, town=row["town"], user=v.user.as_dict(),
                           ip=client_ip(request))
    return RedirectResponse(f"/jobs/{jid}", status_code=303)


@router.get("/appeals/{aid}/notice/{name}")
def notice_file(request: Request, aid: int, name: str, v: Viewer = Depends(viewer)):
    web = web_of(request)
    row = visible_appeal(request, v, aid)
    files = (row["notice"] or {}).get("files") or []
    if name not in files:
        raise HTTPException(404, "没有这个文件")
    path = appeal_dir(v.data, row["folder"]) / "notice" / name
    web.store.audit(user=v.user.as_dict(), action="download", target=f"申诉 {aid} {name}", ip=client_ip(request))
    media = "application/pdf" if name.endswith(".pdf") else "text/html"
    return download(path, f"{row['month']}-{row['worker_name']}-{name}", media)
