"""A run either does everything or nothing, and says truthfully which: folders that cannot take the
outputs and a full disk under the history are found before anything is recorded."""
from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.history import History
from engine.notices.settings import DEFAULT_SETTINGS

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures" / "notices"
POLICY = ROOT / "rules" / "chengguan.yaml"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def run_month(data, out, month="2026-10", *extra):
    return run("run", "--policy", POLICY, "--month", month, "--workers", FIX / "workers.csv", "--metrics",
               FIX / "metrics.csv", "--events", FIX / "events.csv", "--data", data, "--out", out, *extra)


@pytest.fixture()
def september(tmp_path):
    r = run_month(tmp_path / "data", tmp_path / "2026-09", "2026-09", "--no-print")
    assert r.exit_code == 0, r.output
    return tmp_path / "data"


def state(data: Path):
    with History(data, create=False) as h:
        return [i.month for i in h.months()], h.number_register()


def test_a_print_folder_that_cannot_take_files_stops_the_run_before_anything_is_stored(september, tmp_path):
    out = tmp_path / "2026-10"
    out.mkdir()
    (out / "print").write_text("不是文件夹", encoding="utf-8")      # where the print pack should go
    before = state(september)
    r = run_month(september, out, "2026-10", "--office", DEFAULT_SETTINGS, "--format", "html", "--issue")
    assert r.exit_code == 2, r.output
    assert "未写出任何结果" in r.output and f"{out / 'print'}" in r.output and "输出文件夹和历史库均未改动" in r.output
    assert state(september) == before                       # neither the month nor its numbers
    assert sorted(p.name for p in out.iterdir()) == ["print"] and not list(out.glob("*.json"))


def test_a_read_only_print_folder_stops_the_run_before_anything_is_stored(september, tmp_path, monkeypatch):
    out = tmp_path / "2026-10"
    (out / "print").mkdir(parents=True)
    real = os.access
    # tests run as root, for whom chmod does not deny: deny writing into the print folder the way
    # the kernel would for a clerk's account
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if Path(p) == out / "print" else real(p, mode, **kw))
    before = state(september)
    r = run_month(september, out, "2026-10", "--office", DEFAULT_SETTINGS, "--format", "html", "--issue")
    assert r.exit_code == 2, r.output
    assert "没有写入权限" in r.output and "输出文件夹和历史库均未改动" in r.output
    assert state(september) == before
    assert not list(out.glob("*.json")) and not any((out / "print").iterdir())


def test_a_full_disk_under_the_history_is_a_clear_error_and_changes_nothing(tmp_path, monkeypatch):
    from engine.demo import generate, month_list
    from engine.policy import load_policy

    paths = generate(load_policy(POLICY).for_month("2026-10"), tmp_path / "in", "town", month_list("2026-09", 2))
    data = tmp_path / "data"

    def month(m):   # the demo town: 68 workers, a month's rows take many new pages
        return run("run", "--policy", POLICY, "--month", m, "--workers", paths["workers"], "--metrics",
                   paths["metrics"], "--events", paths["events"], "--data", data, "--out", tmp_path / m, "--no-print")
    assert month("2026-09").exit_code == 0
    connect = History._connect

    def full(self, where):   # the database file may not grow by a single page: SQLite's "disk full"
        connect(self, where)
        if where != ":memory:":
            pages = self.db.execute("PRAGMA page_count").fetchone()[0]
            self.db.execute(f"PRAGMA max_page_count = {pages}")

    monkeypatch.setattr(History, "_connect", full)
    before = (data / "history.sqlite3").read_bytes()
    r = month("2026-10")
    assert r.exit_code == 2, r.output
    assert "历史库" in r.output and "磁盘空间不足" in r.output and "本次未写入任何内容" in r.output
    assert "程序内部错误" not in r.output
    assert (data / "history.sqlite3").read_bytes() == before
    assert not (tmp_path / "2026-10").exists()
    monkeypatch.undo()
    assert state(data)[0] == ["2026-09"]


def test_a_second_run_waits_for_the_first_and_says_so(september, tmp_path):
    # Another run holds the write lock; this one waits (and says so) until it is released.
    import threading

    other = sqlite3.connect(september / "history.sqlite3", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    timer = threading.Timer(1.5, lambda: other.execute("COMMIT"))
    timer.start()
    try:
        r = run_month(september, tmp_path / "2026-10", "2026-10", "--no-print")
    finally:
        timer.join()
        other.close()
    assert r.exit_code == 0, r.output
    assert "另一次运行正在写入同一个历史库，等它完成后继续" in r.output
    assert state(september)[0] == ["2026-09", "2026-10"]


def test_outputs_left_by_a_killed_run_are_cleaned_by_the_next(september, tmp_path):
    out = tmp_path / "2026-10"
    stale = out / ".wangge-staging-abc123"
    stale.mkdir(parents=True)
    (stale / "results.json").write_text("{}", encoding="utf-8")
    r = run_month(september, out, "2026-10", "--no-print")
    assert r.exit_code == 0, r.output
    assert not stale.exists() and (out / "results.json").exists()
    shutil.rmtree(out)
