"""A city centre's own pages: the overview of its counties, and the county switcher in the header
that sets which county a city administrator acts in (kept on the session, server-side)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from ...app.results import trend
from ...errors import HistoryError
from ...periods import month_label
from ...store.db import office_history
from ..auth import act_in
from ..deps import Viewer, any_viewer, check_form, client_ip, page, refuse, web_of

router = APIRouter()


def _city_admin(request: Request, v: Viewer) -> None:
    if not v.city:
        raise refuse(request, v, f"您的角色（{v.user.role_label}）只能办理本县（区）的事务，不能查看或切换到其他县（区）")


def county_summary(web, county: dict) -> dict:
    """A county's latest stored month, its worker count and mean score (from the county's own history)."""
    place = web.place(county)
    try:
        with office_history(place.database):
            months = trend(place.data, None, results_of=place.results.get)
    except HistoryError:
        months = []
    last = months[-1] if months else None
    return {"code": county["code"], "name": county["name"], "id": county["id"],
            "month": last["month"] if last else None, "month_label": month_label(last["month"]) if last else "",
            "workers": last["workers"] if last else 0, "mean": last["mean"] if last else None,
            "months": len(months)}


@router.get("/city")
def overview(request: Request, v: Viewer = Depends(any_viewer)):
    _city_admin(request, v)
    web = web_of(request)
    rows = [county_summary(web, c) for c in web.store.counties(v.home["id"])]
    return page(request, "city.html", rows=rows)


@router.post("/city/switch")
async def switch(request: Request, v: Viewer = Depends(any_viewer)):
    """Act in another county of the city (a city administrator only; a county's users are refused)."""
    form = await check_form(request, v)
    _city_admin(request, v)
    web = web_of(request)
    code = str(form.get("county") or "").strip()
    county = web.store.office_by_code(code) if code else None
    if county is None or county["parent_id"] != v.home["id"] or county["kind"] != "county":
        raise refuse(request, v, f"没有这个县（区）：{code[:40]}", 404)
    act_in(web.store, v.token, county["id"])
    web.store.audit(user=v.user.as_dict(), action="city.switch", target=county["code"],
                    before={"县区": v.office["code"] if v.office else None}, after={"县区": county["code"]},
                    ip=client_ip(request), office_id=county["id"])
    return RedirectResponse("/?msg=switched", status_code=303)
