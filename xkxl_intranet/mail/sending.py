"""Sending one outbox row, as a job in the worker (``jobs.queue.SEND_MAIL_JOB``).

The job is given the row's id and the number of attempts the row had when it was enqueued; it
claims the attempt with one conditional UPDATE (that number → one more), committed before the
server is spoken to, so a job delivered twice (a sweep, a restart) sends once. No transaction is
held while the server answers.

A failed attempt is retried after ``MAIL_RETRY_MINUTES`` (1, 5, 30 minutes) by enqueueing the job
again with that delay; when no retry is left, or none can be scheduled (tests running jobs
inline, a queue that does not answer), the row is failed with the server's error, for the
outbox page and its 「重新发送」. Nothing here raises into the caller: the action that queued
the mail was committed long before.
"""
from __future__ import annotations

import logging
import smtplib
import socket
import ssl
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from flask import current_app
from sqlalchemy import or_, select, update

from ..clock import now
from ..extensions import db
from ..jobs.queue import SEND_MAIL_JOB, handler, jobs
from .models import MailMessage, MailState
from .settings import MailSettings, mail_settings

log = logging.getLogger(__name__)

NOT_CONFIGURED = "未配置邮件服务器（XKXL_SMTP_HOST、XKXL_SMTP_PORT），未能发送"
ERROR_MAX = 1000  # characters of an error kept on the row
SENDER_NAME = "四川省工业互联网平台申报"  # short: one encoded word (a folded name reads back with a space in Python)
# A started attempt whose job is gone (a worker killed mid-send) is swept this long after the
# server's timeout; the sweep also leaves alone a row queued this recently (its job is coming).
SWEEP_GRACE = timedelta(minutes=2)


def compose(settings: MailSettings, to_address: str, subject: str, body: str, at: datetime) -> EmailMessage:
    """The message as sent: UTF-8 subject (RFC 2047 encoded) and plain-text body."""
    message = EmailMessage()
    # A bare address reads as a stranger in a clerk's mailbox: the system's name unless MAIL_FROM gives one
    message["From"] = settings.sender if "<" in settings.sender else Address(SENDER_NAME, addr_spec=settings.sender)
    message["To"] = to_address
    message["Subject"] = subject
    message["Date"] = format_datetime(at)
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or settings.host)
    message.set_content(body, charset="utf-8")
    return message


def deliver(settings: MailSettings, message: EmailMessage) -> None:
    """Hand ``message`` to the server; raises what smtplib or the network raise."""
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if settings.security == "ssl":
        smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout, context=context)
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    with smtp:
        if settings.security == "starttls":
            smtp.starttls(context=context)
        if settings.user:
            smtp.login(settings.user, settings.password)
        smtp.send_message(message)


def _reply_text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _network_reason(error: OSError) -> str:
    """What an operator reads first; the system's own words follow for the record."""
    if isinstance(error, ConnectionRefusedError):
        return "连接被拒绝：邮件服务器未运行，或地址、端口不对"
    if isinstance(error, TimeoutError):
        return "连接超时：网络不通或服务器无响应"
    if isinstance(error, socket.gaierror):
        return "找不到服务器：请核对服务器名称"
    if isinstance(error, ssl.SSLError):
        return "加密连接失败：请核对 XKXL_SMTP_SECURITY 与端口"
    return "网络错误"


