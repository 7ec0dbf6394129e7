"""One interface to the history's database, two implementations chosen by its URL.

    sqlite:///data/history.sqlite3        the embedded default, one file in the data folder
    postgresql://user@host:5432/wangge    a database server shared by many offices and processes

`open_database(url)` returns a `Database`: short read transactions (`reading`), one write
transaction at a time per history (`begin_write`, which takes the history's write lock before the
first read and waits, saying so, while another run holds it), `commit`, and a fast `bulk_insert`.
Schema and migrations are the same for both (schema.py, migrate.py).  What differs is said in
sqlite.py and postgres.py: how the write lock is taken, how a new database comes into being, and
how the database's errors are said in Chinese.  engine/history.py builds every query with
SQLAlchemy Core on top of this.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from sqlalchemy import Table
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from ..errors import HistoryError, Problem
from . import migrate

__all__ = ["Database", "open_database", "database_url", "office_history", "history_folder", "url_problem", "display_url", "DB_NAME", "DATABASE_FIELD",
           "BUSY_MS", "WAIT_SECONDS"]

DB_NAME = "history.sqlite3"
ENV_DATABASE = "WANGGE_DATABASE"     # the history's address when no --database is given
DATABASE_FIELD = "历史库"     # the field of a Problem about the database address (the CLI names its option)
BUSY_MS = 30_000              # a reader waits this long for a writer's commit to finish (SQLite)
WAIT_SECONDS = 600.0          # a second run waits this long for the first to finish writing


# The history address of the office a web request or job works for (engine/web: a county of a city
# centre whose months are on the PostgreSQL server); a context variable, so each request's thread
# and each job sees its own office's, never another's.
_OFFICE_DATABASE: ContextVar[str | None] = ContextVar("wangge_office_database", default=None)


@contextmanager
def office_history(database: str | None) -> Iterator[None]:
    """While inside: a history opened without an explicit address is the one at `database` (None:
    as without it, WANGGE_DATABASE or the SQLite file in the data folder)."""
    token = _OFFICE_DATABASE.set(database)
    try:
        yield
    finally:
        _OFFICE_DATABASE.reset(token)


def set_office_history(database: str | None) -> None:
    """As office_history, for the rest of the current context (a web request's task)."""
    _OFFICE_DATABASE.set(database)


def database_url(data_dir: str | Path, database: str | None = None) -> str:
    """The history's URL: `database` when given (normalised: postgresql:// uses psycopg 3), else
    the office's set by `office_history` (the web: each county's own), else the environment's
    WANGGE_DATABASE (as the commands' --database; the web server and its workers find a single
    office's history on a server this way), else the SQLite file in the data folder."""
    database = database or _OFFICE_DATABASE.get() or os.environ.get(ENV_DATABASE) or None
    if database:
        return _normalise(database)
    return "sqlite:///" + str(Path(data_dir) / DB_NAME)


def history_folder(data_dir: str | Path, database: str | None = None) -> Path | None:
    """The folder a SQLite history is written into (checked before a run), None for a server."""
    try:
        u = make_url(database_url(data_dir, database))
    except ArgumentError:
        return None
    return Path(u.database).parent if u.get_backend_name() == "sqlite" and u.database else None


def _normalise(database: str) -> str:
    text = database.strip()
    for plain in ("postgres://", "postgresql://"):
        if text.startswith(plain):
            return "postgresql+psycopg://" + text[len(plain):]
    return text


def display_url(url: str) -> str:
    """The URL as messages show it: the password hidden, the driver name left out."""
    try:
        u = make_url(url)
    except ArgumentError:
        return url
    return u.set(drivername=u.get_backend_name()).render_as_string(hide_password=True)


def _url_problem(url: str, why: str) -> Problem:
    return Problem("历史库地址", None, DATABASE_FIELD, display_url(url),
                   "sqlite:///路径/history.sqlite3 或 postgresql://用户@主机:端口/数据库名", why)


def url_problem(database: str | None) -> Problem | None:
    """What is wrong with a history URL that can be seen without connecting (checked with the other
    inputs of a run, before anything is scored), or None."""
    if not database:
        return None
    url = _normalise(database)
    try:
        u = make_url(url)
    except ArgumentError:
        return _url_problem(url, "格式不对")
    backend = u.get_backend_name()
    if backend == "sqlite":
        return None if u.database and u.database != ":memory:" else _url_problem(url, "SQLite 历史库须给出文件路径")
    if backend == "postgresql":
        return None if u.get_driver_name() == "psycopg" else _url_problem(url, "PostgreSQL 须用 psycopg 3 驱动")
    return _url_problem(url, f"不支持的数据库类型 {backend}")


def open_database(url: str, *, create: bool = True) -> "Database":
    """The database at `url`, migrated to this program's schema.  `create=False`: a database that
    holds no history yet is an error (code no_history) and is left as it was."""
    problem = url_problem(url)
    if problem is not None:
        raise HistoryError(f"历史库地址 {display_url(url)} 无法使用：{problem.hint}", [problem])
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        from .sqlite import SQLiteDatabase
        return SQLiteDatabase(u, create=create)
    from .postgres import PostgresDatabase
    return PostgresDatabase(u, create=create)


class Database:
    """An open history database.  Subclasses: SQLiteDatabase, PostgresDatabase."""

    kind = ""
    where = ""                        # for messages: the file, or the URL without its password
    data_dir: Path | None = None      # the folder of a SQLite file (None on a server)
    found_version: int | None = None  # the schema version the database had when opened (None: new)
    engine: Engine

    # -- reading

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection in a short read-only transaction (one consistent view for its statements)."""
        try:
            with self.engine.connect() as conn:
                yield conn
        except DBAPIError as exc:
            raise HistoryError(f"历史库 {self.where} 无法读取：{self.reason(exc)}") from None

    # -- writing

    def begin_write(self, on_wait: Callable[[], None] | None = None) -> Connection:
        """A connection in a write transaction holding the history's write lock.  Held by another
        run: `on_wait()` once, then wait up to WAIT_SECONDS; still held, HistoryError."""
        raise NotImplementedError

    def commit(self, conn: Connection) -> None:
        """Commit the write transaction (HistoryError, all rolled back, if it cannot be)."""
        self._commit(conn)
        conn.close()

    def _commit(self, conn: Connection) -> None:
        try:
            conn.commit()
        except DBAPIError as exc:
            self.rollback(conn)
            raise self.write_error(exc) from None

    def rollback(self, conn: Connection) -> None:
        try:
            if not conn.closed:
                conn.rollback()
        except SQLAlchemyError:
            pass
        finally:
            conn.close()

    def bulk_insert(self, conn: Connection, table: Table, columns: Sequence[str], rows: Iterable[tuple]) -> None:
        """Insert many rows (tuples in `columns` order) inside the open write transaction."""
        raise NotImplementedError

    def write_error(self, exc: BaseException) -> HistoryError:
        return HistoryError(f"历史库 {self.where} 无法写入（{self.reason(exc)}），本次未写入任何内容")

    def busy_error(self, exc: BaseException) -> HistoryError:
        return HistoryError(f"历史库 {self.where} 暂时无法写入（{self.reason(exc)}），未写入任何内容；请稍后重试")

    def reason(self, exc: BaseException) -> str:
        """The database's English reason said in Chinese (the original kept for one not listed)."""
        raise NotImplementedError

    def close(self) -> None:
        self.engine.dispose()

    # -- schema

    def no_history(self) -> HistoryError:
        raise NotImplementedError

    def _prepare(self, create: bool) -> None:
        """Check the schema version; migrate an older database (under the write lock)."""
        try:
            with self.engine.connect() as conn:
                rev, ours = migrate.stored_version(conn)
        except DBAPIError as exc:
            raise self.open_error(exc) from None
        target = migrate.head()
        self.found_version = migrate.version_of(rev) if ours else None
        if ours and rev == target:
            return
        if not ours and not create:
            raise self.no_history()
        self._check_known(rev, target)
        conn = self.begin_write()
        try:
            rev, ours = migrate.stored_version(conn)       # again, now that no one else can migrate
            self._check_known(rev, target)
            if rev != target:
                migrate.upgrade(conn, rev)
            conn.commit()
        except DBAPIError as exc:
            self.rollback(conn)
            raise self.open_error(exc) from None
        except BaseException:
            self.rollback(conn)
            raise
        conn.close()

    def _check_known(self, rev: str | None, target: str) -> None:
        """A database migrated by a newer wangge is refused (its tables may mean other things)."""
        if rev is None or rev in migrate.known():
            return
        shown = migrate.version_of(rev) or rev
        raise HistoryError(f"历史库 {self.where} 的结构版本为 {shown}，高于本程序支持的 {migrate.version_of(target)}，"
                           "请升级 wangge")

    def open_error(self, exc: BaseException) -> HistoryError:
        return HistoryError(f"历史库 {self.where} 无法打开：{self.reason(exc)}")

    def schema_version(self) -> int:
        with self.reading() as conn:
            return migrate.version_of(migrate.stored_version(conn)[0])
