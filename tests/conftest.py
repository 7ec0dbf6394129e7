"""Shared fixtures: paths to presets and a tiny policy/data factory."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "rules"
FIXTURES = ROOT / "tests" / "fixtures"
sys.path.insert(0, str(ROOT / "tests"))


@pytest.fixture(scope="session")
def chengguan():
    from engine.policy import load_policy

    return load_policy(RULES / "chengguan.yaml").for_month("2026-10")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- history on both databases
#
# The history tests run twice: on the embedded SQLite file and on a real PostgreSQL server that this
# session starts (tests/pgserver.py, Debian's postgresql package; installed by scripts/install-system.sh).
# A server that cannot be started fails those tests loudly; a developer without PostgreSQL may set
# WANGGE_SKIP_POSTGRES=1 to skip them instead, or WANGGE_TEST_POSTGRES_URL=postgresql://… to use a
# server of their own (the tests create databases named wangge_test_* and drop them after each module).

BACKENDS = ("sqlite", "postgresql")
os.environ.pop("WANGGE_DATABASE", None)      # a developer's own history address never reaches the tests' histories
_DATABASES = __import__("itertools").count()     # test databases are numbered across the session


@pytest.fixture(scope="session")
def postgres_url():
    """The superuser URL of the session's PostgreSQL server."""
    given = os.environ.get("WANGGE_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    from pgserver import PostgresServer, PostgresUnavailable

    try:
        server = PostgresServer().start()
    except PostgresUnavailable as exc:
        if os.environ.get("WANGGE_SKIP_POSTGRES") == "1":
            pytest.skip(f"PostgreSQL 测试服务器无法启动（WANGGE_SKIP_POSTGRES=1，跳过）：{exc}")
        pytest.fail(f"PostgreSQL 测试服务器无法启动：{exc}\n"
                    "历史库的测试须在 PostgreSQL 上也运行；开发者没有 PostgreSQL 时可设 WANGGE_SKIP_POSTGRES=1 跳过。",
                    pytrace=False)
    try:
        yield server.url
    finally:
        server.stop()


class Histories:
    """Where the tests' histories live on one backend: a data folder of a test maps to its own
    database (SQLite: the folder's history.sqlite3; PostgreSQL: a new database per folder).

        db(path, **kw)      History of that folder          db.args(path)   ["--database", url] or []
        db.url(path)        its URL (None: the default)     db.copy(a, b)   folder and database copied
        db.sql(path, stmt)  run one SQL statement on it     db.kind         "sqlite" / "postgresql"
    """

    def __init__(self, kind: str, admin_url: str | None = None):
        self.kind = kind
        self.admin_url = admin_url
        self.urls: dict[str, str] = {}
        self.created: list[str] = []

    def __call__(self, path, **kw):
        from engine.history import History

        return History(path, database=self.url(path), **kw)

    def url(self, path) -> str | None:
        if self.kind == "sqlite":
            return None
        key = str(path)
        if key not in self.urls:
            self.urls[key] = self._create()
        return self.urls[key]

    def where(self, path) -> str:
        """The history as messages name it: the SQLite file, or the URL without its password."""
        from engine.store import display_url

        url = self.url(path)
        return display_url(url) if url else str(Path(path) / "history.sqlite3")

    def args(self, path) -> list[str]:
        url = self.url(path)
        return ["--database", url] if url else []

    def _admin(self, stmt: str) -> None:
        import psycopg

        for attempt in range(50):     # CREATE … TEMPLATE waits for the last connection to the source to close
            try:
                with psycopg.connect(self.admin_url, autocommit=True) as conn:
                    conn.execute(stmt)
                return
            except psycopg.errors.ObjectInUse:
                if attempt == 49:
                    raise
                import time
                time.sleep(0.1)

    def _create(self, template: str | None = None) -> str:
        from sqlalchemy.engine import make_url

        name = f"wangge_test_{os.getpid()}_{next(_DATABASES)}"
        self._admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        self.created.append(name)
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def copy(self, src, dst) -> None:
        import shutil
        from sqlalchemy.engine import make_url

        if Path(src).exists():
            shutil.copytree(src, dst)
        if self.kind == "postgresql":
            self.urls[str(dst)] = self._create(template=make_url(self.url(src)).database)

    def sql(self, path, stmt: str, params: dict | None = None):
        """Run one statement on the test's database, outside the program (a test arranging a state)."""
        import sqlalchemy as sa

        url = self.url(path) or f"sqlite:///{Path(path) / 'history.sqlite3'}"
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        try:
            with engine.begin() as conn:
                result = conn.execute(sa.text(stmt), params or {})
                return result.all() if result.returns_rows else None
        finally:
            engine.dispose()

    def drop_all(self) -> None:
        """Drop the module's databases (each is a copy of template1, several MB: a session makes
        hundreds); FORCE ends connections a test left open."""
        if self.kind == "postgresql":
            for name in self.created:
                self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            self.created.clear()


@pytest.fixture(scope="module", params=BACKENDS)
def db(request):
    """The history's backend for the tests of a module (each test module runs on both)."""
    if request.param == "sqlite":
        yield Histories("sqlite")
        return
    hs = Histories("postgresql", request.getfixturevalue("postgres_url"))
    yield hs
    hs.drop_all()


@pytest.fixture(scope="module")
def pg(postgres_url):
    """PostgreSQL alone, for what only a server has (pg_dump, many processes making one schema)."""
    hs = Histories("postgresql", postgres_url)
    yield hs
    hs.drop_all()


@pytest.fixture(scope="session")
def notices_root(tmp_path_factory):
    """History with September and October 2026 of tests/fixtures/notices (scored by `wangge run`
    under rules/chengguan.yaml, outputs in <root>/2026-MM) and a small solved roster of the same people and grids (<root>/roster)."""
    from click.testing import CliRunner

    from engine.cli import main

    def run(*args):
        r = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
        assert r.exit_code == 0, r.output

    root = tmp_path_factory.mktemp("notices")
    fix = FIXTURES / "notices"
    for month in ("2026-09", "2026-10"):
        run("run", "--policy", RULES / "chengguan.yaml", "--month", month, "--workers", fix / "workers.csv",
            "--metrics", fix / "metrics.csv", "--events", fix / "events.csv", "--data", root / "data",
            "--out", root / month, "--no-print")
    run("roster", "--problem", fix / "roster", "--out", root / "roster", "--time-limit", "3", "--deterministic")
    return root
