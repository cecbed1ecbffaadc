"""The 申报书模板 as a Word (.docx) file: the blocks of ``domain/form_layout.py`` written with
python-docx, in 附件2's typography (正文3号仿宋, 一级标题3号黑体, 二级标题3号楷体), with a 目录.
Blank or filled in (the demo's 申报书, tests).

The 目录 is a TOC field written as Word itself leaves one after 「更新域」: its result already lists
every heading down to level 4 (paragraph styles 目录 1–4, ``toc 1`` …), each entry a link to a
bookmark on its heading with a PAGEREF field for its page. So a template filled in and saved, or
exported to PDF, without anyone updating the field still has a 目录 of four levels (附件2 注4;
the reading's "toc" check), and Word's 「更新域」 rebuilds it all the same. The page numbers
written are estimated from the blocks (:func:`estimated_pages`); a line under the entries, inside
the field, asks for 「更新整个目录」 once the document is filled in, and goes away when that is done.
Word offers to update the fields when the file is opened (``w:updateFields``).
"""
from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_TAB_ALIGNMENT, WD_TAB_LEADER
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Emu, Pt, RGBColor

from ..domain.form_layout import (
    PLEDGE_SIGN,
    RECOMMENDER_SIGN,
    Block,
    Cell,
    Contents,
    Heading,
    PageBreak,
    Paragraph,
    Run,
    Table,
)

BODY_FONT = "仿宋"
HEADING_FONTS = {1: "黑体", 2: "楷体", 3: "仿宋", 4: "仿宋"}
BODY_SIZE = Pt(16)  # 3号
TABLE_SIZE = Pt(12)  # 小四: a 3号 table would not fit on A4
NOTE_SIZE = Pt(12)
TITLE_SIZE = Pt(22)  # 二号
TOC_SIZE = Pt(14)  # 四号: the 33 entries of 附件2's 目录 fit on one page
TOC_INDENT = Pt(28)  # two characters a level
COVER_INDENT, COVER_SPACE = Cm(2), Pt(18)
LABEL_SHADE = "EDEFF2"
PAGE_WIDTH, PAGE_HEIGHT, MARGIN = Cm(21), Cm(29.7), Cm(2.5)
TEXT_WIDTH, TEXT_HEIGHT = Emu(PAGE_WIDTH - 2 * MARGIN), Emu(PAGE_HEIGHT - 2 * MARGIN)
TOC_HINT = "（页码为预估：填写完成后请右键单击目录，选“更新域”→“更新整个目录”）"  # one line
# The rows where a seal is pressed (真实性承诺: 法定代表人签章 and 公章; 推荐单位: 推荐单位公章)
# are at least as tall as their text (the signature line last) and SEAL_SPACE of blank under it,
# and never split across two pages. The blank template's 表一 and these rows still share a page.
SIGNED_LINES = (PLEDGE_SIGN, RECOMMENDER_SIGN)
SEAL_SPACE = Cm(4)


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
        _toc_style(document, level)


def _toc_style(document, level: int) -> None:
    """Word's built-in 「目录 N」 (``toc N``): indented by level, a dotted tab to the page number."""
    style = document.styles.add_style(f"toc {level}", WD_STYLE_TYPE.PARAGRAPH)
    style.element.set(qn("w:styleId"), f"TOC{level}")
    style.element.attrib.pop(qn("w:customStyle"), None)  # Word's own style, not one of the document's
    style.base_style = style.next_paragraph_style = document.styles["Normal"]
    style.priority = 39
    style.unhide_when_used = True
    style.font.size = TOC_SIZE
    style.paragraph_format.left_indent = TOC_INDENT * (level - 1)
    style.paragraph_format.tab_stops.add_tab_stop(TEXT_WIDTH, WD_TAB_ALIGNMENT.RIGHT, WD_TAB_LEADER.DOTS)


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
        _add_runs(paragraph, block.runs, TITLE_SIZE)
        for run in paragraph.runs:
            run.font.bold = True
        return
    if block.style in ("center", "cover"):
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER if block.style == "center" else None
        if block.style == "cover":
            paragraph.paragraph_format.left_indent = COVER_INDENT
            paragraph.paragraph_format.space_before = COVER_SPACE
    _add_runs(paragraph, block.runs, NOTE_SIZE if block.style == "note" else None)


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
    if block.widths:
        _widths(table, block.widths)
    for row, tr in zip(block.rows, table.rows, strict=True):
        height = _sealed_row_height(block, row)
        if height:
            _keep_tall(tr, height)
    document.add_paragraph()


def _keep_tall(row, height: float) -> None:
    """At least ``height`` points tall (``w:trHeight`` ``hRule="atLeast"``), on one page."""
    row.height, row.height_rule = Pt(height), WD_ROW_HEIGHT_RULE.AT_LEAST
    row._tr.get_or_add_trPr().insert(0, OxmlElement("w:cantSplit"))  # before w:trHeight


