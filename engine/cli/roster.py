"""`wangge roster`: solve, re-plan, check or import a roster (engine/app/rosters.py), and say how it went."""
from __future__ import annotations

import dataclasses
from contextlib import contextmanager
from pathlib import Path

import click

from ..errors import DataError, Problem
from .common import console, run_guarded


def register(group: click.Group) -> None:
    group.add_command(roster)


# The app layer names an argument in words; here it is an option.
def _flags() -> dict[str, str]:
    from ..app import rosters as app
    return {app.TIME_LIMIT_ARG: "--time-limit", app.JOBS_ARG: "--jobs", app.FROM_ARG: "--from",
            app.EDITED_ARG: "--import", app.MONTH_ARG: "--month", app.PREVIOUS_ARG: "--previous"}


def _cli_problems(exc: DataError) -> DataError:
    from ..app.rosters import ARGUMENT
    flags = _flags()
    out = []
    for p in exc.problems:
        if p.file == ARGUMENT:
            p = dataclasses.replace(p, file="命令行", field=flags.get(p.field, p.field))
        out.append(p)
    return DataError(out)


@click.command("roster")
@click.option("--problem", "problem_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="排班问题目录（problem.yaml、staff.csv 等）")
@click.option("--month", help="月份 YYYY-MM（默认取 problem.yaml 中的 month 或 period）")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="输出目录（--check 时不需要）")
@click.option("--time-limit", type=float, help="求解总时限（秒），默认取 problem.yaml 的 time_limit，否则 20 秒")
@click.option("--relax", is_flag=True, help="无可行排班时，给出只违反可放宽规则的最好排班，并列出违反之处；"
                                           "与 --import 同用时，接受只违反可放宽规则的手工排班")
@click.option("--replan", "published", type=click.Path(path_type=Path),
              help="已发布排班（上次输出目录或其中的 roster.json）：只改动尽量少的未来安排")
@click.option("--from", "from_date", help="与 --replan 同用：从这一天（YYYY-MM-DD）起允许改动，之前的保持不变")
@click.option("--previous", type=click.Path(path_type=Path),
              help="上期已发布的排班（输出目录或 roster.json）：连续上班、休息等规则跨期衔接")
@click.option("--import", "edited", type=click.Path(path_type=Path),
              help="手工调整后的排班（排班.xlsx，或其 CSV 表所在目录；按人员按班次的值班表也可以是单个 CSV 文件）：校验全部硬性规则后作为本期排班发布")
@click.option("--check", "check_only", is_flag=True, help="与 --import 同用：只校验手工排班、列出问题，不写出文件")
@click.option("--no-decompose", is_flag=True, help="不按镇分解，整体求解")
@click.option("--jobs", type=int, default=2, show_default=True, help="同时求解的镇数")
@click.option("--deterministic", is_flag=True, help="确定性搜索：单线程、按搜索冲突次数而不按时钟停止，同一输入每次得到同一排班（比默认慢、罚分较高；用时可能超过 --time-limit）")
@click.option("--office", type=click.Path(dir_okay=False, path_type=Path),
              help="发文设置文件（编制单位名称等），打印值班表用；默认取问题目录中的 office.yaml，没有则用示例设置")
