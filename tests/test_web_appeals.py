"""Appeals on the page, in-process (tests/webkit.py's two-town office): a clerk files, an administrator
approves or rejects, the correction runs as a job, the page shows what changed (in later months too),
the 更正通知 is drafted and issued with a number; towns kept apart, every form guarded, all audited."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from webkit import TOWN_A, TOWN_B, Client, run_jobs
from webkit import base, office, app  # noqa: F401  (fixtures)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def month(app, m: str) -> dict:
    from engine.app.month import month_results
    return {w["worker_id"]: w for w in month_results(app.state.web.data, m)["workers"]}


def form_of(page: str) -> dict:
    return dict(re.findall(r'name="((?:c|n)\.[^"]+)" value="([^"]*)"', page))


def cell(form: dict, page: str, kind: str, header: str) -> str:
    """The input name of a column of the worker's (first) row in a file of the appeal form."""
    heads = re.search(rf'<h2>{ {"metrics": "月度指标表", "workers": "网格员名册", "events": "事件台账"}[kind] }</h2>.*?<thead><tr>(.*?)</tr>',
                      page, re.S).group(1)
    col = re.findall(r"<th[^>]*>(.*?)</th>", heads)[1:].index(header)
    return next(k for k in form if k.startswith(f"c.{kind}.") and k.endswith(f".{col}"))


def file_appeal(c: Client, wid: str, header: str, value: str, reason: str = "指标统计有误") -> int:
    page = c.get(f"/results/2026-09/workers/{wid}/appeal").text
    form = form_of(page)
    form[cell(form, page, "metrics", header)] = value
    r = c.post(f"/results/2026-09/workers/{wid}/appeal", dict(form, reason=reason))
    assert r.status_code == 303, r.text
    return int(r.headers["location"].split("?")[0].rsplit("/", 1)[1])


def audit(app, action: str) -> list[dict]:
    from engine.web.store import audit_log
    return app.state.web.store.all(select(audit_log).where(audit_log.c.action == action).order_by(audit_log.c.id))


