"""The comparison of one numeric indicator of the round's 申报书 across the round's
applications: ranks, sorting, totals and a bar chart, over each application's declared values.
Values are shown through the one formatter, ``format_field``."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, select

from ..applications.models import Application, ApplicationFigure, ReviewState, figure_hundredths, figure_value
from ..auth.models import User
from ..auth.scoping import scope_to_city
from ..domain.declaration import Form
from ..domain.indicators import Field
from ..domain.parsing import format_field
from ..extensions import db
from ..rounds.models import City, Round
from .charts import BarChart, bar_chart, competition_ranks
from .roster import mark_label, state_label

DEFAULT_INDICATOR = "apps_total"
SCOPES = {"all": "全部申报", "passed": "市州初审通过", "marked": "已有省厅标记"}


def numeric_fields(form: Form) -> tuple[Field, ...]:
    return tuple(f for f in form.fields.values() if f.is_numeric)


def sorts(form: Form) -> dict[str, str]:
    """The orders of the table, the platform's named as the round's 申报书 labels it."""
    return {"rank": "排名", "city": "市（州）", "name": form.fields["platform_name"].label}


def indicator_groups(form: Form) -> list[tuple[str, list[Field]]]:
    """The numeric fields of the round's 申报书 by section, for the indicator picker."""
    return [(s.heading, [f for f in s.fields if f.is_numeric])
            for s in form.sections if any(f.is_numeric for f in s.fields)]


def display_text(f: Field, value: Any) -> str:
    """A figure as the reports show it (thousands separators, two places for money)."""
    return format_field(f, value, thousands=True)


@dataclass(frozen=True)
class ComparisonRow:
    application_id: int
    city_name: str
    city_order: int
    position: int
    platform_name: str
    enterprise_name: str
    state_label: str
    mark_label: str
    value: Any
    text: str
    rank: int | None


@dataclass
class Comparison:
    field: Field
    scope: str
    sort: str
    descending: bool
    rows: list[ComparisonRow]
    chart: BarChart
    filled: int
    total: Any
    average: Any
    highest: Any

    def text(self, value: Any) -> str:
        return display_text(self.field, value)


def _rows(user: User, round_: Round, f: Field, scope: str) -> list[ComparisonRow]:
    # The one figure, from its row (application_figure: no document parsed for it), beside the
    # named columns the rows show: never the whole row.
    stmt = (select(Application.id, Application.position, Application.platform_name, Application.enterprise_name,
                   Application.review_state, Application.province_mark, figure_hundredths(),
                   City.name, City.sort_order)
            .join(City, Application.city_id == City.id)
            .outerjoin(ApplicationFigure, and_(ApplicationFigure.application_id == Application.id,
                                               ApplicationFigure.key == f.key))
            .where(Application.round_id == round_.id))
    stmt = scope_to_city(stmt, Application.city_id, user)
    if scope == "passed":
        stmt = stmt.where(Application.review_state == ReviewState.PASSED)
    elif scope == "marked":
        stmt = stmt.where(Application.province_mark.is_not(None))
    records = [(*row[:6], figure_value(f, row[6]), *row[7:]) for row in db.session.execute(stmt)]
    ranks = competition_ranks([record[6] for record in records])
    return [ComparisonRow(app_id, city, order, position or 0, platform or "", enterprise or "",
                          state_label(state), mark_label(mark), value, display_text(f, value), rank)
            for (app_id, position, platform, enterprise, state, mark, value, city, order), rank
            in zip(records, ranks, strict=True)]


def _sorted(rows: list[ComparisonRow], sort: str, descending: bool) -> list[ComparisonRow]:
    """By rank (blanks always last), by city in 附件3 order, or by platform name."""
    if sort == "rank":
        present = sorted((r for r in rows if r.rank is not None),
                         key=lambda r: (r.rank, r.city_order, r.position), reverse=descending)
        return present + sorted((r for r in rows if r.rank is None), key=lambda r: (r.city_order, r.position))
    if sort == "city":
        return sorted(rows, key=lambda r: (r.city_order, r.position, r.application_id), reverse=descending)
    return sorted(rows, key=lambda r: (r.platform_name, r.application_id), reverse=descending)


def comparison(user: User, round_: Round, key: str, *, scope: str = "all", sort: str = "rank",
               descending: bool = False) -> Comparison:
    """Indicator ``key`` of the round's 申报书 across every application ``user`` may see; an
    unknown or non-numeric key falls back to :data:`DEFAULT_INDICATOR` (or, where the form has
    none such, its first figure), an unknown scope or sort to the first."""
    form = round_.form
    f = form.fields.get(key)
    if f is None or not f.is_numeric:
        fallback = form.fields.get(DEFAULT_INDICATOR)
        f = fallback if fallback is not None and fallback.is_numeric else numeric_fields(form)[0]
    scope = scope if scope in SCOPES else "all"
    sort = sort if sort in sorts(form) else "rank"
    rows = _sorted(_rows(user, round_, f, scope), sort, descending)
    values = [r.value for r in rows if r.value is not None]
    total = sum(values) if values else None
    average = (Decimal(total) / len(values)).quantize(Decimal("0.01")) if total is not None else None
    # Each bar names its platform and, on a second line, the whole name of its city.
    chart = bar_chart([(r.platform_name or r.enterprise_name or "（未填名称）", r.value, r.text, r.city_name)
                       for r in rows], row_height=32, bar_height=14)
    return Comparison(f, scope, sort, descending, rows, chart, len(values), total, average,
                      max(values) if values else None)
