"""Differential test: random policies × random worker-months, engine vs tests/oracle.py.

Each policy is generated from a seed, written as YAML, loaded through the real loader and scored
by both the engine (durable_rules) and the oracle written from docs/policy.md.  Any disagreement
is reported with the seed, the policy YAML and the worker input so it can be replayed with
`python tests/test_differential.py SEED [WORKERS]` (prints every mismatch of that seed) or
`pytest "tests/test_differential.py::test_engine_matches_oracle[SEED]"`.
"""
from __future__ import annotations

import random
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

import datetime as dt

from engine.assessment import EventCase, WorkerCase
from engine.kinds.event import make_event
from engine.kinds.records import Record
from engine.policy import PolicyDoc, QuotaBy, load_policy_file
from engine.prepare import prepare_case
from engine.scoring import score_cases

sys.path.insert(0, str(Path(__file__).resolve().parent))
import oracle  # noqa: E402  (tests/ is not a package)

D = Decimal
CATEGORIES = ["矛盾纠纷", "安全隐患", "治安", "环境卫生"]
SEVERITIES = ["一般", "较大", "重大", "紧急"]
WORKER_TYPES = ["村", "社区", "城镇"]
MONTHS = ["2026-10", "2026-05", "2026-12", "2026-03", "2026-02"]   # the calendar knows 2026 (holidays, 调休)
PAIRS = [("discovered", "reported"), ("reported", "closed"), ("discovered", "closed")]
STAGE_PAIRS = [("reported", "accepted"), ("accepted", "closed"), ("discovered", "accepted")]


def seed_month(seed: int) -> str:
    return MONTHS[seed % len(MONTHS)]


def s(d) -> str:
    """Decimal -> plain YAML-safe text (quoted by the dumper, parsed exactly by the loader)."""
    d = D(d)
    return format(d.normalize(), "f") if d != 0 else "0"


def iv(lo, lo_closed, hi, hi_closed) -> str:
    a = "-inf" if lo is None else s(lo)
    b = "+inf" if hi is None else s(hi)
    return f"{'[' if lo_closed and lo is not None else '('}{a}, {b}{']' if hi_closed and hi is not None else ')'}"


FULLWIDTH = str.maketrans({"[": "【", "(": "（", "]": "】", ")": "）", ",": "，"})


