"""Build ZIP archives as a stream of chunks, with flat memory use.

``stream_zip`` drives the standard library's :class:`zipfile.ZipFile` over a
non-seekable sink (so entries use data descriptors) and yields whatever was
written after each local header, each 1 MB of file data and each entry's end.
Wrap it for Flask like::

    Response(stream_with_context(stream_zip(members)), mimetype="application/zip",
             headers={"Content-Disposition": content_disposition("成都市.zip")})

No Flask import here.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from ..filenames import safe_arcname

__all__ = [
    "CHUNK_SIZE",
    "CHINA_TZ",
    "STORED_EXTENSIONS",
    "ZipMember",
    "stream_zip",
    "unique_arcname",
    "manifest_csv",
    "sha256_file",
]

CHUNK_SIZE = 1024 * 1024
CHINA_TZ = timezone(timedelta(hours=8), "CST")
# Already-compressed formats: deflating them again only burns CPU.
STORED_EXTENSIONS = frozenset(
    {"pdf", "jpg", "jpeg", "png", "gif", "zip", "rar", "7z", "gz", "docx", "xlsx", "pptx", "ofd"}
)
_FORCE_ZIP64_FROM = 2 * 1024**3  # 2 GiB
_ZIP_MIN = datetime(1980, 1, 1)
_ZIP_MAX = datetime(2107, 12, 31, 23, 59, 58)


@dataclass(frozen=True)
class ZipMember:
    """One file in the archive: from ``path`` on disk or from ``data`` bytes.

    ``arcname`` is sanitised again by :func:`filenames.safe_arcname` (build it with
    :func:`filenames.archive_member`).  ``mtime``: aware datetimes are shown in
    China time (UTC+8); naive ones are taken as wall-clock time; default is the
    file's mtime (``path``) or now (``data``).
    """

    arcname: str
    path: str | os.PathLike | None = None
    data: bytes | None = None
    mtime: datetime | None = None

    def __post_init__(self) -> None:
        if (self.path is None) == (self.data is None):
            raise ValueError("ZipMember needs exactly one of path= or data=")


class _Sink:
    """Write-only, non-seekable file for ZipFile; collected bytes are drained."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._offset = 0

    def write(self, b) -> int:
        n = len(b)
        if n:
            self._parts.append(bytes(b))
            self._offset += n
        return n

    def tell(self) -> int:
        return self._offset

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def _zip_time(mtime: datetime) -> tuple[int, int, int, int, int, int]:
    if mtime.tzinfo is not None:
        mtime = mtime.astimezone(CHINA_TZ).replace(tzinfo=None)
    mtime = min(max(mtime, _ZIP_MIN), _ZIP_MAX)
    return (mtime.year, mtime.month, mtime.day, mtime.hour, mtime.minute, mtime.second)


def unique_arcname(arcname: str, seen: set[str]) -> str:
    """``arcname``, or ``x (2).pdf`` … if ``seen`` (case-folded names, as on Windows) holds it
    already; the name returned is added to ``seen``."""
    candidate, n = arcname, 1
    head, _, last = arcname.rpartition("/")
    stem, dot, ext = last.rpartition(".")
    if not dot or not stem:
        stem, dot, ext = last, "", ""
    while candidate.casefold() in seen:
        n += 1
        new_last = f"{stem} ({n}){dot}{ext}"
        candidate = f"{head}/{new_last}" if head else new_last
    seen.add(candidate.casefold())
    return candidate


def _entry(member: ZipMember, arcname: str, *, deflate: bool) -> zipfile.ZipInfo:
    """The member's header: name, time, size, and whether it is worth compressing."""
    if member.path is not None:
        st = os.stat(member.path)  # a missing file raises here, before its header is written
        size = st.st_size
        mtime = member.mtime or datetime.fromtimestamp(st.st_mtime, CHINA_TZ)
    else:
        size = len(member.data)  # type: ignore[arg-type]
        mtime = member.mtime or datetime.now(CHINA_TZ)
    ext = arcname.rpartition(".")[2].lower() if "." in arcname else ""
    info = zipfile.ZipInfo(arcname, date_time=_zip_time(mtime))
    compress = deflate and ext not in STORED_EXTENSIONS
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    info.external_attr = 0o100644 << 16  # regular file, rw-r--r--
    info.file_size = size
    return info


def _blocks(member: ZipMember) -> Iterator[bytes | memoryview]:
    """The member's bytes, one chunk at a time."""
    if member.path is not None:
        with open(member.path, "rb") as src:
            while block := src.read(CHUNK_SIZE):
                yield block
    else:
        view = memoryview(member.data)  # type: ignore[arg-type]
        for start in range(0, len(view), CHUNK_SIZE):
            yield view[start : start + CHUNK_SIZE]


def stream_zip(members: Iterable[ZipMember], *, deflate: bool = True) -> Iterator[bytes]:
    """Yield the bytes of a ZIP archive of ``members``, built on the fly.

    Memory stays at about one chunk (1 MB) whatever the archive size.  Names are
    stored as UTF-8 (flag bit 11 set for non-ASCII names).  Entries larger than
    2 GiB use ZIP64.  ``deflate=False`` stores everything uncompressed.
    A missing ``path`` raises (the archive would be incomplete otherwise), so
    check files before starting the response.
    """
    sink = _Sink()
    seen: set[str] = set()
    # typeshed asks a written file for close(), which ZipFile never calls on a file it was given
    with zipfile.ZipFile(sink, mode="w", allowZip64=True) as zf:  # type: ignore[call-overload]
        for member in members:
            info = _entry(member, unique_arcname(safe_arcname(member.arcname), seen),
                          deflate=deflate)
            with zf.open(info, "w", force_zip64=info.file_size >= _FORCE_ZIP64_FROM) as dest:
                if chunk := sink.drain():  # the local header
                    yield chunk
                for block in _blocks(member):
                    dest.write(block)
                    if chunk := sink.drain():
                        yield chunk
            if chunk := sink.drain():  # the data descriptor
                yield chunk
    if chunk := sink.drain():  # central directory
        yield chunk


# --------------------------------------------------------------------------- manifest

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(CHINA_TZ).replace(tzinfo=None)
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        # CSV/formula injection: Excel would evaluate "=HYPERLINK(...)" etc.
        if value.startswith(_FORMULA_START):
            try:
                float(value)
            except ValueError:
                return "'" + value
        return value
    return str(value)


def manifest_csv(
    rows: Iterable[Mapping[str, object]],
    columns: Sequence[str] | Sequence[tuple[str, str]] | Mapping[str, str],
) -> bytes:
    """CSV bytes (UTF-8 with BOM, CRLF) that Excel opens with Chinese intact.

    ``columns``: keys (also used as headers), ``(key, header)`` pairs, or a
    ``{key: header}`` mapping.  Cells that would start a formula are prefixed
    with ``'``.
    """
    if isinstance(columns, Mapping):
        pairs = list(columns.items())
    else:
        pairs = [(c, c) if isinstance(c, str) else (c[0], c[1]) for c in columns]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([header for _, header in pairs])
    for row in rows:
        writer.writerow([_cell(row.get(key)) for key, _ in pairs])
    return b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file, read in 1 MB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(CHUNK_SIZE):
            digest.update(block)
    return digest.hexdigest()
