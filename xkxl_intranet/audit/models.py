from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
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
        Index("ix_audit_event_seq", "seq", unique=True),
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

    # The hash chain (audit/chain.py): the row's place, gap-free, and the HMAC of its fields
    # and of the previous row's hash. Set when the row is flushed, never changed afterwards.
    seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    hash: Mapped[str | None] = mapped_column(String(64), nullable=True)

    user = relationship("User", lazy="joined")
    city = relationship("City", lazy="joined")


class AuditChainHead(Model):
    """The chain's newest link (one row, id 1): writers lock it to append, so two transactions
    never both follow the same row, and it still names the last link when every row has been
    archived or when the newest rows were deleted (``flask audit verify`` compares)."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64), default="")


class AuditArchive(Model):
    """One file of archived rows (``flask audit archive``): the chain's prefix it holds, its
    last hash (the online chain goes on from it), the file's name, SHA-256 and signature."""

    __tablename__ = "audit_archive"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now)
    first_seq: Mapped[int] = mapped_column(Integer)
    last_seq: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
    row_count: Mapped[int] = mapped_column(Integer)
    file_name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(64))
