"""The background tasks: each is a few lines over the application layer (engine/app), run by a
worker process (engine/web/jobs.py), reporting progress through its JobContext.

    run_month    the towns' uploads of a month combined, scored, stored, period rules, pay sheet
    print_pack   a stored month's print pack, as a draft or with its numbered notices issued
    roster       the office's patrol roster of a month, solved and checked rule by rule
    roster_town  a town's roster of a month solved, or re-planned from a date after leave (engine/web/rosters.py)
"""
from __future__ import annotations

import csv
import json
import time
from pathlib import Path

from ..app.month import month_results, summary_lines
from ..app.notices import Issue, make_notices, prepare_pack
from ..app.uploads import Part, run_assembled
from ..mapping import KIND_LABELS
from .jobs import JobContext

__all__ = ["TASKS", "upload_label", "month_dir", "inputs_dir", "print_dir", "ORIGINS"]

ORIGINS = "origins.json"


def month_dir(data: Path, month: str) -> Path:
    return data / "months" / month


def print_dir(data: Path, month: str) -> Path:
    return month_dir(data, month) / "print"


def roster_dir(data: Path, month: str) -> Path:
    return data / "rosters" / month


def month_roster(data: Path, office: dict, month: str) -> str | None:
    """The roster printed with a month's pack: the one solved here for the month, else the office's."""
    own = roster_dir(data, month)
    return str(own) if (own / "roster.json").is_file() else office["roster_dir"]


def town_rosters(data: Path, month: str) -> dict[str, Path]:
    """town -> the roster that town published on the roster page for the month (printed for it)."""
    from .rosters import PUBLISHED, is_published, town_dir, towns_with_rosters

    folders = {t: town_dir(data, month, t) for t in towns_with_rosters(data, month)}
    return {t: f / PUBLISHED for t, f in folders.items() if is_published(f)}


def inputs_dir(data: Path, month: str, job_id: int) -> Path:
    return data / "inputs" / month / f"run-{job_id}"


def upload_label(row: dict) -> str:
    """How an upload is named in problems and on a worker's page: 鹤山镇 月度指标表（指标.xlsx）."""
    return f"{row['town']} {KIND_LABELS[row['kind']]}（{row['original_name']}）"


def _rows(path: str) -> int:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return max(0, sum(1 for r in csv.reader(fh) if any(c.strip() for c in r)) - 1)


def run_month(ctx: JobContext, params: dict) -> dict:
    office = ctx.store.office(ctx.job.office_id)
    month = params["month"]
    ups = ctx.store.latest_uploads(office["id"], month)
    parts = [Part(u["town"], u["kind"], upload_label(u), str(ctx.data_dir / u["path"])) for u in ups]
    folder = inputs_dir(ctx.data_dir, month, ctx.job.id)
    if ctx.job.attempts > 1 and _stored_from(ctx.data_dir, month, folder):
        return _already_stored(ctx, office, month, parts, ups, folder)
    ctx.stage("合并各镇街数据并检查")
    counted = {}

    def progress(k: int) -> None:
        if not counted:
            counted[1] = True
            ctx.stage("评分", total=_rows(str(folder / "workers.csv")))
        ctx.advance(k)

    report, origins = run_assembled(office["policy_paths"], month, parts, folder, ctx.data_dir,
                                    month_dir(ctx.data_dir, month), unit=office["unit"], progress=progress)
    _write_origins(folder, origins, ups)
    s = report.summary
    ctx.store.audit(user={"username": ctx.job.created_by, "office_id": office["id"]}, action="month.run",
                    target=f"{month}（任务 {ctx.job.id}）", before={"已存入": report.replaced},
                    after={"镇街": sorted({p.town for p in parts}), "其后重算月份": report.later_months,
                           "实发变化": len(report.pay_changes)})
    return {"month": month, "replaced": report.replaced, "new_workers": report.new_workers,
            "later_months": report.later_months, "outputs": report.outputs,
            "towns": sorted({p.town for p in parts}),
            "summary": None if s is None or not s.applied else {
                "withheld_workers": s.withheld_workers, "withheld_total": str(s.withheld_total),
                "criticised": s.criticised, "commended": s.commended, "lines": summary_lines(s)},
            "pay_changes": report.pay_changes, "consequence_changes": report.consequence_changes,
            "notes": report.notes}


def _write_origins(folder: Path, origins, ups: list[dict]) -> None:
    (folder / ORIGINS).write_text(json.dumps({"files": origins.as_json(), "uploads": {upload_label(u): u["id"] for u in ups}},
                                             ensure_ascii=False), encoding="utf-8")


