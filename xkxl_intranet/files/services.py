"""Files: queries and writes (flush only; the routes commit).

For other domains:

- :func:`application_files` — ``{category key: [StoredFile, ...]}`` for an application;
- :func:`missing_requirements` — Chinese messages such as ``"尚未上传申报书"``;
- :func:`files_context` — the context for ``templates/files/_application_files.html``;
- :func:`register_upload_guard` — close uploads for an application (e.g. once reported);
- :func:`store_bytes` — keep a file made by the system (demo data, imports) like an upload.

Deleting an :class:`Application` deletes its files too (rows in the same flush, the bytes
after the commit); see :func:`_files_follow_their_application`.
"""
from __future__ import annotations

import io
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from flask import abort, current_app, request, url_for
from flask_login import current_user
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from ..applications.models import Application, ReviewState
from ..audit.services import record
from ..auth.scoping import can_see_city, scope_to_city
from ..clock import now
from ..applications.services import get_application_or_404  # noqa: F401  (re-exported for routes)
from ..extensions import db, htmx
from ..urls import safe_local_path
from ..rounds.models import City, Round
from .categories import (APPLICATION_CATEGORIES, CATEGORIES, FORM, SUMMARY_FOLDER, SUMMARY_SCAN,
                         Category)
from .filetypes import FileRejected, accept_attribute, check_upload, describe_kinds
from .models import StoredFile
from .naming import archive_member, display_name, safe_arcname
from .storage import (HashingTempFile, move_into_storage, path_for, remove_after_commit,
                      remove_unless_committed, spool)
from .zipstream import ZipMember, _unique, manifest_csv, stream_zip


class FileError(Exception):
    """A refused file operation; ``str(err)`` is a Chinese sentence for the user."""


# ---- small helpers ------------------------------------------------------------------------

def human_size(size: int | None) -> str:
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


def max_upload_mb() -> int:
    return int(current_app.config.get("MAX_UPLOAD_MB") or 200)


def enterprise_label(application: Application) -> str:
    return application.enterprise_name or application.platform_name or f"未命名申报{application.id}"


def return_to_url(default: str) -> str:
    """Where a plain (non-htmx) form should come back to: the page it was shown on."""
    if htmx:
        current = request.headers.get("HX-Current-URL", "")
        parts = urlsplit(current)
        if parts.path:
            local = parts.path + (f"?{parts.query}" if parts.query else "")
            return safe_local_path(local) or default
        return default
    if request.method == "GET":
        return safe_local_path(request.full_path.rstrip("?")) or default
    return safe_local_path(request.form.get("next")) or default


# ---- queries --------------------------------------------------------------------------------

def get_file_or_404(file_id: int) -> StoredFile:
    stored = db.session.scalar(scope_to_city(select(StoredFile).where(StoredFile.id == file_id),
                                             StoredFile.city_id))
    if stored is None:
        abort(404)
    return stored


def get_city_or_404(city_id: int | None) -> City:
    city = db.session.get(City, city_id) if city_id else None
    if city is None or not can_see_city(city.id):
        abort(404)
    return city


def _ordered(files: Iterable[StoredFile], category: Category) -> list[StoredFile]:
    files = list(files)
    if category.versioned:  # current first, then the history, newest first
        return sorted(files, key=lambda f: (f.superseded_at is not None, -f.uploaded_at.timestamp(),
                                            -f.id))
    return sorted(files, key=lambda f: (f.uploaded_at, f.id))  # in the order they were added


def application_files(application: Application) -> dict[str, list[StoredFile]]:
    """Every file of the application by category key (all keys present, lists may be empty).

    The 申报书 list holds the current version first, then the earlier ones, newest first;
    the evidence lists are in upload order.
    """
    rows = db.session.scalars(select(StoredFile).where(StoredFile.application_id == application.id))
    grouped: dict[str, list[StoredFile]] = defaultdict(list)
    for row in rows:
        grouped[row.category].append(row)
    return {c.key: _ordered(grouped.get(c.key, ()), c) for c in APPLICATION_CATEGORIES}


def current_version(files: Iterable[StoredFile]) -> StoredFile | None:
    for f in files:
        if f.superseded_at is None:
            return f
    return None


def missing_requirements(application: Application,
                         files: dict[str, list[StoredFile]] | None = None) -> list[str]:
    """What the files still lack before the application can be reported, in Chinese.
    ``files`` is :func:`application_files`' result when the caller already has it."""
    if files is None:
        files = application_files(application)
    form = current_version(files[FORM.key])
    if form is None:
        return ["尚未上传申报书"]
    if not path_for(form.storage_name).is_file():
        return [f"申报书“{form.original_name}”在服务器存储中缺失，请重新上传"]
    return []


