"""One exception tree for the whole engine.

    EngineError                      anything the engine refuses to do
    ├── InputError                   one or more located problems in files a user gave us
    │   ├── PolicyError              rules/*.yaml: schema, references, unreachable rules
    │   │   └── ExampleMismatch      a policy's own worked examples do not come out as written
    │   ├── DataError                worker register, metrics, events, roster data
    │   └── TemplateError            notice templates and office settings
    ├── RuleEngineError              durable_rules misbehaved (swallowed action error, lost sid)
    ├── HistoryError                 the stored months do not fit the new run
    └── InfeasibleError              no roster satisfies the hard rules (carries an explanation)
        └── NotFoundInTime           none found in the time given, not proved impossible

The library raises these; only the CLI turns them into text for a clerk.  Every
`Problem` names the file, the line or row, the field, the value found and what was
expected, so that all problems of one pass can be reported together.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Iterable


# Neutral names for Problems about what a front end was given rather than a cell of a file: each
# front end says them in its own words (the CLI names its options, the web the page's fields).
OUT_FOLDER = "输出文件夹"          # the output folder
DATA_FOLDER = "数据目录"            # the history's folder
SETTINGS_FIELD = "发文设置"         # the office's settings for papers (office.yaml)
POLICY_FIELD = "考核细则"           # the policy files or folders
MONTH_FIELD = "考核月份"            # the month asked for
DOCUMENTS_FIELD = "要打印的文书"    # which documents of the print pack to make
RECORDS_FIELD = "记录表"            # the records sheet (days and weeks) of a month


@dataclass(frozen=True)
class Problem:
    """A single located problem in an input file (message text is Chinese, for the clerk)."""

    file: str
    line: int | None          # line (YAML) or row (CSV/XLSX, header = row 1); None when unknown
    field: str                # dotted location, e.g. "items[3].points" or column name
    found: Any                # the value found (None when missing)
    expected: str             # what was expected, in Chinese
    hint: str = ""            # optional: how to fix it

    def where(self) -> str:
        loc = self.file
        if self.line is not None:
            loc += f":{self.line}"
        return loc

    def __str__(self) -> str:
        found = "（缺失）" if self.found is _MISSING or self.found is None else repr(self.found)
        text = f"{self.where()} {self.field}: 发现 {found}，应为 {self.expected}"
        if self.hint:
            text += f"（{self.hint}）"
        return text


def close_match(word: str, choices: Iterable[str]) -> str | None:
    """The known name `word` is probably a typo of (a policy key, a column header), if any."""
    choices = list(choices)
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return close[0]
    # difflib finds two-character Chinese names at most half alike (姓明 and 姓名): one character
    # wrong, added or left out is a typo too, when only one known name is that near
    near = {c for c in choices if len(word) >= 2 and _one_edit_apart(word, c)}
    return near.pop() if len(near) == 1 else None


def _one_edit_apart(a: str, b: str) -> bool:
    """Whether `b` is `a` with one character replaced, inserted or deleted."""
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    if abs(len(a) - len(b)) != 1:
        return False
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = next((k for k, (x, y) in enumerate(zip(short, long)) if x != y), len(short))
    return short[i:] == long[i + 1:]


class _Missing:
    def __repr__(self) -> str:
        return "（缺失）"


_MISSING = _Missing()
MISSING = _MISSING


class EngineError(Exception):
    """Base of every error the engine raises on purpose."""


class InputError(EngineError):
    """A set of located problems, collected in one pass."""

    kind = "输入文件"

    def __init__(self, problems: Iterable[Problem]):
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class PolicyError(InputError):
    kind = "考核细则"


class DataError(InputError):
    kind = "数据文件"


class TemplateError(InputError):
    kind = "模板"


class ExampleMismatch(PolicyError):
    """Worked examples inside a policy file did not produce what they state: one problem per
    mismatch, field `examples[i].expect.<what>`, found = computed, expected = stated."""

    kind = "考核细则示例"


class RuleEngineError(EngineError):
    """durable_rules did something we guard against (see engine/assessment.py)."""


class HistoryError(EngineError):
    """Stored history and the new run disagree (unknown worker, unresolvable policy, ...).

    `code` names the situation for a front end that adds its own hint (the CLI names the
    command to use, the web a page): no_history, month_not_stored, policy_changed."""

    def __init__(self, message: str, problems: Iterable[Problem] = (), code: str = ""):
        self.problems = list(problems)
        self.code = code
        super().__init__(message)


class InfeasibleError(EngineError):
    """No roster satisfies the hard rules; `explanation` lists the conflicting rules in Chinese."""

    def __init__(self, message: str, explanation: list[str] | None = None):
        self.explanation = explanation or []
        super().__init__(message)


class NotFoundInTime(InfeasibleError):
    """No roster was found within the time given, and none was proved impossible: more time may
    find one (unlike InfeasibleError itself, which means proved impossible)."""


@dataclass
class ProblemList:
    """Collects problems during a pass; `raise_if_any` raises them all at once."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, file: str, line: int | None, field_: str, found: Any, expected: str, hint: str = "") -> None:
        self.problems.append(Problem(file, line, field_, found, expected, hint))

    def extend(self, problems: Iterable[Problem]) -> None:
        self.problems.extend(problems)

    def __bool__(self) -> bool:
        return bool(self.problems)

    def raise_if_any(self, cls: type[InputError] = InputError) -> None:
        if self.problems:
            raise cls(self.problems)
