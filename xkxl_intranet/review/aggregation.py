"""What the province reads from the experts: per application each expert's total, the mean,
the spread, outliers and the rank within the round; the ranking across the province, and what
the province's mark keeps of the scores it was set on (:meth:`ApplicationReview.audit`; the
mark itself: ``review/marking.py``).

Only what the cities reported (初审通过 in a 已报送/已受理 batch) is ranked. An application that
left that set after experts were assigned (its city's batch was returned) keeps its scores on
every list and print, but takes no rank, pushes no one down and is not counted among the ranked;
its row says why (:class:`Exclusion`), and marking it is refused until the city has reported
again, when it is ranked again.

Nor is an application ranked before its scoring is complete (every active sheet submitted, as
many as the review asks: ``domain.review_aggregation.completion``): its row says 「评分未完成
（1/2）」 (and 「缺1位专家」 after a recusal), and a mark waits for the last score unless the
officer marks it 「不经专家评审直接标记」 with a reason (``review/marking.py``)."""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from ..applications.models import Application, ProvinceMark, ReviewState
from ..domain.review_aggregation import (
    OUTLIER_GAP,
    Aggregate,
    Completion,
    aggregate,
    competition_ranks,
    completion,
)
from ..domain.review_criteria import Opinion
from ..domain.review_scoring import sheet_totals
from ..rounds.models import BatchState
from ..rounds.state import REPORTED_STATES
from .models import ACTIVE_STATES, Assignment, ReviewRound, SheetState
from .queries import batch_states, reviewable_applications, sheets_by_application


@dataclass(frozen=True)
class ExpertScore:
    sheet: Assignment
    total: Decimal | None  # only a submitted sheet counts
    outlier: bool = False


@dataclass(frozen=True)
class Exclusion:
    """Why an application that holds score sheets is not ranked: it is no longer among what the
    cities reported."""

    note: str  # what its row says, on the page and in the prints
    refusal: str  # why a mark set from the ranking is refused meanwhile


def exclusion(application: Application, batch_state: BatchState | None) -> Exclusion:
    """Why ``application`` (not reviewable) takes no rank, from its city's batch state and its
    市州初审 state."""
    title = application.title
    if batch_state is BatchState.RETURNED:
        return Exclusion("批次已退回，不参与排名",
                         f"“{title}”所在市（州）的批次已{BatchState.RETURNED.label}，不参与排名，"
                         "暂不能标记推荐结果；该市（州）重新报送后恢复排名，届时再标记。")
    if batch_state not in REPORTED_STATES:
        label = (batch_state or BatchState.NOT_STARTED).label
        return Exclusion(f"批次{label}，不参与排名",
                         f"“{title}”所在市（州）的批次为“{label}”，不参与排名，"
                         "暂不能标记推荐结果；该市（州）报送后再标记。")
    label = ReviewState(application.review_state).label
    return Exclusion(f"市州初审为“{label}”，不参与排名",
                     f"“{title}”的市州初审为“{label}”，不在已报送的申报之中，不参与排名，不能标记推荐结果。")


@dataclass(frozen=True)
class OutsideScope:
    """An application that holds score sheets but is no longer among what the cities reported."""

    application: Application
    sheets: list[Assignment]
    exclusion: Exclusion


def outside_scope(review: ReviewRound, applications: list[Application] | None = None,
                  sheets: dict[int, list[Assignment]] | None = None) -> list[OutsideScope]:
    """Applications with sheets outside the reviewable set (their batch was returned, or the
    city no longer recommends them), in 附件3 order, each with why it is not ranked."""
    sheets = sheets_by_application(review) if sheets is None else sheets
    listed = {a.id for a in (reviewable_applications(review.round) if applications is None else applications)}
    extra = [group[0].application for app_id, group in sheets.items() if app_id not in listed]
    if not extra:
        return []
    states = batch_states(review.round)
    extra.sort(key=lambda a: (a.city.sort_order, a.position, a.id))
    return [OutsideScope(a, sheets[a.id], exclusion(a, states.get(a.city_id))) for a in extra]


