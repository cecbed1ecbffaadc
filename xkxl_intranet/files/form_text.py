"""The text of an uploaded 申报书, for ``domain/form_reader.py``: a .docx through python-docx, a
PDF's text layer through PDFium (pypdfium2), which parses it once. Bounded, because the file may
be hostile (and, above these bounds, the worker's child process has its memory, CPU and
wall-clock limits: ``jobs/limits.py``):

- .docx: the ZIP's directory is checked before anything is unpacked (number of members, the
  declared size of the XML parts read). Only the main document and its styles are unpacked,
  each read no further than its limit, into a slimmed package that python-docx opens: images
  and embedded files are never unpacked. Its body is walked by :mod:`.docx_walker`.
- PDF: at most ``max_pages`` pages; a page drawn with more than ``max_page_objects`` objects,
  or whose drawing takes PDFium more than ``max_page_memory``, is skipped before PDFium builds
  its text page, and one of more than ``max_page_chars`` characters before its glyphs are
  walked (a 申报书 page has a few thousand). PDFium reads where each glyph and rule of the page
  is drawn, in which font and whether bold; the lines are rebuilt from those positions
  (:mod:`.pdf_layout`), in reading order, table rows as in a .docx, each with where it starts.
  A glyph of a symbol font (Wingdings' ☑ arrives as U+F0FE) is read as the mark it stands for
  (``domain/form_marks.py``).
- Both: a time budget checked as the text is walked; what was read by then is kept, and the
  clerk is told that the rest was not.

Raises :class:`Unreadable` with a status and the clerk's message; anything else is the caller's
to catch (reading never fails an upload).
"""
from __future__ import annotations

import ctypes
import io
import re
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docx
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from docx.oxml import parse_xml
from lxml import etree

from ..domain.form_marks import EMPHASIS, symbol_char
from ..domain.form_reader import DocumentText
from .docx_walker import DocxWalker
from .pdf_layout import Box, Glyph, PageLine, page_layout

__all__ = ["ReadLimits", "Unreadable", "extract_text"]

MB = 1024 * 1024
OFFICE_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
STYLES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"


@dataclass(frozen=True)
class ReadLimits:
    max_xml_bytes: int = 32 * MB  # the main document part, unpacked (a 申报书 of 300 pages: ~5 MB)
    max_members: int = 20_000  # entries in the .docx's ZIP directory
    max_pages: int = 100  # PDF pages read (the figures are in the first tens)
    max_page_objects: int = 50_000  # what one PDF page draws (text runs, paths, images)
    max_page_chars: int = 60_000  # characters on one PDF page (a dense page of A4: ~3,000)
    # What PDFium holds for one page's drawing, ~12 bytes a glyph (the demo's densest page: 0.85 MB;
    # 250,000 glyphs: 3 MB); its text page takes ~200 bytes a glyph (3.5 million: 750 MB).
    max_page_memory: int = 3 * MB
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
                 enough: Callable[[list[str]], bool] | None = None,
                 options: frozenset[str] = frozenset()) -> DocumentText:
    """The document's lines. ``enough``: given a PDF page's lines, whether the rest of the PDF
    is not needed (the pages after the figures are prose). ``options``: the words of the form's
    boxes (``form_marks.option_words``): one of them only bold or underlined is marked
    :data:`EMPHASIS`; none for a document that is no 申报书."""
    limits = limits or ReadLimits()
    if kind == "docx":
        return _docx_text(Path(path), limits, options)
    if kind == "pdf":
        return _pdf_text(Path(path), limits, enough, options)
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


def _docx_text(path: Path, limits: ReadLimits, options: frozenset[str]) -> DocumentText:
    budget = _Budget(limits)
    try:
        document = docx.Document(io.BytesIO(_slim_package(path, limits)))
    except Unreadable:
        raise
    except Exception as err:
        raise Unreadable("failed", "申报书文件无法按 Word（.docx）格式打开，无法自动读取") from err
    walker = DocxWalker(document, budget, options)
    walker.walk(document.element.body, walker.lines)
    return DocumentText(tuple(walker.lines), toc_field=walker.toc_field,
                        toc_field_levels=walker.toc_field_levels, toc_entries=tuple(walker.toc_entries),
                        headings=tuple(walker.headings), truncated=budget.stopped,
                        read_to_end=not budget.stopped)


# ---------------------------------------------------------------- PDF

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


_BOLD_NAME = re.compile(r"bold|heavy|black|demi", re.IGNORECASE)
_PRIVATE_SYMBOLS = range(0xF020, 0xF100)


class _Fonts:
    """Each text object's font name and whether it is drawn bold, asked of PDFium once per object:
    a font named bold or weighing 600 or more, or text filled and stroked (how Word and WPS make a
    font without a bold face look bold)."""

    def __init__(self, textpage):
        self.textpage = textpage
        self.known: dict[int, tuple[str, bool]] = {}
        self.buffer = ctypes.create_string_buffer(256)

    def of(self, index: int) -> tuple[str, bool]:
        handle = pdfium_c.FPDFText_GetTextObject(self.textpage, index)
        key = ctypes.cast(handle, ctypes.c_void_p).value
        if key is not None and key in self.known:
            return self.known[key]
        flags = ctypes.c_int()
        length = pdfium_c.FPDFText_GetFontInfo(self.textpage, index, self.buffer, len(self.buffer), ctypes.byref(flags))
        name = self.buffer.value.decode("latin-1") if 0 < length <= len(self.buffer) else ""
        bold = (bool(_BOLD_NAME.search(name)) or pdfium_c.FPDFText_GetFontWeight(self.textpage, index) >= 600
                or key is not None and pdfium_c.FPDFTextObj_GetTextRenderMode(handle)
                == pdfium_c.FPDF_TEXTRENDERMODE_FILL_STROKE)
        if key is not None:
            self.known[key] = (name, bold)
        return name, bold


