"""YAML mistakes said where they are and for what they are (engine/sources.load_yaml)."""
from __future__ import annotations

import time

import pytest

from engine import sources
from engine.errors import PolicyError
from engine.policy import load_policy_file


def problems(path):
    with pytest.raises(PolicyError) as exc:
        load_policy_file(path)
    return [str(p).replace(str(path.parent) + "/", "") for p in exc.value.problems]


@pytest.mark.parametrize("text, message", [
    # PyYAML notices the key without a colon at the next key, two lines further down
    ("id: a\nname: b\nlabel\n\nitems: []\n",
     "p.yaml:3 YAML 语法: 发现 '缺少冒号的键'，应为 “键: 值”的写法（冒号后留一个空格）（第 1 列，读到第 5 行时发现）"),
    # ... and a quote left open at the end of the file
    ("id: a\nname: \"城关镇\nitems:\n  - id: x\nversion: 1\n",
     "p.yaml:2 YAML 语法: 发现 '未闭合的引号'，应为 与开头的引号配对的引号（值中含同一种引号时，改用另一种引号括起来）"
     "（第 7 列，读到第 6 行时发现）"),
    ("id: a\nlabels: [甲, 乙\nname: b\n",
     "p.yaml:2 YAML 语法: 发现 '未闭合的方括号 ['，应为 与 [ 配对的 ]（第 9 列，读到第 3 行时发现）"),
    # noticed where it is: no second line named
    ("id: a\nname: b: c\n",
     "p.yaml:2 YAML 语法: 发现 '此处多出的冒号“:”'，应为 每行一个“键: 值”，值中含冒号时加引号，冒号后留一个空格（第 8 列）"),
], ids=["key-without-colon", "open-quote", "open-bracket", "extra-colon"])
def test_a_syntax_error_names_the_line_of_the_mistake(tmp_path, text, message):
    (tmp_path / "p.yaml").write_text(text, encoding="utf-8")
    assert problems(tmp_path / "p.yaml") == [message]


def test_deep_nesting_is_said_to_be_deep_not_an_anchor(tmp_path):
    (tmp_path / "p.yaml").write_text("id: a\nname: " + "[" * 50_000 + "]" * 50_000 + "\n", encoding="utf-8")
    # the top mapping is level 1, so the 100th bracket (column 6 + 100) opens level 101
    assert problems(tmp_path / "p.yaml") == [
        "p.yaml:2 YAML 语法: 发现 '嵌套层次过深'，应为 不超过 100 层的嵌套（考核细则通常只有七八层）（第 106 列）"]


def test_a_file_too_large_for_a_policy_is_said_to_be_so_before_parsing(tmp_path):
    lines = ["id: big", "name: 大", "metrics:"]
    lines += [f"  m{i}: {{label: 指标{i}, type: integer}}" for i in range(40_000)]
    (tmp_path / "p.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    size = (tmp_path / "p.yaml").stat().st_size
    assert size > 1_000_000
    start = time.perf_counter()
    assert problems(tmp_path / "p.yaml") == [
        f"p.yaml 文件大小: 发现 '{size / 1e6:.1f} MB'，应为 不超过 1 MB 的 YAML 文件（考核细则和设置文件通常只有几十 KB；请检查是否选错了文件）"]
    assert time.perf_counter() - start < 1     # parsing it would take over ten seconds


def test_too_many_values_without_aliases_is_not_blamed_on_aliases(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "MAX_YAML_NODES", 1_000)
    (tmp_path / "p.yaml").write_text("id: a\nname: b\nlist: [" + ", ".join(["1"] * 1_200) + "]\n", encoding="utf-8")
    assert problems(tmp_path / "p.yaml") == [
        "p.yaml YAML 内容: 发现 '超过 1,000 个值'，应为 不超过 1,000 个值的文件（考核细则和设置文件通常只有几千个值；请检查是否选错了文件）"]


def test_an_alias_bomb_is_still_refused_as_one(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "MAX_YAML_NODES", 1_000)
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 4)]   # 10,000 values from 40
    (tmp_path / "p.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert problems(tmp_path / "p.yaml") == [
        "p.yaml:1 YAML 别名: 发现 '别名（*引用）展开后过大'，应为 展开后不超过 1,000 个值的文件（请少用层层嵌套的 &锚点 和 *引用）"]
