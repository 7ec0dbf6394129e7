"""Writing a solved roster: per person and per grid (CSV, .xlsx, JSON), checks, fairness, breakdown.

All headers and cell values are Chinese, for the clerk; roster.json keeps ids so that
`--replan` can read a published roster back.  Only names, roles and places are written —
no phone or id numbers.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from ..sheets import open_workbook, write_csv
from .check import RuleCheck
from .constraints import TEAM
from .rules import CATALOG, ROLE_LABELS
from .solve import Roster

WEEKDAY = "一二三四五六日"
DAY_HEAD = re.compile(r"\d+/\d+\(")          # a day column's header, 11/2(一)…


def day_headers(ro: Roster) -> list[str]:
    cal = ro.problem.cal
    out = []
    for d, day in enumerate(cal.dates):
        mark = "节" if cal.is_holiday[d] else ("休" if cal.is_rest_day[d] else "")
        mark += "重" if cal.is_key[d] else ""
        out.append(f"{day.month}/{day.day}({WEEKDAY[day.weekday()]}){mark}")
    return out


# Per person: how many days of what (also roster.json's `counts`, for overtime pay).
COUNT_COLUMNS = ["工作天数", "应出勤", "值班", "周末", "节假日", "补休", "夜班", "顶岗", "工时"]
SHIFT_COUNT_COLUMNS = ["工作天数", "工时", "夜班", "上班周末", "节假日"]      # kind: shifts


def unit_counts(ro: Roster, u: str) -> dict[str, float]:
    """A unit's (person's, or TEAM + team's) figures for the period: days worked; official working
    days less leave on them (应出勤); rest days worked (值班), of which weekends (周末) and public
    holidays (节假日); official working days neither worked nor on leave (补休); night shifts; patrols
    of other people's grids (顶岗); hours when the shifts have lengths."""
    p, cal = ro.problem, ro.problem.cal
    n = cal.days
    person = p.people.get(u)
    if person is not None and person.role == "squad":
        shift_of = lambda d: ro.person_shift(u, d)  # noqa: E731
    else:
        shift_of = lambda d: ro.duty.get((u, d))  # noqa: E731
    away = p.away(u) if person is None or person.role != "squad" else p.leave_days(u)
    days = [d for d in range(n) if shift_of(d)]
    backup = sum(1 for (g, d), who in ro.patrol.items() if who == u and p.grids[g].worker != u)
    minutes = sum(p.minutes(shift_of(d)) for d in days)
    return {
        "工作天数": len(days),
        "应出勤": sum(1 for d in range(n) if not cal.is_rest_day[d] and d not in away),
        "值班": sum(1 for d in days if cal.is_rest_day[d]),
        "周末": sum(1 for d in days if cal.is_weekend[d] and cal.is_rest_day[d] and not cal.is_holiday[d]),
        "节假日": sum(1 for d in days if cal.is_holiday[d]),
        "补休": sum(1 for d in range(n) if not cal.is_rest_day[d] and d not in away and not shift_of(d)),
        "夜班": sum(1 for d in days if p.is_night(shift_of(d))),
        "顶岗": backup,
        "工时": round(minutes / 60, 2) if minutes else 0,
        "上班周末": sum(1 for wk in cal.weekends() if any(shift_of(d) for d in wk)),
    }


def person_rows(ro: Roster) -> list[list]:
    p = ro.problem
    n = p.cal.days
    place = "单位" if p.kind == "shifts" else "镇街"
    columns = SHIFT_COUNT_COLUMNS if p.kind == "shifts" else COUNT_COLUMNS
    team = [] if p.kind == "shifts" else ["班组"]          # a roster by person and shift has no squads
    head = ["人员编号", "姓名", "角色", place] + team + day_headers(ro) + columns
    rows = [head]
    for pid, x in sorted(p.people.items(), key=lambda kv: (kv[1].town, kv[1].role, kv[0])):
        leave = p.leave_days(pid)
        cells = []
        for d in range(n):
            s = ro.person_shift(pid, d)
            cells.append("假" if d in leave else (p.shift_labels.get(s, s) if s else "休"))
        counts = unit_counts(ro, pid)
        rows.append([pid, x.name, ROLE_LABELS[x.role], x.town] + [x.team or ""] * len(team) + cells
                    + [counts[c] for c in columns])
    return rows


