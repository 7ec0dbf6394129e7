"""The month's print pack as use cases: prepare it (settings, roster, register checked together),
render it as a draft or issue its numbered notices, and keep the register of document numbers.

Document numbers (发文字号) are the office's, shared with documents made outside the tool, so
nothing takes one by accident:
- a print is a **draft** (送审稿) unless its notices are issued: numbered notices carry no number
  and a draft mark, and nothing is recorded;
- **issuing** takes, for each numbered notice of the month not issued yet, the next number of the
  year in the register (or the number the clerk gives) and the 成文日期 given at that moment, and
  records both with what the number was for; a number already in the register is refused;
- a notice issued before is printed again with its number and date (a reprint consumes nothing);
- numbers used outside the tool are entered in the same register (`record_number`), so the next
  number follows them.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from ..errors import SETTINGS_FIELD, InputError, Problem, TemplateError
from ..history import DocNumber, History
from ..outputs import staged_outputs

__all__ = ["PackPlan", "Issue", "NoticesReport", "SETTINGS_FIELD", "prepare_pack", "find_settings",
           "render_pack_into", "make_notices", "number_register", "record_number", "doc_title",
           "make_correction_notice"]

SETTINGS_NAME = "office.yaml"


@dataclass
class PackPlan:
    """Everything a print pack needs besides the month's results, read and checked up front."""
    settings: Any                       # notices.OfficeSettings
    settings_path: Path
    roster: Mapping[str, Any] | None = None
    register: list[Mapping[str, Any]] | None = None
    only: set[str] | None = None
    formats: set[str] | None = None
    jobs: int = 2
    town_rosters: dict[str, Mapping[str, Any]] = field(default_factory=dict)  # town -> its own published roster


@dataclass(frozen=True)
class Issue:
    """Issue the month's numbered notices: `kinds` (None: every numbered notice in the pack not
    issued yet), on `date` (the 成文日期, YYYY-MM-DD; None: the settings' `date`, else today), with
    `number` when the clerk gives one (then exactly one notice may be issued)."""
    date: str | None = None
    kinds: frozenset[str] | None = None
    number: int | None = None


@dataclass
class NoticesReport:
    month: str
    pack: Any                            # notices.Pack
    issued: list[dict] = field(default_factory=list)     # numbers recorded by this print


def find_settings(office: str | Path | None, data_dir: str | Path | None) -> Path:
    """The office settings file: the one given, else office.yaml in the data folder.  There is no
    silent fallback: notices printed under another office's header and numbers are worse than none."""
    if office:
        return Path(office)
    if data_dir is not None and (Path(data_dir) / SETTINGS_NAME).is_file():
        return Path(data_dir) / SETTINGS_NAME
    from ..notices import DEFAULT_SETTINGS

    where = f"数据目录 {data_dir} 下的 {SETTINGS_NAME}" if data_dir is not None else SETTINGS_NAME
    raise TemplateError([Problem(where, None, SETTINGS_FIELD, None, "本单位的发文设置文件（发文机关、红头、文号前缀、主送、落款）",
                                 f"复制示例 {DEFAULT_SETTINGS} 为 {where}，改成本单位的内容")])


def prepare_pack(*, office: str | Path | None, data: str | Path | None, roster_dir: str | Path | None = None,
                 workers: str | Path | None = None, only: str | None = None, formats: set[str] | None = None,
                 jobs: int = 2, town_rosters: Mapping[str, str | Path] | None = None) -> PackPlan:
    """Settings, roster and register read and checked together (every problem in one error),
    before any scoring, so that a broken settings file stops a run before it stores anything.
    `town_rosters`: town -> the folder of a patrol roster that town published itself (the roster
    page's), printed for that town instead of the office's `roster_dir`; each checked against the
    register like the office's."""
    from ..inputs import read_register
    from ..notices import load_roster, load_settings, parse_only, register_dicts

    problems: list[Problem] = []
    try:
        path = find_settings(office, data)
    except InputError as exc:
        problems.extend(exc.problems)
        path = None
    plan = PackPlan(settings=None, settings_path=path, formats=formats, jobs=jobs)
    steps: dict[str, Callable[[], Any]] = {
        "settings": lambda: load_settings(path) if path is not None else None,
        "only": lambda: parse_only(only),
        "roster": lambda: load_roster(roster_dir) if roster_dir else None,
        "register": lambda: register_dicts(read_register(workers)) if workers else None}
    for key, step in steps.items():
        try:
            setattr(plan, key, step())
        except InputError as exc:
            problems.extend(exc.problems)
    for town, folder in (town_rosters or {}).items():
        try:
            plan.town_rosters[town] = load_roster(folder)
        except InputError as exc:
            problems.extend(exc.problems)
    # the printed rosters and the scores must be about the same people in the same grids
    checked = [(roster_dir, plan.roster)] + [(town_rosters[t], r) for t, r in plan.town_rosters.items()]
    for folder, roster in checked:
        if not problems and roster is not None and workers and roster.get("kind", "patrol") != "shifts":
            from .rosters import register_differences

            problems.extend(register_differences(folder, workers))
    if problems:
        raise InputError(problems)
    return plan


