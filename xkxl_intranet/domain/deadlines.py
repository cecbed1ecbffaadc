"""Deadline arithmetic for reporting (报送). Pure: no Flask, no database.

All datetimes are aware; comparisons work across time zones, so a deadline typed
in another zone is the same instant as its Asia/Shanghai reading.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
REMINDER_WINDOW = timedelta(days=7)


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")
    return moment


@dataclass(frozen=True)
class ReportingWindow:
    allowed: bool
    late: bool  # allowed only thanks to an extension
    deadline: datetime  # the deadline that applies to this city (Asia/Shanghai)
    message: str


def effective_deadline(round_deadline: datetime, extension: datetime | None) -> datetime:
    """The later of the round's deadline and the city's extension."""
    _aware(round_deadline, "round_deadline")
    if extension is not None and _aware(extension, "extension") > round_deadline:
        return extension.astimezone(SHANGHAI)
    return round_deadline.astimezone(SHANGHAI)


def reporting_window(now: datetime, round_deadline: datetime, extension: datetime | None) -> ReportingWindow:
    """May a city report at ``now``? On time up to and including the deadline second;
    after it only under an extension, and then the batch is marked late."""
    _aware(now, "now")
    round_deadline = _aware(round_deadline, "round_deadline").astimezone(SHANGHAI)
    if now <= round_deadline:
        return ReportingWindow(True, False, round_deadline, "")
    if extension is not None and now <= _aware(extension, "extension"):
        extended = extension.astimezone(SHANGHAI)
        return ReportingWindow(True, True, extended,
                               f"已超过报送截止时间，按省厅批准的延期（至 {extended:%Y年%m月%d日 %H:%M}）报送，将标记为逾期报送。")
    if extension is not None:
        extended = extension.astimezone(SHANGHAI)
        return ReportingWindow(False, True, extended,
                               f"已超过延期截止时间（{extended:%Y年%m月%d日 %H:%M}），不能再报送。请联系省厅大数据与信息化处。")
    return ReportingWindow(False, False, round_deadline,
                           f"已超过报送截止时间（{round_deadline:%Y年%m月%d日 %H:%M}），不能再报送。"
                           "如确需报送，请联系省厅大数据与信息化处申请延期。")


def in_reminder_window(now: datetime, deadline: datetime) -> bool:
    """From 7 days before the deadline until it passes, clerks are reminded of what is missing."""
    return deadline - REMINDER_WINDOW <= now <= deadline


def parse_deadline(text: str) -> datetime:
    """A deadline typed by province staff: ISO with an offset, or a local Asia/Shanghai time
    such as ``2022-03-25 18:00`` / ``2022-03-25T18:00``. A bare date means its last second."""
    text = (text or "").strip().replace("T", " ")
    if not text:
        raise ValueError("请填写截止时间")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"无法识别的时间“{text}”，请按 2022-03-25 18:00 的格式填写") from None
    if len(text) == 10:  # a date alone: the whole day counts
        moment = moment.replace(hour=23, minute=59, second=59)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    return moment.astimezone(SHANGHAI)