def summary_scans(city_id: int, round_id: int) -> list[StoredFile]:
    rows = db.session.scalars(select(StoredFile).where(
        StoredFile.city_id == city_id, StoredFile.round_id == round_id,
        StoredFile.category == SUMMARY_SCAN.key))
    return _ordered(rows, SUMMARY_SCAN)


def file_counts(round_id: int, city_id: int) -> dict[int, dict[str, int]]:
    """Per application: how many current files each category holds."""
    rows = db.session.execute(
        select(StoredFile.application_id, StoredFile.category, func.count())
        .where(StoredFile.round_id == round_id, StoredFile.city_id == city_id,
               StoredFile.application_id.is_not(None), StoredFile.superseded_at.is_(None))
        .group_by(StoredFile.application_id, StoredFile.category))
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for application_id, category_key, n in rows:
        counts[application_id][category_key] = n
    return counts


def city_applications(round_id: int, city_id: int) -> list[Application]:
    return list(db.session.scalars(select(Application).where(
        Application.round_id == round_id, Application.city_id == city_id).order_by(Application.id)))


# ---- who may do what ------------------------------------------------------------------------

UploadGuard = Callable[[Application], "str | None"]
_UPLOAD_GUARDS: list[UploadGuard] = []


def register_upload_guard(guard: UploadGuard) -> UploadGuard:
    """Add a rule that may close uploads for an application: ``guard(application)`` returns a
    Chinese reason to refuse, or ``None``. Usable as a decorator."""
    if guard not in _UPLOAD_GUARDS:
        _UPLOAD_GUARDS.append(guard)
    return guard


def upload_refusal(application: Application) -> str | None:
    for guard in _UPLOAD_GUARDS:
        reason = guard(application)
        if reason:
            return reason
    return None


def _is_own_city_clerk(city_id: int) -> bool:
    return (current_user.is_authenticated and current_user.is_city
            and current_user.city_id is not None and current_user.city_id == city_id)


def may_upload(application: Application) -> bool:
    return _is_own_city_clerk(application.city_id) and upload_refusal(application) is None


def deletion_refusal(stored: StoredFile) -> str | None:
    name = stored.original_name
    if stored.application_id is None:
        return (f"汇总表扫描件“{name}”不能删除；如需更正，请上传新的扫描件（旧版本会保留）。")
    application = stored.application
    refusal = upload_refusal(application)  # e.g. the batch is reported: files are read-only
    if refusal:
        return refusal
    if application.review_state != ReviewState.DRAFT:
        return (f"申报“{application.title}”已不是草稿（{application.state.label}），"
                f"不能删除文件“{name}”。")
    return None


def may_delete(stored: StoredFile) -> bool:
    return _is_own_city_clerk(stored.city_id) and deletion_refusal(stored) is None


# ---- what the templates need ----------------------------------------------------------------

Message = tuple[str, str]  # (level: success|danger|warning, text)


@dataclass
class Section:
    """One category's box: its files, its upload form and what happened on the last upload."""

    category: Category
    files: list[StoredFile]
    dom_id: str
    upload_url: str | None  # None: this user cannot upload here
    return_to: str
    deletable: set[int] = field(default_factory=set)
    messages: list[Message] = field(default_factory=list)
    refusal: str | None = None  # why uploads are closed, for the clerk

    @property
    def current(self) -> StoredFile | None:
        return current_version(self.files) if self.category.versioned else None

    @property
    def history(self) -> list[StoredFile]:
        return [f for f in self.files if f.superseded_at is not None] if self.category.versioned else []

    @property
    def accept(self) -> str:
        return accept_attribute(self.category.kinds)

    @property
    def formats(self) -> str:
        return describe_kinds(self.category.kinds)

    @property
    def multiple(self) -> bool:
        return not self.category.versioned


@dataclass
class FilePanel:
    application: Application | None
    sections: list[Section]
    missing: list[str]
    max_upload_mb: int
    readonly: bool
    requirements_id: str
    refusal: str | None = None  # why this clerk cannot upload now (e.g. the batch is reported)

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.category.key == key)


_UNSET = object()


