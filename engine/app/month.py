"""The month as use cases: score it, run it (score, store, period rules, outputs, print pack),
correct it, compare two policies on it, and write a stored month's files again.

Each function takes paths and plain values and returns a typed result or raises an EngineError;
nothing here prints, parses flags or knows about HTTP.  The CLI and the web call these.

A month is recorded in one history transaction (`record_month`): it reads earlier months,
evaluates the period rules for the month and every later stored month, stages every output,
commits, and only then moves the outputs into place.  Two runs on one data folder are
serialised by the history's write lock; a folder that cannot take the files stops the run
before anything is committed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Mapping

from ..changes import compare_results, diff_months
from ..errors import DATA_FOLDER, POLICY_FIELD, HistoryError, InputError, Problem
from ..beside import beside
from ..history import History, MonthInfo, check_stored_policies, check_workers, fault
from ..store import history_folder, url_problem
from ..outputs import OUT_FOLDER, folder_problem, staged_outputs
from ..periods import (PeriodRules, evaluate, grade_counts, merge_additions, month_label, parse_period_rules,
                       views_from_results)
from ..sheets import csv_text

__all__ = ["MonthFiles", "Policies", "RunReport", "PeriodSummary", "SchemaReport", "DATA_FOLDER", "PRINT_DIR",
           "upgrade_history", "backup_history",
           "score_month_files", "write_score_outputs", "run_month", "record_month", "compare_policies",
           "stored_months", "month_results", "export_month", "export_paysheet", "period_summary",
           "write_month_outputs", "scoring_tables", "period_findings_csv", "checked"]

PRINT_DIR = "print"                 # the month's print pack inside the month's output folder


@dataclass(frozen=True)
class MonthFiles:
    """A month's input files: the register, the metrics sheet and the event log.  `no_events`: the
    office states that the month had no events (without a log, event-counted items then count zero;
    a policy that counts events refuses a month with neither a log nor this statement)."""
    workers: str
    metrics: str
    events: str | None = None
    no_events: bool = False
    records: str | None = None       # the dated records sheet (daily/weekly records), for policies that read one


class Policies:
    """The policy set of a run: the version in force for each month, its period rules, and the
    month's inputs read and scored under it."""

    def __init__(self, policy_paths: tuple[str, ...] | list[str]):
        from ..policy import load_policy

        self.paths = tuple(str(p) for p in policy_paths)
        self.ps = load_policy(list(self.paths))
        self._rules: dict[str, PeriodRules | None] = {}

    def read(self, month: str, files: MonthFiles):
        """The policy in force for the month and the month's checked inputs (DataError if any problem)."""
        from ..inputs import read_month

        policy = self.ps.for_month(month)
        return policy, read_month(policy, month, files.workers, files.metrics, files.events, files.records,
                                  no_events=files.no_events)

    def score(self, month: str, files: MonthFiles, read=None, *, processes: int | None = None,
              progress: Callable[[int], None] | None = None) -> tuple[dict, dict[str, tuple[str, int]]]:
        """The month's results and, per worker id, the (file, row) of the register it came from
        (`read`: what `read()` already returned for these inputs)."""
        from ..scoring import score_month

        policy, inputs = read or self.read(month, files)
        rows = {w.worker_id: w.source for w in inputs.workers if w.source and w.source[0]}
        results = score_month(policy, month, files.workers, files.metrics, files.events, inputs=inputs,
                              processes=processes, progress=progress, records=files.records)
        return results, rows

    def rules_for(self, month: str) -> PeriodRules | None:
        if month not in self._rules:
            pol = self.ps.for_month(month)
            self._rules[month] = parse_period_rules(getattr(pol, "periods_raw", None),
                                                    str(getattr(pol, "periods_file", "") or (pol.files or [""])[0]))
        return self._rules[month]

    def check_history(self, history: History, month: str) -> None:
        """Stored months before `month` that its period rules read (this year and last) must still
        resolve to the policy they were scored under.  Later months are re-evaluated, not read, so
        a policy change can be carried through history one correction at a time."""
        years = {month[:4], str(int(month[:4]) - 1)}
        wanted = {i.month for i in history.months() if i.month[:4] in years and i.month < month}
        check_stored_policies(history, lambda m: self.ps.for_month(m).hash, only=wanted)


