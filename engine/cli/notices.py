"""`wangge notices` (the month's print pack) and `wangge numbers` (the register of document numbers)."""
from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from typing import Callable, Iterator

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..app.notices import Issue, make_notices, number_register, prepare_pack, record_number
from ..errors import InputError, Problem, TemplateError
from .common import console, err_console, run_guarded

FORMATS = ("html", "pdf", "docx", "xlsx")


def _formats(text: str) -> set[str]:
    keys = {k.strip() for k in text.replace("，", ",").split(",") if k.strip()}
    bad = sorted(keys - set(FORMATS))
    if bad or not keys:
        raise TemplateError([Problem("命令行", None, "--format", ",".join(bad) or text,
                                     "以下一个或几个，用逗号分隔：" + ",".join(FORMATS))])
    return keys


def _date(text: str | None, option: str = "--date") -> str | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise TemplateError([Problem(f"命令行 {option}", None, option, text, "日期 YYYY-MM-DD，如 2026-11-05")]) from None


def pack_options(fn):
    """Options shared by `wangge notices` and the print pack of `wangge run`."""
    for opt in reversed([
        click.option("--office", type=click.Path(dir_okay=False), default=None,
                     help="发文设置 YAML（默认：数据目录下的 office.yaml）"),
        click.option("--roster", "roster_dir", type=click.Path(), default=None,
                     help="wangge roster 的输出文件夹（打印排班表）"),
        click.option("--only", default=None,
                     help="只生成其中几种，逗号分隔：bulletin,criticism,commendation,slips,paysheet,roster,boards,cards"),
        click.option("--format", "formats", default=",".join(FORMATS), show_default=True, help="输出格式"),
    ]):
        fn = opt(fn)
    return fn


def issue_options(fn):
    """Draft or issue: the numbered notices (通报、通报批评、通报表彰) are drafts unless --issue is given."""
    for opt in reversed([
        click.option("--issue", is_flag=True,
                     help="出文：给本月尚未出文的通报类公文编文号（取发文登记中的下一个号）并登记；不加则为送审稿，不占文号"),
        click.option("--date", "issue_date", default=None, help="与 --issue 同用：成文日期 YYYY-MM-DD（默认发文设置中的 date，否则今天）"),
        click.option("--number", type=int, default=None,
                     help="与 --issue 同用：指定文号的序号（本次只出一份公文时，可用 --only 选定）"),
    ]):
        fn = opt(fn)
    return fn


def issue_request(issue: bool, issue_date: str | None, number: int | None, only: str | None) -> Issue | None:
    if not issue:
        for value, name in ((issue_date, "--date"), (number, "--number")):
            if value is not None:
                raise click.UsageError(f"{name} 只在出文（--issue）时使用；送审稿没有文号和成文日期")
        return None
    from ..notices import NUMBERED, parse_only

    kinds = parse_only(only)
    return Issue(date=_date(issue_date),
                 kinds=frozenset(k for k in kinds if k in NUMBERED) if kinds is not None else None, number=number)


def prepare_for(*, office, data, roster_dir, workers, only, formats, jobs: int = 2):
    """prepare_pack with --format checked in the same pass (every problem in one message)."""
    problems, keys = [], None
    try:
        keys = _formats(formats)
    except InputError as exc:
        problems = exc.problems
    try:
        plan = prepare_pack(office=office, data=data, roster_dir=roster_dir, workers=workers, only=only,
                            formats=keys, jobs=jobs)
    except InputError as exc:
        raise InputError(exc.problems + problems) from None
    if problems:
        raise TemplateError(problems)
    return plan


@contextmanager
def pack_bar() -> Iterator[Callable[[int, int], None]]:
    """A progress bar for the print pack (files written of the total), on stderr; gone when done."""
    bar = Progress(TextColumn("生成打印材料"), BarColumn(), MofNCompleteColumn(), TextColumn("个文件"),
                   TimeElapsedColumn(), console=err_console, transient=True)
    task: list = []

    def advance(done: int, total: int) -> None:
        if not task:
            bar.start()
            task.append(bar.add_task("pack", total=total))
        bar.update(task[0], completed=done, total=total)

    try:
        yield advance
    finally:
        if task:
            bar.stop()


def print_pack_report(pack, out: str) -> None:
    for kind, num in pack.numbers.items():
        from ..notices import DOCUMENTS
        if num.get("draft"):
            console.print(f"{DOCUMENTS[kind]}：送审稿（未出文，不占文号；确认无误后用 --issue 出文）", markup=False)
        else:
            console.print(f"{DOCUMENTS[kind]}：文号 {num['text']}，成文日期 {num['date']}", markup=False)
    for name in pack.files:
        pages = pack.pages.get(name)
        console.print(f"  {out}/{name}" + (f"（{pages} 页）" if pages else ""), markup=False)
    for line in pack.skipped:
        console.print(f"  未生成 {line}", markup=False)
    for note in pack.notes:
        console.print(f"提示：{note}", markup=False)