def doc_title(kind: str, month: str) -> str:
    """What a number was used for, as the register shows it."""
    from ..notices import DOCUMENTS
    from ..periods import month_label

    return f"{month_label(month)}{DOCUMENTS.get(kind, kind)}"


def _numbers(hist: History | None, plan: PackPlan, month: str, kinds: list[str], issue: Issue | None,
             today: str) -> tuple[dict[str, dict], list[DocNumber]]:
    """kind -> the number a numbered notice carries ({year, number, text, date, draft}), and the
    register rows this print adds."""
    from ..notices import NUMBERED

    prefix = plan.settings.document_number.prefix
    numbered = [k for k in NUMBERED if k in kinds]
    issued = hist.doc_numbers(prefix, month) if hist is not None else {}
    to_issue = [k for k in numbered if k not in issued and issue is not None
                and (issue.kinds is None or k in issue.kinds)]
    problems: list[Problem] = []
    if issue is not None:
        if issue.kinds is not None:
            for k in sorted(issue.kinds & set(issued)):
                got = issued[k]
                problems.append(Problem(SETTINGS_FIELD, None, "出文", doc_title(k, month), "尚未出文的公文",
                                        f"已于 {got['issued_on']} 以 {prefix}〔{got['year']}〕{got['number']}号 出文；"
                                        "重印沿用原文号"))
        if issue.number is not None and len(to_issue) != 1:
            problems.append(Problem(SETTINGS_FIELD, None, "文号", issue.number, "只出一份公文时才能指定文号",
                                    f"本次要出文的有 {len(to_issue)} 份：" + "、".join(doc_title(k, month) for k in to_issue)))
    if problems:
        raise InputError(problems)
    out: dict[str, dict] = {}
    rows: list[DocNumber] = []
    day = _issue_date(plan, issue, today)
    for kind in numbered:
        if kind in issued:
            got = issued[kind]
            out[kind] = {"year": got["year"], "number": got["number"], "text": f"{prefix}〔{got['year']}〕{got['number']}号",
                         "date": got["issued_on"], "draft": False}
        elif kind in to_issue:
            year = int(day[:4])
            if issue.number is not None:
                number = issue.number
            else:
                taken = hist.last_doc_number(prefix, year) if hist is not None else 0
                number = max(taken, plan.settings.document_number.start - 1, *(r.number for r in rows if r.year == year)) + 1
            if hist is not None:
                hist.check_number_free(prefix, year, number)
            rows.append(DocNumber(prefix, year, number, kind, month, doc_title(kind, month), day))
            out[kind] = {"year": year, "number": number, "text": f"{prefix}〔{year}〕{number}号", "date": day,
                         "draft": False}
        else:
            out[kind] = {"year": None, "number": None, "text": "", "date": today, "draft": True}
    return out, rows


def _issue_date(plan: PackPlan, issue: Issue | None, today: str) -> str:
    return (issue.date if issue is not None else None) or plan.settings.date or today


def _paper_date(hist: History | None, plan: PackPlan, month: str, issue: Issue | None) -> str:
    """The date on the unnumbered papers (slips, pay sheet): the issue date when issuing, else the
    day the month's notices were first issued, else today."""
    if issue is not None:
        return _issue_date(plan, issue, dt.date.today().isoformat())
    issued = hist.doc_numbers(plan.settings.document_number.prefix, month) if hist is not None else {}
    return min((v["issued_on"] for v in issued.values()), default=dt.date.today().isoformat())


def render_pack_into(results: Mapping[str, Any], plan: PackPlan, folder: Path, hist: History | None, *,
                     issue: Issue | None = None, new_numbers: list | None = None,
                     progress: Callable[[int, int], None] | None = None):
    """Render the month's pack into `folder` (inside a staging folder the caller commits).  The
    numbers this print issues are appended to `new_numbers`, to be recorded by the caller in the
    same step that makes the files visible.  `progress(done, total)` is told of every file written."""
    from ..notices import PackRequest, build_pack, wanted_documents

    folder.mkdir(parents=True, exist_ok=True)
    req = PackRequest(results, plan.settings, roster=plan.roster, register=plan.register, only=plan.only,
                      formats=plan.formats, jobs=plan.jobs, town_rosters=plan.town_rosters)
    kinds, skipped = wanted_documents(req)
    numbers, rows = _numbers(hist, plan, results["month"], kinds, issue, dt.date.today().isoformat())
    pack = build_pack(req, folder, kinds, numbers, _paper_date(hist, plan, results["month"], issue), progress)
    pack.skipped = skipped
    pack.numbers = numbers
    if new_numbers is not None:
        new_numbers.extend(rows)
    return pack


