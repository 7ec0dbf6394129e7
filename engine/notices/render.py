"""Jinja2 over the notice templates, safely: the only jinja2 importer in the engine.

Offices copy and edit templates, so a template is untrusted input:

- rendered in a `SandboxedEnvironment` (no attribute access to Python internals: the
  `cycler.__init__.__globals__` route to `os` raises SecurityError), with plain data only
  (dicts, lists, strings, numbers: the context builders never pass live objects);
- `StrictUndefined`: `{{ w.nmae }}` is an error naming the template, line and variable, not a
  silently blank name;
- HTML autoescaping for `.html` templates (a worker called `<b>` prints as text);
- bounded: a time limit per document (SIGALRM in the main thread, a line-trace check elsewhere),
  a cap on the output size, and a cap on every value a template builds: `*`, `**`, `+`, `~`, `%`,
  every filter and every method call (`replace`, `join`, `center`, `format` …) is checked *before*
  it runs, so a runaway loop, `{{ 'x' * 10**10 }}` or a gigabyte made by `replace` stops with a
  message instead of hanging or eating the machine.

Every failure is a `TemplateError` with the template file, the line and what went wrong.
"""
from __future__ import annotations

import re
import signal
import sys
import threading
import time
import traceback
import unicodedata
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from jinja2 import FileSystemLoader, StrictUndefined, TemplateNotFound, TemplateSyntaxError, UndefinedError
from jinja2.compiler import CodeGenerator
from jinja2.exceptions import SecurityError
from jinja2.runtime import markup_join
from jinja2.sandbox import SandboxedEnvironment

from ..errors import Problem, TemplateError
from .wording import money_text

__all__ = ["TemplateSet", "RenderTimeout", "MAX_OUTPUT_CHARS"]

MAX_OUTPUT_CHARS = 200_000_000      # ~200 MB of text: far above the county's 650 slips (~3 MB)
MAX_SEQUENCE = 1_000_000            # longest string/list a template may build with * or **
MAX_VALUE = 10_000_000              # longest string/list any one step of a template may build
_WIDTH = re.compile(r"%[-+ #0]*(\d*)(?:\.(\d+))?|\{[^{}]*?:[^{}]*?(\d+)[^{}]*\}")


class RenderTimeout(Exception):
    """The time limit for one document ran out."""


def _size(v: Any) -> int:
    return len(v) if isinstance(v, (str, list, tuple)) else 0


def _too_big(what: str) -> SecurityError:
    return SecurityError(f"{what}生成的文字或列表过长（超过 {MAX_VALUE:,}）")


def _check_args(name: str, args: tuple, kwargs: dict) -> None:
    """Refuse, before running it, a filter or method call that would build a huge value: a width,
    count or size argument beyond MAX_VALUE, a `replace` or `join` whose result would be too long,
    a format string asking for a huge field."""
    for a in list(args) + list(kwargs.values()):
        if isinstance(a, int) and not isinstance(a, bool) and abs(a) > MAX_VALUE:
            raise _too_big(name)
    if name == "replace" and len(args) >= 3 and all(isinstance(a, str) for a in args[:3]):
        text, old, new = args[:3]
        count = args[3] if len(args) > 3 and isinstance(args[3], int) and args[3] >= 0 else None
        hits = (len(text) + 1 if not old else text.count(old))
        hits = min(hits, count) if count is not None else hits
        if len(text) + hits * max(0, len(new) - len(old)) > MAX_VALUE:
            raise _too_big(name)
    if name == "join":     # "sep".join(items) or items | join(sep)
        items = next((a for a in args if isinstance(a, (list, tuple))), None)
        sep = next((a for a in args if isinstance(a, str)), "")
        if items is not None and sum(len(str(x)) for x in items) + len(sep) * len(items) > MAX_VALUE:
            raise _too_big(name)
    if name in ("format", "format_map") and args and isinstance(args[0], str):
        for m in _WIDTH.finditer(args[0]):
            if any(g and int(g) > MAX_SEQUENCE for g in m.groups()):
                raise _too_big(name)


