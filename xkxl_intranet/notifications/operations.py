"""Sending and reading notices. ``notify`` is the one way a notice is made: the services where
something happens call it (they only flush; the route or the command commits), and it hands the
rows it made to :data:`after_notify`, the one place a mailer may later take them from.

Reading is a person's own: ``mark_read`` and ``mark_all_read`` find only the acting user's
notices (``auth.scoping.scope_to_owner``), so another person's is :class:`NotFound`."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from ..auth.models import Role, User
from ..auth.scoping import scope_to_owner
from ..clock import now
from ..domain.errors import NotFound
from ..domain.notices import NoticeKind
from ..extensions import db
from .models import Notification


@dataclass(frozen=True)
class Link:
    """Where a notice leads: an endpoint and its arguments, resolved by the page that shows it."""

    endpoint: str
    args: Mapping[str, Any] = field(default_factory=dict)


# Called with the rows one notify() made (already flushed, so they have ids), in the same
# transaction. Empty: nothing but the in-app notice. A mailer appends itself here (one place),
# and must not fail the use case that caused the notice.
after_notify: list[Callable[[list[Notification]], None]] = []


def notify(recipients: Iterable[User], kind: NoticeKind, title: str, body: str = "",
           link: Link | None = None, *, dedupe_key: str | None = None) -> list[Notification]:
    """One notice per distinct, enabled recipient. With ``dedupe_key`` a person who already has a
    notice with that key gets none again (scheduled reminders run every few minutes). Returns
    the rows made."""
    people = {u.id: u for u in recipients if u is not None and u.is_enabled}
    if dedupe_key is not None and people:
        already = set(db.session.scalars(select(Notification.user_id).where(
            Notification.dedupe_key == dedupe_key, Notification.user_id.in_(people))))
        people = {k: v for k, v in people.items() if k not in already}
    made = [Notification(user_id=user_id, kind=str(kind), title=title[:200], body=body,
                         link_endpoint=link.endpoint if link else None,
                         link_args=dict(link.args) if link else {}, dedupe_key=dedupe_key,
                         created_at=now())
            for user_id in sorted(people)]
    if not made:
        return []
    db.session.add_all(made)
    db.session.flush()
    for listener in list(after_notify):
        listener(made)
    return made


def city_accounts(city_id: int) -> list[User]:
    """A city-wide notice: every enabled account of the city."""
    return list(db.session.scalars(select(User).where(
        User.role == Role.CITY, User.city_id == city_id, User.is_enabled.is_(True)).order_by(User.id)))


def province_accounts() -> list[User]:
    """A province-wide notice: every enabled 省厅 account (the read-only viewer acts on nothing)."""
    return list(db.session.scalars(select(User).where(
        User.role == Role.PROVINCE, User.is_enabled.is_(True)).order_by(User.id)))


def administrators() -> list[User]:
    return list(db.session.scalars(select(User).where(
        User.role == Role.ADMIN, User.is_enabled.is_(True)).order_by(User.id)))


def own_notice(user: User, notice_id: int) -> Notification:
    """``user``'s notice ``notice_id``; anyone else's is not found."""
    stmt = scope_to_owner(select(Notification).where(Notification.id == notice_id), Notification.user_id, user)
    notice = db.session.scalar(stmt)
    if notice is None:
        raise NotFound()
    return notice


def mark_read(user: User, notice_id: int, *, at: datetime | None = None) -> Notification:
    notice = own_notice(user, notice_id)
    if notice.read_at is None:
        notice.read_at = at or now()
        db.session.flush()
    return notice


def mark_read_by_key(user: User, dedupe_key: str) -> None:
    """The acting user's notice made with ``dedupe_key`` as read (the thing it announced was read
    where it lives, e.g. an announcement opened from the home page)."""
    owned = scope_to_owner(select(Notification.id).where(Notification.dedupe_key == dedupe_key,
                                                         Notification.read_at.is_(None)),
                           Notification.user_id, user)
    db.session.execute(update(Notification).where(Notification.id.in_(owned)).values(read_at=now())
                       .execution_options(synchronize_session=False))
    db.session.flush()


def mark_all_read(user: User) -> int:
    """Every unread notice of ``user``'s as read; how many."""
    owned = scope_to_owner(select(Notification.id).where(Notification.read_at.is_(None)),
                           Notification.user_id, user)
    stmt = update(Notification).where(Notification.id.in_(owned)).values(read_at=now())
    result = db.session.execute(stmt.execution_options(synchronize_session=False))
    db.session.flush()
    return int(getattr(result, "rowcount", 0) or 0)