@click.command("notices")
@click.option("--month", required=True, help="考核月份 YYYY-MM（须已用 wangge run 存入历史库）")
@click.option("--data", type=click.Path(file_okay=False), envvar="WANGGE_DATA", default="data", show_default=True,
              help="历史数据目录")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="输出文件夹")
@click.option("--workers", type=click.Path(dir_okay=False), default=None,
              help="网格员名册（打印公示牌、联系卡，或在通知单上显示身份证号）")
@pack_options
@issue_options
@click.option("--jobs", type=int, default=2, show_default=True, help="同时生成 PDF 的进程数")
@run_guarded
def notices_cmd(month, data, out, workers, office, roster_dir, only, formats, issue, issue_date, number, jobs):
    """生成本月打印材料：考核通报、通报批评、通报表彰、结果通知单、发放表（签字版）、排班表、公示牌、联系卡。

    \b
    通报类公文默认是送审稿（不占文号）；确认无误后加 --issue 出文：取发文登记中的下一个文号（或 --number
    指定的文号），成文日期为 --date（默认今天），并登记。已出文的公文重印时沿用原文号和日期。
    HTML 和 PDF（公文格式），通报另有 .docx，排名另有 .xlsx。
    示例：
      wangge notices --month 2026-10 --data data --out out/2026-10/print --office office.yaml
      wangge notices --month 2026-10 --data data --out out/2026-10/print --issue --date 2026-11-05
      wangge notices --month 2026-10 --out print --only criticism --issue --number 15 --date 2026-11-06
    """
    from .history import check_month

    check_month(month)
    request = issue_request(issue, issue_date, number, only)
    plan = prepare_for(office=office, data=data, roster_dir=roster_dir, workers=workers, only=only,
                       formats=formats, jobs=jobs)
    with pack_bar() as progress:
        report = make_notices(month, data, out, plan, issue=request, progress=progress)
    console.print(f"已生成 {report.month} 打印材料 {len(report.pack.files)} 个文件：", markup=False)
    print_pack_report(report.pack, out)


@click.group("numbers")
def numbers_group():
    """发文登记：本单位已用的文号（本系统出文的和在系统外用掉的）。"""


@numbers_group.command("list")
@click.option("--data", type=click.Path(file_okay=False), envvar="WANGGE_DATA", default="data", show_default=True,
              help="历史数据目录")
@click.option("--year", type=int, default=None, help="只列出这一年的文号")
@run_guarded
def numbers_list(data, year):
    """列出发文登记：文号、成文日期、用于哪份公文、来源。

    \b
    示例：
      wangge numbers list --data data --year 2026
    """
    rows = number_register(data, year=year)
    if not rows:
        console.print("发文登记中还没有文号。")
        return
    t = Table(title=f"发文登记（{data}）")
    for h in ("文号", "成文日期", "公文", "来源", "登记时间（UTC）"):
        t.add_column(h)
    for r in rows:
        t.add_row(r["text"], r["issued_on"], r["title"], "本系统出文" if r["source"] == "wangge" else "系统外登记",
                  r["recorded_at"])
    console.print(t)


@numbers_group.command("add")
@click.option("--data", type=click.Path(file_okay=False), envvar="WANGGE_DATA", default="data", show_default=True,
              help="历史数据目录")
@click.option("--office", type=click.Path(dir_okay=False), default=None,
              help="发文设置 YAML（取文号前缀；默认：数据目录下的 office.yaml）")
@click.option("--number", required=True, type=int, help="文号的序号，如 15（即 〔2026〕15号）")
@click.option("--date", "issue_date", required=True, help="成文日期 YYYY-MM-DD（文号的年份取自它）")
@click.option("--title", required=True, help="该文号所发公文的标题")
@run_guarded
def numbers_add(data, office, number, issue_date, title):
    """登记一个在本系统之外用掉的文号，此后自动编号会跳过它。

    \b
    示例：
      wangge numbers add --data data --number 15 --date 2026-11-06 --title "关于开展消防安全排查的通知"
    """
    from ..app.notices import find_settings
    from ..notices import load_settings

    day = _date(issue_date)
    prefix = load_settings(find_settings(office, data)).document_number.prefix
    row = record_number(data, prefix=prefix, year=int(day[:4]), number=number, title=title, date=day)
    console.print(f"已登记 {row['text']}（{row['issued_on']}）：{row['title']}", markup=False)


def register(group: click.Group) -> None:
    group.add_command(notices_cmd)
    group.add_command(numbers_group)
