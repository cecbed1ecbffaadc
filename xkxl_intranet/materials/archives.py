"""ZIP archives of a round's files, one city's or the whole province's: the current 申报书
versions, all evidence and the current 汇总表 scan, laid out as
``市州/序号_企业名称/类别/原文件名`` and ``市州/汇总表/原文件名``, with a ``manifest.csv``
(file name, size, SHA-256, upload time, uploader).

:func:`archive_for` is the plan: which file goes where, and the manifest, read as plain columns
(at 20,000 applications, loading each as a full object cost 18 s before the first byte). The
bytes are written by :mod:`.archive_cache`, once per :attr:`Archive.key`."""
from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, func, select

from ..applications.models import Application
from ..applications.queries import summary_numbers
from ..auth.models import User
from ..auth.scoping import scope_to_city
from ..clock import now
from ..domain.errors import NotFound
from ..extensions import db
from ..filenames import archive_member, ascii_name, storage_relpath
from ..files.categories import SUMMARY_FOLDER, Category, round_categories
from ..files.models import StoredFile
from ..files.storage import upload_root
from ..files.zipstream import ZipMember, manifest_csv, stream_zip, unique_arcname
from ..rounds.models import City, Round

MANIFEST_NAME = "manifest.csv"
MANIFEST_COLUMNS = (("city", "市（州）"), ("number", "序号"), ("enterprise", "企业名称"), ("category", "类别"),
                    ("name", "文件名"), ("path", "压缩包内路径"), ("size", "大小（字节）"),
                    ("sha256", "SHA-256"), ("uploaded_at", "上传时间"), ("uploaded_by", "上传人"),
                    ("note", "备注"))
MISSING_NOTE = "服务器存储中缺失，未打包"
UNLISTED_PREFIX = "未列入汇总表"  # the folder of an application not on the city's 附件3


# The archive's bytes follow from its manifest (every packed file's path, size, SHA-256 and
# upload time, the manifest's own rows), this layout's version and zipstream's defaults: the
# cache key. Raise the version when the layout of the bytes changes without the manifest.
LAYOUT_VERSION = "xkxl-archive-1"


def enterprise_label(application: Application | Row[Any]) -> str:
    """The folder's name part: anything with ``enterprise_name``, ``platform_name`` and ``id``
    (an :class:`Application` or a row of those columns)."""
    return application.enterprise_name or application.platform_name or f"未命名申报{application.id}"


@dataclass
class Archive:
    filename: str
    members: list[ZipMember]
    manifest: bytes
    missing: int  # files whose bytes are gone from storage (listed in the manifest, not packed)
    total_bytes: int = 0  # the packed files' stored sizes

    @property
    def key(self) -> str:
        """What the archive's bytes depend on, as a name for its cached file: the same files at
        the same paths (by their digests) and the same manifest give the same key."""
        return hashlib.sha256(LAYOUT_VERSION.encode() + b"\n" + self.manifest).hexdigest()

    def all_members(self) -> list[ZipMember]:
        """manifest.csv first, then the files in their order."""
        return [ZipMember(MANIFEST_NAME, data=self.manifest, mtime=now()), *self.members]

    def stream(self) -> Iterator[bytes]:
        return stream_zip(self.all_members())


_APPLICATION_COLUMNS = (Application.id, Application.city_id, Application.enterprise_name,
                        Application.platform_name)
# A current file as the archive needs it: plain columns, not a StoredFile (with its uploader
# and city joined in by the ORM).
_FILE_COLUMNS = (StoredFile.id, StoredFile.city_id, StoredFile.application_id, StoredFile.category,
                 StoredFile.original_name, StoredFile.storage_name, StoredFile.size, StoredFile.sha256,
                 StoredFile.uploaded_at,
                 func.coalesce(func.nullif(User.display_name, ""), User.username, "").label("uploader_name"))


class _Names:
    """Each distinct part of the archive's paths made safe once (a city's name for all its
    files, a folder for all of its application's): :func:`filenames.archive_member` is idempotent,
    so the joined path needs no second pass."""

    def __init__(self) -> None:
        self._parts: dict[str, str] = {}

    def path(self, *parts: str) -> str:
        return "/".join([self._part(part) for part in parts])

    def _part(self, part: str) -> str:
        safe = self._parts.get(part)
        if safe is None:
            safe = self._parts[part] = archive_member(part)
        return safe


