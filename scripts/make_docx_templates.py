"""Make the Word templates reports/docx/*.docx (docxtpl: Jinja tags inside a .docx).

Run after changing this script: `python scripts/make_docx_templates.py`.  The output files are
committed; offices copy and edit them in Word/WPS.  Layout after GB/T 9704-2012, as the HTML
notices (reports/gongwen.html.j2):

- A4, margins 37/26/35/28 mm; a document grid of 22 lines x 28 characters (页面设置 → 文档网格),
  every line exactly 28.95 pt, so each page is 22 lines and each line 28 characters of 3号 仿宋;
- red header (方正小标宋简体) with its top 35 mm below the text block, in a size that keeps it on one
  line (30 pt up to 14 characters, 26 pt up to 16, 22 pt beyond); the document number two lines
  below; the red rule 4 mm under the number; the title (2号 小标宋) two lines below the rule, a long
  title broken before 予以; one line, then the addressee;
- headings 一、 黑体 and （一） 楷体, numbered as the sections present (as in the HTML);
- issuer and date: the date four characters in from the right, the issuer centred above it
  (flush right when it is the longer line); the last line of the body kept with them;
- page numbers "— 1 —" in 4号 宋体, the dashes 7 mm below the text block, odd pages right and
  even pages left, one character in;
- 版记 (抄送, 印发机关 and 印发日期) as a table floating on the bottom edge of the last page's text
  block, between a 0.35 mm rule above and below and a 0.25 mm rule between its lines.

Font names are the ones Word/WPS users have (方正小标宋简体, 仿宋_GB2312, 黑体, 楷体_GB2312, 宋体);
Word substitutes what is missing.  The measured positions (via LibreOffice with the free stand-in
fonts) are in the commit that made this version.
"""
from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor, Twips

OUT = Path(__file__).resolve().parents[1] / "reports" / "docx"
RED = RGBColor(0xE6, 0x00, 0x12)
FANG, SONG_TITLE, HEI, KAI, SONG = "仿宋_GB2312", "方正小标宋简体", "黑体", "楷体_GB2312", "宋体"
LINE = Pt(28.95)                 # 225 mm / 22 lines
BLOCK_PT = 442.2                 # 156 mm, the text block's width
CHAR_PT = BLOCK_PT / 28          # one character of the 28-character grid (15.79 pt)
BODY_SPACING = -5                # twentieths of a point: 28 x (16 - 0.25) pt = 441 pt <= 442.2 pt
# Header sizes by length (characters), each fitting 156 mm, and the space above the header that
# puts its top 35 mm below the text block (LibreOffice with Noto Serif CJK SC, Word alike).
HEADER_SIZES = ((14, 30), (16, 26), (None, 22))
HEADER_TOP_PT = 35 / 25.4 * 72   # 99.2 pt
# 版记 as wide as the text block, placed from the page's left edge (28 mm): LibreOffice keeps a
# floating table as wide as the text area in the flow when it is placed relative to the margins
BANJI_TW = round(BLOCK_PT * 20)


def _el(tag: str, **attrs) -> OxmlElement:
    el = OxmlElement(tag)
    for k, v in attrs.items():
        el.set(qn(k), str(v))
    return el


# Children of these elements must come in the schema's order, or Word calls the file damaged.
ORDER = {
    "pPr": "pStyle keepNext keepLines pageBreakBefore framePr widowControl numPr suppressLineNumbers pBdr shd "
           "tabs suppressAutoHyphens kinsoku wordWrap overflowPunct topLinePunct autoSpaceDE autoSpaceDN bidi "
           "adjustRightInd snapToGrid spacing ind contextualSpacing mirrorIndents suppressOverlap jc "
           "textDirection textAlignment textboxTightWrap outlineLvl divId cnfStyle rPr sectPr pPrChange",
    "rPr": "rStyle rFonts b bCs i iCs caps smallCaps strike dstrike outline shadow emboss imprint noProof "
           "snapToGrid vanish webHidden color spacing w kern position sz szCs highlight u effect bdr shd fitText "
           "vertAlign rtl cs em lang eastAsianLayout specVanish oMath",
    "tblPr": "tblStyle tblpPr tblOverlap bidiVisual tblStyleRowBandSize tblStyleColBandSize tblW jc "
             "tblCellSpacing tblInd tblBorders shd tblLayout tblCellMar tblLook tblCaption tblDescription",
}