def checked(folders: list[Problem], load: Callable):
    """`load()` (policies, inputs) with the problems of unusable folders reported in the same pass:
    nothing is scored, stored, written or printed when any is found."""
    try:
        value = load()
    except InputError as exc:
        raise (type(exc) if not folders else InputError)(folders + exc.problems) from None
    if folders:
        raise InputError(folders)
    return value


def _load(policy_paths, month: str, files: MonthFiles):
    pols = Policies(policy_paths)
    return pols, pols.read(month, files)


# --------------------------------------------------------------------------- scoring alone


def score_month_files(policy_paths, month: str, files: MonthFiles, *, processes: int | None = None,
                      progress: Callable[[int], None] | None = None,
                      on_count: Callable[[int], None] | None = None) -> dict:
    """Score a month without storing it (results.json as a dict).  `on_count(n)` is told the number
    of workers before scoring starts (a caller shows a progress bar for large months)."""
    pols, read = _load(policy_paths, month, files)
    if on_count is not None:
        on_count(len(read[1].cases))
    return pols.score(month, files, read, processes=processes, progress=progress)[0]


def write_score_outputs(results: Mapping[str, Any], out: str | Path) -> list[str]:
    """results.json, results.csv and findings.csv of a scored month, all at once."""
    from ..scoring import write_results

    with staged_outputs(out) as stage:
        write_results(dict(results), stage)
    return ["results.json", "results.csv", "findings.csv"]


# --------------------------------------------------------------------------- a month, stored


@dataclass
class RunReport:
    month: str
    replaced: bool
    new_workers: list[str]
    later_months: list[str]
    score_changes: list[dict] = field(default_factory=list)      # corrections: who changed and by how much
    consequence_changes: list[dict] = field(default_factory=list)  # appeared / disappeared period consequences
    pay_changes: list[dict] = field(default_factory=list)         # payable changes in the months re-evaluated
    outputs: list[str] = field(default_factory=list)
    pack: Any = None                                               # the print pack, when one was made
    summary: "PeriodSummary | None" = None                         # the month's period consequences
    notes: list[str] = field(default_factory=list)                 # what the clerk should know of the inputs


PERIOD_FINDING_COLUMNS = ("月份", "工号", "姓名", "乡镇", "社区", "规则编号", "规则名称", "类别", "涉及月份",
                          "扣发金额", "通报批评", "通报表彰", "理由")


def period_findings_csv(results: Mapping[str, Any]) -> str:
    rows = [PERIOD_FINDING_COLUMNS]
    for w in results["workers"]:
        for f in w.get("period_findings", []):
            rows.append([results["month"], w["worker_id"], w.get("name", ""), w.get("town", ""),
                         w.get("community", ""), f["rule_id"], f["rule_label"], f["kind"], " ".join(f["months"]),
                         f["amount"], "是" if f["criticise"] else "否", "是" if f["commend"] else "否", f["reason"]])
    return csv_text(rows)


