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
    assert s.header_text == "鹤山镇社会治理网格化服务管理中心文件"
    assert s.signature_text == s.printed_by_text == s.unit_text == s.issuer     # one name (issue 11.8)
    assert s.document_number.prefix == "鹤网格" and s.document_number.start == 1
    assert s.privacy.boards.phone == "full" and s.privacy.cards.phone == "full"


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
        f"{HERE / 'error-not-a-mapping.yaml'}:1 （根）: 发现 '列表'，应为 “键: 值”的发文设置，至少写明 issuer（发文机关全称）和 "
        "document_number（文号前缀 prefix），如 reports/office.yaml；格式见 docs/notices.md"]


def test_the_issuer_is_required():
    assert messages("error-missing-issuer.yaml") == [
        f"{HERE / 'error-missing-issuer.yaml'}:1 issuer: 发现 （缺失），应为 必填项"]


def test_a_template_folder_that_does_not_exist(tmp_path):
    p = tmp_path / "office.yaml"
    p.write_text("issuer: 某中心\ndocument_number: {prefix: 某网格}\ntemplates: 我的模板\n", encoding="utf-8")
    with pytest.raises(TemplateError) as exc:
        load_settings(p)
    assert [str(x) for x in exc.value.problems] == [
        f"{p}:3 templates: 发现 '我的模板'，应为 存在的文件夹（相对于本设置文件）"]


def settings_file(tmp_path, text: str) -> Path:
    p = tmp_path / "office.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_the_signature_names_the_office_in_the_red_header_unless_both_are_given(tmp_path):
    """Issue 11.8: one name for the issuing office in the header and the signature."""
    base = "issuer: 鹤山镇社会治理网格化服务管理中心\ndocument_number: {prefix: 鹤网格}\n"
    s = load_settings(settings_file(tmp_path, base + "header: 鹤山镇网格化服务管理中心文件\n"))
    assert (s.header_text, s.signature_text, s.printed_by_text) == (
        "鹤山镇网格化服务管理中心文件", "鹤山镇网格化服务管理中心", "鹤山镇网格化服务管理中心")
    s = load_settings(settings_file(tmp_path, base))
    assert (s.header_text, s.signature_text) == ("鹤山镇社会治理网格化服务管理中心文件", "鹤山镇社会治理网格化服务管理中心")
    both = base + "header: 鹤山镇网格化服务管理中心文件\nsignature: 鹤山镇社会治理网格化服务管理中心\n"
    s = load_settings(settings_file(tmp_path, both))
    assert (s.header_text, s.signature_text) == ("鹤山镇网格化服务管理中心文件", "鹤山镇社会治理网格化服务管理中心")


@pytest.mark.parametrize("text", ["", "# 只有注释\n", "\n\n"])
def test_an_empty_settings_file_says_what_is_expected(tmp_path, text):
    """Issue 12.16: not 'NoneType'."""
    p = settings_file(tmp_path, text)
    with pytest.raises(TemplateError) as exc:
        load_settings(p)
    [problem] = [str(x) for x in exc.value.problems]
    assert problem.startswith(f"{p}:1 （根）: 发现 '（空文件）'，应为 “键: 值”的发文设置，至少写明 issuer（发文机关全称）和 "
                              "document_number（文号前缀 prefix）")
    assert "NoneType" not in problem


def test_a_scalar_instead_of_settings(tmp_path):
    p = settings_file(tmp_path, "鹤山镇\n")
    with pytest.raises(TemplateError) as exc:
        load_settings(p)
    assert [str(x) for x in exc.value.problems] == [
        f"{p}:1 （根）: 发现 '鹤山镇'，应为 “键: 值”的发文设置，至少写明 issuer（发文机关全称）和 document_number（文号前缀 prefix），"
        "如 reports/office.yaml；格式见 docs/notices.md"]


def test_folders_that_do_not_exist_are_reported_together(tmp_path):
    p = settings_file(tmp_path, "issuer: 某中心\ndocument_number: {prefix: 某网格}\ntemplates: 我的模板\n"
                                "boards:\n  photos: 照片\n")
    with pytest.raises(TemplateError) as exc:
        load_settings(p)
    assert [str(x) for x in exc.value.problems] == [
        f"{p}:3 templates: 发现 '我的模板'，应为 存在的文件夹（相对于本设置文件）",
        f"{p}:5 boards.photos: 发现 '照片'，应为 存在的文件夹（相对于本设置文件）"]


def test_tie_rules_and_orders_are_validated(tmp_path):
    p = settings_file(tmp_path, "issuer: 某中心\ndocument_number: {prefix: 某网格}\nbulletin: {ties: some}\n"
                                "order: {towns: 鹤山镇}\n")
    with pytest.raises(TemplateError) as exc:
        load_settings(p)
    fields = [x.field for x in exc.value.problems]
    assert fields == ["bulletin.ties", "order.towns"]
