"""The month: home, uploads town by town with their problems in place, the mapping of a platform
export, blank templates, running the month, and the jobs' progress."""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from starlette.background import BackgroundTask

from ...app.month import stored_months
from ...app.uploads import Part, check_town_inputs
from ...errors import HistoryError, InputError
from ...mapping import (IGNORE, KIND_LABELS, KINDS, Mapping, apply_mapping, canonical_of, categories_in, cell_text,
                        column_labels, kinds_for, policy_categories, read_rows, unknown_headers, write_template)
from ...periods import month_label
from ..deps import Viewer, check_form, client_ip, mine, page, refuse, require, require_town, viewer, web_of
from ..jobs import problem_dict
from ..store import now, uploads
from ..tasks import upload_label
from ..uploads import UploadRefused, safe_name, save_upload
from ..words import STATE_LABELS

router = APIRouter()
MONTH_RX = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def valid_month(month: str) -> str:
    if not MONTH_RX.match(month):
        raise HTTPException(404, f"月份应为 YYYY-MM（如 2026-10），发现 {month[:20]!r}")
    return month


def stored(v) -> list:
    try:
        months, _ = stored_months(v.data)
    except HistoryError:
        return []
    return months


def download(path: Path, name: str, media: str, cleanup: Path | None = None) -> FileResponse:
    """A file sent with its name in the RFC 6266 form (Chinese names survive every browser)."""
    from urllib.parse import quote

    resp = FileResponse(str(path), media_type=media,
                        background=BackgroundTask(_rmtree, cleanup) if cleanup else None)
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    resp.headers["content-disposition"] = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    return resp


def _rmtree(path: Path) -> None:
    import shutil
    shutil.rmtree(path, ignore_errors=True)


# --------------------------------------------------------------------------- home


@router.get("/")
def home(request: Request, v: Viewer = Depends(viewer)):
    web = web_of(request)
    months = stored(v)
    towns = None if v.towns is None else v.towns
    return page(request, "home.html", months=list(reversed(months)), month_label=month_label,
                jobs=web.queue.recent(v.office["id"], towns=towns, limit=8), states=STATE_LABELS,
                this_month=_next_month(months[-1].month) if months else now()[:7])


def _next_month(month: str) -> str:
    """The month after the last one stored: the one an office works on next."""
    y, m = int(month[:4]), int(month[5:])
    return f"{y + m // 12}-{m % 12 + 1:02d}"


@router.get("/months")
def pick_month(request: Request, month: str = "", v: Viewer = Depends(viewer)):
    return RedirectResponse(f"/months/{valid_month(month.strip())}", status_code=303)


# --------------------------------------------------------------------------- the month's uploads


def town_parts(web, office: dict, month: str, town: str) -> dict[str, Part]:
    data = web.place(office).data
    return {u["kind"]: Part(u["town"], u["kind"], upload_label(u), str(data / u["path"]))
            for u in web.store.latest_uploads(office["id"], month, [town])}


def recheck(web, office: dict, month: str, town: str) -> list[dict]:
    """Check one town's newest files of the month together and keep the outcome for the page."""
    ups = web.store.latest_uploads(office["id"], month, [town])
    parts = town_parts(web, office, month, town)
    problems = check_town_inputs(web.policies(office), month, parts, town)
    found = [problem_dict(p) for p in problems]
    web.store.save_check(office["id"], month, town, [u["id"] for u in ups], found)
    return found


def month_towns(web, v: Viewer, month: str) -> list[str]:
    """The towns the month page lists: the viewer's own, or every town with uploads or in the last month."""
    if v.towns is not None:
        return sorted(v.towns)
    towns = {u["town"] for u in web.store.latest_uploads(v.office["id"], month)}
    prev = [m for m in stored(v) if m.month <= month]
    if prev:
        res = v.results.get(prev[-1].month)
        towns |= {w.get("town", "") for w in res["workers"]}
    return sorted(t for t in towns if t)


