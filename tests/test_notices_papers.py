"""Papers an office signs as they are (issue 11): one answer for a vetoed worker everywhere, the
wording of notices and slips, the office's order, ties on public lists, the 公文's attachments and
版记, grid boards and cards, the printed roster, progress, drafts.

The month is tests/fixtures/notices (see tests/test_notices.py for the figures worked out by hand):
October, W04 刘强 (凤凰街道) has a perfect sheet but the veto 迟报漏报引发重大案件: paid 0.00 of a
600.00 base.
"""
from __future__ import annotations

import copy
import csv
import json
import re
import subprocess
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from engine.notices import PackRequest, load_settings, register_dicts, render_print_pack
from engine.notices.context import bulletin_context, commended, office_context, roster_context
from engine.notices.settings import DEFAULT_SETTINGS
from test_notices import october, settings, stored  # noqa: F401 - the stored October and the bundled settings

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures" / "notices"
DATE = "2026-11-05"
CJK = "\u4e00-\u9fff"


@pytest.fixture(scope="module")
def register():
    from engine.inputs import read_register
    return register_dicts(read_register(FIX / "workers.csv"))


@pytest.fixture(scope="module")
def html_pack(october, settings, register, notices_root, tmp_path_factory):
    """Every document of October as HTML and .xlsx."""
    from engine.notices import load_roster
    stage = tmp_path_factory.mktemp("html")
    render_print_pack(PackRequest(october, settings, roster=load_roster(notices_root / "roster"), register=register,
                                  formats={"html", "xlsx"}), stage, date=DATE)
    return stage


@pytest.fixture(scope="module")
def pdf_pack(october, settings, tmp_path_factory):
    """The three 公文 and the pay sheet as PDF."""
    stage = tmp_path_factory.mktemp("pdf")
    render_print_pack(PackRequest(october, settings, only={"bulletin", "criticism", "commendation", "paysheet"},
                                  formats={"pdf"}), stage, date=DATE)
    return stage


def body_text(html: str) -> str:
    """What a reader sees: the text of the body, without styles, tags or word joiners."""
    body = html.split("<body>", 1)[1]
    return re.sub(r"<[^>]+>", " ", body).replace("\u2060", "").replace("&#34;", '"').replace("&#39;", "'")


def paragraphs(html: str) -> list[str]:
    """The running text: <p> and the slips' result and consequence lines (not the padded tables)."""
    found = re.findall(r'<(?:p|div class="(?:result|period)")[^>]*>(.*?)</(?:p|div)>', html, re.S)
    return [re.sub(r"<[^>]+>", "", x).replace("\u2060", "") for x in found]


def pdftext(path: Path, *args: str) -> str:
    return subprocess.run(["pdftotext", *args, str(path), "-"], capture_output=True, text=True, check=True).stdout


def pages(path: Path) -> int:
    return int(re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True,
                                                             check=True).stdout)[1])


def page_text(path: Path, page: int) -> str:
    return pdftext(path, "-f", str(page), "-l", str(page))


# --------------------------------------------------------------------------- 1. a vetoed worker, everywhere


