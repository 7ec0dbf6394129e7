"""The store of past months (SQLite).

A data directory holds `history.sqlite3`.  Each stored month keeps the results.json of the
monthly scoring (compressed), the policy it was scored under (id, version, hash of the
resolved policy, files), the checksums of its input files, when it was run, a compact row per
worker that period rules read, and the period additions computed for it.  `History` is the
only sqlite3 user in the engine; other modules read months through `month_results`.

Writing happens in one transaction (`History.transaction`) that holds the write lock from the
first read to the commit, so a run's reads and its writes are one step: engine/app/month.py
records a month that way (read earlier months, evaluate period rules, stage the outputs, commit,
move the outputs into place).  A failure or kill before the commit leaves the history as it was.

Fault injection for tests: WANGGE_FAULT=<point>[:kill] raises `FaultInjected` (or kills the
process with os._exit(137)) at one of FAULT_POINTS.
"""
from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator, Mapping

from .errors import MONTH_FIELD, EngineError, HistoryError, Problem
from .periods import WorkerMonth, merge_additions, month_label, views_from_results

__all__ = ["History", "MonthInfo", "DocNumber", "Transaction", "check_workers", "check_stored_policies", "default_data_dir",
           "SCHEMA_VERSION", "FAULT_POINTS", "FaultInjected", "fault"]

DB_NAME = "history.sqlite3"
SCHEMA_VERSION = 4

# MIGRATIONS[v] brings a database from version v-1 to v; each list runs inside one transaction.
# To change the schema: add MIGRATIONS[SCHEMA_VERSION + 1] and raise SCHEMA_VERSION.
MIGRATIONS: dict[int, list[str]] = {
    1: [
        "CREATE TABLE schema_version (version INTEGER NOT NULL)",
        "INSERT INTO schema_version VALUES (0)",
        """CREATE TABLE months (
               month TEXT PRIMARY KEY,
               policy_id TEXT NOT NULL, policy_version TEXT NOT NULL, policy_hash TEXT NOT NULL,
               policy_files TEXT NOT NULL,          -- JSON list
               inputs TEXT NOT NULL,                -- JSON: {"workers": {"path", "sha256"}, ...}
               run_at TEXT NOT NULL,                -- ISO 8601 UTC
               worker_count INTEGER NOT NULL,
               results BLOB NOT NULL,               -- zlib(results.json of the monthly scoring)
               period BLOB                          -- zlib(JSON worker_id -> period additions) or NULL
           )""",
        """CREATE TABLE month_workers (
               month TEXT NOT NULL REFERENCES months(month) ON DELETE CASCADE,
               worker_id TEXT NOT NULL, name TEXT NOT NULL, town TEXT, community TEXT, grid TEXT,
               role TEXT, employment TEXT, attributes TEXT,
               score TEXT NOT NULL, failed INTEGER NOT NULL, veto_count INTEGER NOT NULL, stars INTEGER,
               wage TEXT NOT NULL, performance_base TEXT NOT NULL, pay TEXT NOT NULL,
               PRIMARY KEY (month, worker_id)
           )""",
        "CREATE INDEX month_workers_worker ON month_workers (worker_id, month)",
        """CREATE TABLE corrections (
               id INTEGER PRIMARY KEY AUTOINCREMENT,
               month TEXT NOT NULL, run_at TEXT NOT NULL, note TEXT NOT NULL,
               old_policy_hash TEXT NOT NULL, new_policy_hash TEXT NOT NULL,
               summary TEXT NOT NULL                -- JSON of what changed
           )""",
    ],
    # 2: document numbers (发文字号) issued for notices, so a re-render keeps its number and date
    # and the next notice of the year takes the next number.
    2: [
        """CREATE TABLE doc_numbers (
               prefix TEXT NOT NULL, year INTEGER NOT NULL, number INTEGER NOT NULL,
               month TEXT NOT NULL, kind TEXT NOT NULL,
               issued_on TEXT NOT NULL,             -- the 成文日期 first printed, YYYY-MM-DD
               PRIMARY KEY (prefix, year, number),
               UNIQUE (prefix, month, kind)
           )""",
    ],
    # 3: the register of document numbers (发文登记): what each number was for, and numbers the office
    # used outside the tool (month NULL), so that the tool never gives one of them again.
    3: [
        """CREATE TABLE doc_register (
               prefix TEXT NOT NULL, year INTEGER NOT NULL, number INTEGER NOT NULL,
               kind TEXT NOT NULL,                  -- bulletin / criticism / commendation / external …
               month TEXT,                          -- the assessment month of a notice the tool made
               title TEXT NOT NULL,                 -- what the number was used for
               issued_on TEXT NOT NULL,             -- the 成文日期, YYYY-MM-DD
               source TEXT NOT NULL,                -- wangge | external
               recorded_at TEXT NOT NULL,           -- when it entered the register (UTC)
               PRIMARY KEY (prefix, year, number)
           )""",
        "CREATE UNIQUE INDEX doc_register_notice ON doc_register (prefix, month, kind) WHERE month IS NOT NULL",
        """INSERT INTO doc_register SELECT prefix, year, number, kind, month,
               month || ' ' || kind, issued_on, 'wangge', '' FROM doc_numbers""",
        "DROP TABLE doc_numbers",
    ],
    # 4: what grade conditions read of a worker-month (metric values, findings per rule), as JSON;
    # months stored before have none (their conditions see zeros until the month is stored again).
    4: ["ALTER TABLE month_workers ADD COLUMN facts TEXT"],
}