def fullwidth_some(node, rng: random.Random):
    """docs/policy.md accepts full-width brackets and commas: write some intervals that way."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("range", "delay_hours", "handling_hours", "repeat_months") and isinstance(v, str) \
                    and rng.random() < 0.1:
                node[k] = v.translate(FULLWIDTH)
            else:
                fullwidth_some(v, rng)
    elif isinstance(node, list):
        for v in node:
            fullwidth_some(v, rng)


# --------------------------------------------------------------------------- policy generator


def rand_dec(rng: random.Random, lo: Decimal, hi: Decimal, places: int | None = None) -> Decimal:
    """A value in [lo, hi] with 0–4 decimals."""
    places = rng.choice([0, 0, 1, 2, 4]) if places is None else places
    q = D(1).scaleb(-places)
    span = int((hi - lo) / q)
    return (lo + rng.randint(0, max(span, 0)) * q).quantize(q) if span >= 0 else lo


def sample_hi(lo: Decimal, hi: Decimal | None) -> Decimal:
    """An upper end for sampling when the metric has no max."""
    return hi if hi is not None else lo + 60


def gen_metrics(rng: random.Random, stages: bool = False) -> dict:
    metrics: dict[str, dict] = {}
    n = 0

    def add(kind: str, spec: dict) -> str:
        nonlocal n
        mid = f"{kind}_{n}"
        n += 1
        metrics[mid] = {"label": f"指标{n}", **spec}
        return mid

    for _ in range(rng.randint(2, 4)):
        spec = {"type": "integer"}
        if rng.random() < 0.2:
            spec["min"] = s(rng.choice([1, 2]))
        if rng.random() < 0.7:
            spec["max"] = s(rng.choice([3, 5, 10, 20, 62]))
        if rng.random() < 0.4:
            spec["default"] = spec.get("min", "0")
        add("cnt", spec)
    for _ in range(rng.randint(1, 3)):
        spec = {"type": "number", "min": s(rng.choice([0, 0, -10, D("0.5")]))}
        if rng.random() < 0.7:
            spec["max"] = s(rng.choice([10, 50, D("99.5"), 200]))
        add("num", spec)
    for _ in range(rng.randint(1, 3)):
        spec = {"type": "percent", "unit": "%"}
        if rng.random() < 0.3:
            spec["min"] = s(rng.choice([20, 50, D("12.5")]))
        if rng.random() < 0.2:
            spec["max"] = s(rng.choice([90, D("99.99")]))
        if rng.random() < 0.3:
            spec["default"] = spec.get("max", "100")
        add("pct", spec)
    for _ in range(rng.randint(1, 2)):
        add("flag", {"type": "bool", "default": rng.choice(["否", "false", 0])})
    for _ in range(rng.randint(1, 3)):
        add("ev", {"type": "integer", "count_events": gen_filter(rng, allow_empty=False, stages=stages)})
    return metrics


def gen_filter(rng: random.Random, allow_empty: bool = True, stages: bool = False) -> dict:
    f: dict = {}
    pairs = PAIRS + (STAGE_PAIRS if stages else [])
    while not f:
        if rng.random() < 0.6:
            k = rng.randint(1, 2)
            cats = rng.sample(CATEGORIES, k)
            f["category"] = cats[0] if k == 1 and rng.random() < 0.5 else cats
        if rng.random() < 0.5:
            k = rng.randint(1, 2)
            sev = rng.sample(SEVERITIES, k)
            f["severity"] = sev[0] if k == 1 and rng.random() < 0.5 else sev
        if rng.random() < 0.5:
            a, b = sorted(rng.sample([0, 2, 3, 4, D("4.5"), 24, 48], 2))
            f["delay_hours"] = rng.choice([iv(b, False, None, False), iv(a, False, b, True),
                                           iv(a, True, b, False), iv(a, True, None, False)])
        if rng.random() < 0.25:
            a, b = sorted(rng.sample([0, 1, 8, 24, D("72.25")], 2))
            f["handling_hours"] = rng.choice([iv(a, True, b, False), iv(b, False, None, False)])
        if rng.random() < 0.2:
            f["unclosed"] = rng.random() < 0.8       # with handling_hours too: closed after the month
        if rng.random() < 0.2:
            f["month_by"] = rng.choice(["discovered", "reported", "closed"])
        if rng.random() < 0.12:
            a, b = rng.choice(pairs)
            lo, hi = sorted(rng.sample([0, 2, 8, 24, 48], 2))
            key = rng.choice(["hours", "hours", "days"])
            rng_ = iv(lo, rng.random() < 0.5, hi, True) if rng.random() < 0.6 else iv(lo, False, None, False)
            if key == "days":
                rng_ = rng.choice([iv(0, True, 1, True), iv(1, False, None, False), iv(D("0.5"), True, 2, False)])
            f["interval"] = {"from": a, "to": b, key: rng_}
        if rng.random() < 0.12:
            a, b = rng.choice(pairs)
            f["overdue"] = {"from": a, "to": b, **({"hours": s(rng.choice([2, 24, 48, D("4.5")]))} if rng.random() < 0.7
                                                  else {"days": s(rng.choice([1, 2, 7]))})}
            f.pop("month_by", None)     # an overdue event counts in the month it went late
        if rng.random() < 0.1:
            f["repeat_months"] = rng.choice(["[2, +inf)", "[1, 1]", "[2, 3]", "(1, +inf)", "[3, +inf)"])
        if allow_empty:
            break
    return f


def domain(m: dict) -> tuple[Decimal | None, Decimal | None]:
    t = m["type"]
    lo = D(m["min"]) if "min" in m else (D(0) if t in ("integer", "percent") else None)
    hi = D(m["max"]) if "max" in m else (D(100) if t == "percent" else None)
    return lo, hi


def gen_tiers(rng: random.Random, m: dict) -> list[dict]:
    """1–3 non-overlapping tiers inside the metric domain, boundaries owned by a random side."""
    lo, hi = domain(m)
    lo_s = lo if lo is not None else D(-10)
    hi_s = sample_hi(lo_s, hi)
    integer = m["type"] == "integer"
    k = rng.randint(1, 3)
    if integer:
        k = min(k, int(hi_s - lo_s))      # a narrow integer range has few distinct cut points
    cuts: set[Decimal] = set()
    while len(cuts) < k + 1:
        cuts.add(rand_dec(rng, lo_s, hi_s, 0 if integer else rng.choice([0, 0, 1, 2, 4])))
    cuts = sorted(cuts)
    tiers = []
    owner_left = [rng.random() < 0.5 for _ in cuts]          # who owns each cut value
    for i in range(k):
        a, b = cuts[i], cuts[i + 1]
        a_closed = not owner_left[i] if i > 0 else rng.random() < 0.7
        b_closed = owner_left[i + 1] if i + 1 < k else rng.random() < 0.7
        lo_v, hi_v = a, b
        if i == 0 and rng.random() < 0.2:
            lo_v = None                                       # open to -inf still overlaps the domain
        if i == k - 1 and rng.random() < 0.2:
            hi_v = None
        if rng.random() < 0.15 and i > 0:
            continue                                          # a gap between tiers is allowed
        if integer and lo_v is not None and hi_v is not None and not a_closed and not b_closed and b - a == 1:
            continue                                          # no whole number inside: a policy error
        tiers.append({"range": iv(lo_v, a_closed, hi_v, b_closed),
                      "points": s(rng.choice([1, 2, 3, 5, D("0.5"), D("1.5")]))})
    if not tiers:
        tiers.append({"range": iv(cuts[0], True, cuts[1], False), "points": "2"})
    return tiers


def gen_quota(rng: random.Random, m: dict):
    lo, hi = domain(m)
    lo_s = lo if lo is not None else D(-10)
    hi_s = sample_hi(lo_s, hi)
    integer = m["type"] == "integer"

    def one():
        q = rand_dec(rng, lo_s, hi_s + (2 if rng.random() < 0.1 else 0), 0 if integer else rng.choice([0, 0, 1, 2]))
        return q if q > lo_s else lo_s + 1

    if rng.random() < 0.4:
        keys = rng.sample(WORKER_TYPES, rng.randint(1, 2))
        qb = {"by": "worker_type", "values": {k: s(one()) for k in keys}}
        if rng.random() < 0.5:
            qb["default"] = s(one())
        return qb
    return s(one())


def gen_rule(rng: random.Random, rid: str, metrics: dict, ctx: dict | None = None, bonus: bool = False) -> dict:
    ctx = ctx or {}
    ints = [k for k, m in metrics.items() if m["type"] == "integer" and domain(m)[1] != 0]
    nums = [k for k, m in metrics.items() if m["type"] != "bool"]
    forms = ["per_count", "per_count", "shortfall", "shortfall", "tiers", "tiers", "event", "event"]
    if not bonus:
        forms.append("composite")
    if ctx.get("records") and not bonus:
        forms += ["records", "records"]
    form = rng.choice(forms)
    r: dict = {"id": rid, "label": f"规则{rid}"}
    if rng.random() < 0.2:
        r["cap"] = s(rng.choice([1, 2, 3, 5, D("2.5")]))

    def pts_or_escalate(spec: dict) -> dict:
        if rng.random() < 0.35:
            spec["escalate"] = [s(rng.choice([0, 1, 2, 3, 5, D("0.5")])) for _ in range(rng.randint(1, 4))]
            if all(x == "0" for x in spec["escalate"]):
                spec["escalate"][-1] = "1"   # all zeros never deduct: a policy error
        else:
            spec["points"] = s(rng.choice([1, 2, 3, D("0.5"), D("1.5"), D("0.25")]))
        return spec

    if form == "per_count":
        r["per_count"] = pts_or_escalate({"metric": rng.choice(ints)})
    elif form == "shortfall":
        mid = rng.choice(nums)
        sf = {"metric": mid, "quota": gen_quota(rng, metrics[mid]),
              "points": s(rng.choice([1, 2, D("0.5"), D("1.5"), 3]))}
        if rng.random() < 0.5:
            sf["per"] = s(rng.choice([1, 2, 5, D("0.5"), D("0.25"), 10, 3]))
        if rng.random() < 0.8:
            sf["partial"] = rng.choice(["up", "down", "exact"])
        if sf.get("partial") == "exact" and sf.get("per") == "3":
            sf["per"] = "2"     # an exact third is not a finite decimal; see the report
        r["shortfall"] = sf
    elif form == "tiers":
        mid = rng.choice(nums)
        r["tiers"] = {"metric": mid, "tiers": gen_tiers(rng, metrics[mid])}
    elif form == "composite":
        r["composite"] = gen_composite(rng, metrics)
        r.pop("cap", None) if rng.random() < 0.5 else None
    elif form == "records":
        r["records"] = gen_records_rule(rng, ctx["records"])
    else:
        r["event"] = pts_or_escalate(gen_filter(rng, stages=ctx.get("stages", False)))
    return r


def gen_composite(rng: random.Random, metrics: dict) -> dict:
    """1–4 terms over percent metrics, bounded numbers, ratios of two counts; weights adding up to 100%."""
    n = rng.randint(1, 4)
    cuts = sorted(rng.sample(range(1, 100), n - 1))
    weights = [b - a for a, b in zip([0] + cuts, cuts + [100])]
    ints = [k for k, m in metrics.items() if m["type"] == "integer"]
    pcts = [k for k, m in metrics.items() if m["type"] == "percent"]
    bounded = [k for k, m in metrics.items() if m["type"] in ("number", "integer") and domain(m)[0] is not None
               and domain(m)[0] >= 0]
    terms = []
    for w in weights:
        t: dict = {"weight": rng.choice([f"{w}%", s(D(w) / 100)])}
        kind = rng.choice(["pct", "pct", "num", "ratio", "ratio"])
        if kind == "pct" and pcts:
            t["metric"] = rng.choice(pcts)
        elif kind == "num" and bounded:
            t["metric"] = mid = rng.choice(bounded)
            if domain(metrics[mid])[1] is None or rng.random() < 0.4:
                t["full"] = s(rng.choice([10, 40, 60, D("12.5"), 100]))
        else:
            t["ratio"] = [rng.choice(ints), rng.choice(ints)]
            if rng.random() < 0.4:
                t["empty"] = s(rng.choice([0, 50, 100]))
        if rng.random() < 0.3:
            t["complement"] = True
        terms.append(t)
    c = {"terms": terms}
    if rng.random() < 0.6:
        c["decimals"] = rng.choice([0, 1, 2, 3])
    if rng.random() < 0.3:
        c["out_of"] = s(rng.choice([10, 20, 100, D("12.5")]))
    return c


def gen_records(rng: random.Random) -> dict:
    """Record series: patrol minutes (with slots), the same rows in hours, diaries counted, visits by amount."""
    slots = rng.choice([{"上午": "[0, 12)", "下午": "[12, 24)"}, {"早": "[0, 11.5)", "晚": "[11.5, 24)"}, None])
    out = {"patrol": {"label": "巡查", "type": "巡查", "measure": "minutes"},
           "patrol_h": {"label": "巡查时长", "type": "巡查", "measure": "hours"},
           "diary": {"label": "日志", "type": "日志", "measure": "count"},
           "visit": {"label": "走访", "type": ["走访", "入户"], "measure": "amount", "unit": "户"}}
    if slots:
        out["patrol"]["slots"] = slots
    if rng.random() < 0.5:
        out["diary"]["slots"] = {"白天": "[6, 18]", "夜间": "(18, 24)"}
    return out


def gen_records_rule(rng: random.Random, records: dict) -> dict:
    sid = rng.choice(list(records))
    series = records[sid]
    every = rng.choice(["day", "day", "week"])
    r: dict = {"series": sid, "every": every, "points": s(rng.choice([1, 2, D("0.5"), D("1.5")]))}
    if rng.random() < 0.5:
        r["days"] = rng.choice(["working", "all"])
    big = {"minutes": [30, 60, 70, 120], "hours": [D("0.5"), 1, 2], "count": [1, 2, 3, 5], "amount": [1, 3, D("2.5")]}
    scale = big[series["measure"]]
    if every == "week":
        scale = [x * 5 for x in scale]
    if every == "day" and series.get("slots") and rng.random() < 0.6:
        r["slots"] = {name: s(rng.choice(scale)) for name in series["slots"]}
    elif rng.random() < 0.4:
        keys = rng.sample(WORKER_TYPES, rng.randint(1, 2))
        r["quota"] = {"by": "worker_type", "values": {k: s(rng.choice(scale)) for k in keys}}
        if rng.random() < 0.5:
            r["quota"]["default"] = s(rng.choice(scale))
    else:
        r["quota"] = s(rng.choice(scale))
    if rng.random() < 0.4:
        r["per"] = s(rng.choice([1, 2, 10, D("0.5")]))
        if rng.random() < 0.7:
            r["partial"] = rng.choice(["up", "down", "exact"])
    if rng.random() < 0.4:
        r["period_cap"] = s(rng.choice([1, 2, 3, D("1.5")]))
    return r


def gen_unclashing_rule(rng: random.Random, rid: str, metrics: dict, siblings: list[dict], ctx: dict | None = None,
                        bonus: bool = False) -> dict:
    """A rule that does not clash with the item's other rules (overlapping late/missed hours are a
    policy error, docs/policy.md)."""
    while True:
        r = gen_rule(rng, rid, metrics, ctx, bonus)
        if not any(hours_clash(r.get("event"), o.get("event")) for o in siblings):
            return r


def hours_clash(a: dict | None, b: dict | None) -> bool:
    """Two event filters that grade alike (the same of delay_hours / handling_hours / unclosed /
    repeat_months given, one unclosed value, the same interval, deadline and month), can match one
    event, and overlap on an hours (or months) interval."""
    from engine.intervals import parse_interval

    keys = ("delay_hours", "handling_hours", "unclosed", "repeat_months", "interval", "overdue")
    if a is None or b is None or any((k in a) != (k in b) for k in keys) or a.get("unclosed") != b.get("unclosed"):
        return False
    if a.get("interval") != b.get("interval") or a.get("overdue") != b.get("overdue") \
            or a.get("month_by", "discovered") != b.get("month_by", "discovered"):
        return False
    for k in ("category", "severity"):
        x, y = a.get(k), b.get(k)
        if x and y and not set([x] if isinstance(x, str) else x) & set([y] if isinstance(y, str) else y):
            return False
    graded = [k for k in ("delay_hours", "handling_hours", "repeat_months") if k in a]
    return bool(graded) and all(parse_interval(a[k]).overlaps(parse_interval(b[k])) for k in graded)


def gen_partition(rng: random.Random, top: Decimal, n: int) -> list[str]:
    """n intervals that partition [0, top] exactly, often with a degenerate point interval."""
    cands = [D(x) for x in range(1, int(top))] + [D(x) + D("0.5") for x in range(0, int(top))]
    cands = [c for c in cands if 0 < c < top]
    cuts = sorted(rng.sample(cands, n - 1))
    ranges = []
    prev, prev_closed = (None, False) if rng.random() < 0.2 else (D(0), True)
    for c in cuts:
        if rng.random() < 0.08:
            # a one-point band [c, c]
            ranges.append(iv(prev, prev_closed, c, False))
            ranges.append(iv(c, True, c, True))
            prev, prev_closed = c, False
            continue
        left_owns = rng.random() < 0.5
        ranges.append(iv(prev, prev_closed, c, left_owns))
        prev, prev_closed = c, not left_owns
    ranges.append(iv(prev, prev_closed, None, False) if rng.random() < 0.3 else iv(prev, prev_closed, top, True))
    return ranges


def gen_policy(seed: int) -> dict:
    rng = random.Random(seed)
    stages = rng.random() < 0.5
    metrics = gen_metrics(rng, stages)
    records = gen_records(rng) if rng.random() < 0.4 else None
    if records:
        for k in range(rng.randint(0, 2)):
            stat = rng.choice(["total", "per_day", "per_week", "days_with"])
            series = rng.choice(list(records))
            mtype = "integer" if stat == "days_with" or (stat == "total" and records[series]["measure"] in
                                                            ("count", "minutes")) else "number"
            fr = {"series": series, "stat": stat}
            if rng.random() < 0.5:
                fr["days"] = rng.choice(["working", "all"])
            if stat in ("per_day", "per_week") and rng.random() < 0.5:
                fr["decimals"] = rng.choice([0, 1, 3])
            metrics[f"rec_{k}"] = {"label": f"记录指标{k}", "type": mtype, "min": "0", "from_records": fr}
    ctx = {"stages": stages, "records": records}
    full = D(rng.choice([100, 100, 100, 60, 120]))
    n_items = rng.randint(2, 5)
    cuts = sorted(rng.sample(range(1, int(full)), n_items - 1))
    parts = [D(b - a) for a, b in zip([0] + cuts, cuts + [int(full)])]
    if rng.random() < 0.3 and parts[0] > 1:
        parts[0] -= D("0.5")
        parts[-1] += D("0.5")
    rid = 0
    items = []
    for i, p in enumerate(parts):
        rules = []
        earn = rng.random() < 0.3
        for _ in range(rng.randint(1, 4)):
            r = gen_unclashing_rule(rng, f"r{rid}", metrics, rules, ctx)
            if earn and "composite" not in r and rng.random() < 0.3:
                r["effect"] = "deduct"
            rules.append(r)
            rid += 1
        item = {"id": f"item{i}", "label": f"项目{i}", "points": s(p), "rules": rules}
        if earn:
            item["mode"] = "earn"
        items.append(item)
    doc: dict = {"id": f"rand{seed}", "name": f"随机细则{seed}", "version": "t", "full_score": s(full),
                 "attributes": {"worker_type": {"label": "网格员类别", "values": WORKER_TYPES}},
                 "events": {"categories": CATEGORIES, "severities": SEVERITIES},
                 "metrics": metrics, "items": items}
    if stages:
        doc["events"]["stages"] = {"accepted": "受理"}
    if records:
        doc["records"] = records
        # December's last week reaches into 2027, a year chinese-calendar does not know yet: the office's days
        doc["calendar"] = {"holidays": ["2027-01-01"], "workdays": rng.choice([[], ["2026-12-26"]])}
    cap = D(0)
    if rng.random() < 0.8:
        cap = D(rng.choice([3, 5, 10, D("2.5")]))
        brules: list[dict] = []
        for k in range(rng.randint(1, 3)):
            brules.append(gen_unclashing_rule(rng, f"b{k}", metrics, brules, ctx, bonus=True))
        doc["bonus"] = {"cap": s(cap), "rules": brules}
    vetoes = []
    flags = [k for k, m in metrics.items() if m["type"] == "bool"]
    ints = [k for k, m in metrics.items() if m["type"] == "integer" and (domain(m)[1] is None or domain(m)[1] >= 1)]
    pcts = [k for k, m in metrics.items() if m["type"] == "percent"]
    for k in range(rng.randint(0, 3)):
        kind = rng.choice(["flag", "int", "int_range", "int_window", "pct", "num"])
        v = {"id": f"v{k}", "label": f"否决{k}", "domain": "综合"}
        if kind == "flag":
            v["metric"] = rng.choice(flags)
        elif kind in ("int", "int_range", "int_window"):
            # usually a dedicated incident count that is mostly 0, sometimes a count that rules also use
            if rng.random() < 0.7:
                mid = f"inc_{k}"
                metrics[mid] = {"label": f"事故{k}", "type": "integer", "max": s(rng.choice([3, 5, 10]))}
                v["metric"] = mid
            else:
                v["metric"] = rng.choice(ints)
            if kind != "int":
                lo, hi = domain(metrics[v["metric"]])
                top = hi if hi is not None else lo + 10
                if kind == "int_range":
                    v["range"] = iv(rand_dec(rng, lo, top, 0), True, None, False)
                else:   # a finite window that still reaches the metric's range
                    a = rand_dec(rng, lo, top - 1, 0)
                    v["range"] = iv(a, rng.random() < 0.5, a + 2, True)
        elif kind == "num":
            v["metric"] = rng.choice([k for k, m in metrics.items() if m["type"] == "number"])
            lo, hi = domain(metrics[v["metric"]])
            top = hi if hi is not None else lo + 60
            a = rand_dec(rng, lo, top, rng.choice([0, 1, 4]))
            v["range"] = iv(a, a == top or rng.random() < 0.5, None, False)   # (max, +inf) could never fire
        else:
            v["metric"] = rng.choice(pcts)
            lo, hi = domain(metrics[v["metric"]])
            v["range"] = iv(lo, True, rand_dec(rng, lo + 1, min(hi, lo + 25), rng.choice([0, 1])), rng.random() < 0.5)
        if rng.random() < 0.6:
            v["effect"] = gen_effect(rng)
        vetoes.append(v)
    if vetoes:
        doc["vetoes"] = vetoes
    if rng.random() < 0.5:
        doc["veto_effect"] = gen_effect(rng)
    top = full + cap
    if rng.random() < 0.85:
        ranges = gen_partition(rng, top, rng.randint(2, 5))
        doc["stars"] = [{"stars": len(ranges) - 1 - i if rng.random() < 0.9 else i, "range": r}
                        for i, r in enumerate(ranges)]
    bands = gen_partition(rng, top, rng.randint(1, 4) + 1)
    doc["pay"] = {"performance_share": rng.choice(["20%", "0.3", "15%", "33.33%", "1"]),
                  "bands": [{"id": f"p{i}", "label": f"档{i}", "range": r,
                             "ratio": rng.choice(["1", "0.9", "80%", "0.5", "0", "87.5%", "0.333"])}
                            for i, r in enumerate(bands)]}
    fullwidth_some(doc, rng)
    return doc


def gen_effect(rng: random.Random) -> dict:
    e = {}
    if rng.random() < 0.5:
        e["fail"] = rng.random() < 0.5
    if rng.random() < 0.5:
        e["score"] = rng.choice(["keep", "zero"])
    if rng.random() < 0.5:
        e["pay"] = rng.choice(["withhold", "keep"])
    if rng.random() < 0.5:
        e["stars"] = rng.choice(["keep", "zero"])
    return e


# --------------------------------------------------------------------------- worker-month generator


def _interesting(doc: PolicyDoc) -> dict[str, set[Decimal]]:
    """Boundary values per metric: tier ends, quotas and veto bounds (and their neighbours)."""
    pts: dict[str, set[Decimal]] = {mid: set() for mid in doc.metrics}
    eps = D("0.0001")

    def around(mid: str, x: Decimal, per: Decimal = D(1)) -> None:
        pts[mid].update({x, x - eps, x + eps, x - 1, x + 1, x - per / 2, x - per, x - 2 * per})

    rules = [r for it in doc.items for r in it.rules] + (doc.bonus.rules if doc.bonus else [])
    for r in rules:
        if r.tiers:
            for t in r.tiers.tiers:
                for b in (t.range.lo, t.range.hi):
                    if b is not None:
                        around(r.tiers.metric, b)
        if r.shortfall:
            q = r.shortfall.quota
            qs = list(q.values.values()) + ([q.default] if q.default is not None else []) if isinstance(q, QuotaBy) else [q]
            for x in qs:
                around(r.shortfall.metric, x, r.shortfall.per)
        if r.per_count:
            pts[r.per_count.metric].update({D(0), D(1), D(2), D(3), D(4)})
    for v in doc.vetoes:
        if v.range is not None:
            for b in (v.range.lo, v.range.hi):
                if b is not None:
                    around(v.metric, b)
    return pts


def _metric_domain(m) -> tuple[Decimal | None, Decimal | None]:
    if m.type == "percent":
        return (m.min if m.min is not None else D(0)), (m.max if m.max is not None else D(100))
    return (m.min if m.min is not None else (D(0) if m.type == "integer" else None)), m.max


def _hours_interesting(doc: PolicyDoc) -> tuple[set[Decimal], set[Decimal]]:
    delays, handlings = {D(0), D(1), D(5)}, {D(0), D(2)}
    filters = [m.count_events for m in doc.metrics.values() if m.count_events is not None]
    rules = [r for it in doc.items for r in it.rules] + (doc.bonus.rules if doc.bonus else [])
    filters += [r.event for r in rules if r.event is not None]
    for f in filters:
        for rng_, out in ((f.delay_hours, delays), (f.handling_hours, handlings)):
            if rng_ is not None:
                for b in (rng_.lo, rng_.hi):
                    if b is not None:
                        out.update({b, b + D("0.0001"), max(b - D("0.0001"), D(0))})
        for span in (f.interval, f.overdue):
            if span is None:      # deadlines and stage intervals: their limits, in hours
                continue
            if isinstance(span.hours, Decimal):
                limits = [span.hours]
            elif isinstance(span.days, Decimal):
                limits = [span.days * 24]
            else:
                rng_, scale = (span.hours, 1) if span.hours is not None else (span.days, 24)
                limits = [x * scale for x in (rng_.lo, rng_.hi) if x is not None]
            for b in limits:
                    delays.update({b, b + D("0.0167"), max(b - D("0.0167"), D(0))})
                    handlings.update({b, b + D("0.0167"), max(b - D("0.0167"), D(0))})
    return delays, handlings


def _minutes(h: Decimal) -> int:
    return int((h * 60).to_integral_value())


def gen_times(rng: random.Random, month: str, hours, stages: bool, k: int, j: int) -> oracle.OEvent:
    """An event of the log with stage times: mostly discovered in the month, some earlier (they count
    by report or closing month, go late this month or start a problem run), some at the month's end."""
    delays, handlings = hours
    y, mo = int(month[:4]), int(month[5:7])
    first = dt.datetime(y, mo, 1)
    days = (dt.datetime(y + (mo == 12), mo % 12 + 1, 1) - first).days
    r = rng.random()
    if r < 0.15:
        disc = first - dt.timedelta(minutes=rng.randrange(60, 30 * 24 * 60))
    elif r < 0.2:
        disc = first - dt.timedelta(minutes=rng.randrange(31 * 24 * 60, 60 * 24 * 60))
    elif r < 0.35:
        disc = first + dt.timedelta(days=days - 2, minutes=rng.randrange(0, 2 * 24 * 60 - 1))
    else:
        disc = first + dt.timedelta(minutes=rng.randrange(0, days * 24 * 60 - 1))
    times = {"discovered": disc}
    if rng.random() > 0.08:
        delay = _minutes(rng.choice(sorted(delays))) if rng.random() < 0.6 else rng.randrange(0, 60 * 60)
        times["reported"] = disc + dt.timedelta(minutes=delay)
        if rng.random() > 0.2:
            handling = _minutes(rng.choice(sorted(handlings))) if rng.random() < 0.6 else rng.randrange(0, 100 * 60)
            times["closed"] = times["reported"] + dt.timedelta(minutes=handling)
        if stages and rng.random() > 0.15:
            wait = _minutes(rng.choice(sorted(delays))) if rng.random() < 0.6 else rng.randrange(0, 72 * 60)
            times["accepted"] = times["reported"] + dt.timedelta(minutes=wait)
    return oracle.OEvent(f"E{k}-{j}", rng.choice(CATEGORIES), rng.choice(SEVERITIES), None, None, False,
                         times=times, problem=rng.choice(["", "", "", "垃圾", "占道"]))


