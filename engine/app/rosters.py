"""Roster use cases: solve a month, re-plan a published roster from a date, check or import a
hand-edited roster, publish, and compare a roster with the register.

For the command line (engine/cli/roster.py) and a web page alike: data and paths in, typed
results out.  Nothing here prints or names a command-line flag; problems with an argument a
caller passed are `Problem`s whose file is ARGUMENT and whose field names the argument in words
(ARGUMENT_FIELDS: 求解时限, 同时求解的镇数, 调整起始日期, …), for the caller to word as it asks for it.  Errors are engine.errors': DataError (the user's files or arguments, every problem
located), InfeasibleError (proved: no roster meets every hard rule, with the conflicting rules),
NotFoundInTime (none found in the time given, not proved impossible).  A long solve reports
`Progress` to the `progress` callback, from solving threads.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from ..errors import DataError, Problem
from ..roster.check import RuleCheck, check_roster
from ..roster.model import ARGUMENT, MONTH_ARG, PREVIOUS_ARG, RosterProblem, load_problem
from ..roster.solve import Progress, Roster

# The field of a problem with an argument (its file is ARGUMENT); the CLI says which option it is.
TIME_LIMIT_ARG = "求解时限"
JOBS_ARG = "同时求解的镇数"
FROM_ARG = "调整起始日期"
EDITED_ARG = "手工调整的排班"
ARGUMENT_FIELDS = (TIME_LIMIT_ARG, JOBS_ARG, FROM_ARG, EDITED_ARG, MONTH_ARG, PREVIOUS_ARG)

__all__ = ["ARGUMENT", "ARGUMENT_FIELDS", "TIME_LIMIT_ARG", "JOBS_ARG", "FROM_ARG", "EDITED_ARG", "MONTH_ARG",
           "PREVIOUS_ARG", "Progress", "check_arguments", "RosterRun", "EditedCheck", "load", "solve_roster", "replan_roster",
           "check_edited", "import_roster", "publish", "print_settings", "register_differences"]


@dataclass
class RosterRun:
    """A roster with its coverage check: solved, re-planned or imported."""

    problem: RosterProblem
    roster: Roster
    checks: list[RuleCheck]
    changes: list[list] | None = None        # re-planned: the rows of 变更.csv (header first)
    from_day: int | None = None              # re-planned: the first day that could change
    relaxed_rules: set[str] = field(default_factory=set)   # rules broken on purpose (relaxed)
    print_notes: list[str] = field(default_factory=list)   # published: what to know about the printed roster

    @property
    def failed(self) -> list[RuleCheck]:
        """Hard rules the roster breaks that were not relaxed on purpose (empty: publishable)."""
        return [c for c in self.checks if not c.ok and c.rule not in self.relaxed_rules]

    @property
    def relaxed(self) -> list[RuleCheck]:
        return [c for c in self.checks if not c.ok and c.rule in self.relaxed_rules]

    @property
    def broken(self) -> list[tuple[str, str]]:
        """(rule, instance text) of every rule instance a relaxed roster breaks."""
        return [(r, t) for part in self.roster.parts for r, t in part.broken]

    @property
    def change_count(self) -> int:
        return len(self.changes) - 1 if self.changes else 0


@dataclass
class EditedCheck:
    """A hand-edited roster checked: every problem located at its cell, and the roster when it
    could be read."""

    problems: list[Problem]
    run: RosterRun | None

    @property
    def ok(self) -> bool:
        return not self.problems


def _arg(field_: str, found: Any, expected: str) -> Problem:
    return Problem(ARGUMENT, None, field_, found, expected)


def load(problem: str | Path | RosterProblem, *, month: str | None = None, decompose: bool | None = None,
         previous: str | Path | None = None) -> RosterProblem:
    """A problem folder read and checked (or a problem already loaded, returned as it is)."""
    if isinstance(problem, RosterProblem):
        return problem
    return load_problem(problem, month, decompose=decompose, previous=previous)


def check_arguments(*, time_limit: float | None = None, jobs: int = 2) -> None:
    """DataError when a solve's time limit or number of parallel parts is not one (before any work)."""
    _check_solve_args(time_limit, jobs)


