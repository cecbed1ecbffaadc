"""The 申报书 (附件2 of the notice) as a document: cover, 目录, 表一, 表二(1) and 表二(2), laid
out from a round's declared :class:`~.declaration.Form`. Pure: a list of blocks that
``files/form_template.py`` writes as .docx (and the print template as PDF), and whose headings
and table words :mod:`.form_reader` looks for when it reads an uploaded 申报书.

What 附件2 prints besides the fields (group headings, the sections without figures, the
pledge and the recommending unit's block) is written here once. 表一 and 表二(1) are laid out as
2022's 附件2 prints them; a form that lacks one of their fields leaves its cell (or row) out, and
a field a form adds to them gets a row of its own after them.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

from .declaration import Form
from .indicators import Field, Kind, Section
from .parsing import format_field

__all__ = [
    "Run", "Paragraph", "Heading", "Cell", "Table", "Contents", "PageBreak", "Block",
    "HeadingSpec", "outline", "AFTER_FIGURES", "TABLE_WORDS", "BLANK", "CHECKED", "UNCHECKED",
    "form_blocks", "texts_for", "field_line",
]

BLANK = "________"  # an empty blank as printed
CHECKED = "☑"
UNCHECKED = "☐"


@dataclass(frozen=True)
class Run:
    text: str
    blank: bool = False  # what the enterprise writes in (underlined in the template)


@dataclass(frozen=True)
class Paragraph:
    kind: ClassVar[str] = "paragraph"
    runs: tuple[Run, ...]
    style: str = "body"  # body | title | cover | center | note

    @property
    def text(self) -> str:
        return "".join(r.text for r in self.runs)


@dataclass(frozen=True)
class Heading:
    kind: ClassVar[str] = "heading"
    level: int
    text: str


@dataclass(frozen=True)
class Cell:
    kind: ClassVar[str] = "cell"
    runs: tuple[Run, ...] = ()
    colspan: int = 1
    rowspan: int = 1
    label: bool = False  # a printed label (shaded), not a value

    @property
    def text(self) -> str:
        return "".join(r.text for r in self.runs)


@dataclass(frozen=True)
class Table:
    kind: ClassVar[str] = "table"
    columns: int
    rows: tuple[tuple[Cell, ...], ...]  # each row lists the cells that start in it
    widths: tuple[float, ...] = ()  # centimetres


@dataclass(frozen=True)
class Contents:
    """The 目录 (附件2 注4: at least three levels); a TOC field in the .docx."""

    kind: ClassVar[str] = "contents"
    levels: int = 4


@dataclass(frozen=True)
class PageBreak:
    kind: ClassVar[str] = "pagebreak"


Block = Paragraph | Heading | Table | Contents | PageBreak


@dataclass(frozen=True)
class HeadingSpec:
    """One heading of 附件2: its level, its number as printed and its title."""

    level: int
    number: str  # 一 | 二 | 1 | 1.1 … ('(1)' is written with its brackets)
    title: str
    section: str | None = None  # the declared section whose fields follow it
    starred: bool = False
    prompt: str = ""  # what the enterprise writes there (sections without figures)

    @property
    def text(self) -> str:
        star = "*" if self.starred else ""
        if self.level == 1:
            return f"{self.number}、{self.title}"
        if self.level == 2:
            return f"（{self.number}）{self.title}"
        if self.level == 3:
            return f"{self.number}. {self.title}"
        return f"{self.number} {self.title}{star}"


_GROUPS = {"1": "平台资源管理能力", "2": "平台核心技术水平", "3": "平台赋能成效", "4": "平台社会贡献度",
           "5": "平台可持续发展能力"}
# 附件2's sections without figures: (code, title, starred, what to write).
_NARRATIVE = (
    ("3.5", "国际业务拓展能力", True, "介绍国际业务模式，对海外企业提供平台赋能解决方案。"),
    ("4.3", "支撑经济或行业运行分析", False, "介绍平台依托工业互联网平台数据支撑产业经济运行监测分析等情况。"),
    ("4.4", "部重点工作参与情况", False,
     "包括承担创新发展工程项目，参与试点示范、“工业互联网平台进园区”“全国工业互联网平台赋能深度行”、"
     "工业互联网平台创新合作中心等。"),
    ("5.3", "生态运营能力", False,
     "介绍赋能特定行业/区域平台建设、带动行业解决方案服务商发展、产融合作、产教融合、人才培养等情况。"),
)
_TAIL = (
    ("3", "工业互联网平台技术架构",
     "工业互联网平台的技术架构及方案介绍（包含但不限于平台业务框架、功能架构、技术架构、实施架构等）（限2500字）"),
    ("4", "工业互联网平台下一步发展计划",
     "工业互联网平台下一步研发和运营计划（包含但不限于技术创新、产品升级、产业合作、商业模式拓展等）（限1000字）"),
    ("5", "其他说明材料",
     "材料清单（作为附件放后）：附件1：工业设备清单；附件2：工业模型清单；附件3：工业APP清单；附件4：服务企业清单；"
     "附件5：解决方案清单；附件6：财务报表等其他相关材料。"),
)


@lru_cache(maxsize=16)
def outline(form: Form) -> tuple[HeadingSpec, ...]:
    """附件2's headings for ``form``: its numbered sections (1.1 …) among the sections without
    figures, under their group's heading (a group 2022 does not name has none)."""
    specs = [HeadingSpec(1, "一", "申报企业基本信息", "一"), HeadingSpec(1, "二", "工业互联网平台申报材料"),
             HeadingSpec(2, "1", "工业互联网平台基本信息", "二(1)"), HeadingSpec(2, "2", "工业互联网平台能力介绍")]
    subsections: list[tuple[str, str, bool, str, str | None]] = [
        (s.code, s.title, s.starred, "", s.code) for s in form.sections if s.code[0].isdigit()]
    subsections += [(code, title, starred, prompt, None) for code, title, starred, prompt in _NARRATIVE]
    subsections.sort(key=lambda item: tuple(int(n) for n in item[0].split(".")))
    group = None
    for code, title, starred, prompt, section in subsections:
        if code.split(".")[0] != group:
            group = code.split(".")[0]
            if group in _GROUPS:
                specs.append(HeadingSpec(3, group, _GROUPS[group]))
        specs.append(HeadingSpec(4, code, title, section, starred, prompt))
    specs += [HeadingSpec(2, number, title, prompt=prompt) for number, title, prompt in _TAIL]
    return tuple(specs)


