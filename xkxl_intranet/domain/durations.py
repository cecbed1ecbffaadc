"""A length of time as the pages say it (「2小时」, 「30分钟」, 「1小时30分钟」). Pure."""
from __future__ import annotations

from datetime import timedelta


def format_duration(length: timedelta) -> str:
    """Whole hours and minutes; seconds only for a length under a minute."""
    seconds = int(length.total_seconds())
    if seconds < 60:
        return f"{max(seconds, 0)}秒"
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    return (f"{hours}小时" if hours else "") + (f"{minutes}分钟" if minutes else "")
