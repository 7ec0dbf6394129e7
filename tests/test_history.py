"""History store, one-step month runs, corrections and crash safety (hand-built months)."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "history"))
from build import month, rules, worker  # noqa: E402

from engine.errors import HistoryError, PolicyError  # noqa: E402
from engine.app.month import record_month  # noqa: E402
from engine.changes import compare_results  # noqa: E402
from engine.history import SCHEMA_VERSION, DocNumber, FaultInjected, History, check_stored_policies  # noqa: E402

R = rules()
ROOT = Path(__file__).resolve().parents[1]


def three(scores, **kw):
    return [worker(f"W{i + 1}", s, **kw) for i, s in enumerate(scores)]


def store(hist, m, ws, out=None, **kw):
    return record_month(hist, month(m, ws), rules_for=lambda _m: R, out_dir=out, **kw)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


# --------------------------------------------------------------------------- the store


def test_month_results_round_trip_with_period_additions(tmp_path):
    with History(tmp_path / "data") as h:
        store(h, "2026-01", three([95, 90, 85]))
        res = h.month_results("2026-01")
        assert res["period_rules_applied"] is True
        w3 = res["workers"][2]
        assert (w3["peer_group"], w3["peer_rank"], w3["peer_size"], w3["withheld"], w3["payable"]) == \
            ("鹤山镇", 3, 3, "0.00", "540.00")
        info = h.months()[0]
        assert (info.month, info.policy_hash, info.worker_count, info.inputs["workers"]["sha256"]) == \
            ("2026-01", "hash-A", 3, "0" * 64)
        assert info.run_at.endswith("+00:00")
    # another process (the notices feature) reads the same month through the same API
    assert History(tmp_path / "data").month_results("2026-01") == res


def test_missing_month_and_missing_database_are_errors(tmp_path):
    with pytest.raises(HistoryError, match="没有历史库"):
        History(tmp_path / "nowhere", create=False)
    with History(tmp_path) as h, pytest.raises(HistoryError, match="历史中没有 2026年5月"):
        h.month_results("2026-05")


def test_a_new_history_reaches_the_disk_only_with_its_first_commit(tmp_path, monkeypatch):
    data = tmp_path / "a" / "data"
    with History(data) as h:
        assert h.months() == [] and not (tmp_path / "a").exists()
        monkeypatch.setenv("WANGGE_FAULT", "before_commit")
        with pytest.raises(FaultInjected):
            store(h, "2026-01", three([95, 90, 85]))
        assert not (tmp_path / "a").exists() and h.months() == []
        monkeypatch.delenv("WANGGE_FAULT")
        store(h, "2026-01", three([95, 90, 85]))
        assert sorted(p.name for p in data.iterdir()) == ["history.sqlite3"]
        store(h, "2026-02", three([95, 90, 85]))          # later commits go to the file itself
    assert [i.month for i in History(data, create=False).months()] == ["2026-01", "2026-02"]


def test_a_history_created_meanwhile_by_another_run_is_not_overwritten(tmp_path):
    with History(tmp_path) as late, History(tmp_path) as early:
        store(early, "2026-01", three([95, 90, 85]))
        with pytest.raises(HistoryError) as exc:
            store(late, "2026-02", three([95, 90, 85]))
        assert str(exc.value) == f"历史库 {tmp_path / 'history.sqlite3'} 刚被另一次运行创建，本次未写入任何内容；请重新运行"
    assert [i.month for i in History(tmp_path).months()] == ["2026-01"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.sqlite3"]


def test_schema_version_is_recorded_and_a_newer_database_is_refused(tmp_path):
    with History(tmp_path) as h:
        assert h.schema_version() == SCHEMA_VERSION
        store(h, "2026-01", three([95, 90, 85]))
    db = sqlite3.connect(tmp_path / "history.sqlite3")
    db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    db.commit()
    db.close()
    with pytest.raises(HistoryError, match=f"结构版本为 {SCHEMA_VERSION + 1}"):
        History(tmp_path)


def test_rerun_is_idempotent_and_byte_identical(tmp_path):
    with History(tmp_path / "data") as h:
        store(h, "2026-01", three([95, 90, 85], name=None), out=tmp_path / "out")
        first = snapshot(tmp_path / "out")
        rep = store(h, "2026-01", three([95, 90, 85]), out=tmp_path / "out")
        assert rep.replaced and rep.consequence_changes == [] and rep.score_changes == []
        assert snapshot(tmp_path / "out") == first
        assert sorted(first) == ["paysheet.csv", "paysheet.xlsx", "period_findings.csv", "results.json"]
        assert len(h.months()) == 1


# --------------------------------------------------------------------------- workers must fit history


def test_a_worker_id_cannot_change_person(tmp_path):
    with History(tmp_path) as h:
        store(h, "2026-01", three([95, 90, 85]))
        ws = three([95, 90, 85])
        ws[1]["name"] = "李四"
        with pytest.raises(HistoryError) as ei:
            store(h, "2026-02", ws)
        [p] = ei.value.problems
        assert (p.file, p.field, p.found) == ("in/2026-02/workers.csv", "工号 W2 的姓名", "李四")
        assert p.expected == "「网格员W2」（2026年1月历史记录）"
        assert [i.month for i in h.months()] == ["2026-01"]        # nothing stored


def test_a_person_cannot_change_worker_id(tmp_path):
    with History(tmp_path) as h:
        store(h, "2026-01", three([95, 90, 85]))
        ws = three([95, 90, 85])
        ws[2]["worker_id"] = "X9"                                  # same name, same grid, new id
        with pytest.raises(HistoryError) as ei:
            store(h, "2026-02", ws)
        [p] = ei.value.problems
        assert (p.field, p.found, p.expected) == ("工号 X9", "X9", "沿用原工号 W3")
        # a genuinely new worker (new name, new grid) is accepted and reported
        ws[2] = worker("W4", 85)
        rep = store(h, "2026-02", ws)
        assert rep.new_workers == ["W4"]


def test_a_correction_keeps_the_workers_of_the_month(tmp_path):
    with History(tmp_path) as h:
        store(h, "2026-01", three([95, 90, 85]))
        ws = three([95, 90]) + [worker("W9", 70)]
        with pytest.raises(HistoryError) as ei:
            store(h, "2026-01", ws, correction=True)
        assert sorted((p.field, p.found) for p in ei.value.problems) == [("工号 W3", None), ("工号 W9", "W9")]
        with pytest.raises(HistoryError, match="无法更正"):
            store(h, "2026-02", three([95, 90, 85]), correction=True)


def test_stored_months_must_still_resolve_to_their_policy(tmp_path):
    with History(tmp_path) as h:
        store(h, "2026-01", three([95, 90, 85]))
        store(h, "2026-02", three([95, 90, 85]))
        check_stored_policies(h, lambda m: "hash-A")               # unchanged: fine

        def resolve(m):
            if m == "2026-01":
                raise PolicyError([])
            return "hash-B"
        with pytest.raises(HistoryError) as ei:
            check_stored_policies(h, resolve)
        assert [(p.field, p.expected) for p in ei.value.problems] == [
            ("2026-01 的考核细则", "仍能解析的考核细则"),
            ("2026-02 的考核细则", "存档时的版本 hash-A…（youhao 2026.1）")]
        # the month being re-run is not checked against itself
        check_stored_policies(h, lambda m: "hash-A" if m == "2026-01" else "hash-B", skip="2026-02")


# --------------------------------------------------------------------------- corrections


def test_correction_that_removes_a_later_sanction(tmp_path):
    # W3 last in Jan (85) and Feb (86) -> Feb and Mar pay withheld (540.00 and 600.00).
    # An appeal raises W3's February score to 92: W2 (90) is now last in Feb, W3 is not ->
    # the run disappears; W2 was last neither in Jan (90 > 85) nor in Mar (95 > W1's 90), so
    # nothing new appears.  W3's Feb pay becomes 600.00 (band 全额), Mar payable 0.00 -> 600.00.
    with History(tmp_path / "data") as h:
        store(h, "2026-01", three([95, 90, 85]))
        store(h, "2026-02", three([95, 90, 86]))
        store(h, "2026-03", three([90, 95, 95]))
        assert h.month_results("2026-03")["workers"][2]["payable"] == "0.00"
        rep = store(h, "2026-02", three([95, 90, 92]), out=tmp_path / "out", correction=True, note="申诉 2026-017")
        assert rep.later_months == ["2026-03"]
        assert rep.score_changes == [{
            "worker_id": "W3", "name": "网格员W3", "old_score": "86", "new_score": "92", "score_delta": "6",
            "old_band": "发放90%", "new_band": "全额发放", "old_pay": "540.00", "new_pay": "600.00",
            "pay_delta": "60.00"}]
        assert [(c["month"], c["worker_id"], c["change"], c["rule_id"], c["amount"])
                for c in rep.consequence_changes] == [
            ("2026-02", "W3", "消失", "last_place_twice", "540.00"),
            ("2026-03", "W3", "消失", "last_place_twice", "600.00")]
        assert rep.pay_changes == [
            {"month": "2026-02", "worker_id": "W3", "old_payable": "0.00", "new_payable": "600.00"},
            {"month": "2026-03", "worker_id": "W3", "old_payable": "0.00", "new_payable": "600.00"}]
        assert h.month_results("2026-03")["workers"][2]["payable"] == "600.00"
        [corr] = h.corrections()
        assert corr["month"] == "2026-02" and corr["note"] == "申诉 2026-017"
        assert corr["summary"]["consequence_changes"][0]["change"] == "消失"
        out = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
        assert out["workers"][2]["score"] == "92" and out["workers"][2]["payable"] == "600.00"


def test_correction_that_creates_a_later_sanction(tmp_path):
    # W2 was last in Feb only (80); correcting Jan so W2 (now 70) is last in Jan too -> the run
    # Jan+Feb appears in Feb (W2's Feb pay 600 x 0.90 = 540.00) and continues in Mar (600.00).
    with History(tmp_path) as h:
        store(h, "2026-01", three([95, 90, 85]))
        store(h, "2026-02", three([95, 80, 86]))
        store(h, "2026-03", three([95, 90, 85]))
        rep = store(h, "2026-01", three([95, 70, 85]), correction=True)
        assert [(c["month"], c["worker_id"], c["change"], c["amount"]) for c in rep.consequence_changes] == [
            ("2026-02", "W2", "出现", "540.00"), ("2026-03", "W2", "出现", "600.00")]


# --------------------------------------------------------------------------- crash safety


@pytest.mark.parametrize("point", ["after_stage", "before_commit"])
def test_fault_midway_leaves_history_and_outputs_as_before(tmp_path, monkeypatch, point):
    data, out = tmp_path / "data", tmp_path / "out"
    with History(data) as h:
        store(h, "2026-01", three([95, 90, 85]), out=out)
        before_out = snapshot(out)
        before_db = h.month_results("2026-01")
        monkeypatch.setenv("WANGGE_FAULT", point)
        with pytest.raises(FaultInjected):
            store(h, "2026-01", three([60, 90, 85]), out=out)
        monkeypatch.delenv("WANGGE_FAULT")
        assert snapshot(out) == before_out
        assert h.month_results("2026-01") == before_db
        assert not list(out.glob(".wangge-staging-*"))


KILL_SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {fixtures!r})
    from build import month, rules, worker
    from engine.app.month import record_month
    from engine.history import History
    R = rules()
    ws = [worker(f"W{{i + 1}}", s) for i, s in enumerate({scores!r})]
    record_month(History({data!r}), month({m!r}, ws), rules_for=lambda _m: R, out_dir={out!r})
""")


