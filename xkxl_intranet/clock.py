"""The one clock of the application.

Everything that needs "now" calls :func:`now`, which returns an aware datetime in
Asia/Shanghai. Tests (and the demo) may pin or shift it with :func:`set_now`.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import overload
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

_pinned: datetime | None = None


def now() -> datetime:
    if _pinned is not None:
        return _pinned
    return datetime.now(SHANGHAI)


def set_now(moment: datetime | None) -> None:
    """Pin the clock to ``moment`` (aware, any zone); ``None`` releases it."""
    global _pinned
    if moment is not None and moment.tzinfo is None:
        raise ValueError("the clock only takes aware datetimes")
    _pinned = moment.astimezone(SHANGHAI) if moment is not None else None


@overload
def to_shanghai(moment: datetime) -> datetime: ...
@overload
def to_shanghai(moment: None) -> None: ...
@overload
def to_shanghai(moment: datetime | None) -> datetime | None: ...
def to_shanghai(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # stored values are UTC; see sqltypes.AwareDateTime
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(SHANGHAI)