def grid_rows(ro: Roster) -> list[list]:
    p = ro.problem
    rows = [["网格编号", "社区", "镇街", "重点网格", "网格员"] + day_headers(ro)]
    for g, grid in sorted(p.grids.items()):
        cells = []
        for d in range(p.cal.days):
            who = ro.patrol.get((g, d))
            if who is None:
                cells.append("")
                continue
            text = p.people[who].name
            if who in grid.backups:
                text += f"({chr(ord('B') + grid.backups.index(who))}岗)"
            elif who != grid.worker:
                text += "(相邻)"
            text += f"×{p.rounds(g, d)}"
            if d in ro.fire.get(g, []):
                text += "·消防"
            cells.append(text)
        rows.append([g, p.communities[grid.community].name, grid.town, "是" if grid.key else "否",
                     p.people[grid.worker].name] + cells)
    return rows


def visit_rows(ro: Roster) -> list[list]:
    p = ro.problem
    rows = [["人员编号", "姓名", "角色", "日期", "走访网格"]]
    by: dict[tuple[str, int], list[str]] = {}
    for pid, g, d in ro.visits:
        by.setdefault((pid, d), []).append(g)
    for (pid, d), gs in sorted(by.items()):
        rows.append([pid, p.people[pid].name, ROLE_LABELS[p.people[pid].role], str(p.cal.dates[d]), "、".join(sorted(gs))])
    return rows


def demand_rows(ro: Roster) -> list[list]:
    """Kind shifts: per day and shift, the people wanted and on duty, short and beyond."""
    p = ro.problem
    rows = [["日期", "班次", "需求人数", "最少人数", "在岗", "缺员", "超员", "在岗人员"]]
    for d in range(p.cal.days):
        for s in p.person_shifts:
            dem = p.demand.get((d, s))
            on = [pid for pid in p.people if ro.duty.get((pid, d)) == s]
            if dem is None and not on:
                continue
            target = dem.target if dem else 0
            rows.append([str(p.cal.dates[d]), p.shift_labels.get(s, s), target if dem else "",
                         dem.min if dem else "", len(on), max(0, target - len(on)) if dem else "",
                         max(0, len(on) - target) if dem else "", "、".join(p.people[u].name for u in on)])
    return rows


FAIR_METRICS = {"patrol": ("工作天数", "值班", "周末", "节假日", "顶岗"),
                "teams": ("工作天数", "夜班", "周末", "节假日"),
                "shift": ("工作天数", "工时", "夜班", "上班周末", "节假日")}
GROUP_LABELS = {"patrol": "网格员、协管员", "teams": "巡防班组", "shift": "值班人员"}


def fairness_rows(ro: Roster) -> list[list]:
    """Per town and group (grid workers, squad teams, people rostered by shift): most, fewest,
    spread and mean of each figure, and who has the most and the fewest.  The fewest is taken
    among those without leave on the days counted, as the fairness rules compare them."""
    from .check import may_work, fair_groups
    p = ro.problem
    cal = p.cal
    rows = [["镇街", "对象", "指标", "人数", "最多", "最少", "差距", "平均", "最多的人", "最少的人", "说明"]]
    counted = {"工作天数": set(range(cal.days)), "值班": {d for d in range(cal.days) if cal.is_rest_day[d]},
               "周末": {d for d in range(cal.days) if cal.is_weekend[d] and cal.is_rest_day[d] and not cal.is_holiday[d]},
               "节假日": {d for d in range(cal.days) if cal.is_holiday[d]}}
    for town, group, units in fair_groups(p):
        counts = {u: unit_counts(ro, u) for u in units}
        names = {u: (f"班组{u[len(TEAM):]}" if u.startswith(TEAM) else p.people[u].name) for u in units}
        for metric in FAIR_METRICS[group]:
            who = units
            if metric == "夜班":
                # Among those who may work a night shift, as 夜班均衡 compares them.
                shifts = p.team_shifts if group == "teams" else p.person_shifts
                who = [u for u in units if any(p.is_night(s) and may_work(p, u, s) for s in shifts)] or units
            vals = {u: counts[u][metric] for u in who}
            if metric in ("夜班", "工时", "顶岗") and not any(vals.values()):
                continue
            if metric in counted and not counted[metric]:
                continue
            days = counted.get(metric, set(range(cal.days)))
            full = [u for u in who if not (p.away(u) & days)]
            base = full if full else who
            hi, lo = max(vals.values()), min(vals[u] for u in base)
            note = f"最少不计这些天请假的 {len(who) - len(full)} 人" if len(full) < len(who) and full else ""
            if len(who) < len(units):
                note = "；".join(x for x in (note, f"只比较可上夜班的 {len(who)} 人") if x)
            rows.append([town, GROUP_LABELS[group], metric, len(who), hi, lo, round(hi - lo, 2),
                         round(sum(vals.values()) / len(vals), 2), _some([names[u] for u in who if vals[u] == hi]),
                         _some([names[u] for u in base if vals[u] == lo]), note])
    return rows


