"""Commands for month after month: run, history list, correct, compare, paysheet."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Callable

import click
from rich.table import Table

from ..errors import EngineError, HistoryError, InputError, Problem
from ..history import (History, RunReport, check_stored_policies, compare_results, record_month,
                       write_month_outputs)
from ..outputs import folder_problem, staged_outputs
from ..paysheet import write_paysheet_csv, write_paysheet_xlsx
from ..sheets import csv_safe
from ..periods import PeriodRules, month_label, parse_period_rules
from .common import console, run_guarded
from .notices import pack_options, print_pack_report

_MONTH = click.option("--month", "month", required=True, callback=lambda c, p, v: _check_month(v),
                      help="考核月份，格式 YYYY-MM")
_DATA = click.option("--data", "data", type=click.Path(file_okay=False), envvar="WANGGE_DATA", default="data",
                     show_default=True, help="历史数据目录（也可用环境变量 WANGGE_DATA）")


def _check_month(value: str) -> str:
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
        click.option("--records", default=None, type=click.Path(dir_okay=False),
                     help="按日/按周的记录表（CSV/XLSX，细则中有 records 时需要）"),
    ]):
        f = opt(f)
    return f


def _scoring():
    try:
        from ..policy import load_policy
        from ..scoring import score_month
    except ImportError as exc:  # only before the scoring feature is merged
        raise EngineError(f"本版本缺少月度计分模块（{exc.name}），无法计分") from None
    return load_policy, score_month


class _PolicyContext:
    """The policy set of a run: scores a month and gives each month's period rules."""

    def __init__(self, policy_paths: tuple[str, ...]):
        load_policy, self._score = _scoring()
        self.ps = load_policy(list(policy_paths))
        self._rules: dict[str, PeriodRules | None] = {}

    def score(self, month: str, workers: str, metrics: str, events: str | None, read=None, records=None) -> dict:
        return self.score_located(month, workers, metrics, events, read, records)[0]

    def score_located(self, month: str, workers: str, metrics: str, events: str | None, read=None, records=None):
        """The month's results and, per worker id, the (file, row) of the register it came from
        (`read`: what `read()` already returned for these inputs)."""
        policy, inputs = read or self.read(month, workers, metrics, events, records)
        rows = {w.worker_id: w.source for w in inputs.workers if w.source and w.source[0]}
        return self._score(policy, month, workers, metrics, events, inputs=inputs), rows

    def read(self, month: str, workers: str, metrics: str, events: str | None, records: str | None = None):
        """The policy in force for the month and the month's checked inputs (DataError if any problem)."""
        from ..inputs import read_month

        policy = self.ps.for_month(month)
        return policy, read_month(policy, month, workers, metrics, events, records)

    def rules_for(self, month: str) -> PeriodRules | None:
        if month not in self._rules:
            pol = self.ps.for_month(month)
            self._rules[month] = parse_period_rules(getattr(pol, "periods_raw", None),
                                                    str(getattr(pol, "periods_file", "") or (pol.files or [""])[0]))
        return self._rules[month]

    def check_history(self, history: History, month: str) -> None:
        """Stored months before `month` that its period rules read (this year and last) must still
        resolve to the policy they were scored under.  Later months are re-evaluated, not read, so
        a policy change can be carried through history one `wangge correct` at a time."""
        years = {month[:4], str(int(month[:4]) - 1)}
        wanted = {i.month for i in history.months() if i.month[:4] in years and i.month < month}
        check_stored_policies(history, lambda m: self.ps.for_month(m).hash, only=wanted)


def _checked(folders: list[Problem], load: Callable):
    """`load()` (policies, inputs) with the problems of unusable folders reported in the same pass:
    nothing is scored, stored, written or printed when any is found."""
    try:
        value = load()
    except InputError as exc:
        raise (type(exc) if not folders else InputError)(folders + exc.problems) from None
    if folders:
        raise InputError(folders)
    return value


