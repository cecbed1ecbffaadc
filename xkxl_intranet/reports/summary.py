"""附件3 推荐信息汇总表: one city's 初审通过 applications in the clerk's order, its contact,
the clerk's reordering, and the printed sheet.

Every function takes the acting user first; another city's summary is :class:`NotFound`, a
step the rules do not allow is :class:`Refused`. Writes only flush: the route commits.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Select, Table, and_, bindparam, func, select, update
from sqlalchemy.orm import load_only
from sqlalchemy.orm.attributes import set_committed_value

from ..applications.models import Application, ReviewState
from ..applications.queries import applications_stmt
from ..audit.services import record
from ..auth.models import User
from ..auth.scoping import is_own_city_clerk, scope_to_city, visible_city
from ..domain.errors import NotFound, Refused
from ..domain.findings import ParseError
from ..domain.parsing import parse_email, parse_phone
from ..extensions import db
from ..generated import rows
from ..printing import print_pdf
from ..rounds.models import City, CityBatch, Round
from ..rounds.state import batch_is_locked
from .sheet import SUMMARY_COLUMNS, summary_loading, summary_of
from .summary_layout import Summary

LOCKED_ORDER_MESSAGE = "本市（州）已报送，推荐信息汇总表的顺序不能再调整；如需修改，请联系省厅退回。"
CONTACT_MAX_LENGTH = 40
DIRECTIONS = {"up": "上移", "down": "下移"}


def city_applications_stmt(user: User, round_: Round, city: City) -> Select[Application]:
    """The city's applications of the round that ``user`` may see, in 附件3 order."""
    return (applications_stmt(user, round_).where(Application.city_id == city.id)
            .order_by(Application.position, Application.id))


def _own_city(user: User, city: City) -> City:
    """Only the city's own clerk changes its 附件3; for anyone else it is not there."""
    if not is_own_city_clerk(user, city.id):
        raise NotFound
    return city


# ---- reading ------------------------------------------------------------------------------------

def passed_applications(user: User, round_: Round, city: City) -> list[Application]:
    """The city's 初审通过 applications in 附件3 order."""
    visible_city(user, city.id)
    stmt = (city_applications_stmt(user, round_, city).options(*summary_loading(round_.declaration))
            .where(Application.review_state == ReviewState.PASSED))
    return list(db.session.scalars(stmt))


def build_summary(user: User, round_: Round, city: City) -> Summary:
    """What the city's 附件3 prints: the heading lines and one row per 初审通过 application."""
    return summary_of(round_, city, passed_applications(user, round_, city))


def passed_counts(user: User, round_: Round) -> dict[int, int]:
    """City id -> number of 初审通过 applications (the rows of each city's 附件3)."""
    stmt = scope_to_city(
        select(Application.city_id, func.count()).where(Application.round_id == round_.id,
                                                        Application.review_state == ReviewState.PASSED),
        Application.city_id, user).group_by(Application.city_id)
    return {city_id: count for city_id, count in db.session.execute(stmt)}


def summary_locked(round_: Round, city: City) -> bool:
    """Once the city has reported, its 附件3 order is fixed."""
    return batch_is_locked(round_.id, city.id)


def summary_versions(user: User, round_: Round, city: City) -> list[Any]:
    """What the city's 附件3 depends on, the key of its files (see :mod:`generated`): the
    round's title, the city's names and contact, its batch's version (the 信息公开选项) and each
    初审通过 application's id, version and place, in one query. A save in another city, or a
    draft of this one, changes none of it. Another city's is :class:`NotFound`."""
    visible_city(user, city.id)
    stmt = (select(City.name, City.department_name, City.contact_name, City.contact_phone, CityBatch.version,
                   Application.id, Application.version, Application.position)
            .select_from(City)
            .outerjoin(CityBatch, and_(CityBatch.city_id == City.id, CityBatch.round_id == round_.id))
            .outerjoin(Application, and_(Application.city_id == City.id, Application.round_id == round_.id,
                                         Application.review_state == ReviewState.PASSED))
            .where(City.id == city.id)
            .order_by(Application.position, Application.id))
    return [round_.id, round_.title, rows(db.session.execute(stmt))]


def summary_pdf(summary: Summary) -> bytes:
    """The 附件3 as the round's notice lays it out: A4 portrait, the table header on every page,
    the foot (disclosure, seal, date) kept with the last row."""
    return print_pdf("reports/summary_print.html", summary=summary)


# ---- the clerk's changes ---------------------------------------------------------------------------