def _widths(table, widths: Sequence[float]) -> None:
    """The columns' widths (cm) where every office suite reads them: the table's grid
    (``w:tblGrid/w:gridCol``, what LibreOffice and WPS lay out from) and each cell's own width
    (``w:tcW``: the sum of the columns it spans, merged cells included), in a fixed layout so
    that Word does not fit the columns to their text either."""
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = Cm(width)
    grid = [column.width for column in table.columns]  # as written (whole twips)
    for tr in table._tbl.tr_lst:
        start = 0
        for tc in tr.tc_lst:
            tc.width = Emu(sum(grid[start:start + tc.grid_span]))
            start += tc.grid_span


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


# ---------------------------------------------------------------- the 目录

@dataclass(frozen=True)
class Entry:
    """One line of the 目录: a heading, the bookmark on it and its estimated page."""

    level: int
    text: str
    bookmark: str
    page: int


def _run(parent, *children, text: str | None = None, size: Pt | None = None) -> None:
    """A ``w:r`` holding ``children`` (then ``text``), appended to a paragraph or a link."""
    run = OxmlElement("w:r")
    if size is not None:
        properties = OxmlElement("w:rPr")
        for tag in ("w:sz", "w:szCs"):
            half_points = OxmlElement(tag)
            half_points.set(qn("w:val"), str(round(size.pt * 2)))
            properties.append(half_points)
        run.append(properties)
    run.extend(children)
    if text is not None:
        element = OxmlElement("w:t")
        element.set(qn("xml:space"), "preserve")
        element.text = text
        run.append(element)
    parent.append(run)


def _field_char(kind: str):
    char = OxmlElement("w:fldChar")
    char.set(qn("w:fldCharType"), kind)
    return char


def _instruction(text: str):
    instruction = OxmlElement("w:instrText")
    instruction.set(qn("xml:space"), "preserve")
    instruction.text = text
    return instruction


def _bookmark(paragraph, number: int, name: str) -> None:
    """A bookmark around the heading's text, the target of its 目录 entry."""
    start, end = OxmlElement("w:bookmarkStart"), OxmlElement("w:bookmarkEnd")
    start.set(qn("w:id"), str(number))
    start.set(qn("w:name"), name)
    end.set(qn("w:id"), str(number))
    paragraph._p.insert(0 if paragraph._p.pPr is None else 1, start)
    paragraph._p.append(end)


def _entry(paragraph, entry: Entry) -> None:
    """The heading's text, a tab and a PAGEREF field holding the page, all a link to the heading."""
    link = OxmlElement("w:hyperlink")
    link.set(qn("w:anchor"), entry.bookmark)
    link.set(qn("w:history"), "1")
    _run(link, text=entry.text)
    _run(link, OxmlElement("w:tab"))
    _run(link, _field_char("begin"))
    _run(link, _instruction(f" PAGEREF {entry.bookmark} \\h "))
    _run(link, _field_char("separate"))
    _run(link, text=str(entry.page))
    _run(link, _field_char("end"))
    paragraph._p.append(link)


def _contents(document, block: Contents, entries: Sequence[Entry]) -> None:
    """A TOC field over heading levels 1–N whose result lists ``entries`` as Word writes them:
    the field begins in the first entry's paragraph and ends after the hint under the last."""
    paragraphs = [document.add_paragraph(style=f"toc {entry.level}") for entry in entries]
    hint = document.add_paragraph()
    start = (paragraphs or [hint])[0]
    for child in (_field_char("begin"), _instruction(f' TOC \\o "1-{block.levels}" \\h \\z \\u '),
                  _field_char("separate")):
        _run(start._p, child)
    for paragraph, entry in zip(paragraphs, entries, strict=True):
        _entry(paragraph, entry)
    _run(hint._p, text=TOC_HINT, size=NOTE_SIZE)
    _run(hint._p, _field_char("end"))
    settings = document.settings.element
    update = OxmlElement("w:updateFields")
    update.set(qn("w:val"), "true")
    settings.append(update)


def contents_entries(blocks: Sequence[Block]) -> dict[int, Entry]:
    """The 目录's entries by the index of their heading in ``blocks``: every heading down to the
    deepest level a 目录 asks for (none without a 目录)."""
    levels = max((b.levels for b in blocks if isinstance(b, Contents)), default=0)
    listed = {i: b for i, b in enumerate(blocks) if isinstance(b, Heading) and b.level <= levels}
    pages = estimated_pages(blocks, len(listed))
    return {i: Entry(b.level, b.text, f"_Toc{i + 1:09d}", pages[i]) for i, b in listed.items()}


# ---------------------------------------------------------------- where the headings fall

LINE_SPACING = 1.3  # Word's single-spaced line of a CJK font (宋体, 仿宋), as a multiple of its size
SPACE_BEFORE = {1: Pt(24), 2: Pt(10)}  # python-docx's default headings: level 1, and the others
CELL_PADDING = Cm(0.38)  # Table Grid: 0.19 cm each side


def _lines(text: str, size: Pt, width: float) -> int:
    """How many lines ``text`` takes in ``width`` points: a CJK character is square, any other
    half as wide."""
    wide = sum(1 for ch in text if ord(ch) >= 0x2E80)
    return max(1, math.ceil((wide + (len(text) - wide) / 2) * size.pt / width))


