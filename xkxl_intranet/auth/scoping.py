"""Authorization in one place.

Two halves, both here so that there is one place to read who may see what:

- **Rules** that take the acting user explicitly (services use these): every query for
  city-owned records goes through :func:`scope_to_city`, so a clerk only ever sees their own
  city's rows; another city's record is simply not found (:class:`NotFound`, a 404), never a
  403 that would confirm it exists.
- **Route helpers** that read Flask-Login's ``current_user``: role gates
  (:func:`roles_required`, answering 404 for the same reason) and the ``*_or_404`` look-ups
  every blueprint shares. Services never import these.

A review expert (评审专家) belongs to no city: every city-scoped query finds nothing for them,
and an application (with its files) is theirs to see only while it is assigned to them
(:func:`scope_applications`). Every page not in :data:`EXPERT_ENDPOINTS` is a 404 for them
(:func:`keep_experts_to_their_pages`, a ``before_request`` hook), so a page added later is
closed to experts until it is listed there.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeGuard, TypeVar

from flask import abort, g, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import Row, Select, false, func, or_, select

from ..audit.models import AuditEvent
from ..domain.errors import NotFound
from ..extensions import db
from ..review.models import Assignment, SheetState
from ..rounds.models import BatchState, City, CityBatch, Round
from ..rounds.state import REPORTED_STATES, current_round
from .models import Role, User

# ---- rules (explicit user) ---------------------------------------------------------------------


STAFF_ROLES = frozenset({Role.PROVINCE, Role.VIEWER})

# A statement comes back restricted, with its columns as they were.
SelectT = TypeVar("SelectT", bound=Select)


def _signed_in(user: User | None) -> TypeGuard[User]:
    return user is not None and user.is_authenticated


def scope_to_city(stmt: SelectT, city_column, user: User | None) -> SelectT:
    """Restrict ``stmt`` to rows ``user`` may see: staff everything, a clerk their city's, an
    expert nothing (an expert's applications come through :func:`scope_applications`)."""
    if not _signed_in(user) or user.role not in STAFF_ROLES | {Role.CITY}:
        return stmt.where(false())
    if user.role == Role.CITY:
        if user.city_id is None:
            return stmt.where(false())
        return stmt.where(city_column == user.city_id)
    return stmt


def assigned_application_ids(user: User) -> Select[int]:
    """The applications assigned to an expert and not recused from."""
    return select(Assignment.application_id).where(Assignment.expert_id == user.id,
                                                   Assignment.state != SheetState.RECUSED)


def scope_applications(stmt: SelectT, user: User | None, *, application_column, city_column) -> SelectT:
    """Restrict ``stmt`` (rows of or about an application) to what ``user`` may see: for an
    expert the applications assigned to them, for everyone else :func:`scope_to_city`."""
    if _signed_in(user) and user.role == Role.EXPERT:
        return stmt.where(application_column.in_(assigned_application_ids(user)))
    return scope_to_city(stmt, city_column, user)


def scope_assignments(stmt: SelectT, user: User | None) -> SelectT:
    """Score sheets ``user`` may read: an expert their own, staff every one, a clerk none (a
    city never sees who reviews its applications or what they gave)."""
    if _signed_in(user) and user.role == Role.EXPERT:
        return stmt.where(Assignment.expert_id == user.id)
    if _signed_in(user) and user.role in STAFF_ROLES:
        return stmt
    return stmt.where(false())


def can_see_city(user: User | None, city_id: int | None) -> bool:
    if not _signed_in(user):
        return False
    return user.role in STAFF_ROLES or (
        user.role == Role.CITY and user.city_id is not None and user.city_id == city_id)


def reads_audit_trail(user: User | None) -> bool:
    """Experts see no audit trail (not even an application's 修改记录)."""
    return _signed_in(user) and user.role in STAFF_ROLES | {Role.CITY}


def is_own_city_clerk(user: User | None, city_id: int | None) -> bool:
    """Only a city's own clerk writes its applications and files."""
    return (user is not None and user.is_authenticated and user.role == Role.CITY
            and user.city_id is not None and user.city_id == city_id)


MARK_ACTION = "application.marked"
REPORT_ACTION = f"batch.{BatchState.REPORTED.value}"


def _city_batch(round_: Round, city_id: int | None) -> Row[int, str] | None:
    """(id, state) of the city's batch in the round, or ``None``."""
    return db.session.execute(select(CityBatch.id, CityBatch.state).where(
        CityBatch.round_id == round_.id, CityBatch.city_id == city_id)).first()


def marks_visible_to(user: User | None, round_: Round | None) -> bool:
    """Whether ``user`` sees the province's 推荐结果 marks of ``round_``: staff always, an expert
    never, a city once the province has published the round's results and only while the city's
    batch stands 已报送 or 已受理. A returned batch shows no mark (its marks were cleared when it
    was returned, ``review/marking.py``) until it is reported and marked again. The one rule
    for every page, list, export and audit trail a city reads."""
    if not _signed_in(user) or user.role == Role.EXPERT:
        return False
    if user.role != Role.CITY:
        return True
    if round_ is None or not round_.results_published:
        return False
    batch = _city_batch(round_, user.city_id)
    return batch is not None and batch.state in REPORTED_STATES


def scope_mark_events(stmt: SelectT, user: User | None, round_: Round | None) -> SelectT:
    """Restrict an audit-trail query to the mark events ``user`` may read under
    :func:`marks_visible_to`. A city reads only those recorded since its batch was last reported:
    the marks set on an earlier report were cleared when the batch was returned, and it sees
    what the province decides on what it reports now."""
    if not marks_visible_to(user, round_):
        return stmt.where(AuditEvent.action != MARK_ACTION)
    assert user is not None  # marks_visible_to shows no marks to nobody
    if user.role != Role.CITY:
        return stmt
    # marks_visible_to shows a city marks only of a round with its batch
    assert round_ is not None
    batch = _city_batch(round_, user.city_id)
    assert batch is not None
    last_report = db.session.scalar(select(func.max(AuditEvent.id)).where(
        AuditEvent.action == REPORT_ACTION, AuditEvent.object_type == "batch",
        AuditEvent.object_id == str(batch.id)))
    if last_report is None:
        return stmt
    return stmt.where(or_(AuditEvent.action != MARK_ACTION, AuditEvent.id > last_report))


def visible_city(user: User, city_id: int | None) -> City:
    """A city whose pages ``user`` may open; :class:`NotFound` otherwise."""
    city = db.session.get(City, city_id) if city_id else None
    if city is None or not can_see_city(user, city.id):
        raise NotFound
    return city


# ---- route helpers (current_user) --------------------------------------------------------------

def round_or_404(round_id: int | None = None) -> Round:
    """The round a page is about: ``round_id`` if given, else the current one (looked up once
    per request and shared with the layout)."""
    if round_id is not None:
        round_ = db.session.get(Round, round_id)
    else:
        if "current_round" not in g:
            g.current_round = current_round()
        round_ = g.current_round
    if round_ is None:
        raise NotFound
    return round_


def city_or_404(city_id: int | None) -> City:
    """A city the logged-in user may see (a clerk: only their own)."""
    return visible_city(current_user, city_id)


def roles_required(*roles: Role) -> Callable:
    """View decorator: other roles get a 404 (the page does not exist for them)."""
    allowed = {Role(r) for r in roles}

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated or Role(current_user.role) not in allowed:
                abort(404)
            return view(*args, **kwargs)
        return wrapped
    return decorator


province_required = roles_required(Role.PROVINCE)
city_required = roles_required(Role.CITY)
staff_required = roles_required(Role.PROVINCE, Role.VIEWER)
expert_required = roles_required(Role.EXPERT)

# The pages an expert may open; every other one is a 404 for them. The application page and
# its files are further scoped to the expert's assignments (scope_applications).
EXPERT_ENDPOINTS = frozenset({
    "static", "core.healthz", "auth.login", "auth.logout", "auth.change_password_view", "auth.keep_alive",
    "applications.detail", "files.application_page", "files.download",
    "review.mine", "review.save_sheet", "review.sheet_totals", "review.recuse", "review.sheet_pdf",
})


def keep_experts_to_their_pages():
    """``before_request``: an expert's home is their review list; any page not in
    :data:`EXPERT_ENDPOINTS` does not exist for them."""
    if not current_user.is_authenticated or current_user.role != Role.EXPERT:
        return None
    if request.endpoint == "core.index":
        return redirect(url_for("review.mine"))
    if request.endpoint not in EXPERT_ENDPOINTS:
        abort(404)
    return None
