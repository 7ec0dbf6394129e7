"""What every request needs: the server's context, the logged-in user with what they may see and
do, CSRF checking, and the error pages."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from threading import Lock
from typing import Any, Iterable

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse

from ..app.month import month_results
from ..app.results import month_fingerprint
from .auth import User, check_csrf, session_user
from .jobs import JobQueue
from .pages import render_page
from .store import Store
from .words import FLASH

__all__ = ["Web", "WebSettings", "Viewer", "viewer", "require", "check_form", "page", "refuse", "COOKIE", "PRE_COOKIE",
           "CAN"]

COOKIE = "wangge_session"
PRE_COOKIE = "wangge_login"

# What each role may do.  Reading results and pay sheets is open to every role, within their towns.
CAN = {
    "upload": {"admin", "clerk"},
    "run": {"admin", "clerk"},
    "print": {"admin", "clerk"},
    "issue": {"admin"},
    "users": {"admin"},
    "audit": {"admin", "auditor"},
    "numbers": {"admin", "auditor", "finance"},
    "papers": {"admin", "clerk", "finance", "auditor"},
    "results": {"admin", "clerk", "finance", "auditor"},
    "policies": {"admin", "clerk", "finance", "auditor"},       # read the published versions
    "policy_drafts": {"admin", "auditor"},                      # read drafts too
    "policy_edit": {"admin"},                                   # draft, edit, preview, discard
    "policy_publish": {"admin"},
    "appeals": {"admin", "clerk", "finance", "auditor"},        # within their towns
    "appeal_file": {"admin", "clerk"},
    "appeal_decide": {"admin"},                                 # approve or reject; issue the 更正通知
    "rosters": {"admin", "clerk", "finance", "auditor"},        # read a town's roster (clerks: their own)
    "roster_edit": {"admin", "clerk"},                          # solve, adjust, undo, leave, re-plan, publish
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
    """Stored months' results, kept while history is unchanged (a re-run or a correction changes the
    fingerprint, and everything is read again)."""

    def __init__(self, data: Path, size: int = 24):
        self.data, self.size = data, size
        self._items: dict[tuple, dict] = {}
        self._lock = Lock()

    def get(self, month: str, fp: tuple | None = None) -> dict:
        fp = fp if fp is not None else month_fingerprint(self.data)
        key = (month, fp)
        with self._lock:
            if key in self._items:
                return self._items[key]
        res = month_results(self.data, month)
        with self._lock:
            if len(self._items) >= self.size:
                self._items.pop(next(iter(self._items)))
            self._items[key] = res
        return res


@dataclass
class Web:
    settings: WebSettings
    store: Store
    queue: JobQueue
    results: _ResultsCache = field(init=False)

    def __post_init__(self) -> None:
        from .checker import Checker

        self.results = _ResultsCache(self.settings.data)
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
        return self.settings.data

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
    """The logged-in user, their office, what they may see (`towns`: None for all) and their CSRF token."""
    user: User
    csrf: str
    office: dict
    token: str

    @property
    def towns(self) -> set[str] | None:
        return {self.user.town} if self.user.role == "clerk" else None

    def can(self, what: str) -> bool:
        return self.user.role in CAN[what]

    def sees_town(self, town: str) -> bool:
        return self.towns is None or town in self.towns


class LoginNeeded(Exception):
    pass


def web_of(request: Request) -> Web:
    return request.app.state.web


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def viewer(request: Request) -> Viewer:
    """FastAPI dependency: the logged-in user, or a redirect to the login page (401 for JSON)."""
    web = web_of(request)
    token = request.cookies.get(COOKIE)
    got = session_user(web.store, token)
    if got is None:
        raise LoginNeeded()
    user, csrf = got
    office = web.store.office(user.office_id)
    v = Viewer(user, csrf, office, token)
    request.state.viewer = v
    return v


def refuse(request: Request, v: Viewer, what: str, status: int = 403) -> HTTPException:
    """A refused request, audited (who tried what), as an exception to raise."""
    web_of(request).store.audit(user=v.user.as_dict(), action="denied", target=f"{request.method} {request.url.path}",
                                after={"reason": what}, ip=client_ip(request))
    return HTTPException(status, what)


def require(request: Request, v: Viewer, what: str) -> None:
    if not v.can(what):
        raise refuse(request, v, f"您的角色（{v.user.role_label}）不能进行此操作")


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
