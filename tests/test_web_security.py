"""Security of the office pages: CSRF, session fixation, cookies, login throttling, towns kept apart
(also when an id is edited in the URL), roles, upload limits, zip bombs, file names, markup."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from webkit import ACCOUNTS, TOWN_A, TOWN_B, Client, run_jobs
from webkit import base, office  # noqa: F401  (fixtures)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def make_app(office, **settings):
    from engine.web.app import WebSettings, create_app
    from engine.web.store import default_url

    return create_app(WebSettings(data=office["data"], url=default_url(office["data"]), **settings))


@pytest.fixture()
def app(office):
    a = make_app(office)
    yield a
    a.state.web.store.close()


def b_worker(office) -> str:
    from engine.app.month import month_results
    return next(w["worker_id"] for w in month_results(office["data"], "2026-09")["workers"] if w["town"] == TOWN_B)


# --------------------------------------------------------------------------- CSRF


def test_posts_without_the_csrf_token_are_refused(app, office):
    c = Client(app, "admin")
    for url, data in (("/months/2026-10/run", {}), ("/users", {"username": "x1", "role": "finance", "password": "p" * 9}),
                      ("/papers/2026-09/print", {}), ("/logout", {}), ("/account", {"old": "a", "new": "b", "again": "b"})):
        r = c.post(url, data, csrf=False)
        assert r.status_code == 403 and "CSRF 校验未通过" in r.text, url
        r = c.post(url, dict(data, csrf="forged-token"), csrf=False)
        assert r.status_code == 403, url
    with open(office["towns"][TOWN_A]["workers"], "rb") as fh:
        r = c.post("/months/2026-10/uploads", {"kind": "workers", "town": TOWN_A}, files={"file": ("w.csv", fh.read())},
                   csrf=False)
    assert r.status_code == 403
    assert app.state.web.store.latest_uploads(1, "2026-10") == [] and run_jobs(app) == []


def test_another_sessions_token_is_refused(app):
    a, b = Client(app, "admin"), Client(app, "clerk_a")
    r = a.post("/users", {"username": "x2", "role": "finance", "password": "p" * 9, "csrf": b.csrf}, csrf=False)
    assert r.status_code == 403


def test_login_form_needs_its_token(app):
    c = Client(app)
    c.get("/login")
    r = c.http.post("/login", data={"username": "admin", "password": ACCOUNTS["admin"][0], "login_token": "guess"})
    assert r.status_code == 403 and "CSRF" in r.text
    assert "wangge_session" not in r.cookies


def test_json_csrf_header_is_accepted(app):
    c = Client(app, "admin")
    r = c.http.post("/papers/2026-09/print", headers={"X-CSRF-Token": c.csrf}, data={})
    assert r.status_code == 303


# --------------------------------------------------------------------------- sessions


def test_session_cookie_flags(office):
    plain = make_app(office)
    r = Client(plain).login("admin", ACCOUNTS["admin"][0])
    cookie = r.headers["set-cookie"]
    assert "wangge_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    secure = make_app(office, secure_cookies=True)
    assert Client(secure).login("admin", ACCOUNTS["admin"][0]).status_code == 403   # over plain HTTP the login
    r = Client(secure, https=True).login("admin", ACCOUNTS["admin"][0])          # cookie is not sent back
    assert r.status_code == 303 and "Secure" in r.headers["set-cookie"]


def test_session_fixation(app):
    """A session id planted in the victim's browser (made up, or the attacker's own) is never the one the
    victim's login uses, and the attacker's session is ended by it."""
    attacker = Client(app, "clerk_b")
    planted = attacker.http.cookies.get("wangge_session")
    victim = Client(app)
    victim.http.cookies.set("wangge_session", planted)
    r = victim.login("admin", ACCOUNTS["admin"][0])
    fresh = r.cookies.get("wangge_session")
    assert fresh and fresh != planted
    assert attacker.get("/").status_code == 303                     # the planted session is gone
    made_up = Client(app)
    made_up.http.cookies.set("wangge_session", "attacker-chosen-value")
    r = made_up.login("admin", ACCOUNTS["admin"][0])
    assert r.cookies.get("wangge_session") not in (None, "attacker-chosen-value")


def test_sessions_are_stored_hashed(app):
    from sqlalchemy import select
    from engine.web.store import sessions

    c = Client(app, "admin")
    token = c.http.cookies.get("wangge_session")
    rows = app.state.web.store.all(select(sessions.c.token_hash))
    assert token not in {r["token_hash"] for r in rows} and len(rows) == 1


def _age_session(app, **times) -> None:
    """Move the (only) session's login and last use back in time, as hours passed."""
    import datetime as dt

    from sqlalchemy import update

    from engine.web.store import sessions
    ago = {k: (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=h)).isoformat() for k, h in times.items()}
    app.state.web.store.run(update(sessions).values(**ago))


