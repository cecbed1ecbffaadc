"""Reading an uploaded 申报书: the text of the document (lines, a table row as its cells joined by
tabs) becomes each declared field's value, read with the form's own rules (:mod:`.parsing`).

Where to look comes from the declaration: a field's printed label (``Field.printed_labels``),
whether it sits in a table cell (表一, 表二(1)) or after a label in a line with a blank
(表二(2)), and under which heading of 附件2 (:func:`.form_layout.outline`), so that the two
「覆盖的行业数量」 of 3.1 and 4.2 are told apart. Labels match loosely: spaces anywhere,
full-width or half-width signs, any kind of quotes, 杀手铜/杀手锏, 其它/其他.

A field is found with a value, found blank (the label is there, the blank is not filled),
found unreadable (e.g. 「约500」, with the form's message), or not found. The fields are those
of the round's declared :class:`~.declaration.Form`, which every reading is given. Pure.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any

from .declaration import Form
from .findings import ParseError
from .form_blanks import (
    STRIP,
    boxes,
    compiled,
    looks_like_a_figure,
    loose_pattern,
    numeric_raw,
    options_go_on,
)
from .form_contents import (
    TOC_ENTRY,
    Entry,
    counted_levels,
    entry_title,
    is_annex,
    numbering_class,
    text_entries,
)
from .form_layout import AFTER_FIGURES, TABLE_WORDS, HeadingSpec, outline
from .form_marks import EMPHASIS, readable_marks
from .indicators import NUMERIC_KINDS, Field, Kind, Section
from .parsing import format_field, parse_field, parse_multi

__all__ = ["DocumentText", "ReadStatus", "ReadField", "Structure", "FormReading", "read_form",
           "numbering_class", "past_the_figures"]


@dataclass(frozen=True)
class DocumentText:
    """What the files side extracted from a .docx or a PDF."""

    lines: tuple[str, ...]
    toc_field: bool = False  # .docx: a TOC field or a 目录 content control
    toc_field_levels: int = 9  # .docx: the TOC field's \\o "1-N"
    toc_entries: tuple[tuple[int, int], ...] = ()  # .docx: (line, level) of 目录 entry paragraphs (toc N)
    headings: tuple[tuple[int, int], ...] = ()  # .docx: (line, level) of headings (heading N, outline level)
    lefts: tuple[float, ...] = ()  # PDF: where each line starts (points); empty where not known
    pages: int = 0  # PDF: pages read
    truncated: str = ""  # why not all of the document was read, for the clerk
    read_to_end: bool = True  # False: the rest was not needed (a PDF after the figures) or not read


class ReadStatus(StrEnum):
    VALUE = "value"
    BLANK = "blank"
    UNREADABLE = "unreadable"
    MISSING = "missing"

    @property
    def label(self) -> str:
        return {"value": "已读取", "blank": "申报书中未填", "unreadable": "无法识别",
                "missing": "未找到"}[self.value]


@dataclass
class ReadField:
    field: Field  # as the round's form declares it
    status: ReadStatus
    raw: str = ""  # the text as the document has it
    value: Any = None
    message: str = ""  # why it could not be read (the form's own message)

    @property
    def key(self) -> str:
        return self.field.key

    @property
    def text(self) -> str:
        return format_field(self.field, self.value) if self.status is ReadStatus.VALUE else ""


@dataclass
class Structure:
    """附件2's rules for the document itself that can be checked."""

    toc: bool = False
    toc_levels: int = 0
    pledge: bool = False  # 真实性承诺
    recommender: bool = False  # 推荐单位 block


@dataclass
class FormReading:
    fields: dict[str, ReadField]
    structure: Structure = field(default_factory=Structure)
    pages: int = 0
    truncated: str = ""

    def values(self) -> dict[str, Any]:
        return {k: r.value for k, r in self.fields.items() if r.status is ReadStatus.VALUE}

    def to_json(self) -> dict[str, Any]:
        fields = {k: [r.status.value, r.raw[:200], r.text, r.message]
                  for k, r in self.fields.items() if r.status is not ReadStatus.MISSING}
        return {"fields": fields, "structure": vars(self.structure).copy(), "pages": self.pages,
                "truncated": self.truncated}

    @classmethod
    def from_json(cls, data: dict[str, Any], *, form: Form) -> FormReading:
        """A kept reading, as ``form`` (its application's round's) declares the fields."""
        fields = {k: ReadField(f, ReadStatus.MISSING) for k, f in form.fields.items()}
        for key, (status, raw, text, message) in (data.get("fields") or {}).items():
            if key not in form.fields:
                continue
            read = ReadField(form.fields[key], ReadStatus(status), raw, None, message)
            if read.status is ReadStatus.VALUE:
                try:
                    read.value = parse_field(form.fields[key], text)
                except ParseError as err:  # the declaration changed since it was read
                    read.status, read.message = ReadStatus.UNREADABLE, err.message
            fields[key] = read
        structure = Structure(**{k: v for k, v in (data.get("structure") or {}).items()
                                 if k in Structure.__dataclass_fields__})
        return cls(fields, structure, int(data.get("pages") or 0), str(data.get("truncated") or ""))


