"""Which files an upload may be, and why one is refused (in Chinese, for the clerk).

The kinds each category accepts, the formats as the pages list them, and
:func:`check_upload`, which compares what a file's name claims with what its content is
(:mod:`.filetypes`) and raises :class:`FileRejected` with the reason.
"""

from __future__ import annotations

from typing import NamedTuple

from ..domain.errors import Refused
from ..filenames import display_name, extension_of
from .filetypes import EXTENSION_KINDS, KIND_LABELS, KINDS, Sniff, Source, mime_for, sniff

__all__ = [
    "APPLICATION_FORM_KINDS",
    "EVIDENCE_KINDS",
    "SCAN_KINDS",
    "Detected",
    "FileRejected",
    "check_upload",
    "describe_kinds",
    "accept_attribute",
]

APPLICATION_FORM_KINDS = frozenset({"pdf", "doc", "docx", "wps", "ofd"})  # 申报书
EVIDENCE_KINDS = frozenset(KINDS)  # 附件1–6 证明材料
SCAN_KINDS = frozenset({"pdf", "ofd", "jpg", "png"})  # 盖章扫描的附件3汇总表

# Which *content* kinds (as found by filetypes.sniff) are acceptable for a file
# whose extension maps to the given kind.  WPS Office writes .wps/.et as OLE2
# compound files (Word-/Excel-compatible); be pragmatic and take any CFB.
_COMPATIBLE: dict[str, frozenset[str]] = {
    "pdf": frozenset({"pdf"}),
    "doc": frozenset({"doc"}),
    "docx": frozenset({"docx"}),
    "xls": frozenset({"xls"}),
    "xlsx": frozenset({"xlsx"}),
    "wps": frozenset({"doc", "xls", "ole"}),
    "et": frozenset({"xls", "doc", "ole"}),
    "ofd": frozenset({"ofd"}),
    "jpg": frozenset({"jpg"}),
    "png": frozenset({"png"}),
    "zip": frozenset({"zip", "docx", "xlsx", "ofd"}),
}

# Containers: a damaged file of the right container is "corrupt", not "something else".
_FAMILIES = {
    **dict.fromkeys(("docx", "xlsx", "ofd", "zip"), "zip"),
    **dict.fromkeys(("doc", "xls", "wps", "et", "ole"), "cfb"),
}


class Detected(NamedTuple):
    kind: str  # one of KINDS (the validated kind of the upload)
    extension: str  # the file's own extension, lower-case, no dot ("jpeg")
    mime: str  # MIME type to use when serving the file


class FileRejected(Refused):
    """An upload was refused; ``message`` is a Chinese sentence for the user."""

    def __init__(self, message: str, *, filename: str | None = None, reason: str = ""):
        super().__init__(message)
        self.filename = filename
        self.reason = reason  # machine-readable: empty, no_extension, ...


# --------------------------------------------------------------------------- formats, as shown

_FORMAT_GROUPS: list[tuple[tuple[str, ...], str]] = [
    # (kinds in group, label)
    (("pdf",), "PDF"),
    (("doc", "docx"), "Word"),
    (("xls", "xlsx"), "Excel"),
    (("wps", "et"), "WPS"),
    (("ofd",), "OFD"),
    (("jpg", "png"), "图片"),
    (("zip",), "ZIP压缩包"),
]
_WPS_LABELS = {("wps",): "WPS", ("et",): "WPS表格（ET）", ("wps", "et"): "WPS（WPS/ET）"}


def describe_kinds(kinds) -> str:
    """Human list of formats: ``PDF、Word（DOC/DOCX）、WPS、OFD``."""
    kinds = set(kinds)
    parts: list[str] = []
    for group, label in _FORMAT_GROUPS:
        present = tuple(k for k in group if k in kinds)
        if not present:
            continue
        if group == ("wps", "et"):
            parts.append(_WPS_LABELS[present])
        elif len(group) == 1:
            parts.append(label)
        else:
            parts.append(f"{label}（{'/'.join(k.upper() for k in present)}）")
    return "、".join(parts)


