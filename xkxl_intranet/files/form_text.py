"""The text of an uploaded 申报书, for ``domain/form_reader.py``: a .docx through python-docx, a
PDF's text layer through pypdf. Bounded, because the file may be hostile:

- .docx: the ZIP's directory is checked before anything is unpacked (number of members, the
  declared size of the XML parts read). Only the main document and its styles are unpacked,
  each read no further than its limit, into a slimmed package that python-docx opens: images
  and embedded files are never unpacked.
- PDF: at most ``max_pages`` pages, a page whose content stream is larger than
  ``max_page_content`` is skipped (measured with pypdf, whose own limits on decompression
  apply) before PDFium reads where each glyph and rule of the page is drawn; the lines are
  rebuilt from those positions (:mod:`.pdf_layout`), in reading order, table rows as in a .docx.
- Both: a time budget checked as the text is walked; what was read by then is kept, and the
  clerk is told that the rest was not.

Raises :class:`Unreadable` with a status and the clerk's message; anything else is the caller's
to catch (reading never fails an upload).
"""
from __future__ import annotations

import io
import re
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docx
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from docx.oxml import parse_xml
from docx.oxml.ns import qn
from docx.table import Table
from lxml import etree
from pypdf import PdfReader
from pypdf.errors import PdfReadError
from pypdf.generic import ArrayObject

from ..domain.form_reader import DocumentText
from .pdf_layout import Box, Glyph, page_lines

__all__ = ["ReadLimits", "Unreadable", "extract_text"]

MB = 1024 * 1024
OFFICE_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
STYLES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"


@dataclass(frozen=True)
class ReadLimits:
    max_xml_bytes: int = 32 * MB  # the main document part, unpacked (a 申报书 of 300 pages: ~5 MB)
    max_members: int = 20_000  # entries in the .docx's ZIP directory
    max_pages: int = 100  # PDF pages read (the figures are in the first tens)
    max_page_content: int = 4 * MB  # one PDF page's content stream, decoded
    seconds: float = 15.0  # wall time for walking the text
    max_lines: int = 100_000


class Unreadable(Exception):
    """The document cannot be read; ``status`` is machine-readable, ``message`` the clerk's."""

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class _Budget:
    def __init__(self, limits: ReadLimits):
        self.limits = limits
        self.deadline = time.monotonic() + limits.seconds
        self.stopped = ""
        self.lines = 0

    def exhausted(self) -> bool:
        if self.stopped:
            return True
        if time.monotonic() > self.deadline:
            self.stopped = f"读取超过{self.limits.seconds:g}秒，只读取了文件的前面部分"
        elif self.lines >= self.limits.max_lines:
            self.stopped = f"文件超过{self.limits.max_lines}行，只读取了前面部分"
        return bool(self.stopped)


def extract_text(path: Path | str, kind: str, limits: ReadLimits | None = None, *,
                 enough: Callable[[list[str]], bool] | None = None) -> DocumentText:
    """The document's lines. ``enough``: given a PDF page's lines, whether the rest of the PDF
    is not needed (the pages after the figures are prose)."""
    limits = limits or ReadLimits()
    if kind == "docx":
        return _docx_text(Path(path), limits)
    if kind == "pdf":
        return _pdf_text(Path(path), limits, enough)
    raise Unreadable("unsupported", "该格式无法自动读取，请上传 .docx 或 PDF 版本以便核对")


# ---------------------------------------------------------------- .docx

def _read_member(archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    info = archive.getinfo(name)
    if info.file_size > limit:
        raise Unreadable("too_large", f"申报书的正文部分解压后超过 {limit // MB} MB，无法自动读取；"
                                      "请删除嵌入的大对象或另存为 PDF 后重新上传")
    with archive.open(info) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:  # pragma: no cover - zipfile stops at the declared size
        raise Unreadable("too_large", "申报书的正文部分过大，无法自动读取")
    return data


def _relationships(data: bytes, keep: set[str]) -> tuple[bytes, dict[str, str]]:
    """The relationships part with only the kinds in ``keep``; their targets by kind."""
    root = parse_xml(data)
    targets = {}
    for relationship in list(root):
        kind = relationship.get("Type")
        if kind in keep and relationship.get("TargetMode") != "External":
            targets[kind] = relationship.get("Target")
        else:
            root.remove(relationship)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True), targets


