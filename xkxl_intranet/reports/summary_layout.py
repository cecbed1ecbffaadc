"""附件3 推荐信息汇总表 as the round's notice declares it (``[summary]``: its title, the lines
above and under the table, its columns), independent of how it is written (Excel, PDF, HTML).
No Flask.

:func:`summary_columns` reads a notice's layout against its 申报书; :class:`Summary` is one
city's sheet: the lines with the city's names filled in, one :class:`SummaryRow` per 初审通过
application.
"""
from __future__ import annotations

import string
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from ..domain.indicators import Field, Kind
from ..notice.schema import SUMMARY_NUMBER, Notice

# The foot of the sheet, under the declared footer lines: the bureau's name again with blank
# room for its seal and the day, written by hand when the sheet is stamped. The notice prints
# 「（盖章）」 by the name at the head; the seal goes at the foot, as on any official form, where the
# room is kept with the table's last row (a page never holds the foot alone).
SEAL_LINE = "市（州）经济和信息化主管部门（盖章）"
DATE_LINE = "填报日期：\u3000\u3000年\u3000\u3000月\u3000\u3000日"
# The blank square left for the seal: 4 cm asked for, 45 mm leaves a margin round it.
SEAL_SPACE_MM = 45

# A text field this long or longer (a name) is printed left-aligned and wraps; the columns of
# names share what the others leave of the page. Shorter text (a contact's name), codes and
# figures are centred and kept as wide as their longest line.
NAME_MIN_LENGTH = 100
CODE_KINDS = (Kind.MOBILE, Kind.PHONE, Kind.CREDIT_CODE)  # kept as text in Excel, never a number
CONTACT_PLACEHOLDERS = frozenset({"contact_name", "contact_phone"})


@dataclass(frozen=True)
class SummarySheetColumn:
    """One declared column of 附件3: its heading and what it shows (序号 or a field of the form)."""

    heading: str
    value: str  # SUMMARY_NUMBER or a field key
    field: Field | None  # None for 序号

    @property
    def is_number(self) -> bool:
        return self.field is None

    @property
    def is_name(self) -> bool:
        f = self.field
        return f is not None and f.kind is Kind.TEXT and (f.max_length is None or f.max_length >= NAME_MIN_LENGTH)

    @property
    def is_code(self) -> bool:
        return self.field is not None and self.field.kind in CODE_KINDS

    @property
    def excel_width(self) -> float:
        """Characters: 7 for 序号, 34 for a name, 18 for a phone or code, 12 for the rest."""
        if self.is_number:
            return 7
        if self.is_name:
            return 34
        return 18 if self.is_code else 12


def summary_columns(notice: Notice) -> tuple[SummarySheetColumn, ...]:
    """The notice's 附件3 columns, each with the field of its 申报书 it shows (the loader has
    checked that every column names 序号 or a declared field)."""
    fields = notice.form.fields
    return tuple(SummarySheetColumn(c.heading, c.value, None if c.value == SUMMARY_NUMBER else fields[c.value])
                 for c in notice.summary.columns)


@dataclass(frozen=True)
class SummaryLine:
    """A line above or under the table, its placeholders filled in; ``names`` are the
    placeholders it had (the page puts the contact form where the contact's lines are)."""

    text: str
    names: frozenset[str]

    @property
    def names_contact(self) -> bool:
        return bool(self.names & CONTACT_PLACEHOLDERS)

    @property
    def names_disclosure(self) -> bool:
        return "disclosure" in self.names

    def __str__(self) -> str:
        return self.text


def placeholders_of(template: str) -> frozenset[str]:
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


@dataclass(frozen=True)
class SummaryRow:
    number: int  # 序号: 1..n in the clerk's order
    application_id: int
    platform_name: str  # what the page links to the application, and names its buttons by
    cells: tuple[Any, ...]  # in the columns' order: 序号 as a number, the rest as printed


