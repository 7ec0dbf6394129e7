"""What every request needs: the server's context, the logged-in user with what they may see and
do, CSRF checking, and the error pages."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from threading import Lock
from typing import Any, Iterable

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse

from ..app.month import month_results
from ..app.results import month_fingerprint
from ..store.db import office_history
from .auth import User, check_csrf, session_user
from .jobs import JobQueue
from .pages import render_page
from .store import Store
from .words import FLASH

__all__ = ["Web", "WebSettings", "Place", "Viewer", "viewer", "any_viewer", "CountyNeeded", "mine", "require",
           "check_form", "page", "refuse", "COOKIE", "PRE_COOKIE", "CAN"]

COOKIE = "wangge_session"
PRE_COOKIE = "wangge_login"

# What each role may do.  Reading results and pay sheets is open to every role, within their towns.
CAN = {
    "upload": {"admin", "city_admin", "clerk"},
    "run": {"admin", "city_admin", "clerk"},
    "print": {"admin", "city_admin", "clerk"},
    "issue": {"admin", "city_admin"},
    "users": {"admin", "city_admin"},
    "audit": {"admin", "city_admin", "auditor"},
    "numbers": {"admin", "city_admin", "auditor", "finance"},
    "papers": {"admin", "city_admin", "clerk", "finance", "auditor"},
    "results": {"admin", "city_admin", "clerk", "finance", "auditor"},
    "policies": {"admin", "city_admin", "clerk", "finance", "auditor"},       # read the published versions
    "policy_drafts": {"admin", "city_admin", "auditor"},                      # read drafts too
    "policy_edit": {"admin", "city_admin"},                                   # draft, edit, preview, discard
    "policy_publish": {"admin", "city_admin"},
    "appeals": {"admin", "city_admin", "clerk", "finance", "auditor"},        # within their towns
    "appeal_file": {"admin", "city_admin", "clerk"},
    "appeal_decide": {"admin", "city_admin"},                                 # approve or reject; issue the 更正通知
    "rosters": {"admin", "city_admin", "clerk", "finance", "auditor"},        # read a town's roster (clerks: their own)
    "roster_edit": {"admin", "city_admin", "clerk"},                          # solve, adjust, undo, leave, re-plan, publish
}


@dataclass
class WebSettings:
    data: Path
    url: str
    max_upload: int = 8 * 1024 * 1024          # bytes of one request body (an upload)
    max_unpacked: int = 64 * 1024 * 1024       # bytes an .xlsx may unpack to
    secure_cookies: bool = False               # set behind HTTPS: cookies only over TLS
    workers: int = 1


class _ResultsCache:
    """One office's stored months' results, kept while its history is unchanged (a re-run or a
    correction changes the fingerprint, and everything is read again)."""

    def __init__(self, data: Path, database: str | None = None, size: int = 24):
        self.data, self.database, self.size = data, database, size
        self._items: dict[tuple, dict] = {}
        self._lock = Lock()

    def fingerprint(self) -> tuple:
        with office_history(self.database):
            return month_fingerprint(self.data)

    def get(self, month: str, fp: tuple | None = None) -> dict:
        fp = fp if fp is not None else self.fingerprint()
        key = (month, fp)
        with self._lock:
            if key in self._items:
                return self._items[key]
        res = month_results(self.data, month, database=self.database)
        with self._lock:
            if len(self._items) >= self.size:
                self._items.pop(next(iter(self._items)))
            self._items[key] = res
        return res


@dataclass
class Place:
    """Where one office's things are: its data folder (uploads, months' outputs, policy versions,
    rosters), its history's address (None: WANGGE_DATABASE or the SQLite file in its data folder)
    and its results cache.  Every route and job works through the Place of the office it acts for."""
    office_id: int
    data: Path
    database: str | None
    results: _ResultsCache


def office_data(office: dict, default: Path) -> Path:
    """An office's data folder: its own, or (NULL, the single-office install) the server's."""
    return Path(office["data_dir"]).resolve() if office.get("data_dir") else Path(default).resolve()


@dataclass
class Web:
    settings: WebSettings
    store: Store
    queue: JobQueue

    def __post_init__(self) -> None:
        from .checker import Checker

        self._places: dict[int, Place] = {}
        self._policies: dict[tuple, tuple] = {}
        self._lock = Lock()
        self.checker = Checker()

    def policies_changed(self) -> None:
        """A version was published: policy sets are read again."""
        with self._lock:
            self._policies.clear()

    def close(self) -> None:
        self.checker.close()
        self.store.close()

    @property
    def data(self) -> Path:
        """The server's own data folder (--data): that of every office without a data_dir of its own.
        Routes and jobs use the acting office's Place, never this."""
        return self.settings.data

    def place(self, office: dict) -> Place:
        """The office's Place (made once per office and server process)."""
        with self._lock:
            got = self._places.get(office["id"])
            data, database = office_data(office, self.settings.data), office.get("database")
            if got is None or got.data != data or got.database != database:
                got = Place(office["id"], data, database, _ResultsCache(data, database))
                self._places[office["id"]] = got
            return got

    def policy(self, office: dict, month: str):
        """The office's policy in force for the month."""
        return self.policies(office).ps.for_month(month)

    def policies(self, office: dict):
        """The office's policy set, read once and again when a file of it changes."""
        from ..app.month import Policies

        paths = tuple(office["policy_paths"])
        stamp = tuple(Path(p).stat().st_mtime_ns if Path(p).exists() else 0 for p in paths)
        with self._lock:
            got = self._policies.get(paths)
        if got is None or got[0] != stamp:
            got = (stamp, Policies(paths))
            with self._lock:
                self._policies[paths] = got
        return got[1]


