"""Editing a policy file's YAML text the way a person would: only the part that changes is
rewritten, everything else — comments, blank lines, anchors, the way lists are laid out —
stays byte for byte as it was written (the only ruamel.yaml importer).

An edit names a node by its path in the document, with list entries picked by their `id`
(`["items", "info", "rules", "entry_rate_low"]`) or by position.  The entry that holds it — a
key of a block mapping or an entry of a block list — is written again from the edited tree,
with the indentation it had, and spliced into the text in place of its old lines.  Comments
inside that entry are kept (ruamel.yaml carries them on the tree); comment lines right after
it stay where they are.

`flat_text(tree)` writes a plain tree (an inherited policy resolved into one file) as block
YAML with short lists and mappings on one line, the way the presets in rules/ are written.
"""
from __future__ import annotations

import io
import re
from decimal import Decimal
from typing import Any, Iterable, Sequence

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

__all__ = ["EditError", "set_entry", "delete_entry", "append_entry", "set_top", "flat_text", "read_tree",
           "plain", "quoted"]


class EditError(Exception):
    """An edit that cannot be made on this text (a path that is not there, text that is not YAML);
    the message is Chinese."""


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.width = 4096                   # never wrap a long reason over lines
    y.preserve_quotes = True
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def read_tree(text: str) -> Any:
    try:
        return _yaml().load(text)
    except YAMLError as exc:
        raise EditError(f"YAML 语法有误，无法按表单修改：{str(exc).splitlines()[0]}") from None


def quoted(text: str) -> DoubleQuotedScalarString:
    """A string written in double quotes (months, version text: never read as a date or number)."""
    return DoubleQuotedScalarString(text)


def plain(value: Any) -> Any:
    """A value as YAML writes it: Decimals as whole numbers or decimals, never as text."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


# --------------------------------------------------------------------------- finding a node


def _step(node: Any, key: Any) -> Any:
    """The index or key of `key` in `node`: a list entry is found by its id (or a position)."""
    if isinstance(node, list):
        if isinstance(key, int):
            if 0 <= key < len(node):
                return key
        else:
            for i, v in enumerate(node):
                if isinstance(v, dict) and str(v.get("id")) == str(key):
                    return i
        raise EditError(f"找不到 {key}")
    if isinstance(node, dict):
        if key in node:
            return key
        raise EditError(f"找不到 {key}")
    raise EditError(f"{key} 的上一级不是映射或列表")


def _walk(root: Any, path: Sequence[Any]) -> list[tuple[Any, Any]]:
    """[(container, key or index)] from the root down to the node at `path`."""
    out, cur = [], root
    for key in path:
        k = _step(cur, key)
        out.append((cur, k))
        cur = cur[k]
    return out


def _flow(node: Any) -> bool:
    fa = getattr(node, "fa", None)
    return bool(fa is not None and fa.flow_style())


def _block_entry(steps: list[tuple[Any, Any]]) -> int:
    """The deepest step whose container is written as a block (its entry has lines of its own)."""
    for i in range(len(steps) - 1, -1, -1):
        container = steps[i][0]
        if not _flow(container) and all(not _flow(c) for c, _ in steps[:i]):
            return i
    raise EditError("这一部分写在一行之内，无法单独修改")


# --------------------------------------------------------------------------- lines


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _content(line: str) -> bool:
    s = line.strip()
    return bool(s) and not s.startswith("#")


def _span(lines: list[str], start: int, col: int) -> int:
    """The line after the entry starting at `start` whose key or dash stands at column `col`:
    the lines indented deeper belong to it; trailing blank and comment lines do not."""
    end = start + 1
    last = start
    while end < len(lines):
        line = lines[end]
        if _content(line):
            if _indent(line) <= col:
                break
            last = end
        elif line.strip() and _indent(line) <= col:     # a comment at the entry's own level: the next entry's
            break
        end += 1
    return last + 1


def _position(container: Any, key: Any, lines: list[str]) -> tuple[int, int, bool]:
    """(line, column of the key or of the dash, is a list entry) of an entry of a block container."""
    if isinstance(container, list):
        line, col = container.lc.item(key)
        text = lines[line]
        dash = text.rfind("-", 0, col + 1)
        if dash < 0 or text[:dash].strip():
            dash = col - 2 if col >= 2 else col
            if text[col:col + 1] == "-":
                dash = col
        return line, dash, True
    line, col = container.lc.key(key)
    return line, col, False


def _shift_comments(node: Any, by: int, seen: set | None = None) -> None:
    """Move the end-of-line comments inside `node` `by` columns left: the entry is written at column
    0 and indented afterwards, and ruamel.yaml keeps a comment's column as it was read."""
    from ruamel.yaml.tokens import CommentToken

    seen = set() if seen is None else seen
    if id(node) in seen or by <= 0:
        return
    seen.add(id(node))

    def fix(tok: Any) -> None:
        if isinstance(tok, CommentToken):
            mark = getattr(tok, "start_mark", None)
            if mark is not None and id(mark) not in seen and getattr(mark, "column", 0) >= by:
                seen.add(id(mark))
                mark.column -= by
        elif isinstance(tok, list):
            for t in tok:
                fix(t)

    ca = getattr(node, "ca", None)
    if ca is not None:
        for v in list(ca.items.values()) + [ca.comment]:
            fix(v)
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    for child in children:
        if isinstance(child, (dict, list)):
            _shift_comments(child, by, seen)


