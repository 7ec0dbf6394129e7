"""One worker-month as the rules see it: checked metric values, events, record periods.

engine/inputs.py builds these from the office's files, engine/scoring.py from worked
examples; engine/assessment.py asserts them as durable_rules facts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass
class EventCase:
    event_id: str
    category: str
    severity: str
    delay_hours: Decimal | None          # reported - discovered; None = never reported (infinitely late)
    handling_hours: Decimal | None       # closed - reported; None if not closed
    unclosed: bool                       # not closed by the end of the scored month (the cut-off)
    source: tuple[str, int] | None = None
    times: dict[str, datetime] | None = None   # stage -> time (discovered, reported, closed, named stages);
                                               # None for a worked example given in hours
    month: str | None = None             # the scored month (its end is the cut-off)
    problem: str = ""                    # problem key (问题编号) for "the same problem again"
    repeat: int = 0                      # consecutive months, this one included, the problem key appeared
    derived: dict | None = None          # worked out once: deadlines (engine/kinds/event.py overdue_due), source


@dataclass
class RecordPeriod:
    """One day or week of one record series for one worker: what a records rule checks."""

    series: str
    every: str                           # "day" | "week"
    start: Any                           # datetime.date of the day, or the week's Monday
    working: bool                        # day: an official working day; week: unused
    values: dict[str, Decimal]           # "all" / "working" (week totals) or "all" and each slot (day)
    index: int = 0                       # day: day of the month - 1; week: its place among the month's weeks


@dataclass
class WorkerCase:
    """One worker-month, with values already checked and converted."""

    worker_id: str
    attributes: dict[str, str]
    metrics: dict[str, Any]              # metric id -> Decimal or bool
    events: list[EventCase] = field(default_factory=list)
    # (series, every, index) -> the day or week, in date order per series (only those a records rule checks)
    periods: dict[tuple[str, str, int], RecordPeriod] = field(default_factory=dict)
