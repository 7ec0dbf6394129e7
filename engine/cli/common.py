"""Shared CLI helpers: turn EngineError into Chinese messages and exit codes."""
from __future__ import annotations

import functools
from dataclasses import replace
import os
import sys

import click
from rich.console import Console

from ..errors import (DATA_FOLDER, DOCUMENTS_FIELD, MONTH_FIELD, OUT_FOLDER, POLICY_FIELD, RECORDS_FIELD, SETTINGS_FIELD,
                      EngineError, ExampleMismatch, HistoryError, InfeasibleError, InputError, Problem, RuleEngineError)
from ..inputs import NO_EVENTS_SAID
from ..store import DATABASE_FIELD

# Piped output (CI logs, files, tests) gets a fixed width so tables do not truncate Chinese headers.
console = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 120)
err_console = Console(stderr=True, highlight=False, soft_wrap=True, width=None if sys.stderr.isatty() else 120)

# click's own messages (a missing option, a path that does not exist) are read by the clerk too:
# said in Chinese.  click looks each message up through `gettext` when it formats it.
_CLICK_ZH = {
    "Error: {message}": "错误：{message}",
    "Try '{command} {option}' for help.": "用 '{command} {option}' 查看说明和示例。",
    "Invalid value: {message}": "取值不对：{message}",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的取值不对：{message}",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing {param_type}": "缺少{param_type}",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "No such option {name!r}.": "没有选项 {name!r}。",
    "No such option: {name}": "没有选项：{name}",
    "No such command {name!r}.": "没有命令 {name!r}。",
    "Missing command.": "缺少命令。",
    "Could not open file {filename!r}: {message}": "无法打开文件 {filename!r}：{message}",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的{number_type}。",
    "{value!r} is not a valid boolean. Recognized values: {states}": "{value!r} 不是有效的是/否值，可用：{states}",
    "Value must be an iterable.": "取值应为多个值。",
    "Argument {name!r} takes {nargs} values.": "参数 {name!r} 需要 {nargs} 个值。",
    "unknown error": "未知错误",
    "%(prog)s, version %(version)s": "%(prog)s 版本 %(version)s",
    "{value} is not in the range {range}.": "{value} 不在范围 {range} 内。",
    "file": "文件",
    "directory": "文件夹",
    "path": "路径",
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在。",
    "{name} {filename!r} is a file.": "{name} {filename!r} 是文件，这里应为文件夹。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} 是文件夹，这里应为文件。",
    "{name} {filename!r} is not readable.": "{name} {filename!r} 无法读取。",
    "{name} {filename!r} is not writable.": "{name} {filename!r} 无法写入。",
    "Choose from:\n\t{choices}": "可选：\n\t{choices}",
    "Option {name!r} does not take a value.": "选项 {name!r} 后面不带值。",
    "Usage:": "用法：",
    "Options": "选项",
    "Commands": "命令",
    "Show this message and exit.": "显示此说明并退出。",
    "Show the version and exit.": "显示版本并退出。",
    "Aborted!": "已中止。",
    "default: {default}": "默认：{default}",
    "env var: {var}": "环境变量：{var}",
    "required": "必填",
}
_CLICK_ZH_PLURAL = {
    "Got unexpected extra argument ({args})": ("多余的参数（{args}）", "多余的参数（{args}）"),
    "Option {name!r} requires an argument.": ("选项 {name!r} 后面要写一个值。", "选项 {name!r} 后面要写 {nargs} 个值。"),
    "Did you mean {possibility}?": ("是否想用 {possibility}？", "（是否想用其中之一：{possibilities}？）"),
    "{value!r} is not {choice}.": ("{value!r} 不是 {choice}。", "{value!r} 不是以下之一：{choices}。"),
    "Takes {nargs} values but 1 was given.": ("需要 {nargs} 个值，只给了 1 个。", "需要 {nargs} 个值，给了 {len} 个。"),
}


def _zh(message: str) -> str:
    return _CLICK_ZH.get(message, message)


def _zh_plural(singular: str, plural: str, n: int) -> str:
    pair = _CLICK_ZH_PLURAL.get(singular)
    if pair is None:
        return singular if n == 1 else plural
    return pair[0] if n == 1 else pair[1]


def _install_click_chinese() -> None:
    import importlib

    for name in ("core", "exceptions", "types", "parser", "formatting", "decorators", "termui", "utils"):
        mod = importlib.import_module(f"click.{name}")
        if hasattr(mod, "_"):
            mod._ = _zh
        if hasattr(mod, "ngettext"):
            mod.ngettext = _zh_plural


_install_click_chinese()

# Type names show as metavars (`--top INTEGER`) and in "'abc' is not a valid integer": said in Chinese.
for _type, _name in ((click.STRING, "文字"), (click.INT, "整数"), (click.FLOAT, "数字"), (click.BOOL, "是/否")):
    _type.name = _name


