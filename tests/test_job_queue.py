"""The job queue on PostgreSQL (issue 15 item 3): the web's store on a real PostgreSQL server,
jobs deferred through procrastinate to `wangge worker` processes, progress on the page, and a job
whose worker is killed mid-job run again by another worker without its effects twice (a month
stored once, each document number given once, a roster folder whole)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from webkit import ACCOUNTS, TOWN_A, TOWN_B, Client, copy_office, shared_office

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return shared_office(tmp_path_factory)


@pytest.fixture()
def office(base, tmp_path, pg):
    """The two-town office with its web store on PostgreSQL (the history stays the data folder's)."""
    from engine.app.demo import DEMO_OFFICE, DEMO_POLICY, DEMO_ROSTER
    from engine.web.auth import add_user
    from engine.web.store import Store

    o = copy_office(base, tmp_path / "o")
    o["url"] = pg.url(tmp_path / "web")
    store = Store(o["url"])
    oid = store.add_office("测试县网格化服务管理中心", [str(DEMO_POLICY)], str(DEMO_OFFICE), None, unit="测试县网格中心",
                           roster_problem=str(DEMO_ROSTER))
    for username, (password, role, town) in ACCOUNTS.items():
        add_user(store, office_id=oid, username=username, password=password, role=role, town=town)
    store.close()
    yield o


@pytest.fixture()
def app(office):
    from engine.web.app import WebSettings, create_app

    a = create_app(WebSettings(data=office["data"], url=office["url"]))
    yield a
    a.state.web.store.close()


class Worker:
    """A worker process: `wangge worker`, or run_worker with short heartbeats for the kill tests."""

    def __init__(self, office: dict, *, quick: bool = False, name: str = "w"):
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        if quick:
            code = ("import sys; from engine.web.pgqueue import run_worker; "
                    "run_worker(sys.argv[1], sys.argv[2], name=sys.argv[3], heartbeat=0.5, stalled=3, check=0.5)")
            args = [sys.executable, "-c", code, office["url"], str(office["data"]), name]
        else:
            args = [sys.executable, "-m", "engine.cli", "worker", "--data", str(office["data"]), "--database", office["url"],
                    "--name", name]
        self.log = office["root"] / f"worker-{name}.log"
        self.proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=open(self.log, "wb"), stderr=subprocess.STDOUT)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def wait_for(app, jid: int, until, timeout: float = 180) -> dict:
    admin = Client(app, "admin")
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        js = admin.get(f"/jobs/{jid}.json").json()
        seen.append((js["state"], js["stage"], js["done"], js["total"]))
        if until(js):
            js["seen"] = seen
            return js
        time.sleep(0.2)
    raise AssertionError(f"job {jid} did not get there in {timeout} s: {seen[-5:]}")


