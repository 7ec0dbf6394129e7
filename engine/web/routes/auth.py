"""Login, logout, and changing one's own password."""
from __future__ import annotations

import secrets

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse

from ..auth import AuthError, authenticate, check_csrf, end_session, new_session, set_password, check_password
from ..deps import COOKIE, PRE_COOKIE, Viewer, any_viewer, check_form, client_ip, page, web_of
from ..store import users
from sqlalchemy import select

router = APIRouter()


def _safe_next(nxt: str | None) -> str:
    """Only a path of this site (no //host, no scheme), so a login link cannot send anyone elsewhere."""
    if not nxt or not nxt.startswith("/") or nxt.startswith("//") or "\\" in nxt:
        return "/"
    return nxt


def _login_page(request: Request, *, error: str = "", status: int = 200, username: str = ""):
    token = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(24)
    resp = page(request, "login.html", status=status, login_token=token, error=error, username=username,
                next=_safe_next(request.query_params.get("next")))
    resp.set_cookie(PRE_COOKIE, token, httponly=True, samesite="strict", secure=web_of(request).settings.secure_cookies,
                    path="/login")
    return resp


@router.get("/login")
def login_form(request: Request):
    return _login_page(request)


@router.post("/login")
async def login(request: Request):
    web = web_of(request)
    form = await request.form(max_files=0, max_fields=10)
    if not check_csrf(request.cookies.get(PRE_COOKIE), form.get("login_token")):
        raise HTTPException(403, "登录表单已过期（CSRF 校验未通过）：请刷新登录页后重新登录")
    username = str(form.get("username") or "")
    try:
        user = authenticate(web.store, username, str(form.get("password") or ""), client_ip(request))
    except AuthError as exc:
        return _login_page(request, error=str(exc), status=429, username=username)
    if user is None:
        return _login_page(request, error="用户名或密码不对", status=401, username=username)
    # a new session every time: a session id planted before login is dropped, never promoted
    token, _csrf = new_session(web.store, user, client_ip(request), drop=request.cookies.get(COOKIE))
    resp = RedirectResponse(_safe_next(str(form.get("next") or "")), status_code=303)
    resp.set_cookie(COOKIE, token, httponly=True, samesite="lax", secure=web.settings.secure_cookies, path="/")
    resp.delete_cookie(PRE_COOKIE, path="/login")
    return resp


@router.post("/logout")
async def logout(request: Request, v: Viewer = Depends(any_viewer)):
    await check_form(request, v)
    web = web_of(request)
    end_session(web.store, v.token)
    web.store.audit(user=v.user.as_dict(), action="logout", ip=client_ip(request))
    resp = RedirectResponse("/login?msg=logged_out", status_code=303)
    resp.delete_cookie(COOKIE, path="/")
    return resp


@router.get("/account")
def account(request: Request, v: Viewer = Depends(any_viewer)):
    return page(request, "account.html", error="")


@router.post("/account")
async def change_password(request: Request, v: Viewer = Depends(any_viewer)):
    form = await check_form(request, v)
    web = web_of(request)
    row = web.store.one(select(users.c.password_hash).where(users.c.id == v.user.id))
    if not check_password(row["password_hash"], str(form.get("old") or "")):
        return page(request, "account.html", status=400, error="原密码不对")
    if form.get("new") != form.get("again"):
        return page(request, "account.html", status=400, error="两次输入的新密码不一致")
    try:
        set_password(web.store, v.user.id, str(form.get("new") or ""), by=v.user.as_dict())
    except AuthError as exc:
        return page(request, "account.html", status=400, error=str(exc))
    resp = RedirectResponse("/login?msg=password", status_code=303)
    resp.delete_cookie(COOKIE, path="/")
    return resp
