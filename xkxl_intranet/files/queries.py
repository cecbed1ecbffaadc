"""Reading stored files: an application's files by category, what they still lack, the
city's 汇总表 scans, and whether a city's files may change now. Reading one file, scoped to
who may see its application, is applications' (``applications/materials.py``)."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import ColumnElement, and_, func, select

from ..extensions import db
from ..rounds.models import Round
from ..rounds.state import batch_is_locked, lock_reason
from .categories import FORM, SUMMARY_SCAN, Category, application_categories
from .models import OwnedByApplication, StoredFile
from .storage import path_for


def is_current_form() -> ColumnElement[bool]:
    """The one definition of a current 申报书: the 申报书 category, not superseded by a later
    upload (an application has at most one; deleting it makes the previous one current again)."""
    return and_(StoredFile.category == FORM.key, StoredFile.superseded_at.is_(None))


def current_form(application_id: int | None) -> StoredFile | None:
    """The application's current 申报书 with its reading (``reading``, ``reading_state``), or
    None: the one query every page, check and job asks."""
    if application_id is None:
        return None
    return db.session.scalar(select(StoredFile).where(StoredFile.application_id == application_id,
                                                      is_current_form()).limit(1))


def _ordered(files: Iterable[StoredFile], category: Category) -> list[StoredFile]:
    files = list(files)
    if category.versioned:  # current first, then the history, newest first
        return sorted(files, key=lambda f: (f.superseded_at is not None, -f.uploaded_at.timestamp(),
                                            -f.id))
    return sorted(files, key=lambda f: (f.uploaded_at, f.id))  # in the order they were added


def round_categories(round_id: int) -> tuple[Category, ...]:
    """The files the round's notice asks of each application."""
    round_ = db.session.get(Round, round_id)
    assert round_ is not None  # an application belongs to a round
    return application_categories(round_.declaration.files)


def application_files(application: OwnedByApplication) -> dict[str, list[StoredFile]]:
    """Every file of the application by category key: each category its round's notice asks
    for (all present, lists may be empty).

    The 申报书 list holds the current version first, then the earlier ones, newest first;
    the evidence lists are in upload order.
    """
    rows = db.session.scalars(select(StoredFile).where(StoredFile.application_id == application.id))
    grouped: dict[str, list[StoredFile]] = defaultdict(list)
    for row in rows:
        grouped[row.category].append(row)
    return {c.key: _ordered(grouped.get(c.key, ()), c) for c in round_categories(application.round_id)}


def current_version(files: Iterable[StoredFile]) -> StoredFile | None:
    for f in files:
        if f.superseded_at is None:
            return f
    return None


def missing_requirements(application: OwnedByApplication,
                         files: dict[str, list[StoredFile]] | None = None) -> list[str]:
    """What the files still lack before the application can be reported, in Chinese: each file
    its round's notice requires (``required``). ``files`` is :func:`application_files`' result
    when the caller already has it."""
    if files is None:
        files = application_files(application)
    missing = []
    for c in round_categories(application.round_id):
        if not c.required:
            continue
        kept = current_version(files[c.key]) if c.versioned else next(iter(files[c.key]), None)
        if kept is None:
            missing.append(f"尚未上传{c.label}")
        elif c.versioned and not path_for(kept.storage_name).is_file():
            missing.append(f"{c.label}“{kept.original_name}”在服务器存储中缺失，请重新上传")
    return missing


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
        assert application_id is not None  # the query leaves out the city's own files
        counts[application_id][category_key] = n
    return counts


def upload_refusal(application: OwnedByApplication) -> str | None:
    """Why the application's files cannot change now (its batch is reported), or ``None``."""
    if batch_is_locked(application.round_id, application.city_id):
        return lock_reason(application.round_id, files=True)
    return None