class Served:
    """`wangge serve --database postgresql://…` as its own process on a free port, and a browser's
    session on it (httpx: the login form, the session cookie, the CSRF token of the pages)."""

    def __init__(self, office: dict):
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.log = office["root"] / "serve.log"
        self.proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "serve", "--data", str(office["data"]),
                                      "--database", office["url"], "--port", str(self.port)],
                                     env=dict(os.environ, PYTHONPATH=str(ROOT)), cwd=ROOT,
                                     stdout=open(self.log, "wb"), stderr=subprocess.STDOUT)

    def login(self, username: str):
        import httpx
        import re

        http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", follow_redirects=False, timeout=30)
        deadline = time.monotonic() + 120
        while True:
            try:
                page = http.get("/login")
                break
            except httpx.TransportError:
                assert self.proc.poll() is None and time.monotonic() < deadline, self.output()
                time.sleep(0.3)
        token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
        r = http.post("/login", data={"username": username, "password": ACCOUNTS[username][0], "login_token": token,
                                      "next": "/"})
        assert r.status_code == 303, r.text
        http.csrf = re.search(r'name="csrf" value="([^"]+)"', http.get("/").text).group(1)
        return http

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def test_serve_on_postgresql_hands_a_roster_to_a_worker(office):
    """The bar: `wangge serve --database postgresql://…` and a `wangge worker` process; the page submits
    the month's roster, the worker takes it from the queue, the page shows its stages, and the roster
    is checked rule by rule."""
    served = Served(office)
    w = None
    try:
        admin = served.login("admin")
        r = admin.post("/papers/2026-10/roster", data={"csrf": admin.csrf})
        assert r.status_code == 303, r.text
        jid = int(r.headers["location"].rsplit("/", 1)[1])
        time.sleep(1.0)
        assert admin.get(f"/jobs/{jid}.json").json()["state"] == "queued"      # no worker yet: it waits in the queue
        w = Worker(office)
        seen, deadline = [], time.monotonic() + 180
        while time.monotonic() < deadline:
            js = admin.get(f"/jobs/{jid}.json").json()
            seen.append(js["stage"])
            if js["state"] in ("done", "failed"):
                break
            time.sleep(0.2)
        assert js["state"] == "done", (js, w.output())
        assert js["result"]["broken"] == [] and js["result"]["rules"] > 0 and js["attempts"] == 1
        running = [stage for stage in seen if stage not in ("", "完成")]
        assert len(set(running)) >= 2, seen                 # the page followed the job's stages and the solver's progress
        assert (office["data"] / "rosters" / "2026-10" / "roster.json").is_file()
        page = admin.get(f"/jobs/{jid}").text
        assert "巡查排班已排出" in page and "硬性规则全部校验通过" in page
    finally:
        if w is not None:
            w.stop()
        served.stop()
    assert "交给 wangge worker 进程执行" in served.output()
    assert w.proc.returncode == 0 and "已停止" in w.output(), w.output()


def test_a_killed_workers_roster_is_finished_by_another(app, office):
    web = app.state.web
    jid = web.queue.submit(1, "roster", {"month": "2026-10", "key": "roster:2026-10", "time_limit": 12}, town=None,
                           user={"username": "admin", "id": 1, "office_id": 1})
    a = Worker(office, quick=True, name="a")
    try:
        wait_for(app, jid, lambda j: j["state"] == "running" and j["done"] > 0, timeout=120)    # the solver is at work
        a.kill()
    finally:
        a.stop()
    time.sleep(1.0)
    assert web.queue.get(jid).state == "running"             # nobody finished it: the page still shows it running
    assert not (office["data"] / "rosters" / "2026-10").exists()
    b = Worker(office, quick=True, name="b")
    try:
        js = wait_for(app, jid, lambda j: j["state"] in ("done", "failed"))
    finally:
        b.stop()
    assert js["state"] == "done", (js, b.output())
    assert js["attempts"] == 2 and js["result"]["broken"] == []
    assert any(stage.startswith("重新开始") for _s, stage, _d, _t in js["seen"]) or js["seen"][0][0] == "running"
    assert "交给其他进程重新执行" in b.output()
    folders = sorted(p.name for p in (office["data"] / "rosters").iterdir())
    assert folders == ["2026-10"], folders                  # no half-written or staging folder left beside it


def _upload_month(app, office) -> None:
    for town, who in ((TOWN_A, "clerk_a"), (TOWN_B, "clerk_b")):
        c = Client(app, who)
        for k in ("workers", "metrics", "events"):
            assert c.upload("2026-10", k, office["towns"][town][k]).status_code == 303


def _as_if_killed_after_its_work(web, jid: int) -> None:
    """The state a worker killed just after the job's effect and before marking it done leaves."""
    from sqlalchemy import update

    from engine.web.store import jobs

    web.store.run(update(jobs).where(jobs.c.id == jid).values(state="running", result=None, finished_at=None))


