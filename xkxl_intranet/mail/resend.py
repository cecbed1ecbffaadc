"""「重新发送」 of a failed mail, and what the outbox page lists."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from ..audit.services import record
from ..auth.models import User
from ..clock import now
from ..domain.errors import NotFound, Refused
from ..extensions import db
from ..jobs.queue import SEND_MAIL_JOB, after_commit
from .models import MailMessage, MailState
from .settings import mail_settings

LISTED = 200  # the outbox page lists this many failed and queued mails, the newest first
SENT_COUNTED_OVER = timedelta(days=7)


@dataclass(frozen=True)
class Outbox:
    waiting: list[MailMessage]  # failed and queued, newest first
    sent_lately: int  # sent over the last SENT_COUNTED_OVER
    enabled: bool
    retry_minutes: tuple[int, ...] = ()  # the retries in effect, as the page states them


def outbox() -> Outbox:
    waiting = list(db.session.scalars(
        select(MailMessage).where(MailMessage.state.in_([MailState.FAILED.value, MailState.QUEUED.value]))
        .order_by(MailMessage.created_at.desc(), MailMessage.id.desc()).limit(LISTED)))
    sent = db.session.scalar(select(func.count()).select_from(MailMessage).where(
        MailMessage.state == MailState.SENT.value, MailMessage.sent_at >= now() - SENT_COUNTED_OVER)) or 0
    settings = mail_settings(current_app.config)
    return Outbox(waiting=waiting, sent_lately=sent, enabled=settings is not None,
                  retry_minutes=settings.retry_minutes if settings is not None else ())


def resend_mail(actor: User, message_id: int) -> MailMessage:
    """Queue a failed mail again, with a fresh count of attempts (and retries). Flushes; the send
    job is enqueued on commit. Refused when mail is off or the mail is not failed (sent meanwhile,
    or queued again by someone else)."""
    message = db.session.get(MailMessage, message_id)
    if message is None:
        raise NotFound
    if mail_settings(current_app.config) is None:
        raise Refused("未配置邮件服务器（XKXL_SMTP_HOST、XKXL_SMTP_PORT），不能重新发送。")
    if message.state != MailState.FAILED.value:
        raise Refused(f"这封邮件{message.state_enum.label}，只有发送失败的邮件可以重新发送。")
    message.state = MailState.QUEUED.value
    message.attempts = 0
    message.next_attempt_at = now()
    db.session.flush()
    record("mail.resent", user=actor, object_type="mail_message", object_id=message.id,
           summary=f"重新发送邮件“{message.subject}”给 {message.to_address}",
           before={"last_error": message.last_error})
    after_commit(db.session, SEND_MAIL_JOB, message.id, 0)
    return message
