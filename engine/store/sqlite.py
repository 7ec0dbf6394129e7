"""The SQLite backend: the history as one file in the office's data folder (the only sqlite3 user).

- A new history reaches the disk only with its first commit: until then it is an empty database in
  memory, and that commit writes the whole file at once (`_materialise`), linked into place only if
  no other run created one meanwhile.  So a run that fails before storing leaves no folder and no file.
- The write lock is SQLite's own: BEGIN IMMEDIATE.  Tried once without waiting; if another run
  holds it, `on_wait()` is told and the run waits up to WAIT_SECONDS (busy_timeout).
- Python's sqlite3 module runs in autocommit mode here (isolation_level None) and the transactions
  are begun explicitly (the recipe of SQLAlchemy's pysqlite documentation): reads in a deferred
  BEGIN, writes in BEGIN IMMEDIATE.
- SQLite's English errors (a full disk, a file that is not a database) are said in Chinese.
"""
from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path
from typing import Callable, Iterable, Sequence

from sqlalchemy import Table, create_engine, event
from sqlalchemy.engine import Connection, URL
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import StaticPool

from ..errors import HistoryError
from . import db
from .db import Database

_SQLITE_ZH = {
    "file is not a database": "该文件不是 wangge 历史库（SQLite 数据库）",
    "database disk image is malformed": "历史库文件已损坏",
    "database is locked": "另一次运行正在写入历史库",
    "unable to open database file": "无法打开该文件",
    "attempt to write a readonly database": "历史库是只读的",
    "disk I/O error": "磁盘读写错误",
    "database or disk is full": "磁盘空间不足",
}


class SQLiteDatabase(Database):
    kind = "sqlite"

    def __init__(self, url: URL, *, create: bool = True):
        self.path = Path(url.database)
        self.data_dir = self.path.parent
        self.where = str(self.path)
        self.pending = not self.path.exists()
        if self.pending and not create:
            raise self.no_history()
        self._open()
        self._prepare(create)

    def no_history(self) -> HistoryError:
        return HistoryError(f"数据目录 {self.data_dir} 中没有历史库 {self.path.name}（还没有存入任何月份）", code="no_history")

    def _open(self) -> None:
        if self.pending:
            self.engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
        else:
            self.engine = create_engine(URL.create("sqlite", database=str(self.path)),
                                        connect_args={"check_same_thread": False, "timeout": db.BUSY_MS / 1000})
        event.listen(self.engine, "connect", lambda dbapi, _record: self.on_connect(dbapi))
        event.listen(self.engine, "begin", _begin)

    def on_connect(self, dbapi: sqlite3.Connection) -> None:
        dbapi.isolation_level = None          # transactions are begun explicitly (see _begin, begin_write)
        dbapi.execute("PRAGMA foreign_keys = ON")
        dbapi.execute(f"PRAGMA busy_timeout = {db.BUSY_MS}")

    # -- writing

    def begin_write(self, on_wait: Callable[[], None] | None = None) -> Connection:
        conn = self.engine.connect().execution_options(wangge_write=True)
        raw = conn.connection.driver_connection
        try:
            raw.execute("PRAGMA busy_timeout = 0")
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except OperationalError as exc:
                if not _locked(exc):
                    raise
                conn.rollback()
                if on_wait is not None:
                    on_wait()
                raw.execute(f"PRAGMA busy_timeout = {int(db.WAIT_SECONDS * 1000)}")
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            raw.execute(f"PRAGMA busy_timeout = {db.BUSY_MS}")
        except DBAPIError as exc:   # still held by another run, or the file cannot be written
            raw.execute(f"PRAGMA busy_timeout = {db.BUSY_MS}")
            self.rollback(conn)
            raise self.busy_error(exc) from None
        return conn

    def commit(self, conn: Connection) -> None:
        """COMMIT; for a database not yet on disk, then write it there in one step."""
        if not self.pending:
            return super().commit(conn)
        self._commit(conn)
        try:
            self._materialise(conn.connection.driver_connection)
        finally:
            conn.close()
        self.engine.dispose()
        self.pending = False
        self._open()

    def _materialise(self, memory: sqlite3.Connection) -> None:
        """Write the in-memory database to `path`: a complete temporary file, linked into place only
        if no database appeared there meanwhile (another run), so the file is never half-written."""
        tmp = None
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".history-", suffix=".tmp", dir=self.data_dir)
            os.close(fd)
            _copy(memory, Path(tmp))
            os.link(tmp, self.path)
        except FileExistsError:
            self._forget()
            raise HistoryError(f"历史库 {self.path} 刚被另一次运行创建，本次未写入任何内容；请重新运行") from None
        except OSError as exc:
            self._forget()
            raise HistoryError(f"无法在数据目录 {self.data_dir} 中创建历史库：{exc.strerror or exc}，"
                               "未写入任何内容") from None
        finally:
            if tmp is not None and os.path.exists(tmp):
                os.unlink(tmp)

    def _forget(self) -> None:
        """The commit could not reach the disk: back to the empty history the disk still has."""
        self.engine.dispose()
        self._open()
        self._prepare(True)

    def bulk_insert(self, conn: Connection, table: Table, columns: Sequence[str], rows: Iterable[tuple]) -> None:
        marks = ", ".join("?" for _ in columns)
        conn.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})", list(rows))

    def reason(self, exc: BaseException) -> str:
        text = str(getattr(exc, "orig", None) or exc)
        return _SQLITE_ZH.get(text, text)

    # -- backup

    def backup_to(self, target: Path) -> None:
        """An online backup (SQLite's backup API: a consistent copy even while a run writes),
        written whole to `target` or not at all."""
        if self.pending:
            raise self.no_history()
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".backup-", suffix=".tmp", dir=target.parent)
        os.close(fd)
        try:
            with self.engine.connect() as conn:
                _copy(conn.connection.driver_connection, Path(tmp))
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)


def _copy(source: sqlite3.Connection, dest: Path) -> None:
    target = sqlite3.connect(dest)
    try:
        source.backup(target)
    finally:
        target.close()
    with open(dest, "rb") as fh:
        os.fsync(fh.fileno())


def _begin(conn: Connection) -> None:
    """Reads begin a deferred transaction (one consistent view); a write connection begins its own
    BEGIN IMMEDIATE (begin_write)."""
    if not conn.get_execution_options().get("wangge_write"):
        conn.exec_driver_sql("BEGIN")


def _locked(exc: DBAPIError) -> bool:
    text = str(exc.orig)
    return "locked" in text or "busy" in text
