"""What a file *is*, from its content rather than its name.

Reads only the first few KB of a file, plus (for ZIP-based formats) the ZIP central directory
and (for OLE2/CFB formats) the CFB directory sectors — never the whole file. Pure Python:
``puremagic`` is used to name unexpected content in error messages; the structural checks
(OOXML/OFD packages, CFB directory stream names) are done here.

Which kinds an upload may be, and the Chinese refusals, are in :mod:`.upload_rules`.
"""

from __future__ import annotations

import contextlib
import io
import os
import struct
import uuid
import zipfile
from dataclasses import dataclass
from typing import BinaryIO, Union

import puremagic

__all__ = [
    "KINDS",
    "EXTENSION_KINDS",
    "MIME_TYPES",
    "KIND_LABELS",
    "HEAD_SIZE",
    "Source",
    "Sniff",
    "sniff",
    "detect",
    "mime_for",
]

Source = Union[str, "os.PathLike[str]", BinaryIO]

HEAD_SIZE = 8192

# --------------------------------------------------------------------------- kinds

KINDS = frozenset(
    {"pdf", "doc", "docx", "xls", "xlsx", "wps", "et", "ofd", "jpg", "png", "zip"}
)

EXTENSION_KINDS: dict[str, str] = {
    "pdf": "pdf",
    "doc": "doc",
    "docx": "docx",
    "xls": "xls",
    "xlsx": "xlsx",
    "wps": "wps",
    "et": "et",
    "ofd": "ofd",
    "jpg": "jpg",
    "jpeg": "jpg",
    "png": "png",
    "zip": "zip",
}

MIME_TYPES: dict[str, str] = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "wps": "application/wps-office.wps",
    "et": "application/wps-office.et",
    "ofd": "application/ofd",
    "jpg": "image/jpeg",
    "png": "image/png",
    "zip": "application/zip",
}

KIND_LABELS: dict[str, str] = {
    "pdf": "PDF文件",
    "doc": "Word（DOC）文件",
    "docx": "Word（DOCX）文件",
    "xls": "Excel（XLS）文件",
    "xlsx": "Excel（XLSX）文件",
    "wps": "WPS文字文件",
    "et": "WPS表格文件",
    "ofd": "OFD文件",
    "jpg": "JPG图片",
    "png": "PNG图片",
    "zip": "ZIP压缩包",
    # content-only kinds returned by detect()
    "ole": "Office二进制文件",
}


def mime_for(kind: str) -> str:
    return MIME_TYPES.get(kind, "application/octet-stream")


# --------------------------------------------------------------------------- signatures

_PDF = b"%PDF-"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_PNG = b"\x89PNG\r\n\x1a\n"
_JPG = b"\xff\xd8\xff"
_ZIP_LOCAL = b"PK\x03\x04"
_ZIP_EMPTY = b"PK\x05\x06"

_EXECUTABLE_MAGIC = (
    b"MZ",  # DOS / Windows PE (.exe, .dll, .scr)
    b"\x7fELF",  # Linux / Unix
    b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf",  # Mach-O (big endian)
    b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe",  # Mach-O (little endian)
    b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf",  # Mach-O universal / Java class
    b"#!",  # shell / interpreter script
    b"dex\n",  # Android Dalvik
    b"\x00asm",  # WebAssembly
)

# Windows Installer package / transform / patch: OLE2 files, but installers.
_MSI_CLSIDS = frozenset(
    uuid.UUID(f"000c10{x}-0000-0000-c000-000000000046").bytes_le for x in ("84", "82", "86")
)


@dataclass(frozen=True)
class Sniff:
    """What :func:`sniff` found in a file."""

    kind: str | None  # content kind: KINDS member, "ole", or None
    note: str = ""  # empty | executable | markup | text | rtf | encrypted | corrupt | ""
    other: str = ""  # e.g. ".gif" when puremagic recognised something else


def _is_executable(head: bytes) -> bool:
    return head.startswith(_EXECUTABLE_MAGIC)


