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
    note: str = ""  # a second, smaller line under the label (the city of a platform)
    shown: str = ""  # the label as drawn: whole when it fits, else cut with "…" (``label`` stays whole)


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


def fit_label(label: str, room: float, font_size: float) -> str:
    """``label`` as it fits in ``room`` pixels of CJK text at ``font_size`` (a Chinese character
    is about one em wide, a Latin one about half): whole if it fits, else cut with "…"."""
    def width(text: str) -> float:
        return sum(font_size * (0.55 if ord(ch) < 0x2E80 else 1.0) for ch in text)

    if width(label) <= room:
        return label
    cut = label
    while cut and width(cut + "…") > room:
        cut = cut[:-1]
    return cut + "…"


def bar_chart(items: Sequence[tuple], *, width: float = 760, label_width: float = 220,
              row_height: float = 20, bar_height: float = 13, limit: int = 40,
              value_room: float = 90, top: float = 6, font_size: float = 11) -> BarChart:
    """Bars for ``(label, value, text)`` or ``(label, value, text, note)`` items in the given
    order; blanks are left out. A label too long for ``label_width`` is drawn cut with "…" (the
    whole label stays in :attr:`Bar.label` for the tooltip and the text alternative).

    Negative values (a loss, a negative ROI) extend left of the zero line.
    """
    present = [(item[0], item[1], item[2], item[3] if len(item) > 3 else "")
               for item in items if item[1] is not None]
    shown = present[:limit]
    numbers = [Decimal(value) for _, value, _, _ in shown]
    high = max([n for n in numbers if n > 0], default=Decimal(0))
    low = min([n for n in numbers if n < 0], default=Decimal(0))
    plot = width - label_width - value_room
    span = (high - low) or Decimal(1)
    zero_x = label_width + float((-low) / span) * plot
    bars = []
    for index, ((label, _, text, note), number) in enumerate(zip(shown, numbers, strict=True)):
        length = float(abs(number) / span) * plot
        x = zero_x - length if number < 0 else zero_x
        bars.append(Bar(label, text, top + index * row_height, round(x, 1), round(length, 1), number < 0,
                        note, fit_label(label, label_width - 8, font_size)))
    height = top * 2 + max(len(bars), 1) * row_height
    return BarChart(width, height, label_width, round(zero_x, 1), bar_height, row_height, tuple(bars),
                    len(present) - len(shown))
