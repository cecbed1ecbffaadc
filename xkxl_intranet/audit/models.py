from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import now
from ..extensions import Model
from ..sqltypes import AwareDateTime


class AuditEvent(Model):
    """Who did what, when, from where, and what changed (before/after)."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_at", "at"),
        Index("ix_audit_event_city_at", "city_id", "at"),
        Index("ix_audit_event_object", "object_type", "object_id"),
        Index("ix_audit_event_ip_at", "ip", "at"),  # the log-in throttle counts by address
        Index("ix_audit_event_username_at", "username", "at"),  # … by account name
        Index("ix_audit_event_ip_username_at", "ip", "username", "at"),  # … by both
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    # The name as typed or as it was then, kept even if the account changes later.
    username: Mapped[str] = mapped_column(String(60), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str] = mapped_column(String(40), default="")
    object_id: Mapped[str] = mapped_column(String(40), default="")
    city_id: Mapped[int | None] = mapped_column(ForeignKey("city.id"), nullable=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)

    user = relationship("User", lazy="joined")
    city = relationship("City", lazy="joined")
