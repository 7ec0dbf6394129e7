"""Commands for monthly scoring: validate, score, schema, demo, demo-data."""
from __future__ import annotations

import json
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..outputs import write_text_atomic
from .common import console, err_console, print_notes, run_guarded

PROGRESS_MIN = 2000   # show a progress bar from this many workers on


def register(group: click.Group) -> None:
    for cmd in (validate, score, schema, demo, demo_data):
        group.add_command(cmd)


@click.command()
@click.argument("policies", nargs=-1, required=True, type=click.Path(), metavar="细则文件或文件夹...")
@run_guarded
def validate(policies: tuple[str, ...]) -> None:
    """检查考核细则文件并运行其中的示例（可一次检查多个文件或文件夹）。

    \b
    示例：
      wangge validate rules/
      wangge validate rules/chengguan.yaml rules/youhao.yaml
    """
    from ..app.policies import validate_policies

    report = validate_policies(policies)
    for c in report.passed:
        title = f"{c.name} {c.version}".strip()
        if c.abstract:
            line = f"{c.file}（{c.name}，基础细则，供继承）"
        elif c.examples:
            line = f"{c.file}（{title}）：{c.examples} 个示例全部通过"
        else:
            line = f"{c.file}（{title}）：格式正确（没有示例，建议添加 examples 以便核对）"
        console.print(f"✓ {line}", markup=False)
    report.raise_if_any()


@click.command()
@click.option("--policy", "policy_paths", multiple=True, required=True, type=click.Path(),
              help="考核细则文件或文件夹（同一细则的多个版本按生效月份自动选用）")
@click.option("--month", required=True, help="考核月份，YYYY-MM")
@click.option("--workers", required=True, type=click.Path(), help="网格员名册（CSV/XLSX）")
@click.option("--metrics", required=True, type=click.Path(), help="月度指标表（CSV/XLSX）")
@click.option("--events", type=click.Path(), default=None, help="事件台账（CSV/XLSX）")
@click.option("--no-events", is_flag=True, help="本月没有任何事件（不给事件台账时须注明）")
@click.option("--records", type=click.Path(), default=None, help="按日/按周的记录表（CSV/XLSX，细则中有 records 时需要）")
@click.option("--out", required=True, type=click.Path(), help="输出文件夹")
@click.option("--processes", type=int, default=None, help="并行进程数（默认按人数自动）")
@click.option("--top", type=int, default=None, help="排名表只显示前 N 名和后 N 名")
@run_guarded
def score(policy_paths, month, workers, metrics, events, no_events, records, out, processes, top) -> None:
    """按考核细则计算一个月的得分、星级、档次和绩效工资。

    \b
    输出 results.json（逐人逐条扣分原因）、results.csv、findings.csv，并打印排名表。
    示例：
      wangge score --policy rules/chengguan.yaml --month 2026-10 \\
        --workers demo/heshan/workers.csv --metrics demo/heshan/metrics.csv \\
        --events demo/heshan/events.csv --out out/2026-10
    """
    res = score_to_dir(policy_paths, month, workers, metrics, events, out, processes, no_events, records)
    print_ranking(res, top)
    print_notes(res.get("notes", ()))
    console.print(f"\n结果已写入 {out}/results.json、results.csv、findings.csv", markup=False)


