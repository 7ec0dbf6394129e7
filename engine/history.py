"""The store of past months and of the register of document numbers.

Each stored month keeps the results.json of the monthly scoring (compressed), the policy it was
scored under (id, version, hash of the resolved policy, files), the checksums of its input files,
when it was run, a compact row per worker that period rules read, and the period additions
computed for it.  Other modules read months through `History`.

Where: a URL (engine/store): `sqlite:///<data>/history.sqlite3` by default, the embedded file of
one office, or `postgresql://…` for a city centre's server.  The queries here are SQLAlchemy Core
and the same for both; engine/store/ holds the tables, the migrations (Alembic) and what differs
between the two (the write lock, how a new database comes into being, errors said in Chinese).

Writing happens in one transaction (`History.transaction`) that holds the history's write lock from
the first read to the commit, so a run's reads and its writes are one step: engine/app/month.py
records a month that way (read earlier months, evaluate period rules, stage the outputs, commit,
move the outputs into place).  A failure or kill before the commit leaves the history as it was.

Fault injection for tests: WANGGE_FAULT=<point>[:kill] raises `FaultInjected` (or kills the
process with os._exit(137)) at one of FAULT_POINTS; `<point>:wait=<file>` creates the file and waits
up to a minute there, going on when the file is removed (a test kills the database server meanwhile).
"""
from __future__ import annotations

import json
import os
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError

from .errors import MONTH_FIELD, EngineError, HistoryError, Problem
from .jsontext import dumps_compact
from .periods import WorkerMonth, merge_additions, month_label, views_from_results
from .store import DB_NAME, database_url, open_database
from .store.migrate import head, version_of
from .store.schema import corrections, doc_register, month_workers, months

__all__ = ["History", "MonthInfo", "DocNumber", "Transaction", "PackedMonth", "check_workers", "check_stored_policies", "default_data_dir",
           "SCHEMA_VERSION", "FAULT_POINTS", "FaultInjected", "fault", "DB_NAME"]

SCHEMA_VERSION = version_of(head())     # the schema this program writes (engine/store/migrations)

FAULT_POINTS = ("after_stage", "before_commit", "after_commit")
WORKER_COLUMNS = ("month", "worker_id", "name", "town", "community", "grid", "role", "employment", "attributes",
                  "score", "failed", "veto_count", "stars", "wage", "performance_base", "pay", "facts")


class FaultInjected(EngineError):
    """Raised at a WANGGE_FAULT point (tests simulate a crash with it)."""


def fault(point: str) -> None:
    spec = os.environ.get("WANGGE_FAULT", "")
    name, _, how = spec.partition(":")
    if name == point:
        if how == "kill":
            os._exit(137)
        if how.startswith("wait="):
            import time

            flag = Path(how[5:])
            flag.write_text(str(os.getpid()), encoding="utf-8")
            deadline = time.monotonic() + 60
            while flag.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            return
        raise FaultInjected(f"故障注入：在 {point} 处中断")


def default_data_dir() -> Path:
    return Path(os.environ.get("WANGGE_DATA") or "data")


def _pack(obj: Any) -> bytes:
    # level 3: a province month's 244 MB of results compress in 1.1 s to 14 MB (level 6: 2.6 s, 9 MB)
    return zlib.compress(dumps_compact(obj).encode("utf-8"), 3)