def test_a_vetoed_worker_agrees_on_every_paper(notices_root, html_pack, october):
    """W04: band 一票否决, ratio 0, pay 0.00, the veto named — in results.json, results.csv,
    paysheet.csv and .xlsx, the pack's pay sheet, the slip and the ranking."""
    out = notices_root / "2026-10"
    w = next(x for x in json.loads((out / "results.json").read_text(encoding="utf-8"))["workers"]
             if x["worker_id"] == "W04")
    assert (w["band"]["label"], w["band"]["ratio"], w["pay_ratio"], w["pay"]) == ("一票否决", "0", "0", "0.00")
    assert Decimal(w["performance_base"]) * Decimal(w["pay_ratio"]) == Decimal(w["pay"])

    row = next(r for r in csv.DictReader((out / "results.csv").read_text(encoding="utf-8-sig").splitlines())
               if r["工号"] == "W04")
    assert (row["档次"], row["发放比例"], row["绩效工资"], row["一票否决"]) == ("一票否决", "0", "0.00", "迟报漏报引发重大案件")

    row = next(r for r in csv.DictReader((out / "paysheet.csv").read_text(encoding="utf-8-sig").splitlines())
               if r["工号"] == "W04")
    assert (row["档次"], row["发放比例"], row["绩效工资"]) == ("一票否决", "0", "0.00")
    assert row["扣发原因"] == "一票否决：迟报漏报引发重大案件，绩效工资不予发放"

    for book in (out / "paysheet.xlsx", html_pack / "绩效工资发放表.xlsx"):
        ws = openpyxl.load_workbook(book)["凤凰街道"]
        cells = next([c.value for c in r] for r in ws.iter_rows() if r[1].value == "W04")
        assert (cells[9], cells[10], cells[11], cells[13]) == ("一票否决", 0, 0, "一票否决：迟报漏报引发重大案件，绩效工资不予发放")

    slip = body_text((html_pack / "考核结果通知单-凤凰街道.html").read_text(encoding="utf-8"))
    assert "档次：一票否决（迟报漏报引发重大案件，绩效工资不予发放），发放比例0%；绩效基数600.00元，绩效工资0.00元" in re.sub(r"\s+", "", slip)

    ranking = openpyxl.load_workbook(html_pack / "考核排名.xlsx")["考核排名"]
    cells = next([c.value for c in r] for r in ranking.iter_rows() if r[2].value == "W04")
    assert (cells[8], cells[9]) == ("一票否决", 0)

    sheet = body_text((html_pack / "绩效工资发放表-签字版.html").read_text(encoding="utf-8"))
    line = next(x for x in sheet.splitlines() if "W04" in x)
    assert re.search(r"W04\s+刘强\s+凤凰街道\s+西村\s+1-2-02\s+3,000.00\s+600.00\s+100\s+一票否决\s+0%\s+0.00\s+0.00\s+0.00", line)
    assert "扣发原因：一票否决：迟报漏报引发重大案件，绩效工资不予发放" in sheet


# --------------------------------------------------------------------------- 2. wording


WORKER_AND_PUBLIC = ("考核通报", "通报批评", "通报表彰", "考核结果通知单-鹤山镇", "考核结果通知单-凤凰街道",
                     "网格公示牌-鹤山镇", "服务联系卡-鹤山镇")


def test_no_rule_ids_file_names_or_row_numbers_on_what_workers_and_the_public_read(html_pack, october):
    ids = {f["rule_id"] for w in october["workers"] for f in w["findings"] + w.get("period_findings", [])}
    ids |= {"monthly_last_place", "monthly_top", "veto"}
    for name in WORKER_AND_PUBLIC:
        text = body_text((html_pack / f"{name}.html").read_text(encoding="utf-8"))
        assert not [i for i in ids if i in text], name
        assert not re.search(r"\w+\.(csv|xlsx)|第\s*\d+\s*行", text), name


def test_the_sentences_are_written_as_an_office_writes_them(html_pack):
    for name in WORKER_AND_PUBLIC:
        for p in paragraphs((html_pack / f"{name}.html").read_text(encoding="utf-8")):
            assert "「" not in p and "」" not in p, (name, p)
            assert not re.search(rf"\d[ \u00a0]+[{CJK}]|[{CJK}][ \u00a0]+\d", p), (name, p)
            assert p.count("本月考核不合格") <= 1 and p.count("一票否决") <= 1, (name, p)
            assert not re.search(r"\d+%\d", p), (name, p)            # 发放90%的11人, not 发放90%11人
    bulletin = " ".join(paragraphs((html_pack / "考核通报.html").read_text(encoding="utf-8")))
    assert "全额发放4人（占66.7%）；发放80%的1人（占16.7%）；一票否决1人（占16.7%）" in bulletin
    assert "2026.1" not in bulletin                                  # no policy version unless asked


def test_the_office_may_ask_for_the_policy_version(october, settings):
    on = settings.model_copy(update={"show_policy_version": True})
    office = office_context(on, None, DATE)
    assert "《城关镇网格员月度考核细则》（2026.1）" in bulletin_context(october, on, office)["intro"]
    assert "（2026.1）" not in bulletin_context(october, settings, office_context(settings, None, DATE))["intro"]