def _stored_from(data: Path, month: str, folder: Path) -> bool:
    """Whether the history's `month` was stored from the files of `folder` (this job's own inputs):
    then a retried job's first attempt stored it just before its worker died."""
    from ..errors import HistoryError

    try:
        stored = month_results(data, month)
    except HistoryError:
        return False
    path = ((stored.get("inputs") or {}).get("workers") or {}).get("path")
    return bool(path) and Path(path).resolve().parent == folder.resolve()


def _already_stored(ctx: JobContext, office: dict, month: str, parts: list, ups: list[dict], folder: Path) -> dict:
    """A retried run whose month is already stored: nothing is stored again; what the first attempt
    may not have written after storing it (the rows' origins) is written from the same uploads."""
    import tempfile

    from ..app.uploads import assemble

    ctx.stage("本月已由本任务存入（上次执行在存入后中断），不再重复存入")
    if not (folder / ORIGINS).is_file():
        with tempfile.TemporaryDirectory(dir=folder.parent) as scratch:
            _files, origins = assemble(office["policy_paths"], month, parts, scratch)
        _write_origins(folder, origins, ups)
    return {"month": month, "replaced": False, "new_workers": [], "later_months": [], "outputs": [],
            "towns": sorted({p.town for p in parts}), "summary": None, "pay_changes": [], "consequence_changes": [],
            "stored_before_retry": True}


def print_pack(ctx: JobContext, params: dict) -> dict:
    office = ctx.store.office(ctx.job.office_id)
    month = params["month"]
    ctx.stage("读取发文设置和本月结果")
    results = month_results(ctx.data_dir, month)
    register = (results.get("inputs") or {}).get("workers", {}).get("path")
    formats = set(params["formats"]) if params.get("formats") else None
    plan = prepare_pack(office=office["settings_path"], data=ctx.data_dir, formats=formats,
                        roster_dir=month_roster(ctx.data_dir, office, month), town_rosters=town_rosters(ctx.data_dir, month),
                        workers=register if register and Path(register).is_file() else None, jobs=2)
    issue = Issue(date=params.get("date") or None) if params.get("issue") else None
    ctx.stage("出文并生成打印材料（PDF 需要一些时间）" if issue else "生成送审稿（PDF 需要一些时间）")
    counted: list[int] = []

    def progress(done: int, total: int) -> None:   # files written of the pack's total
        if not counted:
            counted.append(total)
            ctx.stage("出文并生成打印材料" if issue else "生成送审稿", total=total)
        ctx.advance(1)

    report = make_notices(month, ctx.data_dir, print_dir(ctx.data_dir, month), plan, issue=issue, progress=progress)
    pack = report.pack
    if report.issued:
        ctx.store.audit(user={"username": ctx.job.created_by, "office_id": office["id"]}, action="numbers.issue",
                        target=month, after=report.issued)
    return {"month": month, "files": pack.files, "pages": pack.pages, "skipped": pack.skipped, "notes": pack.notes,
            "numbers": pack.numbers, "issued": report.issued}


def _solve_progress(ctx: JobContext):
    """The solver's progress (reported from its threads) as the job's stage, at most once a second."""
    import threading

    lock, last = threading.Lock(), [0.0]

    def report(p) -> None:
        with lock:
            t = time.monotonic()
            if t - last[0] < 1.0:
                return
            last[0] = t
        ctx.queue.report(ctx.job.id, done=min(int(p.elapsed), int(p.time_limit)), total=max(1, int(p.time_limit)),
                         stage=f"{p.message}（已用 {p.elapsed:.0f} 秒，时限 {p.time_limit:.0f} 秒）")
    return report


def roster(ctx: JobContext, params: dict) -> dict:
    """Solve the office's month roster (every town) from its roster problem, every hard rule checked
    independently, and write it where the month's print pack takes it (app.rosters, as `wangge roster`)."""
    from ..app.rosters import publish, solve_roster

    office = ctx.store.office(ctx.job.office_id)
    month, limit = params["month"], float(params.get("time_limit") or 20)
    ctx.stage(f"求解排班（最多约 {limit:g} 秒）")
    run = solve_roster(office["roster_problem"], month=month, time_limit=limit, progress=_solve_progress(ctx))
    ctx.stage("逐条校验硬性规则并写出")
    files = publish(run, roster_dir(ctx.data_dir, month))
    broken = [f"{c.label}：{len(c.violations)} 处" for c in run.failed]
    return {"month": month, "files": files, "rules": len(run.checks), "broken": broken,
            "first_valid_seconds": run.roster.first_valid_seconds}


