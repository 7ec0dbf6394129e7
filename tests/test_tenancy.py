"""Tenancy (issue 15 item 2): one city centre, two counties, each with its own data folder, policy,
users and stored month (different worker ids, names and towns).  No page, object id or store query
of one county shows anything of the other; the city administrator sees both through the county
switcher and the overview; a county administrator cannot switch.

County A is tests/webkit.py's two-town office (September stored); county B is the same month with
every worker id, name and town rewritten, stored from its own files into its own data folder
through the application layer.  Each county's users are its own (a_*, b_*)."""
from __future__ import annotations

import csv
from decimal import ROUND_HALF_UP, Decimal
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from webkit import CSRF_RX, TOWN_A, TOWN_B, shared_office

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

MONTH = "2026-09"
B_TOWNS = {TOWN_A: "乙东镇", TOWN_B: "乙西镇"}
PASSWORD = "tenancy-pass-1"
USERS = {  # username: (county, role, town)
    "a_admin": ("a", "admin", None), "a_clerk": ("a", "clerk", TOWN_A), "a_finance": ("a", "finance", None),
    "b_admin": ("b", "admin", None), "b_clerk": ("b", "clerk", B_TOWNS[TOWN_A]), "b_finance": ("b", "finance", None),
    "b_auditor": ("b", "auditor", None), "city": ("city", "city_admin", None),
}


B_LEAVES = "W0068"          # county B has one worker fewer (its count and mean differ from A's)


def _rewrite(src: Path, dst: Path, fix) -> Path:
    rows = list(csv.reader(io.StringIO(src.read_text(encoding="utf-8-sig"))))
    head = rows[0]
    out = [head] + [fix(head, r) for r in rows[1:] if B_LEAVES not in r]
    dst.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(out)
    dst.write_text(buf.getvalue(), encoding="utf-8")
    return dst


def _b_row(head: list[str], r: list[str]) -> list[str]:
    """County B's row: ids W… become B…, names 乙县员<id>, towns renamed."""
    r = list(r)
    for i, h in enumerate(head):
        if h in ("工号", "网格员工号", "worker_id") or (r[i].startswith("W0") and r[i][1:].isdigit()):
            r[i] = "B" + r[i][1:]
        elif h in ("姓名", "name"):
            r[i] = f"乙县员{r[i - 1][1:] if i else ''}"
        elif h in ("乡镇", "town") and r[i] in B_TOWNS:
            r[i] = B_TOWNS[r[i]]
    return r


def build_city(root: Path, base: dict, pg=None, backend: str = "sqlite") -> dict:
    """The city's web store (in the server's folder `root/srv`, or on PostgreSQL) with counties A and
    B, each month stored through the application layer into the county's own history: its data
    folder's SQLite file, or its own database on the one PostgreSQL server."""
    from engine.app.demo import DEMO_OFFICE, DEMO_POLICY
    from engine.app.month import MonthFiles, month_results, run_month
    from engine.web.auth import add_user
    from engine.web.store import Store, default_url

    srv = root / "srv"
    srv.mkdir()
    web_url = pg.url(root / "web") if pg else default_url(srv)
    store = Store(web_url)
    cid = store.add_office("测试市网格化服务管理中心", [], code="testcity", kind="city")
    ids, data, dbs, workers = {"city": cid}, {}, {}, {}
    for key, name in (("a", "甲县网格化服务管理中心"), ("b", "乙县网格化服务管理中心")):
        data[key] = root / key
        data[key].mkdir()
        dbs[key] = pg.url(root / f"history-{key}") if pg else None
        src = base["county"] if key == "a" else {k: _rewrite(p, root / "b-src" / p.name, _b_row)
                                                  for k, p in base["county"].items()}
        run_month((str(DEMO_POLICY),), MONTH, MonthFiles(src["workers"], src["metrics"], src["events"]),
                  data[key], data[key] / "months" / MONTH, database=dbs[key])
        workers[key] = month_results(data[key], MONTH, database=dbs[key])["workers"]
        ids[key] = store.add_office(name, [str(DEMO_POLICY)], str(DEMO_OFFICE), code=f"county{key}", parent_id=cid,
                                    data_dir=str(data[key]), database=dbs[key], unit=name)
    for username, (county, role, town) in USERS.items():
        add_user(store, office_id=ids[county], username=username, password=PASSWORD, role=role, town=town)
    store.close()
    assert {w["worker_id"] for w in workers["a"]}.isdisjoint({w["worker_id"] for w in workers["b"]})
    assert len(workers["b"]) == len(workers["a"]) - 1
    return {"srv": srv, "url": web_url, "ids": ids, "data": data, "db": dbs, "workers": workers,
            "files": base["towns"], "backend": backend}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def city(request, tmp_path_factory):
    pg = request.getfixturevalue("pg") if request.param == "postgresql" else None
    return build_city(tmp_path_factory.mktemp("city"), shared_office(tmp_path_factory), pg, request.param)


