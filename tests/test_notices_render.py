"""The template sandbox: office-edited templates cannot reach Python, cannot run away, and every
failure names the template, the line and what went wrong."""
from __future__ import annotations

import threading
import time

import pytest

from engine.errors import TemplateError
from engine.notices.render import TemplateSet, cn_number, money, pad, text_cols


def tset(tmp_path, files: dict[str, str], limit: float = 5) -> TemplateSet:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return TemplateSet([tmp_path], time_limit=limit)


def only_problem(exc: pytest.ExceptionInfo) -> str:
    assert len(exc.value.problems) == 1
    return str(exc.value.problems[0])


@pytest.mark.parametrize("attack", [
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ namespace.__init__.__globals__['__builtins__'] }}",
    "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
])
def test_template_injection_is_refused_with_the_template_and_line(tmp_path, attack):
    ts = tset(tmp_path, {"evil.html.j2": "<p>第一行</p>\n" + attack + "\n"})
    with pytest.raises(TemplateError) as exc:
        ts.render("evil.html.j2", {})
    text = only_problem(exc)
    assert text.startswith(f"{tmp_path / 'evil.html.j2'}:2 安全限制")


def test_a_runaway_loop_is_stopped_by_the_time_limit(tmp_path):
    ts = tset(tmp_path, {"loop.html.j2": "开始\n{% for i in range(100000) %}{% for j in range(100000) %}"
                                          "{% set x = i * j %}{% endfor %}{% endfor %}\n"}, limit=0.5)
    started = time.monotonic()
    with pytest.raises(TemplateError) as exc:
        ts.render("loop.html.j2", {})
    assert time.monotonic() - started < 5
    text = only_problem(exc)
    assert f"{tmp_path / 'loop.html.j2'}:2 渲染时间: 发现 '超过 0.5 秒'" in text
    assert "死循环" in text


def test_the_time_limit_also_holds_outside_the_main_thread(tmp_path):
    ts = tset(tmp_path, {"loop.html.j2": "{% for i in range(100000) %}{% for j in range(100000) %}"
                                          "{% endfor %}{% endfor %}"}, limit=0.5)
    caught = []

    def run():
        try:
            ts.render("loop.html.j2", {})
        except TemplateError as exc:
            caught.append(str(exc.problems[0]))
    t = threading.Thread(target=run)
    t.start()
    t.join(20)
    assert not t.is_alive()
    assert caught and "渲染时间" in caught[0]


@pytest.mark.parametrize("bomb", ["{{ 'x' * 100000000 }}", "{{ [1] * 100000000 }}", "{{ 10 ** 100000 }}"])
def test_operators_that_build_huge_values_are_refused(tmp_path, bomb):
    ts = tset(tmp_path, {"bomb.html.j2": bomb})
    with pytest.raises(TemplateError) as exc:
        ts.render("bomb.html.j2", {})
    assert "安全限制" in only_problem(exc)


@pytest.mark.parametrize("bomb", [
    "{{ ('x' * 1000000) | replace('x', 'x' * 1000) }}",                       # 1 GB through the filter
    "{{ ('x' * 1000000).replace('x', 'xxxxxxxxxx').replace('x', 'xxxxxxxxxx') }}",
    "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
    "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
    "{{ 'x' | center(1000000000) }}", "{{ 'a' | indent(1000000000) }}", "{{ '%1000000000s' % 'x' }}",
    "{{ '{:1000000000}'.format('x') }}", "{{ (['x' * 1000000] * 20) | join('') }}",
    "{{ [1] | batch(1000000000, 'x') | list }}",
])
def test_no_step_of_a_template_builds_a_huge_value(tmp_path, bomb):
    """Issue 12.12: only * and ** were capped; replace made a gigabyte and the run exited 0.
    Each is refused before it builds the value (fast, and without the memory)."""
    import tracemalloc
    ts = tset(tmp_path, {"bomb.html.j2": bomb})
    tracemalloc.start()
    started = time.monotonic()
    with pytest.raises(TemplateError) as exc:
        ts.render("bomb.html.j2", {})
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert "安全限制" in only_problem(exc) and "过长" in only_problem(exc)
    assert time.monotonic() - started < 5 and peak < 200_000_000


def test_ordinary_string_work_still_renders(tmp_path):
    ts = tset(tmp_path, {"ok.html.j2": "{{ ('x' * 1000) | replace('x', 'yy') | length }} {{ 'a' ~ 'b' }} {{ 1 + 2 }} "
                                       "{{ '%05d' % 3 }} {{ '<b>' ~ 'c' }} {{ '{:>4}'.format(7) }} {{ [1, 2] | join('-') }}"})
    assert ts.render("ok.html.j2", {}) == "2000 ab 3 00003 &lt;b&gt;c    7 1-2"


def test_an_include_outside_the_template_folder_names_the_template_line(tmp_path):
    """Issue 12.16: the message named the template folders, not where the include was written."""
    ts = tset(tmp_path, {"inc.html.j2": "<p>一</p>\n{% include '../../etc/passwd' %}\n"})
    with pytest.raises(TemplateError) as exc:
        ts.render("inc.html.j2", {})
    assert only_problem(exc) == (f"{tmp_path / 'inc.html.j2'}:2 模板: 发现 '../../etc/passwd'，应为 模板文件夹中的模板文件"
                                 "（include、extends、import 的文件名从模板文件夹算起，不能用 .. 或绝对路径走出模板文件夹）")


