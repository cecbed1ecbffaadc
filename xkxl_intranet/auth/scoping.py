"""Authorization in one place.

Two halves, both here so that there is one place to read who may see what:

- **Rules** that take the acting user explicitly (services use these): every query for
  city-owned records goes through :func:`scope_to_city`, so a clerk only ever sees their own
  city's rows; another city's record is simply not found (:class:`NotFound`, a 404), never a
  403 that would confirm it exists.
- **Route helpers** that read Flask-Login's ``current_user``: role gates
  (:func:`roles_required`, answering 404 for the same reason) and the ``*_or_404`` look-ups
  every blueprint shares. Services never import these.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort, g
from flask_login import current_user
from sqlalchemy import Select, false

from ..domain.errors import NotFound
from ..extensions import db
from ..rounds.models import City, Round
from ..rounds.state import current_round
from .models import Role, User

# ---- rules (explicit user) ---------------------------------------------------------------------


def scope_to_city(stmt: Select, city_column, user: User | None) -> Select:
    """Restrict ``stmt`` to rows ``user`` may see."""
    if user is None or not user.is_authenticated:
        return stmt.where(false())
    if user.role == Role.CITY:
        if user.city_id is None:
            return stmt.where(false())
        return stmt.where(city_column == user.city_id)
    return stmt


def can_see_city(user: User | None, city_id: int | None) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return user.role != Role.CITY or (user.city_id is not None and user.city_id == city_id)


def is_own_city_clerk(user: User | None, city_id: int | None) -> bool:
    """Only a city's own clerk writes its applications and files."""
    return (user is not None and user.is_authenticated and user.role == Role.CITY
            and user.city_id is not None and user.city_id == city_id)


MARK_ACTION = "application.marked"


def marks_visible_to(user: User | None, round_: Round | None) -> bool:
    """The province's 推荐结果 marks are internal until it publishes the round's results."""
    if user is None or not user.is_authenticated:
        return False
    return user.role != Role.CITY or (round_ is not None and round_.results_published)


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
