"""Reading announcements, scoped through ``auth.scoping``: the province reads every one, a
clerk the published ones addressed to all cities or to theirs; any other is :class:`NotFound`."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, exists, false, func, or_, select

from ..auth.models import User
from ..auth.scoping import announcement_addressed_to, signed_in, writes_announcements
from ..domain.errors import NotFound
from ..extensions import db
from ..rounds.models import City
from .models import Announcement, AnnouncementAttachment, AnnouncementCity, AnnouncementReceipt


def scope_announcements(stmt: Select, user: User | None) -> Select:
    """``stmt`` (over :class:`Announcement`) restricted as :func:`announcement_addressed_to` says."""
    if writes_announcements(user):
        return stmt
    if not signed_in(user) or not user.is_city or user.city_id is None:
        return stmt.where(false())
    addressed = exists().where(AnnouncementCity.announcement_id == Announcement.id,
                               AnnouncementCity.city_id == user.city_id)
    return stmt.where(Announcement.published_at.is_not(None), or_(Announcement.all_cities, addressed))


def get_announcement(user: User, announcement_id: int) -> Announcement:
    announcement = db.session.get(Announcement, announcement_id)
    if announcement is None or not announcement_addressed_to(
            user, all_cities=announcement.all_cities, city_ids=announcement.city_ids,
            published=announcement.published_at is not None):
        raise NotFound
    return announcement


def get_attachment(user: User, announcement_id: int, attachment_id: int) -> AnnouncementAttachment:
    announcement = get_announcement(user, announcement_id)
    attachment = next((a for a in announcement.attachments if a.id == attachment_id), None)
    if attachment is None:
        raise NotFound
    return attachment


@dataclass(frozen=True)
class Listed:
    announcement: Announcement
    read: int  # cities that have read it
    addressed: int  # cities it is for
    read_by_own_city: bool  # for a clerk: has their city read it


def announcements_for(user: User) -> list[Listed]:
    """Newest first, with each one's read count (the province) or whether the clerk's city has
    read it."""
    stmt = scope_announcements(select(Announcement), user).order_by(
        Announcement.published_at.desc(), Announcement.id.desc())
    rows = list(db.session.scalars(stmt))
    ids = [a.id for a in rows]
    counts = dict(db.session.execute(
        select(AnnouncementReceipt.announcement_id, func.count()).where(
            AnnouncementReceipt.announcement_id.in_(ids)).group_by(AnnouncementReceipt.announcement_id)).all()) \
        if ids else {}
    own: set[int] = set()
    if user.is_city and ids:
        own = set(db.session.scalars(select(AnnouncementReceipt.announcement_id).where(
            AnnouncementReceipt.announcement_id.in_(ids), AnnouncementReceipt.city_id == user.city_id)))
    total = db.session.scalar(select(func.count()).select_from(City)) or 0
    return [Listed(a, counts.get(a.id, 0), total if a.all_cities else len(a.targets), a.id in own)
            for a in rows]


def unread_for_home(user: User) -> list[Announcement]:
    """A clerk's home page: what is addressed to their city and no one of it has read yet."""
    if not user.is_city or user.city_id is None:
        return []
    read = exists().where(AnnouncementReceipt.announcement_id == Announcement.id,
                          AnnouncementReceipt.city_id == user.city_id)
    stmt = scope_announcements(select(Announcement), user).where(~read).order_by(
        Announcement.published_at.desc(), Announcement.id.desc())
    return list(db.session.scalars(stmt))


@dataclass(frozen=True)
class CityReading:
    city: City
    read_by: str | None  # the first reader's name, None while unread
    read_at: datetime | None


def readings(announcement: Announcement) -> list[CityReading]:
    """Per addressed city, in the province's order: read or not, by whom, when."""
    stmt = select(City).order_by(City.sort_order, City.code)
    if not announcement.all_cities:
        stmt = stmt.where(City.id.in_(announcement.city_ids))
    receipts = {r.city_id: r for r in db.session.scalars(select(AnnouncementReceipt).where(
        AnnouncementReceipt.announcement_id == announcement.id))}
    out = []
    for city in db.session.scalars(stmt):
        receipt = receipts.get(city.id)
        out.append(CityReading(city, receipt.reader_name if receipt else None,
                               receipt.read_at if receipt else None))
    return out


def receipt_of_city(announcement: Announcement, city_id: int | None) -> AnnouncementReceipt | None:
    if city_id is None:
        return None
    return db.session.scalar(select(AnnouncementReceipt).where(
        AnnouncementReceipt.announcement_id == announcement.id, AnnouncementReceipt.city_id == city_id))
