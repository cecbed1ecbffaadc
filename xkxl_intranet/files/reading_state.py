"""Where an uploaded 申报书's reading stands, as the web process knows it: asked for (the upload,
「重新读取申报书」, ``flask read-forms``), waiting, being read by a worker, done, or not possible
(killed at a limit). Reading itself is a job (``applications/reading_job.py``, in the worker); this module
imports no document reader.

The row is the source of truth (``StoredFile.reading_state``): the queue only carries the news,
so a queue lost in a crash is refilled from the rows (``worker.py``), and a worker claims a
row before it reads, so one file is never read twice at once.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from ..clock import now
from ..domain.declaration import Form
from ..domain.form_reader import FormReading
from ..extensions import db
from ..jobs.queue import READ_FORM_JOB, after_commit
from .categories import FORM
from .models import StoredFile

READER_VERSION = 3  # stored readings of another version are read again by `flask read-forms`
# 2: a PDF's text rebuilt from positions (files/pdf_layout.py): PDFs exported by LibreOffice or WPS
#    read as 1 read them gave differences that were not there
# 3: ticks bound to one option (「□是 √否」 was both), symbol-font ticks and boxes (Wingdings …),
#    answers marked only by bold or underline, the 目录's levels counted in the body, 附件 no level
READABLE_KINDS = frozenset({"docx", "pdf"})
UNSUPPORTED_MESSAGE = "该格式无法自动读取，请上传 .docx 或 PDF 版本以便核对"
FAILED_MESSAGE = "读取申报书时出错，无法自动核对；文件已正常保存。如需核对，请另存为 .docx 或 PDF 后重新上传"
OVER_LIMIT = "超出处理限度，未能读取"
LIMIT_REASONS = {"memory": "所需内存超过{memory} MB", "cpu": "计算时间超过{cpu}秒", "time": "用时超过{wall}秒",
                 "crash": "读取过程异常终止"}
PENDING_MESSAGE = "正在读取…读取完成后本栏自动更新，并与申报表逐项核对。"
STATUS_LABELS = {"read": "已读取", "unsupported": "格式无法读取", "no_text": "无文字层", "too_large": "文件过大",
                 "failed": "读取失败", "over_limit": "未能读取", "pending": "正在读取", None: "尚未读取"}


class ReadingState(enum.StrEnum):
    PENDING = "pending"  # 待读取: asked for, in the queue
    RUNNING = "running"  # 读取中: a worker has claimed it
    DONE = "done"  # 已读取: the reader's outcome is kept (read, no text, unsupported …)
    FAILED = "failed"  # 未能读取: killed at a limit, or given up after repeated attempts

    @property
    def label(self) -> str:
        return {"pending": "待读取", "running": "读取中", "done": "已读取", "failed": "未能读取"}[self.value]


WAITING = (ReadingState.PENDING.value, ReadingState.RUNNING.value)


def base_reading(kind: str) -> dict[str, Any]:
    return {"version": READER_VERSION, "kind": kind, "read_at": now().isoformat(timespec="seconds")}


def unsupported_reading(kind: str) -> dict[str, Any]:
    return {**base_reading(kind), "status": "unsupported", "message": UNSUPPORTED_MESSAGE}


def over_limit_reading(kind: str, reason: str, *, memory_mb: int, cpu_seconds: int,
                       wall_seconds: float) -> dict[str, Any]:
    """The reading of a document whose reading was killed at a limit: the file stays stored."""
    why = LIMIT_REASONS.get(reason, LIMIT_REASONS["crash"]).format(memory=memory_mb, cpu=cpu_seconds,
                                                                   wall=f"{wall_seconds:g}")
    return {**base_reading(kind), "status": "over_limit", "reason": reason,
            "message": f"{OVER_LIMIT}（{why}）。文件已正常保存，请人工核对；"
                       "如需自动核对，请另存为 .docx 或由Word导出的 PDF 后重新上传"}


def request_reading(stored: StoredFile) -> None:
    """Ask for ``stored``'s reading: a .docx or PDF waits for a worker (enqueued once the
    caller commits); any other kind is answered here, as there is nothing to read. The reading
    kept so far stays until the new one replaces it. ``stored`` is flushed (it has its id)."""
    if stored.kind not in READABLE_KINDS:
        stored.reading = unsupported_reading(stored.kind)
        stored.reading_state = ReadingState.DONE.value
        return
    stored.reading_state = ReadingState.PENDING.value
    stored.reading_requested_at = now()
    stored.reading_claimed_by = stored.reading_claimed_at = None
    stored.reading_attempts = 0
    after_commit(db.session, READ_FORM_JOB, stored.id)


@dataclass(frozen=True)
class StoredReading:
    """A stored 申报书's reading as the pages use it."""

    status: str | None  # None: not read yet (uploaded before reading existed); "pending": waiting
    message: str = ""
    reading: FormReading | None = None
    read_at: str = ""
    stale: bool = False  # read by an earlier version of the reader

    @property
    def label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status or "")

    @property
    def pending(self) -> bool:
        return self.status == "pending"


def stored_reading(data: dict[str, Any] | None, state: str | None = None, *, form: Form) -> StoredReading:
    """What the page shows of a row's ``reading`` (and ``reading_state``: a reading asked for and
    not finished shows as 正在读取, whatever an earlier reading said), its fields as ``form`` (the
    application's round's) declares them."""
    if state in WAITING:
        return StoredReading("pending", PENDING_MESSAGE)
    if not data:
        return StoredReading(None, "该申报书上传于自动读取功能启用之前，尚未读取")
    status = data.get("status")
    stale = data.get("version") != READER_VERSION
    reading = FormReading.from_json(data, form=form) if status == "read" else None
    return StoredReading(status, str(data.get("message") or ""), reading, str(data.get("read_at") or ""), stale)


@dataclass(frozen=True)
class ReadingQueue:
    """The readings waiting (asked for or being read) and since when the oldest waits."""

    waiting: int
    oldest: datetime | None

    def oldest_seconds(self, moment: datetime | None = None) -> int | None:
        if self.oldest is None:
            return None
        return max(0, int(((moment or now()) - self.oldest).total_seconds()))


def reading_queue() -> ReadingQueue:
    waiting, oldest = db.session.execute(
        select(func.count(), func.min(StoredFile.reading_requested_at))
        .where(StoredFile.category == FORM.key, StoredFile.reading_state.in_(WAITING))).one()
    return ReadingQueue(int(waiting or 0), oldest)