def test_file_approve_and_the_diff(app):
    sep = month(app, "2026-09")
    # a worker of 鹤山镇 with 巡查到位率 100 and no patrol deduction: 85% costs 5 points (the [0, 90) tier)
    w = next(x for x in sep.values() if x["town"] == TOWN_A and not x["failed"] and "." not in x["score"]
             and not any(f["rule_id"] == "patrol_rate_low" for f in x["findings"]))
    clerk = Client(app, "clerk_a")
    aid = file_appeal(clerk, w["worker_id"], "巡查到位率", "85")
    page = clerk.get(f"/appeals/{aid}").text
    assert "待审核" in page and "巡查到位率" in page and "批准并重算" not in page      # a clerk does not decide
    assert clerk.post(f"/appeals/{aid}/approve").status_code == 403
    admin = Client(app, "admin")
    r = admin.post(f"/appeals/{aid}/approve")
    assert r.status_code == 303 and r.headers["location"].startswith("/jobs/")
    (job,) = run_jobs(app)
    assert job.state == "done", job.error
    new = month(app, "2026-09")[w["worker_id"]]
    expected = str(int(w["score"]) - 5)
    assert new["score"] == expected
    (s,) = job.result["score_changes"]
    assert (s["worker_id"], s["old_score"], s["new_score"]) == (w["worker_id"], w["score"], expected)
    page = clerk.get(f"/appeals/{aid}").text
    assert "已更正" in page and f"{w['score']} → <strong>{expected}</strong>" in page
    # the 更正通知: administrators only, a draft, then issued with the register's next number
    assert clerk.post(f"/appeals/{aid}/notice").status_code == 403
    assert admin.post(f"/appeals/{aid}/notice").status_code == 303
    (job,) = run_jobs(app)
    assert job.state == "done" and job.result["draft"] is True
    assert admin.post(f"/appeals/{aid}/notice", {"issue": "yes", "date": "2026-10-28"}).status_code == 303
    (job,) = run_jobs(app)
    assert job.result["number"]["text"] == "鹤网格〔2026〕1号"
    page = clerk.get(f"/appeals/{aid}").text
    assert "已出文" in page and "鹤网格〔2026〕1号" in page
    pdf = clerk.get(f"/appeals/{aid}/notice/考核结果更正通知.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert "考核结果更正通知" in admin.get("/numbers").text
    actions = [a["action"] for a in audit(app, "appeal.file") + audit(app, "appeal.approve") + audit(app, "month.correct")
               + audit(app, "notice.issue")]
    assert actions == ["appeal.file", "appeal.approve", "month.correct", "notice.issue"]
    (corrected,) = audit(app, "month.correct")
    assert json.loads(corrected["before"])[w["worker_id"]]["得分"] == w["score"]
    assert json.loads(corrected["after"])["得分"][w["worker_id"]]["得分"] == expected


def test_a_sanction_appears_in_a_later_month(app, office):
    """October run too; 鹤山镇's last place of October is made last in September by a veto (因迟报漏报引发
    重大案件: a failed month ranks below every other), so 连续两个月排名末位 now withholds their October pay."""
    a, b = Client(app, "clerk_a"), Client(app, "clerk_b")
    for c, town in ((a, TOWN_A), (b, TOWN_B)):
        for k in ("workers", "metrics", "events"):
            assert c.upload("2026-10", k, office["towns"][town][k]).status_code == 303
    assert a.post("/months/2026-10/run").status_code == 303
    (job,) = run_jobs(app)
    assert job.state == "done", job.error
    october = month(app, "2026-10")
    last = [w for w in october.values() if w["town"] == TOWN_A and w.get("last_place")
            and not any(f["rule_id"] == "last_place_twice" for f in w["period_findings"])]
    w = last[0]           # (two tie for last; both are last, ties: all)
    aid = file_appeal(a, w["worker_id"], "因迟报漏报引发重大案件", "是", "漏报一起重大案件，应一票否决")
    admin = Client(app, "admin")
    admin.post(f"/appeals/{aid}/approve")
    (job,) = run_jobs(app)
    assert job.state == "done", job.error
    changes = [(c["month"], c["worker_id"], c["change"], c["rule_id"], c["amount"]) for c in job.result["consequence_changes"]]
    assert ("2026-10", w["worker_id"], "出现", "last_place_twice", w["pay"]) in changes
    after = month(app, "2026-10")[w["worker_id"]]
    assert (after["withheld"], after["payable"]) == (w["pay"], "0.00")
    page = a.get(f"/appeals/{aid}").text
    assert "连续两个月排名末位" in page and "出现" in page and "2026年10月" in page


def test_reject_needs_a_reason_and_towns_are_kept_apart(app):
    sep = month(app, "2026-09")
    theirs = next(w for w in sep.values() if w["town"] == TOWN_B)
    mine = next(w for w in sep.values() if w["town"] == TOWN_A)
    clerk = Client(app, "clerk_a")
    assert clerk.get(f"/results/2026-09/workers/{theirs['worker_id']}/appeal").status_code == 404
    assert clerk.post(f"/results/2026-09/workers/{theirs['worker_id']}/appeal", {"reason": "x"}).status_code == 404
    aid = file_appeal(clerk, mine["worker_id"], "巡查到位率", "50")
    other = Client(app, "clerk_b")
    assert other.get(f"/appeals/{aid}").status_code == 404 and mine["name"] not in other.get("/appeals").text
    assert other.post(f"/appeals/{aid}/approve").status_code == 404
    admin = Client(app, "admin")
    assert admin.post(f"/appeals/{aid}/reject", {"decision": ""}).status_code == 400
    assert admin.post(f"/appeals/{aid}/reject", {"decision": "核查属实，原数据无误"}).status_code == 303
    assert admin.post(f"/appeals/{aid}/approve").status_code == 409              # decided once
    assert "已驳回" in clerk.get(f"/appeals/{aid}").text and "原数据无误" in clerk.get(f"/appeals/{aid}").text
    assert month(app, "2026-09")[mine["worker_id"]]["score"] == mine["score"]
    for url, data in ((f"/results/2026-09/workers/{mine['worker_id']}/appeal", {"reason": "x"}),
                      (f"/appeals/{aid}/approve", {}), (f"/appeals/{aid}/reject", {"decision": "x"}),
                      (f"/appeals/{aid}/notice", {})):
        assert admin.post(url, data, csrf=False).status_code == 403, url
    denied = audit(app, "denied")
    assert denied and all(d["username"] in ("clerk_a", "clerk_b") for d in denied)


def test_problems_in_a_correction_are_located_and_nothing_is_filed(app):
    sep = month(app, "2026-09")
    mine = next(w for w in sep.values() if w["town"] == TOWN_A)
    clerk = Client(app, "clerk_a")
    page = clerk.get(f"/results/2026-09/workers/{mine['worker_id']}/appeal").text
    form = form_of(page)
    form[cell(form, page, "metrics", "巡查到位率")] = "百分百"
    r = clerk.post(f"/results/2026-09/workers/{mine['worker_id']}/appeal", dict(form, reason="统计有误"))
    assert r.status_code == 422 and "更正后的月度指标表" in r.text and "百分百" in r.text
    r = clerk.post(f"/results/2026-09/workers/{mine['worker_id']}/appeal", dict(form_of(page), reason="统计有误"))
    assert r.status_code == 422 and "至少一处更正" in r.text
    assert "还没有申诉" in clerk.get("/appeals").text


def test_a_month_run_again_after_the_appeal_is_not_overwritten(app, office):
    """Filed on September, then September run again (from the county's files): approving would bring
    the older data back, so the correction is refused and the appeal says so."""
    from engine.app.month import MonthFiles, run_month
    from engine.app.demo import DEMO_POLICY

    sep = month(app, "2026-09")
    mine = next(w for w in sep.values() if w["town"] == TOWN_A)
    clerk = Client(app, "clerk_a")
    aid = file_appeal(clerk, mine["worker_id"], "巡查到位率", "50")
    c = office["county"]
    events = office["root"] / "county" / "events-again.csv"
    events.write_text(c["events"].read_text(encoding="utf-8") + "\n", encoding="utf-8")
    run_month((str(DEMO_POLICY),), "2026-09", MonthFiles(str(c["workers"]), str(c["metrics"]), str(events)),
              office["data"], office["data"] / "months" / "2026-09")
    admin = Client(app, "admin")
    admin.post(f"/appeals/{aid}/approve")
    (job,) = run_jobs(app)
    assert job.state == "failed" and "该月已重新运行" in json.dumps(job.error, ensure_ascii=False)
    assert "重算未完成" in admin.get(f"/appeals/{aid}").text


def test_a_retried_correction_corrects_once_and_says_corrected(app, office):
    """An approved appeal whose worker died after the history's commit and before the appeal was
    marked: the retry finds the month corrected by this appeal, corrects nothing again, and the
    appeal reads 已更正 with the first attempt's changes (not 失败: "该月已重新运行")."""
    from sqlalchemy import update

    from engine.app.month import stored_months
    from engine.web.jobs import run_job
    from engine.web.store import appeals, jobs

    web = app.state.web
    sep = month(app, "2026-09")
    w = next(x for x in sep.values() if x["town"] == TOWN_B and not x["failed"] and "." not in x["score"]
             and not any(f["rule_id"] == "patrol_rate_low" for f in x["findings"]))
    aid = file_appeal(Client(app, "clerk_b"), w["worker_id"], "巡查到位率", "85")
    admin = Client(app, "admin")
    jid = int(admin.post(f"/appeals/{aid}/approve").headers["location"].rsplit("/", 1)[1])
    first = run_job(web.queue, jid, web.data, "a")
    assert first.state == "done", first.error
    before = [c for c in stored_months(office["data"])[1] if c["note"].startswith(f"申诉 {aid}：")]
    assert len(before) == 1
    # the state a worker killed just after run_correction's commit leaves: job running, appeal approved
    web.store.run(update(jobs).where(jobs.c.id == jid).values(state="running", result=None, finished_at=None))
    web.store.run(update(appeals).where(appeals.c.id == aid).values(state="approved", result=None))
    n_correct = len(audit(app, "month.correct"))
    again = run_job(web.queue, jid, web.data, "b", retry=True)
    assert again.state == "done" and again.attempts == 2, again.error
    assert again.result["score_changes"] == first.result["score_changes"]
    assert [c for c in stored_months(office["data"])[1] if c["note"].startswith(f"申诉 {aid}：")] == before
    assert month(app, "2026-09")[w["worker_id"]]["score"] == str(int(w["score"]) - 5)
    assert "已更正" in admin.get(f"/appeals/{aid}").text
    assert len(audit(app, "month.correct")) == n_correct + 1


def test_personal_data_is_neither_shown_nor_corrected_by_an_appeal(app):
    from engine.app.corrections import worker_rows
    from engine.mapping import read_rows

    sep = month(app, "2026-09")
    mine = next(w for w in sep.values() if w["town"] == TOWN_A)
    office = app.state.web.store.office(1)
    (reg,) = [w for w in worker_rows(office["policy_paths"], app.state.web.data, "2026-09", mine["worker_id"])
              if w.kind == "workers"]
    header, rows = read_rows(reg.path)
    phone_col = header.index("电话")
    (row,) = [r for r in rows if r.row == reg.rows[0][0]]
    phone = str(row.get("电话"))
    assert len(phone) == 11 and reg.private == (phone_col,) and reg.rows[0][1][phone_col] == ""
    clerk = Client(app, "clerk_a")
    page = clerk.get(f"/results/2026-09/workers/{mine['worker_id']}/appeal").text
    assert phone not in page and "（不显示）" in page
    form = form_of(page)
    form[f"c.workers.{reg.rows[0][0]}.{phone_col}"] = "13900000000"          # sent by hand, not by the page
    r = clerk.post(f"/results/2026-09/workers/{mine['worker_id']}/appeal", dict(form, reason="电话有误"))
    assert r.status_code == 422 and "申诉不更正电话、身份证号等个人信息" in r.text and "13900000000" not in r.text
    assert "还没有申诉" in clerk.get("/appeals").text
