"""Load check of the office pages on loopback: N concurrent town clerks viewing and uploading.

    python benchmarks/bench_web.py                    # 50 clerks, 6 rounds each, at most 120 s
    python benchmarks/bench_web.py --clerks 20 --rounds 3 --think 0   # back to back: the server's limit

`wangge serve` runs in its own process (one worker process for jobs) on a free 127.0.0.1 port over the
two-town test office of tests/webkit.py (68 workers, September stored) with N clerk accounts, half in
each town.  Each clerk logs in once, then for each round, pausing about `--think` seconds before each
action (a person reads a page before the next click): home page, the month page, the ranking of
September (with its four charts), a worker's page, an upload of their town's metrics sheet (the
upload is checked with the town's register and event log at once), the month page again.  Every
request is timed from the client; an error is any status other than the expected one.  The loop is
bounded in rounds and in time, and only ever talks to 127.0.0.1.

Prints per page: requests, p50, p95, max (ms), errors, and the load average before and after.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import httpx  # noqa: E402

from webkit import TOWN_A, TOWN_B, build_office  # noqa: E402

PASSWORD = "bench-clerk-pass"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def add_clerks(data: Path, n: int, url: str | None = None) -> list[tuple[str, str]]:
    from engine.web.auth import add_user
    from engine.web.store import Store, default_url

    store = Store(url or default_url(data))
    out = []
    for i in range(n):
        town = TOWN_A if i % 2 == 0 else TOWN_B
        add_user(store, office_id=1, username=f"bench{i:02d}", password=PASSWORD, role="clerk", town=town)
        out.append((f"bench{i:02d}", town))
    store.close()
    return out


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))] if s else 0.0


async def clerk(base: str, username: str, town: str, files: dict, workers: list[str], rounds: int, until: float,
                timings: dict, errors: dict, think: float, seed: int, failures: list | None = None) -> None:
    import random
    rng = random.Random(seed)

    async def pause():
        if think:
            await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))

    async with httpx.AsyncClient(base_url=base, follow_redirects=False, timeout=60) as c:
        async def timed(name, method, url, expect, **kw):
            t0 = time.perf_counter()
            try:
                r = await c.request(method, url, **kw)
                ok = r.status_code == expect
            except httpx.HTTPError:
                r, ok = None, False
            timings.setdefault(name, []).append(time.perf_counter() - t0)
            if not ok:
                errors[name] = errors.get(name, 0) + 1
                if failures is not None:
                    failures.append((name, r.status_code if r is not None else "no answer",
                                     (r.text[:300] if r is not None else "")))
            return r

        page = await timed("登录页", "GET", "/login", 200)
        token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
        await timed("登录", "POST", "/login", 303,
                    data={"username": username, "password": PASSWORD, "login_token": token, "next": "/"})
        home = await timed("首页", "GET", "/", 200)
        csrf = re.search(r'name="csrf" value="([^"]+)"', home.text).group(1)
        metrics = files[town]["metrics"].read_bytes()
        for r in range(rounds):
            if time.monotonic() > until:
                return
            for name, url in (("首页", "/"), ("本月数据", "/months/2026-10"), ("考核结果（含图表）", "/results/2026-09"),
                              ("网格员明细", f"/results/2026-09/workers/{workers[r % len(workers)]}")):
                await pause()
                await timed(name, "GET", url, 200)
            await pause()
            await timed("上传并检查", "POST", "/months/2026-10/uploads", 303, data={"csrf": csrf, "kind": "metrics"},
                        files={"file": ("metrics.csv", metrics, "text/csv")})


async def main_async(args) -> None:
    root = Path(tempfile.mkdtemp(prefix="wangge-bench-web-"))
    office = build_office(root)
    accounts = add_clerks(office["data"], args.clerks)
    from engine.web.app import create_app
    from webkit import Client
    app = create_app(data=office["data"])
    for town, who in ((TOWN_A, "clerk_a"), (TOWN_B, "clerk_b")):      # each town's register and events in place
        c = Client(app, who)
        for k in ("workers", "events"):
            c.upload("2026-10", k, office["towns"][town][k])
    from engine.app.month import month_results
    res = month_results(office["data"], "2026-09")
    by_town = {t: [w["worker_id"] for w in res["workers"] if w["town"] == t] for t in (TOWN_A, TOWN_B)}
    app.state.web.store.close()

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "serve", "--data", str(office["data"]), "--port",
                             str(port)], cwd=str(ROOT), env=dict(os.environ, PYTHONPATH=str(ROOT)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        base = f"http://127.0.0.1:{port}"
        load_before = os.getloadavg()
        timings: dict[str, list[float]] = {}
        errors: dict[str, int] = {}
        t0 = time.monotonic()
        until = t0 + args.seconds
        await asyncio.gather(*(clerk(base, u, t, office["towns"], by_town[t], args.rounds, until, timings, errors,
                                     args.think, i) for i, (u, t) in enumerate(accounts)))
        wall = time.monotonic() - t0
        load_after = os.getloadavg()
    finally:
        proc.terminate()
        proc.wait(20)
    total = sum(len(v) for v in timings.values())
    print(f"{args.clerks} clerks, {args.rounds} rounds, think time {args.think:g} s (0.5-1.5x), {total} requests in {wall:.1f} s "
          f"({total / wall:.0f} requests/s); load average before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    print("| page | requests | p50 ms | p95 ms | max ms | errors |")
    print("|---|---|---|---|---|---|")
    every = []
    for name, vals in timings.items():
        every += vals
        print(f"| {name} | {len(vals)} | {pct(vals, 50) * 1000:.0f} | {pct(vals, 95) * 1000:.0f} | "
              f"{max(vals) * 1000:.0f} | {errors.get(name, 0)} |")
    print(f"| all | {len(every)} | {pct(every, 50) * 1000:.0f} | {pct(every, 95) * 1000:.0f} | "
          f"{max(every) * 1000:.0f} | {sum(errors.values())} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clerks", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--seconds", type=float, default=120, help="stop starting new rounds after this long")
    ap.add_argument("--think", type=float, default=1.0, help="mean pause before each action (0: back to back)")
    asyncio.run(main_async(ap.parse_args()))


if __name__ == "__main__":
    main()
