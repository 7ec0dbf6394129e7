"""Benchmark month after month, end to end: score + store + period rules + pay sheet.

    python benchmarks/bench_history.py                 # both scenarios, SQLite
    python benchmarks/bench_history.py --only county   # ~650 workers x 12 months
    python benchmarks/bench_history.py --only big --workers 100000
    python benchmarks/bench_history.py --only big --postgres          # the same on a throwaway PostgreSQL server
    python benchmarks/bench_history.py --only big --both              # SQLite, then PostgreSQL (the province month)
    python benchmarks/bench_history.py --only big --database postgresql://user@host/db   # on a server of yours

county: the demo county (engine.demo, size "county") for 2026-01..2026-12, each month run as
`wangge run` does it (score_month, then record_month: check workers against history, period rules
over every stored month, one SQLite transaction, results.json, period_findings.csv, results.csv,
findings.csv, paysheet.xlsx, paysheet.csv).
big: one month of at least N workers (whole copies of the county's demo rows, with new ids) into
an empty history, timed in three steps: read (the three CSV files read and checked, every row
located), score, and record (store, period rules, results.json/CSVs, pay sheet).

Times are wall-clock seconds on this machine; results are printed as a Markdown table with the
load average (1 minute) before and after, since the machine may be shared.
"""
from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.app.month import record_month, scoring_tables  # noqa: E402  (what `wangge run` does)
from engine.demo import generate, month_list  # noqa: E402
from engine.history import History  # noqa: E402
from engine.inputs import read_month  # noqa: E402
from engine.periods import parse_period_rules  # noqa: E402
from engine.policy import load_policy  # noqa: E402
from engine.scoring import score_month  # noqa: E402

POLICY = ROOT / "tests" / "fixtures" / "history" / "policy" / "chengguan-periods.yaml"


def rules_for(ps):
    cache = {}

    def get(month):
        if month not in cache:
            pol = ps.for_month(month)
            cache[month] = parse_period_rules(pol.periods_raw, pol.periods_file or "")
        return cache[month]
    return get


def run_month(ps, hist, month, paths, out, cpu: list | None = None):
    """(workers, read s, score s, record s) of one month as `wangge run` does it; `cpu` gets the
    CPU seconds of each step, (this process, its child processes)."""
    policy = ps.for_month(month)
    marks = [(time.perf_counter(), _cpu())]
    inputs = read_month(policy, month, paths["workers"], paths["metrics"], paths["events"])
    marks.append((time.perf_counter(), _cpu()))
    res = score_month(policy, month, paths["workers"], paths["metrics"], paths["events"], inputs=inputs)
    marks.append((time.perf_counter(), _cpu()))
    record_month(hist, res, rules_for=rules_for(ps), out_dir=out, early_outputs=scoring_tables)
    marks.append((time.perf_counter(), _cpu()))
    if cpu is not None:
        cpu.extend((b[1][0] - a[1][0], b[1][1] - a[1][1]) for a, b in zip(marks, marks[1:]))
    return (len(res["workers"]), *(b[0] - a[0] for a, b in zip(marks, marks[1:])))


def _cpu() -> tuple[float, float]:
    """CPU seconds (user + system) of this process and of its finished child processes: what a step
    costs whatever else the machine runs (wall-clock time grows with the load average)."""
    import resource
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def load() -> str:
    return f"{os.getloadavg()[0]:.2f}"


def county(work: Path, months: int, database: str | None) -> list[str]:
    ps = load_policy([POLICY])
    ms = month_list("2026-01", months)
    paths = generate(ps.for_month(ms[0]), work / "in", "county", ms)
    print("| month | workers | read+score s | store+periods+outputs s | load |\n|---|---|---|---|---|", flush=True)
    rows = []
    total = [0.0, 0.0]
    with History(work / "data", database=database) as hist:
        for m in ms:
            n, tread, ts, tr = run_month(ps, hist, m, paths, work / "out" / m)
            total[0] += tread + ts
            total[1] += tr
            print(f"| {m} | {n} | {tread + ts:.2f} | {tr:.2f} | {load()} |", flush=True)
    rows.append(f"| total | | {total[0]:.2f} | {total[1]:.2f} | |")
    if database is None:
        size = (work / "data" / "history.sqlite3").stat().st_size
        rows.append(f"\nhistory.sqlite3 after {months} months: {size / 1e6:.1f} MB")
    return rows


