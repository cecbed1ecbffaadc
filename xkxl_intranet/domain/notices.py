"""In-app notices (站内通知): their kinds, each kind's Chinese name, and when a scheduled reminder
is due. Pure: the notifications package stores and lists them, the services that change a
batch, a sheet or an account say when one is owed."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class NoticeKind(StrEnum):
    BATCH_REPORTED = "batch_reported"
    BATCH_RETURNED = "batch_returned"
    BATCH_EXTENDED = "batch_extended"
    BATCH_ACCEPTED = "batch_accepted"
    PAPER_RECORDED = "paper_recorded"
    RESULTS_PUBLISHED = "results_published"
    EXPERT_ASSIGNED = "expert_assigned"
    EXPERT_RECUSED = "expert_recused"
    SHEET_RETURNED = "sheet_returned"
    ACCOUNT_LOCKED = "account_locked"
    DEADLINE_NEAR = "deadline_near"
    REVIEW_DEADLINE_NEAR = "review_deadline_near"
    PASSWORD_EXPIRING = "password_expiring"
    ANNOUNCEMENT = "announcement"
    DEADLINE_CHANGED = "deadline_changed"

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


KIND_LABELS = {
    NoticeKind.BATCH_REPORTED: "市州报送",
    NoticeKind.BATCH_RETURNED: "批次退回",
    NoticeKind.BATCH_EXTENDED: "延期",
    NoticeKind.BATCH_ACCEPTED: "已受理",
    NoticeKind.PAPER_RECORDED: "纸质材料",
    NoticeKind.RESULTS_PUBLISHED: "推荐结果",
    NoticeKind.EXPERT_ASSIGNED: "评审任务",
    NoticeKind.EXPERT_RECUSED: "专家回避",
    NoticeKind.SHEET_RETURNED: "评分表退回",
    NoticeKind.ACCOUNT_LOCKED: "账号锁定",
    NoticeKind.DEADLINE_NEAR: "报送截止提醒",
    NoticeKind.REVIEW_DEADLINE_NEAR: "评审截止提醒",
    NoticeKind.PASSWORD_EXPIRING: "密码即将到期",
    NoticeKind.ANNOUNCEMENT: "通知公告",
    NoticeKind.DEADLINE_CHANGED: "截止时间调整",
}


def kind_label(kind: str) -> str:
    try:
        return NoticeKind(kind).label
    except ValueError:  # a kind a later version added, read by an older one
        return "通知"


@dataclass(frozen=True)
class Threshold:
    """A point before a deadline at which a reminder is owed: ``days`` calendar days before the
    deadline's day (7, 3, 1), or ``hours`` before its last instant (the last 24 hours)."""

    key: str
    days: int | None = None
    hours: int | None = None

    @property
    def wording(self) -> str:
        if self.hours is not None:
            return f"不足{self.hours}小时"
        return f"还有{self.days}天"


# Reporting: a week, three days, the day before and the last 24 hours (the clerk may have
# missed the banner, and a late batch needs the province's extension).
DEADLINE_THRESHOLDS = (Threshold("7d", days=7), Threshold("3d", days=3), Threshold("1d", days=1),
                       Threshold("24h", hours=24))
# Review: the experts' deadline is weeks after the cities', three days and the day before suffice.
REVIEW_THRESHOLDS = (Threshold("3d", days=3), Threshold("1d", days=1))


def due_threshold(thresholds: tuple[Threshold, ...], last_instant: datetime,
                  at: datetime) -> Threshold | None:
    """The tightest threshold ``at`` has crossed before ``last_instant`` (the deadline's own last
    moment), ``None`` before the first one or once the deadline has passed. Only the tightest:
    a reminder run first two days before the deadline sends 「还有3天」, not the week's too.
    Calendar days are counted in the deadline's own time zone."""
    if at > last_instant:
        return None
    local_at = at.astimezone(last_instant.tzinfo)
    days_left = (last_instant.date() - local_at.date()).days
    due = None
    for threshold in thresholds:
        if threshold.hours is not None:
            crossed = last_instant - at <= timedelta(hours=threshold.hours)
        else:
            crossed = days_left <= (threshold.days or 0)
        if crossed:
            due = threshold
    return due
