"""Reading back a roster an office adjusted by hand, in the layout 排班.xlsx is written in.

Offices always adjust a roster by hand.  `read_edited` reads the edited 排班.xlsx (sheets
排班_按人员, 排班_按网格 and 督导走访), or the same tables as CSV files in one folder, into a
`Roster` of the problem; `locate` turns the independent coverage check's violations of that
roster into located problems — the sheet, row and day column of the cell that breaks a rule, the
value found there and the rule it breaks — so that a clerk can find and fix each one.

What a cell may hold is what the writer puts there: in 排班_按人员 a shift's label (班, 白, 夜, or a
duty room's 早/中/夜), 休 or 假; in 排班_按网格 the patroller's name, optionally with (B岗)/(相邻),
×rounds and ·消防 (the rounds are recomputed, the rest is read); in 督导走访 a visitor's id, a date
and the grids visited, separated by 、.  Squad members are rostered as teams: every member present
of a team must show the same shift.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from ..errors import DataError, InputError, Problem, ProblemList
from ..sources import Row, read_table, sheet_names
from .check import RuleCheck
from .model import TEAM, RosterProblem
from .output import day_headers
from .solve import Roster

PEOPLE, GRIDS, VISITS = "排班_按人员", "排班_按网格", "督导走访"
PEOPLE_COLS = {"id": ["人员编号", "编号", "工号"], "name": ["姓名"]}
GRID_COLS = {"id": ["网格编号", "编号"]}
VISIT_COLS = {"id": ["人员编号", "编号"], "date": ["日期"], "grids": ["走访网格", "网格"]}
CELL = re.compile(r"^(?P<who>[^(（×·\s]+)\s*(?:[(（][^)）]*[)）])?\s*(?:[×xX]\s*\d+)?\s*(?P<rest>.*)$")
OFF, LEAVE = "休", "假"


class _Sheets:
    """Where each table of an edited roster is: an .xlsx and its sheet names, or CSV files in a folder."""

    def __init__(self, path: Path, kind: str = "patrol"):
        self.path, self.kind = path, kind
        self.renamed: dict[str, str] = {}     # table -> the sheet that holds it under another name
        # One CSV file under a name of its own (值班表调整.csv, "排班_按人员 (2).csv" as a second save
        # names it): the by-person table, which is the whole of a roster by person and shift.
        self.single: Path | None = None
        if path.is_dir():
            self.folder, self.xlsx = path, None
        elif path.suffix.lower() in (".xlsx", ".xlsm"):
            self.folder, self.xlsx = None, path
        else:
            self.folder, self.xlsx = path.parent, None
            if path.suffix.lower() == ".csv" and path.stem not in (PEOPLE, GRIDS, VISITS):
                self.single = path

    def name(self, sheet: str) -> str:
        """How a problem names the table: 排班.xlsx「排班_按人员」 or the CSV file's path."""
        if self.single is not None and sheet == PEOPLE:
            return str(self.single)
        return f"{self.xlsx}「{self.renamed.get(sheet, sheet)}」" if self.xlsx else str(self.folder / f"{sheet}.csv")

    def _lone_sheet(self) -> str | None:
        """A roster by person and shift saved as a workbook of one sheet under another name (WPS names
        the sheet of a CSV saved as .xlsx after the file): that sheet is its 排班_按人员."""
        names = sheet_names(self.xlsx)
        return names[0] if len(names) == 1 and names[0] != PEOPLE else None

    def read(self, sheet: str, cols: dict, required: list[str], extra: dict | None,
             probs: ProblemList, needed: bool = True) -> list[Row] | None:
        if self.single is not None:
            if sheet != PEOPLE:
                if needed and sheet == GRIDS:   # a patrol roster's grids (and visits) are tables of their own
                    probs.add(str(self.single), None, "文件", self.single.name,
                              f"巡查排班的排班.xlsx，或排班_按人员.csv、{GRIDS}.csv 等所在的文件夹"
                              f"（一个 CSV 文件只能是按人员、按班次的值班表）")
                return None
            path, which = self.single, None
        elif self.xlsx:
            path, which = self.xlsx, sheet
            if sheet == PEOPLE and self.kind == "shifts" and self.xlsx.exists():
                lone = self._lone_sheet()
                if lone is not None:
                    self.renamed[PEOPLE] = which = lone
        else:
            path, which = self.folder / f"{sheet}.csv", None
            if not path.exists():
                if needed:
                    probs.add(str(path), None, "文件", None, f"排班表「{sheet}」（{sheet}.csv，与排班.xlsx 中的表同样格式）")
                return None
        if not path.exists():
            probs.add(str(path), None, "文件", str(path), "手工调整后的排班表（排班.xlsx，或排班_按人员.csv 等所在的文件夹）")
            return None
        try:
            rows, _ = read_table(path, cols, required=required, extra=extra, keep_unknown=True, sheet=which,
                                 problems=probs)
        except KeyError:
            if needed:
                probs.add(str(path), None, "工作表", sheet, f"名为「{sheet}」的工作表（排班.xlsx 写出时的表名）")
            return None
        except InputError as exc:
            probs.extend([_rename(p, str(path), self.name(sheet)) for p in exc.problems])
            return None
        return [Row(self.name(sheet), r.row, r.values, r.flagged) for r in rows]


