"""Passwords expire ``PASSWORD_MAX_AGE_DAYS`` after they were set (default 90, 0: never), and the
pages warn ``PASSWORD_EXPIRY_WARNING_DAYS`` before (default 7). Once expired, the account must
change its password before anything else: the same gate as after a reset
(``User.must_change_password``), set here once, when a request of the account first meets the
expired password, and recorded then (``auth.password_expired``)."""
from __future__ import annotations

from ..audit.services import record
from ..domain.password_policy import PasswordExpiry, password_expiry
from ..extensions import db
from .models import User


def expiry_of(user: User, *, max_age_days: int, warning_days: int) -> PasswordExpiry | None:
    """When ``user``'s current password expires; ``None``: passwords do not expire."""
    return password_expiry(user.password_changed_at, max_age_days=max_age_days, warning_days=warning_days)


def expire_password(user: User, expiry: PasswordExpiry) -> None:
    """``user``'s password has expired: nothing but changing it until it is changed."""
    user.must_change_password = True
    record("auth.password_expired", object_type="user", object_id=user.id, user=user,
           city_id=user.city_id,
           summary=f"密码已于 {expiry.expires_at:%Y-%m-%d} 到期（设置于 {user.password_changed_at:%Y-%m-%d}），"
                   "须修改密码后才能继续使用")
    db.session.flush()