def gen_records_of(rng: random.Random, doc: PolicyDoc, month: str) -> list[oracle.ORecord]:
    """A worker's rows of the records sheet around the month (weeks reach into its neighbours)."""
    y, mo = int(month[:4]), int(month[5:7])
    day = dt.date(y, mo, 1) - dt.timedelta(days=7)
    last = dt.date(y + (mo == 12), mo % 12 + 1, 1) + dt.timedelta(days=7)
    lazy = rng.random() < 0.3
    out = []
    while day < last:
        base = dt.datetime.combine(day, dt.time())
        for _ in range(rng.choice([0, 1, 1, 2] if not lazy else [0, 0, 1])):
            start = base + dt.timedelta(minutes=rng.choice([rng.randrange(6 * 60, 22 * 60), 23 * 60 + 30,
                                                            11 * 60 + 20, 11 * 60 + 45]))
            out.append(oracle.ORecord("巡查", day, start, start + dt.timedelta(minutes=rng.randrange(5, 150))))
        for _ in range(rng.choice([0, 1, 2, 3])):
            start = base + dt.timedelta(minutes=rng.randrange(0, 24 * 60)) if rng.random() < 0.7 else None
            out.append(oracle.ORecord("日志", day, start))
        for _ in range(rng.choice([0, 0, 1, 2])):
            out.append(oracle.ORecord(rng.choice(["走访", "入户"]), day, None, None,
                                      rand_dec(rng, D(0), D(5), rng.choice([0, 1]))))
        day += dt.timedelta(days=1)
    return out


