"""Generate the demo roster problems (deterministic, seeded); the output is committed.

    python rosters/generate.py        # rewrites rosters/demo-town, demo-town-sick, demo-county, demo-infeasible

demo-town is shaped like 鹤山镇 (7 communities, 68 grids, a 24-person squad in 4 teams);
demo-county has 10 towns and ~650 grids; demo-infeasible is a small town where grid 3-07's
worker and both AB岗 backups are on leave on 10月12日; demo-town-sick is demo-town with one more
sick leave, for `--replan`.
"""
from __future__ import annotations

import csv
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红鹏辉建兰宁宇飞鑫波斌浩凯俊文亮晨曦琳雪梅海峰东"
TOWN_NAMES = ["鹤山镇", "青石镇", "柳河镇", "东湖街道", "南关街道", "白塔镇", "清泉镇", "西岭镇", "杏林镇", "北城街道"]
COMMUNITY_WORDS = "和平 幸福 建设 友好 万达 光明 新华 解放 团结 胜利 民主 文化 兴隆 朝阳 永安".split()

PROBLEM_YAML = """\
# Roster problem: see docs/roster.md for every key and rule option.
name: {name}
month: 2026-10
decompose: true          # solve each town separately (exact: nothing crosses a town border)
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
  max_grids_per_day: {{grids: 2, rounds: 4}}
  joint_patrol: {{allowed: true}}
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
  total_days: {{max: 26}}
  backup_order: {{weight: 3}}
  fair_weekends: {{weight: 10}}
  fair_holidays: {{weight: 10}}
  fair_nights: {{weight: 10}}
  fair_backup: {{weight: 5}}
"""


class Names:
    def __init__(self, rng: random.Random):
        self.rng, self.used = rng, set()

    def __call__(self) -> str:
        while True:
            n = self.rng.choice(SURNAMES) + self.rng.choice(GIVEN) + (self.rng.choice(GIVEN) if self.rng.random() < 0.7 else "")
            if n not in self.used:
                self.used.add(n)
                return n


def build(towns: list[tuple[str, list[int], int]], rng: random.Random, *, with_dept: bool = True,
          prefix_town: bool = True) -> dict[str, list[list]]:
    """towns: (name, grids per community, squad teams). Returns rows per table."""
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


def write(folder: Path, tables: dict[str, list[list]], name: str, time_limit: int, joint: str = "true") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for stem, rows in tables.items():
        with open(folder / f"{stem}.csv", "w", encoding="utf-8", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerows(rows)
    text = PROBLEM_YAML.format(name=name, time_limit=time_limit).replace("{allowed: true}", "{allowed: %s}" % joint)
    (folder / "problem.yaml").write_text(text, encoding="utf-8")


def main() -> None:
    town = build([("鹤山镇", [10, 10, 10, 10, 10, 9, 9], 4)], random.Random(2026), prefix_town=False)
    write(HERE / "demo-town", town, "鹤山镇 2026年10月巡查排班（示例）", 20)
    # The same town after the roster was published: grid worker W203 falls sick for 10月15日–19日.
    town["leave"] = town["leave"] + [["W203", "2026-10-15", "2026-10-19", "病假"]]
    write(HERE / "demo-town-sick", town, "鹤山镇 2026年10月巡查排班（W203 病假后调整）", 20)
    rng = random.Random(2027)
    towns = []
    for i, t in enumerate(TOWN_NAMES):
        n_comm = rng.randint(5, 9)
        sizes = [rng.randint(7, 10) for _ in range(n_comm)]
        towns.append((t, sizes, 4 if i in (0, 3, 4) else 0))
    write(HERE / "demo-county", build(towns, rng), "示例县 2026年10月巡查排班（示例）", 60)
    inf = build([("小河镇", [4, 4, 8], 0)], random.Random(5), with_dept=False, prefix_town=False)
    inf["leave"] = [inf["leave"][0]]
    inf["requests"] = [inf["requests"][0]]
    # Grid 3-07: own worker W307, B岗 W308, C岗 W306 — all on leave on 10月12日.
    inf["leave"] += [["W307", "2026-10-10", "2026-10-14", "病假"], ["W308", "2026-10-12", "2026-10-12", "事假"],
                     ["W306", "2026-10-11", "2026-10-13", "年休假"]]
    # Only named AB岗 backups may cover here, so nobody else can step in.
    write(HERE / "demo-infeasible", inf, "小河镇 无可行排班示例", 20, joint="false")


if __name__ == "__main__":
    main()
