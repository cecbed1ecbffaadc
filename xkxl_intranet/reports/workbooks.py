"""Excel workbooks (openpyxl), laid out to print like the PDFs. No Flask.

Every workbook is set up for printing: paper size and orientation, print area, print title
rows repeated on each page, fit to one page wide, borders and column widths. Text is written
through :func:`put`, so that nothing a user typed is ever taken for a formula.
"""
from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, NamedStyle
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from ..domain.declaration import Form
from ..domain.indicators import Kind
from ..xlsx import (
    BODY,
    BOLD,
    BORDER,
    CENTER,
    FOOTER,
    HEAD_FILL,
    INPUT_FILL,
    LEFT,
    NUMBER_FORMATS,
    RIGHT,
    SECTION_FILL,
    SMALL,
    TITLE,
    merged_line,
    print_setup,
    put,
    save_workbook,
)
from .layouts import (
    DATA_SHEET,
    FIRST_DATA_COLUMN,
    FIRST_ROW,
    HEADER_ROW,
    HINT_COLUMN,
    KEY_COLUMN,
    LABEL_COLUMN,
    MAX_APPLICATIONS,
    META_SHEET,
    NOTE_ROW,
    SECTION_COLUMN,
    TITLE_ROW,
    UNIT_COLUMN,
    Column,
    Roster,
    RosterSheet,
    TemplateMeta,
    TemplateRow,
    row_comment,
    row_hint,
    template_rows,
)
from .paging import A4_WIDTH_PT, fitting_scale, manual_breaks, page_capacity
from .summary_layout import Summary

# ---- 附件3 推荐信息汇总表 ---------------------------------------------------------------------

SUMMARY_MARGIN_INCHES = 0.6  # left and right
SUMMARY_ROW_PT = 30
SUMMARY_LINE_PT = 24  # the first line above the table, and each under it
SUMMARY_HEAD_LINE_PT = 22  # the other lines above the table
SUMMARY_GAP_PT = 12
SEAL_COLUMN = 3  # the name, the room for the seal and the date from the third column to the right edge


def _summary_foot(ws: Worksheet, row: int, summary: Summary) -> int:
    """Under the table: the notice's footer lines (信息公开选项), then the bureau's name, the
    room for its seal (SEAL_SPACE_MM tall) and the date, on the right. Returns the last row."""
    last = len(summary.columns)
    ws.row_dimensions[row].height = SUMMARY_GAP_PT
    for n, line in enumerate(summary.footer_lines, start=1):
        merged_line(ws, row + n, last, line.text, height=SUMMARY_LINE_PT)
    row += len(summary.footer_lines)
    seal_column = min(SEAL_COLUMN, last)
    seal_rows = (summary.seal_line, None, summary.date_line)
    for offset, text in enumerate(seal_rows, start=row + 1):
        ws.merge_cells(start_row=offset, start_column=seal_column, end_row=offset, end_column=last)
        if text:
            cell = put(ws, offset, seal_column, text)
            cell.font, cell.alignment = BODY, LEFT
        ws.row_dimensions[offset].height = (SUMMARY_LINE_PT if text
                                            else round(summary.seal_space_mm * 72 / 25.4, 1))
    return row + len(seal_rows)


def _summary_pages(ws: Worksheet, summary: Summary, header_row: int, last_data_row: int, last_row: int) -> None:
    """Print at a fixed scale with a manual break at the end of every page (reports/paging.py):
    the foot is kept with the table's last row, never alone on the last page."""
    printable_width = A4_WIDTH_PT - 2 * SUMMARY_MARGIN_INCHES * 72
    scale = fitting_scale(tuple(c.excel_width for c in summary.columns), printable_width)
    ws.sheet_properties.pageSetUpPr.fitToPage = False  # Excel ignores manual breaks when fitting
    ws.page_setup.scale = scale
    heights = [ws.row_dimensions[r].height for r in range(1, last_row + 1)]
    capacity = page_capacity(scale, ws.page_margins.top, ws.page_margins.bottom)
    for row in manual_breaks(heights, capacity, repeated=ws.row_dimensions[header_row].height,
                             earliest_end=header_row + 1, keep_from=last_data_row):
        ws.row_breaks.append(Break(id=row))