@click.option("--verbose", is_flag=True, help="同时显示求解的技术数据（目标值、下界、差距、首个可行排班用时）")
@run_guarded
def roster(problem_dir, month, out_dir, time_limit, relax, published, from_date, previous, edited, check_only,
           no_decompose, jobs, deterministic, office, verbose):
    """按值班规则自动排出排班（巡查排班，或值班室等按人按班次排班），校验全部硬性规则，并写出排班表。

    \b
    示例：
      wangge roster --problem rosters/demo-town --month 2026-10 --out out/roster
      wangge roster --problem rosters/demo-town --month 2026-10 --out out/replan \\
          --replan out/roster --from 2026-10-10
      wangge roster --problem rosters/demo-town --import out/roster/排班.xlsx --check
      wangge roster --problem rosters/demo-town --import out/roster/排班.xlsx --out out/published
      wangge roster --problem rosters/demo-dutyroom --out out/dutyroom
    """
    from ..app import rosters as app

    bad = []
    if (published is None) != (from_date is None):
        bad.append(Problem("命令行", None, "--replan/--from", str(published or from_date), "--replan 与 --from 同时给出"))
    if check_only and edited is None:
        bad.append(Problem("命令行", None, "--check", True, "与 --import 同用（校验哪一份手工排班）"))
    if edited is not None and published is not None:
        bad.append(Problem("命令行", None, "--import/--replan", str(edited), "--import 与 --replan 只用一个"))
    if out_dir is None and not check_only:
        bad.append(Problem("命令行", None, "--out", None, "输出目录"))
    try:
        if edited is None:
            app.check_arguments(time_limit=time_limit, jobs=jobs)
    except DataError as exc:
        bad += _cli_problems(exc).problems
    if bad:
        raise DataError(bad)
    try:
        prob = app.load(problem_dir, month=month, decompose=False if no_decompose else None, previous=previous)
        _say_problem(prob)
        settings = None
        if prob.kind == "shifts" and not check_only:     # the printed 值班表: its settings read before solving
            settings, path, example = app.print_settings(problem_dir, office)
            if example:
                console.print(f"值班表的编制单位等取自示例发文设置（{path}）；请用 --office 指定本单位的发文设置，"
                              "或在问题目录中放 office.yaml", markup=False)
        if edited is not None:
            result = app.check_edited(prob, edited, relax=relax)
            if check_only:
                _say_check(result, edited)
                return
            if result.problems:
                raise DataError(result.problems)
            run = result.run
            console.print(f"手工调整的排班（{edited}）符合全部硬性规则"
                          + ("（可放宽的规则按 --relax 放宽）" if run.relaxed else "") + "，作为本期排班发布", markup=False)
        else:
            with _progress(verbose) as show:
                kw = dict(time_limit=time_limit, relax=relax, jobs=jobs, deterministic=deterministic, progress=show)
                run = app.replan_roster(prob, published, from_date, **kw) if published is not None \
                    else app.solve_roster(prob, **kw)
        names = app.publish(run, out_dir, settings=settings)
    except DataError as exc:
        raise _cli_problems(exc) from None
    _say_run(run, verbose)
    console.print(f"已写出 {len(names)} 个文件到 {out_dir}：" + "、".join(names), markup=False)
    for note in run.print_notes:
        console.print(note, markup=False)
    if run.failed:
        raise SystemExit(1)


_CAL_SOURCE = {"chinese-calendar": "chinese-calendar", "office": "本单位提供",
               "chinese-calendar+office": "chinese-calendar，部分日期按本单位提供"}


def _say_problem(prob) -> None:
    if prob.kind == "shifts":
        what = f"{prob.unit}，{len(prob.people)} 人、{len(prob.person_shifts)} 个班次"
    else:
        what = (f"{len(prob.towns)} 个镇街、{len(prob.grids)} 个网格、{len(prob.people)} 人、{len(prob.teams)} 个班组"
                + (f"，网格员取自名册 {prob.register}" if prob.register else ""))
    prev = f"，接续上期排班 {prob.history.source}" if prob.history else ""
    console.print(f"排班：{prob.name}，{prob.cal.title()}，{what}（节假日数据：{_CAL_SOURCE[prob.cal.source]}）{prev}",
                  markup=False)


@contextmanager
def _progress(verbose: bool):
    """A live progress display on a terminal (what is being done, the best roster's penalty so far,
    the time used against the time limit); nothing when the output goes to a file or a pipe."""
    if not console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    # Redrawn at each event, not by a thread of rich's own: with no other thread the solver's lanes
    # are forks of this process (engine/roster/solve.py), which start at once; beside a thread they
    # come from a fork server, whose start took 2 s under load.
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console,
                  transient=True, auto_refresh=False) as bar:
        task = bar.add_task("正在读取排班数据", total=1.0)
        bar.refresh()

        def show(event) -> None:
            text = event.message
            if event.best is not None:
                text += f"（全部合计罚分 {event.best:g}）"
            bar.update(task, description=text, completed=min(1.0, event.elapsed / max(event.time_limit, 0.1)))
            bar.refresh()

        yield show


