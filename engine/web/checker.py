"""Checking policy texts for the pages, in a helper process.

A check runs the policy's worked examples, and scoring compiles every policy it meets into a
durable_rules ruleset that lives as long as its process: a server that checked each keystroke of
an editor in its own process would keep every draft it ever saw.  So checks run in one spawned
helper process that is replaced after `RECYCLE` checks, and a request thread only waits for the
answer (a check of a county policy with its examples takes a fraction of a second once the helper
is warm).
"""
from __future__ import annotations

import threading
from concurrent.futures import ProcessPoolExecutor, TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context

__all__ = ["Checker", "check_text"]

RECYCLE = 40            # checks before the helper process is replaced (its rulesets freed)
TIMEOUT = 90.0          # seconds a check may take (a first check starts the helper: a second or two)


def check_text(text: str, name: str, policy_id: str | None) -> dict:
    """In the helper: the check as plain data, with the policy as the office reads it when it loads."""
    from ..app.policy_versions import check_policy_text
    from ..app.policy_view import policy_view

    got = check_policy_text(text, name, policy_id=policy_id)
    out = got.as_dict()
    out["problem_objects"] = got.problems
    out["mismatch_objects"] = got.mismatches
    out["view"] = policy_view(got.policy) if got.policy is not None else None
    return out


class Checker:
    def __init__(self):
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"),
                                                 max_tasks_per_child=RECYCLE)
            return self._pool

    def check(self, text: str, name: str, policy_id: str | None = None) -> dict:
        for attempt in (1, 2):
            pool = self._executor()
            fut = pool.submit(check_text, text, name, policy_id)
            try:
                return fut.result(timeout=TIMEOUT)
            except BrokenProcessPool:     # the helper died (killed, out of memory): a new one, once
                with self._lock:
                    if self._pool is pool:
                        self._pool = None
                if attempt == 2:
                    raise
            except FutureTimeout:
                fut.cancel()
                raise RuntimeError("检查考核细则超时") from None
        raise AssertionError("unreachable")

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None
