"""Writing stored files: uploads checked by content and kept (versioned for the 申报书), files
the system makes (demo data), an application's files removed with it. Operations take the
acting user and only flush; the route commits.

What a file means above this package is said there, by the use case that calls these: a new or
deleted 申报书 changes what its application is compared with (``applications/materials.py``),
and a 附件3 scan is kept with the fingerprint of the sheet it scans (``reports/summary_scan.py``)."""
from __future__ import annotations

import io
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import IO, Any, NamedTuple

from flask import current_app
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from ..audit.services import record
from ..auth.models import User
from ..clock import now, to_shanghai
from ..extensions import db
from ..filenames import display_name, human_size
from ..rounds.models import City, Round
from .categories import CATEGORIES, FORM, SUMMARY_SCAN, Category
from .models import OwnedByApplication, StoredFile
from .queries import upload_refusal
from .reading_state import ReadingState, request_reading
from .storage import (
    HashingTempFile,
    move_into_storage,
    path_for,
    remove_after_commit,
    remove_unless_committed,
    spool,
)
from .upload_rules import Detected, FileRejected, check_upload

Message = tuple[str, str]  # (level: success|danger|warning, text)

# An upload whose answer was lost (a crash, a dropped connection) is sent again by the clerk:
# the same content in the same place within this long is that retry, answered with the file kept.
REPEAT_WINDOW = timedelta(hours=1)


def max_upload_mb() -> int:
    return int(current_app.config.get("MAX_UPLOAD_MB") or 200)


@dataclass(frozen=True)
class Refusal:
    """One refused file, as the request log and the audit trail keep it."""
    name: str  # as shown ("" when no file was chosen)
    size: int | None  # bytes, when known
    reason: str  # a code: executable, mismatch, too_large, locked, one_file_only, no_file...


@dataclass
class UploadOutcome:
    saved: list[StoredFile] = field(default_factory=list)
    # kept already: the same content uploaded to the same place within REPEAT_WINDOW (a retry)
    repeated: list[StoredFile] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)

    @property
    def nothing_kept(self) -> bool:
        """Every file was refused: nothing new, nothing found kept already."""
        return bool(self.refusals) and not self.saved and not self.repeated


class _Kept(NamedTuple):
    stored: StoredFile
    replaced: list[StoredFile]
    repeated: bool  # the file was kept already (REPEAT_WINDOW); nothing was added


def store_uploads(user: User, uploads: Sequence[FileStorage], *, category: Category, application: OwnedByApplication | None = None,
                  city: City | None = None, round_: Round | None = None,
                  summary_digest: str | None = None) -> UploadOutcome:
    """Check and keep each uploaded file (a werkzeug ``FileStorage`` or anything with
    ``filename`` and ``stream``). A refused file gets a message and changes nothing; the
    others are kept. Flushes; the caller commits."""
    outcome = UploadOutcome()
    uploads = [u for u in uploads if u is not None and (u.filename or "").strip()]
    if not uploads:
        _refused(outcome, user, f"请选择要上传的文件（{category.label}）。", category, application, city,
                 Refusal("", None, "no_file"))
        return outcome
    refusal, reason = (upload_refusal(application), "locked") if application is not None else (None, "")
    if refusal is None and category.versioned and len(uploads) > 1:
        refusal, reason = f"“{category.label}”每次只能上传一个文件，请只选择一个文件。", "one_file_only"
    if refusal:
        for upload in uploads:  # one row per file: each name and size stays findable
            _refused(outcome, user, refusal, category, application, city,
                     Refusal(display_name(upload.filename or ""), _size_of(upload), reason))
        return outcome
    for upload in uploads:
        try:
            kept = _store_file(user, upload, category=category, application=application, city=city,
                               round_=round_, summary_digest=summary_digest, retry_is_kept=True)
        except FileRejected as err:
            _refused(outcome, user, err.message, category, application, city,
                     Refusal(err.filename or display_name(upload.filename or ""), _size_of(upload),
                             err.reason or "rejected"))
        else:
            stored, replaced = kept.stored, kept.replaced
            if kept.repeated:
                outcome.repeated.append(stored)
                outcome.messages.append(("success", _repeated_message(category, stored)))
                continue
            outcome.saved.append(stored)
            note = "，原版本已保留在历史版本中" if replaced else ""
            reading = "系统正在读取其中的数据，完成后在申报页与申报表逐项核对。" if stored.reading_state == ReadingState.PENDING else ""
            outcome.messages.append(("success", f"已上传{category.label}“{stored.original_name}”"
                                                f"（{human_size(stored.size)}）{note}。{reading}"))
    return outcome


