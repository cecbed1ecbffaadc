"""Sessions on the server. A log-in starts one (a row holding the SHA-256 of a random token that
only the signed cookie carries); log-out ends it; a password change or reset and disabling an
account end all of the account's sessions (a lock after failed log-ins does not: it refuses new
log-ins only). A session also ends :data:`MAX_AGE` after its log-in however busy it is (the
cookie's own 2-hour idle limit ends it sooner when idle). Services: they take plain values and only flush."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, select

from ..clock import now
from ..extensions import db
from .models import User, UserSession

# OWASP ASVS 3.3.2 (level 2): re-authentication at least every 12 hours of use.
MAX_AGE = timedelta(hours=12)
# The key of the token in Flask's (signed) session cookie.
TOKEN_KEY = "_sid"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(user: User) -> str:
    """A new session of ``user``; returns the token for the cookie (kept nowhere else)."""
    moment = now()
    db.session.execute(delete(UserSession).where(UserSession.created_at < moment - MAX_AGE))
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, token_sha256=_digest(token), created_at=moment))
    db.session.flush()
    return token


def end_session(token: str | None) -> None:
    """Log-out: the session of ``token`` ends for every copy of its cookie."""
    if token:
        db.session.execute(delete(UserSession).where(UserSession.token_sha256 == _digest(token)))
        db.session.flush()


def end_all_sessions(user: User) -> None:
    """Every session of ``user`` ends (a new password, a disabled account)."""
    user.session_version += 1
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    db.session.flush()


def session_user(user_id: int, version: int, token: str | None) -> User | None:
    """The user of a live session: the token's row exists, is younger than :data:`MAX_AGE`, and
    belongs to an enabled user whose session version is still ``version``."""
    if not token:
        return None
    user = db.session.scalar(
        select(User).join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.token_sha256 == _digest(token), User.id == user_id,
               UserSession.created_at > now() - MAX_AGE))
    if user is None or user.session_version != version or not user.is_enabled:
        return None
    return user
