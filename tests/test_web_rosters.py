"""Rosters on the page (issue 14), in process: a town's month solved as a job over engine/app/rosters.py,
shown by grid and by person with coverage, visits, fairness and every rule's check; a hand adjustment
that leaves a grid unpatrolled located at its cell in Chinese, refused for publishing, undone; leave
entered mid-month and the month re-planned from its first day, with only later cells changed and those
marked; publishing and the print; a clerk only in their town, every step audited."""
from __future__ import annotations

import json
import re

import pytest

from webkit import TOWN_A, TOWN_B, Client, copy_office, shared_office

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

MONTH = "2026-10"
PAGE = f"/rosters/{MONTH}/{TOWN_A}"


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    """The office with the demo town's roster problem (鹤山镇) and its October solved once."""
    from sqlalchemy import update

    from engine.app.demo import DEMO_ROSTER
    from engine.web.app import create_app
    from engine.web.jobs import run_one
    from engine.web.store import offices

    office = copy_office(shared_office(tmp_path_factory), tmp_path_factory.mktemp("rosters"))
    app = create_app(data=office["data"])
    web = app.state.web
    assert "排班" not in Client(app, "clerk_a").get("/").text.split("</nav>")[0]
    web.store.run(update(offices).values(roster_problem=str(DEMO_ROSTER)))
    clerk = Client(app, "clerk_a")
    listing = clerk.get(f"/rosters?month={MONTH}")                  # before any roster of the month
    assert listing.status_code == 200 and "未排班" in listing.text and "排班</a>" in listing.text.split("</nav>")[0]
    r = clerk.post(f"{PAGE}/solve", {"time_limit": "10"})
    assert r.status_code == 303 and r.headers["location"].startswith("/jobs/")
    job = run_one(web.queue, web.data, "t")
    assert job.state == "done", job.error
    yield {"app": app, "office": office, "job": job}
    web.store.close()


def audit_actions(app) -> list[str]:
    from sqlalchemy import select

    from engine.web.store import audit_log

    return [r["action"] for r in app.state.web.store.all(select(audit_log).order_by(audit_log.c.id))]


def state(app):
    from engine.web import rosters as wr

    return wr.load_state(wr.town_dir(app.state.web.data, MONTH, TOWN_A))


def test_solved_roster_shown_by_grid_and_person(solved):
    app, job = solved["app"], solved["job"]
    assert job.result["broken"] == [] and job.result["source"] == "solved"
    clerk = Client(app, "clerk_a")
    page = clerk.get(PAGE).text
    run, meta = state(app)
    grids, people = len(run.problem.grids), len(run.problem.people)
    # every grid every day, counted from the roster itself
    assert f"{grids * 31} / {grids * 31}" in page and "全部通过" in page
    assert page.count('data-sheet="grids" data-key') == grids * 31 and page.count('data-sheet="people" data-key') == people * 31
    for words in ("按网格", "按人员", "督导员、网格管理者走访", "公平性", "硬性规则逐条校验", "网格每日巡查"):
        assert words in page
    assert "未通过" not in page.split('id="checks"')[1]
    assert "排出本月巡查排班" in clerk.get(f"/jobs/{job.id}").text or "巡查排班已排出" in clerk.get(f"/jobs/{job.id}").text


def test_a_cell_that_breaks_a_rule_is_located_refused_for_publishing_and_undone(solved):
    app = solved["app"]
    clerk = Client(app, "clerk_a")
    run, _ = state(app)
    grid = sorted(run.problem.grids)[0]
    who = run.roster.patrol[(grid, 2)]
    assert who
    r = clerk.post(f"{PAGE}/edit", {"sheet": "grids", "key": grid, "day": "2", "value": ""})
    assert r.status_code == 303 and "roster_broken" in r.headers["location"], re.sub(r"<[^>]+>", " ", r.text.split("<main>")[1])[:1500]
    page = clerk.get(r.headers["location"]).text
    run2, meta = state(app)
    assert (grid, 2) not in run2.roster.patrol
    # said in Chinese at its cell: the grid's row, the third day, the rule broken
    assert [p for p in meta["problems"] if p["sheet"] == "排班_按网格" and p["key"] == grid and p["day"] == 2
            and "网格每日巡查" in p["expected"]]
    assert "这次调整违反了" in page and "网格每日巡查" in page
    assert re.search(f'<td class="cal[^"]* broken" data-sheet="grids" data-key="{grid}" data-day="2"></td>', page)
    r = clerk.post(f"{PAGE}/publish", {})
    assert r.status_code == 422 and "全部硬性规则校验通过的排班" in r.text
    assert clerk.post(f"{PAGE}/undo", {}).status_code == 303
    run3, meta3 = state(app)
    assert run3.roster.patrol[(grid, 2)] == who and not meta3.get("problems")
    assert "全部通过" in clerk.get(PAGE).text
    acts = audit_actions(app)
    assert {"roster.edit", "roster.publish.refused", "roster.undo"} <= set(acts)


