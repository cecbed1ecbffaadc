"""What the owner of an account and the administrator see of its failed log-ins (the addresses
they came from, whether it is locked), what a log-in after failures says once, and lifting a
lock. Services: they take plain values and only flush."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from ..audit.models import AuditEvent
from ..audit.services import record
from ..clock import now
from ..domain.errors import Refused
from ..extensions import db
from .models import User
from .throttle import FAILURES, lift_lock, name_key

SHOWN_DAYS = 30
SHOWN_ADDRESSES = 50  # the busiest; the rest are counted
NAMED_IN_NOTICE = 3


@dataclass(frozen=True)
class AddressFailures:
    address: str
    failures: int
    first: datetime
    latest: datetime


@dataclass(frozen=True)
class FailureReport:
    """An account's failed log-ins over the last :data:`SHOWN_DAYS` days, per address (busiest
    first), and its lock."""

    addresses: list[AddressFailures]
    more_addresses: int  # beyond the listed ones
    failures: int
    locked_until: datetime | None  # if locked now

    @property
    def days(self) -> int:
        return SHOWN_DAYS


def _per_address(user: User, since: datetime, limit: int) -> tuple[list[AddressFailures], int, int]:
    """The addresses failures against ``user`` came from after ``since`` (the ``limit`` with
    most failures), how many addresses in all, and how many failures."""
    rows = db.session.execute(
        select(AuditEvent.ip, func.count(), func.min(AuditEvent.at), func.max(AuditEvent.at))
        .where(AuditEvent.username == name_key(user.username), AuditEvent.action.in_(FAILURES),
               AuditEvent.at > since)
        .group_by(AuditEvent.ip)
        .order_by(func.count().desc(), func.max(AuditEvent.at).desc())).all()
    listed = [AddressFailures(ip, count, first, latest) for ip, count, first, latest in rows[:limit]]
    return listed, len(rows), sum(row[1] for row in rows)


def recent_failures(user: User) -> FailureReport:
    at = now()
    listed, addresses, failures = _per_address(user, at - timedelta(days=SHOWN_DAYS), SHOWN_ADDRESSES)
    return FailureReport(listed, addresses - len(listed), failures,
                         user.locked_until if user.is_locked(at) else None)


def failures_since_last_login(user: User) -> str:
    """「自上次登录以来，有 N 次失败的登录尝试（来自 …）」, or nothing when there were none: said once,
    at the log-in that follows them (at the first log-in: those of the last :data:`SHOWN_DAYS`
    days)."""
    since = user.last_login_at or now() - timedelta(days=SHOWN_DAYS)
    listed, addresses, failures = _per_address(user, since, NAMED_IN_NOTICE)
    if not failures:
        return ""
    named = "、".join(entry.address or "未知地址" for entry in listed)
    if addresses > len(listed):
        named += f" 等{addresses}个地址"
    return f"自上次登录以来，有 {failures} 次失败的登录尝试（来自 {named}）"


def unlock_account(actor: User, user: User) -> None:
    """解除锁定: new log-ins to ``user`` are allowed again at once; failures before now no longer
    count toward the next lock."""
    at = now()
    if not user.is_locked(at):
        raise Refused(f"账号 {user.username} 当前未锁定，无需解除。")
    until = user.locked_until
    lift_lock(user, at)
    record("account.unlocked", user=actor, object_type="user", object_id=user.id, city_id=user.city_id,
           summary=f"解除账号 {user.username} 的锁定（原锁定至 {until:%m-%d %H:%M}）")
    db.session.flush()