def _some(names: list[str], k: int = 8) -> str:
    """At most k names, then how many more: a cell stays readable."""
    return "、".join(names[:k]) + (f" 等{len(names)}人" if len(names) > k else "")


def breakdown_rows(ro: Roster) -> list[list]:
    rows = [["规则编号", "规则", "罚分"]]
    for rule, cost in sorted(ro.breakdown().items(), key=lambda kv: -kv[1]):
        rows.append([rule, CATALOG[rule].label, cost])
    rows.append(["", "合计", sum(ro.breakdown().values())])
    return rows


STATUS_CN = {"OPTIMAL": "最优（已证明）", "FEASIBLE": "可行", "IMPORTED": "手工调整", "UNPRICED": "手工调整（未计罚分）"}


def part_rows(ro: Roster) -> list[list]:
    rows = [["镇街", "求解状态", "目标值（罚分）", "下界", "差距", "用时(秒)", "首个可行排班(秒)"]]
    status_cn = STATUS_CN
    for part in ro.parts:
        rows.append([part.town, status_cn.get(part.status, part.status), part.objective, part.bound,
                     f"{part.gap:.1%}" if part.gap is not None else "", round(part.wall, 1),
                     round(part.first_solution, 1) if part.first_solution is not None else ""])
    return rows


def relaxed_rules(ro: Roster) -> set[str]:
    """Rules a --relax roster breaks on purpose (listed in 放宽的规则.csv)."""
    return {rule for part in ro.parts for rule, _ in part.broken}


def check_rows(checks: list[RuleCheck], relaxed: set[str] = frozenset()) -> list[list]:
    rows = [["规则编号", "规则", "检查项数", "违反数", "结果", "示例"]]
    for c in checks:
        result = "通过" if c.ok else ("已放宽" if c.rule in relaxed else "未通过")
        rows.append([c.rule, c.label, c.checked, len(c.violations), result, "；".join(c.violations[:3])])
    return rows


def broken_rows(ro: Roster) -> list[list]:
    rows = [["规则编号", "规则", "被违反的情形"]]
    for part in ro.parts:
        for rule, text in part.broken:
            rows.append([rule, CATALOG[rule].label, text])
    return rows


def to_json(ro: Roster, checks: list[RuleCheck]) -> dict:
    p = ro.problem
    n = p.cal.days
    units = [pid for pid, x in p.people.items() if x.role != "squad"] + [TEAM + t for t in p.teams]
    return {
        "name": p.name, "kind": p.kind, "month": p.month, "period": p.period, "source": ro.source,
        "register": p.register, "days": [str(d) for d in p.cal.dates],
        # Per person: days worked, official working days less leave, rest-day duty (of which weekends
        # and holidays), compensatory rest days, nights, backup patrols, hours: for overtime pay.
        "counts": {pid: unit_counts(ro, pid) for pid in p.people},
        "duty": {u: [ro.duty.get((u, d)) for d in range(n)] for u in units},
        "patrol": {g: [ro.patrol.get((g, d)) for d in range(n)] for g in p.grids},
        "visits": sorted([pid, g, d] for pid, g, d in ro.visits),
        "fire": {g: sorted(ds) for g, ds in ro.fire.items()},
        "objective": ro.objective, "bound": ro.bound, "breakdown": ro.breakdown(),
        "parts": [{"town": x.town, "status": x.status, "objective": x.objective, "bound": x.bound,
                   "wall": round(x.wall, 3), "first_solution": x.first_solution,
                   "lines": [list(line) for line in x.lines], "broken": [list(b) for b in x.broken]} for x in ro.parts],
        "check": [{"rule": c.rule, "label": c.label, "checked": c.checked, "violations": c.violations} for c in checks],
        "directory": directory(ro),
    }


