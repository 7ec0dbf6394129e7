"""The office in a browser, in-process: every page and API as the roles use them (tests/webkit.py
builds a two-town office with September stored)."""
from __future__ import annotations

import csv
import io
import json
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from webkit import ACCOUNTS, MARKUP_ID, MARKUP_NAME, TOWN_A, TOWN_B, Client, run_jobs
from webkit import base, office, app  # noqa: F401  (fixtures)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def upload_town(client: Client, office: dict, town: str, month: str = "2026-10", kinds=("workers", "metrics", "events")):
    for k in kinds:
        r = client.upload(month, k, office["towns"][town][k])
        assert r.status_code == 303, r.text


def run_october(app, office) -> None:
    a, b = Client(app, "clerk_a"), Client(app, "clerk_b")
    upload_town(a, office, TOWN_A)
    upload_town(b, office, TOWN_B)
    r = a.post("/months/2026-10/run")
    assert r.status_code == 303 and r.headers["location"].startswith("/jobs/")
    (job,) = run_jobs(app)
    assert job.state == "done", job.error


# --------------------------------------------------------------------------- login and sessions


def test_pages_need_a_session(app):
    c = Client(app)
    for url in ("/", "/months/2026-10", "/results/2026-09", "/results/2026-09/workers/W0001", "/papers/2026-09",
                "/users", "/audit", "/numbers", "/jobs/1", "/uploads/1", "/templates/workers.xlsx", "/account"):
        r = c.get(url)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), url
    assert c.get("/results/2026-09.json").status_code == 401
    assert c.get("/results/2026-09.json").json() == {"error": "未登录"}


def test_login_page_and_wrong_password(app):
    c = Client(app)
    r = c.get("/login")
    assert r.status_code == 200 and "<h1>登录</h1>" in r.text
    r = c.login("admin", "wrong-password")
    assert r.status_code == 401 and "用户名或密码不对" in r.text
    r = c.login("nobody", "whatever-pass")
    assert r.status_code == 401 and "用户名或密码不对" in r.text     # the same words: no probing for names
    r = c.login("admin", ACCOUNTS["admin"][0])
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert "县级管理员" in c.get("/").text


def test_login_redirects_only_within_the_site(app):
    from webkit import re

    c = Client(app)
    for nxt, expected in (("/results/2026-09", "/results/2026-09"), ("//evil.example/x", "/"),
                          ("https://evil.example/", "/"), ("/\\evil.example", "/")):
        page = c.get("/login")
        token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
        r = c.http.post("/login", data={"username": "admin", "password": ACCOUNTS["admin"][0], "login_token": token,
                                        "next": nxt})
        assert r.headers["location"] == expected, nxt


def test_logout_ends_the_session(app):
    c = Client(app, "admin")
    token = c.http.cookies.get("wangge_session")
    r = c.post("/logout")
    assert r.status_code == 303 and r.headers["location"] == "/login?msg=logged_out"
    c.http.cookies.set("wangge_session", token)
    assert c.get("/").status_code == 303          # the old cookie no longer opens anything


def test_change_password(app):
    c = Client(app, "clerk_a")
    r = c.post("/account", {"old": "wrong", "new": "new-password-1", "again": "new-password-1"})
    assert r.status_code == 400 and "原密码不对" in r.text
    r = c.post("/account", {"old": ACCOUNTS["clerk_a"][0], "new": "short", "again": "short"})
    assert r.status_code == 400 and "密码至少 8 个字符" in r.text
    r = c.post("/account", {"old": ACCOUNTS["clerk_a"][0], "new": "new-password-1", "again": "new-password-1"})
    assert r.status_code == 303
    assert c.get("/").status_code == 303                                   # logged out everywhere
    assert Client(app).login("clerk_a", "new-password-1").status_code == 303
    assert Client(app).login("clerk_a", ACCOUNTS["clerk_a"][0]).status_code == 401


# --------------------------------------------------------------------------- home and month


def test_home_lists_stored_months(app):
    r = Client(app, "admin").get("/")
    assert r.status_code == 200
    assert "2026年9月" in r.text and 'href="/results/2026-09"' in r.text and ">68<" in r.text


