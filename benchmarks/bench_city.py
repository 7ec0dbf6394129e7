"""Load check of a city centre's set-up on loopback (issue 15 item 4): several `wangge serve`
processes and a `wangge worker` against one PostgreSQL server, bounded in clerks, rounds and time.

    python benchmarks/bench_city.py                        # 3 servers, 30 clerks, 4 rounds, at most 120 s
    python benchmarks/bench_city.py --servers 2 --clerks 20 --think 0

A throwaway PostgreSQL server (tests/pgserver.py) holds the web's store (accounts, sessions, uploads,
jobs, procrastinate's queue) and the county's history (September stored).  The two-town test office
of tests/webkit.py; `--servers` processes of `wangge serve --database postgresql://…` with
WANGGE_DATABASE set to the history, on their own ports, and one `wangge worker`.  Clerks are spread
over the servers round robin and do what benchmarks/bench_web.py's clerks do (home, month page,
ranking with charts, a worker's page, an upload checked with the town's other files).  Meanwhile an
administrator submits a print pack (the HTML draft of September) on the first server, which the
worker renders; its time from submit to done is reported.  The server's connections are sampled
every half second (pg_stat_activity).  Prints per page: requests, p50, p95, max (ms), errors; the
load average before and after.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import httpx  # noqa: E402

from bench_web import add_clerks, clerk, free_port, pct  # noqa: E402
from pgserver import PostgresServer  # noqa: E402
from webkit import ACCOUNTS, TOWN_A, TOWN_B, build_office  # noqa: E402


def prepare(root: Path, server: PostgresServer, clerks: int) -> tuple[dict, str, str, list]:
    import psycopg

    from engine.app.demo import DEMO_OFFICE, DEMO_POLICY
    from engine.app.month import MonthFiles, month_results, run_month
    from engine.web.auth import add_user
    from engine.web.store import Store

    base = server.url.rsplit("/", 1)[0]
    with psycopg.connect(server.url, autocommit=True) as conn:
        for name in ("city_web", "county_history"):
            conn.execute(f'CREATE DATABASE "{name}"')
    web_url, hist_url = f"{base}/city_web", f"{base}/county_history"
    office = build_office(root)
    county = office["county"]
    run_month((str(DEMO_POLICY),), "2026-09", MonthFiles(*(str(county[k]) for k in ("workers", "metrics", "events"))),
              office["data"], root / "out-09", database=hist_url)
    store = Store(web_url)
    oid = store.add_office("测试县网格化服务管理中心", [str(DEMO_POLICY)], str(DEMO_OFFICE), None, unit="测试县网格中心")
    for username, (password, role, town) in ACCOUNTS.items():
        add_user(store, office_id=oid, username=username, password=password, role=role, town=town)
    store.close()
    accounts = add_clerks(office["data"], clerks, web_url)
    os.environ["WANGGE_DATABASE"] = hist_url
    from engine.web.app import WebSettings, create_app
    from webkit import Client
    app = create_app(WebSettings(data=office["data"], url=web_url))
    for town, who in ((TOWN_A, "clerk_a"), (TOWN_B, "clerk_b")):      # each town's register and events in place
        c = Client(app, who)
        for k in ("workers", "events"):
            c.upload("2026-10", k, office["towns"][town][k])
    app.state.web.store.close()
    res = month_results(office["data"], "2026-09")
    office["by_town"] = {t: [w["worker_id"] for w in res["workers"] if w["town"] == t] for t in (TOWN_A, TOWN_B)}
    return office, web_url, hist_url, accounts


def wait_port(port: int, proc: subprocess.Popen) -> None:
    import socket
    for _ in range(600):
        if proc.poll() is not None:
            raise SystemExit(f"wangge serve on port {port} stopped at start")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"wangge serve on port {port} did not start")


async def print_job(base: str, timings: dict) -> None:
    """An administrator's print pack (HTML draft) through the queue: seconds from submit to done."""
    async with httpx.AsyncClient(base_url=base, follow_redirects=False, timeout=60) as c:
        page = await c.get("/login")
        token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
        await c.post("/login", data={"username": "admin", "password": ACCOUNTS["admin"][0], "login_token": token,
                                     "next": "/"})
        csrf = re.search(r'name="csrf" value="([^"]+)"', (await c.get("/")).text).group(1)
        t0 = time.perf_counter()
        r = await c.post("/papers/2026-09/print", data={"csrf": csrf, "formats": "html"})
        jid = r.headers["location"].rsplit("/", 1)[1]
        while True:
            js = (await c.get(f"/jobs/{jid}.json")).json()
            if js["state"] in ("done", "failed"):
                break
            await asyncio.sleep(0.5)
        timings["print"] = (time.perf_counter() - t0, js["state"])


