"""The history's tables (SQLAlchemy Core): what engine/history.py reads and writes, on SQLite and
PostgreSQL alike.

The tables are created and changed only by the migrations in `migrations/versions/` (Alembic), never
by `metadata.create_all`: a database of any earlier release is brought to this schema in place.
These definitions describe the newest revision; a change here goes with a new revision file (see
docs/deployment.md, "Changing the schema").  Columns keep the types of the first SQLite release:
decimals as text (exact, as results.json has them), results as zlib-compressed JSON, times as ISO
8601 text in UTC.
"""
from __future__ import annotations

from sqlalchemy import (Column, ForeignKey, Index, Integer, LargeBinary, MetaData, PrimaryKeyConstraint, Table, Text,
                        text)

__all__ = ["metadata", "schema_version", "months", "month_workers", "corrections", "doc_register"]

metadata = MetaData()

# One row: the schema version, kept in step with the Alembic revision (revision "0003" is version 3)
# so that an older wangge, which knows only this table, refuses a database newer than itself.
schema_version = Table("schema_version", metadata, Column("version", Integer, nullable=False))

months = Table(
    "months", metadata,
    Column("month", Text, primary_key=True),                 # YYYY-MM
    Column("policy_id", Text, nullable=False),
    Column("policy_version", Text, nullable=False),
    Column("policy_hash", Text, nullable=False),
    Column("policy_files", Text, nullable=False),            # JSON list
    Column("inputs", Text, nullable=False),                  # JSON: {"workers": {"path", "sha256"}, ...}
    Column("run_at", Text, nullable=False),                  # ISO 8601 UTC
    Column("worker_count", Integer, nullable=False),
    Column("results", LargeBinary, nullable=False),          # zlib(results.json of the monthly scoring)
    Column("period", LargeBinary),                           # zlib(JSON worker_id -> period additions) or NULL
)

# What period rules read: one compact row per worker and month.
month_workers = Table(
    "month_workers", metadata,
    Column("month", Text, ForeignKey("months.month", ondelete="CASCADE"), nullable=False),
    Column("worker_id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("town", Text), Column("community", Text), Column("grid", Text), Column("role", Text),
    Column("employment", Text),
    Column("attributes", Text),                              # JSON object
    Column("score", Text, nullable=False),
    Column("failed", Integer, nullable=False),               # 0 / 1
    Column("veto_count", Integer, nullable=False),
    Column("stars", Integer),
    Column("wage", Text, nullable=False),
    Column("performance_base", Text, nullable=False),
    Column("pay", Text, nullable=False),
    Column("facts", Text),                                   # JSON: "metric:<id>" values, "rule:<id>" counts
    PrimaryKeyConstraint("month", "worker_id"),
    Index("month_workers_worker", "worker_id", "month"),
)

corrections = Table(
    "corrections", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("month", Text, nullable=False),
    Column("run_at", Text, nullable=False),
    Column("note", Text, nullable=False),
    Column("old_policy_hash", Text, nullable=False),
    Column("new_policy_hash", Text, nullable=False),
    Column("summary", Text, nullable=False),                 # JSON of what changed
    sqlite_autoincrement=True,
)

# The register of document numbers (发文登记): numbers the tool issued and numbers the office used
# outside it (month NULL), so that the tool never gives one of them again.
doc_register = Table(
    "doc_register", metadata,
    Column("prefix", Text, nullable=False),
    Column("year", Integer, nullable=False),
    Column("number", Integer, nullable=False),
    Column("kind", Text, nullable=False),                    # bulletin / criticism / commendation / external …
    Column("month", Text),                                   # the assessment month of a notice the tool made
    Column("title", Text, nullable=False),                   # what the number was used for
    Column("issued_on", Text, nullable=False),               # the 成文日期, YYYY-MM-DD
    Column("source", Text, nullable=False),                  # wangge | external
    Column("recorded_at", Text, nullable=False),             # when it entered the register (UTC)
    PrimaryKeyConstraint("prefix", "year", "number"),
    Index("doc_register_notice", "prefix", "month", "kind", unique=True,
          sqlite_where=text("month IS NOT NULL"), postgresql_where=text("month IS NOT NULL")),
)
