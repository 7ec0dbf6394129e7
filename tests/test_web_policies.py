"""Policies on the page, in-process (tests/webkit.py's two-town office, September stored under
rules/chengguan.yaml): versions, drafts edited by form and YAML with located problems, the changes
between versions, a draft's cost as a job, publishing, and what each role may do."""
from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from webkit import Client, copy_office, run_jobs
from webkit import base  # noqa: F401  (fixture)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture()
def app(base, tmp_path):
    from engine.web.app import create_app

    office = copy_office(base, tmp_path / "o")
    a = create_app(data=office["data"])
    yield a
    a.state.web.close()


def draft(admin: Client, month: str = "2026-11") -> int:
    page = admin.get("/policies")
    first = re.search(r'href="/policies/(\d+)"', page.text).group(1)
    r = admin.post("/policies/drafts", {"base": first, "version": "2026.2", "effective_from": month})
    assert r.status_code == 303, r.text
    return int(r.headers["location"].split("?")[0].rsplit("/", 1)[1])


TIER_FORM = {"kind": "tiers", "id": "entry_rate_low", "label": "信息采集录入不全", "f.metric": "info_entry_rate",
             "f.tiers[0].range": "[95, 100)", "f.tiers[0].points": "2", "f.tiers[1].range": "[0, 95)",
             "f.tiers[1].points": "6"}


def audit(app, action: str) -> list[dict]:
    from engine.web.store import audit_log
    return app.state.web.store.all(select(audit_log).where(audit_log.c.action == action).order_by(audit_log.c.id))


def test_the_office_reads_its_policy(app):
    c = Client(app, "clerk_a")
    r = c.get("/policies")
    assert r.status_code == 200 and "chengguan 2026.1" in r.text and "新建草稿" not in r.text
    vid = re.search(r'href="/policies/(\d+)"', r.text).group(1)
    page = c.get(f"/policies/{vid}").text
    for said in ("巡查到位率不足", "90%及以上、低于95%", "扣2分", "群众有效投诉：第1次扣2分、第2次扣3分、第3次及以后每次扣5分",
                 "迟报漏报引发重大案件", "发放90%", "80分及以上、低于90分", "扣完为止且恰好90分"):
        assert said in page, said
    got = c.get(f"/policies/{vid}.json").json()
    assert got["policy"]["pay"]["share"] == "20%" and got["state"] == "published"


def test_a_tier_edited_by_its_form_with_a_located_overlap(app):
    a = Client(app, "admin")
    vid = draft(a)
    assert "检查通过" in a.get(f"/policies/{vid}").text
    form = a.get(f"/policies/{vid}/rules/entry_rate_low")
    assert form.status_code == 200 and 'name="f.tiers[1].range" value="[0, 95)"' in form.text
    # the blank rows left for new tiers are optional: a browser would refuse to send the form otherwise
    assert '<input name="f.tiers[3].points" value="" size="8" inputmode="decimal">' in form.text
    bad = dict(TIER_FORM, **{"f.tiers[0].range": "[90, 100)"})
    live = a.post(f"/policies/{vid}/rules/entry_rate_low", dict(bad, check="1")).json()
    assert live["ok"] is False and live["fields"] == {
        "tiers[1].range": ["发现 [0, 95)，应为 与第 1 档 [90, 100) 不重叠的区间（同一数值只能落在一档）"]}
    r = a.post(f"/policies/{vid}/rules/entry_rate_low", bad)
    assert r.status_code == 422 and 'data-for="tiers[1].range">发现 [0, 95)' in r.text
    r = a.post(f"/policies/{vid}/rules/entry_rate_low", TIER_FORM)
    assert r.status_code == 303
    text = a.get(f"/policies/{vid}/yaml").text
    assert '- {range: &#34;[0, 95)&#34;, points: 6}' in text
    (entry,) = audit(app, "policy.edit")
    assert json.loads(entry["after"])["改动"] == [
        "信息采集 › 信息采集录入不全（entry_rate_low）：计分：按信息采集录入率分档：95%及以上、低于100%扣2分；0%及以上、低于95%扣5分"
        " → 按信息采集录入率分档：95%及以上、低于100%扣2分；0%及以上、低于95%扣6分"]
    diff = a.get(f"/policies/{vid}/diff").text
    assert "0%及以上、低于95%扣6分" in diff and "生效月份" in diff


