"""The log-in throttle, counted from the audit trail: every failed log-in (and every wrong current
password on the password page) is recorded there with its address and the name as typed,
lower-cased, so the counts hold across threads, processes and restarts and need no table of
their own. The rules are :mod:`domain.login_throttle`'s.

Behind a reverse proxy the address is the proxy's unless the serving configuration passes the
client's address on (``serving --trusted-proxy``, as the deploy unit does)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from blinker import Namespace
from sqlalchemy import ColumnElement, distinct, func, select

from ..audit.models import AuditEvent
from ..audit.services import record
from ..domain.login_throttle import Tally, ThrottleLimits, locks_account, retry_at
from ..extensions import db
from .models import User

# What counts as a failure: a wrong password at log-in (or an unknown name), a wrong current
# password on the password page. A try refused by the throttle or the lock checks nothing and
# is not a failure.
FAILURES = ("auth.login_failed", "auth.password_check_failed")
THROTTLED = "auth.address_throttled"
# A refused try is recorded at most once a minute per (address, name), not once per try: a script
# hammering the log-in would otherwise write a row per request, while a person retrying by hand
# (the owner during a wait) is recorded each time but the fastest clicks.
THROTTLE_NOTE_EVERY = timedelta(minutes=1)


# Sent (the locked user as sender, ``until=``) when a failure locks an account: packages above
# auth answer it without auth importing them (notifications/events.py: the administrators and
# the account are told).
account_locked = Namespace().signal("account-locked")

def name_key(username: str) -> str:
    """The name as typed, as failures are recorded and counted: stripped, lower-cased (log-in
    ignores case), cut to the trail's column."""
    return username.strip().lower()[:60]


def _tally(*conditions: ColumnElement[bool]) -> Tally:
    failures, latest = db.session.execute(
        select(func.count(), func.max(AuditEvent.at))
        .where(AuditEvent.action.in_(FAILURES), *conditions)).one()
    return Tally(failures, latest)


def _last_success(user_id: int, address: str) -> datetime | None:
    return db.session.scalar(select(func.max(AuditEvent.at)).where(
        AuditEvent.ip == address, AuditEvent.action == "auth.login", AuditEvent.user_id == user_id))


def counted_since(user: User | None, address: str, at: datetime, window: timedelta) -> datetime:
    """Since when failures of a (name, address) pair count: the window, cut short by the account's
    last log-in from ``address`` and by the end of its last lock (ended, or lifted by the
    administrator: a fresh start for the owner from every address)."""
    moments: list[datetime | None] = [at - window]
    if user is not None:
        moments.append(_last_success(user.id, address))
        if user.locked_until is not None and user.locked_until <= at:
            moments.append(user.locked_until)
    return max(moment for moment in moments if moment is not None)


def blocked_until(key: str, address: str, limits: ThrottleLimits, at: datetime, *,
                  user: User | None = None) -> datetime | None:
    """Until when a try for the name ``key`` from ``address`` must wait, or ``None`` if it may be
    made now. The pair counts its failures since :func:`counted_since` (``user``: the account
    the name belongs to, if any); the address counts all of its own in the window."""
    if not address:  # a command, not a client
        return None
    ends: list[datetime] = []
    if limits.free_per_pair > 0:
        pair = _tally(AuditEvent.ip == address, AuditEvent.username == key,
                      AuditEvent.at > counted_since(user, address, at, limits.window))
        ends.append(retry_at(pair, limits.free_per_pair, limits) or at)
    if limits.free_per_address > 0:
        every_name = _tally(AuditEvent.ip == address, AuditEvent.at > at - limits.window)
        ends.append(retry_at(every_name, limits.free_per_address, limits) or at)
    until = max(ends, default=at)
    return until if until > at else None


def note_throttled(address: str, until: datetime, username: str, at: datetime, *,
                   account: User | None = None) -> None:
    """Record a try refused by the throttle, at most once per :data:`THROTTLE_NOTE_EVERY` per
    (address, name); ``account``: the account the name belongs to, so that the row is found
    with the account's other events."""
    recent = db.session.scalar(select(AuditEvent.id).where(
        AuditEvent.ip == address, AuditEvent.username == username[:60], AuditEvent.action == THROTTLED,
        AuditEvent.at >= at - THROTTLE_NOTE_EVERY).limit(1))
    if recent is None:
        record(THROTTLED, user=None, object_type="user" if account is not None else "address",
               object_id=account.id if account is not None else address[:40], username=username[:60],
               city_id=account.city_id if account is not None else None,
               summary=f"登录尝试过于频繁，此地址以此用户名须等待至 {until:%H:%M:%S} 再试（本次未检查密码）",
               after={"until": until.isoformat()})


def must_wait(key: str, address: str, limits: ThrottleLimits, at: datetime, *,
              user: User | None = None) -> bool:
    """Whether a try for the name ``key`` from ``address`` is refused unchecked (the log-in, its
    second step, the current password on 修改密码): :func:`blocked_until`, the refusal noted."""
    until = blocked_until(key, address, limits, at, user=user)
    if until is None:
        return False
    note_throttled(address, until, key, at, account=user)
    return True


def count_failure(user: User, action: str, summary: str, limits: ThrottleLimits, at: datetime) -> None:
    """A wrong secret for ``user`` (a password, a second-factor code): recorded under the name
    the throttle counts, and the account locked against new log-ins if it is attacked."""
    record(action, object_type="user", object_id=user.id, user=user, username=name_key(user.username),
           city_id=user.city_id, summary=summary)
    lock_if_attacked(user, limits, at)


@dataclass(frozen=True)
class AccountTally:
    failures: int
    addresses: int


def account_tally(user: User, since: datetime) -> AccountTally:
    """Failures against ``user``'s name since ``since``, and from how many addresses."""
    failures, addresses = db.session.execute(
        select(func.count(), func.count(distinct(AuditEvent.ip)))
        .where(AuditEvent.username == name_key(user.username), AuditEvent.action.in_(FAILURES),
               AuditEvent.at > since)).one()
    return AccountTally(failures, addresses)


def lock_if_attacked(user: User, limits: ThrottleLimits, at: datetime) -> bool:
    """After a failure against ``user``: lock the account against new log-ins when the window
    holds enough failures from enough addresses. Counting starts afresh when a lock ends
    (``locked_until``, which unlocking sets to the moment it is lifted). Sessions already
    logged in are left alone: a lock keeps out, it does not throw out. Returns whether this
    failure locked it."""
    if limits.lock_failures <= 0 or user.is_locked(at):
        return False
    db.session.flush()  # the failure just recorded counts
    since = at - limits.window
    if user.locked_until is not None and user.locked_until > since:
        since = user.locked_until
    tally = account_tally(user, since)
    if not locks_account(tally.failures, tally.addresses, limits):
        return False
    user.locked_until = at + limits.lock_duration
    record("auth.lockout", object_type="user", object_id=user.id, user=user, city_id=user.city_id,
           summary=f"{tally.addresses}个地址的{tally.failures}次登录失败，账号暂停新的登录至 "
                   f"{user.locked_until:%m-%d %H:%M}（已登录的会话不受影响）",
           after={"until": user.locked_until.isoformat(), "failures": tally.failures,
                  "addresses": tally.addresses})
    db.session.flush()
    account_locked.send(user, until=user.locked_until)
    return True


def lift_lock(user: User, at: datetime) -> None:
    """A fresh start for ``user`` (解除锁定, a password reset): any lock ends now, and failures
    before now count neither toward the next lock nor toward the waits of any address trying
    the account's name (``locked_until`` keeps the moment: :func:`counted_since`)."""
    user.locked_until = at