def test_a_retried_month_is_stored_once(app, office):
    """A month run whose worker died after the history's commit: the retry finds the month stored from
    its own inputs and stores nothing again (same run time, one audit line), and says so."""
    from engine.app.month import stored_months
    from engine.web.jobs import run_job

    from sqlalchemy import select

    from engine.web.store import audit_log

    web = app.state.web
    _upload_month(app, office)
    admin = Client(app, "admin")
    jid = int(admin.post("/months/2026-10/run").headers["location"].rsplit("/", 1)[1])
    first = run_job(web.queue, jid, web.data, "a")
    assert first.state == "done" and first.result["month"] == "2026-10"
    stored = {m.month: m.run_at for m in stored_months(office["data"])[0]}
    _as_if_killed_after_its_work(web, jid)
    again = run_job(web.queue, jid, web.data, "b", retry=True)
    assert again.state == "done" and again.attempts == 2 and again.result["stored_before_retry"] is True
    assert {m.month: m.run_at for m in stored_months(office["data"])[0]} == stored
    runs = web.store.all(select(audit_log).where(audit_log.c.action == "month.run"))
    assert len(runs) == 1, runs
    origins = json.loads((office["data"] / "inputs" / "2026-10" / f"run-{jid}" / "origins.json").read_text("utf-8"))
    assert origins["uploads"]
    # a job that finished is never run again, even if its queue entry comes back
    assert run_job(web.queue, jid, web.data, "c", retry=True) is None


def test_a_retried_issue_gives_each_number_once(app, office):
    """A print pack issued with numbers whose worker died after recording them: the retry prints the
    same numbers, and the register holds each once."""
    from engine.app.notices import number_register
    from engine.web.jobs import run_job

    web = app.state.web
    admin = Client(app, "admin")
    r = admin.post("/papers/2026-09/print", {"issue": "yes", "date": "2026-10-08", "formats": "html"})
    assert r.status_code == 303, r.text
    jid = int(r.headers["location"].rsplit("/", 1)[1])
    first = run_job(web.queue, jid, web.data, "a")
    assert first.state == "done", first.error
    issued = {k: v["text"] for k, v in first.result["numbers"].items() if not v["draft"]}
    assert issued, first.result["numbers"]
    register = number_register(office["data"])
    _as_if_killed_after_its_work(web, jid)
    again = run_job(web.queue, jid, web.data, "b", retry=True)
    assert again.state == "done" and again.attempts == 2
    assert {k: v["text"] for k, v in again.result["numbers"].items() if not v["draft"]} == issued
    assert again.result["issued"] == []                       # nothing newly given
    assert number_register(office["data"]) == register
    texts = [f"{r['prefix']}〔{r['year']}〕{r['number']}号" for r in register]
    assert len(texts) == len(set(texts)) == len(issued)


def test_worker_refuses_sqlite(office, tmp_path):
    from click.testing import CliRunner

    from engine.cli import main

    r = CliRunner().invoke(main, ["worker", "--data", str(office["data"]), "--database",
                                  f"sqlite:///{office['data'] / 'web.sqlite3'}"])
    assert r.exit_code == 2 and "只用于 PostgreSQL" in r.output


def test_the_web_on_a_countys_server_history(app, office, pg, tmp_path, monkeypatch):
    """With WANGGE_DATABASE the web and its workers keep the county's months on the server: the month
    run from the towns' uploads is stored there (the data folder's SQLite history is not touched),
    and the results page reads it back."""
    from engine.app.month import stored_months
    from engine.web.jobs import run_job

    history = pg.url(tmp_path / "history")
    before = (office["data"] / "history.sqlite3").read_bytes()
    monkeypatch.setenv("WANGGE_DATABASE", history)
    web = app.state.web
    _upload_month(app, office)
    admin = Client(app, "admin")
    jid = int(admin.post("/months/2026-10/run").headers["location"].rsplit("/", 1)[1])
    job = run_job(web.queue, jid, web.data, "a")
    assert job.state == "done", job.error
    assert [m.month for m in stored_months(office["data"], database=history)[0]] == ["2026-10"]
    assert (office["data"] / "history.sqlite3").read_bytes() == before
    assert "2026年10月考核结果" in admin.get("/results/2026-10").text
    monkeypatch.delenv("WANGGE_DATABASE")
    assert [m.month for m in stored_months(office["data"])[0]] == ["2026-09"]
