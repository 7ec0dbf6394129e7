"""Fault tests of the month run, with figures: killed runs, two months at once, folders that cannot
take the outputs.  Prints a table for benchmarks/README.md.

    python benchmarks/fault_tests.py                 # every scenario, default counts
    python benchmarks/fault_tests.py --kills 20 --pairs 10

Each scenario starts from a history of the demo town holding January-March 2026 and ends by
comparing the history with what serial runs store (the reference), worker by worker:
- kill: `wangge run` of April with the print pack (PDF included, so PDF worker processes exist) is
  killed with SIGKILL at a random moment; afterwards no process of the run may still be alive, the
  history must be either unchanged or hold April whole, and running April again must give the
  reference.  A staging folder left behind must be gone after the re-run.
- pair: April and May stored at once by two processes; the history must equal the reference.
- blocked: the print folder is a file (the outputs cannot go there): the run must refuse with exit 2
  and leave the history unchanged.
- full: the data folder on a 2 MB filesystem (a tmpfs mounted for the test when this process may
  mount; skipped otherwise): filling it must give a clear error and leave the history readable and
  unchanged.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.demo import generate, month_list  # noqa: E402
from engine.history import History  # noqa: E402
from engine.policy import load_policy  # noqa: E402

POLICY = ROOT / "tests" / "fixtures" / "history" / "policy" / "chengguan-periods.yaml"
OFFICE = ROOT / "reports" / "office.yaml"
MONTHS = month_list("2026-01", 5)


def wangge(*args, data: Path, out: Path, paths: dict, popen: bool = False):
    cmd = [sys.executable, "-m", "engine.cli", "run", "--policy", str(POLICY), "--workers", str(paths["workers"]),
           "--metrics", str(paths["metrics"]), "--events", str(paths["events"]), "--data", str(data),
           "--out", str(out), *map(str, args)]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("WANGGE_FAULT", None)
    if popen:
        return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
    return subprocess.run(cmd, env=env, capture_output=True, text=True)


def stored(data: Path) -> dict:
    with History(data, create=False) as h:
        return {i.month: h.month_results(i.month) for i in h.months()}


def lost(got: dict, ref: dict) -> int:
    """Worker-months of the reference that the history lacks or holds differently."""
    n = 0
    for month, res in ref.items():
        have = {w["worker_id"]: w for w in got.get(month, {"workers": []})["workers"]}
        n += sum(1 for w in res["workers"] if have.get(w["worker_id"]) != w)
    return n


def alive(pgid: int) -> int:
    """Processes still in the killed run's process group."""
    out = subprocess.run(["ps", "-o", "pid=", "-g", str(pgid)], capture_output=True, text=True).stdout
    return len(out.split())


def scenario_kill(work: Path, base: Path, paths: dict, ref: dict, count: int, rng: random.Random) -> dict:
    kills = left = bad = survivors = staging = 0
    for i in range(count):
        data, out = work / f"k{i}" / "data", work / f"k{i}" / "out"
        shutil.copytree(base, data)
        proc = wangge("--month", "2026-04", "--office", OFFICE, "--format", "pdf", data=data, out=out, paths=paths,
                      popen=True)
        time.sleep(rng.uniform(0.5, 6.0))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)   # the main process only, as `kill -9 PID` would
            kills += 1
        proc.wait()
        time.sleep(3)                           # children must notice their parent is gone
        n = alive(proc.pid)
        survivors += n
        if n:
            os.killpg(proc.pid, signal.SIGKILL)
        now = stored(data)
        if "2026-04" in now and lost({"2026-04": now["2026-04"]}, {"2026-04": ref["2026-04"]}):
            bad += 1                            # a half-stored month
        if set(now) - {"2026-01", "2026-02", "2026-03", "2026-04"}:
            bad += 1
        staging += len(list(out.rglob(".wangge-staging-*"))) if out.exists() else 0
        r = wangge("--month", "2026-04", "--office", OFFICE, "--format", "pdf", data=data, out=out, paths=paths)
        if r.returncode != 0:
            bad += 1
        if out.exists() and list(out.rglob(".wangge-staging-*")):
            left += 1
        bad += lost(stored(data), {m: ref[m] for m in ("2026-01", "2026-02", "2026-03", "2026-04")}) > 0
        shutil.rmtree(work / f"k{i}")
    return {"runs": count, "kills": kills, "lost": bad, "survivors": survivors, "staging_left": left,
            "staging_seen": staging}