def test_a_number_never_breaks_from_its_unit_on_paper(pdf_pack, html_pack):
    """扣 6 分 came out as '扣6' at a line's end and '分' at the next line's start.  Every place where
    a printed line ends between a digit and a Chinese character, and the two sides belong together
    in a paragraph of the notice, is such a break."""
    for name in ("考核通报", "通报批评", "通报表彰"):
        text = " ".join(paragraphs((html_pack / f"{name}.html").read_text(encoding="utf-8")))
        lines = [x.strip() for x in pdftext(pdf_pack / f"{name}.pdf").splitlines() if x.strip()]
        for a, b in zip(lines, lines[1:]):
            if re.search(rf"(\d[{CJK}%]|[{CJK}]\d)", a[-1:] + b[:1]):
                assert a[-3:] + b[:3] not in text, (name, a, b)


# --------------------------------------------------------------------------- 4. order


def with_grids(results: dict, grids: dict[str, str], scores: dict[str, str] | None = None) -> dict:
    res = copy.deepcopy(results)
    for w in res["workers"]:
        w["grid"] = grids.get(w["worker_id"], w["grid"])
        if scores and w["worker_id"] in scores:
            w["score"] = scores[w["worker_id"]]
    return res


def test_towns_come_in_the_registers_or_the_settings_order(october, settings):
    office = office_context(settings, None, DATE)
    assert [g["name"] for g in bulletin_context(october, settings, office)["groups"]] == ["鹤山镇", "凤凰街道"]
    mine = settings.model_copy(update={"order": settings.order.model_copy(update={"towns": ["凤凰街道"]})})
    assert [g["name"] for g in bulletin_context(october, mine, office)["groups"]] == ["凤凰街道", "鹤山镇"]


def test_equal_scores_and_slips_go_in_natural_grid_order(october, settings, tmp_path):
    # W01 and W02 tied; W01's grid 1-1-10 comes after W02's 1-1-2 (code points would put it first)
    res = with_grids(october, {"W01": "1-1-10", "W02": "1-1-2", "W06": "1-1-3"}, {"W02": "100"})
    ranking = bulletin_context(res, settings, office_context(settings, None, DATE))["groups"][0]["ranking"]
    assert [(r["rank"], r["grid"]) for r in ranking] == [(1, "1-1-2"), (1, "1-1-10"), (3, "1-1-3")]
    render_print_pack(PackRequest(res, settings, only={"slips"}, formats={"html"}), tmp_path, date=DATE)
    html = (tmp_path / "考核结果通知单-鹤山镇.html").read_text(encoding="utf-8")
    assert [m for m in re.findall(r"网格：(\S+?)　", html)] == ["1-1-2", "1-1-3", "1-1-10"]


# --------------------------------------------------------------------------- 5. ties on public lists


def tied(october):
    """鹤山镇 with four workers tied at 100 (W01, W02, W06 and a new W07) — 表现突出 names 3."""
    res = copy.deepcopy(october)
    for w in res["workers"]:
        if w["town"] == "鹤山镇":
            w["score"] = "100"
    w7 = copy.deepcopy(next(w for w in res["workers"] if w["worker_id"] == "W01"))
    w7.update(worker_id="W07", name="赵六", grid="1-1-04")
    res["workers"].append(w7)
    return res


def test_nobody_is_both_outstanding_and_to_improve(october, settings):
    """Six workers, best 5 and worst 5: 杨洋 (70, last in his town) was named 表现突出.  Ranked W01, W03
    (100), W05 (99), W02 (96), W06 (70), the vetoed W04 last: 需要改进 are the vetoed and those with a
    deduction in the lower half (4th-6th); W05 (3rd, 1 point off) is not, and is 表现突出."""
    ctx = bulletin_context(october, settings, office_context(settings, None, DATE))
    assert [r["worker_id"] for r in ctx["worst"]] == ["W04", "W06", "W02"]
    assert [r["worker_id"] for r in ctx["best"]] == ["W01", "W03", "W05"]


