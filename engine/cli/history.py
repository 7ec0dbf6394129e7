"""Commands for month after month: run, history list, correct, compare, paysheet."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import click
from rich.table import Table

from ..app.month import (PRINT_DIR, MonthFiles, RunReport, backup_history, compare_policies, export_month,
                         export_paysheet, run_month, stored_months, summary_lines, upgrade_history)
from ..periods import month_label
from ..store import display_url
from .common import console, err_console, print_notes, run_guarded
from .notices import DATABASE, issue_options, issue_request, pack_bar, pack_options, prepare_for, print_pack_report

_MONTH = click.option("--month", "month", required=True, callback=lambda c, p, v: check_month(v),
                      help="考核月份，格式 YYYY-MM")
_DATA = click.option("--data", "data", type=click.Path(file_okay=False), envvar="WANGGE_DATA", default="data",
                     show_default=True, help="历史数据目录（也可用环境变量 WANGGE_DATA）")



def check_month(value: str) -> str:
    ok = len(value) == 7 and value[4] == "-" and value[:4].isdigit() and value[5:].isdigit() \
        and 1 <= int(value[5:]) <= 12
    if not ok:
        raise click.BadParameter(f"应为 YYYY-MM（如 2026-10），发现 {value!r}")
    return value


def _inputs(f: Callable) -> Callable:
    for opt in reversed([
        click.option("--workers", required=True, type=click.Path(dir_okay=False), help="网格员名册（CSV/XLSX）"),
        click.option("--metrics", required=True, type=click.Path(dir_okay=False), help="月度指标（CSV/XLSX）"),
        click.option("--events", default=None, type=click.Path(dir_okay=False), help="事件台账（CSV/XLSX）"),
        click.option("--no-events", is_flag=True, help="本月没有任何事件（不给事件台账时须注明）"),
        click.option("--records", default=None, type=click.Path(dir_okay=False),
                     help="按日/按周的记录表（CSV/XLSX，细则中有 records 时需要）"),
    ]):
        f = opt(f)
    return f


def _waiting() -> None:
    err_console.print("另一次运行正在写入同一个历史库，等它完成后继续……", markup=False)


def _where(data, database) -> str:
    """Where the history is, as the clerk gave it."""
    return f"历史库 {display_url(database)}" if database else f"数据目录 {data}"


def print_period_summary(report: RunReport) -> None:
    s = report.summary
    if s is None or not s.applied:
        console.print("本月考核细则未设跨月规则。")
        return
    console.print(f"跨月规则：扣发 {s.withheld_workers} 人，共 {s.withheld_total} 元；"
                  f"列入通报批评 {s.criticised} 人，通报表彰 {s.commended} 人。")
    for line in summary_lines(s):
        console.print(line, markup=False)


@click.command("run")
@click.option("--policy", "policy", multiple=True, required=True, type=click.Path(dir_okay=False),
              help="考核细则 YAML（可多次给出）")
@_MONTH
@_inputs
@_DATA
@DATABASE
@click.option("--out", required=True, type=click.Path(file_okay=False), help="本月输出目录")
@click.option("--unit", default="", help="发放表上的填报单位名称")
@pack_options
@click.option("--print/--no-print", "make_print", default=None,
              help="是否生成打印材料（默认：有发文设置 --office 或数据目录下 office.yaml 时生成）")
@issue_options
@run_guarded
def run_cmd(policy, month, workers, metrics, events, no_events, records, data, database, out, unit, office, roster_dir,
            only, formats, make_print, issue, issue_date, number):
    """计分、存入历史、计算跨月规则并写出本月结果、发放表和打印材料，一步完成。

    \b
    打印材料（通报、通报批评/表彰、结果通知单、发放表签字版、排班表、公示牌、联系卡）写在 --out 下的 print/；
    通报类公文默认是送审稿（不占文号），确认无误后加 --issue 出文（取下一个文号并登记）。
    示例：
      wangge run --policy rules/youhao.yaml --month 2026-10 --workers in/workers.csv \\
        --metrics in/2026-10/metrics.csv --events in/2026-10/events.csv --data data --out out/2026-10 \\
        --office office.yaml --roster out/roster
    """
    if make_print is None:
        make_print = office is not None or (Path(data) / "office.yaml").is_file()
    pack = prepare_for(office=office, data=data, roster_dir=roster_dir, workers=workers, only=only,
                       formats=formats) if make_print else None
    with pack_bar() as pack_progress:
        report = run_month(policy, month, MonthFiles(workers, metrics, events, no_events, records), data, out, unit=unit,
                           pack=pack, issue=issue_request(issue, issue_date, number, only), on_wait=_waiting,
                           pack_progress=pack_progress, database=database)
    verb = "已替换" if report.replaced else "已存入"
    console.print(f"{verb} {month_label(month)}考核结果（{_where(data, database)}）。")
    print_notes(report.notes)
    if report.new_workers:
        console.print(f"新增网格员 {len(report.new_workers)} 人：{'、'.join(report.new_workers[:20])}"
                      + ("等" if len(report.new_workers) > 20 else ""))
    print_period_summary(report)
    if report.later_months:
        console.print(f"已重新计算其后月份的跨月规则：{'、'.join(report.later_months)}")
        _print_changes(report, score_changes=False)
    console.print(f"输出目录 {out}：{'、'.join(n for n in report.outputs if not n.startswith(PRINT_DIR + '/'))}")
    if report.pack is not None:
        console.print(f"打印材料 {out}/{PRINT_DIR}：{len(report.pack.files)} 个文件", markup=False)
        print_pack_report(report.pack, f"{out}/{PRINT_DIR}")
    else:
        console.print("未生成打印材料（没有发文设置：用 --office 指定，或放在数据目录下的 office.yaml；"
                      "也可稍后用 wangge notices 生成）。", markup=False)


def _print_changes(report: RunReport, *, score_changes: bool = True) -> None:
    if score_changes:
        if report.score_changes:
            t = Table(title=f"{month_label(report.month)}得分变化", show_lines=False)
            for h in ("工号", "姓名", "原得分", "新得分", "变化", "原档次", "新档次", "原绩效", "新绩效", "绩效变化"):
                t.add_column(h)
            for c in report.score_changes:
                t.add_row(c["worker_id"], c["name"], c["old_score"], c["new_score"], _signed(c["score_delta"]),
                          c["old_band"] or "", c["new_band"] or "", c["old_pay"], c["new_pay"], _signed(c["pay_delta"]))
            console.print(t)
        else:
            console.print(f"{month_label(report.month)}无人得分或绩效变化。")
    if report.consequence_changes:
        console.print("跨月规则后果变化：")
        for c in report.consequence_changes:
            console.print(f"  {c['month']} {c['worker_id']} {c['change']}「{c['rule_label']}」"
                          f"（扣发 {c['amount']} 元）：{c['reason']}", markup=False)
    elif score_changes:
        console.print("跨月规则后果无变化。")
    for c in report.pay_changes:
        console.print(f"  {c['month']} {c['worker_id']} 实发绩效 {c['old_payable']} → {c['new_payable']}", markup=False)


def _signed(text: str) -> str:
    return text if text.startswith("-") else "+" + text


@click.command("correct")
@click.option("--policy", "policy", multiple=True, required=True, type=click.Path(dir_okay=False),
              help="考核细则 YAML（可多次给出）")
@_MONTH
@_inputs
@_DATA
@DATABASE
@click.option("--out", required=True, type=click.Path(file_okay=False), help="更正后本月输出目录")
@click.option("--note", default="", help="更正原因（如申诉编号），记入历史")
@click.option("--unit", default="", help="发放表上的填报单位名称")
@run_guarded
def correct_cmd(policy, month, workers, metrics, events, no_events, records, data, database, out, note, unit):
    """申诉/更正：按更正后的记录重算已存月份，列出变化，并重算其后月份的跨月规则。

    \b
    示例：
      wangge correct --policy rules/youhao.yaml --month 2026-09 --workers in/workers.csv \\
        --metrics in/2026-09/metrics-corrected.csv --events in/2026-09/events.csv \\
        --data data --out out/2026-09 --note "申诉 2026-017"
    """
    report = run_month(policy, month, MonthFiles(workers, metrics, events, no_events, records), data, out, unit=unit,
                       correction=True, note=note, on_wait=_waiting, database=database)
    console.print(f"已更正 {month_label(month)}（{_where(data, database)}）。")
    print_notes(report.notes)
    _print_changes(report)
    if report.later_months:
        console.print(f"已重新计算其后月份：{'、'.join(report.later_months)}；"
                      "其结果和发放表可用 wangge history export --month 月份 重新写出。")
    console.print(f"输出目录 {out}：{'、'.join(report.outputs)}")
    console.print(f"更正后的打印材料（通报、通知单等）可用 wangge notices --month {month} 重新生成，文号不变。",
                  markup=False)


@click.group("history")
def history_group():
    """查看历史库中存了哪些月份；备份、升级历史库。"""


@history_group.command("list")
@_DATA
@DATABASE
@run_guarded
def history_list(data, database):
    """列出已存月份：考核细则、版本、哈希、人数、运行时间。

    \b
    示例：
      wangge history list --data data
    """
    months, corrections = stored_months(data, database=database)
    if not months:
        console.print(f"{_where(data, database)}中还没有存入任何月份。")
        return
    t = Table(title=f"历史记录（{_where(data, database)}）")
    for h in ("月份", "考核细则", "版本", "细则哈希", "人数", "运行时间（UTC）", "跨月规则", "更正次数"):
        t.add_column(h)
    for i in months:
        n = sum(1 for c in corrections if c["month"] == i.month)
        t.add_row(i.month, i.policy_id, i.policy_version, i.policy_hash[:12], str(i.worker_count), i.run_at,
                  "已计算" if i.has_period else "无", str(n))
    console.print(t)


@history_group.command("backup")
@_DATA
@DATABASE
@click.option("--to", "target", required=True, type=click.Path(dir_okay=False), help="备份文件（如 backup/history-2026-11-05.sqlite3）")
@run_guarded
def history_backup(data, database, target):
    """备份历史库：SQLite 在线备份（有人正在运行也可以备份，得到的是一致的副本）；数据库服务器请用 pg_dump。

    \b
    恢复：停止所有运行，把备份文件复制为数据目录下的 history.sqlite3（先可用
    wangge history list --database sqlite:///备份文件 查看备份里有哪些月份）。
    示例：
      wangge history backup --data data --to backup/history-2026-11-05.sqlite3
    """
    months = backup_history(data, target, database=database)
    console.print(f"已备份到 {target}：{len(months)} 个月份（{'、'.join(i.month for i in months) or '无'}）。", markup=False)


@history_group.command("upgrade")
@_DATA
@DATABASE
@run_guarded
def history_upgrade(data, database):
    """把历史库升级到本程序的结构版本（打开历史库时也会自动升级；安装新版本后、重新启动各进程前运行一次）。

    \b
    示例：
      wangge history upgrade --database postgresql://wangge@db.example/wangge
    """
    report = upgrade_history(data, database=database)
    if report.before is None:
        console.print(f"历史库 {report.where} 已建立，结构版本为 {report.after}。", markup=False)
    elif report.before == report.after:
        console.print(f"历史库 {report.where} 的结构版本为 {report.after}，已是最新。", markup=False)
    else:
        console.print(f"历史库 {report.where} 已从结构版本 {report.before} 升级到 {report.after}。", markup=False)


def _stored_month_command(fn):
    """Options shared by the commands that write a stored month's files from history."""
    for opt in reversed([_MONTH, _DATA, DATABASE,
                         click.option("--out", required=True, type=click.Path(file_okay=False), help="输出目录"),
                         click.option("--unit", default="", help="发放表上的填报单位名称")]):
        fn = opt(fn)
    return run_guarded(fn)