def expected_missing(web, v: Viewer, month: str) -> list[str]:
    """Towns of the previous stored month that have sent nothing this month."""
    earlier = [m for m in stored(v) if m.month < month]
    if not earlier:
        return []
    res = v.results.get(earlier[-1].month)
    have = {u["town"] for u in web.store.latest_uploads(v.office["id"], month)}
    return sorted({w.get("town", "") for w in res["workers"]} - have)


@router.get("/months/{month}")
def month_page(request: Request, month: str, v: Viewer = Depends(viewer)):
    web = web_of(request)
    valid_month(month)
    office = v.office
    towns = month_towns(web, v, month)
    checks = web.store.checks(office["id"], month)
    latest = {(u["town"], u["kind"]): u for u in web.store.latest_uploads(office["id"], month, v.towns)}
    kinds = _month_kinds(web, office, month)
    rows = {}
    for town in towns:
        probs = checks.get(town, {}).get("problems")
        rows[town] = {"uploads": {k: latest.get((town, k)) for k in kinds}, "problems": probs,
                      "located": located(web, office, month, probs or [], [latest.get((town, k)) for k in KINDS])}
    other_bad = [t for t, c in checks.items() if c["problems"] and not v.sees_town(t)]
    is_stored = any(m.month == month for m in stored(v))
    jobs = web.queue.recent(office["id"], towns=v.towns, limit=5, kind="run_month")
    jobs = [j for j in jobs if j.params.get("month") == month]
    return page(request, "month.html", month=month, label=month_label(month), towns=towns, rows=rows, kinds=kinds,
                kind_labels=KIND_LABELS, other_bad=len(other_bad), missing=expected_missing(web, v, month),
                is_stored=is_stored, jobs=jobs, states=STATE_LABELS)


def _month_kinds(web, office: dict, month: str) -> tuple[str, ...]:
    """The files the month's policy reads (the records sheet only under a policy with records)."""
    try:
        return kinds_for(web.policy(office, month))
    except InputError:        # no version in force that month: the page says so when the month is run
        return tuple(k for k in KINDS if k != "records")


def located(web, office, month, problems: list[dict], ups: list) -> list[dict]:
    """Problems grouped by the upload they are in, each with its row's cells and the cell to mark."""
    by_label = {upload_label(u): u for u in ups if u}
    policy = None
    groups: dict[str, dict] = {}
    for p in problems:
        u = by_label.get(p["file"])
        key = p["file"]
        g = groups.setdefault(key, {"label": key, "upload": u, "problems": [], "header": [], "rows": {}})
        g["problems"].append(p)
    for g in groups.values():
        u = g["upload"]
        if u is None:
            continue
        policy = policy or web.policy(office, month)
        try:
            header, rows = read_rows(web.place(office).data / u["source_path"])
        except InputError:
            continue
        by_row = {r.row: r for r in rows}
        saved = (web.store.mapping(office["id"], u["kind"]) or {}).get("columns", {})
        canon = canonical_of(u["kind"], policy)
        g["header"] = header
        for p in g["problems"]:
            p["col"] = _column(p["field"], header, canon, saved)
            r = by_row.get(p["row"]) if p["row"] else None
            if r is not None and p["row"] not in g["rows"]:
                g["rows"][p["row"]] = [cell_text(r.get(h)) for h in header]
        g["marks"] = {(p["row"], p.get("col")) for p in g["problems"]}
    return list(groups.values())


def _norm(s) -> str:
    return str(s or "").strip().replace("\u3000", "").replace(" ", "").lower()


def _column(field: str, header: list[str], canon: dict[str, str], saved: dict[str, str]) -> int | None:
    """The column of the clerk's file a problem is about (its header as written, an alias, or 第N列)."""
    m = re.match(r"^第(\d+)列", field or "")
    if m:
        return int(m.group(1)) - 1
    target = canon.get(_norm(field))
    for i, h in enumerate(header):
        if _norm(h) == _norm(field):
            return i
        ours = saved.get(h) or canon.get(_norm(h))
        if target is not None and ours == target:
            return i
    return None


