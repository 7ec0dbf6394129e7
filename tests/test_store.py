"""The history's database layer (engine/store): URLs, migrations, locks, errors, backups and restores,
on SQLite and on a real PostgreSQL server (the `db` fixture runs each test on both)."""
from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "history"))
from build import month, rules, worker  # noqa: E402

from engine.app.month import record_month  # noqa: E402
from engine.cli import main  # noqa: E402
from engine.errors import HistoryError  # noqa: E402
from engine.history import SCHEMA_VERSION, DocNumber, History  # noqa: E402
from engine.store import database_url, display_url, history_folder, migrate, url_problem  # noqa: E402

R = rules()
LEGACY = Path(__file__).parent / "fixtures" / "history" / "legacy"


def store(hist, m, scores):
    return record_month(hist, month(m, [worker(f"W{i + 1}", s) for i, s in enumerate(scores)]),
                        rules_for=lambda _m: R, out_dir=None)


def cli(*args):
    r = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return r.exit_code, r.output


def everything(h: History) -> dict:
    return {"months": [i.month for i in h.months()], "results": {i.month: h.month_results(i.month) for i in h.months()},
            "corrections": h.corrections(), "numbers": h.number_register()}


# --------------------------------------------------------------------------- addresses


def test_the_default_address_is_the_sqlite_file_in_the_data_folder():
    assert database_url("data") == "sqlite:///data/history.sqlite3"
    assert database_url("/srv/wangge/data") == "sqlite:////srv/wangge/data/history.sqlite3"
    assert database_url("data", "postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url("data", "postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert history_folder("data") == Path("data")
    assert history_folder("data", "sqlite:////srv/h.sqlite3") == Path("/srv")
    assert history_folder("data", "postgresql://u@h/db") is None


def test_a_password_is_never_shown():
    assert display_url("postgresql+psycopg://clerk:s3cret@db:5432/wangge") == "postgresql://clerk:***@db:5432/wangge"


@pytest.mark.parametrize("url, why", [
    ("mysql://u@h/db", "不支持的数据库类型 mysql"),
    ("postgresql+psycopg2://u@h/db", "PostgreSQL 须用 psycopg 3 驱动"),
    ("sqlite://", "SQLite 历史库须给出文件路径"),
    ("not a url", "格式不对"),
])
def test_an_address_that_cannot_be_used_is_said_with_the_way_out(url, why):
    p = url_problem(url)
    assert p.field == "历史库" and p.hint == why
    assert p.expected == "sqlite:///路径/history.sqlite3 或 postgresql://用户@主机:端口/数据库名"
    with pytest.raises(HistoryError, match=why):
        History("data", database=url)


def test_a_server_that_does_not_answer_is_said_in_chinese():
    from pgserver import free_port
    url = f"postgresql://wangge@127.0.0.1:{free_port()}/wangge"      # nothing listens there
    with pytest.raises(HistoryError) as exc:
        History("data", database=url)
    assert str(exc.value) == (f"历史库 postgresql://wangge@127.0.0.1:{url.rsplit(':', 1)[1].split('/')[0]}/wangge "
                              "无法打开：无法连接数据库服务器（服务器没有启动，或地址、端口不对）")


def test_the_servers_errors_are_said_in_chinese():
    import psycopg.errors as pe
    from engine.store.postgres import reason
    assert reason(pe.DiskFull("could not extend file")) == "数据库服务器磁盘空间不足"
    assert reason(pe.LockNotAvailable("canceling statement due to lock timeout")) == "另一次运行正在写入历史库"
    assert reason(pe.InsufficientPrivilege("permission denied for table months")) == "数据库用户没有所需的权限"
    assert reason(pe.AdminShutdown("terminating connection")) == "数据库服务器正在关闭"
    assert reason(pe.OperationalError("something new")) == "something new"


# --------------------------------------------------------------------------- migrations


def test_the_revisions_form_one_line_named_by_their_ids():
    files = sorted((migrate.SCRIPTS / "versions").glob("*.py"))
    chain = migrate.revisions()
    assert [r for r, _ in chain] == [f.name[:4] for f in files] == [f"{i:04d}" for i in range(1, len(files) + 1)]
    assert [d for _, d in chain] == [None] + [r for r, _ in chain[:-1]]
    assert migrate.head() == chain[-1][0] and SCHEMA_VERSION == len(files)
    for f in files:   # every revision keeps schema_version in step (an older wangge refuses a newer database)
        assert f"UPDATE schema_version SET version = {int(f.name[:4])}" in f.read_text(encoding="utf-8")
        tree = ast.parse(f.read_text(encoding="utf-8"))
        assert any(isinstance(n, ast.FunctionDef) and n.name == "downgrade" for n in tree.body)


def test_the_tables_described_are_the_tables_the_migrations_make(tmp_path, db):
    # schema.py (what the queries use) and the revisions (what makes the tables) must agree
    import sqlalchemy as sa
    from engine.store.schema import metadata

    with db(tmp_path) as h:
        store(h, "2026-01", [95, 90, 85])
        engine = h._db.engine
        insp = sa.inspect(engine)
        for table in metadata.sorted_tables:
            got = {c["name"] for c in insp.get_columns(table.name)}
            assert got == {c.name for c in table.columns}, table.name
        assert {i["name"] for i in insp.get_indexes("doc_register")} >= {"doc_register_notice"}


def test_runs_opening_an_old_database_at_once_migrate_it_once(tmp_path):
    shutil.copy(LEGACY / "schema1.sqlite3", tmp_path / "history.sqlite3")
    errors, versions = [], []

    def open_it():
        try:
            with History(tmp_path) as h:
                versions.append(h.schema_version())
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and versions == [SCHEMA_VERSION] * 4


def test_processes_opening_a_new_server_database_at_once_make_the_schema_once(tmp_path, pg):
    # (SQLite: a new history is written whole by its first commit, test_history)
    db = pg
    url = db.url(tmp_path)
    code = f"from engine.history import History\nHistory('x', database={url!r}).close()"
    procs = [subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True) for _ in range(4)]
    assert [p.wait(60) for p in procs] == [0] * 4, [p.stderr.read() for p in procs]
    assert db.sql(tmp_path, "SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]


def test_upgrade_says_from_which_version(tmp_path, db):
    if db.kind == "sqlite":
        shutil.copy(LEGACY / "schema2.sqlite3", tmp_path / "history.sqlite3")
        code, out = cli("history", "upgrade", "--data", tmp_path)
        assert (code, out) == (0, f"历史库 {tmp_path / 'history.sqlite3'} 已从结构版本 2 升级到 {SCHEMA_VERSION}。\n")
    else:
        code, out = cli("history", "upgrade", *db.args(tmp_path))       # a new server database: the schema made
        assert (code, out) == (0, f"历史库 {db.where(tmp_path)} 已建立，结构版本为 {SCHEMA_VERSION}。\n")
    code, out = cli("history", "upgrade", "--data", tmp_path, *db.args(tmp_path))
    assert (code, out) == (0, f"历史库 {db.where(tmp_path)} 的结构版本为 {SCHEMA_VERSION}，已是最新。\n")


# --------------------------------------------------------------------------- one writer, numbers once


def test_the_same_number_given_by_two_runs_at_once_is_taken_once(tmp_path, db):
    with db(tmp_path) as h:
        store(h, "2026-01", [95, 90, 85])
    first_in, errors = threading.Event(), []

    def issue(title: str, wait: bool) -> None:
        try:
            with db(tmp_path) as h, h.transaction():
                h.insert_numbers([DocNumber("鹤网格", 2026, 15, "external", None, title, "2026-02-10",
                                            source="external")])
                first_in.set()
                if wait:
                    threading.Event().wait(0.5)     # hold the lock while the other run waits for it
        except HistoryError as exc:
            errors.append(exc)

    a = threading.Thread(target=issue, args=("关于开展消防安全排查的通知", True))
    a.start()
    first_in.wait(30)
    b = threading.Thread(target=issue, args=("另一份通知", False))
    b.start()
    a.join(60)
    b.join(60)
    [err] = errors
    assert "文号 鹤网格〔2026〕15号 已被占用" in str(err)
    assert "已用于《关于开展消防安全排查的通知》" in str(err.problems[0])
    with db(tmp_path) as h:
        assert [(r["number"], r["title"]) for r in h.number_register()] == [(15, "关于开展消防安全排查的通知")]


# --------------------------------------------------------------------------- backups and restores


def _history_with_numbers(db, data):
    with db(data) as h:
        store(h, "2026-01", [95, 90, 85])
        store(h, "2026-02", [95, 90, 86])
        h.issue_doc_numbers([DocNumber("鹤网格", 2026, 3, "bulletin", "2026-01", "2026年1月月度考核通报", "2026-02-03")])
        return everything(h)


def test_a_sqlite_backup_taken_during_a_run_restores_the_committed_history(tmp_path):
    data = tmp_path / "data"
    with History(data) as h:
        store(h, "2026-01", [95, 90, 85])
        store(h, "2026-02", [95, 90, 86])
        h.issue_doc_numbers([DocNumber("鹤网格", 2026, 3, "bulletin", "2026-01", "2026年1月月度考核通报", "2026-02-03")])
        before = everything(h)
    backup = tmp_path / "backup" / "history-2026-03-05.sqlite3"
    with History(data) as running, running.transaction():       # a run is writing March right now
        running.store(month("2026-03", [worker(f"W{i + 1}", s) for i, s in enumerate([90, 95, 95])]), {})
        code, out = cli("history", "backup", "--data", data, "--to", backup)
    assert (code, out) == (0, f"已备份到 {backup}：2 个月份（2026-01、2026-02）。\n")
    assert [i.month for i in History(data).months()] == ["2026-01", "2026-02", "2026-03"]
    # the restore: the backup file becomes the data folder's history.sqlite3
    restored = tmp_path / "restored"
    restored.mkdir()
    shutil.copy(backup, restored / "history.sqlite3")
    with History(restored, create=False) as h:
        assert everything(h) == before
        store(h, "2026-03", [90, 95, 95])                     # and work goes on from it


def test_a_server_history_is_backed_up_with_pg_dump_and_restored_with_pg_restore(tmp_path, pg):
    db = pg
    from pgserver import find_bindir
    from sqlalchemy.engine import make_url

    data = tmp_path / "data"
    before = _history_with_numbers(db, data)
    code, out = cli("history", "backup", "--data", data, *db.args(data), "--to", tmp_path / "x.sqlite3")
    assert code == 2 and "请用 pg_dump 备份" in out
    dump = tmp_path / "history.dump"
    r = subprocess.run([str(find_bindir() / "pg_dump"), "--format=custom", f"--file={dump}",
                        f"--dbname={db.url(data)}"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    with db(data) as h:                                          # work after the backup is lost by a restore
        store(h, "2026-03", [90, 95, 95])
    target = db.url(tmp_path / "restored")                       # a new, empty database
    r = subprocess.run([str(find_bindir() / "pg_restore"), "--no-owner", "--exit-on-error",
                        f"--dbname={target}", str(dump)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert make_url(target).database != make_url(db.url(data)).database
    with db(tmp_path / "restored", create=False) as h:
        assert everything(h) == before
        store(h, "2026-03", [90, 95, 95])
