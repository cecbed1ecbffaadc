"""The uploaded 申报书 against the saved application: what differs (a warning per field, so that
the experts never read one figure while the roster prints another), what the document can fill
in, and the document's own rules (目录, 真实性承诺, 推荐单位). Pure."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any

from .credit_code import normalize_code
from .findings import Finding, Severity, echo
from .form_reader import FormReading, ReadField, ReadStatus
from .indicators import SECTIONS, Field, Kind
from .parsing import format_field

__all__ = ["Match", "Comparison", "RULE_PREFIX", "DOCUMENT_FIELD", "BLANK_DOCUMENT_SHARE", "same_value",
           "compare", "blank_document_message", "document_findings", "fill_values", "shown"]

RULE_PREFIX = "document:"
DOCUMENT_FIELD = "document"  # where the document's own findings are shown (not a field)
MIN_TOC_LEVELS = 3  # 附件2 注4: 目录粒度应至少达到三级
# A document is taken for the blank template when, of the fields the application has filled in
# and the document has a place for, it gives (or tries to give) fewer than this share.
BLANK_DOCUMENT_SHARE = Fraction(1, 10)


class Match(StrEnum):
    SAME = "same"
    DIFFERENT = "different"
    FILLABLE = "fillable"  # the document has it, the application not yet
    NOT_IN_DOCUMENT = "not_in_document"  # the application has it, the document's blank is empty
    BOTH_BLANK = "both_blank"
    UNREADABLE = "unreadable"
    MISSING = "missing"

    @property
    def label(self) -> str:
        return {"same": "一致", "different": "不一致", "fillable": "申报表未填", "not_in_document": "申报书中未填",
                "both_blank": "均未填", "unreadable": "无法识别", "missing": "未找到"}[self.value]


@dataclass(frozen=True)
class Comparison:
    field: Field
    read: ReadField
    saved: Any
    match: Match

    @property
    def document_text(self) -> str:
        if self.read.status is ReadStatus.VALUE:
            return shown(self.field, self.read.value)
        return self.read.raw

    @property
    def unreadable_text(self) -> str:
        """Why the document's value was not understood, naming the field and quoting the value
        once: the reading's message does both (「label」…：“value”), except where it only counts
        (「label」不能超过N个字); then the value is quoted after it."""
        message = self.read.message or f"「{self.field.label}」无法识别"
        return message if "“" in message else f"{message}：“{echo(self.read.raw)}”"

    @property
    def saved_text(self) -> str:
        return shown(self.field, self.saved)


def shown(f: Field, value: Any) -> str:
    """A value as the pages print it: figures with separators and their unit."""
    if value is None or value == [] or value == ():
        return ""
    text = format_field(f, value, thousands=f.is_numeric)
    if f.is_numeric and f.unit:
        text += f.unit if f.unit == "%" else f" {f.unit}"
    return text


def _squash(text: Any) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text))).casefold()


def same_value(f: Field, document: Any, saved: Any) -> bool:
    """Equal as the form means them: 12,345 = 12345, 1.50 = 1.5, （ = (, spaces do not count."""
    if f.is_numeric:
        return Decimal(document) == Decimal(saved)
    if f.kind is Kind.MULTI:
        return set(document) == set(saved)
    if f.kind is Kind.CREDIT_CODE:
        return normalize_code(document) == normalize_code(saved)
    if f.kind is Kind.PHONE:
        return re.sub(r"\D", "", str(document)) == re.sub(r"\D", "", str(saved))
    if f.kind in (Kind.TEXT, Kind.EMAIL):
        return _squash(document) == _squash(saved)
    return document == saved


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == ()


def _match(f: Field, read: ReadField, saved: Any) -> Match:
    if read.status is ReadStatus.MISSING:
        return Match.MISSING
    if read.status is ReadStatus.UNREADABLE:
        return Match.UNREADABLE
    if read.status is ReadStatus.BLANK:
        return Match.BOTH_BLANK if _blank(saved) else Match.NOT_IN_DOCUMENT
    if _blank(saved):
        return Match.FILLABLE
    return Match.SAME if same_value(f, read.value, saved) else Match.DIFFERENT


def compare(reading: FormReading, values: Mapping[str, Any]) -> list[Comparison]:
    """Every declared field, in the form's order."""
    result = []
    for section in SECTIONS:
        for f in section.fields:
            read = reading.fields.get(f.key) or ReadField(f.key, ReadStatus.MISSING)
            saved = values.get(f.key)
            result.append(Comparison(f, read, saved, _match(f, read, saved)))
    return result


def _structure_findings(reading: FormReading) -> list[Finding]:
    s = reading.structure
    findings = []
    if not s.toc:
        findings.append(("toc", "申报书中未找到目录（附件2 注4：申报书需添加目录，粒度至少达到三级），请企业补充后重新上传"))
    elif not s.toc_levels:
        findings.append(("toc", "申报书目录中未能识别出分级标题（附件2 注4：目录粒度应至少达到三级），请核对目录"))
    elif s.toc_levels < MIN_TOC_LEVELS:
        findings.append(("toc", f"申报书目录只有{s.toc_levels}级标题（附件2 注4：目录粒度应至少达到三级），"
                                "请企业补充后重新上传"))
    if not s.pledge:
        findings.append(("pledge", "申报书中未找到“真实性承诺”栏（法定代表人签章、公章），请企业补充后重新上传"))
    if not s.recommender:
        findings.append(("recommender", "申报书中未找到“推荐单位”意见栏（同意推荐，推荐单位公章）"))
    return [Finding(DOCUMENT_FIELD, Severity.WARNING, message, RULE_PREFIX + rule) for rule, message in findings]


def blank_document_message(comparisons: list[Comparison]) -> str | None:
    """What to say when the document leaves (almost) every field the application has filled in
    empty, as the unfilled template does: a blank is found where the application has a value,
    and a value (or something unreadable) in fewer than :data:`BLANK_DOCUMENT_SHARE` of them.
    A document whose places are not found at all (another layout) is not called blank."""
    empty = sum(c.match is Match.NOT_IN_DOCUMENT for c in comparisons)
    given = sum(c.match in (Match.SAME, Match.DIFFERENT, Match.UNREADABLE) for c in comparisons)
    if not empty or given >= BLANK_DOCUMENT_SHARE * (empty + given):
        return None
    read = sum(c.match in (Match.SAME, Match.DIFFERENT, Match.FILLABLE) for c in comparisons)
    return (f"申报书中未填写申报数据（读取 {read} 项；申报表已填写的 {empty + given} 项中，申报书填写了 {given} 项），"
            "可能上传了空白模板；请上传填写完整的申报书")


def document_findings(reading: FormReading | None, values: Mapping[str, Any]) -> list[Finding]:
    """A warning for each figure the document and the application disagree on, for a document
    left blank, and for each of the document's own rules it breaks. None without a document read."""
    if reading is None:
        return []
    findings = []
    comparisons = compare(reading, values)
    blank = blank_document_message(comparisons)
    if blank:
        findings.append(Finding(DOCUMENT_FIELD, Severity.WARNING, blank, RULE_PREFIX + "blank"))
    for c in comparisons:
        if c.match is Match.DIFFERENT:
            findings.append(Finding(c.field.key, Severity.WARNING,
                                    f"「{c.field.label}」申报书中为 {c.document_text}，申报表中为 {c.saved_text}，"
                                    "两者不一致，请核实", RULE_PREFIX + c.field.key))
    return findings + _structure_findings(reading)


def fill_values(reading: FormReading, values: Mapping[str, Any]) -> dict[str, Any]:
    """For each field the application leaves empty and the document has: the document's value."""
    return {c.field.key: c.read.value for c in compare(reading, values) if c.match is Match.FILLABLE}