@dataclass
class _Layout:
    """Where each file goes in the archive, and in which order."""

    cities: dict[int, City]
    applications: dict[int, Any]  # application id -> its row of _APPLICATION_COLUMNS
    numbers: dict[int, int | None]  # application id -> its 附件3 序号 (None: not on the 附件3)
    rank: dict[int, int]  # application id -> its place in 附件3 order (position, id)
    categories: dict[str, Category]  # the round's, in its notice's order
    names: _Names = field(default_factory=_Names)

    def category_label(self, key: str) -> str:
        found = self.categories.get(key)
        return found.label if found is not None else key

    def sort_key(self, f: Row[Any]) -> tuple[Any, ...]:
        """A city's 附件3 applications by 序号, then the others in the same order, then its 汇总表."""
        city = self.cities[f.city_id]
        if f.application_id is None:  # the city's 汇总表 after its applications
            return (city.sort_order, city.id, 2, 0, f.uploaded_at, f.id)
        listed = 0 if self.numbers.get(f.application_id) else 1
        return (city.sort_order, city.id, listed, self.rank.get(f.application_id, 0),
                self.order.get(f.category, len(self.order)), f.uploaded_at, f.id)

    @property
    def order(self) -> dict[str, int]:
        return {key: i for i, key in enumerate(self.categories)}

    def place(self, f: Row[Any]) -> tuple[str, str] | None:
        """The enterprise the file belongs to ("" for a 汇总表) and its path in the archive."""
        city = self.cities[f.city_id]
        if f.application_id is None:
            return "", self.names.path(city.name, SUMMARY_FOLDER, f.original_name)
        application = self.applications.get(f.application_id)
        if application is None:
            return None
        enterprise = enterprise_label(application)
        number = self.numbers.get(application.id)
        folder = f"{number:02d}_{enterprise}" if number else f"{UNLISTED_PREFIX}_{enterprise}"
        return enterprise, self.names.path(city.name, folder, self.category_label(f.category),
                                           f.original_name)


def _layout(user: User, round_: Round, cities: list[City]) -> _Layout:
    """The applications in 附件3 order with 附件3's 序号 (applications.queries.summary_numbers),
    the numbers 材料与汇总表, 申报管理 and the printed 附件3 show."""
    rows = db.session.execute(scope_to_city(
        select(*_APPLICATION_COLUMNS).where(Application.round_id == round_.id,
                                            Application.city_id.in_([c.id for c in cities])),
        Application.city_id, user).order_by(Application.city_id, Application.position, Application.id)).all()
    numbers = summary_numbers(round_.id, {a.city_id for a in rows})
    return _Layout(cities={c.id: c for c in cities},
                   applications={a.id: a for a in rows},
                   numbers={a.id: numbers.get(a.id) for a in rows},
                   rank={a.id: n for n, a in enumerate(rows)},
                   categories=round_categories(round_.declaration.files))


def _current_files(user: User, round_: Round, cities: list[City]) -> Sequence[Row[Any]]:
    """Rows of _FILE_COLUMNS."""
    return db.session.execute(scope_to_city(
        select(*_FILE_COLUMNS).outerjoin(User, StoredFile.uploaded_by_id == User.id)
        .where(StoredFile.round_id == round_.id, StoredFile.city_id.in_([c.id for c in cities]),
               StoredFile.superseded_at.is_(None)),
        StoredFile.city_id, user)).all()


def _manifest_row(f: Row[Any], city: City, number: int | None, enterprise: str, path: str,
                  note: str, category: str) -> dict[str, Any]:
    return {"city": city.name, "number": number or "", "enterprise": enterprise, "category": category,
            "name": f.original_name, "path": path, "size": f.size, "sha256": f.sha256,
            "uploaded_at": f.uploaded_at, "uploaded_by": f.uploader_name, "note": note}


def archive_name(round_: Round, cities: list[City]) -> str:
    if len(cities) == 1:
        return f"{cities[0].name}_申报材料_{round_.year}.zip"
    return f"全省_申报材料_{round_.year}.zip"


