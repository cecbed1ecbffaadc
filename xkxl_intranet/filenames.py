"""File names: display names, download headers, safe ZIP member paths, storage names.

Pure Python, no Flask.  User-supplied names are *only* ever shown or put into
ZIP archives / ``Content-Disposition`` headers after going through this module;
they are never used as a path on the server (see :func:`random_storage_name`).
"""

from __future__ import annotations

import re
import secrets
import unicodedata

__all__ = [
    "FALLBACK_NAME",
    "MAX_DISPLAY_LEN",
    "MAX_ARCHIVE_PART_LEN",
    "display_name",
    "ascii_name",
    "ascii_fallback",
    "extension_of",
    "archive_member",
    "safe_arcname",
    "random_storage_name",
    "storage_relpath",
    "is_storage_name",
]

FALLBACK_NAME = "未命名文件"
MAX_DISPLAY_LEN = 200
MAX_ARCHIVE_PART_LEN = 100

# Longest thing we treat as an "extension" when truncating (keeps ".docx",
# ".jpeg" etc. and ignores a dot somewhere in the middle of a long title).
_MAX_EXT_LEN = 16

_WINDOWS_FORBIDDEN = re.compile(r'[<>:"|?*]')
_WINDOWS_RESERVED = {
    "CON", "PRN", "AUX", "NUL",
    *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
}
_STORAGE_NAME = re.compile(r"[0-9a-f]{32}")


def _basename(raw: str) -> str:
    """Last path component, treating both ``/`` and ``\\`` as separators."""
    return raw.replace("\\", "/").rsplit("/", 1)[-1]


def _clean_text(text: str) -> str:
    """NFC-normalise, drop control/format/surrogate chars, collapse whitespace.

    Format characters (Unicode ``Cf``) include the bidi overrides (U+202E)
    used to disguise ``exe.pdf`` as ``fdp.exe``, zero-width spaces and BOMs.
    Lone surrogates (``Cs``) would break UTF-8 encoding later.
    """
    if text.isprintable() and unicodedata.is_normalized("NFC", text):
        # Nothing to drop or to turn into a space (a printable string holds no control, format,
        # surrogate or separator character but the ASCII space): the common case, taken without
        # looking at each character (an archive of 20,000 files cleans 40,000 names).
        return (re.sub(r" {2,}", " ", text) if "  " in text else text).strip()
    text = unicodedata.normalize("NFC", text)
    out: list[str] = []
    for ch in text:
        if ch.isspace():
            out.append(" ")
            continue
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs"):
            continue
        out.append(ch)
    return re.sub(r" {2,}", " ", "".join(out)).strip()


def _split_ext(name: str) -> tuple[str, str]:
    """("stem", "ext") when ``name`` has a plausible extension, else (name, "")."""
    stem, dot, ext = name.rpartition(".")
    if dot and stem.strip(".") and ext and len(ext) <= _MAX_EXT_LEN and " " not in ext:
        return stem, ext
    return name, ""


def _truncate(name: str, limit: int) -> str:
    if len(name) <= limit:
        return name
    stem, ext = _split_ext(name)
    if ext and len(ext) + 2 <= limit:
        keep = limit - len(ext) - 1
        return stem[:keep].rstrip(" ") + "." + ext
    return name[:limit].rstrip(" ")


def display_name(raw_filename: str | None) -> str:
    """The user's original file name, cleaned for display (never a path).

    ``C:\\fakepath\\申报书.pdf`` -> ``申报书.pdf``; ``../../etc/passwd`` -> ``passwd``.
    Always returns a non-empty string of at most 200 characters.
    """
    if raw_filename is None:
        return FALLBACK_NAME
    if isinstance(raw_filename, bytes):
        raw_filename = raw_filename.decode("utf-8", "replace")
    name = _clean_text(_basename(str(raw_filename)))
    if not name.strip("."):
        return FALLBACK_NAME
    return _truncate(name, MAX_DISPLAY_LEN) or FALLBACK_NAME


_ASCII_RUN = re.compile(r"[^A-Za-z0-9]+")