FAULT_POINTS = ("after_stage", "before_commit", "after_commit")
BUSY_MS = 30_000        # a reader waits this long for a writer's commit to finish
WAIT_SECONDS = 600.0    # a second run waits this long for the first to finish writing


class FaultInjected(EngineError):
    """Raised at a WANGGE_FAULT point (tests simulate a crash with it)."""


def fault(point: str) -> None:
    spec = os.environ.get("WANGGE_FAULT", "")
    name, _, how = spec.partition(":")
    if name == point:
        if how == "kill":
            os._exit(137)
        raise FaultInjected(f"故障注入：在 {point} 处中断")


def default_data_dir() -> Path:
    return Path(os.environ.get("WANGGE_DATA") or "data")


def _pack(obj: Any) -> bytes:
    return zlib.compress(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), 6)


def _unpack(blob: bytes | None) -> Any:
    return None if blob is None else json.loads(zlib.decompress(blob).decode("utf-8"))


_SQLITE_ZH = {
    "file is not a database": "该文件不是 wangge 历史库（SQLite 数据库）",
    "database disk image is malformed": "历史库文件已损坏",
    "database is locked": "另一次运行正在写入历史库",
    "unable to open database file": "无法打开该文件",
    "attempt to write a readonly database": "历史库是只读的",
    "disk I/O error": "磁盘读写错误",
    "database or disk is full": "磁盘空间不足",
}


def sqlite_reason(exc: sqlite3.Error) -> str:
    """SQLite's English reason in Chinese (the original kept for the rare one not listed)."""
    text = str(exc)
    return _SQLITE_ZH.get(text, text)


@dataclass(frozen=True)
class DocNumber:
    """One entry of the register of document numbers (发文登记)."""
    prefix: str
    year: int
    number: int
    kind: str
    month: str | None
    title: str
    issued_on: str
    source: str = "wangge"
    recorded_at: str = ""

    @property
    def text(self) -> str:
        return f"{self.prefix}〔{self.year}〕{self.number}号"

    def as_dict(self) -> dict:
        return {"prefix": self.prefix, "year": self.year, "number": self.number, "text": self.text,
                "kind": self.kind, "month": self.month, "title": self.title, "issued_on": self.issued_on,
                "source": self.source, "recorded_at": self.recorded_at}


@dataclass(frozen=True)
class MonthInfo:
    month: str
    policy_id: str
    policy_version: str
    policy_hash: str
    policy_files: list
    inputs: dict
    run_at: str
    worker_count: int
    has_period: bool