def _store(policy, month, workers, metrics, events, data, out, unit, *, correction, note,
           pack: dict | None = None, issue_date: str | None = None, records: str | None = None) -> RunReport:
    """Score, store and write the month; with `pack` (see notices.pack_inputs) its print pack too,
    into out/print, its document numbers committed with the month."""
    if correction:   # before reading anything: a correction needs the month in history
        with History(data, create=False) as hist:
            if not hist.has_month(month):
                raise hist.not_stored(month, f"历史中没有 {month_label(month)}（{month}），无法更正；新月份请用 wangge run")
    folders = [p for p in (folder_problem(out, "--out"), folder_problem(data, "--data", "可以写入的历史数据文件夹")) if p]
    ctx, read = _checked(folders, lambda: _load(policy, month, workers, metrics, events, records))
    results, rows = ctx.score_located(month, workers, metrics, events, read)
    numbers: list[dict] = []
    try:
        with History(data) as hist:
            ctx.check_history(hist, month)

            def outputs(full: dict, stage: Path) -> list[str]:
                names = _scoring_tables(full, stage)
                if pack is not None:
                    from ..notices import PackRequest, render_print_pack
                    (stage / PRINT_DIR).mkdir()
                    printed, new_numbers = render_print_pack(PackRequest(full, **pack), stage / PRINT_DIR, hist,
                                                             date=issue_date)
                    numbers.extend(new_numbers)
                    report_pack.append(printed)
                    names += [f"{PRINT_DIR}/{n}" for n in printed.files]
                return names

            report_pack: list = []
            report = record_month(hist, results, rules_for=ctx.rules_for, out_dir=out, correction=correction,
                                  note=note, unit=unit, extra_outputs=outputs, worker_rows=rows, doc_numbers=numbers,
                                  stale=_stale_print if pack is not None else None)
            report.pack = report_pack[0] if report_pack else None
            return report
    except OSError as exc:
        raise HistoryError(f"写出文件失败：{exc.strerror or exc}（{exc.filename or out}）。"
                           "若失败发生在存入历史库之前，历史和输出均未改动；否则用同样的输入重新运行本月即可恢复输出") from None


def _load(policy: tuple[str, ...], month: str, workers: str, metrics: str, events: str | None, records=None):
    ctx = _PolicyContext(policy)
    return ctx, ctx.read(month, workers, metrics, events, records)


def _load_both(policies: tuple[str, str], month: str, workers: str, metrics: str, events: str | None, records=None):
    """Both policies with the inputs read under each, every problem of both in one pass; a problem
    that only one of them finds (the other policy's metrics differ) says which policy it was."""
    loaded, found = [], []
    for path in policies:
        try:
            loaded.append(_load((path,), month, workers, metrics, events, records))
        except InputError as exc:
            found.append(exc)
            continue
        found.append(None)
    if not any(found):
        return loaded
    seen = [{str(p) for p in exc.problems} if exc else set() for exc in found]
    problems: list[Problem] = []
    for k, (tag, exc) in enumerate(zip("AB", found)):
        for p in exc.problems if exc else []:
            if str(p) in seen[1 - k]:
                if k == 1:
                    continue          # already listed under A
            else:
                p = replace(p, hint="；".join(x for x in (p.hint, f"按细则 {tag}（{policies[k]}）检查时") if x))
            problems.append(p)
    kinds = {type(exc) for exc in found if exc}
    raise (kinds.pop() if len(kinds) == 1 else InputError)(problems)


PRINT_DIR = "print"     # the month's print pack inside --out


def _stale_print(path: Path) -> bool:
    from ..notices import is_pack_file
    return path.parent.name == PRINT_DIR and is_pack_file(path)


def _scoring_tables(results: dict, stage: Path) -> list[str]:
    """results.csv and findings.csv exactly as `wangge score` writes them."""
    from ..scoring import findings_csv, results_csv

    (stage / "results.csv").write_text("\ufeff" + results_csv(results), encoding="utf-8")
    (stage / "findings.csv").write_text("\ufeff" + findings_csv(results), encoding="utf-8")
    return ["results.csv", "findings.csv"]


def _print_period_summary(report: RunReport, data: str) -> None:
    with History(data) as hist:
        res = hist.month_results(report.month)
    if not res.get("period_rules_applied"):
        console.print("本月考核细则未设跨月规则。")
        return
    held = [w for w in res["workers"] if Decimal(w["withheld"]) > 0]
    total = sum((Decimal(w["withheld"]) for w in held), Decimal("0.00"))
    crit = sum(1 for w in res["workers"] if any(f["criticise"] for f in w["period_findings"]))
    comm = sum(1 for w in res["workers"] if any(f["commend"] for f in w["period_findings"]))
    console.print(f"跨月规则：扣发 {len(held)} 人，共 {total} 元；列入通报批评 {crit} 人，通报表彰 {comm} 人。")


