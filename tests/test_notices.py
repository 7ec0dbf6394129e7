"""The month's print pack end to end: what each notice says, numbers, privacy, safety, formats.

The month is real: tests/fixtures/notices holds a register and two months of records, scored by
`wangge run` under rules/chengguan.yaml (period rules: monthly ranking per town, two last places
running withhold the month's pay).  Worked out from the records:

  October, 鹤山镇:  W01 张伟 100 (1st), W02 李娜 96 (2nd), W06 杨洋 70 (last, and last in September)
  October, 凤凰街道: W03 王芳 100 (1st), W05 陈静 99 (2nd), W04 刘强 100 but vetoed (last)
  pay: W01 600.00, W02 500.00, W03 300.00, W04 0.00 (veto), W05 560.00, W06 416.00 (80% band of
  520.00), withheld from W06 by 连续两个月排名末位: 416.00, so W06 is paid 0.00.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.errors import TemplateError
from engine.history import History
from engine.notices import PackRequest, load_settings, render_print_pack
from engine.notices.context import commended, criticised, mask_id, mask_phone
from engine.notices.pdf import check_fonts
from engine.notices.settings import DEFAULT_SETTINGS

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures" / "notices"
GOLDEN = ROOT / "tests" / "golden" / "notices"
POLICY = ROOT / "rules" / "chengguan.yaml"
DATE = "2026-11-05"


def run(*args, env=None):
    res = CliRunner().invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)
    return res


def store_months(data, out, *database):
    for month in ("2026-09", "2026-10"):
        r = run("run", "--policy", POLICY, "--month", month, "--workers", FIX / "workers.csv", "--metrics",
                FIX / "metrics.csv", "--events", FIX / "events.csv", "--data", data, *database,
                "--out", out / month, "--no-print")
        assert r.exit_code == 0, r.output


@pytest.fixture(scope="module")
def stored(notices_root):
    """History with September and October 2026, and a small solved roster (tests/conftest.py)."""
    return notices_root


@pytest.fixture(scope="module")
def stored_on(stored, db, tmp_path_factory):
    """The stored history on the backend `db` (PostgreSQL: the same months run into a new database)."""
    if db.kind == "sqlite":
        return stored / "data"
    root = tmp_path_factory.mktemp("notices-" + db.kind)
    store_months(root / "data", root, *db.args(root / "data"))
    return root / "data"


@pytest.fixture()
def data(stored_on, tmp_path, db, monkeypatch):
    """A fresh copy of the stored history (tests issue document numbers into it), on SQLite or
    PostgreSQL; the commands find the database through WANGGE_DATABASE, as an office's would."""
    db.copy(stored_on, tmp_path / "data")
    if db.url(tmp_path / "data"):
        monkeypatch.setenv("WANGGE_DATABASE", db.url(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture(scope="module")
def october(stored):
    with History(stored / "data", create=False) as h:
        return h.month_results("2026-10")


@pytest.fixture(scope="module")
def settings():
    return load_settings(DEFAULT_SETTINGS)


@pytest.fixture(scope="module")
def pack(stored, tmp_path_factory):
    """The whole October pack as `wangge notices` writes it (every format)."""
    out = tmp_path_factory.mktemp("pack") / "print"
    data = tmp_path_factory.mktemp("packdata") / "data"
    shutil.copytree(stored / "data", data)
    r = run("notices", "--month", "2026-10", "--data", data, "--out", out, "--office", DEFAULT_SETTINGS,
            "--roster", stored / "roster", "--workers", FIX / "workers.csv", "--issue", "--date", DATE)
    assert r.exit_code == 0, r.output
    return out, r.output, data


# --------------------------------------------------------------------------- who is in which notice


def test_criticism_lists_last_places_vetoes_and_period_consequences(october, settings):
    got = {e["worker_id"]: [(r["rule_id"], r["amount"]) for r in e["reasons"]] for e in criticised(october, settings)}
    assert got == {
        "W04": [("veto_major_case", "0.00"), ("monthly_last_place", "0.00")],
        "W06": [("monthly_last_place", "0.00"), ("last_place_twice", "416.00")],
    }
    w06 = next(e for e in criticised(october, settings) if e["worker_id"] == "W06")
    # the score is said once, in the entry's head (issue 11.2)
    assert w06["reasons"][0]["reason"] == "2026年10月在鹤山镇排名末位（第3名，共3人）"


def test_commendation_lists_each_towns_first_place_but_not_a_vetoed_one(october, settings):
    got = {e["worker_id"]: [r["reason"] for r in e["reasons"]] for e in commended(october, settings)}
    assert got == {"W01": ["2026年10月在鹤山镇排名第1名（共3人）"],
                   "W03": ["2026年10月在凤凰街道排名第1名（共3人）"]}


def test_settings_switch_the_sources_of_a_criticism(october, settings):
    only_period = settings.model_copy(update={"criticism": settings.criticism.model_copy(
        update={"last_place": False, "vetoes": False})})
    assert [e["worker_id"] for e in criticised(october, only_period)] == ["W06"]
    top2 = settings.model_copy(update={"commendation": settings.commendation.model_copy(
        update={"top": 2, "min_score": "99"})})
    # in the register's order: 鹤山镇 (W01 its first row) before 凤凰街道 (issue 11.4)
    assert [e["worker_id"] for e in commended(october, top2)] == ["W01", "W03", "W05"]


# --------------------------------------------------------------------------- the files


def test_the_pack_has_every_document_in_every_format(pack):
    out, output, _ = pack
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        [f"{stem}.{ext}" for stem in ("考核通报", "通报批评", "通报表彰") for ext in ("html", "pdf", "docx")]
        + ["考核排名.xlsx", "绩效工资发放表.xlsx", "绩效工资发放表-签字版.html", "绩效工资发放表-签字版.pdf"]
        + [f"{stem}-{town}.{ext}" for stem in ("考核结果通知单", "网格公示牌", "服务联系卡")
           for town in ("凤凰街道", "鹤山镇") for ext in ("html", "pdf")]
        + [f"巡查排班表-{town}.{ext}" for town in ("鹤山镇", "凤凰街道") for ext in ("html", "pdf")])
    assert "月度考核通报：文号 鹤网格〔2026〕1号，成文日期 2026-11-05" in output
    assert "通报批评：文号 鹤网格〔2026〕2号，成文日期 2026-11-05" in output
    assert "通报表彰：文号 鹤网格〔2026〕3号，成文日期 2026-11-05" in output


def pdftext(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", info)[1])


def flat(text: str) -> str:
    """The text without white space and page numbers (a sentence may run over a page)."""
    return re.sub(r"—\d+—", "", re.sub(r"\s+", "", text))


def test_the_criticism_notice_pdf_is_a_red_header_document_with_names_amounts_and_reasons(pack):
    out, _, _ = pack
    text = flat(pdftext(out / "通报批评.pdf"))
    for expected in ("鹤山镇社会治理网格化服务管理中心文件", "鹤网格〔2026〕2号", "关于对2026年10月考核中有关网格员予以通报批评的决定",
                     "各社区（村）网格工作站，全体网格员：", "鹤山镇东村社区网格员杨洋（网格1-1-03，本月得分70分）", "本月扣发416.00元",
                     "2026年9月、10月连续2个月在鹤山镇排名末位，扣发2个月当月绩效工资（2026年10月、11月）", "凤凰街道西村网格员刘强（网格1-2-02，本月得分100分）", "迟报漏报引发重大案件",
                     "鹤山镇社会治理网格化服务管理中心", "2026年11月5日", "抄送：镇党委、镇政府主要领导、镇综治办。",
                     "2026年11月5日印发"):
        assert expected in text, expected
    assert re.findall(r"—\s*\d+\s*—", pdftext(out / "通报批评.pdf")) == ["—1—", "—2—"]
    assert pages(out / "通报批评.pdf") == 2


def test_the_bulletin_states_the_months_figures_worked_out_by_hand(pack):
    out, _, _ = pack
    text = flat(pdftext(out / "考核通报.pdf"))
    # scores 100, 96, 100, 100, 99, 70: mean 565 / 6 = 94.1666… -> 94.17
    assert "本月共考核网格员6名，平均得分94.17分，最高100分，最低70分。" in text
    # pay 600 + 500 + 300 + 0 + 560 + 416 = 2,376.00; withheld 416.00; paid 1,960.00
    assert "本月应发绩效工资合计2,376.00元，按跨月规则扣发416.00元，实发1,960.00元。" in text
    assert "一票否决1人（占16.7%）" in text      # the veto is a band of its own (issue 11.1)
    assert "鹤网格〔2026〕1号" in text


def test_every_number_on_a_slip_matches_the_stored_results(pack, october):
    out, _, _ = pack
    for town in ("凤凰街道", "鹤山镇"):
        path = out / f"考核结果通知单-{town}.pdf"
        workers = [w for w in october["workers"] if w["town"] == town]
        assert pages(path) == len(workers)          # one page each, in the register's order (grids 1-1-01 …)
        for page, w in enumerate(sorted(workers, key=lambda w: w["grid"]), start=1):
            text = flat(subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(path), "-"],
                                       capture_output=True, text=True, check=True).stdout)
            assert f"工号：{w['worker_id']}" in text
            assert f"得分{w['score']}分" in text
            assert f"绩效工资{Decimal(w['pay']):,.2f}元" in text
            assert f"实发{Decimal(w['payable']):,.2f}元" in text
            for item in w["items"]:
                assert f"{item['label']}（{item['category']}）{item['points']}{item['deducted']}{item['earned']}" in text
            for f in w["findings"]:
                points = Decimal(f["points"])
                effect = f"（{'扣' if points < 0 else '加'}{abs(points)}分）" if points else ""
                assert f"{f['rule_label']}{effect}：" in text
                assert flat(f["reason"]).replace("「", "“").replace("」", "”") in text
                # a slip is handed to the worker: no rule ids, file names or row numbers (issue 11.2)
                assert f["rule_id"] not in text
                if f.get("source"):
                    assert f["source"]["file"] not in text and f"第{f['source']['row']}行" not in text


