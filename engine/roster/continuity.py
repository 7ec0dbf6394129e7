"""Continuity with the previous period's published roster.

Rest windows, runs of working days and of days off, forbidden shift successions and visit windows
do not restart on the 1st: the last days of the previous period's published roster (`previous:`
in problem.yaml, or given by the caller) take part in them.  Only units (people and teams) of
this period with the same id in that roster have a history; a newcomer starts as at the edge of
a period.  The history reaches back HISTORY_DAYS days at most: every window of the rules is
shorter.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from ..errors import ProblemList
from .calendar import MonthCalendar
from .model import ARGUMENT, PREVIOUS_ARG, History

HISTORY_DAYS = 31


def load_history(path: Path, cal: MonthCalendar, units: set[str], where: tuple[str, int | None],
                 probs: ProblemList) -> History | None:
    """The previous roster's last days for `units`, or None with its problems in `probs`."""
    file = path / "roster.json" if path.is_dir() else path
    name = str(file)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        probs.add(where[0], where[1], PREVIOUS_ARG if where[0] == ARGUMENT else "previous", str(path),
                  "上期已发布的排班（排班输出目录或其中的 roster.json）",
                  str(getattr(exc, "strerror", None) or exc)[:120])
        return None
    days = data.get("days") if isinstance(data, dict) else None
    duty = data.get("duty") if isinstance(data, dict) else None
    try:
        dates = [dt.date.fromisoformat(x) for x in days]
        if not dates or not isinstance(duty, dict):
            raise ValueError
    except (TypeError, ValueError):
        probs.add(name, None, "days", None, "排班输出的 roster.json（含 days 和 duty）")
        return None
    want = cal.start - dt.timedelta(days=1)
    if dates[-1] != want:
        probs.add(name, None, "days", f"{dates[0]}～{dates[-1]}",
                  f"截至 {want} 的上期排班（与本期 {cal.start} 起的排班相接）")
        return None
    h = min(HISTORY_DAYS, len(dates))
    out: dict[str, list[str | None]] = {}
    for u, row in duty.items():
        if u not in units:
            continue        # someone who has left, or a team that no longer exists
        if not isinstance(row, list) or len(row) != len(dates) or \
                not all(x is None or isinstance(x, str) for x in row):
            probs.add(name, None, f"duty.{u}", str(row)[:40], f"每天一项（共 {len(dates)} 项）的班次列表")
            continue
        out[u] = row[-h:]
    visits: set[tuple[str, str, int]] = set()
    for v in data.get("visits") or []:
        if isinstance(v, list) and len(v) == 3 and isinstance(v[2], int) and not isinstance(v[2], bool):
            d = v[2] - len(dates)
            if -h <= d < 0:
                visits.add((str(v[0]), str(v[1]), d))
    return History(h, out, visits, name)
