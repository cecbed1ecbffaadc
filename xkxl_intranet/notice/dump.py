"""A :class:`~.schema.Notice` written out: as plain data (:func:`notice_data`), as a TOML file for
people to read and edit (:func:`to_toml`), and in its canonical form (:func:`canonical_json`),
whose SHA-256 is the notice's digest (:func:`notice_digest`).

The plain data is what the file holds: a field's attributes that equal ``Field``'s own defaults
are left out (the loader puts them back), so a file that spells a default out and one that
leaves it out declare the same notice and have the same digest.
"""
from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Mapping
from dataclasses import MISSING, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..domain.findings import Severity
from ..domain.indicators import Field, Section
from ..domain.review_criteria import Dimension
from ..domain.rule_kinds import LeRule, MaxRule, NearRule, RangeRule, RequiredIfRule, Rule, SumRule
from .schema import FORMAT, Notice

__all__ = [
    "RULE_KINDS",
    "SEVERITY_WORDS",
    "FIELD_ATTRIBUTES",
    "notice_data",
    "canonical_json",
    "canonical_text",
    "notice_digest",
    "text_digest",
    "to_toml",
]

# The rule kinds by the name a file gives them (and the prefix of their ids).
RULE_KINDS: dict[str, type] = {
    "sum": SumRule, "le": LeRule, "max": MaxRule, "range": RangeRule,
    "required_if": RequiredIfRule, "near": NearRule,
}
KIND_OF_RULE = {cls: name for name, cls in RULE_KINDS.items()}
# A severity as the file writes it: the words the clerk reads (错误 blocks, 警告 asks).
SEVERITY_WORDS: dict[str, Severity] = {s.label: s for s in Severity}

# Field's attributes in the file's order; ``section`` is the section the field is written in.
FIELD_ATTRIBUTES = tuple(f.name for f in fields(Field) if f.name != "section")
_FIELD_DEFAULTS = {f.name: f.default for f in fields(Field) if f.default is not MISSING}


def _plain(value: Any) -> Any:
    if isinstance(value, Severity):
        return value.label
    if isinstance(value, str):  # Kind and Source are str enums: their values
        return str(value)
    if isinstance(value, tuple | frozenset):
        return [_plain(v) for v in (sorted(value) if isinstance(value, frozenset) else value)]
    return value


def _field_data(f: Field) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in FIELD_ATTRIBUTES:
        value = getattr(f, name)
        if name in ("key", "label", "kind") or value != _FIELD_DEFAULTS.get(name, MISSING):
            data[name] = _plain(value)
    return data


def _section_data(s: Section) -> dict[str, Any]:
    data: dict[str, Any] = {"code": s.code, "title": s.title, "starred": s.starred}
    if s.table:
        data["table"] = True
    if s.note:
        data["note"] = s.note
    if s.form_lines:
        data["lines"] = list(s.form_lines)
    data["field"] = [_field_data(f) for f in s.fields]
    return data


def _rule_data(rule: Rule) -> dict[str, Any]:
    data: dict[str, Any] = {"id": rule.id, "kind": KIND_OF_RULE[type(rule)]}
    for f in fields(rule):
        if f.name not in ("id", "declared"):  # declared: the form's fields, bound, not the rule's
            data[f.name] = _plain(getattr(rule, f.name))
    return data


def _dimension_data(d: Dimension, max_score: int) -> dict[str, Any]:
    indicators = []
    for i in d.indicators:
        item: dict[str, Any] = {"key": i.key, "code": i.code, "label": i.label, "guidance": i.guidance}
        if i.max_score != max_score:
            item["max_score"] = i.max_score
        indicators.append(item)
    return {"key": d.key, "number": d.number, "label": d.label, "weight": d.default_weight,
            "requirement": d.requirement, "indicator": indicators}


def notice_data(notice: Notice) -> dict[str, Any]:
    """The notice as the file's tables and values (TOML's types: str, int, bool, Decimal, datetime,
    lists and tables)."""
    return {
        "format": FORMAT,
        "notice": {
            "year": notice.year, "title": notice.title, "notice_number": notice.notice_number,
            "ministry_notice_number": notice.ministry_notice_number, "deadline": notice.deadline,
            "contact_name": notice.contact_name, "contact_phone": notice.contact_phone,
            "contact_email": notice.contact_email,
        },
        "paper": {"form_copies": notice.paper.form_copies, "form_disc": notice.paper.form_disc,
                  "summary_copies": notice.paper.summary_copies},
        "quota": {f.name: getattr(notice.quota, f.name) for f in fields(notice.quota)},
        "section": [_section_data(s) for s in notice.sections],
        "rule": [_rule_data(r) for r in notice.rules],
        "criteria": {
            "title": notice.criteria.title, "max_score": notice.criteria.max_score,
            "dimension": [_dimension_data(d, notice.criteria.max_score) for d in notice.criteria.dimensions],
        },
        "summary": {
            "title": notice.summary.title,
            "header_lines": list(notice.summary.header_lines),
            "footer_lines": list(notice.summary.footer_lines),
            "default_disclosure": notice.summary.default_disclosure,
            "column": [{"heading": c.heading, "value": c.value} for c in notice.summary.columns],
        },
        "file": [{"key": f.key, "label": f.label, "kinds": sorted(f.kinds), "versioned": f.versioned,
                  "per_city": f.per_city, "required": f.required} for f in notice.files],
    }


# ---------------------------------------------------------------- canonical form and digest