def _missing_parameter_message(self: click.MissingParameter) -> str:
    """click's "Missing option '--workers'." with Chinese punctuation (its full stop is not translatable)."""
    hint = self.param_hint
    if hint is None and self.param is not None:
        hint = self.param.get_error_hint(self.ctx)
    if hint is not None and not isinstance(hint, str):
        hint = " / ".join(repr(x) for x in hint)
    kind = self.param_type or (self.param.param_type_name if self.param is not None else "parameter")
    missing = {"argument": "缺少参数", "option": "缺少选项"}.get(kind, "缺少参数")
    extra = self.param.type.get_missing_message(param=self.param, ctx=self.ctx) if self.param is not None else None
    msg = "。".join(m for m in (self.message, extra) if m)
    return f"{missing}{' ' + hint if hint else ''}。{msg}"


click.MissingParameter.format_message = _missing_parameter_message
click.formatting.HelpFormatter.write_heading = \
    lambda self, heading: self.write(f"{'':>{self.current_indent}}{heading}：\n")


def chinese_usage(cmd: click.Command) -> None:
    """`Usage: wangge run [OPTIONS]` -> `用法： wangge run [选项]`, for every command below `cmd`."""
    if cmd.options_metavar == "[OPTIONS]":
        cmd.options_metavar = "[选项]"
    if isinstance(cmd, click.Group):
        cmd.subcommand_metavar = "命令 [参数]..." if not cmd.chain else "命令1 [参数]... [命令2 [参数]...]..."
        for sub in cmd.commands.values():
            chinese_usage(sub)

EXIT_INPUT = 2     # a file the user gave has problems
EXIT_ENGINE = 1    # anything else we refused
EXIT_BUG = 70      # an internal error (EX_SOFTWARE)


# The library names what a problem is about in words (输出文件夹); on the command line it is an option.
FLAG_OF = {OUT_FOLDER: "--out", DATA_FOLDER: "--data", SETTINGS_FIELD: "--office", POLICY_FIELD: "--policy",
           MONTH_FIELD: "--month", DOCUMENTS_FIELD: "--only", RECORDS_FIELD: "--records", DATABASE_FIELD: "--database"}
# What to do next, by HistoryError.code, said as commands.
HINT_OF = {"no_history": "先用 wangge run 存入月份", "correct_new_month": "新月份请用 wangge run",
           "policy_changed": "按新细则重算用 wangge correct --month 月份"}


def _cli_problem(p: Problem) -> Problem:
    flag = FLAG_OF.get(p.field)
    if flag:
        # a problem about what was given rather than a file ("要打印的文书"): given on the command line
        p = replace(p, field=flag, file="命令行" if p.file == p.field else p.file)
    if NO_EVENTS_SAID in p.hint:   # "…或注明“本月无事件”": on the command line that is a flag
        p = replace(p, hint=p.hint.replace("或注明“本月无事件”", "或加 --no-events"))
    return p


def report_error(exc: EngineError) -> int:
    """Print an engine error for a clerk and return the exit code."""
    if isinstance(exc, InputError):
        head = f"考核细则中的示例有 {len(exc.problems)} 处与计算结果不符" if isinstance(exc, ExampleMismatch) \
            else f"{exc.kind}有 {len(exc.problems)} 处问题，未写出任何结果"
        err_console.print(f"错误：{head}：", markup=False)
        for p in exc.problems:
            err_console.print(f"  {_cli_problem(p)}", markup=False)
        return EXIT_INPUT
    if isinstance(exc, InfeasibleError):
        err_console.print(f"错误：{exc}", markup=False)
        for line in exc.explanation:
            err_console.print(f"  {line}", markup=False)
        return EXIT_ENGINE
    if isinstance(exc, HistoryError):
        hint = HINT_OF.get(exc.code)
        err_console.print(f"错误：{exc}" + (f"；{hint}" if hint else ""), markup=False)
        for p in exc.problems:
            err_console.print(f"  {_cli_problem(p)}", markup=False)
        return EXIT_INPUT
    if isinstance(exc, RuleEngineError):
        err_console.print(f"错误：规则引擎异常：{exc}", markup=False)
        return EXIT_ENGINE
    err_console.print(f"错误：{exc}", markup=False)
    return EXIT_ENGINE


def run_guarded(fn):
    """Decorator for click commands: EngineError -> message + non-zero exit."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except EngineError as exc:
            sys.exit(report_error(exc))
        except click.ClickException:   # a usage mistake found inside a command: click says it with the usage
            raise
        except KeyboardInterrupt:
            err_console.print("已中断；之前的结果保持不变。")
            sys.exit(130)
        except Exception as exc:  # a bug of ours: say so plainly, keep the trace for developers
            if os.environ.get("WANGGE_DEBUG"):
                raise
            err_console.print(f"程序内部错误（不是您的文件有误；之前的结果保持不变）：{type(exc).__name__}: {exc}",
                              markup=False)
            err_console.print("请把此信息报告给开发者；设置环境变量 WANGGE_DEBUG=1 可看到完整的调用栈。", markup=False)
            sys.exit(EXIT_BUG)

    return wrapper


def print_notes(notes) -> None:
    """What the clerk should know of the month's inputs (not problems: the month was scored)."""
    for note in notes:
        console.print(f"提示：{note}", markup=False)
