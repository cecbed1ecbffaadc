from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import now
from ..extensions import Model
from ..rounds.models import City
from ..sqltypes import AwareDateTime


class Role(StrEnum):
    CITY = "city"
    PROVINCE = "province"
    VIEWER = "viewer"
    EXPERT = "expert"
    # 三权分立: accounts and the system's settings, apart from the business (the province's)
    # and from reading the trail (the auditor's); one role column, so one duty per account.
    ADMIN = "admin"
    AUDITOR = "auditor"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.CITY: "市（州）经信部门",
    Role.PROVINCE: "省厅大数据与信息化处",
    Role.VIEWER: "只读（领导查阅）",
    Role.EXPERT: "评审专家",
    Role.ADMIN: "系统管理员",
    Role.AUDITOR: "安全审计员",
}

# The word that names a role (issue 25, 6d): a display name that already says it, such as
# 「厅领导（只读）」, is not followed by the role's label again in the header.
ROLE_WORDS = {
    Role.PROVINCE: "省厅",
    Role.VIEWER: "只读",
    Role.EXPERT: "专家",
    Role.ADMIN: "管理员",
    Role.AUDITOR: "审计",
}


class User(UserMixin, Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(60), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    city_id: Mapped[int | None] = mapped_column(ForeignKey("city.id"), nullable=True)
    phone: Mapped[str] = mapped_column(String(40), default="")
    # Where notices are mailed (mail/recipients.py); set by the administrator or on 我的账号.
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    # The current password was given by the administrator (a new account, a reset, a credential
    # slip) and opens one log-in only: that session must change it, a second log-in with it is
    # refused (auth/services.py, authenticate).
    password_one_time: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    # Until when new log-ins are refused (failures from several addresses); once past, or set to
    # the moment a lock is lifted, failures before it no longer count toward the next lock.
    locked_until: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    last_login_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    # When the current password was set; it expires PASSWORD_MAX_AGE_DAYS later (auth/password_expiry.py).
    password_changed_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now)
    # Bumped on password change/reset/disable so that every other session ends.
    session_version: Mapped[int] = mapped_column(Integer, default=1)

    city: Mapped[City | None] = relationship(lazy="joined")

    # Flask-Login: the session stores id and version, so a reset logs out everywhere.
    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.is_enabled

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def is_province(self) -> bool:
        return self.role == Role.PROVINCE

    @property
    def is_city(self) -> bool:
        return self.role == Role.CITY

    @property
    def is_expert(self) -> bool:
        return self.role == Role.EXPERT

    @property
    def header_role_note(self) -> str:
        """What the header says beside the name, once: the city's name, or the role's label
        unless the display name already names the role (「厅领导（只读）」 is not 「只读（领导查阅）」 again)."""
        note = self.city.name if self.city else self.role_enum.label
        name = self.display_name or ""
        word = None if self.city else ROLE_WORDS.get(self.role_enum)
        if note in name or (word and word in name):
            return ""
        return note

    def is_locked(self, at: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > at

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class UserSession(Model):
    """One log-in, on the server: the cookie carries a random token, this row its SHA-256.
    Log-out deletes the row; so do a password change or reset and disabling the
    account (which also bump ``User.session_version``), its owner ending it on 我的账号 and a
    log-in past the account's limit of sessions. A session also ends
    :data:`auth.sessions.MAX_AGE` after log-in, however busy, and after the idle limit without
    a request of its own (``last_seen_at``, kept to the minute: :mod:`auth.sessions`)."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime(), index=True)
    last_seen_at: Mapped[datetime] = mapped_column(AwareDateTime())
    # Where and with what it logged in, for its owner to recognise it (never to decide anything).
    address: Mapped[str] = mapped_column(String(45), default="", server_default="")  # the longest IPv6 text
    user_agent: Mapped[str] = mapped_column(String(255), default="", server_default="")


class PasswordHistory(Model):
    """The hashes of an account's last passwords that its holder chose (the current one among
    them), so that a new one can be refused for being one of them (auth/password_history.py).
    At most ``domain.password_policy.HISTORY_SIZE`` rows per account: older ones are deleted."""

    __tablename__ = "password_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    set_at: Mapped[datetime] = mapped_column(AwareDateTime())