def test_the_printed_pay_sheet_has_every_worker_and_the_totals(pack, october):
    out, _, _ = pack
    text = pdftext(out / "绩效工资发放表-签字版.pdf")
    for w in october["workers"]:
        assert re.search(rf"{w['worker_id']}\s+{w['name']}", text)
    total = re.search(r"总计.*", text)[0]
    assert re.findall(r"[\d,]+\.\d\d", total) == ["15,400.00", "3,080.00", "2,376.00", "416.00", "1,960.00"]
    assert "扣发原因：连续两个月排名末位" in flat(text)


def test_a_roster_of_other_people_than_the_register_stops_the_pack(data, tmp_path):
    # The roster of 甲镇/乙镇 (tests/fixtures/roster/valid) is not of the people these scores are about.
    other = tmp_path / "other-roster"
    r = run("roster", "--problem", ROOT / "tests" / "fixtures" / "roster" / "valid", "--out", other,
            "--time-limit", "3", "--deterministic")
    assert r.exit_code == 0, r.output
    r = run("notices", "--month", "2026-10", "--data", data, "--out", tmp_path / "o", "--office", DEFAULT_SETTINGS,
            "--roster", other, "--workers", FIX / "workers.csv", "--format", "html")
    assert r.exit_code == 2
    assert f"{other / 'roster.json'} 乡镇/街道: 发现 '甲镇'，应为 名册中的乡镇/街道（名册中没有此镇街的人员）" in r.output
    assert f"{other / 'roster.json'} 乡镇/街道: 发现 '乙镇'" in r.output
    assert not (tmp_path / "o").exists()