@dataclass
class ApplicationReview:
    application: Application
    scores: list[ExpertScore]  # every active sheet, submitted first
    recused: list[Assignment]
    result: Aggregate
    rank: int | None = None
    ranked: int = 0  # how many applications of the round have a rank
    exclusion: Exclusion | None = None  # set when it is not among what the cities reported
    completion: Completion = field(default_factory=lambda: completion(0, 0, 0))

    @property
    def recusal_note(self) -> str:
        """「张明远回避」 for the summary's 备注."""
        return "、".join(a.expert.display_name or a.expert.username for a in self.recused) + "回避" \
            if self.recused else ""

    @property
    def remarks(self) -> str:
        """The 备注 of the summary: why there is no rank, and who recused."""
        parts = [self.exclusion.note if self.exclusion else self.completion.note, self.recusal_note]
        return "；".join(p for p in parts if p)

    @property
    def submitted(self) -> list[ExpertScore]:
        return [s for s in self.scores if s.total is not None]

    @property
    def opinions(self) -> dict[str, int]:
        counted = Counter(s.sheet.opinion for s in self.submitted if s.sheet.opinion)
        return {o.label: counted.get(o.value, 0) for o in Opinion}

    @property
    def mark(self) -> ProvinceMark | None:
        return self.application.mark

    @property
    def outlier_gap(self) -> Decimal:
        return OUTLIER_GAP

    def fingerprint(self) -> str:
        """Changes whenever a sheet is submitted, reopened, added or removed: a mark form
        carries it, so that a mark is never set on scores the officer did not see."""
        seen = [(s.sheet.id, s.sheet.state, str(s.total) if s.total is not None else None)
                for s in sorted(self.scores, key=lambda s: s.sheet.id)]
        return hashlib.sha256(json.dumps(seen).encode()).hexdigest()[:16]

    @property
    def line(self) -> str:
        """One line for the audit summary: 评审第2名（共5份），平均分 85.33，2位专家。"""
        if self.exclusion is not None:
            figures = f"，平均分 {self.result.mean}" if self.result.mean is not None else ""
            return f"评审：{self.exclusion.note}{figures}（已分配{len(self.scores)}位专家）"
        if self.result.mean is None:
            return f"评审：尚无已提交的评分（已分配{len(self.scores)}位专家）"
        if not self.completion.complete:
            return f"评审：{self.completion.note}，暂不排名，已提交的平均分 {self.result.mean}"
        return (f"评审第{self.rank}名（共{self.ranked}份），平均分 {self.result.mean}，"
                f"{self.result.count}位专家已提交")

    def audit(self) -> dict:
        """The scores the province saw, kept with its mark. Experts are named by their sheet's
        number, not by name: once the results are published a city reads its marks' trail."""
        return {"summary": self.line, "rank": self.rank, "ranked": self.ranked,
                "mean": str(self.result.mean) if self.result.mean is not None else None,
                "range": str(self.result.range) if self.result.range is not None else None,
                "stdev": str(self.result.stdev) if self.result.stdev is not None else None,
                "sheets": [{"sheet": s.sheet.id, "total": str(s.total) if s.total is not None else None,
                            "opinion": s.sheet.opinion_enum.label if s.sheet.opinion_enum else None,
                            "outlier": s.outlier} for s in self.scores],
                "opinions": self.opinions, "fingerprint": self.fingerprint()}


