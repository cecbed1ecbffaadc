from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    delete,
    false,
    insert,
    type_coerce,
    update,
)
from sqlalchemy.orm import Mapped, attribute_keyed_dict, mapped_column, object_session, relationship

from ..clock import now
from ..domain.answers import IDENTITY_COLUMNS, IDENTITY_KEYS, declared_values, stored_document
from ..domain.declaration import Form
from ..domain.indicators import NUMERIC_KINDS, Field, Kind
from ..extensions import Model
from ..sqltypes import AwareDateTime, ExactDecimal


class ReviewState(StrEnum):
    """市州初审: only 通过 applications go into the city's batch and its 附件3."""

    DRAFT = "draft"
    PASSED = "passed"
    NOT_RECOMMENDED = "not_recommended"

    @property
    def label(self) -> str:
        return {"draft": "草稿", "passed": "市州初审通过", "not_recommended": "市州不推荐"}[self.value]


class ProvinceMark(StrEnum):
    RECOMMENDED = "recommended"
    CULTIVATION = "cultivation"
    NOT_SELECTED = "not_selected"

    @property
    def label(self) -> str:
        return {"recommended": "推荐工信部", "cultivation": "列入省级培育名单",
                "not_selected": "未入选"}[self.value]


class _StateColumns(Protocol):
    """The columns :class:`ApplicationFacts` reads, which each class that has it declares."""

    @property
    def review_state(self) -> str: ...
    @property
    def province_mark(self) -> str | None: ...


class ApplicationFacts:
    """What an application's 市州初审 state and province mark columns mean, for the stored
    :class:`Application` and the lists' plain rows (``applications.queries.ListedApplication``)."""

    __slots__ = ()

    @property
    def state(self: _StateColumns) -> ReviewState:
        return ReviewState(self.review_state)

    @property
    def mark(self: _StateColumns) -> ProvinceMark | None:
        return ProvinceMark(self.province_mark) if self.province_mark else None