def _checked(name: str, fn: Callable) -> Callable:
    """A filter with the same checks as a method call, before and after."""
    def filt(*args, **kwargs):
        _check_args(name, args[1:] if getattr(fn, "jinja_pass_arg", None) else args, kwargs)
        out = fn(*args, **kwargs)
        if _size(out) > MAX_VALUE:
            raise _too_big(name)
        return out
    for attr in ("jinja_pass_arg",):
        if hasattr(fn, attr):
            setattr(filt, attr, getattr(fn, attr))
    return filt


class _CodeGenerator(CodeGenerator):
    """`a ~ b` through the environment, so that the joined length is checked before joining."""

    def visit_Concat(self, node, frame) -> None:
        markup = "context.eval_ctx.volatile" if frame.eval_ctx.volatile else repr(bool(frame.eval_ctx.autoescape))
        self.write("environment.checked_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write(f"), {markup})")


class _Env(SandboxedEnvironment):
    """The sandbox, plus caps on every step that can build a huge value."""

    intercepted_binops = frozenset(["*", "**", "+", "%"])
    code_generator_class = _CodeGenerator

    def call_binop(self, context, operator, left, right):
        if operator == "**":
            if isinstance(right, (int, float)) and abs(right) > 100:
                raise SecurityError("乘方的指数过大")
            return left ** right
        if operator == "+":
            if _size(left) + _size(right) > MAX_VALUE:
                raise _too_big("+")
            return left + right
        if operator == "%":
            if isinstance(left, str):
                _check_args("format", (left,), {})
            return left % right
        if isinstance(left, (str, list, tuple)) and isinstance(right, int) and len(left) * right > MAX_SEQUENCE:
            raise SecurityError("重复的文字或列表过长")
        if isinstance(right, (str, list, tuple)) and isinstance(left, int) and len(right) * left > MAX_SEQUENCE:
            raise SecurityError("重复的文字或列表过长")
        return left * right

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - Jinja's own signature
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, (str, list, tuple)):
            _check_args(getattr(__obj, "__name__", "调用"), (owner,) + args, kwargs)
        out = super().call(__context, __obj, *args, **kwargs)
        if _size(out) > MAX_VALUE:
            raise _too_big(getattr(__obj, "__name__", "调用"))
        return out

    def wrap_str_format(self, value):
        """str.format through the sandbox's formatter, with its field widths checked first."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        text = value.__self__

        def checked(*args, **kwargs):
            _check_args("format", (text,), {})
            return wrapped(*args, **kwargs)
        return checked

    def checked_concat(self, parts, markup) -> str:
        parts = [p if isinstance(p, str) else str(p) for p in parts] if not markup else list(parts)
        if sum(len(str(p)) for p in parts) > MAX_VALUE:
            raise _too_big("~")
        return markup_join(parts) if markup else "".join(parts)


def _is_html(name: str | None) -> bool:
    return bool(name) and name.endswith((".html", ".htm", ".html.j2", ".xml"))


money = money_text      # the `money` filter: '1234.5' -> '1,234.50'


def cn_date(value: Any) -> str:
    """'2026-11-05' -> '2026年11月5日'."""
    text = str(value)
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text)
    return f"{int(m[1])}年{int(m[2])}月{int(m[3])}日" if m else text


def _cols(ch: str) -> int:
    # The CJK table font (Noto Sans Mono CJK) draws the "ambiguous" punctuation and symbols
    # (→ — “ ” · × ① ★ …) full width, as Chinese text expects; counted as 1 they pushed every
    # later cell of the row off its column.  Greek, Cyrillic, ° and the en dash stay narrow.
    eaw = unicodedata.east_asian_width(ch)
    if eaw in "WF":
        return 2
    if eaw == "A" and (ch in "·×÷" or (ord(ch) >= 0x2000 and ch != "\u2013")):
        return 2
    return 1


def text_cols(text: str) -> int:
    """Width in half-width columns of a monospaced CJK font: CJK, full-width and the symbols a CJK
    font draws full width 2, others 1."""
    return sum(_cols(ch) for ch in text)


def cols(value: Any) -> int:
    """The `cols` filter: printed width of a cell value in half-width columns (None is empty)."""
    return text_cols("" if value is None else str(value))


def pad(value: Any, width: int, align: str = "l") -> str:
    """Pad to `width` half-width columns (l, r or c); longer text is left as it is, never cut."""
    text = "" if value is None else str(value)
    gap = width - text_cols(text)
    if gap <= 0:
        return text
    if align == "r":
        return " " * gap + text
    if align == "c":
        return " " * (gap // 2) + text + " " * (gap - gap // 2)
    return text + " " * gap


def grid_row(cells: Any, cols_spec: Any, align: str | None = None, wrap: bool = False) -> str:
    """One line of a `grid_table`: each cell padded to its column ([width, align], a space each side
    included), `align` for all cells if given (the head row is centred).  A cell longer than its
    column is never cut; it runs on into the next columns, which give up as much of their room as it
    took, so the rest of the row stays under its rules wherever there is room.  With `wrap`, a long
    cell continues on more lines of the same row instead (split after 、 or a space where it can),
    so that a roster cell names every grid.  In Python rather than a Jinja loop: a county's pack
    has some 100,000 cells, and each step of sandboxed template code costs microseconds."""
    if wrap:
        return _wrapped_row(cells, cols_spec, align)
    out, carry = [], 0
    for value, col in zip(cells, cols_spec):
        room = col[0] - 2 - carry
        out.append(" " + pad(value, room, align or col[1]) + " ")
        carry = max(cols(value) - room, 0)
    return "".join(out)


def _wrapped_row(cells: Any, cols_spec: Any, align: str | None) -> str:
    columns = [_wrap(value, col[0] - 2) for value, col in zip(cells, cols_spec)]
    height = max((len(c) for c in columns), default=1)
    lines = []
    for k in range(height):
        lines.append("".join(" " + pad(c[k] if k < len(c) else "", col[0] - 2, align or col[1]) + " "
                             for c, col in zip(columns, cols_spec)))
    return "\n".join(lines)


def _wrap(value: Any, room: int) -> list[str]:
    """A cell's text as lines of at most `room` columns, broken after 、 or a space when possible."""
    text = "" if value is None else str(value)
    lines: list[str] = []
    while text_cols(text) > room > 0:
        width, cut, soft = 0, 0, 0
        for i, ch in enumerate(text):
            width += _cols(ch)
            if width > room:
                break
            cut = i + 1
            if ch in "、 ，,":
                soft = i + 1
        cut = soft or cut or 1
        lines.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    lines.append(text)
    return lines


