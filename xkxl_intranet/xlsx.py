"""What every workbook the system writes shares (openpyxl; no Flask): the house fonts, borders
and fills, :func:`put` (the one way a value goes into a cell, so that nothing a user typed is
ever taken for a formula), saving, and the print setup of a sheet. The 附件3, roster and
template workbooks (``reports/workbooks.py``) and the review's 评审汇总表
(``review/workbook.py``) are built from these."""
from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

FONT_NAME = "宋体"
THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
BODY = Font(name=FONT_NAME, size=11)
BOLD = Font(name=FONT_NAME, size=11, bold=True)
TITLE = Font(name=FONT_NAME, size=16, bold=True)
SMALL = Font(name=FONT_NAME, size=9, color="555555")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
RIGHT = Alignment(horizontal="right", vertical="center")
HEAD_FILL = PatternFill("solid", fgColor="EEF2F7")
SECTION_FILL = PatternFill("solid", fgColor="DCE6F2")
INPUT_FILL = PatternFill("solid", fgColor="FFFDE7")
NUMBER_FORMATS = {"int": "#,##0", "money": "#,##0.00", "percent": "0.00", "seq": "0"}
FOOTER = "第 &P 页 / 共 &N 页"


def put(ws: Worksheet, row: int, column: int, value: Any = None) -> Cell:
    """The one way a value goes into a cell of any workbook the system writes. Text is stored as
    text: its type is set, not guessed from its first character, so that ``=HYPERLINK(…)`` or
    ``=cmd|…`` typed by a clerk is never a formula; the control characters Excel cannot hold are
    dropped. Numbers, dates and booleans keep their type."""
    cell = ws.cell(row=row, column=column)
    if isinstance(value, str):
        cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.data_type = "s"
    else:
        cell.value = value
    return cell


def append_row(ws: WriteOnlyWorksheet, values: Iterable[str], font: Font | None = None) -> None:
    """:func:`put` for a write-only sheet (a long list written as it is read): each text is
    stored as text, never a formula, without what Excel cannot hold. A plain string goes in as
    it is (a styled cell per value took 2.6 ms a row of the audit trail's export); one that
    openpyxl would take for a formula, or one to style, goes in as a cell typed as text."""
    row: list[WriteOnlyCell | str] = []
    for value in values:
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if font is None and not value.startswith("="):
            row.append(value)
            continue
        typed = WriteOnlyCell(ws, value=value)
        typed.data_type = "s"
        if font is not None:
            typed.font = font
        row.append(typed)
    ws.append(row)


def save_workbook(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def print_setup(ws: Worksheet, *, landscape: bool, area: str, title_rows: str | None,
                 footer: str = FOOTER) -> None:
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE if landscape else ws.ORIENTATION_PORTRAIT
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages as needed down
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.7
    ws.print_area = area
    if title_rows:
        ws.print_title_rows = title_rows
    ws.oddFooter.center.text = footer
    ws.oddFooter.center.size = 9


def merged_line(ws: Worksheet, row: int, last_column: int, value: str, *, font=BODY,
                 alignment=LEFT, height: float | None = None) -> None:
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=last_column)
    cell = put(ws, row, 1, value)
    cell.font = font
    cell.alignment = alignment
    if height:
        ws.row_dimensions[row].height = height
