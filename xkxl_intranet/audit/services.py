"""The audit trail: every login, account change, state change, download and refusal is recorded here.

``record`` takes the acting user from its caller. The client's address is part of the unit
of work, not of the use case: the route layer puts it in ``db.session.info["client_ip"]``
(see ``web.remember_client_address``); commands leave it unset and are recorded as 命令行.

A row that describes an *attempt* (a wrong password, a download, a refused access) is kept even
when the unit of work it belongs to is rolled back: ``record(..., keep=True)``, or an action of
:data:`KEPT_ACTIONS` / :data:`KEPT_PREFIXES`. The route layer's rollback goes through
:func:`roll_back_keeping_attempts`, which commits those rows again on their own, with one row
「操作被拒绝」 naming what was refused. A row that describes a change (``password_changed``) is
not kept: the change did not happen. Rows are sealed into the hash chain when flushed
(``chain.py``).
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from ..clock import now
from ..extensions import db
from . import chain  # noqa: F401  (seals every new row when it is flushed)
from .models import AuditEvent

COMMAND_LINE = "命令行"
REFUSED = "operation.refused"
# Attempts, kept through a rollback (other packages pass keep=True for theirs).
KEPT_ACTIONS = frozenset({"auth.login_failed", "auth.login_refused_locked", "auth.login_refused_disabled",
                          "auth.address_throttled", "auth.lockout", "auth.password_check_failed",
                          "auth.2fa_failed", "audit.viewed", "audit.exported", "access.expert_read"})
KEPT_PREFIXES = ("access.", "download.")
_KEPT = "xkxl_audit_kept"  # the session's info: the rows of this transaction to keep
_COPIED = ("at", "user_id", "username", "ip", "action", "object_type", "object_id", "city_id", "summary",
           "before", "after")


class Actor(Protocol):
    """What the trail keeps of whoever acts (``auth.models.User``, a package above this one)."""

    @property
    def id(self) -> int: ...

    @property
    def username(self) -> str: ...


def record(action: str, *, user: Actor | None, object_type: str = "", object_id: Any = "",
           city_id: int | None = None, summary: str = "", before: dict[str, Any] | None = None,
           after: dict[str, Any] | None = None, username: str | None = None,
           keep: bool | None = None) -> AuditEvent:
    """Add one audit event to the session (flushed with the caller's unit of work).
    ``user`` is the acting user, or ``None`` (an anonymous log-in attempt, a command).
    ``keep``: the row survives a rollback of the unit of work (by default: the attempts of
    :data:`KEPT_ACTIONS` and :data:`KEPT_PREFIXES`)."""
    event = AuditEvent(
        at=now(),
        user_id=user.id if user is not None else None,
        username=username if username is not None else (user.username if user is not None else ""),
        ip=db.session.info.get("client_ip", COMMAND_LINE),
        action=action,
        object_type=object_type,
        object_id=str(object_id) if object_id not in (None, "") else "",
        city_id=city_id,
        summary=summary,
        before=before,
        after=after,
    )
    db.session.add(event)
    if keep if keep is not None else (action in KEPT_ACTIONS or action.startswith(KEPT_PREFIXES)):
        db.session.info.setdefault(_KEPT, []).append(event)
    return event


def record_unless_lately(action: str, *, user: Actor | None, summary: str,
                         within: timedelta = timedelta(minutes=1), **fields: Any) -> AuditEvent | None:
    """:func:`record`, unless the same person (or, anonymous, the same address) had the same
    event recorded within ``within``: a page reloaded or a link followed twice is one row, and a
    script hammering a page cannot flood the trail."""
    stmt = select(AuditEvent.id).where(AuditEvent.action == action, AuditEvent.summary == summary,
                                       AuditEvent.at >= now() - within)
    if user is not None:
        stmt = stmt.where(AuditEvent.user_id == user.id)
    else:
        stmt = stmt.where(AuditEvent.user_id.is_(None),
                          AuditEvent.ip == db.session.info.get("client_ip", COMMAND_LINE))
    if db.session.scalar(stmt.limit(1)) is not None:
        return None
    return record(action, user=user, summary=summary, **fields)


def record_download(user: Actor, what: str, file_name: str, *, object_type: str, object_id: Any,
                    city_id: int | None = None) -> AuditEvent:
    """A file that left the system: ``what`` names the kind (``download.roster`` …)."""
    return record(what, user=user, object_type=object_type, object_id=object_id, city_id=city_id,
                  summary=f"下载：{file_name}", after={"file": file_name})


@event.listens_for(Session, "after_commit")
def _forget_kept(session: Session) -> None:
    session.info.pop(_KEPT, None)


def roll_back_keeping_attempts(user: Actor | None, refused: str | None, what: str = "") -> None:
    """Roll the unit of work back, then commit again, on their own, the rows it recorded to be
    kept, and for a refusal (``refused``: its message) one row 「操作被拒绝」 naming ``what`` was
    refused (the request's method and path). Rows of changes are gone with the changes."""
    pending = [{name: getattr(e, name) for name in _COPIED} for e in db.session.info.pop(_KEPT, [])]
    db.session.rollback()
    for fields in pending:
        db.session.add(AuditEvent(**fields))
    if refused is not None:
        record(REFUSED, user=user, object_type="request", object_id=what[:40],
               city_id=getattr(user, "city_id", None), summary=f"{what}：{refused}" if what else refused)
    if pending or refused is not None:
        db.session.commit()


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys that changed, as (before, after) dicts of JSON-safe values."""
    changed = [k for k in after if before.get(k) != after.get(k)]
    return ({k: before.get(k) for k in changed}, {k: after.get(k) for k in changed})


def database_identity() -> list[Any]:
    """The first audit event of the database, which no other database shares (a database
    created anew numbers its rows and versions from 1 again, for other data): generated
    files are kept under it (``generated.identify_database_with``)."""
    first = db.session.execute(select(AuditEvent.id, AuditEvent.at).order_by(AuditEvent.id).limit(1)).first()
    return list(first) if first else []


def audit_stamp() -> int:
    """The newest audit event's id: every change a page shows is recorded in the same
    transaction, so it changes whenever such a page would (``fragment_cache``'s keys)."""
    return db.session.scalar(select(func.max(AuditEvent.id))) or 0
