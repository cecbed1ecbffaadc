"""The walk of a .docx's body for ``files/form_text.py``: its paragraphs and table rows as lines
(a row whose cells hold one line each as one line, its cells joined by tabs), what python-docx's
text leaves out (inserted symbols), a symbol font's ticks and boxes as the marks they are
(:mod:`~xkxl_intranet.domain.form_marks`), an option alone in a bold, underlined or highlighted
run marked as emphasized, and the levels of the 目录's entries (toc N) and of the headings
(heading N, outline levels), with the lines they are on."""
from __future__ import annotations

import re
from typing import Protocol

from docx.oxml.ns import qn
from docx.table import Table

from ..domain.form_marks import EMPHASIS, is_option_word, symbol_char, symbol_font

__all__ = ["Budget", "DocxWalker"]


class Budget(Protocol):
    """How far the walk may go (``form_text``'s time and line budget)."""

    lines: int

    def exhausted(self) -> bool: ...


_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*(\d)$", re.IGNORECASE)
_TOC_STYLE = re.compile(r"^(?:toc|目录)\s*(\d)$", re.IGNORECASE)
_TOC_SWITCH = re.compile(r'\\o\s*"(\d)\s*-\s*(\d)"')
_TEXT_TAGS = (qn("w:t"), qn("w:tab"), qn("w:br"), qn("w:cr"), qn("w:sym"), qn("w:instrText"))
_OFF = ("0", "false", "off", "none")