def test_add_and_delete_a_rule_from_the_catalogue(app):
    a = Client(app, "admin")
    vid = draft(a)
    page = a.get(f"/policies/{vid}/rules/new?section=service&kind=per_count")
    assert page.status_code == 200 and 'name="f.escalate"' in page.text and "群众有效投诉（complaints）" in page.text
    r = a.post(f"/policies/{vid}/rules/new", {"kind": "per_count", "section": "service", "id": "rude", "label": "态度生硬",
                                              "f.metric": "complaints", "f.points": "1"})
    assert r.status_code == 303
    assert "态度生硬" in a.get(f"/policies/{vid}").text
    r = a.post(f"/policies/{vid}/rules/rude", {"kind": "per_count", "op": "delete"})
    assert r.status_code == 303 and "态度生硬" not in a.get(f"/policies/{vid}").text


def test_a_band_gap_in_the_sheet_is_located_and_not_saved(app):
    a = Client(app, "admin")
    vid = draft(a)
    sheet = a.get(f"/policies/{vid}/sheet").text
    values = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', sheet))
    values["bands[1].range"] = "[85, 90)"
    r = a.post(f"/policies/{vid}/sheet", values)
    assert r.status_code == 422 and "pay.bands" in r.text and "空档" in r.text
    assert "[80, 90)" in a.get(f"/policies/{vid}/yaml").text


def test_the_yaml_editor_checks_and_refuses_a_broken_text(app):
    a = Client(app, "admin")
    vid = draft(a)
    text = a.get(f"/policies/{vid}/yaml").text
    yaml = re.search(r'<textarea name="text"[^>]*>(.*?)</textarea>', text, re.S).group(1)
    import html
    yaml = html.unescape(yaml)
    broken = yaml.replace('\nversion: "2026.2"\n', '\nversion: "2026.2"\nfull_scroe: 90\n', 1)
    line = broken.splitlines().index("full_scroe: 90") + 1
    got = a.post(f"/policies/{vid}/check", {"text": broken}).json()
    (p,) = got["problems"]
    assert (p["line"], p["field"], p["found"]) == (line, "full_scroe", "90") and "full_score" in p["hint"]
    r = a.post(f"/policies/{vid}/yaml", {"text": broken})
    assert r.status_code == 422 and f"第 {line} 行" in r.text and "full_scroe: 90" in r.text    # kept in the editor
    assert "full_scroe" not in a.get(f"/policies/{vid}/yaml").text                              # not saved


def test_preview_publish_and_a_published_version_never_changes(app):
    a = Client(app, "admin")
    vid = draft(a)
    assert a.post(f"/policies/{vid}/rules/entry_rate_low", TIER_FORM).status_code == 303
    r = a.post(f"/policies/{vid}/preview", {"months": "1"})
    assert r.status_code == 303
    (job,) = run_jobs(app)
    assert job.state == "done", job.error
    (month,) = job.result["months"]
    assert month["month"] == "2026-09" and month["totals"]["workers"] == 68
    # every worker in the [0, 95) tier of 信息采集录入率 loses one more point, nobody else changes
    page = a.get(f"/jobs/{job.id}").text
    assert "试算完成" in page and "跨月处理的变化" in page
    r = a.post(f"/policies/{vid}/publish")
    assert r.status_code == 303
    office = app.state.web.store.office(1)
    path = Path(office["policy_paths"][-1])
    assert len(office["policy_paths"]) == 2 and path.name == f"v{vid}-chengguan.yaml"
    assert not os.stat(path).st_mode & stat.S_IWUSR
    r = a.post(f"/policies/{vid}/rules/entry_rate_low", TIER_FORM)
    assert r.status_code == 409 and "已发布，不能修改" in r.text
    r = a.post(f"/policies/{vid}/yaml", {"text": "id: x"})
    assert r.status_code == 409
    # the same through the JSON API (token in the header), the sheet and discarding: refused, the file as it was
    text = path.read_bytes()
    r = a.http.post(f"/policies/{vid}/rules/entry_rate_low", data=TIER_FORM,
                    headers={"Accept": "application/json", "X-CSRF-Token": a.csrf})
    assert r.status_code == 409 and "已发布，不能修改" in r.json()["error"]
    assert a.post(f"/policies/{vid}/sheet", {}).status_code == 409
    assert a.post(f"/policies/{vid}/discard").status_code == 409
    assert path.read_bytes() == text
    denied = audit(app, "policy.denied")
    assert [json.loads(d["after"])["操作"] for d in denied][:2] == ["修改规则", "修改 YAML"]
    assert [json.loads(d["after"])["操作"] for d in denied][2:] == ["修改规则", "修改分值和档次", "放弃"]
    (pub,) = audit(app, "policy.publish")
    assert json.loads(pub["after"])["生效月份"] == "2026-11" and len(json.loads(pub["before"])["细则文件"]) == 1
    # the month after the last stored one runs under the old version, 2026-11 under the new
    from engine.app.month import Policies
    pols = Policies(office["policy_paths"])
    assert pols.ps.for_month("2026-10").version == "2026.1" and pols.ps.for_month("2026-11").version == "2026.2"


