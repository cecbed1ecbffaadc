"""A 申报书's ticks and 目录 as enterprises' office suites write them, read back from documents made
here: .docx files with Word's inserted symbols (``w:sym``), runs set in Wingdings, bold or
underlined answers; PDFs whose ticks are Wingdings glyphs mapped to private-use code points, bold
and underlined answers, and 目录s indented by level. The PDFs' Wingdings is a small TrueType font
of that name made here with fontTools (which WeasyPrint depends on), so that WeasyPrint embeds it
as Word embeds the real one: a subset whose ToUnicode maps each glyph to U+F0xx, with the font's
name beside it, which is what PDFium hands the reader."""
from __future__ import annotations

import io

import docx
import pytest
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen

from xkxl_intranet.domain.checks import FORM_2022
from xkxl_intranet.domain.form_compare import document_findings
from xkxl_intranet.domain.form_marks import option_words
from xkxl_intranet.domain.form_reader import ReadStatus, read_form
from xkxl_intranet.files.form_text import extract_text
from xkxl_intranet.printing import write_pdf

SECURITY = "2.2 平台产品可靠性和安全防护能力"
LABELS = {"sec_device_access": "具有设备和数据接入安全防护手段", "sec_data": "具有数据安全防护",
          "sec_code": "具有代码安全防护", "sec_application": "具有应用安全防护", "sec_access": "具有访问安全防护"}


def _read(path, kind: str):
    return read_form(extract_text(path, kind, options=option_words(FORM_2022)), form=FORM_2022)


# ---- .docx -----------------------------------------------------------------------------------

def _symbol(paragraph, font: str, char: str) -> None:
    """A symbol as Word's 插入 → 符号 writes it: ``<w:sym w:font=… w:char=…/>``."""
    run = paragraph.add_run()
    sym = OxmlElement("w:sym")
    sym.set(qn("w:font"), font)
    sym.set(qn("w:char"), char)
    run._r.append(sym)


def _in_font(paragraph, text: str, font: str) -> None:
    paragraph.add_run(text).font.name = font


def _save(document, tmp_path, name: str):
    buffer = io.BytesIO()
    document.save(buffer)
    path = tmp_path / name
    path.write_bytes(buffer.getvalue())
    return path


def test_a_docx_whose_answers_are_symbols_plain_ticks_bold_or_underline(tmp_path):
    document = docx.Document()
    document.add_heading(SECURITY, level=4)
    typed = document.add_paragraph(f"□{LABELS['sec_device_access']}：□是 √否")  # a tick typed over the box
    assert typed.text.endswith("√否")
    p = document.add_paragraph(f"□{LABELS['sec_data']}：")
    _in_font(p, "£", "Wingdings 2")  # □ as the letter of Wingdings 2
    p.add_run("是 ")
    _symbol(p, "Wingdings 2", "F050")  # ✓
    p.add_run("否")
    p = document.add_paragraph(f"□{LABELS['sec_code']}：")
    _in_font(p, "\uf0fe", "Wingdings")  # ☑ as its private-use code point in a run set in Wingdings
    p.add_run("是 ")
    _symbol(p, "Wingdings", "F0A8")  # ◻
    p.add_run("否")
    p = document.add_paragraph(f"□{LABELS['sec_application']}：□")
    p.add_run("是").bold = True  # marked only by bold
    p.add_run(" □否")
    p = document.add_paragraph(f"□{LABELS['sec_access']}：□是 □")
    p.add_run("否").underline = True  # marked only by underline
    fields = _read(_save(document, tmp_path, "勾选.docx"), "docx").fields
    assert fields["sec_device_access"].value is False
    assert fields["sec_data"].value is False
    assert fields["sec_code"].value is True
    for key, option in (("sec_application", "是"), ("sec_access", "否")):
        read = fields[key]
        assert (read.status, read.raw) == (ReadStatus.UNREADABLE, option), key
        assert "未打勾" in read.message and "同时勾选" not in read.message


def _contents_document(entries: list[tuple[int, str]], headings: list[tuple[int, str]]):
    """A .docx with a 目录 of ``entries`` (styles toc 1 …, as Word writes them) and a body of
    ``headings`` (Heading 1 …)."""
    document = docx.Document()
    for level in {level for level, _ in entries}:
        document.styles.add_style(f"toc {level}", WD_STYLE_TYPE.PARAGRAPH)
    document.add_paragraph("目  录")
    for page, (level, title) in enumerate(entries, start=3):
        document.add_paragraph(f"{title}\t{page}", style=f"toc {level}")
    for level, title in headings:
        document.add_heading(title, level=level)
        document.add_paragraph("正文。")
    return document


TWO_LEVELS = [(1, "一、申报企业基本信息"), (1, "二、工业互联网平台申报材料"), (2, "（1）工业互联网平台基本信息"),
              (2, "（2）工业互联网平台能力介绍")]
ANNEXES = [(3, "附件1 工业设备清单"), (3, "附件2 工业模型清单")]