def _json_default(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")  # 1, 1.0 and 1.00 are one figure
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not in a notice: {value!r}")


def canonical_text(data: Mapping[str, Any]) -> str:
    """Plain data as one text: sorted keys, no spaces, UTF-8 as is; a figure and a moment as
    text. The JSON a round keeps (:mod:`.stored`) gives the same text again."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def canonical_json(notice: Notice) -> str:
    """One text per notice: its plain data in :func:`canonical_text`."""
    return canonical_text(notice_data(notice))


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def notice_digest(notice: Notice) -> str:
    return text_digest(canonical_json(notice))


# ---------------------------------------------------------------- TOML

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b", "\f": "\\f"}
LINE = 100  # an array longer than this is written one item a line


def _string(text: str) -> str:
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _width(text: str) -> int:
    """Columns on screen: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _value(value: Any, indent: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")  # 100, not 1E+2; 0.5; TOML reads it back exact
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        items = [_value(v, indent + "  ") for v in value]
        inline = "[" + ", ".join(items) + "]"
        if _width(inline) + len(indent) <= LINE and "\n" not in inline:
            return inline
        return "[\n" + "".join(f"{indent}  {item},\n" for item in items) + f"{indent}]"
    raise TypeError(f"not in a notice: {value!r}")


def _comment(text: str, indent: str = "") -> str:
    return "".join(f"{indent}# {line}".rstrip() + "\n" for line in text.splitlines())


def _pairs(table: Mapping[str, Any], indent: str, comments: Mapping[str, str], place: str) -> str:
    out = []
    for key, value in table.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            continue  # arrays of tables are written after the table's own values
        if isinstance(value, dict):
            continue
        note = comments.get(f"{place}.{key}")
        if note:
            out.append(_comment(note, indent))
        out.append(f"{indent}{key} = {_value(value, indent)}\n")
    return "".join(out)


def _heading(title: str) -> str:
    return f"\n# {'=' * 4} {title} {'=' * max(4, LINE - 8 - _width(title))}\n"


def _note(comments: Mapping[str, str], place: str) -> str:
    return _comment(comments[place]) if comments.get(place) else ""


def _sections_toml(notice: Notice, items: list[dict[str, Any]], comments: Mapping[str, str]) -> str:
    out = [_heading("附件2 申报书：部分与字段"), _note(comments, "section")]
    for section, item in zip(notice.sections, items, strict=True):
        out.append(f"\n# ---- {section.heading}\n" + _note(comments, f"section:{section.code}"))
        out.append("[[section]]\n" + _pairs(item, "", comments, f"section:{section.code}"))
        for field_item in item["field"]:
            out.append("\n  [[section.field]]\n" + _pairs(field_item, "  ", comments, f"field:{field_item['key']}"))
    return "".join(out)


def _rules_toml(notice: Notice, items: list[dict[str, Any]], comments: Mapping[str, str]) -> str:
    """The rules in their order, under the heading of the section of each run's first field."""
    out = [_heading("字段之间的规则"), _note(comments, "rule")]
    sections = notice.sections_by_code
    field_section = {f.key: s.code for s in notice.sections for f in s.fields}
    group = None
    for rule, item in zip(notice.rules, items, strict=True):
        code = field_section.get(rule.fields[0])
        if code != group and code in sections:
            group = code
            out.append(f"\n# ---- {sections[code].heading}\n")
        else:
            out.append("\n")
        out.append(_note(comments, f"rule:{rule.id}") + "[[rule]]\n" + _pairs(item, "", comments, f"rule:{rule.id}"))
    return "".join(out)


def _criteria_toml(notice: Notice, data: dict[str, Any], comments: Mapping[str, str]) -> str:
    out = [_heading("附件1 申报能力要求（评审）"), _note(comments, "criteria"),
           "[criteria]\n" + _pairs(data, "", comments, "criteria")]
    for dimension, item in zip(notice.criteria.dimensions, data["dimension"], strict=True):
        out.append(f"\n# ---- {dimension.heading}\n[[criteria.dimension]]\n")
        out.append(_pairs(item, "", comments, f"dimension:{dimension.key}"))
        for indicator in item["indicator"]:
            out.append("\n  [[criteria.dimension.indicator]]\n" + _pairs(indicator, "  ", comments, "indicator"))
    return "".join(out)


def to_toml(notice: Notice, comments: Mapping[str, str] | None = None, preamble: str = "") -> str:
    """The notice as a file a person reads and edits: parts in the notice's order, a comment on
    each, and ``comments`` (place -> text: ``notice.deadline``, ``paper``, ``section:1.1``,
    ``rule:le:users_paying`` …) where the notice's own words say why a value is what it is."""
    comments = comments or {}
    data = notice_data(notice)
    out = [_comment(preamble) if preamble else "", f"format = {FORMAT}\n"]
    for part, title in (("notice", "通知"), ("paper", "纸质材料"), ("quota", "推荐名额")):
        out.append(_heading(title) + _note(comments, part) + f"[{part}]\n" + _pairs(data[part], "", comments, part))
    out.append(_sections_toml(notice, data["section"], comments))
    out.append(_rules_toml(notice, data["rule"], comments))
    out.append(_criteria_toml(notice, data["criteria"], comments))
    out.append(_heading("附件3 推荐信息汇总表") + _note(comments, "summary"))
    out.append("[summary]\n" + _pairs(data["summary"], "", comments, "summary"))
    for column in data["summary"]["column"]:
        out.append("\n  [[summary.column]]\n" + _pairs(column, "  ", comments, "column"))
    out.append(_heading("所需文件") + _note(comments, "file"))
    for item in data["file"]:
        out.append("\n[[file]]\n" + _pairs(item, "", comments, f"file:{item['key']}"))
    return "".join(out)