def archive_ascii_name(round_: Round, cities: list[City]) -> str:
    """The plain download name of :func:`archive_name` (issue 25, 6f): files-chengdu-2022.zip."""
    return ascii_name("files", cities[0].pinyin if len(cities) == 1 else "all", round_.year, ext="zip")


def archive_for(user: User, round_: Round, cities: list[City]) -> Archive:
    """The archive of ``cities``' current files in ``round_``, as far as ``user`` may see them
    (the route has already checked the cities). A file missing from storage is listed in the
    manifest with a note, not packed."""
    layout = _layout(user, round_, cities)
    members: list[ZipMember] = []
    manifest: list[dict[str, Any]] = []
    taken: set[str] = {MANIFEST_NAME.casefold()}
    total_bytes = 0
    root = str(upload_root())
    for f in sorted(_current_files(user, round_, cities), key=layout.sort_key):
        place = layout.place(f)
        if place is None:
            continue
        enterprise, arcname = place
        arcname = unique_arcname(arcname, taken)
        path = os.path.join(root, storage_relpath(f.storage_name))
        kept = os.path.isfile(path)
        if kept:
            members.append(ZipMember(arcname, path=path, mtime=f.uploaded_at))
            total_bytes += f.size
        number = layout.numbers.get(f.application_id) if f.application_id else None
        manifest.append(_manifest_row(f, layout.cities[f.city_id], number, enterprise,
                                      arcname if kept else "", "" if kept else MISSING_NOTE,
                                      layout.category_label(f.category)))
    return Archive(filename=archive_name(round_, cities), members=members,
                   manifest=manifest_csv(manifest, MANIFEST_COLUMNS),
                   missing=len(manifest) - len(members), total_bytes=total_bytes)


def archive_plan(user_id: int, round_id: int, city_ids: list[int]) -> Archive:
    """:func:`archive_for` from plain values, for a thread or a job with an application context
    of its own (the request's objects stay with the request's session)."""
    user = db.session.get(User, user_id)
    round_ = db.session.get(Round, round_id)
    cities = list(db.session.scalars(select(City).where(City.id.in_(city_ids))
                                     .order_by(City.sort_order, City.id)))
    if user is None or round_ is None or len(cities) != len(set(city_ids)):
        raise NotFound
    return archive_for(user, round_, cities)


@dataclass(frozen=True)
class Fingerprint:
    """What an archive's content depends on, without planning it: the applications and current
    files ``user`` may see in ``cities`` (counts, ids and the applications' versions, which every
    saved change bumps), the cities' names and order, the uploaders' names and the user's scope.
    Equal fingerprints, equal archives."""

    value: str
    files: int
    total_bytes: int


def archive_fingerprint(user: User, round_: Round, cities: list[City]) -> Fingerprint:
    """Two aggregate queries and the accounts' names: milliseconds at 20,000 applications, where
    :func:`archive_for` takes most of a second."""
    city_ids = [c.id for c in cities]
    applications = db.session.execute(scope_to_city(
        select(func.count(), func.coalesce(func.sum(Application.id), 0),
               func.coalesce(func.sum(Application.version), 0))
        .where(Application.round_id == round_.id, Application.city_id.in_(city_ids)),
        Application.city_id, user)).one()
    files = db.session.execute(scope_to_city(
        select(func.count(), func.coalesce(func.sum(StoredFile.id), 0), func.coalesce(func.max(StoredFile.id), 0),
               func.coalesce(func.sum(StoredFile.size), 0))
        .where(StoredFile.round_id == round_.id, StoredFile.city_id.in_(city_ids),
               StoredFile.superseded_at.is_(None)),
        StoredFile.city_id, user)).one()
    uploaders = db.session.execute(select(User.id, User.display_name, User.username).order_by(User.id)).all()
    counts = [int(n) for n in (*applications, *files)]  # PostgreSQL sums are numeric
    described = repr((LAYOUT_VERSION, round_.id, round_.year, user.role, user.city_id,
                      [(c.id, c.name, c.sort_order) for c in cities], counts, [tuple(u) for u in uploaders]))
    return Fingerprint(hashlib.sha256(described.encode()).hexdigest(), files=counts[3], total_bytes=counts[6])