class Application(ApplicationFacts, Model):
    """One enterprise's application (申报书) in one round, entered by its city's bureau."""

    __tablename__ = "application"
    __table_args__ = (
        Index("ix_application_round_city", "round_id", "city_id"),
        Index("ix_application_round_org_code", "round_id", "org_code_key"),
        Index("ix_application_round_platform", "round_id", "platform_key"),
        # Covers the dashboard's per-city counts, so they never read the wide rows.
        Index("ix_application_dashboard", "round_id", "city_id", "review_state", "province_mark",
              "error_count", "open_warning_count"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"))
    city_id: Mapped[int] = mapped_column(ForeignKey("city.id"))
    # Optimistic locking: an UPDATE carries "WHERE version = <what the editor loaded>".
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    position: Mapped[int] = mapped_column(Integer, default=0)  # order on the city's 附件3

    review_state: Mapped[str] = mapped_column(String(20), default=ReviewState.DRAFT)
    review_comment: Mapped[str] = mapped_column(Text, default="")
    reviewed_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)

    province_mark: Mapped[str | None] = mapped_column(String(20), nullable=True)
    province_note: Mapped[str] = mapped_column(Text, default="")
    marked_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    # Set by the province where it marks (review/marking.py), never by a city: the platform was
    # named in 2020 and does not count against the ministry's quota (domain/recommendation_quota.py).
    quota_exempt: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())

    # rule id -> {"note", "message", "by", "at"}: a warning the clerk has acknowledged.
    acknowledgements: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Kept up to date on every save so that lists never re-run the checks.
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    warning_count: Mapped[int] = mapped_column(Integer, default=0)
    open_warning_count: Mapped[int] = mapped_column(Integer, default=0)
    # Normalised keys for the duplicate check across cities.
    org_code_key: Mapped[str | None] = mapped_column(String(9), nullable=True)
    platform_key: Mapped[str | None] = mapped_column(String(200), nullable=True)

    created_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)

    # The values the round's notice declares (domain/answers.py): the five the system names
    # applications by are columns, every other one is a typed value in this JSON document.
    enterprise_name: Mapped[str | None] = mapped_column(String(IDENTITY_COLUMNS["enterprise_name"][1]))
    platform_name: Mapped[str | None] = mapped_column(String(IDENTITY_COLUMNS["platform_name"][1]))
    credit_code: Mapped[str | None] = mapped_column(String(IDENTITY_COLUMNS["credit_code"][1]))
    contact_name: Mapped[str | None] = mapped_column(String(IDENTITY_COLUMNS["contact_name"][1]))
    contact_mobile: Mapped[str | None] = mapped_column(String(IDENTITY_COLUMNS["contact_mobile"][1]))
    # The other declared values, a document in a table of its own (ApplicationAnswers), loaded with
    # the application: this table stays narrow, so the lists and searches that scan it do not read them.
    answers_row: Mapped[ApplicationAnswers | None] = relationship(
        lazy="joined", uselist=False, cascade="all, delete-orphan", back_populates="application")
    # Its figures again, a row each (ApplicationFigure), for the pages that sort or total one
    # figure across the round; written by store_values, never read through this collection.
    figure_rows: Mapped[dict[str, ApplicationFigure]] = relationship(
        lazy="select", collection_class=attribute_keyed_dict("key"), cascade="all, delete-orphan", passive_deletes=True,
        back_populates="application")

    round = relationship("Round", lazy="joined")
    city = relationship("City", lazy="joined")
    updated_by = relationship("User", foreign_keys=[updated_by_id], lazy="select")

    __mapper_args__ = {"version_id_col": version}

    @property
    def answers(self) -> dict[str, Any]:
        """The document of declared values (domain/answers.py), {} before the first save."""
        return self.answers_row.document if self.answers_row is not None else {}

    def values(self) -> dict[str, Any]:
        """Every field the round declares, typed (None where blank), in the form's order."""
        return declared_values(self.round.form.fields, self.answers,
                               {key: getattr(self, key) for key in IDENTITY_KEYS})

    def store_values(self, form: Form, values: Mapping[str, Any]) -> None:
        """Keep ``values`` (typed, as parse_input reads them) of the fields ``form`` declares."""
        before = self.values() if self.answers_row is not None else {}
        for key in IDENTITY_KEYS:
            setattr(self, key, values.get(key))
        document = stored_document(form.fields, values)
        if self.answers_row is None:
            self.answers_row = ApplicationAnswers(document=document)
        elif self.answers_row.document != document:
            self.answers_row.document = document
        self._store_figures(form, before, values)

    def _store_figures(self, form: Form, before: Mapping[str, Any], values: Mapping[str, Any]) -> None:
        """The figure rows as ``values`` has them, writing only those that change (the document
        held the figures before: no row is read to find out which)."""
        new = {key: Decimal(values[key]) for key, f in form.fields.items()
               if f.kind in NUMERIC_KINDS and values.get(key) is not None}
        session = object_session(self)
        if self.id is None or session is None:  # a new application: its rows go in with it
            for key, value in new.items():
                self.figure_rows[key] = ApplicationFigure(key=key, value=value)
            return
        old = {key: Decimal(value) for key, value in before.items()
               if value is not None and key in form.fields and form.fields[key].kind in NUMERIC_KINDS}
        changed = [key for key in old.keys() | new.keys() if old.get(key) != new.get(key)]
        # One statement per changed figure, nothing read first (the rows are what ``before`` says)
        # and nothing flushed on the way: the application's own UPDATE is written once, at the
        # save's flush.
        table: Table = ApplicationFigure.__table__  # type: ignore[assignment]  # a declarative class's table
        with session.no_autoflush:
            for key in sorted(changed):
                where = (table.c.application_id == self.id, table.c.key == key)
                if key not in new:
                    session.execute(delete(table).where(*where))
                elif key in old:
                    session.execute(update(table).where(*where).values(value=new[key]))
                else:
                    session.execute(insert(table).values(application_id=self.id, key=key, value=new[key]))

    @property
    def title(self) -> str:
        """How pages, messages and the audit trail name the application: never by its row id."""
        return self.platform_name or self.enterprise_name or f"未填名称的申报（序号 {self.position}）"

    @property
    def platform_label(self) -> str:
        return self.platform_name or "（未填平台名称）"

    @property
    def enterprise_label(self) -> str:
        return self.enterprise_name or "（未填企业名称）"

    def __repr__(self) -> str:
        return f"<Application {self.id} {self.enterprise_name}>"


class ApplicationAnswers(Model):
    """An application's declared values other than the five named columns: one JSON document,
    typed by its round's declaration (domain/answers.py; docs/notice-file.md, "申报数据怎样保存")."""

    __tablename__ = "application_answers"

    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), primary_key=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)

    application = relationship("Application", back_populates="answers_row")


class ApplicationFigure(Model):
    """One figure of an application again (its document holds them all): a row per figure, so that
    the comparison and the roster read one figure of every application by index, where a JSON
    document would be parsed whole for it (about 2.3 KB each). Written with the document, by
    :meth:`Application.store_values` alone. Integers and 万元/% figures alike, to the hundredth."""

    __tablename__ = "application_figure"

    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[Decimal] = mapped_column(ExactDecimal(2), nullable=False)

    application = relationship("Application", back_populates="figure_rows")


_CENT = Decimal("0.01")


def figure_hundredths() -> Any:
    """A figure row's value as the database keeps it, in hundredths (an integer), for the lists
    that read thousands of them: :func:`figure_value` types it without a Decimal per integer."""
    return type_coerce(ApplicationFigure.value, BigInteger).label("figure_hundredths")


def figure_value(f: Field, hundredths: int | None) -> Any:
    """A figure as the field's kind has it, from its hundredths: an integer for 个, 台/套…, an
    exact two-place Decimal for 万元 and %."""
    if hundredths is None:
        return None
    if f.kind is Kind.INT:
        return hundredths // 100
    return Decimal(hundredths).scaleb(-2).quantize(_CENT)