def write_month_outputs(results: Mapping[str, Any], stage: Path, *, unit: str = "",
                        meanwhile: Callable[[], None] | None = None) -> list[str]:
    """What a stored month writes: results.json (with period additions), period_findings.csv when
    period rules applied, and the pay sheet (.xlsx, .csv).

    The pay sheet's rows are put in order here, once, and inherited by a second process (`beside`)
    that writes a large month's paysheet.xlsx (the slowest file: 1.5 million cells for 100,000
    workers) and paysheet.csv from them, while this one writes the other files and runs
    `meanwhile()` (more files, the history's rows)."""
    from ..scoring import results_json

    from ..paysheet import paysheet_rows, write_paysheet

    rows = paysheet_rows(results)
    with beside(lambda: write_paysheet(results, stage, unit=unit, rows=rows), doing="写出发放表",
                parallel=len(results["workers"]) >= PARALLEL_OUTPUTS_FROM) as sheet:
        (stage / "results.json").write_text(results_json(dict(results)), encoding="utf-8")
        names = ["results.json"]
        if results.get("period_rules_applied"):
            (stage / "period_findings.csv").write_text(period_findings_csv(results), encoding="utf-8", newline="")
            names.append("period_findings.csv")
        if meanwhile is not None:
            meanwhile()
        return names + sheet.wait()


PARALLEL_OUTPUTS_FROM = 20_000      # workers: a smaller month writes its files in one process


def scoring_tables(results: Mapping[str, Any], stage: Path, _history: History | None = None) -> list[str]:
    """results.csv and findings.csv exactly as scoring alone writes them."""
    from ..scoring import findings_csv, results_csv

    (stage / "results.csv").write_text("\ufeff" + results_csv(dict(results)), encoding="utf-8")
    (stage / "findings.csv").write_text("\ufeff" + findings_csv(dict(results)), encoding="utf-8")
    return ["results.csv", "findings.csv"]


def record_month(history: History, results: Mapping[str, Any], *,
                 rules_for: Callable[[str], PeriodRules | None], out_dir: str | Path | None,
                 correction: bool = False, note: str = "", unit: str = "",
                 early_outputs: Callable[[Mapping[str, Any], Path], list[str]] | None = None,
                 extra_outputs: Callable[[Mapping[str, Any], Path, History], list[str]] | None = None,
                 worker_rows: Mapping[str, tuple[str, int]] | None = None,
                 doc_numbers: list[Mapping[str, Any]] | None = None,
                 stale: Callable[[Path], bool] | None = None,
                 check: Callable[[History], None] | None = None,
                 on_wait: Callable[[], None] | None = None) -> RunReport:
    """Store a scored month, re-evaluate period rules from it onwards, write its outputs; all or nothing,
    in one history transaction (reads included, so a concurrent run cannot slip in between).

    `results` is the monthly results.json dict (without period additions).  With
    `correction=True` the month must already be stored and keep the same workers; the report
    then says who changed and which later consequences appeared or disappeared.
    `worker_rows` (worker_id -> (file, row)) lets problems name the register row.
    `early_outputs(results, stage)` writes files that depend on the scored month only, not on
    period rules (scoring_tables): a large month writes them, and compresses its results for the
    history, in a second process while this one evaluates the period rules.
    `extra_outputs(full, stage, history)` writes more files into the stage (the print pack) and
    may fill `doc_numbers` with the document numbers it issued; they are committed with the month.
    `stale` names earlier output files that the new ones replace as a set (see
    outputs.staged_outputs); `check(history)` runs first inside the transaction.
    """
    month = results["month"]
    with history.transaction(on_wait) as tx:
        if check is not None:
            check(history)
        replaced = history.has_month(month)
        if correction and not replaced:
            raise history.not_stored(month, f"历史中没有 {month_label(month)}（{month}），无法更正", "correct_new_month")
        check_workers(history, results, correction=correction, rows=worker_rows)
        register = history.register(exclude=month)
        new_workers = sorted(w["worker_id"] for w in results["workers"] if w["worker_id"] not in register)

        def period_rules():
            """The month's views, the period additions of it and every later stored month, and the report."""
            views = history.views(exclude=month)
            views[month] = views_from_results(results)
            targets = [m for m in sorted(views) if m >= month]
            old_adds = {m: history.period_additions(m) for m in targets}
            old_base = history.base_results(month) if replaced else None
            try:
                new_adds = evaluate(rules_for, views, targets, stored=history.period_additions)
            except KeyError as exc:  # a worker missing from a month's facts: history is inconsistent
                raise HistoryError(f"历史记录不完整，无法计算跨月规则：{exc}") from None
            full = merge_additions(results, new_adds[month])
            changes = diff_months(old_base, results, old_adds, new_adds)
            report = RunReport(month, replaced, new_workers, [m for m in targets if m != month], *changes,
                               summary=period_summary(full))
            corr = None
            if correction:
                corr = {"note": note, "old_policy_hash": old_base.get("policy", {}).get("hash", ""),
                        "summary": {"score_changes": changes[0], "consequence_changes": changes[1],
                                    "pay_changes": changes[2]}}
            return report, views[month], new_adds, full, corr

        if out_dir is None:
            report, _view, new_adds, _full, corr = period_rules()
            history.store(results, new_adds, correction=corr)
            return report

        packed = []

        def record() -> None:
            fault("after_stage")
            history.store(results, packed[0][0], correction=packed[0][1], packed=packed[0][2])
            history.insert_numbers(list(doc_numbers or ()))
            tx.commit()
            fault("after_commit")

        def early(stage: Path) -> tuple[bytes, list[str]]:
            return History.pack_results(results), early_outputs(results, stage) if early_outputs else []

        with staged_outputs(out_dir, stale=stale, record=record) as stage:
            with beside(lambda: early(stage), doing="写出考核结果",
                        parallel=len(results["workers"]) >= PARALLEL_OUTPUTS_FROM) as first:
                report, view, new_adds, full, corr = period_rules()
                extra: list[str] = []

                def meanwhile() -> None:   # while a large month's pay sheet is written beside
                    if extra_outputs is not None:
                        extra.extend(extra_outputs(full, stage, history))
                    blob, names = first.wait()
                    extra[:0] = names
                    packed.append((new_adds, corr, History.pack(results, new_adds, view, results_blob=blob)))
                report.outputs = write_month_outputs(full, stage, unit=unit, meanwhile=meanwhile) + extra
    return report


