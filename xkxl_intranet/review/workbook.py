"""The 评审汇总表 as an Excel workbook, laid out to print like the PDF (styles and print set-up
of ``reports/workbooks.py``): scores are numbers with two places, text is written as text."""
from __future__ import annotations

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from ..xlsx import (
    BODY,
    BOLD,
    BORDER,
    CENTER,
    FOOTER,
    HEAD_FILL,
    LEFT,
    RIGHT,
    SMALL,
    TITLE,
    merged_line,
    print_setup,
    put,
    save_workbook,
)
from .layout import ReviewSummary

FORMATS = {"score": "0.00", "int": "0", "seq": "0", "text": "@", "note": "@"}


def summary_workbook(summary: ReviewSummary) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "评审汇总"
    columns = summary.columns
    last = len(columns)
    last_letter = get_column_letter(last)
    merged_line(ws, 1, last, summary.title, font=TITLE, alignment=CENTER, height=30)
    for offset, line in enumerate(summary.lines, start=2):
        merged_line(ws, offset, last, line, font=SMALL, height=18)
    header_row = 2 + len(summary.lines)
    for index, column in enumerate(columns, start=1):
        cell = put(ws, header_row, index, column.heading)
        cell.font, cell.alignment, cell.border, cell.fill = BOLD, CENTER, BORDER, HEAD_FILL
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ws.row_dimensions[header_row].height = 32
    row_number = header_row
    for row_number, values in enumerate(summary.rows, start=header_row + 1):
        for index, (column, value) in enumerate(zip(columns, values, strict=True), start=1):
            cell = put(ws, row_number, index, value)
            cell.font, cell.border = BODY, BORDER
            cell.alignment = RIGHT if column.is_number else (CENTER if column.kind == "seq" else LEFT)
            cell.number_format = FORMATS[column.kind]
    last_row = max(row_number, header_row)
    note_row = last_row + 2
    merged_line(ws, note_row, last, summary.note, font=SMALL, height=32)
    ws.freeze_panes = ws.cell(row=header_row + 1, column=4)
    ws.auto_filter.ref = f"A{header_row}:{last_letter}{last_row}"
    print_setup(ws, landscape=True, area=f"A1:{last_letter}{note_row}", title_rows=f"{header_row}:{header_row}",
                footer=f"{FOOTER}    导出时间：{summary.generated_at:%Y-%m-%d %H:%M}")
    return save_workbook(wb)
