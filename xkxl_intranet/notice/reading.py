"""Reading one table of a notice file: which keys it may have, of which type, and the Chinese
message naming the place when a key is unknown, missing or of the wrong type. The loader
(:mod:`.loader`) says what each table holds; this module only reads."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from ..domain.findings import echo

__all__ = ["Type", "TEXT", "INT", "BOOL", "TEXTS", "NUMBER", "MOMENT", "TABLE", "TABLES", "Key", "Problems", "read_table",
           "moment_problem"]


@dataclass(frozen=True)
class Type:
    words: str  # what the message says the value should be
    accepts: Callable[[Any], bool]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


TEXT = Type("文字（加英文双引号，如 \"工业APP数量\"）", lambda v: isinstance(v, str))
INT = Type("整数（如 3）", _is_int)
BOOL = Type("true 或 false", lambda v: isinstance(v, bool))
TEXTS = Type("文字列表（如 [\"自建\", \"租用\"]）",
             lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v))
NUMBER = Type("数值（如 100 或 0.5）", lambda v: _is_int(v) or isinstance(v, Decimal))
MOMENT = Type("带时区的日期时间（如 2023-06-09T17:00:00+08:00）",
              lambda v: isinstance(v, date | time))  # the loader says what is missing from it
TABLE = Type("表（[…]）", lambda v: isinstance(v, dict))
TABLES = Type("表的数组（[[…]]）", lambda v: isinstance(v, list) and all(isinstance(x, dict) for x in v))

_REQUIRED = object()
BEIJING = timedelta(hours=8)  # Asia/Shanghai has kept +08:00 all year since 1991


@dataclass(frozen=True)
class Key:
    type: Type
    default: Any = _REQUIRED  # a key without a default must be written; a required text not blank

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED


class Problems:
    """The problems found so far, each a Chinese sentence that names its place."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, place: str, message: str) -> None:
        self.messages.append(f"{place}：{message}")

    def __bool__(self) -> bool:
        return bool(self.messages)

    def __len__(self) -> int:
        return len(self.messages)


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return f"\"{echo(value)}\""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "一个表"
    return echo(value)


def read_table(table: Mapping[str, Any], place: str, keys: Mapping[str, Key], problems: Problems,
               ) -> dict[str, Any] | None:
    """The values of ``table`` by ``keys`` (defaults filled in), or None when a key is unknown,
    missing or of the wrong type (each said in ``problems``)."""
    before = len(problems)
    for name in table:
        if name not in keys:
            problems.add(place, f"未知的项 “{name}”（此处可用：{'、'.join(keys)}）")
    values: dict[str, Any] = {}
    for name, key in keys.items():
        if name not in table:
            if key.required:
                problems.add(place, f"缺少 “{name}”（应为{key.type.words}）")
            else:
                values[name] = key.default
            continue
        value = table[name]
        if not key.type.accepts(value):
            problems.add(place, f"“{name}” 应为{key.type.words}，现为 {_shown(value)}")
        elif key.type is TEXT and key.required and not value.strip():
            problems.add(place, f"“{name}” 不能为空")
        else:
            values[name] = value
    return values if len(problems) == before else None


def moment_problem(value: date | time) -> str | None:
    """Why a TOML date or time is not a deadline: it must be a date with a time of day and the
    +08:00 of Beijing time (the notice's times are Beijing time, Asia/Shanghai)."""
    if not isinstance(value, datetime):
        if isinstance(value, date):
            return (f"只写了日期 {value.isoformat()}，须写明时刻和时区，如 {value.isoformat()}T17:00:00+08:00"
                    "（全天有效写 23:59:59）")
        return "只写了时刻，须写明日期和时区，如 2023-06-09T17:00:00+08:00"
    if value.tzinfo is None:
        return f"{value.isoformat()} 未写时区，北京时间须在末尾加 +08:00"
    if value.utcoffset() != BEIJING:
        return f"{value.isoformat()} 不是北京时间，通知的时间须写 +08:00"
    return None