def test_upload_check_and_run_month(app, office):
    a = Client(app, "clerk_a")
    upload_town(a, office, TOWN_A)
    page = a.get("/months/2026-10").text
    assert "检查通过" in page and TOWN_B not in page            # a clerk's month page has their town only
    admin = Client(app, "admin").get("/months/2026-10").text
    assert TOWN_A in admin and TOWN_B in admin                  # the county sees every town (云门镇 from September)
    upload_town(Client(app, "clerk_b"), office, TOWN_B)
    r = a.post("/months/2026-10/run")
    job_url = r.headers["location"]
    assert "排队中" in a.get(job_url).text
    (job,) = run_jobs(app)
    assert job.state == "done"
    page = a.get(job_url).text
    assert "已存入2026年10月考核结果" in page and 'href="/results/2026-10"' in page
    js = a.get(job_url + ".json").json()
    assert js["state"] == "done" and js["percent"] == 100 and js["result"]["towns"] == [TOWN_B, TOWN_A]
    assert "new_workers" not in js["result"]                    # a clerk is not shown the county's lists
    full = Client(app, "admin").get(job_url + ".json").json()
    assert full["result"]["new_workers"] == [] and full["result"]["month"] == "2026-10"


def test_run_refused_while_a_town_has_problems(app, office):
    a = Client(app, "clerk_a")
    upload_town(a, office, TOWN_A, kinds=("workers",))
    r = a.post("/months/2026-10/run")
    assert r.status_code == 409 and f"{TOWN_A} 的数据还有问题" in r.text
    assert run_jobs(app) == []


def test_run_asks_before_leaving_out_a_town(app, office):
    a = Client(app, "clerk_a")
    upload_town(a, office, TOWN_A)
    r = a.post("/months/2026-10/run")
    assert r.status_code == 409 and "上月有、本月尚未上传数据的镇街：1 个" in r.text   # not named to a clerk
    r = Client(app, "admin").post("/months/2026-10/run")
    assert r.status_code == 409 and f"上月有、本月尚未上传数据的镇街：{TOWN_B}" in r.text
    r = a.post("/months/2026-10/run", {"confirm_missing": "yes"})
    assert r.status_code == 303
    (job,) = run_jobs(app)
    # the month without 云门镇's people: September's workers of 云门镇 are missing, which history allows
    assert job.state == "done", job.error


def test_broken_row_is_located_in_the_clerks_file(app, office, tmp_path):
    """A wage of 'abc' in row 5 of the clerk's register: the month page names file, row, column, value
    and what was expected, and marks the cell in the row as the clerk's file has it."""
    src = office["towns"][TOWN_A]["workers"]
    rows = list(csv.reader(io.StringIO(src.read_text(encoding="utf-8"))))
    wage = rows[0].index("月工资")
    rows[4][wage] = "abc"
    broken = tmp_path / "名册.csv"
    broken.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    a = Client(app, "clerk_a")
    a.upload("2026-10", "workers", broken)
    upload_town(a, office, TOWN_A, kinds=("metrics", "events"))
    page = a.get("/months/2026-10").text
    assert "1 处问题" in page
    assert f"{TOWN_A} 网格员名册（名册.csv）" in page
    assert ">第 5 行</a>" in page and "<td>月工资</td><td><code>abc</code></td>" in page
    assert "不小于 0、最多两位小数的金额（元）" in page
    assert '<td class="mark" title="此格有问题">abc</td>' in page
    uid = a.app.state.web.store.latest_uploads(1, "2026-10", [TOWN_A])[2]["id"]
    view = a.get(f"/uploads/{uid}?row=5").text
    assert '<tr id="r5" class="focus">' in view and '<td class="mark">abc</td>' in view


def test_problems_are_the_cli_s_problems(app, office, tmp_path):
    """The page lists the same Problem objects the CLI prints (engine/app/uploads.check_town_inputs)."""
    from engine.app.month import MonthFiles, Policies
    from engine.app.demo import DEMO_POLICY
    from engine.errors import DataError

    src = office["towns"][TOWN_A]["metrics"]
    text = src.read_text(encoding="utf-8").splitlines()
    cells = text[2].split(",")
    cells[3] = "many"
    text[2] = ",".join(cells)
    bad = tmp_path / "metrics.csv"
    bad.write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        Policies((str(DEMO_POLICY),)).read("2026-10", MonthFiles(str(office["towns"][TOWN_A]["workers"]), str(bad), None))
    a = Client(app, "clerk_a")
    upload_town(a, office, TOWN_A, kinds=("workers",))
    a.upload("2026-10", "metrics", bad)
    stored = a.app.state.web.store.checks(1, "2026-10")[TOWN_A]["problems"]
    assert [(p["row"], p["field"], p["expected"]) for p in stored] == \
        [(p.line, p.field, p.expected) for p in err.value.problems]