@pytest.fixture(scope="module")
def app(city):
    from engine.web.app import WebSettings, create_app

    a = create_app(WebSettings(data=city["srv"], url=city["url"]))
    yield a
    a.state.web.close()


class Client:
    def __init__(self, app, username: str):
        from fastapi.testclient import TestClient

        self.http = TestClient(app, follow_redirects=False)
        page = self.http.get("/login")
        token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
        r = self.http.post("/login", data={"username": username, "password": PASSWORD, "login_token": token, "next": "/"})
        assert r.status_code == 303, r.text
        self.csrf = CSRF_RX.search(self.http.get("/account").text).group(1)

    def get(self, url: str, **kw):
        return self.http.get(url, **kw)

    def post(self, url: str, data: dict | None = None, **kw):
        return self.http.post(url, data=dict(data or {}, csrf=self.csrf), **kw)


def secrets_of(city, county: str) -> set[str]:
    """What only that county's pages may show: its worker ids and names."""
    ws = city["workers"][county]
    return {w["worker_id"] for w in ws} | {w["name"] for w in ws if w.get("name")}


@pytest.fixture(scope="module")
def objects(app, city):
    """County A's objects, made by its own users: an upload, a queued job, its imported policy versions,
    an appeal, a month-run job."""
    from engine.web.store import appeals, now, policy_versions

    a = Client(app, "a_admin")
    with open(city["files"][TOWN_A]["workers"], "rb") as fh:
        r = a.http.post("/months/2026-10/uploads", data={"kind": "workers", "town": TOWN_A, "csrf": a.csrf},
                        files={"file": ("workers.csv", fh.read())})
    assert r.status_code == 303, r.text
    store = app.state.web.store
    upload_id = store.latest_uploads(city["ids"]["a"], "2026-10")[0]["id"]
    assert a.get("/policies").status_code == 200          # imports A's policy as its first version
    vid = store.one(select(policy_versions.c.id).where(policy_versions.c.office_id == city["ids"]["a"]))["id"]
    job = app.state.web.queue.submit(city["ids"]["a"], "print_pack", {"month": MONTH, "key": "t"}, town=None,
                                     user={"username": "a_admin", "office_id": city["ids"]["a"]})
    w = city["workers"]["a"][0]
    aid = store.insert(appeals, office_id=city["ids"]["a"], month=MONTH, worker_id=w["worker_id"], worker_name=w["name"],
                       town=w["town"], reason="测试", changes="{}", folder="x", state="filed", filed_by="a_clerk",
                       filed_at=now())
    return {"upload_id": str(upload_id), "job_id": str(job), "vid": str(vid), "aid": str(aid),
            "worker_id": w["worker_id"], "town": w["town"], "month": MONTH, "name": "x.pdf", "kind": "workers",
            "fmt": "xlsx", "rule_id": "x"}