def test_sessions_end_when_idle_and_twelve_hours_after_login(app):
    c = Client(app, "admin")
    _age_session(app, created_at=11.9, last_seen=7.9)          # busy all day: still in
    assert c.get("/").status_code == 200
    _age_session(app, created_at=12.1, last_seen=0.01)         # used a moment ago, but logged in 12 h ago
    r = c.get("/")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    c = Client(app, "admin")
    _age_session(app, created_at=8.2, last_seen=8.1)           # idle for a working day
    assert c.get("/").status_code == 303


def test_api_description_needs_a_login(app):
    anon = Client(app)
    for url in ("/api/openapi.json", "/docs", "/redoc", "/docs/oauth2-redirect"):
        r = anon.get(url)
        assert r.status_code in (303, 401, 404) and "openapi" not in r.text.lower(), url
    admin = Client(app, "admin")
    r = admin.get("/api/openapi.json")
    assert r.status_code == 200 and r.json()["info"]["title"] == "wangge 网格"


def test_login_throttling(app):
    c = Client(app)
    for _ in range(5):
        assert c.login("clerk_a", "wrong-password").status_code == 401
    r = c.login("clerk_a", ACCOUNTS["clerk_a"][0])          # right password, but too many failures
    assert r.status_code == 429 and "登录失败次数过多，请 15 分钟后再试" in r.text
    assert Client(app).login("clerk_b", ACCOUNTS["clerk_b"][0]).status_code == 303   # other accounts unaffected
    text = Client(app, "auditor").get("/audit").text
    assert "登录被限制" in text and "登录失败" in text


def test_passwords_are_argon2(app):
    from sqlalchemy import select
    from engine.web.store import users

    hashes = [r["password_hash"] for r in app.state.web.store.all(select(users.c.password_hash))]
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    assert all(ACCOUNTS[u][0] not in h for h in hashes for u in ACCOUNTS)


# --------------------------------------------------------------------------- towns kept apart (IDOR)


def test_clerk_cannot_read_another_towns_worker(app, office):
    wid = b_worker(office)
    from engine.app.month import month_results
    w = next(w for w in month_results(office["data"], "2026-09")["workers"] if w["worker_id"] == wid)
    c = Client(app, "clerk_a")
    for url in (f"/results/2026-09/workers/{wid}", f"/results/2026-09/workers/{wid}.json", f"/workers/{wid}"):
        r = c.get(url)
        assert r.status_code == 404, url
        assert w["name"] not in r.text and TOWN_B not in r.text
    assert Client(app, "clerk_b").get(f"/results/2026-09/workers/{wid}").status_code == 200
    assert Client(app, "admin").get(f"/results/2026-09/workers/{wid}").status_code == 200
    assert "越权访问被拒绝" in Client(app, "auditor").get("/audit").text


def test_clerk_cannot_filter_to_another_town(app):
    c = Client(app, "clerk_a")
    for url in (f"/results/2026-09?town={TOWN_B}", f"/results/2026-09.json?town={TOWN_B}",
                f"/papers/2026-09/paysheet.xlsx?town={TOWN_B}", f"/papers/2026-09/paysheet.csv?town={TOWN_B}"):
        r = c.get(url)
        assert r.status_code == 403 and f"您只能查看本镇街（{TOWN_A}）的数据" in r.text, url


def test_clerk_cannot_open_another_towns_uploads_or_jobs(app, office):
    b = Client(app, "clerk_b")
    for k in ("workers", "metrics", "events"):
        b.upload("2026-10", k, office["towns"][TOWN_B][k])
    uid = app.state.web.store.latest_uploads(1, "2026-10", [TOWN_B])[0]["id"]
    b.post("/months/2026-10/run", {"confirm_missing": "yes"})
    job = app.state.web.queue.recent(1)[0].id
    a = Client(app, "clerk_a")
    for url in (f"/uploads/{uid}", f"/uploads/{uid}/file", f"/uploads/{uid}/mapping", f"/jobs/{job}",
                f"/jobs/{job}.json"):
        assert a.get(url).status_code == 403, url
    r = a.post(f"/uploads/{uid}/mapping", {"col0": "worker_id"})
    assert r.status_code == 403
    assert b.get(f"/uploads/{uid}").status_code == 200
    assert a.get("/uploads/99999").status_code == 404