def _run_child(tmp_path, m, scores, fault=None):
    script = KILL_SCRIPT.format(fixtures=str(Path(__file__).parent / "fixtures" / "history"), scores=scores,
                                data=str(tmp_path / "data"), out=str(tmp_path / "out"), m=m)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("WANGGE_FAULT", None)
    if fault:
        env["WANGGE_FAULT"] = fault
    return subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True)


def test_process_killed_before_commit_leaves_everything_and_rerun_is_identical(tmp_path):
    assert _run_child(tmp_path, "2026-01", [95, 90, 85]).returncode == 0
    before_out = snapshot(tmp_path / "out")
    before_db = History(tmp_path / "data").month_results("2026-01")
    # killed (os._exit) inside the open SQLite transaction, after every row was written
    killed = _run_child(tmp_path, "2026-01", [60, 90, 85], fault="before_commit:kill")
    assert killed.returncode == 137
    assert snapshot(tmp_path / "out") == before_out
    assert History(tmp_path / "data").month_results("2026-01") == before_db
    # the interrupted run, done again, gives what an uninterrupted run gives
    assert _run_child(tmp_path, "2026-01", [60, 90, 85]).returncode == 0
    rerun = snapshot(tmp_path / "out")
    clean = tmp_path / "clean"
    clean.mkdir()
    assert _run_child(clean, "2026-01", [60, 90, 85]).returncode == 0
    assert snapshot(clean / "out") == rerun
    assert rerun != before_out


