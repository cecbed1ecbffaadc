"""The province publishes an announcement (通知公告) to all cities or chosen ones.

:func:`publish` is the one place an announcement becomes visible to the cities: after the audit row
it notifies every account of the addressed cities (a notice, and by mail where mail is set up)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from ..audit.services import record
from ..auth.models import User
from ..auth.scoping import writes_announcements
from ..clock import now
from ..domain.errors import NotFound, Refused
from ..domain.notices import NoticeKind
from ..extensions import db
from ..filenames import human_size
from ..notifications.operations import Link, city_accounts, notify
from ..rounds.models import City
from .attachments import attach
from .models import BODY_MAX, TITLE_MAX, Announcement, AnnouncementCity


@dataclass(frozen=True)
class Draft:
    """What the province typed: the title, the body (plain text), and to whom."""
    title: str
    body: str
    all_cities: bool
    city_ids: frozenset[int] = frozenset()


def check_draft(draft: Draft) -> Draft:
    """The draft with its text trimmed, or :class:`Refused` naming the field."""
    title, body = draft.title.strip(), draft.body.strip()
    if not title:
        raise Refused("标题：请填写通知标题。")
    if len(title) > TITLE_MAX:
        raise Refused(f"标题：不能超过 {TITLE_MAX} 个字（现有 {len(title)} 个）。")
    if len(body) > BODY_MAX:
        raise Refused(f"正文：不能超过 {BODY_MAX} 个字（现有 {len(body)} 个）。")
    if not draft.all_cities:
        if not draft.city_ids:
            raise Refused("接收市（州）：请选择「全部市州」，或勾选至少一个市（州）。")
        known = set(db.session.scalars(select(City.id).where(City.id.in_(draft.city_ids))))
        if known != set(draft.city_ids):
            raise Refused("接收市（州）：所选市（州）不存在，请重新勾选。")
    return Draft(title, body, draft.all_cities, frozenset(draft.city_ids) if not draft.all_cities else frozenset())


def publish(user: User, draft: Draft, uploads: Sequence[FileStorage] = ()) -> Announcement:
    """Write and publish an announcement with its attachments. A refused file refuses the whole
    announcement (the route rolls back; the files already moved are removed). Flushes."""
    if not writes_announcements(user):
        raise NotFound
    draft = check_draft(draft)
    announcement = Announcement(title=draft.title, body=draft.body, all_cities=draft.all_cities,
                                created_by_id=user.id, created_at=now())
    announcement.targets = [AnnouncementCity(city_id=city_id) for city_id in sorted(draft.city_ids)]
    db.session.add(announcement)
    db.session.flush()
    for upload in uploads:
        if upload is not None and (upload.filename or "").strip():
            attach(announcement, upload)
    announcement.published_at = now()
    db.session.flush()
    record("announcement.published", user=user, object_type="announcement", object_id=announcement.id,
           summary=f"发布通知公告：{announcement.title}（{_addressees(announcement)}）",
           after={"title": announcement.title, "all_cities": announcement.all_cities,
                  "city_ids": sorted(announcement.city_ids),
                  "attachments": [{"name": a.original_name, "size": a.size, "sha256": a.sha256}
                                  for a in announcement.attachments]})
    people = [user for city_id in addressed_city_ids(announcement) for user in city_accounts(city_id)]
    notify(people, NoticeKind.ANNOUNCEMENT, f"通知公告：{announcement.title}", _excerpt(announcement.body),
           Link("announcements.detail", {"announcement_id": announcement.id}), dedupe_key=notice_key(announcement.id))
    return announcement


EXCERPT = 200  # the notice (and its mail) carries the start of the body; the page has it whole


def _excerpt(body: str) -> str:
    return body if len(body) <= EXCERPT else body[:EXCERPT] + "……（全文见通知公告）"


def notice_key(announcement_id: int) -> str:
    """The key of the notices an announcement made: reading it marks the reader's notice read."""
    return f"announcement:{announcement_id}"


def addressed_city_ids(announcement: Announcement) -> list[int]:
    """The cities an announcement is for, in the province's order."""
    stmt = select(City.id).order_by(City.sort_order, City.code)
    if not announcement.all_cities:
        stmt = stmt.where(City.id.in_(announcement.city_ids))
    return list(db.session.scalars(stmt))


def _addressees(announcement: Announcement) -> str:
    if announcement.all_cities:
        whom = "全部市州"
    else:
        whom = "、".join(db.session.scalars(select(City.name).where(
            City.id.in_(announcement.city_ids)).order_by(City.sort_order, City.code)))
    files = announcement.attachments
    return whom + (f"；附件 {len(files)} 个，共 {human_size(sum(a.size for a in files))}" if files else "")
