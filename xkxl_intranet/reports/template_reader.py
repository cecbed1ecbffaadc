"""Reading a filled indicator template back: the file side of the import. No Flask, no database.

The use case around it (keeping the upload, matching the city's applications, saving them
all or none) is :mod:`.imports`; this module only turns a workbook into columns and problems.

:func:`read_workbook` checks the file (content, size, the sheet's extent before anything is
loaded (:mod:`.package_scan`), template marker and version, formulas and text that would become
one, merged cells), loads it in read-only mode and reads every application column through the
round's 申报书 (:func:`parsing.parse_input` with its fields). Every problem names its sheet and cell, e.g.
``指标!F7 含公式，请粘贴为数值``. Values that cannot be read block the import; the rule checks
(sums, limits, warnings) are run later by the applications domain, exactly as for the form.
"""
from __future__ import annotations

import os
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import CellRange

from ..domain.credit_code import normalize_code
from ..domain.declaration import Form
from ..domain.findings import ParseError
from ..domain.parsing import parse_bool, parse_input
from ..files.filetypes import HEAD_SIZE, KIND_LABELS, detect
from .layouts import (
    DATA_SHEET,
    FIRST_DATA_COLUMN,
    FIRST_ROW,
    HEADER_ROW,
    KEY_COLUMN,
    MAX_APPLICATIONS,
    META_SHEET,
    TEMPLATE_ID,
    TEMPLATE_VERSION,
    TemplateRow,
    template_fingerprint,
    template_rows,
)
from .package_scan import (
    Bounds,
    PackageUnreadable,
    PartBounds,
    PartTooLarge,
    SheetTooLarge,
    scan_eager_parts,
    scan_worksheet,
    worksheet_parts,
)
from .template_cells import cell_value, refusal_of

MAX_FILE_BYTES = 5 * 1024 * 1024  # a filled template of 100 applications is well under 1 MB
# Unpacked, that template is under 1 MB (its sheet about 0.6 MB); Excel or WPS saving it again
# adds styles and a theme. Beyond these it is not a template, and a zip bomb is refused.
MAX_UNCOMPRESSED_BYTES = 20 * 1024 * 1024
MAX_PART_BYTES = 8 * 1024 * 1024
MAX_PACKAGE_ENTRIES = 300
MAX_ROWS = 400
MAX_COLUMNS = FIRST_DATA_COLUMN - 1 + MAX_APPLICATIONS
DATA_BOUNDS = Bounds(rows=MAX_ROWS, columns=MAX_COLUMNS, cells=MAX_ROWS * MAX_COLUMNS)
META_BOUNDS = Bounds(rows=50, columns=5, cells=250)
# What loading parses whole. A string per cell of the two sheets at most; styles: a template
# re-saved by Excel or WPS has a few hundred elements, 25,000 load in about 0.5 s (100,000 took
# 2.5 s); comments: the template has one per row, a clerk may add some; the rest (the package's
# and workbook's structure, document properties) hold dozens.
PART_BOUNDS = PartBounds(shared_strings=DATA_BOUNDS.cells + META_BOUNDS.cells, styles=25_000,
                         comments=MAX_ROWS * 5, other=10_000)

BLOCK, ERROR, WARNING = "block", "error", "warning"
SEVERITY_LABELS = {BLOCK: "无法导入", ERROR: "错误", WARNING: "提示"}


@dataclass(frozen=True)
class Problem:
    """One problem, at a cell of a sheet (or of the whole file when ``cell`` is empty)."""

    message: str
    cell: str = ""  # "F7", or a range "F7:G8"
    sheet: str = DATA_SHEET
    severity: str = BLOCK
    row: int = 0
    column: int = 0
    rule: str = ""
    acknowledged: bool = False  # a warning the clerk already acknowledged on the application

    @property
    def ref(self) -> str:
        return f"{self.sheet}!{self.cell}" if self.cell else ""

    @property
    def text(self) -> str:
        return f"{self.ref} {self.message}" if self.cell else self.message

    @property
    def severity_label(self) -> str:
        return SEVERITY_LABELS[self.severity]

    @property
    def sort_key(self) -> tuple:
        return (self.column, self.row, self.severity != BLOCK)

    def __str__(self) -> str:
        return self.text