def get_routes(app, method: str = "GET") -> list[str]:
    """Every path of the app answering `method`, the included routers' too (FastAPI keeps them as
    included-router entries; the app's routers are included without a prefix)."""
    from fastapi.routing import APIRoute

    def walk(routes):
        for r in routes:
            inner = getattr(r, "original_router", None)
            if inner is not None:
                yield from walk(inner.routes)
            elif isinstance(r, APIRoute) and method in r.methods:
                yield r.path
    paths = sorted(set(walk(app.routes)))
    assert len(paths) > 20 and ("/results/{month}" in paths or "/city/switch" in paths)
    return paths


def test_each_county_stores_and_reads_its_own_history(city):
    """The two months were stored in two histories, one per county (two SQLite files in the counties'
    data folders, or two databases on the server), none in the server's folder."""
    from engine.app.month import stored_months

    for k in ("a", "b"):
        assert (city["data"][k] / "history.sqlite3").is_file() == (city["backend"] == "sqlite")
        assert [m.month for m in stored_months(city["data"][k], database=city["db"][k])[0]] == [MONTH]
    assert city["db"]["a"] != city["db"]["b"] or city["backend"] == "sqlite"
    assert not (city["srv"] / "history.sqlite3").exists()


def test_no_get_page_shows_the_other_countys_workers(app, city, objects):
    """(a) Every GET route of the app (a route added later is covered by enumeration), filled with
    county A's ids, towns and months, as county B's administrator, finance and clerk: no A worker id
    or name in any answer."""
    leak = secrets_of(city, "a")
    own = secrets_of(city, "b")
    seen_own = False
    for user in ("b_admin", "b_finance", "b_clerk"):
        c = Client(app, user)
        for path in get_routes(app):
            url = re.sub(r"\{(\w+)\}", lambda m: objects.get(m.group(1), "x"), path)
            r = c.get(url)
            assert r.status_code < 500, (user, url, r.status_code, r.text[:300])
            body = r.text
            found = {s for s in leak if s in body and s not in url}     # the asked id may be said back
            assert not found, (user, url, sorted(found)[:5])
            seen_own = seen_own or any(s in body for s in own)
    assert seen_own        # the pages did show B's own workers: the check looked at real pages


ID_ROUTES = ("/uploads/{upload_id}", "/uploads/{upload_id}/file", "/uploads/{upload_id}/mapping", "/jobs/{job_id}",
             "/jobs/{job_id}.json", "/appeals/{aid}", "/appeals/{aid}/notice/{name}", "/policies/{vid}",
             "/policies/{vid}.json", "/policies/{vid}/yaml", "/policies/{vid}/sheet", "/policies/{vid}/diff",
             "/policies/{vid}/rules/new", "/policies/{vid}/rules/{rule_id}", "/results/{month}/workers/{worker_id}",
             "/results/{month}/workers/{worker_id}.json", "/results/{month}/workers/{worker_id}/appeal",
             "/workers/{worker_id}")


def test_other_countys_object_ids_are_404_and_audited(app, city, objects):
    """(b) Every route, GET and POST, that takes an object id (upload, job, appeal, policy version,
    worker) answers county A's id to county B's administrator with 404, and the refusal is in the
    audit log under B."""
    from engine.web.store import audit_log

    taking_ids = [p for p in get_routes(app) if re.search(r"\{(upload_id|job_id|aid|vid|worker_id)\}", p)]
    assert sorted(taking_ids) == sorted(ID_ROUTES), "a route taking an object id is not in ID_ROUTES"
    c = Client(app, "b_admin")
    store = app.state.web.store
    for path in ID_ROUTES:
        url = re.sub(r"\{(\w+)\}", lambda m: objects[m.group(1)], path)
        before = store.one(select(audit_log.c.id).order_by(audit_log.c.id.desc()).limit(1))["id"]
        r = c.get(url)
        assert r.status_code == 404, (url, r.status_code, r.text[:200])
        rows = store.all(select(audit_log).where(audit_log.c.id > before, audit_log.c.action == "denied"))
        assert [x["office_id"] for x in rows] == [city["ids"]["b"]] and rows[0]["username"] == "b_admin", (url, rows)
        assert url.split("?")[0] in rows[0]["target"]
    posts = [p for p in get_routes(app, "POST") if re.search(r"\{(upload_id|job_id|aid|vid|worker_id)\}", p)]
    assert len(posts) >= 13
    for path in posts:
        url = re.sub(r"\{(\w+)\}", lambda m: objects[m.group(1)], path)
        before = store.one(select(audit_log.c.id).order_by(audit_log.c.id.desc()).limit(1))["id"]
        assert c.post(url, {"reason": "x", "yaml": "x", "text": "x"}).status_code == 404, url
        rows = store.all(select(audit_log).where(audit_log.c.id > before, audit_log.c.action == "denied"))
        assert [x["office_id"] for x in rows] == [city["ids"]["b"]], (url, rows)