@dataclass(frozen=True)
class Summary:
    notice: Notice  # the round's: 附件3's lines and columns
    round_title: str
    city_name: str
    department_name: str
    contact_name: str
    contact_phone: str
    disclosure: str
    rows: tuple[SummaryRow, ...]

    @cached_property
    def columns(self) -> tuple[SummarySheetColumn, ...]:
        return summary_columns(self.notice)

    @property
    def headers(self) -> tuple[str, ...]:
        return self.notice.summary.headers

    def _filled(self, template: str) -> SummaryLine:
        values = {"round_title": self.round_title, "city_name": self.city_name,
                  "department_name": self.department_name, "contact_name": self.contact_name,
                  "contact_phone": self.contact_phone,
                  "disclosure": self.disclosure or self.notice.summary.default_disclosure}
        return SummaryLine(template.format_map(values), placeholders_of(template))

    @property
    def title(self) -> str:
        return self._filled(self.notice.summary.title).text

    @property
    def header_lines(self) -> tuple[SummaryLine, ...]:
        return tuple(self._filled(line) for line in self.notice.summary.header_lines)

    @property
    def footer_lines(self) -> tuple[SummaryLine, ...]:
        return tuple(self._filled(line) for line in self.notice.summary.footer_lines)

    @property
    def seal_line(self) -> str:
        """The bureau's own name where it is known (the seal it puts there bears that name)."""
        return f"{self.department_name}（盖章）" if self.department_name else SEAL_LINE

    @property
    def date_line(self) -> str:
        return DATE_LINE

    @property
    def seal_space_mm(self) -> int:
        return SEAL_SPACE_MM

    @property
    def file_stem(self) -> str:
        return f"附件3_推荐信息汇总表_{self.city_name}"

    @property
    def print_widths(self) -> tuple[float, ...]:
        return summary_print_widths(self)


# 附件3 as summary_print.html prints it: A4 portrait with 18 mm side margins, 11 pt (a header in
# bold), each cell padded 1.6 mm a side within 0.75 pt rules. The widths of its columns come from
# the sheet's content: 序号, 联系人 and the phone as wide as their longest line or heading (at
# most a fifth of the table or so); the names share the rest in proportion to their longest
# name, so that when both must wrap they wrap alike, and when they fit they fit on one line
# (the walk: “成都导入测试甲科技有限公司” left “司” alone while the platform column had room).
SUMMARY_TABLE_MM = 210 - 2 * 18
SUMMARY_FONT_PT = 11
SUMMARY_CELL_MM = 2 * 1.6 + 0.75 * 25.4 / 72
SUMMARY_SLACK_EM = 0.5  # the serif font's Latin letters and digits vary; bold headings are wider
SUMMARY_FIXED_MAX = 0.22  # several phones in one cell wrap rather than squeeze the names


def text_ems(text: str) -> float:
    """The width of one line of ``text`` in em: a Chinese (wide) character is one em, any other
    (digits, Latin letters, the hyphen of a phone) at most 0.6 em in the print's serif font."""
    return sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.6 for c in text)


def _summary_mm(ems: float) -> float:
    return (ems + SUMMARY_SLACK_EM) * SUMMARY_FONT_PT * 25.4 / 72 + SUMMARY_CELL_MM


def summary_print_widths(summary: Summary) -> tuple[float, ...]:
    """The columns' shares of the printed table's width (percent, a tenth, summing to 100)."""
    columns = summary.columns
    natural = [max([text_ems(str(row.cells[i])) for row in summary.rows] + [text_ems(column.heading)])
               for i, column in enumerate(columns)]
    # Without a column of names, the widest column takes what the others leave.
    names = tuple(i for i, c in enumerate(columns) if c.is_name) or (natural.index(max(natural)),)
    fixed = {i: min(_summary_mm(natural[i]), SUMMARY_TABLE_MM * SUMMARY_FIXED_MAX)
             for i in range(len(natural)) if i not in names}
    rest = SUMMARY_TABLE_MM - sum(fixed.values())
    weights = {i: natural[i] for i in names}
    shared = {i: rest * weights[i] / (sum(weights.values()) or 1) for i in names}
    shares = [round((fixed | shared)[i] / SUMMARY_TABLE_MM * 100, 1) for i in range(len(natural))]
    shares[names[-1]] = round(100 - sum(s for i, s in enumerate(shares) if i != names[-1]), 1)
    return tuple(shares)