def _application_review(review: ReviewRound, application: Application, sheets: list[Assignment]) -> ApplicationReview:
    weights, criteria = review.weight_map, review.criteria
    active = sorted((s for s in sheets if s.state in ACTIVE_STATES),
                    key=lambda s: (s.state != SheetState.SUBMITTED, s.submitted_at is None, s.id))
    totals = [sheet_totals(s.score_values(), weights, criteria=criteria).total if s.is_submitted else None
              for s in active]
    result = aggregate([t for t in totals if t is not None])
    submitted_positions = [i for i, t in enumerate(totals) if t is not None]
    outliers = {submitted_positions[i] for i in result.outliers}
    scores = [ExpertScore(s, t, i in outliers) for i, (s, t) in enumerate(zip(active, totals, strict=True))]
    done = completion(review.experts_per_application, len(active), result.count)
    return ApplicationReview(application, scores, [s for s in sheets if s.state == SheetState.RECUSED], result,
                             completion=done)


def round_reviews(review: ReviewRound) -> list[ApplicationReview]:
    """Every reviewable application of the round with its experts' scores and its rank (in
    附件3 order); applications outside the reviewable set that still hold sheets (their batch
    was returned) come last with the reason they are not ranked, so no score is ever hidden,
    and they neither take a rank nor count among the ranked."""
    sheets = sheets_by_application(review)
    applications = reviewable_applications(review.round)
    rows = [_application_review(review, a, sheets.get(a.id, [])) for a in applications]
    for outside in outside_scope(review, applications, sheets):
        row = _application_review(review, outside.application, outside.sheets)
        row.exclusion = outside.exclusion
        rows.append(row)
    ranks = competition_ranks({row.application.id: row.result.mean for row in rows
                               if row.exclusion is None and row.completion.complete})
    for row in rows:
        row.rank = ranks.get(row.application.id)
        row.ranked = len(ranks)
    return rows


def shortfall(review: ReviewRound, sheets: dict[int, list[Assignment]] | None = None) -> dict[int, int]:
    """Application id → experts still to assign to reach the review's number (a recused sheet
    does not count), for the reviewable applications that have fewer."""
    sheets = sheets_by_application(review) if sheets is None else sheets
    required = review.experts_per_application
    short = {}
    for application in reviewable_applications(review.round):
        active = sum(a.state in ACTIVE_STATES for a in sheets.get(application.id, []))
        if active < required:
            short[application.id] = required - active
    return short


def application_review(review: ReviewRound, application: Application) -> ApplicationReview | None:
    return next((r for r in round_reviews(review) if r.application.id == application.id), None)


SORTS = {
    "rank": ("排名", lambda r: (r.rank is None, r.exclusion is not None, r.rank or 0,
                               r.application.city.sort_order)),
    "city": ("市（州）", lambda r: (r.application.city.sort_order, r.application.position)),
    "mean": ("平均分", lambda r: (r.result.mean is None, -(r.result.mean or 0))),
    "range": ("极差", lambda r: (r.result.range is None, -(r.result.range or 0))),
    "submitted": ("已提交", lambda r: (len(r.submitted), len(r.scores))),
    "mark": ("省厅标记", lambda r: (r.application.province_mark is None,
                                   list(ProvinceMark).index(r.mark) if r.mark else 0)),
}


@dataclass
class Ranking:
    review: ReviewRound
    rows: list[ApplicationReview]
    sort: str = "rank"
    descending: bool = False
    counts: dict[str, int] = field(default_factory=dict)


def ranking(review: ReviewRound, sort: str = "rank", descending: bool = False) -> Ranking:
    """The ranking table across the province, sorted by one of :data:`SORTS`."""
    sort = sort if sort in SORTS else "rank"
    rows = sorted(round_reviews(review), key=SORTS[sort][1], reverse=descending)
    submitted = sum(len(r.submitted) for r in rows)
    assigned = sum(len(r.scores) for r in rows)
    return Ranking(review, rows, sort, descending, {
        "applications": sum(r.exclusion is None for r in rows), "ranked": sum(r.rank is not None for r in rows),
        "excluded": sum(r.exclusion is not None for r in rows),
        "incomplete": sum(r.exclusion is None and not r.completion.complete for r in rows),
        "assigned": assigned, "submitted": submitted,
        "outliers": sum(any(s.outlier for s in r.scores) or r.result.disagreement for r in rows)})
