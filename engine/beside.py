"""Work in a forked process beside this one (a large month's reading and writing on two cores).

Used by engine/inputs.py (the register and metrics sheet read while the event log is) and engine/app/month.py
(results.csv, findings.csv and the history's compressed results written while period rules run,
then the pay sheet while results.json is written).
"""
from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import threading
from typing import Any, Callable

__all__ = ["beside"]


class beside:
    """`work()` in a forked process beside this one when the caller says it is worth it (`parallel`:
    a large month), on a machine with two cores or more, when this process has no other threads (a
    fork copies only the calling thread; a server's request threads work in one process); otherwise
    right here.  `wait()` returns when it is done, with what it returned (it must pickle; again on
    a second call), and raises what it raised; leaving the `with` block without waiting (the run
    failed meanwhile) stops it.

    The child inherits the month (no copy: fork, with the heap frozen for the collector so that
    pages stay shared), writes its files (into a staging folder) or works out a value, sends back
    only its value or exception, and leaves with os._exit: it never touches the parent's database
    connection."""

    def __init__(self, work: Callable[[], Any], *, parallel: bool, doing: str):
        self.proc = None
        self.value: Any = None
        self.doing = doing                  # what the child does, to say so if it dies
        if not parallel or (os.cpu_count() or 1) < 2 or threading.active_count() > 1:
            self.value = work()
            return

        ctx = multiprocessing.get_context("fork")
        self.recv, send = ctx.Pipe(duplex=False)

        def child() -> None:
            gc.disable()
            try:
                value, outcome = work(), None
            except BaseException as exc:  # noqa: BLE001 - sent to the parent, raised there
                value, outcome = None, exc
            try:
                send.send_bytes(pickle.dumps((outcome, value)))
            except Exception:  # noqa: BLE001 - an exception that does not pickle
                send.send_bytes(pickle.dumps((RuntimeError(repr(outcome)), None)))
            os._exit(0)

        gc.freeze()
        try:
            self.proc = ctx.Process(target=child, daemon=True)
            self.proc.start()
        except BaseException:
            gc.unfreeze()
            raise
        send.close()

    def __enter__(self) -> "beside":
        return self

    def __exit__(self, *_exc) -> None:
        self._stop()

    def wait(self) -> Any:
        if self.proc is None:
            return self.value
        try:
            try:
                outcome, value = pickle.loads(self.recv.recv_bytes())
            except EOFError:
                self.proc.join()
                raise RuntimeError(f"{self.doing}的子进程意外退出（退出码 {self.proc.exitcode}）") from None
            self.proc.join()
        finally:
            self._stop()
        if outcome is not None:
            raise outcome
        self.value = value           # (a second wait gives it again)
        return value

    def _stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.is_alive():
            self.proc.terminate()
        self.proc.join()
        self.proc = None
        self.recv.close()
        gc.unfreeze()