def test_a_missing_variable_names_template_line_and_variable(tmp_path):
    ts = tset(tmp_path, {"slip.html.j2": "<h1>{{ title }}</h1>\n{% for w in workers %}\n<p>{{ w.nmae }}</p>\n{% endfor %}\n"})
    with pytest.raises(TemplateError) as exc:
        ts.render("slip.html.j2", {"title": "通知单", "workers": [{"name": "张伟"}]})
    assert only_problem(exc).startswith(f"{tmp_path / 'slip.html.j2'}:3 变量: 发现 'nmae'，应为 本模板可用的数据")


def test_a_missing_top_level_variable_is_named(tmp_path):
    ts = tset(tmp_path, {"t.html.j2": "{{ titel }}"})
    with pytest.raises(TemplateError) as exc:
        ts.render("t.html.j2", {"title": "x"})
    assert f"{tmp_path / 't.html.j2'}:1 变量: 发现 'titel'" in only_problem(exc)


def test_a_syntax_error_names_the_line(tmp_path):
    ts = tset(tmp_path, {"bad.html.j2": "<p>一</p>\n<p>二</p>\n{% for x in xs %}\n{{ x }}\n"})
    with pytest.raises(TemplateError) as exc:
        ts.check(["bad.html.j2"])
    text = only_problem(exc)
    assert text.startswith(f"{tmp_path / 'bad.html.j2'}:4 模板语法")


def test_every_broken_template_is_reported_in_one_pass(tmp_path):
    ts = tset(tmp_path, {"a.html.j2": "{% if %}", "b.html.j2": "{{ x | nosuchfilter }}", "ok.html.j2": "好"})
    with pytest.raises(TemplateError) as exc:
        ts.check(["a.html.j2", "b.html.j2", "ok.html.j2", "missing.html.j2"])
    fields = [(p.file.split("/")[-1], p.field) for p in exc.value.problems]
    assert ("a.html.j2", "模板语法") in fields and ("b.html.j2", "模板语法") in fields
    assert any(p.field == "模板" and p.found == "missing.html.j2" for p in exc.value.problems)
    assert len(exc.value.problems) == 3


def test_html_is_autoescaped_and_plain_text_is_not(tmp_path):
    ts = tset(tmp_path, {"a.html.j2": "{{ name }}", "a.txt.j2": "{{ name }}"})
    assert ts.render("a.html.j2", {"name": "<b>张&伟</b>"}) == "&lt;b&gt;张&amp;伟&lt;/b&gt;"
    assert ts.render("a.txt.j2", {"name": "<b>张&伟</b>"}) == "<b>张&伟</b>"


def test_the_office_folder_overrides_the_bundled_template(tmp_path):
    own, bundled = tmp_path / "own", tmp_path / "bundled"
    own.mkdir(), bundled.mkdir()
    (bundled / "t.html.j2").write_text("原版", encoding="utf-8")
    (bundled / "u.html.j2").write_text("原版u", encoding="utf-8")
    (own / "t.html.j2").write_text("本单位版", encoding="utf-8")
    ts = TemplateSet([own, bundled])
    assert ts.render("t.html.j2", {}) == "本单位版"
    assert ts.render("u.html.j2", {}) == "原版u"


def test_filters():
    assert money("1234.5") == "1,234.50" and money("0.00") == "0.00" and money("") == ""
    assert [cn_number(n) for n in (1, 9, 10, 11, 20, 35)] == ["一", "九", "十", "十一", "二十", "三十五"]
    assert text_cols("张伟W01") == 7
    assert pad("张伟", 6) == "张伟  " and pad("12.00", 8, "r") == "   12.00" and pad("张", 5, "c") == " 张  "
    assert pad("太长的名字", 4) == "太长的名字"   # never cut


def test_symbols_a_cjk_font_draws_full_width_count_two_columns():
    # Noto Sans Mono CJK draws these full width; counted as one they slid the roster's rows right
    assert text_cols("休 →张伟") == 9 and text_cols("10月1日—10月4日") == 16 and text_cols("阿依·买买提") == 12
    assert text_cols("30°") == 3 and text_cols("a–b") == 3      # narrow in that font too


def test_an_overflowing_cell_gives_way_in_the_cells_after_it(tmp_path):
    from engine.notices.pack import REPORTS_DIR
    ts = TemplateSet([tmp_path, REPORTS_DIR])
    (tmp_path / "t.html.j2").write_text(
        '{% from "macros.html.j2" import grid_table %}'
        '{{ grid_table([[6, "l"], [10, "l"], [8, "r"]], ["甲", "乙", "丙"], [["一社区小计", "", "12.00"], ["a", "b", "3"]]) }}',
        encoding="utf-8")
    import html
    import re
    rows = [html.unescape(r) for r in re.findall(r'<div class="gt-r ">(.*?)</div>', ts.render("t.html.j2", {}))]
    assert [text_cols(r) for r in rows] == [24, 24]          # both rows end at the table's right rule
    assert rows[0].endswith("   12.00 ") and rows[1].endswith("       3 ")


def test_a_wrapped_cell_continues_on_more_lines_of_its_row():
    """The roster names every grid of a visit day: a long cell takes more lines instead of running
    into the next day's column (issue 11.10)."""
    from engine.notices.render import grid_row
    row = grid_row(["S1", "走访1-1-01、1-1-02、1-1-03", "休"], [[6, "l"], [14, "l"], [6, "l"]], None, True)
    assert row.split("\n") == [" S1    走访1-1-01、  休   ", "       1-1-02、           ", "       1-1-03             "]
    assert {text_cols(line) for line in row.split("\n")} == {26}