def test_leave_and_replan_change_only_later_cells_then_publish_and_print(solved):
    from engine.web import rosters as wr
    from engine.web.jobs import run_one

    app = solved["app"]
    web = app.state.web
    clerk = Client(app, "clerk_a")
    folder = wr.town_dir(web.data, MONTH, TOWN_A)
    assert clerk.post(f"{PAGE}/replan", {"from": "2026-10-15"}).status_code == 409     # nothing published yet
    assert clerk.post(f"{PAGE}/publish", {}).status_code == 303
    before = json.loads((folder / "published" / "roster.json").read_text(encoding="utf-8"))
    assert before["check"] and all(not c["violations"] for c in before["check"])
    run, _ = state(app)
    # the first grid whose worker is on duty on at least one of 15-17 October in this solve (the
    # solver may give any one worker those days off; some worker of a town always works them)
    grid = next((g for g in sorted(run.problem.grids)
                 if any(before["duty"][run.problem.grids[g].worker][d] for d in (14, 15, 16))), None)
    assert grid is not None, "some grid worker is on duty on 15-17 October"
    worker = run.problem.grids[grid].worker
    worked = [d for d in (14, 15, 16) if before["duty"][worker][d]]
    bad = clerk.post(f"{PAGE}/leave", {"person": worker, "start": "2026-10-17", "end": "2026-10-15", "reason": "病假"})
    assert bad.status_code == 422 and "不早于开始日期 2026-10-17" in bad.text
    r = clerk.post(f"{PAGE}/leave", {"person": worker, "start": "2026-10-15", "end": "2026-10-17", "reason": "病假"})
    assert r.status_code == 303
    assert clerk.post(f"{PAGE}/replan", {"from": "2026-11-02"}).status_code == 422
    r = clerk.post(f"{PAGE}/replan", {"from": "2026-10-15", "time_limit": "10"})
    assert r.status_code == 303
    job = run_one(web.queue, web.data, "t")
    assert job.state == "done", job.error
    assert job.result["broken"] == [] and job.result["from"] == "2026-10-15" and job.result["changes"] > 0
    run2, meta = state(app)
    # on leave those days, nobody else's work before the 15th moved
    assert all(run2.roster.duty.get((worker, d)) is None for d in (14, 15, 16))
    assert all((g, d) not in run2.roster.patrol or run2.roster.patrol[(g, d)] != worker for g in run2.problem.grids
               for d in (14, 15, 16))
    for pid, row in before["duty"].items():
        if pid in run2.problem.people:
            assert [run2.roster.duty.get((pid, d)) for d in range(14)] == row[:14]
    changed = meta["changed"]
    assert changed and all(d >= 14 for _, _, d in changed)
    assert ["排班_按人员", worker, worked[0]] in changed
    page = clerk.get(PAGE).text
    assert re.search(f'<td class="cal[^"]* changed" data-sheet="people" data-key="{worker}" data-day="{worked[0]}">假</td>', page)
    assert not re.search('<td class="cal[^"]* changed" data-sheet="[a-z]+" data-key="[^"]+" data-day="([0-9]|1[0-3])"', page)
    assert "自 2026-10-15 起按请假重新调整" in page and f">{len(changed)}<" in page
    assert clerk.post(f"{PAGE}/publish", {}).status_code == 303
    after = json.loads((folder / "published" / "roster.json").read_text(encoding="utf-8"))
    assert after["source"] == "replanned" and all(x is None for x in after["duty"][worker][14:17])
    assert "请假" in clerk.get(PAGE).text and "已发布" in clerk.get(PAGE).text
    # the leave stays part of the month: the problem as loaded for the next solve has it
    prob = wr.problem(web.store.office(1), MONTH, TOWN_A, folder)
    assert {14, 15, 16} <= prob.leave_days(worker) and prob.leaves[-1].where[0] == wr.PAGE_LEAVE
    printed = clerk.get(f"{PAGE}/print")
    assert printed.status_code == 200 and "网格巡查排班表" in printed.text and "草稿" not in printed.text
    # 1-11, 12-21 and 22-31 October one table each, the person figures after the last
    assert printed.text.count('class="sheet calendar roster-grids"') == 3
    tables = printed.text.split('class="sheet calendar roster-people"')[1:]
    assert 'data-day="10"' in tables[0] and 'data-day="11"' not in tables[0] and "工作天数" not in tables[0]
    assert 'data-day="30"' in tables[2] and 'data-day="20"' not in tables[2] and "工作天数" in tables[2]
    xlsx = clerk.get(f"{PAGE}/files/排班.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    # published with its 公文-style print (the print pack's 巡查排班表 template), linked from the page
    pdf_name = f"巡查排班表-{TOWN_A}.pdf"
    assert (folder / "published" / pdf_name).is_file() and (folder / "published" / f"巡查排班表-{TOWN_A}.html").is_file()
    assert f"下载打印版 {pdf_name}" in clerk.get(PAGE).text
    pdf = clerk.get(f"{PAGE}/files/{pdf_name}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and pdf.headers["content-type"] == "application/pdf"
    html = (folder / "published" / f"巡查排班表-{TOWN_A}.html").read_text(encoding="utf-8")
    assert "网格巡查排班表" in html and TOWN_A in html and "送审稿" not in html
    # and the month's print pack prints it for this town (tests/test_notices.py: the pack's side)
    from engine.web.tasks import town_rosters
    assert town_rosters(web.data, MONTH) == {TOWN_A: folder / "published"}
    assert {"roster.leave", "roster.replan", "roster.publish", "job.roster_town"} <= set(audit_actions(app))


def test_roles_and_towns(solved):
    app = solved["app"]
    other = f"/rosters/{MONTH}/{TOWN_B}"
    clerk_b = Client(app, "clerk_b")
    assert clerk_b.get(PAGE).status_code == 403                      # another town's roster
    assert clerk_b.post(f"{PAGE}/edit", {"sheet": "grids", "key": "x", "day": "0", "value": ""}).status_code == 403
    assert clerk_b.get(other).status_code == 404                    # 云门镇 is not in the roster problem
    for who in ("finance", "auditor"):
        c = Client(app, who)
        assert c.get(PAGE).status_code == 200
        assert c.post(f"{PAGE}/undo", {}).status_code == 403
        assert c.post(f"{PAGE}/solve", {}).status_code == 403
    assert Client(app, "clerk_a").post(f"{PAGE}/undo", {}, csrf=False).status_code == 403
    assert "denied" in audit_actions(app)
    listing = Client(app, "clerk_a").get("/rosters").text
    assert TOWN_A in listing and "排出本月排班" in listing


def test_a_duty_room_is_rostered_on_the_page_by_person_and_shift(tmp_path_factory):
    """An office whose roster problem is a duty room (rosters/demo-dutyroom, kind shifts): the page is a
    值班排班 by person and shift — shifts short of demand instead of grid coverage, no grid form, no
    visits; a night given to 唐艳 (early and late shifts only) is said at her cell and refused for
    publishing; undone, the roster publishes and prints as the 值班表."""
    from pathlib import Path
    from urllib.parse import unquote

    from sqlalchemy import update

    from engine.web.app import create_app
    from engine.web.jobs import run_one
    from engine.web.store import offices

    room = Path(__file__).resolve().parents[1] / "rosters" / "demo-dutyroom"
    office = copy_office(shared_office(tmp_path_factory), tmp_path_factory.mktemp("dutyroom"))
    app = create_app(data=office["data"])
    web = app.state.web
    try:
        web.store.run(update(offices).values(roster_problem=str(room)))
        admin = Client(app, "admin")
        assert "排出本月值班排班" in admin.get("/papers/2026-09").text
        listing = admin.get("/rosters?month=2026-11").text
        assert "<h1>值班排班</h1>" in listing and "值班单位" in listing and "指挥值班室" in listing
        page = "/rosters/2026-11/指挥值班室"
        assert admin.post(f"{page}/solve", {"time_limit": "10"}).status_code == 303
        job = run_one(web.queue, web.data, "t")
        assert job.state == "done", job.error
        assert "值班排班已排出" in admin.get(f"/jobs/{job.id}").text
        text = admin.get(page).text
        assert "指挥值班室 2026年11月值班排班" in text and 'id="short-total"' in text and 'id="by-shift"' in text
        for patrol_only in ("网格覆盖", "督导走访", 'data-sheet="grids"', 'id="by-grid"', 'id="visits"'):
            assert patrol_only not in text, patrol_only
        # 早 wants 2 on Sunday 11/1 and 3 on Monday 11/2: each cell reads on duty/wanted
        assert re.search(r'<tr><th>早</th><td class="cal[^"]*">\d/2</td><td class="cal[^"]*">\d/3</td>', text)
        day = 1                                                            # 11/2(一)
        r = admin.post(f"{page}/edit", {"sheet": "people", "key": "Z03", "day": str(day), "value": "夜"})
        assert r.status_code == 303 and "roster_broken" in r.headers["location"]
        text = admin.get(page).text
        assert "符合「可上班次」：唐艳 11月2日 上夜班，此人只上 早、中 班" in text
        refused = admin.post(f"{page}/publish")
        assert refused.status_code == 422 and "可上班次" in refused.text
        assert admin.post(f"{page}/undo").status_code == 303
        assert admin.post(f"{page}/publish").status_code == 303
        printed = admin.get(f"{page}/print").text
        assert "指挥值班室 2026年11月值班表" in printed and "草稿" not in printed and 'id="by-grid"' not in printed
        files = [unquote(n) for n in re.findall(r'/files/([^"]+)"', admin.get(page).text)]
        assert "值班表-指挥值班室.pdf" in files, files
    finally:
        web.store.close()