def test_blank_templates(app):
    c = Client(app, "clerk_a")
    r = c.get("/templates/metrics.xlsx?month=2026-10")
    assert r.status_code == 200
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    head = [c.value for c in wb.active[1]]
    assert head[:3] == ["月份", "工号", "姓名"]
    from engine.policy import load_policy
    from engine.app.demo import DEMO_POLICY
    pol = load_policy(str(DEMO_POLICY)).for_month("2026-10")
    assert head[3:] == [m.label for m in pol.doc.metrics.values() if m.count_events is None]
    head = [c.value for c in openpyxl.load_workbook(io.BytesIO(c.get("/templates/events.xlsx").content)).active[1]]
    assert head[:5] == ["事件编号", "工号", "类别", "等级", "发现时间"]
    assert c.get("/templates/other.xlsx").status_code == 404


# --------------------------------------------------------------------------- results


def test_ranking_json_is_the_stored_month(app, office):
    from engine.app.month import month_results

    stored = month_results(office["data"], "2026-09")
    js = Client(app, "admin").get("/results/2026-09.json").json()
    assert js["month"] == "2026-09" and js["policy"]["id"] == stored["policy"]["id"]
    want = sorted(stored["workers"], key=lambda w: (w["rank"], w["worker_id"]))
    assert [(w["worker_id"], w["score"], w["rank"], w["pay"], w["payable"]) for w in js["workers"]] == \
        [(w["worker_id"], w["score"], w["rank"], w["pay"], w["payable"]) for w in want]


def test_ranking_filters(app, office):
    from engine.app.month import month_results

    stored = month_results(office["data"], "2026-09")
    c = Client(app, "admin")
    js = c.get(f"/results/2026-09.json?town={TOWN_B}").json()
    assert {w["town"] for w in js["workers"]} == {TOWN_B}
    assert len(js["workers"]) == sum(1 for w in stored["workers"] if w["town"] == TOWN_B)
    comm = next(w["community"] for w in stored["workers"] if w["town"] == TOWN_A)
    js = c.get(f"/results/2026-09.json?community={comm}").json()
    assert {w["community"] for w in js["workers"]} == {comm}
    band = stored["workers"][0]["band"]["id"]
    js = c.get(f"/results/2026-09.json?band={band}").json()
    assert len(js["workers"]) == sum(1 for w in stored["workers"] if w["band"]["id"] == band and not w["failed"])
    assert js["workers"] and {w["band_id"] for w in js["workers"]} == {band}


def test_ranking_page_with_charts(app):
    r = Client(app, "admin").get("/results/2026-09")
    assert r.status_code == 200
    text = r.text
    assert "2026年9月考核结果" in text
    assert text.count("<svg") == 4                          # distribution, rules, towns, trend
    assert "得分分布（每 5 分一档，人数）" in text and "各镇街平均分" in text and "逐月平均分" in text
    assert text.count('href="/results/2026-09/workers/') == 2 * 68


def test_clerk_sees_own_town_only(app, office):
    c = Client(app, "clerk_a")
    js = c.get("/results/2026-09.json").json()
    assert js["workers"] and {w["town"] for w in js["workers"]} == {TOWN_A}
    text = c.get("/results/2026-09").text
    assert TOWN_B not in text


def test_worker_page_whole(app, office):
    """A worker's page: every finding with its rule, label, points, reason and input row, the items, the
    period findings and the months — all from the stored month."""
    from engine.app.month import month_results

    res = month_results(office["data"], "2026-09")
    w = next(w for w in res["workers"] if len([f for f in w["findings"] if f["kind"] == "deduction"]) >= 2)
    r = Client(app, "admin").get(f"/results/2026-09/workers/{w['worker_id']}")
    assert r.status_code == 200
    for f in w["findings"]:
        assert f"<code>{f['rule_id']}</code><br>{f['rule_label']}" in r.text
        assert f["reason"] in r.text
        row = f["source"]["row"]
        assert f"{Path(f['source']['file']).name} 第 {row} 行" in r.text
    assert f'<dd class="big">{w["score"]}</dd>' in r.text
    assert f"扣分和加分（{len(w['findings'])} 条）" in r.text
    js = Client(app, "admin").get(f"/results/2026-09/workers/{w['worker_id']}.json").json()
    assert js["worker"] == w


