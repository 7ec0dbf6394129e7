"""Deterministic demo data: a town like 鹤山镇 (7 communities, 68 grids) or a county like 利津县.

The metrics are generated from the policy itself (each metric's type, range and the rules
that read it), so any preset gets plausible data: most workers meet most quotas, a few fall
short, complaints and vetoes are rare.  Same seed, same files, byte for byte.
"""
from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from .kinds import KINDS
from .kinds.event import problem_keys_used, stage_names
from .kinds.records import date_span, is_working
from .policy import Policy, QuotaBy

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = ("伟 芳 娜 秀英 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀兰 霞 平 刚 桂英 华 玉兰 萍 鹏 辉 建华 建国 "
         "红梅 海燕 志强 文静 晓东 春梅 国强 宏伟 俊杰 子涵 浩然 雪梅 凤英 德胜 金凤 立新 淑珍 永明 桂芳 玉梅").split()

TOWN = {
    "name": "鹤山镇",
    "communities": [("鹤鸣社区", "社区", 12), ("山前社区", "社区", 11), ("东关村", "村", 9), ("西河村", "村", 9),
                    ("南岭村", "村", 9), ("北坡村", "村", 9), ("新民社区", "社区", 9)],
}
COUNTY_TOWNS = ["城关街道", "凤凰街道", "北宋镇", "陈庄镇", "汀罗镇", "盐窝镇", "明集乡", "虎滩镇", "利河镇", "刁口乡"]
CATEGORIES = [("矛盾纠纷", 30), ("安全隐患", 30), ("治安", 10), ("环境卫生", 20), ("民生服务", 10)]
SEVERITIES = [("一般", 70), ("较大", 20), ("重大", 7), ("紧急", 3)]


@dataclass
class DemoWorker:
    worker_id: str
    name: str
    town: str
    community: str
    grid: str
    role: str
    employment: str
    wage: int
    worker_type: str
    phone: str


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def make_workers(size: str = "town", seed: int = 7) -> list[DemoWorker]:
    rng = random.Random(seed)
    out: list[DemoWorker] = []
    if size == "town":
        towns = [(TOWN["name"], TOWN["communities"])]
    else:
        towns = []
        for t, tname in enumerate(COUNTY_TOWNS):
            comms = []
            ncomm = rng.randint(6, 9)
            for c in range(ncomm):
                kind = "社区" if (t < 2 or c < 2) else "村"
                comms.append((f"{tname[:2]}{'一二三四五六七八九十'[c]}{'社区' if kind == '社区' else '村'}", kind,
                              rng.randint(8, 11) if kind == "社区" else rng.randint(7, 10)))
            towns.append((tname, comms))
    seq = 0
    for ti, (town, comms) in enumerate(towns):
        for ci, (comm, kind, ngrids) in enumerate(comms):
            for g in range(ngrids):
                seq += 1
                full = rng.random() < 0.85
                out.append(DemoWorker(
                    worker_id=f"W{seq:04d}", name=_name(rng), town=town, community=comm,
                    grid=f"{ti + 1}-{ci + 1}-{g + 1:02d}", role="网格员",
                    employment="专职" if full else "兼职",
                    wage=(rng.randrange(2400, 3650, 50) if full else rng.randrange(1200, 1850, 50)),
                    worker_type=kind, phone=f"1{rng.choice('3578')}{rng.randrange(10**8, 10**9)}"))
    return out


def _metric_roles(policy: Policy) -> dict[str, tuple[str, object]]:
    """How each metric is used, as its rule form says (engine/kinds: demo_role): ('shortfall', quota),
    ('count', None), ('tiers', tiers), ('rate', None), ('bonus', None), ('veto', None)."""
    roles: dict[str, tuple[str, object]] = {}
    doc = policy.doc
    for it in doc.items:
        for r in it.rules:
            role = KINDS[r.kind].demo_role(r.spec)
            if role is None or role[0] == "records":
                continue
            for mid in KINDS[r.kind].metrics(r.spec):
                if role[0] == "shortfall":
                    roles[mid] = role
                else:
                    roles.setdefault(mid, role)
    if doc.bonus:
        for r in doc.bonus.rules:
            if r.kind == "per_count":
                roles[r.spec.metric] = ("bonus", None)
    for v in doc.vetoes:
        roles[v.metric] = ("veto", None)
    return roles


