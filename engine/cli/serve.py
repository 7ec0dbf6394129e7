"""`wangge serve` (the office in a browser) and `wangge user add` (accounts)."""
from __future__ import annotations

import contextlib
import getpass
import signal
import threading
from pathlib import Path

import click

from ..errors import EngineError
from .common import console, err_console, run_guarded

DEMO_DATA = Path("out/demo/history")


def register(group: click.Group) -> None:
    group.add_command(serve)
    group.add_command(worker)
    group.add_command(user_group)
    group.add_command(office_group)


def _on_server(url: str | None) -> bool:
    return bool(url) and url.split(":", 1)[0].split("+", 1)[0] == "postgresql"


def _has_store(data: Path) -> bool:
    return (data / "web.sqlite3").is_file()


@click.command("serve")
@click.option("--data", type=click.Path(file_okay=False), envvar="WANGGE_DATA", default="data", show_default=True,
              help="本单位数据目录：历史库、账号库、上传的文件和输出（也可用环境变量 WANGGE_DATA）")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="监听地址；127.0.0.1 只允许本机访问，0.0.0.0 允许单位内网其他电脑访问")
@click.option("--port", type=int, default=8000, show_default=True, help="端口")
@click.option("--workers", type=click.IntRange(1, 16), metavar="整数", default=1, show_default=True,
              help="后台任务进程数（运行月份、生成打印材料）")
@click.option("--max-upload-mb", type=click.IntRange(1, 200), metavar="整数", default=8, show_default=True, help="单次上传的大小上限（MB）")
@click.option("--secure-cookies", is_flag=True, help="登录凭证只经 HTTPS 发送（在 HTTPS 反向代理之后使用时打开）")
@click.option("--database", envvar="WANGGE_WEB_DATABASE", default=None,
              help="账号、任务等网页数据的数据库地址（默认：数据目录下的 web.sqlite3）；postgresql://… 时后台任务由 "
                   "wangge worker 进程执行（也可用环境变量 WANGGE_WEB_DATABASE）")
@click.pass_context
@run_guarded
def serve(ctx, data, host, port, workers, max_upload_mb, secure_cookies, database):
    """在浏览器中办公：启动本单位的考核网站（上传数据、运行月份、查看结果、下载发放表和打印材料）。

    \b
    第一次使用：先用 wangge user add 建立管理员账号（运行过 wangge demo 时，
    不指定 --data 即打开示例单位，示例账号见 wangge demo 的输出或 docs/web.md）。
    示例：
      wangge serve                                   # 本机 http://127.0.0.1:8000
      wangge serve --data /srv/wangge --host 0.0.0.0 --port 8080 --workers 2
    """
    import uvicorn

    from ..web.app import WebSettings, create_app
    from ..web.jobs import Runner
    from ..web.store import Store, default_url

    folder = Path(data)
    if ctx.get_parameter_source("data").name == "DEFAULT" and not _has_store(folder) and _has_store(DEMO_DATA):
        folder = DEMO_DATA
        console.print(f"打开示例单位（{DEMO_DATA}，由 wangge demo 生成）；正式使用请用 --data 指定本单位数据目录。",
                      markup=False)
    if not _has_store(folder) and database is None:
        raise click.UsageError(f"数据目录 {folder} 中还没有账号：先用 wangge user add --data {folder} 建立管理员"
                               "（或先运行 wangge demo 打开示例单位）")
    folder = folder.resolve()
    url = database or default_url(folder)
    store = Store(url)
    if store.first_office() is None:
        raise click.UsageError(f"数据目录 {folder} 中还没有单位：先用 wangge user add --data {folder} 建立管理员")
    _shared_history_refused(store)
    queued = _on_server(url)      # PostgreSQL: jobs go to `wangge worker` processes, which may be busy right now
    recovered = 0 if queued else _recover(store)
    settings = WebSettings(data=folder, url=url, max_upload=max_upload_mb * 1024 * 1024, secure_cookies=secure_cookies,
                           workers=workers)
    app = create_app(settings, store=store)
    runner = None if queued else Runner(url, folder, workers)
    if runner is not None:
        runner.start()
    else:
        console.print("后台任务（运行月份、打印材料、排班）交给 wangge worker 进程执行：请在本机或其他电脑上用同样的 "
                      "--data 和 --database 启动至少一个。", markup=False)
    if recovered:
        console.print(f"上次停止时有 {recovered} 个任务未完成，已标为未完成（可重新提交）。", markup=False)
    if host not in ("127.0.0.1", "localhost", "::1"):
        err_console.print("注意：网站对其他电脑开放。请只在单位内网使用；经 HTTPS 访问时加 --secure-cookies。", markup=False)
    console.print(f"网格化考核网站已启动：http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}"
                  f"（数据目录 {folder}；后台任务进程 {'由 wangge worker 提供' if queued else f'{workers} 个'}；按 Ctrl+C 停止）",
                  markup=False)
    try:
        _Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)).run()
    finally:
        if runner is not None:
            runner.stop()
        store.close()
        console.print("已停止。", markup=False)