def test_clerk_uploads_into_own_town_only(app, office):
    """A clerk's form field naming another town is ignored: the upload is theirs; a register row of another
    town is a problem."""
    a = Client(app, "clerk_a")
    with open(office["towns"][TOWN_B]["workers"], "rb") as fh:
        r = a.post("/months/2026-10/uploads", {"kind": "workers", "town": TOWN_B}, files={"file": ("w.csv", fh.read())})
    assert r.status_code == 303
    ups = app.state.web.store.latest_uploads(1, "2026-10")
    assert [(u["town"], u["kind"]) for u in ups] == [(TOWN_A, "workers")]
    problems = app.state.web.store.checks(1, "2026-10")[TOWN_A]["problems"]
    assert any(p["field"] == "乡镇" and p["found"] == TOWN_B and p["expected"] == f"{TOWN_A}（只能上传本镇街的名册）"
               for p in problems)


def test_clerk_cannot_download_another_towns_print_pack(app, office):
    folder = office["data"] / "months" / "2026-09" / "print"
    folder.mkdir(parents=True)
    (folder / f"考核结果通知单-{TOWN_B}.html").write_text("b", encoding="utf-8")
    (folder / f"考核结果通知单-{TOWN_A}.html").write_text("a", encoding="utf-8")
    (folder / "考核通报.html").write_text("county", encoding="utf-8")
    a = Client(app, "clerk_a")
    assert a.get(f"/papers/2026-09/print/{TOWN_B}.zip").status_code == 403
    assert a.get("/papers/2026-09/print/全部.zip").status_code == 403
    z = zipfile.ZipFile(io.BytesIO(a.get(f"/papers/2026-09/print/{TOWN_A}.zip").content))
    assert sorted(z.namelist()) == [f"绩效工资发放表-{TOWN_A}.xlsx", f"考核结果通知单-{TOWN_A}.html"]
    z = zipfile.ZipFile(io.BytesIO(Client(app, "admin").get("/papers/2026-09/print/全部.zip").content))
    assert len(z.namelist()) == 3


def test_clerk_job_shows_no_other_towns_problems(app, office, tmp_path):
    from engine.web.routes.month import job_view
    from engine.web.deps import Viewer
    from engine.web.auth import User
    from engine.web.jobs import Job

    job = Job(1, 1, "run_month", {"month": "2026-10"}, TOWN_A, "failed", 0, 0, "", None,
              {"message": "m", "problems": [{"file": f"{TOWN_A} 月度指标表（a.csv）"}, {"file": f"{TOWN_B} 月度指标表（b.csv）"}],
               "trace": "x"}, "clerk_a", "t", None, None)
    clerk = Viewer(User(2, 1, "clerk_a", "a", "clerk", TOWN_A), "c", {}, "t")
    seen = job_view(job, clerk)["error"]
    assert seen["problems"] == [{"file": f"{TOWN_A} 月度指标表（a.csv）"}] and seen["hidden"] == 1 and "trace" not in seen


# --------------------------------------------------------------------------- roles


def test_roles(app, office):
    for who in ("finance", "auditor"):
        c = Client(app, who)
        r = c.upload("2026-10", "workers", office["towns"][TOWN_A]["workers"], town=TOWN_A)
        assert r.status_code == 403, who
        assert c.post("/months/2026-10/run").status_code == 403
        assert c.post("/papers/2026-09/print").status_code == 403
        assert c.get("/users").status_code == 403
        assert c.get("/results/2026-09").status_code == 200
        assert c.get("/papers/2026-09/paysheet.xlsx").status_code == 200
    assert Client(app, "auditor").get("/audit").status_code == 200
    assert Client(app, "clerk_a").get("/numbers").status_code == 403


# --------------------------------------------------------------------------- uploads


