"""Generate the demo roster problems (deterministic, seeded); the output is committed.

    python rosters/generate.py        # rewrites rosters/demo-town, demo-town-sick, demo-county, demo-infeasible, demo-dutyroom

demo-town and demo-county take their grid workers, communities and grids from the scoring demo's
register (engine/demo.make_workers, seed 7 — the people `wangge demo` and `wangge demo-data` score):
each folder holds that register as workers.csv (ids, names and places only) and names it in
problem.yaml (`register: workers.csv`); the roster's own tables add AB岗, neighbours, supervisors,
managers, squads and department staff.  demo-town is 鹤山镇 (7 communities, 68 grids, a 24-person
squad in 4 teams); demo-county has 10 towns; demo-town-sick is demo-town with one more sick leave,
for `--replan`; demo-infeasible is a small town where grid 3-07's worker and both AB岗 backups are
on leave on 10月12日; demo-dutyroom is a 24-hour duty room rostered by person and shift.
"""
from __future__ import annotations

import csv
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from engine.demo import make_workers  # noqa: E402

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红鹏辉建兰宁宇飞鑫波斌浩凯俊文亮晨曦琳雪梅海峰东"
COMMUNITY_WORDS = "和平 幸福 建设 友好 万达 光明 新华 解放 团结 胜利 民主 文化 兴隆 朝阳 永安".split()

PROBLEM_YAML = """\
# Roster problem: see docs/roster.md for every key and rule option.
name: {name}
month: 2026-10
{register}decompose: true          # solve each town separately (exact: nothing crosses a town border)
time_limit: {time_limit}           # seconds in all; override with --time-limit
seed: 7
calendar:
  # Public holidays and adjusted working days come from chinese-calendar for 2026.
  key_days: [2026-10-12]
  sensitive_periods:
    - {{name: 国庆安保, start: 2026-10-01, end: 2026-10-03}}
shifts:
  duty: 班
  day: 白
  night: 夜
rules:
  grid_cover: {{per_day: 1, key_day_per_day: 2, key_grid_per_day: 2}}
{max_grids}  joint_patrol: {{allowed: {joint}}}
  supervisor_visits: {{window: 7, max_per_day: 3}}
  manager_visits: {{window: 7, max_per_day: 4}}
  rest_in_window: {{window: 7, min_off: 1}}
  max_consecutive_work: {{days: 6}}
  min_consecutive_off: {{days: 1}}
  forbidden_succession: {{pairs: [[night, day]]}}
  shift_cover:
    shifts:
      day: {{min_teams: 1, min_strength: 5}}
      night: {{min_teams: 1, min_strength: 5}}
    key_day_min_strength: 5
  fire_check: {{per_month: 1}}
{total_days}  backup_order: {{weight: 3}}
  fair_weekends: {{weight: 10}}
{office_rules}  fair_backup: {{weight: 5}}
"""
MAX_GRIDS = """\
  # On rest days the worker on duty may patrol a third grid (own grid and both neighbours).
  max_grids_per_day: {grids: 2, rounds: 4, rest_day_grids: 3, rest_day_rounds: 6}
"""
PLAIN_MAX_GRIDS = """\
  max_grids_per_day: {grids: 2, rounds: 4}
"""

# How the demo office rosters its grid workers (docs/roster.md, "Working time"): the month's official
# working days, rest-day duty in rotation with at least 2 on duty per community, every duty day given
# back as 补休 except at most 2 paid ones; holiday duty kept to what coverage needs and spread within
# one day; squads' days within 2 and nights within 1 of each other.
OFFICE_RULES = """\
  working_days: {extra_days: 2, below: 0}
  duty_cover: {per_community: 2}
  rest_day_duty: {weight: 4, holiday_weight: 8}
  fair_days: {weight: 10, max_spread: 2}
  fair_holidays: {weight: 10, max_spread: 1}
  fair_nights: {weight: 10, max_spread: 1}
"""
PLAIN_RULES = """\
  fair_holidays: {weight: 10}
  fair_nights: {weight: 10}
"""

HEADERS = {
    "staff": ["编号", "姓名", "角色", "镇街", "社区", "班组"],
    "communities": ["编号", "名称", "镇街", "网格管理者"],
    "grids": ["网格编号", "名称", "社区", "户数", "类型", "重点网格", "网格员", "AB岗", "相邻网格", "督导员"],
    "leave": ["人员", "开始", "结束", "事由"],
    "requests": ["人员", "日期", "申请", "权重"],
}


class Names:
    def __init__(self, rng: random.Random, used: set[str] = frozenset()):
        self.rng, self.used = rng, set(used)

    def __call__(self) -> str:
        while True:
            n = self.rng.choice(SURNAMES) + self.rng.choice(GIVEN) + (self.rng.choice(GIVEN) if self.rng.random() < 0.7 else "")
            if n not in self.used:
                self.used.add(n)
                return n


