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

from .credit_code import is_valid_org_code, normalize_code, org_code_check_char
from .declaration import Form
from .findings import Finding, Severity, echo
from .form_reader import FormReading, ReadField, ReadStatus
from .indicators import Field, Kind
from .parsing import format_field

__all__ = ["Match", "Comparison", "RULE_PREFIX", "DOCUMENT_FIELD", "BLANK_DOCUMENT_SHARE", "UNREAD_RULE", "same_value",
           "compare", "blank_document_message", "unread", "unread_message", "document_findings", "fill_values",
           "shown"]

RULE_PREFIX = "document:"
DOCUMENT_FIELD = "document"  # where the document's own findings are shown (not a field)
MIN_TOC_LEVELS = 3  # 附件2 注4: 目录粒度应至少达到三级
CREDIT_CODE_LENGTH, ORG_CODE_LENGTH = 18, 9
# A document is taken for the blank template when, of the fields the application has filled in
# and the document has a place for, it gives (or tries to give) fewer than this share.
BLANK_DOCUMENT_SHARE = Fraction(1, 10)
# One warning for every field the document leaves blank, unreadable or out while the application
# holds a value: acknowledged once, like each difference (its message names the fields, so a new
# document that leaves other fields unread asks again).
UNREAD_RULE = RULE_PREFIX + "unread"
UNREAD_NAMED = 20  # fields named in that warning; the panel lists them all


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
        return _same_code(normalize_code(document), normalize_code(saved))
    if f.kind is Kind.PHONE:
        return re.sub(r"\D", "", str(document)) == re.sub(r"\D", "", str(saved))
    if f.kind in (Kind.TEXT, Kind.EMAIL):
        return _squash(document) == _squash(saved)
    return bool(document == saved)


def _same_code(document: str, saved: str) -> bool:
    """The 申报书's own label is 组织机构代码: its 9 characters are characters 9-17 of the 18 of the
    统一社会信用代码 (GB 32100-2015 embeds the GB 11714 code there), so they agree."""
    if len(document) == ORG_CODE_LENGTH and len(saved) == CREDIT_CODE_LENGTH:
        return document == saved[8:17]
    if len(document) == CREDIT_CODE_LENGTH and len(saved) == ORG_CODE_LENGTH:
        return document[8:17] == saved
    return document == saved


def _code_note(document: Any, saved: Any) -> str:
    """What to add to a difference of the code when the document prints a 9-character one."""
    code, credit = normalize_code(document), normalize_code(saved)
    if len(code) != ORG_CODE_LENGTH:
        return ""
    note = "（9位组织机构代码"
    if len(credit) == CREDIT_CODE_LENGTH:
        note += f"，应与统一社会信用代码第9-17位“{credit[8:17]}”相同"
    body = code[:8]
    if re.fullmatch(r"[0-9A-Z]{8}", body) and not is_valid_org_code(code):
        note += f"；其校验位应为“{org_code_check_char(body)}”，当前为“{code[8]}”"
    return note + "）"


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


def compare(reading: FormReading, values: Mapping[str, Any], *, form: Form) -> list[Comparison]:
    """Every field ``form`` declares, in the form's order."""
    result = []
    for section in form.sections:
        for f in section.fields:
            read = reading.fields.get(f.key) or ReadField(f, ReadStatus.MISSING)
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
        findings.append(("toc", f"申报书目录只有{s.toc_levels}级标题（按正文中实有的标题计，附件不计；"
                                "附件2 注4：目录粒度应至少达到三级），请企业补充后重新上传"))
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


def unread(comparisons: list[Comparison]) -> list[Comparison]:
    """The fields the application holds a value for that the document leaves blank, cannot be
    read in, or does not have (its place not found)."""
    return [c for c in comparisons if c.match in (Match.NOT_IN_DOCUMENT, Match.UNREADABLE, Match.MISSING)
            and not _blank(c.saved)]


def unread_message(comparisons: list[Comparison]) -> str | None:
    """The one warning for :func:`unread` fields; None when there are none, or when the document
    is taken for the blank template (that warning says it already)."""
    fields = unread(comparisons)
    if not fields or blank_document_message(comparisons):
        return None
    labels = "、".join(c.field.label for c in fields[:UNREAD_NAMED])
    more = "等" if len(fields) > UNREAD_NAMED else ""
    return f"申报书中 {len(fields)} 项未能读取，请人工核对：{labels}{more}（申报书中未填、无法识别或未找到，申报表中已填写）"


def _difference(c: Comparison) -> Finding:
    note = _code_note(c.read.value, c.saved) if c.field.kind is Kind.CREDIT_CODE else ""
    return Finding(c.field.key, Severity.WARNING, f"「{c.field.label}」申报书中为 {c.document_text}{note}，"
                                                  f"申报表中为 {c.saved_text}，两者不一致，请核实", RULE_PREFIX + c.field.key)


def document_findings(reading: FormReading | None, values: Mapping[str, Any], *, form: Form) -> list[Finding]:
    """A warning for each figure the document and the application disagree on, one for the
    figures it leaves unread, one for a document left blank, and one for each of the document's
    own rules it breaks. None without a document read."""
    if reading is None:
        return []
    findings = []
    comparisons = compare(reading, values, form=form)
    blank = blank_document_message(comparisons)
    if blank:
        findings.append(Finding(DOCUMENT_FIELD, Severity.WARNING, blank, RULE_PREFIX + "blank"))
    findings += [_difference(c) for c in comparisons if c.match is Match.DIFFERENT]
    not_read = unread_message(comparisons)
    if not_read:
        findings.append(Finding(DOCUMENT_FIELD, Severity.WARNING, not_read, UNREAD_RULE))
    return findings + _structure_findings(reading)


def fill_values(reading: FormReading, values: Mapping[str, Any], *, form: Form) -> dict[str, Any]:
    """For each field the application leaves empty and the document has: the document's value."""
    return {c.field.key: c.read.value for c in compare(reading, values, form=form) if c.match is Match.FILLABLE}