def ascii_name(kind: str, *parts: object, ext: str) -> str:
    """The plain ``filename=`` of a download, for a client that ignores ``filename*`` (issue 25):
    what the file is, in ASCII, e.g. ``ascii_name("fujian3", "chengdu", 2022, ext="xlsx")`` ->
    ``"fujian3-chengdu-2022.xlsx"``. Each part (a city's pinyin, a year, a number) is lowered and
    reduced to letters, digits and hyphens; an empty part is left out."""
    words = [_ASCII_RUN.sub("-", str(p).encode("ascii", "ignore").decode()).strip("-").lower()
             for p in (kind, *parts) if p not in (None, "")]
    stem = "-".join(w for w in words if w) or "download"
    return f"{stem}.{ext.lstrip('.').lower()}" if ext else stem


def ascii_fallback(name: str) -> str:
    """The plain ``filename=`` derived from a Chinese name when the caller gave none (a file as
    uploaded): its ASCII letters and digits kept, the rest dropped; ``download`` where nothing
    of a name is left (「申报书.pdf」 -> ``download.pdf``, not ``___.pdf``)."""
    stem, ext = _split_ext(display_name(name))
    ascii_ext = _ASCII_RUN.sub("", ext.encode("ascii", "ignore").decode()).lower()
    kept = _ASCII_RUN.sub("-", stem.encode("ascii", "ignore").decode()).strip("-")
    if not re.search(r"[A-Za-z]", kept):
        kept = "-".join(w for w in ("download", kept) if w)
    return f"{kept}.{ascii_ext}" if ascii_ext else kept


def extension_of(name: str | None) -> str:
    """Lower-case extension without the dot (``"申报书.PDF"`` -> ``"pdf"``), or ``""``.

    Like :func:`os.path.splitext`, a leading dot alone (``".pdf"``) is not an
    extension.
    """
    if not name:
        return ""
    base = _clean_text(_basename(str(name))).rstrip(" ")
    stem, dot, ext = base.rpartition(".")
    if not dot or not stem.strip("."):
        return ""
    return ext.strip().lower()


def _safe_part(part: object, limit: int) -> str:
    text = "" if part is None else str(part)
    text = _clean_text(text.replace("/", "_").replace("\\", "_"))
    text = _WINDOWS_FORBIDDEN.sub("_", text)
    text = text.lstrip(". ").rstrip(". ")
    if not text:
        return "_"
    if text.split(".", 1)[0].strip().upper() in _WINDOWS_RESERVED:
        text = "_" + text
    text = _truncate(text, limit).rstrip(". ")
    return text or "_"


def archive_member(*parts: object, max_part_len: int = MAX_ARCHIVE_PART_LEN) -> str:
    """Safe path inside a ZIP built from user-provided strings.

    ``archive_member("成都市", "01_某某公司", "申报书", "../申报书.pdf")``
    -> ``"成都市/01_某某公司/申报书/_申报书.pdf"``-like; each part has no
    separators, no ``..``, no control chars, no leading dots and no Windows-
    forbidden characters.  Idempotent: sanitising an output again changes nothing.
    """
    if not parts:
        raise ValueError("archive_member() needs at least one part")
    return "/".join(_safe_part(p, max_part_len) for p in parts)


def safe_arcname(arcname: str, *, max_part_len: int = MAX_ARCHIVE_PART_LEN) -> str:
    """Sanitise an already-joined ``a/b/c`` ZIP path component by component."""
    parts = [p for p in re.split(r"[/\\]", arcname or "") if p not in ("", ".")]
    return archive_member(*(parts or ["_"]), max_part_len=max_part_len)


def random_storage_name() -> str:
    """32 random hex chars; the only kind of name used for files on disk."""
    return secrets.token_hex(16)


def is_storage_name(name: str) -> bool:
    return isinstance(name, str) and _STORAGE_NAME.fullmatch(name) is not None


def storage_relpath(name: str) -> str:
    """Sharded relative path for a storage name: ``"abcdef…"`` -> ``"ab/cdef…"``.

    Raises ``ValueError`` for anything that is not a :func:`random_storage_name`
    value, so user input can never reach the file system through here.
    """
    if not is_storage_name(name):
        raise ValueError("invalid storage name")
    return f"{name[:2]}/{name[2:]}"


def human_size(size: int | None) -> str:
    """``1536`` -> ``"1.5 KB"``: sizes as a clerk reads them."""
    if size is None:
        return ""
    if size < 1024:
        return f"{size} 字节"
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1024
        if value < 1024 or unit == "TB":
            return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"
    return f"{size} 字节"