@router.post("/months/{month}/uploads")
async def upload(request: Request, month: str, v: Viewer = Depends(viewer)):
    web = web_of(request)
    valid_month(month)
    require(request, v, "upload")
    form = await check_form(request, v)
    kind = str(form.get("kind") or "")
    if kind not in KINDS:
        raise HTTPException(400, "请选择文件种类：名册、指标表、事件台账或记录表")
    town = v.user.town if v.user.role == "clerk" else str(form.get("town") or "").strip()
    if not town or len(town) > 100 or "/" in town or "\\" in town:
        raise HTTPException(400, "请填写镇街名称（不含 / 和 \\）")
    require_town(request, v, town)
    f = form.get("file")
    if f is None or not hasattr(f, "read") or not f.filename:
        raise HTTPException(400, "请选择要上传的文件")
    content = await f.read()
    original = safe_name(f.filename)
    try:
        rel, sha = save_upload(v.data, kind, original, content, web.settings.max_unpacked)
    except UploadRefused as exc:
        return page(request, "error.html", status=422, status_code=422, message="上传的文件未被接受，未保存",
                    problems=[problem_dict(p) for p in exc.problems])
    office = v.office
    row = dict(office_id=office["id"], month=month, town=town, kind=kind, original_name=original, source_path=rel,
               path=rel, size=len(content), sha256=sha, mapped=False, uploaded_by=v.user.username, uploaded_at=now())
    auto = _auto_map(web, office, month, kind, rel)
    if auto:
        row.update(path=auto, mapped=True)
    with web.store.engine.begin() as c:
        uid = c.execute(uploads.insert().values(**row)).inserted_primary_key[0]
        web.store.audit(user=v.user.as_dict(), action="upload", target=f"{month} {town} {KIND_LABELS[kind]}",
                        after={k: row[k] for k in ("original_name", "size", "sha256", "mapped")} | {"id": uid},
                        ip=client_ip(request), conn=c)
    recheck(web, office, month, town)
    return RedirectResponse(f"/months/{month}?msg=uploaded#town-{town}", status_code=303)


def _auto_map(web, office, month, kind, rel) -> str | None:
    """A file whose unknown headers the office's saved mapping all covers is mapped at once."""
    saved = web.store.mapping(office["id"], kind)
    if saved is None:
        return None
    policy = web.policy(office, month)
    data = web.place(office).data
    try:
        unknown = unknown_headers(data / rel, kind, policy)
    except InputError:
        return None
    if unknown and any(h not in saved["columns"] for h in unknown):
        return None          # headers the saved mapping does not know: the clerk maps them
    if not unknown and not (kind == "events" and saved["categories"]):
        return None          # nothing to rename
    out = Path(rel).with_name(f"{kind}-mapped.csv")
    try:
        apply_mapping(data / rel, kind, Mapping(saved["columns"], saved["categories"]), data / out, policy)
    except InputError:
        return None
    return out.as_posix()


def visible_upload(request: Request, v: Viewer, upload_id: int) -> dict:
    u = web_of(request).store.upload(upload_id)
    mine(request, v, u, "没有这个上传文件")
    require_town(request, v, u["town"])
    return u


@router.get("/uploads/{upload_id}")
def upload_view(request: Request, upload_id: int, row: int | None = None, v: Viewer = Depends(viewer)):
    web = web_of(request)
    u = visible_upload(request, v, upload_id)
    checks = web.store.checks(v.office["id"], u["month"]).get(u["town"])
    probs = [p for p in (checks or {}).get("problems", []) if p["file"] == upload_label(u)]
    groups = located(web, v.office, u["month"], probs, [u]) if probs else []
    try:
        header, rows = read_rows(v.data / u["source_path"])
        table = [(r.row, [cell_text(r.get(h)) for h in header]) for r in rows[:500]]
    except InputError as exc:
        header, table = [], []
        groups = groups or [{"label": upload_label(u), "upload": u, "problems": [problem_dict(p) for p in exc.problems],
                             "header": [], "rows": {}, "marks": set()}]
    marks = set().union(*(g["marks"] for g in groups)) if groups else set()
    return page(request, "upload.html", u=u, label=upload_label(u), header=header, table=table, marks=marks,
                groups=groups, focus=row, kind_labels=KIND_LABELS, month_label=month_label(u["month"]))