@click.command("run")
@click.option("--policy", "policy", multiple=True, required=True, type=click.Path(dir_okay=False),
              help="考核细则 YAML（可多次给出）")
@_MONTH
@_inputs
@_DATA
@click.option("--out", required=True, type=click.Path(file_okay=False), help="本月输出目录")
@click.option("--unit", default="", help="发放表上的填报单位名称")
@pack_options
@click.option("--print/--no-print", "make_print", default=None,
              help="是否生成打印材料（默认：有发文设置 --office 或数据目录下 office.yaml 时生成）")
@run_guarded
def run_cmd(policy, month, workers, metrics, events, records, data, out, unit, office, roster_dir, issue_date, only,
            formats, make_print):
    """计分、存入历史、计算跨月规则并写出本月结果、发放表和打印材料，一步完成。

    \b
    打印材料（通报、通报批评/表彰、结果通知单、发放表签字版、排班表、公示牌、联系卡）写在 --out 下的 print/。
    示例：
      wangge run --policy rules/youhao.yaml --month 2026-10 --workers in/workers.csv \\
        --metrics in/2026-10/metrics.csv --events in/2026-10/events.csv --data data --out out/2026-10 \\
        --office office.yaml --roster out/roster
    """
    from ..notices import find_settings
    from .notices import _date, pack_inputs

    if make_print is None:
        make_print = not find_settings(office, data)[1]
    pack = None
    if make_print:
        pack = pack_inputs(office=office, data=data, roster_dir=roster_dir, workers=workers, only=only,
                           formats=formats)
    report = _store(policy, month, workers, metrics, events, data, out, unit, correction=False, note="",
                    records=records, pack=pack, issue_date=_date(issue_date))
    verb = "已替换" if report.replaced else "已存入"
    console.print(f"{verb} {month_label(month)}考核结果（数据目录 {data}）。")
    if report.new_workers:
        console.print(f"新增网格员 {len(report.new_workers)} 人：{'、'.join(report.new_workers[:20])}"
                      + ("等" if len(report.new_workers) > 20 else ""))
    _print_period_summary(report, data)
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
@click.option("--out", required=True, type=click.Path(file_okay=False), help="更正后本月输出目录")
@click.option("--note", default="", help="更正原因（如申诉编号），记入历史")
@click.option("--unit", default="", help="发放表上的填报单位名称")
@run_guarded
def correct_cmd(policy, month, workers, metrics, events, records, data, out, note, unit):
    """申诉/更正：按更正后的记录重算已存月份，列出变化，并重算其后月份的跨月规则。

    \b
    示例：
      wangge correct --policy rules/youhao.yaml --month 2026-09 --workers in/workers.csv \\
        --metrics in/2026-09/metrics-corrected.csv --events in/2026-09/events.csv \\
        --data data --out out/2026-09 --note "申诉 2026-017"
    """
    report = _store(policy, month, workers, metrics, events, data, out, unit, correction=True, note=note,
                    records=records)
    console.print(f"已更正 {month_label(month)}（数据目录 {data}）。")
    _print_changes(report)
    if report.later_months:
        console.print(f"已重新计算其后月份：{'、'.join(report.later_months)}；"
                      "其结果和发放表可用 wangge history export --month 月份 重新写出。")
    console.print(f"输出目录 {out}：{'、'.join(report.outputs)}")
    console.print(f"更正后的打印材料（通报、通知单等）可用 wangge notices --month {month} 重新生成，文号不变。",
                  markup=False)


@click.group("history")
def history_group():
    """查看历史库中存了哪些月份。"""


@history_group.command("list")
@_DATA
@run_guarded
def history_list(data):
    """列出已存月份：考核细则、版本、哈希、人数、运行时间。

    \b
    示例：
      wangge history list --data data
    """
    with History(data, create=False) as hist:
        months = hist.months()
        corrections = hist.corrections()
    if not months:
        console.print(f"数据目录 {data} 中还没有存入任何月份。")
        return
    t = Table(title=f"历史记录（{data}）")
    for h in ("月份", "考核细则", "版本", "细则哈希", "人数", "运行时间（UTC）", "跨月规则", "更正次数"):
        t.add_column(h)
    for i in months:
        n = sum(1 for c in corrections if c["month"] == i.month)
        t.add_row(i.month, i.policy_id, i.policy_version, i.policy_hash[:12], str(i.worker_count), i.run_at,
                  "已计算" if i.has_period else "无", str(n))
    console.print(t)