def score_to_dir(policy_paths, month, workers, metrics, events, out, processes=None, no_events=False,
                 records=None) -> dict:
    from ..app.month import MonthFiles, score_month_files, write_score_outputs

    bar: list[Progress] = []

    def start(total: int) -> None:   # a bar only for months large enough to wait for
        if total >= PROGRESS_MIN:
            bar.append(Progress(TextColumn("评分"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                console=err_console, transient=True))
            bar[0].start()
            bar[0].add_task("score", total=total)

    try:
        res = score_month_files(policy_paths, month, MonthFiles(workers, metrics, events, no_events, records), processes=processes,
                                on_count=start, progress=lambda k: bar and bar[0].advance(bar[0].task_ids[0], k))
    finally:
        if bar:
            bar[0].stop()
    write_score_outputs(res, out)
    return res


def print_ranking(res: dict, top: int | None = None) -> None:
    """The ranking as a compact table, then every finding of every shown worker, one per line."""
    pol = res["policy"]
    workers = sorted(res["workers"], key=lambda w: (w["rank"], w["worker_id"]))
    console.print(f"{pol['name']}（{pol['version']}） {res['month']} 考核排名，共 {len(workers)} 人", markup=False)
    table = Table(pad_edge=False)
    for col, just in (("名次", "right"), ("工号", "left"), ("姓名", "left"), ("社区/村", "left"), ("得分", "right"),
                      ("星级", "left"), ("档次", "left"), ("绩效工资", "right"), ("扣分项", "right")):
        table.add_column(col, justify=just, no_wrap=True)
    shown = workers
    if top and len(workers) > 2 * top:
        shown = workers[:top] + [None] + workers[-top:]
    for w in shown:
        if w is None:
            table.add_row("…", "", f"（中间 {len(workers) - 2 * top} 人略）", "", "", "", "", "", "")
            continue
        band = (w["band"] or {}).get("label", "")
        if w["failed"]:
            band = "一票否决"
        nded = sum(1 for f in w["findings"] if f["kind"] == "deduction")
        table.add_row(str(w["rank"]), w["worker_id"], w["name"], w["community"], w["score"],
                      f"{w['stars']}星" if w["stars"] is not None else "", band, w["pay"] or "", str(nded))
    console.print(table)
    console.print("\n扣分、加分明细（规则编号 规则名称 分值：原因）", markup=False)
    for w in shown:
        if w is None or not w["findings"]:
            continue
        console.print(f"{w['rank']:>3}. {w['worker_id']} {w['name']}（{w['community']}）{w['score']} 分", markup=False)
        for f in w["findings"]:
            pts = "否决" if f["kind"] == "veto" and f["points"] == "0" else f["points"]
            console.print(f"     {pts:>4} {f['rule_id']} {f['rule_label']}：{f['reason']}", markup=False)


@click.command()
@click.option("--out", type=click.Path(), default=None, help="写入文件（默认打印）")
@run_guarded
def schema(out) -> None:
    """输出考核细则格式的 JSON Schema，供编辑器边写边检查。

    \b
    示例：
      wangge schema --out policy.schema.json
      （VS Code：在 YAML 文件第一行写 # yaml-language-server: $schema=policy.schema.json）
    """
    from ..app.policies import policy_schema

    text = json.dumps(policy_schema(), ensure_ascii=False, indent=1) + "\n"
    if out:
        write_text_atomic(out, text)
        console.print(f"已写入 {out}", markup=False)
    else:
        click.echo(text, nl=False)


from ..app.demo import DEMO_POLICY  # noqa: E402  (the default policy of demo and demo-data)


@click.command()
@click.option("--out", type=click.Path(), default="out/demo", show_default=True, help="输出文件夹")
@click.option("--month", default="2026-10", show_default=True, help="考核月份（从当年1月起逐月存入历史）")
@click.option("--policy", "policy_path", type=click.Path(), default=None, help="考核细则（默认城关镇细则）")
@click.option("--top", type=int, default=None, help="排名表只显示前 N 名和后 N 名")
@click.option("--roster/--no-roster", "with_roster", default=True, show_default=True,
              help="同时排出示例镇本月的巡查排班（约 5 秒）并打印排班表")
@click.option("--print/--no-print", "with_print", default=True, show_default=True, help="生成本月打印材料")
@run_guarded
def demo(out, month, policy_path, top, with_roster, with_print) -> None:
    """用内置示例镇（7个社区、68个网格）跑一遍：逐月考核存入历史、跨月规则、发放表、排班和打印材料。

    \b
    输出：out/demo/<月份>/（结果、发放表）、out/demo/<月份>/print/（通报、通知单等）、out/demo/roster/。
    示例：
      wangge demo
      wangge demo --out out/demo --month 2026-10 --no-roster
    """
    from ..app.demo import run_demo
    from ..app.month import month_results
    from .notices import print_pack_report

    if not (len(month) == 7 and month[4] == "-" and month[:4].isdigit() and month[5:].isdigit()
            and 1 <= int(month[5:]) <= 12):
        raise click.BadParameter(f"应为 YYYY-MM（如 2026-10），发现 {month!r}", param_hint="--month")
    root = Path(out)
    report = run_demo(out, month, policy=policy_path, with_roster=with_roster, with_print=with_print)
    months = report.months
    console.print(f"示例数据（鹤山镇，{months[0]} 至 {month}）已生成：{root / 'data'}", markup=False)
    if report.roster is not None:
        state = "全部硬性规则校验通过" if not report.roster_failed_rules else f"{report.roster_failed_rules} 条硬性规则未通过"
        console.print(f"示例镇 {month} 巡查排班已排出（{state}）：{report.roster}", markup=False)
    console.print(f"已逐月存入历史（{report.history}）：{'、'.join(months)}", markup=False)
    print_ranking(month_results(report.history, month), top)
    console.print(f"\n结果已写入 {root / month}/results.json、results.csv、findings.csv、paysheet.xlsx", markup=False)
    if report.last is not None and report.last.pack is not None:
        console.print(f"打印材料（{root / month / 'print'}）：", markup=False)
        print_pack_report(report.last.pack, str(root / month / "print"))
    from .serve import demo_web

    demo_web(report, month, out, policy_path or DEMO_POLICY)


@click.command("demo-data")
@click.option("--size", type=click.Choice(["town", "county"]), default="town", show_default=True,
              help="town：鹤山镇式 68 人；county：利津县式约 650 人")
@click.option("--months", default="2026-10", show_default=True, help="月份，如 2026-10 或 2026-01:12（从1月起12个月）")
@click.option("--policy", "policy_path", type=click.Path(), default=None, help="按哪个考核细则的指标生成（默认城关镇细则）")
@click.option("--seed", type=int, default=7, show_default=True, help="随机种子（同一种子生成同样的数据）")
@click.option("--out", required=True, type=click.Path(), help="输出文件夹")
@run_guarded
def demo_data(size, months, policy_path, seed, out) -> None:
    """生成确定性的示例名册、指标表和事件台账。

    \b
    示例：
      wangge demo-data --size county --months 2026-01:12 --out demo/county
    """
    from ..demo import generate, month_list
    from ..policy import load_policy

    if ":" in months:
        first, count = months.split(":")
        mlist = month_list(first, int(count))
    else:
        mlist = [m.strip() for m in months.split(",")]
    policy = load_policy(policy_path or str(DEMO_POLICY)).for_month(mlist[0])
    paths = generate(policy, out, size, mlist, seed)
    console.print("已生成：" + "、".join(str(p) for p in paths.values()), markup=False)