# The heading after the last figure, 「（3）工业互联网平台技术架构」: a long document need not be read further.
AFTER_FIGURES = next(HeadingSpec(2, number, title, prompt=prompt) for number, title, prompt in _TAIL)

# 表一's printed words that are not a field's label (the reader stops a value at them too).
TABLE_WORDS: dict[str, tuple[str, ...]] = {
    "一": ("企业基本信息", "联系人", "企业简介"),
    "二(1)": (),
}
PLEDGE_TITLE = "真实性承诺"
PLEDGE_TEXT = "我单位申报的所有材料，均真实、完整，如有不实，愿承担相应的责任。"
PLEDGE_SIGN = "法定代表人签章：            公章：            年    月    日"
RECOMMENDER_TITLE = "推荐单位"
RECOMMENDER_TEXT = "同意推荐该单位申报{year}年跨行业跨领域工业互联网平台。"
RECOMMENDER_SIGN = "推荐单位公章：            年    月    日"
INTRO_PROMPT = ("（限1000字）（一）申报单位情况介绍：发展历程、主营业务、市场销售等方面基本情况。"
                "（二）申报单位核心竞争力介绍：突出工业互联网平台技术、产品、解决方案等相关能力，"
                "包括优势技术、人才队伍、研发能力、实施能力、服务保障、应用效果等。")
NOTES = ("说明：1.请用A4幅面编辑，双面打印并胶装。",
         "2.正文字体为3号仿宋体，单倍行距；一级标题3号黑体；二级标题3号楷体。",
         "3.表格中带*标记项目中的客观指标请根据实际情况填写并提供截图、汇总表、复印件等相关证明材料，"
         "如果没有可填“无”；列表数据庞大的，可提供电子版。",
         "4.申报书中需根据实际情况添加目录（粒度应至少达到三级，并包括证明材料细分目录等内容）。",
         "5.申报主体相关资质如为联合体单位时应使用牵头单位资质。")


# ---------------------------------------------------------------- values as printed

def texts_for(values: Mapping[str, Any], *, form: Form) -> dict[str, Any]:
    """Typed values as an enterprise would write them into the blanks: figures with
    thousands separators, 是/否 and the chosen options for the boxes."""
    texts: dict[str, Any] = {}
    for key, value in values.items():
        f = form.fields.get(key)
        if f is None or value is None or value == "" or value == []:
            continue
        if f.kind is Kind.MULTI:
            texts[key] = tuple(value)
        else:
            texts[key] = format_field(f, value, thousands=f.is_numeric)
    return texts


def _value_runs(f: Field, texts: Mapping[str, Any]) -> list[Run]:
    """The blank after a label, or the boxes of a 是/否, choice or multiple choice."""
    value = texts.get(f.key)
    if f.kind in (Kind.BOOL, Kind.CHOICE, Kind.MULTI):
        options = ("是", "否") if f.kind is Kind.BOOL else f.choices
        chosen = set(value) if f.kind is Kind.MULTI and value else {value}
        return [Run(" ".join(f"{CHECKED if o in chosen else UNCHECKED}{o}" for o in options))]
    text = str(value) if value not in (None, "") else BLANK
    return [Run(text, blank=True)]