def test_worker_findings_link_to_the_uploaded_row(app, office):
    run_october(app, office)
    from engine.app.month import month_results

    res = month_results(office["data"], "2026-10")
    w = next(w for w in res["workers"] if w["town"] == TOWN_B and any(f["kind"] == "deduction" for f in w["findings"]))
    f = next(f for f in w["findings"] if f["kind"] == "deduction")
    page = Client(app, "clerk_b").get(f"/results/2026-10/workers/{w['worker_id']}").text
    # the row in 云门镇's own metrics file, not in the combined file the month was run from
    mrows = list(csv.reader(io.StringIO(office["towns"][TOWN_B]["metrics"].read_text(encoding="utf-8"))))
    own_row = next(i + 1 for i, r in enumerate(mrows) if r[1] == w["worker_id"])
    ups = {u["kind"]: u["id"] for u in app.state.web.store.latest_uploads(1, "2026-10", [TOWN_B])}
    if f.get("event_id"):
        erows = list(csv.reader(io.StringIO(office["towns"][TOWN_B]["events"].read_text(encoding="utf-8"))))
        own_row = next(i + 1 for i, r in enumerate(erows) if r[0] == f["event_id"])
        uid, label = ups["events"], f"{TOWN_B} 事件台账（events.csv）"
    else:
        uid, label = ups["metrics"], f"{TOWN_B} 月度指标表（metrics.csv）"
    assert f'<a href="/uploads/{uid}?row={own_row}#r{own_row}">{label} 第 {own_row} 行</a>' in page


def test_worker_history(app, office):
    run_october(app, office)
    r = Client(app, "clerk_a").get("/workers/W0001")
    assert r.status_code == 303 and r.headers["location"] == "/results/2026-10/workers/W0001#history"
    page = Client(app, "clerk_a").get("/results/2026-10/workers/W0001").text
    assert "2026年9月</a>" in page and "2026年10月</a>" in page and "逐月得分" in page


def test_markup_in_names_is_text(app):
    """A worker called <script>…: every page prints the name as text (autoescaped), never as markup."""
    c = Client(app, "admin")
    for url in ("/results/2026-09", f"/results/2026-09/workers/{MARKUP_ID}", f"/results/2026-09?town={TOWN_A}"):
        text = c.get(url).text
        assert MARKUP_NAME not in text
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;李四" in text
    assert c.get(f"/results/2026-09/workers/{MARKUP_ID}.json").json()["worker"]["name"] == MARKUP_NAME


# --------------------------------------------------------------------------- papers


def test_paysheet_downloads(app, office):
    from engine.app.month import month_results

    res = month_results(office["data"], "2026-09")
    c = Client(app, "clerk_a")
    r = c.get(f"/papers/2026-09/paysheet.xlsx")
    assert r.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).active
    ids = [row[1] for row in ws.iter_rows(values_only=True) if row[1] and str(row[1]).startswith("W")]
    assert sorted(ids) == sorted(w["worker_id"] for w in res["workers"] if w["town"] == TOWN_A)
    body = c.get("/papers/2026-09/paysheet.csv").content.decode("utf-8-sig")
    total = next(r for r in csv.reader(io.StringIO(body)) if r[0] == "总计")
    assert Decimal(total[-1]) == sum(Decimal(w["payable"]) for w in res["workers"] if w["town"] == TOWN_A)
    assert Client(app, "finance").get("/papers/2026-09/paysheet.xlsx").status_code == 200
    page = Client(app, "finance").get("/papers/2026-09").text
    assert "全部镇街" in page and "生成送审稿" not in page and "出文" not in page.split("<h2>打印材料</h2>")[1].split("</p>")[1]


@pytest.mark.slow
def test_print_pack_draft_and_issue(app, office):
    """The print pack as a job: a draft takes no number; issuing takes the next and records it."""
    c = Client(app, "admin")
    r = c.post("/papers/2026-09/print")
    assert r.status_code == 303
    (job,) = run_jobs(app)
    assert job.state == "done", job.error
    assert all(n["draft"] for n in job.result["numbers"].values())
    z = zipfile.ZipFile(io.BytesIO(Client(app, "clerk_a").get(f"/papers/2026-09/print/{TOWN_A}.zip").content))
    names = z.namelist()
    assert f"绩效工资发放表-{TOWN_A}.xlsx" in names and all(TOWN_B not in n for n in names)
    assert any(n.startswith("考核结果通知单-" + TOWN_A) for n in names)
    r = c.post("/papers/2026-09/print", {"issue": "yes", "date": "2026-10-08"})
    (job,) = run_jobs(app)
    assert job.state == "done", job.error
    texts = sorted(n["text"] for n in job.result["numbers"].values())
    assert texts and all(not n["draft"] for n in job.result["numbers"].values())
    page = c.get("/numbers").text
    for t in texts:
        assert t in page


