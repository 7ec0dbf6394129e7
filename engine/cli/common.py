"""Shared CLI helpers: turn EngineError into Chinese messages and exit codes."""
from __future__ import annotations

import functools
import os
import sys

import click
from rich.console import Console

from ..errors import EngineError, ExampleMismatch, HistoryError, InfeasibleError, InputError, RuleEngineError

# Piped output (CI logs, files, tests) gets a fixed width so tables do not truncate Chinese headers.
console = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 120)
err_console = Console(stderr=True, highlight=False, soft_wrap=True, width=None if sys.stderr.isatty() else 120)

EXIT_INPUT = 2     # a file the user gave has problems
EXIT_ENGINE = 1    # anything else we refused
EXIT_BUG = 70      # an internal error (EX_SOFTWARE)


def report_error(exc: EngineError) -> int:
    """Print an engine error for a clerk and return the exit code."""
    if isinstance(exc, InputError):
        err_console.print(f"错误：{exc.kind}有 {len(exc.problems)} 处问题，未写出任何结果：", markup=False)
        for p in exc.problems:
            err_console.print(f"  {p}", markup=False)
        return EXIT_INPUT
    if isinstance(exc, ExampleMismatch):
        err_console.print(f"错误：考核细则中的示例有 {len(exc.failures)} 个与计算结果不符：", markup=False)
        for f in exc.failures:
            err_console.print(f"  {f}", markup=False)
        return EXIT_INPUT
    if isinstance(exc, InfeasibleError):
        err_console.print(f"错误：{exc}", markup=False)
        for line in exc.explanation:
            err_console.print(f"  {line}", markup=False)
        return EXIT_ENGINE
    if isinstance(exc, HistoryError):
        err_console.print(f"错误：{exc}", markup=False)
        for p in exc.problems:
            err_console.print(f"  {p}", markup=False)
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