STATUS = {"OPTIMAL": "已排出，已证明是罚分最低的排班", "FEASIBLE": "已排出", "IMPORTED": "手工调整",
          "UNPRICED": "手工调整（有规则与模型不符，未计罚分）"}


def _num(v) -> str:
    return "未知" if v is None else f"{v:g}"


def _say_run(run, verbose: bool) -> None:
    from ..roster.rules import CATALOG
    from ..roster.solve import FULL_SEARCH_FROM
    ro = run.roster
    for part in ro.parts:
        line = f"  {part.town}：{STATUS.get(part.status, part.status)}"
        if part.objective is not None:
            line += f"，罚分 {_num(part.objective)}"
        if ro.source != "imported":
            line += f"，用时 {part.wall:.1f} 秒"
        if verbose:
            gap = f"{part.gap:.1%}" if part.gap is not None else "-"
            first = f"{part.first_solution:.1f} 秒" if part.first_solution is not None else "-"
            line += f"（目标值 {_num(part.objective)}，下界 {_num(part.bound)}，差距 {gap}，首个可行排班 {first}）"
        console.print(line, markup=False)
    if ro.first_valid_seconds is not None:
        console.print(f"{ro.first_valid_seconds:.1f} 秒时全部{'镇街' if run.problem.kind == 'patrol' else ''}都已有"
                      "满足全部硬性规则的排班，其余时间用于降低罚分", markup=False)
    if ro.objective is not None:
        console.print(f"罚分合计 {_num(ro.objective)}（罚分越低，排班越合乎各项要求），按规则：", markup=False)
        for rule, cost in sorted(ro.breakdown().items(), key=lambda kv: -kv[1]):
            console.print(f"  {CATALOG[rule].label}：{cost}" + (f"（{rule}）" if verbose else ""), markup=False)
    if verbose and ro.source != "imported":
        console.print(f"目标值合计 {_num(ro.objective)}，下界 {_num(ro.bound)}", markup=False)
        if ro.bound is None and ro.objective is not None:
            console.print(f"（下界未知：镇街分到的求解时间不足 {FULL_SEARCH_FROM:g} 秒时只做邻域搜索改进排班，不计算下界，"
                          f"完整搜索也可能在时限内得不到下界；加大 --time-limit 可得下界和差距）", markup=False)
    _say_checks(run)
    if run.broken:
        console.print(f"已放宽规则，共违反 {len(run.broken)} 处：", markup=False)
        for r, t in run.broken[:20]:
            console.print(f"  「{CATALOG[r].label}」{t}", markup=False)
    if run.changes is not None:
        console.print(f"相对已发布排班，{run.problem.cal.label(run.from_day)} 起共改动 {run.change_count} 项（见 变更.csv）",
                      markup=False)
        for row in run.changes[1:11]:
            console.print(f"  {row[0]} {row[1]} {row[2]}：{row[3]} → {row[4]}", markup=False)


def _say_checks(run) -> None:
    checks, bad, loose = run.checks, run.failed, run.relaxed
    if not bad and not loose:
        console.print(f"规则校验：{len(checks)} 条硬性规则全部通过", markup=False)
    elif not bad:
        console.print(f"规则校验：{len(checks) - len(loose)} 条硬性规则通过，{len(loose)} 条按 --relax 放宽", markup=False)
    else:
        console.print(f"规则校验：{len(bad)} 条硬性规则未通过", markup=False)
    for c in bad + loose:
        tag = "（已放宽）" if c in loose else ""
        console.print(f"  {c.label}（{c.rule}）{tag}：{len(c.violations)} 处，例如 {c.violations[0]}", markup=False)


def _say_check(result, edited) -> None:
    if result.ok:
        run = result.run
        console.print(f"手工调整的排班（{edited}）符合全部硬性规则"
                      + (f"（{len(run.relaxed)} 条可放宽的规则按 --relax 放宽）" if run.relaxed else "")
                      + "；加 --out 可作为本期排班发布", markup=False)
        return
    raise DataError(result.problems)