def _refused(outcome: UploadOutcome, user: User, message: str, category: Category,
             application: OwnedByApplication | None, city: City | None, refusal: Refusal) -> None:
    """A refused upload: the clerk reads why, and the trail keeps the attempt (who, which file,
    how large, why), so that a complaint 「上传失败」 can be explained."""
    if ("danger", message) not in outcome.messages:  # a batch refused as one: said once
        outcome.messages.append(("danger", message))
    outcome.refusals.append(refusal)
    record("file.upload_refused", user=user, object_type="application" if application is not None else "city",
           object_id=application.id if application is not None else (city.id if city is not None else ""),
           city_id=application.city_id if application is not None else (city.id if city is not None else None),
           summary=f"上传{category.label}被拒绝：{message}",
           after={"category": category.key, "name": refusal.name, "size": refusal.size,
                  "reason": refusal.reason}, keep=True)


def _size_of(upload: FileStorage) -> int | None:
    """The upload's size in bytes, without reading it (``None`` if its stream cannot say)."""
    stream = upload.stream
    if isinstance(stream, HashingTempFile):
        return stream.size
    try:
        position = stream.tell()
        end = stream.seek(0, os.SEEK_END)
        stream.seek(position)
    except (AttributeError, OSError, ValueError):
        return None
    return end


def _repeated_message(category: Category, stored: StoredFile) -> str:
    at = to_shanghai(stored.uploaded_at).strftime("%H:%M")
    return (f"{category.label}“{stored.original_name}”（{human_size(stored.size)}）已于 {at} 上传成功，"
            "内容相同，未重复保存。")


def store_file(user: User, upload: FileStorage, *, category: Category, application: OwnedByApplication | None = None,
               city: City | None = None, round_: Round | None = None,
               summary_digest: str | None = None) -> StoredFile:
    """Check one upload by content and move it into storage; add its row and audit event.

    Raises :class:`FileRejected` (nothing is kept). The file is complete and fsynced before
    the row exists; if the transaction does not commit, the file is removed again.
    """
    return _store_file(user, upload, category=category, application=application, city=city,
                       round_=round_, summary_digest=summary_digest).stored


def store_bytes(user: User, data: bytes, name: str, *, category: str,
                application: OwnedByApplication | None = None, city: City | None = None,
                round_: Round | None = None, summary_digest: str | None = None) -> StoredFile:
    """Keep a file the system made itself (demo data, imports) exactly as if uploaded:
    checked by content, versioned, audited. ``category`` is a key (``"form"``...). Raises
    :class:`FileRejected`. Flushes; the caller commits."""
    upload = FileStorage(io.BytesIO(data), name)
    return _store_file(user, upload, category=CATEGORIES[category], application=application,
                       city=city, round_=round_, summary_digest=summary_digest).stored


def _store_file(user: User, upload: FileStorage, *, category: Category, application: OwnedByApplication | None,
                city: City | None, round_: Round | None, summary_digest: str | None,
                retry_is_kept: bool = False) -> _Kept:
    """Check and keep one file. With ``retry_is_kept`` (a clerk's upload), the same content
    kept in the same place within :data:`REPEAT_WINDOW` is answered instead of a second copy."""
    if category.key == SUMMARY_SCAN.key and summary_digest is None:
        raise ValueError("a 附件3 scan is kept with its sheet's fingerprint (reports/summary_scan.py)")
    if application is not None:
        city_id, round_id = application.city_id, application.round_id
    else:
        if city is None or round_ is None:
            raise ValueError("a city file needs city and round_")
        city_id, round_id = city.id, round_.id
    with checked_upload(upload, allowed=category.kinds) as (name, temp, detected):
        if retry_is_kept:
            earlier = _kept_lately(temp.sha256(), category, application_id=(
                application.id if application is not None else None), city_id=city_id, round_id=round_id)
            if earlier is not None:
                return _Kept(earlier, [], repeated=True)
        storage_name, size, digest = move_into_storage(temp)
    remove_unless_committed(db.session, path_for(storage_name))

    replaced: list[StoredFile] = []
    if category.versioned:
        replaced = _supersede(category, application=application, city_id=city_id, round_id=round_id)
    stored = StoredFile(
        round_id=round_id, city_id=city_id,
        application_id=application.id if application is not None else None,
        category=category.key, original_name=name, storage_name=storage_name, size=size,
        sha256=digest, kind=detected.kind, mime=detected.mime, uploaded_at=now(),
        uploaded_by_id=user.id if user is not None else None,
        summary_digest=summary_digest if category.key == SUMMARY_SCAN.key else None)
    db.session.add(stored)
    db.session.flush()
    if category.key == FORM.key:  # the 申报书, whichever notice declared it
        # Read by a worker once this commits (applications/reading_job.py): the upload answers now, and the
        # page shows 正在读取 until the reading is kept on the row.
        request_reading(stored)
    whose = f"（{application.title}）" if application is not None else ""
    record("file.uploaded", user=user, object_type="file", object_id=stored.id, city_id=city_id,
           summary=f"上传{category.label}{whose}：{name}（{human_size(size)}）",
           after={"application_id": stored.application_id, "category": category.key,
                  "name": name, "size": size, "sha256": digest, "kind": detected.kind,
                  **({"replaces": [f.id for f in replaced]} if replaced else {})})
    return _Kept(stored, replaced, repeated=False)


