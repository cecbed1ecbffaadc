"""Ranking and a horizontal bar chart, computed here and drawn as inline SVG by the template.
No Flask."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

T = TypeVar("T")


def competition_ranks(values: Sequence[Any]) -> list[int | None]:
    """Rank by value, highest first; equal values share a rank ("1224"); blanks get ``None``."""
    present = sorted((v for v in values if v is not None), reverse=True)
    first_index: dict[Any, int] = {}
    for index, value in enumerate(present):
        first_index.setdefault(value, index + 1)
    return [first_index[v] if v is not None else None for v in values]


@dataclass(frozen=True)
class Bar:
    label: str
    text: str  # the value as shown
    y: float
    x: float
    width: float
    negative: bool


@dataclass(frozen=True)
class BarChart:
    width: float
    height: float
    label_width: float
    zero_x: float
    bar_height: float
    row_height: float
    bars: tuple[Bar, ...]
    truncated: int  # items left out of the chart


def bar_chart(items: Sequence[tuple[str, Any, str]], *, width: float = 760, label_width: float = 220,
              row_height: float = 20, bar_height: float = 13, limit: int = 40,
              value_room: float = 90, top: float = 6) -> BarChart:
    """Bars for ``(label, value, text)`` items in the given order; blanks are left out.

    Negative values (a loss, a negative ROI) extend left of the zero line.
    """
    present = [(label, value, text) for label, value, text in items if value is not None]
    shown = present[:limit]
    numbers = [Decimal(value) for _, value, _ in shown]
    high = max([n for n in numbers if n > 0], default=Decimal(0))
    low = min([n for n in numbers if n < 0], default=Decimal(0))
    plot = width - label_width - value_room
    span = (high - low) or Decimal(1)
    zero_x = label_width + float((-low) / span) * plot
    bars = []
    for index, ((label, _, text), number) in enumerate(zip(shown, numbers, strict=True)):
        length = float(abs(number) / span) * plot
        x = zero_x - length if number < 0 else zero_x
        bars.append(Bar(label, text, top + index * row_height, round(x, 1), round(length, 1), number < 0))
    height = top * 2 + max(len(bars), 1) * row_height
    return BarChart(width, height, label_width, round(zero_x, 1), bar_height, row_height, tuple(bars),
                    len(present) - len(shown))
