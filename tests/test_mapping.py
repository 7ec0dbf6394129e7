"""engine/mapping.py: a platform export's columns and categories onto the policy's, towns combined with
every row traceable; and the mapping step on the page, saved and reused next month."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from engine.errors import DataError, Problem
from engine.mapping import (Mapping, Origins, apply_mapping, categories_in, combine, policy_categories, read_rows,
                            town_problems, unknown_headers, write_template)
from webkit import TOWN_A, Client, run_jobs
from webkit import base, office  # noqa: F401  (fixtures)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

PLATFORM_HEAD = ["人员编码", "人员姓名", "所属镇街", "所属社区", "所属网格", "岗位", "用工性质", "薪酬", "联系电话", "网格员类别"]


def platform_register(src: Path, out: Path, blank_after: int | None = None) -> Path:
    """The register as a platform exports it: its own header names (and a blank line, as hand-kept sheets have)."""
    rows = list(csv.reader(io.StringIO(src.read_text(encoding="utf-8"))))
    lines = [PLATFORM_HEAD] + rows[1:]
    if blank_after is not None:
        lines.insert(blank_after, [""] * len(PLATFORM_HEAD))
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(lines)
    out.write_text(buf.getvalue(), encoding="utf-8")
    return out


REGISTER_MAP = {"人员编码": "worker_id", "人员姓名": "name", "所属镇街": "town", "所属社区": "community",
                "所属网格": "grid", "薪酬": "wage", "联系电话": "phone"}


@pytest.fixture(scope="module")
def policy():
    from engine.app.demo import DEMO_POLICY
    from engine.policy import load_policy
    return load_policy(str(DEMO_POLICY)).for_month("2026-10")


def test_unknown_headers_and_mapping_keep_row_numbers(office, policy, tmp_path):
    export = platform_register(office["towns"][TOWN_A]["workers"], tmp_path / "导出.csv", blank_after=3)
    # 所属网格 is one of the names the register already accepts for 网格
    assert unknown_headers(export, "workers", policy) == ["人员编码", "人员姓名", "所属镇街", "所属社区", "薪酬"]
    out = apply_mapping(export, "workers", Mapping(REGISTER_MAP), tmp_path / "mapped.csv", policy)
    head, rows = read_rows(out)
    assert head == ["worker_id", "name", "town", "community", "grid", "role", "employment", "wage", "phone",
                    "worker_type"]
    orig_head, orig = read_rows(export)
    # the same rows on the same row numbers (row 4 is blank in both)
    assert [r.row for r in rows] == [r.row for r in orig] and 4 not in [r.row for r in rows]
    assert [r.get("worker_id") for r in rows] == [r.get("人员编码") for r in orig]
    assert unknown_headers(out, "workers", policy) == []


def test_mapping_refuses_two_columns_onto_one(office, policy, tmp_path):
    export = platform_register(office["towns"][TOWN_A]["workers"], tmp_path / "导出.csv")
    m = Mapping(dict(REGISTER_MAP, 联系电话="worker_id"))
    with pytest.raises(DataError) as err:
        apply_mapping(export, "workers", m, tmp_path / "m.csv", policy)
    (p,) = err.value.problems
    assert (p.line, p.field, p.found) == (1, "表头", "联系电话") and "已对应到 worker_id" in p.expected
    with pytest.raises(DataError):
        apply_mapping(export, "workers", Mapping(dict(REGISTER_MAP, 薪酬="salary")), tmp_path / "m.csv", policy)


def test_categories_recoded(office, policy, tmp_path):
    src = office["towns"][TOWN_A]["events"]
    rows = list(csv.reader(io.StringIO(src.read_text(encoding="utf-8"))))
    theirs = {"矛盾纠纷": "纠纷调解", "安全隐患": "隐患排查"}
    for r in rows[1:]:
        r[2] = theirs.get(r[2], r[2])
    rows[0][2] = "事件分类"
    export = tmp_path / "events.csv"
    export.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    m = Mapping({"事件分类": "category"}, {"纠纷调解": "矛盾纠纷", "隐患排查": "安全隐患"})
    assert "纠纷调解" in categories_in(export, Mapping({"事件分类": "category"}), policy)
    out = apply_mapping(export, "events", m, tmp_path / "mapped.csv", policy)
    _, got = read_rows(out)
    _, want = read_rows(src)
    assert [r.get("category") for r in got] == [r.get("类别") for r in want]


def test_policy_categories(policy):
    assert {"矛盾纠纷", "安全隐患"} <= set(policy_categories(policy))


def test_combine_and_origins(office, policy, tmp_path):
    from webkit import TOWN_B

    a, b = office["towns"][TOWN_A]["metrics"], office["towns"][TOWN_B]["metrics"]
    origins = combine("metrics", [("A 指标", a), ("B 指标", b)], tmp_path / "metrics.csv", policy)
    _, rows = read_rows(tmp_path / "metrics.csv")
    na = len(read_rows(a)[1])
    assert len(rows) == na + len(read_rows(b)[1])
    out = str((tmp_path / "metrics.csv").resolve())
    assert origins.locate(out, 2) == ("A 指标", "metrics.csv", 2)
    assert origins.locate(out, na + 2) == ("B 指标", "metrics.csv", 2)
    (p,) = origins.relocate([Problem(out, na + 3, "工号", "W9", "名册中已有的工号")])
    assert (p.file, p.line, p.field) == ("B 指标", 3, "工号")
    again = Origins.from_json(origins.as_json())
    assert again.locate(out, na + 3) == ("B 指标", "metrics.csv", 3)


def test_town_problems(office):
    from webkit import TOWN_B
    probs = town_problems(office["county"]["workers"], TOWN_A)
    assert probs and {p.found for p in probs} == {TOWN_B} and all(p.field == "乡镇" for p in probs)
    assert town_problems(office["towns"][TOWN_A]["workers"], TOWN_A) == []


def test_template(policy, tmp_path):
    import openpyxl
    ws = openpyxl.load_workbook(write_template("workers", policy, tmp_path / "t.xlsx")).active
    assert [c.value for c in ws[1]][:5] == ["工号", "姓名", "乡镇", "社区", "网格"]


def test_mapping_on_the_page_saved_and_reused(office, tmp_path):
    from engine.web.app import create_app

    app = create_app(data=office["data"])
    a = Client(app, "clerk_a")
    export = platform_register(office["towns"][TOWN_A]["workers"], tmp_path / "平台导出.csv")
    a.upload("2026-10", "workers", export)
    problems = app.state.web.store.checks(1, "2026-10")[TOWN_A]["problems"]
    assert any("表头" in p["field"] for p in problems)
    uid = app.state.web.store.latest_uploads(1, "2026-10", [TOWN_A])[0]["id"]
    form = a.get(f"/uploads/{uid}/mapping").text
    assert form.count("细则中没有此列名") == 5 and '<option value="worker_id"' in form
    data = {f"col{i}": REGISTER_MAP.get(h, {"岗位": "role", "用工性质": "employment", "网格员类别": "worker_type"}.get(h, ""))
            for i, h in enumerate(PLATFORM_HEAD)}
    r = a.post(f"/uploads/{uid}/mapping", data)
    assert r.status_code == 303 and r.headers["location"].startswith("/months/2026-10?msg=mapped")
    checks = app.state.web.store.checks(1, "2026-10")[TOWN_A]["problems"]
    assert not any("表头" in p["field"] for p in checks)       # only the missing metrics remain
    for k in ("metrics", "events"):
        a.upload("2026-10", k, office["towns"][TOWN_A][k])
    assert app.state.web.store.checks(1, "2026-10")[TOWN_A]["problems"] == []
    # next month: the same export headers are mapped on arrival
    a.upload("2026-11", "workers", export)
    (u,) = app.state.web.store.latest_uploads(1, "2026-11", [TOWN_A])
    assert u["mapped"] and u["path"].endswith("workers-mapped.csv")
    assert "已按列对应转换" in a.get("/months/2026-11").text
    audit = Client(app, "auditor").get("/audit?action=mapping.save").text
    assert "人员编码" in audit and "worker_id" in audit
    app.state.web.store.close()
