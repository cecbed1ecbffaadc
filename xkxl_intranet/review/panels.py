"""What the application page shows of the review (``templates/review/_panel.html``): for the
expert it is assigned to, their score sheet; for province staff and viewers, every expert's
total, the mean, spread, outliers and the rank. A city sees nothing of the review."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..applications.models import Application
from ..applications.page_parts import detail_shown
from ..auth.models import Role, User
from ..clock import now
from ..domain.deadlines import in_reminder_window
from ..domain.declaration import Form
from ..domain.review_criteria import Dimension, Opinion
from ..domain.review_scoring import Gap, ReviewWindow, SheetTotals
from .aggregation import ApplicationReview, application_review
from .models import Assignment, ReviewRound
from .queries import open_sheet_count, review_for, sheet_for
from .scoring import SheetInput, live_totals, window_for


@dataclass
class SheetPanel:
    """One expert's sheet as the form shows it: what is typed (stored, or just posted), its
    totals, the messages of unreadable points and of the last save."""

    assignment: Assignment
    typed: SheetInput
    totals: SheetTotals
    window: ReviewWindow
    errors: dict[str, str] = field(default_factory=dict)
    message: str = ""
    level: str = "success"
    opinions: tuple = tuple(Opinion)
    gaps: list[Gap] = field(default_factory=list)  # after a refused submit: what is missing
    refused: bool = False  # this answers a save or submit that was refused: the error summary

    @property
    def problems(self) -> list[tuple[str, str]]:
        """The error summary's lines (issue 25), in the sheet's order: the id of the field
        each one links to, and its message. Unreadable points first, then what a submission lacks."""
        criteria = self.assignment.review_round.criteria
        unread = [(f"score_{key}", self.errors[key]) for key in criteria.indicators if key in self.errors]
        first_opinion = f"opinion-{self.opinions[0].value}"  # a radio group is reached at its first choice
        return unread + [(first_opinion if g.field == "opinion" else g.field, g.message) for g in self.gaps]

    @property
    def gap_messages(self) -> dict[str, str]:
        """Field -> its message, shown beside the opinion boxes and the opinion."""
        return {g.field: g.message for g in self.gaps}

    @property
    def summary_title(self) -> str:
        if self.gaps:
            return "尚未提交：请先补全以下各项（已保存为草稿）"
        if self.errors:
            return "尚未保存：请修改以下评分"
        return "保存未成功"

    @property
    def dimensions(self) -> tuple[Dimension, ...]:
        """附件1 of the review's round: what the sheet scores."""
        return self.assignment.review_round.criteria.dimensions

    @property
    def form(self) -> Form:
        """The 申报书 of the review's round, whose sections the indicators link to."""
        form: Form = self.assignment.review_round.round.form
        return form

    @property
    def editable(self) -> bool:
        return self.assignment.is_open and self.window.open


def sheet_panel(assignment: Assignment, typed: SheetInput | None = None, *, errors: dict[str, str] | None = None,
                message: str = "", level: str = "success", gaps: list[Gap] | None = None,
                refused: bool = False) -> SheetPanel:
    """``refused``: the answer to a refused save or submit, headed by the error summary (with
    ``message``, the unreadable points' ``errors`` and a submission's ``gaps``)."""
    typed = typed or SheetInput.of(assignment)
    totals, read_errors = live_totals(assignment, typed)
    return SheetPanel(assignment, typed, totals, window_for(assignment), errors or read_errors, message, level,
                      gaps=list(gaps or []), refused=refused)


def review_panel(user: User, application: Application) -> dict[str, Any] | None:
    """The context of ``{% include "review/_panel.html" %}`` on the application page, or
    ``None`` where the page shows nothing of the review."""
    if user.role == Role.CITY:
        return None
    review = review_for(application.round)
    if review is None:
        return None
    if user.role == Role.EXPERT:
        assignment = sheet_for(user, application)
        return {"sheet": sheet_panel(assignment)} if assignment is not None else None
    row: ApplicationReview | None = application_review(review, application)
    return {"summary": row, "review": review} if row is not None else None


@detail_shown.connect
def _review_on_the_application_page(user: User, *, application: Application) -> dict[str, Any]:
    """The application page's ``review_panel`` (``templates/review/_panel.html``)."""
    return {"review_panel": review_panel(user, application)}


def expert_banner(user: User, review: ReviewRound | None) -> dict[str, Any]:
    """For the layout of an expert's pages: the review deadline (counted down like the
    reporting deadline) and, in its last 7 days, what is still open."""
    if review is None:
        return {}
    reminder = None
    if in_reminder_window(now(), review.deadline):
        left = open_sheet_count(user, review)
        reminder = [f"{left} 份评分表尚未提交"] if left else None
    return {"review_deadline": review.deadline, "review_reminder": reminder}
