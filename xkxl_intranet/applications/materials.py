"""An application's files as its use cases: one file read as its application's reader may, the
uploads and deletions of a clerk, and what a new or deleted 申报书 means for the application
(``document.document_changed``: compared again, read once the upload commits). The storing
itself is files' (``files/operations.py``); the route calls these, never that directly."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from ..audit.services import record
from ..auth.models import User
from ..auth.scoping import is_own_city_clerk
from ..domain.errors import NotFound, Refused
from ..extensions import db
from ..files import operations
from ..files.categories import FORM, Category
from ..files.models import StoredFile
from ..files.operations import UploadOutcome, file_snapshot
from ..files.queries import application_files, upload_refusal
from ..files.storage import path_for, remove_after_commit
from .document import document_changed
from .models import Application, ReviewState
from .queries import summary_numbers
from .rules import scope_applications


def get_file(user: User, file_id: int) -> StoredFile:
    """A stored file ``user`` may see; :class:`NotFound` otherwise (another city's, or for an
    expert one of an application not assigned to them)."""
    stored = db.session.scalar(scope_applications(
        select(StoredFile).where(StoredFile.id == file_id), user,
        application_column=StoredFile.application_id, city_column=StoredFile.city_id))
    if stored is None:
        raise NotFound
    return stored


def city_applications(round_id: int, city_id: int) -> list[tuple[Application, int | None]]:
    """The city's applications in 附件3 order, each with its 附件3 序号 (None: not on it)."""
    numbers = summary_numbers(round_id, [city_id])
    return [(application, numbers.get(application.id)) for application in db.session.scalars(
        select(Application).where(Application.round_id == round_id, Application.city_id == city_id)
        .order_by(Application.position, Application.id))]


def deletion_refusal(stored: StoredFile) -> str | None:
    name = stored.original_name
    if stored.application_id is None:
        return (f"汇总表扫描件“{name}”不能删除；如需更正，请上传新的扫描件（旧版本会保留）。")
    application = stored.application
    refusal = upload_refusal(application)  # the batch is reported: files are read-only
    if refusal:
        return refusal
    if application.review_state != ReviewState.DRAFT:
        return (f"申报“{application.title}”已不是草稿（{application.state.label}），"
                f"不能删除文件“{name}”。")
    return None


def store_uploads(user: User, uploads: Sequence[FileStorage], *, category: Category, application: Application) -> UploadOutcome:
    """The clerk's uploads to one of the application's categories (``files.operations``); a new
    申报书 then changes what the application is compared with."""
    outcome = operations.store_uploads(user, uploads, category=category, application=application)
    if category.key == FORM.key and outcome.saved:  # the 申报书, whichever notice declared it
        document_changed(user, application)
    return outcome


def store_file(user: User, upload: FileStorage, *, category: Category, application: Application) -> StoredFile:
    """One upload kept (``files.operations.store_file``), and a new 申报书 compared."""
    stored = operations.store_file(user, upload, category=category, application=application)
    if category.key == FORM.key:
        document_changed(user, application)
    return stored


def store_bytes(user: User, data: bytes, name: str, *, category: str, application: Application) -> StoredFile:
    """A file the system made (demo data) kept as if uploaded (``files.operations.store_bytes``),
    and a new 申报书 compared."""
    stored = operations.store_bytes(user, data, name, category=category, application=application)
    if stored.category == FORM.key:
        document_changed(user, application)
    return stored


def delete_file(user: User, stored: StoredFile) -> StoredFile | None:
    """Delete one file (row now, bytes after the commit), audited. Only an own-city clerk, only
    while its application is a draft. Deleting the current 申报书 makes the latest earlier
    version current again; that version is returned."""
    if not is_own_city_clerk(user, stored.city_id):
        raise NotFound
    refusal = deletion_refusal(stored)
    if refusal:
        raise Refused(refusal)
    category = stored.category_info
    restored = None
    if category.versioned and stored.superseded_at is None:
        earlier = [f for f in application_files(stored.application)[category.key]
                   if f.id != stored.id]
        restored = earlier[0] if earlier else None
    summary = f"删除{category.label}（{stored.application.title}）：{stored.original_name}"
    if restored is not None:
        summary += f"，恢复为上一版本“{restored.original_name}”"
    record("file.deleted", user=user, object_type="file", object_id=stored.id,
           city_id=stored.city_id, summary=summary, before=file_snapshot(stored))
    remove_after_commit(db.session, path_for(stored.storage_name))
    db.session.delete(stored)
    if restored is not None:
        restored.superseded_at = None
    db.session.flush()
    if category.key == FORM.key and stored.superseded_at is None:
        document_changed(user, stored.application)
    return restored