def cell_problem(message: str, row: int, column: int, *, severity: str = BLOCK, rule: str = "",
                 acknowledged: bool = False) -> Problem:
    return Problem(message, f"{get_column_letter(column)}{row}", DATA_SHEET, severity, row, column, rule,
                   acknowledged)


@dataclass
class ImportColumn:
    """One application: a data column of the 指标 sheet."""

    number: int  # column index (F = 6)
    parsed: dict[str, Any]  # key -> value as read (None where blank or unreadable)
    errors: dict[str, str]  # key -> why the field could not read the cell (the checks' parse errors)
    rows: dict[str, int]  # key -> row of that field (运用技术: its first technology row)
    problems: list[Problem] = field(default_factory=list)  # values that cannot be read

    @property
    def letter(self) -> str:
        return get_column_letter(self.number)

    @property
    def label(self) -> str:
        return f"{self.letter}列"

    @property
    def credit_code(self) -> str | None:
        return self.parsed.get("credit_code")

    @property
    def title(self) -> str:
        return self.parsed.get("platform_name") or self.parsed.get("enterprise_name") or f"{self.letter}列"

    def problem(self, key: str, message: str, **kwargs) -> Problem:
        return cell_problem(message, self.rows.get(key, HEADER_ROW), self.number, **kwargs)


@dataclass
class ReadResult:
    columns: list[ImportColumn] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # about the file or the sheet as a whole
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def all_problems(self) -> list[Problem]:
        cells = [p for c in self.columns for p in c.problems]
        return self.problems + sorted(cells, key=lambda p: p.sort_key)

    @property
    def blocked(self) -> bool:
        return any(p.severity == BLOCK for p in self.all_problems)


class _Unreadable(Exception):
    def __init__(self, *problems: Problem):
        super().__init__(problems[0].message if problems else "")
        self.problems = list(problems)


def _file_problem(message: str) -> _Unreadable:
    return _Unreadable(Problem(message))


# ---- the file ------------------------------------------------------------------------------------

def _check_content(path: Path, name: str) -> None:
    """Not empty, not too large, and an .xlsx by its content (not by its name)."""
    size = path.stat().st_size
    if size == 0:
        raise _file_problem(f"文件“{name}”是空文件。")
    if size > MAX_FILE_BYTES:
        raise _file_problem(f"文件“{name}”过大（{size / 1048576:.1f} MB），指标模板不超过 "
                            f"{MAX_FILE_BYTES // 1048576} MB；请只保留模板中的“{DATA_SHEET}”数据后重新上传。")
    with open(path, "rb") as fh:
        kind = detect(fh.read(HEAD_SIZE), path=path)
    if kind == "xls":
        raise _file_problem(f"文件“{name}”是旧版 Excel（.xls）格式，请在 Excel 或 WPS 中“另存为”"
                            "Excel 工作簿（*.xlsx）后重新上传。")
    if kind == "zip" and not zipfile.is_zipfile(path):
        raise _file_problem(f"文件“{name}”已损坏或不完整（可能上传时中断），无法作为 Excel 文件打开，请重新保存后上传。")
    if kind != "xlsx":
        actual = "设置了打开密码的文件或 WPS 格式文件" if kind == "ole" else KIND_LABELS.get(kind or "", "")
        hint = f"（实际是{actual}）" if actual else ""
        raise _file_problem(f"文件“{name}”不是 Excel（.xlsx）文件{hint}，请上传从本系统下载并填写的指标模板。")


