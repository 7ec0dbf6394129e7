"""`wangge serve --help`, `wangge user add`, and the demo office `wangge demo` prepares for the browser."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from engine.cli import main
from webkit import TOWN_A, Client, copy_office, shared_office

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_serve_help_has_examples():
    r = CliRunner().invoke(main, ["serve", "--help"])
    assert r.exit_code == 0
    assert "在浏览器中办公" in r.output and "示例：" in r.output
    assert "wangge serve --data /srv/wangge --host 0.0.0.0 --port 8080 --workers 2" in r.output
    assert "[默认：127.0.0.1]" in r.output


def test_serve_without_an_office_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(main, ["serve", "--data", str(tmp_path / "data")])
    assert r.exit_code == 2
    assert f"数据目录 {tmp_path / 'data'} 中还没有账号：先用 wangge user add --data {tmp_path / 'data'} 建立管理员" in r.output


def test_user_add_makes_the_office_then_accounts(tmp_path):
    from engine.app.demo import DEMO_POLICY
    from engine.web.app import create_app

    data = tmp_path / "data"
    run = CliRunner().invoke
    r = run(main, ["user", "add", "--data", str(data), "--username", "boss", "--password", "boss-password"])
    assert r.exit_code == 2 and "第一次建立账号时须用 --policy 指定本单位考核细则" in r.output
    r = run(main, ["user", "add", "--data", str(data), "--username", "boss", "--password", "boss-password",
                   "--policy", str(DEMO_POLICY), "--office-name", "鹤山镇网格化服务管理中心"])
    assert r.exit_code == 0, r.output
    assert "已建立单位「鹤山镇网格化服务管理中心」" in r.output and "已建立账号 boss（县级管理员）" in r.output
    r = run(main, ["user", "add", "--data", str(data), "--username", "hs", "--role", "clerk", "--password", "hs-password"])
    assert r.exit_code == 2 and "镇街办事员须指定所属镇街" in r.output
    r = run(main, ["user", "add", "--data", str(data), "--username", "hs", "--role", "clerk", "--town", TOWN_A,
                   "--password", "hs-password"])
    assert r.exit_code == 0 and f"已建立账号 hs（镇街办事员，{TOWN_A}）" in r.output
    r = run(main, ["user", "add", "--data", str(data), "--username", "x", "--password", "x-password",
                   "--policy", str(DEMO_POLICY)])
    assert r.exit_code == 2 and "单位已建立" in r.output
    app = create_app(data=data)
    c = Client(app)
    assert c.login("hs", "hs-password").status_code == 303
    assert "鹤山镇网格化服务管理中心" in c.get("/").text
    app.state.web.store.close()


def test_demo_office(tmp_path, tmp_path_factory):
    """What `wangge demo` adds for the browser: the accounts it prints, and the month's files in place, checked."""
    from engine.app.demo import DEMO_OFFICE, DEMO_POLICY
    from engine.web.app import create_app
    from engine.web.demo import DEMO_ACCOUNTS, prepare_demo_office

    office = copy_office(shared_office(tmp_path_factory), tmp_path / "o")
    accounts = prepare_demo_office(office["data"], policy=DEMO_POLICY, settings=DEMO_OFFICE, roster_dir=None,
                                   inputs=office["towns"][TOWN_A], month="2026-10", town=TOWN_A)
    assert accounts == DEMO_ACCOUNTS
    app = create_app(data=office["data"])
    for username, password, role, town, _ in DEMO_ACCOUNTS:
        c = Client(app)
        assert c.login(username, password).status_code == 303, username
    c = Client(app)
    c.login("heshan", "wangge-heshan")
    page = c.get("/months/2026-10").text
    assert "检查通过" in page and "workers.csv" in page
    assert c.get("/results/2026-09").status_code == 200
    app.state.web.store.close()
