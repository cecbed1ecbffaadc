"""The province-wide roster and its filtered lists (全省申报名单, 推荐工信部名单, 列入省级培育名单),
with what a user may see of it: a clerk's roster would hold only their own city's rows."""
from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup
from sqlalchemy import BigInteger, Select, and_, func, select, type_coerce
from sqlalchemy.orm import aliased

from ..applications.models import (
    Application,
    ApplicationFigure,
    ProvinceMark,
    ReviewState,
    figure_hundredths,
    figure_value,
)
from ..applications.queries import counted
from ..auth.models import User
from ..auth.scoping import scope_to_city
from ..clock import now
from ..domain.answers import IDENTITY_KEYS
from ..domain.declaration import Form
from ..domain.errors import NotFound
from ..domain.indicators import Field
from ..extensions import db
from ..generated import rows
from ..listing import Paging, clamp_page
from ..print_widths import CODE_FONT
from ..printing import css_string, print_pdf
from ..rounds.models import BatchState, City, CityBatch, Round
from .layouts import (
    ROSTER_LISTS,
    UNREPORTED_SUFFIX,
    Column,
    Roster,
    RosterEntry,
    RosterList,
    RosterSheet,
)

MARK_LIST_NAMES = {ProvinceMark.RECOMMENDED: "推荐工信部名单", ProvinceMark.CULTIVATION: "列入省级培育名单",
                   ProvinceMark.NOT_SELECTED: "未入选名单"}


def state_label(state: str | None) -> str:
    """市州初审 state as the clerk reads it (an unknown value as stored)."""
    if state is None:
        return ""
    try:
        return ReviewState(state).label
    except ValueError:
        return state or ""


def mark_label(mark: str | None) -> str:
    return ProvinceMark(mark).label if mark else ""


# 报送情况 of an application that went to the province: its batch's state. Only a 市州初审通过
# application goes with its city's batch; it is reported (已报送), accepted (已受理) or back with
# the city (退回修改) as the batch is.
SENT_WITH_BATCH = (BatchState.REPORTED, BatchState.ACCEPTED, BatchState.RETURNED)
NOT_REPORTED = "（未报送）"
# Every 报送情况 the roster prints: what was not reported says its own 市州初审 state and so.
STANDINGS = (*(f"{state.label}{NOT_REPORTED}" for state in ReviewState),
             *(batch.label for batch in SENT_WITH_BATCH))


def standing_label(review_state: str | None, batch_state: str | None) -> str:
    """报送情况 of one application, not of its batch: a draft or an application the city does
    not recommend is never reported, whatever its batch (「草稿（未报送）」 in an accepted batch, not
    「已受理」), and a 初审通过 application is reported only once its batch is (「市州初审通过（未报送）」
    while the city is still filling in)."""
    batch = BatchState(batch_state) if batch_state else BatchState.NOT_STARTED
    if review_state == ReviewState.PASSED and batch in SENT_WITH_BATCH:
        return batch.label
    return f"{state_label(review_state)}{NOT_REPORTED}"


def _roster_statement(round_: Round, roster_list: RosterList) -> Select[*tuple[Any, ...]]:
    """The list's applications, each with its city's name, in 附件3 order; the view 「含未报送」
    adds the city's batch state (for each application's 报送情况). The figures are read from
    each application's values (:func:`_entries`)."""
    # Only the named columns the roster prints (the whole row would also load its round and city,
    # 14× the time at 2,016 applications); the figures are read for the rows chosen (_figures).
    stmt = (select(Application.province_mark, City.name, Application.platform_name,
                   Application.enterprise_name, Application.credit_code, Application.contact_name,
                   Application.contact_mobile, Application.review_state)
            .join(City, Application.city_id == City.id)
            .where(counted(round_, include_unreported=roster_list.include_unreported))
            .order_by(City.sort_order, Application.position, Application.id))
    if roster_list.include_unreported:
        stmt = stmt.add_columns(CityBatch.state).outerjoin(
            CityBatch, and_(CityBatch.round_id == Application.round_id, CityBatch.city_id == Application.city_id))
    return stmt


def _list_statement(user: User, round_: Round, roster_list: RosterList) -> Select[*tuple[Any, ...]]:
    stmt = scope_to_city(_roster_statement(round_, roster_list), Application.city_id, user)
    if roster_list.mark:
        stmt = stmt.where(Application.province_mark == roster_list.mark)
    return stmt


