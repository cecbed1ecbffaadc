from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import now
from ..domain.indicators import FIELDS, Field, Kind
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


def column_type(f: Field):
    """The column for a declared field: the declaration decides, nothing is copied by hand."""
    match f.kind:
        case Kind.INT:
            return BigInteger()
        case Kind.MONEY | Kind.PERCENT:
            return ExactDecimal(2)
        case Kind.DATE:
            return Date()
        case Kind.BOOL:
            return Boolean()
        case Kind.MULTI:
            return JSON()
        case Kind.CREDIT_CODE:
            return String(40)  # a draft may hold a mistyped code; checks report it
        case _:
            return String(f.max_length or 200)


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

    # One column per declared field (domain/indicators.py), named by its domain key.
    for _field in FIELDS.values():
        vars()[_field.key] = mapped_column(column_type(_field), nullable=True)
    del _field
    if TYPE_CHECKING:
        # The declared fields that code reads by name (the loop above makes every one).
        enterprise_name: Mapped[str | None]
        platform_name: Mapped[str | None]
        credit_code: Mapped[str | None]
        contact_name: Mapped[str | None]
        contact_mobile: Mapped[str | None]

    round = relationship("Round", lazy="joined")
    city = relationship("City", lazy="joined")
    updated_by = relationship("User", foreign_keys=[updated_by_id], lazy="select")

    __mapper_args__ = {"version_id_col": version}

    def values(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in FIELDS}

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


