"""A rule's reason is filled by a compiled function (compile_reason) instead of format_map over the
merged dicts of each finding: the text must be the same for every template an office can write."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.kinds.base import compile_reason, compile_template

KEYS = ["规则", "label", "得扣", "项目", "分值", "points", "日期", "数值", "x", "上午", "a1", "p", "t", "v", "c0"]
pieces = st.one_of(st.sampled_from([f"{{{k}}}" for k in KEYS]),
                   st.sampled_from(["{", "}", "{{", "}}", "%", "%s", "%(x)s", "%%", "，扣", "分", "{ 规则 }", "{x:>3}", "\\",
                                    '"', "'", '\\"', "\n", "\\u4e00", "{p}", "{t}", "{v}", "{c0}", "𠀀"]),
                   st.text(max_size=4))
words = st.dictionaries(st.sampled_from(KEYS), st.text(max_size=5), max_size=6)


@settings(max_examples=200, deadline=None)
@given(st.lists(pieces, max_size=12).map("".join), words, words, words, st.text(max_size=4))
def test_the_compiled_reason_is_the_format_map_of_the_merged_words(template, common, values, texts, points):
    merged = {**common, **values, **texts, "分值": points, "points": points}
    assert compile_reason(template, common)(values, texts, points) == compile_template(template)(merged)


def test_a_placeholder_nothing_fills_is_kept_as_written():
    fill = compile_reason("{日期}{记录}，{得扣}{分值}分（{未知}）", {"得扣": "扣"})
    assert fill({"日期": "2026-10-09"}, {"日期": "10月9日", "记录": "巡查"}, "2") == "10月9日巡查，扣2分（{未知}）"
