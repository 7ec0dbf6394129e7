"""Two months stored at once on one data folder lose nothing: what they store is what a serial run
stores, whether the two runs are processes (two clerks' commands) or threads (a server's requests).

The policy's period rules make the months depend on each other: May's 连续两个月排名末位 reads April's
ranking (in the demo town W0027 is last in both), so a run of May that read history before April was
committed (and wrote after it) would lose a withholding.  The history's write transaction now spans
the reads.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from engine.app.month import MonthFiles, run_month
from engine.demo import generate, month_list
from engine.history import History
from engine.policy import load_policy

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "tests" / "fixtures" / "history" / "policy" / "chengguan-periods.yaml"
MONTHS = month_list("2026-01", 5)
PAIR = ("2026-04", "2026-05")


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """The demo town's inputs for January-May and a history holding January-March."""
    root = tmp_path_factory.mktemp("concurrent")
    paths = generate(load_policy([POLICY]).for_month("2026-10"), root / "in", "town", MONTHS)
    files = MonthFiles(str(paths["workers"]), str(paths["metrics"]), str(paths["events"]))
    for m in MONTHS[:3]:
        run_month((str(POLICY),), m, files, root / "data", root / "out" / m)
    serial = root / "serial"
    shutil.copytree(root / "data", serial)
    for m in PAIR:
        run_month((str(POLICY),), m, files, serial, root / "serial-out" / m)
    return root, files, stored(serial)


def stored(data: Path) -> dict:
    with History(data, create=False) as h:
        return {m: h.month_results(m) for m in PAIR}


def test_the_serial_reference_withholds_pay_that_depends_on_the_month_before(base):
    # Otherwise the test below could not see a lost withholding.
    _root, _files, ref = base
    may = ref["2026-05"]["workers"]
    runs = [w for w in may if any(f["rule_id"] == "last_place_twice" and f["months"] == list(PAIR)
                                  for f in w["period_findings"])]
    assert [w["worker_id"] for w in runs] == ["W0027"] and runs[0]["withheld"] == "464.00"


def _cli(data: Path, month: str, files: MonthFiles, out: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("WANGGE_FAULT", None)
    return subprocess.Popen([sys.executable, "-m", "engine.cli", "run", "--policy", str(POLICY), "--month", month,
                             "--workers", files.workers, "--metrics", files.metrics, "--events", files.events,
                             "--data", str(data), "--out", str(out)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("trial", range(3))
def test_two_processes_storing_april_and_may_at_once_lose_nothing(base, tmp_path, trial):
    root, files, ref = base
    data = tmp_path / "data"
    shutil.copytree(root / "data", data)
    # alternate who starts first: either order must end in the serial result
    months = list(PAIR) if trial % 2 == 0 else list(reversed(PAIR))
    procs = [_cli(data, m, files, tmp_path / m) for m in months]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert stored(data) == ref


def test_two_threads_storing_april_and_may_at_once_lose_nothing(base, tmp_path):
    root, files, ref = base
    data = tmp_path / "data"
    shutil.copytree(root / "data", data)
    errors: list[BaseException] = []

    def run(m: str) -> None:
        try:
            run_month((str(POLICY),), m, files, data, tmp_path / m)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(m,)) for m in reversed(PAIR)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not errors
    assert stored(data) == ref
    # April's files are current whichever ran first (May's are re-evaluated in history when April is
    # stored after it, and the run says so)
    assert json.loads((tmp_path / "2026-04" / "results.json").read_text(encoding="utf-8")) == ref["2026-04"]
