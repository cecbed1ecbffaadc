"""How wide a printed column must be to hold a line: the geometry of the A4 landscape lists the
system prints (the roster, the 评审汇总表), from which a cell's share of the page is computed,
not guessed. Pure arithmetic; ``reports/layouts.py`` and ``review/layout.py`` size their
columns with it."""
from __future__ import annotations

import math

# The printed roster's geometry, from which the width a cell needs is computed, not guessed:
# templates/print/list.html prints A4 landscape with 9 mm side margins at 7.5 pt, each cell padded
# 0.9 mm a side within 0.5 pt rules; a Chinese character is one em wide, and roster_print.html
# prints a code (统一社会信用代码, 手机) in a monospaced font whose every Latin character is half an
# em wide (Noto Sans CJK SC's proportional letters run up to 0.88 em: a code of Ws and Ms would need
# 16 em where the monospaced one needs 9, whatever its letters).
MM_PER_PT = 25.4 / 72
PRINT_FONT_PT = 7.5
PRINT_TABLE_MM = 297 - 2 * 9
PRINT_CELL_MM = 2 * 0.9 + 0.5 * MM_PER_PT
HAN_EM = 1.0
CODE_FONT = "Noto Sans Mono CJK SC"
CODE_EM = 0.5
# WeasyPrint's layout loses a few hundredths of a millimetre to rounding: a cell exactly as wide as
# its line put the line's last character on a second line (列入省级培育名单 in the 评审汇总表).
LAYOUT_SLACK_MM = 0.2


def print_width_for(ems: float) -> float:
    """The share of the printed table's width (percent, rounded up to a tenth) that a cell needs
    to hold a line of ``ems`` em at the print's font size."""
    millimetres = ems * PRINT_FONT_PT * MM_PER_PT + PRINT_CELL_MM + LAYOUT_SLACK_MM
    return math.ceil(round(millimetres / PRINT_TABLE_MM * 1000, 6)) / 10


def code_print_width(length: int) -> float:
    """A code of ``length`` characters on one line."""
    return print_width_for(length * CODE_EM)


def words_print_width(length: int) -> float:
    """Chinese words of up to ``length`` characters on one line."""
    return print_width_for(length * HAN_EM)
