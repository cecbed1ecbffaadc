"""Scheduled reminders (站内通知 that nobody's action causes): the reporting deadline 7, 3 and 1
days before and in its last 24 hours for every city that has not reported; the review deadline
3 and 1 days before for experts with sheets still open; a password about to expire.

:func:`send_due_reminders` is idempotent: each notice carries a dedupe key per person, kind,
deadline and threshold (``notifications.operations.notify`` sends a key to a person once), so
the worker may run it every few minutes (worker.py) and ``flask notifications remind`` at any
time. A key names the deadline itself, so an extension or a changed deadline starts the
reminders afresh. Only the tightest threshold crossed is sent: a first run two days before the
deadline sends 「还有3天」, not the week's as well. It lives here, above review and auth, because
it reads rounds, batches, score sheets and accounts; it only flushes, its caller commits."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from ..auth.models import User
from ..domain.deadlines import format_deadline, last_instant
from ..domain.durations import time_left
from ..domain.notices import DEADLINE_THRESHOLDS, REVIEW_THRESHOLDS, NoticeKind, Threshold, due_threshold
from ..domain.password_policy import password_expiry
from ..extensions import db
from ..notifications.operations import Link, city_accounts, notify
from ..review.models import OPEN_STATES, Assignment, ReviewRound
from ..rounds.models import City, Round
from ..rounds.state import REPORTED_STATES, current_round, deadline_of, find_batch


@dataclass
class Reminded:
    """How many notices each kind of reminder made in one run (0 on a repeated run)."""

    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def reminder_settings(config: Mapping[str, object]) -> dict[str, int]:
    """The password settings the reminders read, from the config the app factory filled."""
    return {"password_max_age_days": int(str(config.get("PASSWORD_MAX_AGE_DAYS", 90))),
            "password_warning_days": int(str(config.get("PASSWORD_EXPIRY_WARNING_DAYS", 7)))}


def send_due_reminders(at: datetime, *, password_max_age_days: int = 90,
                       password_warning_days: int = 7) -> Reminded:
    """Every reminder due at ``at`` that has not been sent; the caller commits."""
    done = Reminded()
    round_ = current_round()
    if round_ is not None:
        done.counts[NoticeKind.DEADLINE_NEAR] += _reporting_deadline(round_, at)
        done.counts[NoticeKind.REVIEW_DEADLINE_NEAR] += _review_deadline(round_, at)
    done.counts[NoticeKind.PASSWORD_EXPIRING] += _passwords(at, password_max_age_days, password_warning_days)
    return done


def _reporting_deadline(round_: Round, at: datetime) -> int:
    made = 0
    for city in db.session.scalars(select(City).order_by(City.code)):
        batch = find_batch(round_.id, city.id)
        if batch is not None and batch.state in REPORTED_STATES:
            continue  # reported (or accepted): nothing left to do; a returned batch is reminded
        deadline = deadline_of(round_, batch)
        threshold = due_threshold(DEADLINE_THRESHOLDS, last_instant(deadline), at)
        if threshold is None:
            continue
        made += len(notify(
            city_accounts(city.id), NoticeKind.DEADLINE_NEAR,
            f"距{city.name}报送截止{time_left(last_instant(deadline) - at)}：{format_deadline(deadline)}",
            f"{round_.title}：本市（州）尚未报送，截止时间为 {format_deadline(deadline)}（北京时间）。"
            "截止后不能报送，确需延期请及时联系省厅。",
            Link("rounds.batch"), dedupe_key=_key("deadline", round_.id, deadline, threshold)))
    return made


def _review_deadline(round_: Round, at: datetime) -> int:
    review = db.session.scalar(select(ReviewRound).where(ReviewRound.round_id == round_.id))
    if review is None:
        return 0
    open_sheets = db.session.scalars(select(Assignment).where(
        Assignment.review_round_id == review.id, Assignment.state.in_(OPEN_STATES)))
    # One notice per expert, deadline and threshold, however many sheets share them.
    due: dict[tuple[int, datetime, Threshold], list[Assignment]] = defaultdict(list)
    for sheet in open_sheets:
        deadline = sheet.extension_deadline or review.deadline
        threshold = due_threshold(REVIEW_THRESHOLDS, last_instant(deadline), at)
        if threshold is not None:
            due[(sheet.expert_id, deadline, threshold)].append(sheet)
    made = 0
    for (_expert_id, deadline, threshold), sheets in due.items():
        made += len(notify(
            [sheets[0].expert], NoticeKind.REVIEW_DEADLINE_NEAR,
            f"距评审截止{time_left(last_instant(deadline) - at)}：尚有 {len(sheets)} 份评分表未提交",
            f"评审截止时间为 {format_deadline(deadline)}（北京时间），请及时完成并提交："
            + "、".join(s.application.title for s in sheets[:10]) + ("等" if len(sheets) > 10 else "") + "。",
            Link("review.mine"), dedupe_key=_key("review", review.id, deadline, threshold)))
    return made


def _passwords(at: datetime, max_age_days: int, warning_days: int) -> int:
    if max_age_days <= 0:
        return 0
    made = 0
    for user in db.session.scalars(select(User).where(User.is_enabled.is_(True)).order_by(User.id)):
        expiry = password_expiry(user.password_changed_at, max_age_days=max_age_days, warning_days=warning_days)
        if expiry is None or not expiry.warns(at):
            continue
        made += len(notify(
            [user], NoticeKind.PASSWORD_EXPIRING, f"您的密码将于 {expiry.expires_at:%Y-%m-%d} 到期",
            f"密码到期后须先修改密码才能继续使用，请在 {expiry.expires_at:%Y-%m-%d %H:%M} 前修改。",
            Link("auth.change_password_view"),
            # Per password: a new password is reminded again when it in turn nears its expiry.
            dedupe_key=f"password:{user.password_changed_at.isoformat()}"))
    return made


def _key(what: str, owner_id: int, deadline: datetime, threshold: Threshold) -> str:
    return f"{what}:{owner_id}:{deadline.isoformat()}:{threshold.key}"