def gen_worker(rng: random.Random, doc: PolicyDoc, k: int, interesting, hours, month: str = MONTHS[0]) -> dict:
    metrics: dict[str, object] = {}
    clean = rng.random() < 0.15          # some workers with few violations, to reach the top bands
    for mid, m in doc.metrics.items():
        if m.computed:
            continue
        if m.type == "bool":
            metrics[mid] = rng.random() < 0.1
            continue
        lo, hi = _metric_domain(m)
        lo_s = lo if lo is not None else D(-10)
        hi_s = sample_hi(lo_s, hi)
        integer = m.type == "integer"
        cands = [x for x in interesting[mid]
                 if (lo is None or x >= lo) and (hi is None or x <= hi) and (not integer or x == x.to_integral_value())]
        if mid.startswith("inc_") and rng.random() < 0.85:
            x = D(0)
        elif clean:
            x = lo_s if integer and rng.random() < 0.8 else hi_s
        elif cands and rng.random() < 0.6:
            x = rng.choice(sorted(cands))
        else:
            x = rand_dec(rng, lo_s, hi_s, 0 if integer else None)
            if integer and rng.random() < 0.5:
                x = min(hi_s, lo_s + rng.randint(0, 3))
        metrics[mid] = D(x)
    delays, handlings = hours
    events = []
    timed = rng.random() < 0.7          # most workers' events come with times, like a real log
    stages = doc.events is not None and bool(doc.events.stages)
    for j in range(0 if clean else rng.choice([0, 1, 2, 3, 5, 8])):
        if timed:
            events.append(gen_times(rng, month, hours, stages, k, j))
            continue
        unclosed = rng.random() < 0.2
        if rng.random() < 0.08:
            delay = None
        elif rng.random() < 0.6:
            delay = rng.choice(sorted(delays))
        else:
            delay = rand_dec(rng, D(0), D(60), rng.choice([0, 1, 4]))
        handling = None
        if not unclosed and delay is not None:
            handling = rng.choice(sorted(handlings)) if rng.random() < 0.6 else rand_dec(rng, D(0), D(100), rng.choice([0, 2]))
        if delay is None:
            unclosed = True
        events.append(oracle.OEvent(f"E{k}-{j}", rng.choice(CATEGORIES), rng.choice(SEVERITIES), delay, handling, unclosed,
                                    problem=rng.choice(["", "垃圾"])))
    return {"worker_id": f"W{k:04d}", "attributes": {"worker_type": rng.choice(WORKER_TYPES)},
            "metrics": metrics, "events": events,
            "records": gen_records_of(rng, doc, month) if doc.records else [],
            "wage": None if rng.random() < 0.03 else rand_dec(rng, D(1500), D(6000), rng.choice([0, 2]))}


