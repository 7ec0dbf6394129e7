"""A platform export onto the policy's inputs: its column names and its event categories renamed to
the ones the policy reads, and several towns' files of one kind combined into one, with every row
of the result traceable to the file and row it came from.

Data in, like sources.py and inputs.py: nothing here scores or knows about the web.  A `Mapping`
is plain data (saved by the office and reused next month); `apply_mapping` writes a CSV whose
rows stand on the same row numbers as in the original file, so every problem and every finding
still names the row the clerk sees in their own file.  `combine` concatenates parts (one per
town) and returns `Origins`, which turns a combined row back into (part, row).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Mapping as MappingT

from .errors import DataError, Problem, ProblemList
from .inputs import (EVENT_COLUMNS, EVENT_REQUIRED, METRIC_BASE_COLUMNS, RECORD_COLUMNS, RECORD_REQUIRED, WORKER_COLUMNS,
                     WORKER_REQUIRED)
from .sources import read_table

__all__ = ["KINDS", "KIND_LABELS", "Mapping", "columns_for", "table_headers", "unknown_headers", "categories_in",
           "apply_mapping", "combine", "kinds_for", "Origins", "town_problems", "policy_categories", "write_template",
           "canonical_of", "column_labels", "read_rows", "cell_text"]

KINDS = ("workers", "metrics", "events", "records")
KIND_LABELS = {"workers": "网格员名册", "metrics": "月度指标表", "events": "事件台账", "records": "记录表"}
IGNORE = ""          # a mapped column that is dropped


@dataclass
class Mapping:
    """Their header -> our column (canonical name, or IGNORE to drop it); their category -> ours."""
    columns: dict[str, str] = field(default_factory=dict)
    categories: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"columns": dict(self.columns), "categories": dict(self.categories)}


def columns_for(kind: str, policy) -> tuple[dict[str, list[str]], list[str]]:
    """The columns the policy's reader knows for a kind (canonical name -> accepted headers) and
    the required ones."""
    if kind == "workers":
        cols = {k: list(v) for k, v in WORKER_COLUMNS.items()}
        for name, a in policy.doc.attributes.items():
            cols[name] = [a.label]
        return cols, list(WORKER_REQUIRED)
    if kind == "metrics":
        cols = {k: list(v) for k, v in METRIC_BASE_COLUMNS.items()}
        for mid, m in policy.doc.metrics.items():
            if m.count_events is None:
                cols[mid] = [m.label] + ([f"{m.label}（{m.unit}）"] if m.unit else [])
        return cols, ["worker_id"]
    if kind == "events":
        return {k: list(v) for k, v in EVENT_COLUMNS.items()}, list(EVENT_REQUIRED)
    if kind == "records":     # the dated records sheet of a policy with daily/weekly records
        return {k: list(v) for k, v in RECORD_COLUMNS.items()}, list(RECORD_REQUIRED)
    raise ValueError(kind)


def kinds_for(policy) -> tuple[str, ...]:
    """The kinds of file a month under the policy is made of: the records sheet only where it reads one."""
    return tuple(k for k in KINDS if k != "records" or policy.doc.records)


def column_labels(kind: str, policy) -> dict[str, str]:
    """Canonical name -> how a clerk reads it (the first Chinese name), for choosing in a mapping."""
    cols, _ = columns_for(kind, policy)
    return {k: (v[0] if v else k) for k, v in cols.items()}


def _norm(text: Any) -> str:
    return str(text if text is not None else "").strip().replace("\u3000", "").replace(" ", "").lower()


def canonical_of(kind: str, policy) -> dict[str, str]:
    """Any accepted header (normalised) -> its canonical column."""
    cols, _ = columns_for(kind, policy)
    out: dict[str, str] = {}
    for canon, names in cols.items():
        out[_norm(canon)] = canon
        for n in names:
            out[_norm(n)] = canon
    return out


def read_rows(path: str | Path) -> tuple[list[str], list[Any]]:
    """Header (as written) and rows (Row objects keyed by that header), every problem aside."""
    problems = ProblemList()
    rows, present = read_table(path, {}, keep_unknown=True, problems=problems, merged="fill")
    return present, rows


def table_headers(path: str | Path) -> list[str]:
    return read_rows(path)[0]


def unknown_headers(path: str | Path, kind: str, policy) -> list[str]:
    """The file's headers that the policy's reader would not recognise."""
    known = canonical_of(kind, policy)
    return [h for h in table_headers(path) if _norm(h) not in known]


def _category_header(path: str | Path, mapping: Mapping, known: dict[str, str]) -> str | None:
    for h in table_headers(path):
        target = mapping.columns.get(h)
        if target == "category" or (target is None and known.get(_norm(h)) == "category"):
            return h
    return None


def categories_in(path: str | Path, mapping: Mapping, policy) -> list[str]:
    """The distinct event categories of a file, after its columns are mapped (for the mapping page)."""
    header, rows = read_rows(path)
    col = _category_header(path, mapping, canonical_of("events", policy))
    if col is None:
        return []
    return sorted({cell_text(r.get(col)) for r in rows if cell_text(r.get(col))})


def policy_categories(policy) -> list[str]:
    """The event categories a policy reads: its declared vocabulary, else every category its rules name."""
    vocab = getattr(policy.doc, "events", None)
    if vocab is not None and getattr(vocab, "categories", None):
        return list(vocab.categories)
    found: set[str] = set()

    def walk(obj: Any, depth: int = 0) -> None:
        if depth > 12 or obj is None or isinstance(obj, (str, int, float, Decimal, bool)):
            return
        if isinstance(obj, dict):
            for v in obj.values():
                walk(v, depth + 1)
            return
        if isinstance(obj, (list, tuple)):
            for v in obj:
                walk(v, depth + 1)
            return
        cats = getattr(obj, "category", None)
        if isinstance(cats, list) and type(obj).__name__ == "EventFilter":
            found.update(str(c) for c in cats)
        fields = getattr(type(obj), "model_fields", None)
        if fields:
            for name in fields:
                walk(getattr(obj, name, None), depth + 1)

    walk(policy.doc)
    return sorted(found)


def cell_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()


def _cell_out(v: Any) -> str:
    """A cell written back to CSV exactly as the reader will read it again."""
    if v is None:
        return ""
    if isinstance(v, float):
        return format(Decimal(format(v, ".15g")), "f") if not v.is_integer() else str(int(v))
    return str(v)


def _write_rows(out: Path, header: list[str], rows: Iterable[tuple[int, list[str]]]) -> None:
    """A UTF-8 CSV whose data rows stand on their given row numbers (gaps are blank lines, which the
    reader skips), so that row N here is row N of the original file."""
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\r\n")
    wr.writerow(header)
    at = 2
    for rno, cells in rows:
        while at < rno:
            buf.write("\r\n")
            at += 1
        wr.writerow(cells)
        at += 1
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text("\ufeff" + buf.getvalue(), encoding="utf-8", newline="")
    tmp.replace(out)


def apply_mapping(path: str | Path, kind: str, mapping: Mapping, out: str | Path, policy) -> Path:
    """The file with its headers renamed by `mapping` (dropped where mapped to IGNORE) and, in an
    event log, its categories recoded; written as CSV to `out`, every row on its original row number.
    A mapping onto a column the policy does not know, or two headers onto one column, is a problem."""
    header, rows = read_rows(path)
    known = canonical_of(kind, policy)
    cols, _ = columns_for(kind, policy)
    problems = ProblemList()
    targets: list[tuple[str, str]] = []      # (their header, our canonical column)
    used: dict[str, str] = {}
    for h in header:
        target = mapping.columns.get(h, known.get(_norm(h), h))
        if target == IGNORE:
            continue
        if target not in cols:
            problems.add(str(path), 1, "表头", h, "对应到本细则的一列，或选择「不使用」")
            continue
        if target in used:
            problems.add(str(path), 1, "表头", h, f"每列只对应一次（「{used[target]}」已对应到 {target}）")
            continue
        used[target] = h
        targets.append((h, target))
    problems.raise_if_any(DataError)
    cat_col = next((h for h, t in targets if t == "category"), None) if kind == "events" else None
    out_rows = []
    for r in rows:
        cells = []
        for h, t in targets:
            v = r.get(h)
            if h == cat_col and cell_text(v) in mapping.categories:
                v = mapping.categories[cell_text(v)]
            cells.append(_cell_out(v))
        out_rows.append((r.row, cells))
    out = Path(out)
    _write_rows(out, [t for _, t in targets], out_rows)
    return out


@dataclass
class Origins:
    """Where each row of a combined file came from: combined file -> {row: (part label, file, row)}."""
    files: dict[str, dict[int, tuple[str, str, int]]] = field(default_factory=dict)

    def locate(self, file: str, row: int | None) -> tuple[str, str, int | None] | None:
        rows = self.files.get(str(Path(file).resolve()))
        if rows is None:
            return None
        if row is None or row == 1:
            parts = sorted({(p, f) for p, f, _ in rows.values()})
            return (parts[0][0], parts[0][1], row) if len(parts) == 1 else None
        return rows.get(row)

    def relocate(self, problems: Iterable[Problem], name: MappingT[str, str] | None = None) -> list[Problem]:
        """Problems of combined files told against the part (its label, or `name[part]`) and its own row."""
        out = []
        for p in problems:
            got = self.locate(p.file, p.line)
            if got is None:
                out.append(p)
                continue
            part, file, row = got
            shown = (name or {}).get(part, part)
            out.append(replace(p, file=shown, line=row))
        return out

    def as_json(self) -> dict:
        return {f: {str(r): list(v) for r, v in rows.items()} for f, rows in self.files.items()}

    @classmethod
    def from_json(cls, data: Mapping) -> "Origins":
        return cls({f: {int(r): tuple(v) for r, v in rows.items()} for f, rows in data.items()})


def combine(kind: str, parts: list[tuple[str, str | Path]], out: str | Path, policy,
            origins: Origins | None = None) -> Origins:
    """Concatenate the parts' rows (each a (label, file) of one kind) into one CSV with canonical
    headers; columns missing in a part are blank there.  Returns (and fills) the origins."""
    cols, _ = columns_for(kind, policy)
    origins = origins if origins is not None else Origins()
    header: list[str] = []
    read: list[tuple[str, str, list[Any]]] = []
    for label, path in parts:
        problems = ProblemList()
        rows, present = read_table(path, cols, keep_unknown=True, problems=problems, merged="fill"
                                   if kind == "workers" else "error")
        for c in present:
            if c not in header:
                header.append(c)
        read.append((label, str(path), rows))
    out = Path(out).resolve()
    table, where = [], {}
    rno = 2
    for label, path, rows in read:
        for r in rows:
            table.append((rno, [_cell_out(r.get(c)) for c in header]))
            where[rno] = (label, Path(path).name, r.row)
            rno += 1
    _write_rows(out, header, table)
    origins.files[str(out)] = where
    return origins


def town_problems(path: str | Path, town: str) -> list[Problem]:
    """Register rows of another town than `town` (a town clerk uploads their own town only)."""
    problems = ProblemList()
    try:
        rows, present = read_table(path, WORKER_COLUMNS, keep_unknown=True, problems=problems, merged="fill")
    except DataError:
        return []          # the reader's own problems are reported by the month's check
    out = []
    for r in rows:
        t = cell_text(r.get("town"))
        if t and t != town:
            out.append(Problem(str(path), r.row, "乡镇", t, f"{town}（只能上传本镇街的名册）"))
    return out


def write_template(kind: str, policy, out: str | Path) -> Path:
    """A blank fill-in sheet of a kind for the policy: the header row in Chinese (required columns shaded)."""
    from .sheets import open_workbook

    cols, required = columns_for(kind, policy)
    if kind == "metrics":
        order = ["month", "worker_id", "name"] + [c for c in cols if c not in METRIC_BASE_COLUMNS]
    elif kind == "workers":
        order = [c for c in cols if c not in ("id_number", "duties")]
    else:
        order = list(cols)
    out = Path(out)
    wb = open_workbook(out, title=KIND_LABELS[kind])
    ws = wb.add_worksheet(KIND_LABELS[kind])
    bold = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    need = wb.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1})
    for i, c in enumerate(order):
        ws.write_string(0, i, cols[c][0] if cols[c] else c, need if c in required else bold)
        ws.set_column(i, i, 14)
    ws.freeze_panes(1, 0)
    wb.close()
    return out