def _ring(ids: list[str], workers: list[str]) -> list[tuple[str, list[str], list[str]]]:
    """(grid, AB岗 backups, adjacent grids) for grids in a ring: B岗 the next grid's worker, C岗 the previous."""
    out = []
    size = len(ids)
    for gi, (gid, wid) in enumerate(zip(ids, workers)):
        nxt, prv = (gi + 1) % size, (gi - 1) % size
        adj = sorted({ids[nxt], ids[prv]} - {gid})
        backups = [workers[nxt], workers[prv]] if size > 2 else [workers[nxt]]
        out.append((gid, list(dict.fromkeys(b for b in backups if b != wid)), adj))
    return out


def _leave_and_requests(tables, town_workers: list[str], rng: random.Random, squad_member: str | None) -> None:
    # Leave: a few workers for some days, one squad member; never a grid and both backups at once.
    for w in rng.sample(town_workers, max(2, len(town_workers) // 15)):
        a = rng.randint(8, 25)
        tables["leave"].append([w, f"2026-10-{a:02d}", f"2026-10-{a + rng.randint(0, 4):02d}",
                                rng.choice(["病假", "事假", "年休假"])])
    if squad_member:
        tables["leave"].append([squad_member, "2026-10-14", "2026-10-16", "病假"])
    for w in rng.sample(town_workers, max(2, len(town_workers) // 10)):
        d = rng.randint(1, 31)
        tables["requests"].append([w, f"2026-10-{d:02d}", rng.choice(["休息", "休息", "上班"]), rng.choice([1, 2, 3])])


def from_register(size: str, squads_in: set[int], rng: random.Random) -> dict[str, list[list]]:
    """A problem whose grid workers are the scoring demo's register (make_workers(size), seed 7)."""
    workers = make_workers(size, 7)
    names = Names(rng, {w.name for w in workers})
    tables = {k: [list(v)] for k, v in HEADERS.items()}
    tables["grids"] = [["网格编号", "名称", "户数", "类型", "重点网格", "AB岗", "相邻网格", "督导员"]]
    tables["workers"] = [["工号", "姓名", "乡镇", "社区", "网格", "岗位"]]
    for w in workers:
        tables["workers"].append([w.worker_id, w.name, w.town, w.community, w.grid, w.role])
    towns = list(dict.fromkeys(w.town for w in workers))
    for ti, town in enumerate(towns):
        tp = f"{ti + 1:02d}-" if len(towns) > 1 else ""
        mine = [w for w in workers if w.town == town]
        comms = list(dict.fromkeys(w.community for w in mine))
        town_rows = []
        for ci, comm in enumerate(comms, 1):
            mgr = f"{tp}M{ci}"
            tables["staff"].append([mgr, names(), "网格管理者", town, comm, ""])
            tables["communities"].append([comm, comm, town, mgr])
            cw = [w for w in mine if w.community == comm]
            for gid, backups, adj in _ring([w.grid for w in cw], [w.worker_id for w in cw]):
                special = rng.random() < 0.05
                tables["grids"].append([gid, f"{gid}网格", rng.randint(200, 500), "专属" if special else "普通",
                                        "是" if rng.random() < 0.2 else "否", ";".join(backups), ";".join(adj), ""])
                town_rows.append(len(tables["grids"]) - 1)
        # 一员多格: one supervisor for about 7 grids of the town, in order.
        for si in range(0, len(town_rows), 7):
            sid = f"{tp}S{si // 7 + 1}"
            tables["staff"].append([sid, names(), "督导员", town, "", ""])
            for row in town_rows[si:si + 7]:
                tables["grids"][row][7] = sid
        squad = None
        if ti in squads_in:
            for q in range(4):
                for k in range(6):
                    tables["staff"].append([f"{tp}Q{q + 1}{k + 1}", names(), "巡防队员", town, "", f"{tp}T{q + 1}"])
            squad = f"{tp}Q12"
        for k in range(2):
            tables["staff"].append([f"{tp}D{k + 1}", names(), "下沉干部", town, comms[k], ""])
        _leave_and_requests(tables, [w.worker_id for w in mine], rng, squad)
    return tables


def synthetic(towns: list[tuple[str, list[int], int]], rng: random.Random, *, with_dept: bool = True,
          prefix_town: bool = True) -> dict[str, list[list]]:
    """towns: (name, grids per community, squad teams): a problem with its own staff (no register); the
    rows per table.  Kept as first written, so that demo-infeasible stays the same roster problem."""
    names = Names(rng)
    staff = [["编号", "姓名", "角色", "镇街", "社区", "班组"]]
    comms = [["编号", "名称", "镇街", "网格管理者"]]
    grids = [["网格编号", "名称", "社区", "户数", "类型", "重点网格", "网格员", "AB岗", "相邻网格", "督导员"]]
    leave = [["人员", "开始", "结束", "事由"]]
    reqs = [["人员", "日期", "申请", "权重"]]
    for ti, (town, sizes, teams) in enumerate(towns, 1):
        tp = f"{ti:02d}-" if prefix_town else ""
        town_grids = []
        for ci, size in enumerate(sizes, 1):
            cid = f"{tp}C{ci}"
            mgr = f"{tp}M{ci}"
            staff.append([mgr, names(), "网格管理者", town, cid, ""])
            comms.append([cid, COMMUNITY_WORDS[(ci - 1 + ti) % len(COMMUNITY_WORDS)] + ("社区" if ci % 3 else "村"), town, mgr])
            ids = [f"{tp}{ci}-{gi:02d}" for gi in range(1, size + 1)]
            workers = [f"{tp}W{ci}{gi:02d}" for gi in range(1, size + 1)]
            for gi, (gid, wid) in enumerate(zip(ids, workers)):
                staff.append([wid, names(), "网格员", town, cid, ""])
                nxt, prv = (gi + 1) % size, (gi - 1) % size
                adj = sorted({ids[nxt], ids[prv]} - {gid})
                backups = [workers[nxt], workers[prv]] if size > 2 else [workers[nxt]]
                backups = list(dict.fromkeys(b for b in backups if b != wid))
                special = rng.random() < 0.05
                grids.append([gid, f"{gid}网格", cid, rng.randint(200, 500), "专属" if special else "普通",
                              "是" if rng.random() < 0.2 else "否", wid, ";".join(backups), ";".join(adj), ""])
                town_grids.append(len(grids) - 1)
        # 一员多格: one supervisor for about 7 grids of the town, in order.
        per = 7
        for si in range(0, len(town_grids), per):
            sid = f"{tp}S{si // per + 1}"
            staff.append([sid, names(), "督导员", town, "", ""])
            for row in town_grids[si:si + per]:
                grids[row][9] = sid
        for q in range(teams):
            for k in range(6):
                staff.append([f"{tp}Q{q + 1}{k + 1}", names(), "巡防队员", town, "", f"{tp}T{q + 1}"])
        if with_dept:
            for k in range(2):
                staff.append([f"{tp}D{k + 1}", names(), "下沉干部", town, f"{tp}C{k + 1}", ""])
        # Leave: a few workers for some days, one squad member; never a grid and both backups at once.
        workers = [r[0] for r in staff[1:] if r[3] == town and r[2] == "网格员"]
        chosen = rng.sample(workers, max(2, len(workers) // 15))
        for w in chosen:
            a = rng.randint(8, 25)
            leave.append([w, f"2026-10-{a:02d}", f"2026-10-{a + rng.randint(0, 4):02d}", rng.choice(["病假", "事假", "年休假"])])
        if teams:
            leave.append([f"{tp}Q12", "2026-10-14", "2026-10-16", "病假"])
        for w in rng.sample(workers, max(2, len(workers) // 10)):
            d = rng.randint(1, 31)
            reqs.append([w, f"2026-10-{d:02d}", rng.choice(["休息", "休息", "上班"]), rng.choice([1, 2, 3])])
    return {"staff": staff, "communities": comms, "grids": grids, "leave": leave, "requests": reqs}


def write(folder: Path, tables: dict[str, list[list]], name: str, time_limit: int, *, joint: str = "true",
          office: bool = True) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for stem, rows in tables.items():
        with open(folder / f"{stem}.csv", "w", encoding="utf-8", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerows(rows)
    register = "register: workers.csv    # the scoring register: grid workers, communities and grids\n" \
        if "workers" in tables else ""
    text = PROBLEM_YAML.format(name=name, time_limit=time_limit, joint=joint, register=register,
                               office_rules=OFFICE_RULES if office else PLAIN_RULES,
                               max_grids=MAX_GRIDS if office else PLAIN_MAX_GRIDS,
                               total_days="" if office else "  total_days: {max: 26}\n")
    (folder / "problem.yaml").write_text(text, encoding="utf-8")


DUTYROOM_YAML = """\
# A 24-hour duty room (网格中心指挥值班室 and its 12345 hotline), rostered by person and shift:
# see docs/roster.md, "Rosters by person and shift".
kind: shifts
name: 网格中心指挥值班室 四周值班表（示例）
unit: 指挥值班室
period: {start: 2026-11-02, days: 28}     # four weeks from a Monday
time_limit: 20
seed: 7
shifts:
  early: {label: 早, hours: 8}            # 08:00–16:00
  late: {label: 中, hours: 8}             # 16:00–24:00
  night: {label: 夜, hours: 8, night: true}   # 00:00–08:00
rules:
  forbidden_succession: {pairs: [[night, early], [night, late], [late, early]]}
  max_consecutive_work: {days: 5}
  min_consecutive_work: {days: 2}
  min_consecutive_off: {days: 2}
  rest_in_window: false                   # the runs above are the duty room's rest rules
  max_working_weekends: {max: 3}
  working_time: {min_hours: 104, max_hours: 152, leave_hours: 8}
  shift_caps: {max: {night: 8}}
  shift_demand: {weight: 1}
  fair_nights: {weight: 10, max_spread: 2}
  fair_weekends: {weight: 5}
  fair_days: {weight: 2}
  requests: {weight: 1}
"""


def dutyroom(rng: random.Random) -> dict[str, list[list]]:
    names = Names(rng)
    staff = [["编号", "姓名", "角色", "可上班次", "班次上限", "最少工时", "最多工时", "最多连续工作天数", "最多上班周末"]]
    for i in range(1, 15):
        shifts, caps, low, hours, run, weekends = "", "", "", "", "", ""
        if i in (3, 9):
            shifts = "早;中"                       # no nights (health)
        if i == 5:
            caps = "夜=4"
        if i == 12:
            low, hours, run, weekends = "64", "96", "4", "2"   # part-time contract
        staff.append([f"Z{i:02d}", names(), "值班人员" if i > 2 else "值班员", shifts, caps, low, hours, run, weekends])
    demand = [["日期", "班次", "需求人数", "最少人数", "缺员权重", "超员权重"]]
    for day in ("每天",):
        demand += [[day, "早", 3, 2, 100, 1], [day, "中", 2, 1, 100, 1], [day, "夜", 2, 1, 100, 1]]
    demand += [["周六", "早", 2, 1, 100, 1], ["周日", "早", 2, 1, 100, 1]]
    # A busy day: the hotline's monthly figures are reported on 11月16日.
    demand += [["2026-11-16", "早", 4, 3, 100, 1]]
    leave = [["人员", "开始", "结束", "事由"], ["Z04", "2026-11-09", "2026-11-13", "年休假"],
             ["Z11", "2026-11-23", "2026-11-24", "事假"]]
    requests = [["人员", "日期", "班次", "申请", "权重"]]
    for _ in range(16):
        who = f"Z{rng.randint(1, 14):02d}"
        d = rng.randint(2, 29)
        shift = rng.choice(["", "早", "中", "夜"])
        want = rng.choice(["休息", "上班"]) if not shift else rng.choice(["上班", "休息"])
        if (who, d) in {(r[0], int(r[1][-2:])) for r in requests[1:]}:
            continue
        requests.append([who, f"2026-11-{d:02d}", shift, want, rng.choice([1, 2, 3])])
    return {"staff": staff, "demand": demand, "leave": leave, "requests": requests}


def main() -> None:
    town = from_register("town", {0}, random.Random(2026))
    write(HERE / "demo-town", town, "鹤山镇 2026年10月巡查排班（示例）", 20)
    # The same town after the roster was published: grid worker W0015 (grid 1-2-03) falls sick for 10月15日–19日.
    town["leave"] = town["leave"] + [["W0015", "2026-10-15", "2026-10-19", "病假"]]
    write(HERE / "demo-town-sick", town, "鹤山镇 2026年10月巡查排班（W0015 病假后调整）", 20)
    write(HERE / "demo-county", from_register("county", {0, 3, 4}, random.Random(2027)),
          "示例县 2026年10月巡查排班（示例）", 60)
    inf = synthetic([("小河镇", [4, 4, 8], 0)], random.Random(5), with_dept=False, prefix_town=False)
    inf["leave"] = [inf["leave"][0]]
    inf["requests"] = [inf["requests"][0]]
    # Grid 3-07: own worker W307, B岗 W308, C岗 W306 — all on leave on 10月12日.
    inf["leave"] += [["W307", "2026-10-10", "2026-10-14", "病假"], ["W308", "2026-10-12", "2026-10-12", "事假"],
                     ["W306", "2026-10-11", "2026-10-13", "年休假"]]
    # Only named AB岗 backups may cover here, so nobody else can step in.
    write(HERE / "demo-infeasible", inf, "小河镇 无可行排班示例", 20, joint="false", office=False)
    room = HERE / "demo-dutyroom"
    room.mkdir(exist_ok=True)
    for stem, rows in dutyroom(random.Random(11)).items():
        with open(room / f"{stem}.csv", "w", encoding="utf-8", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerows(rows)
    (room / "problem.yaml").write_text(DUTYROOM_YAML, encoding="utf-8")


if __name__ == "__main__":
    main()