def test_a_version_effective_from_a_stored_month_is_not_published(app):
    a = Client(app, "admin")
    vid = draft(a, "2026-09")
    r = a.post(f"/policies/{vid}/publish")
    assert r.status_code == 422 and "晚于已存入的月份 2026-09" in r.text
    assert len(app.state.web.store.office(1)["policy_paths"]) == 1
    assert audit(app, "policy.publish.refused")


def test_roles_and_forms(app):
    a = Client(app, "admin")
    vid = draft(a)
    clerk, auditor = Client(app, "clerk_a"), Client(app, "auditor")
    assert clerk.get(f"/policies/{vid}").status_code == 404          # drafts are the county's
    assert auditor.get(f"/policies/{vid}").status_code == 200
    for who in (clerk, auditor):
        assert who.post(f"/policies/{vid}/rules/entry_rate_low", TIER_FORM).status_code == 403
        assert who.post(f"/policies/{vid}/publish").status_code == 403
        assert who.post("/policies/drafts", {"base": "1", "version": "x", "effective_from": "2026-12"}).status_code == 403
    for url, data in ((f"/policies/{vid}/rules/entry_rate_low", TIER_FORM), (f"/policies/{vid}/publish", {}),
                      (f"/policies/{vid}/sheet", {}), (f"/policies/{vid}/yaml", {"text": "x"}),
                      (f"/policies/{vid}/check", {"text": "x"}), (f"/policies/{vid}/preview", {}),
                      (f"/policies/{vid}/discard", {}), ("/policies/drafts", {"base": "1"})):
        assert a.post(url, data, csrf=False).status_code == 403, url
    assert a.get("/policies/schema.json").json()["title"].startswith("wangge 考核细则")


def _form_fields(form_html: str) -> dict:
    """What a browser posts from a form as it stands: inputs, checked boxes, selected options, text areas."""
    import html

    out = {}
    for m in re.finditer(r'<(input|select|textarea)\b([^>]*)>', form_html):
        tag, attrs = m.group(1), m.group(2)
        name = re.search(r'name="([^"]+)"', attrs)
        if not name:
            continue
        name = html.unescape(name.group(1))
        if tag == "input":
            typ = (re.search(r'type="([^"]+)"', attrs) or [None, "text"])[1]
            val = re.search(r'value="([^"]*)"', attrs)
            val = html.unescape(val.group(1)) if val else ""
            if typ in ("checkbox", "radio"):
                if "checked" in attrs:
                    out[name] = val or "on"
            elif typ not in ("submit", "button"):
                out[name] = val
        elif tag == "select":
            options = form_html[m.end():form_html.find("</select>", m.end())]
            chosen = re.search(r'<option([^>]*)selected[^>]*>([^<]*)<', options)
            if chosen:
                value = re.search(r'value="([^"]*)"', chosen.group(1) + chosen.group(0))
                out[name] = html.unescape(value.group(1) if value else chosen.group(2))
        else:
            out[name] = html.unescape(form_html[m.end():form_html.find("</textarea>", m.end())])
    return out


