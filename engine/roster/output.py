"""Writing a solved roster: per person and per grid (CSV, .xlsx, JSON), checks, fairness, breakdown.

All headers and cell values are Chinese, for the clerk; roster.json keeps ids so that
`--replan` can read a published roster back.  Only names, roles and places are written —
no phone or id numbers.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..sheets import open_workbook, write_csv
from .check import RuleCheck
from .constraints import TEAM
from .rules import CATALOG, ROLE_LABELS
from .solve import Roster

WEEKDAY = "一二三四五六日"


def day_headers(ro: Roster) -> list[str]:
    cal = ro.problem.cal
    out = []
    for d, day in enumerate(cal.dates):
        mark = "节" if cal.is_holiday[d] else ("休" if cal.is_rest_day[d] else "")
        mark += "重" if cal.is_key[d] else ""
        out.append(f"{day.month}/{day.day}({WEEKDAY[day.weekday()]}){mark}")
    return out


def person_rows(ro: Roster) -> list[list]:
    p = ro.problem
    n = p.cal.days
    head = ["人员编号", "姓名", "角色", "镇街", "班组"] + day_headers(ro) + ["工作天数", "周末", "节假日", "夜班", "顶岗"]
    backup_count: dict[str, int] = {}
    for (g, d), who in ro.patrol.items():
        if who != p.grids[g].worker:
            backup_count[who] = backup_count.get(who, 0) + 1
    rows = [head]
    for pid, x in sorted(p.people.items(), key=lambda kv: (kv[1].town, kv[1].role, kv[0])):
        leave = p.leave_days(pid)
        cells = []
        for d in range(n):
            s = ro.person_shift(pid, d)
            cells.append("假" if d in leave else (p.shift_labels.get(s, s) if s else "休"))
        days = [d for d in range(n) if ro.person_shift(pid, d)]
        rows.append([pid, x.name, ROLE_LABELS[x.role], x.town, x.team or ""] + cells + [
            len(days),
            sum(1 for d in days if p.cal.is_weekend[d] and p.cal.is_rest_day[d] and not p.cal.is_holiday[d]),
            sum(1 for d in days if p.cal.is_holiday[d]),
            sum(1 for d in days if ro.person_shift(pid, d) == "night"),
            backup_count.get(pid, 0)])
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


def fairness_rows(ro: Roster) -> list[list]:
    """Per town: most, fewest and mean of each fairness figure, and who carries the most."""
    p = ro.problem
    prow = person_rows(ro)
    head = prow[0]
    rows = [["镇街", "指标", "人数", "最多", "最少", "平均", "最多的人"]]
    idx = {h: i for i, h in enumerate(head)}
    for town in p.towns:
        ppl = [r for r in prow[1:] if r[3] == town and r[2] in ("网格员", "协管员")]
        for metric in ("周末", "节假日", "顶岗", "工作天数"):
            vals = [(r[idx[metric]], r[1]) for r in ppl]
            if vals:
                hi = max(v for v, _ in vals)
                rows.append([town, metric, len(vals), hi, min(v for v, _ in vals),
                             round(sum(v for v, _ in vals) / len(vals), 2), _some([n for v, n in vals if v == hi])])
        teams = [t for t, team in p.teams.items() if team.town == town]
        if teams:
            nights = [(sum(1 for d in range(p.cal.days) if ro.duty.get((TEAM + t, d)) == "night"), t) for t in teams]
            hi = max(v for v, _ in nights)
            rows.append([town, "夜班（班组）", len(nights), hi, min(v for v, _ in nights),
                         round(sum(v for v, _ in nights) / len(nights), 2), "、".join(f"班组{t}" for v, t in nights if v == hi)])
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


def part_rows(ro: Roster) -> list[list]:
    rows = [["镇街", "求解状态", "目标值", "下界", "差距", "用时(秒)", "首个可行排班(秒)"]]
    status_cn = {"OPTIMAL": "最优", "FEASIBLE": "可行"}
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
        "name": p.name, "month": p.month, "days": [str(d) for d in p.cal.dates],
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
        "calendar": [{"date": str(cal.dates[d]), "weekend": cal.is_weekend[d], "holiday": cal.is_holiday[d],
                      "rest": cal.is_rest_day[d], "holiday_name": cal.holiday_name[d], "key": cal.is_key[d],
                      "key_reason": cal.key_reason[d]} for d in range(cal.days)],
    }


def write_all(ro: Roster, checks: list[RuleCheck], out: Path, extra: dict[str, list[list]] | None = None) -> list[str]:
    """Write every output file into `out` (a staging folder); returns the file names."""
    tables = {
        "排班_按人员": person_rows(ro),
        "排班_按网格": grid_rows(ro),
        "督导走访": visit_rows(ro),
        "公平性": fairness_rows(ro),
        "目标分解": breakdown_rows(ro),
        "求解情况": part_rows(ro),
        "规则校验": check_rows(checks, relaxed_rules(ro)),
    }
    if any(part.broken for part in ro.parts):
        tables["放宽的规则"] = broken_rows(ro)
    tables.update(extra or {})
    names = []
    for stem, rows in tables.items():
        write_csv(out / f"{stem}.csv", rows)
        names.append(f"{stem}.csv")
    (out / "roster.json").write_text(json.dumps(to_json(ro, checks), ensure_ascii=False, indent=1), encoding="utf-8")
    names.append("roster.json")
    _xlsx(tables, out / "排班.xlsx")
    names.append("排班.xlsx")
    return names


def _xlsx(tables: dict[str, list[list]], path: Path) -> None:
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
            ws.set_column(0, 4, 10)
            ws.set_column(5, len(rows[0]), 6 if stem == "排班_按人员" else 12)
        else:
            ws.set_column(0, len(rows[0]), 14)
    wb.close()
