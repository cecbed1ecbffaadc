"""Reading an uploaded 申报书 once, when it is stored: its text (:mod:`.form_text`, bounded) read
into the declared fields (``domain/form_reader.py``), kept as a small JSON on the file's row
(``StoredFile.reading``) so that pages never read the document again.

Reading never fails or blocks an upload: every outcome is a status the page explains —
``read``, ``unsupported`` (.doc, .wps, OFD), ``no_text`` (a scan), ``too_large``, ``failed``.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app

from ..clock import now
from ..domain.form_reader import FormReading, past_the_figures, read_form
from .categories import FORM
from .form_text import ReadLimits, Unreadable, extract_text
from .models import StoredFile
from .storage import path_for

log = logging.getLogger(__name__)

READER_VERSION = 3  # stored readings of another version are read again by `flask read-forms`
# 2: a PDF's text rebuilt from positions (files/pdf_layout.py): PDFs exported by LibreOffice or WPS
#    read as 1 read them gave differences that were not there
# 3: ticks bound to one option (「□是 √否」 was both), symbol-font ticks and boxes (Wingdings …),
#    answers marked only by bold or underline, the 目录's levels counted in the body, 附件 no level
READABLE_KINDS = frozenset({"docx", "pdf"})
UNSUPPORTED_MESSAGE = "该格式无法自动读取，请上传 .docx 或 PDF 版本以便核对"
FAILED_MESSAGE = "读取申报书时出错，无法自动核对；文件已正常保存。如需核对，请另存为 .docx 或 PDF 后重新上传"
STATUS_LABELS = {"read": "已读取", "unsupported": "格式无法读取", "no_text": "无文字层", "too_large": "文件过大",
                 "failed": "读取失败", None: "尚未读取"}


def limits() -> ReadLimits:
    """The bounds of reading, from the app's configuration (``FORM_READ_*``)."""
    config = current_app.config
    defaults = ReadLimits()
    return ReadLimits(
        max_xml_bytes=int(config.get("FORM_READ_MAX_XML_MB") or defaults.max_xml_bytes // 1048576) * 1048576,
        max_pages=int(config.get("FORM_READ_MAX_PAGES") or defaults.max_pages),
        seconds=float(config.get("FORM_READ_SECONDS") or defaults.seconds))


def read_form_file(path: Path, kind: str, bounds: ReadLimits | None = None) -> dict[str, Any]:
    """What a stored 申报书 says, as the JSON kept on its row. Never raises."""
    started = time.monotonic()
    base: dict[str, Any] = {"version": READER_VERSION, "kind": kind,
                            "read_at": now().isoformat(timespec="seconds")}
    if kind not in READABLE_KINDS:
        return {**base, "status": "unsupported", "message": UNSUPPORTED_MESSAGE}
    try:
        reading = read_form(extract_text(path, kind, bounds or limits(), enough=past_the_figures))
    except Unreadable as err:
        return {**base, "status": err.status, "message": err.message}
    except Exception:  # a hostile or broken file must not break the upload
        log.exception("reading %s (%s) failed", path, kind)
        return {**base, "status": "failed", "message": FAILED_MESSAGE}
    return {**base, "status": "read", "seconds": round(time.monotonic() - started, 2), **reading.to_json()}


def read_stored(stored: StoredFile) -> dict[str, Any] | None:
    """Read a stored 申报书 (on upload, or again); ``None`` for other categories."""
    if stored.category != FORM.key:
        return None
    return read_form_file(path_for(stored.storage_name), stored.kind)


@dataclass(frozen=True)
class StoredReading:
    """A stored 申报书's reading as the pages use it."""

    status: str | None  # None: not read yet (uploaded before reading existed)
    message: str = ""
    reading: FormReading | None = None
    read_at: str = ""
    stale: bool = False  # read by an earlier version of the reader

    @property
    def label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status or "")


def stored_reading(data: dict[str, Any] | None) -> StoredReading:
    if not data:
        return StoredReading(None, "该申报书上传于自动读取功能启用之前，尚未读取")
    status = data.get("status")
    stale = data.get("version") != READER_VERSION
    reading = FormReading.from_json(data) if status == "read" else None
    return StoredReading(status, str(data.get("message") or ""), reading, str(data.get("read_at") or ""), stale)