def engine_case(policy, w: dict, month: str | None = MONTHS[0]) -> WorkerCase:
    """The worker-month as the engine prepares it (engine/prepare.py): events read like the log, counted
    and record metrics, record periods."""
    doc = policy.doc if hasattr(policy, "doc") else None
    evs = [make_event(e.event_id, e.category, e.severity, e.times, month, e.problem) if e.times is not None else
           EventCase(e.event_id, e.category, e.severity, e.delay_hours, e.handling_hours, e.unclosed, problem=e.problem)
           for e in w["events"]]
    records = None
    if doc is not None and doc.records:
        records = [Record(tuple(sid for sid, ser in doc.records.items() if r.type in (ser.type or [ser.label])),
                          r.day, r.start, r.end, r.amount) for r in w.get("records", [])]
    return prepare_case(policy, month, w["worker_id"], dict(w["attributes"]), dict(w["metrics"]), evs, records)


# --------------------------------------------------------------------------- comparison


def N(d):
    return None if d is None else D(d).normalize()


def engine_view(res, rule_ids: set[str]) -> dict:
    rules: dict[str, Decimal] = {}
    for f in res.findings:
        # a rule's own cap is reported as a separate finding on that rule id (item caps use the item id)
        if f.kind in ("deduction", "bonus", "earn") or (f.kind in ("cap", "bonus_cap") and f.rule_id in rule_ids):
            rules[f.rule_id] = rules.get(f.rule_id, D(0)) + f.points
    items = {}
    for entry in res.items:
        if isinstance(entry, dict):
            items[entry["item_id"]] = (N(D(entry["deducted"])), entry["capped"])
        else:   # (ItemDef, deducted, capped)
            items[entry[0].id] = (N(entry[1]), entry[2])
    return {"items": items, "score": N(res.score), "deductions": N(res.deductions), "bonus": N(res.bonus),
            "stars": res.stars, "band": res.band["id"] if res.band else None, "pay": N(res.pay),
            "base": N(res.performance_base),
            "vetoes": sorted(v["rule_id"] for v in res.vetoes), "failed": res.failed,
            "rules": {k: N(v) for k, v in sorted(rules.items()) if v != 0}}


