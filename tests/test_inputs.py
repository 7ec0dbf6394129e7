"""Inputs an office really has: odd encodings, broken files, random junk — never a crash."""
from __future__ import annotations

import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import DataError, EngineError
from engine.policy import load_policy
from engine.scoring import score_month

from conftest import FIXTURES, RULES

DATA = FIXTURES / "data"


@pytest.fixture(scope="module")
def policy():
    return load_policy(RULES / "chengguan.yaml").for_month("2026-10")


@pytest.mark.parametrize("content, found", [
    (b"", "空文件"),
    (b"\xff\xfe\x00garbage", "无法识别的文字编码"),
])
def test_unreadable_register(tmp_path, policy, content, found):
    (tmp_path / "w.csv").write_bytes(content)
    with pytest.raises(DataError) as exc:
        score_month(policy, "2026-10", tmp_path / "w.csv", DATA / "metrics.csv", DATA / "events.csv")
    assert exc.value.problems[0].found == found


def test_corrupt_xlsx(tmp_path, policy):
    (tmp_path / "m.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DataError) as exc:
        score_month(policy, "2026-10", DATA / "workers.csv", tmp_path / "m.xlsx", None)
    assert exc.value.problems[0].found == "无法打开的 Excel 文件"


def test_missing_metric_row_and_unknown_column(tmp_path, policy):
    text = (DATA / "metrics.csv").read_text(encoding="utf-8").splitlines()
    text[0] = text[0].replace("巡查到位率", "巡查率")           # a misspelt header
    (tmp_path / "m.csv").write_text("\n".join(l for l in text if ",W03," not in l) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as exc:
        score_month(policy, "2026-10", DATA / "workers.csv", tmp_path / "m.csv", DATA / "events.csv")
    fields = [(p.line, p.field, p.found) for p in exc.value.problems]
    assert (1, "第7列表头", "巡查率") in fields


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=st.lists(st.lists(st.text(max_size=8), min_size=0, max_size=12), min_size=0, max_size=6))
def test_random_metric_cells_never_crash(tmp_path_factory, policy, junk):
    tmp = tmp_path_factory.mktemp("junk")
    header = (DATA / "metrics.csv").read_text(encoding="utf-8").splitlines()[0]
    import csv
    with open(tmp / "m.csv", "w", encoding="utf-8", newline="") as fh:
        wr = csv.writer(fh)
        wr.writerow(header.split(","))
        for row in junk:
            wr.writerow(row)
    try:
        score_month(policy, "2026-10", DATA / "workers.csv", tmp / "m.csv", DATA / "events.csv")
    except EngineError:
        pass   # a located complaint is the right answer; anything else is a bug


def test_register_without_pay_column_when_policy_pays(tmp_path, policy):
    text = (DATA / "workers.csv").read_text(encoding="utf-8").replace(",月工资", "").splitlines()
    rows = [",".join(c for i, c in enumerate(l.split(",")) if i != 7) if n else l for n, l in enumerate(text)]
    (tmp_path / "w.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as exc:
        score_month(policy, "2026-10", tmp_path / "w.csv", DATA / "metrics.csv", DATA / "events.csv")
    assert {p.field for p in exc.value.problems} == {"月工资"}
    assert len(exc.value.problems) == 4        # one per worker, all in one pass