@pytest.mark.parametrize(("entries", "headings"), [
    (TWO_LEVELS + ANNEXES, TWO_LEVELS + ANNEXES),  # the third «level» is the annexes
    (TWO_LEVELS + [(3, "1. 平台资源管理能力")], TWO_LEVELS),  # styled toc 3, but the body has no such heading
], ids=["annexes", "entries-leading-nowhere"])
def test_a_docx_contents_of_two_levels_is_found_short(tmp_path, entries, headings):
    path = _save(_contents_document(entries, headings), tmp_path, "目录.docx")
    reading = _read(path, "docx")
    assert (reading.structure.toc, reading.structure.toc_levels) == (True, 2)
    [toc] = [f for f in document_findings(reading, {}, form=FORM_2022) if f.rule == "document:toc"]
    assert "只有2级标题" in toc.message and "附件不计" in toc.message
    third = [(3, "1. 平台资源管理能力")]
    path = _save(_contents_document(entries + third, headings + third), tmp_path, "三级.docx")
    assert _read(path, "docx").structure.toc_levels == 3


# ---- PDF -------------------------------------------------------------------------------------

def _symbol_font(family: str, codes: list[int]) -> bytes:
    """A TrueType font named ``family`` with a square glyph at each code point."""
    names = [".notdef"] + [f"g{code:04X}" for code in codes]
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap({code: f"g{code:04X}" for code in codes})
    glyphs = {}
    for name in names:
        pen = TTGlyphPen(None)
        pen.moveTo((100, 0))
        pen.lineTo((100, 700))
        pen.lineTo((800, 700))
        pen.lineTo((800, 0))
        pen.closePath()
        glyphs[name] = pen.glyph()
    builder.setupGlyf(glyphs)
    builder.setupHorizontalMetrics({name: (900, 100) for name in names})
    builder.setupHorizontalHeader(ascent=880, descent=-120)
    builder.setupNameTable({"familyName": family, "styleName": "Regular", "psName": family.replace(" ", "")})
    builder.setupOS2(sTypoAscender=880, sTypoDescender=-120, usWinAscent=880, usWinDescent=120)
    builder.setupPost()
    buffer = io.BytesIO()
    builder.save(buffer)
    return buffer.getvalue()


STYLE = """<style>
@font-face { font-family: "Wingdings"; src: url(wingdings.ttf) }
@font-face { font-family: "Wingdings 2"; src: url(wingdings2.ttf) }
body { font-family: "Noto Sans CJK SC"; font-size: 12pt }
.w1 { font-family: "Wingdings" } .w2 { font-family: "Wingdings 2" }
.u { text-decoration: underline } b { font-weight: bold }
.l1 { margin-left: 0 } .l2 { margin-left: 8mm } .l3 { margin-left: 16mm }
</style>"""


def _pdf(tmp_path, body: str, name: str = "申报书.pdf"):
    (tmp_path / "wingdings.ttf").write_bytes(_symbol_font("Wingdings", [0xF0FE, 0xF0A8, 0xF06F]))
    (tmp_path / "wingdings2.ttf").write_bytes(_symbol_font("Wingdings 2", [0xF052, 0xF0A3]))
    html = f"<html><head><meta charset='utf-8'>{STYLE}</head><body>{body}</body></html>"
    path = tmp_path / name
    path.write_bytes(write_pdf(html, base_url=str(tmp_path) + "/"))
    return path


def test_a_pdf_whose_ticks_are_wingdings_glyphs_or_bold_or_underline(tmp_path):
    lines = [
        f"□{LABELS['sec_device_access']}：□是 √否",
        f"□{LABELS['sec_data']}：<span class='w1'>&#xF0A8;</span>是 <span class='w1'>&#xF0FE;</span>否",
        f"□{LABELS['sec_code']}：<span class='w2'>&#xF052;</span>是 <span class='w2'>&#xF0A3;</span>否",
        f"□{LABELS['sec_application']}：□<b>是</b> □否",
        f"□{LABELS['sec_access']}：□是 □<span class='u'>否</span>",
    ]
    path = _pdf(tmp_path, f"<h4>{SECURITY}</h4>" + "".join(f"<p>{line}</p>" for line in lines))
    text = extract_text(path, "pdf", options=option_words(FORM_2022))
    assert f"□{LABELS['sec_data']}：◻是 ☑否" in text.lines  # the glyphs read by their font
    fields = read_form(text, form=FORM_2022).fields
    assert fields["sec_device_access"].value is False
    assert fields["sec_data"].value is False
    assert fields["sec_code"].value is True
    for key, option in (("sec_application", "是"), ("sec_access", "否")):
        read = fields[key]
        assert (read.status, read.raw) == (ReadStatus.UNREADABLE, option), key


def _pdf_contents(entries: list[tuple[int, str]], headings: list[str]) -> str:
    toc = "".join(f"<p class='l{level}'>{title} ........ {page}</p>"
                  for page, (level, title) in enumerate(entries, start=3))
    return f"<p>目录</p>{toc}" + "".join(f"<p>{heading}</p><p>正文。</p>" for heading in headings)


def test_a_pdfs_contents_levels_are_its_indentation_and_annexes_are_none(tmp_path):
    unnumbered = [(1, "企业概况"), (2, "基本情况"), (3, "股权结构"), (2, "经营情况"), (1, "平台概况")]
    path = _pdf(tmp_path, _pdf_contents(unnumbered, [title for _, title in unnumbered]))
    assert _read(path, "pdf").structure.toc_levels == 3
    annexed = TWO_LEVELS + ANNEXES
    path = _pdf(tmp_path, _pdf_contents(annexed, [title for _, title in annexed]), "附件.pdf")
    reading = _read(path, "pdf")
    assert (reading.structure.toc, reading.structure.toc_levels) == (True, 2)
