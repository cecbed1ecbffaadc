"""A person's notices as they read them: unread first, newest first, a page at a time; the
header's unread count; the home page's latest few. Every query is scoped to the reader."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select

from ..auth.models import User
from ..auth.scoping import scope_to_owner
from ..extensions import db
from ..listing import Paging, clamp_page
from .models import Notification

PER_PAGE = 20


@dataclass
class NoticePage:
    notices: list[Notification]
    paging: Paging
    unread: int


def _own(user: User) -> Select[Notification]:
    return scope_to_owner(select(Notification), Notification.user_id, user)


def unread_count(user: User) -> int:
    stmt = scope_to_owner(select(func.count()).select_from(Notification).where(Notification.read_at.is_(None)),
                          Notification.user_id, user)
    return int(db.session.scalar(stmt) or 0)


def _ordered(stmt: Select[Notification]) -> Select[Notification]:
    # Unread (read_at NULL) before read on SQLite and PostgreSQL alike, then newest first.
    return stmt.order_by(Notification.read_at.is_not(None), Notification.created_at.desc(),
                         Notification.id.desc())


def notice_page(user: User, page: int = 1, per_page: int = PER_PAGE) -> NoticePage:
    total = int(db.session.scalar(scope_to_owner(select(func.count()).select_from(Notification),
                                                 Notification.user_id, user)) or 0)
    paging = Paging(total=total, page=clamp_page(page, total, per_page), per_page=per_page)
    notices = list(db.session.scalars(_ordered(_own(user)).offset(paging.offset).limit(per_page)))
    return NoticePage(notices, paging, unread_count(user))


def latest(user: User, n: int = 5, *, besides: tuple[str, ...] = ()) -> list[Notification]:
    """The home page's few: unread first, newest first; not the kinds in ``besides`` (shown there
    in a block of their own)."""
    stmt = _own(user)
    if besides:
        stmt = stmt.where(Notification.kind.not_in(besides))
    return list(db.session.scalars(_ordered(stmt).limit(n)))
