"""Benchmark the month's print pack: the demo county's bulletin, ~650 slips, pay sheet and roster as PDF.

    python benchmarks/bench_notices.py                     # prepare the county (not timed), then time
    python benchmarks/bench_notices.py --roster out/county-roster   # reuse a solved county roster
    python benchmarks/bench_notices.py --all                # also every other document and format

Not timed: the demo county's register and records for September and October 2026 (engine.demo,
size "county"), both months scored and stored as `wangge run` does, and the demo county's October
patrol roster (rosters/demo-county, solved for 15 s unless --roster is given).
Timed, as `wangge notices --only bulletin,slips,paysheet,roster --format pdf` does it: templates
checked, fonts checked, every document rendered to HTML in the sandbox, then to PDF by WeasyPrint
in --jobs processes.  Printed: wall seconds, CPU seconds of this process and of the PDF processes,
the load average, and pages per document kind, as a Markdown table.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.app.month import MonthFiles, run_month  # noqa: E402  (what `wangge run` does)
from engine.app.notices import PackPlan, render_pack_into  # noqa: E402
from engine.demo import generate  # noqa: E402
from engine.history import History  # noqa: E402
from engine.inputs import read_register  # noqa: E402
from engine.notices import DEFAULT_SETTINGS, load_roster, load_settings, register_dicts  # noqa: E402
from engine.policy import load_policy  # noqa: E402

POLICY = ROOT / "rules" / "chengguan.yaml"
MONTHS = ["2026-09", "2026-10"]


def prepare(work: Path, roster_dir: str | None) -> tuple[Path, Path, Path]:
    pol = load_policy(POLICY).for_month(MONTHS[-1])
    paths = generate(pol, work / "in", "county", MONTHS)
    for m in MONTHS:
        run_month((str(POLICY),), m, MonthFiles(str(paths["workers"]), str(paths["metrics"]), str(paths["events"])),
                  work / "data", work / m)
    if roster_dir is None:
        from engine.roster.check import check_roster
        from engine.roster.model import load_problem
        from engine.roster.output import write_all
        from engine.roster.solve import solve

        prob = load_problem(ROOT / "rosters" / "demo-county", MONTHS[-1])
        ro = solve(prob, time_limit=15)
        roster_dir = work / "roster"
        roster_dir.mkdir()
        write_all(ro, check_roster(ro), roster_dir)
    return work / "data", Path(roster_dir), Path(paths["workers"])


def timed(results: dict, plan: PackPlan, data: Path, out: Path) -> dict:
    out.mkdir(parents=True)
    load = os.getloadavg()
    self0, kids0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with History(data, create=False) as hist:
        pack = render_pack_into(results, plan, out, hist)   # a draft: the same documents, no number taken
    wall = time.perf_counter() - t0
    self1, kids1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_self = (self1.ru_utime + self1.ru_stime) - (self0.ru_utime + self0.ru_stime)
    cpu_kids = (kids1.ru_utime + kids1.ru_stime) - (kids0.ru_utime + kids0.ru_stime)
    kinds: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for name, n in pack.pages.items():
        k = kinds[name.split("-")[0].removesuffix(".pdf")]
        k[0] += 1
        k[1] += n
    return {"wall": wall, "cpu_self": cpu_self, "cpu_pdf": cpu_kids, "load": load, "kinds": dict(kinds),
            "files": len(pack.files)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--roster", help="a solved county roster folder (roster.json) to reuse")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--all", action="store_true", help="also time every document in every format")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        data, roster_dir, register = prepare(work, args.roster)
        print(f"prepared the demo county in {time.perf_counter() - t0:.1f} s (not timed)")
        with History(data, create=False) as hist:
            results = hist.month_results(MONTHS[-1])
        settings = load_settings(DEFAULT_SETTINGS)
        roster = load_roster(roster_dir)
        runs = [("bulletin, slips, pay sheet, roster (PDF)",
                 PackPlan(settings, DEFAULT_SETTINGS, roster=roster, only={"bulletin", "slips", "paysheet", "roster"},
                          formats={"pdf"}, jobs=args.jobs))]
        if args.all:
            runs.append(("every document, every format", PackPlan(
                settings, DEFAULT_SETTINGS, roster=roster, register=register_dicts(read_register(register)),
                jobs=args.jobs)))
        print(f"\n{len(results['workers'])} workers, {len(roster['patrol'])} grids; "
              f"{os.cpu_count()} cores, --jobs {args.jobs}\n")
        print("| pack | files | wall s | CPU s (main) | CPU s (PDF processes) | load before | pages |")
        print("|---|---|---|---|---|---|---|")
        for i, (label, plan) in enumerate(runs):
            r = timed(results, plan, data, work / f"print{i}")
            pages = ", ".join(f"{k} {n} ({files} files)" for k, (files, n) in sorted(r["kinds"].items()))
            print(f"| {label} | {r['files']} | {r['wall']:.1f} | {r['cpu_self']:.1f} | {r['cpu_pdf']:.1f} | "
                  f"{r['load'][0]:.2f} | {pages} |")


if __name__ == "__main__":
    main()
