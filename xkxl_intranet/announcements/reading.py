"""A clerk reads an announcement: the first reader of each city is kept (who, when), and from
then on the city's home page no longer shows it."""
from __future__ import annotations

from typing import cast

from sqlalchemy import CursorResult, insert
from sqlalchemy.dialects import postgresql

from ..audit.services import record
from ..auth.models import User
from ..clock import now
from ..extensions import db
from ..notifications.operations import mark_read_by_key
from .models import Announcement, AnnouncementReceipt
from .publishing import notice_key
from .queries import get_announcement, receipt_of_city


def mark_read(user: User, announcement_id: int) -> AnnouncementReceipt | None:
    """Keep the city's read receipt unless one is kept already; the province reading changes
    nothing (``None``). Two clerks of one city at the same instant: one row, the first one's
    (insert-or-ignore on the unique (announcement, city)). Flushes."""
    announcement: Announcement = get_announcement(user, announcement_id)  # NotFound for another city
    if not user.is_city or user.city_id is None:
        return None
    mark_read_by_key(user, notice_key(announcement.id))
    kept = receipt_of_city(announcement, user.city_id)
    if kept is not None:
        return kept
    values = {"announcement_id": announcement.id, "city_id": user.city_id, "read_by_id": user.id,
              "read_at": now()}
    statement = (postgresql.insert(AnnouncementReceipt).on_conflict_do_nothing()
                 if db.session.get_bind().dialect.name == "postgresql"
                 else insert(AnnouncementReceipt).prefix_with("OR IGNORE"))
    result = cast(CursorResult, db.session.execute(statement.values(**values)))
    if result.rowcount:
        record("announcement.read", user=user, object_type="announcement", object_id=announcement.id,
               city_id=user.city_id, summary=f"阅读通知公告：{announcement.title}")
    return receipt_of_city(announcement, user.city_id)
