"""Policies, appeals and rosters as a person uses them, in real Chromium (issue 14), against `wangge serve`:

- an administrator drafts a new version, edits a tier, sees the overlap located at the field as they
  type, fixes it, looks at the YAML editor's located problem, previews the payroll delta on the last
  stored month, publishes; the published version refuses a change;
- a clerk files an appeal with a corrected figure; the administrator approves it, the diff appears,
  the 更正通知 is printed as a draft and issued with a number, and downloaded as a PDF;
- a clerk solves their town's roster, leaves a grid unpatrolled by hand and sees the rule it breaks at
  its cell, is refused publishing, undoes it, publishes, enters leave, re-plans from its first day
  (only later cells change, marked), publishes again and opens the print.

Screenshots go to $WANGGE_SCREENSHOTS when set (14-* names)."""
from __future__ import annotations

import time

import pytest

from test_web_browser import Browser, server, shots  # noqa: F401  (fixtures)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture()
def browser(server, shots, tmp_path):  # noqa: F811
    b = Browser(server["url"], tmp_path, shots)
    yield b
    b.quit()


def confirm(b) -> None:
    b.wait(lambda d: _alert(d))
    b.d.switch_to.alert.accept()


def _alert(d):
    try:
        return d.switch_to.alert
    except Exception:     # noqa: BLE001 - not there yet
        return False


def set_value(el, text: str) -> None:
    el.clear()
    el.send_keys(text)


def test_administrator_edits_a_tier_previews_and_publishes(browser):
    b = browser
    b.login("admin")
    b.go("/policies")
    assert "chengguan 2026.1" in b.text()
    form = b.css("form#new-draft")
    set_value(form.find_element("css selector", "input[name=version]"), "2026.2")
    b.d.execute_script("arguments[0].value = '2026-11'", form.find_element("css selector", "input[name=effective_from]"))
    form.find_element("css selector", "button").click()
    b.wait(lambda d: "msg=draft" in d.current_url)
    b.wait_text("检查通过")
    b.shot("14-1-细则草稿")
    b.css("#rule-entry_rate_low a[href*='/rules/']").click()
    b.wait(lambda d: "/rules/entry_rate_low" in d.current_url)
    first = b.css("input[name='f.tiers[0].range']")
    set_value(first, "[90, 100)")
    err = b.css(".field-error[data-for='tiers[1].range']")
    b.wait(lambda d: "不重叠" in err.text, 30)
    assert "与第 1 档 [90, 100) 不重叠的区间" in err.text and "1 处问题" in b.css(".check-status").text
    b.shot("14-2-分档重叠定位")
    set_value(first, "[95, 100)")
    set_value(b.css("input[name='f.tiers[1].points']"), "6")
    b.wait(lambda d: "检查通过" in b.css(".check-status").text, 30)
    assert err.text == ""
    b.css("button[name=op][value=save]").click()
    b.wait(lambda d: "msg=saved" in d.current_url)
    assert "扣6分" in b.css("#rule-entry_rate_low").text
    # the YAML editor: a misspelt key marked at its line as it is typed
    b.d.get(b.d.current_url.split("?")[0] + "/yaml")
    area = b.css("textarea#yaml")
    b.d.execute_script("var a = arguments[0]; a.value = a.value.replace('\\nfull_score', '\\nfull_scroe'); "
                       "if (a.value.indexOf('full_scroe') < 0) { a.value = a.value.replace('\\nmetrics:', '\\nfull_scroe: 90\\nmetrics:'); }"
                       "a.dispatchEvent(new Event('input'));", area)
    b.wait(lambda d: "full_scroe" in b.css(".check-results").text, 30)
    line = int(b.css(".check-results a.line-link").get_attribute("data-line"))
    assert area.get_attribute("value").splitlines()[line - 1].startswith("full_scroe")
    assert f"▶{line}" in b.css(".gutter").text
    b.css(".check-results a.line-link").click()
    b.shot("14-3-YAML编辑器")
    b.d.get(b.d.current_url.split("/yaml")[0])           # leave without saving
    assert "full_scroe" not in b.text()
    # what it costs on the last stored month
    b.css("form[action$='/preview'] button").click()
    b.wait(lambda d: "/jobs/" in d.current_url)
    b.wait_text("试算完成", 120)
    assert "实发合计" in b.text() and "得分变化" in b.text()
    changed = b.all("table.preview-workers tbody tr")
    assert changed, "the [0, 95) tier's workers lose a point"
    b.shot("14-4-试算结果")
    b.css("a[href^='/policies/']").click()
    b.css("form[action$='/publish'] button").click()
    confirm(b)
    b.wait(lambda d: "msg=published" in d.current_url)
    assert "已发布" in b.css("h1").text
    b.shot("14-5-已发布")
    vid = b.d.current_url.split("?")[0].rsplit("/", 1)[1]
    b.go(f"/policies/{vid}/rules/entry_rate_low")
    assert b.css("h1").text == "暂不能进行" and "已发布，不能修改" in b.text()