def _renumber(applications: list[Application]) -> None:
    """Write positions 1..n with a plain UPDATE: the order is not part of what a clerk edits in
    the form, so it must not make an open edit form look stale (version column)."""
    changes = [{"b_id": a.id, "b_position": n}
               for n, a in enumerate(applications, start=1) if a.position != n]
    if changes:
        # DeclarativeBase types __table__ as a FromClause; a mapped class's is its Table
        table: Table = Application.__table__  # type: ignore[assignment]
        stmt = update(table).where(table.c.id == bindparam("b_id")).values(position=bindparam("b_position"))
        db.session.execute(stmt, changes)
    for n, application in enumerate(applications, start=1):
        set_committed_value(application, "position", n)


def _passed_titles(applications: list[Application]) -> list[str]:
    return [a.title for a in applications if a.review_state == ReviewState.PASSED]


def move_application(user: User, round_: Round, city: City, application_id: int, direction: str) -> str:
    """Move a 初审通过 application one place up or down on the city's 附件3; returns the
    message for the clerk.

    Every application of the city is renumbered densely (1..n) keeping everything else in
    place; an application that is not on the 附件3 is :class:`NotFound`.
    """
    _own_city(user, city)
    if direction not in DIRECTIONS:
        raise Refused("请选择上移或下移。")
    if batch_is_locked(round_.id, city.id):
        raise Refused(LOCKED_ORDER_MESSAGE)
    applications = list(db.session.scalars(
        city_applications_stmt(user, round_, city).options(load_only(*SUMMARY_COLUMNS))))
    passed = [a for a in applications if a.review_state == ReviewState.PASSED]
    moving = next((a for a in passed if a.id == application_id), None)
    if moving is None:
        raise NotFound
    other_index = passed.index(moving) + (-1 if direction == "up" else 1)
    if not 0 <= other_index < len(passed):
        return f"“{moving.title}”已在{'第一' if direction == 'up' else '最后一'}位。"
    before = _passed_titles(applications)
    i, j = applications.index(moving), applications.index(passed[other_index])
    applications[i], applications[j] = applications[j], applications[i]
    _renumber(applications)
    done = f"“{moving.title}”{DIRECTIONS[direction]}至第 {other_index + 1} 位"
    record("summary.reordered", user=user, object_type="city", object_id=city.id, city_id=city.id,
           summary=f"调整推荐信息汇总表顺序：{done}",
           before={"order": before}, after={"order": _passed_titles(applications)})
    db.session.flush()
    return f"已将{done}。"


def _contact_name(raw: str | None) -> str:
    name = " ".join((raw or "").split())
    if not name:
        raise Refused("请填写「联系人」。", field="contact_name")
    if len(name) > CONTACT_MAX_LENGTH:
        raise Refused(f"「联系人」不能超过{CONTACT_MAX_LENGTH}个字，当前为{len(name)}个字。", field="contact_name")
    return name


def _contact_phone(raw: str | None) -> str:
    try:
        phone = parse_phone(raw, "联系方式")
    except ParseError as err:
        raise Refused(err.message, field="contact_phone") from None
    if not phone:
        raise Refused("请填写「联系方式」。", field="contact_phone")
    if len(phone) > CONTACT_MAX_LENGTH:
        raise Refused(f"「联系方式」不能超过{CONTACT_MAX_LENGTH}个字符，当前为{len(phone)}个。",
                      field="contact_phone")
    return phone


def _contact_email(raw: str | None) -> str:
    try:
        return parse_email(raw, "电子邮箱") or ""
    except ParseError as err:
        raise Refused(err.message, field="contact_email") from None


def update_contact(user: User, round_: Round, city: City, contact_name: str | None,
                   contact_phone: str | None, contact_email: str | None = None) -> None:
    """The contact printed on the city's 附件3 (联系人 / 联系方式), set by its clerk until the batch
    is reported: the reported 附件3 (and its receipt) keep the contact they were reported with.
    The contact's e-mail (optional, not printed) also receives the city's notices by mail."""
    _own_city(user, city)
    name, phone, email = _contact_name(contact_name), _contact_phone(contact_phone), _contact_email(contact_email)
    if batch_is_locked(round_.id, city.id) and (name, phone) != (city.contact_name, city.contact_phone):
        # the reported 附件3 keeps its contact; the e-mail is not printed, so it may still change
        raise Refused("本市（州）已报送，推荐信息汇总表的联系人不能再修改；如需修改，请联系省厅退回。")
    before = {"contact_name": city.contact_name, "contact_phone": city.contact_phone,
              "contact_email": city.contact_email}
    after = {"contact_name": name, "contact_phone": phone, "contact_email": email}
    if before == after:
        return
    city.contact_name, city.contact_phone, city.contact_email = name, phone, email
    record("city.contact_updated", user=user, object_type="city", object_id=city.id, city_id=city.id,
           summary=f"修改推荐信息汇总表联系人：{name} {phone}", before=before, after=after)
    db.session.flush()
