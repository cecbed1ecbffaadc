"""Dates province staff type outside the application's fields: a day (the day the paper copies
arrived) and a day or a whole month (the audit trail's filter). Pure.

The application's own date field (成立时间, ``parsing.parse_date``) takes a month alone as its
first day, which suits a founding date. Here a day is a day: a month alone is no date of
receipt; and a filter's month is the whole month (至 2022-03 includes 31 March).
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from .deadlines import DAY_SPELLINGS
from .findings import ParseError
from .numbers import normalize_text

DAY_EXAMPLES = "2022-03-18、2022/3/18 或 2022年3月18日"
DAY_OR_MONTH_EXAMPLES = "2022-03-21、2022/3/21、2022年3月21日，或只填月份（整月）如 2022-03、2022年3月"

_MONTH_SPELLINGS = (
    re.compile(r"(?P<y>\d{4})\s*[-/.]\s*(?P<m>\d{1,2})"),
    re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月(?:份)?"),
)
_QUOTES = "\"'“”‘’「」"
FIRST_YEAR, LAST_YEAR = 1900, 2100


@dataclass(frozen=True)
class Span:
    """The days a filter's date covers: one day, or a whole month."""

    first: date
    last: date

    @property
    def whole_month(self) -> bool:
        return self.first != self.last


def _clean(raw: object) -> str:
    return normalize_text(raw).strip(_QUOTES).strip()


def _match(patterns: tuple[re.Pattern[str], ...], text: str) -> re.Match[str] | None:
    return next((m for m in (p.fullmatch(text) for p in patterns) if m), None)


def _day(match: re.Match[str], text: str, label: str, examples: str) -> date:
    year, month, day = int(match["y"]), int(match["m"]), int(match["d"])
    try:
        value = date(year, month, day)
    except ValueError:
        raise ParseError(f"「{label}」不是有效的日期：“{text}”这一天不存在，请按 {examples} 的格式填写") from None
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ParseError(f"「{label}」不是有效的日期：“{text}”的年份不对，请按 {examples} 的格式填写")
    return value


def _month(match: re.Match[str], text: str, label: str, examples: str) -> Span:
    year, month = int(match["y"]), int(match["m"])
    if not (1 <= month <= 12 and FIRST_YEAR <= year <= LAST_YEAR):
        raise ParseError(f"「{label}」不是有效的日期：“{text}”这个月份不存在，请按 {examples} 的格式填写")
    return Span(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))


def read_day(raw: object, label: str) -> date | None:
    """A day, as 2022-03-18, 2022/3/18, 2022.3.18, 20220318 or 2022年3月18日; blank is ``None``.
    A month alone is refused: it says when in the month, not which day."""
    text = _clean(raw)
    if not text:
        return None
    match = _match(DAY_SPELLINGS, text)
    if match:
        return _day(match, text, label, DAY_EXAMPLES)
    if _match(_MONTH_SPELLINGS, text):
        raise ParseError(f"「{label}」请填写到哪一天：“{text}”只有月份，请按 {DAY_EXAMPLES} 的格式填写")
    raise ParseError(f"「{label}」不是有效的日期：“{text}”，请按 {DAY_EXAMPLES} 的格式填写")


def read_day_or_month(raw: object, label: str) -> Span | None:
    """A day (as :func:`read_day`) or a whole month (2022-03, 2022/3, 2022.3, 2022年3月);
    blank is ``None``."""
    text = _clean(raw)
    if not text:
        return None
    match = _match(DAY_SPELLINGS, text)
    if match:
        day = _day(match, text, label, DAY_OR_MONTH_EXAMPLES)
        return Span(day, day)
    match = _match(_MONTH_SPELLINGS, text)
    if match:
        return _month(match, text, label, DAY_OR_MONTH_EXAMPLES)
    raise ParseError(f"「{label}」不是有效的日期：“{text}”，请按 {DAY_OR_MONTH_EXAMPLES} 的格式填写")