def _check_solve_args(time_limit, jobs) -> None:
    bad = []
    if time_limit is not None and not (isinstance(time_limit, (int, float)) and time_limit > 0):
        bad.append(_arg(TIME_LIMIT_ARG, time_limit, "正数（秒）"))
    if not (isinstance(jobs, int) and jobs >= 1):
        bad.append(_arg(JOBS_ARG, jobs, "正整数"))
    if bad:
        raise DataError(bad)


def solve_roster(problem: str | Path | RosterProblem, *, month: str | None = None, time_limit: float | None = None,
                 relax: bool = False, jobs: int = 2, deterministic: bool = False, decompose: bool | None = None,
                 previous: str | Path | None = None,
                 progress: Callable[[Progress], None] | None = None) -> RosterRun:
    """Solve the problem's roster and check every hard rule on it."""
    from ..roster.output import relaxed_rules
    from ..roster.solve import solve
    _check_solve_args(time_limit, jobs)
    prob = load(problem, month=month, decompose=decompose, previous=previous)
    ro = solve(prob, time_limit=time_limit, relax=relax, jobs=jobs, deterministic=deterministic, progress=progress)
    return RosterRun(prob, ro, check_roster(ro), relaxed_rules=relaxed_rules(ro))


def _from_day(prob: RosterProblem, from_date: str | dt.date) -> int:
    try:
        day = from_date if isinstance(from_date, dt.date) else dt.date.fromisoformat(str(from_date))
        return prob.cal.dates.index(day)
    except ValueError:
        raise DataError([_arg(FROM_ARG, str(from_date),
                              f"排班期间内的日期 YYYY-MM-DD（{prob.cal.start}～{prob.cal.end}）")]) from None


def replan_roster(problem: str | Path | RosterProblem, published: str | Path, from_date: str | dt.date, *,
                  month: str | None = None, time_limit: float | None = None, relax: bool = False, jobs: int = 2,
                  deterministic: bool = False, decompose: bool | None = None, previous: str | Path | None = None,
                  progress: Callable[[Progress], None] | None = None) -> RosterRun:
    """Keep the published roster (an output folder or its roster.json) before `from_date` and change
    as little as possible from it on."""
    from ..roster import replan as rp
    from ..roster.output import relaxed_rules
    from ..roster.solve import solve
    _check_solve_args(time_limit, jobs)
    prob = load(problem, month=month, decompose=decompose, previous=previous)
    from_day = _from_day(prob, from_date)
    pub = rp.load_published(published, prob, from_day)
    prob = rp.clip_leave(prob, from_day, pub)
    ro = solve(prob, time_limit=time_limit, relax=relax, jobs=jobs, deterministic=deterministic,
               hook_for=rp.hook_for(pub, from_day), progress=progress)
    ro.source = "replanned"
    return RosterRun(prob, ro, check_roster(ro), rp.changes(prob, pub, ro, from_day), from_day,
                     relaxed_rules(ro))


def check_edited(problem: str | Path | RosterProblem, edited: str | Path, *, month: str | None = None,
                 relax: bool = False, previous: str | Path | None = None) -> EditedCheck:
    """Read a hand-edited roster (排班.xlsx, or the folder of its CSV tables) and check every hard rule
    on it with the coverage check.  Every cell that cannot be read, and every rule it breaks, is a
    located problem; with `relax`, rules that may be relaxed are not problems but listed as broken."""
    from ..roster.importer import read_edited
    from ..roster.rules import CATALOG
    from ..roster.solve import price
    prob = load(problem, month=month, previous=previous)
    if not Path(edited).exists():
        raise DataError([_arg(EDITED_ARG, str(edited), "手工调整后的排班表（排班.xlsx，或排班_按人员.csv 等所在的文件夹）")])
    try:
        er = read_edited(prob, edited)
    except DataError as exc:
        return EditedCheck(exc.problems, None)
    ro = er.roster
    checks = check_roster(ro)
    relaxed = {c.rule for c in checks if not c.ok and relax and CATALOG[c.rule].softable}
    price(ro)
    # A relaxed rule's violations are listed (放宽的规则.csv) with the first part.
    ro.parts[0].broken = [(c.rule, str(v)) for c in checks if c.rule in relaxed for v in c.violations]
    run = RosterRun(prob, ro, checks, relaxed_rules=relaxed)
    return EditedCheck(er.locate(checks, skip=relaxed), run)