def _server_class():
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, stopped by Ctrl+C or SIGTERM without raising the signal again afterwards (uvicorn
        does, which would end the process before the worker processes are stopped and the store closed)."""

        @contextlib.contextmanager
        def capture_signals(self):
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            old = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for sig, handler in old.items():
                    signal.signal(sig, handler)
    return Server


def _Server(config):
    return _server_class()(config)


def demo_web(report, month: str, out: str | Path, policy: str | Path) -> None:
    """After `wangge demo`: the demo history as a web office, with one account per role (printed)."""
    from ..app.demo import DEMO_OFFICE, DEMO_ROSTER
    from ..web.demo import prepare_demo_office

    root = Path(out)
    settings = root / "office.yaml" if (root / "office.yaml").exists() else DEMO_OFFICE
    accounts = prepare_demo_office(report.history, policy=policy, settings=settings, roster_dir=report.roster,
                                   inputs=report.data, month=month, roster_problem=DEMO_ROSTER)
    console.print("\n在浏览器中办公：wangge serve，然后打开 http://127.0.0.1:8000 ，示例账号（仅供本机试用）：", markup=False)
    from ..web.auth import ROLE_LABELS
    for username, password, role, town, _name in accounts:
        console.print(f"  {ROLE_LABELS[role]}{'（' + town + '）' if town else ''}：用户名 {username}，密码 {password}",
                      markup=False)


@click.command("worker")
@click.option("--data", type=click.Path(file_okay=False, exists=True), envvar="WANGGE_DATA", default="data",
              show_default=True, help="数据目录，与 wangge serve 的相同（其他电脑上：挂载的同一目录）")
@click.option("--database", envvar="WANGGE_WEB_DATABASE", required=True,
              help="网页数据的 PostgreSQL 地址，与 wangge serve 的 --database 相同（也可用环境变量 WANGGE_WEB_DATABASE）")
@click.option("--name", default=None, help="本进程在日志和任务记录中的名称（默认：计算机名）")
@run_guarded
def worker(data, database, name):
    """后台任务进程：从数据库中领取网站提交的任务（运行月份、打印材料、排班）并执行，可在多台电脑上各启动一个。

    \b
    一个进程同时只执行一个任务；进程中途停止（断电、被结束）时，任务由其他进程从头重新执行，
    不会重复存入月份或重复占用文号。按 Ctrl+C 停止（手上的任务做完再停）。
    示例：
      wangge worker --data /srv/wangge --database postgresql://wangge@db.example/wangge_web
    """
    import logging

    from ..web.pgqueue import run_worker
    from ..web.store import Store

    if not _on_server(database):
        raise click.UsageError("wangge worker 只用于 PostgreSQL 上的网页数据（--database postgresql://…）；"
                               "用 SQLite 时 wangge serve 自己执行后台任务，不需要另外启动")
    Store(database).close()        # the store's schema (and procrastinate's) brought up to date first
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    console.print(f"后台任务进程已启动（数据目录 {Path(data).resolve()}；按 Ctrl+C 停止）", markup=False)
    run_worker(database, Path(data).resolve(), name=name)
    console.print("已停止。", markup=False)


def _shared_history_refused(store) -> None:
    """Two counties without a history address of their own would both use WANGGE_DATABASE: refused."""
    import os

    from ..store.db import ENV_DATABASE

    bare = [o["code"] for o in store.all_offices() if o["kind"] == "county" and not o["database"]]
    if os.environ.get(ENV_DATABASE) and len(bare) > 1:
        raise EngineError(f"设置了环境变量 {ENV_DATABASE}，而县级单位 {'、'.join(bare)} 都没有自己的历史库地址："
                          "它们会共用一个历史库。请用 wangge office add --database 为每个县（区）各建一个历史库，"
                          f"或不设 {ENV_DATABASE}（各县用自己数据目录中的 history.sqlite3）")


def _recover(store) -> int:
    from ..web.jobs import JobQueue
    return JobQueue(store).recover()


@click.group("user")
def user_group():
    """网站账号：县级管理员、镇街办事员、财务、审计。"""


@user_group.command("add")
@click.option("--data", type=click.Path(file_okay=False), envvar="WANGGE_DATA", default="data", show_default=True,
              help="本单位数据目录")
@click.option("--username", required=True, help="用户名（登录用）")
@click.option("--name", "display_name", default="", help="姓名（页面上显示）")
@click.option("--role", type=click.Choice(["admin", "clerk", "finance", "auditor", "city_admin"]), default="admin",
              show_default=True, help="admin 县级管理员；clerk 镇街办事员（须 --town）；finance 财务（只读发放表）；"
                                      "auditor 审计（只读，看审计日志）；city_admin 市级管理员（只能建在市级单位）")
@click.option("--office", "office_code", default=None, metavar="代码",
              help="账号所属单位的代码（wangge office list 可查；不给则为第一个单位）")
@click.option("--town", default=None, help="镇街办事员所属镇街")
@click.option("--password", default=None, help="密码（不给则提示输入；写在命令行上会留在命令历史中）")
@click.option("--database", envvar="WANGGE_WEB_DATABASE", default=None,
              help="网页数据的数据库地址，与 wangge serve 的 --database 相同（默认：数据目录下的 web.sqlite3）")
@click.option("--policy", "policies", multiple=True, type=click.Path(dir_okay=False, exists=True),
              help="第一次建立账号时：本单位考核细则 YAML（可多次给出）")
@click.option("--office-name", default="", help="第一次建立账号时：单位名称")
@click.option("--office-settings", type=click.Path(dir_okay=False, exists=True), default=None,
              help="第一次建立账号时：发文设置 office.yaml（默认：数据目录下的 office.yaml）")
@click.option("--roster", "roster_dir", type=click.Path(file_okay=False, exists=True), default=None,
              help="第一次建立账号时：随打印材料打印的排班（wangge roster 的输出目录）")
@click.option("--roster-problem", type=click.Path(file_okay=False, exists=True), default=None,
              help="第一次建立账号时：本单位的排班数据目录（如 rosters/demo-town），可在网页上排出每月排班")
@run_guarded
def user_add(data, username, display_name, role, office_code, town, password, database, policies, office_name,
             office_settings, roster_dir, roster_problem):
    """建立网站账号；数据目录中还没有单位时，同时建立单位（须给出 --policy）。

    \b
    示例：
      wangge user add --data data --username admin --name 张主任 --policy rules/chengguan.yaml \\
        --office-name 鹤山镇网格化服务管理中心 --office-settings data/office.yaml
      wangge user add --data data --username heshan --role clerk --town 鹤山镇
    """
    from ..web.auth import AuthError, add_user
    from ..web.store import Store, default_url

    folder = Path(data).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    store = Store(database or default_url(folder))
    try:
        office = store.first_office() if office_code is None else _office_of(store, office_code)
        if office is None:
            if not policies:
                raise click.UsageError("数据目录中还没有单位：第一次建立账号时须用 --policy 指定本单位考核细则")
            settings = office_settings or (str(folder / "office.yaml") if (folder / "office.yaml").is_file() else None)
            oid = store.add_office(office_name or "网格化服务管理中心", [str(Path(p).resolve()) for p in policies],
                                   str(Path(settings).resolve()) if settings else None,
                                   str(Path(roster_dir).resolve()) if roster_dir else None, unit=office_name,
                                   roster_problem=str(Path(roster_problem).resolve()) if roster_problem else None)
            console.print(f"已建立单位「{office_name or '网格化服务管理中心'}」（数据目录 {folder}）。", markup=False)
        else:
            oid = office["id"]
            if policies or office_settings or office_name or roster_dir or roster_problem:
                raise click.UsageError("单位已建立；--policy、--office-name、--office-settings、--roster、--roster-problem "
                                       "只在第一次使用")
        if password is None:
            password = getpass.getpass("密码（至少 8 个字符）：")
            if getpass.getpass("再输一次：") != password:
                raise click.UsageError("两次输入的密码不一致")
        try:
            user = add_user(store, office_id=oid, username=username, password=password, role=role, town=town,
                            display_name=display_name)
        except AuthError as exc:
            raise click.UsageError(str(exc)) from None
        console.print(f"已建立账号 {user.username}（{user.role_label}{'，' + user.town if user.town else ''}）。"
                      f"启动网站：wangge serve --data {data}", markup=False)
    finally:
        store.close()


def _office_of(store, code: str) -> dict:
    from ..errors import Problem
    from ..web.offices import OfficeError

    office = store.office_by_code(code)
    if office is None:
        known = "、".join(o["code"] for o in store.all_offices()) or "（还没有单位）"
        raise OfficeError([Problem("单位设置", None, "所属单位（--office）", code, f"已建立的单位代码之一：{known}",
                                   "用 wangge office list 查看，wangge office add 建立")])
    return office


def _web_store(server_data: str, web_database: str | None):
    from ..web.store import Store, default_url

    folder = Path(server_data).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return Store(web_database or default_url(folder))


SERVER_DATA = click.option("--server-data", type=click.Path(file_okay=False), envvar="WANGGE_DATA", default="data",
                           show_default=True, help="wangge serve 的 --data（其中的 web.sqlite3 记录各单位和账号；也可用环境变量 WANGGE_DATA）")
WEB_DATABASE = click.option("--web-database", envvar="WANGGE_WEB_DATABASE", default=None,
                            help="网页数据的数据库地址，与 wangge serve 的 --database 相同（也可用环境变量 WANGGE_WEB_DATABASE）")


@click.group("office")
def office_group():
    """单位：市级中心下的各县（区）网格化服务管理中心，每个县（区）有自己的数据目录和历史库。"""


@office_group.command("add")
@SERVER_DATA
@WEB_DATABASE
@click.option("--code", required=True, help="单位代码：小写英文字母、数字、- 或 _（如 heshan），登录后切换县区、命令中用它")
@click.option("--name", required=True, help="单位名称（如 鹤山县网格化服务管理中心）")
@click.option("--kind", type=click.Choice(["county", "city"]), default="county", show_default=True,
              help="county 县级单位（有自己的数据、月份、文号和账号）；city 市级单位（市级管理员查看下属各县）")
@click.option("--city", default=None, metavar="代码", help="县级单位所属的市级单位代码")
@click.option("--data", type=click.Path(file_okay=False), default=None,
              help="县级单位自己的数据目录（上传的文件、各月输出、细则版本、排班、history.sqlite3）")
@click.option("--policy", "policies", multiple=True, help="本单位考核细则 YAML（可多次给出）")
@click.option("--settings", default=None, help="发文设置 office.yaml（默认：数据目录下的 office.yaml）")
@click.option("--database", default=None, metavar="地址",
              help="本单位历史库地址（如 postgresql://wangge@db/heshan）；不给则为数据目录下的 history.sqlite3")
@click.option("--roster-problem", default=None, help="本单位的排班数据目录（如 rosters/demo-town）")
@click.option("--unit", default="", help="发放表等表头上的单位名（默认：单位名称）")
@run_guarded
def office_add(server_data, web_database, code, name, kind, city, data, policies, settings, database, roster_problem, unit):
    """建立单位：市级单位，或其下的县级单位（各自的数据目录和历史库，数据互不可见）。

    \b
    示例：
      wangge office add --code jiangmen --name 江门市网格化服务管理中心 --kind city
      wangge office add --code heshan --name 鹤山县网格化服务管理中心 --city jiangmen \\
        --data /srv/wangge/heshan --policy rules/chengguan.yaml
      wangge user add --office jiangmen --username city --role city_admin
    """
    from ..web.offices import KIND_LABELS, new_office

    store = _web_store(server_data, web_database)
    try:
        oid = new_office(store, code=code, name=name, kind=kind, city=city, data=data, policies=list(policies),
                         settings=settings, database=database, unit=unit, roster_problem=roster_problem,
                         server_data=Path(server_data).resolve())
        o = store.office(oid)
    finally:
        store.close()
    where = f"，数据目录 {o['data_dir']}" if o["data_dir"] else ""
    console.print(f"已建立{KIND_LABELS[kind]}「{o['name']}」（代码 {o['code']}{where}）。"
                  f"建立账号：wangge user add --office {o['code']} …", markup=False)


@office_group.command("list")
@SERVER_DATA
@WEB_DATABASE
@run_guarded
def office_list(server_data, web_database):
    """列出各单位：代码、名称、类别、所属市、数据目录、历史库。

    \b
    示例：
      wangge office list --server-data /srv/wangge/web
    """
    from ..store.db import display_url
    from ..web.offices import KIND_LABELS

    store = _web_store(server_data, web_database)
    try:
        rows = store.all_offices()
    finally:
        store.close()
    if not rows:
        console.print("还没有单位：用 wangge office add 或 wangge user add --policy … 建立。", markup=False)
        return
    code_of = {o["id"]: o["code"] for o in rows}
    for o in rows:
        city = f"  所属市 {code_of.get(o['parent_id'], '')}" if o["parent_id"] else ""
        data = o["data_dir"] or f"{Path(server_data).resolve()}（服务器数据目录）"
        hist = display_url(o["database"]) if o["database"] else "数据目录下的 history.sqlite3（或 WANGGE_DATABASE）"
        console.print(f"{o['code']}  {o['name']}  {KIND_LABELS.get(o['kind'], o['kind'])}{city}"
                      + (f"\n    数据目录 {data}\n    历史库 {hist}" if o["kind"] == "county" else ""), markup=False)