# --------------------------------------------------------------------------- what-if


def test_compare_reports_score_band_and_pay_differences():
    a = month("2026-01", three([95, 88, 75]))
    b = month("2026-01", three([95, 91, 69]), policy_hash="hash-B")
    d = compare_results(a, b)
    # W2: 88 -> 91 (90% band 540.00 -> full 600.00, +60.00); W3: 75 -> 69 (80% 480.00 -> none 0.00, -480.00)
    rows = {r["worker_id"]: r for r in d["workers"]}
    assert rows["W1"]["changed"] is False
    assert (rows["W2"]["score_delta"], rows["W2"]["band_b"], rows["W2"]["pay_delta"]) == ("3", "全额发放", "60.00")
    assert (rows["W3"]["score_delta"], rows["W3"]["band_a"], rows["W3"]["pay_delta"]) == ("-6", "发放80%", "-480.00")
    # totals: A 600 + 540 + 480 = 1620.00; B 600 + 600 + 0 = 1200.00; difference -420.00
    assert d["totals"] == {"workers": 3, "score_changed": 2, "band_changed": 2, "pay_a": "1620.00",
                           "pay_b": "1200.00", "pay_delta": "-420.00"}


def test_an_older_database_is_migrated_in_place_keeping_its_months(tmp_path, monkeypatch):
    import engine.history as eh
    now = eh.SCHEMA_VERSION
    with History(tmp_path) as h:
        store(h, "2026-01", three([95, 90, 85]))
        kept = h.month_results("2026-01")
    # a future schema adds a column; opening the current file must apply exactly that step
    monkeypatch.setattr(eh, "MIGRATIONS", {**eh.MIGRATIONS, now + 1: ["ALTER TABLE months ADD COLUMN out_dir TEXT"]})
    monkeypatch.setattr(eh, "SCHEMA_VERSION", now + 1)
    with History(tmp_path) as h:
        assert h.schema_version() == now + 1
        assert h.month_results("2026-01") == kept
        cols = [r[1] for r in h.db.execute("PRAGMA table_info(months)")]
        assert cols[-1] == "out_dir"


