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

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from flask import request, url_for
from flask_login import current_user

from ..applications.models import Application, ReviewState
from ..auth.scoping import is_own_city_clerk
from ..clock import now
from ..extensions import db, htmx
from ..urls import safe_local_path
from ..rounds.models import City, Round
from sqlalchemy import select
from .categories import APPLICATION_CATEGORIES, CATEGORIES, SUMMARY_FOLDER, SUMMARY_SCAN, Category
from .filetypes import accept_attribute, describe_kinds
from .models import StoredFile
from .naming import archive_member, safe_arcname
from .operations import Message, max_upload_mb
from .queries import application_files, current_version, missing_requirements, summary_scans, upload_refusal
from .storage import path_for
from .zipstream import ZipMember, _unique, manifest_csv, stream_zip


# ---- small helpers ------------------------------------------------------------------------

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

# ---- who may do what ------------------------------------------------------------------------

# ---- what the templates need ----------------------------------------------------------------

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
    can_upload = not readonly and is_own_city_clerk(current_user, application.city_id)
    if refusal is _UNSET:
        refusal = upload_refusal(application) if can_upload else None
    can_delete = (not readonly and is_own_city_clerk(current_user, application.city_id)
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
               if not readonly and is_own_city_clerk(current_user, application.city_id) else None)
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
    can_upload = is_own_city_clerk(current_user, city.id)
    return Section(
        category=SUMMARY_SCAN, files=files, dom_id=f"files-city-{city.id}-{SUMMARY_SCAN.key}",
        upload_url=url_for("files.upload_summary_scan") if can_upload else None,
        return_to=return_to_url(url_for("files.city_files")),
        messages=list(messages or ()))


# ---- writes ---------------------------------------------------------------------------------

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
