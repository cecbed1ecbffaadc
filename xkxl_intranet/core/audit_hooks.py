"""What the audit trail records of requests as such: refused access (a 404 or 403 answered to a
signed-in person, a viewer's write, a failed CSRF check) and the rows kept when a request's unit
of work is rolled back (``web.roll_back`` calls :func:`keep_attempts_through_rollback`).

Every 404 for a signed-in person is recorded, with the method and path: another city's record,
an application not assigned to an expert and a page a role may not open all answer 404 (never a
403 that would confirm the record exists), so the honest rule is to record them all. The same
person asking the same path within a minute is one row (``record_unless_lately``)."""
from __future__ import annotations

from flask import current_app, has_request_context, request
from flask_login import current_user

from ..audit.services import record_unless_lately, roll_back_keeping_attempts
from ..auth.models import Role, User
from ..extensions import db
from ..web import ROLLBACK_KEEPER, remember_client_address, roll_back

READS = frozenset({"GET", "HEAD", "OPTIONS"})


def _actor() -> User | None:
    if not has_request_context() or not current_user.is_authenticated:
        return None
    return current_user._get_current_object()


def _request_words() -> str:
    return f"{request.method} {request.full_path.rstrip('?')}"[:300] if has_request_context() else ""


def keep_attempts_through_rollback(refused: str | None) -> None:
    roll_back_keeping_attempts(_actor(), refused, _request_words())


def _commit_record(action: str, user: User | None, summary: str, after: dict | None = None) -> None:
    """The refusal's row in a transaction of its own (what the request began is rolled back
    first, its attempts kept); a failure to write it is logged, never shown instead of the page."""
    try:
        roll_back()
        remember_client_address()  # CSRF protection refuses before the app's own hooks run
        record_unless_lately(action, user=user, summary=summary, object_type="request",
                             object_id=(request.endpoint or "")[:40], city_id=user.city_id if user else None,
                             after=after)
        db.session.commit()
    except Exception:
        current_app.logger.exception("the audit row of a refused request was not written")
        db.session.rollback()


def record_refused_access(status: int) -> None:
    """A 404 or 403 answered to a signed-in person; a viewer's write is named as such."""
    user = _actor()
    if user is None:
        return
    viewer_write = user.role == Role.VIEWER and request.method not in READS
    action = "access.viewer_write" if viewer_write else "access.not_found"
    _commit_record(action, user, f"{_request_words()} → {status}")


def record_oversize_upload(size: int | None, limit_words: str) -> None:
    """An upload refused as too large before the app read it (a 413 from the body's length): the
    same event as a file the app read and refused (files/operations.py), with who, the size, why
    and the page's words; no file name, since none was read. Anonymous clients are sent to log
    in before this."""
    user = _actor()
    if user is None:
        return
    category = (request.view_args or {}).get("category")
    size_words = f"{size:,} 字节，" if size is not None else ""  # another size is another attempt
    _commit_record("file.upload_refused", user, f"{_request_words()} → 413：{size_words}{limit_words}",
                   after={"category": category, "name": None, "size": size, "reason": "too_large"})


def record_csrf_failure(reason: str) -> None:
    """A form or htmx request whose CSRF token is missing or wrong (the user may be anonymous)."""
    _commit_record("access.csrf_failed", _actor(), f"{_request_words()}：{reason}")


def connect_audit(app) -> None:
    app.extensions[ROLLBACK_KEEPER] = keep_attempts_through_rollback