def test_clerk_appeals_administrator_approves_and_issues_the_notice(browser, server, tmp_path):  # noqa: F811
    import subprocess

    b = browser
    b.login("clerk_a")
    b.go("/results/2026-09?town=鹤山镇")
    row = next(r for r in b.all("table.ranking tbody tr") if r.find_elements("css selector", "td")[13].text == "0")
    row.find_elements("css selector", "td a")[0].click()
    b.wait(lambda d: "/workers/" in d.current_url)
    b.css("a.button.small[href$='/appeal']").click()
    b.wait(lambda d: d.current_url.endswith("/appeal"))
    heads = [th.text for th in b.all("section.card")[1].find_elements("css selector", "thead th")]
    col = heads.index("巡查到位率") - 1
    cell = b.all("section.card")[1].find_elements("css selector", f"input[name^='c.metrics.'][name$='.{col}']")[0]
    set_value(cell, "85")
    b.css("textarea[name=reason]").send_keys("九月巡查到位率应为85%，统计时误填为100%")
    b.shot("14-6-提出申诉")
    b.css("form.appeal-form button.primary").click()
    b.wait(lambda d: "msg=filed" in d.current_url)
    assert "待审核" in b.text()
    appeal = b.d.current_url.split("?")[0]
    b.d.delete_all_cookies()
    b.login("admin")
    b.d.get(appeal)
    b.css("form[action$='/approve'] button").click()
    confirm(b)
    b.wait(lambda d: "/jobs/" in d.current_url)
    b.wait_text("已更正", 120)
    b.d.get(appeal)
    diff = b.css("section.correction-diff").text
    # 巡查到位率 100 -> 85 falls in the tier [0, 90) of patrol_rate_low: 5 points off, nothing else moves
    import re
    before, after = map(int, re.search(r"(\d+) → (\d+)", diff).groups())
    assert before - after == 5 and "没有跨月处理出现或消失" in diff
    b.css("section.card form[action$='/notice'] button").click()
    b.wait(lambda d: "/jobs/" in d.current_url)
    b.wait_text("更正通知已生成", 120)
    b.d.get(appeal)
    assert "送审稿" in b.text()
    b.css("form[action$='/notice'].row button.primary").click()
    confirm(b)
    b.wait(lambda d: "/jobs/" in d.current_url)
    b.wait_text("更正通知已生成：", 120)
    b.d.get(appeal)
    assert "已出文" in b.text() and "〔2026〕" in b.text()
    b.shot("14-7-更正完成")
    b.css("a[href$='.pdf']").click()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not list(tmp_path.glob("*.pdf")):
        time.sleep(0.2)
    (pdf,) = list(tmp_path.glob("*.pdf"))
    assert pdf.name.endswith("考核结果更正通知.pdf")
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(b.shots / "14-8-更正通知")],
                   check=True)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "关于更正2026年9月网格员考核结果的通知" in text.replace("\u2060", "") and "〔2026〕" in text


