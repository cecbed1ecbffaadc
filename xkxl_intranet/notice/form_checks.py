"""The 申报书 of a notice file: its ``[[section]]`` and ``[[section.field]]`` tables, read into
``domain.indicators`` sections and fields, and its ``[[rule]]`` tables, read into the rules of
``domain.rule_kinds``, with the checks that make them hang together (docs/notice-file.md).

What a field or a rule may say is read off the dataclasses themselves, so an attribute added to
``Field`` or to a rule is a key the file may use (a type this module does not know fails at
import, not in a province officer's hands)."""
from __future__ import annotations

import re
from dataclasses import MISSING, fields
from decimal import Decimal
from typing import Any

from ..domain.findings import Source
from ..domain.indicators import NUMERIC_KINDS, Field, Kind, Section
from ..domain.rule_kinds import Rule
from .dump import FIELD_ATTRIBUTES, RULE_KINDS, SEVERITY_WORDS
from .reading import BOOL, INT, NUMBER, TABLES, TEXT, TEXTS, Key, Problems, Type, read_table

__all__ = ["read_sections", "read_rules", "FIELD_KEYS", "RULE_KEYS"]

NAME = re.compile(r"[a-z][a-z0-9_]*")
_PLACEHOLDER = re.compile(r"\{([a-z0-9_,]+)\}")  # domain.form_layout's {key} and {key,key}
VALUE = Type("文字、数值或 true/false", lambda v: isinstance(v, str | int | Decimal))
SEVERITY = Type("“错误” 或 “警告”", lambda v: isinstance(v, str))
SOURCE = Type("“通知” 或 “系统校核”", lambda v: isinstance(v, str))

_BY_ANNOTATION = {"str": TEXT, "bool": BOOL, "int": INT, "int | None": INT, "tuple[str, ...]": TEXTS,
                  "Kind": TEXT, "Decimal": NUMBER, "Any": VALUE, "Severity": SEVERITY, "Source": SOURCE}


def _keys(cls: type, skip: tuple[str, ...] = ()) -> dict[str, Key]:
    keys = {}
    for f in fields(cls):
        if f.name in skip:
            continue
        kind = _BY_ANNOTATION.get(str(f.type))
        if kind is None:
            raise TypeError(f"a notice file cannot declare {cls.__name__}.{f.name} ({f.type}): "
                            "add its type to notice.form_checks._BY_ANNOTATION")
        keys[f.name] = Key(kind) if f.default is MISSING else Key(kind, f.default)
    return keys


FIELD_KEYS: dict[str, Key] = _keys(Field, ("section",))
assert tuple(FIELD_KEYS) == FIELD_ATTRIBUTES
# Every rule says its source: whether the notice states it or it is the system's reading.
RULE_KEYS: dict[str, dict[str, Key]] = {
    kind: {"id": Key(TEXT), "kind": Key(TEXT)} | _keys(cls, ("id", "declared")) | {"source": Key(SOURCE)}
    for kind, cls in RULE_KINDS.items()}
FIELD_REFERENCES = ("parts", "total", "small", "big", "key", "when_key", "numerator", "denominator")

_SECTION = {"code": Key(TEXT), "title": Key(TEXT), "starred": Key(BOOL, False), "table": Key(BOOL, False),
            "note": Key(TEXT, ""), "lines": Key(TEXTS, []), "field": Key(TABLES)}
_KINDS = "、".join(k.value for k in Kind)


# ---------------------------------------------------------------- sections and fields