def _put(parent, el) -> None:
    """Put `el` into `parent` in schema order, replacing a child of the same name."""
    local = lambda e: e.tag.rsplit("}", 1)[-1]          # noqa: E731
    order = ORDER[local(parent)].split()
    name = local(el)
    for child in list(parent):
        if local(child) == name:
            parent.remove(child)
    after = order[order.index(name) + 1:]
    for i, child in enumerate(parent):
        if local(child) in after:
            parent.insert(i, el)
            return
    parent.append(el)


def _font(run, name: str, size: float, color: RGBColor | None = None, bold: bool = False) -> None:
    """The run's font; 3号 text drawn 0.25 pt closer (字符间距 紧缩 0.25 磅), so that 28 characters
    fill the 156 mm line as GB/T 9704 asks (16 pt characters would need 158 mm)."""
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
    if size == 16:
        _put(rpr, _el("w:spacing", **{"w:val": BODY_SPACING}))


def _no_grid(p) -> None:
    """A paragraph not snapped to the character grid (a larger font would take two cells a character)."""
    _put(p._p.get_or_add_pPr(), _el("w:snapToGrid", **{"w:val": "0"}))


def _para(doc, text: str = "", *, font=FANG, size=16.0, align=None, indent=True, color=None, bold=False,
          before=0, after=0, line=LINE, grid=True, keep=False):
    p = doc.add_paragraph()
    fmt = p.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = line
    fmt.space_before, fmt.space_after = Pt(before), Pt(after)
    fmt.widow_control = False              # full 22-line pages, as 公文 in Word are set
    fmt.keep_with_next = keep
    if indent:
        fmt.first_line_indent = Pt(size * 2)
        p._p.get_or_add_pPr().get_or_add_ind().set(qn("w:firstLineChars"), "200")
    if align is not None:
        p.alignment = align
    if not grid:
        _no_grid(p)
    if text:
        _font(p.add_run(text), font, size, color, bold)
    return p


def _tag(doc, text: str):
    """A paragraph holding only a {%p … %} tag: docxtpl removes it."""
    return _para(doc, text, indent=False)


def _border(p, side: str, color: str, size: int, space: float = 1) -> None:
    ppr = p._p.get_or_add_pPr()
    bdr = ppr.find(qn("w:pBdr"))
    if bdr is None:
        bdr = OxmlElement("w:pBdr")
        _put(ppr, bdr)
    bdr.append(_el(f"w:{side}", **{"w:val": "single", "w:sz": size, "w:space": space, "w:color": color}))


def _styles(doc) -> None:
    """Normal: 3号 仿宋, Chinese typography (line-breaking rules), the size the grid is counted in."""
    normal = doc.styles["Normal"]
    normal.font.size = Pt(16)
    rpr = normal.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FANG)
    _put(rpr, _el("w:lang", **{"w:val": "en-US", "w:eastAsia": "zh-CN"}))
    # no automatic space between Chinese and Latin or digits (自动调整中文与西文/数字的间距): the
    # 28-character line stays 28 characters, as in the printed notices (LibreOffice ignores this
    # setting and always adds the space; Word and WPS follow it)
    ppr = normal.element.get_or_add_pPr()
    _put(ppr, _el("w:autoSpaceDE", **{"w:val": "0"}))
    _put(ppr, _el("w:autoSpaceDN", **{"w:val": "0"}))
    # docDefaults too, for the table cells and anything Word adds
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        drpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
        _put(drpr, _el("w:rFonts", **{"w:ascii": FANG, "w:hAnsi": FANG, "w:eastAsia": FANG, "w:cs": FANG}))
        _put(drpr, _el("w:sz", **{"w:val": 32}))
        _put(drpr, _el("w:szCs", **{"w:val": 32}))
        _put(drpr, _el("w:lang", **{"w:val": "en-US", "w:eastAsia": "zh-CN"}))


