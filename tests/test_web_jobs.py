"""The job runner: jobs claimed by spawned worker processes with progress the page polls, failures kept
with their problems, jobs of a stopped server marked, and pages answered while a month runs."""
from __future__ import annotations

import time

import pytest

from engine.errors import DataError, Problem
from webkit import TOWN_A, TOWN_B, Client
from webkit import base, office, app  # noqa: F401  (fixtures)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_worker_process_runs_a_month_while_pages_answer(app, office):
    from engine.web.jobs import Runner

    for town, who in ((TOWN_A, "clerk_a"), (TOWN_B, "clerk_b")):
        c = Client(app, who)
        for k in ("workers", "metrics", "events"):
            assert c.upload("2026-10", k, office["towns"][town][k]).status_code == 303
    admin = Client(app, "admin")
    runner = Runner(app.state.web.settings.url, office["data"], workers=1)
    runner.start()
    try:
        jid = int(admin.post("/months/2026-10/run").headers["location"].rsplit("/", 1)[1])
        seen, slowest = set(), 0.0
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            t0 = time.monotonic()
            js = admin.get(f"/jobs/{jid}.json").json()
            page = admin.get("/results/2026-09")          # other work goes on meanwhile
            slowest = max(slowest, time.monotonic() - t0)
            assert page.status_code == 200
            seen.add(js["state"])
            if js["state"] in ("done", "failed"):
                break
            time.sleep(0.2)
        assert js["state"] == "done", js
        assert js["done"] == js["total"] == 68 and js["stage"] == "完成"
        assert "running" in seen or "queued" in seen
        assert slowest < 2.0, slowest
    finally:
        runner.stop()
    assert runner.alive() == 0
    assert "2026年10月考核结果" in admin.get("/results/2026-10").text


def test_failed_task_keeps_its_problems(app):
    from engine.web.jobs import run_one

    def broken(ctx, params):
        ctx.stage("检查", total=2)
        ctx.advance()
        raise DataError([Problem("a.csv", 3, "工号", "W9", "名册中已有的工号")])

    web = app.state.web
    jid = web.queue.submit(1, "broken", {"month": "2026-10"}, town=TOWN_A, user={"username": "clerk_a", "id": 2,
                                                                                   "office_id": 1})
    job = run_one(web.queue, web.data, "t", {"broken": broken})
    assert job.id == jid and job.state == "failed" and job.done == 1 and job.total == 2
    assert job.error["message"] == "数据文件有 1 处问题，未写入任何结果"
    assert job.error["problems"] == [{"file": "a.csv", "row": 3, "field": "工号", "found": "W9", "missing": False,
                                      "expected": "名册中已有的工号", "hint": "",
                                      "text": "a.csv:3 工号: 发现 'W9'，应为 名册中已有的工号"}]
    web.queue.submit(1, "nonesuch", {}, town=None, user={"username": "admin"})
    job = run_one(web.queue, web.data, "t", {})
    assert job.state == "failed" and "未知的任务种类 nonesuch" in job.error["message"]
    assert run_one(web.queue, web.data, "t", {}) is None


def test_internal_error_is_said_plainly(app):
    from engine.web.jobs import run_one

    def bug(ctx, params):
        raise ZeroDivisionError("division by zero")

    web = app.state.web
    web.queue.submit(1, "bug", {}, town=None, user={"username": "admin"})
    job = run_one(web.queue, web.data, "t", {"bug": bug})
    assert job.error["message"] == "程序内部错误（不是您的文件有误；之前的结果保持不变）：ZeroDivisionError: division by zero"
    page = Client(app, "admin").get(f"/jobs/{job.id}").text
    assert "未完成：程序内部错误" in page


def test_jobs_of_a_stopped_server_are_marked(app):
    web = app.state.web
    jid = web.queue.submit(1, "run_month", {"month": "2026-10"}, town=None, user={"username": "admin"})
    assert web.queue.claim("gone-worker").id == jid
    assert web.queue.recover() == 1
    job = web.queue.get(jid)
    assert job.state == "failed" and "服务在任务进行中停止" in job.error["message"]


def test_one_run_per_month_at_a_time(app, office):
    c = Client(app, "clerk_a")
    for k in ("workers", "metrics", "events"):
        c.upload("2026-10", k, office["towns"][TOWN_A][k])
    first = c.post("/months/2026-10/run", {"confirm_missing": "yes"}).headers["location"]
    again = Client(app, "admin").post("/months/2026-10/run", {"confirm_missing": "yes"}).headers["location"]
    assert first == again                       # the queued run is shown, not a second one queued


def test_roster_job(app, office):
    """The month's roster solved as a job; the papers page offers it to administrators and the print pack
    then uses it."""
    from sqlalchemy import update

    from engine.app.demo import DEMO_ROSTER
    from engine.web.jobs import run_one
    from engine.web.store import offices
    from engine.web.tasks import month_roster

    web = app.state.web
    admin = Client(app, "admin")
    assert "排出本月巡查排班" not in admin.get("/papers/2026-09").text
    assert admin.post("/papers/2026-09/roster").status_code == 409
    web.store.run(update(offices).values(roster_problem=str(DEMO_ROSTER)))
    assert "排出本月巡查排班" in admin.get("/papers/2026-09").text
    assert Client(app, "clerk_a").post("/papers/2026-09/roster").status_code == 403
    web.queue.submit(1, "roster", {"month": "2026-10", "key": "roster:2026-10", "time_limit": 3}, town=None,
                     user={"username": "admin"})
    job = run_one(web.queue, web.data, "t")
    assert job.state == "done", job.error
    assert job.result["broken"] == [] and job.result["rules"] > 0 and "roster.json" in job.result["files"]
    assert month_roster(web.data, web.store.office(1), "2026-10") == str(office["data"] / "rosters" / "2026-10")
    page = admin.get(f"/jobs/{job.id}").text
    assert "2026年10月巡查排班已排出" in page and "硬性规则全部校验通过" in page
