"""The province's mark on a platform (推荐工信部 / 列入省级培育名单 / 未入选): one rule, whether it
is set from the city desk or from the ranking, and the ministry's quota beside it.

**Expert review.** While the round uses expert review (any score sheet has been given out in the
round's review), a mark waits for the application's scoring to be complete, unless the officer
ticks 「不经专家评审直接标记」 and says why. Either way the event keeps the scores the officer saw
(:meth:`ApplicationReview.audit`), and a form that showed the scores carries their fingerprint:
when they changed since the page was drawn the mark is refused. Without any sheet in the round,
marks are the province's alone, as before the review existed. Clearing a mark needs neither.

**Quota** (the round's notice's, ``round.declaration.quota``). A 推荐工信部 that makes more than
the quota's unflagged ones in the round asks the officer to confirm; confirmed, it is marked and the
count goes into the event. Never a block. The flag 「2020年已获评，不占名额」 is the province's,
set where it marks.

**A returned batch** (:func:`clear_marks_of_returned_batch`): the desk's return clears the marks
of the batch's applications, one mark event each with the mark it cleared, so that the province
marks again what the city reports next. The city sees a mark only while its batch stands reported
and results are published (``applications.rules.marks_visible_to``); the clearing events are mark
events, which the city reads under the same rule, and the return's own event (which the city
reads) names no mark.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exists, func, select

from ..applications.models import Application, ProvinceMark, ReviewState
from ..applications.queries import counted
from ..applications.rules import MARK_ACTION
from ..audit.services import record
from ..auth.models import User
from ..clock import now
from ..domain.errors import Refused
from ..domain.recommendation_quota import RecommendationQuota
from ..extensions import db
from ..rounds.models import CityBatch, Round
from ..rounds.state import REPORTED_STATES, find_batch
from .aggregation import ApplicationReview, application_review, round_reviews
from .models import Assignment, ReviewRound
from .queries import review_for

BYPASS_LABEL = "不经专家评审直接标记"
BYPASS_REASON_LABEL = f"{BYPASS_LABEL}的理由"


@dataclass(frozen=True)
class QuotaStanding:
    """The round's 推荐工信部 marks against the ministry's quota, as the round's notice states it."""

    quota: RecommendationQuota
    counted: int  # what the quota counts: not flagged 2020年已获评
    exempt: int  # flagged: not counted

    @property
    def limit(self) -> int:
        return self.quota.limit

    @property
    def full(self) -> bool:
        """One more counted 推荐工信部 would go beyond the quota."""
        return self.counted >= self.limit

    @property
    def line(self) -> str:
        return self.quota.standing(self.counted, self.exempt)


def quota_standing(round_: Round, *, leaving_out: int | None = None) -> QuotaStanding:
    """The 推荐工信部 marks among what the cities reported (see ``rounds.state.counted``),
    ``leaving_out`` one application (the one being marked)."""
    stmt = (select(Application.quota_exempt, func.count()).where(
        counted(round_), Application.province_mark == ProvinceMark.RECOMMENDED.value)
        .group_by(Application.quota_exempt))
    if leaving_out is not None:
        stmt = stmt.where(Application.id != leaving_out)
    by_flag = {bool(flag): number for flag, number in db.session.execute(stmt)}
    return QuotaStanding(round_.declaration.quota, by_flag.get(False, 0), by_flag.get(True, 0))


def review_in_use(round_: Round) -> ReviewRound | None:
    """The round's review once any score sheet has been given out in it; ``None`` otherwise
    (no review set up, or no expert given anything yet): then marks need no scores."""
    review = review_for(round_)
    if review is None:
        return None
    given = db.session.scalar(select(exists().where(Assignment.review_round_id == review.id)))
    return review if given else None


@dataclass
class MarkingPanel:
    """What a page needs beside its mark forms: each application's scores while the round uses
    expert review (empty otherwise), and the quota."""

    quota: QuotaStanding
    scores: dict[int, ApplicationReview] = field(default_factory=dict)

    @property
    def review_in_use(self) -> bool:
        return bool(self.scores)


def marking_panel(round_: Round, rows: list[ApplicationReview] | None = None) -> MarkingPanel:
    """``rows``: the round's reviews when the page has them already (the ranking)."""
    review = review_in_use(round_)
    if review is None:
        return MarkingPanel(quota_standing(round_))
    rows = round_reviews(review) if rows is None else rows
    return MarkingPanel(quota_standing(round_), {row.application.id: row for row in rows})


# ---- setting a mark -----------------------------------------------------------------------------------

def _target(mark: str) -> ProvinceMark | None:
    try:
        return ProvinceMark(mark) if mark else None
    except ValueError:
        raise Refused("请选择：推荐工信部、列入省级培育名单或未入选。", field="mark") from None


def _check_markable(application: Application, row: ApplicationReview | None) -> None:
    """Only what a city reported is marked; a row the ranking leaves out says why."""
    if row is not None and row.exclusion is not None:
        raise Refused(row.exclusion.refusal)
    batch = find_batch(application.round_id, application.city_id)
    if batch is None or batch.state not in REPORTED_STATES:
        raise Refused("只有已报送的申报可以标记推荐结果。")
    if application.review_state != ReviewState.PASSED:
        raise Refused("只有市州初审通过的申报可以标记推荐结果。")