def test_the_upper_half_of_the_table_is_never_to_improve(october, settings):
    """W02 (96, 4th of 6, named) raised to 100 by a bonus with its deductions left: now tied 1st, it is
    not 需要改进 for them; W05 (99.5) falls to 4th and is.  The vetoed W04 ranks last and is named."""
    res = copy.deepcopy(october)
    for w in res["workers"]:
        if w["worker_id"] == "W02":
            w["score"], w["bonus"] = "100", "4"         # deducted 4, earned 4 back
        if w["worker_id"] == "W05":
            w["score"] = "99.5"
    ctx = bulletin_context(res, settings, office_context(settings, None, DATE))
    # ranks: W01, W02, W03 tied 1st, W05 4th, W06 5th, W04 (vetoed) 6th; lower half: ranks 4-6
    assert [r["worker_id"] for r in ctx["worst"]] == ["W04", "W06", "W05"]
    assert "W02" in [r["worker_id"] for r in ctx["best"]]


def test_a_public_list_never_cuts_inside_a_tie(october, settings):
    res = tied(october)
    office = office_context(settings, None, DATE)
    three = settings.model_copy(update={"bulletin": settings.bulletin.model_copy(update={"best": 3, "worst": 0})})
    ctx = bulletin_context(res, three, office)
    assert [r["worker_id"] for r in ctx["best"]] == ["W01", "W02", "W06", "W07", "W03"]   # W03 100 too
    assert ctx["best_note"] == "第1名5人并列，均列入"
    assert "（第1名5人并列，均列入。）" in ctx["best_text"]
    none = settings.model_copy(update={"bulletin": settings.bulletin.model_copy(update={"best": 3, "worst": 0,
                                                                                       "ties": "none"})})
    ctx = bulletin_context(res, none, office)
    assert ctx["best"] == [] and ctx["best_note"] == "第1名5人并列，超出3人的名额，均未列入"


def test_a_tie_for_first_place_is_commended_together_and_said_so(october, settings):
    res = tied(october)
    got = {e["worker_id"]: e["reasons"][0]["reason"] for e in commended(res, settings)}
    assert got == {w: "2026年10月在鹤山镇并列第1名（4人并列，共4人）" for w in ("W01", "W02", "W06", "W07")} | {
        "W03": "2026年10月在凤凰街道排名第1名（共3人）"}
    strict = settings.model_copy(update={"commendation": settings.commendation.model_copy(update={"ties": "none"})})
    assert [e["worker_id"] for e in commended(res, strict)] == ["W03"]


# --------------------------------------------------------------------------- 8. the 公文's structure


def test_the_ranking_is_an_attachment_after_the_signature(pdf_pack):
    path = pdf_pack / "考核通报.pdf"
    text = re.sub(r"\s+", "", pdftext(path))
    body, _, rest = text.partition("附件：2026年10月各乡镇（街道）网格员考核排名")
    assert rest, "the 附件说明 line"
    assert "鹤山镇网格员考核排名" not in body and "名次" not in body          # no ranking in the body
    assert rest.index("鹤山镇社会治理网格化服务管理中心2026年11月5日") < rest.index("附件2026年10月各乡镇（街道）网格员考核排名")
    assert rest.index("名次姓名社区（村）网格得分星级档次") > rest.index("附件2026年10月")
    assert "各乡镇（街道）的社区（村）得分情况和网格员考核排名见附件。" in body


@pytest.mark.parametrize("name", ["考核通报.pdf", "通报批评.pdf", "通报表彰.pdf"])
def test_the_banji_is_on_an_even_page(pdf_pack, name):
    path = pdf_pack / name
    n = pages(path)
    assert n % 2 == 0
    assert "印发" in page_text(path, n) and all("印发" not in page_text(path, k) for k in range(1, n))


