"""The web's store: Alembic makes exactly the tables store.py declares, and opening again migrates nothing."""
from __future__ import annotations

from sqlalchemy import inspect


def test_migrations_make_the_declared_schema(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from engine.web.store import Store, current_revision, default_url, metadata

    store = Store(default_url(tmp_path))
    with store.engine.connect() as c:
        assert compare_metadata(MigrationContext.configure(c), metadata) == []
    assert current_revision(store.engine) == "0003"
    names = set(inspect(store.engine).get_table_names())
    assert {"offices", "users", "sessions", "login_attempts", "audit_log", "mappings", "uploads", "town_checks",
            "jobs"} <= names
    store.close()
    again = Store(default_url(tmp_path))          # a second open finds the schema current
    assert current_revision(again.engine) == "0003"
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
    assert current_revision(again.engine) == "0003"
    again.close()
