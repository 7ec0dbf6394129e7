"""The PostgreSQL backend (psycopg 3): one database server for many offices and processes.

- The write lock is a transaction-scoped advisory lock, taken by the first statement of the write
  transaction and released by its commit or rollback (also when the process dies: the server ends
  the session).  The reads that follow run at READ COMMITTED, so each sees every run committed
  before the lock was granted: two runs on one history are serialised, never interleaved.
  Tried once without waiting (pg_try_advisory_xact_lock); if another run holds it, `on_wait()` is
  told and the run waits up to WAIT_SECONDS (lock_timeout).
- Many rows go in with COPY (a month of 100,000 workers).
- The server's errors are said in Chinese by their SQLSTATE; connection failures by their text.
"""
from __future__ import annotations

from typing import Callable, Iterable, Sequence

from sqlalchemy import Table, create_engine, text
from sqlalchemy.engine import Connection, URL
from sqlalchemy.exc import DBAPIError

from ..errors import HistoryError
from . import db
from .db import Database, display_url

# pg_advisory_xact_lock(LOCK_CLASS, HISTORY_LOCK): the history's write lock in this database.
# Advisory locks belong to one database; another application using the same numbers in the same
# database would only make runs wait, never change what they store.
LOCK_CLASS = 0x7767          # "wg"
HISTORY_LOCK = 1

_SQLSTATE_ZH = {
    "53100": "数据库服务器磁盘空间不足",
    "53200": "数据库服务器内存不足",
    "53300": "数据库服务器连接数已满",
    "55P03": "另一次运行正在写入历史库",
    "57014": "操作超时，已被取消",
    "42501": "数据库用户没有所需的权限",
    "3D000": "数据库不存在",
    "28P01": "数据库用户名或密码不对",
    "28000": "数据库服务器不允许该用户连接",
    "57P01": "数据库服务器正在关闭",
    "57P02": "数据库服务器正在关闭",
    "57P03": "数据库服务器正在启动，暂时不能连接",
    "25006": "数据库是只读的（可能连到了备用服务器）",
    "40001": "与另一次运行冲突",
    "40P01": "与另一次运行冲突（死锁）",
}
_CONNECT_ZH = (
    ("Connection refused", "无法连接数据库服务器（服务器没有启动，或地址、端口不对）"),
    ("No such file or directory", "无法连接数据库服务器（服务器没有启动，或套接字目录不对）"),
    ("password authentication failed", "数据库用户名或密码不对"),
    ("does not exist", "数据库或用户不存在"),
    ("timeout expired", "连接数据库服务器超时"),
    ("could not translate host name", "数据库服务器的主机名无法解析"),
    ("server closed the connection unexpectedly", "数据库服务器意外断开了连接"),
)


class PostgresDatabase(Database):
    kind = "postgresql"

    def __init__(self, url: URL, *, create: bool = True):
        self.where = display_url(url.render_as_string(hide_password=False))
        self.engine = create_engine(url, pool_pre_ping=True,
                                    connect_args={"connect_timeout": 10, "application_name": "wangge"})
        self._prepare(create)

    def no_history(self) -> HistoryError:
        return HistoryError(f"数据库 {self.where} 中还没有历史库（还没有存入任何月份）", code="no_history")

    def begin_write(self, on_wait: Callable[[], None] | None = None) -> Connection:
        conn = self.engine.connect()
        lock = {"c": LOCK_CLASS, "k": HISTORY_LOCK}
        try:
            if not conn.execute(text("SELECT pg_try_advisory_xact_lock(:c, :k)"), lock).scalar():
                if on_wait is not None:
                    on_wait()
                conn.exec_driver_sql(f"SET LOCAL lock_timeout = {int(db.WAIT_SECONDS * 1000)}")
                conn.execute(text("SELECT pg_advisory_xact_lock(:c, :k)"), lock)
                conn.exec_driver_sql("SET LOCAL lock_timeout = 0")
        except DBAPIError as exc:
            self.rollback(conn)
            raise self.busy_error(exc) from None
        return conn

    def bulk_insert(self, conn: Connection, table: Table, columns: Sequence[str], rows: Iterable[tuple]) -> None:
        raw = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def reason(self, exc: BaseException) -> str:
        return reason(exc)


def reason(exc: BaseException) -> str:
    """The server's reason in Chinese: by SQLSTATE, else by the text of a connection failure (the
    first line of the original is kept for one not listed)."""
    orig = getattr(exc, "orig", None) or exc
    state = getattr(orig, "sqlstate", None)
    if state in _SQLSTATE_ZH:
        return _SQLSTATE_ZH[state]
    if state and state.startswith("08"):
        return "与数据库服务器的连接中断"
    msg = str(orig)
    for needle, said in _CONNECT_ZH:
        if needle in msg:
            return said
    return msg.strip().splitlines()[0] if msg.strip() else type(orig).__name__