def summary_workbook(summary: Summary) -> bytes:
    """The city's 附件3 as the round's notice lays it out, A4 portrait, its foot (disclosure,
    seal, date) on the page of its last row."""
    wb = Workbook()
    ws = wb.active
    ws.title = "附件3"
    columns = summary.columns
    last = len(columns)
    for index, column in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = column.excel_width

    put(ws, 1, 1, "附件3").font = Font(name="黑体", size=12)
    ws.row_dimensions[1].height = 20
    merged_line(ws, 2, last, summary.title, font=TITLE, alignment=CENTER, height=42)
    header_row = 3
    for header_row, line in enumerate(summary.header_lines, start=3):
        merged_line(ws, header_row, last, line.text,
                    height=SUMMARY_LINE_PT if header_row == 3 else SUMMARY_HEAD_LINE_PT)
    header_row += 1 if summary.header_lines else 0

    for index, column in enumerate(columns, start=1):
        cell = put(ws, header_row, index, column.heading)
        cell.font, cell.alignment, cell.border = BOLD, CENTER, BORDER
    ws.row_dimensions[header_row].height = SUMMARY_ROW_PT

    row = header_row
    for entry in summary.rows:
        row += 1
        for index, (column, value) in enumerate(zip(columns, entry.cells, strict=True), start=1):
            cell = put(ws, row, index, value)
            cell.font, cell.border = BODY, BORDER
            cell.alignment = LEFT if column.is_name else CENTER
            if column.is_code:
                cell.number_format = "@"
        ws.row_dimensions[row].height = SUMMARY_ROW_PT
    if not summary.rows:
        row += 1
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=last)
        cell = put(ws, row, 1, "（暂无市州初审通过的申报）")
        cell.font, cell.alignment = BODY, CENTER
        for column_number in range(1, last + 1):
            ws.cell(row=row, column=column_number).border = BORDER
        ws.row_dimensions[row].height = SUMMARY_ROW_PT

    last_row = _summary_foot(ws, row + 1, summary)
    print_setup(ws, landscape=False, area=f"A1:{get_column_letter(last)}{last_row}",
                 title_rows=f"{header_row}:{header_row}")
    ws.page_margins.left = ws.page_margins.right = SUMMARY_MARGIN_INCHES
    _summary_pages(ws, summary, header_row, row, last_row)
    return save_workbook(wb)


# ---- the roster ----------------------------------------------------------------------------------

def _roster_style(workbook: Workbook, kind: str) -> str:
    """The roster's named style for a column kind ("seq", "text", "code", "int", "money",
    "percent") or for its "heading" row, added to the workbook on first use (Excel lists them
    under 单元格样式 as 名单·…)."""
    name = f"名单·{kind}"
    if name not in workbook.named_styles:
        if kind == "heading":
            style = NamedStyle(name, font=BOLD, alignment=CENTER, border=BORDER, fill=HEAD_FILL)
        else:
            number = kind in ("int", "money", "percent")
            style = NamedStyle(name, font=BODY, border=BORDER,
                               alignment=RIGHT if number else (CENTER if kind in ("seq", "code") else LEFT),
                               number_format=NUMBER_FORMATS.get(kind, "@" if kind == "code" else "General"))
        workbook.add_named_style(style)
    return name


def _roster_sheet(ws: Worksheet, sheet: RosterSheet, columns: tuple[Column, ...], subtitle: str) -> None:
    last = len(columns)
    last_letter = get_column_letter(last)
    merged_line(ws, 1, last, sheet.title, font=TITLE, alignment=CENTER, height=30)
    merged_line(ws, 2, last, f"{subtitle} · 共 {len(sheet.entries)} 项", font=SMALL, height=18)
    header_row = 3
    heading = _roster_style(ws.parent, "heading")
    for index, column in enumerate(columns, start=1):
        put(ws, header_row, index, column.heading).style = heading
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ws.row_dimensions[header_row].height = 48

    # One named style per kind of column, assigned once per cell: setting font, border,
    # alignment and number format one by one cost openpyxl a lookup each, ~70 % of the workbook.
    styles = [_roster_style(ws.parent, c.kind) for c in columns]
    row_number = header_row
    for row_number, values in enumerate(sheet.rows(), start=header_row + 1):
        for index, value in enumerate(values):
            put(ws, row_number, index + 1, value).style = styles[index]
    last_row = max(row_number, header_row)
    ws.freeze_panes = ws.cell(row=header_row + 1, column=4)  # headings and 序号/市州/平台 stay
    ws.auto_filter.ref = f"A{header_row}:{last_letter}{last_row}"
    print_setup(ws, landscape=True, area=f"A1:{last_letter}{last_row}",
                 title_rows=f"{header_row}:{header_row}",
                 footer=f"{FOOTER}    {subtitle}")