def test_the_city_administrator_sees_both_counties(app, city):
    """(c) The overview lists both counties with their month, worker count and mean score; switching
    shows each county's own ranking and none of the other's workers."""
    c = Client(app, "city")
    r = c.get("/")
    assert r.status_code == 303 and r.headers["location"].startswith("/city")
    page = c.get("/city").text
    for k, name in (("a", "甲县网格化服务管理中心"), ("b", "乙县网格化服务管理中心")):
        row = re.search(rf"<tr><td>{name}</td>(.*?)</tr>", page, re.S).group(1)
        ws = city["workers"][k]
        mean = (sum(Decimal(w["score"]) for w in ws) / len(ws)).quantize(Decimal("0.01"), ROUND_HALF_UP)
        assert "2026年9月" in row and f">{len(ws)}<" in row and f">{mean}<" in row, row
    for k, other in (("a", "b"), ("b", "a")):
        assert c.post("/city/switch", {"county": f"county{k}"}).status_code == 303
        body = c.get(f"/results/{MONTH}").text
        assert any(s in body for s in secrets_of(city, k))
        assert not any(s in body for s in secrets_of(city, other))
    assert c.post("/city/switch", {"county": "nosuch"}).status_code == 404


def test_a_county_administrator_cannot_switch(app, city):
    """(d) A county's administrator posting the switch is refused (audited) and stays in their county."""
    from engine.web.store import audit_log

    c = Client(app, "b_admin")
    assert c.post("/city/switch", {"county": "countya"}).status_code == 403
    assert c.get("/city").status_code == 403
    row = app.state.web.store.one(select(audit_log).where(audit_log.c.action == "denied", audit_log.c.username == "b_admin")
                                  .order_by(audit_log.c.id.desc()).limit(1))
    assert "/city" in row["target"]
    body = c.get(f"/results/{MONTH}").text
    assert any(s in body for s in secrets_of(city, "b")) and not any(s in body for s in secrets_of(city, "a"))


def test_store_methods_by_office_return_nothing_of_another(app, city, objects):
    """(e) Each Store (and JobQueue, versions) method that takes an office id, asked with county B's,
    returns nothing of county A's; the list of such methods is read from the code, so a new one
    without a case here fails."""
    import inspect

    from engine.web import versions
    from engine.web.jobs import JobQueue
    from engine.web.store import Store

    web = app.state.web
    a, b = city["ids"]["a"], city["ids"]["b"]
    def rows(x):
        x = x if isinstance(x, list) else list(x.values()) if isinstance(x, dict) and "office_id" not in x else [x]
        return [r for r in x if r is not None]

    def owner(r):
        return r.office_id if hasattr(r, "office_id") else r.get("office_id", r.get("parent_id"))

    cases = {
        "Store.latest_uploads": lambda o: web.store.latest_uploads(o, "2026-10"),
        "Store.checks": lambda o: web.store.checks(o, "2026-10"),
        "Store.mapping": lambda o: web.store.mapping(o, "workers"),
        "Store.office": lambda o: [dict(x, office_id=x["id"]) for x in [web.store.office(o)]],
        "JobQueue.recent": lambda o: web.queue.recent(o),
        "JobQueue.active": lambda o: web.queue.active(o, "print_pack", "t"),
        "versions.versions": lambda o: versions.versions(web.store, o),
        "versions.version": lambda o: versions.version(web.store, o, int(objects["vid"])),
    }
    web.store.save_mapping(a, "workers", {"工号X": "工号"}, {}, user={"username": "a_admin", "office_id": a})
    takes = {f"{owner.__name__}.{n}" for owner in (Store, JobQueue) for n, f in inspect.getmembers(owner, inspect.isfunction)
             if "office_id" in inspect.signature(f).parameters and n not in ("add_office", "save_check", "save_mapping", "audit", "submit")}
    takes |= {f"versions.{n}" for n, f in inspect.getmembers(versions, inspect.isfunction)
              if f.__module__ == versions.__name__ and list(inspect.signature(f).parameters)[:2] == ["store", "office_id"]}
    assert takes <= set(cases), f"not covered: {sorted(takes - set(cases))}"
    for name, call in cases.items():
        assert any(owner(r) == a for r in rows(call(a))), f"{name} finds county A's own objects"
        assert all(owner(r) != a for r in rows(call(b))), f"{name} with county B's id returned county A's objects"
    assert [c["code"] for c in web.store.counties(city["ids"]["city"])] == ["countya", "countyb"]
    assert web.store.counties(a) == [] and web.store.counties(b) == []


