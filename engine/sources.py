"""Read YAML, CSV and XLSX into plain Python values, keeping file and line/row numbers.

YAML mappings come back as `LocDict` and sequences as `LocList`: ordinary dict/list with a
`.line` for the node and `.lines` for each key/index, so later validation can point at the
exact line of a bad value.  Tables come back as `Row`s that remember their file and row
number (the header is row 1, as a spreadsheet shows it).  This module is the only reader of
files a user gives us; it raises `InputError` subclasses with every problem it found.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import yaml

from .errors import DataError, InputError, Problem, ProblemList


# --------------------------------------------------------------------------- YAML


class LocDict(dict):
    """A dict that remembers the line of each key (1-based)."""

    line: int = 0
    lines: dict
    file: str = "?"

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.lines = {}
        self.keyfiles = {}


class LocList(list):
    """A list that remembers the line of each item (1-based)."""

    line: int = 0
    lines: list
    file: str = "?"

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.lines = []
        self.itemfiles = []


class _LocLoader(yaml.SafeLoader):
    """SafeLoader that records line numbers; duplicate keys are errors, not silent overrides."""


def _construct_mapping(loader: _LocLoader, node: yaml.MappingNode) -> LocDict:
    own = sum(1 for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge")
    loader.flatten_mapping(node)
    merged = len(node.value) - own   # `<<: *anchor` keys come first and may be overridden
    out = LocDict()
    out.line = node.start_mark.line + 1
    own_keys: dict = {}
    for pos, (key_node, value_node) in enumerate(node.value):
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        try:
            hash(key)
        except TypeError:   # `? [a, b]: c` or `{[1]: 2}`: a list or mapping used as a key
            raise yaml.constructor.ConstructorError(None, None, "found unhashable key", key_node.start_mark)
        if pos >= merged:
            if key in own_keys:
                loader.duplicates.append((key, line, own_keys[key]))
            else:
                own_keys[key] = line
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = line
    return out


def _construct_sequence(loader: _LocLoader, node: yaml.SequenceNode) -> LocList:
    out = LocList()
    out.line = node.start_mark.line + 1
    for child in node.value:
        out.append(loader.construct_object(child, deep=True))
        out.lines.append(child.start_mark.line + 1)
    return out


_LocLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LocLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
# Dates stay strings: "2026-01" and "2026-01-05" are parsed where they are used, with a located error.
_LocLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


MAX_YAML_NODES = 200_000   # nodes after expanding aliases: a policy has a few thousand


def load_yaml(path: str | Path, cls: type[InputError] = InputError, *,
              problems: list[Problem] | None = None) -> Any:
    """Parse a YAML file safely, with line numbers; syntax errors become a located problem.

    Duplicate keys are errors.  With `problems` given they are appended there and the data
    is still returned (the later value wins), so the caller can check everything else in
    the same pass; without it they are raised at once.
    """
    path = Path(path)
    name = str(path)
    try:
        text = read_text(path)
    except OSError as exc:
        raise cls([Problem(name, None, "文件", str(path), "可读取的 YAML 文件", str(exc.strerror or exc))])
    except EncodingProblem as exc:
        raise cls([Problem(name, exc.line, "文件", exc.found, exc.expected, "请用 UTF-8 编码保存")])
    loader = _LocLoader(text)
    loader.duplicates = []
    try:
        node = loader.get_single_node()
        if node is not None and _expanded_size(node) > MAX_YAML_NODES:
            raise cls([Problem(name, node.start_mark.line + 1, "YAML 别名", "别名（*引用）展开后过大",
                               f"展开后不超过 {MAX_YAML_NODES} 个节点的文件", "请少用层层嵌套的 &锚点 和 *引用")])
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        raise cls([yaml_problem(name, exc)])
    except RecursionError:   # a recursive alias (`&a [*a]`) or absurd nesting
        raise cls([Problem(name, None, "YAML 语法", "无限嵌套（自己引用自己的 &锚点）", "有限层次的 YAML")])
    finally:
        loader.dispose()
    dups = [Problem(name, line, str(key), key, "每个键只出现一次", f"第 {first} 行已有「{key}」，后一个会覆盖前一个")
            for key, line, first in loader.duplicates]
    if dups:
        if problems is None:
            raise cls(dups)
        problems.extend(dups)
    return data


def _expanded_size(root: yaml.Node) -> int:
    """How many nodes the document has once every alias is expanded (aliases share node objects)."""
    memo: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    active: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            active.discard(key)
            children = node.value if isinstance(node, yaml.SequenceNode) else \
                [n for kv in node.value for n in kv] if isinstance(node, yaml.MappingNode) else []
            memo[key] = min(1 + sum(memo.get(id(c), 1) for c in children), MAX_YAML_NODES + 1)
            continue
        if key in memo or key in active:
            continue
        active.add(key)
        stack.append((node, True))
        if isinstance(node, yaml.SequenceNode):
            stack.extend((c, False) for c in node.value)
        elif isinstance(node, yaml.MappingNode):
            stack.extend((n, False) for kv in node.value for n in kv)
    return memo.get(id(root), 1)


# PyYAML's problems, said for a clerk: (pattern of the English problem, what was found, what was expected)
_YAML_PROBLEMS = [
    (r"found character '\\t' that cannot start any token|found a tab character", "制表符（Tab）",
     "用空格缩进（YAML 不允许 Tab）"),
    (r"found character '([%@`|>])' that cannot start any token", "以 {0} 开头的值", "以 {0} 开头的值加上引号，如 \"{0}…\""),
    (r"found character '(.*)' that cannot start any token", "不能作为值开头的字符 {0}", "加上引号的值"),
    (r"mapping values are not allowed here", "此处多出的冒号“:”", "每行一个“键: 值”，值中含冒号时加引号，冒号后留一个空格"),
    (r"could not find expected ':'", "缺少冒号的键", "“键: 值”的写法"),
    (r"expected <block end>, but found", "缩进不一致", "同一层的键和列表项缩进对齐"),
    (r"expected ',' or '\}'", "未闭合的花括号 {{", "与 {{ 配对的 }}"),
    (r"expected ',' or '\]'", "未闭合的方括号 [", "与 [ 配对的 ]"),
    (r"found unexpected end of stream", "文件意外结束", "闭合的引号和括号"),
    (r"found unknown escape character", "双引号中无法识别的转义字符 \\", "合法的转义，或改用单引号"),
    (r"found undefined alias '?([^']*)'?", "未定义的引用 *{0}", "先用 &{0} 定义锚点再引用"),
    (r"found duplicate anchor", "重复的锚点 &", "每个锚点名只定义一次"),
    (r"expected a single document|but found another document", "多个 YAML 文档（多余的 ---）", "一个文件只写一份内容"),
    (r"found unconstructable recursive node", "自己引用自己的 &锚点", "有限层次的 YAML"),
    (r"found unhashable key", "用列表或映射作键", "文字或数字作键"),
    (r"could not determine a constructor for the tag '?([^']*)'?", "不支持的标签 {0}", "普通的 YAML 值（不用 ! 标签）"),
    (r"expected the node content, but found", "缺少值", "键或 - 之后写上值"),
    (r"expected alphabetic or numeric character", "锚点或引用名不合法", "& 或 * 后接字母或数字"),
]


def yaml_problem(file: str, exc: yaml.YAMLError) -> Problem:
    """A YAML syntax error as a located problem, in Chinese (PyYAML's own words as a hint)."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark else None
    problem = str(getattr(exc, "problem", None) or exc)
    for rx, found, expected in _YAML_PROBLEMS:
        m = re.search(rx, problem)
        if m:
            groups = m.groups() or ("",)
            return Problem(file, line, "YAML 语法", found.format(*groups), expected.format(*groups),
                           f"第 {mark.column + 1} 列" if mark else "")
    return Problem(file, line, "YAML 语法", problem, "合法的 YAML", "检查缩进、冒号和引号")


def line_of(node: Any, path: Sequence[Any]) -> int | None:
    """The line of the deepest node along `path` (keys and indexes) that we can find."""
    best = getattr(node, "line", None) or None
    cur = node
    for step in path:
        if isinstance(cur, LocDict) and step in cur:
            best = cur.lines.get(step, best)
            cur = cur[step]
        elif isinstance(cur, LocList) and isinstance(step, int) and 0 <= step < len(cur):
            best = cur.lines[step]
            cur = cur[step]
        else:
            break
    return best


def dotted(path: Sequence[Any]) -> str:
    """('items', 3, 'points') -> 'items[3].points'."""
    out = ""
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
        else:
            out += ("." if out else "") + str(step)
    return out or "（根）"


def read_text(path: Path) -> str:
    """Read text as UTF-8 (with or without BOM), falling back to GB18030 as saved by Chinese Excel."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad_at = exc.start
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        raise EncodingProblem(raw[:bad_at].count(b"\n") + 1)


class EncodingProblem(ValueError):
    """The bytes are neither UTF-8 nor GB18030 (e.g. a binary file or UTF-16)."""

    found = "无法识别的文字编码"
    expected = "UTF-8 或 GBK（GB18030）编码的文本"
    hint = "请在 Excel/WPS 中另存为“CSV UTF-8”或直接使用 .xlsx"

    def __init__(self, line: int | None = None):
        super().__init__(line)
        self.line = line   # the line of the first byte that is not UTF-8


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------- tables


@dataclass
class Row:
    """One data row of a table, with where it came from."""

    file: str
    row: int                  # spreadsheet row number; the header is row 1
    values: dict              # canonical column name -> raw cell value (str, number or None)

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)


def _norm_header(text: Any) -> str:
    return str(text if text is not None else "").strip().replace("\u3000", "").replace(" ", "").lower()


def read_table(path: str | Path, columns: Mapping[str, Iterable[str]], *, required: Iterable[str] = (),
               extra: Mapping[str, Iterable[str]] | None = None, keep_unknown: bool = False,
               sheet: str | None = None) -> tuple[list[Row], list[str]]:
    """Read a CSV or XLSX table.

    `columns` maps a canonical column name to its accepted headers (English and Chinese);
    `extra` adds more accepted columns (e.g. metric ids and labels).  Returns the rows and
    the list of canonical columns present.  Unknown headers are errors unless `keep_unknown`.
    Raises DataError with every header problem at once.
    """
    path = Path(path)
    name = str(path)
    try:
        header, body = _read_raw(path, sheet)
    except OSError as exc:
        raise DataError([Problem(name, None, "文件", str(path), "可读取的 CSV 或 XLSX 文件", str(exc.strerror or exc))])
    except _BadFile as exc:
        raise DataError([Problem(name, None, "文件", exc.args[0], "CSV 或 XLSX 格式的表格", exc.args[1])])
    except EncodingProblem as exc:
        raise DataError([Problem(name, None, "文件", exc.found, exc.expected, exc.hint)])

    alias: dict[str, str] = {}
    for canon, names in list(columns.items()) + list((extra or {}).items()):
        alias[_norm_header(canon)] = canon
        for n in names:
            alias[_norm_header(n)] = canon

    problems = ProblemList()
    mapping: list[str | None] = []
    seen: dict[str, int] = {}
    for idx, head in enumerate(header):
        key = _norm_header(head)
        if not key:
            mapping.append(None)
            continue
        canon = alias.get(key)
        if canon is None:
            if keep_unknown:
                canon = str(head).strip()
            else:
                known = "、".join(sorted({c for c in columns} | set(extra or {})))
                problems.add(name, 1, f"第{idx + 1}列表头", head, f"已知的列名之一：{known}")
                mapping.append(None)
                continue
        if canon in seen:
            problems.add(name, 1, f"第{idx + 1}列表头", head, "每列只出现一次",
                         f"与第{seen[canon] + 1}列重复")
            mapping.append(None)
            continue
        seen[canon] = idx
        mapping.append(canon)
    for req in required:
        if req not in seen:
            names = list(columns.get(req, []))
            problems.add(name, 1, "表头", None, f"包含列「{req}」" + (f"（也可写作 {'、'.join(names)}）" if names else ""))
    problems.raise_if_any(DataError)

    rows: list[Row] = []
    for rno, cells in body:
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue  # blank lines are common at the end of hand-kept sheets
        values = {}
        for idx, canon in enumerate(mapping):
            if canon is None:
                continue
            cell = cells[idx] if idx < len(cells) else None
            if isinstance(cell, str):
                cell = cell.strip()
                if cell == "":
                    cell = None
            values[canon] = cell
        rows.append(Row(name, rno, values))
    return rows, [c for c in mapping if c]


class _BadFile(Exception):
    pass


def _read_raw(path: Path, sheet: str | None) -> tuple[list, list[tuple[int, list]]]:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        text = read_text(path)
        dialect = "excel-tab" if suffix == ".tsv" else "excel"
        reader = csv.reader(io.StringIO(text), dialect=dialect)
        lines = list(reader)
        if not lines:
            raise _BadFile("空文件", "第 1 行应为表头")
        return lines[0], [(i + 2, r) for i, r in enumerate(lines[1:])]
    if suffix in (".xlsx", ".xlsm"):
        import openpyxl  # only here: tables are the one place we read Excel

        try:
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a corrupt file
            raise _BadFile("无法打开的 Excel 文件", f"文件可能已损坏：{exc}")
        try:
            ws = wb[sheet] if sheet else wb.worksheets[0]
            all_rows = [list(r) for r in ws.iter_rows(values_only=True)]
        finally:
            wb.close()
        if not all_rows:
            raise _BadFile("空工作表", "第 1 行应为表头")
        return all_rows[0], [(i + 2, r) for i, r in enumerate(all_rows[1:])]
    raise _BadFile(path.suffix or path.name, "请用 .csv 或 .xlsx 文件")


# --------------------------------------------------------------------------- cell parsing


def parse_decimal_cell(value: Any):
    """Cell -> Decimal, or raise ValueError. Accepts '1,234.50', '95%', numbers."""
    from decimal import Decimal, InvalidOperation

    if value is None:
        raise ValueError("empty")
    if isinstance(value, bool):
        raise ValueError("bool")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    text = str(value).strip().replace(",", "").replace("，", "")
    if text.endswith("%") or text.endswith("％"):
        text = text[:-1]
    try:
        d = Decimal(text)
    except InvalidOperation:
        raise ValueError(text)
    if not d.is_finite():
        raise ValueError(text)
    return d


_TRUE = {"1", "true", "yes", "y", "是", "有", "√", "✓", "t"}
_FALSE = {"0", "false", "no", "n", "否", "无", "×", "f", ""}


def parse_bool_cell(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = str(value if value is not None else "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(text)