def run_month(policy_paths, month: str, files: MonthFiles, data: str | Path, out: str | Path, *,
              unit: str = "", correction: bool = False, note: str = "", pack=None, issue=None,
              on_wait: Callable[[], None] | None = None, processes: int | None = None,
              progress: Callable[[int], None] | None = None,
              pack_progress: Callable[[int, int], None] | None = None, database: str | None = None) -> RunReport:
    """Score, store and write the month (`correction=True`: a stored month again, with what changed);
    with `pack` (app.notices.prepare_pack) its print pack too, into out/print: a draft, or with `issue`
    (app.notices.Issue) its numbered notices issued, the numbers committed with the month.
    `database`: the history's URL (None: the SQLite file in the data folder `data`)."""
    if correction:   # before reading anything: a correction needs the month in history
        with History(data, database=database, create=False) as hist:
            if not hist.has_month(month):
                raise hist.not_stored(month, f"历史中没有 {month_label(month)}（{month}），无法更正", "correct_new_month")
    folder = history_folder(data, database)        # where a SQLite history writes (None on a server)
    folders = [p for p in (folder_problem(out, OUT_FOLDER), url_problem(database),
                           folder_problem(folder, DATA_FOLDER, "可以写入的历史数据文件夹") if folder else None) if p]
    pols, read = checked(folders, lambda: _load(policy_paths, month, files))
    results, rows = pols.score(month, files, read, processes=processes, progress=progress)
    extra = None
    stale = None
    packs: list = []
    numbers: list[dict] = []
    if pack is not None:
        from .notices import render_pack_into

        def extra(full, stage, hist):
            printed = render_pack_into(full, pack, stage / PRINT_DIR, hist, issue=issue, new_numbers=numbers,
                                       progress=pack_progress)
            packs.append(printed)
            return [f"{PRINT_DIR}/{n}" for n in printed.files]
        stale = _stale_print
    try:
        with History(data, database=database) as hist:
            report = record_month(hist, results, rules_for=pols.rules_for, out_dir=out, correction=correction,
                                  note=note, unit=unit, early_outputs=scoring_tables, extra_outputs=extra,
                                  worker_rows=rows, doc_numbers=numbers,
                                  stale=stale, check=lambda h: pols.check_history(h, month), on_wait=on_wait)
    except OSError as exc:
        raise HistoryError(f"写出文件失败：{exc.strerror or exc}（{exc.filename or out}），历史和输出均未改动") from None
    report.pack = packs[0] if packs else None
    report.notes = list(results.get("notes", ()))
    return report