def cn_number(n: Any) -> str:
    """1 -> 一 … 99 -> 九十九: for 一、二、 headings."""
    digits = "零一二三四五六七八九"
    n = int(n)
    if n < 10:
        return digits[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


FILTERS = {"money": money, "cn_date": cn_date, "cn_number": cn_number, "pad": pad, "cols": cols, "grid_row": grid_row}


def _filters(env: SandboxedEnvironment) -> None:
    """Jinja's filters and ours, each checked before and after it runs (see _check_args)."""
    env.filters.update(FILTERS)
    for name, fn in list(env.filters.items()):
        env.filters[name] = _checked(name, fn)


class TemplateSet:
    """Templates looked up first in the office's own folder, then in reports/."""

    def __init__(self, dirs: list[Path], *, time_limit: float = 60):
        self.dirs = [Path(d) for d in dirs]
        self.time_limit = time_limit
        self.env = _Env(loader=FileSystemLoader([str(d) for d in self.dirs]), undefined=StrictUndefined,
                        autoescape=_is_html, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
        _filters(self.env)
        self.env.globals.pop("lipsum", None)   # range (capped at 100,000 by the sandbox), dict, namespace stay

    def docx_env(self) -> SandboxedEnvironment:
        """A sandboxed environment for docxtpl, which sets autoescape on the environment it is given
        (XML escaping for every value), so it gets its own copy with the same filters and limits."""
        env = _Env(undefined=StrictUndefined, autoescape=True)
        _filters(env)
        env.globals.pop("lipsum", None)
        return env

    def path_of(self, name: str) -> str:
        for d in self.dirs:
            if (d / name).is_file():
                return str(d / name)
        return name

    def check(self, names: list[str]) -> None:
        """Load (and so compile) every template up front: all syntax errors in one pass."""
        problems = []
        for name in names:
            try:
                self.env.get_template(name)
            except TemplateError as exc:
                problems.extend(exc.problems)
            except Exception as exc:  # noqa: BLE001 - turned into a located problem
                problems.append(self._problem(name, exc))
        if problems:
            raise TemplateError(problems)

    def render(self, name: str, context: dict) -> str:
        """Render one template to text under the time and size limits."""
        try:
            template = self.env.get_template(name)
            with self.deadline():
                return _join(template.generate(context))
        except TemplateError:
            raise
        except Exception as exc:  # noqa: BLE001 - every template failure becomes a located problem
            raise TemplateError([self._problem(name, exc)]) from None

    def run_bounded(self, name: str, fn: Callable[[], Any]) -> Any:
        """Run another library's use of this environment (docxtpl) under the same limits and messages."""
        try:
            with self.deadline():
                return fn()
        except TemplateError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise TemplateError([self._problem(name, exc)]) from None

    @contextmanager
    def deadline(self) -> Iterator[None]:
        limit = self.time_limit
        if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
            def on_alarm(signum, frame):
                raise RenderTimeout()
            old = signal.signal(signal.SIGALRM, on_alarm)
            signal.setitimer(signal.ITIMER_REAL, limit)
            try:
                yield
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, old)
            return
        # Not the main thread: no signals; check the clock on every traced line of template code.
        end = time.monotonic() + limit

        def tracer(frame, event, arg):
            if time.monotonic() > end:
                raise RenderTimeout()
            return tracer
        old_trace = sys.gettrace()
        sys.settrace(tracer)
        try:
            yield
        finally:
            sys.settrace(old_trace)

    # -- messages

    def _problem(self, name: str, exc: BaseException) -> Problem:
        file, line = self._where(name, exc)
        if isinstance(exc, TemplateNotFound):
            missing = exc.name or name
            if missing != name and line is not None:     # an include/extends/import inside a template
                return Problem(file, line, "模板", missing, "模板文件夹中的模板文件",
                               "include、extends、import 的文件名从模板文件夹算起，不能用 .. 或绝对路径走出模板文件夹")
            return Problem(", ".join(str(d) for d in self.dirs), None, "模板", missing, "存在的模板文件")
        if isinstance(exc, TemplateSyntaxError):
            return Problem(self.path_of(exc.name or name) if not exc.filename else exc.filename, exc.lineno,
                           "模板语法", exc.message, "合法的 Jinja2 模板语法")
        if isinstance(exc, UndefinedError):
            m = re.search(r"has no attribute '([^']+)'", str(exc)) or re.search(r"'([^']+)' is undefined", str(exc))
            var = m[1] if m else str(exc)
            return Problem(file, line, "变量", var, "本模板可用的数据（见 docs/notices.md 的模板数据一节）",
                           str(exc))
        if isinstance(exc, SecurityError):
            return Problem(file, line, "安全限制", str(exc), "只使用模板数据，不访问程序内部、不构造过大的内容")
        if isinstance(exc, RenderTimeout):
            return Problem(file, line, "渲染时间", f"超过 {self.time_limit:g} 秒",
                           f"在 render_time_limit（{self.time_limit:g} 秒）内完成", "检查模板中是否有死循环或过大的循环")
        if isinstance(exc, _TooLong):
            return Problem(file, line, "输出大小", f"超过 {MAX_OUTPUT_CHARS:,} 个字符", "合理大小的文档",
                           "检查模板中是否有过大的循环")
        if isinstance(exc, RecursionError):
            return Problem(file, line, "递归", "宏调用层数过多", "有终止条件的宏")
        return Problem(file, line, "渲染", f"{type(exc).__name__}: {exc}", "能正常渲染的模板")

    def _where(self, name: str, exc: BaseException) -> tuple[str, int | None]:
        """The innermost template frame of the traceback (Jinja maps frames to template lines)."""
        file, line = self.path_of(name), None
        dirs = [str(d.resolve()) for d in self.dirs]
        for frame, lineno in traceback.walk_tb(exc.__traceback__):
            fname = frame.f_code.co_filename
            if any(str(Path(fname).resolve()).startswith(d) for d in dirs if fname and fname[0] != "<"):
                file, line = fname, lineno
        return file, line


class _TooLong(Exception):
    pass


def _join(chunks: Iterator[str]) -> str:
    out, size = [], 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_OUTPUT_CHARS:
            raise _TooLong()
        out.append(chunk)
    return "".join(out)
