"""The Curtois & Qu shift scheduling benchmark, converted into roster problems (kind: shifts),
solved with wangge's solver and scored against the published best-known objectives.

    python benchmarks/shift_benchmark.py --instances DIR --out out/shift-bench              # 1–17, 60 s each
    python benchmarks/shift_benchmark.py --instances DIR --out out/shift-bench --only 1-3 --time-limit 10
    python benchmarks/shift_benchmark.py --instances DIR --out out/shift-bench --convert-only

The instances are not part of wangge: get Instance1 … Instance24 from
http://www.schedulingbenchmarks.org/ (Employee Shift Scheduling Benchmark Data Sets, "Instances
1-24"), in either published form — the plain text one (InstanceN.txt, SECTION_HORIZON …) or the XML
one (InstanceN.ros, <SchedulingPeriod>) — into DIR.  Each instance becomes a problem folder
out/…/InstanceN (problem.yaml, staff.csv, demand.csv, leave.csv, requests.csv) that
`wangge roster --problem` solves like any other.

How the benchmark maps onto the roster rules (docs/roster.md):

| benchmark (hard) | roster |
|---|---|
| one shift per day | every problem of kind shifts |
| shift rotation (shifts that cannot follow; in the XML: min rest time) | forbidden_succession pairs |
| max shifts of each type | staff.csv 班次上限 (0: 可上班次 leaves the shift out) |
| min / max total minutes | staff.csv 最少工时 / 最多工时 (hours), working_time with leave_hours 0 |
| max / min consecutive shifts | staff.csv 最多 / 最少连续工作天数 |
| min consecutive days off | staff.csv 最少连续休息天数 |
| max weekends (Saturday or Sunday worked) | staff.csv 最多上班周末 |
| days off | leave.csv |
| soft: shift on / off requests, cover under / over | requests.csv with 班次, demand.csv 需求人数 with 缺员/超员权重 |

Runs at the horizon's edges follow the benchmark: the days before and after are off for the
maximum runs, and a run touching an edge is free for the minimum runs — as the roster rules do.
The period starts on the instance's start date (XML) or 2024-01-01 (a Monday; text form).  Every
roster is re-checked here against the instance itself, by `evaluate`, which knows nothing of
wangge's model, and its penalty recomputed: that penalty is the figure reported.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import re
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Best-known objectives of instances 1–21, from the table of schedulingbenchmarks.org (Curtois & Qu,
# "Computational results on new staff scheduling benchmark instances", 2014, and later updates);
# 1–12, 14 and 16 are proved optimal there.  Check the site for newer figures.
BEST_KNOWN = {1: 607, 2: 828, 3: 1001, 4: 1716, 5: 1143, 6: 1950, 7: 1056, 8: 1300, 9: 439, 10: 4631, 11: 3443,
              12: 4040, 13: 1348, 14: 1278, 15: 3831, 16: 3225, 17: 5746, 18: 4459, 19: 3149, 20: 4769, 21: 21133}
SMALL = range(1, 10)        # up to 36 people, 28 days, 4 shifts
MEDIUM = range(10, 18)      # up to 120 people, 56 days, 18 shifts
TEXT_START = dt.date(2024, 1, 1)


@dataclass
class Staff:
    id: str
    max_shifts: dict[str, int]          # shift -> most; a shift missing or 0: may not be worked
    max_minutes: int
    min_minutes: int
    max_consecutive: int
    min_consecutive: int
    min_days_off: int
    max_weekends: int


@dataclass
class Instance:
    name: str
    days: int
    start: dt.date
    shifts: dict[str, int]                              # id -> minutes
    cannot_follow: dict[str, set[str]]                  # shift -> shifts that may not follow it the next day
    staff: list[Staff]
    days_off: dict[str, set[int]] = field(default_factory=dict)
    on: list[tuple[str, int, str, int]] = field(default_factory=list)     # (staff, day, shift, weight)
    off: list[tuple[str, int, str, int]] = field(default_factory=list)
    cover: dict[tuple[int, str], tuple[int, int, int]] = field(default_factory=dict)   # (day, shift) -> (need, under, over)


# --------------------------------------------------------------------------- reading

def read_instance(path: Path) -> Instance:
    return read_ros(path) if path.suffix == ".ros" else read_txt(path)


def read_txt(path: Path) -> Instance:
    """The plain text form: SECTION_HORIZON, SECTION_SHIFTS, SECTION_STAFF, SECTION_DAYS_OFF,
    SECTION_SHIFT_ON_REQUESTS, SECTION_SHIFT_OFF_REQUESTS, SECTION_COVER."""
    sections: dict[str, list[list[str]]] = {}
    current = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("SECTION_"):
            current = sections.setdefault(line, [])
            continue
        current.append([x.strip() for x in line.split(",")])
    days = int(sections["SECTION_HORIZON"][0][0])
    shifts, follow = {}, {}
    for sid, minutes, *rest in sections["SECTION_SHIFTS"]:
        shifts[sid] = int(minutes)
        follow[sid] = {x for x in (rest[0].split("|") if rest and rest[0] else []) if x}
    staff = []
    for sid, caps, maxm, minm, maxc, minc, minoff, maxw in sections["SECTION_STAFF"]:
        cap = {k: int(v) for k, v in (x.split("=") for x in caps.split("|") if x)}
        staff.append(Staff(sid, cap, int(maxm), int(minm), int(maxc), int(minc), int(minoff), int(maxw)))
    inst = Instance(path.stem, days, TEXT_START, shifts, follow, staff)
    for sid, *ds in sections.get("SECTION_DAYS_OFF", []):
        inst.days_off[sid] = {int(d) for d in ds if d}
    inst.on = [(e, int(d), s, int(w)) for e, d, s, w in sections.get("SECTION_SHIFT_ON_REQUESTS", [])]
    inst.off = [(e, int(d), s, int(w)) for e, d, s, w in sections.get("SECTION_SHIFT_OFF_REQUESTS", [])]
    for d, s, need, under, over in sections.get("SECTION_COVER", []):
        inst.cover[int(d), s] = (int(need), int(under), int(over))
    return inst


def read_ros(path: Path) -> Instance:
    """The XML form (SchedulingPeriod-3.0) of the same instances: shift types with start times,
    contracts (MinRestTime, MaxSeq/MinSeq, Workload, weekend Patterns, ValidShifts, MaxTot),
    FixedAssignments of days off, shift on/off requests, date-specific cover."""
    root = ET.parse(path).getroot()
    start = dt.date.fromisoformat(root.findtext("StartDate"))
    days = (dt.date.fromisoformat(root.findtext("EndDate")) - start).days + 1
    shifts, begins = {}, {}
    for s in root.find("ShiftTypes"):
        h, m = (int(x) for x in s.findtext("StartTime").split(":"))
        shifts[s.get("ID")] = int(s.findtext("Duration"))
        begins[s.get("ID")] = h * 60 + m
    contracts = {c.get("ID"): c for c in root.find("Contracts")}
    staff = []
    rest = 0
    for e in root.find("Employees"):
        cs = [contracts[x.text] for x in e.findall("ContractID")]
        get = lambda tag: [x for c in cs for x in c.findall(tag)]  # noqa: E731
        rest = max([rest] + [int(x.text) for x in get("MinRestTime")])
        valid = [x for v in get("ValidShifts") for x in v.get("shift").split(",") if x]
        cap = {s: days for s in valid}
        for x in get("MaxTot"):
            cap[x.get("shift")] = min(cap.get(x.get("shift"), 0), int(x.get("value")))
        # A limit a contract leaves out is no limit (1 for the minimum runs).
        maxc = next((int(x.get("value")) for x in get("MaxSeq") if x.get("shift") == "$"), days)
        minc = next((int(x.get("value")) for x in get("MinSeq") if x.get("shift") == "$"), 1)
        minoff = next((int(x.get("value")) for x in get("MinSeq") if x.get("shift") == "-"), 1)
        units = [t for w in get("Workload") for t in w.findall("TimeUnits")]
        maxm = next((int(t.findtext("Max/Count")) for t in units if t.find("Max") is not None), days * 24 * 60)
        minm = next((int(t.findtext("Min/Count")) for t in units if t.find("Min") is not None), 0)
        weekends = next((int(m.findtext("Max/Count")) for p in get("Patterns") for m in p.findall("Match")), days)
        staff.append(Staff(e.get("ID"), cap, maxm, minm, maxc, minc, minoff, weekends))
    follow = {a: {b for b in shifts if 24 * 60 + begins[b] - (begins[a] + shifts[a]) < rest} for a in shifts}
    inst = Instance(path.stem, days, start, shifts, follow, staff)
    for e in root.find("FixedAssignments") or []:
        for a in e.findall("Assign"):
            if a.findtext("Shift") == "-":
                inst.days_off.setdefault(e.findtext("EmployeeID"), set()).add(int(a.findtext("Day")))
    for tag, out in (("ShiftOnRequests", inst.on), ("ShiftOffRequests", inst.off)):
        for r in root.find(tag) or []:
            out.append((r.findtext("EmployeeID"), int(r.findtext("Day")), r.findtext("Shift"), int(r.get("weight"))))
    for dc in root.find("CoverRequirements"):
        d = int(dc.findtext("Day"))
        for c in dc.findall("Cover"):
            low, high = c.find("Min"), c.find("Max")
            if int(low.text) != int(high.text):
                raise ValueError(f"{path}: cover of day {d} with Min {low.text} and Max {high.text} (one target expected)")
            inst.cover[d, c.findtext("Shift")] = (int(low.text), int(low.get("weight")), int(high.get("weight")))
    return inst


# --------------------------------------------------------------------------- converting

def write_problem(inst: Instance, folder: Path, time_limit: float = 60) -> int:
    """Write the instance as a roster problem folder; returns the penalty that no roster can avoid
    (shift-on requests on a day off, which the roster format refuses as contradictory)."""
    folder.mkdir(parents=True, exist_ok=True)
    hours = lambda minutes: f"{minutes / 60:.10g}"  # noqa: E731
    date = lambda d: str(inst.start + dt.timedelta(days=d))  # noqa: E731
    shifts = list(inst.shifts)
    staff = [["编号", "姓名", "可上班次", "班次上限", "最少工时", "最多工时", "最多连续工作天数", "最少连续工作天数",
              "最少连续休息天数", "最多上班周末"]]
    for s in inst.staff:
        may = [x for x in shifts if s.max_shifts.get(x, 0) > 0]
        caps = ";".join(f"{x}={s.max_shifts[x]}" for x in may if s.max_shifts[x] < inst.days)
        staff.append([s.id, s.id, ";".join(may), caps, hours(s.min_minutes), hours(s.max_minutes), s.max_consecutive,
                      s.min_consecutive, s.min_days_off, s.max_weekends])
    demand = [["日期", "班次", "需求人数", "最少人数", "缺员权重", "超员权重"]]
    for (d, s), (need, under, over) in sorted(inst.cover.items()):
        demand.append([date(d), s, need, 0, under, over])
    leave = [["人员", "开始", "结束", "事由"]]
    for e, ds in sorted(inst.days_off.items()):
        for d in sorted(ds):
            leave.append([e, date(d), date(d), "休息日"])
    requests = [["人员", "日期", "班次", "申请", "权重"]]
    unavoidable = 0
    for e, d, s, w in inst.on:
        if d in inst.days_off.get(e, ()):
            unavoidable += w
            continue
        requests.append([e, date(d), s, "上班", w])
    requests += [[e, date(d), s, "休息", w] for e, d, s, w in inst.off]
    for stem, rows in (("staff", staff), ("demand", demand), ("leave", leave), ("requests", requests)):
        with open(folder / f"{stem}.csv", "w", encoding="utf-8", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerows(rows)
    pairs = [[a, b] for a in shifts for b in sorted(inst.cannot_follow[a]) if b in inst.shifts]
    shift_yaml = "\n".join(f"  {s}: {{label: {s}, hours: {hours(m)}}}" for s, m in inst.shifts.items())
    (folder / "problem.yaml").write_text(f"""\