def test_a_roster_that_moved_a_worker_stops_the_pack_at_the_register_row(data, stored, tmp_path):
    roster = json.loads((stored / "roster" / "roster.json").read_text(encoding="utf-8"))
    roster["directory"]["grids"]["1-1-02"]["worker"] = "W06"      # the roster says W06 works 1-1-02
    moved = tmp_path / "moved"
    moved.mkdir()
    (moved / "roster.json").write_text(json.dumps(roster, ensure_ascii=False), encoding="utf-8")
    r = run("notices", "--month", "2026-10", "--data", data, "--out", tmp_path / "o", "--office", DEFAULT_SETTINGS,
            "--roster", moved, "--workers", FIX / "workers.csv", "--format", "html")
    assert r.exit_code == 2
    assert (f"{FIX / 'workers.csv'}:3 网格: 发现 '1-1-02'，应为 与排班一致（排班中网格 1-1-02 的网格员是 W06 杨洋，不是 李娜）"
            in r.output)
    assert not (tmp_path / "o").exists()


def test_the_printed_roster_shows_each_grid_and_week(pack, stored):
    out, _, _ = pack
    roster = json.loads((stored / "roster" / "roster.json").read_text(encoding="utf-8"))
    text = pdftext(out / "巡查排班表-鹤山镇.pdf") + pdftext(out / "巡查排班表-凤凰街道.pdf")
    for g in roster["patrol"]:
        assert g in text
    for week in ("10月1日—10月4日", "10月5日—10月11日", "10月26日—10月31日"):
        assert week in text


def _town_roster(stored, tmp_path, edit=None) -> Path:
    """The pack's roster as one town published it on the roster page: another name, maybe edited."""
    roster = json.loads((stored / "roster" / "roster.json").read_text(encoding="utf-8"))
    roster["name"] = "鹤山镇自行发布的十月排班"
    if edit:
        edit(roster)
    folder = tmp_path / "town-published"
    folder.mkdir()
    (folder / "roster.json").write_text(json.dumps(roster, ensure_ascii=False), encoding="utf-8")
    return folder


