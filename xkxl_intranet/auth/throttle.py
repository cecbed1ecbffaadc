"""The per-address log-in throttle: one machine can neither spray guesses across the accounts nor
lock them all. Counted from the audit trail (every failed log-in is recorded there with its
address), so it holds across threads, processes and restarts and needs no table of its own.

Behind a reverse proxy the address is the proxy's unless the serving configuration passes the
client's address on (``serving --trusted-proxy``, as the deploy unit does); a limit of 0 turns the throttle off."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from ..audit.models import AuditEvent
from ..audit.services import record
from ..extensions import db

# What counts as a guess: a wrong password, an unknown user, a try on a locked account.
GUESSES = ("auth.login_failed", "auth.lockout", "auth.login_refused_locked")
THROTTLED = "auth.address_throttled"


@dataclass(frozen=True)
class AddressLimits:
    """Ten guesses per quarter hour leave room for an office of clerks behind one address
    mistyping; a sprayer gets 40 an hour instead of thousands. Three lock-outs a day per address
    keep one machine from locking more than three accounts (each lock lasts 15 minutes)."""

    guesses: int = 10
    guess_window: timedelta = timedelta(minutes=15)
    lockouts: int = 3
    lockout_window: timedelta = timedelta(hours=24)


def _recent(address: str, actions: tuple[str, ...], since: datetime) -> list[datetime]:
    return list(db.session.scalars(
        select(AuditEvent.at).where(AuditEvent.ip == address, AuditEvent.action.in_(actions),
                                    AuditEvent.at >= since).order_by(AuditEvent.at)))


def blocked_until(address: str, limits: AddressLimits, at: datetime) -> datetime | None:
    """When ``address`` may try again, or ``None`` if it may now."""
    if not address:
        return None
    ends = []
    for limit, window, actions in ((limits.guesses, limits.guess_window, GUESSES),
                                   (limits.lockouts, limits.lockout_window, ("auth.lockout",))):
        if limit > 0:
            times = _recent(address, actions, at - window)
            if len(times) >= limit:
                ends.append(times[-limit] + window)  # the limit-th latest leaves the window
    return max(ends, default=None)


def note_throttled(address: str, until: datetime, username: str, limits: AddressLimits,
                   at: datetime) -> None:
    """Record the throttle at most once a quarter hour per address, not once per refused try (a
    flood of those would otherwise flood the trail)."""
    if not _recent(address, (THROTTLED,), at - limits.guess_window):
        record(THROTTLED, user=None, object_type="address", object_id=address[:40], username=username[:60],
               summary=f"此地址登录失败次数过多，暂停从此地址登录至 {until:%m-%d %H:%M}",
               after={"until": until.isoformat()})