def _bypass_reason(application: Application, row: ApplicationReview, seen: str | None,
                   bypass: bool, reason: str) -> str:
    """"" when the scoring is complete (and is what the page showed); the officer's reason for
    marking before it is; :class:`Refused` otherwise."""
    if seen is not None and seen != row.fingerprint():
        raise Refused(f"“{application.title}”的评分刚有变化（有专家提交或评分表被退回）。"
                      "请核对最新得分后再标记。")
    if row.completion.complete:
        return ""
    if not bypass:
        raise Refused(f"“{application.title}”{row.completion.note}，暂不排名：本批次已分配评审专家，"
                      "请待全部专家提交评分表后再标记"
                      + ("（可在“组织与分配”中补派专家）" if row.completion.missing_experts else "")
                      + f"；如确需先行标记，请勾选「{BYPASS_LABEL}」并填写理由。", field="bypass")
    reason = (reason or "").strip()
    if not reason:
        raise Refused(f"已勾选「{BYPASS_LABEL}」：请填写「{BYPASS_REASON_LABEL}」，它将连同当时的评分记入审计日志。",
                      field="bypass_reason")
    return reason[:1000]


def _quota(application: Application, target: ProvinceMark | None, exempt: bool,
           confirmed: bool) -> dict[str, Any] | None:
    """The count a 推荐工信部 is set with; :class:`Refused` when it newly goes beyond the quota
    unconfirmed. A mark that already counted (a note changed) is not asked again."""
    if target is not ProvinceMark.RECOMMENDED:
        return None
    others = quota_standing(application.round, leaving_out=application.id)
    counted_now = others.counted + (0 if exempt else 1)
    counted_before = application.mark is ProvinceMark.RECOMMENDED and not application.quota_exempt
    over = counted_now > others.limit and not exempt and not counted_before
    if over and not confirmed:
        raise Refused(others.quota.over(counted_now), field="confirm_quota")
    return {"counted": counted_now, "limit": others.limit, "exempt": others.exempt + (1 if exempt else 0),
            "confirmed": over}


def mark_application(user: User, application: Application, mark: str, note: str, *, seen: str | None = None,
                     bypass: bool = False, bypass_reason: str = "", quota_exempt: bool | None = None,
                     confirm_quota: bool = False) -> ApplicationReview | None:
    """The province's mark (``mark`` a :class:`ProvinceMark` value, "" to clear it), from the
    city desk or the ranking alike. ``seen``: the fingerprint of the scores the form showed
    (``None``: it showed none); ``bypass`` + ``bypass_reason``: 「不经专家评审直接标记」;
    ``quota_exempt``: the flag 「2020年已获评，不占名额」 (``None`` leaves it as it is);
    ``confirm_quota``: the officer confirmed a 推荐工信部 beyond the quota. Returns the scores
    the mark was set on (``None``: the round uses no expert review)."""
    target = _target(mark)
    review = review_in_use(application.round)
    row = application_review(review, application) if review is not None else None
    _check_markable(application, row)
    reason = _bypass_reason(application, row, seen, bypass, bypass_reason) \
        if row is not None and target is not None else ""
    exempt = application.quota_exempt if quota_exempt is None else bool(quota_exempt)
    quota = _quota(application, target, exempt, confirm_quota)
    _write(user, application, target, note, exempt, review=row.audit() if row is not None else None,
           bypass_reason=reason, quota=quota)
    return row


def _snapshot(application: Application) -> dict[str, Any]:
    return {"province_mark": application.mark.label if application.mark else None,
            "province_note": application.province_note}


def _write(user: User, application: Application, target: ProvinceMark | None, note: str, exempt: bool, *,
           review: dict[str, Any] | None, bypass_reason: str = "", quota: dict[str, Any] | None = None,
           summary: str = "") -> None:
    """Set the mark and record it: the event's before/after hold the mark and its note (and the
    flag when it changed), the scores seen (``review``), the reason for marking without them,
    and the quota's count."""
    before, flag_before = _snapshot(application), application.quota_exempt
    application.province_mark = target.value if target else None
    application.province_note = (note or "").strip()[:1000]
    application.quota_exempt = exempt
    application.marked_at = now()
    application.marked_by_id = user.id if user is not None else None
    after = _snapshot(application)
    if flag_before != exempt:
        before["quota_exempt"], after["quota_exempt"] = flag_before, exempt
    if review is not None:
        after["review"] = review
    if bypass_reason:
        after["review_bypass"] = bypass_reason
    if quota is not None:
        after["quota"] = quota
    parts = [summary or f"省厅标记：{target.label if target else '清除标记'}（{application.title}）"]
    if review is not None and review.get("summary"):
        parts.append(review["summary"])
    if bypass_reason:
        parts.append(f"{BYPASS_LABEL}：{bypass_reason[:200]}")
    if quota is not None:
        parts.append(application.round.declaration.quota.standing(quota["counted"], quota["exempt"])
                     + ("，经确认超出名额" if quota["confirmed"] else ""))
    record(MARK_ACTION, user=user, object_type="application", object_id=application.id,
           city_id=application.city_id, summary="；".join(parts), before=before, after=after)
    db.session.flush()


# ---- a returned batch ---------------------------------------------------------------------------------

def clear_marks_of_returned_batch(user: User, batch: CityBatch) -> int:
    """Clear the marks (and their notes) of the batch's applications as the province returns
    it; one mark event each keeps the mark it cleared. The flag 「2020年已获评」 stays: it is a
    fact about the platform, not a decision on this report. Returns how many were cleared."""
    marked = db.session.scalars(select(Application).where(
        Application.round_id == batch.round_id, Application.city_id == batch.city_id,
        Application.province_mark.is_not(None)).order_by(Application.position, Application.id)).all()
    for application in marked:
        assert application.mark is not None  # the query takes the marked ones
        _write(user, application, None, "", application.quota_exempt, review=None,
               summary=f"退回{batch.city.name}的报送，清除省厅标记：{application.mark.label}（{application.title}），"
                       "该市（州）重新报送后再标记")
    return len(marked)