# {inst.name} of the Curtois & Qu shift scheduling benchmark (schedulingbenchmarks.org), converted by
# benchmarks/shift_benchmark.py: every rule of the benchmark is a roster rule, nothing else applies.
kind: shifts
name: {inst.name}
unit: {inst.name}
period: {{start: {inst.start}, days: {inst.days}}}
time_limit: {time_limit:g}
seed: 7
shifts:
{shift_yaml}
rules:
  forbidden_succession: {{pairs: {json.dumps(pairs)}}}
  rest_in_window: false
  working_time: {{leave_hours: 0}}
  shift_demand: {{weight: 1}}
  requests: {{weight: 1}}
  fair_days: false
  fair_weekends: false
  fair_holidays: false
  fair_nights: false
""", encoding="utf-8")
    return unavoidable


# --------------------------------------------------------------------------- the instance's own check

def evaluate(inst: Instance, roster: dict[tuple[str, int], str]) -> tuple[list[str], int]:
    """Every hard constraint of the benchmark checked on a roster ((staff, day) -> shift), and the
    benchmark's penalty — from the instance alone, independently of wangge's model."""
    bad, h = [], inst.days
    for s in inst.staff:
        row = [roster.get((s.id, d)) for d in range(h)]
        for d, x in enumerate(row):
            if x is not None and x not in inst.shifts:
                bad.append(f"{s.id} day {d}: unknown shift {x}")
            if x is not None and d in inst.days_off.get(s.id, ()):
                bad.append(f"{s.id} day {d}: works a day off")
            if d + 1 < h and x is not None and row[d + 1] in inst.cannot_follow.get(x, ()):
                bad.append(f"{s.id} day {d}: {row[d + 1]} follows {x}")
        for x in inst.shifts:
            if row.count(x) > s.max_shifts.get(x, 0):
                bad.append(f"{s.id}: {row.count(x)} × {x} > {s.max_shifts.get(x, 0)}")
        minutes = sum(inst.shifts[x] for x in row if x)
        if not s.min_minutes <= minutes <= s.max_minutes:
            bad.append(f"{s.id}: {minutes} minutes outside {s.min_minutes}–{s.max_minutes}")
        runs, d = [], 0
        while d < h:
            e = d
            while e < h and (row[e] is None) == (row[d] is None):
                e += 1
            runs.append((d, e - d, row[d] is not None))
            d = e
        for d, length, working in runs:
            inside = d > 0 and d + length < h
            if working and length > s.max_consecutive:
                bad.append(f"{s.id} day {d}: {length} shifts in a row > {s.max_consecutive}")
            if working and inside and length < s.min_consecutive:
                bad.append(f"{s.id} day {d}: {length} shifts in a row < {s.min_consecutive}")
            if not working and inside and length < s.min_days_off:
                bad.append(f"{s.id} day {d}: {length} days off in a row < {s.min_days_off}")
        weekends = sum(1 for w in range(h // 7) if row[7 * w + 5] or row[7 * w + 6])
        if weekends > s.max_weekends:
            bad.append(f"{s.id}: {weekends} weekends > {s.max_weekends}")
    penalty = sum(w for e, d, x, w in inst.on if roster.get((e, d)) != x)
    penalty += sum(w for e, d, x, w in inst.off if roster.get((e, d)) == x)
    for (d, x), (need, under, over) in inst.cover.items():
        on = sum(1 for s in inst.staff if roster.get((s.id, d)) == x)
        penalty += under * max(0, need - on) + over * max(0, on - need)
    return bad, penalty


# --------------------------------------------------------------------------- running

def _number(p: Path) -> int:
    return int(re.findall(r"\d+", p.stem)[-1])


def _cpu() -> float:
    """CPU seconds (user + system) of this process and its finished children (the lane processes)."""
    import resource
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def run_one(inst: Instance, folder: Path, time_limit: float) -> dict:
    from engine.roster.check import check_roster
    from engine.roster.model import load_problem
    from engine.roster.solve import solve

    unavoidable = write_problem(inst, folder, time_limit)
    load_before = os.getloadavg()[0]
    t = time.perf_counter()
    cpu0 = _cpu()
    result = {"instance": inst.name, "people": len(inst.staff), "days": inst.days, "shifts": len(inst.shifts),
              "time_limit": time_limit}
    try:
        prob = load_problem(folder)
        ro = solve(prob, time_limit=time_limit)
    except Exception as exc:         # a roster not found is a result too, said as such
        result.update(status=type(exc).__name__, message=str(exc)[:200], wall=round(time.perf_counter() - t, 1),
                      load=[round(load_before, 2), round(os.getloadavg()[0], 2)])
        return result
    wall = time.perf_counter() - t
    roster = {(u, d): s for (u, d), s in ro.duty.items()}
    bad, penalty = evaluate(inst, roster)
    checks = check_roster(ro)
    best = BEST_KNOWN.get(_number(Path(inst.name)))
    result.update(status=ro.parts[0].status, wall=round(wall, 1), cpu=round(_cpu() - cpu0, 1),
                  load=[round(load_before, 2), round(os.getloadavg()[0], 2)],
                  objective=penalty, model_objective=(ro.objective or 0) + unavoidable, bound=ro.bound,
                  valid=not bad, violations=bad[:5], coverage_check=all(c.ok for c in checks),
                  first_valid=round(ro.first_valid_seconds or 0, 1), best_known=best,
                  ratio=round(penalty / best, 4) if best else None)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", required=True, type=Path, help="folder of InstanceN.txt or InstanceN.ros")
    ap.add_argument("--out", required=True, type=Path, help="folder for the converted problems and results")
    ap.add_argument("--only", default="1-17", help="instance numbers, e.g. 1-17 or 1,3,8")
    ap.add_argument("--time-limit", type=float, default=60)
    ap.add_argument("--convert-only", action="store_true")
    args = ap.parse_args()
    wanted: set[int] = set()
    for part in args.only.split(","):
        a, _, b = part.partition("-")
        wanted |= set(range(int(a), int(b or a) + 1))
    files = {}
    for p in sorted(args.instances.iterdir()):
        if p.suffix in (".txt", ".ros") and re.fullmatch(r"Instance\d+", p.stem) and _number(p) in wanted:
            files.setdefault(_number(p), p)          # the text form first when both are there
    results = []
    for n in sorted(files):
        inst = read_instance(files[n])
        folder = args.out / f"Instance{n}"
        if args.convert_only:
            write_problem(inst, folder, args.time_limit)
            print(f"{folder}", flush=True)
            continue
        results.append(run_one(inst, folder, args.time_limit))
        print(json.dumps(results[-1], ensure_ascii=False), flush=True)
        (args.out / "results-shift-benchmark.json").write_text(json.dumps(results, ensure_ascii=False, indent=1),
                                                                encoding="utf-8")
    for name, group in (("small (1–9)", SMALL), ("medium (10–17)", MEDIUM)):
        ratios = [r["ratio"] for r in results if r.get("ratio") and _number(Path(r["instance"])) in group and r["valid"]]
        if ratios:
            print(f"{name}: mean objective / best known {sum(ratios) / len(ratios):.3f} over {len(ratios)} instances")


if __name__ == "__main__":
    main()