def test_the_banji_lands_on_an_even_page_wherever_the_text_ends(tmp_path):
    """Texts of every length from one page to three: the 版记 always on an even last page; a page
    with only the 版记 after the text is numbered; an empty page inserted before it and the 版记
    page are not (GB/T 9704 7.5)."""
    from engine.notices.pack import REPORTS_DIR
    from engine.notices.pdf import html_to_pdf
    from engine.notices.render import TemplateSet

    (tmp_path / "t.html.j2").write_text('{% extends "gongwen.html.j2" %}{% block body %}'
                                        '{% for i in range(n) %}<p>第{{ i }}段。</p>{% endfor %}{% endblock %}',
                                        encoding="utf-8")
    ts = TemplateSet([tmp_path, REPORTS_DIR])
    settings = load_settings(DEFAULT_SETTINGS)
    from engine.notices.pack import _office
    seen = set()
    for n in range(10, 62, 3):
        html = ts.render("t.html.j2", {"title": "关于测试的通知", "n": n,
                                       "office": _office(settings, {"text": "鹤网格〔2026〕1号"}, DATE)})
        path = tmp_path / f"{n}.pdf"
        total = html_to_pdf(html, path, base_url=str(REPORTS_DIR), even_banji=True)
        assert total % 2 == 0, n
        last = page_text(path, total)
        assert "印发" in last, n
        numbers = [re.findall(r"—\s*(\d+)\s*—", page_text(path, k)) for k in range(1, total + 1)]
        text_pages = [k for k in range(1, total + 1) if re.search(r"第\d+段", page_text(path, k))]
        end = text_pages[-1]
        if end == total:
            kind = "same page"
            assert numbers[-1] == [str(total)]
        elif end == total - 1:
            kind = "next page"
            assert numbers[-1] == [str(total)]                  # a 版记 page straight after the text: numbered
        else:
            kind = "after an empty page"
            assert end == total - 2 and numbers[-2:] == [[], []]
        seen.add(kind)
        assert all(numbers[k - 1] == [str(k)] for k in text_pages), n
    assert seen == {"same page", "next page", "after an empty page"}


def test_a_draft_has_its_mark_and_no_number(october, settings, tmp_path):
    pack, rows = render_print_pack(PackRequest(october, settings, only={"criticism"}, formats={"html"},
                                               draft="征求意见稿"), tmp_path, date=DATE)
    html = (tmp_path / "通报批评.html").read_text(encoding="utf-8")
    assert '<div class="draft-mark">征求意见稿</div>' in html and "鹤网格〔" not in html
    assert 'class="no-number"' in html


# --------------------------------------------------------------------------- 9. boards and cards