@dataclass
class Viewer:
    """The logged-in user, the county office they act for (`office`: their own; a city
    administrator's the county chosen in the header), where its things are (`place`), what they
    may see (`towns`: None for all) and their CSRF token.  `home` is the user's own office."""
    user: User
    csrf: str
    office: dict
    token: str
    place: Place | None = None
    home: dict | None = None

    @property
    def data(self) -> Path:
        return self.place.data

    @property
    def results(self) -> _ResultsCache:
        return self.place.results

    @property
    def city(self) -> bool:
        return self.user.role == "city_admin"

    @property
    def towns(self) -> set[str] | None:
        return {self.user.town} if self.user.role == "clerk" else None

    def can(self, what: str) -> bool:
        return self.user.role in CAN[what]

    def sees_town(self, town: str) -> bool:
        return self.towns is None or town in self.towns


class LoginNeeded(Exception):
    pass


class CountyNeeded(Exception):
    """A city administrator asked for a county's page before choosing a county."""


def web_of(request: Request) -> Web:
    return request.app.state.web


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def _viewer(request: Request, county: bool) -> Viewer:
    from .auth import acting_office

    web = web_of(request)
    token = request.cookies.get(COOKIE)
    got = session_user(web.store, token)
    if got is None:
        raise LoginNeeded()
    user, csrf = got
    home = web.store.office(user.office_id)
    office = home
    if user.role == "city_admin":
        acting = acting_office(web.store, token)
        office = web.store.office(acting) if acting is not None else None
        if office is None or office["parent_id"] != home["id"]:
            if county:
                request.state.viewer = Viewer(user, csrf, home, token, None, home)
                raise CountyNeeded()
            office = home
    v = Viewer(user, csrf, office, token, web.place(office) if office["kind"] == "county" else None, home)
    request.state.viewer = v
    return v


async def viewer(request: Request) -> Viewer:
    """FastAPI dependency: the logged-in user acting for a county, or a redirect to the login page
    (401 for JSON); a city administrator without a county chosen goes to the city's overview.
    The county's history address is set for the rest of the request (engine/store/db.py
    office_history), so every history the application layer opens is this county's."""
    from starlette.concurrency import run_in_threadpool

    from ..store.db import set_office_history

    v = await run_in_threadpool(_viewer, request, True)
    set_office_history(v.place.database if v.place else None)
    return v


async def any_viewer(request: Request) -> Viewer:
    """FastAPI dependency: the logged-in user, county chosen or not (the city's own pages, the account)."""
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(_viewer, request, False)


def refuse(request: Request, v: Viewer, what: str, status: int = 403) -> HTTPException:
    """A refused request, audited (who tried what, in which office), as an exception to raise."""
    web_of(request).store.audit(user=v.user.as_dict(), action="denied", target=f"{request.method} {request.url.path}",
                                after={"reason": what, "status": status}, ip=client_ip(request),
                                office_id=v.office["id"] if v.office else None)
    return HTTPException(status, what)


def require(request: Request, v: Viewer, what: str) -> None:
    if not v.can(what):
        raise refuse(request, v, f"您的角色（{v.user.role_label}）不能进行此操作")


def mine(request: Request, v: Viewer, row: dict | None, what: str) -> dict:
    """`row` if it is the acting office's; otherwise (none, or another office's) 404 without saying
    which, audited as a refused request."""
    if row is None:
        raise HTTPException(404, what)
    if row.get("office_id") != v.office["id"]:
        raise refuse(request, v, what, 404)
    return row


def require_town(request: Request, v: Viewer, town: str | None) -> None:
    if town and not v.sees_town(town):
        raise refuse(request, v, f"无权查看：您只能查看本镇街（{v.user.town}）的数据")


async def check_form(request: Request, v: Viewer) -> Any:
    """The posted form, after its CSRF token is checked (form field `csrf` or header X-CSRF-Token)."""
    form = await request.form(max_files=4, max_fields=500)
    sent = form.get("csrf") or request.headers.get("x-csrf-token")
    if not check_csrf(v.csrf, sent):
        raise HTTPException(403, "表单已过期或来源不明（CSRF 校验未通过）：请刷新页面后重新提交")
    return form


def page(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    v = getattr(request.state, "viewer", None)
    if v is not None and v.city and "counties" not in ctx:
        ctx["counties"] = web_of(request).store.counties(v.home["id"])
    html = render_page(name, request=request, viewer=v, csrf=v.csrf if v else "", path=request.url.path,
                       flash=FLASH.get(request.query_params.get("msg", ""), ""), **ctx)
    return HTMLResponse(html, status_code=status)


def submit_once(request: Request, v: Viewer, kind: str, params: dict, town: str | None):
    """Queue a job (params["key"] names what it does) and go to its page; the one already queued or
    running for the same key is shown instead of a second."""
    from fastapi.responses import RedirectResponse

    web = web_of(request)
    running = web.queue.active(v.office["id"], kind, params["key"])
    jid = running.id if running is not None else web.queue.submit(v.office["id"], kind, params, town=town,
                                                                   user=v.user.as_dict(), ip=client_ip(request))
    return RedirectResponse(f"/jobs/{jid}", status_code=303)


def towns_of(items: Iterable[str], v: Viewer) -> list[str]:
    return [t for t in items if v.sees_town(t)]