def application_section(application: Application, category: Category,
                        files: list[StoredFile] | None = None, *, readonly: bool = False,
                        messages: list[Message] | None = None, refusal=_UNSET) -> Section:
    if files is None:
        files = application_files(application)[category.key]
    can_upload = not readonly and _is_own_city_clerk(application.city_id)
    if refusal is _UNSET:
        refusal = upload_refusal(application) if can_upload else None
    can_delete = (not readonly and _is_own_city_clerk(application.city_id)
                  and application.review_state == ReviewState.DRAFT)
    default = url_for("files.application_page", application_id=application.id)
    return Section(
        category=category, files=files, dom_id=f"files-{application.id}-{category.key}",
        upload_url=(url_for("files.upload", application_id=application.id, category=category.key)
                    if can_upload and refusal is None else None),
        return_to=return_to_url(default),
        deletable={f.id for f in files} if can_delete else set(),
        messages=list(messages or ()), refusal=refusal)


def files_context(application: Application, *, readonly: bool = False,
                  messages: dict[str, list[Message]] | None = None) -> dict[str, Any]:
    """Context for ``{% include "files/_application_files.html" %}``: ``application`` and
    ``file_panel``. ``readonly=True`` hides the upload and delete controls."""
    files = application_files(application)
    refusal = (upload_refusal(application)
               if not readonly and _is_own_city_clerk(application.city_id) else None)
    sections = [application_section(application, c, files[c.key], readonly=readonly,
                                    messages=(messages or {}).get(c.key), refusal=refusal)
                for c in APPLICATION_CATEGORIES]
    panel = FilePanel(application=application, sections=sections,
                      missing=missing_requirements(application, files), max_upload_mb=max_upload_mb(),
                      readonly=readonly, requirements_id=f"file-requirements-{application.id}",
                      refusal=refusal)
    return {"application": application, "file_panel": panel}


def summary_section(city: City, round_: Round, *, messages: list[Message] | None = None) -> Section:
    files = summary_scans(city.id, round_.id)
    can_upload = _is_own_city_clerk(city.id)
    return Section(
        category=SUMMARY_SCAN, files=files, dom_id=f"files-city-{city.id}-{SUMMARY_SCAN.key}",
        upload_url=url_for("files.upload_summary_scan") if can_upload else None,
        return_to=return_to_url(url_for("files.city_files")),
        messages=list(messages or ()))


# ---- writes ---------------------------------------------------------------------------------

@dataclass
class UploadOutcome:
    saved: list[StoredFile] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)


def store_uploads(uploads: list, *, category: Category, application: Application | None = None,
                  city: City | None = None, round_: Round | None = None) -> UploadOutcome:
    """Check and keep each uploaded file (a werkzeug ``FileStorage`` or anything with
    ``filename`` and ``stream``). A refused file gets a message and changes nothing; the
    others are kept. Flushes; the caller commits."""
    outcome = UploadOutcome()
    uploads = [u for u in uploads if u is not None and (u.filename or "").strip()]
    if not uploads:
        outcome.messages.append(("danger", f"请选择要上传的文件（{category.label}）。"))
        return outcome
    if application is not None:
        refusal = upload_refusal(application)
        if refusal:
            outcome.messages.append(("danger", refusal))
            return outcome
    if category.versioned and len(uploads) > 1:
        outcome.messages.append(("danger", f"“{category.label}”每次只能上传一个文件，请只选择一个文件。"))
        return outcome
    for upload in uploads:
        try:
            stored, replaced = _store_file(upload, category=category, application=application,
                                           city=city, round_=round_)
        except FileRejected as err:
            outcome.messages.append(("danger", err.message))
        else:
            outcome.saved.append(stored)
            note = "，原版本已保留在历史版本中" if replaced else ""
            outcome.messages.append(("success", f"已上传{category.label}“{stored.original_name}”"
                                                f"（{human_size(stored.size)}）{note}。"))
    return outcome


def store_file(upload, *, category: Category, application: Application | None = None,
               city: City | None = None, round_: Round | None = None) -> StoredFile:
    """Check one upload by content and move it into storage; add its row and audit event.

    Raises :class:`FileRejected` (nothing is kept). The file is complete and fsynced before
    the row exists; if the transaction does not commit, the file is removed again.
    """
    return _store_file(upload, category=category, application=application, city=city,
                       round_=round_)[0]


