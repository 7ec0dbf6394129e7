"""A worker-month ready for the rules: computed metrics, the events that count, record periods.

The same preparation serves the office's files (engine/inputs.py) and worked examples
(engine/scoring.py): metrics counted from the event log (`count_events`) or computed from the
records sheet (`from_records`), the events of other months dropped once they have fed the
problem-key runs, and the days and weeks records rules check.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from .cases import EventCase, WorkerCase
from .kinds.event import event_matches, prepare_events
from .kinds.records import Record, WorkerRecords, records_rules


def prepare_case(policy, month: str | None, worker_id: str, attributes: dict[str, str], metrics: dict[str, Any],
                 events: list[EventCase], records: list[Record] | None = None) -> WorkerCase:
    """`metrics` holds the values read from the metrics sheet (defaults filled in)."""
    doc = policy.doc
    if month is not None:
        events = prepare_events(doc, month, events)
    vals = dict(metrics)
    recs = None
    if records is not None or doc.records:
        recs = WorkerRecords(doc, month, records or []) if month is not None else None
    for mid, m in doc.metrics.items():
        if m.count_events is not None:
            vals[mid] = Decimal(sum(1 for ev in events if event_matches(m.count_events, ev)))
        elif m.from_records is not None and recs is not None:
            vals[mid] = recs.metric(m.from_records)
    periods = recs.periods() if recs is not None and records_rules(doc) else {}
    return WorkerCase(worker_id, attributes, vals, events, periods)