def _page_number(footer, align, indent_side: str) -> None:
    footer.is_linked_to_previous = False
    p = footer.paragraphs[0]
    p.alignment = align
    fmt = p.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(14)
    fmt.space_before = fmt.space_after = Pt(0)
    setattr(fmt, indent_side, Pt(14))      # one 4号 character in
    _no_grid(p)
    _font(p.add_run("— "), SONG, 14)
    run = p.add_run()
    run._r.append(_el("w:fldChar", **{"w:fldCharType": "begin"}))
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = " PAGE "
    run._r.append(instr)
    run._r.append(_el("w:fldChar", **{"w:fldCharType": "end"}))
    _font(run, SONG, 14)
    _font(p.add_run(" —"), SONG, 14)


def _section(doc) -> None:
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin = Mm(37), Mm(35), Mm(28), Mm(26)
    sec.header_distance = Mm(15)
    sec.footer_distance = Mm(FOOTER_MM)
    doc.settings.odd_and_even_pages_header_footer = True
    _page_number(sec.footer, WD_ALIGN_PARAGRAPH.RIGHT, "right_indent")
    _page_number(sec.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT, "left_indent")
    # 文档网格 of 22 lines (28.95 pt).  28 characters a line come from the characters' spacing
    # (BODY_SPACING), not a character grid: LibreOffice and WPS lay a character grid out differently
    # from Word, and a 2号 title on it takes two cells a character.
    sectpr = sec._sectPr
    for old in sectpr.findall(qn("w:docGrid")):
        sectpr.remove(old)
    sectpr.append(_el("w:docGrid", **{"w:type": "lines", "w:linePitch": 579}))


# Where the header's top and the page numbers land depends on how the word processor places a
# line of exact height; these were set by measuring LibreOffice's PDF of the rendered templates.
HEADER_BEFORE = {30: 100.2, 26: 100.1, 22: 99.8}   # pt above the header line, per size
HEADER_LINE = 1.0                                 # header line height, x its size
RULE_SPACE = 7                                    # pt between the number's line and the red rule
FOOTER_MM = 25.6                                  # footer distance from the page's bottom edge


