"""`wangge roster`: solve, check and write a month's patrol roster, or re-plan a published one."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from ..errors import DataError, Problem
from ..outputs import staged_outputs
from .common import console, run_guarded


def register(group: click.Group) -> None:
    group.add_command(roster)


@click.command("roster")
@click.option("--problem", "problem_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="排班问题目录（problem.yaml、staff.csv、grids.csv 等）")
@click.option("--month", help="月份 YYYY-MM（默认取 problem.yaml 中的 month）")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="输出目录")
@click.option("--time-limit", type=float, help="求解总时限（秒），默认取 problem.yaml 的 time_limit，否则 20 秒")
@click.option("--relax", is_flag=True, help="无可行排班时，给出只违反可放宽规则的最好排班，并列出违反之处")
@click.option("--replan", "published", type=click.Path(path_type=Path),
              help="已发布排班（上次输出目录或其中的 roster.json）：只改动尽量少的未来安排")
@click.option("--from", "from_date", help="与 --replan 同用：从这一天（YYYY-MM-DD）起允许改动，之前的保持不变")
@click.option("--no-decompose", is_flag=True, help="不按镇分解，整体求解")
@click.option("--jobs", type=int, default=2, show_default=True, help="同时求解的镇数")
@click.option("--deterministic", is_flag=True, help="确定性搜索：单线程、按搜索冲突次数而不按时钟停止，同一输入每次得到同一排班（比默认慢、目标值较差；用时可能超过 --time-limit）")
@run_guarded
def roster(problem_dir, month, out_dir, time_limit, relax, published, from_date, no_decompose, jobs, deterministic):
    """按值班规则自动排出巡查排班，校验全部硬性规则，并写出排班表。

    \b
    示例：
      wangge roster --problem rosters/demo-town --month 2026-10 --out out/roster
      wangge roster --problem rosters/demo-town --month 2026-10 --out out/replan \\
          --replan out/roster --from 2026-10-10
    """
    from ..roster.check import check_roster
    from ..roster.model import load_problem
    from ..roster.output import relaxed_rules, write_all
    from ..roster.rules import CATALOG
    from ..roster.solve import FULL_SEARCH_FROM, solve

    bad_args = []
    if time_limit is not None and not time_limit > 0:
        bad_args.append(Problem("命令行", None, "--time-limit", time_limit, "正数（秒）"))
    if jobs < 1:
        bad_args.append(Problem("命令行", None, "--jobs", jobs, "正整数"))
    if bad_args:
        raise DataError(bad_args)
    prob = load_problem(problem_dir, month, decompose=False if no_decompose else None)
    hook_for, pub, from_day = None, None, None
    if published is not None or from_date is not None:
        from ..roster import replan as rp
        if published is None or from_date is None:
            raise DataError([Problem("命令行", None, "--replan/--from", published or from_date,
                                     "--replan 与 --from 同时给出")])
        try:
            day = dt.date.fromisoformat(from_date)
            from_day = prob.cal.dates.index(day)
        except ValueError:
            raise DataError([Problem("命令行", None, "--from", from_date, f"{prob.month} 内的日期 YYYY-MM-DD")])
        pub = rp.load_published(published, prob, from_day)
        prob = rp.clip_leave(prob, from_day)
        hook_for = rp.hook_for(pub, from_day)

    console.print(f"排班：{prob.name}，{prob.cal.year}年{prob.cal.month}月，{len(prob.towns)} 个镇街、"
                  f"{len(prob.grids)} 个网格、{len(prob.people)} 人、{len(prob.teams)} 个班组"
                  f"（节假日数据：{_CAL_SOURCE[prob.cal.source]}）", markup=False)
    ro = solve(prob, time_limit=time_limit, relax=relax, jobs=jobs, hook_for=hook_for, deterministic=deterministic)
    checks = check_roster(ro)
    extra = {}
    if pub is not None:
        from ..roster.replan import changes
        extra["变更"] = changes(prob, pub, ro, from_day)
    with staged_outputs(out_dir) as stage:
        names = write_all(ro, checks, stage, extra)

    status_cn = {"OPTIMAL": "最优", "FEASIBLE": "可行"}
    for part in ro.parts:
        gap = f"{part.gap:.1%}" if part.gap is not None else "-"
        first = f"{part.first_solution:.1f} 秒" if part.first_solution is not None else "-"
        console.print(f"  {part.town}：{status_cn.get(part.status, part.status)}，目标值 {_num(part.objective)}，"
                      f"下界 {_num(part.bound)}，差距 {gap}，首个可行排班 {first}，用时 {part.wall:.1f} 秒", markup=False)
    if ro.first_valid_seconds is not None:
        console.print(f"全部镇街都有满足硬性规则的排班用时 {ro.first_valid_seconds:.1f} 秒", markup=False)
    console.print(f"目标值合计 {_num(ro.objective)}（下界 {_num(ro.bound)}），按规则分解：", markup=False)
    for rule, cost in sorted(ro.breakdown().items(), key=lambda kv: -kv[1]):
        console.print(f"  {CATALOG[rule].label}（{rule}）：{cost}", markup=False)
    if ro.bound is None and ro.objective is not None:
        console.print(f"（下界未知：镇街分到的求解时间不足 {FULL_SEARCH_FROM:g} 秒时只做邻域搜索改进排班，不计算下界，"
                      f"完整搜索也可能在时限内得不到下界；加大 --time-limit 可得下界和差距）", markup=False)
    relaxed = relaxed_rules(ro)
    bad = [c for c in checks if not c.ok and c.rule not in relaxed]
    loose = [c for c in checks if not c.ok and c.rule in relaxed]
    if not bad and not loose:
        console.print(f"规则校验：{len(checks)} 条硬性规则全部通过", markup=False)
    elif not bad:
        console.print(f"规则校验：{len(checks) - len(loose)} 条硬性规则通过，{len(loose)} 条按 --relax 放宽", markup=False)
    else:
        console.print(f"规则校验：{len(bad)} 条硬性规则未通过", markup=False)
    for c in bad + loose:
        tag = "（已放宽）" if c in loose else ""
        console.print(f"  {c.label}（{c.rule}）{tag}：{len(c.violations)} 处，例如 {c.violations[0]}", markup=False)
    broken = [(r, t) for part in ro.parts for r, t in part.broken]
    if broken:
        console.print(f"已放宽规则，共违反 {len(broken)} 处：", markup=False)
        for r, t in broken[:20]:
            console.print(f"  「{CATALOG[r].label}」{t}", markup=False)
    if pub is not None:
        n = len(extra["变更"]) - 1
        console.print(f"相对已发布排班，{prob.cal.label(from_day)} 起共改动 {n} 项（见 变更.csv）", markup=False)
        for row in extra["变更"][1:11]:
            console.print(f"  {row[0]} {row[1]} {row[2]}：{row[3]} → {row[4]}", markup=False)
    console.print(f"已写出 {len(names)} 个文件到 {out_dir}：" + "、".join(names), markup=False)
    if bad:
        raise SystemExit(1)


_CAL_SOURCE = {"chinese-calendar": "chinese-calendar", "office": "本单位提供",
               "chinese-calendar+office": "chinese-calendar，部分日期按本单位提供"}


def _num(v) -> str:
    return "未知" if v is None else f"{v:g}"
