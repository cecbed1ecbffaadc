"""Where Excel and WPS end a printed sheet's pages, estimated from what the workbook states: the
paper, its margins, the print scale, the row heights and the rows repeated at the top of every
page. Pure: no openpyxl, no Flask.

A spreadsheet has no 「与下段同页」: the only way to keep rows together on paper is a manual page
break (分页符) before them. Excel ignores manual breaks under 「调整为 1 页宽」 (fit to page), so
a sheet paginated here prints at a fixed scale, computed from its column widths
(:func:`fitting_scale`), and every page of it ends at a manual break (:func:`manual_breaks`):
Excel then never has to choose a break of its own, provided each page really holds what the
estimate puts on it.

The estimate, and why it is safe:

* a column of width ``w`` (Excel's unit: the default font's widest digit, 7 px for the
  workbook's Calibri 11 at 96 dpi) is ``trunc((256 w + trunc(128 / 7)) / 256 × 7)`` px, ¾ pt
  each; the scale is the whole percent that fits the columns between the side margins, less
  :data:`SCALE_MARGIN` percentage points for a font that measures otherwise;
* the rows' heights are stated in the sheet (no row is left to Excel's own measure), and print
  at the scale: a page holds ``(paper height − top and bottom margins) × 100 / scale`` points
  of rows, of which the estimate fills only :data:`FILL` (Excel rounds each row to whole
  pixels, a printer may take a little more): a page given fewer rows than it holds still ends
  where the manual break says.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

A4_WIDTH_PT, A4_HEIGHT_PT = 595.28, 841.89
DIGIT_PX = 7  # the widest digit of Calibri 11 (openpyxl's default font) at 96 dpi
PT_PER_PX = 0.75
SCALE_MARGIN = 2  # percent
FILL = 0.95


def column_points(width: float) -> float:
    """The printed width (at 100 %) of a column of Excel width ``width``."""
    pixels = math.trunc((256 * width + math.trunc(128 / DIGIT_PX)) / 256 * DIGIT_PX)
    return pixels * PT_PER_PX


def fitting_scale(widths: Sequence[float], printable_width_pt: float) -> int:
    """The print scale (percent, 10 … 100) at which columns of ``widths`` fit ``printable_width_pt``."""
    natural = sum(column_points(w) for w in widths)
    return max(10, min(100, math.floor(printable_width_pt / natural * 100) - SCALE_MARGIN))


def page_capacity(scale: int, top_inches: float, bottom_inches: float,
                  paper_height_pt: float = A4_HEIGHT_PT) -> float:
    """The points of rows (as the sheet states them) the estimate puts on one page."""
    return (paper_height_pt - (top_inches + bottom_inches) * 72) * 100 / scale * FILL


def manual_breaks(heights: Sequence[float], capacity: float, *, repeated: float, earliest_end: int,
                  keep_from: int) -> tuple[int, ...]:
    """The rows (1-based) after which a page ends, rows ``heights[0]``, ``heights[1]`` … laid
    one after another on pages of ``capacity`` points, every page after the first starting with
    the repeated rows (``repeated`` points). The first page ends after row ``earliest_end`` at
    the earliest (the heading stays with the table's first row), and rows ``keep_from`` to the
    last share a page: if they do not fit where they start, the page ends before them (unless
    they would not fit on any page)."""
    kept = sum(heights[keep_from - 1:])
    kept_whole = repeated + kept <= capacity
    breaks: list[int] = []
    used, page_start = 0.0, 1
    for row, height in enumerate(heights, start=1):
        needed = kept if row == keep_from and kept_whole else height
        inside_kept = row > keep_from and kept_whole
        if row > max(page_start, earliest_end) and not inside_kept and used + needed > capacity:
            breaks.append(row - 1)
            used, page_start = repeated, row
        used += height
    return tuple(breaks)
