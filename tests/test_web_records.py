"""A policy with daily and weekly records (rules/xunchai.yaml) run from the office's pages: the month page
asks for the records sheet beside the register and the metrics sheet, a town without one is told so,
and the month run from the uploads scores exactly as `wangge score` does on the same files."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from webkit import Client, run_jobs

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "rules" / "xunchai.yaml"
TOWN = "鹤山镇"
ACCOUNT = {"admin": ("admin-pass-1", "admin", None), "clerk_a": ("clerk-a-pass", "clerk", TOWN)}

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _october_only(src: Path, dst: Path, month_col: str | None = None, date_col: str | None = None) -> Path:
    """The demo's file cut to what a town sends for October (the records sheet keeps its weeks' days)."""
    rows = list(csv.reader(io.StringIO(src.read_text(encoding="utf-8-sig"))))
    head = rows[0]
    if month_col:
        i = head.index(month_col)
        rows = [head] + [r for r in rows[1:] if r[i] == "2026-10"]
    if date_col:
        i = head.index(date_col)
        rows = [head] + [r for r in rows[1:] if r[i] >= "2026-09-28"]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    dst.write_text(buf.getvalue(), encoding="utf-8")
    return dst


@pytest.fixture()
def office(tmp_path):
    from engine.demo import generate
    from engine.policy import load_policy
    from engine.web.auth import add_user
    from engine.web.store import Store, default_url

    policy = load_policy(str(POLICY)).for_month("2026-10")
    src = generate(policy, tmp_path / "src", "town", ["2026-09", "2026-10"])
    files = {"workers": src["workers"],
             "metrics": _october_only(src["metrics"], tmp_path / "metrics.csv", month_col="月份"),
             "records": _october_only(src["records"], tmp_path / "records.csv", date_col="日期")}
    data = tmp_path / "data"
    data.mkdir()
    store = Store(default_url(data))
    oid = store.add_office("测试县网格化服务管理中心", [str(POLICY)], str(ROOT / "reports" / "office.yaml"), None,
                           unit="测试县网格中心")
    for username, (password, role, town) in ACCOUNT.items():
        add_user(store, office_id=oid, username=username, password=password, role=role, town=town)
    store.close()
    return {"data": data, "files": files}


@pytest.fixture()
def app(office):
    from engine.web.app import create_app

    a = create_app(data=office["data"])
    yield a
    a.state.web.close()


def _client(app, username: str) -> Client:
    import webkit

    saved = dict(webkit.ACCOUNTS)
    webkit.ACCOUNTS.update(ACCOUNT)
    try:
        return Client(app, username)
    finally:
        webkit.ACCOUNTS.clear()
        webkit.ACCOUNTS.update(saved)


def test_the_month_page_asks_for_the_records_sheet_and_a_town_without_one_is_told(app, office):
    a = _client(app, "clerk_a")
    for k in ("workers", "metrics"):
        assert a.upload("2026-10", k, office["files"][k]).status_code == 303
    page = a.get("/months/2026-10").text
    assert "记录表" in page and 'href="/templates/records.xlsx?month=2026-10"' in page
    assert "上传本月的记录表" in page and "检查通过" not in page
    tpl = a.get("/templates/records.xlsx?month=2026-10")
    assert tpl.status_code == 200 and tpl.content[:2] == b"PK"
    r = a.post("/months/2026-10/run")
    assert r.status_code == 409 and f"{TOWN} 的数据还有问题" in r.text and run_jobs(app) == []
    assert a.upload("2026-10", "records", office["files"]["records"]).status_code == 303
    assert "检查通过" in a.get("/months/2026-10").text


def test_a_broken_record_is_said_at_its_row_of_the_clerks_file(app, office, tmp_path):
    a = _client(app, "clerk_a")
    rows = list(csv.reader(io.StringIO(office["files"]["records"].read_text(encoding="utf-8"))))
    rows[5][rows[0].index("结束时间")] = "07:00"          # before its start
    broken = tmp_path / "巡查记录.csv"
    with broken.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    for k in ("workers", "metrics"):
        a.upload("2026-10", k, office["files"][k])
    a.upload("2026-10", "records", broken)
    page = a.get("/months/2026-10").text
    assert "1 处问题" in page and "巡查记录.csv" in page and "结束时间" in page and "晚于开始时间" in page


def test_the_month_run_from_the_pages_scores_as_the_command_line_does(app, office, tmp_path):
    from engine.app.month import MonthFiles, Policies

    a = _client(app, "clerk_a")
    for k in ("workers", "metrics", "records"):
        assert a.upload("2026-10", k, office["files"][k]).status_code == 303
    r = a.post("/months/2026-10/run")
    assert r.status_code == 303 and r.headers["location"].startswith("/jobs/")
    (job,) = run_jobs(app)
    assert job.state == "done", job.error
    from engine.app.month import month_results

    web = month_results(office["data"], "2026-10")
    f = office["files"]
    res = Policies((str(POLICY),)).score("2026-10", MonthFiles(str(f["workers"]), str(f["metrics"]), None,
                                                                 no_events=True, records=str(f["records"])))[0]
    cli = {w["worker_id"]: (w["score"], w["pay"], len(w["findings"])) for w in res["workers"]}
    got = {w["worker_id"]: (w["score"], w["pay"], len(w["findings"])) for w in web["workers"]}
    assert got == cli and len(got) == 68
    assert any(f["rule_id"] == "patrol_half_day" for w in web["workers"] for f in w["findings"])


def test_a_platform_policy_with_event_stages_runs_from_the_pages_as_from_the_command_line(tmp_path):
    """rules/pingtai.yaml reads more of the event log than its three times: 受理时间 (a stage of its
    own), 问题编号 (the same problem again) and September's events (counted by the month they were
    reported or went late).  Combined from the town's upload, none of it may be lost."""
    from engine.app.month import MonthFiles, Policies, month_results
    from engine.demo import generate
    from engine.policy import load_policy
    from engine.web.app import create_app
    from engine.web.auth import add_user
    from engine.web.store import Store, default_url

    pingtai = ROOT / "rules" / "pingtai.yaml"
    src = generate(load_policy(str(pingtai)).for_month("2026-10"), tmp_path / "src", "town", ["2026-09", "2026-10"])
    head = src["events"].read_text(encoding="utf-8-sig").splitlines()[0]
    assert "受理时间" in head and "问题编号" in head
    metrics = _october_only(src["metrics"], tmp_path / "metrics.csv", month_col="月份")
    data = tmp_path / "data"
    data.mkdir()
    store = Store(default_url(data))
    oid = store.add_office("测试县网格化服务管理中心", [str(pingtai)], str(ROOT / "reports" / "office.yaml"), None,
                           unit="测试县网格中心")
    add_user(store, office_id=oid, username="clerk_a", password=ACCOUNT["clerk_a"][0], role="clerk", town=TOWN)
    store.close()
    app = create_app(data=data)
    try:
        a = _client(app, "clerk_a")
        for k, path in (("workers", src["workers"]), ("metrics", metrics), ("events", src["events"])):
            assert a.upload("2026-10", k, path).status_code == 303
        assert "检查通过" in a.get("/months/2026-10").text
        assert a.post("/months/2026-10/run").status_code == 303
        (job,) = run_jobs(app)
        assert job.state == "done", job.error
        assert "提示" not in a.get(f"/jobs/{job.id}").text
        # October's log alone: stored again, and the job's page says which rules miss September's events
        lines = src["events"].read_text(encoding="utf-8-sig").splitlines()
        col = lines[0].split(",").index("发现时间")
        alone = tmp_path / "events.csv"
        alone.write_text("\n".join([lines[0]] + [x for x in lines[1:] if x.split(",")[col] >= "2026-10"]) + "\n",
                         encoding="utf-8")
        assert a.upload("2026-10", "events", alone).status_code == 303
        assert a.post("/months/2026-10/run").status_code == 303
        (again,) = run_jobs(app)
        assert again.state == "done", again.error
        assert "提示：事件台账中没有2026年10月以前发现的事件" in a.get(f"/jobs/{again.id}").text
        assert a.upload("2026-10", "events", src["events"]).status_code == 303   # the full log again, compared below
        assert a.post("/months/2026-10/run").status_code == 303
        assert [j.state for j in run_jobs(app)] == ["done"]
        # the ranking has a column for the month's A-E grade (月度考核等次), each worker's as stored
        page = a.get("/results/2026-10").text
        assert "<th>月度考核等次</th>" in page
        stored = month_results(data, "2026-10")["workers"][0]
        (letter,) = [f["grade_label"] for f in stored["period_findings"] if f["rule_id"] == "monthly_grade"]
        row = page[page.index(f'/workers/{stored["worker_id"]}">{stored["worker_id"]}'):]
        assert f"<td>{letter}</td>" in row[:row.index("</tr>")]
    finally:
        app.state.web.close()
    web = month_results(data, "2026-10")
    res = Policies((str(pingtai),)).score("2026-10", MonthFiles(str(src["workers"]), str(metrics), str(src["events"])))[0]
    cli = {w["worker_id"]: (w["score"], w["pay"], [f["reason"] for f in w["findings"]]) for w in res["workers"]}
    got = {w["worker_id"]: (w["score"], w["pay"], [f["reason"] for f in w["findings"]]) for w in web["workers"]}
    assert got == cli
    rules = {f["rule_id"] for w in web["workers"] for f in w["findings"]}
    assert {"accept_late", "repeat_issue", "valid_report"} <= rules
