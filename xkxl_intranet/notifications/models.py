"""One notice for one person. A notice for a city or for the province is one row per account,
so that each person reads (and marks as read) their own."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import now
from ..domain.notices import kind_label
from ..extensions import Model
from ..sqltypes import AwareDateTime


class Notification(Model):
    __tablename__ = "notification"
    __table_args__ = (
        # A scheduled reminder is sent once per person and threshold, however often it runs
        # (NULL keys, every event notice, never collide).
        UniqueConstraint("user_id", "dedupe_key", name="uq_notification_user_id_dedupe_key"),
        # The header's unread count and the list (unread first, newest first) read this index.
        Index("ix_notification_user_id_read_at_created_at", "user_id", "read_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    # Where the notice leads, as a Flask endpoint and its arguments (services build no URLs:
    # the page resolves them); NULL: nowhere to go.
    link_endpoint: Mapped[str | None] = mapped_column(String(80), nullable=True)
    link_args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(String(160), nullable=True)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now)
    read_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    @property
    def kind_label(self) -> str:
        return kind_label(self.kind)

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.kind} user={self.user_id}>"