def _frame(doc) -> None:
    _styles(doc)
    _section(doc)
    # 送审稿 / 征求意见稿: said in red at the top right of the first page (the number stays empty)
    _tag(doc, "{%p if office.draft %}")
    _para(doc, "{{ office.draft }}", font=HEI, size=16, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False, color=RED)
    _tag(doc, "{%p endif %}")
    first = True
    for limit, size in HEADER_SIZES:
        cond = "if" if first else ("elif" if limit else "else")
        test = f" office.header | length <= {limit}" if limit else ""
        _tag(doc, "{%p " + cond + test + " %}")
        _para(doc, "{{ office.header }}", font=SONG_TITLE, size=size, align=WD_ALIGN_PARAGRAPH.CENTER,
              indent=False, color=RED, before=HEADER_BEFORE[size], line=Pt(size * HEADER_LINE), grid=False)
        first = False
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p if office.number %}")
    _para(doc, "", indent=False)
    _para(doc, "", indent=False)
    number = _para(doc, "{{ office.number }}", align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    _border(number, "bottom", "E60012", 16, RULE_SPACE)
    _tag(doc, "{%p else %}")
    _para(doc, "", indent=False)
    rule = _para(doc, "", indent=False)
    _border(rule, "bottom", "E60012", 16, RULE_SPACE)
    _tag(doc, "{%p endif %}")
    _para(doc, "", indent=False)
    _para(doc, "", indent=False)
    # 标题: broken before 予以 when it is longer than a line (GB/T 9704 7.3.1: lines that keep their
    # sense, set as a trapezoid)
    long_title = "title | length > 20 and '予以' in title"
    _para(doc, "{{ title.split('予以', 1)[0] if " + long_title + " else title }}", font=SONG_TITLE, size=22,
          align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, grid=False)
    _tag(doc, "{%p if " + long_title + " %}")
    _para(doc, "予以{{ title.split('予以', 1)[1] }}", font=SONG_TITLE, size=22, align=WD_ALIGN_PARAGRAPH.CENTER,
          indent=False, grid=False)
    _tag(doc, "{%p endif %}")
    _para(doc, "", indent=False)
    _para(doc, "{{ office.addressees }}：", indent=False)
    _tag(doc, "{%p set ns = namespace(h=0) %}")


def _heading(doc, text: str):
    """一、 heading, numbered by the sections present."""
    return _para(doc, "{% set ns.h = ns.h + 1 %}{{ ns.h | cn_number }}、" + text, font=HEI, keep=True)


def _close(doc, attachments=None) -> None:
    """附件说明, issuer and date, 附注, then the attachment pages (`attachments(doc)` writes them)
    and the 版记."""
    # 附件说明: one line below the body, two characters in; a second name under the first one's
    _tag(doc, "{%p if attachments is defined and attachments %}")
    _para(doc, "", indent=False, keep=True)
    _tag(doc, "{%p for a in attachments %}")
    att = _para(doc, "{{ '附件：' if loop.first else '' }}{{ (loop.index ~ '. ') if attachments | length > 1 else '' }}"
                     "{{ a.title }}", indent=False, keep=True)
    att.paragraph_format.left_indent = Pt(16 * 5)
    att.paragraph_format.first_line_indent = Pt(-16 * 3)
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p endif %}")
    # the closing paragraph comes before this and keeps its last line with the signature
    doc.paragraphs[-1].paragraph_format.keep_with_next = True
    _para(doc, "", indent=False, keep=True)
    _para(doc, "", indent=False, keep=True)
    # the issuer centred over the date (flush right when it is the longer line): led by full-width
    # spaces, 28 characters less its own and its distance from the right (office.issuer_indent, in
    # characters, as the HTML uses it); a right indent cannot come from the data in a template Word
    # can open, and trailing spaces are dropped at the end of a right-aligned line
    _para(doc, "{{ '　' * ([28 - (office.signature | length) - (office.issuer_indent[:-2] | float), 0] | max"
               " | round | int) }}{{ office.signature }}", align=WD_ALIGN_PARAGRAPH.LEFT, indent=False, keep=True)
    date = _para(doc, "{{ office.date | cn_date }}", align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    date.paragraph_format.right_indent = Pt(CHAR_PT * 4)
    date._p.get_or_add_pPr().get_or_add_ind().set(qn("w:rightChars"), "400")
    _tag(doc, "{%p if office.contact %}")
    date.paragraph_format.keep_with_next = True
    _para(doc, "（联系人：{{ office.contact.name }}，电话：{{ office.contact.phone }}）")
    _tag(doc, "{%p endif %}")
    if attachments is not None:
        # each attachment on a new page: 附件N in 3号黑体 on the first line, flush left; the title
        # centred on the third line (GB/T 9704 8.1)
        _tag(doc, "{%p for a in attachments %}")
        head = _para(doc, "附件{{ loop.index if attachments | length > 1 else '' }}", font=HEI, indent=False)
        head.paragraph_format.page_break_before = True
        _para(doc, "", indent=False)
        _para(doc, "{{ a.title }}", font=SONG_TITLE, size=22, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False,
              grid=False)
        _para(doc, "", indent=False)
        attachments(doc)
        _tag(doc, "{%p endfor %}")
    _banji(doc)


def _banji(doc) -> None:
    """版记: a table floating on the bottom edge of the last page's text block."""
    t = doc.add_table(rows=4, cols=1)
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    tblpr = t._tbl.tblPr
    for old in tblpr.findall(qn("w:tblStyle")):
        tblpr.remove(old)
    _put(tblpr, _el("w:tblpPr", **{"w:leftFromText": 0, "w:rightFromText": 0, "w:topFromText": 0,
                                    "w:bottomFromText": 0, "w:vertAnchor": "margin", "w:tblpYSpec": "bottom",
                                    "w:horzAnchor": "page", "w:tblpX": round(28 / 25.4 * 1440)}))
    _put(tblpr, _el("w:tblOverlap", **{"w:val": "never"}))
    _put(tblpr, _el("w:tblW", **{"w:w": BANJI_TW, "w:type": "dxa"}))
    borders = OxmlElement("w:tblBorders")
    for side, sz in (("top", 8), ("left", 0), ("bottom", 8), ("right", 0), ("insideH", 6), ("insideV", 0)):
        borders.append(_el(f"w:{side}", **{"w:val": "single" if sz else "nil", "w:sz": sz, "w:space": 0,
                                            "w:color": "000000"}))
    _put(tblpr, borders)
    mar = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        mar.append(_el(f"w:{side}", **{"w:w": 0, "w:type": "dxa"}))
    _put(tblpr, mar)
    t.columns[0].width = Twips(BANJI_TW)
    for row in t.rows:
        row.cells[0].width = Twips(BANJI_TW)

    def line(cell, text: str):
        p = cell.paragraphs[0]
        fmt = p.paragraph_format
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(20)
        fmt.space_before = fmt.space_after = Pt(0)
        _no_grid(p)
        _font(p.add_run(text), FANG, 14)
        return p

    # 抄送: one character in on both sides, a continued line under the first name after the colon
    line(t.rows[0].cells[0], "{%tr if office.cc %}")
    cc = line(t.rows[1].cells[0], "抄送：{{ office.cc }}。")
    cc.paragraph_format.left_indent = Pt(14 * 4)
    cc.paragraph_format.first_line_indent = Pt(-14 * 3)
    cc.paragraph_format.right_indent = Pt(14)
    # 印发机关 one character in from the left, 印发日期 one from the right
    line(t.rows[2].cells[0], "{%tr endif %}")
    pr = line(t.rows[3].cells[0], "{{ office.printed_by }}\t{{ office.date | cn_date }}印发")
    pr.paragraph_format.left_indent = Pt(14)
    pr.paragraph_format.tab_stops.add_tab_stop(Pt(BLOCK_PT - 14), WD_TAB_ALIGNMENT.RIGHT)
    # a floating table is anchored to the paragraph after it (without one, LibreOffice drops the
    # table); one point high, so it never starts a page of its own
    _para(doc, "", indent=False, line=Pt(1), grid=False)


def _table(doc, widths: list[float], heads: list[str], cells: list[str], aligns: str, loop: str) -> None:
    """A ruled table: header row (repeated on each page), one template row repeated by `{%tr for … %}`.
    widths: shares of the text block; aligns: l/c/r a column."""
    t = doc.add_table(rows=3, cols=len(heads))
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    total = sum(widths)
    al = {"l": WD_ALIGN_PARAGRAPH.LEFT, "c": WD_ALIGN_PARAGRAPH.CENTER, "r": WD_ALIGN_PARAGRAPH.RIGHT}

    def cell_text(cell, text, font, align):
        p = cell.paragraphs[0]
        p.alignment = align
        fmt = p.paragraph_format
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(18)
        fmt.space_before = fmt.space_after = Pt(1)
        _no_grid(p)
        _font(p.add_run(text), font, 12)

    for c, h in enumerate(heads):
        cell_text(t.rows[0].cells[c], h, HEI, al["c"])
    cell_text(t.rows[1].cells[0], "{%tr for r in " + loop + " %}", FANG, al["l"])
    for c, text in enumerate(cells):
        cell_text(t.rows[2].cells[c], text, FANG, al[aligns[c]])
    row_end = t.add_row()
    cell_text(row_end.cells[0], "{%tr endfor %}", FANG, al["l"])
    for c, w in enumerate(widths):        # the grid (what LibreOffice and WPS read) and each cell (Word)
        t.columns[c].width = Pt(BLOCK_PT * w / total)
        for row in t.rows:
            row.cells[c].width = Pt(BLOCK_PT * w / total)
    trpr = t.rows[0]._tr.get_or_add_trPr()
    trpr.append(_el("w:tblHeader", **{"w:val": "true"}))


def _caption(doc, text: str):
    return _para(doc, text, font=KAI, size=14, indent=False, keep=True, line=Pt(24), grid=False, before=4)


def _group_tables(doc) -> None:
    """A group's community table and ranking, inside a `{%p for g in groups %}` loop."""
    _caption(doc, "{{ g.name }}各社区（村）得分情况")
    _table(doc, [16, 6, 8, 8, 8, 8], ["社区（村）", "人数", "平均分", "最高分", "最低分", "一票否决"],
           ["{{ r.name }}", "{{ r.workers }}", "{{ r.mean }}", "{{ r.max }}", "{{ r.min }}", "{{ r.vetoes }}"],
           "lrrrrr", "g.communities")
    _caption(doc, "{{ g.name }}网格员考核排名")
    _table(doc, [6, 12, 16, 10, 8, 7, 14], ["名次", "姓名", "社区（村）", "网格", "得分", "星级", "档次"],
           ["{{ r.rank }}", "{{ r.name }}", "{{ r.community }}", "{{ r.grid }}", "{{ r.score }}",
            "{{ (r.stars ~ '星') if r.stars is not none else '' }}", "{{ r.band }}"], "rlllrcl", "g.ranking")


def _ranking_attachment(doc) -> None:
    _tag(doc, "{%p if a.kind == 'ranking' %}")
    _tag(doc, "{%p for g in groups %}")
    _para(doc, "（{{ loop.index | cn_number }}）{{ g.name }}", font=KAI, indent=False, keep=True)
    _group_tables(doc)
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p endif %}")