def make_notices(month: str, data: str | Path, out: str | Path, plan: PackPlan, *,
                 issue: Issue | None = None, progress: Callable[[int, int], None] | None = None,
                 database: str | None = None) -> NoticesReport:
    """A stored month's print pack written into `out` all at once; with `issue`, its numbered
    notices issued in the same step (the numbers are recorded only when the files are in place)."""
    from ..notices import is_pack_file

    with History(data, database=database, create=False) as hist:
        results = hist.month_results(month)
        new: list[DocNumber] = []
        with hist.transaction() as tx:
            with staged_outputs(out, stale=is_pack_file, record=lambda: (hist.insert_numbers(new), tx.commit())) as stage:
                pack = render_pack_into(results, plan, stage, hist, issue=issue, new_numbers=new, progress=progress)
    return NoticesReport(results["month"], pack, [r.as_dict() for r in new])


def number_register(data: str | Path, *, prefix: str | None = None, year: int | None = None,
                    database: str | None = None) -> list[dict]:
    """Every number in the register (issued by the tool or entered from outside), oldest first."""
    with History(data, database=database, create=False) as hist:
        return hist.number_register(prefix=prefix, year=year)


def record_number(data: str | Path, *, prefix: str, year: int, number: int, title: str, date: str,
                  database: str | None = None) -> dict:
    """Enter a number the office used outside the tool, so that the tool never gives it again."""
    problems = []
    if not title.strip():
        problems.append(Problem(SETTINGS_FIELD, None, "标题", title, "该文号所发公文的标题"))
    if number < 1:
        problems.append(Problem(SETTINGS_FIELD, None, "文号", number, "正整数"))
    try:
        day = dt.date.fromisoformat(date)
    except ValueError:
        problems.append(Problem(SETTINGS_FIELD, None, "成文日期", date, "日期 YYYY-MM-DD，如 2026-11-05"))
        day = None
    if day is not None and day.year != year:
        problems.append(Problem(SETTINGS_FIELD, None, "成文日期", date, f"{year} 年内的日期（文号年份为 {year}）"))
    if problems:
        raise InputError(problems)
    row = DocNumber(prefix, year, number, "external", None, title.strip(), date, source="external")
    with History(data, database=database) as hist:
        with hist.transaction():
            hist.check_number_free(prefix, year, number)
            hist.insert_numbers([row])
    return row.as_dict()


def make_correction_notice(data: str | Path, out: str | Path, office: str | Path | None, case: Mapping[str, Any], *,
                           key: str, title: str, issue: Issue | None = None,
                           progress: Callable[[int, int], None] | None = None) -> dict:
    """The 考核结果更正通知 of one correction (`case`: engine/notices/correction.correction_context) written
    into `out` all at once: a draft (送审稿, no number), or with `issue` its own number from the register,
    recorded with `title` under `key` (one key per correction) in the same step that makes the files
    visible.  Printed again after issuing, it keeps its number and date."""
    from ..notices import load_settings
    from ..notices.correction import FILE_STEM, render_correction

    settings = load_settings(find_settings(office, data))
    prefix = settings.document_number.prefix
    today = dt.date.today().isoformat()
    with History(data, create=False) as hist:
        with hist.transaction() as tx:
            got = next((r for r in hist.number_register(prefix=prefix) if r["kind"] == key), None)
            rows: list[DocNumber] = []
            number = None
            if got is not None:
                number = {"text": got["text"], "date": got["issued_on"], "year": got["year"], "number": got["number"]}
            elif issue is not None:
                day = issue.date or settings.date or today
                year = int(day[:4])
                n = issue.number or max(hist.last_doc_number(prefix, year), settings.document_number.start - 1) + 1
                hist.check_number_free(prefix, year, n)
                rows.append(DocNumber(prefix, year, n, key, None, title, day))
                number = {"text": rows[0].text, "date": day, "year": year, "number": n}
            date = number["date"] if number else today
            with staged_outputs(out, stale=lambda p: p.stem == FILE_STEM,
                                record=lambda: (hist.insert_numbers(rows), tx.commit())) as stage:
                files, notes = render_correction(case, settings, stage, number=number, date=date, progress=progress)
    return {"files": files, "number": number, "draft": number is None, "issued": [r.as_dict() for r in rows],
            "notes": notes}
