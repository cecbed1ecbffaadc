"""Who may read an application and what of it: the predicates beside the package they guard
(``auth/scoping.py`` keeps the shared role and city gates).

An application and its files: a clerk their city's (``scope_to_city``), staff every one, an
expert those assigned to them. The assignments are review's, a package above this one: review
declares them (:func:`expert_applications_from`, in ``review/rules.py``) and, until it has,
an expert reads no application at all. The province's marks (推荐结果) are a column of the
application: :func:`marks_visible_to` says who sees them, :func:`scope_mark_events` which
mark events of the audit trail.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Row, Select, false, func, or_, select

from ..audit.models import AuditEvent
from ..auth.models import Role, User
from ..auth.scoping import SelectT, scope_to_city, signed_in
from ..extensions import db
from ..rounds.models import BatchState, CityBatch, Round
from ..rounds.state import REPORTED_STATES

# The statement of the application ids an expert may read (review/rules.py declares it: the
# applications assigned to them and not recused from). None: nothing is declared, none is read.
_expert_applications: Callable[[User], Select[int]] | None = None


def expert_applications_from(declared: Callable[[User], Select[int]]) -> Callable[[User], Select[int]]:
    """Declare which applications an expert may read (``declared(user)``: a statement of their
    ids). Used as a decorator by the package that assigns applications to experts."""
    global _expert_applications
    _expert_applications = declared
    return declared


def scope_applications(stmt: SelectT, user: User | None, *, application_column: Any, city_column: Any) -> SelectT:
    """Restrict ``stmt`` (rows of or about an application) to what ``user`` may see: for an
    expert the applications assigned to them (none while no assignments are declared), for
    everyone else :func:`scope_to_city`."""
    if signed_in(user) and user.role == Role.EXPERT:
        if _expert_applications is None:
            return stmt.where(false())
        return stmt.where(application_column.in_(_expert_applications(user)))
    return scope_to_city(stmt, city_column, user)


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
    if not signed_in(user) or user.role == Role.EXPERT:
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
    # marks_visible_to shows a city marks only of a round in which it has a batch
    assert round_ is not None
    batch = _city_batch(round_, user.city_id)
    assert batch is not None
    last_report = db.session.scalar(select(func.max(AuditEvent.id)).where(
        AuditEvent.action == REPORT_ACTION, AuditEvent.object_type == "batch",
        AuditEvent.object_id == str(batch.id)))
    if last_report is None:
        return stmt
    return stmt.where(or_(AuditEvent.action != MARK_ACTION, AuditEvent.id > last_report))
