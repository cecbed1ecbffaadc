"""Deadline arithmetic for reporting (报送). Pure: no Flask, no database.

All datetimes are aware; comparisons work across time zones, so a deadline typed
in another zone is the same instant as its Asia/Shanghai reading.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .findings import echo

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


def last_instant(deadline: datetime) -> datetime:
    """The last instant a deadline admits: the whole unit it was written to.

    Deadlines are kept to the second. One written with seconds (``23:59:59``) admits that
    whole second, up to 23:59:59.999999; one written to the minute (``18:00``, kept as
    18:00:00) admits the whole minute; a bare date is kept as its 23:59:59 and so admits
    the whole day. (A deadline typed as ``18:00:00`` reads as the minute 18:00.)
    """
    deadline = _aware(deadline, "deadline").replace(microsecond=0)
    if deadline.second:
        return deadline.replace(microsecond=999_999)
    return deadline.replace(second=59, microsecond=999_999)


def has_passed(deadline: datetime, now: datetime) -> bool:
    return _aware(now, "now") > last_instant(deadline)


def format_deadline(deadline: datetime) -> str:
    """``2022年03月21日 23:59:59``, or ``… 18:00`` when the deadline is a whole minute."""
    local = deadline.astimezone(SHANGHAI)
    return f"{local:%Y年%m月%d日 %H:%M:%S}" if local.second else f"{local:%Y年%m月%d日 %H:%M}"


def extension_example(round_deadline: datetime) -> tuple[str, str]:
    """An extension as the province would type it, four days past the round's deadline at 18:00,
    in the two forms the hint names (``2027-03-25 18:00``, ``2027年3月25日``): an example of the
    round in hand, not 2022's, which is earlier than any later round's deadline."""
    day = round_deadline.astimezone(SHANGHAI).date() + timedelta(days=4)
    return f"{day:%Y-%m-%d} 18:00", f"{day.year}年{day.month}月{day.day}日"


def effective_deadline(round_deadline: datetime, extension: datetime | None) -> datetime:
    """The later of the round's deadline and the city's extension."""
    _aware(round_deadline, "round_deadline")
    if extension is not None and _aware(extension, "extension") > round_deadline:
        return extension.astimezone(SHANGHAI)
    return round_deadline.astimezone(SHANGHAI)


def reporting_window(now: datetime, round_deadline: datetime, extension: datetime | None) -> ReportingWindow:
    """May a city report at ``now``? On time up to the end of the deadline's unit (see
    :func:`last_instant`); after it only under an extension, and then the batch is late."""
    _aware(now, "now")
    round_deadline = _aware(round_deadline, "round_deadline").astimezone(SHANGHAI)
    if not has_passed(round_deadline, now):
        return ReportingWindow(True, False, round_deadline, "")
    if extension is not None and not has_passed(extension, now):
        extended = extension.astimezone(SHANGHAI)
        return ReportingWindow(True, True, extended,
                               f"已超过报送截止时间，按省厅批准的延期（至 {format_deadline(extended)}）报送，"
                               "将标记为逾期报送。")
    if extension is not None:
        extended = extension.astimezone(SHANGHAI)
        return ReportingWindow(False, True, extended,
                               f"已超过延期截止时间（{format_deadline(extended)}），不能再报送。"
                               "请联系省厅大数据与信息化处。")
    return ReportingWindow(False, False, round_deadline,
                           f"已超过报送截止时间（{format_deadline(round_deadline)}），不能再报送。"
                           "如确需报送，请联系省厅大数据与信息化处申请延期。")


def in_reminder_window(now: datetime, deadline: datetime) -> bool:
    """From 7 days before the deadline until it passes, clerks are reminded of what is missing."""
    return deadline - REMINDER_WINDOW <= now <= last_instant(deadline)


_SEP = r"\s*[-/.]\s*"
# A day in every common spelling; domain/dates.py reads dates of receipt with the same ones.
DAY_SPELLINGS = (
    re.compile(rf"(?P<y>\d{{4}}){_SEP}(?P<m>\d{{1,2}}){_SEP}(?P<d>\d{{1,2}})"),
    re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]?"),
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})"),
)
_TIME_SPELLINGS = (
    re.compile(r"(?P<h>\d{1,2})\s*:\s*(?P<mi>\d{2})(?:\s*:\s*(?P<s>\d{2})(?:\.\d+)?)?"),
    re.compile(r"(?P<h>\d{1,2})\s*[时点]\s*(?:(?P<mi>\d{1,2})\s*分\s*(?:(?P<s>\d{1,2})\s*秒)?)?"),
)
_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
_FORMAT_HINT = "请按 2022-03-25 18:00、2022/3/25、20220325 或 2022年3月25日18时 的格式填写"


def _read_date(text: str) -> tuple[date, str]:
    for pattern in DAY_SPELLINGS:
        match = pattern.match(text)
        if match:
            try:
                day = date(int(match["y"]), int(match["m"]), int(match["d"]))
            except ValueError:
                raise ValueError(f"日期“{echo(text)}”不存在，{_FORMAT_HINT}") from None
            return day, text[match.end():].strip()
    raise ValueError(f"无法识别的时间“{echo(text)}”，{_FORMAT_HINT}")


def _read_time(rest: str, text: str) -> time:
    if not rest:
        return time(23, 59, 59)  # a bare date: the whole day
    for pattern in _TIME_SPELLINGS:
        match = pattern.fullmatch(rest)
        if match:
            try:
                return time(int(match["h"]), int(match["mi"] or 0), int(match["s"] or 0))
            except ValueError:
                break
    raise ValueError(f"无法识别的时间“{echo(text)}”，{_FORMAT_HINT}")


def parse_deadline(text: str) -> datetime:
    """A deadline typed by province staff, in Asia/Shanghai time unless it carries an offset:
    ``2022-03-25 18:00``, ``2022/3/25``, ``20220325``, ``2022年3月25日``, ``2022年3月25日18时``,
    ``2022-03-25T18:00:00+08:00``. A bare date means the whole day; kept to the second."""
    text = " ".join((text or "").replace("T", " ").split())
    if not text:
        raise ValueError("请填写截止时间")
    offset = _OFFSET.search(text)
    if offset:
        try:
            moment = datetime.fromisoformat(text.replace(" ", "T", 1))
        except ValueError:
            raise ValueError(f"无法识别的时间“{echo(text)}”，{_FORMAT_HINT}") from None
        return moment.astimezone(SHANGHAI).replace(microsecond=0)
    day, rest = _read_date(text)
    return datetime.combine(day, _read_time(rest, text), tzinfo=SHANGHAI)
