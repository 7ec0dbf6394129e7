"""A city centre's day (issue 15 item 4): two offices' month runs and a correction at the same time
lose nothing, each office its own history on the one server (PostgreSQL; SQLite: each its file).

Office A stores May while a correction of its April is made (W0027's April metrics corrected, which
takes away the withholding May's 连续两个月排名末位 gives him), and office B stores its May; three
processes at once.  Whatever order they take the locks in, each history must end as serial runs
leave it: April corrected, May evaluated with the corrected April.
"""
from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.app.month import MonthFiles, run_month
from engine.demo import generate, month_list
from engine.policy import load_policy

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "tests" / "fixtures" / "history" / "policy" / "chengguan-periods.yaml"
MONTHS = month_list("2026-01", 5)
WHO = "W0027"


def corrected_metrics(src: Path, dst: Path) -> Path:
    """W0027's April row given the values of W0001's April row (a worker far from last place)."""
    rows = list(csv.reader(io.StringIO(src.read_text(encoding="utf-8-sig"))))
    good = next(r for r in rows[1:] if r[0] == "2026-04" and r[1] == "W0001")
    for r in rows[1:]:
        if r[0] == "2026-04" and r[1] == WHO:
            r[3:] = good[3:]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    dst.write_text(buf.getvalue(), encoding="utf-8")
    return dst


def _cmd(db, data: Path, verb: str, month: str, files: MonthFiles, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "engine.cli", verb, "--policy", str(POLICY), "--month", month,
                             "--workers", files.workers, "--metrics", files.metrics, "--events", files.events,
                             "--data", str(data), *db.args(data), "--out", str(out), *extra],
                            env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _serial(db, data: Path, *steps) -> None:
    for proc in steps:
        p = proc()
        out = p.communicate(timeout=300)
        assert p.returncode == 0, out


def _state(db, data: Path) -> dict:
    """What an office's history holds: every month's results, and the corrections (without their times)."""
    with db(data, create=False) as h:
        months = {m.month: h.month_results(m.month) for m in h.months()}
        fixes = [(c["month"], c["note"]) for c in h.corrections()]    # its summary depends on the order
    return {"months": months, "corrections": fixes}


def _withheld(state: dict, month: str, who: str) -> str:
    return next(w["withheld"] for w in state["months"][month]["workers"] if w["worker_id"] == who)


@pytest.fixture(scope="module")
def city(tmp_path_factory, db):
    """Two offices (A, B), each with January-April stored in its own history; the serial reference."""
    root = tmp_path_factory.mktemp("city")
    paths = generate(load_policy([POLICY]).for_month("2026-10"), root / "in", "town", MONTHS)
    files = MonthFiles(str(paths["workers"]), str(paths["metrics"]), str(paths["events"]))
    fixed = MonthFiles(files.workers, str(corrected_metrics(Path(files.metrics), root / "in" / "metrics-fixed.csv")),
                       files.events)
    a = root / "A"
    for m in MONTHS[:4]:
        run_month((str(POLICY),), m, files, a, root / "out" / m, database=db.url(a))
    for name in ("B", "refA", "refB", "revA"):
        db.copy(a, root / name)
    ref_a, ref_b, rev_a = root / "refA", root / "refB", root / "revA"
    _serial(db, ref_a, lambda: _cmd(db, ref_a, "correct", "2026-04", fixed, root / "o1", "--note", "申诉 1"),
            lambda: _cmd(db, ref_a, "run", "2026-05", files, root / "o2"))
    _serial(db, ref_b, lambda: _cmd(db, ref_b, "run", "2026-05", files, root / "o3"))
    # the other serial order gives the same history: May first, then April's correction re-evaluates May
    _serial(db, rev_a, lambda: _cmd(db, rev_a, "run", "2026-05", files, root / "o4"),
            lambda: _cmd(db, rev_a, "correct", "2026-04", fixed, root / "o5", "--note", "申诉 1"))
    return root, files, fixed, _state(db, ref_a), _state(db, ref_b), _state(db, rev_a)


def test_the_reference_shows_the_correction_in_may(city):
    # Otherwise the concurrent test could not see a correction lost, or May evaluated without it.
    _root, _files, _fixed, ref_a, ref_b, rev_a = city
    assert _withheld(ref_b, "2026-05", WHO) != "0.00"          # uncorrected: last in April and May
    assert _withheld(ref_a, "2026-05", WHO) == "0.00"          # April corrected: not last twice
    assert len(ref_a["corrections"]) == 1 and ref_b["corrections"] == []
    assert rev_a["months"] == ref_a["months"] and rev_a["corrections"] == ref_a["corrections"]


@pytest.mark.parametrize("trial", range(2))
def test_two_offices_runs_and_a_correction_at_once_lose_nothing(city, tmp_path, db, trial):
    root, files, fixed, ref_a, ref_b, _rev = city
    a, b = tmp_path / "A", tmp_path / "B"
    db.copy(root / "A", a)
    db.copy(root / "B", b)
    starts = [lambda: _cmd(db, a, "run", "2026-05", files, tmp_path / "a5"),
              lambda: _cmd(db, a, "correct", "2026-04", fixed, tmp_path / "a4", "--note", "申诉 1"),
              lambda: _cmd(db, b, "run", "2026-05", files, tmp_path / "b5")]
    if trial % 2:
        starts.reverse()
    procs = [s() for s in starts]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outs
    assert _state(db, a) == ref_a
    assert _state(db, b) == ref_b


def test_a_database_server_killed_mid_run_leaves_the_history_as_before(tmp_path):
    """The PostgreSQL server dies (an immediate stop: no checkpoint, as at a power cut) while a run is
    inside its write transaction, worker rows written and not committed: the run stops with a
    message and no outputs, and the restarted server holds the history as before; the run, done
    again, stores the month."""
    import time

    import psycopg

    from engine.history import History
    from pgserver import PostgresServer

    server = PostgresServer().start()
    try:
        with psycopg.connect(server.url, autocommit=True) as conn:
            conn.execute('CREATE DATABASE "office"')
        url = server.url.rsplit("/", 1)[0] + "/office"
        paths = generate(load_policy([POLICY]).for_month("2026-10"), tmp_path / "in", "town", MONTHS[:2])
        files = MonthFiles(str(paths["workers"]), str(paths["metrics"]), str(paths["events"]))
        data = tmp_path / "data"
        run_month((str(POLICY),), "2026-01", files, data, tmp_path / "out" / "2026-01", database=url)

        def held() -> dict:
            with History(data, database=url, create=False) as h:
                return {m.month: h.month_results(m.month) for m in h.months()}

        before = held()
        flag = tmp_path / "inside-the-transaction"
        out = tmp_path / "out" / "2026-02"
        args = [sys.executable, "-m", "engine.cli", "run", "--policy", str(POLICY), "--month", "2026-02",
                "--workers", files.workers, "--metrics", files.metrics, "--events", files.events, "--data", str(data),
                "--database", url, "--out", str(out)]
        env = dict(os.environ, PYTHONPATH=str(ROOT), WANGGE_FAULT=f"before_commit:wait={flag}")
        proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 300
        while not flag.exists():
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        server.crash()
        flag.unlink()
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode not in (0, None), (stdout, stderr)
        assert "数据库服务器意外断开了连接" in stderr and "本次未写入任何内容" in stderr and "Traceback" not in stderr, stderr
        assert not (out / "results.json").exists()
        server.restart()
        assert held() == before
        env.pop("WANGGE_FAULT")
        again = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, again.stderr
        assert sorted(held()) == ["2026-01", "2026-02"]
    finally:
        server.stop()