def _stored_month_command(fn):
    """Options shared by the commands that write a stored month's files from history."""
    for opt in reversed([_MONTH, _DATA,
                         click.option("--out", required=True, type=click.Path(file_okay=False), help="输出目录"),
                         click.option("--unit", default="", help="发放表上的填报单位名称")]):
        fn = opt(fn)
    return run_guarded(fn)


def _write_stored(month: str, data: str, out: str, write: Callable[[dict, Path], list[str]]) -> list[str]:
    with History(data, create=False) as hist:
        results = hist.month_results(month)
    with staged_outputs(out) as stage:
        return write(results, stage)


@history_group.command("export")
@_stored_month_command
def history_export(month, data, out, unit):
    """从历史库重新写出某月的 results.json、period_findings.csv 和发放表（如更正之后的其后月份）。

    \b
    示例：
      wangge history export --month 2026-11 --data data --out out/2026-11
    """
    names = _write_stored(month, data, out, lambda res, stage: write_month_outputs(res, stage, unit=unit))
    console.print(f"已从历史库写出 {month_label(month)}：{out}（{'、'.join(names)}）")


@click.command("paysheet")
@_stored_month_command
def paysheet_cmd(month, data, out, unit):
    """从历史库导出某月绩效工资发放表（paysheet.xlsx、paysheet.csv）。

    \b
    示例：
      wangge paysheet --month 2026-10 --data data --out out/2026-10
    """
    def write(res, stage):
        write_paysheet_xlsx(res, stage / "paysheet.xlsx", unit=unit)
        write_paysheet_csv(res, stage / "paysheet.csv")
        return ["paysheet.xlsx", "paysheet.csv"]
    _write_stored(month, data, out, write)
    console.print(f"已写出 {month_label(month)}绩效工资发放表：{out}/paysheet.xlsx、{out}/paysheet.csv")


@click.command("compare")
@click.option("--policy", "policies", multiple=True, required=True, type=click.Path(dir_okay=False),
              help="考核细则 YAML，给出两次：先原细则 A，后新细则 B")
@_MONTH
@_inputs
@click.option("--out", type=click.Path(file_okay=False), help="可选：写出 compare.csv 和 compare.json")
@run_guarded
def compare_cmd(policies, month, workers, metrics, events, records, out):
    """细则修改测算：同一个月的数据分别按细则 A、B 计分，比较每人得分、档次和绩效工资。

    \b
    示例：
      wangge compare --policy rules/youhao.yaml --policy rules/youhao-2027.yaml --month 2026-10 \\
        --workers in/workers.csv --metrics in/2026-10/metrics.csv --events in/2026-10/events.csv
    """
    if len(policies) != 2:
        raise click.BadParameter(f"应给出两次（先原细则 A，后新细则 B），实际给出 {len(policies)} 次",
                                 param_hint="'--policy'")
    folders = [p for p in (folder_problem(out, "--out") if out else None,) if p]
    if Path(policies[0]).resolve() == Path(policies[1]).resolve():
        folders.append(Problem(policies[1], None, "--policy", policies[1], "与原细则 A 不同的新细则文件",
                               "两次 --policy 给的是同一个文件，比较不出差别"))
    loaded = _checked(folders, lambda: _load_both(policies, month, workers, metrics, events, records))
    a, b = (ctx.score(month, workers, metrics, events, read) for ctx, read in loaded)
    diff = compare_results(a, b)
    if out:   # written before anything is printed: a failure shows only the error
        with staged_outputs(out) as stage:
            (stage / "compare.json").write_text(json.dumps(diff, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
            buf = io.StringIO()
            wr = csv.writer(buf, lineterminator="\r\n")
            wr.writerow(["工号", "姓名", "得分A", "得分B", "得分差", "档次A", "档次B", "绩效A", "绩效B", "绩效差"])
            for r in diff["workers"]:
                wr.writerow([csv_safe(r["worker_id"]), csv_safe(r["name"]), r["score_a"], r["score_b"],
                             r["score_delta"], r["band_a"], r["band_b"], r["pay_a"], r["pay_b"], r["pay_delta"]])
            (stage / "compare.csv").write_text("\ufeff" + buf.getvalue(), encoding="utf-8", newline="")
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
