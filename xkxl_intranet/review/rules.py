"""Who may read what of the review: an expert the applications assigned to them (declared to
``applications.rules``, which scopes every read of an application and its files), and the
score sheets (:func:`scope_assignments`)."""
from __future__ import annotations

from sqlalchemy import Select, false, select

from ..applications.rules import expert_applications_from
from ..auth.models import Role, User
from ..auth.scoping import STAFF_ROLES, SelectT, signed_in
from .models import Assignment, SheetState


@expert_applications_from
def assigned_application_ids(user: User) -> Select[int]:
    """The applications assigned to an expert and not recused from."""
    return select(Assignment.application_id).where(Assignment.expert_id == user.id,
                                                   Assignment.state != SheetState.RECUSED)


def scope_assignments(stmt: SelectT, user: User | None) -> SelectT:
    """Score sheets ``user`` may read: an expert their own, staff every one, a clerk none (a
    city never sees who reviews its applications or what they gave)."""
    if signed_in(user) and user.role == Role.EXPERT:
        return stmt.where(Assignment.expert_id == user.id)
    if signed_in(user) and user.role in STAFF_ROLES:
        return stmt
    return stmt.where(false())