def roster_workbook(roster: Roster, *, quota_line: str = "") -> bytes:
    """The roster: the list itself, and for the full roster one more sheet per province mark,
    every sheet with the list's columns (the view 「含未报送」 adds 报送情况); ``quota_line``
    (the 推荐工信部 marks against the ministry's quota) leads each sheet's second line."""
    wb = Workbook()
    subtitle = (f"{quota_line} · " if quota_line else "") + f"导出时间：{roster.generated_at:%Y-%m-%d %H:%M}"
    for index, sheet in enumerate(roster.sheets):
        ws = wb.active if index == 0 else wb.create_sheet()
        ws.title = sheet.name
        _roster_sheet(ws, sheet, roster.columns, subtitle)
    return save_workbook(wb)


# ---- the indicator template ------------------------------------------------------------------------

def _template_value(kind: Kind, value: Any) -> Any:
    """A stored value as the template shows it: numbers stay numbers, the rest is text."""
    if value is None:
        return None
    if kind is Kind.INT:
        return int(value)
    if kind in (Kind.MONEY, Kind.PERCENT):
        return Decimal(value)
    if kind is Kind.BOOL:
        return "是" if value else "否"
    if kind is Kind.DATE:
        return value.isoformat()
    return str(value)


def _template_heading(ws: Worksheet, title: str, prepared: int) -> None:
    """Title, filling note and column headings of the 指标 sheet; ``prepared`` data columns."""
    first_data_letter = get_column_letter(FIRST_DATA_COLUMN)
    merged_line(ws, TITLE_ROW, HINT_COLUMN, title, font=TITLE, alignment=CENTER, height=30)
    merged_line(ws, NOTE_ROW, HINT_COLUMN,
                 f"填写说明：从{first_data_letter}列起每一列填写一家申报企业（一个平台），"
                 f"最多{MAX_APPLICATIONS}列；"
                 "上传时按“统一社会信用代码”匹配本市（州）已有申报，已有的更新，没有的新建为草稿。"
                 "数值请直接填写数字（如没有可填“无”），不要填写公式，不要合并单元格，不要增删行。"
                 "鼠标移到指标名称上可查看填写规则。", font=SMALL, height=54)
    headers = {KEY_COLUMN: "代码", SECTION_COLUMN: "节", LABEL_COLUMN: "指标", UNIT_COLUMN: "单位",
               HINT_COLUMN: "填写要求"}
    headers.update({FIRST_DATA_COLUMN + n: f"申报{n + 1}" for n in range(prepared)})
    for column, text in headers.items():
        cell = put(ws, HEADER_ROW, column, text)
        cell.font, cell.alignment, cell.border, cell.fill = BOLD, CENTER, BORDER, HEAD_FILL
    widths = {KEY_COLUMN: 20, SECTION_COLUMN: 6, LABEL_COLUMN: 44, UNIT_COLUMN: 8, HINT_COLUMN: 30}
    widths.update({FIRST_DATA_COLUMN + n: 24 for n in range(prepared)})
    for column, width in widths.items():
        ws.column_dimensions[get_column_letter(column)].width = width
    ws.column_dimensions[get_column_letter(KEY_COLUMN)].hidden = True


class _Validations:
    """The drop-downs and checks of the data cells: one validation per kind of list."""

    def __init__(self, ws: Worksheet):
        self.ws = ws
        self.yes_no = self._add(DataValidation(type="list", formula1='"是,否"', allow_blank=True,
                                               showErrorMessage=True, errorTitle="请选择",
                                               error="请填写“是”或“否”"))
        self.count = self._add(DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0",
                                              allow_blank=True, showErrorMessage=True, errorStyle="warning",
                                              errorTitle="请填写整数", error="应为不小于0的整数；如没有可填“无”。"))
        self.choices: dict[tuple[str, ...], DataValidation] = {}

    def _add(self, validation: DataValidation) -> DataValidation:
        self.ws.add_data_validation(validation)
        return validation

    def _choice(self, choices: tuple[str, ...]) -> DataValidation:
        if choices not in self.choices:
            self.choices[choices] = self._add(DataValidation(
                type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True, showErrorMessage=True,
                errorTitle="请选择", error="请从下拉列表中选择：" + "、".join(choices)))
        return self.choices[choices]

    def add(self, row: TemplateRow, data_range: str) -> None:
        f = row.field
        assert f is not None  # an indicator's row, not a heading
        if row.choice is not None or f.kind is Kind.BOOL:
            self.yes_no.add(data_range)
        elif f.kind is Kind.CHOICE:
            self._choice(f.choices).add(data_range)
        elif f.kind is Kind.INT:
            self.count.add(data_range)


