"""The audit trail: every login, account change and state change is recorded here."""
from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from flask_login import current_user

from ..clock import now
from ..extensions import db
from .models import AuditEvent


def client_ip() -> str:
    if not has_request_context():
        return "命令行"
    return request.remote_addr or ""


def record(action: str, *, object_type: str = "", object_id: Any = "", city_id: int | None = None,
           summary: str = "", before: dict | None = None, after: dict | None = None,
           user=None, username: str | None = None) -> AuditEvent:
    """Add one audit event to the session (flushed with the caller's unit of work)."""
    if user is None and has_request_context() and current_user and current_user.is_authenticated:
        user = current_user._get_current_object()
    event = AuditEvent(
        at=now(),
        user_id=user.id if user is not None else None,
        username=username if username is not None else (user.username if user is not None else ""),
        ip=client_ip(),
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


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict, dict]:
    """Only the keys that changed, as (before, after) dicts of JSON-safe values."""
    changed = [k for k in after if before.get(k) != after.get(k)]
    return ({k: before.get(k) for k in changed}, {k: after.get(k) for k in changed})
