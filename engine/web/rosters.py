"""A town's patrol roster of a month on the page: the working roster (solved, re-planned or adjusted
by hand), its earlier states for undo, the leave entered on the page, and the published roster.

Everything goes through engine/app/rosters.py: solving and re-planning (`solve_roster`,
`replan_roster`), checking a hand adjustment with every hard rule at once (`check_edited`, the
roster's own independent checker, each broken rule located at its cell in Chinese) and publishing
(`publish`).  Files, per month and town, under the data folder:

    rosters/<month>/towns/<town>/
        draft.pickle, draft.json   the working roster (a RosterRun) and what the page says about it
        undo/NNNN.pickle, .json    earlier states, newest last
        leave.json                 leave reported on the page, applied to every solve and re-plan
        published/                 the published roster (排班.xlsx, the CSV tables, roster.json)

Every state is written to a temporary file and renamed, so that a failed write leaves the previous
state as it was.  The pickles are written and read by this program only (never uploaded)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import pickle
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ..app import rosters as app_rosters
from ..errors import DataError, InputError, Problem

DRAFT, UNDO, LEAVE, PUBLISHED = "draft", "undo", "leave.json", "published"
PEOPLE_SHEET, GRIDS_SHEET = "排班_按人员", "排班_按网格"
UNDO_KEEP = 30
PAGE_LEAVE = "网页登记的请假"
PAGE_REPLAN = "重新调整"


def town_dir(data: Path, month: str, town: str) -> Path:
    return Path(data) / "rosters" / month / "towns" / town


def towns_with_rosters(data: Path, month: str) -> list[str]:
    root = Path(data) / "rosters" / month / "towns"
    return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def months_with_rosters(data: Path) -> list[str]:
    root = Path(data) / "rosters"
    return sorted((p.name for p in root.iterdir() if (p / "towns").is_dir()), reverse=True) if root.is_dir() else []


# --------------------------------------------------------------------------- the problem

def problem_towns(office: dict, month: str) -> list[str]:
    return app_rosters.load(office["roster_problem"], month=month).towns


def problem_kind(office: dict) -> str:
    """patrol (巡查排班 by town and grid) or shifts (a duty room's 值班表 by person and shift), as its
    problem.yaml says (read alone: a month whose tables have problems still has a kind)."""
    from ..sources import load_yaml

    try:
        y = load_yaml(Path(office["roster_problem"]) / "problem.yaml")
    except InputError:
        return "patrol"
    return "shifts" if isinstance(y, dict) and y.get("kind") == "shifts" else "patrol"


def leaves(folder: Path) -> list[dict]:
    path = folder / LEAVE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []


def problem(office: dict, month: str, town: str, folder: Path):
    """The office's roster problem of the month restricted to one town, with the leave entered on the
    page added to the problem folder's own."""
    from ..roster.model import Leave

    prob = app_rosters.load(office["roster_problem"], month=month)
    if town not in prob.towns:
        raise DataError([Problem(office["roster_problem"], None, "镇街", town,
                                 "排班数据中的镇街：" + "、".join(prob.towns))])
    prob = prob.restrict([town])
    for i, lv in enumerate(leaves(folder), 1):
        prob.leaves.append(Leave(lv["person"], dt.date.fromisoformat(lv["start"]), dt.date.fromisoformat(lv["end"]),
                                 lv.get("reason") or "请假", (PAGE_LEAVE, i)))
    return prob


def add_leave(prob, folder: Path, person: str, start: str, end: str, reason: str, by: str) -> dict:
    """Leave reported on the page, checked (a person of the town, two days of the month in order)."""
    bad = []
    if person not in prob.people:
        bad.append(Problem(PAGE_LEAVE, None, "人员", person or None, "本镇街排班中的人员"))
    days = {}
    for key, text in (("开始日期", start), ("结束日期", end)):
        try:
            days[key] = dt.date.fromisoformat(text)
        except ValueError:
            bad.append(Problem(PAGE_LEAVE, None, key, text or None, "日期 YYYY-MM-DD"))
            continue
        if days[key] not in prob.cal.dates:
            bad.append(Problem(PAGE_LEAVE, None, key, text, f"排班期间内的日期（{prob.cal.start}～{prob.cal.end}）"))
    if len(days) == 2 and days["结束日期"] < days["开始日期"]:
        bad.append(Problem(PAGE_LEAVE, None, "结束日期", end, f"不早于开始日期 {start}"))
    if bad:
        raise DataError(bad)
    entry = {"person": person, "name": prob.people[person].name, "start": start, "end": end,
             "reason": reason.strip()[:40] or "请假", "by": by, "at": dt.datetime.now().isoformat(timespec="seconds")}
    _write(folder / LEAVE, json.dumps(leaves(folder) + [entry], ensure_ascii=False, indent=1).encode())
    return entry


# --------------------------------------------------------------------------- states

def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_state(folder: Path) -> tuple[Any, dict] | None:
    """The working roster (a RosterRun) and its notes, or None before the first solve."""
    pk, js = folder / f"{DRAFT}.pickle", folder / f"{DRAFT}.json"
    if not (pk.is_file() and js.is_file()):
        return None
    return pickle.loads(pk.read_bytes()), json.loads(js.read_text(encoding="utf-8"))


def save_state(folder: Path, run, meta: dict, *, push: bool = True) -> None:
    """The new working roster; the one it replaces goes on the undo stack (`push`)."""
    old = folder / f"{DRAFT}.pickle"
    if push and old.is_file():
        stack = folder / UNDO
        stack.mkdir(parents=True, exist_ok=True)
        n = max((int(p.stem) for p in stack.glob("*.pickle")), default=0) + 1
        shutil.copyfile(folder / f"{DRAFT}.json", stack / f"{n:04d}.json")
        shutil.copyfile(old, stack / f"{n:04d}.pickle")
        for p in sorted(stack.glob("*.pickle"))[:-UNDO_KEEP]:
            p.unlink()
            p.with_suffix(".json").unlink(missing_ok=True)
    meta = dict(meta, at=dt.datetime.now().isoformat(timespec="seconds"))
    _write(folder / f"{DRAFT}.pickle", pickle.dumps(run))
    _write(folder / f"{DRAFT}.json", json.dumps(meta, ensure_ascii=False).encode())


def undo_depth(folder: Path) -> int:
    return len(list((folder / UNDO).glob("*.pickle")))


def undo(folder: Path) -> dict | None:
    """Back to the state before the last change; its notes, or None when there is nothing to undo."""
    stack = sorted((folder / UNDO).glob("*.pickle"))
    if not stack:
        return None
    last = stack[-1]
    _write(folder / f"{DRAFT}.pickle", last.read_bytes())
    _write(folder / f"{DRAFT}.json", last.with_suffix(".json").read_bytes())
    last.unlink()
    last.with_suffix(".json").unlink(missing_ok=True)
    return json.loads((folder / f"{DRAFT}.json").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- hand adjustment

def _read_csv(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8", newline="")


def edit_cell(prob, folder: Path, sheet: str, key: str, day: int, value: str, by: str) -> dict:
    """One cell of the working roster changed (a person's day in 排班_按人员: a shift, 休; a grid's day in
    排班_按网格: who patrols it), and the whole roster checked again, every hard rule at once, as a roster
    adjusted by hand in 排班.xlsx is.  The change is kept even when it breaks rules (the page says which,
    at their cells; undo takes it back; a roster that breaks one is not published).  DataError when the
    cell does not exist or its new value cannot be read at all (nothing is changed)."""
    state = load_state(folder)
    if state is None:
        raise DataError([Problem(sheet, None, "排班", None, "先排出本月排班")])
    run, meta = state
    if sheet not in (PEOPLE_SHEET, GRIDS_SHEET) or not 0 <= day < prob.cal.days:
        raise DataError([Problem(sheet, None, "单元格", f"{key} 第{day + 1}天", "排班表中的一格")])
    tmp = Path(tempfile.mkdtemp(prefix="wangge-roster-edit-"))
    try:
        app_rosters.publish(run, tmp / "t")
        _ids_in_grid_sheet(run, tmp / "t" / f"{GRIDS_SHEET}.csv")
        path = tmp / "t" / f"{sheet}.csv"
        rows = _read_csv(path)
        line = next((i for i, r in enumerate(rows) if i and r and r[0] == key), None)
        if line is None:
            raise DataError([Problem(sheet, None, "编号", key, f"「{sheet}」中的一行")])
        first = first_day(rows[0], run)
        before = rows[line][first + day]
        rows[line][first + day] = value.strip()
        _write_csv(path, rows)
        checked = app_rosters.check_edited(prob, tmp / "t")
        if checked.run is None:          # the cell could not be read: nothing changes
            raise DataError([_rename(p, tmp / "t") for p in checked.problems])
        heads = rows[0]
        problems = [_located(_rename(p, tmp / "t"), heads, first, tmp / "t") for p in checked.problems]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    edit = {"sheet": sheet, "key": key, "day": day, "before": before, "after": value.strip(), "by": by}
    meta = dict(meta, source="edited", problems=problems, published=False, edits=list(meta.get("edits", [])) + [edit])
    save_state(folder, checked.run, meta)
    return {"edit": edit, "problems": problems}


def _ids_in_grid_sheet(run, path: Path) -> None:
    """排班_按网格 with each patroller's id in place of their name: a town may have two people of one
    name, and a cell read back by name would then be ambiguous (the reader takes a name or an id)."""
    if not path.is_file():
        return
    ro, prob = run.roster, run.problem
    rows = _read_csv(path)
    first = first_day(rows[0], run)
    for r in rows[1:]:
        for d in range(prob.cal.days):
            who = ro.patrol.get((r[0], d))
            cell = r[first + d]
            if who and cell.startswith(prob.people[who].name):
                r[first + d] = who + cell[len(prob.people[who].name):]
    _write_csv(path, rows)


def first_day(header: list[str], run) -> int:
    """The column of a roster table's first day, from its header: 排班_按人员 of a roster by person and
    shift has no 班组 column (four before the first day), the patrol roster's tables five."""
    from ..roster.output import day_headers

    return header.index(day_headers(run.roster)[0])


def _rename(p: Problem, folder: Path) -> Problem:
    name = Path(p.file).stem if p.file and Path(p.file).parent == folder else p.file
    return Problem(name, p.line, p.field, p.found, p.expected, p.hint)


def _located(p: Problem, heads: list[str], first: int, folder: Path) -> dict:
    """A rule broken by the roster, as the page lists and marks it: the sheet, the row's id and the day."""
    day = heads.index(p.field) - first if p.field in heads[first:] else None
    key = None
    if p.line and p.file in (PEOPLE_SHEET, GRIDS_SHEET):
        rows = _read_csv(folder / f"{p.file}.csv")
        key = rows[p.line - 1][0] if 0 < p.line <= len(rows) else None
    return {"sheet": p.file, "key": key, "day": day, "field": p.field, "found": None if p.found is None else str(p.found),
            "expected": p.expected, "text": str(p)}


# --------------------------------------------------------------------------- re-planning and publishing

def changed_cells(published: Path, run) -> list[list]:
    """[sheet, key, day] of every cell the working roster has otherwise than the published one."""
    pub = json.loads((published / "roster.json").read_text(encoding="utf-8"))
    ro, n = run.roster, run.problem.cal.days
    out = []
    for pid in run.problem.people:
        row = pub["duty"].get(pid)
        if row is not None:
            out += [[PEOPLE_SHEET, pid, d] for d in range(n) if row[d] != ro.duty.get((pid, d))]
    for g, row in pub["patrol"].items():
        if g in run.problem.grids:
            out += [[GRIDS_SHEET, g, d] for d in range(n) if row[d] != ro.patrol.get((g, d))]
    return out


def load_published(folder: Path):
    """The published roster as a RosterRun (for its print), or None."""
    pk = folder / f"{PUBLISHED}.pickle"
    return pickle.loads(pk.read_bytes()) if pk.is_file() and is_published(folder) else None


def is_published(folder: Path) -> bool:
    """Whether the town's roster folder has a published roster."""
    return (folder / PUBLISHED / "roster.json").is_file()


def printed(folder: Path) -> list[str]:
    """The published roster's printed files (巡查排班表-…, 值班表-…: PDF first, then HTML)."""
    pub = folder / PUBLISHED
    names = [p.name for p in pub.iterdir() if p.suffix in (".pdf", ".html")] if pub.is_dir() else []
    return sorted(names, key=lambda n: (not n.endswith(".pdf"), n))


def check_from(prob, start: str) -> None:
    """DataError unless `start` is a day of the month (where a re-plan begins)."""
    try:
        ok = dt.date.fromisoformat(start) in prob.cal.dates
    except ValueError:
        ok = False
    if not ok:
        raise DataError([Problem(PAGE_REPLAN, None, app_rosters.FROM_ARG, start or None,
                                 f"排班期间内的日期 YYYY-MM-DD（{prob.cal.start}～{prob.cal.end}）")])


def publish(folder: Path, by: str, office: dict | None = None) -> list[str]:
    """The working roster published (app.rosters.publish): refused while it breaks a hard rule.  With the
    `office`, its printed roster (巡查排班表 or 值班表, PDF and HTML, under the office's 发文设置) is
    published with it (TemplateError with every problem of a bad settings file)."""
    state = load_state(folder)
    if state is None:
        raise DataError([Problem(PUBLISHED, None, "排班", None, "先排出本月排班")])
    run, meta = state
    if run.failed or meta.get("problems"):
        broken = [c.label for c in run.failed] or sorted({p["expected"].split("」")[0].lstrip("符合「")
                                                          for p in meta["problems"]})
        raise DataError([Problem(PUBLISHED, None, "硬性规则", "、".join(broken), "全部硬性规则校验通过的排班",
                                 "先撤销或改正违反规则的调整")])
    settings = None if office is None else app_rosters.print_settings(office.get("roster_problem") or folder,
                                                                       office.get("settings_path"))[0]
    files = app_rosters.publish(run, folder / PUBLISHED, settings=settings, print_patrol=True)
    _write(folder / f"{PUBLISHED}.pickle", pickle.dumps(run))
    save_state(folder, run, dict(meta, published=True, published_by=by, changed=[]), push=False)
    return files