def _rename(p: Problem, old: str, new: str) -> Problem:
    return Problem(new if p.file == old else p.file, p.line, p.field, p.found, p.expected, p.hint)


class EditedRoster:
    """A hand-edited roster as read: the roster, and where each unit's and grid's row is."""

    def __init__(self, roster: Roster, sheets: _Sheets, person_row: dict[str, int], grid_row: dict[str, int],
                 cells: dict[tuple[str, str, int], str]):
        self.roster, self.sheets = roster, sheets
        self.person_row, self.grid_row = person_row, grid_row
        self.cells = cells                   # (sheet, unit or grid, day) -> the cell's text

    def locate(self, checks: list[RuleCheck], skip: set[str] = frozenset()) -> list[Problem]:
        """Every violation of the checks (but those of rules in `skip`) as a problem at its cell."""
        p = self.roster.problem
        heads = day_headers(self.roster)
        out: list[Problem] = []
        for c in checks:
            if c.rule in skip:
                continue
            for v in c.violations:
                expected = f"符合「{c.label}」：{v}"
                unit, grid, day = getattr(v, "unit", None), getattr(v, "grid", None), getattr(v, "day", None)
                if unit is not None and unit.startswith(TEAM):
                    members = p.teams[unit[len(TEAM):]].members
                    unit = next((m for m in members if m in self.person_row), None)
                if grid is not None and (unit is None or grid in self.grid_row and c.rule in ("grid_cover", "fire_check")):
                    sheet, row, key = GRIDS, self.grid_row.get(grid), grid
                elif unit is not None:
                    sheet, row, key = PEOPLE, self.person_row.get(unit), unit
                else:   # a day's count (a shift short of its minimum): that day's column
                    at = heads[day] if day is not None and 0 <= day < len(heads) else c.label
                    out.append(Problem(self.sheets.name(PEOPLE if p.kind == "shifts" else GRIDS), None,
                                       at, None, expected))
                    continue
                if day is not None and 0 <= day < len(heads):
                    out.append(Problem(self.sheets.name(sheet), row, heads[day], self.cells.get((sheet, key, day)) or None,
                                       expected))
                else:
                    name = p.people[key].name if key in p.people else key
                    out.append(Problem(self.sheets.name(sheet), row, "（整行）", name, expected))
        return out