def oracle_view(o: oracle.OResult) -> dict:
    return {"items": {k: (N(d), c) for k, (d, c) in o.items.items()},
            "score": N(o.score), "deductions": N(o.deductions), "bonus": N(o.bonus),
            "stars": o.stars, "band": o.band, "pay": N(o.pay), "base": N(o.base), "vetoes": sorted(o.vetoes), "failed": o.failed,
            "rules": {k: N(v) for k, v in sorted(o.rules.items()) if v != 0}}


def fmt_worker(w: dict, counted: dict) -> str:
    ev = [f"{{id: {e.event_id}, category: {e.category}, severity: {e.severity}, delay_hours: {e.delay_hours}, "
          f"handling_hours: {e.handling_hours}, unclosed: {e.unclosed}, problem: {e.problem}, "
          f"times: { {k: str(v) for k, v in (e.times or {}).items()} }}}" for e in w["events"]]
    recs = [f"{r.type} {r.day} {r.start} {r.end} {r.amount}" for r in w.get("records", [])]
    return (f"worker {w['worker_id']} attributes={w['attributes']} wage={w['wage']}\n"
            f"  metrics={ {k: str(v) for k, v in w['metrics'].items()} }\n"
            f"  counted(engine)={ {k: str(v) for k, v in counted.items()} }\n"
            "  events:\n    " + "\n    ".join(ev) + f"\n  records ({len(recs)}): " + "; ".join(recs[:12]))