def accept_attribute(kinds) -> str:
    """Value for ``<input type=file accept=...>`` (a hint only; content is checked)."""
    exts = sorted(ext for ext, kind in EXTENSION_KINDS.items() if kind in set(kinds))
    return ",".join("." + e for e in exts)


# --------------------------------------------------------------------------- the check


def _family(kind: str | None) -> str | None:
    return _FAMILIES.get(kind, kind) if kind else None


def _fail(message: str, name: str, reason: str) -> FileRejected:
    return FileRejected(message, filename=name, reason=reason)


def check_upload(filename: str, fileobj_or_path: Source, *, allowed) -> Detected:
    """Validate an upload by content; return what it is or raise :class:`FileRejected`.

    ``fileobj_or_path``: a path, or a seekable binary file object (e.g.
    ``werkzeug.FileStorage`` or its ``.stream``); its position is restored.
    ``allowed``: a set of kinds, e.g. :data:`APPLICATION_FORM_KINDS`.
    """
    allowed = frozenset(allowed)
    unknown = allowed - KINDS
    if unknown:
        raise ValueError(f"unknown kinds: {sorted(unknown)}")
    name = display_name(filename)
    ext = extension_of(filename)
    found = sniff(fileobj_or_path)
    kind = _claimed_kind(name, ext, found, allowed)
    _check_content(name, kind, found)
    return Detected(kind=kind, extension=ext, mime=mime_for(kind))


def _claimed_kind(name: str, ext: str, found: Sniff, allowed: frozenset[str]) -> str:
    """The allowed kind the file's extension claims; refuses what may never be kept."""
    formats = describe_kinds(allowed)
    if found.note == "empty":
        raise _fail(f"文件“{name}”是空文件，请检查后重新上传", name, "empty")
    if not ext:
        raise _fail(f"文件“{name}”没有扩展名，无法确定文件格式，仅支持 {formats}", name,
                    "no_extension")
    if found.note == "executable":
        raise _fail(f"文件“{name}”是可执行程序，不允许上传", name, "executable")
    kind = EXTENSION_KINDS.get(ext)
    if kind is None or kind not in allowed:
        raise _fail(f"文件“{name}”的格式不受支持，仅支持 {formats}", name, "extension")
    if found.note == "markup":
        raise _fail(f"文件“{name}”是网页或脚本文件（HTML/SVG/XML/JavaScript），不允许上传", name,
                    "markup")
    return kind


def _check_content(name: str, kind: str, found: Sniff) -> None:
    """The content must be what the extension claims, readable and without a password."""
    label = KIND_LABELS[kind]
    if found.note == "corrupt" and _family(found.kind) == _family(kind):
        # right container (ZIP / OLE2 / PNG), but unreadable: truncated upload?
        raise _fail(f"文件“{name}”已损坏或不完整，无法识别为{label}，请检查后重新上传", name,
                    "corrupt")
    if found.kind is None or found.kind not in _COMPATIBLE[kind]:
        raise _mismatch(name, label, found)
    if found.note == "encrypted":
        raise _fail(f"文件“{name}”设置了打开密码，请取消密码后重新上传", name, "encrypted")


def _mismatch(name: str, label: str, found: Sniff) -> FileRejected:
    """The content is something else than the extension claims: say what, where we can."""
    if found.note == "encrypted":
        return _fail(f"文件“{name}”的内容不是{label}，而是设置了打开密码的Office文件，"
                     "请取消密码后重新上传", name, "encrypted")
    if found.note == "rtf":
        return _fail(f"文件“{name}”的内容不是{label}，而是RTF格式，"
                     "请用Word或WPS“另存为”DOC、DOCX或PDF后重新上传", name, "mismatch")
    actual = _actual_format(found)
    hint = f"（实际是{actual}）" if actual else ""
    return _fail(f"文件“{name}”的内容不是{label}{hint}，请检查后重新上传", name, "mismatch")


def _actual_format(found: Sniff) -> str:
    if found.kind is not None:
        actual = KIND_LABELS.get(found.kind, found.kind)
        return actual + "，且已损坏" if found.note == "corrupt" else actual
    if found.note == "text":
        return "纯文本"
    if found.other:
        return f"{found.other.lstrip('.').upper()}格式"
    return ""