def test_a_version_2_database_keeps_its_document_numbers_in_the_register(tmp_path, monkeypatch):
    import engine.history as eh
    monkeypatch.setattr(eh, "SCHEMA_VERSION", 2)
    with History(tmp_path) as h:
        store(h, "2026-01", three([95, 90, 85]))
        h.db.execute("INSERT INTO doc_numbers VALUES ('鹤网格', 2026, 4, '2026-01', 'bulletin', '2026-02-03')")
        assert h.schema_version() == 2
    monkeypatch.setattr(eh, "SCHEMA_VERSION", 3)
    with History(tmp_path) as h:
        assert h.schema_version() == 3
        assert len(h.month_results("2026-01")["workers"]) == 3
        assert h.doc_numbers("鹤网格", "2026-01") == {"bulletin": {"year": 2026, "number": 4, "issued_on": "2026-02-03"}}
        assert h.last_doc_number("鹤网格", 2026) == 4 and h.last_doc_number("鹤网格", 2027) == 0
        with h.transaction():
            h.insert_numbers([DocNumber("鹤网格", 2026, 5, "external", None, "关于开展消防安全排查的通知", "2026-02-10",
                                        source="external")])
        assert [(r["number"], r["source"]) for r in h.number_register()] == [(4, "wangge"), (5, "external")]
        with pytest.raises(HistoryError) as exc:
            h.check_number_free("鹤网格", 2026, 5)
        assert "已用于《关于开展消防安全排查的通知》，成文日期 2026-02-10（本单位在系统外登记）" in str(exc.value.problems[0])


