"""One cell of a filled indicator template as the domain parser takes it: what cannot be a value
at all (a formula, text Excel would make one, an error value), and what Excel typed (a number, a
percentage, a date) as the text or number a clerk meant. No Flask, no database; the columns are
read in :mod:`.template_reader`."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from ..domain.findings import ParseError
from ..domain.indicators import Kind
from .layouts import TemplateRow

# Text Excel would turn into a formula once someone edits the cell (and that any writer that
# guessed types by the first character would store as one).
FORMULA_TEXT = "以“=”开头：Excel 会把它当作公式。请删除开头的“=”，或在前面加上文字说明后重新上传"


def is_formula(cell) -> bool:
    value = cell.value
    return cell.data_type == "f" or isinstance(value, (ArrayFormula, DataTableFormula))


def number_cell_value(cell, row: TemplateRow) -> Any:
    """A number Excel typed: kept for numeric and yes/no rows, text for the others."""
    value, f = cell.value, row.field
    assert f is not None  # an indicator's row, not a heading
    if f.kind is Kind.PERCENT and "%" in (cell.number_format or "") and row.choice is None:
        try:  # typed "12.5%": Excel keeps 0.125 and shows it as a percentage
            return (Decimal(repr(value)) * 100).normalize()
        except InvalidOperation:  # pragma: no cover - inf/nan never come from openpyxl
            return value
    if f.is_numeric or row.choice is not None or f.kind is Kind.BOOL:
        return value
    if f.kind is Kind.CREDIT_CODE:
        raise ParseError(f"「{f.label}」被 Excel 存成了数字（可能已丢失位数），请把单元格设为“文本”格式后"
                         "重新填写")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def cell_value(cell, row: TemplateRow) -> Any:
    """A cell's value for the domain parser; raises ParseError for what cannot be right."""
    value = cell.value
    if isinstance(value, str):
        return value.strip() or None
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return number_cell_value(cell, row)
    if isinstance(value, (dt.datetime, dt.date)):
        assert row.field is not None  # an indicator's row, not a heading
        return value if row.field.kind is Kind.DATE else value.isoformat()
    return str(value)


def refusal_of(cell, label: str) -> str | None:
    """Why a cell cannot be a value at all: a formula, text Excel would make one, an error value."""
    if is_formula(cell):
        return f"「{label}」含公式，请复制后粘贴为数值"
    if isinstance(cell.value, str) and cell.value.lstrip().startswith("="):
        return f"「{label}」{FORMULA_TEXT}"
    return f"「{label}」单元格为错误值“{cell.value}”，请改为数值" if cell.data_type == "e" else None