def _dump_entry(key: Any, value: Any, is_item: bool, col: int = 0) -> list[str]:
    """The entry written on its own, at column 0 (its comments `col` columns left of where they were)."""
    if col:   # a list written alone has its dash 2 columns in (indent offset 2), then dedented
        _shift_comments(value, col - (2 if is_item else 0))
    y = _yaml()
    buf = io.StringIO()
    y.dump(CommentedSeq([value]) if is_item else CommentedMap([(key, value)]), buf)
    out = buf.getvalue().rstrip("\n").split("\n")
    while out and not _content(out[-1]):          # comments after it belong where they stand in the text
        out.pop()
    base = min((_indent(line) for line in out if _content(line)), default=0)
    return [line[base:] if line[:base].strip() == "" else line for line in out]


def _splice(text: str, steps: list[tuple[Any, Any]], new_lines: list[str] | None) -> str:
    lines = text.split("\n")
    container, key = steps[-1]
    line, col, is_item = _position(container, key, lines)
    end = _span(lines, line, col)
    pad = " " * col
    replacement = [] if new_lines is None else [pad + ln if ln else ln for ln in new_lines]
    return "\n".join(lines[:line] + replacement + lines[end:])


def set_entry(text: str, path: Sequence[Any], value: Any) -> str:
    """`text` with the node at `path` replaced by `value` (a plain value or a ruamel node)."""
    root = read_tree(text)
    steps = _walk(root, path)
    at = _block_entry(steps)
    container, key = steps[-1]
    container[key] = _merge(container[key], value)
    c, k = steps[at]
    line, col, _ = _position(c, k, text.split("\n"))
    return _splice(text, steps[:at + 1], _dump_entry(k, c[k], isinstance(c, list), col))


def _merge(old: Any, new: Any) -> Any:
    """`new` written into `old` where their shapes agree, so that comments and flow style on the
    old node survive; keys `new` does not have are dropped."""
    if isinstance(old, CommentedMap) and isinstance(new, dict) and not isinstance(new, CommentedMap):
        for k in [k for k in old if k not in new]:
            del old[k]
        for k, v in new.items():
            old[k] = _merge(old[k], v) if k in old else _fresh(v, _flow(old))
        return old
    if isinstance(old, CommentedSeq) and isinstance(new, list) and not isinstance(new, CommentedSeq) \
            and len(old) == len(new):
        for i, v in enumerate(new):
            old[i] = _merge(old[i], v)
        return old
    if isinstance(old, CommentedSeq) and isinstance(new, list) and not isinstance(new, CommentedSeq):
        style = _flow(old[0]) if len(old) and isinstance(old[0], CommentedMap) else None
        seq = _fresh(new, _flow(old))
        if style is not None:
            for v in seq:
                if isinstance(v, CommentedMap):
                    v.fa.set_flow_style() if style else v.fa.set_block_style()
        old.clear()
        old.extend(seq)
        return old
    if isinstance(new, (dict, list)) and not isinstance(new, (CommentedMap, CommentedSeq)):
        return _fresh(new, False)
    if isinstance(old, str) and isinstance(new, str) and type(old) is not str and not isinstance(new, type(old)):
        return type(old)(new)                      # "…" stays quoted as it was written
    return _quoted_if_needed(new)


def _fresh(value: Any, flow: bool) -> Any:
    """A plain value as ruamel nodes; small mappings and lists of scalars on one line."""
    if isinstance(value, dict) and not isinstance(value, CommentedMap):
        m = CommentedMap((k, _fresh(v, False)) for k, v in value.items())
        if flow or _short(value):
            m.fa.set_flow_style()
        return m
    if isinstance(value, list) and not isinstance(value, CommentedSeq):
        s = CommentedSeq(_fresh(v, False) for v in value)
        if flow or all(not isinstance(v, (dict, list)) for v in value):
            s.fa.set_flow_style()
        return s
    return _quoted_if_needed(value)


