"""What the reports contain, independent of how they are written (Excel, PDF, HTML). No Flask.

* :class:`Summary`: one city's 附件3 推荐信息汇总表 (the notice's official layout).
* :class:`Roster`: the province-wide roster and its filtered lists, with :data:`ROSTER_COLUMNS`
  whose indicator headings come from the field declaration.
* The indicator template's layout (:func:`template_rows`, :func:`template_fingerprint` …),
  shared by the workbook that writes it and the importer that reads it back.
"""
from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ..domain.checks import FORM_2022, rules_for_field
from ..domain.credit_code import CREDIT_WEIGHTS
from ..domain.indicators import FIELDS, SECTIONS, Field, Kind
from ..domain.parsing import format_field
from ..print_widths import code_print_width, words_print_width

# ---- 附件3 推荐信息汇总表 ---------------------------------------------------------------------

SUMMARY_HEADERS = ("序号", "工业互联网平台名称", "依托企业", "联系人", "联系方式（手机）")
DEFAULT_DISCLOSURE = "主动公开"
# The foot of the sheet, under the table: the disclosure line, then the bureau's name again with
# blank room for its seal and the day, written by hand when the sheet is stamped. The notice
# prints 「（盖章）」 by the name at the head; the seal goes at the foot, as on any official form,
# where the room is kept with the table's last row (a page never holds the foot alone).
SEAL_LINE = "市（州）经济和信息化主管部门（盖章）"
DATE_LINE = "填报日期：\u3000\u3000年\u3000\u3000月\u3000\u3000日"
# The blank square left for the seal: 4 cm asked for, 45 mm leaves a margin round it.
SEAL_SPACE_MM = 45


@dataclass(frozen=True)
class SummaryRow:
    number: int  # 序号: 1..n in the clerk's order
    application_id: int
    platform_name: str
    enterprise_name: str
    contact_name: str
    contact_mobile: str

    @property
    def cells(self) -> tuple[Any, ...]:
        return (self.number, self.platform_name, self.enterprise_name, self.contact_name,
                self.contact_mobile)


@dataclass(frozen=True)
class Summary:
    round_title: str
    city_name: str
    department_name: str
    contact_name: str
    contact_phone: str
    disclosure: str
    rows: tuple[SummaryRow, ...]

    @property
    def title(self) -> str:
        return f"{self.round_title}推荐信息汇总表"

    @property
    def department_line(self) -> str:
        return f"市（州）经济和信息化主管部门（盖章）：{self.department_name}"

    @property
    def contact_line(self) -> str:
        return f"联系人：{self.contact_name}"

    @property
    def phone_line(self) -> str:
        return f"联系方式：{self.contact_phone}"

    @property
    def disclosure_line(self) -> str:
        return f"信息公开选项：{self.disclosure or DEFAULT_DISCLOSURE}"

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
# most a fifth of the table or so); the two names share the rest in proportion to their longest
# name, so that when both must wrap they wrap alike, and when they fit they fit on one line
# (the walk: “成都导入测试甲科技有限公司” left “司” alone while the platform column had room).
SUMMARY_TABLE_MM = 210 - 2 * 18
SUMMARY_FONT_PT = 11
SUMMARY_CELL_MM = 2 * 1.6 + 0.75 * 25.4 / 72
SUMMARY_SLACK_EM = 0.5  # the serif font's Latin letters and digits vary; bold headings are wider
NAME_COLUMNS = (1, 2)  # 工业互联网平台名称, 依托企业
SUMMARY_FIXED_MAX = 0.22  # several phones in one cell wrap rather than squeeze the names


def text_ems(text: str) -> float:
    """The width of one line of ``text`` in em: a Chinese (wide) character is one em, any other
    (digits, Latin letters, the hyphen of a phone) at most 0.6 em in the print's serif font."""
    return sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.6 for c in text)


def _summary_mm(ems: float) -> float:
    return (ems + SUMMARY_SLACK_EM) * SUMMARY_FONT_PT * 25.4 / 72 + SUMMARY_CELL_MM


def summary_print_widths(summary: Summary) -> tuple[float, ...]:
    """The five columns' shares of the printed table's width (percent, a tenth, summing to 100)."""
    natural = [max([text_ems(str(row.cells[i])) for row in summary.rows] + [text_ems(heading)])
               for i, heading in enumerate(SUMMARY_HEADERS)]
    fixed = {i: min(_summary_mm(natural[i]), SUMMARY_TABLE_MM * SUMMARY_FIXED_MAX)
             for i in range(len(natural)) if i not in NAME_COLUMNS}
    rest = SUMMARY_TABLE_MM - sum(fixed.values())
    weights = {i: natural[i] for i in NAME_COLUMNS}
    names = {i: rest * weights[i] / sum(weights.values()) for i in NAME_COLUMNS}
    shares = [round((fixed | names)[i] / SUMMARY_TABLE_MM * 100, 1) for i in range(len(natural))]
    shares[NAME_COLUMNS[-1]] = round(100 - sum(s for i, s in enumerate(shares) if i != NAME_COLUMNS[-1]), 1)
    return tuple(shares)


# ---- the province-wide roster -------------------------------------------------------------------

UNREPORTED_SUFFIX = "（含未报送）"

ROSTER_KEY_FIELDS = ("devices_total", "models_total", "apps_total", "users_registered",
                     "developers_registered", "revenue_2021")

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


def _figure_column(key: str, width: float, print_width: float) -> Column:
    f = FIELDS[key]
    kind = {Kind.INT: "int", Kind.MONEY: "money", Kind.PERCENT: "percent"}[f.kind]
    return Column(key, f.heading, kind, width, print_width, f)


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

_MOBILE_LENGTH = FIELDS["contact_mobile"].max_length
assert _MOBILE_LENGTH is not None  # declared: a mobile number's digits