def roster_town(ctx: JobContext, params: dict) -> dict:
    """A town's month roster solved, or re-planned from a date keeping the published one before it and
    changing as little as possible from it on, as the town's working roster (engine/web/rosters.py)."""
    from ..app.rosters import replan_roster, solve_roster
    from . import rosters as wr

    office = ctx.store.office(ctx.job.office_id)
    month, town, limit = params["month"], params["town"], float(params.get("time_limit") or 20)
    folder = wr.town_dir(ctx.data_dir, month, town)
    ctx.stage("读取排班数据")
    prob = wr.problem(office, month, town, folder)
    ctx.stage(f"求解排班（最多约 {limit:g} 秒）")
    if params.get("from"):
        run = replan_roster(prob, folder / wr.PUBLISHED, params["from"], time_limit=limit, progress=_solve_progress(ctx))
        changed = wr.changed_cells(folder / wr.PUBLISHED, run)
    else:
        run = solve_roster(prob, time_limit=limit, progress=_solve_progress(ctx))
        changed = []
    ctx.stage("逐条校验硬性规则")
    meta = {"source": "replanned" if params.get("from") else "solved", "from": params.get("from"), "changed": changed,
            "problems": [], "edits": [], "published": False, "job": ctx.job.id}
    wr.save_state(folder, run, meta)
    return {"month": month, "town": town, "source": meta["source"], "from": params.get("from"),
            "rules": len(run.checks), "broken": [f"{c.label}：{len(c.violations)} 处" for c in run.failed],
            "changes": run.change_count, "changed_cells": len(changed), "kind": run.problem.kind}


def policy_preview(ctx: JobContext, params: dict) -> dict:
    """A draft policy on the last stored months beside what is stored (engine/app/policy_versions.py)."""
    from ..app.policy_versions import preview_change
    from .versions import version, version_path

    row = version(ctx.store, ctx.job.office_id, params["version"])
    months = list(params["months"])
    from ..periods import month_label

    ctx.stage("读取已存入月份的输入文件")
    report = preview_change(version_path(ctx.data_dir, row), ctx.data_dir, months,
                            progress=lambda m: ctx.stage(f"按草稿重算{month_label(m)}"))
    for m in report["months"]:      # the page lists who changes; the others are counted
        m["workers"] = [w for w in m["workers"] if w["changed"]]
    return {"version": row["id"], "label": params.get("label", ""), **report}


def _appeal(ctx: JobContext, aid: int) -> dict:
    from sqlalchemy import select

    from .store import appeals

    row = ctx.store.one(select(appeals).where(appeals.c.id == aid))
    row["changes"] = json.loads(row["changes"])
    row["result"] = json.loads(row["result"]) if row["result"] else None
    return row


def _corrected_before_retry(ctx: JobContext, a: dict, workers: Path):
    """The report of an appeal's correction that a retried job's first attempt stored just before its
    worker died (the month stored from this appeal's corrected files, the history's correction record
    carrying the appeal's note): the month is not corrected twice (run again, it would be refused as
    "run again since the appeal" and the appeal marked failed though corrected).  None otherwise."""
    from ..app.month import RunReport, stored_months
    from ..errors import HistoryError

    try:
        if not _stored_from(ctx.data_dir, a["month"], workers.parent):
            return None
        months, corrections = stored_months(ctx.data_dir)
    except HistoryError:
        return None
    mine = [c for c in corrections if c["month"] == a["month"] and c["note"].startswith(f"申诉 {a['id']}：")]
    if not mine:
        return None
    ctx.stage("本月已按本申诉更正（上次执行在存入后中断），不再重复更正")
    s = mine[-1]["summary"]
    return RunReport(a["month"], True, [], [m.month for m in months if m.month > a["month"]],
                     s.get("score_changes", []), s.get("consequence_changes", []), s.get("pay_changes", []))