# ---------------------------------------------------------------- headings and regions

def _number_pattern(spec: HeadingSpec) -> str:
    if spec.level == 1:
        return rf"{spec.number}\s*[、.．]"
    if spec.level == 2:
        return rf"[(（]\s*{spec.number}\s*[)）]"
    if spec.level == 3:
        return rf"{spec.number}\s*[.．、](?!\s*\d)"
    major, minor = spec.number.split(".")
    return rf"{major}\s*[.．]\s*{minor}(?!\d)"


@lru_cache(maxsize=64)
def _heading_regex(spec: HeadingSpec) -> re.Pattern[str]:
    number = _number_pattern(spec)
    if spec.level <= 2:  # 申报企业基本信息 … are distinctive without their numbers
        number = f"(?:{number})?"
    return re.compile(rf"^[\s□☐☑*#{EMPHASIS}]*{number}\s*{loose_pattern(spec.title)}", re.IGNORECASE)


def _find_headings(lines: list[str], specs: tuple[HeadingSpec, ...]) -> dict[HeadingSpec, int]:
    """The line each heading of 附件2 starts at, in order; TOC entries are skipped."""
    found: dict[HeadingSpec, int] = {}
    start = 0
    for spec in specs:
        regex = _heading_regex(spec)
        for index in range(start, len(lines)):
            line = lines[index]
            if regex.match(line) and not TOC_ENTRY.fullmatch(line.strip()):
                found[spec] = index
                start = index + 1
                break
    return found


def past_the_figures(lines: list[str]) -> bool:
    """Whether ``lines`` (one page) hold the heading after the last figure, 「（3）工业互联网平台技术
    架构」: a long document need not be read further."""
    regex = _heading_regex(AFTER_FIGURES)
    return any(regex.match(line) and not TOC_ENTRY.fullmatch(line.strip()) for line in lines)


def _regions(lines: list[str], found: dict[HeadingSpec, int],
             specs: tuple[HeadingSpec, ...]) -> dict[str, tuple[int, int]]:
    """Per declared section: the lines under its heading (``[first, end)``)."""
    positions = sorted(found.values())
    regions: dict[str, tuple[int, int]] = {}
    previous_end = 0
    for spec in specs:
        if spec.section is None:
            if spec in found:
                previous_end = found[spec] + 1
            continue
        # a heading not found: from the last heading found before it
        first = found[spec] + 1 if spec in found else previous_end
        end = next((p for p in positions if p >= first), len(lines))
        regions[spec.section] = (first, end)
        previous_end = first
    return regions


# ---------------------------------------------------------------- finding a field's text


@dataclass
class _Area:
    """The text of one section, and every label printed in it (for the longer-label rule)."""

    text: str
    labels: list[tuple[int, int, str]]  # (start, end, label text) of every label occurrence


def _section_labels(section: Section) -> list[str]:
    texts = {label for f in section.fields for label, _ in f.printed_labels}
    texts |= set(f.form_after for f in section.fields if f.form_after)
    return sorted(texts | set(TABLE_WORDS.get(section.code, ())), key=len, reverse=True)


def _area(section: Section, text: str) -> _Area:
    occurrences = []
    for label in _section_labels(section):
        occurrences += [(m.start(), m.end(), label) for m in compiled(loose_pattern(label)).finditer(text)]
    return _Area(text, occurrences)


def _inside_longer(area: _Area, start: int, end: int, label: str) -> bool:
    """An occurrence of 「工业企业数」 inside 「付费工业企业数」 is not the field's."""
    return any(s <= start and end <= e and len(other) > len(label) and other != label
               for s, e, other in area.labels)


def _line_at(text: str, position: int) -> tuple[int, int]:
    start = text.rfind("\n", 0, position) + 1
    end = text.find("\n", position)
    return start, (len(text) if end < 0 else end)


