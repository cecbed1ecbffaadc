"""The review of a round: its deadline and weights, who scores which application (each
assignment is that expert's score sheet) and the conflicts of interest experts declare."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import now
from ..domain.review_criteria import Criteria, Opinion
from ..domain.review_scoring import complete_weights, stored_scores
from ..extensions import Model
from ..sqltypes import AwareDateTime


class ReviewRound(Model):
    """A round's expert review (评审): one per 申报批次, set up by the province."""

    __tablename__ = "review_round"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"), unique=True)
    deadline: Mapped[datetime] = mapped_column(AwareDateTime())
    # Dimension key -> whole percent, summing to 100 (the round's criteria's default weights).
    weights: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    experts_per_application: Mapped[int] = mapped_column(Integer, default=3)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)

    round = relationship("Round", lazy="joined")

    @property
    def criteria(self) -> Criteria:
        """附件1 as the round's notice declares it: what the experts score."""
        criteria: Criteria = self.round.declaration.criteria
        return criteria

    @property
    def weight_map(self) -> dict[str, int]:
        return complete_weights(self.weights, criteria=self.criteria)


class SheetState(StrEnum):
    ASSIGNED = "assigned"
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RECUSED = "recused"

    @property
    def label(self) -> str:
        return {"assigned": "未开始", "draft": "草稿", "submitted": "已提交", "recused": "已回避"}[self.value]


OPEN_STATES = (SheetState.ASSIGNED.value, SheetState.DRAFT.value)
ACTIVE_STATES = (SheetState.ASSIGNED.value, SheetState.DRAFT.value, SheetState.SUBMITTED.value)


class Assignment(Model):
    """One application given to one expert, and that expert's score sheet (评分表) for it."""

    __tablename__ = "review_assignment"
    __table_args__ = (
        UniqueConstraint("application_id", "expert_id", name="uq_review_assignment_application_expert"),
        Index("ix_review_assignment_expert_state", "expert_id", "state"),
        Index("ix_review_assignment_round_application", "review_round_id", "application_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_round_id: Mapped[int] = mapped_column(ForeignKey("review_round.id"))
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"))
    expert_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    state: Mapped[str] = mapped_column(String(20), default=SheetState.ASSIGNED)
    # Optimistic locking: a save carries the version the expert's page was rendered with.
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    # Indicator key -> points as text ("7.5"); dimension key -> comment.
    scores: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    comments: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    opinion: Mapped[str | None] = mapped_column(String(20), nullable=True)
    overall_comment: Mapped[str] = mapped_column(Text, default="")

    assigned_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    saved_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    submitted_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    reopened_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    reopen_reason: Mapped[str] = mapped_column(Text, default="")
    recused_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    recusal_reason: Mapped[str] = mapped_column(Text, default="")
    # The province may give one sheet more time than the review's deadline.
    extension_deadline: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    extension_reason: Mapped[str] = mapped_column(Text, default="")

    review_round = relationship(ReviewRound, lazy="joined")
    application = relationship("Application", lazy="joined")
    expert = relationship("User", foreign_keys=[expert_id], lazy="joined")

    __mapper_args__ = {"version_id_col": version}

    @property
    def state_enum(self) -> SheetState:
        return SheetState(self.state)

    @property
    def is_submitted(self) -> bool:
        return self.state == SheetState.SUBMITTED

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def opinion_enum(self) -> Opinion | None:
        return Opinion(self.opinion) if self.opinion else None

    def score_values(self) -> dict[str, Decimal | None]:
        return stored_scores(self.scores, criteria=self.review_round.criteria)

    def snapshot(self) -> dict[str, Any]:
        """What the audit trail keeps of the sheet."""
        return {"state": self.state_enum.label, "scores": dict(self.scores or {}),
                "comments": dict(self.comments or {}),
                "opinion": self.opinion_enum.label if self.opinion_enum else None,
                "overall_comment": self.overall_comment}


class Conflict(Model):
    """An expert's declared conflict of interest with an enterprise (回避): that expert is never
    given an application of this enterprise in this review."""

    __tablename__ = "review_conflict"
    __table_args__ = (Index("ix_review_conflict_round_expert", "review_round_id", "expert_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_round_id: Mapped[int] = mapped_column(ForeignKey("review_round.id"))
    expert_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    # The enterprise, as the duplicate check compares them: 组织机构代码, else the name.
    org_code_key: Mapped[str | None] = mapped_column(String(9), nullable=True)
    name_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    enterprise_name: Mapped[str] = mapped_column(String(200), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("application.id", ondelete="SET NULL"), nullable=True)
    declared_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now)
    declared_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)

    expert = relationship("User", foreign_keys=[expert_id], lazy="joined")
