"""Appeals and corrections (申诉/更正) as use cases: one worker's rows in the files a stored month was
scored from, the same files with that worker's rows corrected (cells changed, rows removed or
added: nothing else can change), those files checked as a month's inputs, and the month run again
as a correction (engine/app/month.run_month with correction=True: later months' period rules are
evaluated again and the report says what appeared or disappeared).

Corrected files are CSV copies with every row on its original row number (a removed row is a blank
line, which the readers skip; an added row comes after the last), so a problem or a finding still
names the row the clerk knows.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..errors import DataError, InputError, Problem
from ..history import History
from ..mapping import KIND_LABELS, _cell_out, _write_rows, canonical_of, read_rows
from ..periods import month_label
from .month import MonthFiles, Policies, RunReport, run_month
from .whatif import stored_files

__all__ = ["WorkerRows", "Edit", "worker_rows", "correct_files", "check_corrected", "run_correction",
           "inputs_fingerprint", "CORRECTION_FIELD", "FILE_LABELS"]

CORRECTION_FIELD = "更正内容"
FILE_LABELS = dict(KIND_LABELS, records="记录表")


PRIVATE = ("phone", "id_number")        # register columns an appeal neither shows nor corrects


@dataclass
class WorkerRows:
    """One input file of a stored month, with the rows of one worker (row number, cells as text)."""
    kind: str
    label: str
    path: str
    header: list[str]
    rows: list[tuple[int, list[str]]]
    id_column: int | None                 # where the worker id stands (for rows added to the file)
    private: tuple[int, ...] = ()         # columns of personal data (phone, id number): shown blank, not corrected


@dataclass
class Edit:
    """What a clerk changes in one file: cells (row -> column index -> new text), rows removed, rows added."""
    cells: dict[int, dict[int, str]] = field(default_factory=dict)
    removed: set[int] = field(default_factory=set)
    added: list[list[str]] = field(default_factory=list)


def _policy_for(policy_paths, month: str):
    return Policies(policy_paths).ps.for_month(month)


def _norm(h: Any) -> str:
    return str(h).strip().replace("\u3000", "").replace(" ", "").lower()


def _id_column(kind: str, header: list[str], policy) -> int | None:
    """The column of the worker id in a file of the month (as the file's reader knows it)."""
    if kind == "records":
        from ..inputs import RECORD_COLUMNS
        names = {_norm(n) for n in ["worker_id"] + list(RECORD_COLUMNS["worker_id"])}
        return next((i for i, h in enumerate(header) if _norm(h) in names), None)
    known = canonical_of(kind, policy)
    return next((i for i, h in enumerate(header) if known.get(_norm(h)) == "worker_id"), None)


def _key_column(kind: str, header: list[str], policy_paths, month: str) -> int | None:
    """The column that names a row of an event log (事件编号), for saying which event was corrected."""
    if kind != "events":
        return None
    known = canonical_of(kind, _policy_for(policy_paths, month))
    return next((i for i, h in enumerate(header) if known.get(_norm(h)) == "event_id"), None)


def _row_text(header: list[str], cells: list[str], id_column: int | None) -> str:
    """A row in words: 事件编号E090，类别矛盾纠纷，… (the worker id left out: it is the appellant's)."""
    return "，".join(f"{h}{c}" for i, (h, c) in enumerate(zip(header, cells)) if c and i != id_column)


def _files_of(files: MonthFiles) -> dict[str, str]:
    out = {"workers": files.workers, "metrics": files.metrics}
    if files.events:
        out["events"] = files.events
    if files.records:
        out["records"] = files.records
    return out


def inputs_fingerprint(data: str | Path, month: str) -> dict[str, str]:
    """kind -> sha256 of the inputs the stored month was scored from (a correction must start from them)."""
    with History(data, create=False) as hist:
        info = next((i for i in hist.months() if i.month == month), None)
        if info is None:
            raise hist.not_stored(month, f"历史中没有 {month_label(month)}（{month}）")
        return {k: v.get("sha256", "") for k, v in (info.inputs or {}).items()}


def worker_rows(policy_paths, data: str | Path, month: str, worker_id: str) -> list[WorkerRows]:
    """The worker's rows in each input file of the stored month (files they have no row in are listed
    with none, so rows can be added there)."""
    with History(data, create=False) as hist:
        files = stored_files(hist, month)
    policy = _policy_for(policy_paths, month)
    out = []
    for kind, path in _files_of(files).items():
        header, rows = read_rows(path)
        col = _id_column(kind, header, policy)
        month_col = next((i for i, h in enumerate(header) if kind == "metrics"
                          and canonical_of(kind, policy).get(_norm(h)) == "month"), None)
        private = tuple(i for i, h in enumerate(header) if canonical_of(kind, policy).get(_norm(h)) in PRIVATE)
        mine = []
        if col is not None:
            for r in rows:
                cells = [_cell_out(r.get(h)) for h in header]
                if cells[col].strip() == worker_id and (month_col is None or cells[month_col].strip() in ("", month)):
                    mine.append((r.row, ["" if i in private else c for i, c in enumerate(cells)]))
        out.append(WorkerRows(kind, FILE_LABELS.get(kind, kind), path, header, mine, col, private))
    return out


def correct_files(policy_paths, data: str | Path, month: str, worker_id: str, edits: Mapping[str, Edit],
                  folder: str | Path) -> tuple[MonthFiles, list[dict]]:
    """The stored month's input files with the worker's rows corrected, written into `folder`, and what
    changed in words ({file, row, column, before, after}).  Only the worker's own rows can change; a
    correction that changes nothing, or a row added for someone else, is a problem."""
    theirs = {w.kind: w for w in worker_rows(policy_paths, data, month, worker_id)}
    problems: list[Problem] = []
    changes: list[dict] = []
    folder = Path(folder)
    written: dict[str, str] = {}
    for kind, w in theirs.items():
        e = edits.get(kind) or Edit()
        own = {rno: cells for rno, cells in w.rows}
        for rno in list(e.cells) + sorted(e.removed):
            if rno not in own:
                problems.append(Problem(w.label, rno, CORRECTION_FIELD, rno, f"{worker_id} 本人的行"))
        header, rows = read_rows(w.path)
        key = _key_column(kind, header, policy_paths, month)
        out_rows = []
        last = 1
        for r in rows:
            cells = [_cell_out(r.get(h)) for h in header]
            last = max(last, r.row)
            record = cells[key] if key is not None else ""
            if r.row in own and r.row in e.removed:
                changes.append({"file": w.label, "row": r.row, "record": record, "column": "（整行）",
                                "before": _row_text(header, cells, w.id_column), "after": "（删除）"})
                continue
            if r.row in own:
                for col, text in (e.cells.get(r.row) or {}).items():
                    if not 0 <= col < len(header):
                        problems.append(Problem(w.label, r.row, CORRECTION_FIELD, col, f"第 1 至 {len(header)} 列"))
                        continue
                    text = str(text).strip()
                    if text != cells[col] and (col not in w.private or text):
                        if col in w.private:
                            problems.append(Problem(w.label, r.row, header[col], "（个人信息，不显示）",
                                                    "申诉不更正电话、身份证号等个人信息",
                                                    "个人信息在名册中改正，随下月名册上传"))
                            continue
                        if col == w.id_column:
                            problems.append(Problem(w.label, r.row, header[col], text, f"{worker_id}（工号不能更正）"))
                            continue
                        changes.append({"file": w.label, "row": r.row, "record": record, "column": header[col],
                                        "before": cells[col], "after": text})
                        cells[col] = text
            out_rows.append((r.row, cells))
        for k, cells in enumerate(e.added):
            cells = [str(c).strip() for c in cells] + [""] * (len(header) - len(cells))
            cells = cells[:len(header)]
            if not any(cells):
                continue
            if w.id_column is not None:
                if cells[w.id_column] and cells[w.id_column] != worker_id:
                    problems.append(Problem(w.label, None, header[w.id_column], cells[w.id_column], worker_id))
                    continue
                cells[w.id_column] = worker_id
            last += 1
            out_rows.append((last, cells))
            changes.append({"file": w.label, "row": last, "record": cells[key] if key is not None else "",
                            "column": "（新增一行）", "before": "", "after": _row_text(header, cells, w.id_column)})
        out = folder / f"{kind}.csv"
        _write_rows(out, header, out_rows)
        written[kind] = str(out.resolve())
    if not changes and not problems:
        problems.append(Problem(CORRECTION_FIELD, None, CORRECTION_FIELD, None, "至少一处更正（改动的单元格、删除或新增的行）"))
    if problems:
        raise DataError(problems)
    files = MonthFiles(written["workers"], written["metrics"], written.get("events"),
                       no_events="events" not in written, records=written.get("records"))
    return files, changes


def check_corrected(policy_paths, month: str, files: MonthFiles) -> list[Problem]:
    """Every problem of the corrected files read as the month's inputs (none: ready)."""
    try:
        Policies(policy_paths).read(month, files)
    except InputError as exc:
        return list(exc.problems)
    return []


def run_correction(policy_paths, month: str, files: MonthFiles, data: str | Path, out: str | Path, *,
                   based_on: Mapping[str, str], note: str, unit: str = "") -> RunReport:
    """The month run again from the corrected files (as `wangge correct`).  `based_on`: the fingerprint of
    the inputs the correction was made from; a month run again since then is refused (the correction
    would bring back the older data)."""
    now = inputs_fingerprint(data, month)
    if now != dict(based_on):
        raise DataError([Problem(CORRECTION_FIELD, None, CORRECTION_FIELD, "该月已重新运行",
                                 f"{month_label(month)}在申诉提出时的输入文件",
                                 "申诉提出后该月又运行过，更正会带回旧数据；请在新结果上重新提出申诉")])
    return run_month(policy_paths, month, files, data, out, unit=unit, correction=True, note=note)
