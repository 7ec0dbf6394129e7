"""Administration: accounts (county administrators) and the audit log (administrators and auditors)."""
from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import func, select

from ..auth import ROLE_LABELS, AuthError, add_user
from ..deps import Viewer, check_form, page, require, viewer, web_of
from ..store import audit_log, users
from ..words import ACTION_LABELS

router = APIRouter()
PAGE = 100
COUNTY_ROLES = {k: v for k, v in ROLE_LABELS.items() if k != "city_admin"}   # the accounts a county has


@router.get("/users")
def users_page(request: Request, v: Viewer = Depends(viewer), error: str = ""):
    require(request, v, "users")
    rows = web_of(request).store.all(select(users.c.id, users.c.username, users.c.display_name, users.c.role,
                                            users.c.town, users.c.active, users.c.created_at)
                                     .where(users.c.office_id == v.office["id"]).order_by(users.c.id))
    return page(request, "users.html", rows=rows, roles=COUNTY_ROLES, error=error, values={})


@router.post("/users")
async def users_add(request: Request, v: Viewer = Depends(viewer)):
    require(request, v, "users")
    form = await check_form(request, v)
    web = web_of(request)
    values = {k: str(form.get(k) or "") for k in ("username", "display_name", "role", "town")}
    try:
        add_user(web.store, office_id=v.office["id"], username=values["username"], password=str(form.get("password") or ""),
                 role=values["role"], display_name=values["display_name"], town=values["town"] or None,
                 by=v.user.as_dict())
    except AuthError as exc:
        rows = web.store.all(select(users).where(users.c.office_id == v.office["id"]).order_by(users.c.id))
        return page(request, "users.html", status=400, rows=rows, roles=COUNTY_ROLES, error=str(exc), values=values)
    return RedirectResponse("/users?msg=user_added", status_code=303)


@router.get("/audit")
def audit_page(request: Request, v: Viewer = Depends(viewer), action: str = "", user: str = "", page_no: int = 1):
    require(request, v, "audit")
    store = web_of(request).store
    # lines of no office (failed logins of unknown names) only where the store serves one office:
    # in a city centre they could be anyone's
    mine = audit_log.c.office_id == v.office["id"]
    if len(store.all_offices()) == 1:
        mine = mine | audit_log.c.office_id.is_(None)
    q = select(audit_log).where(mine)
    if action:
        q = q.where(audit_log.c.action == action)
    if user:
        q = q.where(audit_log.c.username == user)
    total = store.one(select(func.count()).select_from(q.subquery()))
    page_no = max(1, page_no)
    rows = store.all(q.order_by(audit_log.c.id.desc()).limit(PAGE).offset((page_no - 1) * PAGE))
    for r in rows:
        for k in ("before", "after"):
            r[k] = json.dumps(json.loads(r[k]), ensure_ascii=False, indent=1) if r[k] else ""
    count = list(total.values())[0] if total else 0
    return page(request, "audit.html", rows=rows, actions=ACTION_LABELS, action=action, user=user, page_no=page_no,
                pages=max(1, (count + PAGE - 1) // PAGE), count=count)