def _run_font(run) -> str:
    """The font a run's text is set in, where it is a symbol font (Wingdings, Symbol …): the
    first of its fonts that is one, else its ASCII font."""
    fonts = run.find(f"{qn('w:rPr')}/{qn('w:rFonts')}")
    if fonts is None:
        return ""
    names = [fonts.get(qn(a)) or "" for a in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs")]
    return next((name for name in names if symbol_font(name)), names[0])


def _emphasized(run) -> bool:
    """Bold, underlined, highlighted or shaded by the run's own formatting."""
    properties = run.find(qn("w:rPr"))
    if properties is None:
        return False
    for tag in ("w:b", "w:u", "w:highlight"):
        element = properties.find(qn(tag))
        if element is not None and (element.get(qn("w:val")) or "on").lower() not in _OFF:
            return True
    shading = properties.find(qn("w:shd"))
    return shading is not None and (shading.get(qn("w:fill")) or "auto").upper() not in ("AUTO", "FFFFFF")


def _symbol_text(font: str, text: str) -> str:
    """A symbol font's characters as the marks they stand for (the letter ``R`` or U+F052 of
    Wingdings 2 is ☑); characters that are no mark stay as they are."""
    if not symbol_font(font):
        return text
    return "".join(symbol_char(font, ord(c)) or c for c in text)


class DocxWalker:
    """One walk of a .docx's body: its ``lines``, the TOC field seen, and the lines that are 目录
    entries and headings, with their levels."""

    def __init__(self, document, budget: Budget, options: frozenset[str] = frozenset()):
        self.budget = budget
        self.options = options  # the form's box options (form_marks.option_words)
        self.lines: list[str] = []
        self.styles = self._styles(document)
        self.toc_field = False
        self.toc_field_levels = 9
        self.toc_entries: list[tuple[int, int]] = []  # (line, level) of 目录 entries (toc N)
        self.headings: list[tuple[int, int]] = []  # (line, level) of headings (style or outline level)
        self.document = document

    @staticmethod
    def _styles(document) -> dict[str, tuple[str, int | None]]:
        styles = {}
        for style in document.styles.element.iterchildren(qn("w:style")):
            name = style.find(qn("w:name"))
            outline = style.find(f"{qn('w:pPr')}/{qn('w:outlineLvl')}")
            styles[style.get(qn("w:styleId"))] = (
                name.get(qn("w:val")) if name is not None else "",
                int(outline.get(qn("w:val"))) + 1 if outline is not None else None)
        return styles

    def _text(self, element) -> str:
        """A ``w:t``'s text: symbol fonts read as their marks, and an option alone in a bold or
        underlined run (「是」 in 「□是 □否」) preceded by :data:`EMPHASIS`."""
        text = (element.text or "").replace(EMPHASIS, "")
        run = element.getparent()
        if not text or run.tag != qn("w:r"):
            return text
        text = _symbol_text(_run_font(run), text)
        if _emphasized(run) and is_option_word(text, self.options):
            return EMPHASIS + text
        return text

    def paragraph_text(self, p) -> str:
        parts = []
        for element in p.iter(*_TEXT_TAGS):
            tag = element.tag
            if tag == qn("w:t"):
                parts.append(self._text(element))
            elif tag in (qn("w:tab"), qn("w:br"), qn("w:cr")):
                parts.append(" ")
            elif tag == qn("w:sym"):
                parts.append(self._symbol(element))
            else:
                self._instruction(element.text or "")
        for simple in p.iter(qn("w:fldSimple")):
            self._instruction(simple.get(qn("w:instr")) or "")
        return "".join(parts)

    @staticmethod
    def _symbol(element) -> str:
        """An inserted symbol (``<w:sym w:font="Wingdings" w:char="F0FE"/>``), which python-docx's
        text leaves out: a symbol font's mark, or the character itself in any other font."""
        try:
            code = int(element.get(qn("w:char")) or "", 16)
        except ValueError:
            return ""
        font = element.get(qn("w:font")) or ""
        if symbol_font(font):
            return symbol_char(font, code) or ""
        return chr(code) if 0x20 <= code < 0xE000 or 0xF900 <= code <= 0x10FFFF else ""

    def _instruction(self, text: str) -> None:
        if text.strip().upper().startswith("TOC"):
            self.toc_field = True
            switch = _TOC_SWITCH.search(text)
            if switch:
                self.toc_field_levels = int(switch.group(2))

    def _note_style(self, p, line: int) -> None:
        """A 目录 entry's or a heading's level, by its style (toc N, heading N) or outline level."""
        style = p.find(f"{qn('w:pPr')}/{qn('w:pStyle')}")
        outline = p.find(f"{qn('w:pPr')}/{qn('w:outlineLvl')}")
        name, level = self.styles.get(style.get(qn("w:val")) if style is not None else "", ("", None))
        if outline is not None:
            level = int(outline.get(qn("w:val"))) + 1
        toc = _TOC_STYLE.match(name or "")
        if toc:
            self.toc_entries.append((line, int(toc.group(1))))
            return
        heading = _HEADING_STYLE.match(name or "")
        if heading:
            self.headings.append((line, int(heading.group(1))))
        elif level is not None and level <= 9:
            self.headings.append((line, level))

    def walk(self, element, out: list[str]) -> None:
        for child in element.iterchildren():
            if self.budget.exhausted():
                return
            if child.tag == qn("w:p"):
                if out is self.lines:  # (a paragraph in a table cell is no heading or entry)
                    self._note_style(child, len(out))
                out.append(self.paragraph_text(child))
                self.budget.lines += 1
            elif child.tag == qn("w:tbl"):
                self.table(Table(child, self.document), out)
            elif child.tag == qn("w:sdt"):
                gallery = child.find(f"{qn('w:sdtPr')}/{qn('w:docPartObj')}/{qn('w:docPartGallery')}")
                if gallery is not None and "Contents" in (gallery.get(qn("w:val")) or ""):
                    self.toc_field = True
                content = child.find(qn("w:sdtContent"))
                if content is not None:
                    self.walk(content, out)
            elif child.tag in (qn("w:customXml"), qn("w:smartTag")):
                self.walk(child, out)

    def table(self, table: Table, out: list[str]) -> None:
        """A row whose cells hold one line each becomes one line, its cells joined by tabs;
        otherwise each cell's lines follow one another."""
        for row in table.rows:
            cells, seen = [], None
            for cell in row.cells:
                if cell._tc is seen:  # a merged cell repeats itself
                    continue
                seen = cell._tc
                lines: list[str] = []
                self.walk(cell._tc, lines)
                cells.append([line for line in lines if line.strip()])
            if all(len(lines) <= 1 for lines in cells):
                out.append("\t".join(lines[0] if lines else "" for lines in cells))
            else:
                out.extend(line for lines in cells for line in lines)
            if self.budget.exhausted():
                return