def scenario_pairs(work: Path, base: Path, paths: dict, ref: dict, count: int) -> dict:
    bad = fails = 0
    for i in range(count):
        data = work / f"p{i}" / "data"
        shutil.copytree(base, data)
        order = ["2026-04", "2026-05"] if i % 2 == 0 else ["2026-05", "2026-04"]
        procs = [wangge("--month", m, "--no-print", data=data, out=work / f"p{i}" / m, paths=paths, popen=True)
                 for m in order]
        fails += sum(p.wait() != 0 for p in procs)
        bad += lost(stored(data), ref)
        shutil.rmtree(work / f"p{i}")
    return {"runs": 2 * count, "kills": 0, "lost": bad, "failed_runs": fails}


def scenario_blocked(work: Path, base: Path, paths: dict, ref: dict) -> dict:
    data, out = work / "b" / "data", work / "b" / "out"
    shutil.copytree(base, data)
    out.mkdir(parents=True)
    (out / "print").write_text("x", encoding="utf-8")
    r = wangge("--month", "2026-04", "--office", OFFICE, "--format", "html", data=data, out=out, paths=paths)
    unchanged = set(stored(data)) == {"2026-01", "2026-02", "2026-03"}
    return {"runs": 1, "kills": 0, "lost": 0 if unchanged else 1, "exit": r.returncode}


def scenario_full(work: Path, base: Path, paths: dict) -> dict | None:
    mnt = work / "small"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], capture_output=True).returncode:
        return None
    try:
        data = mnt / "data"
        shutil.copytree(base, data)
        (mnt / "filler").write_bytes(b"\0" * (2 * 1024 * 1024 - (data / "history.sqlite3").stat().st_size - 8 * 1024))
        before = (data / "history.sqlite3").read_bytes()
        r = wangge("--month", "2026-04", "--no-print", data=data, out=work / "full-out", paths=paths)
        same = (data / "history.sqlite3").read_bytes() == before
        return {"runs": 1, "kills": 0, "lost": 0 if same else 1, "exit": r.returncode,
                "message": (r.stderr.strip().splitlines() or [""])[0][:80]}
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kills", type=int, default=12)
    ap.add_argument("--pairs", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        paths = generate(load_policy([POLICY]).for_month("2026-04"), work / "in", "town", MONTHS)
        base = work / "base"
        for m in MONTHS[:3]:
            assert wangge("--month", m, "--no-print", data=base, out=work / "base-out" / m, paths=paths).returncode == 0
        serial = work / "serial"
        shutil.copytree(base, serial)
        for m in MONTHS[3:]:
            assert wangge("--month", m, "--no-print", data=serial, out=work / "serial-out" / m, paths=paths).returncode == 0
        ref = stored(serial)
        t0 = time.time()
        rows = [("killed with SIGKILL during a run with PDF print pack", scenario_kill(work, base, paths, ref, args.kills, rng)),
                ("April and May stored at once by two processes", scenario_pairs(work, base, paths, ref, args.pairs)),
                ("print folder cannot take files", scenario_blocked(work, base, paths, ref))]
        full = scenario_full(work, base, paths)
        rows.append(("data folder on a full 2 MB filesystem", full if full else {"runs": 0, "kills": 0, "lost": "skipped (cannot mount)"}))
        print(f"fault tests on {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}, {time.time() - t0:.0f} s\n")
        print("| scenario | runs | kills | lost records | details |")
        print("|---|---|---|---|---|")
        for label, r in rows:
            details = ", ".join(f"{k} {v}" for k, v in r.items() if k not in ("runs", "kills", "lost"))
            print(f"| {label} | {r['runs']} | {r['kills']} | {r['lost']} | {details} |")


if __name__ == "__main__":
    main()
