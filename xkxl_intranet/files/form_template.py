"""The 申报书模板 as a Word (.docx) file: the blocks of ``domain/form_layout.py`` written with
python-docx, in 附件2's typography (正文3号仿宋, 一级标题3号黑体, 二级标题3号楷体), with a 目录
field that Word fills in when the file is opened. Blank or filled in (the demo's 申报书, tests)."""
from __future__ import annotations

import io
from collections.abc import Iterable

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from ..domain.form_layout import Block, Cell, Contents, Heading, PageBreak, Paragraph, Run, Table

BODY_FONT = "仿宋"
HEADING_FONTS = {1: "黑体", 2: "楷体", 3: "仿宋", 4: "仿宋"}
BODY_SIZE = Pt(16)  # 3号
TABLE_SIZE = Pt(12)  # 小四: a 3号 table would not fit on A4
LABEL_SHADE = "EDEFF2"


def _east_asian(element, font: str) -> None:
    """Set the font for Chinese text (python-docx sets only the Latin one)."""
    r_pr = element.get_or_add_rPr()
    fonts = r_pr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        r_pr.insert(0, fonts)
    for attribute in ("w:eastAsia", "w:ascii", "w:hAnsi"):
        fonts.set(qn(attribute), font)


def _set_styles(document) -> None:
    normal = document.styles["Normal"]
    normal.font.size = BODY_SIZE
    _east_asian(normal.element, BODY_FONT)
    normal.paragraph_format.space_after = Pt(0)
    for level, font in HEADING_FONTS.items():
        style = document.styles[f"Heading {level}"]
        style.font.size = BODY_SIZE
        style.font.bold = level != 2
        style.font.italic = False
        style.font.color.rgb = RGBColor(0, 0, 0)
        _east_asian(style.element, font)


def _add_runs(paragraph, runs: Iterable[Run], size=None) -> None:
    for run in runs:
        added = paragraph.add_run(run.text)
        if run.blank:
            added.font.underline = True
        if size is not None:
            added.font.size = size


def _paragraph(document, block: Paragraph) -> None:
    paragraph = document.add_paragraph()
    if block.style == "title":
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _add_runs(paragraph, block.runs, Pt(22))
        for run in paragraph.runs:
            run.font.bold = True
        return
    if block.style in ("center", "cover"):
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER if block.style == "center" else None
        if block.style == "cover":
            paragraph.paragraph_format.left_indent = Cm(2)
            paragraph.paragraph_format.space_before = Pt(18)
    _add_runs(paragraph, block.runs, Pt(12) if block.style == "note" else None)


def _shade(cell) -> None:
    properties = cell._tc.get_or_add_tcPr()
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), LABEL_SHADE)
    properties.append(shading)


def _table(document, block: Table) -> None:
    table = document.add_table(rows=len(block.rows), cols=block.columns)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    taken: set[tuple[int, int]] = set()
    for r, row in enumerate(block.rows):
        c = 0
        for cell in row:
            while (r, c) in taken:
                c += 1
            _place(table, r, c, cell)
            taken |= {(r + dr, c + dc) for dr in range(cell.rowspan) for dc in range(cell.colspan)}
            c += cell.colspan
    for index, width in enumerate(block.widths):
        for row in table.rows:
            row.cells[index].width = Cm(width)
    document.add_paragraph()


def _place(table, r: int, c: int, cell: Cell) -> None:
    target = table.cell(r, c)
    if cell.colspan > 1 or cell.rowspan > 1:
        target = target.merge(table.cell(r + cell.rowspan - 1, c + cell.colspan - 1))
    paragraph = target.paragraphs[0]
    _add_runs(paragraph, cell.runs, TABLE_SIZE)
    if cell.label:
        _shade(target)
        for run in paragraph.runs:
            run.font.bold = True


def _field_char(paragraph, kind: str) -> None:
    char = OxmlElement("w:fldChar")
    char.set(qn("w:fldCharType"), kind)
    paragraph.add_run()._r.append(char)


def _instruction(paragraph, text: str) -> None:
    instruction = OxmlElement("w:instrText")
    instruction.set(qn("xml:space"), "preserve")
    instruction.text = text
    paragraph.add_run()._r.append(instruction)


def _contents(document, block: Contents) -> None:
    """A TOC field over heading levels 1–N; Word builds it when the file is opened."""
    paragraph = document.add_paragraph()
    _field_char(paragraph, "begin")
    _instruction(paragraph, f'TOC \\o "1-{block.levels}" \\h \\z \\u')
    _field_char(paragraph, "separate")
    paragraph.add_run("（打开文件后在此处右键“更新域”即生成目录）").font.size = Pt(12)
    _field_char(paragraph, "end")
    settings = document.settings.element
    update = OxmlElement("w:updateFields")
    update.set(qn("w:val"), "true")
    settings.append(update)


def form_docx(blocks: Iterable[Block]) -> bytes:
    """The blocks as a .docx file (A4)."""
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.5)
    section.top_margin = section.bottom_margin = Cm(2.5)
    _set_styles(document)
    for block in blocks:
        match block:
            case Heading():
                document.add_heading(block.text, level=block.level)
            case Paragraph():
                _paragraph(document, block)
            case Table():
                _table(document, block)
            case Contents():
                _contents(document, block)
            case PageBreak():
                document.add_page_break()
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