@router.get("/uploads/{upload_id}/file")
def upload_file(request: Request, upload_id: int, v: Viewer = Depends(viewer)):
    u = visible_upload(request, v, upload_id)
    path = v.data / u["source_path"]
    media = "text/csv" if path.suffix == ".csv" else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return download(path, u["original_name"], media)


# --------------------------------------------------------------------------- mapping a platform export


@router.get("/uploads/{upload_id}/mapping")
def mapping_form(request: Request, upload_id: int, v: Viewer = Depends(viewer)):
    web = web_of(request)
    require(request, v, "upload")
    u = visible_upload(request, v, upload_id)
    return _mapping_page(request, web, v, u)


def _mapping_page(request, web, v, u, status: int = 200, error: str = ""):
    policy = web.policy(v.office, u["month"])
    kind = u["kind"]
    header = read_rows(v.data / u["source_path"])[0]
    canon = canonical_of(kind, policy)
    saved = web.store.mapping(v.office["id"], kind) or {"columns": {}, "categories": {}}
    chosen = {h: saved["columns"].get(h, canon.get(_norm(h), IGNORE)) for h in header}
    cats, ours = [], []
    if kind == "events":
        ours = policy_categories(policy)
        cats = categories_in(v.data / u["source_path"], Mapping(chosen, {}), policy)
    return page(request, "mapping.html", status=status, u=u, label=upload_label(u), header=header, chosen=chosen,
                targets=column_labels(kind, policy), unknown=[h for h in header if _norm(h) not in canon],
                cats=cats, ours=ours, cat_chosen=saved["categories"], error=error, kind_labels=KIND_LABELS)


@router.post("/uploads/{upload_id}/mapping")
async def mapping_save(request: Request, upload_id: int, v: Viewer = Depends(viewer)):
    web = web_of(request)
    require(request, v, "upload")
    u = visible_upload(request, v, upload_id)
    form = await check_form(request, v)
    policy = web.policy(v.office, u["month"])
    header = read_rows(v.data / u["source_path"])[0]
    targets = column_labels(u["kind"], policy)
    columns = {}
    for i, h in enumerate(header):
        t = str(form.get(f"col{i}") or "")
        columns[h] = t if t in targets else IGNORE
    categories = {}
    for key, value in form.multi_items():
        if key.startswith("cat:") and value and str(value) != "":
            categories[key[4:]] = str(value)
    m = Mapping(columns, categories)
    out = Path(u["source_path"]).with_name(f"{u['kind']}-mapped.csv")
    try:
        apply_mapping(v.data / u["source_path"], u["kind"], m, v.data / out, policy)
    except InputError as exc:
        return _mapping_page(request, web, v, u, status=422, error="；".join(str(p) for p in exc.problems))
    web.store.save_mapping(v.office["id"], u["kind"], columns, categories, user=v.user.as_dict(), ip=client_ip(request))
    with web.store.engine.begin() as c:
        c.execute(uploads.update().where(uploads.c.id == u["id"]).values(path=out.as_posix(), mapped=True))
        web.store.audit(user=v.user.as_dict(), action="upload.mapped", target=upload_label(u), ip=client_ip(request),
                        conn=c, after={"id": u["id"]})
    recheck(web, v.office, u["month"], u["town"])
    if u["kind"] == "events" and not categories and categories_in(v.data / out, Mapping(), policy):
        cats = set(categories_in(v.data / out, Mapping(), policy)) - set(policy_categories(policy))
        if cats:
            return RedirectResponse(f"/uploads/{u['id']}/mapping?msg=mapped", status_code=303)
    return RedirectResponse(f"/months/{u['month']}?msg=mapped#town-{u['town']}", status_code=303)


# --------------------------------------------------------------------------- blank templates