def _short(value: dict) -> bool:
    """A mapping of a few scalars (a tier, a band, a star range): one line, as the presets write them."""
    return all(not isinstance(v, (dict, list)) or (isinstance(v, list) and all(not isinstance(x, (dict, list)) for x in v))
               for v in value.values()) and len(str(value)) <= 100


def delete_entry(text: str, path: Sequence[Any]) -> str:
    """`text` without the node at `path` (a list entry or a mapping key, written as a block)."""
    root = read_tree(text)
    steps = _walk(root, path)
    container, key = steps[-1]
    if _flow(container) or any(_flow(c) for c, _ in steps[:-1]):
        raise EditError("这一部分写在一行之内，无法单独删除")
    if isinstance(container, list) and len(container) == 1 and len(steps) >= 2:
        # the last entry of a list: the list stays, empty
        return set_entry(text, list(path[:-1]), [])
    return _splice(text, steps, None)


def append_entry(text: str, path: Sequence[Any], value: Any) -> str:
    """`text` with `value` added at the end of the list at `path` (an empty or flow list is rewritten)."""
    root = read_tree(text)
    steps = _walk(root, path)
    container, key = steps[-1]
    seq = container[key]
    if not isinstance(seq, list):
        raise EditError(f"{path[-1]} 不是列表")
    if not len(seq) or _flow(seq):
        return set_entry(text, path, list(seq) + [value])
    lines = text.split("\n")
    last = len(seq) - 1
    line, col, _ = _position(seq, last, lines)
    end = _span(lines, line, col)
    new = _dump_entry(None, _fresh(value, False) if isinstance(value, dict) else value, True)
    return "\n".join(lines[:end] + [" " * col + ln if ln else ln for ln in new] + lines[end:])


def set_top(text: str, values: dict[str, Any], *, after: Iterable[str] = ("name", "id"),
            drop: Iterable[str] = ()) -> str:
    """Top-level keys set (or added after the first of `after` found) and `drop` removed."""
    for key in drop:
        root = read_tree(text)
        if isinstance(root, dict) and key in root:
            text = delete_entry(text, [key])
    for key, value in values.items():
        root = read_tree(text)
        if not isinstance(root, dict):
            raise EditError("文件的根不是映射（键: 值）")
        if key in root:
            text = set_entry(text, [key], value)
            continue
        anchor = next((k for k in after if k in root), None)
        lines = text.split("\n")
        new = _dump_entry(key, value, False)
        if anchor is None:
            lines = new + lines
        else:
            line, col, _ = _position(root, anchor, lines)
            end = _span(lines, line, col)
            lines = lines[:end] + new + lines[end:]
        text = "\n".join(lines)
    return text


# --------------------------------------------------------------------------- a resolved tree as a file


_PLAIN_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def flat_text(tree: dict, header: str = "") -> str:
    """A plain tree (strings, numbers, lists, dicts) as a YAML file, with `header` as comment lines."""
    y = _yaml()
    buf = io.StringIO()
    node = _fresh_tree(tree)
    y.dump(node, buf)
    lines = [f"# {h}" if h else "#" for h in header.splitlines()] if header else []
    return "\n".join(lines + [buf.getvalue().rstrip("\n")]) + "\n"


def _fresh_tree(value: Any, depth: int = 0) -> Any:
    if isinstance(value, dict):
        m = CommentedMap((k, _fresh_tree(v, depth + 1)) for k, v in value.items())
        if depth > 1 and _short(value):
            m.fa.set_flow_style()
        return m
    if isinstance(value, list):
        s = CommentedSeq(_fresh_tree(v, depth + 1) for v in value)
        if value and all(not isinstance(v, (dict, list)) for v in value):
            s.fa.set_flow_style()
        return s
    return _quoted_if_needed(value)


def _quoted_if_needed(value: Any) -> Any:
    """Text YAML would read otherwise (a number, yes/no, an interval) in double quotes, as the presets write it."""
    if isinstance(value, str) and not isinstance(value, DoubleQuotedScalarString) and (
            _PLAIN_NUMBER.match(value) or value.lower() in ("true", "false", "yes", "no", "on", "off", "null", "")
            or value[:1] in "[({【（*&!|>'\"%@`#,?:-" or ": " in value or " #" in value):
        return DoubleQuotedScalarString(value)
    return value