class History:
    """Stored months in `<data_dir>/history.sqlite3`.  Opening migrates the database.

    With `create=True` a missing database is not created on opening: until the first commit
    the history is an empty one in memory, and that commit writes the whole file at once
    (`_materialise`).  So a run that fails before storing leaves no data folder and no file."""

    def __init__(self, data_dir: str | Path | None = None, *, create: bool = True):
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
        self.path = self.data_dir / DB_NAME
        self._pending = not self.path.exists()
        if self._pending and not create:
            raise HistoryError(f"数据目录 {self.data_dir} 中没有历史库 {DB_NAME}（还没有存入任何月份）", code="no_history")
        self._connect(":memory:" if self._pending else self.path)

    def _connect(self, where: str | Path) -> None:
        try:
            self.db = sqlite3.connect(where, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA foreign_keys = ON")
            self.db.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise HistoryError(f"历史库 {self.path} 无法打开：{sqlite_reason(exc)}") from None

    def _commit(self) -> None:
        """COMMIT; for a database not yet on disk, then write it there in one step."""
        self.db.execute("COMMIT")
        if self._pending:
            self._materialise()

    def _materialise(self) -> None:
        """Write the in-memory database to `path`: a complete temporary file, linked into place only
        if no database appeared there meanwhile (another run), so the file is never half-written."""
        tmp = None
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".history-", suffix=".tmp", dir=self.data_dir)
            os.close(fd)
            target = sqlite3.connect(tmp)
            try:
                self.db.backup(target)
            finally:
                target.close()
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
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
        self.db.close()
        self._pending = False
        self._connect(self.path)

    def _forget(self) -> None:
        """The commit could not reach the disk: back to the empty history the disk still has."""
        self.db.close()
        self._connect(":memory:")

    def _rollback(self) -> None:
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "History":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- schema

    def schema_version(self) -> int:
        has = self.db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version'").fetchone()
        if not has:
            return 0
        return self.db.execute("SELECT version FROM schema_version").fetchone()[0]

    def _migrate(self) -> None:
        current = self.schema_version()
        if current > SCHEMA_VERSION:
            raise HistoryError(f"历史库 {self.path} 的结构版本为 {current}，高于本程序支持的 {SCHEMA_VERSION}，请升级 wangge")
        for version in range(current + 1, SCHEMA_VERSION + 1):
            self.db.execute("BEGIN IMMEDIATE")
            try:
                for stmt in MIGRATIONS[version]:
                    self.db.execute(stmt)
                self.db.execute("UPDATE schema_version SET version = ?", (version,))
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise

    # -- reading

    def months(self) -> list[MonthInfo]:
        rows = self.db.execute(
            "SELECT month, policy_id, policy_version, policy_hash, policy_files, inputs, run_at, worker_count,"
            " period IS NOT NULL FROM months ORDER BY month").fetchall()
        return [MonthInfo(r[0], r[1], r[2], r[3], json.loads(r[4]), json.loads(r[5]), r[6], r[7], bool(r[8]))
                for r in rows]

    def has_month(self, month: str) -> bool:
        return self.db.execute("SELECT 1 FROM months WHERE month = ?", (month,)).fetchone() is not None

    def base_results(self, month: str) -> dict:
        row = self.db.execute("SELECT results FROM months WHERE month = ?", (month,)).fetchone()
        if row is None:
            raise self.not_stored(month, f"历史中没有 {month_label(month)}（{month}）的考核结果")
        return _unpack(row[0])

    def not_stored(self, month: str, message: str, code: str = "") -> HistoryError:
        """The error for a month that is not stored, naming the months that are."""
        stored = [i.month for i in self.months()]
        expected = f"已存的月份之一：{'、'.join(stored)}" if stored else "已存的月份（历史库中还没有任何月份）"
        return HistoryError(message, [Problem(str(self.path), None, MONTH_FIELD, month, expected)], code=code)

    def period_additions(self, month: str) -> dict | None:
        row = self.db.execute("SELECT period FROM months WHERE month = ?", (month,)).fetchone()
        return None if row is None else _unpack(row[0])

    def month_results(self, month: str) -> dict:
        """The stored results.json of a month, with the period additions when period rules applied."""
        return merge_additions(self.base_results(month), self.period_additions(month))

    def views(self, exclude: str | None = None) -> dict[str, list[WorkerMonth]]:
        """Compact per-worker facts of every stored month (what period rules read)."""
        out: dict[str, list[WorkerMonth]] = {}
        for r in self.db.execute(
                "SELECT month, worker_id, name, town, community, grid, role, employment, attributes, score, failed,"
                " veto_count, stars, wage, performance_base, pay" + (", facts" if self._facts_column() else ", NULL")
                + " FROM month_workers ORDER BY month, worker_id"):
            if r[0] == exclude:
                continue
            out.setdefault(r[0], []).append(WorkerMonth(
                worker_id=r[1], name=r[2], employment=r[7] or "",
                group={"town": r[3] or "", "community": r[4] or "", "grid": r[5] or "", "role": r[6] or "",
                       "employment": r[7] or "", "attributes": json.loads(r[8] or "{}")},
                score=Decimal(r[9]), failed=bool(r[10]), veto_count=r[11], stars=r[12], wage=Decimal(r[13]),
                performance_base=Decimal(r[14]), pay=Decimal(r[15]),
                facts={k: Decimal(v) for k, v in json.loads(r[16] or "{}").items()}))
        return out

    def _facts_column(self) -> bool:
        """Schema 4 added month_workers.facts; a database of schema 3 or older (only while a test
        builds one) has none."""
        return any(r[1] == "facts" for r in self.db.execute("PRAGMA table_info(month_workers)"))

    def register(self, exclude: str | None = None) -> dict[str, tuple[str, str, str, str]]:
        """worker_id -> (name, grid, community, latest month) over the stored months."""
        out = {}
        for wid, name, grid, community, month in self.db.execute(
                "SELECT worker_id, name, grid, community, month FROM month_workers WHERE month != ?"
                " ORDER BY month", (exclude or "",)):
            out[wid] = (name, grid or "", community or "", month)
        return out

    def corrections(self) -> list[dict]:
        return [{"id": r[0], "month": r[1], "run_at": r[2], "note": r[3], "summary": json.loads(r[4])}
                for r in self.db.execute("SELECT id, month, run_at, note, summary FROM corrections ORDER BY id")]

    def doc_numbers(self, prefix: str, month: str) -> dict[str, dict]:
        """kind -> {year, number, issued_on} of the numbers already issued for a month's notices."""
        return {r[0]: {"year": r[1], "number": r[2], "issued_on": r[3]} for r in self.db.execute(
            "SELECT kind, year, number, issued_on FROM doc_register WHERE prefix = ? AND month = ?", (prefix, month))}

    def last_doc_number(self, prefix: str, year: int) -> int:
        row = self.db.execute("SELECT MAX(number) FROM doc_register WHERE prefix = ? AND year = ?",
                              (prefix, year)).fetchone()
        return row[0] or 0

    def number_register(self, *, prefix: str | None = None, year: int | None = None) -> list[dict]:
        """The register of document numbers, by prefix, year and number."""
        rows = self.db.execute(
            "SELECT prefix, year, number, kind, month, title, issued_on, source, recorded_at FROM doc_register"
            " WHERE (? IS NULL OR prefix = ?) AND (? IS NULL OR year = ?) ORDER BY prefix, year, number",
            (prefix, prefix, year, year)).fetchall()
        return [DocNumber(*r).as_dict() for r in rows]

    def check_number_free(self, prefix: str, year: int, number: int) -> None:
        """A number already in the register is never given again: the error says what it was used for."""
        row = self.db.execute("SELECT title, issued_on, source FROM doc_register WHERE prefix = ? AND year = ?"
                              " AND number = ?", (prefix, year, number)).fetchone()
        if row is not None:
            used = "（本单位在系统外登记）" if row[2] == "external" else ""
            raise HistoryError(f"文号 {prefix}〔{year}〕{number}号 已被占用，未写入任何内容：", [Problem(
                str(self.path), None, "文号", f"{prefix}〔{year}〕{number}号", "发文登记中尚未使用的文号",
                f"已用于《{row[0]}》，成文日期 {row[1]}{used}")])

    # -- writing (one transaction)

    @contextmanager
    def transaction(self, on_wait: Callable[[], None] | None = None) -> Iterator["Transaction"]:
        """One write transaction holding the history's write lock from its first read to its commit,
        so that what a run reads (earlier months, their period results, the last document number) is
        what its commit builds on: two runs on one data folder are serialised, never interleaved.

        A second run waits for the first (`on_wait()` is called once when it starts waiting) up to
        WAIT_SECONDS, then is refused.  Leaving the block normally commits (unless `commit()` was
        called inside it); an exception rolls everything back."""
        self._begin(on_wait)
        tx = Transaction(self)
        try:
            yield tx
            tx.commit()
        except BaseException:
            if not tx.committed:
                self._rollback()
            raise

    def issue_doc_numbers(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Record newly issued document numbers in one transaction."""
        rows = list(rows)
        if not rows:
            return
        with self.transaction():
            self.insert_numbers(rows)

    def _begin(self, on_wait: Callable[[], None] | None = None) -> None:
        """BEGIN IMMEDIATE: take the write lock now.  Held by another run: say so once (`on_wait`),
        then wait up to WAIT_SECONDS for it."""
        db = self.db
        try:
            db.execute("PRAGMA busy_timeout = 0")
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if on_wait is not None:
                    on_wait()
                db.execute(f"PRAGMA busy_timeout = {int(WAIT_SECONDS * 1000)}")
                db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:   # still held by another run, or the file cannot be written
            raise HistoryError(f"历史库 {self.path} 暂时无法写入（{sqlite_reason(exc)}），未写入任何内容；请稍后重试") from None
        finally:
            db.execute(f"PRAGMA busy_timeout = {BUSY_MS}")

    def insert_numbers(self, rows: Iterable["DocNumber"]) -> None:
        """Enter numbers in the register (inside the open transaction)."""
        rows = list(rows)
        if not rows:
            return
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        try:
            self.db.executemany(
                "INSERT INTO doc_register (prefix, year, number, kind, month, title, issued_on, source, recorded_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(r.prefix, r.year, r.number, r.kind, r.month, r.title, r.issued_on, r.source, r.recorded_at or now)
                 for r in rows])
        except sqlite3.IntegrityError:   # another run issued the same number meanwhile
            for r in rows:
                self.check_number_free(r.prefix, r.year, r.number)
            raise HistoryError("同一份公文已由另一次运行出文，未写入任何内容；请重新运行") from None

    def store(self, results: Mapping[str, Any], additions: Mapping[str, dict | None], *,
              correction: dict | None = None, run_at: str | None = None) -> None:
        """Replace one month's results and update the period additions of the months given, inside
        the open transaction (see `transaction`)."""
        if not self.db.in_transaction:
            raise RuntimeError("History.store needs an open transaction")
        month = results["month"]
        pol = results.get("policy", {})
        run_at = run_at or datetime.now(timezone.utc).isoformat(timespec="seconds")
        db = self.db
        try:
            self._write_month(db, month, pol, results, additions, correction, run_at)
        except sqlite3.Error as exc:   # a full disk while writing: the transaction is rolled back
            raise HistoryError(f"历史库 {self.path} 无法写入（{sqlite_reason(exc)}），本次未写入任何内容") from None

    def _write_month(self, db, month, pol, results, additions, correction, run_at) -> None:
        db.execute("DELETE FROM month_workers WHERE month = ?", (month,))
        db.execute("DELETE FROM months WHERE month = ?", (month,))
        db.execute("INSERT INTO months VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)", (
            month, str(pol.get("id", "")), str(pol.get("version", "")), str(pol.get("hash", "")),
            json.dumps(pol.get("files", []), ensure_ascii=False),
            json.dumps(results.get("inputs", {}), ensure_ascii=False, sort_keys=True),
            run_at, len(results["workers"]), _pack(results)))
        facts = self._facts_column()
        db.executemany("INSERT INTO month_workers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
                       + (", ?)" if facts else ")"), [
            (month, v.worker_id, v.name, v.group["town"], v.group["community"], v.group["grid"],
             v.group["role"], v.employment, json.dumps(v.group["attributes"], ensure_ascii=False, sort_keys=True),
             str(v.score), int(v.failed), v.veto_count, v.stars, str(v.wage), str(v.performance_base), str(v.pay))
            + ((json.dumps({k: str(x) for k, x in v.facts.items()}, ensure_ascii=False, sort_keys=True),)
               if facts else ())
            for v in views_from_results(results)])
        for m, adds in additions.items():
            db.execute("UPDATE months SET period = ? WHERE month = ?", (None if adds is None else _pack(adds), m))
        if correction is not None:
            db.execute("INSERT INTO corrections (month, run_at, note, old_policy_hash, new_policy_hash, summary)"
                       " VALUES (?, ?, ?, ?, ?, ?)",
                       (month, run_at, correction.get("note", ""), correction.get("old_policy_hash", ""),
                        str(pol.get("hash", "")), json.dumps(correction.get("summary", {}), ensure_ascii=False)))


class Transaction:
    """The open write transaction of `History.transaction`."""

    def __init__(self, history: History):
        self.history = history
        self.committed = False

    def commit(self) -> None:
        """Commit now (e.g. once every output is staged, before the files are moved into place)."""
        if self.committed:
            return
        fault("before_commit")
        try:
            self.history._commit()
        except sqlite3.Error as exc:   # a full disk, an I/O error: nothing was written
            self.history._rollback()
            raise HistoryError(f"历史库 {self.history.path} 无法写入（{sqlite_reason(exc)}），本次未写入任何内容") from None
        self.committed = True


# --------------------------------------------------------------------------- checks against history


def check_workers(history: History, results: Mapping[str, Any], *, correction: bool,
                  rows: Mapping[str, tuple[str, int]] | None = None) -> None:
    """Workers of a new month must fit history: an id keeps its person, a person keeps their id.

    A correction must name exactly the workers stored for that month.  Raises HistoryError
    listing every mismatch.
    """
    month = results["month"]
    src = str(results.get("inputs", {}).get("workers", {}).get("path", "workers"))
    rows = rows or {}

    def where(wid: str) -> tuple[str, int | None]:
        return rows.get(wid, (src, None))
    problems: list[Problem] = []
    new_ids = {w["worker_id"] for w in results["workers"]}
    if correction:
        stored = {v.worker_id for v in history.views().get(month, [])}
        for wid in sorted(new_ids - stored):
            problems.append(Problem(*where(wid), f"工号 {wid}", wid, f"{month_label(month)}已存的网格员之一",
                                    "更正只能改原有人员的记录，不能增加人员"))
        for wid in sorted(stored - new_ids):
            problems.append(Problem(src, None, f"工号 {wid}", None, f"{month_label(month)}已存的网格员 {wid} 仍在名册中",
                                    "更正不能删除人员"))
    register = history.register(exclude=month)
    by_person: dict[tuple[str, str], list[str]] = {}
    for wid, (name, grid, community, _m) in register.items():
        if wid not in new_ids:
            by_person.setdefault((name, grid or community), []).append(wid)
    for w in results["workers"]:
        wid, name = w["worker_id"], w.get("name", "")
        if wid in register:
            old_name, _g, _c, seen = register[wid]
            if old_name != name:
                problems.append(Problem(*where(wid), f"工号 {wid} 的姓名", name,
                                        f"「{old_name}」（{month_label(seen)}历史记录）",
                                        "一个工号只能对应一个人；新人请用新工号"))
        else:
            olds = by_person.get((name, w.get("grid") or w.get("community") or ""), [])
            if olds:
                problems.append(Problem(*where(wid), f"工号 {wid}", wid, f"沿用原工号 {olds[0]}",
                                        f"{name}（{w.get('grid') or w.get('community')}）在历史中的工号是 {olds[0]}，"
                                        "工号变化会使跨月规则断开"))
    if problems:
        raise HistoryError(f"{month_label(month)}的人员与历史记录不符，共 {len(problems)} 处，未写入任何内容：", problems)


def check_stored_policies(history: History, resolve_hash: Callable[[str], str], *, skip: str | None = None,
                          only: Iterable[str] | None = None) -> None:
    """Every stored month the period rules read must still resolve to the policy it was scored under.

    `resolve_hash(month)` returns the hash of the policy now in force for that month, or raises
    an EngineError when it no longer resolves.
    """
    problems: list[Problem] = []
    for info in history.months():
        if info.month == skip or (only is not None and info.month not in only):
            continue
        where = ", ".join(info.policy_files) or info.policy_id
        try:
            now = resolve_hash(info.month)
        except EngineError as exc:
            problems.append(Problem(where, None, f"{info.month} 的考核细则", info.policy_id,
                                    "仍能解析的考核细则", str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
            continue
        if now != info.policy_hash:
            problems.append(Problem(where, None, f"{info.month} 的考核细则", f"现为 {now[:12]}…",
                                    f"存档时的版本 {info.policy_hash[:12]}…（{info.policy_id} {info.policy_version}）",
                                    f"细则在该月存档后被修改；请恢复原细则，或按新细则更正 {info.month}"))
    if problems:
        raise HistoryError(f"历史中有 {len(problems)} 个月份的考核细则与现在不符，未写入任何内容：", problems,
                           code="policy_changed")