def run_seed(seed: int, n_workers: int, tmp: Path, oracle_mod=oracle) -> list[str]:
    """Score n_workers random worker-months under policy `seed`; returns mismatch reports."""
    raw = gen_policy(seed)
    text = yaml.safe_dump(raw, allow_unicode=True, sort_keys=False)
    path = tmp / f"rand{seed}.yaml"
    path.write_text(text, encoding="utf-8")
    policy = load_policy_file(path)
    doc = policy.doc
    month = seed_month(seed)
    rng = random.Random(seed * 7919 + 1)
    interesting, hours = _interesting(doc), _hours_interesting(doc)
    workers = [gen_worker(rng, doc, k, interesting, hours, month) for k in range(n_workers)]
    cases = [engine_case(policy, w, month) for w in workers]
    results = score_cases(policy, cases, [w["wage"] for w in workers], processes=1)
    rule_ids = {r.id for it in doc.items for r in it.rules} | {r.id for r in (doc.bonus.rules if doc.bonus else [])}
    problems = []
    expected = [oracle_mod.score(policy, w["attributes"], w["metrics"], w["events"], w["wage"], month,
                                 w["records"]) for w in workers]
    for w, c, res, o, rank in zip(workers, cases, results, expected, oracle_mod.ranks(expected)):
        ev, ov = engine_view(res, rule_ids), oracle_view(o)
        ev["rank"], ov["rank"] = res.rank, rank
        counted = {k: c.metrics[k] for k, m in doc.metrics.items() if m.computed}
        ocounted = {k: o.metrics[k] for k in counted}
        # results.md: findings add up to score - full_score unless a veto set the score
        zeroed = any((v.effect or doc.veto_effect).score == "zero" for v in doc.vetoes if v.id in o.vetoes)
        if not zeroed:
            ev["findings_sum"] = N(sum((f.points for f in res.findings), D(0)))
            ov["findings_sum"] = N(o.score - doc.full_score)
        if ev != ov or counted != ocounted:
            diff = {k: (ov[k], ev[k]) for k in ov if ov[k] != ev[k]}
            if counted != ocounted:
                diff["counted"] = (ocounted, counted)
            problems.append(f"seed={seed} month={month} {fmt_worker(w, counted)}\n  (oracle, engine) differ: {diff}")
    if problems:
        problems[0] += f"\n--- policy rand{seed}.yaml ---\n{text}"
    return problems


def check_seeds(seeds, n_workers: int, tmp: Path, oracle_mod=oracle) -> None:
    all_problems: list[str] = []
    for seed in seeds:
        all_problems += run_seed(seed, n_workers, tmp, oracle_mod)
    if all_problems:
        pytest.fail(f"{len(all_problems)} mismatches; first ones:\n\n" + "\n\n".join(all_problems[:3]), pytrace=False)


FAST_SEEDS = range(1, 31)


@pytest.mark.parametrize("seed", FAST_SEEDS)
def test_engine_matches_oracle(seed, tmp_path):
    check_seeds([seed], 100, tmp_path)


@pytest.mark.slow
def test_engine_matches_oracle_many(tmp_path):
    check_seeds(range(1000, 1500), 50, tmp_path)


def test_harness_catches_an_injected_oracle_bug(tmp_path, monkeypatch):
    """A differential test is only worth something if a wrong oracle makes it fail."""
    monkeypatch.setattr(oracle, "_escalated", lambda seq, n: sum(seq[k % len(seq)] for k in range(n)))
    assert any(run_seed(seed, 100, tmp_path) for seed in FAST_SEEDS)


def test_parallel_scoring_matches_serial(tmp_path):
    """The process pool must give exactly the serial results (the oracle is checked against serial)."""
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(gen_policy(7), allow_unicode=True, sort_keys=False), encoding="utf-8")
    policy = load_policy_file(path)
    rng = random.Random(7)
    interesting, hours = _interesting(policy.doc), _hours_interesting(policy.doc)
    workers = [gen_worker(rng, policy.doc, k, interesting, hours, seed_month(7)) for k in range(200)]
    cases = [engine_case(policy, w, seed_month(7)) for w in workers]
    wages = [w["wage"] for w in workers]
    ids = {r.id for it in policy.doc.items for r in it.rules}
    serial = [engine_view(r, ids) for r in score_cases(policy, cases, wages, processes=1)]
    parallel = [engine_view(r, ids) for r in score_cases(policy, cases, wages, processes=2)]
    assert serial == parallel


def _one_rule_policy(tmp_path: Path, rule: dict):
    doc = {"id": "probe", "name": "探针", "metrics": {},
           "items": [{"id": "it", "label": "项", "points": "100", "rules": [rule]}],
           "pay": {"performance_share": "20%", "bands": [{"id": "all", "label": "全", "range": "[0, 100]", "ratio": "1"}]}}
    path = tmp_path / "probe.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return load_policy_file(path)