def read_edited(prob: RosterProblem, path: str | Path) -> EditedRoster:
    """Read an edited roster of the problem; DataError lists every cell that cannot be read."""
    sheets = _Sheets(Path(path), prob.kind)
    probs = ProblemList()
    ro = Roster(prob, source="imported")
    heads = day_headers(ro)
    n = prob.cal.days
    days = {_day_key(prob, d): [heads[d]] for d in range(n)}
    cells: dict[tuple[str, str, int], str] = {}
    person_row: dict[str, int] = {}
    # The day columns are columns of their own, not extra ones, so that a missing one is named as
    # written (12/9(三)), not by an internal key.
    people = sheets.read(PEOPLE, PEOPLE_COLS | days, ["id"] + list(days), None, probs)
    if people is not None:
        _read_people(prob, ro, people, person_row, cells, probs, sheets)
    grid_row: dict[str, int] = {}
    if prob.kind == "patrol":
        grids = sheets.read(GRIDS, GRID_COLS | days, ["id"] + list(days), None, probs)
        if grids is not None:
            _read_grids(prob, ro, grids, grid_row, cells, probs, sheets)
        visits = sheets.read(VISITS, VISIT_COLS, ["id", "date", "grids"], None, probs,
                             needed=any(g.supervisor for g in prob.grids.values())
                             or any(c.manager for c in prob.communities.values()))
        for r in visits or []:
            _read_visit(prob, ro, r, probs)
    probs.raise_if_any(DataError)
    return EditedRoster(ro, sheets, person_row, grid_row, cells)


def _day_key(prob: RosterProblem, d: int) -> str:
    """A day's column as read: 12/9, which also accepts the header as written (12/9(三), 12/12(六)休);
    the date itself in a period of 366 days, where a month and day may come twice."""
    day = prob.cal.dates[d]
    return f"{day.month}/{day.day}" if prob.cal.days <= 365 else day.isoformat()


def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()


def _read_people(prob, ro: Roster, rows: list[Row], person_row, cells, probs: ProblemList, sheets: _Sheets) -> None:
    n = prob.cal.days
    from .replan import unit_shifts
    team_cell: dict[tuple[str, int], tuple[str | None, str, int]] = {}    # (team, d) -> (shift, who, row)
    for r in rows:
        pid = _row_id(r, prob.people, person_row, "人员编号", "人员编号（排班表的人员只能调整班次，不能增删）", "每人一行", probs)
        if pid is None:
            continue
        x = prob.people[pid]
        unit = TEAM + x.team if x.role == "squad" else pid
        allowed = unit_shifts(prob, unit)
        by_label = {prob.shift_labels.get(s, s): s for s in allowed} | {s: s for s in allowed}
        leave = prob.leave_days(pid)
        for d in range(n):
            text = _text(r.get(_day_key(prob, d)))
            cells[PEOPLE, pid, d] = text
            head = day_headers(ro)[d]
            if text == LEAVE:
                if d not in leave:
                    probs.add(r.file, r.row, head, text, "班次、休（此人这一天没有登记请假：请假先写入 leave.csv）")
                continue
            if text == OFF:
                shift = None
            elif text in by_label:
                shift = by_label[text]
            else:
                probs.add(r.file, r.row, head, text or None,
                          "以下之一：" + "、".join(list(dict.fromkeys(prob.shift_labels.get(s, s) for s in allowed)) + [OFF, LEAVE]))
                continue
            if x.role == "squad":
                if d in leave:
                    continue
                seen = team_cell.get((x.team, d))
                if seen is None:
                    team_cell[x.team, d] = (shift, x.name, r.row)
                elif seen[0] != shift:
                    shown = prob.shift_labels.get(seen[0], seen[0]) if seen[0] else OFF
                    probs.add(r.file, r.row, head, text,
                              f"与班组 {x.team} 其他队员相同（巡防队按班组排班：第{seen[2]}行 {seen[1]} 是 {shown}）")
                continue
            if shift is not None:
                ro.duty[pid, d] = shift
    for (team, d), (shift, _, _) in team_cell.items():
        if shift is not None:
            ro.duty[TEAM + team, d] = shift
    file = sheets.name(PEOPLE)
    for pid, x in prob.people.items():
        if pid not in person_row and rows:
            probs.add(file, None, "人员编号", pid, f"排班表中此人的一行（缺少 {x.name}）")


