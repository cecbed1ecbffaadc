"""An uploaded workbook, looked at before openpyxl loads any of it. No Flask, no database.

A small xlsx can hold a million cells (they compress well); loading it costs seconds and
gigabytes. So the worksheet XML is first streamed through expat, which keeps nothing: the scan
stops at the first cell with a value outside the template's rows and columns, or once there
are more cells than the template can have, and collects the merged ranges (which openpyxl's
read-only mode does not report). A document type declaration (the road to entity expansion) is
refused outright. Only then is the workbook loaded, in read-only mode.

Loading, even read-only, parses some parts whole and at once: the shared strings, the styles,
the package's and the workbook's own XML and the document properties. Each is a few kilobytes in
a template, yet a crafted one of the same compressed size holds hundreds of thousands of entries
(a shared-strings bomb took 4-16 s, a styles bomb 3-10 s). :func:`scan_eager_parts` counts their
elements first, as the sheets are scanned, and stops at the first one past its bound.
"""
from __future__ import annotations

import contextlib
import functools
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from xml.parsers import expat

from openpyxl.utils import column_index_from_string

CHUNK = 64 * 1024
# Elements before <sheetData> (views, column widths …): openpyxl reads these eagerly for every
# sheet, so a sheet the import never uses is held to this as well.
MAX_HEAD_ELEMENTS = 20_000
OFFICE_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
RELATIONSHIP_ID = "http://schemas.openxmlformats.org/officeDocument/2006/relationships id"
COORDINATE = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d{1,7})")


class _Done(Exception):
    """The part of a sheet that matters has been seen."""


class PackageUnreadable(Exception):
    """The package's XML cannot be read (broken, or with a document type declaration)."""


@dataclass(frozen=True)
class Bounds:
    rows: int
    columns: int
    cells: int


@dataclass
class SheetTooLarge(Exception):
    """A cell with a value at ``row``/``column`` outside the bounds, or more than ``cells``."""

    row: int = 0
    column: int = 0
    cells: int = 0


@dataclass
class SheetScan:
    cells: int = 0
    merged: list[str] = field(default_factory=list)


def _parser(start, end=None) -> expat.XMLParserType:
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = start
    if end is not None:
        parser.EndElementHandler = end

    def no_doctype(*args):
        raise PackageUnreadable("document type declarations are not allowed")

    parser.StartDoctypeDeclHandler = no_doctype
    parser.EntityDeclHandler = no_doctype
    return parser


