"""Reading applications, always through the acting user's scope: a clerk sees their city's."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select

from ..audit.models import AuditEvent
from ..auth.models import User
from ..auth.scoping import SelectT, reads_audit_trail, scope_to_city
from ..domain.errors import NotFound
from ..extensions import db
from ..listing import Paging, clamp_page
from ..rounds.models import City, CityBatch, Round
from ..rounds.state import REPORTED_STATES
from .models import Application, ApplicationFacts, ReviewState
from .rules import scope_applications, scope_mark_events


def summary_numbers(round_id: int, city_ids: Iterable[int]) -> dict[int, int]:
    """附件3's 序号 of the round's applications in ``city_ids``: application id -> its place among
    its city's 初审通过 applications in 附件3 order (``position``, then ``id``: reports.summary); an
    application not on the 附件3 is not in it. Numbered once per city by a window function, for
    the cities asked about only. The one numbering every page, list and archive shows as 序号.
    (A correlated count per row cost N × N/21: at 20,000 applications the last page of 全部申报
    took 4,918× a bare route; a joined window subquery is scanned once per row by SQLite.)"""
    cities = sorted(set(city_ids))
    if not cities:
        return {}
    numbered = (select(Application.id,
                       func.row_number().over(partition_by=Application.city_id,
                                              order_by=(Application.position, Application.id)))
                .where(Application.round_id == round_id, Application.review_state == ReviewState.PASSED,
                       Application.city_id.in_(cities)))
    return {application_id: number for application_id, number in db.session.execute(numbered)}


def number_in_summary(application: Application) -> int | None:
    """附件3's 序号 of one application (None: not on the 附件3)."""
    if application.review_state != ReviewState.PASSED:
        return None
    return db.session.scalar(select(func.count(Application.id)).where(
        Application.round_id == application.round_id, Application.city_id == application.city_id,
        Application.review_state == ReviewState.PASSED,
        or_(Application.position < application.position,
            and_(Application.position == application.position, Application.id <= application.id))))


# A list shows a dozen of the 120-odd columns. They are read as plain rows: loading a page of ORM
# objects with the rest deferred cost several times the query itself (SQLAlchemy sets up a loader
# for every deferred column of every row).
LIST_COLUMNS = (
    Application.id, Application.position, Application.enterprise_name, Application.platform_name,
    Application.credit_code, Application.review_state, Application.province_mark,
    Application.error_count, Application.open_warning_count, Application.updated_at)


@dataclass(frozen=True)
class ListedApplication(ApplicationFacts):
    """An application as the list shows it (the same names as :class:`Application`)."""

    id: int
    position: int
    enterprise_name: str | None
    platform_name: str | None
    credit_code: str | None
    review_state: str
    province_mark: str | None
    error_count: int
    open_warning_count: int
    updated_at: datetime
    summary_number: int | None  # 附件3's 序号; None: not on the 附件3 (not 初审通过)
    city: City


def applications_stmt(user: User, round_: Round) -> Select[Application]:
    """Every query for a round's applications starts here, confined to ``user``'s city."""
    return scope_to_city(select(Application).where(Application.round_id == round_.id),
                         Application.city_id, user)


def get_application(user: User, application_id: int) -> Application:
    """The application if ``user`` may see it; :class:`NotFound` otherwise (another city's, or
    for an expert one not assigned to them)."""
    application = db.session.scalar(
        scope_applications(select(Application).where(Application.id == application_id), user,
                           application_column=Application.id, city_column=Application.city_id))
    if application is None:
        raise NotFound
    return application


PAGE_SIZE = 50


@dataclass
class ApplicationPage(Paging):
    """One page of a list: its rows, and where it stands among all that match."""

    items: list[ListedApplication]


def _filtered(stmt: SelectT, *, q: str, state: str, city_id: int | None, problems: str) -> SelectT:
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
    return stmt