def _decode_text_start(head: bytes) -> str | None:
    """Decode the start of a text file (BOM-aware) or None if it looks binary."""
    sample = head[:2048]
    for bom, codec in (
        (b"\xef\xbb\xbf", "utf-8"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    ):
        if sample.startswith(bom):
            return sample[len(bom):].decode(codec, "ignore")
    if b"\x00" in sample:
        return None
    for codec in ("utf-8", "gb18030"):
        try:
            return sample.decode(codec)
        except UnicodeDecodeError:
            # a multi-byte char may be cut at the end of the sample
            try:
                return sample[:-4].decode(codec)
            except UnicodeDecodeError:
                continue
    return None


def _is_markup(head: bytes) -> bool:
    """HTML / SVG / XML / inline script (what a browser might execute)."""
    text = _decode_text_start(head)
    if text is None:
        return False
    text = text.lstrip("\ufeff \t\r\n\f\v\x00").lower()
    if not text.startswith("<") or len(text) < 2:
        return False
    return text[1].isalpha() or text[1] in "!?/"


def _strip_pdf_preamble(head: bytes) -> bytes:
    # Some scanners write a few blank bytes before %PDF-; readers accept the
    # header anywhere in the first 1024 bytes.  Only whitespace is tolerated.
    return head[:1024].lstrip(b" \t\r\n\f\x00") + head[1024:]


# --------------------------------------------------------------------------- source IO


class _Reader:
    """Uniform seek/read over a path or a seekable binary file object.

    Restores the caller's file position on close; never closes a passed-in
    file object.
    """

    def __init__(self, source: Source | bytes | None, head: bytes | None = None):
        self._own = False
        self._restore: int | None = None
        if source is None:
            self.fp: BinaryIO = io.BytesIO(head or b"")
        elif isinstance(source, (bytes, bytearray, memoryview)):
            self.fp = io.BytesIO(bytes(source))
        elif isinstance(source, (str, os.PathLike)):
            self.fp = open(source, "rb")  # noqa: SIM115 - closed in close()
            self._own = True
        else:
            self.fp = source
            try:
                self._restore = source.tell()
            except (AttributeError, OSError) as exc:
                raise TypeError("file object must be seekable") from exc

    def size(self) -> int:
        self.fp.seek(0, os.SEEK_END)
        return self.fp.tell()

    def read_at(self, offset: int, n: int) -> bytes:
        self.fp.seek(offset)
        return self.fp.read(n)

    def close(self) -> None:
        if self._own:
            self.fp.close()
        elif self._restore is not None:
            with contextlib.suppress(OSError, ValueError):
                self.fp.seek(self._restore)

    def __enter__(self) -> _Reader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --------------------------------------------------------------------------- ZIP packages


def _sniff_zip(fp: BinaryIO) -> Sniff:
    """docx / xlsx / ofd / plain zip, from the central directory only."""
    try:
        with zipfile.ZipFile(fp) as zf:  # reads EOCD + central directory
            names = [info.filename for info in zf.infolist()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return Sniff("zip", "corrupt")
    lower = {n.lower() for n in names}
    if "ofd.xml" in lower:
        return Sniff("ofd")
    if "[content_types].xml" in lower:
        if any(n.startswith("word/") for n in lower):
            return Sniff("docx")
        if any(n.startswith("xl/") for n in lower):
            return Sniff("xlsx")
    return Sniff("zip")


# --------------------------------------------------------------------------- OLE2 / CFB

_ENDOFCHAIN = 0xFFFFFFFE
_MAXREGSECT = 0xFFFFFFFA
_MAX_DIR_SECTORS = 512  # 2048 entries with 512-byte sectors; plenty for documents
_MAX_DIFAT_SECTORS = 4096


class _CorruptCFB(Exception):
    pass


class _CFB:
    """Just enough of [MS-CFB] to list the root storage's children."""

    def __init__(self, reader: _Reader, header: bytes):
        if len(header) < 512:
            raise _CorruptCFB("short header")
        (major,) = struct.unpack_from("<H", header, 0x1A)
        (byte_order, sector_shift) = struct.unpack_from("<HH", header, 0x1C)
        if byte_order != 0xFFFE or (major, sector_shift) not in ((3, 9), (4, 12)):
            raise _CorruptCFB("bad header")
        self.reader = reader
        self.ss = 1 << sector_shift
        self.per_sector = self.ss // 4
        (self.first_dir,) = struct.unpack_from("<I", header, 0x30)
        (self.first_difat, self.n_difat) = struct.unpack_from("<II", header, 0x44)
        self.difat = list(struct.unpack_from("<109I", header, 0x4C))
        self._difat_complete = self.n_difat == 0
        self._fat_cache: dict[int, bytes] = {}

    def _sector(self, sector: int) -> bytes:
        if sector > _MAXREGSECT:
            raise _CorruptCFB("special sector in chain")
        data = self.reader.read_at((sector + 1) * self.ss, self.ss)
        if len(data) != self.ss:
            raise _CorruptCFB("sector beyond end of file")
        return data

    def _fat_location(self, index: int) -> int:
        while index >= len(self.difat) and not self._difat_complete:
            self._load_more_difat()
        if index >= len(self.difat):
            raise _CorruptCFB("FAT index out of range")
        return self.difat[index]

    def _load_more_difat(self) -> None:
        # Walk the whole DIFAT chain once (bounded); rarely needed (> ~7 MB files).
        sector, seen = self.first_difat, set()
        for _ in range(min(self.n_difat, _MAX_DIFAT_SECTORS)):
            if sector > _MAXREGSECT or sector in seen:
                break
            seen.add(sector)
            values = struct.unpack(f"<{self.per_sector}I", self._sector(sector))
            self.difat.extend(values[:-1])
            sector = values[-1]
        self._difat_complete = True

    def _next(self, sector: int) -> int:
        fat_index, slot = divmod(sector, self.per_sector)
        data = self._fat_cache.get(fat_index)
        if data is None:
            data = self._sector(self._fat_location(fat_index))
            self._fat_cache[fat_index] = data
        (value,) = struct.unpack_from("<I", data, slot * 4)
        return value

    def root_children(self) -> tuple[set[str], bytes]:
        """Names of the root storage's direct children, and the root CLSID."""
        raw = bytearray()
        sector = self.first_dir
        seen: set[int] = set()
        while sector != _ENDOFCHAIN and len(seen) < _MAX_DIR_SECTORS:
            if sector in seen:
                raise _CorruptCFB("directory chain loop")
            seen.add(sector)
            raw += self._sector(sector)
            sector = self._next(sector)
        count = len(raw) // 128
        if count == 0:
            raise _CorruptCFB("empty directory")

        def entry(i: int):
            base = i * 128
            (name_len,) = struct.unpack_from("<H", raw, base + 64)
            obj_type = raw[base + 66]
            left, right, child = struct.unpack_from("<III", raw, base + 68)
            name = ""
            if 2 <= name_len <= 64:
                name = bytes(raw[base : base + name_len - 2]).decode("utf-16-le", "replace")
            return name, obj_type, left, right, child

        _, root_type, _, _, root_child = entry(0)
        if root_type != 5:
            raise _CorruptCFB("first entry is not the root")
        clsid = bytes(raw[80:96])
        names: set[str] = set()
        stack, visited = [root_child], set()
        while stack:
            i = stack.pop()
            if i >= count or i in visited:  # NOSTREAM (0xFFFFFFFF) or garbage
                continue
            visited.add(i)
            name, obj_type, left, right, _child = entry(i)
            if obj_type in (1, 2) and name:
                names.add(name)
            stack.extend((left, right))
        return names, clsid


def _sniff_cfb(reader: _Reader, head: bytes) -> Sniff:
    header = head[:512] if len(head) >= 512 else reader.read_at(0, 512)
    try:
        names, clsid = _CFB(reader, header).root_children()
    except (_CorruptCFB, struct.error, OSError):
        return Sniff("ole", "corrupt")
    if clsid in _MSI_CLSIDS:
        return Sniff(None, "executable")
    if "EncryptedPackage" in names or "EncryptionInfo" in names:
        # password-protected .docx/.xlsx are OLE2 wrappers around the package
        return Sniff("ole", "encrypted")
    if "WordDocument" in names:
        return Sniff("doc")
    if "Workbook" in names or "Book" in names:
        return Sniff("xls")
    return Sniff("ole")


# --------------------------------------------------------------------------- detection


def _sniff_signature(head: bytes, reader: _Reader) -> Sniff | None:
    """The formats the system keeps, recognised by their first bytes (and their container)."""
    if _strip_pdf_preamble(head).startswith(_PDF):
        return Sniff("pdf")
    if head.startswith(_PNG):
        damaged = len(head) >= 16 and head[12:16] != b"IHDR"
        return Sniff("png", "corrupt" if damaged else "")
    if head.startswith(_JPG):
        return Sniff("jpg")
    if head.startswith(_OLE2):
        return _sniff_cfb(reader, head)
    if head.startswith((_ZIP_LOCAL, _ZIP_EMPTY)):
        reader.fp.seek(0)
        return _sniff_zip(reader.fp)
    return None


def _sniff_other(head: bytes) -> Sniff:
    """Content the system does not keep: what it is, to say so in the refusal."""
    if _is_markup(head):
        return Sniff(None, "markup")
    if head.lstrip().startswith(b"{\\rtf"):
        return Sniff(None, "rtf")
    other = ""
    with contextlib.suppress(puremagic.PureError, ValueError):
        other = puremagic.from_string(head) or ""
    if not other and _decode_text_start(head) is not None:
        return Sniff(None, "text")
    return Sniff(None, "", other)


def _sniff(head: bytes, reader: _Reader) -> Sniff:
    if not head:
        return Sniff(None, "empty")
    if _is_executable(head):
        return Sniff(None, "executable")
    return _sniff_signature(head, reader) or _sniff_other(head)


def sniff(source: Source) -> Sniff:
    """What the content of ``source`` is: a path, or a seekable binary file object (e.g.
    ``werkzeug.FileStorage.stream``) whose position is restored. Reads the first
    :data:`HEAD_SIZE` bytes and, for ZIP and OLE2 files, the container's directory."""
    with _Reader(source) as reader:
        return _sniff(reader.read_at(0, HEAD_SIZE), reader)


def detect(head: bytes, *, path: Source | None = None) -> str | None:
    """Kind of a file from its content.

    Returns one of ``pdf doc xls docx xlsx ofd jpg png zip``, ``"ole"`` for an
    OLE2 compound file that is neither Word- nor Excel-like (.wps/.et may be
    such), or ``None`` (unknown, executable, HTML ...).

    ``head`` is the start of the file (at least 512 bytes if available;
    :data:`HEAD_SIZE` recommended).  ``path`` — a file path or a seekable binary
    file object — is needed to look inside ZIP and OLE2 containers; without it,
    ``head`` is taken to be the whole file.
    """
    with _Reader(path, head) as reader:
        result = _sniff(head, reader)
    if result.kind == "zip" and result.note == "corrupt" and path is None:
        return "zip"  # only a prefix was given; cannot tell more
    return result.kind