ROSTER_COLUMNS: tuple[Column, ...] = _names_take_the_rest((
    Column("number", "序号", "seq", 6, 3.5),
    Column("city", "市（州）", "text", 10, 6),
    Column("platform_name", FIELDS["platform_name"].label, "text", 28, 0),
    Column("enterprise_name", FIELDS["enterprise_name"].label, "text", 28, 0),
    Column("credit_code", FIELDS["credit_code"].label, "code", 21, code_print_width(CREDIT_CODE_LENGTH)),
    Column("contact_name", FIELDS["contact_name"].label, "text", 9, 4.5),
    Column("contact_mobile", FIELDS["contact_mobile"].label, "code", 13,
           code_print_width(_MOBILE_LENGTH)),
    Column("state", "状态", "text", 13, 8, keep_whole=True),
    Column("mark", "省厅标记", "text", 16, 8.5, keep_whole=True),
    _figure_column("devices_total", 14, 5),
    _figure_column("models_total", 11, 4.5),
    _figure_column("apps_total", 11, 4.5),
    _figure_column("users_registered", 12, 4.5),
    _figure_column("developers_registered", 12, 4.5),
    _figure_column("revenue_2021", 16, 6),
))
assert abs(sum(c.print_width for c in ROSTER_COLUMNS) - 100) < 0.01

# 报送情况, only in the views 「含未报送」: each application's own (reports.roster.standing_label):
# 已报送, 已受理 or 退回修改 with its batch when it went to the province, else its 市州初审 state
# and 「（未报送）」. The columns of states get the width their longest line needs, the city and
# contact a little less than in the official layout.
STANDING_COLUMN = Column("standing", "报送情况", "text", 22, words_print_width(LONGEST_LABEL["standing"]),
                         keep_whole=True)
_UNREPORTED_PRINT_WIDTHS = {"city": 5.5, "contact_name": 4,
                            "state": words_print_width(LONGEST_LABEL["state"]),
                            "mark": words_print_width(LONGEST_LABEL["mark"])}


def _with_standing() -> tuple[Column, ...]:
    """The official columns, narrower where they have room to spare, with 报送情况 after 状态."""
    columns = []
    for column in ROSTER_COLUMNS:
        columns.append(replace(column, print_width=_UNREPORTED_PRINT_WIDTHS.get(column.key, column.print_width)))
        if column.key == "state":
            columns.append(STANDING_COLUMN)
    return _names_take_the_rest(tuple(columns))


UNREPORTED_ROSTER_COLUMNS: tuple[Column, ...] = _with_standing()
assert abs(sum(c.print_width for c in UNREPORTED_ROSTER_COLUMNS) - 100) < 0.01


@dataclass(frozen=True)
class RosterList:
    key: str
    name: str  # printed after the round's title
    mark: str | None  # ProvinceMark value, or None for every application
    # False: only what the cities reported (初审通过 in a 已报送/已受理 batch). True: drafts,
    # 不推荐 and unreported batches too — the name says so on every print, and a 报送情况
    # column says where each application stands.
    include_unreported: bool = False

    @property
    def columns(self) -> tuple[Column, ...]:
        return UNREPORTED_ROSTER_COLUMNS if self.include_unreported else ROSTER_COLUMNS


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

    @property
    def columns(self) -> tuple[Column, ...]:
        return self.list.columns

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
TECH_PREFIX = "technologies:"


@dataclass(frozen=True)
class TemplateRow:
    key: str  # a field key, "technologies:5G" for one technology, "" for a section heading
    label: str
    section: str
    field: Field | None = None
    choice: str | None = None  # the technology of a 运用技术 row

    @property
    def is_heading(self) -> bool:
        return self.field is None


def template_rows() -> tuple[TemplateRow, ...]:
    """Every row of the 指标 sheet, in the declaration's order: a heading per section, a row
    per field, and one 是/否 row per technology for 运用技术."""
    rows: list[TemplateRow] = []
    for section in SECTIONS:
        rows.append(TemplateRow("", section.heading, section.code))
        for f in section.fields:
            if f.kind is Kind.MULTI:
                rows.extend(TemplateRow(f"{TECH_PREFIX}{choice}", f"{f.label}：{choice}", section.code, f,
                                        choice)
                            for choice in f.choices)
            else:
                rows.append(TemplateRow(f.key, f.label, section.code, f))
    return tuple(rows)


def template_fingerprint() -> str:
    """Changes whenever a field is added, removed, renamed (key) or changes its kind or choices:
    a workbook made from an older declaration is then refused as out of date."""
    text = "|".join(f"{r.key}:{r.field.kind}:{','.join(r.field.choices)}" if r.field else f"{r.key}::"
                    for r in template_rows())
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


def row_comment(row: TemplateRow) -> str:
    """The cell comment on a row's label: the form's hint and every rule that involves it."""
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
        for rule in rules_for_field(f.key, form=FORM_2022):
            lines.append(f"规则（{rule.severity_label}，{rule.source}）：{rule.description}")
    else:
        lines.append("可选技术：" + "、".join(f.choices))
    return "\n".join(lines)


@dataclass(frozen=True)
class TemplateMeta:
    """The marker kept in the hidden 模板信息 sheet."""

    template_id: str = TEMPLATE_ID
    version: str = TEMPLATE_VERSION
    fingerprint: str = field(default_factory=template_fingerprint)
    round_year: int | None = None
    city_code: str = ""
    generated_at: str = ""

    def items(self) -> list[tuple[str, Any]]:
        return [("template_id", self.template_id), ("version", self.version),
                ("fingerprint", self.fingerprint), ("round_year", self.round_year),
                ("city_code", self.city_code), ("generated_at", self.generated_at)]
