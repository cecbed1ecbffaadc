"""What the reports contain, independent of how they are written (Excel, PDF, HTML). No Flask.

* :class:`Roster`: the province-wide roster and its filtered lists, with :func:`roster_columns`
  whose headings come from the round's 申报书 (the 附件3 is :mod:`.summary_layout`).
* The indicator template's layout (:func:`template_rows`, :func:`template_fingerprint` …) of a
  round's 申报书, shared by the workbook that writes it and the importer that reads it back.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from typing import Any

from ..domain.credit_code import CREDIT_WEIGHTS
from ..domain.declaration import Form
from ..domain.indicators import Field, Kind
from ..domain.parsing import format_field
from ..print_widths import code_print_width, words_print_width

# ---- the province-wide roster -------------------------------------------------------------------

UNREPORTED_SUFFIX = "（含未报送）"

CREDIT_CODE_LENGTH = len(CREDIT_WEIGHTS) + 1  # 17 weighted characters and the check character


@dataclass(frozen=True)
class Column:
    key: str
    heading: str
    kind: str  # "seq", "text", "code", "int", "money", "percent"
    width: float  # Excel column width (characters)
    print_width: float  # share of the printed page width, in percent
    field: Field | None = None  # the declared field of a figure column
    # Short fixed words (状态, 省厅标记, 报送情况): printed on one line, never cut; a bracketed
    # note after them (「草稿（未报送）」) may go to a line of its own, whole too.
    keep_whole: bool = False

    @property
    def is_number(self) -> bool:
        return self.kind in ("int", "money", "percent")

    def pieces(self, value: Any) -> tuple[str, ...]:
        """The parts of a cell printed each on one line: a kept-whole label and its bracketed
        note; any other cell in one piece (which may wrap)."""
        text = self.text(value)
        if not self.keep_whole or "（" not in text[1:]:
            return (text,)
        at = text.index("（", 1)
        return text[:at], text[at:]

    def text(self, value: Any) -> str:
        """The value as printed: a figure through the one formatter, with thousands separators
        (two places for money and percentages)."""
        if self.field is not None:
            return format_field(self.field, value, thousands=True)
        return "" if value is None else str(value)


def _figure_column(f: Field, width: float, print_width: float) -> Column:
    kind = {Kind.INT: "int", Kind.MONEY: "money", Kind.PERCENT: "percent"}[f.kind]
    return Column(f.key, f.heading, kind, width, print_width, f)


# The names wrap anyway: they share what the other columns leave of the page.
NAME_KEYS = ("platform_name", "enterprise_name")


def _names_take_the_rest(columns: tuple[Column, ...]) -> tuple[Column, ...]:
    rest = 100 - sum(c.print_width for c in columns if c.key not in NAME_KEYS)
    share = round(rest / len(NAME_KEYS), 2)
    return tuple(replace(c, print_width=share) if c.key in NAME_KEYS else c for c in columns)


# The longest line each column of states prints (tests/reports check them against the enums and
# reports.roster.STANDINGS): 状态 「市州初审通过」, 省厅标记 「列入省级培育名单」, 报送情况
# 「市州初审通过」 of 「市州初审通过（未报送）」 (its note on a line of its own).
LONGEST_LABEL = {"state": 6, "mark": 8, "standing": 6}

# The key figures' widths (Excel characters, share of the printed page), where the round's form
# declares them as figures; a form without one has no column for it.
ROSTER_FIGURE_WIDTHS = {"devices_total": (14, 5), "models_total": (11, 4.5), "apps_total": (11, 4.5),
                        "users_registered": (12, 4.5), "developers_registered": (12, 4.5),
                        "revenue_2021": (16, 6)}


@cache
def _official_columns(form: Form) -> tuple[Column, ...]:
    fields = form.fields
    mobile_length = fields["contact_mobile"].max_length or 11
    figures = tuple(_figure_column(fields[key], *widths) for key, widths in ROSTER_FIGURE_WIDTHS.items()
                    if key in fields and fields[key].is_numeric)
    return _names_take_the_rest((
        Column("number", "序号", "seq", 6, 3.5),
        Column("city", "市（州）", "text", 10, 6),
        Column("platform_name", fields["platform_name"].label, "text", 28, 0),
        Column("enterprise_name", fields["enterprise_name"].label, "text", 28, 0),
        Column("credit_code", fields["credit_code"].label, "code", 21, code_print_width(CREDIT_CODE_LENGTH)),
        Column("contact_name", fields["contact_name"].label, "text", 9, 4.5),
        Column("contact_mobile", fields["contact_mobile"].label, "code", 13, code_print_width(mobile_length)),
        Column("state", "状态", "text", 13, 8, keep_whole=True),
        Column("mark", "省厅标记", "text", 16, 8.5, keep_whole=True),
        *figures,
    ))


# 报送情况, only in the views 「含未报送」: each application's own (reports.roster.standing_label):
# 已报送, 已受理 or 退回修改 with its batch when it went to the province, else its 市州初审 state
# and 「（未报送）」. The columns of states get the width their longest line needs, the city and
# contact a little less than in the official layout.
STANDING_COLUMN = Column("standing", "报送情况", "text", 22, words_print_width(LONGEST_LABEL["standing"]),
                         keep_whole=True)
_UNREPORTED_PRINT_WIDTHS = {"city": 5.5, "contact_name": 4,
                            "state": words_print_width(LONGEST_LABEL["state"]),
                            "mark": words_print_width(LONGEST_LABEL["mark"])}


@cache
def _with_standing(form: Form) -> tuple[Column, ...]:
    """The official columns, narrower where they have room to spare, with 报送情况 after 状态."""
    columns = []
    for column in _official_columns(form):
        columns.append(replace(column, print_width=_UNREPORTED_PRINT_WIDTHS.get(column.key, column.print_width)))
        if column.key == "state":
            columns.append(STANDING_COLUMN)
    return _names_take_the_rest(tuple(columns))


def roster_columns(form: Form, *, include_unreported: bool = False) -> tuple[Column, ...]:
    """The roster's columns for a round's 申报书: the identities with the form's labels, states,
    and the key figures it declares; the view 「含未报送」 adds 报送情况."""
    return _with_standing(form) if include_unreported else _official_columns(form)


@dataclass(frozen=True)
class RosterList:
    key: str
    name: str  # printed after the round's title
    mark: str | None  # ProvinceMark value, or None for every application
    # False: only what the cities reported (初审通过 in a 已报送/已受理 batch). True: drafts,
    # 不推荐 and unreported batches too — the name says so on every print, and a 报送情况
    # column says where each application stands.
    include_unreported: bool = False

    def columns(self, form: Form) -> tuple[Column, ...]:
        return roster_columns(form, include_unreported=self.include_unreported)


ROSTER_LISTS: dict[str, RosterList] = {
    "all": RosterList("all", "全省申报名单", None),
    "recommended": RosterList("recommended", "推荐工信部名单", "recommended"),
    "cultivation": RosterList("cultivation", "列入省级培育名单", "cultivation"),
    "unreported": RosterList("unreported", f"全省申报名单{UNREPORTED_SUFFIX}", None, include_unreported=True),
}


@dataclass(frozen=True)
class RosterEntry:
    """One application with everything the roster prints, in the order of its list's
    :attr:`RosterList.columns` (without the 序号, which depends on the sheet)."""

    mark: str | None  # ProvinceMark value
    values: tuple[Any, ...]


@dataclass(frozen=True)
class RosterSheet:
    name: str  # Excel sheet name (≤ 31 characters)
    title: str
    entries: tuple[RosterEntry, ...]

    def rows(self) -> list[tuple[Any, ...]]:
        return [(n, *entry.values) for n, entry in enumerate(self.entries, start=1)]


@dataclass(frozen=True)
class Roster:
    round_title: str
    list: RosterList
    generated_at: datetime
    sheets: tuple[RosterSheet, ...]  # the first is the list itself; "all" adds one per mark
    columns: tuple[Column, ...]  # of the round's 申报书 (:func:`roster_columns`)

    @property
    def title(self) -> str:
        return self.sheets[0].title

    @property
    def entries(self) -> tuple[RosterEntry, ...]:
        return self.sheets[0].entries

    @property
    def file_stem(self) -> str:
        return f"{self.round_title}{self.list.name}"


# ---- the indicator template ----------------------------------------------------------------------

TEMPLATE_ID = "xkxl-indicator-template"
TEMPLATE_VERSION = "1"
DATA_SHEET = "指标"
META_SHEET = "模板信息"

KEY_COLUMN = 1  # A, hidden: the field key of each row (the importer matches rows by it)
SECTION_COLUMN = 2  # B
LABEL_COLUMN = 3  # C
UNIT_COLUMN = 4  # D
HINT_COLUMN = 5  # E
FIRST_DATA_COLUMN = 6  # F: one column per application
TITLE_ROW, NOTE_ROW, HEADER_ROW, FIRST_ROW = 1, 2, 3, 4

MAX_APPLICATIONS = 100  # data columns F … DA


@dataclass(frozen=True)
class TemplateRow:
    key: str  # a field key, "technologies:5G" for one choice of a multiple choice, "" for a heading
    label: str
    section: str
    field: Field | None = None
    choice: str | None = None  # the technology of a 运用技术 row

    @property
    def is_heading(self) -> bool:
        return self.field is None


@cache
def template_rows(form: Form) -> tuple[TemplateRow, ...]:
    """Every row of the 指标 sheet, in the round's 申报书 order: a heading per section, a row
    per field, and one 是/否 row per choice of a multiple choice (运用技术)."""
    rows: list[TemplateRow] = []
    for section in form.sections:
        rows.append(TemplateRow("", section.heading, section.code))
        for f in section.fields:
            if f.kind is Kind.MULTI:
                rows.extend(TemplateRow(f"{f.key}:{choice}", f"{f.label}：{choice}", section.code, f,
                                        choice)
                            for choice in f.choices)
            else:
                rows.append(TemplateRow(f.key, f.label, section.code, f))
    return tuple(rows)


@cache
def template_fingerprint(form: Form) -> str:
    """Changes whenever a field is added, removed, renamed (key) or changes its kind or choices:
    a workbook made from another 申报书 (an older declaration, another round's) is then refused."""
    text = "|".join(f"{r.key}:{r.field.kind}:{','.join(r.field.choices)}" if r.field else f"{r.key}::"
                    for r in template_rows(form))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


_KIND_HINTS = {
    Kind.INT: "整数",
    Kind.MONEY: "金额，最多2位小数",
    Kind.PERCENT: "百分比数值，如 12.5（不带%也可）",
    Kind.DATE: "日期，如 2015-03-01 或 2015年3月",
    Kind.BOOL: "下拉选择“是”或“否”",
    Kind.CHOICE: "下拉选择",
    Kind.EMAIL: "电子邮箱",
    Kind.MOBILE: "11位手机号码",
    Kind.PHONE: "电话号码，如 028-86264036",
    Kind.CREDIT_CODE: "18位统一社会信用代码",
    Kind.TEXT: "文字",
}


def row_hint(row: TemplateRow) -> str:
    """The short hint printed beside a row (kind, choices, required)."""
    f = row.field
    if f is None:
        return ""
    if row.choice is not None:
        return "下拉选择“是”或“否”（运用了该技术填“是”）"
    parts = [_KIND_HINTS.get(f.kind, "")]
    if f.kind is Kind.CHOICE:
        parts = ["下拉选择：" + "／".join(f.choices)]
    if f.is_numeric:
        parts.append("没有可填“无”")
        if f.allow_negative:
            parts.append("可为负数")
    if f.required:
        parts.insert(0, "必填")
    return "；".join(p for p in parts if p)


def row_comment(row: TemplateRow, form: Form) -> str:
    """The cell comment on a row's label: the form's hint and every rule of ``form`` (the
    round's 申报书, whose rules speak of its labels) that involves it."""
    f = row.field
    if f is None:
        return ""
    lines = [f"{f.label}" + (f"（单位：{f.unit}）" if f.unit else "")]
    if f.hint:
        lines.append(f.hint)
    if f.required:
        lines.append(f.required_message)
    if f.max_length and f.kind is Kind.TEXT:
        lines.append(f"不超过{f.max_length}个字")
    if row.choice is None:
        for rule in form.rules_for_field(f.key):
            lines.append(f"规则（{rule.severity_label}，{rule.source}）：{rule.description}")
    else:
        lines.append("可选技术：" + "、".join(f.choices))
    return "\n".join(lines)


@dataclass(frozen=True)
class TemplateMeta:
    """The marker kept in the hidden 模板信息 sheet; ``fingerprint``: the round's 申报书's
    (:func:`template_fingerprint`)."""

    fingerprint: str
    template_id: str = TEMPLATE_ID
    version: str = TEMPLATE_VERSION
    round_year: int | None = None
    city_code: str = ""
    generated_at: str = ""

    def items(self) -> list[tuple[str, Any]]:
        return [("template_id", self.template_id), ("version", self.version),
                ("fingerprint", self.fingerprint), ("round_year", self.round_year),
                ("city_code", self.city_code), ("generated_at", self.generated_at)]
