"""An account's last passwords, kept as their argon2id hashes, so that a new one may not be one of
them ("新密码不能与最近5次使用过的密码相同").

What is kept: every password its holder chose (a change on 修改密码; an account made with a given
password it may keep: the demo's, ``flask init-db --demo``), the newest
:data:`~xkxl_intranet.domain.password_policy.HISTORY_SIZE` of them; older rows are deleted as a new one
is added, so the table holds at most five rows an account. The one-time password of a reset or of
a new account is not kept: the system drew it, the holder must replace it at the next log-in, and
keeping it would push one of the holder's own choices out of the five. It is refused all the same
while it is the current password (:func:`password_reused` compares the current hash too).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select

from ..domain.password_policy import HISTORY_SIZE
from ..extensions import db
from .models import PasswordHistory, User
from .passwords import verify_password


def recent_password_hashes(user: User) -> list[str]:
    """The hashes of the account's last chosen passwords, newest first."""
    return list(db.session.scalars(
        select(PasswordHistory.password_hash).where(PasswordHistory.user_id == user.id)
        .order_by(PasswordHistory.id.desc()).limit(HISTORY_SIZE)))


def password_reused(user: User, password: str) -> bool:
    """Whether ``password`` is the current one or one of the last chosen (one argon2 check each:
    at most six, ≈ 30 ms apiece, on a password change only)."""
    hashes = [user.password_hash, *(h for h in recent_password_hashes(user) if h != user.password_hash)]
    return any(verify_password(password_hash, password) for password_hash in hashes)


def remember_password(user: User, password_hash: str, at: datetime) -> None:
    """Keep ``password_hash`` as the account's newest chosen password and forget those beyond
    the last :data:`HISTORY_SIZE`."""
    db.session.add(PasswordHistory(user_id=user.id, password_hash=password_hash, set_at=at))
    db.session.flush()
    kept = select(PasswordHistory.id).where(PasswordHistory.user_id == user.id) \
        .order_by(PasswordHistory.id.desc()).limit(HISTORY_SIZE).scalar_subquery()
    db.session.execute(delete(PasswordHistory).where(PasswordHistory.user_id == user.id,
                                                     PasswordHistory.id.not_in(kept)))