def _next_line(text: str, position: int) -> str:
    _, end = _line_at(text, position)
    if end >= len(text):
        return ""
    _, after = _line_at(text, end + 1)
    return text[end + 1:after]


def _occurrences(f: Field, area: _Area) -> Iterator[tuple[re.Match[str], int]]:
    """Where the field's label stands in the area, with the blank it names, in text order."""
    hits = []
    for label, blank in f.printed_labels:
        for m in compiled(loose_pattern(label)).finditer(area.text):
            if _inside_longer(area, m.start(), m.end(), label):
                continue
            if f.form_after and not _follows(area.text, m, f):
                continue
            hits.append((m, blank))
    hits.sort(key=lambda hit: hit[0].start())
    return iter(hits)


def _follows(text: str, m: re.Match[str], f: Field) -> bool:
    """「其中牵头制定」 of 国家标准 is the first one after 「国家标准」 on its line."""
    line_start, _ = _line_at(text, m.start())
    before = text[line_start:m.start()]
    earlier = list(compiled(loose_pattern(f.printed_label)).finditer(before))
    if earlier:
        before = before[earlier[-1].end():]
    return bool(compiled(loose_pattern(f.form_after)).search(before))


# ---- table cells (表一, 表二(1))

def _stops(section: Section) -> re.Pattern[str]:
    labels = "|".join(loose_pattern(label) for label in _section_labels(section))
    return compiled(rf"(?:(?<=\s)|^)(?:{labels})")


def _at_cell_start(text: str, m: re.Match[str]) -> bool:
    before_ok = m.start() == 0 or text[m.start() - 1] in "\n\t \u3000□☐"
    after = text[m.end():m.end() + 1]
    return before_ok and not (after and "\u4e00" <= after <= "\u9fff")


def _cell_value(area: _Area, m: re.Match[str], stops: re.Pattern[str]) -> str | None:
    text = area.text
    _, line_end = _line_at(text, m.end())
    rest = text[m.end():line_end].lstrip(" :：*\u3000")
    if rest.startswith("\t"):
        value = rest[1:].split("\t")[0]
    else:
        if not rest.strip():  # label alone on its line (a PDF's cells one under another)
            rest = _next_line(text, m.end())
        stop = stops.search(rest)
        value = rest[:stop.start()] if stop else rest.split("\t")[0]
    # the next cell is another label (an empty value cell, or 联系人 before 姓名)
    label = stops.match(value.strip())
    return "" if label and not value.strip()[label.end():].strip(STRIP) else value


_BOXED = (Kind.BOOL, Kind.CHOICE, Kind.MULTI)
_MAX_CONTINUED = 3  # lines a label's boxes may go on to


def _segment(area: _Area, m: re.Match[str], f: Field) -> str:
    _, line_end = _line_at(area.text, m.end())
    segment = area.text[m.end():line_end]
    if f.kind in _BOXED:
        segment = _continued(area.text, line_end, segment, f)
    if not segment.strip(STRIP) and (f.is_numeric or f.kind is Kind.MULTI):
        segment = _next_line(area.text, m.end())  # a PDF line broken after the label
    return segment


def _continued(text: str, line_end: int, segment: str, f: Field) -> str:
    """The boxes of a 是/否 or a choice with the lines they go on to (a PDF's line broken among
    them); a .docx paragraph holds them all on one line."""
    for _ in range(_MAX_CONTINUED):
        if line_end >= len(text):
            break
        _, after = _line_at(text, line_end + 1)
        following = text[line_end + 1:after]
        if not options_go_on(segment, following, f):
            break
        segment, line_end = f"{segment} {following}", after
    return segment


# ---------------------------------------------------------------- one field

def _parsed(f: Field, raw: str) -> ReadField:
    raw = raw.replace(EMPHASIS, "").strip(STRIP).strip("_＿ ")
    if not raw:
        return ReadField(f, ReadStatus.BLANK)
    try:
        value = parse_field(f, raw) if f.kind is not Kind.MULTI else parse_multi(raw, f.label, f.choices)
    except ParseError as err:
        return ReadField(f, ReadStatus.UNREADABLE, raw, None, err.message)
    if value is None:
        return ReadField(f, ReadStatus.BLANK, raw)
    return ReadField(f, ReadStatus.VALUE, raw, value)