@contextmanager
def checked_upload(upload: FileStorage, *, allowed: frozenset[str]) -> Iterator[tuple[str, HashingTempFile, Detected]]:
    """An upload spooled (unless it streamed into storage already), within ``MAX_UPLOAD_MB`` and
    checked by content against the ``allowed`` kinds: (shown name, temp file, what it is).
    Raises :class:`FileRejected`. The caller moves it into storage inside the block
    (``move_into_storage``); what it leaves is discarded. Every upload of the system, whoever
    keeps its row, goes through here (``announcements/attachments.py`` too)."""
    raw_name = upload.filename or ""
    name = display_name(raw_name)
    stream: IO[bytes] | HashingTempFile = upload.stream  # UploadRequest streams files into storage
    temp = stream if isinstance(stream, HashingTempFile) else spool(stream)
    try:
        temp.flush()
        size = os.fstat(temp.fileno()).st_size
        limit = max_upload_mb()
        if size > limit * 1024 * 1024:
            raise FileRejected(f"文件“{name}”大小为 {human_size(size)}，超过了每个文件 {limit} MB 的上限，"
                               "请压缩或拆分后重新上传", filename=name, reason="too_large")
        yield name, temp, check_upload(raw_name, temp, allowed=allowed)
    finally:
        if temp is not stream:
            temp.discard()


def _kept_lately(digest: str, category: Category, *, application_id: int | None, city_id: int,
                 round_id: int) -> StoredFile | None:
    """The current file of this content in this place, uploaded within :data:`REPEAT_WINDOW`.
    A replaced version does not count: uploading it again makes it current on purpose."""
    if application_id is not None:
        where = [StoredFile.application_id == application_id]
    else:
        where = [StoredFile.application_id.is_(None), StoredFile.city_id == city_id,
                 StoredFile.round_id == round_id]
    return db.session.scalars(select(StoredFile).where(
        *where, StoredFile.category == category.key, StoredFile.sha256 == digest,
        StoredFile.superseded_at.is_(None), StoredFile.uploaded_at >= now() - REPEAT_WINDOW,
    ).order_by(StoredFile.id.desc()).limit(1)).first()


def _supersede(category: Category, *, application: OwnedByApplication | None, city_id: int,
               round_id: int) -> list[StoredFile]:
    """Mark the current version(s) as replaced; rows are locked first on PostgreSQL."""
    if application is not None:
        owner: Any = type(application)  # the application's row (its model), locked: its uploads queue
        db.session.execute(select(owner.id).where(owner.id == application.id).with_for_update())
        where = [StoredFile.application_id == application.id]
    else:
        db.session.execute(select(City.id).where(City.id == city_id).with_for_update())
        where = [StoredFile.application_id.is_(None), StoredFile.city_id == city_id,
                 StoredFile.round_id == round_id]
    current = list(db.session.scalars(select(StoredFile).where(
        *where, StoredFile.category == category.key, StoredFile.superseded_at.is_(None))))
    moment = now()
    for row in current:
        row.superseded_at = moment
    return current


def file_snapshot(stored: StoredFile) -> dict[str, Any]:
    return {"application_id": stored.application_id, "category": stored.category,
            "name": stored.original_name, "size": stored.size, "sha256": stored.sha256,
            "uploaded_at": stored.uploaded_at.isoformat() if stored.uploaded_at else None,
            "uploaded_by": stored.uploader_name}


def delete_application_files(user: User, application: OwnedByApplication) -> None:
    """An application deleted (a draft, by its city) takes its files with it: rows in the same
    flush, the bytes after the commit."""
    for stored in db.session.scalars(select(StoredFile).where(
            StoredFile.application_id == application.id)):
        record("file.deleted", user=user, object_type="file", object_id=stored.id,
               city_id=stored.city_id, before=file_snapshot(stored),
               summary=f"随申报“{application.title}”一并删除"
                       f"{stored.category_info.label}：{stored.original_name}")
        remove_after_commit(db.session, path_for(stored.storage_name))
        db.session.delete(stored)
