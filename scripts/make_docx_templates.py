"""Make the Word templates reports/docx/*.docx (docxtpl: Jinja tags inside a .docx).

Run after changing this script: `python scripts/make_docx_templates.py`.  The output files are
committed; offices copy and edit them in Word/WPS.  Layout after GB/T 9704-2012: A4, margins
37/26/35/28 mm, red header and rule, 2号 小标宋 title, 3号 仿宋 body, 黑体/楷体 headings, page
numbers "— 1 —" in 4号 宋体, 版记 at the end.  Font names are the ones Word/WPS users have
(方正小标宋简体, 仿宋_GB2312, 黑体, 楷体_GB2312); Word substitutes what is missing.
"""
from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

OUT = Path(__file__).resolve().parents[1] / "reports" / "docx"
RED = RGBColor(0xE6, 0x00, 0x12)
FANG, SONG_TITLE, HEI, KAI, SONG = "仿宋_GB2312", "方正小标宋简体", "黑体", "楷体_GB2312", "宋体"


def _font(run, name: str, size: float, color: RGBColor | None = None, bold: bool = False) -> None:
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), name)
    if color is not None:
        run.font.color.rgb = color


def _para(doc, text: str = "", *, font=FANG, size=16.0, align=None, indent=True, color=None, bold=False,
          before=0, after=0):
    p = doc.add_paragraph()
    fmt = p.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(28.95)          # 22 lines in the 225 mm text block
    fmt.space_before, fmt.space_after = Pt(before), Pt(after)
    if indent:
        fmt.first_line_indent = Pt(size * 2)
    if align is not None:
        p.alignment = align
    if text:
        _font(p.add_run(text), font, size, color, bold)
    return p


def _border(p, side: str, color: str = "E60012", size: int = 12) -> None:
    ppr = p._p.get_or_add_pPr()
    bdr = OxmlElement("w:pBdr")
    el = OxmlElement(f"w:{side}")
    el.set(qn("w:val"), "single")
    el.set(qn("w:sz"), str(size))
    el.set(qn("w:space"), "1")
    el.set(qn("w:color"), color)
    bdr.append(el)
    ppr.append(bdr)


def _page_numbers(section) -> None:
    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(p.add_run("— "), SONG, 14)
    run = p.add_run()
    for tag, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if tag:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), tag)
            run._r.append(fld)
        else:
            instr = OxmlElement("w:instrText")
            instr.text = text
            run._r.append(instr)
    _font(run, SONG, 14)
    _font(p.add_run(" —"), SONG, 14)