def _candidate(f: Field, area: _Area, m: re.Match[str], blank: int,
               stops: re.Pattern[str] | None) -> ReadField | None:
    if f.form_cell:
        assert stops is not None  # a field printed in a cell is in a table section, which has its stops
        if not _at_cell_start(area.text, m):
            return None
        if f.kind in (Kind.CHOICE, Kind.BOOL):
            cell = _cell_value(area, m, stops)
            boxed = boxes(cell or "", f) if cell is not None else None
            return _boxed(f, boxed)
        raw = _cell_value(area, m, stops)
        return None if raw is None else _parsed(f, raw)
    segment = _segment(area, m, f)
    if f.kind in _BOXED:
        return _boxed(f, boxes(segment, f))
    if f.kind in NUMERIC_KINDS:
        raw = numeric_raw(segment, f, blank)
        cleaned = raw.strip("_＿ ")
        if cleaned and not looks_like_a_figure(cleaned):
            return None  # the label in a sentence, not before a blank
        return _parsed(f, raw)
    return _parsed(f, segment.split("\t")[0])


def _boxed(f: Field, boxed: tuple[str, str, str] | None) -> ReadField | None:
    if boxed is None:
        return None
    status, raw, why = ReadStatus(boxed[0]), boxed[1], boxed[2]
    if status is ReadStatus.UNREADABLE and why == "emphasis":
        return ReadField(f, status, raw, None, f"「{f.label}」未打勾（√、☑），只有“{raw}”加粗或加下划线，"
                                                   "无法确定所选项，请人工核对")
    if status is ReadStatus.UNREADABLE:
        return ReadField(f, status, raw, None, f"「{f.label}」同时勾选了{raw}，请只选一项")
    if status is ReadStatus.BLANK:
        return ReadField(f, status)
    return _parsed(f, raw)


_RANK = {ReadStatus.VALUE: 0, ReadStatus.BLANK: 1, ReadStatus.UNREADABLE: 2}


def _read_field(f: Field, area: _Area, stops: re.Pattern[str] | None) -> ReadField:
    best: ReadField | None = None
    for m, blank in _occurrences(f, area):
        found = _candidate(f, area, m, blank, stops)
        if found is not None and (best is None or _RANK[found.status] < _RANK[best.status]):
            best = found
            if best.status is ReadStatus.VALUE:
                break
    return best or ReadField(f, ReadStatus.MISSING)


# ---------------------------------------------------------------- the document's own rules

def _contents(doc: DocumentText, lines: list[str], body_start: int) -> tuple[bool, int]:
    """Whether the document has a 目录, and how many levels of it the body has
    (:mod:`.form_contents`)."""
    if doc.toc_entries:
        entries = [Entry(line, level, entry_title(lines[line])) for line, level in doc.toc_entries]
        return True, counted_levels(lines, entries, read_to_end=doc.read_to_end)
    found, entries = text_entries(lines, doc.lefts, body_start)
    if entries:
        return True, counted_levels(lines, entries, read_to_end=doc.read_to_end)
    if doc.toc_field:
        return True, len({level for line, level in doc.headings
                          if level <= doc.toc_field_levels and not is_annex(lines[line])})
    return found, 0


def _structure(doc: DocumentText, lines: list[str], text: str, body_start: int) -> Structure:
    toc, levels = _contents(doc, lines, body_start)
    pledge = any(compiled(loose_pattern(w)).search(text) for w in ("真实性承诺", "如有不实"))
    recommender = any(compiled(loose_pattern(w)).search(text) for w in ("同意推荐", "推荐单位公章", "推荐意见"))
    return Structure(toc, levels, pledge, recommender)


# ---------------------------------------------------------------- the whole document

def read_form(doc: DocumentText, *, form: Form) -> FormReading:
    """Every field ``form`` declares as the document has it, and the document's own rules."""
    lines = [readable_marks(line.replace("\r", "")) for line in doc.lines]
    specs = outline(form)
    found = _find_headings(lines, specs)
    regions = _regions(lines, found, specs)
    fields: dict[str, ReadField] = {}
    for section in form.sections:
        first, end = regions.get(section.code, (0, len(lines)))
        area = _area(section, "\n".join(lines[first:end]))
        stops = _stops(section) if section.table else None
        for f in section.fields:
            fields[f.key] = _read_field(f, area, stops)
    body_start = min(found.values(), default=len(lines))
    structure = _structure(doc, lines, "\n".join(lines), body_start)
    return FormReading(fields, structure, doc.pages, doc.truncated)