@pytest.mark.parametrize("preset", ["pingtai", "xunchai"])
def test_every_rule_of_the_new_forms_opens_in_its_form_and_saves_back_unchanged(preset, tmp_path):
    """Composite, earn-points, stage deadlines, the same problem again, daily and weekly records: each
    rule of the preset opened in its form and saved as the form stands leaves the policy as it was."""
    import html

    import yaml

    from engine.web.app import create_app
    from engine.web.auth import add_user
    from engine.web.store import Store, default_url

    root = Path(__file__).resolve().parents[1]
    data = tmp_path / "data"
    data.mkdir()
    store = Store(default_url(data))
    oid = store.add_office("测试县", [str(root / "rules" / f"{preset}.yaml")], str(root / "reports" / "office.yaml"),
                           None, unit="测试县")
    add_user(store, office_id=oid, username="admin", password="admin-pass-1", role="admin", town=None)
    store.close()
    app = create_app(data=data)
    try:
        admin = Client(app, "admin")
        vid = draft(admin, "2027-01")
        text = lambda: yaml.safe_load(html.unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>",  # noqa: E731
                                                              admin.get(f"/policies/{vid}/yaml").text, re.S).group(1)))
        before = text()
        rules = [r["id"] for it in before["items"] for r in it["rules"]]
        assert len(rules) >= 4
        for rid in rules:
            page = admin.get(f"/policies/{vid}/rules/{rid}")
            assert page.status_code == 200, rid
            start = page.text.index(f'<form method="post" action="/policies/{vid}/rules/{rid}"')
            fields = _form_fields(page.text[start:page.text.index("</form>", start)])
            fields.pop("csrf", None)
            saved = admin.post(f"/policies/{vid}/rules/{rid}", fields)
            assert saved.status_code == 303, (rid, re.sub(r"<[^>]+>", " ", saved.text)[-800:])
        assert text()["items"] == before["items"]
    finally:
        app.state.web.close()


def test_a_composite_of_four_terms_is_written_from_scratch_on_its_form(app):
    """A new rule's tables start with two blank rows; 再加两行 brings the same form back as typed with two
    more, so a four-term composite (有效上报率×40%+…) can be written before its first save."""
    a = Client(app, "admin")
    vid = draft(a)
    page = a.get(f"/policies/{vid}/rules/new?section=service&kind=composite").text
    assert 'name="f.terms[1].metric"' in page and 'name="f.terms[2].metric"' not in page and "再加两行" in page
    typed = {"kind": "composite", "section": "service", "id": "platform", "label": "平台综合得分",
             "f.terms[0].metric": "patrol_rate", "f.terms[0].weight": "40%",
             "f.terms[1].metric": "satisfaction", "f.terms[1].weight": "20%", "f.terms[1].complement": "true"}
    more = a.post(f"/policies/{vid}/rules/new", dict(typed, op="rows"))
    assert more.status_code == 200 and 'name="f.terms[3].metric"' in more.text
    assert 'name="f.terms[0].weight" value="40%"' in more.text        # what was typed stays
    assert "platform" not in a.get(f"/policies/{vid}/yaml").text      # and nothing was saved
    r = a.post(f"/policies/{vid}/rules/new", dict(typed, **{
        "f.terms[2].ratio": "conflicts_entered、hazards_entered", "f.terms[2].weight": "20%",
        "f.terms[3].metric": "info_entry_rate", "f.terms[3].weight": "20%", "f.decimals": "2", "f.out_of": "10"}))
    assert r.status_code == 303, re.findall(r'data-for="([^"]+)">([^<]+)', r.text)
    import html
    text = html.unescape(a.get(f"/policies/{vid}/yaml").text)
    assert "- {metric: satisfaction, weight: 20%, complement: true}" in text, text[text.find("platform") - 50:][:600]
    assert "平台综合得分" in a.get(f"/policies/{vid}").text
    assert "- {ratio: [conflicts_entered, hazards_entered], weight: 20%}" in text and "out_of: 10" in text