def _metric_value(rng: random.Random, policy: Policy, mid: str, role, worker: DemoWorker, skill: float):
    m = policy.doc.metrics[mid]
    kind, extra = role if role else ("free", None)
    if m.type == "bool":
        return "是" if rng.random() < 0.004 else "否"
    if m.type == "percent":
        low = kind == "rate" and any(t.metric == mid and t.complement for t in extra.terms)   # 漏报率: the less the better
        if rng.random() < 0.35 + 0.5 * skill:
            return "0" if low else "100"
        lo = float(m.min) if m.min is not None else 0.0
        v = 100 - abs(rng.gauss(0, 2.5 + 6 * (1 - skill)))
        return f"{max(lo, min(100.0, 100 - v if low else v)):.1f}"
    if kind == "shortfall":
        quota = extra
        if isinstance(quota, QuotaBy):
            quota = quota.values.get(worker.worker_type, quota.default or next(iter(quota.values.values())))
        q = float(quota)
        if rng.random() < 0.25 * (1.3 - skill):
            v = q - rng.choice([0.5, 1, 1, 2, 3]) if m.type != "integer" else q - rng.choice([1, 1, 2, 3])
        else:
            v = q + rng.choice([0, 0, 1, 2]) * (0.5 if m.type != "integer" else 1)
        v = max(float(m.min or 0), v)
        if m.max is not None:
            v = min(float(m.max), v)
        return str(int(v)) if m.type == "integer" else f"{v:.1f}"
    if kind in ("count", "bonus"):
        lam = (0.35 * (1.4 - skill)) if kind == "count" else 0.12
        k = 0
        while rng.random() < lam / (k + 1):
            k += 1
        if m.max is not None:
            k = min(k, int(m.max))
        return str(k)
    # a metric no rule reads: something inside its range
    lo = float(m.min or 0)
    hi = float(m.max) if m.max is not None else lo + 10
    v = rng.uniform(lo, hi)
    return str(int(v)) if m.type == "integer" else f"{v:.1f}"


def month_list(first: str, count: int) -> list[str]:
    y, m = map(int, first.split("-"))
    out = []
    for _ in range(count):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y, m + 1) if m < 12 else (y + 1, 1)
    return out


