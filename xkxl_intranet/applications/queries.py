"""Reading applications, always through the acting user's scope: a clerk sees their city's."""
from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import load_only

from ..audit.models import AuditEvent
from ..auth.scoping import MARK_ACTION, marks_visible_to, reads_audit_trail, scope_applications, scope_to_city
from ..domain.errors import NotFound
from ..extensions import db
from ..rounds.models import City, Round
from .models import Application, ReviewState

# A list needs a dozen of the 120-odd columns; loading only those keeps 840 rows cheap.
LIST_COLUMNS = (
    Application.id, Application.round_id, Application.city_id, Application.position,
    Application.enterprise_name, Application.platform_name, Application.credit_code,
    Application.review_state, Application.province_mark, Application.error_count,
    Application.open_warning_count, Application.updated_at, Application.version)


def applications_stmt(user, round_: Round):
    """Every query for a round's applications starts here, confined to ``user``'s city."""
    return scope_to_city(select(Application).where(Application.round_id == round_.id),
                         Application.city_id, user)


def get_application(user, application_id: int) -> Application:
    """The application if ``user`` may see it; :class:`NotFound` otherwise (another city's, or
    for an expert one not assigned to them)."""
    application = db.session.scalar(
        scope_applications(select(Application).where(Application.id == application_id), user,
                           application_column=Application.id, city_column=Application.city_id))
    if application is None:
        raise NotFound
    return application


def list_applications(user, round_: Round, *, q: str = "", state: str = "",
                      city_id: int | None = None, problems: str = "") -> list[Application]:
    stmt = applications_stmt(user, round_).join(City, Application.city_id == City.id)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(Application.enterprise_name.ilike(like),
                              Application.platform_name.ilike(like),
                              Application.credit_code.ilike(like.upper())))
    if state in {s.value for s in ReviewState}:
        stmt = stmt.where(Application.review_state == state)
    if city_id:
        stmt = stmt.where(Application.city_id == city_id)
    if problems == "errors":
        stmt = stmt.where(Application.error_count > 0)
    elif problems == "warnings":
        stmt = stmt.where(Application.open_warning_count > 0)
    stmt = stmt.options(load_only(*LIST_COLUMNS))
    stmt = stmt.order_by(City.sort_order, Application.position, Application.id)
    return list(db.session.scalars(stmt))


def state_counts(user, round_: Round) -> dict[str, int]:
    stmt = scope_to_city(
        select(Application.review_state, func.count()).where(Application.round_id == round_.id),
        Application.city_id, user).group_by(Application.review_state)
    return {state: count for state, count in db.session.execute(stmt)}


def duplicate_ids(round_: Round) -> set[int]:
    """Ids of every application in the round that shares its code or platform with another."""
    ids: set[int] = set()
    for column in (Application.org_code_key, Application.platform_key):
        shared = (select(column).where(Application.round_id == round_.id, column.is_not(None))
                  .group_by(column).having(func.count() > 1))
        ids.update(db.session.scalars(select(Application.id).where(
            Application.round_id == round_.id, column.in_(shared))))
    return ids


def history(user, application: Application, limit: int = 30) -> list[AuditEvent]:
    """The application's audit events; a city sees the province's marks only once the round's
    results are published; an expert reads no trail."""
    if not reads_audit_trail(user):
        return []
    stmt = select(AuditEvent).where(AuditEvent.object_type == "application",
                                    AuditEvent.object_id == str(application.id))
    if not marks_visible_to(user, application.round):
        stmt = stmt.where(AuditEvent.action != MARK_ACTION)
    return list(db.session.scalars(stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)))