def bulletin() -> Document:
    """The sentences come made from the data (engine/notices/context.py), as in the HTML notice."""
    doc = Document()
    _frame(doc)
    _para(doc, "{{ intro }}")
    _heading(doc, "总体情况")
    _para(doc, "{{ summary.text }}")
    _heading(doc, "{{ ('各' ~ group_by ~ '情况') if ranking_in == 'attachment' else '考核排名' }}")
    _tag(doc, "{%p for g in groups %}")
    _tag(doc, "{%p if ranking_in == 'attachment' %}")
    _para(doc, "（{{ loop.index | cn_number }}）{{ g.name }}：{{ g.text }}")
    _tag(doc, "{%p else %}")
    _para(doc, "（{{ loop.index | cn_number }}）{{ g.name }}", font=KAI, keep=True)
    _para(doc, "{{ g.text }}")
    _group_tables(doc)
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p if ranking_note %}")
    _para(doc, "{{ ranking_note }}")
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p if best %}")
    _heading(doc, "表现突出的网格员")
    _para(doc, "{{ best_text }}")
    _tag(doc, "{%p endif %}")
    _numbered(doc, "需要改进的网格员", "worst", "worst_note")
    _numbered(doc, "一票否决情况", "vetoes")
    _numbered(doc, "跨月考核结果", "consequences")
    _heading(doc, "工作要求")
    _para(doc, "{{ closing }}")
    _close(doc, _ranking_attachment)
    return doc


def _numbered(doc, heading: str | None, items: str, note: str | None = None) -> None:
    """`1.text` paragraphs for each entry of `items` (its `text`), under a heading when there are any."""
    _tag(doc, "{%p if " + items + " %}")
    if heading:
        _heading(doc, heading)
    _tag(doc, "{%p for e in " + items + " %}")
    _para(doc, "{{ loop.index }}.{{ e.text }}")
    _tag(doc, "{%p endfor %}")
    if note:
        _tag(doc, "{%p if " + note + " %}")
        _para(doc, "{{ " + note + " }}")
        _tag(doc, "{%p endif %}")
    _tag(doc, "{%p endif %}")


def _entries() -> Document:
    doc = Document()
    _frame(doc)
    _para(doc, "{{ intro }}")
    _numbered(doc, None, "entries")
    _para(doc, "{{ closing }}")
    _close(doc)
    return doc


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    bulletin().save(OUT / "bulletin.docx")
    _entries().save(OUT / "criticism.docx")
    _entries().save(OUT / "commendation.docx")
    print("已写出", ", ".join(sorted(p.name for p in OUT.glob("*.docx"))))


if __name__ == "__main__":
    main()