def test_clerk_adjusts_a_roster_cell_undoes_replans_after_leave_and_publishes(browser, server):  # noqa: F811
    from sqlalchemy import update

    from engine.app.demo import DEMO_ROSTER
    from engine.web import rosters as wr
    from engine.web.app import create_app
    from engine.web.store import offices

    data = server["office"]["data"]
    app = create_app(data=data)
    app.state.web.store.run(update(offices).values(roster_problem=str(DEMO_ROSTER)))
    app.state.web.store.close()
    b = browser
    b.login("clerk_a")
    b.go("/rosters?month=2026-10")
    row = next((r for r in b.all("table.list tbody tr") if r.text.startswith("鹤山镇")), None)
    assert row is not None, b.text()[:1500]
    set_value(row.find_element("css selector", "input[name=time_limit]"), "10")
    row.find_element("css selector", "button.primary").click()
    b.wait(lambda d: "/jobs/" in d.current_url)
    b.wait_text("进行中", 60)
    b.wait(lambda d: b.css("[data-field=count]").text.strip() != "", 60)   # the solver's progress, in seconds
    b.shot("14-9-排班进度")
    b.wait_text("巡查排班已排出", 180)
    assert "硬性规则全部校验通过" in b.text()
    b.css("a.button.primary[href^='/rosters/']").click()
    b.wait(lambda d: "/rosters/2026-10/" in d.current_url)
    assert b.css("#rules-state").text == "全部通过"
    b.shot("14-10-排班日历")
    # a grid left without its patrol on 3 October: every hard rule checked, the break said at its cell
    run, _ = wr.load_state(wr.town_dir(data, "2026-10", "鹤山镇"))
    # the first grid whose worker is on duty on one of 15-17 October in this solve (the leave below must
    # change something; a time-limited solve may give any one worker those days off)
    grid = next(g for g in sorted(run.problem.grids)
                if any(run.roster.duty.get((run.problem.grids[g].worker, d)) is not None for d in (14, 15, 16)))
    worker = run.problem.grids[grid].worker
    cell = b.css(f"td[data-sheet=grids][data-key='{grid}'][data-day='2']")
    b.d.execute_script("arguments[0].scrollIntoView({block: 'center'})", cell)
    cell.click()
    form = b.css("form.adjust-form[data-sheet=grids]")
    assert form.find_element("css selector", "[name=key]").get_attribute("value") == grid
    assert form.find_element("css selector", "[name=day]").get_attribute("value") == "2"
    from selenium.webdriver.support.ui import Select
    Select(form.find_element("css selector", "[name=value]")).select_by_value("")
    form.find_element("css selector", "button").click()
    b.wait(lambda d: "msg=roster_broken" in d.current_url)
    said = b.css(".roster-problems").text
    assert "这次调整违反了" in said and "网格每日巡查" in said and grid in said
    assert "broken" in b.css(f"td[data-sheet=grids][data-key='{grid}'][data-day='2']").get_attribute("class")
    b.shot("14-11-调整违反规则")
    b.css("#publish-form button").click()
    confirm(b)
    b.wait_text("全部硬性规则校验通过的排班")                 # refused while a rule is broken
    b.css("#undo-form button").click()
    b.wait(lambda d: "msg=roster_undone" in d.current_url)
    assert b.css("#rules-state").text == "全部通过" and not b.all(".roster-problems")
    b.css("#publish-form button").click()
    confirm(b)
    b.wait(lambda d: "msg=roster_published" in d.current_url)
    assert "已发布" in b.css("h1").text
    # leave reported mid-month, the month re-planned from its first day
    leave = b.css("#leave-form")
    Select(leave.find_element("css selector", "[name=person]")).select_by_value(worker)
    for name, day in (("start", "2026-10-15"), ("end", "2026-10-17")):
        b.d.execute_script("arguments[0].value = arguments[1]", leave.find_element("css selector", f"[name={name}]"), day)
    set_value(leave.find_element("css selector", "[name=reason]"), "病假")
    leave.find_element("css selector", "button").click()
    b.wait(lambda d: "msg=leave_added" in d.current_url)
    replan = b.css("#replan-form")
    assert replan.find_element("css selector", "[name=from]").get_attribute("value") == "2026-10-15"
    set_value(replan.find_element("css selector", "[name=time_limit]"), "10")
    replan.find_element("css selector", "button").click()
    b.wait(lambda d: "/jobs/" in d.current_url)
    b.wait_text("巡查排班已重新调整", 180)
    b.css("a.button.primary[href^='/rosters/']").click()
    b.wait(lambda d: "/rosters/2026-10/" in d.current_url)
    changed = b.all("td.changed")
    assert changed and all(int(td.get_attribute("data-day")) >= 14 for td in changed)
    assert b.css(f"td[data-sheet=people][data-key='{worker}'][data-day='14']").text == "假"
    assert "自 2026-10-15 起按请假重新调整" in b.text()
    b.d.execute_script("arguments[0].scrollIntoView({block: 'center'})", changed[0])
    b.shot("14-12-请假后重新调整")
    b.css("#publish-form button").click()
    confirm(b)
    b.wait(lambda d: "msg=roster_published" in d.current_url)
    assert "已发布" in b.css("h1").text
    b.go("/rosters/2026-10/鹤山镇/print")
    assert "网格巡查排班表" in b.css("h1").text and "草稿" not in b.css("h1").text
    assert len(b.all("table.roster-grids")) == 3 and len(b.all("table.roster-people")) == 3     # 10 or 11 days each
    b.shot("14-13-打印排班表")
    # printed as the browser prints it (its @page: landscape A4): every day column on the paper
    import base64
    import subprocess

    from selenium.webdriver.common.print_page_options import PrintOptions
    opts = PrintOptions()
    opts.orientation = "landscape"
    pdf = b.shots / "14-14-打印排班表.pdf"
    pdf.write_bytes(base64.b64decode(b.d.print_page(opts)))
    text = subprocess.run(["pdftotext", "-layout", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "网格巡查排班表" in text and "10/1(四)" in text and "10/11(日)" in text
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(b.shots / "14-14-打印排班表")],
                   check=True)