def _scale(src: Path, dest: Path, copies: int, id_cols: list[str], suffix_cols: list[str]) -> None:
    text = src.read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    head, body = rows[0], rows[1:]
    ids = [head.index(c) for c in id_cols if c in head]
    sfx = [head.index(c) for c in suffix_cols if c in head]
    out = io.StringIO()
    wr = csv.writer(out, lineterminator="\n")
    wr.writerow(head)
    for k in range(copies):
        for r in body:
            r = list(r)
            for i in ids + sfx:
                if r[i]:
                    r[i] = f"{r[i]}-{k:03d}"
            wr.writerow(r)
    dest.write_text(out.getvalue(), encoding="utf-8")


def big(work: Path, n: int, database: str | None) -> list[str]:
    ps = load_policy([POLICY])
    month = "2026-10"
    base = generate(ps.for_month(month), work / "seed", "county", [month])
    with open(base["workers"], encoding="utf-8") as fh:
        per_copy = sum(1 for _ in fh) - 1
    copies = -(-n // per_copy)
    paths = {k: work / f"{k}.csv" for k in ("workers", "metrics", "events")}
    _scale(base["workers"], paths["workers"], copies, ["工号"], ["网格"])
    _scale(base["metrics"], paths["metrics"], copies, ["工号"], [])
    _scale(base["events"], paths["events"], copies, ["工号", "事件编号"], [])
    before = load()
    cpu: list = []
    with History(work / "data", database=database) as hist:
        nw, tread, ts, tr = run_month(ps, hist, month, paths, work / "out", cpu)
    kind = "PostgreSQL" if database and database.startswith("postgres") else "SQLite"
    c = " | ".join(f"{me:.1f} + {kids:.1f}" for me, kids in cpu)
    return ["| history | workers | read s | score s | store+periods+outputs s | total s | load before/after |",
            "|---|---|---|---|---|---|---|",
            f"| {kind} | {nw} | {tread:.2f} | {ts:.2f} | {tr:.2f} | {tread + ts + tr:.2f} | {before} / {load()} |",
            "", "CPU seconds, this process + its helper processes:", "",
            "| history | read | score | store+periods+outputs | total |", "|---|---|---|---|---|",
            f"| {kind} | {c} | {sum(me + kids for me, kids in cpu):.1f} |"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=["county", "big"])
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--workers", type=int, default=100_000)
    ap.add_argument("--work", type=Path, default=None, help="working folder (default: a temporary one)")
    ap.add_argument("--database", default=None, help="the history's URL (default: SQLite in the working folder)")
    ap.add_argument("--postgres", action="store_true", help="start a throwaway PostgreSQL server (tests/pgserver.py)")
    ap.add_argument("--both", action="store_true", help="each scenario on SQLite, then on a throwaway PostgreSQL")
    args = ap.parse_args()
    server = None
    if args.postgres or args.both:
        sys.path.insert(0, str(ROOT / "tests"))
        from pgserver import PostgresServer
        server = PostgresServer().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = args.work or Path(tmp)
            runs = [(None, ""), (server, "-pg")] if args.both else [(server, "")]
            for srv, tag in runs:
                if args.only in (None, "county"):
                    print("## county, month after month\n")
                    print("\n".join(county(work / f"county{tag}", args.months,
                                           _fresh(srv, f"county{tag[1:]}") or args.database)), flush=True)
                if args.only in (None, "big"):
                    print(f"\n## one month of {args.workers} workers\n")
                    print("\n".join(big(work / f"big{tag}", args.workers, _fresh(srv, f"big{tag[1:]}") or args.database)),
                          flush=True)
    finally:
        if server is not None:
            server.stop()


def _fresh(server, name: str) -> str | None:
    """A new database on the throwaway server."""
    if server is None:
        return None
    import psycopg
    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE bench_{name}")
    return server.url.rsplit("/", 1)[0] + f"/bench_{name}"


if __name__ == "__main__":
    main()