def test_never_reported_event_only_matches_unbounded_delay(tmp_path):
    # Found by this suite: a never-reported event was once stored as 1e9 hours and matched bounded intervals.
    policy = _one_rule_policy(tmp_path, {"id": "late", "label": "迟报",
                                         "event": {"delay_hours": "[48, 2000000000]", "points": "1"}})
    ev = EventCase("E1", "治安", "一般", None, None, True)
    res = score_cases(policy, [WorkerCase("W1", {}, {}, [ev])], [D(3000)], processes=1)[0]
    expected = oracle.score(policy, {}, {}, [oracle.OEvent("E1", "治安", "一般", None, None, True)], D(3000))
    assert expected.score == 100
    assert res.score == expected.score


def test_example_findings_use_the_rule_total_after_its_cap(tmp_path):
    # Found by this suite: worked examples once compared a rule's points before its own cap.
    from engine.scoring import run_examples

    doc = {"id": "probe", "name": "探针", "metrics": {"x": {"label": "次数", "type": "integer", "max": "20"}},
           "items": [{"id": "it", "label": "项", "points": "100", "rules": [
               {"id": "r", "label": "按次扣分", "cap": "2", "per_count": {"metric": "x", "points": "1"}}]}],
           "pay": {"performance_share": "20%", "bands": [{"id": "all", "label": "全", "range": "[0, 100]", "ratio": "1"}]},
           "examples": [{"name": "规则封顶", "worker": {"wage": 3000}, "metrics": {"x": 5},
                         "expect": {"score": 98, "findings": {"r": -2}}}]}
    path = tmp_path / "probe.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    policy = load_policy_file(path)
    expected = oracle.score(policy, {}, {"x": D(5)}, [], D(3000))
    assert expected.score == 98 and expected.rules == {"r": D(-2)}
    assert run_examples(policy) == []


def test_generated_policies_exercise_every_feature(tmp_path):
    """Guard against a generator that silently stops producing some rule form or boundary."""
    seen = set()
    for seed in FAST_SEEDS:
        raw = gen_policy(seed)
        text = yaml.safe_dump(raw, allow_unicode=True)
        rules = [r for it in raw["items"] for r in it["rules"]] + raw.get("bonus", {}).get("rules", [])
        for it in raw["items"]:
            if it.get("mode") == "earn":
                seen.add("earn")
        if raw.get("records"):
            seen.add("records_series")
        if raw["events"].get("stages"):
            seen.add("stages")
        for m in raw["metrics"].values():
            if "from_records" in m:
                seen.add("from_records." + m["from_records"]["stat"])
        filters = [m["count_events"] for m in raw["metrics"].values() if "count_events" in m]
        filters += [r["event"] for r in rules if "event" in r]
        for f in filters:
            for key in ("month_by", "interval", "overdue", "repeat_months", "unclosed"):
                if key in f:
                    seen.add("event." + key)
        for r in rules:
            for form in ("per_count", "shortfall", "tiers", "event", "composite", "records"):
                if form in r:
                    seen.add(form)
                    if "escalate" in r[form]:
                        seen.add(form + ".escalate")
            if r.get("effect") == "deduct":
                seen.add("effect.deduct")
            if "composite" in r:
                for t in r["composite"]["terms"]:
                    seen.add("composite." + ("ratio" if "ratio" in t else "metric"))
                    if t.get("complement"):
                        seen.add("composite.complement")
            if "records" in r:
                rr = r["records"]
                seen.add("records." + rr["every"])
                seen.update(k for k in ("slots", "per", "period_cap") if k in rr)
            if "cap" in r:
                seen.add("cap")
            sf = r.get("shortfall")
            if sf:
                seen.add("partial." + sf.get("partial", "up"))
                if isinstance(sf["quota"], dict):
                    seen.add("quota_by" + (".default" if "default" in sf["quota"] else ".nodefault"))
        # day rules counting working days and all days on one series: the facts carry working-day flags
        day_rules: dict[str, set] = {}
        for r in rules:
            if r.get("records", {}).get("every") == "day":
                day_rules.setdefault(r["records"]["series"], set()).add(r["records"].get("days", "all"))
        if any(len(days) > 1 for days in day_rules.values()):
            seen.add("records.mixed_days")
        for v in raw.get("vetoes", []):
            seen.add("veto." + ("range" if "range" in v else "plain"))
        if "[" in text and "(" in text:
            seen.add("mixed_brackets")
        if "【" in text or "（" in text:
            seen.add("fullwidth")
    expected = {"per_count", "shortfall", "tiers", "event", "per_count.escalate", "event.escalate", "cap",
                "partial.up", "partial.down", "partial.exact", "quota_by.default", "quota_by.nodefault",
                "veto.range", "veto.plain", "mixed_brackets", "fullwidth",
                # the forms of issue 16
                "earn", "effect.deduct", "composite", "composite.ratio", "composite.metric", "composite.complement",
                "records", "records.day", "records.week", "records.mixed_days", "slots", "per", "period_cap", "records_series", "stages",
                "from_records.total", "from_records.per_day", "from_records.per_week", "from_records.days_with",
                "event.month_by", "event.interval", "event.overdue", "event.repeat_months", "event.unclosed"}
    assert expected <= seen, expected - seen


def test_boundaries_are_hit(tmp_path):
    """Scores must land exactly on band/star boundaries often, or the interval ends are untested."""
    hits = 0
    for seed in range(1, 11):
        path = tmp_path / f"p{seed}.yaml"
        path.write_text(yaml.safe_dump(gen_policy(seed), allow_unicode=True), encoding="utf-8")
        policy = load_policy_file(path)
        doc = policy.doc
        ends = {b for x in doc.pay.bands + (doc.stars or []) for b in (x.range.lo, x.range.hi) if b is not None}
        rng = random.Random(seed)
        interesting, hours = _interesting(doc), _hours_interesting(doc)
        for k in range(100):
            w = gen_worker(rng, doc, k, interesting, hours, seed_month(seed))
            o = oracle.score(policy, w["attributes"], w["metrics"], w["events"], w["wage"], seed_month(seed), w["records"])
            hits += o.score in ends
    assert hits >= 20, hits


if __name__ == "__main__":   # replay one seed: python tests/test_differential.py SEED [N]
    import tempfile

    seed = int(sys.argv[1])
    with tempfile.TemporaryDirectory() as d:
        t0 = time.time()
        probs = run_seed(seed, int(sys.argv[2]) if len(sys.argv) > 2 else 100, Path(d))
        print("\n\n".join(probs) or f"seed {seed}: no mismatch ({time.time() - t0:.1f}s)")