def _figure_fields(columns: tuple[Column, ...], form: Form) -> list[Field]:
    return [form.fields[c.key] for c in columns[1:] if c.key in form.fields and c.key not in IDENTITY_KEYS]


def _with_figures(stmt: Select[*tuple[Any, ...]], fields: Sequence[Field]) -> Select[*tuple[Any, ...]]:
    """``stmt`` with each figure of ``fields`` as a last column, from its row (application_figure,
    one lookup by its key: no document parsed for it)."""
    for n, f in enumerate(fields):
        figure = aliased(ApplicationFigure)
        stmt = stmt.add_columns(type_coerce(figure.value, BigInteger).label(f"figure_{n}")).outerjoin(  # hundredths
            figure, and_(figure.application_id == Application.id, figure.key == f.key))
    return stmt


def _page_with_figures(stmt: Select[*tuple[Any, ...]], fields: Sequence[Field], limit: int,
                       offset: int) -> list[tuple[Any, ...]]:
    """One page of ``stmt``'s rows, each with its figures as :func:`_with_figures` gives them:
    the page is chosen first and its figures read for its rows alone (joined before the paging,
    they would be looked up for every row of the round before it is sorted)."""
    page = db.session.execute(stmt.add_columns(Application.id).limit(limit).offset(offset)).all()
    found: dict[tuple[int, str], Any] = {}
    if fields and page:
        figures = select(ApplicationFigure.application_id, ApplicationFigure.key, figure_hundredths()).where(
            ApplicationFigure.application_id.in_([row[-1] for row in page]),
            ApplicationFigure.key.in_([f.key for f in fields]))
        found = {(application_id, key): value for application_id, key, value in db.session.execute(figures)}
    return [(*row[:-1], *(found.get((row[-1], f.key)) for f in fields)) for row in page]


def _entries(rows: Iterable[Sequence[Any]], columns: tuple[Column, ...], fields: Sequence[Field],
             include_unreported: bool) -> list[RosterEntry]:
    """Each row of :func:`_roster_statement` (:func:`_with_figures` ``fields``) as an entry: its
    values in the order of the columns (without 序号)."""
    entries = []
    keys = [f.key for f in fields]
    for mark, city, platform, enterprise, code, contact, mobile, review_state, *rest in rows:
        known = {"city": city, "platform_name": platform or "", "enterprise_name": enterprise or "",
                 "credit_code": code or "", "contact_name": contact or "", "contact_mobile": mobile or "",
                 "state": state_label(review_state), "mark": mark_label(mark)}
        if include_unreported:
            known["standing"] = standing_label(review_state, rest[0])
            rest = rest[1:]
        known.update(zip(keys, (figure_value(f, v) for f, v in zip(fields, rest, strict=True)), strict=True))
        entries.append(RosterEntry(mark, tuple(known.get(c.key) for c in columns[1:])))  # no 序号
    return entries


def roster_entries(user: User, round_: Round, roster_list: RosterList) -> list[RosterEntry]:
    """The applications the province counts (see :func:`rounds.state.counted`) that ``user`` may
    see, or those with the list's mark, city by city in 附件3 order: one query, each row's values
    in the order of the list's columns for the round's 申报书."""
    columns = roster_list.columns(round_.form)
    fields = _figure_fields(columns, round_.form)
    stmt = _with_figures(_list_statement(user, round_, roster_list), fields)
    return _entries(db.session.execute(stmt), columns, fields, roster_list.include_unreported)


def build_roster(user: User, round_: Round, list_key: str) -> Roster:
    """One of :data:`ROSTER_LISTS`; the full roster adds one sheet per province mark. An unknown
    list is :class:`NotFound`."""
    roster_list = ROSTER_LISTS.get(list_key)
    if roster_list is None:
        raise NotFound
    entries = roster_entries(user, round_, roster_list)
    sheets = [RosterSheet("全部" if roster_list.mark is None else roster_list.name[:31],
                          f"{round_.title}{roster_list.name}", tuple(entries))]
    # A mark's sheet of the view 「含未报送」 holds unreported applications too: its title says so.
    suffix = UNREPORTED_SUFFIX if roster_list.include_unreported else ""
    if roster_list.mark is None:
        sheets.extend(RosterSheet(mark.label, f"{round_.title}{MARK_LIST_NAMES[mark]}{suffix}",
                                  tuple(e for e in entries if e.mark == mark.value))
                      for mark in ProvinceMark)
    return Roster(round_.title, roster_list, now(), tuple(sheets), roster_list.columns(round_.form))