def store_bytes(data: bytes, name: str, *, category: str, application: Application | None = None,
                city: City | None = None, round_: Round | None = None, user=None) -> StoredFile:
    """Keep a file the system made itself (demo data, imports) exactly as if uploaded:
    checked by content, versioned, audited. ``category`` is a key (``"form"``...). Raises
    :class:`FileRejected`. Flushes; the caller commits."""
    upload = FileStorage(io.BytesIO(data), name)
    return _store_file(upload, category=CATEGORIES[category], application=application, city=city,
                       round_=round_, user=user)[0]


def _store_file(upload, *, category: Category, application: Application | None,
                city: City | None, round_: Round | None,
                user=None) -> tuple[StoredFile, list[StoredFile]]:
    if application is not None:
        city_id, round_id = application.city_id, application.round_id
    else:
        if city is None or round_ is None:
            raise ValueError("a city file needs city and round_")
        city_id, round_id = city.id, round_.id
    raw_name = upload.filename or ""
    name = display_name(raw_name)
    stream = upload.stream
    temp = stream if isinstance(stream, HashingTempFile) else spool(stream)
    try:
        temp.flush()
        size = os.fstat(temp.fileno()).st_size
        limit = max_upload_mb()
        if size > limit * 1024 * 1024:
            raise FileRejected(f"文件“{name}”大小为 {human_size(size)}，超过了每个文件 {limit} MB 的上限，"
                               "请压缩或拆分后重新上传", filename=name, reason="too_large")
        detected = check_upload(raw_name, temp, allowed=category.kinds)
        storage_name, size, digest = move_into_storage(temp)
    finally:
        if temp is not stream:
            temp.discard()
    remove_unless_committed(db.session, path_for(storage_name))

    replaced: list[StoredFile] = []
    if category.versioned:
        replaced = _supersede(category, application=application, city_id=city_id, round_id=round_id)
    stored = StoredFile(
        round_id=round_id, city_id=city_id,
        application_id=application.id if application is not None else None,
        category=category.key, original_name=name, storage_name=storage_name, size=size,
        sha256=digest, kind=detected.kind, mime=detected.mime, uploaded_at=now(),
        uploaded_by_id=user.id if user is not None else (
            current_user.id if current_user and current_user.is_authenticated else None))
    db.session.add(stored)
    db.session.flush()
    whose = f"（{application.title}）" if application is not None else ""
    record("file.uploaded", object_type="file", object_id=stored.id, city_id=city_id, user=user,
           summary=f"上传{category.label}{whose}：{name}（{human_size(size)}）",
           after={"application_id": stored.application_id, "category": category.key,
                  "name": name, "size": size, "sha256": digest, "kind": detected.kind,
                  **({"replaces": [f.id for f in replaced]} if replaced else {})})
    return stored, replaced


def _supersede(category: Category, *, application: Application | None, city_id: int,
               round_id: int) -> list[StoredFile]:
    """Mark the current version(s) as replaced; rows are locked first on PostgreSQL."""
    if application is not None:
        db.session.execute(select(Application.id).where(Application.id == application.id)
                           .with_for_update())
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


def delete_file(stored: StoredFile) -> StoredFile | None:
    """Delete one file (row now, bytes after the commit), audited. Only an own-city clerk, only
    while its application is a draft. Deleting the current 申报书 makes the latest earlier
    version current again; that version is returned."""
    if not _is_own_city_clerk(stored.city_id):
        abort(404)
    refusal = deletion_refusal(stored)
    if refusal:
        raise FileError(refusal)
    category = stored.category_info
    restored = None
    if category.versioned and stored.superseded_at is None:
        earlier = [f for f in application_files(stored.application)[category.key]
                   if f.id != stored.id]
        restored = earlier[0] if earlier else None
    record("file.deleted", object_type="file", object_id=stored.id, city_id=stored.city_id,
           summary=f"删除{category.label}（{stored.application.title}）：{stored.original_name}"
                   + (f"，恢复为上一版本“{restored.original_name}”" if restored else ""),
           before=_snapshot(stored))
    remove_after_commit(db.session, path_for(stored.storage_name))
    db.session.delete(stored)
    if restored is not None:
        restored.superseded_at = None
    db.session.flush()
    return restored


def _snapshot(stored: StoredFile) -> dict[str, Any]:
    return {"application_id": stored.application_id, "category": stored.category,
            "name": stored.original_name, "size": stored.size, "sha256": stored.sha256,
            "uploaded_at": stored.uploaded_at.isoformat() if stored.uploaded_at else None,
            "uploaded_by": stored.uploader_name}