def test_upload_size_limit(office):
    app = make_app(office, max_upload=64 * 1024)
    c = Client(app, "clerk_a")
    big = b"\xe5\xb7\xa5\xe5\x8f\xb7," + b"x" * (80 * 1024)
    r = c.post("/months/2026-10/uploads", {"kind": "workers"}, files={"file": ("big.csv", big)})
    assert r.status_code == 413 and "每次最多 0.0625 MB" in r.text
    # a body without Content-Length (chunked) is stopped while it streams in
    def chunks():
        yield (b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
               b"Content-Type: text/csv\r\n\r\n")
        for _ in range(40):
            yield b"y" * 4096
    r = c.http.post("/months/2026-10/uploads", content=chunks(),
                    headers={"content-type": "multipart/form-data; boundary=b0undary"})
    assert r.status_code == 413
    assert app.state.web.store.latest_uploads(1, "2026-10") == []
    assert not (office["data"] / "uploads").exists()


def _bomb(path: Path, size: int) -> bytes:
    """An .xlsx-shaped zip whose one sheet unpacks to `size` bytes of zeros (it compresses ~1000:1)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("xl/worksheets/sheet1.xml", "w") as fh:
            block = b"0" * (1 << 20)
            for _ in range(size // len(block)):
                fh.write(block)
    return buf.getvalue()


def test_zip_bomb_is_refused(app):
    body = _bomb(Path("x"), 300 * 1024 * 1024)
    assert len(body) < 1024 * 1024
    c = Client(app, "clerk_a")
    r = c.post("/months/2026-10/uploads", {"kind": "metrics"}, files={"file": ("指标.xlsx", body)})
    assert r.status_code == 422 and "可能是压缩炸弹" in r.text
    assert app.state.web.store.latest_uploads(1, "2026-10") == []
    assert not list((app.state.web.data / "uploads").rglob("*.xlsx"))


def test_workbook_checks(tmp_path):
    from engine.web.uploads import UploadRefused, check_workbook

    many = tmp_path / "many.xlsx"
    with zipfile.ZipFile(many, "w") as zf:
        for i in range(2001):
            zf.writestr(f"x/{i}.xml", "<a/>")
    with pytest.raises(UploadRefused):
        check_workbook(many, "many.xlsx", 64 << 20)
    not_zip = tmp_path / "fake.xlsx"
    not_zip.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(UploadRefused) as err:
        check_workbook(not_zip, "fake.xlsx", 64 << 20)
    assert "文件已损坏或不是 .xlsx" in str(err.value)


def test_file_names_with_path_separators(app, office):
    data = office["towns"][TOWN_A]["workers"].read_bytes()
    c = Client(app, "clerk_a")
    for name in ("../../../../tmp/evil.csv", "..\\..\\evil2.csv", "/etc/passwd.csv"):
        assert c.post("/months/2026-10/uploads", {"kind": "workers"}, files={"file": (name, data)}).status_code == 303
    ups = app.state.web.store.all(__import__("sqlalchemy").select(__import__("engine.web.store", fromlist=["uploads"]).uploads))
    assert [u["original_name"] for u in ups] == ["evil.csv", "evil2.csv", "passwd.csv"]
    for u in ups:
        p = (app.state.web.data / u["source_path"]).resolve()
        assert app.state.web.data.resolve() / "uploads" in p.parents and p.name == "workers.csv"
    assert not Path("/tmp/evil.csv").exists() or Path("/tmp/evil.csv").read_bytes() != data
    r = c.post("/months/2026-10/uploads", {"kind": "workers"}, files={"file": ("名册.xls", data)})
    assert r.status_code == 422 and "扩展名为 .csv 或 .xlsx 的表格" in r.text


def test_admin_town_names_with_separators_are_refused(app, office):
    c = Client(app, "admin")
    data = office["towns"][TOWN_A]["workers"].read_bytes()
    r = c.post("/months/2026-10/uploads", {"kind": "workers", "town": "../x"}, files={"file": ("w.csv", data)})
    assert r.status_code == 400


def test_markup_in_file_names_is_text(app, office):
    c = Client(app, "clerk_a")
    data = office["towns"][TOWN_A]["workers"].read_bytes()
    c.post("/months/2026-10/uploads", {"kind": "workers"}, files={"file": ("<img src=x onerror=alert(1)>.csv", data)})
    page = c.get("/months/2026-10").text
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;.csv" in page


def test_security_headers(app):
    r = Client(app).get("/login")
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert "unsafe-inline" not in r.headers["content-security-policy"]