def read_sections(items: list[dict[str, Any]], problems: Problems) -> tuple[tuple[Section, ...], set[str]]:
    """The sections, and the keys of the fields that could not be read (their problems are said;
    a rule or a line that names one says nothing more of it)."""
    sections: list[Section] = []
    broken: set[str] = set()
    codes: set[str] = set()
    declared: dict[str, str] = {}  # field key -> section code
    if not items:
        problems.add("[[section]]", "申报书至少要有一个部分")
    for n, item in enumerate(items, start=1):
        place = f"[[section]] 第{n}个（{item.get('code', '?')}）"
        s = read_table(item, place, _SECTION, problems)
        if s is None:
            continue
        if s["code"] in codes:
            problems.add(place, f"部分编号 “{s['code']}” 重复")
        codes.add(s["code"])
        if not s["field"]:
            problems.add(place, "此部分没有字段 [[section.field]]")
        section_fields = []
        for m, entry in enumerate(s["field"], start=1):
            where = f"[[section.field]] {s['code']} 第{m}个（{entry.get('key', '?')}）"
            f = _read_field(entry, where, s, problems)
            if f is None:
                if isinstance(entry.get("key"), str):
                    broken.add(entry["key"])
                continue
            if f.key in declared:
                problems.add(where, f"字段 “{f.key}” 重复（已在 {declared[f.key]} 中声明）")
            declared.setdefault(f.key, s["code"])
            section_fields.append(f)
        section = Section(s["code"], s["title"], tuple(section_fields), s["starred"], s["note"], s["table"],
                          tuple(s["lines"]))
        _check_section(section, place, broken, problems)
        sections.append(section)
    return tuple(sections), broken


def _read_field(item: dict[str, Any], place: str, section: dict[str, Any], problems: Problems) -> Field | None:
    before = len(problems)
    f = read_table(item, place, FIELD_KEYS, problems)
    if f is None:
        return None
    if not NAME.fullmatch(f["key"]):
        problems.add(place, f"字段名 “{f['key']}” 只能用小写英文字母、数字和下划线，并以字母开头")
    if f["kind"] not in {k.value for k in Kind}:
        problems.add(place, f"类型 kind = “{f['kind']}” 不存在（可用：{_KINDS}）")
        return None
    kind = Kind(f["kind"])
    if kind in (Kind.CHOICE, Kind.MULTI) and not f["choices"]:
        problems.add(place, f"类型为 {kind.value} 的字段须列出可选项 choices")
    if kind not in (Kind.CHOICE, Kind.MULTI) and f["choices"]:
        problems.add(place, f"只有 choice 或 multi 类型的字段可以有 choices（此字段为 {kind.value}）")
    if len(set(f["choices"])) != len(f["choices"]):
        problems.add(place, "choices 中有重复的选项")
    if f["allow_negative"] and kind not in NUMERIC_KINDS:
        problems.add(place, f"allow_negative 只用于数字字段（此字段为 {kind.value}）")
    if f["max_length"] is not None and f["max_length"] < 1:
        problems.add(place, f"最大长度 max_length = {f['max_length']} 应至少为1")
    if f["form_blank"] < 0:
        problems.add(place, f"form_blank = {f['form_blank']} 不能为负数")
    if section["starred"] and (kind in NUMERIC_KINDS or kind is Kind.BOOL) and not f["required"]:
        problems.add(place, f"「{f['label']}」在带*的部分 {section['code']} 中，须写 required = true"
                            "（申报书说明3：带*标记项目中的客观指标须填写，如果没有可填“无”）")
    if len(problems) != before:
        return None
    values = f | {"kind": kind, "choices": tuple(f["choices"]), "form_aliases": tuple(f["form_aliases"])}
    return Field(section=section["code"], **values)


def _check_section(section: Section, place: str, broken: set[str], problems: Problems) -> None:
    keys = {f.key for f in section.fields}
    printed = {f.printed_label for f in section.fields}
    for f in section.fields:
        if f.form_after and f.form_after not in printed:
            problems.add(place, f"字段 “{f.key}” 的 form_after = “{f.form_after}” 不是本部分任何字段印出的标签"
                                f"（可用：{'、'.join(sorted(printed))}）")
    if not section.form_lines:
        return
    shown: set[str] = set()
    for line in section.form_lines:
        for match in _PLACEHOLDER.finditer(line):
            for key in match.group(1).split(","):
                if key not in keys and key not in broken:
                    problems.add(place, f"lines 中的 {{{key}}} 不是本部分的字段")
                shown.add(key)
    missing = [f.key for f in section.fields if f.key not in shown]
    if missing:
        problems.add(place, f"lines 中没有 {'、'.join('{' + k + '}' for k in missing)}，申报书模板将不印此字段")


# ---------------------------------------------------------------- rules