@history_group.command("export")
@_stored_month_command
def history_export(month, data, database, out, unit):
    """从历史库重新写出某月的 results.json、period_findings.csv 和发放表（如更正之后的其后月份）。

    \b
    示例：
      wangge history export --month 2026-11 --data data --out out/2026-11
    """
    names = export_month(month, data, out, unit=unit, database=database)
    console.print(f"已从历史库写出 {month_label(month)}：{out}（{'、'.join(names)}）")


@click.command("paysheet")
@_stored_month_command
def paysheet_cmd(month, data, database, out, unit):
    """从历史库导出某月绩效工资发放表（paysheet.xlsx、paysheet.csv）。

    \b
    示例：
      wangge paysheet --month 2026-10 --data data --out out/2026-10
    """
    export_paysheet(month, data, out, unit=unit, database=database)
    console.print(f"已写出 {month_label(month)}绩效工资发放表：{out}/paysheet.xlsx、{out}/paysheet.csv")


@click.command("compare")
@click.option("--policy", "policies", multiple=True, required=True, type=click.Path(dir_okay=False),
              help="考核细则 YAML，给出两次：先原细则 A，后新细则 B")
@_MONTH
@_inputs
@click.option("--out", type=click.Path(file_okay=False), help="可选：写出 compare.csv 和 compare.json")
@run_guarded
def compare_cmd(policies, month, workers, metrics, events, no_events, records, out):
    """细则修改测算：同一个月的数据分别按细则 A、B 计分，比较每人得分、档次和绩效工资。

    \b
    示例：
      wangge compare --policy rules/youhao.yaml --policy rules/youhao-2027.yaml --month 2026-10 \\
        --workers in/workers.csv --metrics in/2026-10/metrics.csv --events in/2026-10/events.csv
    """
    if len(policies) != 2:
        raise click.BadParameter(f"应给出两次（先原细则 A，后新细则 B），实际给出 {len(policies)} 次",
                                 param_hint="'--policy'")
    diff = compare_policies(policies[0], policies[1], month, MonthFiles(workers, metrics, events, no_events, records), out)
    t = Table(title=f"{month_label(month)}细则测算：A={policies[0]}  B={policies[1]}")
    for h in ("工号", "姓名", "得分A", "得分B", "得分差", "档次A", "档次B", "绩效A", "绩效B", "绩效差"):
        t.add_column(h)
    for r in diff["workers"]:
        if r["changed"]:
            t.add_row(r["worker_id"], r["name"], r["score_a"] or "—", r["score_b"] or "—", r["score_delta"] or "",
                      r["band_a"] or "—", r["band_b"] or "—", r["pay_a"] or "—", r["pay_b"] or "—", r["pay_delta"] or "")
    console.print(t)
    s = diff["totals"]
    console.print(f"共 {s['workers']} 人，得分变化 {s['score_changed']} 人，档次变化 {s['band_changed']} 人；"
                  f"绩效工资合计 A {s['pay_a']} 元，B {s['pay_b']} 元，差 {_signed(s['pay_delta'])} 元。")
    if out:
        console.print(f"已写出 {out}/compare.csv、{out}/compare.json")


def register(group: click.Group) -> None:
    for cmd in (run_cmd, correct_cmd, history_group, paysheet_cmd, compare_cmd):
        group.add_command(cmd)
