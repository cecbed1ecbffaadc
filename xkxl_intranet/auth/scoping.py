"""The shared gates: roles and cities.

Two halves:

- **Rules** that take the acting user explicitly (services use these): every query for
  city-owned records goes through :func:`scope_to_city`, so a clerk only ever sees their own
  city's rows; another city's record is simply not found (:class:`NotFound`, a 404), never a
  403 that would confirm it exists.
- **Route helpers** that read Flask-Login's ``current_user``: role gates
  (:func:`roles_required`, answering 404 for the same reason) and the ``*_or_404`` look-ups
  every blueprint shares. Services never import these.

What a rule needs of a package above (an assignment, a mark) lives beside that package, in its
``rules.py``: who may read an application or its files and who sees the province's marks
(``applications/rules.py``), whose score sheets (``review/rules.py``).

A review expert (评审专家) belongs to no city: every city-scoped query finds nothing for them,
and an application (with its files) is theirs to see only while it is assigned to them
(``applications.rules.scope_applications``). Every page not in :data:`EXPERT_ENDPOINTS` is a
404 for them (:func:`keep_experts_to_their_pages`, a ``before_request`` hook), so a page added
later is closed to experts until it is listed there.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeGuard, TypeVar

from flask import abort, g, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import Select, false

from ..domain.errors import NotFound
from ..extensions import db
from ..rounds.models import City, Round
from ..rounds.state import current_round
from .models import Role, User

# ---- rules (explicit user) ---------------------------------------------------------------------


STAFF_ROLES = frozenset({Role.PROVINCE, Role.VIEWER})

# A statement comes back restricted, with its columns as they were.
SelectT = TypeVar("SelectT", bound=Select)

def signed_in(user: User | None) -> TypeGuard[User]:
    return user is not None and user.is_authenticated


def scope_to_city(stmt: SelectT, city_column, user: User | None) -> SelectT:
    """Restrict ``stmt`` to rows ``user`` may see: staff everything, a clerk their city's, an
    expert nothing (an expert's applications come through
    ``applications.rules.scope_applications``)."""
    if not signed_in(user) or user.role not in STAFF_ROLES | {Role.CITY}:
        return stmt.where(false())
    if user.role == Role.CITY:
        if user.city_id is None:
            return stmt.where(false())
        return stmt.where(city_column == user.city_id)
    return stmt


def can_see_city(user: User | None, city_id: int | None) -> bool:
    if not signed_in(user):
        return False
    return user.role in STAFF_ROLES or (
        user.role == Role.CITY and user.city_id is not None and user.city_id == city_id)


def reads_audit_trail(user: User | None) -> bool:
    """Experts see no audit trail (not even an application's 修改记录)."""
    return signed_in(user) and user.role in STAFF_ROLES | {Role.CITY}


def sees_system_health(user: User | None) -> bool:
    """/healthz's details (database, revision, uploads' free space, queue) are the system
    administrator's: the province's account until the 系统管理员 role (``admin``) exists, which
    then alone sees them."""
    return signed_in(user) and user.role in {Role.PROVINCE, "admin"}


def is_own_city_clerk(user: User | None, city_id: int | None) -> bool:
    """Only a city's own clerk writes its applications and files."""
    return (user is not None and user.is_authenticated and user.role == Role.CITY
            and user.city_id is not None and user.city_id == city_id)


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
    "auth.account", "auth.end_session_view", "auth.end_other_sessions_view", "auth.login_verify", "second_factor.page", "second_factor.confirm",
    "second_factor.regenerate", "second_factor.turn_off", "applications.detail", "files.application_page", "files.download",
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