def _feed(archive: zipfile.ZipFile, part: str, parser: expat.XMLParserType) -> None:
    try:
        with archive.open(part) as stream:
            while chunk := stream.read(CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except (expat.ExpatError, KeyError, zipfile.BadZipFile, OSError) as err:
        raise PackageUnreadable(str(err)) from None


@functools.cache
def _local(name: str) -> str:
    """``c`` of ``http://…/spreadsheetml/2006/main c`` (expat's namespaced name), looked up once."""
    return name.rsplit(" ", 1)[-1]


def _relationships(archive: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Id -> (type, target part) of the relationships of ``part``."""
    folder, name = posixpath.split(part)
    rels_part = posixpath.join(folder, "_rels", name + ".rels")
    found: dict[str, tuple[str, str]] = {}

    def start(tag, attrs):
        if _local(tag) == "Relationship" and attrs.get("TargetMode") != "External":
            target = attrs.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
            found[attrs.get("Id", "")] = (attrs.get("Type", ""), posixpath.normpath(path))

    if rels_part in archive.namelist():
        _feed(archive, rels_part, _parser(start))
    return found


def worksheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> its part in the package, as workbook.xml and its relationships say."""
    workbook = next((target for kind, target in _relationships(archive, "").values()
                     if kind == OFFICE_DOCUMENT), "xl/workbook.xml")
    targets = _relationships(archive, workbook)
    sheets: dict[str, str] = {}

    def start(tag, attrs):
        if _local(tag) == "sheet":
            target = targets.get(attrs.get(RELATIONSHIP_ID, ""))
            if target is not None:
                sheets[attrs.get("name", "")] = target[1]

    _feed(archive, workbook, _parser(start))
    return sheets


class _Scanner:
    """expat callbacks for one worksheet: counts cells, notes the merged ranges, stops early."""

    def __init__(self, bounds: Bounds | None):
        self.bounds = bounds
        self.scan = SheetScan()
        self.head = 0  # elements seen before <sheetData>
        self.in_data = False
        self.row = self.column = 0
        self.valued = False

    def start(self, tag, attrs):
        name = _local(tag)
        if not self.in_data:
            self.head += 1
            if self.head > MAX_HEAD_ELEMENTS:
                raise SheetTooLarge(cells=self.head)
            self.in_data = name == "sheetData"
        elif name == "row":
            self.row = int(attrs["r"]) if attrs.get("r", "").isdigit() else self.row + 1
            self.column = 0
        elif name == "c":
            self._cell(attrs.get("r", ""))
        elif name in ("v", "f", "is"):
            self.valued = True
        if name == "mergeCell":
            self.scan.merged.append(attrs.get("ref", ""))

    def _cell(self, reference: str) -> None:
        self.scan.cells += 1
        self.valued = False
        found = COORDINATE.fullmatch(reference)
        if found:
            self.row, self.column = int(found.group(2)), column_index_from_string(found.group(1).upper())
        else:
            self.column += 1
        if self.bounds is not None and self.scan.cells > self.bounds.cells:
            raise SheetTooLarge(cells=self.scan.cells)

    def end(self, tag):
        if not self.valued or self.bounds is None:
            return
        if (self.row > self.bounds.rows or self.column > self.bounds.columns) and _local(tag) == "c":
            raise SheetTooLarge(row=self.row, column=self.column)


def scan_worksheet(archive: zipfile.ZipFile, part: str, bounds: Bounds | None = None) -> SheetScan:
    """Stream one worksheet part; raises :class:`SheetTooLarge` as soon as it is beyond ``bounds``
    (only the elements before its data are limited when ``bounds`` is ``None``)."""
    scanner = _Scanner(bounds)
    parser = _parser(scanner.start, scanner.end)
    if bounds is None:  # a sheet the import does not read: its head is all openpyxl looks at
        def head_only(tag, attrs):
            scanner.start(tag, attrs)
            if scanner.in_data:
                raise _Done
        parser.StartElementHandler = head_only
        with contextlib.suppress(_Done):
            _feed(archive, part, parser)
        return scanner.scan
    _feed(archive, part, parser)
    return scanner.scan


# ---------------------------------------------------------------- parts loaded whole

CONTENT_TYPES = "[Content_Types].xml"
SHARED_STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
COMMENTS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"


@dataclass(frozen=True)
class PartBounds:
    """How many elements each part that loading parses whole may hold."""

    shared_strings: int  # <si> entries
    styles: int  # every element of xl/styles.xml (formats, fonts, fills, borders …)
    comments: int  # <comment> entries of one comments part
    other: int  # every element of the package's, the workbook's and the properties' XML


@dataclass
class PartTooLarge(Exception):
    """``part`` holds more than ``limit`` of what ``what`` names."""

    part: str
    what: str  # 共享字符串 / 样式 / 批注 / 结构定义
    limit: int


def _count(archive: zipfile.ZipFile, part: str, what: str, limit: int, element: str | None = None) -> None:
    """Stream ``part`` and stop at its ``limit``-th-plus-one element (or ``element``)."""
    counted = 0

    def start(tag, attrs):
        nonlocal counted
        if element is None or _local(tag) == element:
            counted += 1
            if counted > limit:
                raise PartTooLarge(part, what, limit)

    _feed(archive, part, _parser(start))


def _content_types(archive: zipfile.ZipFile, limit: int) -> dict[str, str]:
    """Part -> content type, as [Content_Types].xml overrides them (itself counted first)."""
    found: dict[str, str] = {}
    counted = 0

    def start(tag, attrs):
        nonlocal counted
        counted += 1
        if counted > limit:
            raise PartTooLarge(CONTENT_TYPES, "结构定义", limit)
        if _local(tag) == "Override":
            found[attrs.get("PartName", "").lstrip("/")] = attrs.get("ContentType", "")

    if CONTENT_TYPES in archive.namelist():
        _feed(archive, CONTENT_TYPES, _parser(start))
    return found


def scan_eager_parts(archive: zipfile.ZipFile, bounds: PartBounds) -> None:
    """Raise :class:`PartTooLarge` for the first part that loading would parse whole and that is
    beyond ``bounds``; :class:`PackageUnreadable` for one that is not XML. Worksheets are
    :func:`scan_worksheet`'s. Comments are not loaded in read-only mode; they are bounded all the
    same, so that no later change of how the workbook is opened turns them into a bomb."""
    types = _content_types(archive, bounds.other)
    names = set(archive.namelist())
    workbook = next((target for kind, target in _relationships(archive, "").values()
                     if kind == OFFICE_DOCUMENT), "xl/workbook.xml")
    for part, kind in types.items():
        if part not in names:
            continue
        if kind == SHARED_STRINGS_TYPE:
            _count(archive, part, "共享字符串", bounds.shared_strings, "si")
        elif kind == COMMENTS_TYPE:
            _count(archive, part, "批注", bounds.comments, "comment")
    own = {"_rels/.rels", workbook, posixpath.join(posixpath.dirname(workbook), "_rels",
                                                   posixpath.basename(workbook) + ".rels"),
           "docProps/core.xml", "docProps/custom.xml", "docProps/app.xml"}
    for part in sorted(own & names):
        _count(archive, part, "结构定义", bounds.other)
    if "xl/styles.xml" in names:  # openpyxl reads the styles from this name, whatever the types say
        _count(archive, "xl/styles.xml", "样式", bounds.styles)