@event.listens_for(Session, "before_flush")
def _files_follow_their_application(session: Session, flush_context, instances) -> None:
    """An application deleted (a draft, by its city) takes its files with it."""
    doomed = [obj for obj in session.deleted if isinstance(obj, Application)]
    for application in doomed:
        rows = session.scalars(select(StoredFile).where(StoredFile.application_id == application.id))
        for stored in rows:
            if stored in session.deleted:
                continue
            record("file.deleted", object_type="file", object_id=stored.id,
                   city_id=stored.city_id, before=_snapshot(stored),
                   summary=f"随申报“{application.title}”一并删除"
                           f"{CATEGORIES[stored.category].label}：{stored.original_name}")
            remove_after_commit(session, path_for(stored.storage_name))
            session.delete(stored)


# ---- archives -------------------------------------------------------------------------------

MANIFEST_NAME = "manifest.csv"
MANIFEST_COLUMNS = (("city", "市（州）"), ("enterprise", "企业名称"), ("category", "类别"),
                    ("name", "文件名"), ("path", "压缩包内路径"), ("size", "大小（字节）"),
                    ("sha256", "SHA-256"), ("uploaded_at", "上传时间"), ("uploaded_by", "上传人"),
                    ("note", "备注"))


@dataclass
class Archive:
    filename: str
    members: list[ZipMember]
    manifest: bytes
    missing: int

    def stream(self) -> Iterator[bytes]:
        moment = now()
        return stream_zip([ZipMember(MANIFEST_NAME, data=self.manifest, mtime=moment),
                           *self.members])


def archive_for(round_: Round, cities: list[City]) -> Archive:
    """Current 申报书 versions, all evidence and the current 汇总表 scan of ``cities``:
    ``市州/序号_企业名称/类别/原文件名`` and ``市州/汇总表/原文件名``, with a manifest."""
    city_ids = [c.id for c in cities]
    by_city = {c.id: c for c in cities}
    applications = db.session.scalars(select(Application).where(
        Application.round_id == round_.id, Application.city_id.in_(city_ids))
        .order_by(Application.city_id, Application.id)).all()
    sequence: dict[int, int] = {}
    seen_per_city: dict[int, int] = defaultdict(int)
    for application in applications:
        seen_per_city[application.city_id] += 1
        sequence[application.id] = application.position if (application.position or 0) > 0 \
            else seen_per_city[application.city_id]
    apps = {a.id: a for a in applications}
    rows = db.session.scalars(select(StoredFile).where(
        StoredFile.round_id == round_.id, StoredFile.city_id.in_(city_ids),
        StoredFile.superseded_at.is_(None)))
    category_order = {key: i for i, key in enumerate(CATEGORIES)}

    def sort_key(f: StoredFile):
        city = by_city[f.city_id]
        if f.application_id is None:
            return (city.sort_order, city.id, 1, 0, 0, f.uploaded_at, f.id)
        return (city.sort_order, city.id, 0, sequence.get(f.application_id, 0), f.application_id,
                category_order.get(f.category, 99), f.uploaded_at, f.id)

    members: list[ZipMember] = []
    manifest: list[dict[str, Any]] = []
    taken: set[str] = {MANIFEST_NAME.casefold()}
    missing = 0
    for f in sorted(rows, key=sort_key):
        city = by_city[f.city_id]
        category = CATEGORIES[f.category]
        if f.application_id is None:
            enterprise = ""
            arcname = archive_member(city.name, SUMMARY_FOLDER, f.original_name)
        else:
            application = apps.get(f.application_id)
            if application is None:
                continue
            enterprise = enterprise_label(application)
            arcname = archive_member(city.name, f"{sequence[application.id]:02d}_{enterprise}",
                                     category.label, f.original_name)
        arcname = _unique(safe_arcname(arcname), taken)
        path = path_for(f.storage_name)
        note = ""
        if path.is_file():
            members.append(ZipMember(arcname, path=path, mtime=f.uploaded_at))
        else:
            missing += 1
            note = "服务器存储中缺失，未打包"
        manifest.append({"city": city.name, "enterprise": enterprise, "category": category.label,
                         "name": f.original_name, "path": arcname if not note else "",
                         "size": f.size, "sha256": f.sha256, "uploaded_at": f.uploaded_at,
                         "uploaded_by": f.uploader_name, "note": note})
    if len(cities) == 1:
        filename = f"{cities[0].name}_申报材料_{round_.year}.zip"
    else:
        filename = f"全省_申报材料_{round_.year}.zip"
    return Archive(filename=filename, members=members,
                   manifest=manifest_csv(manifest, MANIFEST_COLUMNS), missing=missing)
