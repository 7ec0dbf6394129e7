"""History store, one-step month runs, corrections and crash safety (hand-built months)."""
from __future__ import annotations

import json
import os
import shutil
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
from engine.store.migrate import VERSION_TABLE  # noqa: E402

R = rules()
ROOT = Path(__file__).resolve().parents[1]


def three(scores, **kw):
    return [worker(f"W{i + 1}", s, **kw) for i, s in enumerate(scores)]


def store(hist, m, ws, out=None, **kw):
    return record_month(hist, month(m, ws), rules_for=lambda _m: R, out_dir=out, **kw)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


# --------------------------------------------------------------------------- the store


def test_month_results_round_trip_with_period_additions(tmp_path, db):
    with db(tmp_path / "data") as h:
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
    assert db(tmp_path / "data").month_results("2026-01") == res


def test_missing_month_and_missing_database_are_errors(tmp_path, db):
    with pytest.raises(HistoryError, match="没有历史库"):
        db(tmp_path / "nowhere", create=False)
    with db(tmp_path) as h, pytest.raises(HistoryError, match="历史中没有 2026年5月"):
        h.month_results("2026-05")


def test_a_new_history_reaches_the_disk_only_with_its_first_commit(tmp_path, monkeypatch):
    # SQLite: the file is the history; a server's database exists before wangge uses it
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