@router.get("/templates/{kind}.xlsx")
def blank_template(request: Request, kind: str, month: str = "", v: Viewer = Depends(viewer)):
    web = web_of(request)
    if kind not in KINDS:
        raise HTTPException(404, "没有这种模板")
    month = valid_month(month) if month else now()[:7]
    policy = web.policy(v.office, month)
    tmp = Path(tempfile.mkdtemp(prefix="wangge-tpl-"))
    path = write_template(kind, policy, tmp / f"{kind}.xlsx")
    return download(path, f"{KIND_LABELS[kind]}（空白模板）.xlsx",
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", cleanup=tmp)


# --------------------------------------------------------------------------- running the month


@router.post("/months/{month}/run")
async def run(request: Request, month: str, v: Viewer = Depends(viewer)):
    web = web_of(request)
    valid_month(month)
    require(request, v, "run")
    form = await check_form(request, v)
    office = v.office
    checks = web.store.checks(office["id"], month)
    towns = {u["town"] for u in web.store.latest_uploads(office["id"], month)}
    if not towns:
        raise HTTPException(409, f"{month_label(month)}还没有上传任何数据")
    bad = sorted(t for t in towns if (checks.get(t) or {}).get("problems") or t not in checks)
    if bad:
        mine = [t for t in bad if v.sees_town(t)]
        others = len(bad) - len(mine)
        parts = []
        if mine:
            parts.append("、".join(mine) + " 的数据还有问题，请先在本页修正")
        if others:
            parts.append(f"另有 {others} 个镇街的数据还有问题（由其办事员修正）")
        raise HTTPException(409, "暂不能运行：" + "；".join(parts))
    missing = expected_missing(web, v, month)
    if missing and form.get("confirm_missing") != "yes":
        raise HTTPException(409, "上月有、本月尚未上传数据的镇街：" + "、".join(missing if v.towns is None else [])
                            + (f"{len(missing)} 个" if v.towns is not None else "")
                            + "。确认不含这些镇街运行时，请勾选「确认」后再提交")
    key = f"month:{month}"
    running = web.queue.active(office["id"], "run_month", key)
    if running is not None:
        return RedirectResponse(f"/jobs/{running.id}", status_code=303)
    jid = web.queue.submit(office["id"], "run_month", {"month": month, "key": key}, town=v.user.town,
                           user=v.user.as_dict(), ip=client_ip(request))
    return RedirectResponse(f"/jobs/{jid}", status_code=303)


# --------------------------------------------------------------------------- jobs


def visible_job(request: Request, v: Viewer, job_id: int):
    job = web_of(request).queue.get(job_id)
    mine(request, v, None if job is None else {"office_id": job.office_id}, "没有这个任务")
    if v.towns is not None and job.town not in v.towns:
        raise refuse(request, v, "无权查看：这是其他镇街或县里提交的任务")
    return job


def job_view(job, v: Viewer) -> dict:
    """The job as this viewer may see it: a town clerk is not shown other towns' workers or problems."""
    d = job.as_dict()
    d["state_label"] = STATE_LABELS[job.state]
    if v.towns is None:
        return d
    mine = tuple(v.towns)
    if d.get("result"):
        r = dict(d["result"])
        for key in ("new_workers", "pay_changes", "consequence_changes", "summary"):
            r.pop(key, None)
        d["result"] = r
    if d.get("error"):
        e = dict(d["error"])
        probs = e.get("problems") or []
        shown = [p for p in probs if str(p.get("file", "")).startswith(mine)]
        e["problems"], e["hidden"] = shown, len(probs) - len(shown)
        e.pop("trace", None)
        d["error"] = e
    return d


@router.get("/jobs/{job_id}.json")
def job_json(request: Request, job_id: int, v: Viewer = Depends(viewer)):
    return JSONResponse(job_view(visible_job(request, v, job_id), v))


@router.get("/jobs/{job_id}")
def job_page(request: Request, job_id: int, v: Viewer = Depends(viewer)):
    job = visible_job(request, v, job_id)
    from ...notices import DOCUMENTS
    return page(request, "job.html", job=job_view(job, v), month_label=month_label, documents=DOCUMENTS)
