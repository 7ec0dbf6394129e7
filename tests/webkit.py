"""A two-town office for the web tests: the demo town split into 鹤山镇 (4 communities) and 云门镇 (3),
each town's own register, metrics sheet and event log for 2026-10, September already stored, and one
account per role.  One worker's name carries markup, to show that pages print it as text."""
from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path

import pytest

from engine.app.demo import DEMO_OFFICE, DEMO_POLICY

TOWN_A, TOWN_B = "鹤山镇", "云门镇"
MARKUP_NAME = '<script>alert("x")</script>李四'
MARKUP_ID = "W0003"
ACCOUNTS = {  # username: (password, role, town)
    "admin": ("admin-pass-1", "admin", None),
    "clerk_a": ("clerk-a-pass", "clerk", TOWN_A),
    "clerk_b": ("clerk-b-pass", "clerk", TOWN_B),
    "finance": ("finance-pass", "finance", None),
    "auditor": ("auditor-pass", "auditor", None),
}


def _read(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def _write(path: Path, rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def build_office(root: Path) -> dict:
    """Files and a data folder with September stored; returns the paths."""
    from engine.app.month import MonthFiles, run_month
    from engine.demo import generate
    from engine.policy import load_policy
    from engine.web.auth import add_user
    from engine.web.store import Store, default_url

    policy = load_policy(str(DEMO_POLICY)).for_month("2026-10")
    src = generate(policy, root / "src", "town", ["2026-09", "2026-10"])
    workers = _read(src["workers"])
    head = workers[0]
    ti, ci, ni = head.index("乡镇"), head.index("社区"), head.index("姓名")
    communities = []
    for r in workers[1:]:
        if r[ci] not in communities:
            communities.append(r[ci])
    town_of = {}
    for r in workers[1:]:
        r[ti] = TOWN_A if communities.index(r[ci]) < 4 else TOWN_B
        if r[0] == MARKUP_ID:
            r[ni] = MARKUP_NAME
        town_of[r[0]] = r[ti]
    county = {"workers": _write(root / "county" / "workers.csv", workers)}
    metrics, events = _read(src["metrics"]), _read(src["events"])
    for r in metrics[1:]:
        if r[1] == MARKUP_ID:
            r[2] = MARKUP_NAME
    county["metrics"] = _write(root / "county" / "metrics.csv", metrics)
    county["events"] = _write(root / "county" / "events.csv", events)
    towns = {}
    for town in (TOWN_A, TOWN_B):
        d = root / "towns" / town
        towns[town] = {
            "workers": _write(d / "workers.csv", [head] + [r for r in workers[1:] if r[ti] == town]),
            "metrics": _write(d / "metrics.csv", [metrics[0]] + [r for r in metrics[1:]
                                                               if r[0] == "2026-10" and town_of[r[1]] == town]),
            "events": _write(d / "events.csv", [events[0]] + [r for r in events[1:]
                                                            if r[4].startswith("2026-10") and town_of[r[1]] == town]),
        }
    data = root / "data"
    data.mkdir()
    store = Store(default_url(data))
    office = store.add_office("测试县网格化服务管理中心", [str(DEMO_POLICY)], str(DEMO_OFFICE), None, unit="测试县网格中心")
    for username, (password, role, town) in ACCOUNTS.items():
        add_user(store, office_id=office, username=username, password=password, role=role, town=town)
    store.close()
    run_month((str(DEMO_POLICY),), "2026-09", MonthFiles(*(str(county[k]) for k in ("workers", "metrics", "events"))),
              data, data / "months" / "2026-09")
    return {"root": root, "data": data, "county": county, "towns": towns}


_SHARED: dict = {}


def shared_office(tmp_path_factory) -> dict:
    """One office built per test session (7 s), which tests copy (`copy_office`) and never change."""
    if "office" not in _SHARED:
        _SHARED["office"] = build_office(tmp_path_factory.mktemp("office"))
    return _SHARED["office"]


def copy_office(base: dict, to: Path) -> dict:
    shutil.copytree(base["root"], to, dirs_exist_ok=True)
    out = {"root": to, "data": to / "data"}
    out["county"] = {k: to / p.relative_to(base["root"]) for k, p in base["county"].items()}
    out["towns"] = {t: {k: to / p.relative_to(base["root"]) for k, p in fs.items()} for t, fs in base["towns"].items()}
    return out


CSRF_RX = re.compile(r'name="csrf" value="([^"]+)"')


class Client:
    """An in-process HTTP client logged in as one account."""

    def __init__(self, app, username: str | None = None, *, https: bool = False):
        from fastapi.testclient import TestClient

        self.app = app
        self.http = TestClient(app, follow_redirects=False, base_url="https://testserver" if https else "http://testserver")
        self.csrf = ""
        if username:
            r = self.login(username, ACCOUNTS[username][0])
            assert r.status_code == 303, r.text
            page = self.http.get("/")
            self.csrf = CSRF_RX.search(page.text).group(1)

    def login(self, username: str, password: str):
        page = self.http.get("/login")
        token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
        return self.http.post("/login", data={"username": username, "password": password, "login_token": token,
                                              "next": "/"})

    def get(self, url: str, **kw):
        return self.http.get(url, **kw)

    def post(self, url: str, data: dict | None = None, files=None, csrf: bool = True, **kw):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf", self.csrf)
        return self.http.post(url, data=data, files=files, **kw)

    def upload(self, month: str, kind: str, path: Path, town: str | None = None, name: str | None = None):
        data = {"kind": kind}
        if town:
            data["town"] = town
        with open(path, "rb") as fh:
            return self.post(f"/months/{month}/uploads", data, files={"file": (name or path.name, fh.read())})


def run_jobs(app) -> list:
    """Run every queued job in this process (the server's worker processes do this in production)."""
    from engine.web.jobs import run_one

    web = app.state.web
    done = []
    while True:
        job = run_one(web.queue, web.data, "test")
        if job is None:
            return done
        done.append(job)


# The fixtures of the in-process web tests: a module imports the ones it uses (a module that needs
# another app, on PostgreSQL or with other settings, defines its own).
@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """The two-town office with September stored, made once per test module."""
    return shared_office(tmp_path_factory)


@pytest.fixture()
def office(base, tmp_path):
    """A test's own copy of the office."""
    return copy_office(base, tmp_path / "o")


@pytest.fixture()
def app(office):
    """The office's web application on its SQLite web store; closed with its checker processes."""
    from engine.web.app import create_app

    a = create_app(data=office["data"])
    yield a
    a.state.web.close()