def test_a_failing_migration_leaves_the_old_version(tmp_path, monkeypatch):
    import engine.history as eh
    now = eh.SCHEMA_VERSION
    with History(tmp_path) as h:
        store(h, "2026-01", three([95, 90, 85]))
    monkeypatch.setattr(eh, "MIGRATIONS", {**eh.MIGRATIONS, now + 1: ["ALTER TABLE months ADD COLUMN x TEXT",
                                                                     "THIS IS NOT SQL"]})
    monkeypatch.setattr(eh, "SCHEMA_VERSION", now + 1)
    with pytest.raises(HistoryError, match="无法打开"):
        History(tmp_path)
    monkeypatch.setattr(eh, "SCHEMA_VERSION", now)
    with History(tmp_path) as h:
        assert h.schema_version() == now
        assert "x" not in [r[1] for r in h.db.execute("PRAGMA table_info(months)")]


def test_stored_earlier_months_give_what_a_full_evaluation_gives(tmp_path):
    # Year-end rules read earlier months' findings and payable amounts; record_month reads them from
    # the store instead of evaluating again.  Both ways must agree on December.
    from engine.periods import evaluate
    scores = {1: [95, 90, 85], 2: [95, 90, 86], 3: [90, 95, 95], 4: [99, 70, 98], 5: [99, 70, 98]}
    with History(tmp_path) as h:
        for i in range(1, 13):
            store(h, f"2026-{i:02d}", three(scores.get(i, [92, 91, 93]), wage="2000.00"))
        stored_dec = h.period_additions("2026-12")
        full = evaluate(lambda m: R, h.views(), ["2026-12"])["2026-12"]
    assert stored_dec == full
    # and December really reads the earlier months: W3 (last Jan+Feb) and W2 (last Apr+May and again
    # from June, 91 < 92 < 93) were criticised; W1 was last only in March -> the only priority.
    # W3 lost Feb and Mar pay (540.00 + 600.00) -> below 24000.00 a year on a 2000.00 wage.
    assert [w for w, a in full.items() if any(f["kind"] == "priority" for f in a["period_findings"])] == ["W1"]
    assert any(f["kind"] == "wage_floor" for f in full["W3"]["period_findings"])


def test_fault_after_commit_is_repaired_by_running_the_month_again(tmp_path, monkeypatch):
    # The documented window: history is committed, the files are not yet moved.  Running the same
    # month again brings the outputs to what one uninterrupted run writes.
    data, out = tmp_path / "data", tmp_path / "out"
    with History(data) as h:
        store(h, "2026-01", three([95, 90, 85]), out=out)
        before_out = snapshot(out)
        monkeypatch.setenv("WANGGE_FAULT", "after_commit")
        with pytest.raises(FaultInjected):
            store(h, "2026-01", three([60, 90, 85]), out=out)
        monkeypatch.delenv("WANGGE_FAULT")
        assert snapshot(out) == before_out                            # files still the old month
        assert h.month_results("2026-01")["workers"][0]["score"] == "60"  # history already the new one
        store(h, "2026-01", three([60, 90, 85]), out=out)
    with History(tmp_path / "clean") as c:
        store(c, "2026-01", three([60, 90, 85]), out=tmp_path / "clean-out")
    assert snapshot(out) == snapshot(tmp_path / "clean-out")