def test_a_towns_published_roster_is_printed_for_that_town(stored, tmp_path):
    """The roster a town published itself (the roster page's) is printed for that town; the other
    towns keep the office's roster; with no office roster only that town's is printed."""
    from engine.app.notices import make_notices, prepare_pack

    data = tmp_path / "data"
    shutil.copytree(stored / "data", data)
    town = _town_roster(stored, tmp_path)
    plan = prepare_pack(office=DEFAULT_SETTINGS, data=data, roster_dir=stored / "roster", town_rosters={"鹤山镇": town},
                        workers=FIX / "workers.csv", only="roster", formats={"html"})
    pack = make_notices("2026-10", data, tmp_path / "o", plan).pack
    assert pack.files == ["巡查排班表-凤凰街道.html", "巡查排班表-鹤山镇.html"]
    assert "鹤山镇自行发布的十月排班" in (tmp_path / "o" / "巡查排班表-鹤山镇.html").read_text(encoding="utf-8")
    assert "鹤山镇自行发布的十月排班" not in (tmp_path / "o" / "巡查排班表-凤凰街道.html").read_text(encoding="utf-8")
    plan = prepare_pack(office=DEFAULT_SETTINGS, data=data, town_rosters={"鹤山镇": town}, workers=FIX / "workers.csv",
                        only="roster", formats={"html"})
    assert make_notices("2026-10", data, tmp_path / "o2", plan).pack.files == ["巡查排班表-鹤山镇.html"]


def test_a_towns_published_roster_that_moved_a_worker_stops_the_pack(stored, tmp_path):
    from engine.app.notices import prepare_pack
    from engine.errors import InputError

    def move(roster):
        roster["directory"]["grids"]["1-1-02"]["worker"] = "W06"
    town = _town_roster(stored, tmp_path, move)
    with pytest.raises(InputError) as exc:
        prepare_pack(office=DEFAULT_SETTINGS, data=stored / "data", roster_dir=stored / "roster",
                     town_rosters={"鹤山镇": town}, workers=FIX / "workers.csv", only="roster", formats={"html"})
    assert [(p.line, p.field, p.found) for p in exc.value.problems] == [(3, "网格", "1-1-02")]


# --------------------------------------------------------------------------- privacy


def test_masks():
    assert mask_phone("13812345678", "mask") == "138****5678"
    assert mask_phone("0546-6021234", "mask") == "*******1234"
    assert mask_phone("13812345678", "hide") == "" and mask_phone("13812345678", "full") == "13812345678"
    assert mask_id("370521198801011234", "mask") == "3705**********1234"
    assert mask_id("370521198801011234", "hide") == ""


def test_public_documents_show_no_more_personal_data_than_the_settings_allow(pack):
    out, _, _ = pack
    full_phone, full_id = "13812345678", "370521198801011234"
    for name in ("考核通报.html", "通报批评.html", "通报表彰.html", "绩效工资发放表-签字版.html", "巡查排班表-鹤山镇.html"):
        html = (out / name).read_text(encoding="utf-8")
        assert full_phone not in html and full_id not in html and "3705" not in html, name
    board = (out / "网格公示牌-鹤山镇.html").read_text(encoding="utf-8")
    # the grid board and the contact card exist for residents to call: the phone in full (issue 11.9)
    assert full_phone in board and full_id not in board and "3705" not in board
    assert full_phone in (out / "服务联系卡-鹤山镇.html").read_text(encoding="utf-8")
    slip = (out / "考核结果通知单-鹤山镇.html").read_text(encoding="utf-8")
    assert "3705**********1234" in slip and full_id not in slip and full_phone not in slip


def test_the_office_decides_what_a_board_shows(stored, tmp_path):
    office = tmp_path / "office.yaml"
    office.write_text(DEFAULT_SETTINGS.read_text(encoding="utf-8").replace(
        "boards: {phone: full, id_number: hide}", "boards: {phone: mask, id_number: hide}"), encoding="utf-8")
    shutil.copytree(stored / "data", tmp_path / "data")
    r = run("notices", "--month", "2026-10", "--data", tmp_path / "data", "--out", tmp_path / "o", "--office", office,
            "--workers", FIX / "workers.csv", "--only", "boards", "--format", "html")
    assert r.exit_code == 0, r.output
    board = (tmp_path / "o" / "网格公示牌-鹤山镇.html").read_text(encoding="utf-8")
    assert "138****5678" in board and "13812345678" not in board


# --------------------------------------------------------------------------- document numbers


def issued(db, data, month):
    with db(data, create=False) as h:
        return {k: (v["year"], v["number"], v["issued_on"]) for k, v in h.doc_numbers("鹤网格", month).items()}


def notices(data, out, *args, office=DEFAULT_SETTINGS, env=None):
    return run("notices", "--month", "2026-10", "--data", data, "--out", out, "--office", office,
               "--format", "html", *args, env=env)


def test_a_trial_print_is_a_draft_and_consumes_no_number(data, tmp_path, db):
    r = notices(data, tmp_path / "a")
    assert r.exit_code == 0, r.output
    assert "月度考核通报：送审稿（未出文，不占文号；确认无误后用 --issue 出文）" in r.output
    assert issued(db, data, "2026-10") == {}
    with db(data, create=False) as h:
        assert h.number_register() == []
    assert "鹤网格〔" not in (tmp_path / "a" / "通报批评.html").read_text(encoding="utf-8")


