"""Helpers that write tiny roster problems for tests (the ring of grids used by most rule tests)."""
from __future__ import annotations

import csv
from pathlib import Path

import yaml

BASE_RULES = {
    # Fairness is switched off in tiny instances so that expected rosters follow from the rule under test.
    "fair_weekends": False, "fair_holidays": False, "fair_backup": False, "fair_nights": False, "fair_days": False,
}


def write_problem(folder: Path, *, grids, staff, communities=None, leave=(), requests=(), rules=None,
                  month="2026-10", calendar=None, staff_columns=()) -> Path:
    """`staff_columns`: headers of further staff columns (a person's own contract), their values
    at the end of the staff rows."""
    folder.mkdir(parents=True, exist_ok=True)
    communities = communities or [["C1", "和平社区", "鹤山镇", ""]]
    width = 6 + len(staff_columns)
    tables = {
        "staff": [["编号", "姓名", "角色", "镇街", "社区", "班组", *staff_columns]]
        + [list(r) + [""] * (width - len(r)) for r in staff],
        "communities": [["编号", "名称", "镇街", "网格管理者"]] + [list(r) for r in communities],
        "grids": [["网格编号", "社区", "重点网格", "网格员", "AB岗", "相邻网格", "督导员"]] + [list(r) for r in grids],
        "leave": [["人员", "开始", "结束", "事由"]] + [list(r) for r in leave],
        "requests": [["人员", "日期", "申请", "权重"]] + [list(r) for r in requests],
    }
    for stem, rows in tables.items():
        with open(folder / f"{stem}.csv", "w", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerows(rows)
    y = {"name": "测试", "month": month, "time_limit": 5, "seed": 3, "rules": {**BASE_RULES, **(rules or {})}}
    if calendar:
        y["calendar"] = calendar
    (folder / "problem.yaml").write_text(yaml.safe_dump(y, allow_unicode=True), encoding="utf-8")
    return folder


def ring(n: int, backups: int = 2, key: str = "否", supervisor: str = ""):
    """n grids G1..Gn in a ring; Gi's worker is Wi, AB岗 = next then previous worker."""
    grids, staff = [], []
    for i in range(1, n + 1):
        nxt, prv = i % n + 1, (i - 2) % n + 1
        bk = [f"W{nxt}", f"W{prv}"][:backups]
        bk = list(dict.fromkeys(b for b in bk if b != f"W{i}"))
        adj = sorted({f"G{nxt}", f"G{prv}"} - {f"G{i}"})
        grids.append([f"G{i}", "C1", key, f"W{i}", ";".join(bk), ";".join(adj), supervisor])
        staff.append([f"W{i}", f"网格员{i}", "网格员", "鹤山镇", "C1", ""])
    return grids, staff


def write_shifts(folder: Path, *, staff, demand, shifts=None, rules=None, leave=(), requests=(),
                 period=None, staff_columns=()) -> Path:
    """A roster by person and shift (kind: shifts): staff rows (id, name[, contract columns]), demand
    rows (日期, 班次, 需求人数, 最少人数, 缺员权重, 超员权重)."""
    folder.mkdir(parents=True, exist_ok=True)
    tables = {
        "staff": [["编号", "姓名", *staff_columns]] + [list(r) for r in staff],
        "demand": [["日期", "班次", "需求人数", "最少人数", "缺员权重", "超员权重"]] + [list(r) for r in demand],
        "leave": [["人员", "开始", "结束", "事由"]] + [list(r) for r in leave],
        "requests": [["人员", "日期", "班次", "申请", "权重"]] + [list(r) for r in requests],
    }
    for stem, rows in tables.items():
        with open(folder / f"{stem}.csv", "w", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerows(rows)
    y = {"kind": "shifts", "name": "值班室测试", "unit": "值班室", "time_limit": 5, "seed": 3,
         "period": period or {"start": "2026-11-02", "days": 14},
         "shifts": shifts or {"D": {"label": "白", "hours": 8}, "N": {"label": "夜", "hours": 12, "night": True}},
         "rules": {"rest_in_window": False, "fair_days": False, "fair_weekends": False, "fair_holidays": False,
                   "fair_nights": False, **(rules or {})}}
    (folder / "problem.yaml").write_text(yaml.safe_dump(y, allow_unicode=True), encoding="utf-8")
    return folder
