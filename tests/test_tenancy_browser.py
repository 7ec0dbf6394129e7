"""The city administrator in real Chromium (tests/test_web_browser.py's Browser): `wangge serve` for a
city of two counties (tests/test_tenancy.py's), in its own process; log in, see the overview of both
counties, switch to a county and see its ranking, switch to the other and see only its workers.
Screenshots to $WANGGE_SCREENSHOTS when set."""
from __future__ import annotations

import subprocess

import pytest

from test_tenancy import MONTH, PASSWORD, build_city, secrets_of
from test_web_browser import Browser, shots, start_serve  # noqa: F401  (fixture)
from webkit import shared_office

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    city = build_city(tmp_path_factory.mktemp("citybrowser"), shared_office(tmp_path_factory))
    proc, url = start_serve(city["srv"])
    yield {"url": url, "city": city}
    proc.terminate()
    try:
        assert proc.wait(30) == 0
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


def test_city_admin_overview_and_switch(server, shots, tmp_path):
    from selenium.webdriver.support.ui import Select

    city = server["city"]
    b = Browser(server["url"], tmp_path, shots)
    try:
        b.go("/login")
        b.css("input[name=username]").send_keys("city")
        b.css("input[name=password]").send_keys(PASSWORD)
        b.css("button.primary").click()
        b.wait(lambda d: "/login" not in d.current_url)
        assert b.d.current_url.endswith("/city?msg=choose_county")      # no county chosen yet: the overview
        b.wait_text("全市概况")
        text = b.text()
        for name, k in (("甲县网格化服务管理中心", "a"), ("乙县网格化服务管理中心", "b")):
            assert name in text
        rows = [r.text for r in b.all("table.sheet tbody tr")]
        assert len(rows) == 2 and all("2026年9月" in r for r in rows)
        assert str(len(city["workers"]["a"])) in rows[0] and str(len(city["workers"]["b"])) in rows[1]
        b.shot("city-overview")
        for code, k, other in (("countyb", "b", "a"), ("countya", "a", "b")):
            Select(b.css("form.citybar select[name=county]")).select_by_value(code)
            b.css("form.citybar button").click()
            b.wait_text("已切换县（区）")
            b.go(f"/results/{MONTH}")
            b.wait_text("考核结果")
            body = b.css("table.ranking").text
            assert any(s in body for s in secrets_of(city, k))
            assert not any(s in body for s in secrets_of(city, other))
            b.shot(f"city-ranking-{k}")
    finally:
        b.d.quit()
