"""The web's store: Alembic makes exactly the tables store.py declares, and opening again migrates nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import inspect


def test_migrations_make_the_declared_schema(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from engine.web.store import Store, current_revision, default_url, metadata

    store = Store(default_url(tmp_path))
    with store.engine.connect() as c:
        assert compare_metadata(MigrationContext.configure(c), metadata) == []
    assert current_revision(store.engine) == "0004"
    names = set(inspect(store.engine).get_table_names())
    assert {"offices", "users", "sessions", "login_attempts", "audit_log", "mappings", "uploads", "town_checks",
            "jobs"} <= names
    store.close()
    again = Store(default_url(tmp_path))          # a second open finds the schema current
    assert current_revision(again.engine) == "0004"
    again.close()


def test_downgrade_removes_everything(tmp_path):
    from alembic import command

    from engine.web.store import Store, _alembic_config, default_url

    store = Store(default_url(tmp_path))
    command.downgrade(_alembic_config(store.engine), "base")
    assert set(inspect(store.engine).get_table_names()) <= {"alembic_version"}
    store.close()


def test_audit_keeps_before_and_after(tmp_path):
    import json

    from sqlalchemy import select

    from engine.web.store import Store, audit_log, default_url

    store = Store(default_url(tmp_path))
    oid = store.add_office("县中心", ["rules/x.yaml"])
    store.audit(user={"id": 1, "username": "admin", "office_id": oid}, action="mapping.save", target="workers",
                before={"columns": {"a": "worker_id"}}, after={"columns": {"a": "name"}}, ip="127.0.0.1")
    row = store.one(select(audit_log))
    assert (row["username"], row["action"], row["office_id"], row["ip"]) == ("admin", "mapping.save", oid, "127.0.0.1")
    assert json.loads(row["before"]) == {"columns": {"a": "worker_id"}}
    assert json.loads(row["after"]) == {"columns": {"a": "name"}}
    store.close()


def test_the_same_schema_on_postgresql_with_the_job_queue(pg, tmp_path):
    """On PostgreSQL the revisions make the same tables, and 0003 adds procrastinate's queue beside them
    (opening again changes nothing)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from engine.web.store import Store, current_revision, metadata

    url = pg.url(tmp_path)
    store = Store(url)
    with store.engine.connect() as c:
        diff = compare_metadata(MigrationContext.configure(c), metadata)
    ours = [d for d in diff if not (isinstance(d, tuple) and "procrastinate" in str(getattr(d[1], "name", "")))]
    assert ours == [], ours
    assert {"procrastinate_jobs", "procrastinate_workers"} <= set(inspect(store.engine).get_table_names())
    store.close()
    again = Store(url)
    assert current_revision(again.engine) == "0004"
    again.close()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_towns_check_saved_by_many_at_once(kind, tmp_path, request):
    """Uploads of one town checked at once (clerks, or several server processes on one PostgreSQL):
    every save succeeds and one check remains (on PostgreSQL the old delete-then-insert failed with a
    duplicate key and the upload answered 500)."""
    import threading

    from engine.web.store import Store, default_url, town_checks

    url = default_url(tmp_path) if kind == "sqlite" else request.getfixturevalue("pg").url(tmp_path)
    store = Store(url)
    oid = store.add_office("x", ["p"])
    errors: list = []

    def save(i: int) -> None:
        for k in range(25):
            try:
                store.save_check(oid, "2026-10", "鹤山镇", [i, k], [{"text": f"{i}-{k}"}])
            except Exception as exc:      # noqa: BLE001 - counted below
                errors.append(exc)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rows = store.all(town_checks.select())
    assert len(rows) == 1 and rows[0]["town"] == "鹤山镇"
    store.close()


def test_processes_opening_a_new_server_store_at_once_make_it_once(pg, tmp_path):
    """Servers and workers started at once on a new PostgreSQL database: each opens it, one migrates."""
    import subprocess
    import sys
    from pathlib import Path

    from engine.web.store import Store, current_revision

    url = pg.url(tmp_path)
    code = f"from engine.web.store import Store\nStore({url!r}).close()"
    env = dict(__import__("os").environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    procs = [subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True, env=env) for _ in range(4)]
    assert [p.wait(120) for p in procs] == [0] * 4, [p.stderr.read()[-800:] for p in procs]
    store = Store(url, migrate=False)
    assert current_revision(store.engine) == "0004"
    store.close()