def sample_connections(url: str, stop: threading.Event, seen: list[int]) -> None:
    import psycopg
    with psycopg.connect(url, autocommit=True) as conn:
        while not stop.wait(0.5):
            seen.append(conn.execute("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")
                        .fetchone()[0])


async def main_async(args) -> None:
    root = Path(tempfile.mkdtemp(prefix="wangge-bench-city-"))
    server = PostgresServer().start()
    procs: list[subprocess.Popen] = []
    try:
        office, web_url, hist_url, accounts = prepare(root, server, args.clerks)
        env = dict(os.environ, PYTHONPATH=str(ROOT), WANGGE_DATABASE=hist_url)
        ports = [free_port() for _ in range(args.servers)]
        for port in ports:
            procs.append(subprocess.Popen([sys.executable, "-m", "engine.cli", "serve", "--data", str(office["data"]),
                                           "--database", web_url, "--port", str(port)], cwd=str(ROOT), env=env,
                                          stdout=open(root / f"serve-{port}.log", "wb"), stderr=subprocess.STDOUT))
        procs.append(subprocess.Popen([sys.executable, "-m", "engine.cli", "worker", "--data", str(office["data"]),
                                       "--database", web_url], cwd=str(ROOT), env=env,
                                      stdout=open(root / "worker.log", "wb"), stderr=subprocess.STDOUT))
        for port, proc in zip(ports, procs):
            wait_port(port, proc)
        bases = [f"http://127.0.0.1:{p}" for p in ports]
        stop, conns = threading.Event(), []
        sampler = threading.Thread(target=sample_connections, args=(server.url, stop, conns), daemon=True)
        sampler.start()
        load_before = os.getloadavg()
        timings: dict[str, list[float]] = {}
        errors: dict[str, int] = {}
        jobs: dict = {}
        failures: list = []
        t0 = time.monotonic()
        until = t0 + args.seconds
        await asyncio.gather(print_job(bases[0], jobs),
                             *(clerk(bases[i % len(bases)], u, t, office["towns"], office["by_town"][t], args.rounds,
                                     until, timings, errors, args.think, i, failures)
                               for i, (u, t) in enumerate(accounts)))
        wall = time.monotonic() - t0
        load_after = os.getloadavg()
        stop.set()
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        server.stop()
    total = sum(len(v) for v in timings.values())
    print(f"{args.servers} wangge serve + 1 wangge worker on one PostgreSQL; {args.clerks} clerks, {args.rounds} rounds, "
          f"think time {args.think:g} s (0.5-1.5x); {total} requests in {wall:.1f} s ({total / wall:.0f} requests/s); "
          f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}; server connections at most "
          f"{max(conns, default=0)}; print pack through the queue: {jobs['print'][0]:.1f} s ({jobs['print'][1]})")
    print("| page | requests | p50 ms | p95 ms | max ms | errors |")
    print("|---|---|---|---|---|---|")
    every = []
    for name, vals in timings.items():
        every += vals
        print(f"| {name} | {len(vals)} | {pct(vals, 50) * 1000:.0f} | {pct(vals, 95) * 1000:.0f} | "
              f"{max(vals) * 1000:.0f} | {errors.get(name, 0)} |")
    print(f"| all | {len(every)} | {pct(every, 50) * 1000:.0f} | {pct(every, 95) * 1000:.0f} | "
          f"{max(every) * 1000:.0f} | {sum(errors.values())} |")
    for name, status, text in failures:
        print(f"error: {name}: {status}: {' '.join(re.sub(r'<[^>]+>', ' ', text).split())[:200]}")
    for log in sorted(root.glob("*.log")):
        text = log.read_text(encoding="utf-8", errors="replace")
        if "Traceback" in text or "ERROR" in text:
            print(f"--- {log.name} (last lines)\n" + "\n".join(text.splitlines()[-30:]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--servers", type=int, default=3)
    ap.add_argument("--clerks", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=120, help="stop starting new rounds after this long")
    ap.add_argument("--think", type=float, default=1.0, help="mean pause before each action (0: back to back)")
    asyncio.run(main_async(ap.parse_args()))


if __name__ == "__main__":
    main()
