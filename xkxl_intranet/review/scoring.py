"""An expert's score sheet: save a draft, submit it (locked from then on), the live running
totals, and the province reopening a sheet or giving it more time. Operations take the acting
user and plain values, raise :class:`Refused` / :class:`NotFound`, and only flush."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..audit.services import diff, record
from ..auth.models import User
from ..clock import now
from ..domain.deadlines import format_deadline, has_passed
from ..domain.errors import NotFound, Refused
from ..domain.notices import NoticeKind
from ..domain.review_scoring import (
    MAX_COMMENT,
    Gap,
    ReviewWindow,
    SheetTotals,
    clean_comments,
    read_opinion,
    read_scores,
    review_window,
    sheet_totals,
    submission_gaps,
)
from ..extensions import db
from ..notifications.operations import Link, notify
from .models import Assignment, SheetState

STALE = ("保存未成功：这份评分表已在其他窗口保存过，或刚被省厅退回。您填写的内容仍保留在下面，"
         "请核对后再保存。")


@dataclass
class SheetInput:
    """What the expert typed, as text: indicator key -> points, dimension key -> comment."""

    scores: dict[str, str] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)
    opinion: str = ""
    overall_comment: str = ""

    @classmethod
    def of(cls, assignment: Assignment) -> SheetInput:
        """The stored sheet, as the form shows it."""
        return cls({k: str(v) for k, v in (assignment.scores or {}).items()},
                   dict(assignment.comments or {}), assignment.opinion or "", assignment.overall_comment or "")


@dataclass
class SheetOutcome:
    saved: bool
    submitted: bool = False
    errors: dict[str, str] = field(default_factory=dict)  # indicator key -> why it cannot be read
    gaps: list[Gap] = field(default_factory=list)  # what a submission still lacks, field by field
    submit_asked: bool = False  # the expert pressed 提交评分 (refused while gaps remain)

    @property
    def missing(self) -> list[str]:
        return [gap.message for gap in self.gaps]

    @property
    def submit_refused(self) -> bool:
        """Asked to submit, saved as a draft instead: the sheet lists what is missing."""
        return self.saved and self.submit_asked and not self.submitted

    @property
    def message(self) -> str:
        if not self.saved:
            return "有评分无法识别，尚未保存。请按红色提示修改后再保存。"
        if self.submitted:
            return "评分表已提交。提交后不能再修改；如需修改，请联系省厅退回。"
        if self.missing:
            return "已保存为草稿。提交前尚需：" + "；".join(self.missing) + "。"
        return "已保存为草稿。各项已填写完整，可以提交。"


def window_for(assignment: Assignment) -> ReviewWindow:
    return review_window(now(), assignment.review_round.deadline, assignment.extension_deadline)


def live_totals(assignment: Assignment, typed: SheetInput) -> tuple[SheetTotals, dict[str, str]]:
    """Running totals of what is typed (unreadable points count as blank), and the messages."""
    review = assignment.review_round
    scores, errors = read_scores(typed.scores, criteria=review.criteria)
    return sheet_totals(scores, review.weight_map, criteria=review.criteria), errors


def _ensure_writable(expert: User, assignment: Assignment) -> None:
    if assignment.expert_id != expert.id:
        raise NotFound
    if assignment.state == SheetState.RECUSED:
        raise Refused("您已对这份申报申请回避，不能再评分。")
    if assignment.is_submitted:
        raise Refused("评分表已提交，不能再修改；如需修改，请联系省厅退回。")
    window = window_for(assignment)
    if not window.open:
        raise Refused(window.message)


def save_sheet(expert: User, assignment: Assignment, typed: SheetInput, *, submit: bool = False,
               expected_version: int | None = None) -> SheetOutcome:
    """Save what the expert typed. Unreadable points: nothing is saved and each is named. A
    submission that still lacks something is saved as a draft and says what is missing;
    a complete one is locked until the province reopens it."""
    _ensure_writable(expert, assignment)
    if expected_version is not None and expected_version != assignment.version:
        raise Refused(STALE)
    review = assignment.review_round
    criteria = review.criteria
    scores, errors = read_scores(typed.scores, criteria=criteria)
    if errors:
        return SheetOutcome(saved=False, errors=errors)
    comments = clean_comments(typed.comments, criteria=criteria)
    opinion = read_opinion(typed.opinion)
    overall = (typed.overall_comment or "").strip()[:MAX_COMMENT]
    before = assignment.snapshot()
    assignment.scores = {k: str(v) for k, v in scores.items() if v is not None}
    assignment.comments = {k: v for k, v in comments.items() if v}
    assignment.opinion = opinion.value if opinion else None
    assignment.overall_comment = overall
    assignment.saved_at = now()
    gaps = submission_gaps(scores, comments, opinion, overall, criteria=criteria)
    outcome = SheetOutcome(saved=True, submitted=submit and not gaps, gaps=gaps, submit_asked=submit)
    assignment.state = SheetState.SUBMITTED if outcome.submitted else SheetState.DRAFT
    totals = sheet_totals(scores, review.weight_map, criteria=criteria)
    if outcome.submitted:
        assignment.submitted_at = assignment.saved_at
        record("review.sheet_submitted", user=expert, object_type="assignment", object_id=assignment.id,
               summary=f"提交评分表：{assignment.application.title}，综合得分 {totals.total}"
                       f"（{opinion.label if opinion else ''}）",
               before=before, after={**assignment.snapshot(), "total": str(totals.total)})
    else:
        old, new = diff(before, assignment.snapshot())
        if old or new:
            record("review.sheet_saved", user=expert, object_type="assignment", object_id=assignment.id,
                   summary=f"保存评分草稿：{assignment.application.title}（已评 {totals.scored}/"
                           f"{totals.indicator_count} 项，暂计 {totals.total}）", before=old, after=new)
    db.session.flush()
    return outcome


def sheet_total(assignment: Assignment) -> Decimal:
    review = assignment.review_round
    return sheet_totals(assignment.score_values(), review.weight_map, criteria=review.criteria).total


# ---- the province -----------------------------------------------------------------------------------

def _extend(assignment: Assignment, deadline: datetime | None, reason: str) -> dict[str, Any] | None:
    if deadline is None:
        return None
    if deadline <= assignment.review_round.deadline:
        raise Refused(f"延期截止时间应晚于评审截止时间（{format_deadline(assignment.review_round.deadline)}）。")
    if has_passed(deadline, now()):
        raise Refused(f"延期截止时间 {format_deadline(deadline)} 已过，请填写今后的时间。")
    assignment.extension_deadline = deadline
    assignment.extension_reason = reason[:1000]
    return {"extension_deadline": deadline.isoformat()}


def reopen(user: User, assignment: Assignment, reason: str, *, extension: datetime | None = None) -> None:
    """退回: a submitted sheet becomes a draft the expert can change and submit again. After the
    review's deadline the expert could not, so a new deadline for this sheet is then required."""
    reason = (reason or "").strip()
    if not assignment.is_submitted:
        raise Refused("只有已提交的评分表可以退回。")
    if not reason:
        raise Refused("请填写退回原因，专家将看到这段说明。")
    if extension is None and not window_for(assignment).open:
        raise Refused("评审已截止：退回后专家将无法再提交。请同时填写该评分表的延期截止时间。")
    extended = _extend(assignment, extension, reason)
    assignment.state = SheetState.DRAFT
    assignment.reopened_at = now()
    assignment.reopen_reason = reason[:1000]
    record("review.sheet_reopened", user=user, object_type="assignment", object_id=assignment.id,
           summary=f"退回评分表：{assignment.application.title}（专家 {assignment.expert.username}）：{reason[:200]}",
           before={"state": SheetState.SUBMITTED.label},
           after={"state": SheetState.DRAFT.label, "reason": reason[:1000], **(extended or {})})
    db.session.flush()
    until = f"请在 {format_deadline(extension)} 前修改后重新提交。" if extension is not None else "请修改后重新提交。"
    notify([assignment.expert], NoticeKind.SHEET_RETURNED, f"评分表被退回：{assignment.application.title}",
           f"退回原因：{reason[:1000]}。{until}",
           Link("applications.detail", {"application_id": assignment.application_id}))


def grant_extension(user: User, assignment: Assignment, deadline: datetime, reason: str) -> None:
    """More time for one expert's open sheet than the review's deadline."""
    reason = (reason or "").strip()
    if not reason:
        raise Refused("请填写延期原因。")
    if assignment.state not in (SheetState.ASSIGNED, SheetState.DRAFT):
        raise Refused(f"评分表当前为“{assignment.state_enum.label}”，不需要延期。")
    before = {"extension_deadline": assignment.extension_deadline.isoformat()
              if assignment.extension_deadline else None}
    after = _extend(assignment, deadline, reason)
    record("review.extension_granted", user=user, object_type="assignment", object_id=assignment.id,
           summary=f"评分表延期至 {format_deadline(deadline)}：{assignment.application.title}"
                   f"（专家 {assignment.expert.username}）：{reason[:200]}",
           before=before, after={**(after or {}), "reason": reason[:1000]})
    db.session.flush()