def _check_archive(path: Path, name: str) -> None:
    """The zip package: readable, of a sane size once unpacked, not encrypted."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        raise _file_problem(f"文件“{name}”已损坏，无法作为 Excel 文件打开。") from None
    if (len(entries) > MAX_PACKAGE_ENTRIES or sum(e.file_size for e in entries) > MAX_UNCOMPRESSED_BYTES
            or any(e.file_size > MAX_PART_BYTES for e in entries)):
        raise _file_problem(f"文件“{name}”内容过多（解压后超过 {MAX_UNCOMPRESSED_BYTES // 1048576} MB，"
                            f"或其中一部分超过 {MAX_PART_BYTES // 1048576} MB），不是正常的指标模板。")
    if any(e.flag_bits & 0x1 for e in entries):
        raise _file_problem(f"文件“{name}”已加密，请取消密码后重新上传。")


def _check_package(path: Path, name: str) -> list[str]:
    """The file, its package, and its sheets before loading: the merged ranges of the data sheet."""
    _check_content(path, name)
    _check_archive(path, name)
    return _scan_sheets(path, name)


def _too_large(found: SheetTooLarge, sheet: str) -> _Unreadable:
    if found.cells:
        return _file_problem(f"工作表“{sheet}”过大：超过 {DATA_BOUNDS.cells} 个单元格，不是正常的指标模板。"
                             "请把数据复制到新下载的模板后重新上传。")
    return _file_problem(
        f"工作表“{sheet}”过大：最多 {MAX_ROWS} 行、{MAX_COLUMNS} 列（即最多 {MAX_APPLICATIONS} 家企业，"
        f"到 {get_column_letter(MAX_COLUMNS)} 列），当前用到第 {found.row} 行、"
        f"{get_column_letter(max(found.column, 1))} 列。请删除超出的内容，或把数据复制到新下载的模板后重新上传。")


def _scan_sheets(path: Path, name: str) -> list[str]:
    """Every sheet is streamed before openpyxl loads the workbook: the data sheet and the
    template's own sheet must stay within the template's extent, any other sheet is held to a
    small head (all that read-only loading looks at)."""
    bounds = {DATA_SHEET: DATA_BOUNDS, META_SHEET: META_BOUNDS}
    merged: list[str] = []
    try:
        with zipfile.ZipFile(path) as archive:
            try:
                scan_eager_parts(archive, PART_BOUNDS)
            except PartTooLarge as found:
                raise _file_problem(
                    f"文件“{name}”中的{found.what}过多（超过 {found.limit} 项），不是正常的指标模板。"
                    "请在新下载的模板中选择性粘贴为数值后重新上传。") from None
            for sheet, part in worksheet_parts(archive).items():
                try:
                    scan = scan_worksheet(archive, part, bounds.get(sheet))
                except SheetTooLarge as found:
                    raise _too_large(found, sheet) from None
                if sheet == DATA_SHEET:
                    merged = scan.merged
    except PackageUnreadable:
        raise _file_problem(f"文件“{name}”无法作为 Excel 工作簿读取（文件已损坏或不是 .xlsx 格式）。") from None
    return merged


def _read_meta(workbook, name: str, expected_year: int | None, form: Form) -> dict[str, Any]:
    wrong = (f"文件“{name}”不是本系统的指标模板（缺少模板标识）。请在“报表 → 指标模板”下载模板，"
             "填写后再上传。")
    if META_SHEET not in workbook.sheetnames:
        raise _file_problem(wrong)
    sheet = workbook[META_SHEET]
    meta = {str(k): v for k, v in sheet.iter_rows(min_row=1, max_row=20, max_col=2, values_only=True) if k}
    if meta.get("template_id") != TEMPLATE_ID:
        raise _file_problem(wrong)
    if str(meta.get("version")) != TEMPLATE_VERSION or meta.get("fingerprint") != template_fingerprint(form):
        raise _file_problem(f"文件“{name}”是旧版本的指标模板（模板版本 {meta.get('version')}），指标已有调整。"
                            "请重新下载最新模板，把数据以“选择性粘贴 → 数值”复制过去后再上传。")
    year = meta.get("round_year")
    if expected_year is not None and year not in (None, "") and str(year) != str(expected_year):
        raise _file_problem(f"文件“{name}”是{year}年批次的模板，当前批次为{expected_year}年，请重新下载模板。")
    return meta


class _Grid:
    """The data sheet's cells that hold a value, read once and in order from the read-only sheet
    (the scan has already bounded how many there can be); ``cell()`` as on a worksheet."""

    def __init__(self, sheet):
        self.cells: dict[tuple[int, int], Any] = {}
        self.last_row = self.last_column = 0  # styled empty cells do not count
        for row in sheet.iter_rows(max_row=MAX_ROWS, max_col=MAX_COLUMNS):
            for cell in row:
                if cell.value is None or cell.value == "":
                    continue
                self.cells[(cell.row, cell.column)] = cell
                self.last_row, self.last_column = max(self.last_row, cell.row), max(self.last_column, cell.column)

    def cell(self, row: int, column: int):
        return self.cells.get((row, column), _EMPTY)


class _Empty:
    value = None
    data_type = "n"
    number_format = "General"


_EMPTY = _Empty()


def _row_map(sheet, last_row: int, layout: tuple[TemplateRow, ...]) -> dict[str, int]:
    expected = {r.key for r in layout if r.key}
    rows: dict[str, int] = {}
    problems: list[Problem] = []
    for r in range(FIRST_ROW, last_row + 1):
        key = sheet.cell(row=r, column=KEY_COLUMN).value
        if key in (None, ""):
            continue
        key = str(key).strip()
        if key not in expected:
            problems.append(cell_problem(f"无法识别的指标行（代码“{key}”），请勿修改模板的隐藏列 A", r, KEY_COLUMN))
        elif key in rows:
            problems.append(cell_problem(f"指标行重复（与第 {rows[key]} 行相同），请勿复制或插入指标行", r, KEY_COLUMN))
        else:
            rows[key] = r
    missing = [row for row in layout if row.key and row.key not in rows]
    if missing:
        problems.insert(0, _missing_rows_problem(missing))
    if problems:
        raise _Unreadable(*problems)
    return rows


def _missing_rows_problem(missing: list[TemplateRow]) -> Problem:
    if len(missing) > 5:
        return Problem(f"模板的指标行已被改动（缺少 {len(missing)} 行），请重新下载模板后填写。")
    return Problem("模板中缺少以下指标行（请勿删除行）：" + "、".join(r.label for r in missing)
                   + "。请重新下载模板后填写。")


def _check_merged(ranges: list[str]) -> None:
    problems = []
    for reference in ranges:
        try:
            merged = CellRange(reference)
        except (ValueError, TypeError):
            continue
        in_data = merged.max_col >= FIRST_DATA_COLUMN and merged.max_row >= FIRST_ROW
        in_keys = merged.min_col <= KEY_COLUMN and merged.max_row >= FIRST_ROW
        if in_data or in_keys:
            problems.append(Problem("为合并单元格：数据区不能合并单元格，请取消合并后重新上传", merged.coord,
                                    row=merged.min_row, column=merged.min_col))
    if problems:
        raise _Unreadable(*problems)


# ---- columns -------------------------------------------------------------------------------------

def _read_column(sheet, number: int, rows: dict[str, int], layout: tuple[TemplateRow, ...],
                 form: Form) -> ImportColumn:
    """One application's cells, each taken as the domain parser takes what a clerk typed, then
    read through the round's 申报书 at once (:func:`parse_input`): a cell that cannot be right as
    a cell (a formula, an error value, a code Excel made a number) is a problem of its own and
    left blank; what the form's fields cannot read is a problem at its row."""
    column = ImportColumn(number=number, parsed={}, errors={}, rows={})
    raw: dict[str, Any] = {}
    chosen: dict[str, list[str]] = {}
    unreadable: set[str] = set()
    for row in layout:
        if row.is_heading:
            continue
        r = rows[row.key]
        f = row.field
        assert f is not None  # headings are skipped above
        column.rows.setdefault(f.key, r)
        cell = sheet.cell(row=r, column=number)
        try:
            if (refusal := refusal_of(cell, row.label)) is not None:
                column.problems.append(cell_problem(refusal, r, number))
            elif row.choice is None:
                raw[f.key] = cell_value(cell, row)
                continue
            elif parse_bool(cell_value(cell, row), row.label):
                chosen.setdefault(f.key, []).append(row.choice)
        except ParseError as exc:
            column.problems.append(cell_problem(exc.message, r, number, rule=f"parse:{f.key}"))
        if row.choice is None:  # a multiple choice keeps the choices of its other rows
            unreadable.add(f.key)
    raw.update({key: tuple(choices) or None for key, choices in chosen.items()})
    typed = parse_input(raw, form.fields)
    column.parsed = {key: None if key in unreadable else value for key, value in typed.values.items()}
    column.errors = dict(typed.errors)
    for key, message in typed.errors.items():
        column.problems.append(cell_problem(message, column.rows[key], number, rule=f"parse:{key}"))
    column.problems.sort(key=lambda p: p.row)
    return column