def _slim_package(path: Path, limits: ReadLimits) -> bytes:
    """A .docx with only the main document and its styles, read within the limits."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as err:
        raise Unreadable("failed", "申报书文件已损坏，无法自动读取") from err
    with archive:
        if len(archive.infolist()) > limits.max_members:
            raise Unreadable("too_large", "申报书文件包含的部件过多，无法自动读取")
        rels, targets = _relationships(_read_member(archive, "_rels/.rels", MB), {OFFICE_DOCUMENT})
        main = targets.get(OFFICE_DOCUMENT, "word/document.xml").lstrip("/")
        folder, _, leaf = main.rpartition("/")
        main_rels_name = f"{folder}/_rels/{leaf}.rels"
        parts = {"[Content_Types].xml": _read_member(archive, "[Content_Types].xml", MB), "_rels/.rels": rels,
                 main: _read_member(archive, main, limits.max_xml_bytes)}
        if main_rels_name in archive.NameToInfo:
            main_rels, targets = _relationships(_read_member(archive, main_rels_name, MB), {STYLES})
            parts[main_rels_name] = main_rels
            styles = targets.get(STYLES)
            if styles:
                styles_name = f"{folder}/{styles}".lstrip("/")
                if styles_name in archive.NameToInfo:
                    parts[styles_name] = _read_member(archive, styles_name, limits.max_xml_bytes)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as slim:
        for name, data in parts.items():
            slim.writestr(name, data)
    return buffer.getvalue()


# Symbol fonts: the checkboxes people insert (Wingdings 2 "R" is ☑, "£" is □ …).
_SYMBOLS = {"F052": "☑", "F053": "☒", "F0A3": "□", "F0FE": "☑", "F0FD": "☒", "F0A8": "□", "F06F": "□",
            "F078": "☒", "F0FC": "√", "F0D6": "√", "F0A1": "○", "F09E": "●", "F0B7": "●", "F0D5": "×"}
_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*(\d)$", re.IGNORECASE)
_TOC_STYLE = re.compile(r"^(?:toc|目录)\s*(\d)$", re.IGNORECASE)
_TOC_SWITCH = re.compile(r'\\o\s*"(\d)\s*-\s*(\d)"')
_TEXT_TAGS = (qn("w:t"), qn("w:tab"), qn("w:br"), qn("w:cr"), qn("w:sym"), qn("w:instrText"))


class _DocxWalker:
    def __init__(self, document, budget: _Budget):
        self.budget = budget
        self.lines: list[str] = []
        self.styles = self._styles(document)
        self.toc_field = False
        self.toc_field_levels = 9
        self.toc_levels: set[int] = set()
        self.heading_levels: set[int] = set()
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

    def _symbol_font(self, run) -> bool:
        fonts = run.find(f"{qn('w:rPr')}/{qn('w:rFonts')}")
        return fonts is not None and any((fonts.get(qn(a)) or "").startswith(("Wingdings", "Symbol"))
                                         for a in ("w:ascii", "w:hAnsi", "w:eastAsia"))

    def paragraph_text(self, p) -> str:
        parts = []
        for element in p.iter(*_TEXT_TAGS):
            tag = element.tag
            if tag == qn("w:t"):
                text = element.text or ""
                if text and self._symbol_font(element.getparent()):
                    text = "".join(_SYMBOLS.get(f"F0{ord(c):02X}", c) for c in text)
                parts.append(text)
            elif tag in (qn("w:tab"), qn("w:br"), qn("w:cr")):
                parts.append(" ")
            elif tag == qn("w:sym"):
                parts.append(_SYMBOLS.get((element.get(qn("w:char")) or "").upper(), ""))
            else:
                self._instruction(element.text or "")
        for simple in p.iter(qn("w:fldSimple")):
            self._instruction(simple.get(qn("w:instr")) or "")
        return "".join(parts)

    def _instruction(self, text: str) -> None:
        if text.strip().upper().startswith("TOC"):
            self.toc_field = True
            switch = _TOC_SWITCH.search(text)
            if switch:
                self.toc_field_levels = int(switch.group(2))

    def _note_style(self, p) -> None:
        style = p.find(f"{qn('w:pPr')}/{qn('w:pStyle')}")
        outline = p.find(f"{qn('w:pPr')}/{qn('w:outlineLvl')}")
        name, level = self.styles.get(style.get(qn("w:val")) if style is not None else "", ("", None))
        if outline is not None:
            level = int(outline.get(qn("w:val"))) + 1
        heading = _HEADING_STYLE.match(name or "")
        if heading or (level is not None and level <= 9):
            self.heading_levels.add(int(heading.group(1)) if heading else level)
        toc = _TOC_STYLE.match(name or "")
        if toc:
            self.toc_levels.add(int(toc.group(1)))

    def walk(self, element, out: list[str]) -> None:
        for child in element.iterchildren():
            if self.budget.exhausted():
                return
            if child.tag == qn("w:p"):
                self._note_style(child)
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


def _docx_text(path: Path, limits: ReadLimits) -> DocumentText:
    budget = _Budget(limits)
    try:
        document = docx.Document(io.BytesIO(_slim_package(path, limits)))
    except Unreadable:
        raise
    except Exception as err:
        raise Unreadable("failed", "申报书文件无法按 Word（.docx）格式打开，无法自动读取") from err
    walker = _DocxWalker(document, budget)
    walker.walk(document.element.body, walker.lines)
    return DocumentText(tuple(walker.lines), toc_field=walker.toc_field,
                        toc_field_levels=walker.toc_field_levels,
                        toc_entry_levels=frozenset(walker.toc_levels),
                        heading_levels=frozenset(walker.heading_levels), truncated=budget.stopped)


# ---------------------------------------------------------------- PDF

def _content_size(page) -> int:
    contents = page.get("/Contents")
    if contents is None:
        return 0
    contents = contents.get_object()
    streams = contents if isinstance(contents, ArrayObject) else [contents]
    return sum(len(stream.get_object().get_data()) for stream in streams)


# PDFium may not be called from two threads at once, not even for two documents, and waitress
# serves with several threads: every use holds this lock, and closes what it opened before
# releasing it (so that no finalizer calls PDFium later, from another thread).
_PDFIUM = threading.Lock()
_NOT_TEXT = frozenset((0, 0xFFFE, 0xFFFF, 0xFFFD))


def _char(textpage, index: int) -> str:
    """The character PDFium found at ``index``; "" for the spaces and line breaks it adds on its
    own guess (the layout decides those from the positions). A hyphen ending a line is one."""
    code = pdfium_c.FPDFText_GetUnicode(textpage, index)
    if code == 32 and pdfium_c.FPDFText_IsGenerated(textpage, index) == 1:
        return ""
    if code == 2 and pdfium_c.FPDFText_IsHyphen(textpage, index) == 1:
        return "-"  # 「sichuan-industrial-」 broken at the line's end: PDFium marks its hyphen so
    if code in _NOT_TEXT or (code < 32 and code != 9) or code > 0x10FFFF:
        return ""  # PDFium's line breaks, control codes, unmapped glyphs
    return chr(code)


def _glyphs(textpage) -> list[Glyph]:
    """Every character of the page with its font box. The letters of a ligature (the 「ff」 of
    「office」) come one after the other with the ligature's box."""
    glyphs = []
    box = pdfium_c.FS_RECTF()
    for index in range(textpage.count_chars()):
        char = _char(textpage, index)
        if not char or not pdfium_c.FPDFText_GetLooseCharBox(textpage, index, box):
            continue
        size = box.top - box.bottom if box.top > box.bottom else pdfium_c.FPDFText_GetFontSize(textpage, index)
        glyphs.append(Glyph(char, box.left, box.bottom, box.right, box.top, size))
    return glyphs