def field_line(keys: Sequence[str], texts: Mapping[str, Any], *, form: Form) -> list[Run]:
    """``label：____unit`` for one key; for several keys sharing one label,
    ``label：____、____unit``."""
    fields = [form.fields[k] for k in keys]
    runs = [Run(f"{fields[0].printed_label}：")]
    for i, f in enumerate(fields):
        if i:
            runs.append(Run("、"))
        runs += _value_runs(f, texts)
    if fields[0].kind not in (Kind.BOOL, Kind.CHOICE, Kind.MULTI):
        runs.append(Run(fields[-1].unit))
    return runs


_PLACEHOLDER = re.compile(r"\{([a-z0-9_,]+)\}")


def _line(template: str, texts: Mapping[str, Any], form: Form) -> Paragraph:
    runs: list[Run] = []
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        if match.start() > position:
            runs.append(Run(template[position:match.start()]))
        runs += field_line(match.group(1).split(","), texts, form=form)
        position = match.end()
    if position < len(template):
        runs.append(Run(template[position:]))
    return Paragraph(tuple(runs))


def _section_lines(section: Section) -> tuple[str, ...]:
    return section.form_lines or tuple(f"{{{f.key}}}" for f in section.fields)


# ---------------------------------------------------------------- the tables

def _label(text: str, **kw: Any) -> Cell:
    return Cell((Run(text),), label=True, **kw)


def _value(f: Field, texts: Mapping[str, Any], **kw: Any) -> Cell:
    return Cell(tuple(_value_runs(f, texts)), **kw)


def _pair(f: Field, texts: Mapping[str, Any], span: int = 1) -> tuple[Cell, Cell]:
    value = _value(f, texts, colspan=span)
    if f.kind is Kind.PERCENT and texts.get(f.key):  # 负债率 has no unit in its label
        value = Cell((*value.runs, Run("%")), colspan=span)
    return _label(f.printed_label), value


def _cells(form: Form, texts: Mapping[str, Any], *pairs: tuple[str, int]) -> tuple[Cell, ...]:
    """The label and value cells of each (key, value span) the form declares; a pair it does not
    declare is left out."""
    return tuple(cell for key, span in pairs if key in form.fields for cell in _pair(form.fields[key], texts, span))


def _rows_of_the_rest(form: Form, code: str, laid_out: set[str], texts: Mapping[str, Any],
                      columns: int) -> list[tuple[Cell, ...]]:
    """A row (label, value across the other columns) for each field of section ``code`` that the
    table's fixed layout does not place: what a later notice adds to 表一 or 表二(1)."""
    return [_pair(form.fields[key], texts, columns - 1) for key in form.keys_of(code) if key not in laid_out]


_ENTERPRISE_ROWS: tuple[tuple[tuple[str, int], ...], ...] = (
    (("enterprise_name", 4),), (("credit_code", 2), ("founded_on", 1)), (("address", 4),))
_CONTACT_ROWS: tuple[tuple[tuple[str, int], ...], ...] = (
    (("contact_name", 1), ("contact_phone", 1)), (("contact_title", 1), ("contact_mobile", 1)),
    (("contact_fax", 1), ("contact_email", 1)))
_FIGURE_ROWS: tuple[tuple[tuple[str, int], ...], ...] = (
    (("total_assets", 2), ("debt_ratio", 1)), (("credit_rating", 2), ("sales_last_year", 1)),
    (("tax_last_year", 2), ("profit_last_year", 1)))


def _enterprise_table(form: Form, texts: Mapping[str, Any], intro: str) -> Table:
    rows: list[tuple[Cell, ...]] = [(_label("企业基本信息", colspan=5),)]
    rows += [cells for pairs in _ENTERPRISE_ROWS if (cells := _cells(form, texts, *pairs))]
    contacts = [cells for pairs in _CONTACT_ROWS if (cells := _cells(form, texts, *pairs))]
    if contacts:
        rows.append((_label("联系人", rowspan=len(contacts)), *contacts[0]))
        rows += contacts[1:]
    rows += [cells for pairs in _FIGURE_ROWS if (cells := _cells(form, texts, *pairs))]
    laid_out = {key for table in (_ENTERPRISE_ROWS, _CONTACT_ROWS, _FIGURE_ROWS) for pairs in table
                for key, _ in pairs}
    rows += _rows_of_the_rest(form, "一", laid_out, texts, 5)
    rows.append((_label("企业简介"), Cell((Run(intro or INTRO_PROMPT, blank=bool(intro)),), colspan=4)))
    return Table(5, tuple(rows), (3.0, 2.0, 4.2, 3.0, 4.2))


