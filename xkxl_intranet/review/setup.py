"""The province sets up a round's review: its deadline, the weights of the dimensions of the
round's 附件1 (``round.declaration.criteria``) and how many experts score each application. Operations take the acting user, raise
:class:`Refused`, and only flush."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from ..audit.services import record
from ..auth.models import User
from ..clock import now
from ..domain.deadlines import format_deadline, has_passed
from ..domain.errors import Refused
from ..domain.findings import ParseError
from ..domain.review_criteria import Criteria
from ..domain.review_scoring import parse_weights
from ..extensions import db
from ..rounds.models import Round
from .models import ReviewRound
from .queries import expert_accounts, review_for, submitted_count

MAX_EXPERTS_PER_APPLICATION = 9

WEIGHTS_LOCKED = ("已有专家提交评分，权重不能再修改：已签字的评分表是按现行权重计分的。"
                  "如确需修改，请先退回全部已提交的评分表。")


def weights_text(weights: Mapping[str, int], criteria: Criteria) -> str:
    """``平台资源管理水平 25%、…`` for summaries and prints."""
    return "、".join(f"{d.label} {weights.get(d.key, d.default_weight)}%" for d in criteria.dimensions)


def experts_ceiling(enabled: int) -> int:
    """The most experts an application can have: one sheet per expert, so no more than the
    enabled experts (and never more than :data:`MAX_EXPERTS_PER_APPLICATION`)."""
    return min(enabled, MAX_EXPERTS_PER_APPLICATION)


def check_experts_per_application(n: int | None, enabled: int | None = None) -> int:
    """``n`` experts per application, at most as many as there are enabled experts (``enabled``):
    an expert scores an application once, so with fewer experts no application could ever be
    fully reviewed, nor ranked."""
    ceiling = MAX_EXPERTS_PER_APPLICATION if enabled is None else experts_ceiling(enabled)
    if enabled == 0:
        raise Refused("目前没有启用的评审专家账号：请先由系统管理员在“账号管理”中创建评审专家（或启用已停用的专家），"
                      "再设置评审。", field="experts_per_application")
    if n is None or not 1 <= n <= ceiling:
        known = f"（目前启用的评审专家共{enabled}位）" if enabled is not None else ""
        raise Refused(f"每份申报的评审专家人数应在1至{ceiling}之间{known}。", field="experts_per_application")
    return n


def save_settings(user: User, round_: Round, *, deadline: datetime, weights: Mapping[str, object],
                  experts_per_application: int | None, confirm_past: bool = False) -> ReviewRound:
    """Create the round's review, or change it. A deadline already past closes every open sheet
    at once, so it needs ``confirm_past``; the weights are fixed once a sheet is submitted."""
    criteria: Criteria = round_.declaration.criteria
    try:
        parsed = parse_weights(weights, criteria=criteria)
    except ParseError as err:
        raise Refused(err.message, field="weights") from None
    review = review_for(round_)
    if review is None or experts_per_application != review.experts_per_application:
        # An unchanged number stands even if an expert was disabled since: the page warns.
        n = check_experts_per_application(experts_per_application, len(expert_accounts()))
    else:
        n = review.experts_per_application
    if has_passed(deadline, now()) and not confirm_past:
        raise Refused(f"评审截止时间 {format_deadline(deadline)} 已过：保存后专家将立即不能再保存或提交评分表"
                      "（已获延期的评分表除外）。如确需如此，请勾选“确认立即截止”后再保存。", field="confirm_past")
    if review is None:
        review = ReviewRound(round_id=round_.id, deadline=deadline, weights=parsed, experts_per_application=n,
                             created_at=now(), created_by_id=user.id)
        db.session.add(review)
        db.session.flush()
        record("review.opened", user=user, object_type="review", object_id=review.id,
               summary=f"设置{round_.title}评审：截止 {format_deadline(deadline)}，每份申报{n}位专家，"
                       f"权重 {weights_text(parsed, criteria)}",
               after={"deadline": deadline.isoformat(), "weights": parsed, "experts_per_application": n})
        return review
    if parsed != review.weight_map and submitted_count(review):
        raise Refused(WEIGHTS_LOCKED, field="weights")
    before = {"deadline": review.deadline.isoformat(), "weights": review.weight_map,
              "experts_per_application": review.experts_per_application}
    review.deadline, review.weights, review.experts_per_application = deadline, parsed, n
    after = {"deadline": deadline.isoformat(), "weights": parsed, "experts_per_application": n}
    changed = [k for k in after if after[k] != before[k]]
    if changed:
        record("review.settings_changed", user=user, object_type="review", object_id=review.id,
               summary=f"修改评审设置：截止 {format_deadline(deadline)}，每份申报{n}位专家，"
                       f"权重 {weights_text(parsed, criteria)}",
               before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
    db.session.flush()
    return review
