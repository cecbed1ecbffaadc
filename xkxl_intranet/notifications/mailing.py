"""Each new notice also goes out by mail (issue 24): to the person's own address, and for a city's
clerk also to the city's 附件3 contact (``City.contact_email``), once per notice whatever the number
of the city's accounts. :func:`mail_notices` is the :data:`operations.after_notify` listener;
``mail.outbox.queue_mail`` keeps nothing when no SMTP server is configured and never raises, so a
notice's mail never stands in the way of the action that caused it."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..auth.models import Role, User
from ..extensions import db
from ..mail.outbox import mail_enabled, queue_mail
from .models import Notification
from .operations import after_notify

SUBJECT_PREFIX = "【工业互联网平台申报】"
SIGNATURE = "——四川省工业互联网平台推荐申报系统（本邮件由系统发送，请勿回复）"


def _where_to_read(notice: Notification | None) -> str:
    """Where the notice is read: its page at the system's address when the deployment states it
    (``PUBLIC_URL``), else the words that find it."""
    base = str(current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    if base and notice is not None:
        return f"查看：{base}/notifications/{notice.id}"
    if base:
        return f"请登录系统查看：{base}/"
    return "请登录系统，在页面右上角的「通知」中查看。"


def _body(notice: Notification, link_of: Notification | None) -> str:
    parts = [notice.title]
    if notice.body:
        parts.append(notice.body)
    parts += [_where_to_read(link_of), SIGNATURE]
    return "\n\n".join(parts)


def mail_notices(made: list[Notification]) -> None:
    """Queue the mail of one ``notify`` (its rows share a title and a body)."""
    if not made or not mail_enabled():
        return
    people = {user.id: user for user in db.session.scalars(
        select(User).options(selectinload(User.city)).where(User.id.in_({n.user_id for n in made})))}
    contacts: dict[str, tuple[str, Notification]] = {}  # lower-cased address -> (address, a notice of it)
    for notice in made:
        user = people.get(notice.user_id)
        if user is None:
            continue
        if user.email:
            queue_mail([user.email], SUBJECT_PREFIX + notice.title, _body(notice, notice), reference=notice.id)
        if user.role == Role.CITY and user.city is not None and user.city.contact_email:
            contacts.setdefault(user.city.contact_email.lower(), (user.city.contact_email, notice))
    personal = {user.email.lower() for user in people.values() if user.email}
    for key, (address, notice) in contacts.items():
        if key not in personal:  # the contact is also an account of the city: one mail is enough
            queue_mail([address], SUBJECT_PREFIX + notice.title, _body(notice, None), reference=notice.id)


after_notify.append(mail_notices)