def import_roster(problem: str | Path | RosterProblem, edited: str | Path, *, month: str | None = None,
                  relax: bool = False, previous: str | Path | None = None) -> RosterRun:
    """A hand-edited roster, checked, as a roster to publish; DataError with every problem when it
    cannot be read or breaks a hard rule (one that may be relaxed is accepted with `relax`)."""
    result = check_edited(problem, edited, month=month, relax=relax, previous=previous)
    if result.problems:
        raise DataError(result.problems)
    assert result.run is not None
    return result.run


def print_settings(problem_dir: str | Path, office: str | Path | None = None) -> tuple[Any, Path, bool]:
    """The office settings (发文设置: the office's name, the unit that signs) a printed roster uses:
    `office`, else office.yaml in the problem folder, else the bundled example.  Returns (settings,
    file, whether it is the example).  TemplateError with every problem of a bad file."""
    from ..notices import find_settings, load_settings
    path, example = find_settings(str(office) if office else None, problem_dir)
    return load_settings(path), path, example


def publish(run: RosterRun, out_dir: str | Path, *, settings: Any = None, print_patrol: bool = False) -> list[str]:
    """Write the roster's files (排班.xlsx, the CSV tables, roster.json) into `out_dir`, all of them or
    none (a failed write leaves the folder as it was); returns the file names.  The roster.json
    written is what re-planning, the next period's continuity and the print pack read.  With the
    office `settings` (print_settings), a roster by person and shift is also printed: 值班表-<unit>
    .html and .pdf, as the print pack prints it (HTML only where WeasyPrint is missing, said in
    run.print_notes); with `print_patrol` a patrol roster too (巡查排班表-<town>, one per town, as
    a town publishing its own roster signs it)."""
    from ..outputs import staged_outputs
    from ..roster.output import write_all
    extra = {"变更": run.changes} if run.changes is not None else {}
    with staged_outputs(out_dir) as stage:
        names = write_all(run.roster, run.checks, stage, extra)
        if settings is not None and (print_patrol or run.problem.kind == "shifts"):
            names += _print(run, stage, settings)
        return names


def _print(run: RosterRun, stage: Path, settings: Any) -> list[str]:
    from ..notices import render_roster_print
    from ..notices.pdf import pdf_available
    formats = ("html", "pdf") if pdf_available() else ("html",)
    if "pdf" not in formats:
        run.print_notes.append("WeasyPrint 不可用，打印版排班表只生成了 HTML（可在浏览器中打印）；"
                               "安装见 scripts/install-system.sh")
    roster = json.loads((stage / "roster.json").read_text(encoding="utf-8"))
    pack = render_roster_print(roster, settings, stage, formats=formats)
    run.print_notes.extend(pack.notes)
    return pack.files


def register_differences(roster: str | Path | Mapping | RosterProblem, register: str | Path) -> list[Problem]:
    """Every difference between a roster — a published roster (its output folder, its roster.json, or
    that file read as a dict) or a problem — and a worker register (the scoring register's file),
    in who works which grid: an empty list when they describe the same people and grids."""
    from ..inputs import read_register
    from ..roster.register import compare_register
    name = "roster.json"
    if isinstance(roster, (str, Path)):
        path = Path(roster)
        path = path / "roster.json" if path.is_dir() else path
        name = str(path)
        try:
            roster = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DataError([Problem(name, None, "文件", str(path), "排班输出的 roster.json",
                                     str(getattr(exc, "strerror", None) or exc)[:120])]) from None
        if not isinstance(roster, dict) or "directory" not in roster:
            raise DataError([Problem(name, None, "directory", None, "排班输出的 roster.json（含 directory）")])
    return compare_register(roster, read_register(register), roster_file=name)
