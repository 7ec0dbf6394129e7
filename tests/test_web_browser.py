"""The office as a person uses it, in real Chromium (Debian's chromium and chromium-driver, driven by
Selenium): `wangge serve` runs in its own process on a free loopback port with its worker process.

A town clerk logs in, uploads a month with a broken row and sees it located, fixes it, runs the month,
opens a worker's findings and downloads the pay sheet; an administrator sees all towns; a clerk's attempt
at another town's page is refused.  Screenshots of the main pages go to $WANGGE_SCREENSHOTS when set."""
from __future__ import annotations

import csv
import io
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from webkit import ACCOUNTS, TOWN_A, TOWN_B, Client, copy_office, shared_office

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
ROOT = Path(__file__).resolve().parents[1]

if not (Path(CHROMIUM).exists() and Path(DRIVER).exists()):
    if os.environ.get("CI"):
        raise RuntimeError("chromium / chromium-driver missing: scripts/install-system.sh installs them")
    pytest.skip("Chromium not installed (bash scripts/install-system.sh)", allow_module_level=True)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_serve(data: Path) -> tuple[subprocess.Popen, str]:
    """`wangge serve --data <data>` in its own process on a free loopback port, once it listens."""
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT), WANGGE_DATA="")
    env.pop("WANGGE_DATABASE", None)
    proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "serve", "--data", str(data), "--port", str(port)],
                            cwd=str(ROOT), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(proc.stdout.read().decode())
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("wangge serve did not start")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The two-town office with 云门镇's October already uploaded, served by `wangge serve`."""
    from engine.web.app import create_app

    office = copy_office(shared_office(tmp_path_factory), tmp_path_factory.mktemp("browser"))
    app = create_app(data=office["data"])
    b = Client(app, "clerk_b")
    for k in ("workers", "metrics", "events"):
        b.upload("2026-10", k, office["towns"][TOWN_B][k])
    app.state.web.store.close()
    proc, url = start_serve(office["data"])
    yield {"url": url, "office": office, "proc": proc}
    proc.terminate()                       # SIGTERM: the server stops its worker process and exits cleanly
    try:
        rc = proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    out = proc.stdout.read().decode()
    assert rc == 0 and out.rstrip().endswith("已停止。"), out


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = Path(os.environ.get("WANGGE_SCREENSHOTS") or tmp_path_factory.mktemp("shots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Browser:
    def __init__(self, base: str, downloads: Path, shots: Path):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        self.profile = tempfile.mkdtemp(prefix="wangge-chromium-")
        for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--lang=zh-CN", f"--user-data-dir={self.profile}", "--window-size=1360,900"):
            opts.add_argument(a)
        self.d = webdriver.Chrome(service=Service(DRIVER), options=opts)
        self.d.implicitly_wait(0)
        self.d.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
        self.base, self.downloads, self.shots = base, downloads, shots

    def go(self, path: str) -> None:
        self.d.get(self.base + path)

    def css(self, sel: str):
        from selenium.webdriver.common.by import By
        return self.d.find_element(By.CSS_SELECTOR, sel)

    def all(self, sel: str):
        from selenium.webdriver.common.by import By
        return self.d.find_elements(By.CSS_SELECTOR, sel)

    def wait(self, cond, timeout: float = 60):
        from selenium.webdriver.support.ui import WebDriverWait
        return WebDriverWait(self.d, timeout, poll_frequency=0.1).until(cond)

    def text(self) -> str:
        return self.css("body").text

    def wait_text(self, words: str, timeout: float = 60) -> None:
        """Until the page shows `words` (a page that reloads meanwhile is read again)."""
        from selenium.common.exceptions import WebDriverException

        def shown(d):
            try:
                return words in d.find_element("css selector", "body").text
            except WebDriverException:       # stale, or "node does not belong to the document": reloading
                return False
        self.wait(shown, timeout)

    def login(self, username: str) -> None:
        self.go("/login")
        self.css("input[name=username]").send_keys(username)
        self.css("input[name=password]").send_keys(ACCOUNTS[username][0])
        self.css("button.primary").click()
        self.wait(lambda d: "/login" not in d.current_url)

    def upload(self, kind: str, path: Path) -> None:
        from selenium.common.exceptions import WebDriverException

        def form_of_kind(d):   # the page after the last upload may still be loading (seen once under load)
            try:
                return next((f for f in self.all("form.upload") if f.find_element("css selector", "input[name=kind]")
                             .get_attribute("value") == kind), False)
            except WebDriverException:
                return False
        form = self.wait(form_of_kind, 30)
        form.find_element("css selector", "input[type=file]").send_keys(str(path))
        form.find_element("css selector", "button").click()
        self.wait(lambda d: "msg=uploaded" in d.current_url)

    def shot(self, name: str) -> None:
        self.d.execute_script("window.scrollTo(0, 0)")
        h = self.d.execute_script("return document.body.scrollHeight")
        self.d.set_window_size(1360, min(max(h, 700), 4000))
        self.d.save_screenshot(str(self.shots / f"{name}.png"))
        self.d.set_window_size(1360, 900)

    def quit(self) -> None:
        self.d.quit()
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture()
def browser(server, shots, tmp_path):
    b = Browser(server["url"], tmp_path, shots)
    yield b
    b.quit()


def test_clerk_month_from_upload_to_pay_sheet(server, browser, tmp_path):
    import openpyxl

    office = server["office"]
    b = browser
    b.login("clerk_a")
    b.go("/months/2026-10")
    assert f"{TOWN_A}" in b.css("h2").text and TOWN_B not in b.text()
    # a register with a wage of "3,4OO" in row 7 (a letter O for a zero)
    rows = list(csv.reader(io.StringIO(office["towns"][TOWN_A]["workers"].read_text(encoding="utf-8"))))
    wage = rows[0].index("月工资")
    good = rows[6][wage]
    rows[6][wage] = "34OO"
    broken = tmp_path / "鹤山镇名册.csv"
    broken.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    b.upload("workers", broken)
    b.upload("metrics", office["towns"][TOWN_A]["metrics"])
    b.upload("events", office["towns"][TOWN_A]["events"])
    marked = b.css("td.mark")
    assert marked.text == "34OO"
    problems = b.css("table.problems").text
    assert "第 7 行" in problems and "月工资" in problems and "34OO" in problems
    assert "1 处问题" in b.css(f"#town-{TOWN_A} h2").text
    b.shot("1-月份-问题定位")
    # fixed and uploaded again
    rows[6][wage] = good
    fixed = tmp_path / "鹤山镇名册-改.csv"
    fixed.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    b.upload("workers", fixed)
    assert "检查通过" in b.css(f"#town-{TOWN_A} h2").text and not b.all("td.mark")
    b.css("form[action='/months/2026-10/run'] button").click()
    b.wait(lambda d: "/jobs/" in d.current_url)
    b.shot("2-任务进度")
    b.wait_text("已存入2026年10月考核结果", timeout=120)
    b.shot("3-任务完成")
    b.css("a.button.primary").click()
    b.wait(lambda d: "/results/2026-10" in d.current_url)
    assert "2026年10月考核结果" in b.text()
    towns = {td.text for td in b.all("table.ranking tbody td:nth-child(5)")}
    assert towns == {TOWN_A}
    b.shot("4-考核结果-镇街办事员")
    # a worker with deductions: every finding with its rule, reason and input row
    link = next(a for a in b.all("table.ranking tbody tr") if int(a.find_elements("css selector", "td")[13].text) > 0)
    wid = link.find_elements("css selector", "td")[2].text
    link.find_elements("css selector", "td a")[0].click()
    b.wait(lambda d: f"/workers/{wid}" in d.current_url)
    findings = b.all("table.findings tbody tr")
    assert findings
    first = findings[0].text
    assert f"{TOWN_A} 月度指标表（metrics.csv） 第" in b.text() or f"{TOWN_A} 事件台账（events.csv） 第" in b.text()
    assert "扣" in first
    b.shot("5-网格员明细")
    # the pay sheet of the clerk's town
    b.go("/papers/2026-10")
    b.shot("6-发放表和打印材料")
    next(a for a in b.all("a[href^='/papers/2026-10/paysheet.xlsx']") if a.text == f"发放表-{TOWN_A}.xlsx").click()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not list(tmp_path.glob("*.xlsx")):
        time.sleep(0.2)
    (sheet,) = list(tmp_path.glob("*.xlsx"))
    assert sheet.name == f"2026-10-绩效工资发放表-{TOWN_A}.xlsx"
    ws = openpyxl.load_workbook(sheet).active
    cells = {str(c) for row in ws.iter_rows(values_only=True) for c in row if c}
    assert TOWN_A in cells and TOWN_B not in cells


def test_administrator_sees_all_towns(server, browser):
    b = browser
    b.login("admin")
    b.go("/results/2026-09")
    options = [o.text for o in b.all("select[name=town] option")]
    assert options == ["全部", TOWN_B, TOWN_A]
    assert {td.text for td in b.all("table.ranking tbody td:nth-child(5)")} == {TOWN_A, TOWN_B}
    assert len(b.all("figure.chart svg")) == 4
    b.shot("7-考核结果-管理员")
    from selenium.webdriver.support.ui import Select
    Select(b.css("select[name=town]")).select_by_visible_text(TOWN_B)
    b.css("form.filters button").click()
    b.wait(lambda d: "town=" in d.current_url)
    assert {td.text for td in b.all("table.ranking tbody td:nth-child(5)")} == {TOWN_B}
    b.go("/audit")
    assert "审计日志" in b.css("h1").text
    b.shot("8-审计日志")


def test_clerk_cannot_open_another_towns_pages(server, browser):
    from engine.app.month import month_results

    res = month_results(server["office"]["data"], "2026-09")
    other = next(w for w in res["workers"] if w["town"] == TOWN_B)
    b = browser
    b.login("clerk_a")
    b.go(f"/results/2026-09/workers/{other['worker_id']}")
    assert b.css("h1").text == "没有找到" and other["name"] not in b.text()
    b.go(f"/results/2026-09?town={TOWN_B}")
    assert b.css("h1").text == "无权访问" and f"您只能查看本镇街（{TOWN_A}）的数据" in b.text()
    b.shot("9-越权被拒")
    b.go("/users")
    assert b.css("h1").text == "无权访问"


def test_enter_in_a_rule_form_saves_and_more_rows_keeps_what_was_typed(server, browser):
    """A rule form with a table (tiers) has 再加两行 beside the table; Enter in a field still saves."""
    import re
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    b = browser
    b.login("admin")
    b.go("/policies")
    b.css("#new-draft input[name=version]").send_keys("2026.9")
    b.d.execute_script("document.querySelector('#new-draft input[name=effective_from]').value = '2026-11'")
    b.css("#new-draft button").click()
    b.wait(lambda d: re.search(r"/policies/\d+", d.current_url))
    vid = re.search(r"/policies/(\d+)", b.d.current_url).group(1)
    b.go(f"/policies/{vid}/rules/new?section=service&kind=tiers")
    b.css("input[name=id]").send_keys("satisfaction_very_low")
    b.css("input[name=label]").send_keys("满意率很低")
    Select(b.css("select[name='f.metric']")).select_by_value("satisfaction")
    b.css("input[name='f.tiers[0].range']").send_keys("[0, 60)")
    b.css("input[name='f.tiers[0].points']").send_keys("3")
    assert len(b.all("input[name$='.points']")) == 2
    next(x for x in b.all("button") if x.text == "再加两行").click()
    b.wait(lambda d: len(b.all("input[name$='.points']")) == 4)
    assert b.css("input[name='f.tiers[0].range']").get_attribute("value") == "[0, 60)"
    b.css("input[name='f.tiers[1].range']").send_keys("[60, 70)")
    b.css("input[name='f.tiers[1].points']").send_keys("1" + Keys.ENTER)
    b.wait(lambda d: "msg=saved" in d.current_url)
    assert "满意率很低" in b.text()