def _data_format(row: TemplateRow) -> str | None:
    """Text cells stay text (信用代码、手机号不被 Excel 改成科学计数法); money two places."""
    assert row.field is not None  # an indicator's row, not a heading
    kind = row.field.kind
    if kind not in (Kind.INT, Kind.MONEY, Kind.PERCENT) and row.choice is None:
        return "@"
    if kind in (Kind.MONEY, Kind.PERCENT):
        return "0.00"
    return None


def _cell_value(row: TemplateRow, values: dict[str, Any]) -> Any:
    f = row.field
    assert f is not None  # an indicator's row, not a heading
    if row.choice is not None:
        return "是" if row.choice in (values.get(f.key) or ()) else None
    return _template_value(f.kind, values.get(f.key))


def _template_row(ws: Worksheet, r: int, row: TemplateRow, *, form: Form, prepared: int,
                  validations: _Validations, applications: list[dict[str, Any]]) -> None:
    """One indicator row: its label with the rules as a comment, input boxes, prefilled values."""
    f = row.field
    assert f is not None  # an indicator's row, not a heading
    put(ws, r, SECTION_COLUMN, row.section).alignment = CENTER
    label = put(ws, r, LABEL_COLUMN, ("*" if f.required else "") + row.label)
    label.alignment = LEFT
    comment = Comment(row_comment(row, form), "xkxl")
    comment.width, comment.height = 320, 160
    label.comment = comment
    put(ws, r, UNIT_COLUMN, f.unit if row.choice is None else "").alignment = CENTER
    put(ws, r, HINT_COLUMN, row_hint(row)).font = SMALL
    for column in (SECTION_COLUMN, LABEL_COLUMN, UNIT_COLUMN, HINT_COLUMN):
        ws.cell(row=r, column=column).border = BORDER
    last_data_letter = get_column_letter(FIRST_DATA_COLUMN + MAX_APPLICATIONS - 1)
    validations.add(row, f"{get_column_letter(FIRST_DATA_COLUMN)}{r}:{last_data_letter}{r}")
    number_format = _data_format(row)
    for n in range(prepared):
        cell = ws.cell(row=r, column=FIRST_DATA_COLUMN + n)
        cell.border, cell.fill = BORDER, INPUT_FILL
        if number_format:
            cell.number_format = number_format
    for n, values in enumerate(applications):
        put(ws, r, FIRST_DATA_COLUMN + n, _cell_value(row, values))


def _meta_sheet(wb: Workbook, meta: TemplateMeta) -> None:
    meta_ws = wb.create_sheet(META_SHEET)
    for index, (key, value) in enumerate(meta.items(), start=1):
        put(meta_ws, index, 1, key)
        put(meta_ws, index, 2, value)
    meta_ws.sheet_state = "veryHidden"
    meta_ws.protection.sheet = True


def indicator_template(*, title: str, form: Form, meta: TemplateMeta,
                       applications: Iterable[dict[str, Any]] = ()) -> bytes:
    """Every field of ``form`` (the round's 申报书) as a row, one column per application from F;
    ``applications`` are stored values (key -> value) to prefill, e.g. the city's current
    applications."""
    applications = list(applications)[:MAX_APPLICATIONS]
    rows = template_rows(form)
    wb = Workbook()
    ws = wb.active
    ws.title = DATA_SHEET
    # Columns drawn as input boxes: five spare ones, never beyond what the import reads.
    prepared = min(MAX_APPLICATIONS, max(10, len(applications) + 5))
    _template_heading(ws, title, prepared)
    validations = _Validations(ws)
    for r, row in enumerate(rows, start=FIRST_ROW):
        put(ws, r, KEY_COLUMN, row.key)
        if row.is_heading:
            cell = put(ws, r, SECTION_COLUMN, row.label)
            ws.merge_cells(start_row=r, start_column=SECTION_COLUMN, end_row=r, end_column=HINT_COLUMN)
            cell.font, cell.fill = BOLD, SECTION_FILL
        else:
            _template_row(ws, r, row, form=form, prepared=prepared, validations=validations,
                          applications=applications)
    last_row = FIRST_ROW + len(rows) - 1
    ws.freeze_panes = ws.cell(row=FIRST_ROW, column=FIRST_DATA_COLUMN)
    print_setup(ws, landscape=True,
                 area=f"B1:{get_column_letter(FIRST_DATA_COLUMN + prepared - 1)}{last_row}",
                 title_rows=f"{HEADER_ROW}:{HEADER_ROW}")
    ws.print_title_cols = "B:E"
    _meta_sheet(wb, meta)
    return save_workbook(wb)