def correction(ctx: JobContext, params: dict) -> dict:
    """An approved appeal: the month run again from the corrected files, later months' period rules again."""
    from sqlalchemy import update

    from ..app.corrections import run_correction
    from ..app.month import MonthFiles
    from .store import appeals

    office = ctx.store.office(ctx.job.office_id)
    a = _appeal(ctx, params["appeal"])
    rec = a["changes"]
    f = {k: str(ctx.data_dir / p) for k, p in rec["files"].items()}
    files = MonthFiles(f["workers"], f["metrics"], f.get("events"), no_events=rec.get("no_events", False),
                       records=f.get("records"))
    ctx.stage(f"按更正后的数据重算{a['month']}，并重算其后月份的跨月规则")
    done = _corrected_before_retry(ctx, a, Path(f["workers"])) if ctx.job.attempts > 1 else None
    try:
        report = done or run_correction(office["policy_paths"], a["month"], files, ctx.data_dir, month_dir(ctx.data_dir, a["month"]),
                                based_on=rec["based_on"], note=f"申诉 {a['id']}：{a['reason']}", unit=office["unit"])
    except BaseException:
        ctx.store.run(update(appeals).where(appeals.c.id == a["id"]).values(state="failed"))
        raise
    months = sorted({a["month"]} | {c["month"] for c in report.consequence_changes + report.pay_changes})
    who: dict[str, dict] = {}
    for m in months:
        for w in month_results(ctx.data_dir, m)["workers"]:
            who.setdefault(w["worker_id"], {"name": w.get("name", ""), "town": w.get("town") or ""})
    involved = {r["worker_id"] for r in report.score_changes + report.consequence_changes + report.pay_changes}
    result = {"month": a["month"], "score_changes": report.score_changes, "consequence_changes": report.consequence_changes,
              "pay_changes": report.pay_changes, "later_months": report.later_months, "notes": report.notes,
              "names": {w: who.get(w, {}).get("name", "") for w in involved},
              "towns": {w: who.get(w, {}).get("town", "") for w in involved}}
    with ctx.store.engine.begin() as c:
        c.execute(update(appeals).where(appeals.c.id == a["id"]).values(
            state="corrected", result=json.dumps(result, ensure_ascii=False)))
        ctx.store.audit(user={"username": ctx.job.created_by, "office_id": office["id"]}, action="month.correct",
                        target=f"{a['month']}（申诉 {a['id']}，任务 {ctx.job.id}）", conn=c,
                        before={w["worker_id"]: {"得分": w["old_score"], "档次": w["old_band"], "绩效": w["old_pay"]}
                                for w in report.score_changes},
                        after={"得分": {w["worker_id"]: {"得分": w["new_score"], "档次": w["new_band"], "绩效": w["new_pay"]}
                                      for w in report.score_changes},
                               "跨月处理": [f"{x['month']} {x['worker_id']} {x['rule_label']} {x['change']}"
                                        for x in report.consequence_changes],
                               "其后重算月份": report.later_months})
    return {"appeal": a["id"], **result}


def correction_notice(ctx: JobContext, params: dict) -> dict:
    """The 更正通知 of a corrected appeal: a draft, or issued with its own number from the register."""
    from sqlalchemy import update

    from ..app.notices import Issue, make_correction_notice
    from ..periods import month_label
    from .store import appeals

    office = ctx.store.office(ctx.job.office_id)
    a = _appeal(ctx, params["appeal"])
    res = a["result"] or {}
    worker = next((w for w in month_results(ctx.data_dir, a["month"])["workers"] if w["worker_id"] == a["worker_id"]),
                  {"worker_id": a["worker_id"], "name": a["worker_name"], "town": a["town"]})
    case = {"month": a["month"], "worker": worker, "reason": a["reason"], "changes": a["changes"]["changes"],
            "score_changes": res.get("score_changes", []), "consequence_changes": res.get("consequence_changes", []),
            "pay_changes": res.get("pay_changes", []), "names": res.get("names", {})}
    issue = Issue(date=params.get("date") or None) if params.get("issue") else None
    ctx.stage("出文并生成更正通知" if issue else "生成更正通知（送审稿）", total=2)
    got = make_correction_notice(ctx.data_dir, ctx.data_dir / "appeals" / a["folder"] / "notice", office["settings_path"],
                                 case, key=f"correction-{a['id']}",
                                 title=f"{month_label(a['month'])}考核结果更正通知（{a['worker_name']}）", issue=issue,
                                 progress=lambda done, total: ctx.advance(1))
    with ctx.store.engine.begin() as c:
        c.execute(update(appeals).where(appeals.c.id == a["id"]).values(notice=json.dumps(got, ensure_ascii=False)))
        if got["issued"]:
            ctx.store.audit(user={"username": ctx.job.created_by, "office_id": office["id"]}, action="notice.issue",
                            target=f"申诉 {a['id']} 更正通知", after=got["issued"], conn=c)
    return {"appeal": a["id"], "month": a["month"], **got}


TASKS = {"run_month": run_month, "print_pack": print_pack, "roster": roster, "roster_town": roster_town,
         "policy_preview": policy_preview,
         "correction": correction, "correction_notice": correction_notice}