def test_numbers_are_kept_on_a_reprint_and_continue_for_the_next_notices(data, tmp_path, db):
    assert notices(data, tmp_path / "a", "--issue", "--date", DATE).exit_code == 0
    first = issued(db, data, "2026-10")
    assert first == {"bulletin": (2026, 1, DATE), "criticism": (2026, 2, DATE), "commendation": (2026, 3, DATE)}
    # reprinting (no --issue) keeps both the numbers and the date they were issued on
    r = notices(data, tmp_path / "b")
    assert r.exit_code == 0 and issued(db, data, "2026-10") == first
    assert "通报批评：文号 鹤网格〔2026〕2号，成文日期 2026-11-05" in r.output
    assert "鹤网格〔2026〕2号" in (tmp_path / "b" / "通报批评.html").read_text(encoding="utf-8")
    assert "2026年11月5日" in (tmp_path / "b" / "通报批评.html").read_text(encoding="utf-8")
    assert (tmp_path / "a" / "通报批评.html").read_bytes() == (tmp_path / "b" / "通报批评.html").read_bytes()
    # September's notices are issued later: they take the next numbers
    assert run("notices", "--month", "2026-09", "--data", data, "--out", tmp_path / "c", "--office", DEFAULT_SETTINGS,
               "--format", "html", "--issue", "--date", "2026-11-20").exit_code == 0
    assert issued(db, data, "2026-09") == {"bulletin": (2026, 4, "2026-11-20"), "criticism": (2026, 5, "2026-11-20"),
                                       "commendation": (2026, 6, "2026-11-20")}
    with db(data, create=False) as h:
        titles = [(r["number"], r["title"], r["source"]) for r in h.number_register()]
    assert titles[:3] == [(1, "2026年10月月度考核通报", "wangge"), (2, "2026年10月通报批评", "wangge"),
                          (3, "2026年10月通报表彰", "wangge")]


def test_a_number_given_by_the_clerk_is_used_once_and_never_twice(data, tmp_path, db):
    r = notices(data, tmp_path / "a", "--only", "criticism", "--issue", "--number", "15", "--date", DATE)
    assert r.exit_code == 0, r.output
    assert issued(db, data, "2026-10") == {"criticism": (2026, 15, DATE)}
    # the next automatic number follows the highest in the register
    assert notices(data, tmp_path / "b", "--only", "bulletin", "--issue", "--date", DATE).exit_code == 0
    assert issued(db, data, "2026-10")["bulletin"] == (2026, 16, DATE)
    # the same number again is refused, saying what it was used for; nothing is written
    r = notices(data, tmp_path / "c", "--only", "commendation", "--issue", "--number", "15", "--date", DATE)
    assert r.exit_code == 2
    assert "文号 鹤网格〔2026〕15号 已被占用" in r.output and "已用于《2026年10月通报批评》，成文日期 2026-11-05" in r.output
    assert "commendation" not in issued(db, data, "2026-10") and not (tmp_path / "c").exists()
    # a number for several notices at once is ambiguous (September has none issued yet)
    r = run("notices", "--month", "2026-09", "--data", data, "--out", tmp_path / "d", "--office", DEFAULT_SETTINGS,
            "--format", "html", "--issue", "--number", "20", "--date", DATE)
    assert r.exit_code == 2 and "只出一份公文时才能指定文号" in r.output
    assert "本次要出文的有 3 份：2026年9月月度考核通报、2026年9月通报批评、2026年9月通报表彰" in r.output


def test_numbers_used_outside_the_tool_are_skipped(data, tmp_path, db):
    r = run("numbers", "add", "--data", data, "--office", DEFAULT_SETTINGS, "--number", "1", "--date", "2026-01-08",
            "--title", "关于开展消防安全排查的通知")
    assert r.exit_code == 0, r.output
    assert "已登记 鹤网格〔2026〕1号（2026-01-08）：关于开展消防安全排查的通知" in r.output
    assert notices(data, tmp_path / "a", "--only", "bulletin", "--issue", "--date", DATE).exit_code == 0
    assert issued(db, data, "2026-10") == {"bulletin": (2026, 2, DATE)}
    r = run("numbers", "add", "--data", data, "--office", DEFAULT_SETTINGS, "--number", "2", "--date", "2026-11-06",
            "--title", "另一份通知")
    assert r.exit_code == 2 and "已用于《2026年10月月度考核通报》" in r.output
    r = run("numbers", "list", "--data", data)
    assert r.exit_code == 0
    assert "鹤网格〔2026〕1号" in r.output and "系统外登记" in r.output and "本系统出文" in r.output


