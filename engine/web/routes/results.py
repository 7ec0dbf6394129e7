"""Results: the month's ranking with filters and charts, a worker's findings and months (every page
also as JSON: add .json to the path)."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse

from ...app.results import (NotVisible, RankingFilter, deductions_by_rule, month_fingerprint, places, ranking,
                            score_histogram, towns_side_by_side, trend, visible, worker_entry, worker_history)
from ...mapping import Origins
from ...periods import grade_counts, month_label
from ..charts import histogram, hbars, line, money_text
from ..deps import Viewer, page, refuse, require, require_town, viewer, web_of
from ..tasks import ORIGINS
from .month import stored, valid_month

router = APIRouter()


def _results(request: Request, month: str) -> dict:
    v = request.state.viewer
    valid_month(month)
    if not any(m.month == month for m in stored(v)):
        raise HTTPException(404, f"历史中没有 {month_label(month)}的结果：请先在「本月数据」上传并运行")
    return v.results.get(month)


@router.get("/results")
def latest(request: Request, v: Viewer = Depends(viewer)):
    months = stored(v)
    if not months:
        return RedirectResponse("/?msg=", status_code=303)
    return RedirectResponse(f"/results/{months[-1].month}", status_code=303)


def _filter(request: Request, v: Viewer, res: dict) -> tuple[RankingFilter, dict]:
    q = request.query_params
    flt = RankingFilter(town=q.get("town") or None, community=q.get("community") or None, band=q.get("band") or None)
    require_town(request, v, flt.town)
    return flt, {"town": flt.town or "", "community": flt.community or "", "band": flt.band or ""}


def _row(w: dict) -> dict:
    return {"rank": w["rank"], "peer_rank": w.get("peer_rank"), "peer_size": w.get("peer_size"),
            "worker_id": w["worker_id"], "name": w["name"], "town": w.get("town"), "community": w.get("community"),
            "grid": w.get("grid"), "score": w["score"], "stars": w.get("stars"), "failed": w.get("failed", False),
            "band": (w.get("band") or {}).get("label", ""), "band_id": (w.get("band") or {}).get("id", ""),
            "pay": w.get("pay"), "withheld": w.get("withheld"), "payable": w.get("payable", w.get("pay")),
            "deductions": sum(1 for f in w.get("findings", []) if f["kind"] == "deduction"),
            "period": notable(w),
            "grades": {f["rule_label"]: f["grade_label"] for f in w.get("period_findings", [])
                       if f.get("grade_label") is not None}}


def notable(w: dict) -> list[str]:
    """The period findings worth a column: those that withhold money, criticise or commend (not the
    running quarter and year scores every worker has)."""
    return [f["rule_label"] for f in w.get("period_findings", [])
            if f.get("criticise") or f.get("commend") or f.get("amount", "0.00") not in ("0", "0.00")]


def ranking_data(request: Request, v: Viewer, month: str) -> dict:
    require(request, v, "results")
    res = _results(request, month)
    flt, params = _filter(request, v, res)
    rows = ranking(res, v.towns, flt)
    seen = visible(res, v.towns)
    return {"month": month, "policy": res["policy"], "filter": params, "places": places(res, v.towns),
            "workers": [_row(w) for w in rows], "all": seen, "shown": rows,
            "grade_rules": [label for label, _ in grade_counts(seen)]}   # a column each (月度考核等次, 季度考核等次)


@router.get("/results/{month}.json")
def ranking_json(request: Request, month: str, v: Viewer = Depends(viewer)):
    d = ranking_data(request, v, month)
    return JSONResponse({"month": d["month"], "policy": {k: d["policy"].get(k) for k in ("id", "name", "version")},
                         "filter": d["filter"], "workers": d["workers"]})


@router.get("/results/{month}")
def ranking_page(request: Request, month: str, v: Viewer = Depends(viewer)):
    web = web_of(request)
    d = ranking_data(request, v, month)
    shown = d["shown"]
    fp = month_fingerprint(v.data)
    get = lambda m: v.results.get(m, fp)   # noqa: E731
    towns = towns_side_by_side(d["all"])
    charts = {
        "hist": histogram(score_histogram(shown)),
        "rules": hbars(deductions_by_rule(shown), "points", "label", fmt=lambda p: f"{p} 分",
                       title=lambda r: f"{r['label']}（{r['rule_id']}）：{r['workers']} 人，共扣 {r['points']} 分"),
        "towns": hbars(towns, "mean", "town", fmt=str,
                       title=lambda r: f"{r['town']}：{r['workers']} 人，平均 {r['mean']} 分，最低 {r['min']}，最高 {r['max']}"),
        "trend": line(trend(v.data, v.towns, results_of=get), "mean", "month"),
    }
    months = [m.month for m in stored(v)]
    return page(request, "results.html", d=d, towns=towns, charts=charts, label=month_label(month), months=months,
                month_label=month_label, money=money_text)


def _sources(place, w: dict, inputs: dict) -> dict:
    """For each finding's input row: the upload and the row in the clerk's own file, when the month was
    run from uploads (origins.json beside the combined inputs); else the file and row as stored.
    Findings name their file by its name; `inputs` (results.json's) gives its full path."""
    full = {Path(v["path"]).name: v["path"] for v in (inputs or {}).values() if v and v.get("path")}
    out = {}
    cache: dict[str, tuple[Origins, dict] | None] = {}
    data = place.data.resolve()
    for f in w.get("findings", []):
        src = f.get("source") or {}
        name, row = src.get("file"), src.get("row")
        if not name:
            continue
        file = full.get(Path(name).name, name)
        folder = Path(file).resolve().parent
        key = str(folder)
        if key not in cache:
            cache[key] = None
            if data in folder.parents and (folder / ORIGINS).is_file():
                raw = json.loads((folder / ORIGINS).read_text(encoding="utf-8"))
                cache[key] = (Origins.from_json(raw["files"]), raw.get("uploads", {}))
        got = cache[key]
        if got is not None:
            loc = got[0].locate(file, row)
            if loc is not None:
                part, name, r = loc
                out[(name, row)] = {"text": f"{part} 第 {r} 行", "upload": got[1].get(part), "row": r}
                continue
        out[(name, row)] = {"text": f"{Path(file).name} 第 {row} 行" if row else Path(file).name, "upload": None,
                            "row": row}
    return out


def worker_data(request: Request, v: Viewer, month: str, worker_id: str) -> dict:
    require(request, v, "results")
    res = _results(request, month)
    try:
        w = worker_entry(res, worker_id, v.towns)
    except NotVisible:
        raise refuse(request, v, f"{month_label(month)}没有您可查看的网格员 {worker_id[:40]}"
                     + (f"（您只能查看{v.user.town}的网格员）" if v.towns is not None else ""), 404) from None
    return {"month": month, "worker": w, "items": w.get("items", []), "policy": res["policy"],
            "inputs": res.get("inputs") or {}}


@router.get("/results/{month}/workers/{worker_id}.json")
def worker_json(request: Request, month: str, worker_id: str, v: Viewer = Depends(viewer)):
    d = worker_data(request, v, month, worker_id)
    w = dict(d["worker"])
    return JSONResponse({"month": month, "worker": w})


@router.get("/results/{month}/workers/{worker_id}")
def worker_page(request: Request, month: str, worker_id: str, v: Viewer = Depends(viewer)):
    web = web_of(request)
    d = worker_data(request, v, month, worker_id)
    fp = month_fingerprint(v.data)
    hist = worker_history(v.data, worker_id, v.towns, results_of=lambda m: v.results.get(m, fp))
    chart = line(hist, "score", "month", low=0, high=max(float(Decimal(h["score"])) for h in hist) + 5) if hist else None
    return page(request, "worker.html", d=d, w=d["worker"], sources=_sources(v.place, d["worker"], d["inputs"]), history=hist,
                chart=chart, label=month_label(month), month_label=month_label)


@router.get("/workers/{worker_id}")
def worker_latest(request: Request, worker_id: str, v: Viewer = Depends(viewer)):
    """A worker's newest visible month."""
    web = web_of(request)
    fp = month_fingerprint(v.data)
    try:
        hist = worker_history(v.data, worker_id, v.towns, results_of=lambda m: v.results.get(m, fp))
    except NotVisible:
        raise refuse(request, v, f"没有您可查看的网格员 {worker_id[:40]}", 404) from None
    return RedirectResponse(f"/results/{hist[-1]['month']}/workers/{worker_id}#history", status_code=303)
