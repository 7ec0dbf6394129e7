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
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import yaml

from .errors import DataError, InputError, Problem, ProblemList, close_match


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

    depth = 0

    def compose_node(self, parent, index):
        # PyYAML composes nested nodes recursively: refuse absurd nesting by name, at its line,
        # before Python's own recursion limit turns it into an anonymous RecursionError
        self.depth += 1
        try:
            if self.depth > MAX_YAML_DEPTH:
                raise yaml.composer.ComposerError(None, None, f"nesting deeper than {MAX_YAML_DEPTH}",
                                                  self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


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
                loader.duplicates.append((node, key, line, own_keys[key]))
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
MAX_YAML_DEPTH = 100       # levels of nesting: a policy has about 8
MAX_YAML_BYTES = 1_000_000  # the largest preset is 15 KB; parsing 5 MB of YAML takes a minute


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
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:
            raise cls([Problem(name, None, "文件大小", f"{size / 1e6:.1f} MB", f"不超过 {MAX_YAML_BYTES // 1_000_000} MB 的 YAML 文件",
                               "考核细则和设置文件通常只有几十 KB；请检查是否选错了文件")])
        text = read_text(path)
    except OSError as exc:
        raise cls([Problem(name, None, "文件", str(path), "可读取的 YAML 文件", str(exc.strerror or exc))])
    except EncodingProblem as exc:
        raise cls([Problem(name, exc.line, "文件", exc.found, exc.expected, "请用 UTF-8 编码保存")])
    loader = _LocLoader(text)
    loader.duplicates = []
    try:
        node = loader.get_single_node()
        expanded, written = _expanded_size(node) if node is not None else (0, 0)
        if written > MAX_YAML_NODES:
            raise cls([Problem(name, None, "YAML 内容", f"超过 {MAX_YAML_NODES:,} 个值", f"不超过 {MAX_YAML_NODES:,} 个值的文件",
                               "考核细则和设置文件通常只有几千个值；请检查是否选错了文件")])
        if expanded > MAX_YAML_NODES:   # a few anchors referring to each other can expand to billions
            raise cls([Problem(name, node.start_mark.line + 1, "YAML 别名", "别名（*引用）展开后过大",
                               f"展开后不超过 {MAX_YAML_NODES:,} 个值的文件", "请少用层层嵌套的 &锚点 和 *引用")])
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        raise cls([yaml_problem(name, exc)])
    except RecursionError:   # nesting within MAX_YAML_DEPTH that still exhausts the stack
        raise cls([Problem(name, None, "YAML 语法", "嵌套层次过深", f"不超过 {MAX_YAML_DEPTH} 层的嵌套")])
    finally:
        loader.dispose()
    paths = _node_paths(node) if loader.duplicates else {}
    dups = [Problem(name, line, dotted(paths.get(id(parent), ()) + (key,)), key, "每个键只出现一次",
                    f"第 {first} 行已有「{key}」，后一个会覆盖前一个")
            for parent, key, line, first in loader.duplicates]
    if dups:
        if problems is None:
            raise cls(dups)
        problems.extend(dups)
    return data


def _node_paths(root: yaml.Node) -> dict[int, tuple]:
    """id(mapping node) -> its path of keys and indexes from the root (the first path, in document
    order, for a node that aliases reach again), so a duplicate key can be named `items[2].points`."""
    paths: dict[int, tuple] = {}
    stack: list[tuple[yaml.Node, tuple]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        if id(node) in paths:
            continue
        if isinstance(node, yaml.MappingNode):
            paths[id(node)] = path
            children = [(v, path + (k.value if isinstance(k, yaml.ScalarNode) else "?",)) for k, v in node.value]
        elif isinstance(node, yaml.SequenceNode):
            paths[id(node)] = path
            children = [(v, path + (i,)) for i, v in enumerate(node.value)]
        else:
            continue
        stack.extend(reversed(children))
    return paths


def _expanded_size(root: yaml.Node) -> tuple[int, int]:
    """How many nodes the document has once every alias is expanded (aliases share node objects),
    capped just above MAX_YAML_NODES, and how many it has as written."""
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
    return memo.get(id(root), 1), len(memo)


# PyYAML's problems, said for a clerk: (pattern of the English problem, what was found, what was expected)
_YAML_PROBLEMS = [
    (r"nesting deeper than (\d+)", "嵌套层次过深", "不超过 {0} 层的嵌套（考核细则通常只有七八层）"),
    (r"found character '\\t' that cannot start any token|found a tab character", "制表符（Tab）",
     "用空格缩进（YAML 不允许 Tab）"),
    (r"found character '([%@`|>])' that cannot start any token", "以 {0} 开头的值", "以 {0} 开头的值加上引号，如 \"{0}…\""),
    (r"found character '(.*)' that cannot start any token", "不能作为值开头的字符 {0}", "加上引号的值"),
    (r"mapping values are not allowed here", "此处多出的冒号“:”", "每行一个“键: 值”，值中含冒号时加引号，冒号后留一个空格"),
    (r"could not find expected ':'", "缺少冒号的键", "“键: 值”的写法（冒号后留一个空格）"),
    (r"expected <block end>, but found", "缩进不一致", "同一层的键和列表项缩进对齐"),
    (r"expected ',' or '\}'", "未闭合的花括号 {{", "与 {{ 配对的 }}"),
    (r"expected ',' or '\]'", "未闭合的方括号 [", "与 [ 配对的 ]"),
    (r"unclosed quote", "未闭合的引号", "与开头的引号配对的引号（值中含同一种引号时，改用另一种引号括起来）"),
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


# Problems PyYAML notices only later (a key without a colon at the next key, a quote or bracket left
# open at the end of the file): the mistake is where the construct began, PyYAML's context mark.
_YAML_AT_CONTEXT = re.compile(r"could not find expected ':'|found unexpected end of stream|expected ',' or '[\]}]'")
_YAML_CONTEXT_STARTS = ("while scanning a simple key", "while scanning a quoted scalar",
                        "while parsing a flow sequence", "while parsing a flow mapping")


def yaml_problem(file: str, exc: yaml.YAMLError) -> Problem:
    """A YAML syntax error as a located problem, in Chinese (PyYAML's own words as a hint)."""
    problem = str(getattr(exc, "problem", None) or exc)
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    noticed = ""
    context, cmark = str(getattr(exc, "context", None) or ""), getattr(exc, "context_mark", None)
    if cmark is not None and mark is not None and _YAML_AT_CONTEXT.search(problem) \
            and context.startswith(_YAML_CONTEXT_STARTS) and cmark.line < mark.line:
        noticed = f"，读到第 {mark.line + 1} 行时发现"
        mark = cmark
        if context.startswith("while scanning a quoted scalar"):
            problem = "unclosed quote"
    line = mark.line + 1 if mark else None
    where = (f"第 {mark.column + 1} 列" if mark else "") + noticed
    for rx, found, expected in _YAML_PROBLEMS:
        m = re.search(rx, problem)
        if m:
            groups = m.groups() or ("",)
            return Problem(file, line, "YAML 语法", found.format(*groups), expected.format(*groups), where)
    return Problem(file, line, "YAML 语法", problem, "合法的 YAML", "检查缩进、冒号和引号" + (f"（{where}）" if where else ""))


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
    flagged: frozenset = frozenset()   # columns whose cell already has a problem (e.g. a formula without a value)

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)


def _norm_header(text: Any) -> str:
    return str(text if text is not None else "").strip().replace("\u3000", "").replace(" ", "").lower()


def _close_header(key: str, alias: dict[str, str], shown: dict[str, str]) -> str:
    """'可能是 X' for a header close to a known one (a typo), else ''."""
    close = close_match(key, sorted(alias))
    return f"可能是 {shown.get(alias[close], close)}" if close else ""


def read_table(path: str | Path, columns: Mapping[str, Iterable[str]], *, required: Iterable[str] = (),
               extra: Mapping[str, Iterable[str]] | None = None, keep_unknown: bool = False,
               sheet: str | None = None, problems: ProblemList | None = None,
               merged: str = "error") -> tuple[list[Row], list[str]]:
    """Read a CSV or XLSX table.

    `columns` maps a canonical column name to its accepted headers (English and Chinese);
    `extra` adds more accepted columns (e.g. metric ids and labels).  Returns the rows and
    the list of canonical columns present.  Unknown headers are errors unless `keep_unknown`.

    Problems: an unreadable file or a missing required column raise DataError at once (the
    rows cannot be judged).  Other problems (unknown or repeated headers, cells beyond the
    header, formulas without a value, merged cells) go to `problems` when it is given, and
    the rows are still returned so that the caller checks them in the same pass; without it
    they are raised at the end.  Merged cells in the body of an .xlsx are an error
    (`merged="error"`) or take the value of their first cell (`merged="fill"`: a register's
    town or community merged over its rows).
    """
    path = Path(path)
    name = str(path)
    try:
        header, body, notes = _read_raw(path, sheet)
    except OSError as exc:
        raise DataError([Problem(name, None, "文件", str(path), "可读取的 CSV 或 XLSX 文件", str(exc.strerror or exc))])
    except _BadFile as exc:
        raise DataError([Problem(name, None, "文件", exc.args[0], "CSV 或 XLSX 格式的表格", exc.args[1])])
    except EncodingProblem as exc:
        raise DataError([Problem(name, exc.line, "文件", exc.found, exc.expected, exc.hint)])

    alias: dict[str, str] = {}
    shown: dict[str, str] = {}          # canonical name -> how a clerk would write it
    for canon, names in list(columns.items()) + list((extra or {}).items()):
        names = list(names)
        alias[_norm_header(canon)] = canon
        for n in names:
            alias[_norm_header(n)] = canon
        shown[canon] = f"{names[0]}（{canon}）" if names and names[0] != canon else canon

    fatal = ProblemList()
    soft = problems if problems is not None else ProblemList()
    for r1, c1, r2, c2, ref in notes.merged:
        if r1 == 1:
            fatal.add(name, 1, f"合并单元格 {ref}", header[c1 - 1] if c1 - 1 < len(header) else None,
                      "第 1 行是表头，每列一个列名，不合并单元格",
                      "若第 1 行是标题，请删除标题行" if c2 > c1 else "请取消合并")
    mapping: list[str | None] = []
    seen: dict[str, int] = {}
    first_unknown: int | None = None
    unknown: list[tuple[int, Any, str]] = []     # (index, header, normalised) of headers no column knows
    for idx, head in enumerate(header):
        key = _norm_header(head)
        if not key:
            mapping.append(None)
            continue
        canon = alias.get(key)
        if canon is None:
            unknown.append((idx, head, key))
            if keep_unknown:
                canon = str(head).strip()
            else:
                # The whole list once, at the first unknown column; the others point to it.
                if first_unknown is None:
                    first_unknown = idx
                    expected = "已知的列名之一：" + "、".join(shown[c] for c in sorted(shown))
                else:
                    expected = f"已知的列名之一（见第{first_unknown + 1}列表头的说明）"
                soft.add(name, 1, f"第{idx + 1}列表头", head, expected, _close_header(key, alias, shown))
                mapping.append(None)
                continue
        if canon in seen:
            soft.add(name, 1, f"第{idx + 1}列表头", head, "每列只出现一次", f"与第{seen[canon] + 1}列重复")
            mapping.append(None)
            continue
        seen[canon] = idx
        mapping.append(canon)
    missing = [req for req in required if req not in seen]
    heads = [h for h in header if _norm_header(h)]
    title = f"第 1 行似乎是标题「{heads[0]}」：表头必须在第 1 行，请删除上方的标题行" if len(heads) == 1 else ""
    for i, req in enumerate(missing):
        names = list(columns.get(req, []))
        hint = title if i == 0 else ""
        # a misspelt header of a required column (姓明 for 姓名) is named where the column is missed
        own = {_norm_header(n): n for n in [req] + names}
        typo = next(((idx, head, own[m]) for idx, head, key in unknown if (m := close_match(key, own))), None)
        if typo:
            hint = f"第{typo[0] + 1}列表头「{str(typo[1]).strip()}」可能是「{typo[2]}」的笔误" + (f"；{hint}" if hint else "")
        first, *others = names + [req] if names else [req]   # the Chinese header first, as a clerk writes it
        fatal.add(name, 1, "表头", None, f"包含列「{first}」" + (f"（也可写作 {'、'.join(others)}）" if others else ""), hint)
    if fatal:
        raise DataError(fatal.problems + ([] if problems is not None else soft.problems))

    if merged == "fill":
        body = _fill_merged(body, notes.merged)
    else:
        for r1, c1, r2, c2, ref in notes.merged:
            if r1 > 1:
                col = header[c1 - 1] if c1 - 1 < len(header) else f"第{c1}列"
                soft.add(name, r1, f"合并单元格 {ref}（{col}）", _cell(body, r1, c1),
                         "每行单独填写（合并后只有第一行有值，其余行会被当作空白）", "请取消合并后逐行填写")
    rows: list[Row] = []
    width = len(header)
    formulas = notes.formulas
    used = [(idx, canon) for idx, canon in enumerate(mapping) if canon is not None]
    no_flags = frozenset()
    for rno, cells in body:
        first = cells[0] if cells else None
        if not (isinstance(first, str) and first.strip()) and \
                all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue  # blank lines are common at the end of hand-kept sheets
        if len(cells) > width:
            beyond = [(i, c) for i, c in enumerate(cells[width:], width) if c is not None and str(c).strip()]
            if beyond:
                i, c = beyond[0]
                soft.add(name, rno, f"第{i + 1}列", c, f"不超过表头的 {width} 列（本行有 {i + 1} 列以上）",
                         "没有表头的列；CSV 中含逗号的数字（如 3,000）请加引号或去掉逗号，否则后面各列会错位")
        values, flagged = {}, None
        short = len(cells) < width
        for idx, canon in used:
            cell = None if short and idx >= len(cells) else cells[idx]
            if isinstance(cell, str):
                cell = cell.strip() or None
            if formulas and (rno, idx + 1) in formulas:
                soft.add(name, rno, str(header[idx]).strip(), formulas[(rno, idx + 1)],
                         "数值（此公式没有计算结果）",
                         "文件未经 Excel/WPS 计算保存；请在 Excel/WPS 中打开后保存，或把公式改为数值")
                cell = None
                flagged = (flagged or set()) | {canon}
            values[canon] = cell
        rows.append(Row(name, rno, values, frozenset(flagged) if flagged else no_flags))
    if problems is None:
        soft.raise_if_any(DataError)
    return rows, [c for c in mapping if c]


def _cell(body: list[tuple[int, list]], row: int, col: int) -> Any:
    for rno, cells in body:
        if rno == row:
            return cells[col - 1] if col - 1 < len(cells) else None
    return None


def _fill_merged(body: list[tuple[int, list]], ranges: list[tuple]) -> list[tuple[int, list]]:
    """Every cell of a merged range takes the value of its first cell, as the sheet shows it."""
    if not ranges:
        return body
    by_row = {rno: list(cells) for rno, cells in body}
    for r1, c1, r2, c2, _ref in ranges:
        if r1 == 1:
            continue
        top = by_row.get(r1, [])
        value = top[c1 - 1] if c1 - 1 < len(top) else None
        for r in range(r1, r2 + 1):
            cells = by_row.get(r)
            if cells is None:
                continue
            while len(cells) < c2:
                cells.append(None)
            for c in range(c1, c2 + 1):
                cells[c - 1] = value
    return [(rno, by_row[rno]) for rno, _ in body]


class _BadFile(Exception):
    pass


@dataclass
class _SheetNotes:
    """What an .xlsx says beyond its values: formulas without a cached value, merged ranges."""

    formulas: dict = None       # (row, col) -> formula text, for formula cells that have no value
    merged: list = None         # (first row, first col, last row, last col, "C2:C3")

    def __post_init__(self):
        self.formulas = self.formulas or {}
        self.merged = self.merged or []


_MERGE_RX = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')
_FORMULA_RX = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _read_raw(path: Path, sheet: str | None) -> tuple[list, list[tuple[int, list]], _SheetNotes]:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        with open(path, "rb") as fh:
            if fh.read(4) == b"PK\x03\x04":
                raise _BadFile(f"名为 {path.suffix} 的 Excel 文件", "请把文件扩展名改为 .xlsx，或在 Excel/WPS 中另存为 CSV")
        text = read_text(path)
        dialect = "excel-tab" if suffix == ".tsv" else "excel"
        # newline="": lines end in LF, CR LF or a lone CR (old Excel for Mac), mixed or not, as the
        # csv module expects; a line break inside a quoted cell stays in the cell
        reader = csv.reader(io.StringIO(text, newline=""), dialect=dialect)
        try:
            lines = list(reader)
        except csv.Error as exc:   # e.g. a cell over the csv module's size limit
            raise _BadFile(_csv_problem(str(exc)), f"第 {reader.line_num} 行")
        if not lines:
            raise _BadFile("空文件", "第 1 行应为表头")
        return lines[0], [(i + 2, r) for i, r in enumerate(lines[1:])], _SheetNotes()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path, sheet)
    raise _BadFile(path.suffix or path.name, "请用 .csv 或 .xlsx 文件")


def _csv_problem(message: str) -> str:
    """Python's csv error, said for a clerk."""
    if "field larger than field limit" in message:
        return "过长的单元格（可能有未配对的引号 \"，把后面的内容都并进了一格）"
    return "无法读取的 CSV 内容：" + message


def sheet_names(path: str | Path) -> list[str]:
    """The sheets of an .xlsx in their order ([] when it cannot be opened: reading it says why)."""
    import openpyxl  # only here: tables are the one place we read Excel

    try:
        wb = openpyxl.load_workbook(path, read_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a corrupt file
        return []
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def _read_xlsx(path: Path, sheet: str | None) -> tuple[list, list[tuple[int, list]], _SheetNotes]:
    import zipfile

    import openpyxl  # only here: tables are the one place we read Excel
    from openpyxl.utils import column_index_from_string

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a corrupt file
        raise _BadFile("无法打开的 Excel 文件", f"文件可能已损坏：{exc}")
    notes = _SheetNotes()
    try:
        ws = wb[sheet] if sheet else wb.worksheets[0]
        ws.reset_dimensions()   # some writers state wrong dimensions; read every row there is
        all_rows = [[_xlsx_value(c) for c in r] for r in ws.iter_rows(min_row=1, min_col=1)]
        xml_path = getattr(ws, "_worksheet_path", None)
    finally:
        wb.close()
    while all_rows and all(v is None for v in all_rows[-1]):
        all_rows.pop()
    if not all_rows:
        raise _BadFile("空工作表", "第 1 行应为表头")
    xml = b""
    if xml_path:
        try:
            with zipfile.ZipFile(path) as zf:
                xml = zf.read(xml_path)
        except (KeyError, zipfile.BadZipFile, OSError):
            xml = b""
    for m in _MERGE_RX.finditer(xml):
        c1, r1 = column_index_from_string(m.group(1).decode()), int(m.group(2))
        c2, r2 = (column_index_from_string(m.group(3).decode()), int(m.group(4))) if m.group(3) else (c1, r1)
        if (r1, c1) != (r2, c2):
            notes.merged.append((r1, c1, r2, c2, m.group(0).split(b'"')[1].decode()))
    if _FORMULA_RX.search(xml):
        # formulas that no spreadsheet program has computed (files written by scripts) have no value
        wbf = openpyxl.load_workbook(path, read_only=True, data_only=False)
        try:
            wsf = wbf[sheet] if sheet else wbf.worksheets[0]
            wsf.reset_dimensions()
            for r, row in enumerate(wsf.iter_rows(min_row=1, min_col=1, values_only=True), 1):
                for c, v in enumerate(row, 1):
                    text = getattr(v, "text", v)   # ArrayFormula keeps its text in .text
                    if isinstance(text, str) and text.startswith("=") and r <= len(all_rows) \
                            and (c > len(all_rows[r - 1]) or all_rows[r - 1][c - 1] is None):
                        notes.formulas[(r, c)] = text
        finally:
            wbf.close()
    return all_rows[0], [(i + 2, r) for i, r in enumerate(all_rows[1:])], notes


def _xlsx_value(cell: Any) -> Any:
    """A cell as the sheet shows it: a number formatted as a percent (0.95 shown as 95%) is "95%"."""
    v = cell.value
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        fmt = getattr(cell, "number_format", None) or ""
        if "%" in fmt:
            text = format(_float_decimal(v) * 100, "f")
            if "." in text:
                text = text.rstrip("0").rstrip(".")
            return text + "%"
    return v


# --------------------------------------------------------------------------- cell parsing


def _float_decimal(value: float):
    """A spreadsheet float as the sheet shows it: 15 significant digits (Excel's precision), so that
    a computed 0.30000000000000004 reads 0.3."""
    from decimal import Decimal

    return Decimal(format(value, ".15g"))


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
        if not math.isfinite(value):
            raise ValueError(repr(value))
        return _float_decimal(value)
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