def _frame(doc) -> None:
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin = Mm(37), Mm(35), Mm(28), Mm(26)
    sec.footer_distance = Mm(28)
    _page_numbers(sec)
    _para(doc, "", indent=False)
    _para(doc, "{{ office.header }}", font=SONG_TITLE, size=26, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False,
          color=RED, before=40)
    _para(doc, "", indent=False)
    _para(doc, "{{ office.number }}", align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    rule = _para(doc, "", indent=False)
    _border(rule, "bottom", size=18)
    _para(doc, "", indent=False)
    _para(doc, "{{ title }}", font=SONG_TITLE, size=22, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    _para(doc, "", indent=False)
    _para(doc, "{{ office.addressees }}：", indent=False)


def _close(doc) -> None:
    _para(doc, "")
    _para(doc, "{{ office.signature }}", align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    p = _para(doc, "{{ office.date | cn_date }}", align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    p.paragraph_format.right_indent = Pt(64)
    _para(doc, "{%p if office.contact %}", indent=False)
    _para(doc, "（联系人：{{ office.contact.name }}，电话：{{ office.contact.phone }}）")
    _para(doc, "{%p endif %}", indent=False)
    _para(doc, "")
    _para(doc, "{%p if office.cc %}", indent=False)
    cc = _para(doc, "抄送：{{ office.cc }}。", size=14, indent=False)
    _border(cc, "top", "000000", 8)
    _para(doc, "{%p endif %}", indent=False)
    pr = _para(doc, "{{ office.printed_by }}　　{{ office.date | cn_date }}印发", size=14, indent=False)
    _border(pr, "top", "000000", 4)
    _border(pr, "bottom", "000000", 8)


def _table(doc, heads: list[str], cells: list[str], loop: str) -> None:
    """A ruled table: header row, one template row repeated by `{%tr for … %}`."""
    t = doc.add_table(rows=3, cols=len(heads))
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    for c, h in enumerate(heads):
        cell = t.rows[0].cells[c]
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        _font(cell.paragraphs[0].add_run(h), HEI, 12)
    for c, text in enumerate(cells):
        _font(t.rows[2].cells[c].paragraphs[0].add_run(text), FANG, 12)
    _font(t.rows[1].cells[0].paragraphs[0].add_run("{%tr for r in " + loop + " %}"), FANG, 12)
    row_end = t.add_row()
    _font(row_end.cells[0].paragraphs[0].add_run("{%tr endfor %}"), FANG, 12)
    # header repeats on each page
    trpr = t.rows[0]._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    trpr.append(el)


def bulletin() -> Document:
    doc = Document()
    _frame(doc)
    _para(doc, "根据《{{ month.policy.name }}》（{{ month.policy.version }}），{{ office.issuer }}对{{ month.label }}"
               "全体网格员的工作进行了考核。现将考核情况通报如下：")
    _para(doc, "一、总体情况", font=HEI)
    _para(doc, "本月共考核网格员{{ summary.workers }}名，平均得分{{ summary.mean }}分，最高{{ summary.max }}分，"
               "最低{{ summary.min }}分。{% for b in bands %}{{ b.label }}{{ b.count }}人（占{{ b.share }}）"
               "{{ '；' if not loop.last else '。' }}{% endfor %}{% if summary.vetoes %}被一票否决{{ summary.vetoes }}人。"
               "{% endif %}本月应发绩效工资合计{{ summary.pay | money }}元{% if month.period_rules %}，按跨月规则扣发"
               "{{ summary.withheld | money }}元，实发{{ summary.payable | money }}元{% endif %}。")
    _para(doc, "二、考核排名", font=HEI)
    _para(doc, "{%p for g in groups %}", indent=False)
    _para(doc, "（{{ loop.index | cn_number }}）{{ g.name }}：共{{ g.size }}人，平均得分{{ g.mean }}分，"
               "最高{{ g.max }}分，最低{{ g.min }}分。", font=KAI)
    _table(doc, ["名次", "姓名", "社区（村）", "网格", "得分", "星级", "档次"],
           ["{{ r.rank }}", "{{ r.name }}", "{{ r.community }}", "{{ r.grid }}", "{{ r.score }}",
            "{{ (r.stars ~ '星') if r.stars is not none else '' }}", "{{ r.band }}"], "g.ranking")
    _para(doc, "{%p endfor %}", indent=False)
    _para(doc, "{%p if worst %}", indent=False)
    _para(doc, "三、需要改进的网格员", font=HEI)
    _para(doc, "{%p for r in worst %}", indent=False)
    _para(doc, "{{ loop.index }}. {{ r.community }}{{ r.name }}，得分{{ r.score }}分"
               "{% if r.reasons %}，主要扣分：{{ r.reasons | join('；') }}{% endif %}。")
    _para(doc, "{%p endfor %}", indent=False)
    _para(doc, "{%p endif %}", indent=False)
    _para(doc, "{%p if vetoes %}", indent=False)
    _para(doc, "四、一票否决情况", font=HEI)
    _para(doc, "{%p for v in vetoes %}", indent=False)
    _para(doc, "{{ loop.index }}. {{ v.community }}{{ v.name }}：{{ v.label }}{% if v.reason %}，{{ v.reason }}{% endif %}。")
    _para(doc, "{%p endfor %}", indent=False)
    _para(doc, "{%p endif %}", indent=False)
    _para(doc, "{%p if consequences %}", indent=False)
    _para(doc, "五、跨月考核结果", font=HEI)
    _para(doc, "{%p for c in consequences %}", indent=False)
    _para(doc, "{{ loop.index }}. {{ c.community }}{{ c.name }}：{{ c.label }}。{{ c.reason }}"
               "{% if c.amount != '0.00' %}（本月扣发{{ c.amount | money }}元）{% endif %}。")
    _para(doc, "{%p endfor %}", indent=False)
    _para(doc, "{%p endif %}", indent=False)
    _para(doc, "{{ closing }}")
    _close(doc)
    return doc


def _entries(opening: str) -> Document:
    doc = Document()
    _frame(doc)
    _para(doc, opening)
    _para(doc, "{%p for e in entries %}", indent=False)
    _para(doc, "{{ loop.index }}. {{ e.town }}{{ e.community }}网格员{{ e.name }}（网格{{ e.grid }}，本月得分{{ e.score }}分）："
               "{% for r in e.reasons %}{{ r.reason }}{% if r.amount != '0.00' %}（本月扣发{{ r.amount | money }}元）{% endif %}"
               "{{ '；' if not loop.last else '。' }}{% endfor %}")
    _para(doc, "{%p endfor %}", indent=False)
    _para(doc, "{{ closing }}")
    _close(doc)
    return doc


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    bulletin().save(OUT / "bulletin.docx")
    _entries("{{ month.label }}，{{ office.issuer }}依据《{{ month.policy.name }}》对全体网格员进行了考核。经考核，"
             "以下{{ entries | length }}名网格员工作存在明显差距，现予以通报批评：").save(OUT / "criticism.docx")
    _entries("{{ month.label }}，{{ office.issuer }}依据《{{ month.policy.name }}》对全体网格员进行了考核。"
             "以下{{ entries | length }}名网格员履职尽责、成绩突出，现予以通报表彰：").save(OUT / "commendation.docx")
    print("已写出", ", ".join(sorted(p.name for p in OUT.glob("*.docx"))))


if __name__ == "__main__":
    main()