def _stale_print(path: Path) -> bool:
    from ..notices import is_pack_file
    return path.parent.name == PRINT_DIR and is_pack_file(path)


# --------------------------------------------------------------------------- what-if


def _load_both(policies: tuple[str, str], month: str, files: MonthFiles):
    """Both policies with the inputs read under each, every problem of both in one pass; a problem
    that only one of them finds (the other policy's metrics differ) says which policy it was."""
    from dataclasses import replace

    loaded, found = [], []
    for path in policies:
        try:
            loaded.append(_load((path,), month, files))
        except InputError as exc:
            found.append(exc)
            continue
        found.append(None)
    if not any(found):
        return loaded
    seen = [{str(p) for p in exc.problems} if exc else set() for exc in found]
    problems: list[Problem] = []
    for k, (tag, exc) in enumerate(zip("AB", found)):
        for p in exc.problems if exc else []:
            if str(p) in seen[1 - k]:
                if k == 1:
                    continue          # already listed under A
            else:
                p = replace(p, hint="；".join(x for x in (p.hint, f"按细则 {tag}（{policies[k]}）检查时") if x))
            problems.append(p)
    kinds = {type(exc) for exc in found if exc}
    raise (kinds.pop() if len(kinds) == 1 else InputError)(problems)


COMPARE_COLUMNS = ("工号", "姓名", "得分A", "得分B", "得分差", "档次A", "档次B", "绩效A", "绩效B", "绩效差")


