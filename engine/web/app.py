"""The office in a browser: the FastAPI application (`create_app`), its middleware and error pages.

Routes live in engine/web/routes/ (login, the month, results, papers, administration); each turns a
request into one call of the application layer (engine/app) or a job (engine/web/jobs.py), and the
result into a page.  Nothing here scores, pays or plans.
"""
from __future__ import annotations

from pathlib import Path

from fastapi import Depends, FastAPI, Request
from starlette.exceptions import HTTPException
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from ..errors import EngineError
from .deps import CountyNeeded, LoginNeeded, Web, WebSettings, page, viewer
from .jobs import JobQueue, error_dict
from .store import Store, default_url

__all__ = ["create_app", "WebSettings"]

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"content-security-policy",
     b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; "
     b"frame-ancestors 'none'; base-uri 'none'; object-src 'none'"),
]


class Guard:
    """ASGI middleware: refuses a request body larger than `limit` bytes (by its Content-Length, and
    while it streams in, for bodies sent without one) and adds the security headers to every answer."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            return await self._too_large(send)
        seen = 0
        started = False

        async def limited_receive():
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge()
            return msg

        async def send_with_headers(msg):
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
                msg = dict(msg)
                msg["headers"] = list(msg.get("headers", [])) + SECURITY_HEADERS
            await send(msg)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except _TooLarge:
            if not started:
                await self._too_large(send)

    async def _too_large(self, send):
        mb = self.limit / (1024 * 1024)
        body = render_error(413, f"上传的文件太大：每次最多 {mb:g} MB。请只保留需要的工作表和行，或分镇街上传。").encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"text/html; charset=utf-8"),
                                (b"content-length", str(len(body)).encode())] + SECURITY_HEADERS})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


def render_error(status: int, message: str) -> str:
    from .pages import render_page
    return render_page("error.html", request=None, viewer=None, csrf="", path="", flash="", status=status,
                       message=message, problems=[])


def create_app(settings: WebSettings | None = None, *, data: str | Path | None = None, store: Store | None = None) -> FastAPI:
    """The application over a data folder (history.sqlite3, web.sqlite3, uploads, outputs)."""
    if settings is None:
        data = Path(data or "data").resolve()
        settings = WebSettings(data=data, url=default_url(data))
    settings.data = Path(settings.data).resolve()
    store = store or Store(settings.url)
    # No /docs or /redoc; the API's description only to a logged-in user (it maps every route).
    app = FastAPI(title="wangge 网格", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.web = Web(settings, store, JobQueue(store, dispatch=_dispatch(store)))
    app.mount("/static", StaticFiles(directory=str(Path(__file__).with_name("static"))), name="static")

    from .routes import admin, appeals, auth, city, month, papers, policies, results, rosters
    for mod in (auth, city, month, results, papers, policies, appeals, rosters, admin):
        app.include_router(mod.router)

    @app.get("/api/openapi.json", include_in_schema=False)
    def _openapi(v=Depends(viewer)):
        from fastapi.openapi.utils import get_openapi

        return JSONResponse(get_openapi(title=app.title, version=app.version, routes=app.routes))

    @app.on_event("shutdown")
    def _stop_checker() -> None:
        app.state.web.checker.close()

    @app.exception_handler(LoginNeeded)
    async def _login(request: Request, exc: LoginNeeded):
        if _wants_json(request):
            return JSONResponse({"error": "未登录"}, status_code=401)
        nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote
        return RedirectResponse(f"/login?next={quote(nxt)}", status_code=303)

    @app.exception_handler(CountyNeeded)
    async def _county(request: Request, exc: CountyNeeded):
        if _wants_json(request):
            return JSONResponse({"error": "请先在页面顶部选择要办理的县（区）"}, status_code=409)
        return RedirectResponse("/city?msg=choose_county", status_code=303)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException):
        if _wants_json(request):
            return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
        msg = exc.detail if isinstance(exc.detail, str) else "请求有误"
        if exc.status_code == 404 and msg == "Not Found":
            msg = "没有这个页面"
        if exc.status_code == 405:
            msg = "不支持这种请求方式"
        return page(request, "error.html", status=exc.status_code, status_code=exc.status_code, message=msg, problems=[])

    @app.exception_handler(EngineError)
    async def _engine(request: Request, exc: EngineError):
        err = error_dict(exc)
        if _wants_json(request):
            return JSONResponse(err, status_code=422)
        return page(request, "error.html", status=422, status_code=422, message=err["message"],
                    problems=err.get("problems", []))

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception):
        import logging
        logging.getLogger("wangge.web").exception("internal error")
        msg = f"程序内部错误（不是您的文件有误；之前的结果保持不变）：{type(exc).__name__}。请把此信息报告给开发者。"
        if _wants_json(request):
            return JSONResponse({"error": msg}, status_code=500)
        return HTMLResponse(render_error(500, msg), status_code=500)

    app.add_middleware(Guard, limit=settings.max_upload)
    return app


def _dispatch(store: Store):
    """Where submitted jobs go: with the store on PostgreSQL, to the `wangge worker` processes
    (engine/web/pgqueue.py); on SQLite the server's own worker processes take them from the table."""
    if store.engine.dialect.name != "postgresql":
        return None
    from .pgqueue import Dispatch
    return Dispatch(store.url)


def _wants_json(request: Request) -> bool:
    return request.url.path.endswith(".json") or "application/json" in request.headers.get("accept", "")