def describe(error: Exception) -> str:
    """The error as the outbox page shows it: the server's code and words where it answered."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        replies = "；".join(f"{code} {_reply_text(reply)}" for code, reply in error.recipients.values())
        text = f"邮件服务器拒绝收件人：{replies}"
    elif isinstance(error, smtplib.SMTPResponseException):
        text = f"邮件服务器拒绝：{error.smtp_code} {_reply_text(error.smtp_error)}"
    elif isinstance(error, smtplib.SMTPException):
        text = f"发送失败：{type(error).__name__}: {error}"
    elif isinstance(error, OSError):
        text = f"无法连接邮件服务器（{_network_reason(error)}）：{type(error).__name__}: {error}"
    else:
        text = f"发送失败：{type(error).__name__}: {error}"
    return text[:ERROR_MAX]


def claim(message_id: int, attempts_seen: int, hold: timedelta) -> bool:
    """Take attempt ``attempts_seen + 1`` of a queued row. Commits."""
    taken: int = db.session.execute(  # type: ignore[attr-defined]  # a CursorResult, typed as Result
        update(MailMessage).where(MailMessage.id == message_id, MailMessage.state == MailState.QUEUED.value,
                                  MailMessage.attempts == attempts_seen)
        .values(attempts=attempts_seen + 1, next_attempt_at=now() + hold)).rowcount
    db.session.commit()
    return taken == 1


def _settle(message_id: int, attempt: int, **values: object) -> None:
    db.session.execute(update(MailMessage).where(MailMessage.id == message_id, MailMessage.attempts == attempt,
                                                 MailMessage.state == MailState.QUEUED.value).values(**values))
    db.session.commit()


def _failed(message_id: int, attempt: int, error: str, settings: MailSettings | None) -> str:
    """Retry later if a retry is left and can be scheduled; otherwise the row is failed."""
    delays = settings.retry_minutes if settings is not None else ()
    if attempt <= len(delays):
        delay = timedelta(minutes=delays[attempt - 1])
        # Written before the job is scheduled: a retry cannot start before the row says it waits.
        _settle(message_id, attempt, last_error=error, next_attempt_at=now() + delay)
        if jobs().enqueue_later(SEND_MAIL_JOB, message_id, attempt, delay_seconds=delay.total_seconds()):
            return MailState.QUEUED.value
    _settle(message_id, attempt, state=MailState.FAILED.value, last_error=error, next_attempt_at=None)
    return MailState.FAILED.value


@handler(SEND_MAIL_JOB)
def send_mail_job(message_id: int, attempts_seen: int) -> str | None:
    """The job: one attempt at row ``message_id``. Returns the state it leaves, None if the row was
    not this job's to send (sent, failed, or another attempt took it)."""
    try:
        return _attempt(message_id, attempts_seen)
    except Exception:  # the database itself: logged; the sweep gives the row another job
        log.exception("mail %s: attempt %s not finished", message_id, attempts_seen + 1)
        db.session.rollback()
        return None


def _attempt(message_id: int, attempts_seen: int) -> str | None:
    settings = mail_settings(current_app.config)
    timeout = settings.timeout if settings is not None else 0
    if not claim(message_id, attempts_seen, timedelta(seconds=timeout) + SWEEP_GRACE):
        return None
    attempt = attempts_seen + 1
    if settings is None:
        return _failed(message_id, attempt, NOT_CONFIGURED, None)
    row = db.session.get(MailMessage, message_id)
    assert row is not None  # claimed just now
    to_address, subject, body = row.to_address, row.subject, row.body
    db.session.rollback()  # nothing held while the server answers
    try:
        deliver(settings, compose(settings, to_address, subject, body, now()))
    except Exception as error:  # whatever the server, the network or TLS say, kept on the row
        log.warning("mail %s to %s, attempt %s: %s", message_id, to_address, attempt, error)
        return _failed(message_id, attempt, describe(error), settings)
    _settle(message_id, attempt, state=MailState.SENT.value, sent_at=now(), last_error=None, next_attempt_at=None)
    return MailState.SENT.value


def sweep_mail() -> int:
    """Enqueue again the queued rows whose job is overdue (a queue lost with the machine, a worker
    killed mid-send): due for longer than :data:`SWEEP_GRACE`. A job too many costs nothing (the
    claim). Commits."""
    overdue = now() - SWEEP_GRACE
    rows = db.session.execute(select(MailMessage.id, MailMessage.attempts).where(
        MailMessage.state == MailState.QUEUED.value,
        or_(MailMessage.next_attempt_at.is_(None), MailMessage.next_attempt_at < overdue))
        .order_by(MailMessage.id)).all()
    db.session.commit()
    queue = jobs()
    for row in rows:
        queue.enqueue(SEND_MAIL_JOB, row.id, row.attempts)
    if rows:
        log.info("mail sweep: %d enqueued", len(rows))
    return len(rows)