def test_draft_then_issue_quick(app):
    """The same flow with HTML only (no PDF rendering), in the default suite: a draft takes no number and
    records nothing; issuing takes the office's next numbers, records them, and shows them to every role."""
    from engine.app.notices import number_register

    c = Client(app, "admin")
    assert c.post("/papers/2026-09/print", {"formats": "html"}).status_code == 303
    (job,) = run_jobs(app)
    assert job.state == "done", job.error
    assert job.result["numbers"] and all(n["draft"] for n in job.result["numbers"].values())
    assert all(f.endswith(".html") or f.endswith(".xlsx") for f in job.result["files"])
    assert number_register(app.state.web.data) == []
    page = Client(app, "finance").get("/papers/2026-09").text
    assert "送审稿" in page and "打印材料-全部.zip" in page
    assert c.post("/papers/2026-09/print", {"formats": "html", "issue": "yes", "date": "2026-10-08"}).status_code == 303
    (job,) = run_jobs(app)
    assert job.state == "done", job.error
    issued = number_register(app.state.web.data)
    assert [r["issued_on"] for r in issued] == ["2026-10-08"] * len(job.result["numbers"])
    texts = [n["text"] for n in job.result["numbers"].values()]
    assert sorted(texts) == sorted(r["text"] for r in issued)
    assert [r["number"] for r in issued] == list(range(1, len(issued) + 1))
    numbers_page = Client(app, "auditor").get("/numbers").text
    assert all(t in numbers_page for t in texts)
    assert all(t in Client(app, "clerk_a").get("/papers/2026-09").text for t in texts)
    audit = Client(app, "auditor").get("/audit?action=numbers.issue").text
    assert "出文编号" in audit and texts[0] in audit


def test_history_situations_in_the_pages_words(app):
    from engine.errors import HistoryError
    from engine.web.jobs import error_dict

    e = error_dict(HistoryError("历史中没有 2026年11月（2026-11），无法更正", code="correct_new_month"))
    assert e["message"] == "历史中没有 2026年11月（2026-11），无法更正；这是新的月份：请在「本月数据」运行"
    from engine.errors import InputError, Problem
    from engine.app.month import DATA_FOLDER
    e = error_dict(InputError([Problem("/srv/data", None, DATA_FOLDER, "/srv/data", "可以写入的历史数据文件夹")]))
    assert e["problems"][0]["field"] == "服务器上的数据目录（请联系系统管理员）"


def test_issue_needs_an_administrator(app):
    r = Client(app, "clerk_a").post("/papers/2026-09/print", {"issue": "yes", "date": "2026-10-08"})
    assert r.status_code == 403 and "不能进行此操作" in r.text
    assert run_jobs(app) == []


# --------------------------------------------------------------------------- administration


def test_users_page_and_adding_a_clerk(app):
    c = Client(app, "admin")
    assert "新建账号" in c.get("/users").text
    r = c.post("/users", {"username": "clerk_c", "display_name": "王五", "role": "clerk", "town": "", "password": "x" * 10})
    assert r.status_code == 400 and "镇街办事员须指定所属镇街" in r.text
    r = c.post("/users", {"username": "clerk_c", "display_name": "王五", "role": "clerk", "town": "石门镇",
                          "password": "c-password-1"})
    assert r.status_code == 303
    assert Client(app).login("clerk_c", "c-password-1").status_code == 303
    assert Client(app, "clerk_a").get("/users").status_code == 403


def test_audit_log_records_changes(app, office):
    a = Client(app, "clerk_a")
    upload_town(a, office, TOWN_A, kinds=("workers",))
    Client(app, "admin").post("/users", {"username": "fin2", "display_name": "", "role": "finance", "town": "",
                                         "password": "fin2-password"})
    page = Client(app, "auditor").get("/audit").text
    assert "上传文件" in page and f"2026-10 {TOWN_A} 网格员名册" in page and "clerk_a" in page
    assert "新建账号" in page and "fin2" in page and "password_hash" not in page
    assert "登录" in page
    assert Client(app, "finance").get("/audit").status_code == 403
    assert Client(app, "clerk_a").get("/audit").status_code == 403


def test_error_pages_are_chinese(app):
    c = Client(app, "admin")
    r = c.get("/no/such/page")
    assert r.status_code == 404 and "没有这个页面" in r.text
    r = c.get("/results/2026-13")
    assert r.status_code == 404 and "月份应为 YYYY-MM" in r.text
    r = c.get("/results/2026-11")
    assert r.status_code == 404 and "历史中没有 2026年11月的结果" in r.text