class _Pages:
    """Lines laid down one after the other on A4 pages, as Word breaks them."""

    def __init__(self) -> None:
        self.page, self.used = 1, 0.0

    def room(self, points: float) -> None:
        """Start a new page unless ``points`` fit on this one."""
        if self.used and self.used + points > TEXT_HEIGHT.pt:
            self.next()

    def lines(self, count: int, size: Pt, before: float = 0.0) -> None:
        self.room(before + size.pt * LINE_SPACING)
        self.used += before
        for _ in range(count):
            self.room(size.pt * LINE_SPACING)
            self.used += size.pt * LINE_SPACING

    def whole(self, points: float) -> None:
        """A block of ``points`` that does not split (a row that cannot break across pages)."""
        self.room(points)
        self.used += points

    def next(self) -> None:
        self.page, self.used = self.page + 1, 0.0


def _lay_paragraph(pages: _Pages, block: Paragraph) -> None:
    size = {"title": TITLE_SIZE, "note": NOTE_SIZE}.get(block.style, BODY_SIZE)
    cover = block.style == "cover"
    width = TEXT_WIDTH.pt - (COVER_INDENT.pt if cover else 0)
    pages.lines(_lines(block.text, size, width), size, COVER_SPACE.pt if cover else 0.0)


def _row_lines(block: Table, row: Sequence[Cell]) -> int:
    """The lines of the row's tallest cell (a cell spanning rows shares its lines among them)."""
    widths = [Cm(w).pt for w in block.widths] or [TEXT_WIDTH.pt / block.columns] * block.columns
    column, tallest = 0, 1
    for cell in row:
        width = sum(widths[column:column + cell.colspan]) - CELL_PADDING.pt
        tallest = max(tallest, math.ceil(_lines(cell.text, TABLE_SIZE, width) / cell.rowspan))
        column += cell.colspan
    return tallest


def _sealed_row_height(block: Table, row: Sequence[Cell]) -> float | None:
    """The least height (points) of a row where a seal is pressed; None for any other row."""
    if not any(line in cell.text for cell in row for line in SIGNED_LINES):
        return None
    return _row_lines(block, row) * TABLE_SIZE.pt * LINE_SPACING + SEAL_SPACE.pt


def _lay_table(pages: _Pages, block: Table) -> None:
    for row in block.rows:
        sealed = _sealed_row_height(block, row)
        if sealed:
            pages.whole(sealed)
        else:
            pages.lines(_row_lines(block, row), TABLE_SIZE)
    pages.lines(1, BODY_SIZE)  # the empty paragraph after a table


def estimated_pages(blocks: Sequence[Block], entry_count: int) -> dict[int, int]:
    """The page each heading (by its index in ``blocks``) starts on, the blocks laid out line by
    line as :func:`form_docx` writes them; a 目录 takes ``entry_count`` lines. An estimate: Word's
    fonts and line breaks decide, and its 「更新域」 writes the true numbers."""
    pages, found = _Pages(), {}
    for index, block in enumerate(blocks):
        match block:
            case Heading():
                before = SPACE_BEFORE.get(block.level, SPACE_BEFORE[2]).pt
                pages.room(before + 2 * BODY_SIZE.pt * LINE_SPACING)  # kept with its next line
                pages.lines(1, BODY_SIZE, before)
                found[index] = pages.page
            case Paragraph():
                _lay_paragraph(pages, block)
            case Table():
                _lay_table(pages, block)
            case Contents():
                pages.lines(entry_count, TOC_SIZE)
                pages.lines(1, NOTE_SIZE)
            case PageBreak():
                if not _follows_table(blocks, index):
                    pages.lines(1, BODY_SIZE)
                pages.next()
    return found


def _follows_table(blocks: Sequence[Block], index: int) -> bool:
    """The block before ``index`` is a table: a page break then goes into the empty paragraph
    that follows every table, not into a paragraph of its own (which, at the foot of a full
    page, would be pushed to the next one and leave it blank)."""
    return index > 0 and isinstance(blocks[index - 1], Table)


def form_docx(blocks: Iterable[Block]) -> bytes:
    """The blocks as a .docx file (A4)."""
    blocks = list(blocks)
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
    section.left_margin = section.right_margin = MARGIN
    section.top_margin = section.bottom_margin = MARGIN
    _set_styles(document)
    entries = contents_entries(blocks)
    for index, block in enumerate(blocks):
        match block:
            case Heading():
                heading = document.add_heading(block.text, level=block.level)
                if index in entries:
                    _bookmark(heading, index, entries[index].bookmark)
            case Paragraph():
                _paragraph(document, block)
            case Table():
                _table(document, block)
            case Contents():
                _contents(document, block, [e for e in entries.values() if e.level <= block.levels])
            case PageBreak():
                (document.paragraphs[-1] if _follows_table(blocks, index) else document.add_paragraph()
                 ).add_run().add_break(WD_BREAK.PAGE)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