@pytest.fixture()
def register_with_extras(tmp_path):
    text = (FIX / "workers.csv").read_text(encoding="utf-8").splitlines()
    rows = [text[0] + ",户数,网格范围,开户银行,银行账号"]
    for i, line in enumerate(text[1:], 1):
        rows.append(line + f",{300 + i},东至胜利路、西至河堤{i}号,农商银行,62210000000000{i:05d}")
    path = tmp_path / "workers.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_boards_show_the_phone_photo_households_and_area(october, settings, register_with_extras, tmp_path):
    from engine.inputs import read_register
    photos = tmp_path / "照片"
    photos.mkdir()
    (photos / "W01.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (tmp_path / "secret.png").write_bytes(b"x")
    (photos / "W02.png").symlink_to(tmp_path / "secret.png")          # leads out of the folder: not used
    office = tmp_path / "office.yaml"
    office.write_text(DEFAULT_SETTINGS.read_text(encoding="utf-8").replace("  # photos: 照片", "  photos: 照片"),
                      encoding="utf-8")
    s = load_settings(office)
    reg = register_dicts(read_register(register_with_extras))
    stage = tmp_path / "s"
    stage.mkdir()
    render_print_pack(PackRequest(october, s, register=reg, only={"boards", "cards"}, formats={"html"}), stage,
                      date=DATE)
    board = (stage / "网格公示牌-鹤山镇.html").read_text(encoding="utf-8")
    assert "电　话：13812345678" in board                            # in full: the board is for calling
    assert f'src="{(photos / "W01.jpg").resolve().as_uri()}"' in board
    assert "secret.png" not in board and board.count("<img") == 1
    assert "服务户数：301户" in board and "网格范围：</strong>东至胜利路、西至河堤1号" in board
    card = (stage / "服务联系卡-鹤山镇.html").read_text(encoding="utf-8")
    assert "电话：13812345678" in card and "服务301户" in card


def test_a_board_photo_is_printed_in_the_pdf(october, register_with_extras, tmp_path):
    """The PDF step fetches the photo from the photo folder (and nothing outside the allowed folders)."""
    from PIL import Image

    from engine.inputs import read_register
    photos = tmp_path / "照片"
    photos.mkdir()
    Image.new("RGB", (60, 80), (40, 90, 160)).save(photos / "W01.png")
    office = tmp_path / "office.yaml"
    office.write_text(DEFAULT_SETTINGS.read_text(encoding="utf-8").replace("  # photos: 照片", "  photos: 照片"),
                      encoding="utf-8")
    reg = register_dicts(read_register(register_with_extras))
    stage = tmp_path / "s"
    stage.mkdir()
    render_print_pack(PackRequest(october, load_settings(office), register=reg, only={"boards"}, formats={"pdf"}),
                      stage, date=DATE)
    data = (stage / "网格公示牌-鹤山镇.pdf").read_bytes()
    assert data.count(b"/Subtype /Image") == 1


def test_bank_accounts_only_in_the_transfer_list(october, settings, register_with_extras, tmp_path):
    from engine.inputs import read_register
    reg = register_dicts(read_register(register_with_extras))
    stage = tmp_path / "s"
    stage.mkdir()
    pack, _ = render_print_pack(PackRequest(october, settings, register=reg, formats={"html", "xlsx"}), stage,
                                date=DATE)
    assert "银行代发清单.xlsx" in pack.files
    ws = openpyxl.load_workbook(stage / "银行代发清单.xlsx")["代发清单"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=4) if isinstance(r[0].value, int)]
    # everyone paid something, in the register's order, the account as text; W04 (veto) and W06
    # (all withheld) are paid nothing and are not on it
    assert [(r[1], r[4], r[5]) for r in rows] == [("张伟", "6221000000000000001", 600), ("李娜", "6221000000000000002", 500),
                                                  ("王芳", "6221000000000000003", 300), ("陈静", "6221000000000000005", 560)]
    assert ws["A" + str(ws.max_row - 1)].value == "合计（大写）：人民币壹仟玖佰陆拾元整"
    for p in stage.iterdir():
        if p.name != "银行代发清单.xlsx":
            data = p.read_bytes()
            assert b"62210000000000000" not in data, p.name


# --------------------------------------------------------------------------- 10. the printed roster


def test_a_visit_day_names_every_grid(notices_root, settings):
    roster = json.loads((notices_root / "roster" / "roster.json").read_text(encoding="utf-8"))
    rename = {g: f"1-1-{i:02d}" for i, g in enumerate(sorted(roster["directory"]["grids"]), 1)}
    text = json.dumps(roster, ensure_ascii=False)
    for old, new in sorted(rename.items(), key=lambda kv: -len(kv[0])):
        text = re.sub(rf'"{old}"', f'"{new}"', text)
    roster = json.loads(text)
    local = sorted(g for g, x in roster["directory"]["grids"].items() if x["community"] == "东村社区")
    roster["visits"] = [v for v in roster["visits"] if v[2] != 10] + [["S1", g, 10] for g in local]
    ctx = roster_context(roster, settings, office_context(settings, None, DATE), towns=["鹤山镇"])
    week = next(w for w in ctx["communities"][0]["weeks"] if any(d["date"] == "10/11" for d in w["days"]))
    day = next(i for i, d in enumerate(week["days"]) if d["date"] == "10/11")
    s1 = next(p for p in week["people"] if p["name"] == roster["directory"]["people"]["S1"]["name"])
    assert s1["cells"][day] == "走访" + "、".join(local)
    assert "等" not in s1["cells"][day]


# --------------------------------------------------------------------------- 12. progress


def test_the_pack_reports_its_progress(october, settings, register, tmp_path):
    seen = []
    pack, _ = render_print_pack(PackRequest(october, settings, register=register, formats={"html", "xlsx"}),
                                tmp_path, date=DATE, progress=lambda done, total: seen.append((done, total)))
    assert [d for d, _ in seen] == list(range(1, len(pack.files) + 1))
    assert {t for _, t in seen} == {len(pack.files)}