def read_rules(items: list[dict[str, Any]], fields_by_key: dict[str, Field], broken: set[str],
               problems: Problems) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    ids: set[str] = set()
    kinds = "、".join(RULE_KINDS)
    for n, item in enumerate(items, start=1):
        place = f"[[rule]] 第{n}条（{item.get('id', '?')}）"
        kind = item.get("kind")
        if kind not in RULE_KINDS:
            problems.add(place, f"规则类型 kind = “{kind}” 不存在（可用：{kinds}）" if kind is not None
                         else f"缺少规则类型 kind（可用：{kinds}）")
            continue
        r = read_table(item, place, RULE_KEYS[kind], problems)
        if r is None:
            continue
        rule = _rule(kind, r, place, fields_by_key, broken, problems)
        if rule is None:
            continue
        if rule.id in ids:
            problems.add(place, f"规则编号 “{rule.id}” 重复")
        ids.add(rule.id)
        rules.append(rule)
    return tuple(rules)


def _rule(kind: str, r: dict[str, Any], place: str, fields_by_key: dict[str, Field], broken: set[str],
          problems: Problems) -> Rule | None:
    before = len(problems)
    if not r["id"].startswith(f"{kind}:"):
        problems.add(place, f"规则编号 “{r['id']}” 应以 “{kind}:” 开头（与规则类型一致）")
    values: dict[str, Any] = {}
    for name, value in r.items():
        key = RULE_KEYS[kind][name]
        if name == "kind":
            continue
        if key.type is SEVERITY:
            if value not in SEVERITY_WORDS:
                problems.add(place, f"“{name}” = “{value}” 应为 “错误” 或 “警告”")
            values[name] = SEVERITY_WORDS.get(value)
        elif key.type is SOURCE:
            if value not in {s.value for s in Source}:
                problems.add(place, f"来源 source = “{value}” 应为 “通知” 或 “系统校核”")
            values[name] = Source(value) if value in {s.value for s in Source} else None
        elif key.type is NUMBER:
            values[name] = Decimal(value)
        elif key.type is TEXTS:
            values[name] = tuple(value)
        else:
            values[name] = value
    _check_references(kind, values, place, fields_by_key, broken, problems)
    if len(problems) != before:
        return None
    rule: Rule = RULE_KINDS[kind](**values)
    return rule


def _check_references(kind: str, values: dict[str, Any], place: str, fields_by_key: dict[str, Field],
                      broken: set[str], problems: Problems) -> None:
    named: list[str] = []
    for name in FIELD_REFERENCES:
        if name in values:
            named += list(values[name]) if name == "parts" else [values[name]]
    unknown = [k for k in named if k not in fields_by_key]
    for k in unknown:
        if k not in broken:
            problems.add(place, f"引用的字段 “{k}” 不在申报书中")
    if unknown:
        return
    if len(set(named)) != len(named):
        problems.add(place, "同一字段在规则中出现了两次")
    if kind == "required_if":
        _check_condition(values, place, fields_by_key[values["when_key"]], problems)
    else:
        for k in named:
            if fields_by_key[k].kind not in NUMERIC_KINDS:
                problems.add(place, f"字段 “{k}”（{fields_by_key[k].label}）不是数字，不能用于 {kind} 规则")
    _check_parameters(kind, values, place, problems)


def _check_parameters(kind: str, values: dict[str, Any], place: str, problems: Problems) -> None:
    if kind == "sum" and not values["parts"]:
        problems.add(place, "分项 parts 至少要有一项")
    if kind == "range" and values["minimum"] > values["maximum"]:
        problems.add(place, f"下限 minimum = {values['minimum']} 大于上限 maximum = {values['maximum']}")
    if kind == "near" and (values["tolerance"] < 0 or values["scale"] <= 0):
        problems.add(place, "允许偏差 tolerance 不能为负数，比例 scale 须大于0")


def _check_condition(values: dict[str, Any], place: str, when: Field, problems: Problems) -> None:
    """``when_value`` must be a value ``when_key`` can take."""
    value = values["when_value"]
    if when.kind in (Kind.CHOICE, Kind.MULTI) and value not in when.choices:
        problems.add(place, f"条件值 when_value = “{value}” 不是「{when.label}」的可选项"
                            f"（{'、'.join(when.choices)}）")
    elif when.kind is Kind.BOOL and not isinstance(value, bool):
        problems.add(place, f"「{when.label}」为是/否字段，条件值 when_value 应为 true 或 false")