def test_a_notice_already_issued_is_not_issued_again(data, tmp_path, db):
    assert notices(data, tmp_path / "a", "--only", "bulletin", "--issue", "--date", DATE).exit_code == 0
    r = notices(data, tmp_path / "b", "--only", "bulletin", "--issue", "--date", "2026-11-09")
    assert r.exit_code == 2 and "已于 2026-11-05 以 鹤网格〔2026〕1号 出文" in r.output
    assert issued(db, data, "2026-10") == {"bulletin": (2026, 1, DATE)}


def test_no_notices_without_the_offices_settings(data, tmp_path):
    r = run("notices", "--month", "2026-10", "--data", data, "--out", tmp_path / "o", "--format", "html")
    assert r.exit_code == 2
    assert f"数据目录 {data} 下的 office.yaml --office: 发现 （缺失），应为 本单位的发文设置文件" in r.output
    assert f"复制示例 {DEFAULT_SETTINGS} 为 数据目录 {data} 下的 office.yaml" in r.output
    assert not (tmp_path / "o").exists()


def test_date_and_number_belong_to_issuing(data, tmp_path):
    r = notices(data, tmp_path / "o", "--date", DATE)
    assert r.exit_code == 2 and "--date 只在出文（--issue）时使用" in r.output


def test_a_new_year_starts_the_numbers_again(data, tmp_path, db):
    assert notices(data, tmp_path / "a", "--only", "bulletin", "--issue", "--date", "2027-01-04").exit_code == 0
    assert issued(db, data, "2026-10") == {"bulletin": (2027, 1, "2027-01-04")}


def test_a_failed_render_writes_nothing_and_issues_no_number(data, tmp_path, db):
    own = tmp_path / "own"
    own.mkdir()
    (own / "criticism.html.j2").write_text("{% extends \"gongwen.html.j2\" %}\n{% block body %}\n"
                                           "<p>{{ entries[0].nmae }}</p>\n{% endblock %}\n", encoding="utf-8")
    office = tmp_path / "office.yaml"
    office.write_text(DEFAULT_SETTINGS.read_text(encoding="utf-8") + "templates: own\n", encoding="utf-8")
    out = tmp_path / "out"
    r = run("notices", "--month", "2026-10", "--data", data, "--out", out, "--office", office, "--format", "html")
    assert r.exit_code == 2
    assert f"{own / 'criticism.html.j2'}:3 变量: 发现 'nmae'" in r.output
    assert not out.exists() or not any(out.iterdir())
    assert issued(db, data, "2026-10") == {}


def test_a_crash_before_the_numbers_are_recorded_leaves_the_previous_pack(data, tmp_path, db):
    out = tmp_path / "out"
    assert run("notices", "--month", "2026-10", "--data", data, "--out", out, "--office", DEFAULT_SETTINGS,
               "--format", "html", "--only", "bulletin", "--issue", "--date", DATE).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    r = CliRunner().invoke(main, ["notices", "--month", "2026-09", "--data", str(data), "--out", str(out),
                                  "--office", str(DEFAULT_SETTINGS), "--format", "html", "--issue", "--date", DATE],
                           env={"WANGGE_FAULT": "before_commit"})
    assert r.exit_code != 0
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert issued(db, data, "2026-09") == {}


def test_a_month_without_criticism_removes_last_runs_criticism_notice(data, tmp_path):
    out = tmp_path / "out"
    assert run("notices", "--month", "2026-10", "--data", data, "--out", out, "--office", DEFAULT_SETTINGS,
               "--format", "html").exit_code == 0
    assert (out / "通报批评.html").exists()
    (out / "我的笔记.txt").write_text("留着", encoding="utf-8")
    office = tmp_path / "office.yaml"
    office.write_text(DEFAULT_SETTINGS.read_text(encoding="utf-8").replace(
        "  last_place: true ", "  last_place: false ").replace("  vetoes: true ", "  vetoes: false ").replace(
        "  period_rules: true                             # 跨月规则中列入通报批评的",
        "  period_rules: false"), encoding="utf-8")
    r = run("notices", "--month", "2026-10", "--data", data, "--out", out, "--office", office, "--format", "html")
    assert r.exit_code == 0, r.output
    assert "未生成 通报批评：本月没有应予通报批评的网格员" in r.output
    assert not (out / "通报批评.html").exists() and (out / "考核通报.html").exists()
    assert (out / "我的笔记.txt").exists()


# --------------------------------------------------------------------------- bad input


def test_bad_options_and_files_are_reported_together(data, tmp_path):
    r = run("notices", "--month", "2026-10", "--data", data, "--out", tmp_path / "o", "--office", DEFAULT_SETTINGS,
            "--only", "bulletin,posters", "--format", "pdf,png", "--roster", tmp_path / "nowhere")
    assert r.exit_code == 2
    assert "命令行 --only: 发现 'posters'" in r.output
    assert "命令行 --format: 发现 'png'" in r.output
    assert f"{tmp_path / 'nowhere' / 'roster.json'} 文件" in r.output
    assert not (tmp_path / "o").exists()


