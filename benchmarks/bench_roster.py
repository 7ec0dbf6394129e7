"""Benchmark of the patrol-roster solver on the demo town and demo county (not a test).

    python benchmarks/bench_roster.py                  # 10 s, 60 s and a 600 s reference run
    python benchmarks/bench_roster.py --ref 0          # skip the 600 s reference
    python benchmarks/bench_roster.py --first-only 3   # the county's first valid roster only, 3 runs (~1 min)

For each problem: the wall time to the first roster meeting every hard rule (all towns,
stop at first solution, model building included), then objective, bound and gap at each
time limit, and the 60 s objective relative to the reference run of the same model.  Every
roster is verified with the coverage check.  Results go to benchmarks/results-roster.json.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.roster.check import check_roster  # noqa: E402
from engine.roster.model import load_problem  # noqa: E402
from engine.roster.solve import solve  # noqa: E402


def _cpu() -> float:
    """CPU seconds of this process and of its children waited for: the solver's lanes are processes."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def run(folder: str, limit: float, first_only: bool = False) -> dict:
    prob = load_problem(ROOT / "rosters" / folder)
    utc = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M")
    load_before = os.getloadavg()[0]
    t, cpu = time.perf_counter(), _cpu()
    ro = solve(prob, time_limit=limit, first_only=first_only)
    wall, cpu = time.perf_counter() - t, _cpu() - cpu
    checks = check_roster(ro)
    return {"problem": folder, "limit": limit, "first_only": first_only, "utc": utc,
            # 1-minute load average before and after the run (the machine is shared: read wall times with it)
            "load": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            "wall": round(wall, 2), "cpu": round(cpu, 2),
            "objective": ro.objective, "bound": ro.bound,
            "gap": None if not ro.objective or ro.bound is None else round((ro.objective - ro.bound) / ro.objective, 4),
            "hard_rules_ok": all(c.ok for c in checks), "breakdown": ro.breakdown(),
            "first_valid_seconds": round(ro.first_valid_seconds or 0, 2),
            "parts_first_solution": [round(p.first_solution or 0, 2) for p in ro.parts],
            "parts": {p.town: p.objective for p in ro.parts}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref", type=float, default=600, help="reference time limit in seconds (0: skip)")
    ap.add_argument("--problems", nargs="*", default=["demo-town", "demo-county"])
    ap.add_argument("--first-only", type=int, default=0, metavar="N",
                    help="only the time to the first valid roster of the problems, N runs each (nothing written)")
    args = ap.parse_args()
    if args.first_only:
        problems = args.problems if "--problems" in sys.argv else ["demo-county"]
        for folder in problems:
            for _ in range(args.first_only):
                r = run(folder, 60, first_only=True)
                print(f"{folder}: first valid roster at {r['first_valid_seconds']} s, wall {r['wall']} s, CPU {r['cpu']} s, "
                      f"load {r['load'][0]}–{r['load'][1]}, hard rules {'all pass' if r['hard_rules_ok'] else 'FAIL'}",
                      flush=True)
        return
    out = []
    for folder in args.problems:
        rows = [run(folder, 60, first_only=True)]
        for limit in (10, 60) + ((args.ref,) if args.ref else ()):
            rows.append(run(folder, limit))
            print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
        ref = rows[-1]["objective"] if args.ref else None
        for r in rows:
            r["vs_reference"] = round(r["objective"] / ref - 1, 4) if ref and r["objective"] is not None else None
        out += rows
        print(json.dumps(rows[0], ensure_ascii=False), flush=True)
    name = "results-roster.json" if args.problems == ["demo-town", "demo-county"] else f"results-roster-{'-'.join(args.problems)}.json"
    (ROOT / "benchmarks" / name).write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    print("| problem | run | UTC | load | wall s | CPU s | all towns valid at s | objective | bound | gap | vs reference | hard rules |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in out:
        run_name = "first roster" if r["first_only"] else f"{r['limit']:g} s"
        print(f"| {r['problem']} | {run_name} | {r['utc']} | {r['load'][0]}–{r['load'][1]} | {r['wall']} | {r['cpu']} | "
              f"{r['first_valid_seconds']} | {r['objective']} | {r['bound']} | {r['gap']} | {r['vs_reference']} | "
              f"{'all pass' if r['hard_rules_ok'] else 'FAIL'} |")


if __name__ == "__main__":
    main()