def test_a_job_runs_in_its_own_countys_folder_and_history(app, city):
    """A month run submitted by county B's clerk reads B's uploads and stores into B's history only,
    run by the server's worker loop (SQLite) or by id as a `wangge worker` runs it (PostgreSQL)."""
    from engine.app.month import stored_months
    from engine.web.jobs import run_job, run_one

    before_a = [m.month for m in stored_months(city["data"]["a"], database=city["db"]["a"])[0]]
    c = Client(app, "b_clerk")
    b_files = {k: _rewrite(p, city["srv"].parent / "b-up" / p.name, _b_row)
               for k, p in city["files"][TOWN_A].items()}
    for kind in ("workers", "metrics", "events"):
        with open(b_files[kind], "rb") as fh:
            r = c.http.post("/months/2026-10/uploads", data={"kind": kind, "csrf": c.csrf},
                            files={"file": (f"{kind}.csv", fh.read())})
        assert r.status_code == 303, r.text
    r = c.post("/months/2026-10/run", {"confirm_missing": "yes"})
    assert r.status_code == 303, r.text
    web = app.state.web
    jid = int(r.headers["location"].rsplit("/", 1)[1])
    if city["backend"] == "postgresql":     # as a `wangge worker` runs it: by its id (engine/web/pgqueue.py)
        job = run_job(web.queue, jid, web.data, "t")
    else:                                   # as the server's own worker processes: the next queued
        while (job := run_one(web.queue, web.data, "t")) is not None and job.id != jid:
            pass
    assert job.id == jid and job.office_id == city["ids"]["b"] and job.state == "done", job.error
    assert "2026-10" in [m.month for m in stored_months(city["data"]["b"], database=city["db"]["b"])[0]]
    assert [m.month for m in stored_months(city["data"]["a"], database=city["db"]["a"])[0]] == before_a
    assert (city["data"]["b"] / "uploads").is_dir() and not (city["srv"] / "uploads").exists()


def test_an_existing_office_becomes_a_county_on_the_servers_folder(tmp_path):
    """Migration 0004 on a store of the single-office release: the office keeps working as before
    (code office1, a county, no data folder of its own: the server's, the history there)."""
    from alembic import command
    from sqlalchemy import create_engine, text

    from engine.web.deps import office_data
    from engine.web.store import Store, _alembic_config, current_revision, default_url

    url = default_url(tmp_path)
    engine = create_engine(url)
    command.upgrade(_alembic_config(engine), "0003")
    with engine.begin() as c:
        c.execute(text("INSERT INTO offices (name, policy_paths, unit, created_at) "
                       "VALUES ('旧县中心', '[\"rules/x.yaml\"]', '', '2026-01-01T00:00:00+00:00')"))
    engine.dispose()
    store = Store(url)
    assert current_revision(store.engine) == "0004"
    (office,) = store.all_offices()
    assert (office["code"], office["kind"], office["parent_id"], office["data_dir"], office["database"]) == \
        ("office1", "county", None, None, None)
    assert office_data(office, tmp_path) == tmp_path.resolve()
    assert store.add_office("新县", ["p"]) == 2 and store.office(2)["code"] == "office2"
    store.close()


