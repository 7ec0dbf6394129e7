"""The job queue on PostgreSQL (issue 15): procrastinate carries the web's jobs to `wangge worker`
processes, on the server's machine or others, and back to another worker when one dies mid-job.

procrastinate is used here only.  What stays in the web's `jobs` table (engine/web/jobs.py): the
job's parameters, its state, its progress the page polls, its result or located problems.  What
procrastinate adds: a job id deferred when the page submits (`Dispatch`), taken by exactly one
worker (its `procrastinate_jobs` row, locked FOR UPDATE SKIP LOCKED), the workers' heartbeats, and
the stalled jobs of a dead worker found and put back in the queue (`retry_stalled`).

A retried job is run again from the start, which is safe because every task's effect is made in one
step that either happened or did not: a month is stored in one history transaction (and a retry that
finds its month stored from its own inputs stores nothing again, engine/web/tasks.py), a print pack's
numbers are recorded with its files and a second issue of the month's notices takes the numbers
already given, a roster's folder is replaced whole.

    install_schema(connection)                 procrastinate's tables (web store revision 0003)
    Dispatch(url)(job_id)                      defer a submitted job (the web server's side)
    run_worker(url, data_dir, name=…)          `wangge worker`: run jobs until stopped
"""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from pathlib import Path

import procrastinate
from procrastinate import exceptions as pexc
from procrastinate.schema import SchemaManager

__all__ = ["QUEUE", "TASK", "install_schema", "conninfo", "Dispatch", "make_app", "run_worker", "retry_stalled"]

QUEUE = "wangge"
TASK = "wangge.web_job"
HEARTBEAT_SECONDS = 5.0       # a worker's heartbeat in procrastinate_workers
STALLED_SECONDS = 30.0        # a worker silent this long is dead; its job goes to another worker
CHECK_SECONDS = 10.0          # how often a worker looks for the stalled jobs of dead ones

log = logging.getLogger("wangge.worker")


def conninfo(url: str) -> str:
    """libpq's form of a store URL (SQLAlchemy's `postgresql+psycopg://` names the driver too)."""
    scheme, sep, rest = url.partition("://")
    return "postgresql://" + rest if sep and scheme.startswith("postgresql") else url


def install_schema(bind) -> None:
    """procrastinate's schema, in the migration's transaction (nothing when it is already there)."""
    raw = bind.connection.driver_connection           # psycopg: the script runs as it is, no parameters
    if raw.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()[0] is not None:
        return
    raw.execute(SchemaManager.get_schema())


def make_app(url: str) -> procrastinate.App:
    return procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(url)))


class Dispatch:
    """The web server's side: `dispatch(job_id)` defers the job to the workers (a connection of its
    own for each job: pages submit a few jobs an hour, and nothing stays open between them)."""

    def __init__(self, url: str):
        self.url = url

    def __call__(self, job_id: int) -> None:
        app = make_app(self.url)
        with app.open():
            app.configure_task(TASK, queue=QUEUE).defer(job_id=job_id)


def _register(app: procrastinate.App, url: str, data_dir: Path, name: str):
    from .jobs import JobQueue, run_job
    from .store import Store

    store = Store(url, migrate=False)
    queue = JobQueue(store)

    loop: list[asyncio.AbstractEventLoop] = []

    @app.task(name=TASK, queue=QUEUE, pass_context=True)
    def web_job(context, job_id: int) -> None:
        retry = (context.job.attempts or 0) > 0
        log.info("任务 %s 开始%s", job_id, "（重试）" if retry else "")
        try:
            run_job(queue, job_id, data_dir, f"{name}:{os.getpid()}", retry=retry)
        finally:
            if loop:
                loop[0].call_soon_threadsafe(_rearm_signals)

    return store, queue, loop


def _rearm_signals() -> None:
    """The roster solver (OR-Tools CP-SAT) catches SIGINT while it solves and leaves the default
    action behind, so Ctrl+C would then kill the worker instead of stopping it after its job: the
    handlers Python knows of are set again (in the main thread, after every job)."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        handler = signal.getsignal(sig)
        if handler is not None:
            signal.signal(sig, handler)


async def retry_stalled(app: procrastinate.App, queue, stalled: float = STALLED_SECONDS) -> list[int]:
    """Put back in the queue the jobs of workers silent for `stalled` seconds whose web job has not
    been touched for as long either (a worker whose heartbeat is late but whose task still reports
    progress is alive).  Returns the web job ids retried."""
    retried = []
    for job in await app.job_manager.get_stalled_jobs(queue=QUEUE, seconds_since_heartbeat=stalled):
        web_id = job.task_kwargs.get("job_id")
        age = await asyncio.to_thread(queue.heartbeat_age, web_id) if web_id is not None else None
        if age is not None and age < stalled:
            continue
        try:
            await app.job_manager.retry_job(job)
        except pexc.ConnectorException:     # another worker retried it first
            continue
        log.warning("任务 %s 的后台任务进程已停止，交给其他进程重新执行", web_id)
        retried.append(web_id)
    return retried


def run_worker(url: str, data_dir: str | Path, *, name: str | None = None, heartbeat: float = HEARTBEAT_SECONDS,
               stalled: float = STALLED_SECONDS, check: float = CHECK_SECONDS) -> None:
    """Run jobs one at a time until SIGINT or SIGTERM (the job in hand is finished first)."""
    name = name or f"{socket.gethostname()}"
    app = make_app(url)
    store, queue, loop = _register(app, url, Path(data_dir), name)

    async def main() -> None:
        loop.append(asyncio.get_running_loop())
        async with app.open_async():
            watcher = asyncio.create_task(_watch(app, queue, stalled, check))
            try:
                await app.run_worker_async(queues=[QUEUE], name=name, concurrency=1, wait=True,
                                           update_heartbeat_interval=heartbeat, stalled_worker_timeout=stalled,
                                           delete_jobs="successful")
            finally:
                watcher.cancel()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:         # Ctrl+C while starting or stopping: the job in hand was finished or never begun
        pass
    finally:
        store.close()


async def _watch(app: procrastinate.App, queue, stalled: float, check: float) -> None:
    while True:
        try:
            await retry_stalled(app, queue, stalled)
        except Exception:             # noqa: BLE001 - the database may be away for a moment; look again later
            log.exception("查找中断的任务失败")
        await asyncio.sleep(check)