def _glyphs(textpage) -> list[Glyph]:
    """Every character of the page with its font box and whether it is bold; a symbol font's
    character (Wingdings' U+F0FE, or 0xFE where the PDF maps no Unicode) as the mark it stands for.
    The letters of a ligature (the 「ff」 of 「office」) come one after the other with the
    ligature's box."""
    glyphs = []
    box = pdfium_c.FS_RECTF()
    fonts = _Fonts(textpage)
    for index in range(textpage.count_chars()):
        char = _char(textpage, index)
        if not char or not pdfium_c.FPDFText_GetLooseCharBox(textpage, index, box):
            continue
        font, bold = fonts.of(index)
        if ord(char) < 0x100 or ord(char) in _PRIVATE_SYMBOLS:
            char = symbol_char(font, ord(char)) or char
        size = box.top - box.bottom if box.top > box.bottom else pdfium_c.FPDFText_GetFontSize(textpage, index)
        glyphs.append(Glyph(char.replace(EMPHASIS, ""), box.left, box.bottom, box.right, box.top, size, bold))
    return [glyph for glyph in glyphs if glyph.char]


def _rules(page) -> list[Box]:
    """The bounds of every path drawn on the page itself (table borders, shading, underlines)."""
    return [Box(*item.get_bounds()) for item in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_PATH],
                                                                  max_depth=1)]


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


_mallinfo2: Any
try:
    _mallinfo2 = ctypes.CDLL(None).mallinfo2  # glibc 2.33+
    _mallinfo2.restype = _MallInfo2
except AttributeError:  # pragma: no cover - another C library: the memory bound is not applied
    _mallinfo2 = None


def _heap_in_use() -> int:
    """Bytes allocated through malloc in this process, PDFium's among them (0 where the C library
    does not say)."""
    if _mallinfo2 is None:  # pragma: no cover
        return 0
    info = _mallinfo2()
    return info.uordblks + info.hblkhd


def _drawing_memory(document, index: int) -> int:
    """What PDFium holds for page ``index``'s objects alone: the page loaded once more while it is
    open, so that its fonts, kept by the document while a page uses them, are not counted again."""
    before = _heap_in_use()
    again = pdfium_c.FPDF_LoadPage(document.raw, index)
    try:
        return _heap_in_use() - before
    finally:
        if again:
            pdfium_c.FPDF_ClosePage(again)


def _page_lines(document, index: int, limits: ReadLimits, options: frozenset[str]) -> list[PageLine] | None:
    """The page's lines; None for a page that draws too much to be a page of a 申报书.

    PDFium counts a page's characters only in its text page, which costs ~200 bytes a glyph: the
    page's drawing is measured first, by what loading it cost (~12 bytes a glyph, each use of a
    form XObject included), and only if that is over the bound is it measured without its fonts."""
    before = _heap_in_use()
    page = document[index]
    try:
        if pdfium_c.FPDFPage_CountObjects(page.raw) > limits.max_page_objects:
            return None
        if (_heap_in_use() - before > limits.max_page_memory
                and _drawing_memory(document, index) > limits.max_page_memory):
            return None
        textpage = page.get_textpage()
        try:
            if textpage.count_chars() > limits.max_page_chars:
                return None
            return page_layout(_glyphs(textpage), _rules(page), options=options)
        finally:
            textpage.close()
    finally:
        page.close()


def _open_pdf(path: Path):
    """The document, opened by PDFium (an encrypted one only if its user password is empty)."""
    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as err:
        if err.err_code == pdfium_c.FPDF_ERR_PASSWORD:
            raise Unreadable("failed", "申报书PDF已加密，无法自动读取") from err
        raise Unreadable("failed", "申报书PDF文件已损坏，无法自动读取") from err


@dataclass
class _PdfPages:
    lines: list[str]
    lefts: list[float] = field(default_factory=list)
    read: int = 0  # pages read (the last one's number)
    skipped: int = 0  # pages too complex to read
    count: int = 0  # pages in the file (the pages read, when the rest was not needed)
    total: int = 0  # pages in the file


def _read_pages(path: Path, budget: _Budget, enough: Callable[[list[str]], bool] | None,
                options: frozenset[str]) -> _PdfPages:
    with _PDFIUM:
        document = _open_pdf(path)
        try:
            result = _PdfPages([], count=len(document), total=len(document))
            for index in range(min(result.count, budget.limits.max_pages)):
                if budget.exhausted():
                    break
                page = _page_lines(document, index, budget.limits, options)
                if page is None:
                    result.skipped += 1
                    continue
                texts = [line.text for line in page]
                result.lines.extend(texts)
                result.lefts.extend(line.left for line in page)
                budget.lines = len(result.lines)
                result.read = index + 1
                if enough is not None and enough(texts):
                    result.count = result.read  # the rest is prose: not needed
                    break
        finally:
            document.close()
    return result


def _pdf_text(path: Path, limits: ReadLimits, enough: Callable[[list[str]], bool] | None,
              options: frozenset[str]) -> DocumentText:
    budget = _Budget(limits)
    pages = _read_pages(path, budget, enough, options)
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
    return DocumentText(tuple(pages.lines), lefts=tuple(pages.lefts), pages=pages.read, truncated="；".join(notes),
                        read_to_end=pages.read == pages.total and not pages.skipped)
