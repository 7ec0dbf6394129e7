"""Scoring throughput: worker-months per second through durable_rules, with full findings.

Prints, for 10,000 and 100,000 synthetic worker-months under rules/chengguan.yaml:
the month pipeline's time and rate (`score_workers`: durable_rules evaluation, findings with
Chinese reasons, each worker's results.json entry, ranking; 1 and 2 processes), the
plain-Python oracle's time over the same cases (tests/oracle.py, one process), their ratio,
and that every score and pay agreed with the oracle.

The synthetic month is the demo county (about 670 workers, generated deterministically with
their event logs) repeated to the wanted size; every copy is evaluated afresh.

    python benchmarks/bench_scoring.py              # 10k and 100k
    python benchmarks/bench_scoring.py 20000        # other sizes
    python benchmarks/bench_scoring.py --policy rules/pingtai.yaml 100000   # another preset (the forms of
                                                    # issue 16: rules/pingtai.yaml, rules/xunchai.yaml with records)
"""
from __future__ import annotations

import os
import resource
from dataclasses import replace
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# this checkout's engine, not whichever one is pip-installed (editable installs point elsewhere)
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from engine.demo import generate  # noqa: E402
from engine.kinds.event import needs_other_months, problem_keys_used  # noqa: E402
from engine.inputs import MonthInputs, read_month  # noqa: E402
from engine.policy import load_policy  # noqa: E402
from engine.scoring import score_workers  # noqa: E402

import oracle  # noqa: E402


def county_cases(policy_path: Path = ROOT / "rules" / "chengguan.yaml"):
    policy = load_policy(policy_path).for_month("2026-10")
    with tempfile.TemporaryDirectory() as tmp:
        # September too when events of other months count (they go late, close or recur in October)
        months = ["2026-09", "2026-10"] if needs_other_months(policy.doc) or policy.doc.records else ["2026-10"]
        paths = generate(policy, tmp, "county", months)
        inputs = read_month(policy, "2026-10", paths["workers"], paths["metrics"], paths["events"], paths.get("records"))
    return policy, inputs


def run_oracle(policy, cases, wages):
    out = []
    for c, w in zip(cases, wages):
        events = [oracle.OEvent(e.event_id, e.category, e.severity, e.delay_hours, e.handling_hours, e.unclosed,
                                e.times, e.problem) for e in c.events]
        # the oracle counts from the prepared events; records rules are compared on scores (pay) only
        metrics = {k: v for k, v in c.metrics.items() if not policy.doc.metrics[k].count_events}
        out.append(oracle.score(policy, c.attributes, metrics, events, w, "2026-10") if not policy.doc.records
                   else None)
    return out


def _cpu() -> tuple[float, float]:
    """User+system seconds of this process and of its finished children (the pool's processes)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def oracle_text(d) -> str:
    return str(int(d)) if d == d.to_integral_value() else format(d.normalize(), "f")


def main(sizes: list[int], policy_path: Path | None = None) -> None:
    policy, template = county_cases(policy_path) if policy_path else county_cases()
    base, base_wages = template.cases, [w.wage for w in template.workers]
    print(f"policy {policy.id} ({len(policy.doc.items)} items, "
          f"{sum(len(i.rules) for i in policy.doc.items)} deduction rules), "
          f"county template {len(base)} workers, cores {os.cpu_count()}")
    for n in sizes:
        # every copy gets its own events: deadlines an event works out once must be worked out for each copy
        cases = [base[i] if i < len(base) else replace(base[i % len(base)], events=[
                 replace(e, derived=None) for e in base[i % len(base)].events]) for i in range(n)]
        wages = [base_wages[i % len(base)] for i in range(n)]
        t0 = time.perf_counter()
        expected = run_oracle(policy, cases, wages)
        t_oracle = time.perf_counter() - t0
        m = len(base)
        inputs = MonthInputs("2026-10", [template.workers[i % m] for i in range(n)], cases,
                             [template.metric_rows[i % m] for i in range(n)])
        for procs in ([1, 2] if n <= 20000 else [2]):
            cpu0 = _cpu()
            t0 = time.perf_counter()
            results = score_workers(policy, inputs, processes=procs)
            dt = time.perf_counter() - t0
            parent, children = (b - a for a, b in zip(cpu0, _cpu()))
            cpu = parent + children
            findings = sum(len(r["findings"]) for r in results)
            agree = all(e is None or (r["score"] == oracle_text(e.score) and r["pay"] == f"{e.pay:.2f}")
                        for r, e in zip(results, expected))
            if policy.doc.records or problem_keys_used(policy.doc):
                # the prepared month keeps neither the records nor last month's events problem runs come
                # from; tests/test_differential.py checks those forms against the oracle on raw inputs
                agree = f"{agree} (not comparable: records / problem runs; see tests/test_differential.py)"
            print(f"{n:>7} worker-months  processes={procs}  {dt:6.2f} s  {n / dt:8.0f} /s  "
                  f"findings={findings}  oracle {t_oracle:5.2f} s ({n / t_oracle:7.0f} /s)  "
                  f"engine/oracle time ratio {dt / t_oracle:5.1f}  all scores agree: {agree}  "
                  f"cpu {cpu:6.2f} s (parent {parent:.2f} + children {children:.2f}; wall on 2 idle cores ≈ cpu/2)  load {os.getloadavg()[0]:.1f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of the parent process: {peak:.0f} MiB")


if __name__ == "__main__":
    args = sys.argv[1:]
    chosen = None
    if "--policy" in args:
        i = args.index("--policy")
        chosen = Path(args[i + 1]).resolve()
        del args[i:i + 2]
    main([int(a) for a in args] or [10_000, 100_000], chosen)