# --------------------------------------------------------------------------- 6. the pay sheet to sign


def test_every_printed_page_of_the_pay_sheet_closes_with_its_subtotal(october, settings, tmp_path):
    """30 workers in 鹤山镇, each with a withholding (a 扣发原因 line under the row): no page spills
    over, every page has one 本页小计, the town's last page its total in 大写 and the signature line."""
    res = copy.deepcopy(october)
    w6 = next(w for w in res["workers"] if w["worker_id"] == "W06")
    for i in range(7, 37):
        w = copy.deepcopy(w6)
        w.update(worker_id=f"W{i:02d}", name=f"网格员{i}", grid=f"1-1-{i:02d}")
        res["workers"].append(w)
    render_print_pack(PackRequest(res, settings, only={"paysheet"}, formats={"pdf"}), tmp_path, date=DATE)
    path = tmp_path / "绩效工资发放表-签字版.pdf"
    texts = [page_text(path, k) for k in range(1, pages(path) + 1)]
    town = [t for t in texts if "乡镇（街道）：鹤山镇" in t]
    assert len(town) >= 3 and all(t.count("本页小计") == 1 for t in town)
    assert all(f"第{k}页／共{len(town)}页" in t for k, t in enumerate(town, 1))
    assert "鹤山镇合计（大写）：人民币" in town[-1] and "制表人" in town[-1]
    assert not any("合计（大写）" in t for t in town[:-1])
    assert "总计（大写）：人民币" in texts[-1]                    # the 汇总 page of the two towns
    details = sum(len(re.findall(r"^\s*\d+\s+W\d\d\s", t, re.M)) for t in town)
    assert details == 33                                          # W01, W02, W06 and the 30 added


# --------------------------------------------------------------------------- a slip stays one page


def test_a_slip_with_many_findings_is_set_denser_and_stays_one_page(october, settings, tmp_path):
    """A worker under daily records has a finding for every short half-day: 20 of them (each two lines
    at the normal size) ran the slip onto a second page holding 鹤山镇网格中心 and the date alone.  The
    PDF is laid out again with that slip set denser: one page; without that pass the same slip is two
    (so the count below can tell)."""
    from engine.notices import pdf

    res = copy.deepcopy(october)
    w = next(w for w in res["workers"] if w["worker_id"] == "W01")
    res["workers"] = [w, next(w for w in october["workers"] if w["worker_id"] == "W02")]
    w["findings"] = [dict(w["findings"][0] if w["findings"] else {}, rule_id="patrol_half_day", rule_label="半天巡查时长不足",
                          kind="deduction", points="-1", item_label="日常巡查",
                          reason=f"10月{d}日巡查上午46分钟（应不少于60分钟）、下午62分钟（应不少于70分钟），每时段不足扣1分，每天最多扣2分，扣2分")
                     for d in range(1, 21)]
    only = PackRequest(res, settings, only={"slips"}, formats={"pdf"})
    (tmp_path / "fit").mkdir()
    render_print_pack(only, tmp_path / "fit", date=DATE)
    (pdf_file,) = (tmp_path / "fit").glob("考核结果通知单*.pdf")
    assert pages(pdf_file) == 2                                    # one page for each of the two slips
    assert "W02" in pdftext(pdf_file, "-f", "2", "-l", "2")
    real = pdf._overflowing
    try:
        pdf._overflowing = lambda doc: set()
        (tmp_path / "plain").mkdir()
        render_print_pack(only, tmp_path / "plain", date=DATE)
    finally:
        pdf._overflowing = real
    (pdf_file,) = (tmp_path / "plain").glob("考核结果通知单*.pdf")
    assert pages(pdf_file) == 3 and "W02" not in pdftext(pdf_file, "-f", "2", "-l", "2")