def _unpack(blob: bytes | None) -> Any:
    return None if blob is None else json.loads(zlib.decompress(blob).decode("utf-8"))


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
    """Stored months of one office.  `database`: the history's URL (None: the SQLite file
    `<data_dir>/history.sqlite3`).  Opening migrates an older database.

    With `create=True` a missing SQLite file is not created on opening: until the first commit the
    history is an empty one in memory, and that commit writes the whole file at once.  So a run
    that fails before storing leaves no data folder and no file.  `create=False`: a history without
    any stored data is an error (code no_history)."""

    def __init__(self, data_dir: str | Path | None = None, *, database: str | None = None, create: bool = True):
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
        self.url = database_url(self.data_dir, database)
        self._db = open_database(self.url, create=create)
        self.kind = self._db.kind
        self.where = self._db.where           # the file, or the server's URL without its password
        self.path = getattr(self._db, "path", None) or self.where
        self._tx: Connection | None = None

    def close(self) -> None:
        if self._tx is not None:
            self._rollback()
        self._db.close()

    def __enter__(self) -> "History":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def schema_version(self) -> int:
        return self._db.schema_version()

    @property
    def found_version(self) -> int | None:
        """The schema version the database had before this opening migrated it (None: it was new)."""
        return self._db.found_version

    def backup_to(self, target: str | Path) -> None:
        """A consistent copy of a SQLite history while it may be in use (a server's history is backed
        up with the server's own tools: pg_dump, docs/deployment.md)."""
        if not hasattr(self._db, "backup_to"):
            raise HistoryError(f"历史库 {self.where} 在数据库服务器上，请用 pg_dump 备份（见部署说明 docs/deployment.md）")
        try:
            self._db.backup_to(Path(target))
        except OSError as exc:
            raise HistoryError(f"无法写出备份 {target}：{exc.strerror or exc}") from None

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """The open write transaction's connection, or a short read transaction."""
        if self._tx is None:
            with self._db.reading() as conn:
                yield conn
            return
        try:
            yield self._tx
        except DBAPIError as exc:
            raise HistoryError(f"历史库 {self.where} 无法读取：{self._db.reason(exc)}") from None

    # -- reading

    def months(self) -> list[MonthInfo]:
        m = months.c
        with self._read() as conn:
            rows = conn.execute(select(m.month, m.policy_id, m.policy_version, m.policy_hash, m.policy_files, m.inputs,
                                       m.run_at, m.worker_count, m.period.is_not(None)).order_by(m.month)).all()
        return [MonthInfo(r[0], r[1], r[2], r[3], json.loads(r[4]), json.loads(r[5]), r[6], r[7], bool(r[8]))
                for r in rows]

    def has_month(self, month: str) -> bool:
        with self._read() as conn:
            return conn.execute(select(months.c.month).where(months.c.month == month)).first() is not None

    def base_results(self, month: str) -> dict:
        with self._read() as conn:
            blob = conn.execute(select(months.c.results).where(months.c.month == month)).scalar()
        if blob is None:
            raise self.not_stored(month, f"历史中没有 {month_label(month)}（{month}）的考核结果")
        return _unpack(blob)

    def not_stored(self, month: str, message: str, code: str = "") -> HistoryError:
        """The error for a month that is not stored, naming the months that are."""
        stored = [i.month for i in self.months()]
        expected = f"已存的月份之一：{'、'.join(stored)}" if stored else "已存的月份（历史库中还没有任何月份）"
        return HistoryError(message, [Problem(str(self.where), None, MONTH_FIELD, month, expected)], code=code)

    def period_additions(self, month: str) -> dict | None:
        with self._read() as conn:
            row = conn.execute(select(months.c.period).where(months.c.month == month)).first()
        return None if row is None else _unpack(row[0])

    def month_results(self, month: str) -> dict:
        """The stored results.json of a month, with the period additions when period rules applied."""
        with self._read() as conn:
            row = conn.execute(select(months.c.results, months.c.period).where(months.c.month == month)).first()
        if row is None:
            raise self.not_stored(month, f"历史中没有 {month_label(month)}（{month}）的考核结果")
        return merge_additions(_unpack(row[0]), _unpack(row[1]))

    def views(self, exclude: str | None = None) -> dict[str, list[WorkerMonth]]:
        """Compact per-worker facts of every stored month (what period rules read)."""
        w = month_workers.c
        out: dict[str, list[WorkerMonth]] = {}
        query = select(*(w[c] for c in WORKER_COLUMNS)).order_by(w.month, w.worker_id)
        if exclude is not None:
            query = query.where(w.month != exclude)
        with self._read() as conn:
            rows = conn.execute(query).all()
        for r in rows:
            out.setdefault(r[0], []).append(WorkerMonth(
                worker_id=r[1], name=r[2], employment=r[7] or "",
                group={"town": r[3] or "", "community": r[4] or "", "grid": r[5] or "", "role": r[6] or "",
                       "employment": r[7] or "", "attributes": json.loads(r[8] or "{}")},
                score=Decimal(r[9]), failed=bool(r[10]), veto_count=r[11], stars=r[12], wage=Decimal(r[13]),
                performance_base=Decimal(r[14]), pay=Decimal(r[15]),
                facts={k: Decimal(v) for k, v in json.loads(r[16] or "{}").items()}))
        return out

    def register(self, exclude: str | None = None) -> dict[str, tuple[str, str, str, str]]:
        """worker_id -> (name, grid, community, latest month) over the stored months."""
        w = month_workers.c
        out = {}
        with self._read() as conn:
            rows = conn.execute(select(w.worker_id, w.name, w.grid, w.community, w.month)
                                .where(w.month != (exclude or "")).order_by(w.month)).all()
        for wid, name, grid, community, month in rows:
            out[wid] = (name, grid or "", community or "", month)
        return out

    def corrections(self) -> list[dict]:
        c = corrections.c
        with self._read() as conn:
            rows = conn.execute(select(c.id, c.month, c.run_at, c.note, c.summary).order_by(c.id)).all()
        return [{"id": r[0], "month": r[1], "run_at": r[2], "note": r[3], "summary": json.loads(r[4])} for r in rows]

    def doc_numbers(self, prefix: str, month: str) -> dict[str, dict]:
        """kind -> {year, number, issued_on} of the numbers already issued for a month's notices."""
        d = doc_register.c
        with self._read() as conn:
            rows = conn.execute(select(d.kind, d.year, d.number, d.issued_on)
                                .where(d.prefix == prefix, d.month == month)).all()
        return {r[0]: {"year": r[1], "number": r[2], "issued_on": r[3]} for r in rows}

    def last_doc_number(self, prefix: str, year: int) -> int:
        d = doc_register.c
        with self._read() as conn:
            return conn.execute(select(func.max(d.number)).where(d.prefix == prefix, d.year == year)).scalar() or 0

    def number_register(self, *, prefix: str | None = None, year: int | None = None) -> list[dict]:
        """The register of document numbers, by prefix, year and number."""
        d = doc_register.c
        query = select(d.prefix, d.year, d.number, d.kind, d.month, d.title, d.issued_on, d.source, d.recorded_at)
        if prefix is not None:
            query = query.where(d.prefix == prefix)
        if year is not None:
            query = query.where(d.year == year)
        with self._read() as conn:
            rows = conn.execute(query.order_by(d.prefix, d.year, d.number)).all()
        return [DocNumber(*r).as_dict() for r in rows]

    def check_number_free(self, prefix: str, year: int, number: int) -> None:
        """A number already in the register is never given again: the error says what it was used for."""
        d = doc_register.c
        with self._read() as conn:
            row = conn.execute(select(d.title, d.issued_on, d.source)
                               .where(d.prefix == prefix, d.year == year, d.number == number)).first()
        if row is not None:
            used = "（本单位在系统外登记）" if row[2] == "external" else ""
            raise HistoryError(f"文号 {prefix}〔{year}〕{number}号 已被占用，未写入任何内容：", [Problem(
                str(self.where), None, "文号", f"{prefix}〔{year}〕{number}号", "发文登记中尚未使用的文号",
                f"已用于《{row[0]}》，成文日期 {row[1]}{used}")])

    # -- writing (one transaction)

    @contextmanager
    def transaction(self, on_wait: Callable[[], None] | None = None) -> Iterator["Transaction"]:
        """One write transaction holding the history's write lock from its first read to its commit,
        so that what a run reads (earlier months, their period results, the last document number) is
        what its commit builds on: two runs on one history are serialised, never interleaved.

        A second run waits for the first (`on_wait()` is called once when it starts waiting) up to
        WAIT_SECONDS (engine/store/db.py), then is refused.  Leaving the block normally commits
        (unless `commit()` was called inside it); an exception rolls everything back."""
        if self._tx is not None:
            raise RuntimeError("History.transaction is already open")
        self._tx = self._db.begin_write(on_wait)
        tx = Transaction(self)
        try:
            yield tx
            tx.commit()
        except BaseException:
            if not tx.committed:
                self._rollback()
            raise

    def _commit(self) -> None:
        conn, self._tx = self._tx, None
        self._db.commit(conn)

    def _rollback(self) -> None:
        conn, self._tx = self._tx, None
        if conn is not None:
            self._db.rollback(conn)

    def _writing(self, what: str) -> Connection:
        if self._tx is None:
            raise RuntimeError(f"History.{what} needs an open transaction")
        return self._tx

    def issue_doc_numbers(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Record newly issued document numbers in one transaction."""
        rows = list(rows)
        if not rows:
            return
        with self.transaction():
            self.insert_numbers(rows)

    def insert_numbers(self, rows: Iterable["DocNumber"]) -> None:
        """Enter numbers in the register (inside the open transaction)."""
        rows = list(rows)
        if not rows:
            return
        conn = self._writing("insert_numbers")
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        try:
            with conn.begin_nested():      # a refused number leaves the rest of the transaction usable
                conn.execute(insert(doc_register), [
                    {"prefix": r.prefix, "year": r.year, "number": r.number, "kind": r.kind, "month": r.month,
                     "title": r.title, "issued_on": r.issued_on, "source": r.source, "recorded_at": r.recorded_at or now}
                    for r in rows])
        except IntegrityError:   # another run issued the same number meanwhile
            for r in rows:
                self.check_number_free(r.prefix, r.year, r.number)
            raise HistoryError("同一份公文已由另一次运行出文，未写入任何内容；请重新运行") from None
        except DBAPIError as exc:
            raise self._db.write_error(exc) from None

    @staticmethod
    def pack(results: Mapping[str, Any], additions: Mapping[str, dict | None],
             views: list[WorkerMonth] | None = None, *, results_blob: bytes | None = None) -> "PackedMonth":
        """What `store` writes, made ready without the database (a run does this while another
        process writes the pay sheet, then stores it quickly under the lock).  `views`: the month's
        views_from_results when the caller has them already; `results_blob`: pack_results(results),
        made beforehand (a large month's is made in a second process while period rules run)."""
        month = results["month"]
        rows = [(month, v.worker_id, v.name, v.group["town"], v.group["community"], v.group["grid"],
                 v.group["role"], v.employment, json.dumps(v.group["attributes"], ensure_ascii=False, sort_keys=True),
                 str(v.score), int(v.failed), v.veto_count, v.stars, str(v.wage), str(v.performance_base), str(v.pay),
                 json.dumps({k: str(x) for k, x in v.facts.items()}, ensure_ascii=False, sort_keys=True))
                for v in (views if views is not None else views_from_results(results))]
        return PackedMonth(month, History.pack_results(results) if results_blob is None else results_blob,
                           {m: None if a is None else _pack(a) for m, a in additions.items()}, rows)

    @staticmethod
    def pack_results(results: Mapping[str, Any]) -> bytes:
        """The month's results.json (without period additions) as the history keeps it: compact
        JSON, compressed."""
        return _pack(results)

    def store(self, results: Mapping[str, Any], additions: Mapping[str, dict | None], *,
              correction: dict | None = None, run_at: str | None = None, packed: "PackedMonth | None" = None) -> None:
        """Replace one month's results and update the period additions of the months given, inside
        the open transaction (see `transaction`).  `packed`: `pack(results, additions)` done before."""
        conn = self._writing("store")
        pol = results.get("policy", {})
        run_at = run_at or datetime.now(timezone.utc).isoformat(timespec="seconds")
        packed = packed or self.pack(results, additions)
        try:
            self._write_month(conn, pol, results, packed, correction, run_at)
        except DBAPIError as exc:   # a full disk while writing: the transaction is rolled back
            raise self._db.write_error(exc) from None

    def _write_month(self, conn, pol, results, packed: "PackedMonth", correction, run_at) -> None:
        month = packed.month
        conn.execute(delete(month_workers).where(month_workers.c.month == month))
        conn.execute(delete(months).where(months.c.month == month))
        conn.execute(insert(months).values(
            month=month, policy_id=str(pol.get("id", "")), policy_version=str(pol.get("version", "")),
            policy_hash=str(pol.get("hash", "")), policy_files=json.dumps(pol.get("files", []), ensure_ascii=False),
            inputs=json.dumps(results.get("inputs", {}), ensure_ascii=False, sort_keys=True),
            run_at=run_at, worker_count=len(results["workers"]), results=packed.results, period=None))
        self._db.bulk_insert(conn, month_workers, WORKER_COLUMNS, packed.worker_rows)
        for m, blob in packed.additions.items():
            conn.execute(update(months).where(months.c.month == m).values(period=blob))
        if correction is not None:
            conn.execute(insert(corrections).values(
                month=month, run_at=run_at, note=correction.get("note", ""),
                old_policy_hash=correction.get("old_policy_hash", ""), new_policy_hash=str(pol.get("hash", "")),
                summary=json.dumps(correction.get("summary", {}), ensure_ascii=False)))


@dataclass(frozen=True)
class PackedMonth:
    """A month as the store writes it: results.json and the period additions compressed, and the
    compact worker rows period rules read."""
    month: str
    results: bytes
    additions: dict[str, bytes | None]
    worker_rows: list[tuple]


class Transaction:
    """The open write transaction of `History.transaction`."""

    def __init__(self, history: History):
        self.history = history
        self.committed = False

    def commit(self) -> None:
        """Commit now (e.g. once every output is staged, before the files are moved into place).
        A commit that cannot reach the disk (a full disk, a lost server) raises HistoryError and
        leaves nothing written."""
        if self.committed:
            return
        fault("before_commit")
        self.history._commit()
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
