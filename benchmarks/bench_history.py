"""Benchmark month after month, end to end: score + store + period rules + pay sheet.

    python benchmarks/bench_history.py                 # both scenarios
    python benchmarks/bench_history.py --only county   # ~650 workers x 12 months
    python benchmarks/bench_history.py --only big --workers 100000

county: the demo county (engine.demo, size "county") for 2026-01..2026-12, each month run as
`wangge run` does it (score_month, then record_month: check workers against history, period rules
over every stored month, one SQLite transaction, results.json, period_findings.csv, results.csv,
findings.csv, paysheet.xlsx, paysheet.csv).
big: one month of at least N workers (whole copies of the county's demo rows, with new ids) into
an empty history.

Times are wall-clock seconds on this machine; results are printed as a Markdown table.
"""
from __future__ import annotations

import argparse
import csv
import io
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.app.month import record_month, scoring_tables  # noqa: E402  (what `wangge run` does)
from engine.demo import generate, month_list  # noqa: E402
from engine.history import History  # noqa: E402
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


def run_month(ps, hist, month, paths, out):
    t0 = time.perf_counter()
    res = score_month(ps.for_month(month), month, paths["workers"], paths["metrics"], paths["events"])
    t1 = time.perf_counter()
    record_month(hist, res, rules_for=rules_for(ps), out_dir=out, extra_outputs=scoring_tables)
    t2 = time.perf_counter()
    return len(res["workers"]), t1 - t0, t2 - t1


def county(work: Path, months: int) -> list[str]:
    ps = load_policy([POLICY])
    ms = month_list("2026-01", months)
    paths = generate(ps.for_month(ms[0]), work / "in", "county", ms)
    print("| month | workers | score s | store+periods+outputs s |\n|---|---|---|---|", flush=True)
    rows = []
    total = [0.0, 0.0]
    with History(work / "data") as hist:
        for m in ms:
            n, ts, tr = run_month(ps, hist, m, paths, work / "out" / m)
            total[0] += ts
            total[1] += tr
            print(f"| {m} | {n} | {ts:.2f} | {tr:.2f} |", flush=True)
    size = (work / "data" / "history.sqlite3").stat().st_size
    rows.append(f"| total | | {total[0]:.2f} | {total[1]:.2f} |")
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


def big(work: Path, n: int) -> list[str]:
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
    with History(work / "data") as hist:
        nw, ts, tr = run_month(ps, hist, month, paths, work / "out")
    return ["| scenario | workers | score s | store+periods+outputs s |", "|---|---|---|---|",
            f"| one month | {nw} | {ts:.2f} | {tr:.2f} |"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=["county", "big"])
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--workers", type=int, default=100_000)
    ap.add_argument("--work", type=Path, default=None, help="working folder (default: a temporary one)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        if args.only in (None, "county"):
            print("## county, month after month\n")
            print("\n".join(county(work / "county", args.months)), flush=True)
        if args.only in (None, "big"):
            print(f"\n## one month of {args.workers} workers\n")
            print("\n".join(big(work / "big", args.workers)), flush=True)


if __name__ == "__main__":
    main()
