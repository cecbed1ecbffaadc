"""Authorization in one place.

Every query for city-owned records goes through :func:`scope_to_city`, so a clerk
only ever sees their own city's rows; another city's record is simply not found
(404), never a 403 that would confirm it exists. Role gates answer 404 for the
same reason.
"""
from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import abort
from flask_login import current_user
from sqlalchemy import Select, false

from .models import Role


def city_scope_id() -> int | None:
    """The city a user is confined to, or ``None`` for province staff and viewers."""
    if current_user.role == Role.CITY:
        return current_user.city_id
    return None


def scope_to_city(stmt: Select, city_column) -> Select:
    """Restrict ``stmt`` to rows the current user may see."""
    if not current_user.is_authenticated:
        return stmt.where(false())
    if current_user.role == Role.CITY:
        if current_user.city_id is None:
            return stmt.where(false())
        return stmt.where(city_column == current_user.city_id)
    return stmt


def can_see_city(city_id: int | None) -> bool:
    scope = city_scope_id()
    return current_user.is_authenticated and (
        current_user.role != Role.CITY or (scope is not None and scope == city_id))


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