def _rules(page) -> list[Box]:
    """The bounds of every path drawn on the page itself (table borders, shading, underlines)."""
    return [Box(*item.get_bounds()) for item in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_PATH],
                                                                  max_depth=1)]


def _page_lines(document, index: int) -> list[str]:
    page = document[index]
    textpage = page.get_textpage()
    try:
        return page_lines(_glyphs(textpage), _rules(page))
    finally:
        textpage.close()
        page.close()


def _open_pdf(path: Path) -> tuple[PdfReader, int]:
    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise Unreadable("failed", "申报书PDF已加密，无法自动读取")
        return reader, len(reader.pages)
    except Unreadable:
        raise
    except (PdfReadError, OSError, ValueError, KeyError) as err:
        raise Unreadable("failed", "申报书PDF文件已损坏，无法自动读取") from err


@dataclass
class _PdfPages:
    lines: list[str]
    read: int = 0  # pages read (the last one's number)
    skipped: int = 0  # pages too complex to read
    count: int = 0  # pages in the file (the pages read, when the rest was not needed)


def _read_pages(path: Path, reader: PdfReader, count: int, budget: _Budget,
                enough: Callable[[list[str]], bool] | None) -> _PdfPages:
    result = _PdfPages([], count=count)
    with _PDFIUM:
        try:
            document = pdfium.PdfDocument(str(path))
        except pdfium.PdfiumError as err:
            raise Unreadable("failed", "申报书PDF文件已损坏，无法自动读取") from err
        try:
            for index in range(min(count, budget.limits.max_pages)):
                if budget.exhausted():
                    break
                if _content_size(reader.pages[index]) > budget.limits.max_page_content:
                    result.skipped += 1
                    continue
                page_lines_ = _page_lines(document, index)
                result.lines.extend(page_lines_)
                budget.lines = len(result.lines)
                result.read = index + 1
                if enough is not None and enough(page_lines_):
                    result.count = result.read  # the rest is prose: not needed
                    break
        finally:
            document.close()
    return result


def _pdf_text(path: Path, limits: ReadLimits, enough: Callable[[list[str]], bool] | None) -> DocumentText:
    budget = _Budget(limits)
    reader, count = _open_pdf(path)
    pages = _read_pages(path, reader, count, budget, enough)
    if sum(len(line.strip()) for line in pages.lines) < 20:
        if budget.stopped or pages.skipped:
            raise Unreadable("too_large", budget.stopped or f"{pages.skipped}页内容过于复杂，无法自动读取")
        raise Unreadable("no_text", "该PDF没有可读取的文字（可能是扫描件），无法自动核对；"
                                    "请另行上传 .docx 或由Word导出的PDF版本以便核对")
    notes = [budget.stopped] if budget.stopped else []
    if pages.count > limits.max_pages and not budget.stopped:
        notes.append(f"文件共{pages.count}页，只读取了前{limits.max_pages}页")
    if pages.skipped:
        notes.append(f"{pages.skipped}页内容过于复杂，未读取")
    return DocumentText(tuple(pages.lines), pages=pages.read, truncated="；".join(notes))
