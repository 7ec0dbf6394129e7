"""Office settings (发文设置): validated in one pass, every problem located."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import TemplateError
from engine.notices.settings import DEFAULT_SETTINGS, load_settings

HERE = Path(__file__).parent / "fixtures" / "notices" / "settings"


def messages(name: str) -> list[str]:
    with pytest.raises(TemplateError) as exc:
        load_settings(HERE / name)
    return [str(p) for p in exc.value.problems]


def test_the_bundled_settings_are_valid():
    s = load_settings(DEFAULT_SETTINGS)
    assert s.issuer == "鹤山镇社会治理网格化服务管理中心"
    assert s.header_text == "鹤山镇网格化服务管理中心文件"
    assert s.document_number.prefix == "鹤网格" and s.document_number.start == 1
    assert s.privacy.boards.phone == "mask" and s.privacy.cards.phone == "full"


def test_every_problem_is_reported_with_line_field_value_and_expectation():
    f = str(HERE / "error-many-problems.yaml")
    got = messages("error-many-problems.yaml")
    assert got == [
        f"{f}:4 document_number.prefix: 发现 '鹤网格〔'，应为 文号前缀（机关代字），不含〔〕、括号和“号”，如 鹤网格",
        f"{f}:5 document_number.strat: 发现 'strat'，应为 已知的字段（此字段名不认识，可能拼写有误）（可能是 start）",
        f"{f}:6 addressee: 发现 'addressee'，应为 已知的字段（此字段名不认识，可能拼写有误）（可能是 addressees）",
        f"{f}:7 date: 发现 '2026-13-01'，应为 日期 YYYY-MM-DD，如 2026-11-05",
        f"{f}:8 render_time_limit: 发现 -1，应为 大于 0 的数",
        f"{f}:10 privacy.boards.phone: 发现 'blur'，应为 以下之一：full、mask、hide",
        f"{f}:12 commendation.top: 发现 '两名'，应为 整数",
    ]


def test_a_list_instead_of_a_mapping():
    assert messages("error-not-a-mapping.yaml") == [
        f"{HERE / 'error-not-a-mapping.yaml'}:1 （根）: 发现 'LocList'，应为 一个映射（键: 值），见 docs/notices.md"]


def test_the_issuer_is_required():
    assert messages("error-missing-issuer.yaml") == [
        f"{HERE / 'error-missing-issuer.yaml'}:1 issuer: 发现 （缺失），应为 必填项"]


def test_a_template_folder_that_does_not_exist(tmp_path):
    p = tmp_path / "office.yaml"
    p.write_text("issuer: 某中心\ndocument_number: {prefix: 某网格}\ntemplates: 我的模板\n", encoding="utf-8")
    with pytest.raises(TemplateError) as exc:
        load_settings(p)
    assert [str(x) for x in exc.value.problems] == [
        f"{p}:3 templates: 发现 '我的模板'，应为 存在的模板文件夹（相对于本设置文件）"]