def test_a_month_not_in_history(data, tmp_path):
    r = run("notices", "--month", "2026-05", "--data", data, "--out", tmp_path / "o", "--office", DEFAULT_SETTINGS)
    assert r.exit_code == 2
    assert "2026年5月" in r.output and not (tmp_path / "o").exists()


def test_a_missing_font_is_reported_before_rendering(data, tmp_path):
    own = tmp_path / "own" / "css"
    own.mkdir(parents=True)
    css = (ROOT / "reports" / "css" / "gongwen.css").read_text(encoding="utf-8")
    (own / "gongwen.css").write_text(css.replace("font-family: 仿宋_GB2312, 仿宋, FangSong, FandolFang, Noto Serif CJK SC;",
                                                 "font-family: 方正仿宋_GBK, NoSuchFang;"), encoding="utf-8")
    office = tmp_path / "office.yaml"
    office.write_text(DEFAULT_SETTINGS.read_text(encoding="utf-8") + "templates: own\n", encoding="utf-8")
    r = run("notices", "--month", "2026-10", "--data", data, "--out", tmp_path / "o", "--office", office,
            "--format", "pdf", "--only", "criticism")
    assert r.exit_code == 2
    line = next(i for i, l in enumerate(css.splitlines(), 1) if "仿宋_GB2312, 仿宋, FangSong" in l)
    assert f"{own / 'gongwen.css'}:{line} font-family: 发现 '方正仿宋_GBK、NoSuchFang'，应为 至少一种已安装且含中文字形的字体" in r.output
    assert not (tmp_path / "o").exists()


def test_the_font_check_reads_every_family_list():
    css = "a { font-family: 黑体, Noto Sans CJK SC; }\nb { font-family: 楷体, serif; }\n"
    with pytest.raises(TemplateError) as exc:
        check_fonts([("x.css", css)], installed=frozenset({"noto sans cjk sc"}))
    assert [str(p) for p in exc.value.problems] == [
        "x.css:2 font-family: 发现 '楷体'，应为 至少一种已安装且含中文字形的字体（运行 bash scripts/install-system.sh"
        "（或 apt-get install fonts-noto-cjk fonts-arphic-ukai fontconfig））"]
    assert check_fonts([("x.css", css.splitlines()[0])], installed=frozenset({"noto sans cjk sc"})) == [
        "未安装的字体以免费字体代替：黑体→Noto Sans CJK SC"]


# --------------------------------------------------------------------------- other formats, escaping


def test_docx_notices_carry_the_text_and_escape_names(october, settings, tmp_path):
    res = json.loads(json.dumps(october))
    for w in res["workers"]:
        if w["worker_id"] == "W06":
            w["name"] = "杨<洋>&子"
    stage = tmp_path / "s"
    stage.mkdir()
    pack, _ = render_print_pack(PackRequest(res, settings, only={"criticism"}, formats={"docx"}), stage, date=DATE)
    assert pack.files == ["通报批评.docx"]
    with zipfile.ZipFile(stage / "通报批评.docx") as z:
        xml = z.read("word/document.xml").decode("utf-8")
    text = re.sub(r"<[^>]+>", "", xml).replace("\u2060", "")     # word joiners bind numbers to their units
    assert "杨&lt;洋&gt;&amp;子" in text and "鹤网格〔2026〕1号" in text and "本月扣发416.00元" in text
    assert "扣发\u2060416.00\u2060元" in xml


