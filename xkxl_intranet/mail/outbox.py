"""Queueing mail (the use case every notice calls): rows in the outbox, a send job per row once
the caller's unit of work commits.

Mail never stands in the way of what caused it: an address that is not one is left out (and
logged), nothing here raises for a recipient or the server, and sending happens after the commit,
in the worker (``sending.py``), so a server that is down or refuses costs the action nothing.
Without an SMTP server configured (``settings.mail_settings``) nothing is kept or enqueued.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable

from flask import current_app

from ..clock import now
from ..domain.parsing import ParseError, parse_email
from ..extensions import db
from ..jobs.queue import SEND_MAIL_JOB, after_commit
from .models import SUBJECT_MAX, MailMessage, MailState
from .settings import mail_settings

log = logging.getLogger(__name__)


def mail_enabled() -> bool:
    return mail_settings(current_app.config) is not None


def clean_addresses(recipients: Iterable[str | None]) -> list[str]:
    """The recipients as addresses, each once (compared without case), in the order given; empty
    ones dropped, malformed ones dropped with a warning in the log."""
    seen: set[str] = set()
    found: list[str] = []
    for raw in recipients:
        try:
            address = parse_email(raw, "收件人")
        except ParseError:
            log.warning("mail: %r is not an e-mail address, left out", raw)
            continue
        if address and address.lower() not in seen:
            seen.add(address.lower())
            found.append(address)
    return found


def queue_mail(recipients: Iterable[str | None], subject: str, body: str, *,
               reference: int | None = None) -> list[MailMessage]:
    """Queue one message per recipient (``subject`` and ``body`` plain text, any language);
    ``reference``: what caused it (a notification's id). Flushes; each row's send job is
    enqueued when the caller's unit of work commits, and forgotten with it on a rollback. Returns
    the rows, none when mail is off or no recipient is an address."""
    if not mail_enabled():
        return []
    moment = now()
    rows = [MailMessage(to_address=address, subject=" ".join(subject.split())[:SUBJECT_MAX], body=body,
                        state=MailState.QUEUED.value, attempts=0, created_at=moment, next_attempt_at=moment,
                        reference=reference)
            for address in clean_addresses(recipients)]
    if not rows:
        return []
    db.session.add_all(rows)
    db.session.flush()
    for row in rows:
        after_commit(db.session, SEND_MAIL_JOB, row.id, 0)
    return rows