def test_office_commands(tmp_path, monkeypatch):
    """`wangge office add/list` and `wangge user add --office`: every problem of a new office in one
    pass, located (field, value found, what was expected), exit 2; city_admin only on a city; serve
    refuses two counties sharing WANGGE_DATABASE."""
    from click.testing import CliRunner

    from engine.app.demo import DEMO_POLICY
    from engine.cli import main

    run = CliRunner().invoke
    srv = ["--server-data", str(tmp_path / "srv")]
    r = run(main, ["office", "add", *srv, "--code", "jm", "--name", "江门市中心", "--kind", "city"])
    assert r.exit_code == 0 and "已建立市级单位「江门市中心」（代码 jm）" in r.output, r.output
    for code in ("heshan", "kaiping"):
        r = run(main, ["office", "add", *srv, "--code", code, "--name", f"{code}县中心", "--city", "jm",
                       "--data", str(tmp_path / code), "--policy", str(DEMO_POLICY)])
        assert r.exit_code == 0, r.output
    r = run(main, ["office", "add", *srv, "--code", "Bad!", "--name", "", "--city", "nope", "--data", str(tmp_path / "heshan"),
                   "--policy", "x.yaml", "--database", "mysql://x"])
    assert r.exit_code == 2
    for line in ("代码: 发现 'Bad!'，应为 2–32 个小写英文字母", "名称: 发现 ''", "所属市: 发现 'nope'，应为 已建立的市级单位的代码",
                 f"--data: 发现 '{tmp_path / 'heshan'}'，应为 本县（区）自己的数据目录（该目录已是单位 heshan 的数据目录",
                 "--policy: 发现 'x.yaml'，应为 存在的考核细则 YAML 文件", "--database: 发现 'mysql://x'"):
        assert line in r.output, (line, r.output)
    r = run(main, ["office", "list", *srv])
    assert r.exit_code == 0 and "heshan  heshan县中心  县级单位  所属市 jm" in r.output and f"数据目录 {tmp_path / 'heshan'}" in r.output
    data = ["--data", str(tmp_path / "srv")]
    r = run(main, ["user", "add", *data, "--office", "jm", "--username", "city", "--role", "city_admin", "--password", "city-pass1"])
    assert r.exit_code == 0 and "已建立账号 city（市级管理员）" in r.output, r.output
    r = run(main, ["user", "add", *data, "--office", "heshan", "--username", "c2", "--role", "city_admin", "--password", "city-pass1"])
    assert r.exit_code == 2 and "市级管理员只能建在市级单位" in r.output
    r = run(main, ["user", "add", *data, "--office", "jm", "--username", "c3", "--role", "admin", "--password", "city-pass1"])
    assert r.exit_code == 2 and "市级单位只有市级管理员" in r.output
    r = run(main, ["user", "add", *data, "--office", "nope", "--username", "c4", "--password", "city-pass1"])
    assert r.exit_code == 2 and "所属单位（--office）: 发现 'nope'，应为 已建立的单位代码之一：jm、heshan、kaiping" in r.output
    r = run(main, ["user", "add", *data, "--office", "kaiping", "--username", "kp", "--password", "kp-pass-1"])
    assert r.exit_code == 0 and "已建立账号 kp（县级管理员）" in r.output
    monkeypatch.setenv("WANGGE_DATABASE", "sqlite:///" + str(tmp_path / "shared.sqlite3"))
    r = run(main, ["serve", *data])
    assert r.exit_code == 1 and "县级单位 heshan、kaiping 都没有自己的历史库地址" in r.output, r.output
