"""A length of time as the pages say it (「2小时」, 「30分钟」, 「1小时30分钟」). Pure."""
from __future__ import annotations

from datetime import timedelta


def time_left(length: timedelta) -> str:
    """What a reminder says is left: 「还有3天5小时」, 「还有20小时」, 「不足1小时」 (whole hours, rounded down)."""
    hours = int(length.total_seconds()) // 3600
    if hours < 1:
        return "不足1小时"
    days, hours = divmod(hours, 24)
    return "还有" + (f"{days}天" if days else "") + (f"{hours}小时" if hours else "")


def format_duration(length: timedelta) -> str:
    """Whole hours and minutes; seconds only for a length under a minute."""
    seconds = int(length.total_seconds())
    if seconds < 60:
        return f"{max(seconds, 0)}秒"
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    return (f"{hours}小时" if hours else "") + (f"{minutes}分钟" if minutes else "")
