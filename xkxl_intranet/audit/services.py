"""The audit trail: every login, account change and state change is recorded here.

``record`` takes the acting user from its caller. The client's address is part of the unit
of work, not of the use case: the route layer puts it in ``db.session.info["client_ip"]``
(see ``web.remember_client_address``); commands leave it unset and are recorded as 命令行.
"""
from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import func, select

from ..clock import now
from ..extensions import db
from .models import AuditEvent

COMMAND_LINE = "命令行"


class Actor(Protocol):
    """What the trail keeps of whoever acts (``auth.models.User``, a package above this one)."""

    @property
    def id(self) -> int: ...

    @property
    def username(self) -> str: ...


def record(action: str, *, user: Actor | None, object_type: str = "", object_id: Any = "",
           city_id: int | None = None, summary: str = "", before: dict[str, Any] | None = None,
           after: dict[str, Any] | None = None, username: str | None = None) -> AuditEvent:
    """Add one audit event to the session (flushed with the caller's unit of work).
    ``user`` is the acting user, or ``None`` (an anonymous log-in attempt, a command)."""
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
    return event


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