def _has_values(sheet, number: int, rows: dict[str, int]) -> bool:
    for r in rows.values():
        value = sheet.cell(row=r, column=number).value
        if value is not None and not (isinstance(value, str) and not value.strip()):
            return True
    return False


def _check_columns(columns: list[ImportColumn]) -> None:
    seen: dict[str, ImportColumn] = {}
    for column in columns:
        if any(p.rule == "parse:credit_code" for p in column.problems):
            continue
        code = normalize_code(column.credit_code) if column.credit_code else ""
        if not code:
            column.problems.append(column.problem(
                "credit_code", "「统一社会信用代码」导入时必须填写（用于匹配本市（州）已有的申报）"))
        elif code in seen:
            first = seen[code]
            column.problems.append(column.problem(
                "credit_code", f"「统一社会信用代码」与 {DATA_SHEET}!{first.letter}{first.rows['credit_code']} 相同："
                               "同一企业只能填写一列"))
        else:
            seen[code] = column


# ---- entry point -----------------------------------------------------------------------------------

def read_workbook(path: str | os.PathLike, *, form: Form, name: str = "",
                  expected_year: int | None = None) -> ReadResult:
    """Read an indicator template of ``form`` (the round's 申报书), filled in. Never raises for a
    bad file: see ``result.problems``."""
    path = Path(path)
    name = name or path.name
    result = ReadResult()
    try:
        merged = _check_package(path, name)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                workbook = load_workbook(path, read_only=True, data_only=False, keep_links=False)
        except Exception:  # openpyxl raises many kinds of errors for broken packages
            raise _file_problem(f"文件“{name}”无法作为 Excel 工作簿读取（文件已损坏或不是 .xlsx 格式）。") from None
        try:
            _read_sheets(workbook, result, form=form, name=name, expected_year=expected_year, merged=merged)
        finally:
            workbook.close()
    except _Unreadable as refused:
        result.problems.extend(refused.problems)
    return result


def _read_sheets(workbook, result: ReadResult, *, form: Form, name: str, expected_year: int | None,
                 merged: list[str]) -> None:
    result.meta = _read_meta(workbook, name, expected_year, form)
    if DATA_SHEET not in workbook.sheetnames:
        raise _file_problem(f"文件“{name}”中缺少工作表“{DATA_SHEET}”，请勿重命名或删除该工作表。")
    try:
        grid = _Grid(workbook[DATA_SHEET])
    except Exception:  # a cell openpyxl cannot read: a broken package
        raise _file_problem(f"文件“{name}”无法作为 Excel 工作簿读取（文件已损坏或不是 .xlsx 格式）。") from None
    _check_merged(merged)
    layout = template_rows(form)
    rows = _row_map(grid, grid.last_row, layout)
    for number in range(FIRST_DATA_COLUMN, grid.last_column + 1):
        if _has_values(grid, number, rows):
            result.columns.append(_read_column(grid, number, rows, layout, form))
    if not result.columns:
        raise _file_problem(f"没有找到任何申报数据：请从 {get_column_letter(FIRST_DATA_COLUMN)} 列起每列填写一家企业。")
    _check_columns(result.columns)
