"""dumps_indented writes exactly what json.dumps(..., ensure_ascii=False, indent=n) writes."""
from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.jsontext import dumps_compact, dumps_indented

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(),
                    st.floats(allow_nan=True, allow_infinity=True),
                    st.text(alphabet=st.sampled_from(["\\", "u", "0", "1", "F", "f", "\x1f", "\x00", "\n", "\x7f", '"'])),
                    st.sampled_from(["[80, 90)", "{不是对象}", 'quote " and \\ back', "\x00\x1f\u2028控制", "",
                                     "\\u001F is text", "\\\x1f", 1e16, -0.0, 10 ** 30]))
keys = st.one_of(st.text(max_size=6), st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False))
documents = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.tuples(inner, inner), st.dictionaries(keys, inner, max_size=5)), max_leaves=40)


@settings(max_examples=400, deadline=None)
@given(doc=documents, indent=st.integers(min_value=0, max_value=4))
def test_the_same_text_as_json(doc, indent):
    assert dumps_indented(doc, indent) == json.dumps(doc, ensure_ascii=False, indent=indent)
    assert dumps_compact(doc) == json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def test_a_results_document(tmp_path):
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "history"))
    from build import month, worker
    doc = month("2026-01", [worker("W1", 95), worker("W2", 72, vetoes=1, attributes={"类型": "专职"})])
    doc["workers"][0]["findings"] = [{"rule_id": "r", "values": {"a": "1"}, "source": {"file": "m.csv", "row": 2},
                                      "reason": "差 1件", "points": "-2"}]
    assert dumps_indented(doc, 1) == json.dumps(doc, ensure_ascii=False, indent=1)


def test_what_json_refuses_is_refused():
    for bad in ({"a": {1, 2}}, {(1, 2): "tuple key"}, [object()]):
        with pytest.raises(TypeError):
            json.dumps(bad, ensure_ascii=False, indent=1)
        with pytest.raises(TypeError):
            dumps_indented(bad, 1)
    assert math.isnan(json.loads(dumps_indented(float("nan"))))
