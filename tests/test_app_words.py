"""Issue 10 part 1: library messages do not name command-line options; each front end says the
neutral fields in its own words (the CLI maps them to its options)."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from engine.cli.common import _cli_problem
from engine.errors import DOCUMENTS_FIELD, MONTH_FIELD, POLICY_FIELD, PolicyError, TemplateError
from engine.notices import parse_only
from engine.policy import load_policy

ENGINE = Path(__file__).resolve().parents[1] / "engine"
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]+")
CJK = re.compile(r"[\u4e00-\u9fff]")


def _clerk_strings(path: Path):
    """String constants with Chinese in them (what a clerk reads), docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs \
                and CJK.search(node.value):
            yield node.lineno, node.value


def test_no_library_message_names_a_command_line_option():
    found = [f"{p.relative_to(ENGINE)}:{line}: {text}"
             for p in sorted(ENGINE.rglob("*.py")) if not {"cli", "web"} & set(p.relative_to(ENGINE).parts[:1])
             for line, text in _clerk_strings(p) if FLAG.search(text)]
    assert not found, "\n".join(found)


def test_the_scan_finds_an_option_when_there_is_one(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text('def f():\n    """用 --x 说明"""\n    raise ValueError("请用 --policy 指定")\n', encoding="utf-8")
    assert [line for line, text in _clerk_strings(bad) if FLAG.search(text)] == [3]


def test_unknown_documents_are_named_neutrally_and_the_cli_names_its_option():
    with pytest.raises(TemplateError) as exc:
        parse_only("slips,letters")
    [p] = exc.value.problems
    assert (p.field, p.found) == (DOCUMENTS_FIELD, "letters")
    assert _cli_problem(p).field == "--only"


def test_a_missing_policy_path_and_a_bad_month_are_neutral(tmp_path):
    with pytest.raises(PolicyError) as exc:
        load_policy(tmp_path / "没有这个.yaml")
    [p] = exc.value.problems
    assert p.field == POLICY_FIELD and _cli_problem(p).field == "--policy"
    rules = Path(__file__).resolve().parents[1] / "rules" / "chengguan.yaml"
    with pytest.raises(PolicyError) as exc:
        load_policy(rules).for_month("2026-13")
    [p] = exc.value.problems
    assert p.field == MONTH_FIELD and _cli_problem(p).field == "--month" and p.found == "2026-13"