def _declaration_table(year: int, city: str) -> Table:
    recommender = RECOMMENDER_TEXT.format(year=year)
    if city:
        recommender = f"{city}：{recommender}"
    return Table(2, ((_label(PLEDGE_TITLE), Cell((Run(PLEDGE_TEXT + " " + PLEDGE_SIGN),))),
                     (_label(RECOMMENDER_TITLE), Cell((Run(recommender + " " + RECOMMENDER_SIGN),)))),
                 (3.0, 13.4))


_PLATFORM_KEYS = ("platform_name", "builder", "built_on", "investment")
# 表二(1)'s choices, each with the field it names (合作方, 服务商) in the same cell.
_CHOICES = (("build_mode", "build_partner"), ("iaas_mode", "iaas_provider"))


def _choice_row(form: Form, key: str, detail_key: str, texts: Mapping[str, Any]) -> tuple[Cell, Cell]:
    runs = _value_runs(form.fields[key], texts)
    detail = form.fields.get(detail_key)
    if detail is not None:
        runs += [Run(f"  {detail.printed_label}："), *_value_runs(detail, texts)]
    return _label(form.fields[key].printed_label), Cell(tuple(runs))


def _platform_table(form: Form, texts: Mapping[str, Any]) -> Table:
    rows: list[tuple[Cell, ...]] = [_pair(form.fields[key], texts) for key in _PLATFORM_KEYS if key in form.fields]
    rows += [_choice_row(form, key, detail, texts) for key, detail in _CHOICES if key in form.fields]
    laid_out = {*_PLATFORM_KEYS, *(key for pair in _CHOICES for key in pair if pair[0] in form.fields)}
    rows += _rows_of_the_rest(form, "二(1)", laid_out, texts, 2)
    return Table(2, tuple(rows), (3.6, 12.8))


# ---------------------------------------------------------------- the whole 申报书

def _cover(title: str, texts: Mapping[str, Any], city: str, date: str) -> list[Block]:
    def line(label: str, value: str) -> Paragraph:
        return Paragraph((Run(f"{label}："), Run(value or BLANK, blank=True)), "cover")

    return [Paragraph((Run(title),), "title"), Paragraph((Run("申报书"),), "title"),
            line("项 目 名 称", texts.get("platform_name", "")),
            line("申报单位（盖章）", texts.get("enterprise_name", "")),
            line("推荐单位（盖章）", city), line("申 报 日 期", date),
            Paragraph((Run("工业和信息化部编制"),), "center"), PageBreak()]


def _section_blocks(form: Form, spec: HeadingSpec, texts: Mapping[str, Any],
                    extra: Mapping[str, str]) -> list[Block]:
    blocks: list[Block] = [Heading(spec.level, spec.text)]
    if spec.section is None:
        if spec.prompt:
            blocks.append(Paragraph((Run(spec.prompt),), "note"))
            blocks.append(Paragraph((Run(extra.get(spec.number, "")),)))
        return blocks
    section = form.sections_by_code[spec.section]
    if section.note:
        blocks.append(Paragraph((Run(f"（{section.note}）"),), "note"))
    blocks += [_line(line, texts, form) for line in _section_lines(section)]
    blocks.append(Paragraph((Run("补充说明和分类详细介绍："),), "note"))
    blocks.append(Paragraph((Run(extra.get(spec.number, "")),)))
    return blocks


def form_blocks(texts: Mapping[str, Any] | None = None, *, form: Form, title: str = "2022年跨行业跨领域工业互联网平台",
                year: int = 2022, city: str = "", date: str = "", intro: str = "",
                extra: Mapping[str, str] | None = None, contents: bool = True) -> list[Block]:
    """``form``'s 申报书 as blocks. ``texts``: what is written into each field's blank (see
    :func:`texts_for`); missing keys stay blank. ``extra``: prose per heading number.
    ``contents=False`` leaves out the 目录 (as some uploaded documents do)."""
    texts = texts or {}
    extra = extra or {}
    blocks = _cover(title, texts, city, date)
    if contents:
        blocks += [Paragraph((Run("目  录"),), "title"), Contents(4), PageBreak()]
    for spec in outline(form):
        if spec.section == "一":
            blocks += [Heading(1, spec.text), _enterprise_table(form, texts, intro), _declaration_table(year, city),
                       PageBreak()]
        elif spec.section == "二(1)":
            blocks += [Heading(2, spec.text), _platform_table(form, texts)]
        else:
            blocks += _section_blocks(form, spec, texts, extra)
    blocks += [Paragraph((Run(note),), "note") for note in NOTES]
    return blocks