def roster_versions(user: User, round_: Round, list_key: str) -> list[Any]:
    """What the list's files depend on (their key, see :mod:`generated`), in one query: the id,
    version and place of every application the province counts (of every list alike, since the
    quota's line under each title counts the 推荐工信部 marks among them all) with its city, and
    for the view 「含未报送」 each batch's state. A log-in, or a draft saved in a city that has not
    reported, leaves the reported lists where they are. An unknown list is :class:`NotFound`."""
    roster_list = ROSTER_LISTS.get(list_key)
    if roster_list is None:
        raise NotFound
    columns = [Application.id, Application.version, Application.position, City.name, City.sort_order]
    if roster_list.include_unreported:
        columns.append(CityBatch.state)
    stmt = scope_to_city(_roster_statement(round_, roster_list), Application.city_id, user)
    return [round_.id, round_.title, list_key, rows(db.session.execute(stmt.with_only_columns(*columns)))]


def roster_counts(user: User, round_: Round) -> dict[str, int]:
    """How many applications each list holds: ``all`` and one count per province mark (what
    the cities reported), and ``unreported`` (every application of the round)."""
    stmt = scope_to_city(
        select(Application.province_mark, func.count()).where(counted(round_)),
        Application.city_id, user).group_by(Application.province_mark)
    by_mark = {mark: count for mark, count in db.session.execute(stmt)}
    everything = db.session.scalar(scope_to_city(
        select(func.count()).select_from(Application).where(counted(round_, include_unreported=True)),
        Application.city_id, user))
    return {"all": sum(by_mark.values()), "unreported": everything or 0,
            **{m.value: by_mark.get(m.value, 0) for m in ProvinceMark}}


def roster_pdf(roster: Roster, *, quota_line: str = "") -> bytes:
    """The roster's first sheet, A4 landscape, with the print date and title in the margins;
    ``quota_line``: the 推荐工信部 marks against the ministry's quota, under the title."""
    printed = roster.generated_at.strftime("%Y-%m-%d %H:%M")
    return print_pdf("reports/roster_print.html", roster=roster, columns=roster.columns, printed=printed,
                     quota_line=quota_line,
                     code_font=Markup(css_string(CODE_FONT)),
                     footer_left=Markup(css_string(f"打印日期：{printed}")),
                     footer_center=Markup(css_string(roster.title)))


ROSTER_PAGE_SIZE = 100  # rows of the roster on screen: ~50 KB of HTML a page, whatever the round's size


@dataclass
class RosterPage(Paging):
    """One page of a list on screen; its Excel and PDF hold every row."""

    list: RosterList
    title: str
    rows: builtins.list[tuple[Any, ...]]  # (序号, *values in the list's columns), 序号 counting the whole list
    columns: tuple[Column, ...]  # of the round's 申报书


def roster_page(user: User, round_: Round, list_key: str, page: int = 1,
                per_page: int = ROSTER_PAGE_SIZE) -> RosterPage:
    """One page of :func:`build_roster`'s first sheet, read as one page (a count, then the page's
    rows): the cost and the size of the page do not grow with the round. An unknown list is
    :class:`NotFound`."""
    roster_list = ROSTER_LISTS.get(list_key)
    if roster_list is None:
        raise NotFound
    stmt = _list_statement(user, round_, roster_list)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    page = clamp_page(page, total, per_page)
    offset = (page - 1) * per_page
    columns = roster_list.columns(round_.form)
    fields = _figure_fields(columns, round_.form)
    entries = _entries(_page_with_figures(stmt, fields, per_page, offset), columns, fields,
                       roster_list.include_unreported)
    rows = [(offset + n, *entry.values) for n, entry in enumerate(entries, start=1)]
    return RosterPage(total, page, per_page, list=roster_list, title=f"{round_.title}{roster_list.name}",
                      rows=rows, columns=columns)
