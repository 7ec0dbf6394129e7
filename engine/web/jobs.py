"""Background work: a jobs table, worker processes that take jobs from it, and progress the page polls.

Scoring a month, rendering a print pack and solving a roster take seconds to minutes, and both
scoring and PDF rendering start processes of their own; so they never run in a request.  A page
submits a job (one row in `jobs`) and shows its progress; `wangge serve` starts worker processes
(multiprocessing *spawn*: a fresh interpreter, no copy of the server's threads or open databases)
that claim queued jobs one at a time, run them and write their progress and outcome to the row.

The interface the pages use is small, so that another queue can stand behind it: with the web's
store on PostgreSQL, `JobQueue.submit` also hands the job to procrastinate (engine/web/pgqueue.py),
whose `wangge worker` processes, on this machine or others, run it by its id (`run_job`) and retry
it when a worker dies mid-job; the table stays where the job's state and progress are read.

    JobQueue.submit(office_id, kind, params, town=, user=) -> job id
    JobQueue.get(job_id) -> Job | None            JobQueue.recent(office_id, towns=, limit=) -> [Job]
    Runner(url, data_dir, workers=n).start() / .stop()
    TASKS[kind](ctx: JobContext, params) -> result dict   (engine/web/tasks.py)

A task reports progress through `ctx.stage(text, total)` and `ctx.advance(n)`; an EngineError it
raises becomes the job's located problems, anything else an internal error.  A job that was
running when the server stopped is marked failed at the next start (its work is atomic: a month
is stored whole or not at all), and can be submitted again.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from sqlalchemy import and_, select, update

from ..errors import EngineError, HistoryError, InfeasibleError, InputError
from .store import Store, jobs, now

__all__ = ["Job", "JobQueue", "JobContext", "Runner", "run_one", "problem_dict", "error_dict", "JOB_LABELS"]

JOB_LABELS = {"run_month": "运行本月考核", "print_pack": "生成打印材料", "roster": "排出本月巡查排班",
              "roster_town": "排出（或调整）排班",
              "policy_preview": "细则草稿试算", "correction": "申诉更正：重算月份", "correction_notice": "生成更正通知"}
POLL_SECONDS = 0.5            # an idle worker looks for work this often
WRITE_EVERY = 0.25            # progress is written at most this often (seconds)


@dataclass
class Job:
    id: int
    office_id: int
    kind: str
    params: dict
    town: str | None
    state: str
    done: int
    total: int
    stage: str
    result: dict | None
    error: dict | None
    created_by: str
    created_at: str
    started_at: str | None
    finished_at: str | None
    attempts: int = 1

    @property
    def label(self) -> str:
        return JOB_LABELS.get(self.kind, self.kind)

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")

    @property
    def percent(self) -> int:
        if self.state == "done":
            return 100
        return int(self.done * 100 / self.total) if self.total else 0

    def as_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "label": self.label, "state": self.state, "done": self.done,
                "total": self.total, "percent": self.percent, "stage": self.stage, "result": self.result,
                "error": self.error, "created_by": self.created_by, "created_at": self.created_at,
                "started_at": self.started_at, "finished_at": self.finished_at, "town": self.town,
                "params": self.params, "attempts": self.attempts}


def _job(row: dict) -> Job:
    return Job(row["id"], row["office_id"], row["kind"], json.loads(row["params"]), row["town"], row["state"],
               row["done"], row["total"], row["stage"], json.loads(row["result"]) if row["result"] else None,
               json.loads(row["error"]) if row["error"] else None, row["created_by"], row["created_at"],
               row["started_at"], row["finished_at"], row.get("attempts") or 0)


class JobQueue:
    """The jobs table as a queue.  `dispatch(job_id)`, when given, is told of every job submitted (the
    PostgreSQL queue defers it to the `wangge worker` processes); without it the server's own worker
    processes (`Runner`) take queued jobs from the table."""

    def __init__(self, store: Store, dispatch: Callable[[int], None] | None = None):
        self.store = store
        self.dispatch = dispatch

    def submit(self, office_id: int, kind: str, params: dict, *, town: str | None, user: dict, ip: str = "") -> int:
        with self.store.engine.begin() as c:
            jid = c.execute(jobs.insert().values(office_id=office_id, kind=kind, params=json.dumps(params, ensure_ascii=False),
                                                 town=town, state="queued", created_by=user["username"],
                                                 created_at=now())).inserted_primary_key[0]
            self.store.audit(user=user, action=f"job.{kind}", target=f"任务 {jid}", after=params, ip=ip, conn=c)
        if self.dispatch is not None:
            try:
                self.dispatch(jid)
            except Exception as exc:      # noqa: BLE001 - a job no worker will ever see must not stay queued
                self.fail(jid, {"message": f"任务未能交给后台任务进程（{type(exc).__name__}: {exc}），请稍后重新提交",
                                "kind": "internal", "problems": []})
        return jid

    def get(self, job_id: int) -> Job | None:
        row = self.store.one(select(jobs).where(jobs.c.id == job_id))
        return _job(row) if row else None

    def recent(self, office_id: int, towns: Iterable[str] | None = None, limit: int = 20,
               kind: str | None = None) -> list[Job]:
        q = select(jobs).where(jobs.c.office_id == office_id)
        if towns is not None:
            q = q.where(jobs.c.town.in_(list(towns)))
        if kind:
            q = q.where(jobs.c.kind == kind)
        return [_job(r) for r in self.store.all(q.order_by(jobs.c.id.desc()).limit(limit))]

    def active(self, office_id: int, kind: str, key: str) -> Job | None:
        """A queued or running job of this kind on the same thing (`params["key"]`), if any."""
        for j in self.recent(office_id, limit=50, kind=kind):
            if not j.finished and j.params.get("key") == key:
                return j
        return None

    # -- the worker's side

    def claim(self, worker: str) -> Job | None:
        with self.store.engine.begin() as c:
            row = c.execute(select(jobs.c.id).where(jobs.c.state == "queued").order_by(jobs.c.id).limit(1)).first()
            if row is None:
                return None
            stamp = now()
            got = c.execute(update(jobs).where(and_(jobs.c.id == row[0], jobs.c.state == "queued"))
                            .values(state="running", worker=worker, started_at=stamp, heartbeat=stamp,
                                    stage="开始", attempts=jobs.c.attempts + 1)).rowcount
        return self.get(row[0]) if got == 1 else None

    def claim_id(self, job_id: int, worker: str, *, retry: bool) -> Job | None:
        """Claim one job by its id (the PostgreSQL queue's workers).  A job left running is taken again
        only on a `retry` (its worker was found dead); a finished one never: None then."""
        states = ("queued", "running") if retry else ("queued",)
        stamp = now()
        got = self.store.run(update(jobs).where(and_(jobs.c.id == job_id, jobs.c.state.in_(states)))
                             .values(state="running", worker=worker, started_at=stamp, heartbeat=stamp, done=0, total=0,
                                     stage="开始" if not retry else "重新开始（上次执行中断）",
                                     attempts=jobs.c.attempts + 1)).rowcount
        return self.get(job_id) if got == 1 else None

    def heartbeat_age(self, job_id: int) -> float | None:
        """Seconds since the running job's worker last touched it (None: not running)."""
        row = self.store.one(select(jobs.c.state, jobs.c.heartbeat).where(jobs.c.id == job_id))
        if row is None or row["state"] != "running" or not row["heartbeat"]:
            return None
        import datetime as dt
        return (dt.datetime.now(dt.timezone.utc) - dt.datetime.fromisoformat(row["heartbeat"])).total_seconds()

    def report(self, job_id: int, *, done: int | None = None, total: int | None = None, stage: str | None = None) -> None:
        values: dict[str, Any] = {"heartbeat": now()}
        if done is not None:
            values["done"] = done
        if total is not None:
            values["total"] = total
        if stage is not None:
            values["stage"] = stage[:200]
        self.store.run(update(jobs).where(jobs.c.id == job_id).values(**values))

    def finish(self, job_id: int, result: dict) -> None:
        self.store.run(update(jobs).where(jobs.c.id == job_id).values(
            state="done", result=json.dumps(result, ensure_ascii=False, default=str), finished_at=now(), stage="完成"))

    def fail(self, job_id: int, error: dict) -> None:
        self.store.run(update(jobs).where(jobs.c.id == job_id).values(
            state="failed", error=json.dumps(error, ensure_ascii=False, default=str), finished_at=now(), stage="未完成"))

    def recover(self) -> int:
        """Jobs left running by a stopped server: failed, with a message saying so."""
        err = json.dumps({"message": "服务在任务进行中停止，任务未完成（已做的部分没有生效）；请重新提交"}, ensure_ascii=False)
        return self.store.run(update(jobs).where(jobs.c.state == "running").values(
            state="failed", error=err, finished_at=now(), stage="中断")).rowcount


class JobContext:
    """What a task gets: its office's data folder, the store, its job, and progress reporting."""

    def __init__(self, queue: JobQueue, job: Job, data_dir: Path):
        self.queue, self.job, self.data_dir, self.store = queue, job, Path(data_dir), queue.store
        self._done, self._total, self._last = 0, 0, 0.0

    def stage(self, text: str, total: int = 0) -> None:
        self._done, self._total = 0, total
        self.queue.report(self.job.id, done=0, total=total, stage=text)
        self._last = time.monotonic()

    def advance(self, n: int = 1) -> None:
        self._done += n
        t = time.monotonic()
        if t - self._last >= WRITE_EVERY or self._done >= self._total:
            self._last = t
            self.queue.report(self.job.id, done=self._done, total=self._total)

    def flush(self) -> None:
        """Write the progress not yet written (the page shows how far a failed job got)."""
        self.queue.report(self.job.id, done=self._done, total=self._total)


def problem_dict(p) -> dict:
    """A Problem for a page: its field said in the page's words (数据目录 -> 服务器上的数据目录…)."""
    from .words import field_word

    return {"file": p.file, "row": p.line, "field": field_word(p.field), "found": None if p.found is None else str(p.found),
            "missing": p.found is None or repr(p.found) == "（缺失）", "expected": p.expected, "hint": p.hint,
            "text": str(p)}


def error_dict(exc: BaseException) -> dict:
    """A task's failure as the page shows it: the message, the located problems, a code for hints."""
    if isinstance(exc, InputError):
        return {"message": f"{exc.kind}有 {len(exc.problems)} 处问题，未写入任何结果", "kind": type(exc).__name__,
                "problems": [problem_dict(p) for p in exc.problems]}
    if isinstance(exc, HistoryError):
        from .words import HINT_OF

        hint = HINT_OF.get(exc.code)
        return {"message": str(exc) + (f"；{hint}" if hint else ""), "code": exc.code, "kind": "HistoryError",
                "problems": [problem_dict(p) for p in exc.problems]}
    if isinstance(exc, InfeasibleError):
        return {"message": str(exc), "kind": "InfeasibleError", "explanation": list(exc.explanation), "problems": []}
    if isinstance(exc, EngineError):
        return {"message": str(exc), "kind": type(exc).__name__, "problems": []}
    return {"message": f"程序内部错误（不是您的文件有误；之前的结果保持不变）：{type(exc).__name__}: {exc}",
            "kind": "internal", "problems": [], "trace": traceback.format_exc(limit=8)}


def run_one(queue: JobQueue, data_dir: Path, worker: str, tasks: dict[str, Callable] | None = None) -> Job | None:
    """Claim one queued job and run it to its end in this process; the job, or None if none was queued."""
    job = queue.claim(worker)
    return None if job is None else _execute(queue, job, data_dir, tasks)


def run_job(queue: JobQueue, job_id: int, data_dir: Path, worker: str, *, retry: bool = False,
            tasks: dict[str, Callable] | None = None) -> Job | None:
    """Run the job `job_id` to its end in this process (a PostgreSQL queue worker); None if it was
    already taken or finished (a retry of a job whose worker finished it just before dying)."""
    job = queue.claim_id(job_id, worker, retry=retry)
    return None if job is None else _execute(queue, job, data_dir, tasks)


def _execute(queue: JobQueue, job: Job, data_dir: Path, tasks: dict[str, Callable] | None) -> Job | None:
    """Run a claimed job with its own office's data folder (the server's `data_dir` for an office
    without one) and history address: a county's job never reads or writes another county's."""
    from ..store.db import office_history
    from .deps import office_data

    if tasks is None:
        from .tasks import TASKS as tasks
    office = queue.store.office(job.office_id) or {}
    ctx = JobContext(queue, job, office_data(office, data_dir))
    beat = _Heartbeat(queue, job.id)
    beat.start()
    try:
        task = tasks.get(job.kind)
        if task is None:
            raise EngineError(f"未知的任务种类 {job.kind}")
        with office_history(office.get("database")):
            result = task(ctx, job.params)
        queue.finish(job.id, result or {})
    except BaseException as exc:      # noqa: BLE001 - a job's failure is recorded, the worker goes on
        ctx.flush()
        queue.fail(job.id, error_dict(exc))
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
    finally:
        beat.stop()
    return queue.get(job.id)


class _Heartbeat(threading.Thread):
    """Touches the running job's row every few seconds while a task runs without reporting."""

    def __init__(self, queue: JobQueue, job_id: int, every: float = 5.0):
        super().__init__(daemon=True)
        self.queue, self.job_id, self.every = queue, job_id, every
        self._stop_evt = threading.Event()

    def run(self) -> None:
        while not self._stop_evt.wait(self.every):
            try:
                self.queue.report(self.job_id)
            except Exception:     # noqa: BLE001 - a missed heartbeat is harmless
                pass

    def stop(self) -> None:
        self._stop_evt.set()


def _worker_main(url: str, data_dir: str, name: str, stop, parent: int) -> None:
    """A worker process: take jobs until told to stop or the server is gone."""
    store = Store(url, migrate=False)
    queue = JobQueue(store)
    try:
        while not stop.is_set():
            if os.getppid() != parent:      # the server died without telling us
                break
            try:
                job = run_one(queue, Path(data_dir), name)
            except KeyboardInterrupt:
                break
            if job is None:
                stop.wait(POLL_SECONDS)
    finally:
        store.close()


class Runner:
    """The worker processes of one server (spawned, so each starts clean)."""

    def __init__(self, url: str, data_dir: str | Path, workers: int = 1):
        self.url, self.data_dir, self.n = url, str(data_dir), max(1, workers)
        self.ctx = multiprocessing.get_context("spawn")
        self.stop_event = self.ctx.Event()
        self.procs: list = []

    def start(self) -> None:
        for i in range(self.n):
            # not daemonic: a worker starts processes of its own (scoring, PDF rendering)
            p = self.ctx.Process(target=_worker_main, name=f"wangge-worker-{i + 1}",
                                 args=(self.url, self.data_dir, f"{os.getpid()}-{i + 1}", self.stop_event, os.getpid()),
                                 daemon=False)
            p.start()
            self.procs.append(p)

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        for p in self.procs:
            p.join(timeout)
            if p.is_alive():
                p.terminate()
                p.join(2)
        self.procs = []

    def alive(self) -> int:
        return sum(1 for p in self.procs if p.is_alive())
