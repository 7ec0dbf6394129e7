"""`wangge notices`: the month's print pack (通报、通报批评/表彰、结果通知单、发放表、排班表、公示牌、联系卡)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from ..errors import InputError, Problem, TemplateError
from ..outputs import staged_outputs
from .common import console, err_console, run_guarded

FORMATS = ("html", "pdf", "docx", "xlsx")


def _formats(text: str) -> set[str]:
    keys = {k.strip() for k in text.replace("，", ",").split(",") if k.strip()}
    bad = sorted(keys - set(FORMATS))
    if bad or not keys:
        raise TemplateError([Problem("命令行 --format", None, "--format", ",".join(bad) or text,
                                     "以下一个或几个，用逗号分隔：" + ",".join(FORMATS))])
    return keys


def _date(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise TemplateError([Problem("命令行 --date", None, "--date", text, "日期 YYYY-MM-DD，如 2026-11-05")]) from None


def pack_options(fn):
    """Options shared by `wangge notices` and the print pack of `wangge run`."""
    for opt in reversed([
        click.option("--office", type=click.Path(dir_okay=False), default=None,
                     help="发文设置 YAML（默认：数据目录下的 office.yaml）"),
        click.option("--roster", "roster_dir", type=click.Path(), default=None,
                     help="wangge roster 的输出文件夹（打印排班表）"),
        click.option("--date", "issue_date", default=None, help="成文日期 YYYY-MM-DD（默认首次出文当天）"),
        click.option("--only", default=None,
                     help="只生成其中几种，逗号分隔：bulletin,criticism,commendation,slips,paysheet,roster,boards,cards"),
        click.option("--format", "formats", default=",".join(FORMATS), show_default=True, help="输出格式"),
    ]):
        fn = opt(fn)
    return fn


def pack_inputs(*, office, data, roster_dir, workers, only, formats, jobs=2) -> dict:
    """Settings, roster and register read and checked together (every problem in one message),
    before any scoring, so that a broken settings file stops a run before it stores anything."""
    from ..inputs import read_register
    from ..notices import find_settings, load_roster, load_settings, parse_only, register_dicts

    problems = []
    path, bundled = find_settings(office, data)
    out = {"settings": None, "roster": None, "register": None, "only": None, "formats": None, "jobs": jobs}
    steps = {"settings": lambda: load_settings(path), "only": lambda: parse_only(only),
             "formats": lambda: _formats(formats),
             "roster": lambda: load_roster(roster_dir) if roster_dir else None,
             "register": lambda: register_dicts(read_register(workers)) if workers else None}
    for key, step in steps.items():
        try:
            out[key] = step()
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    if bundled:
        err_console.print(f"提示：未指定发文设置（--office），使用示例 {path}；请复制后改成本单位的发文机关和文号。",
                          markup=False)
    return out


def print_pack_report(pack, out: str) -> None:
    for kind, num in pack.numbers.items():
        console.print(f"文号：{num['text']}（{num['date']}）", markup=False)
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
@click.option("--jobs", type=int, default=2, show_default=True, help="同时生成 PDF 的进程数")
@run_guarded
def notices_cmd(month, data, out, workers, office, roster_dir, issue_date, only, formats, jobs):
    """生成本月打印材料：考核通报、通报批评、通报表彰、结果通知单、发放表（签字版）、排班表、公示牌、联系卡。

    \b
    HTML 和 PDF（公文格式），通报另有 .docx，排名另有 .xlsx。
    示例：
      wangge notices --month 2026-10 --data data --out out/2026-10/print --office office.yaml
      wangge notices --month 2026-10 --out print --roster out/roster --workers in/workers.csv --only roster,boards,cards
    """
    from ..history import History
    from ..notices import PackRequest, is_pack_file, render_print_pack

    from .history import _check_month
    _check_month(month)
    day = _date(issue_date)
    inputs = pack_inputs(office=office, data=data, roster_dir=roster_dir, workers=workers, only=only,
                         formats=formats, jobs=jobs)
    with History(data, create=False) as hist:
        results = hist.month_results(month)
        req = PackRequest(results, **inputs)
        with staged_outputs(out, stale=is_pack_file) as stage:
            pack, rows = render_print_pack(req, stage, hist, date=day)
            hist.issue_doc_numbers(rows)
    console.print(f"已生成 {results['month']} 打印材料 {len(pack.files)} 个文件：", markup=False)
    print_pack_report(pack, out)


def register(group: click.Group) -> None:
    group.add_command(notices_cmd)