def compare_policies(policy_a: str, policy_b: str, month: str, files: MonthFiles,
                     out: str | Path | None = None) -> dict:
    """The same month scored under policy A and policy B: per worker and in total (compare.json's
    content); with `out`, compare.csv and compare.json written there."""
    folders = [p for p in (folder_problem(out, OUT_FOLDER) if out else None,) if p]
    if Path(policy_a).resolve() == Path(policy_b).resolve():
        folders.append(Problem(policy_b, None, POLICY_FIELD, policy_b, "与原细则 A 不同的新细则文件",
                               "两次给出的是同一个文件，比较不出差别"))
    loaded = checked(folders, lambda: _load_both((policy_a, policy_b), month, files))
    a, b = (pols.score(month, files, read)[0] for pols, read in loaded)
    diff = compare_results(a, b)
    if out:
        with staged_outputs(out) as stage:
            (stage / "compare.json").write_text(json.dumps(diff, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
            rows = [COMPARE_COLUMNS] + [[r["worker_id"], r["name"], r["score_a"], r["score_b"], r["score_delta"],
                                         r["band_a"], r["band_b"], r["pay_a"], r["pay_b"], r["pay_delta"]]
                                        for r in diff["workers"]]
            (stage / "compare.csv").write_text(csv_text(rows), encoding="utf-8", newline="")
    return diff


# --------------------------------------------------------------------------- stored months


@dataclass(frozen=True)
class PeriodSummary:
    """The month's period consequences in figures (what a clerk is told after a run)."""
    applied: bool
    withheld_workers: int = 0
    withheld_total: Decimal = Decimal("0.00")
    criticised: int = 0
    commended: int = 0
    grades: tuple = ()          # (rule label, ((grade label, head count), …) best grade first) of the month's grades
    consequences: tuple = ()    # (rule label, consequence, head count): 约谈, 末位淘汰 … drawn this month


def period_summary(results: Mapping[str, Any]) -> PeriodSummary:
    if not results.get("period_rules_applied"):
        return PeriodSummary(False)
    workers = results["workers"]
    held = [w for w in workers if Decimal(w["withheld"]) > 0]
    drawn: dict[tuple[str, str], int] = {}
    for w in workers:
        for f in w["period_findings"]:
            if f.get("consequence"):
                key = (f["rule_label"], f["consequence"])
                drawn[key] = drawn.get(key, 0) + 1
    return PeriodSummary(True, len(held), sum((Decimal(w["withheld"]) for w in held), Decimal("0.00")),
                         sum(1 for w in workers if any(f["criticise"] for f in w["period_findings"])),
                         sum(1 for w in workers if any(f["commend"] for f in w["period_findings"])),
                         tuple((label, tuple(counts)) for label, counts in grade_counts(workers)),
                         tuple((label, what, k) for (label, what), k in drawn.items()))


def summary_lines(s: PeriodSummary) -> list[str]:
    """The month's grades and consequences that are not money, as a clerk is told them."""
    lines = [f"{label}：" + "、".join(f"{g} {k} 人" for g, k in counts) for label, counts in s.grades]
    return lines + [f"{label}：{k} 人（{what}）" for label, what, k in s.consequences]


def stored_months(data: str | Path, *, database: str | None = None) -> tuple[list[MonthInfo], list[dict]]:
    """The months stored in a history (`database`, else the data folder's) and the corrections made to them."""
    with History(data, database=database, create=False) as hist:
        return hist.months(), hist.corrections()


@dataclass(frozen=True)
class SchemaReport:
    where: str
    before: int | None      # the version found (None: a new, empty history)
    after: int


def upgrade_history(data: str | Path, *, database: str | None = None) -> SchemaReport:
    """Bring a history to this program's schema (what opening it does anyway), and say from which
    version: a city centre runs this once after installing a new release, before starting its
    processes again (docs/deployment.md)."""
    server = history_folder(data, database) is None       # an empty server database gets the schema now
    with History(data, database=database, create=server) as hist:
        return SchemaReport(hist.where, hist.found_version, hist.schema_version())


def backup_history(data: str | Path, target: str | Path, *, database: str | None = None) -> list[MonthInfo]:
    """A consistent copy of a SQLite history, taken while it may be in use; returns the months it holds."""
    with History(data, database=database, create=False) as hist:
        hist.backup_to(target)
    with History(Path(target).parent, database=f"sqlite:///{Path(target)}", create=False) as copy:
        return copy.months()


def month_results(data: str | Path, month: str, *, database: str | None = None) -> dict:
    """A stored month's results.json (with its period additions)."""
    with History(data, database=database, create=False) as hist:
        return hist.month_results(month)


def _write_stored(month: str, data: str | Path, out: str | Path,
                  write: Callable[[dict, Path], list[str]], database: str | None) -> list[str]:
    results = month_results(data, month, database=database)
    with staged_outputs(out) as stage:
        return write(results, stage)


def export_month(month: str, data: str | Path, out: str | Path, *, unit: str = "",
                 database: str | None = None) -> list[str]:
    """A stored month's results.json, period_findings.csv and pay sheet written again (e.g. for the
    later months a correction re-evaluated)."""
    return _write_stored(month, data, out, lambda res, stage: write_month_outputs(res, stage, unit=unit), database)


def export_paysheet(month: str, data: str | Path, out: str | Path, *, unit: str = "",
                    database: str | None = None) -> list[str]:
    """A stored month's pay sheet (paysheet.xlsx, paysheet.csv)."""
    from ..paysheet import write_paysheet

    return _write_stored(month, data, out, lambda res, stage: write_paysheet(res, stage, unit=unit), database)