def test_docx_notices_are_word_files_in_schema_order(october, settings, tmp_path):
    """Word calls a file damaged when a paragraph's, run's or table's properties come out of the
    schema's order (LibreOffice does not mind, so converting it proves nothing)."""
    import importlib.util

    from lxml import etree
    spec = importlib.util.spec_from_file_location("make_docx_templates", ROOT / "scripts" / "make_docx_templates.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    ORDER = script.ORDER

    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    stage = tmp_path / "s"
    stage.mkdir()
    render_print_pack(PackRequest(october, settings, only={"bulletin", "criticism", "commendation"}, formats={"docx"}),
                      stage, date=DATE)
    for path in sorted(stage.glob("*.docx")):
        with zipfile.ZipFile(path) as z:
            parts = [n for n in z.namelist() if re.fullmatch(r"word/(document|styles|footer\d+)\.xml", n)]
            for part in parts:
                root = etree.fromstring(z.read(part))
                for tag, order in ORDER.items():
                    order = order.split()
                    for el in root.iter(w + tag):
                        names = [c.tag.replace(w, "") for c in el if isinstance(c.tag, str)]
                        assert all(n in order for n in names), (path.name, part, tag, names)
                        at = [order.index(n) for n in names]
                        assert at == sorted(at) and len(set(names)) == len(names), (path.name, part, tag, names)
        text = re.sub(r"<[^>]+>", "", zipfile.ZipFile(path).read("word/document.xml").decode("utf-8"))
        assert "{{" not in text and "{%" not in text and "印发" in text


def test_the_ranking_workbook_keeps_text_as_text(october, settings, tmp_path):
    import openpyxl

    res = json.loads(json.dumps(october))
    res["workers"][0]["name"] = '=HYPERLINK("http://x","点我")'
    stage = tmp_path / "s"
    stage.mkdir()
    render_print_pack(PackRequest(res, settings, only={"bulletin"}, formats={"xlsx"}), stage, date=DATE)
    ws = openpyxl.load_workbook(stage / "考核排名.xlsx")["考核排名"]
    cells = [c for row in ws.iter_rows() for c in row if c.value == '=HYPERLINK("http://x","点我")']
    assert cells and cells[0].data_type == "s"
    assert [c.value for c in ws[2]] == ["乡镇（街道）", "名次", "工号", "姓名", "社区（村）", "网格", "得分", "星级", "档次",
                                        "绩效工资"]


def test_html_notices_escape_names(october, settings, tmp_path):
    res = json.loads(json.dumps(october))
    res["workers"][0]["name"] = "<script>alert(1)</script>"
    stage = tmp_path / "s"
    stage.mkdir()
    render_print_pack(PackRequest(res, settings, only={"bulletin", "slips"}, formats={"html"}), stage, date=DATE)
    for p in stage.iterdir():
        assert "<script>" not in p.read_text(encoding="utf-8")
    assert "&lt;script&gt;" in (stage / "考核通报.html").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- golden HTML


@pytest.mark.parametrize("name", ["考核通报", "通报批评", "通报表彰", "考核结果通知单-鹤山镇", "绩效工资发放表-签字版",
                                  "巡查排班表-鹤山镇", "网格公示牌-凤凰街道", "服务联系卡-凤凰街道"])
def test_rendered_html_matches_its_golden_file(pack, name):
    out, _, _ = pack
    got = (out / f"{name}.html").read_text(encoding="utf-8")
    golden = GOLDEN / f"{name}.html"
    if os.environ.get("WANGGE_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(got, encoding="utf-8")
    assert got == golden.read_text(encoding="utf-8"), f"{name}: rerun with WANGGE_UPDATE_GOLDEN=1 after checking it"


# --------------------------------------------------------------------------- the month pipeline


def test_wangge_run_makes_the_print_pack_and_records_its_numbers(tmp_path, db):
    for month in ("2026-09", "2026-10"):
        r = run("run", "--policy", POLICY, "--month", month, "--workers", FIX / "workers.csv", "--metrics",
                FIX / "metrics.csv", "--events", FIX / "events.csv", "--data", tmp_path / "data",
                *db.args(tmp_path / "data"), "--out", tmp_path / month, "--office", DEFAULT_SETTINGS, "--format", "html", "--issue", "--date", DATE)
        assert r.exit_code == 0, r.output
    assert "打印材料" in r.output
    assert (tmp_path / "2026-10" / "print" / "通报批评.html").exists()
    assert (tmp_path / "2026-10" / "print" / "网格公示牌-鹤山镇.html").exists()   # --workers is the register
    assert issued(db, tmp_path / "data", "2026-09") == {"bulletin": (2026, 1, DATE), "criticism": (2026, 2, DATE),
                                                    "commendation": (2026, 3, DATE)}
    assert issued(db, tmp_path / "data", "2026-10")["bulletin"] == (2026, 4, DATE)


def test_wangge_run_without_office_settings_says_how_to_get_the_pack(tmp_path):
    r = run("run", "--policy", POLICY, "--month", "2026-09", "--workers", FIX / "workers.csv", "--metrics",
            FIX / "metrics.csv", "--events", FIX / "events.csv", "--data", tmp_path / "data", "--out", tmp_path / "o")
    assert r.exit_code == 0, r.output
    assert "未生成打印材料" in r.output and not (tmp_path / "o" / "print").exists()


def test_the_print_pack_reports_its_progress_file_by_file(data, tmp_path, db):
    from engine.app.notices import make_notices, prepare_pack

    seen: list[tuple[int, int]] = []
    plan = prepare_pack(office=DEFAULT_SETTINGS, data=data, workers=FIX / "workers.csv", formats={"html", "xlsx"})
    report = make_notices("2026-10", data, tmp_path / "o", plan, progress=lambda d, t: seen.append((d, t)),
                          database=db.url(data))
    total = len(report.pack.files)
    assert seen == [(k, total) for k in range(1, total + 1)]
