"""The demo as a use case: the demo town's data generated, its months stored one by one, its
roster solved and the last month's print pack made, so that a newcomer sees a working office."""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..outputs import staged_outputs
from .month import MonthFiles, RunReport, run_month
from .notices import prepare_pack

__all__ = ["DEMO_POLICY", "DEMO_ROSTER", "DEMO_OFFICE", "DemoReport", "run_demo", "demo_roster"]

ROOT = Path(__file__).resolve().parents[2]
DEMO_POLICY = ROOT / "rules" / "chengguan.yaml"
DEMO_ROSTER = ROOT / "rosters" / "demo-town"
DEMO_OFFICE = ROOT / "reports" / "office.yaml"


@dataclass
class DemoReport:
    months: list[str]
    data: dict[str, Path]                   # the generated input files
    history: Path
    roster: Path | None = None
    roster_failed_rules: int = 0
    last: RunReport | None = None
    outputs: dict[str, Path] = field(default_factory=dict)


def demo_roster(month: str, out_dir: Path, time_limit: float = 5) -> int:
    """The demo town's patrol roster for the month (a first good one in a few seconds); returns the
    number of hard rules the independent check found broken (0 expected)."""
    from ..roster.check import check_roster
    from ..roster.model import load_problem
    from ..roster.output import write_all
    from ..roster.solve import solve

    prob = load_problem(DEMO_ROSTER, month)
    ro = solve(prob, time_limit=time_limit)
    checks = check_roster(ro)
    with staged_outputs(out_dir) as stage:
        write_all(ro, checks, stage, {})
    return sum(1 for c in checks if not c.ok)


def run_demo(out: str | Path, month: str, *, policy: str | Path | None = None, with_roster: bool = True,
             with_print: bool = True, on_month: Callable[[str], None] | None = None) -> DemoReport:
    """The demo town from January to `month`: data in out/data, history in out/history (started
    afresh), each month's results in out/<month>, the roster in out/roster, the last month's
    print pack in out/<month>/print."""
    from ..demo import generate, month_list
    from ..policy import load_policy

    policy_path = str(policy or DEMO_POLICY)
    months = month_list(f"{month[:4]}-01", int(month[5:]))
    pol = load_policy(policy_path).for_month(month)
    root = Path(out)
    paths = generate(pol, root / "data", "town", months)
    report = DemoReport(months, paths, root / "history")
    roster_dir = None
    if with_roster:
        roster_dir = root / "roster"
        report.roster_failed_rules = demo_roster(month, roster_dir)
        report.roster = roster_dir
    files = MonthFiles(str(paths["workers"]), str(paths["metrics"]), str(paths["events"]),
                       records=str(paths["records"]) if paths.get("records") else None)
    if report.history.exists():   # the demo starts from scratch each time
        shutil.rmtree(report.history)
    for m in months:
        pack = None
        if with_print and m == month:
            office = root / "office.yaml"
            pack = prepare_pack(office=office if office.exists() else DEMO_OFFICE, data=root,
                                roster_dir=roster_dir, workers=paths["workers"])
        report.last = run_month((policy_path,), m, files, report.history, root / m, pack=pack)
        if on_month is not None:
            on_month(m)
    return report
