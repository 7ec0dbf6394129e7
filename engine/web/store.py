"""The web's own data: offices, users, sessions, the audit log, saved mappings, uploads, jobs.

SQLAlchemy Core tables, in this one module (the only SQLAlchemy importer besides the migration
scripts), so that the same code runs on the embedded SQLite default (`sqlite:///<data>/web.sqlite3`)
and, later, on PostgreSQL: nothing here is SQLite-specific but the pragmas set on connect.  The
schema is made and upgraded by Alembic (`engine/web/migrations/`), never by `create_all`, so a
database of an older release is migrated in place when `wangge serve` opens it.

The months themselves stay in the engine's history (engine/history.py); this store keeps what only
the web needs.  Times are UTC ISO strings (`now()`), JSON columns hold plain dicts and lists.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Iterable

import sqlalchemy as sa
from sqlalchemy import (Boolean, Column, ForeignKey, Index, Integer, MetaData, String, Table, Text, UniqueConstraint,
                        event, select)

__all__ = ["Store", "metadata", "OFFICE_KINDS", "offices", "users", "sessions", "login_attempts", "audit_log", "mappings",
           "uploads", "town_checks", "jobs", "policy_versions", "appeals", "now", "DB_NAME", "default_url"]

DB_NAME = "web.sqlite3"
metadata = MetaData()

# One row per office: a county centre (kind "county") or a city centre over counties (kind "city",
# whose counties name it in parent_id).  `policy_paths` is the JSON list of policy files scored under,
# `settings_path` the office.yaml of its notices.  A county's data (uploads, months' outputs, policy
# versions, rosters) lives in its own `data_dir` (NULL: the server's --data folder, the single-office
# install) and its months and document numbers in its own history, `database` (NULL: the SQLite file
# history.sqlite3 in its data folder, or WANGGE_DATABASE as for the commands).
OFFICE_KINDS = ("county", "city")
offices = Table(
    "offices", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),     # short ascii id: heshan
    Column("kind", String(16), nullable=False, server_default="county"),
    Column("parent_id", Integer, ForeignKey("offices.id"), nullable=True),
    Column("data_dir", Text, nullable=True),
    Column("database", Text, nullable=True),
    Column("name", String(200), nullable=False),
    Column("policy_paths", Text, nullable=False),          # JSON list of paths
    Column("settings_path", Text, nullable=True),
    Column("roster_dir", Text, nullable=True),             # a solved roster folder printed with the pack
    Column("roster_problem", Text, nullable=True),         # the office's roster problem folder (rosters/…)
    Column("unit", String(200), nullable=False, server_default=""),
    Column("created_at", String(32), nullable=False),
)

ROLES = ("admin", "clerk", "finance", "auditor", "city_admin")
users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True),
    Column("office_id", Integer, ForeignKey("offices.id"), nullable=False),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(100), nullable=False),
    Column("role", String(16), nullable=False),            # one of ROLES
    Column("town", String(100), nullable=True),            # a clerk's own town; None for the others
    Column("password_hash", Text, nullable=False),
    Column("active", Boolean, nullable=False, server_default=sa.true()),
    Column("created_at", String(32), nullable=False),
)

# The cookie carries a random token; the table keeps only its SHA-256, so a copy of the database
# does not let anyone log in.
sessions = Table(
    "sessions", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("last_seen", String(32), nullable=False),
    Column("ip", String(64), nullable=False, server_default=""),
    Column("acting_office_id", Integer, nullable=True),    # the county a city administrator acts in
)

login_attempts = Table(
    "login_attempts", metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False),
    Column("ip", String(64), nullable=False),
    Column("at", String(32), nullable=False),
    Column("ok", Boolean, nullable=False),
    Index("ix_login_attempts_user_at", "username", "at"),
    Index("ix_login_attempts_ip_at", "ip", "at"),
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True),
    Column("at", String(32), nullable=False),
    Column("office_id", Integer, nullable=True),
    Column("user_id", Integer, nullable=True),
    Column("username", String(64), nullable=False),        # kept as text: the log outlives accounts
    Column("action", String(64), nullable=False),
    Column("target", Text, nullable=False, server_default=""),
    Column("before", Text, nullable=True),                 # JSON
    Column("after", Text, nullable=True),                  # JSON
    Column("ip", String(64), nullable=False, server_default=""),
    Index("ix_audit_at", "at"),
)

# A platform export's column names and event categories onto the policy's, per office and kind.
mappings = Table(
    "mappings", metadata,
    Column("id", Integer, primary_key=True),
    Column("office_id", Integer, ForeignKey("offices.id"), nullable=False),
    Column("kind", String(16), nullable=False),            # workers | metrics | events
    Column("columns", Text, nullable=False),               # JSON {their header: our column or ""}
    Column("categories", Text, nullable=False),            # JSON {their category: ours}
    Column("updated_at", String(32), nullable=False),
    Column("updated_by", String(64), nullable=False),
    UniqueConstraint("office_id", "kind", name="uq_mappings_office_kind"),
)

UPLOAD_KINDS = ("workers", "metrics", "events", "records")
uploads = Table(
    "uploads", metadata,
    Column("id", Integer, primary_key=True),
    Column("office_id", Integer, ForeignKey("offices.id"), nullable=False),
    Column("month", String(7), nullable=False),
    Column("town", String(100), nullable=False),
    Column("kind", String(16), nullable=False),            # one of UPLOAD_KINDS
    Column("original_name", String(255), nullable=False),  # as the browser sent it (shown, never used as a path)
    Column("source_path", Text, nullable=False),           # the file as sent, relative to the data folder
    Column("path", Text, nullable=False),                  # the file the month reads (source_path, or its mapped copy)
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("mapped", Boolean, nullable=False, server_default=sa.false()),
    Column("uploaded_by", String(64), nullable=False),
    Column("uploaded_at", String(32), nullable=False),
    Index("ix_uploads_month_town", "office_id", "month", "town", "kind"),
)

# The last check of one town's files for a month (all kinds together): what the month page shows.
town_checks = Table(
    "town_checks", metadata,
    Column("office_id", Integer, ForeignKey("offices.id"), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("town", String(100), primary_key=True),
    Column("upload_ids", Text, nullable=False),            # JSON list: the uploads checked together
    Column("problems", Text, nullable=False),              # JSON list of problem dicts
    Column("checked_at", String(32), nullable=False),
)

JOB_STATES = ("queued", "running", "done", "failed")
jobs = Table(
    "jobs", metadata,
    Column("id", Integer, primary_key=True),
    Column("office_id", Integer, ForeignKey("offices.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("params", Text, nullable=False),                # JSON
    Column("town", String(100), nullable=True),            # whose work it is (a clerk sees their town's)
    Column("state", String(16), nullable=False),
    Column("done", Integer, nullable=False, server_default="0"),
    Column("total", Integer, nullable=False, server_default="0"),
    Column("stage", String(200), nullable=False, server_default=""),
    Column("result", Text, nullable=True),                 # JSON
    Column("error", Text, nullable=True),                  # JSON {message, problems[]}
    Column("created_by", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("started_at", String(32), nullable=True),
    Column("finished_at", String(32), nullable=True),
    Column("worker", String(64), nullable=True),
    Column("heartbeat", String(32), nullable=True),
    Column("attempts", Integer, nullable=False, server_default="0"),   # 2 and more: run again after a worker died
    Index("ix_jobs_state", "state", "id"),
)


# The office's policy versions: those it was made with (imported: its policy files as they are) and
# those drafted and published on the pages (one self-contained file each under <data>/policies/).  A
# published version's files are never written again; `files` keeps their checksums.
VERSION_STATES = ("draft", "published", "discarded")
policy_versions = Table(
    "policy_versions", metadata,
    Column("id", Integer, primary_key=True),
    Column("office_id", Integer, ForeignKey("offices.id"), nullable=False),
    Column("policy_id", String(100), nullable=False),
    Column("version", String(100), nullable=False, server_default=""),
    Column("effective_from", String(7), nullable=True),
    Column("state", String(16), nullable=False),           # one of VERSION_STATES
    Column("source", String(16), nullable=False),          # imported | web
    Column("path", Text, nullable=False),                  # the file given to the policy loader
    Column("files", Text, nullable=False),                 # JSON [{path, sha256}]: the file and what it extends
    Column("hash", String(64), nullable=False, server_default=""),
    Column("based_on", Integer, nullable=True),
    Column("created_by", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("updated_by", String(64), nullable=True),
    Column("updated_at", String(32), nullable=True),
    Column("published_by", String(64), nullable=True),
    Column("published_at", String(32), nullable=True),
    Index("ix_policy_versions_office", "office_id", "state"),
)

# Appeals (申诉) and the corrections they lead to: a clerk files the changed inputs of one worker-month
# with a reason; an administrator approves (the month is run again as a correction) or rejects.
APPEAL_STATES = ("filed", "approved", "rejected", "corrected", "failed")
appeals = Table(
    "appeals", metadata,
    Column("id", Integer, primary_key=True),
    Column("office_id", Integer, ForeignKey("offices.id"), nullable=False),
    Column("month", String(7), nullable=False),
    Column("worker_id", String(100), nullable=False),
    Column("worker_name", String(200), nullable=False, server_default=""),
    Column("town", String(100), nullable=False),
    Column("reason", Text, nullable=False),
    Column("changes", Text, nullable=False),               # JSON: the changed cells, rows added and removed
    Column("folder", Text, nullable=False),                # the corrected input files, relative to the data folder
    Column("state", String(16), nullable=False),           # one of APPEAL_STATES
    Column("filed_by", String(64), nullable=False),
    Column("filed_at", String(32), nullable=False),
    Column("decided_by", String(64), nullable=True),
    Column("decided_at", String(32), nullable=True),
    Column("decision", Text, nullable=True),               # the administrator's reason (rejections)
    Column("job_id", Integer, nullable=True),
    Column("result", Text, nullable=True),                 # JSON: what the correction changed
    Column("notice", Text, nullable=True),                 # JSON: the 更正通知's number and files
    Index("ix_appeals_office_month", "office_id", "month"),
)


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def default_url(data_dir: str | Path) -> str:
    return f"sqlite:///{Path(data_dir).resolve() / DB_NAME}"


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute("PRAGMA journal_mode = WAL")      # readers do not wait for the job runner's writes
    cur.execute("PRAGMA busy_timeout = 10000")
    cur.execute("PRAGMA synchronous = NORMAL")
    cur.close()


class Store:
    """The web's database: an SQLAlchemy engine on `url`, migrated to the newest schema on opening."""

    def __init__(self, url: str, *, migrate: bool = True):
        self.url = url
        if url.startswith("postgresql://"):          # psycopg 3, the driver of the history too
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        self.engine = sa.create_engine(url, future=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        if migrate:
            upgrade(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    # -- small helpers: one statement each, in their own transaction

    def one(self, stmt) -> dict | None:
        with self.engine.connect() as c:
            row = c.execute(stmt).mappings().first()
            return dict(row) if row is not None else None

    def all(self, stmt) -> list[dict]:
        with self.engine.connect() as c:
            return [dict(r) for r in c.execute(stmt).mappings()]

    def run(self, stmt) -> Any:
        with self.engine.begin() as c:
            return c.execute(stmt)

    def insert(self, table: Table, **values) -> int:
        with self.engine.begin() as c:
            return c.execute(table.insert().values(**values)).inserted_primary_key[0]

    # -- offices

    def office(self, office_id: int) -> dict | None:
        row = self.one(select(offices).where(offices.c.id == office_id))
        if row is not None:
            row["policy_paths"] = json.loads(row["policy_paths"])
        return row

    def first_office(self) -> dict | None:
        row = self.one(select(offices.c.id).order_by(offices.c.id).limit(1))
        return self.office(row["id"]) if row else None

    def add_office(self, name: str, policy_paths: Iterable[str], settings_path: str | None = None,
                   roster_dir: str | None = None, unit: str = "", roster_problem: str | None = None, *,
                   code: str | None = None, kind: str = "county", parent_id: int | None = None,
                   data_dir: str | None = None, database: str | None = None) -> int:
        """A new office; without a `code` it is called office<id> (as the migration names old rows)."""
        import secrets

        with self.engine.begin() as c:
            oid = c.execute(offices.insert().values(
                name=name, policy_paths=json.dumps([str(p) for p in policy_paths]), settings_path=settings_path,
                roster_dir=roster_dir, roster_problem=roster_problem, unit=unit, created_at=now(),
                code=code or f"new-{secrets.token_hex(8)}", kind=kind, parent_id=parent_id,
                data_dir=None if data_dir is None else str(data_dir), database=database)).inserted_primary_key[0]
            if code is None:
                c.execute(offices.update().where(offices.c.id == oid).values(code=f"office{oid}"))
        return oid

    def office_by_code(self, code: str) -> dict | None:
        row = self.one(select(offices.c.id).where(offices.c.code == code))
        return self.office(row["id"]) if row else None

    def all_offices(self) -> list[dict]:
        return [self.office(r["id"]) for r in self.all(select(offices.c.id).order_by(offices.c.id))]

    def counties(self, city_id: int) -> list[dict]:
        """The county offices under a city office, in the order they were added."""
        rows = self.all(select(offices.c.id).where(offices.c.parent_id == city_id, offices.c.kind == "county")
                        .order_by(offices.c.id))
        return [self.office(r["id"]) for r in rows]

    # -- uploads

    def latest_uploads(self, office_id: int, month: str, towns: Iterable[str] | None = None) -> list[dict]:
        """The newest upload of each (town, kind) of the month: what the month will be run from."""
        q = select(uploads).where(uploads.c.office_id == office_id, uploads.c.month == month)
        if towns is not None:
            q = q.where(uploads.c.town.in_(list(towns)))
        newest: dict[tuple[str, str], dict] = {}
        for row in self.all(q.order_by(uploads.c.id)):
            newest[(row["town"], row["kind"])] = row
        return [newest[k] for k in sorted(newest)]

    def save_check(self, office_id: int, month: str, town: str, upload_ids: list[int], problems: list[dict]) -> None:
        # One statement that inserts or replaces: two uploads of a town checked at once (two clerks, or
        # two server processes on PostgreSQL) must not both insert after both deleted.
        with self.engine.begin() as c:
            upsert(c, town_checks, ("office_id", "month", "town"),
                   dict(office_id=office_id, month=month, town=town, upload_ids=json.dumps(upload_ids),
                        problems=json.dumps(problems, ensure_ascii=False), checked_at=now()))

    def checks(self, office_id: int, month: str) -> dict[str, dict]:
        out = {}
        for row in self.all(select(town_checks).where(town_checks.c.office_id == office_id, town_checks.c.month == month)):
            row["upload_ids"], row["problems"] = json.loads(row["upload_ids"]), json.loads(row["problems"])
            out[row["town"]] = row
        return out

    def upload(self, upload_id: int) -> dict | None:
        return self.one(select(uploads).where(uploads.c.id == upload_id))

    def mapping(self, office_id: int, kind: str) -> dict | None:
        row = self.one(select(mappings).where(mappings.c.office_id == office_id, mappings.c.kind == kind))
        if row is not None:
            row["columns"], row["categories"] = json.loads(row["columns"]), json.loads(row["categories"])
        return row

    def save_mapping(self, office_id: int, kind: str, columns: dict, categories: dict, *, user: dict, ip: str = "") -> None:
        """Save (or replace) the office's mapping of a kind, audited with what it was before."""
        before = self.mapping(office_id, kind)
        values = dict(columns=json.dumps(columns, ensure_ascii=False), categories=json.dumps(categories, ensure_ascii=False),
                      updated_at=now(), updated_by=user["username"])
        with self.engine.begin() as c:
            if before is None:
                c.execute(mappings.insert().values(office_id=office_id, kind=kind, **values))
            else:
                c.execute(mappings.update().where(mappings.c.id == before["id"]).values(**values))
            self.audit(user=user, action="mapping.save", target=kind, ip=ip, conn=c,
                       before=None if before is None else {"columns": before["columns"], "categories": before["categories"]},
                       after={"columns": columns, "categories": categories})

    # -- audit

    def audit(self, *, user: dict | None, action: str, target: str = "", before: Any = None, after: Any = None,
              ip: str = "", office_id: int | None = None, conn=None) -> None:
        """One line of the audit log: who, when, what, before and after."""
        values = dict(at=now(), office_id=office_id if office_id is not None else (user or {}).get("office_id"),
                      user_id=(user or {}).get("id"), username=(user or {}).get("username", "（系统）"),
                      action=action, target=target,
                      before=None if before is None else json.dumps(before, ensure_ascii=False, default=str),
                      after=None if after is None else json.dumps(after, ensure_ascii=False, default=str), ip=ip)
        if conn is not None:
            conn.execute(audit_log.insert().values(**values))
        else:
            self.run(audit_log.insert().values(**values))


def upsert(conn, table: Table, keys: tuple[str, ...], values: dict) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE, in the dialect of the connection (SQLite or PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table).values(**values)
    conn.execute(stmt.on_conflict_do_update(index_elements=list(keys),
                                            set_={k: stmt.excluded[k] for k in values if k not in keys}))


def _alembic_config(engine) -> "Any":
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    cfg.attributes["engine"] = engine
    return cfg


MIGRATION_LOCK = (30567, 2)      # PostgreSQL advisory lock: one process migrates, the others then find it done


def upgrade(engine) -> None:
    """Bring the database to the newest schema (Alembic, one transaction per revision).  On PostgreSQL
    the servers and workers of a city centre may start at once: they take turns (an advisory lock)."""
    from alembic import command

    if engine.dialect.name != "postgresql":
        command.upgrade(_alembic_config(engine), "head")
        return
    with engine.connect() as lock:
        lock.exec_driver_sql("SELECT pg_advisory_lock(%s, %s)" % MIGRATION_LOCK)
        try:
            command.upgrade(_alembic_config(engine), "head")
        finally:
            lock.exec_driver_sql("SELECT pg_advisory_unlock(%s, %s)" % MIGRATION_LOCK)
            lock.commit()


def current_revision(engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as c:
        return MigrationContext.configure(c).get_current_revision()
