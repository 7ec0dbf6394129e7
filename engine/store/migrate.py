"""Schema migrations of the history (Alembic, scripts in `migrations/versions/`).

`prepare(conn)` runs inside the transaction a backend opened and locked (SQLite: BEGIN IMMEDIATE;
PostgreSQL: an advisory lock), so that two processes opening an old database at once migrate it
once, and a failing revision leaves the database at the version it had.

A database of the SQLite releases before Alembic has a `schema_version` table and no version table
of ours: its version N is the revision "000N", and the newer revisions run from there.  Every
revision keeps `schema_version` in step, so an older wangge still refuses a newer database.

Revision ids are four-digit numbers ("0004"); the schema version shown to people is that number.
"""
from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

__all__ = ["VERSION_TABLE", "SCRIPTS", "head", "known", "version_of", "stored_version", "upgrade", "revisions"]

# The history's own Alembic version table: the web's tables (engine/web) keep theirs in Alembic's
# default `alembic_version`, so both can live in one PostgreSQL database.
VERSION_TABLE = "alembic_version_history"
SCRIPTS = Path(__file__).with_name("migrations")


def version_of(revision: str | None) -> int:
    return int(revision) if revision and revision.isdigit() else 0


def stored_version(conn: Connection) -> tuple[str | None, bool]:
    """(the database's revision, whether it has any table of ours).  A pre-Alembic database's
    schema_version N reads as revision "000N"; an empty database as (None, False)."""
    names = set(inspect(conn).get_table_names())
    legacy = conn.execute(text("SELECT version FROM schema_version")).scalar() if "schema_version" in names else None
    rev = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar() if VERSION_TABLE in names else None
    if legacy and legacy > version_of(rev):     # a release that knew only schema_version, or a newer one
        rev = f"{legacy:04d}"
    return rev, bool(names & {"schema_version", VERSION_TABLE})


def version_locations() -> list[Path]:
    """Where revision files are read from (a test adds a folder with a revision of its own)."""
    return [SCRIPTS / "versions"]


def known() -> set[str]:
    """The revisions of this program, from the file names ("0003_doc_register.py"), without loading
    Alembic: opening a database that is up to date costs one query.  tests/test_store.py checks
    that every file's name starts with its revision id and that the revisions form one line."""
    return {p.name[:4] for loc in version_locations() for p in loc.glob("[0-9][0-9][0-9][0-9]_*.py")}


def head() -> str:
    """The newest revision."""
    return max(known())


def _config(conn: Connection | None = None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(str(p) for p in version_locations()))
    cfg.attributes["connection"] = conn
    return cfg


def revisions() -> list[tuple[str, str | None]]:
    """(revision, the revision it follows) of every revision known to this program, oldest first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_config())
    return [(s.revision, s.down_revision) for s in reversed(list(script.walk_revisions()))]


def upgrade(conn: Connection, current: str | None, target: str = "heads") -> None:
    """Bring the database on `conn` (inside the caller's transaction) from `current` to `target`."""
    from alembic import command

    cfg = _config(conn)
    if current is not None and not _has_version_table(conn):
        command.stamp(cfg, current)          # a database of the releases before Alembic
    command.upgrade(cfg, target)


def _has_version_table(conn: Connection) -> bool:
    return VERSION_TABLE in set(inspect(conn).get_table_names())