def _read_grids(prob, ro: Roster, rows: list[Row], grid_row, cells, probs: ProblemList, sheets: _Sheets) -> None:
    n = prob.cal.days
    heads = day_headers(ro)
    joint = prob.on("joint_patrol") and prob.rule("joint_patrol")["allowed"]
    for r in rows:
        g = _row_id(r, prob.grids, grid_row, "网格编号", "网格编号", "每个网格一行", probs)
        if g is None:
            continue
        grid = prob.grids[g]
        near = [grid.worker, *grid.backups] + ([prob.grids[a].worker for a in grid.adjacent if a in prob.grids]
                                               if joint else [])
        for d in range(n):
            text = _text(r.get(_day_key(prob, d)))
            cells[GRIDS, g, d] = text
            if not text:
                continue         # nobody: the coverage check says so
            m = CELL.match(text)
            who = m.group("who") if m else text
            pid = _person(prob, who, near, grid.town)
            if pid is None:
                probs.add(r.file, r.row, heads[d], text,
                          f"{grid.town} 一名人员的姓名或编号（本人、AB岗或相邻网格网格员：" +
                          "、".join(prob.people[c].name for c in dict.fromkeys(near)) + "）")
                continue
            ro.patrol[g, d] = pid
            if m and "消防" in m.group("rest"):
                ro.fire.setdefault(g, []).append(d)
    file = sheets.name(GRIDS)
    for g in prob.grids:
        if g not in grid_row and rows:
            probs.add(file, None, "网格编号", g, f"排班表中此网格的一行（缺少网格 {g}）")


def _row_id(r: Row, known, seen: dict[str, int], col: str, what: str, once: str, probs: ProblemList) -> str | None:
    """The id of a row of the edited roster (a person or a grid of the problem, once), else None
    with the problem said."""
    key = _text(r.get("id"))
    if key not in known:
        probs.add(r.file, r.row, col, key or None, f"本排班的{what}")
        return None
    if key in seen:
        probs.add(r.file, r.row, col, key, f"{once}（第{seen[key]}行已有）")
        return None
    seen[key] = r.row
    return key


def _person(prob: RosterProblem, who: str, near: list[str], town: str) -> str | None:
    """The person a grid cell names: an id, or a name (the grid's own people first, then the town's)."""
    if who in prob.people:
        return who
    mine = [c for c in dict.fromkeys(near) if prob.people[c].name == who]
    if len(mine) == 1:
        return mine[0]
    same = [pid for pid, x in prob.people.items() if x.name == who and x.town == town]
    return same[0] if len(same) == 1 else None


def _read_visit(prob: RosterProblem, ro: Roster, r: Row, probs: ProblemList) -> None:
    pid = _text(r.get("id"))
    if pid not in prob.people or prob.people[pid].role not in ("supervisor", "manager"):
        probs.add(r.file, r.row, "人员编号", pid or None, "督导员或网格管理者的人员编号")
        return
    try:
        day = r.get("date")
        day = day.date() if isinstance(day, dt.datetime) else day if isinstance(day, dt.date) \
            else dt.date.fromisoformat(_text(day))
        d = prob.cal.dates.index(day)
    except ValueError:
        probs.add(r.file, r.row, "日期", r.get("date"), f"排班期间内的日期 YYYY-MM-DD（{prob.cal.start}～{prob.cal.end}）")
        return
    for g in re.split(r"[、;；,，\s]+", _text(r.get("grids"))):
        if not g:
            continue
        if g not in prob.grids:
            probs.add(r.file, r.row, "走访网格", g, "本排班的网格编号")
            continue
        ro.visits.add((pid, g, d))
        ro.duty[pid, d] = "duty"