def list_applications(user: User, round_: Round, *, q: str = "", state: str = "", city_id: int | None = None,
                      problems: str = "", page: int = 1, per_page: int = PAGE_SIZE) -> ApplicationPage:
    """One page of the applications ``user`` may see that match the filters, in 附件3 order
    (city, then the city's order): the cost of a page does not grow with the round."""
    filters: dict[str, Any] = {"q": q, "state": state, "city_id": city_id, "problems": problems}
    total = db.session.scalar(_filtered(scope_to_city(
        select(func.count(Application.id)).where(Application.round_id == round_.id),
        Application.city_id, user), **filters)) or 0
    page = clamp_page(page, total, per_page)
    stmt = _filtered(scope_to_city(
        select(*LIST_COLUMNS, City).join(City, Application.city_id == City.id)
        .where(Application.round_id == round_.id), Application.city_id, user), **filters)
    stmt = (stmt.order_by(City.sort_order, Application.position, Application.id)
            .limit(per_page).offset((page - 1) * per_page))
    rows = db.session.execute(stmt).all()
    numbers = summary_numbers(round_.id, (row.City.id for row in rows))
    # A row is LIST_COLUMNS and then the city; the fields go in as one tuple, since mypy cannot
    # count the columns of a row whose tail (the City) it does not know.
    return ApplicationPage(total, page, per_page,
                           [ListedApplication(*(*row[:-1], numbers.get(row.id), row.City))
                            for row in rows])


def state_counts(user: User, round_: Round) -> dict[str, int]:
    stmt = scope_to_city(
        select(Application.review_state, func.count()).where(Application.round_id == round_.id),
        Application.city_id, user).group_by(Application.review_state)
    return {state: count for state, count in db.session.execute(stmt)}


def duplicate_ids(round_: Round, among: Iterable[int] | None = None) -> set[int]:
    """Ids of the applications in the round (or of those ``among``) that share their code or
    platform with another application of the round."""
    ids: set[int] = set()
    for column in (Application.org_code_key, Application.platform_key):
        shared = (select(column).where(Application.round_id == round_.id, column.is_not(None))
                  .group_by(column).having(func.count() > 1))
        stmt = select(Application.id).where(Application.round_id == round_.id, column.in_(shared))
        if among is not None:
            stmt = stmt.where(Application.id.in_(list(among)))
        ids.update(db.session.scalars(stmt))
    return ids


def history(user: User, application: Application, limit: int = 30) -> list[AuditEvent]:
    """The application's audit events; the province's marks only as ``applications.rules`` lets
    ``user`` see them (a city: published, and on what it reported last); an expert reads no trail."""
    if not reads_audit_trail(user):
        return []
    stmt = select(AuditEvent).where(AuditEvent.object_type == "application",
                                    AuditEvent.object_id == str(application.id))
    stmt = scope_mark_events(stmt, user, application.round)
    return list(db.session.scalars(stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)))


def counted(round_: Round, *, include_unreported: bool = False) -> ColumnElement[bool]:
    """The applications the province counts and prints: by default only what the cities
    reported, i.e. 初审通过 in a batch that is 已报送 or 已受理 (a returned batch is being
    corrected and counts again once reported). ``include_unreported`` takes every application
    of the round: the views named 「含未报送」."""
    return counted_in_round(round_.id, include_unreported=include_unreported)


def counted_in_round(round_id: Any, *, include_unreported: bool = False) -> ColumnElement[bool]:
    """:func:`counted` for a round id, which may be a bound parameter (a statement built once)."""
    condition: ColumnElement[bool] = Application.round_id == round_id
    if include_unreported:
        return condition
    # One comparison per state rather than IN (…): an IN list is expanded at every execution.
    reported_batches = select(CityBatch.city_id).where(CityBatch.round_id == round_id,
                                                      or_(*(CityBatch.state == s for s in REPORTED_STATES)))
    return and_(condition, Application.review_state == ReviewState.PASSED,
                Application.city_id.in_(reported_batches))