def directory(ro: Roster) -> dict:
    """Names, places and calendar marks, so that a printed roster needs nothing but roster.json."""
    p = ro.problem
    cal = p.cal
    return {
        "people": {pid: {"name": x.name, "role": ROLE_LABELS[x.role], "town": x.town, "community": x.community,
                         "team": x.team, "leave": sorted(p.leave_days(pid)),
                         "duty_row": TEAM + x.team if x.role == "squad" else pid} for pid, x in p.people.items()},
        "communities": {cid: {"name": c.name, "town": c.town, "manager": c.manager} for cid, c in p.communities.items()},
        "grids": {g: {"name": x.name, "community": x.community, "town": x.town, "worker": x.worker,
                      "backups": list(x.backups), "key": x.key, "households": x.households}
                  for g, x in p.grids.items()},
        "teams": {t: {"town": team.town, "members": list(team.members), "duty_row": TEAM + t}
                  for t, team in p.teams.items()},
        "shift_labels": dict(p.shift_labels),
        "shifts": {s.id: {"label": s.label, "minutes": s.minutes, "night": s.night, "time": s.time}
                   for s in p.shift_types.values()},
        # kind shifts: per shift, per day [people wanted, hard minimum], or None where nobody is wanted
        "demand": {s: [[dem.target, dem.min] if (dem := p.demand.get((d, s))) else None for d in range(cal.days)]
                   for s in p.person_shifts} if p.kind == "shifts" else {},
        "official_working_days": cal.official_working_days,
        "calendar": [{"date": str(cal.dates[d]), "weekend": cal.is_weekend[d], "holiday": cal.is_holiday[d],
                      "rest": cal.is_rest_day[d], "holiday_name": cal.holiday_name[d], "key": cal.is_key[d],
                      "key_reason": cal.key_reason[d]} for d in range(cal.days)],
    }


def write_all(ro: Roster, checks: list[RuleCheck], out: Path, extra: dict[str, list[list]] | None = None) -> list[str]:
    """Write every output file into `out` (a staging folder); returns the file names."""
    tables = {"排班_按人员": person_rows(ro)}
    if ro.problem.kind == "patrol":
        tables.update({"排班_按网格": grid_rows(ro), "督导走访": visit_rows(ro)})
    else:
        tables["班次人数"] = demand_rows(ro)
    tables.update({
        "公平性": fairness_rows(ro),
        "目标分解": breakdown_rows(ro),
        "求解情况": part_rows(ro),
        "规则校验": check_rows(checks, relaxed_rules(ro)),
    })
    if any(part.broken for part in ro.parts):
        tables["放宽的规则"] = broken_rows(ro)
    tables.update(extra or {})
    names = []
    for stem, rows in tables.items():
        write_csv(out / f"{stem}.csv", rows)
        names.append(f"{stem}.csv")
    (out / "roster.json").write_text(json.dumps(to_json(ro, checks), ensure_ascii=False, indent=1), encoding="utf-8")
    names.append("roster.json")
    _xlsx(tables, out / "排班.xlsx", f"{ro.problem.name}（{ro.problem.cal.title()}）")
    names.append("排班.xlsx")
    return names


def _xlsx(tables: dict[str, list[list]], path: Path, title: str = "") -> None:
    """Every table a sheet, laid out to print: landscape A4 (A3 for the day-by-day sheets), the
    header row repeated on each page, fitted to the page width, the title in the page header."""
    wb = open_workbook(path)
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "align": "center"})
    cell = wb.add_format({"border": 1})
    off = wb.add_format({"border": 1, "bg_color": "#F2F2F2", "font_color": "#808080"})
    leave = wb.add_format({"border": 1, "bg_color": "#FCE4D6"})
    for stem, rows in tables.items():
        ws = wb.add_worksheet(stem[:31])
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                if r == 0:
                    ws.write_string(r, c, str(v), head)
                else:
                    fmt = off if v == "休" else leave if v == "假" else cell
                    if isinstance(v, (int, float)) and not isinstance(v, bool):
                        ws.write_number(r, c, v, fmt)
                    else:
                        ws.write_string(r, c, "" if v is None else str(v), fmt)
        ws.freeze_panes(1, 2 if stem.startswith("排班") else 0)
        if stem.startswith("排班"):
            first = next((i for i, h in enumerate(rows[0]) if DAY_HEAD.match(str(h))), len(rows[0]))
            ws.set_column(0, first - 1, 10)
            ws.set_column(first, len(rows[0]), 6 if stem == "排班_按人员" else 12)
        else:
            ws.set_column(0, len(rows[0]), 14)
        ws.set_landscape()
        ws.set_paper(8 if stem.startswith("排班") else 9)        # A3 for the day-by-day sheets, else A4
        ws.repeat_rows(0)
        ws.fit_to_pages(1, 0)
        ws.set_header(f"&C{_header_text(title)} {stem}")
        ws.set_footer("&C第 &P 页，共 &N 页")
    wb.close()


def _header_text(text: str) -> str:
    """A page-header text as Excel reads it (& starts a code: doubled)."""
    return text.replace("&", "&&")