def test_a_slip_that_fits_stays_at_the_normal_size():
    from engine.notices.pdf import _denser

    html = '<div class="page slip" id="fit-1" data-fit="dense denser"><div class="page slip" id="fit-2" data-fit="dense denser">'
    once = _denser(html, {"fit-2"})
    assert once == html.replace('class="page slip" id="fit-2"', 'class="page slip dense" id="fit-2"')
    twice = _denser(once, {"fit-2"})
    assert 'class="page slip denser" id="fit-2"' in twice and 'class="page slip" id="fit-1"' in twice
    assert _denser(twice, {"fit-2"}) == twice                      # the densest it can be: left as it is


def test_a_slip_says_the_grades_and_an_earn_items_points_as_earned(october, settings, tmp_path):
    """The month's grade and a quarter's grade ending with it are the result a worker signs for, beside the pay
    band; an earn item's rule 得 its points (not 加), its start says itself, and points above the item's value
    are taken back (扣回), not 退回."""
    res = copy.deepcopy(october)
    w = next(w for w in res["workers"] if w["worker_id"] == "W01")
    res["workers"] = [w]
    res["period_rules_applied"] = True
    w.setdefault("withheld", "0.00")
    w.setdefault("payable", w["pay"])
    grade = {"kind": "grade", "amount": "0.00", "criticise": False, "commend": False}
    w["period_findings"] = [
        dict(grade, rule_id="m", rule_label="月度考核等次", months=["2026-10"], reason="2026年10月得分96分，评为“A”",
             grade="A", grade_label="A", score="96.00", period="month"),
        dict(grade, rule_id="q", rule_label="季度考核等次", months=["2026-10", "2026-11", "2026-12"],
             reason="2026年第4季度得分93.33分，评为“好”", grade="good", grade_label="好", score="93.33", period="quarter")]
    base = {"item_id": "reporting", "item_label": "事件上报处置", "category": "事件处置", "values": {}, "source": None}
    w["findings"] = [
        dict(base, rule_id="reporting", rule_label="事件上报处置", kind="earn_base", points="-20",
             reason="“事件上报处置”为得分项，从0分起计，满分20分"),
        dict(base, rule_id="valid_report", rule_label="有效上报", kind="earn", points="22",
             reason="有效上报11起，得22分"),
        dict(base, rule_id="reporting", rule_label="事件上报处置", kind="cap", points="-2",
             reason="“事件上报处置”得分合计22分，超过该项分值20分，按20分计")]
    render_print_pack(PackRequest(res, settings, only={"slips"}, formats={"html"}), tmp_path, date=DATE)
    (html,) = tmp_path.glob("考核结果通知单*.html")
    text = re.sub(r"\s+", "", body_text(html.read_text(encoding="utf-8")))
    assert "考核等次：月度考核等次为“A”；季度考核等次为“好”（2026年第4季度得分93.33分）。" in text
    assert "1.事件上报处置：“事件上报处置”为得分项，从0分起计，满分20分" in text
    assert "2.有效上报（得22分）：有效上报11起，得22分" in text
    assert "3.事件上报处置（扣回2分）：" in text


def test_the_bulletin_counts_each_grade_rule_best_grade_first(october, settings):
    """Under a policy with grades the overall paragraph says each rule's head counts in the policy's order
    (grade_rank), not the pay bands' or the alphabet's."""
    res = copy.deepcopy(october)
    res["period_rules_applied"] = True
    grade = {"rule_id": "q", "rule_label": "季度考核等次", "kind": "grade", "months": ["2026-10"], "reason": "",
             "amount": "0.00", "criticise": False, "commend": False, "period": "quarter"}
    ranks = {"好": 1, "较好": 2, "一般": 3}
    for w, label in zip(res["workers"], ["一般", "好", "较好", "一般"] + ["较好"] * len(res["workers"])):
        w["period_findings"] = [dict(grade, grade=label, grade_label=label, grade_rank=ranks[label], score=w["score"])]
        w.setdefault("withheld", "0.00")
        w.setdefault("payable", w["pay"])
    k = len(res["workers"]) - 4
    text = bulletin_context(res, settings, office_context(settings, None, DATE))["summary"]["text"]
    assert f"季度考核等次：“好”1人，“较好”{k + 1}人，“一般”2人。" in text
