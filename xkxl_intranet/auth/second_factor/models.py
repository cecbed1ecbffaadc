"""A user's TOTP secret and recovery codes, in tables of their own beside ``user_account``."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ...extensions import Model
from ...sqltypes import AwareDateTime


class SecondFactor(Model):
    """One account's TOTP secret. ``confirmed_at`` is empty while enrolment waits for the first
    code typed from the phone: only a confirmed secret is asked for at log-in.
    ``last_step`` is the RFC 6238 time step of the last code accepted, so that a code seen over
    a shoulder (or replayed) opens nothing within its 30-second window and the next."""

    __tablename__ = "user_second_factor"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), unique=True)
    secret: Mapped[str] = mapped_column(String(64))  # base32, as the phone's app is given it
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class RecoveryCode(Model):
    """One of the ten one-time codes for when the phone is not at hand: only a salted SHA-256
    of it is kept (the code is random, 50 bits, so a slow hash would add nothing), and
    ``used_at`` once it has opened a log-in."""

    __tablename__ = "second_factor_recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    salt: Mapped[str] = mapped_column(String(32))
    code_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    used_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
