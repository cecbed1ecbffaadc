"""The outbox: one row per message and recipient, from queued to sent or failed.

The row, not the queue, says what is waiting (as ``stored_file.reading_state`` does for the
readings): a queue lost with the machine is refilled by the worker's sweep (``sending.sweep_mail``).
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import now
from ..extensions import Model
from ..sqltypes import AwareDateTime


class MailState(StrEnum):
    QUEUED = "queued"  # waiting for its (next) attempt
    SENT = "sent"  # the server took it
    FAILED = "failed"  # given up: the last error says why; 「重新发送」 queues it again

    @property
    def label(self) -> str:
        return MAIL_STATE_LABELS[self]


MAIL_STATE_LABELS = {MailState.QUEUED: "待发送", MailState.SENT: "已发送", MailState.FAILED: "发送失败"}
SUBJECT_MAX = 255  # a longer subject is cut (a mail is never refused for its subject)


class MailMessage(Model):
    __tablename__ = "mail_message"
    __table_args__ = (Index("ix_mail_message_state_created", "state", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))  # RFC 5321's longest path
    subject: Mapped[str] = mapped_column(String(SUBJECT_MAX))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default=MailState.QUEUED)
    # Attempts made since it was queued (or queued again by 「重新发送」); the send job claims an
    # attempt by moving this from the number it was given, so a job delivered twice sends once.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now)
    sent_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    # When the next attempt is due (a retry's back-off), or until when a started attempt may run:
    # the sweep re-enqueues a queued row only once this has passed.
    next_attempt_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    # What caused it, e.g. a notification's id: a plain number, no foreign key (yet).
    reference: Mapped[int | None] = mapped_column(Integer, nullable=True)

    @property
    def state_enum(self) -> MailState:
        return MailState(self.state)

    def __repr__(self) -> str:
        return f"<MailMessage {self.id} {self.to_address} {self.state}>"