def generate(policy: Policy, out_dir: str | Path, size: str = "town", months: list[str] | None = None,
             seed: int = 7) -> dict[str, Path]:
    """Write workers.csv, metrics.csv (with a 月份 column) and events.csv; returns their paths."""
    months = months or ["2026-10"]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    workers = make_workers(size, seed)
    rng = random.Random(seed * 7919 + 1)
    skills = {w.worker_id: min(1.0, max(0.0, rng.gauss(0.78, 0.15))) for w in workers}
    # every office has a few who struggle month after month: they make the period rules bite
    for w in rng.sample(workers, max(1, len(workers) // 30)):
        skills[w.worker_id] = rng.uniform(0.0, 0.1)
    doc = policy.doc
    stored = [mid for mid, m in doc.metrics.items() if not m.computed]
    roles = _metric_roles(policy)

    wbuf = io.StringIO()
    wr = csv.writer(wbuf, lineterminator="\n")
    attr_cols = [a.label for a in doc.attributes.values()]
    wr.writerow(["工号", "姓名", "乡镇", "社区", "网格", "岗位", "用工性质", "月工资", "电话"] + attr_cols)
    for w in workers:
        attrs = [w.worker_type if name == "worker_type" else (a.default or (a.values or [""])[0])
                 for name, a in doc.attributes.items()]
        wr.writerow([w.worker_id, w.name, w.town, w.community, w.grid, w.role, w.employment, w.wage, w.phone] + attrs)

    mbuf = io.StringIO()
    mw = csv.writer(mbuf, lineterminator="\n")
    mw.writerow(["月份", "工号", "姓名"] + [doc.metrics[mid].label for mid in stored])
    ebuf = io.StringIO()
    ew = csv.writer(ebuf, lineterminator="\n")
    stages = {sid: name for sid, name in stage_names(doc).items() if sid not in ("discovered", "reported", "closed")}
    problems = problem_keys_used(doc)
    ew.writerow(["事件编号", "工号", "类别", "等级", "发现时间", "上报时间", "办结时间"]
                + [f"{name}时间" for name in stages.values()] + (["问题编号"] if problems else []))
    cats = _vocab(doc.events.categories if doc.events and doc.events.categories else None, CATEGORIES)
    sevs = _vocab(doc.events.severities if doc.events and doc.events.severities else None, SEVERITIES)
    eseq = 0
    for month in months:
        y, mo = map(int, month.split("-"))
        start = datetime(y, mo, 1)
        days = ((datetime(y + (mo == 12), mo % 12 + 1, 1)) - start).days
        for w in workers:
            skill = skills[w.worker_id]
            mw.writerow([month, w.worker_id, w.name] +
                        [_metric_value(rng, policy, mid, roles.get(mid), w, skill) for mid in stored])
            nev = rng.choice([1, 2, 3, 4, 4, 5, 5, 6, 7])
            for _ in range(nev):
                eseq += 1
                disc = start + timedelta(minutes=rng.randrange(0, days * 24 * 60 - 48 * 60))
                cat = _pick(rng, cats)
                sev = _pick(rng, sevs)
                r = rng.random()
                if r < 0.85:
                    delay = rng.randrange(5, 150)
                elif r < 0.97 - 0.05 * (1 - skill):
                    delay = rng.randrange(150, 60 * 6)
                elif r < 0.995:
                    delay = rng.randrange(60 * 6, 60 * 30)
                else:
                    delay = None
                rep = disc + timedelta(minutes=delay) if delay is not None else None
                clo = rep + timedelta(hours=rng.randrange(1, 72)) if rep is not None and rng.random() < 0.93 else None
                # named stages (受理, 核实…) between report and closing, mostly within a day
                marks = []
                for _ in stages:
                    t = None
                    if rep is not None and rng.random() < 0.95:
                        t = rep + timedelta(minutes=rng.randrange(10, 60 * (20 if rng.random() < 0.9 else 70)))
                        if clo is not None and t > clo:
                            t = clo
                    marks.append(f"{t:%Y-%m-%d %H:%M}" if t else "")
                # a few recurring problems (垃圾乱堆, 占道经营…) make "the same problem again" bite
                key = [rng.choice(PROBLEMS) if rng.random() < 0.15 * (1.3 - skill) else ""] if problems else []
                ew.writerow([f"E{month.replace('-', '')}{eseq:06d}", w.worker_id, cat, sev, f"{disc:%Y-%m-%d %H:%M}",
                             f"{rep:%Y-%m-%d %H:%M}" if rep else "", f"{clo:%Y-%m-%d %H:%M}" if clo else ""]
                            + marks + key)
    paths = {"workers": out / "workers.csv", "metrics": out / "metrics.csv", "events": out / "events.csv"}
    bufs = [("workers", wbuf), ("metrics", mbuf), ("events", ebuf)]
    if doc.records:
        paths["records"] = out / "records.csv"
        bufs.append(("records", _records(policy, workers, skills, months, rng)))
    for key, buf in bufs:
        paths[key].write_text(buf.getvalue(), encoding="utf-8")
    return paths


PROBLEMS = ["垃圾乱堆", "占道经营", "私搭乱建", "消防通道堵塞"]


def _records(policy: Policy, workers: list[DemoWorker], skills: dict, months: list[str],
             rng: random.Random) -> io.StringIO:
    """records.csv: patrol sessions (mornings and afternoons of working days), diaries and amounts,
    over the months and the days their weeks reach into."""
    doc = policy.doc
    buf = io.StringIO()
    rw = csv.writer(buf, lineterminator="\n")
    rw.writerow(["工号", "类型", "日期", "开始时间", "结束时间", "数量"])
    timed = sorted({t for s in doc.records.values() if s.measure in ("minutes", "hours") for t in s.types})
    counted = sorted({t for s in doc.records.values() if s.measure == "count" for t in s.types} - set(timed))
    amounts = sorted({t for s in doc.records.values() if s.measure == "amount" for t in s.types} - set(timed))
    first = min(date_span(doc, m)[0] for m in months)
    last = max(date_span(doc, m)[1] for m in months)
    day = first
    while day <= last:
        try:
            working = is_working(day, doc.calendar)
        except Exception:   # a year the calendar does not know: an ordinary week
            working = day.weekday() < 5
        for w in workers:
            skill = skills[w.worker_id]
            for t in timed:
                if not working and rng.random() < 0.8:
                    continue
                for start_h, base in ((8, 70), (14, 80)):
                    if rng.random() < 0.04 * (1.5 - skill):
                        continue   # a missed half-day
                    length = max(5, int(rng.gauss(base - 25 * (1 - skill), 12)))
                    start = datetime.combine(day, datetime.min.time()) + timedelta(hours=start_h,
                                                                                  minutes=rng.randrange(0, 60))
                    rw.writerow([w.worker_id, t, f"{day:%Y-%m-%d}", f"{start:%H:%M}",
                                 f"{start + timedelta(minutes=length):%H:%M}", ""])
            for t in counted:
                for _ in range(rng.choice([0, 1, 1, 1, 2] if working else [0, 0, 1])):
                    rw.writerow([w.worker_id, t, f"{day:%Y-%m-%d}", "", "", ""])
            for t in amounts:
                if working and rng.random() < 0.6:
                    rw.writerow([w.worker_id, t, f"{day:%Y-%m-%d}", "", "", rng.randrange(1, 6)])
        day += timedelta(days=1)
    return buf


def _vocab(declared, weighted):
    if not declared:
        return weighted
    weights = dict(weighted)
    return [(v, weights.get(v, 10)) for v in declared]


def _pick(rng: random.Random, weighted):
    total = sum(w for _, w in weighted)
    x = rng.uniform(0, total)
    for v, w in weighted:
        x -= w
        if x <= 0:
            return v
    return weighted[-1][0]
