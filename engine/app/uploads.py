"""A month's inputs as an office collects them: each town sends its own register, metrics sheet and
event log (possibly a platform export, mapped first); they are checked town by town as they arrive,
and combined into the county's month when it is run.

Every problem names the file the clerk sent and the row in it (engine/mapping.py keeps the
origins of combined rows), so a problem found only when the towns are put together (a worker id
used by two towns, an event number given twice) still points at the clerk's own row.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Mapping

from ..errors import DataError, HistoryError, InputError, Problem
from ..mapping import KIND_LABELS, KINDS, Origins, combine, kinds_for, town_problems
from .month import MonthFiles, Policies, RunReport, run_month

__all__ = ["Part", "check_town_inputs", "assemble", "run_assembled", "REQUIRED_KINDS", "UPLOAD_FIELD"]

REQUIRED_KINDS = ("workers", "metrics")
UPLOAD_FIELD = "上传文件"


@dataclass(frozen=True)
class Part:
    """One town's file of one kind: `label` names it for people (鹤山镇 指标表.xlsx), `path` is where it is."""
    town: str
    kind: str
    label: str
    path: str


def _required(policy) -> tuple[str, ...]:
    """The register and the metrics sheet, and the records sheet of a policy that reads one."""
    return REQUIRED_KINDS + (("records",) if policy.doc.records else ())


def _missing(have: Mapping[str, object], town: str, policy) -> list[Problem]:
    return [Problem(f"{town} {KIND_LABELS[k]}", None, UPLOAD_FIELD, None, f"上传本月的{KIND_LABELS[k]}"
                    + ("（本细则按日、按周的记录表，工号、类型、日期、开始时间、结束时间）" if k == "records" else ""))
            for k in _required(policy) if k not in have]


def _files(paths: Mapping[str, str]) -> MonthFiles:
    return MonthFiles(paths["workers"], paths["metrics"], paths.get("events"), records=paths.get("records"))


def check_town_inputs(policies, month: str, files: Mapping[str, Part], town: str | None) -> list[Problem]:
    """Every problem of one town's files for the month (none: ready).  With `town`, register rows of
    another town are problems too.  Problems name each file by its label.  `policies`: the policy
    files, or a `Policies` already read (a server keeps them)."""
    pols = policies if isinstance(policies, Policies) else Policies(policies)
    try:
        policy = pols.ps.for_month(month)
    except InputError as exc:     # no version of the policy in force that month
        return list(exc.problems)
    problems = _missing(files, town or "", policy)
    names = {str(Path(p.path)): p.label for p in files.values()}
    try:
        if problems:      # what can be checked before the rest arrives: the register alone
            if "workers" in files:
                from ..inputs import read_workers
                read_workers(files["workers"].path, policy)
        else:
            pols.read(month, _files({k: p.path for k, p in files.items() if k in kinds_for(policy)}))
    except InputError as exc:
        problems.extend(exc.problems)
    if town and "workers" in files:
        problems.extend(town_problems(files["workers"].path, town))
    return [replace(p, file=names.get(p.file, p.file)) for p in problems]


def assemble(policy_paths, month: str, parts: list[Part], folder: str | Path) -> tuple[MonthFiles, Origins]:
    """The towns' files combined into one file of each kind in `folder` (a fresh folder per run)."""
    policy = Policies(policy_paths).ps.for_month(month)
    folder = Path(folder)
    by_kind: dict[str, list[Part]] = {k: [] for k in KINDS}
    for p in sorted(parts, key=lambda p: (p.town, p.kind)):
        by_kind[p.kind].append(p)
    missing = [pr for town in sorted({p.town for p in parts})
               for pr in _missing({p.kind: p for p in parts if p.town == town}, town, policy)]
    if not parts:
        missing.append(Problem(month, None, UPLOAD_FIELD, None, "至少一个镇街上传了本月的名册和指标表"))
    if missing:
        raise DataError(missing)
    origins = Origins()
    paths: dict[str, str] = {}
    for kind, ps in by_kind.items():
        if not ps or kind not in kinds_for(policy):   # a records sheet left from another policy is not read
            continue
        out = folder / f"{kind}.csv"
        combine(kind, [(p.label, p.path) for p in ps], out, policy, origins)
        paths[kind] = str(out.resolve())
    return _files(paths), origins


def run_assembled(policy_paths, month: str, parts: list[Part], folder: str | Path, data: str | Path,
                  out: str | Path, *, unit: str = "", progress: Callable[[int], None] | None = None,
                  on_wait: Callable[[], None] | None = None) -> tuple[RunReport, Origins]:
    """Combine the towns' files, then run the month (score, store, period rules, pay sheet).  Problems
    are told against the clerks' own files and rows."""
    files, origins = assemble(policy_paths, month, parts, folder)
    try:
        report = run_month(policy_paths, month, files, data, out, unit=unit, progress=progress, on_wait=on_wait)
    except InputError as exc:
        raise type(exc)(origins.relocate(exc.problems)) from None
    except HistoryError as exc:
        exc.problems = origins.relocate(exc.problems)
        raise
    return report, origins