def test_schema_version_is_recorded_and_a_newer_database_is_refused(tmp_path, db):
    with db(tmp_path) as h:
        assert h.schema_version() == SCHEMA_VERSION
        store(h, "2026-01", three([95, 90, 85]))
    assert db.sql(tmp_path, "SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]
    assert db.sql(tmp_path, f"SELECT version_num FROM {VERSION_TABLE}") == [(f"{SCHEMA_VERSION:04d}",)]
    # migrated by a newer wangge (its revision unknown here), or by a release that knew only schema_version
    db.sql(tmp_path, f"UPDATE {VERSION_TABLE} SET version_num = :v", {"v": f"{SCHEMA_VERSION + 2:04d}"})
    with pytest.raises(HistoryError, match=f"结构版本为 {SCHEMA_VERSION + 2}，高于本程序支持的 {SCHEMA_VERSION}"):
        db(tmp_path)
    db.sql(tmp_path, f"UPDATE {VERSION_TABLE} SET version_num = :v", {"v": f"{SCHEMA_VERSION:04d}"})
    db.sql(tmp_path, "UPDATE schema_version SET version = :v", {"v": SCHEMA_VERSION + 1})
    with pytest.raises(HistoryError, match=f"结构版本为 {SCHEMA_VERSION + 1}"):
        db(tmp_path)


def test_rerun_is_idempotent_and_byte_identical(tmp_path, db):
    with db(tmp_path / "data") as h:
        store(h, "2026-01", three([95, 90, 85], name=None), out=tmp_path / "out")
        first = snapshot(tmp_path / "out")
        rep = store(h, "2026-01", three([95, 90, 85]), out=tmp_path / "out")
        assert rep.replaced and rep.consequence_changes == [] and rep.score_changes == []
        assert snapshot(tmp_path / "out") == first
        assert sorted(first) == ["paysheet.csv", "paysheet.xlsx", "period_findings.csv", "results.json"]
        assert len(h.months()) == 1


# --------------------------------------------------------------------------- workers must fit history


def test_a_worker_id_cannot_change_person(tmp_path, db):
    with db(tmp_path) as h:
        store(h, "2026-01", three([95, 90, 85]))
        ws = three([95, 90, 85])
        ws[1]["name"] = "李四"
        with pytest.raises(HistoryError) as ei:
            store(h, "2026-02", ws)
        [p] = ei.value.problems
        assert (p.file, p.field, p.found) == ("in/2026-02/workers.csv", "工号 W2 的姓名", "李四")
        assert p.expected == "「网格员W2」（2026年1月历史记录）"
        assert [i.month for i in h.months()] == ["2026-01"]        # nothing stored


def test_a_person_cannot_change_worker_id(tmp_path, db):
    with db(tmp_path) as h:
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


def test_a_correction_keeps_the_workers_of_the_month(tmp_path, db):
    with db(tmp_path) as h:
        store(h, "2026-01", three([95, 90, 85]))
        ws = three([95, 90]) + [worker("W9", 70)]
        with pytest.raises(HistoryError) as ei:
            store(h, "2026-01", ws, correction=True)
        assert sorted((p.field, p.found) for p in ei.value.problems) == [("工号 W3", None), ("工号 W9", "W9")]
        with pytest.raises(HistoryError, match="无法更正"):
            store(h, "2026-02", three([95, 90, 85]), correction=True)


def test_stored_months_must_still_resolve_to_their_policy(tmp_path, db):
    with db(tmp_path) as h:
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


def test_correction_that_removes_a_later_sanction(tmp_path, db):
    # W3 last in Jan (85) and Feb (86) -> Feb and Mar pay withheld (540.00 and 600.00).
    # An appeal raises W3's February score to 92: W2 (90) is now last in Feb, W3 is not ->
    # the run disappears; W2 was last neither in Jan (90 > 85) nor in Mar (95 > W1's 90), so
    # nothing new appears.  W3's Feb pay becomes 600.00 (band 全额), Mar payable 0.00 -> 600.00.
    with db(tmp_path / "data") as h:
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


def test_correction_that_creates_a_later_sanction(tmp_path, db):
    # W2 was last in Feb only (80); correcting Jan so W2 (now 70) is last in Jan too -> the run
    # Jan+Feb appears in Feb (W2's Feb pay 600 x 0.90 = 540.00) and continues in Mar (600.00).
    with db(tmp_path) as h:
        store(h, "2026-01", three([95, 90, 85]))
        store(h, "2026-02", three([95, 80, 86]))
        store(h, "2026-03", three([95, 90, 85]))
        rep = store(h, "2026-01", three([95, 70, 85]), correction=True)
        assert [(c["month"], c["worker_id"], c["change"], c["amount"]) for c in rep.consequence_changes] == [
            ("2026-02", "W2", "出现", "540.00"), ("2026-03", "W2", "出现", "600.00")]


# --------------------------------------------------------------------------- crash safety


@pytest.mark.parametrize("point", ["after_stage", "before_commit"])
def test_fault_midway_leaves_history_and_outputs_as_before(tmp_path, monkeypatch, point, db):
    data, out = tmp_path / "data", tmp_path / "out"
    with db(data) as h:
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
    record_month(History({data!r}, database={url!r}), month({m!r}, ws), rules_for=lambda _m: R, out_dir={out!r})
""")


def _run_child(db, tmp_path, m, scores, fault=None):
    script = KILL_SCRIPT.format(fixtures=str(Path(__file__).parent / "fixtures" / "history"), scores=scores,
                                data=str(tmp_path / "data"), url=db.url(tmp_path / "data"), out=str(tmp_path / "out"),
                                m=m)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("WANGGE_FAULT", None)
    if fault:
        env["WANGGE_FAULT"] = fault
    return subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True)


def test_process_killed_before_commit_leaves_everything_and_rerun_is_identical(tmp_path, db):
    assert _run_child(db, tmp_path, "2026-01", [95, 90, 85]).returncode == 0
    before_out = snapshot(tmp_path / "out")
    before_db = db(tmp_path / "data").month_results("2026-01")
    # killed (os._exit) inside the open transaction, after every row was written
    killed = _run_child(db, tmp_path, "2026-01", [60, 90, 85], fault="before_commit:kill")
    assert killed.returncode == 137
    assert snapshot(tmp_path / "out") == before_out
    assert db(tmp_path / "data").month_results("2026-01") == before_db
    # the interrupted run, done again, gives what an uninterrupted run gives
    assert _run_child(db, tmp_path, "2026-01", [60, 90, 85]).returncode == 0
    rerun = snapshot(tmp_path / "out")
    clean = tmp_path / "clean"
    clean.mkdir()
    assert _run_child(db, clean, "2026-01", [60, 90, 85]).returncode == 0
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


LEGACY = Path(__file__).parent / "fixtures" / "history" / "legacy"


@pytest.mark.parametrize("version", [1, 2, 3, 4])
def test_a_database_of_the_releases_before_alembic_is_migrated_keeping_everything(tmp_path, version):
    # Files made by the store of those releases (fixtures/history/legacy/make_legacy.py), with what
    # that store read back from them: after the migration the new store reads exactly the same.
    shutil.copy(LEGACY / f"schema{version}.sqlite3", tmp_path / "history.sqlite3")
    old = json.loads((LEGACY / f"schema{version}.json").read_text(encoding="utf-8"))
    with History(tmp_path) as h:
        assert h.schema_version() == SCHEMA_VERSION
        assert [dict(vars(i)) for i in h.months()] == old["months"]
        assert {i.month: h.month_results(i.month) for i in h.months()} == old["results"]
        assert h.corrections() == old["corrections"]
        assert h.doc_numbers("鹤网格", "2026-01") == old["doc_numbers"].get("2026-01", {})
        if version == 2:   # version 2's numbers enter the register, said to be the tool's
            assert [(r["number"], r["kind"], r["month"], r["title"], r["source"]) for r in h.number_register()] == [
                (4, "bulletin", "2026-01", "2026-01 bulletin", "wangge"),
                (5, "criticism", "2026-01", "2026-01 criticism", "wangge")]
        if version >= 3:
            assert h.number_register() == old["number_register"]
        with pytest.raises(HistoryError, match="已被占用"):   # and they are still refused
            if version >= 2:
                h.check_number_free("鹤网格", 2026, 4)
            else:
                raise HistoryError("已被占用（版本 1 没有文号）")
        store(h, "2026-04", three([95, 90, 85]))           # the migrated history takes new months
    assert [i.month for i in History(tmp_path, create=False).months()] == ["2026-01", "2026-02", "2026-03", "2026-04"]


def _revision(folder: Path, body: str) -> Path:
    """A revision after the newest one, in a folder of its own (as a future release would add it)."""
    folder.mkdir(parents=True, exist_ok=True)
    nxt = f"{SCHEMA_VERSION + 1:04d}"
    (folder / f"{nxt}_test.py").write_text(textwrap.dedent(f"""
        from alembic import op
        import sqlalchemy as sa
        revision = "{nxt}"
        down_revision = "{SCHEMA_VERSION:04d}"
        branch_labels = None
        depends_on = None
        def upgrade():
        """) + textwrap.indent(textwrap.dedent(body), "    ")
        + f"    op.execute('UPDATE schema_version SET version = {SCHEMA_VERSION + 1}')\n", encoding="utf-8")
    return folder


def test_a_new_revision_is_applied_in_place_keeping_the_months(tmp_path, monkeypatch, db):
    from engine.store import migrate
    with db(tmp_path) as h:
        store(h, "2026-01", three([95, 90, 85]))
        kept = h.month_results("2026-01")
    extra = _revision(tmp_path / "rev", 'op.add_column("months", sa.Column("out_dir", sa.Text))\n')
    monkeypatch.setattr(migrate, "version_locations", lambda: [migrate.SCRIPTS / "versions", extra])
    with db(tmp_path) as h:
        assert h.schema_version() == SCHEMA_VERSION + 1
        assert h.month_results("2026-01") == kept
    assert db.sql(tmp_path, "SELECT month, out_dir FROM months") == [("2026-01", None)]
    assert db.sql(tmp_path, "SELECT version FROM schema_version") == [(SCHEMA_VERSION + 1,)]


def test_a_failing_migration_leaves_the_old_version(tmp_path, monkeypatch, db):
    from engine.store import migrate
    with db(tmp_path) as h:
        store(h, "2026-01", three([95, 90, 85]))
    extra = _revision(tmp_path / "rev", 'op.add_column("months", sa.Column("x", sa.Text))\n'
                                        'op.execute("THIS IS NOT SQL")\n')
    monkeypatch.setattr(migrate, "version_locations", lambda: [migrate.SCRIPTS / "versions", extra])
    with pytest.raises(HistoryError, match="无法打开"):
        db(tmp_path)
    monkeypatch.undo()
    with db(tmp_path) as h:
        assert h.schema_version() == SCHEMA_VERSION
        assert [i.month for i in h.months()] == ["2026-01"]
    columns = db.sql(tmp_path, "SELECT * FROM months")
    assert len(columns[0]) == 10                          # no column x


def test_stored_earlier_months_give_what_a_full_evaluation_gives(tmp_path, db):
    # Year-end rules read earlier months' findings and payable amounts; record_month reads them from
    # the store instead of evaluating again.  Both ways must agree on December.
    from engine.periods import evaluate
    scores = {1: [95, 90, 85], 2: [95, 90, 86], 3: [90, 95, 95], 4: [99, 70, 98], 5: [99, 70, 98]}
    with db(tmp_path) as h:
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


def test_fault_after_commit_is_repaired_by_running_the_month_again(tmp_path, monkeypatch, db):
    # The documented window: history is committed, the files are not yet moved.  Running the same
    # month again brings the outputs to what one uninterrupted run writes.
    data, out = tmp_path / "data", tmp_path / "out"
    with db(data) as h:
        store(h, "2026-01", three([95, 90, 85]), out=out)
        before_out = snapshot(out)
        monkeypatch.setenv("WANGGE_FAULT", "after_commit")
        with pytest.raises(FaultInjected):
            store(h, "2026-01", three([60, 90, 85]), out=out)
        monkeypatch.delenv("WANGGE_FAULT")
        assert snapshot(out) == before_out                            # files still the old month
        assert h.month_results("2026-01")["workers"][0]["score"] == "60"  # history already the new one
        store(h, "2026-01", three([60, 90, 85]), out=out)
    with db(tmp_path / "clean") as c:
        store(c, "2026-01", three([60, 90, 85]), out=tmp_path / "clean-out")
    assert snapshot(out) == snapshot(tmp_path / "clean-out")


# --------------------------------------------------------------------------- a large month's pay sheet, written beside


def test_a_pay_sheet_written_by_a_second_process_is_the_same_and_its_failure_stores_nothing(tmp_path, monkeypatch, db):
    # A large month's pay sheet is written by a forked process while this one writes results.json and
    # packs the history's rows (engine/app/month.py `beside`); here every month counts as large.
    import engine.app.month as am
    import engine.paysheet as ps

    ws = three([95, 90, 85])
    with db(tmp_path / "a") as h:
        store(h, "2026-01", ws, out=tmp_path / "serial")
    monkeypatch.setattr(am, "PARALLEL_OUTPUTS_FROM", 1)
    with db(tmp_path / "b") as h:
        store(h, "2026-01", ws, out=tmp_path / "beside")
        assert snapshot(tmp_path / "beside") == snapshot(tmp_path / "serial")
        kept = h.month_results("2026-01")

        def broken(*_a, **_k):
            raise RuntimeError(f"发放表写出失败（进程 {os.getpid()}）")
        monkeypatch.setattr(ps, "write_paysheet_xlsx", broken)
        with pytest.raises(RuntimeError) as exc:
            store(h, "2026-01", three([60, 90, 85]), out=tmp_path / "beside")
        assert f"（进程 {os.getpid()}）" not in str(exc.value)          # it failed in the other process
        assert h.month_results("2026-01") == kept                       # and nothing was stored
        assert snapshot(tmp_path / "beside") == snapshot(tmp_path / "serial")


def test_tables_written_while_period_rules_run_are_the_same_and_a_failure_stores_nothing(tmp_path, monkeypatch, db):
    # A large month writes results.csv and findings.csv, and compresses its results for the history,
    # in a forked process while this one evaluates the period rules (record_month `early_outputs`).
    import multiprocessing
    import time

    import engine.app.month as am

    def tables(results, stage):       # scoring_tables' shape (the hand-built months lack what it reads)
        (stage / "scores.csv").write_text("".join(f"{w['worker_id']},{w['score']}\n" for w in results["workers"]))
        return ["scores.csv"]

    ws = three([95, 90, 85])
    with db(tmp_path / "a") as h:
        store(h, "2026-01", ws, out=tmp_path / "serial", early_outputs=tables)
        serial = h.month_results("2026-01")
    assert {"scores.csv", "results.json", "paysheet.xlsx"} <= set(snapshot(tmp_path / "serial"))
    monkeypatch.setattr(am, "PARALLEL_OUTPUTS_FROM", 1)
    with db(tmp_path / "b") as h:
        report = store(h, "2026-01", ws, out=tmp_path / "beside", early_outputs=tables)
        assert snapshot(tmp_path / "beside") == snapshot(tmp_path / "serial")
        assert h.month_results("2026-01") == serial
        assert report.outputs[-1] == "scores.csv"

        def broken(results, stage):
            (stage / "scores.csv").write_text("写了一半", encoding="utf-8")
            raise RuntimeError(f"考核结果写出失败（进程 {os.getpid()}）")
        with pytest.raises(RuntimeError) as exc:
            store(h, "2026-01", three([60, 90, 85]), out=tmp_path / "beside", early_outputs=broken)
        assert f"（进程 {os.getpid()}）" not in str(exc.value)          # it failed in the other process
        assert h.month_results("2026-01") == serial                     # nothing was stored
        assert snapshot(tmp_path / "beside") == snapshot(tmp_path / "serial")

        def slow(results, stage):
            time.sleep(60)
            return []

        def no_rules(_m):
            raise KeyError("W9")
        started = time.monotonic()
        with pytest.raises(HistoryError, match="历史记录不完整"):   # period rules fail while `slow` runs
            record_month(h, month("2026-01", three([60, 90, 85])), rules_for=no_rules, out_dir=tmp_path / "beside",
                         early_outputs=slow)
        assert time.monotonic() - started < 30 and not multiprocessing.active_children()   # stopped, not awaited
        assert h.month_results("2026-01") == serial
        assert snapshot(tmp_path / "beside") == snapshot(tmp_path / "serial")
