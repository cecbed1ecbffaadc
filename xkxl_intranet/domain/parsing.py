"""Reading and writing one field's value: what a clerk typed (or a typed value from a
spreadsheet or the database) becomes the field's value, and back to text. Every reader names
the field's label in its Chinese message. The fields themselves are declared once, in
:mod:`.indicators`; this module only knows their kinds.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from decimal import Decimal
from typing import Any

from email_validator import EmailNotValidError, validate_email

from .credit_code import normalize_code
from .findings import ParseError, echo
from .indicators import TECHNOLOGIES, Field, Kind, field
from .numbers import ZERO_WORDS, normalize_text, parse_int, parse_money, parse_percent

__all__ = [
    "NONE_WORDS",
    "ParseError",
    "parse_field",
    "ParsedInput",
    "parse_input",
    "format_field",
    "comparable",
    "is_changed",
    "typed_text",
    "differs",
    "parse_date",
    "parse_bool",
    "parse_choice",
    "parse_multi",
    "parse_mobile",
    "parse_email",
    "parse_phone",
]


# ---------------------------------------------------------------- parsing helpers

_QUOTES = "\"'“”‘’「」"
_CHECKBOX = "□☐☑☒■√✓✔"


def _clean(raw: object) -> str:
    return normalize_text(raw).strip(_QUOTES).strip()


_DATE_PATTERNS = (
    re.compile(r"(?P<y>\d{4})\s*[-/.]\s*(?P<m>\d{1,2})\s*[-/.]\s*(?P<d>\d{1,2})"),
    re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]?"),
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})"),
    re.compile(r"(?P<y>\d{4})\s*[-/.]\s*(?P<m>\d{1,2})"),
    re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月?"),
)
_TIME_SUFFIX = re.compile(r"\s+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$")


def parse_date(raw: object, label: str) -> dt.date | None:
    """2015-03-01, 2015/3/1, 2015.3.1, 20150301, 2015年3月1日; month only (2015年3月, 2015.3,
    2015-03) means the first day of that month. A year alone is refused."""
    if raw is None:
        return None
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    text = _TIME_SUFFIX.sub("", _clean(raw))
    if not text:
        return None
    for pattern in _DATE_PATTERNS:
        m = pattern.fullmatch(text)
        if m:
            year, month = int(m["y"]), int(m["m"])
            day = int(m["d"]) if "d" in m.groupdict() and m["d"] else 1
            try:
                value = dt.date(year, month, day)
            except ValueError:
                break
            if not 1900 <= year <= 2100:
                break
            return value
    if re.fullmatch(r"\d{4}\s*年?", text):
        raise ParseError(f"「{label}」请至少填写到月份，如“{text.rstrip('年')}年3月”：“{echo(text)}”")
    raise ParseError(f"「{label}」不是有效的日期：“{echo(text)}”，请按“2015-03-01”或“2015年3月”的格式填写")


_TRUE_WORDS = frozenset({"是", "有", "yes", "y", "true", "t", "1", "√", "✓", "✔", "☑", "对"})
_FALSE_WORDS = frozenset({"否", "无", "没有", "不是", "no", "n", "false", "f", "0", "×", "✗", "✘", "☒", "x"})


def parse_bool(raw: object, label: str) -> bool | None:
    if raw is None:
        return None
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    text = _clean(raw).lower()
    if not text:
        return None
    if text in _TRUE_WORDS:
        return True
    if text in _FALSE_WORDS:
        return False
    raise ParseError(f"「{label}」请填写“是”或“否”：“{echo(text)}”")


def parse_choice(raw: object, label: str, choices: tuple[str, ...]) -> str | None:
    text = re.sub(r"\s+", "", _clean(raw)).strip(_CHECKBOX)
    if not text:
        return None
    for choice in choices:
        if text == choice:
            return choice
    options = "或".join(f"“{c}”" for c in choices) if len(choices) == 2 else "、".join(f"“{c}”" for c in choices)
    raise ParseError(f"「{label}」应为{options}：“{echo(text)}”")


_TECH_ALIASES: tuple[tuple[str, str], ...] = tuple(
    sorted(
        {
            "5G": "5G",
            "大数据": "大数据",
            "人工智能": "人工智能",
            "AI": "人工智能",
            "数字孪生": "数字孪生",
            "区块链": "区块链",
            "工业AR/VR": "工业AR/VR",
            "AR/VR": "工业AR/VR",
            "工业AR": "工业AR/VR",
            "工业VR": "工业AR/VR",
            "AR": "工业AR/VR",
            "VR": "工业AR/VR",
        }.items(),
        key=lambda kv: len(kv[0]),
        reverse=True,
    )
)
_MULTI_SEPARATORS = re.compile(r"[\s、,;:|" + re.escape(_CHECKBOX) + r"]+")


def parse_multi(raw: object, label: str, choices: tuple[str, ...] = TECHNOLOGIES) -> tuple[str, ...] | None:
    """Any of the choices, separated by 、 , ; or spaces (a trailing 技术 is fine).
    Returned in the form's order without duplicates; blank -> None."""
    if raw is None:
        return None
    if isinstance(raw, (list, tuple, set, frozenset)):
        items = [normalize_text(x) for x in raw]
        if not any(items):
            return None
        text = "、".join(items)
    else:
        text = _clean(raw)
    text = _MULTI_SEPARATORS.sub("", text)
    if not text or text in ZERO_WORDS:
        return None
    chosen: set[str] = set()
    upper = text.upper()
    i = 0
    while i < len(text):
        for alias, canonical in _TECH_ALIASES:
            if upper.startswith(alias.upper(), i) and canonical in choices:
                chosen.add(canonical)
                i += len(alias)
                if text.startswith("技术", i):
                    i += 2
                break
        else:
            if text.startswith("技术", i):
                i += 2
                continue
            allowed = "、".join(choices)
            raise ParseError(f"「{label}」只能从以下选项中选择：{allowed}；无法识别：“{echo(text[i:])}”")
    return tuple(c for c in choices if c in chosen)


_MOBILE_RE = re.compile(r"1[3-9]\d{9}")


def parse_mobile(raw: object, label: str) -> str | None:
    """11 digits, ``1[3-9]`` then 9 digits; spaces, dashes and a +86 prefix are removed."""
    text = _clean(raw)
    if not text:
        return None
    digits = re.sub(r"[\s\-()]+", "", text)
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == 11 + len(prefix):
            digits = digits[len(prefix):]
            break
    if not _MOBILE_RE.fullmatch(digits):
        raise ParseError(f"「{label}」应为11位手机号码（以13-19开头）：“{echo(text, unit='位')}”")
    return digits


def parse_email(raw: object, label: str) -> str | None:
    text = _clean(raw)
    if not text:
        return None
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        raise ParseError(f"「{label}」不是有效的电子邮箱地址：“{echo(text)}”") from None
    return result.normalized


_PHONE_RE = re.compile(r"[\d\-\s()+转/、,]+")


def parse_phone(raw: object, label: str) -> str | None:
    """Lenient: digits, -, spaces, parentheses, +, 转 (extension); several numbers may be
    separated by / 、 or ,. At least 7 digits."""
    text = _clean(raw)
    if not text:
        return None
    text = re.sub(r"\s+", " ", text)
    if not _PHONE_RE.fullmatch(text) or sum(c.isdigit() for c in text) < 7:
        raise ParseError(f"「{label}」格式不正确，只能包含数字、“-”、括号和“转”：“{echo(text, unit='位')}”")
    return text


def _parse_text(raw: object, f: Field) -> str | None:
    if raw is None:
        return None
    text = re.sub(r"\s+", " ", str(raw)).strip()  # no NFKC: keep a name's full-width brackets
    if not text:
        return None
    if f.max_length and len(text) > f.max_length:
        raise ParseError(f"「{f.label}」不能超过{f.max_length}个字，当前为{len(text)}个字")
    return text


def _credit_code(raw: object, f: Field) -> str | None:
    # validity (length, checksum, region) is reported by checks.check_credit_code; only what
    # cannot even be kept as a draft (longer than the column) is refused here
    code = normalize_code(raw)
    if f.max_length and len(code) > f.max_length:
        raise ParseError(f"「{f.label}」应为18位，当前为{len(code)}位：“{echo(code, unit='位')}”")
    return code or None


# What the form asks a clerk to write where there is nothing (附件2 注3: 如果没有可填“无”), and the
# dashes and slashes people write for the same. In an optional contact field (传真, 电话, E-mail)
# it means "none": the field is blank, not a malformed number.
NONE_WORDS = frozenset({"无", "暂无", "没有", "/", "—", "——", "-", "--"})
_CONTACT_KINDS = frozenset({Kind.PHONE, Kind.MOBILE, Kind.EMAIL})


def _says_none(raw: object, f: Field) -> bool:
    return (f.kind in _CONTACT_KINDS and not f.required and isinstance(raw, str)
            and re.sub(r"\s+", "", _clean(raw)) in NONE_WORDS)


# How each kind of field is read; a kind not listed is free text.
_READERS: dict[Kind, Callable[[object, Field], Any]] = {
    Kind.INT: lambda raw, f: parse_int(raw, f.label, allow_negative=f.allow_negative, unit=f.unit),
    Kind.MONEY: lambda raw, f: parse_money(raw, f.label, allow_negative=f.allow_negative,
                                           unit=f.unit or "万元"),
    Kind.PERCENT: lambda raw, f: parse_percent(raw, f.label, allow_negative=f.allow_negative),
    Kind.DATE: lambda raw, f: parse_date(raw, f.label),
    Kind.BOOL: lambda raw, f: parse_bool(raw, f.label),
    Kind.CHOICE: lambda raw, f: parse_choice(raw, f.label, f.choices),
    Kind.MULTI: lambda raw, f: parse_multi(raw, f.label, f.choices),
    Kind.EMAIL: lambda raw, f: parse_email(raw, f.label),
    Kind.MOBILE: lambda raw, f: parse_mobile(raw, f.label),
    Kind.PHONE: lambda raw, f: parse_phone(raw, f.label),
    Kind.CREDIT_CODE: _credit_code,
}


def parse_field(f: Field | str, raw: object) -> Any:
    """Read one field. Blank -> None. Raises :class:`ParseError` (Chinese, names the label).

    ``raw`` is usually the text a clerk typed; already-typed values (int, Decimal, date,
    bool, a list for MULTI) from a spreadsheet or the database are accepted and checked too.
    Return types: TEXT/EMAIL/MOBILE/PHONE/CHOICE/CREDIT_CODE str, DATE date, INT int,
    MONEY/PERCENT Decimal (2 places), BOOL bool, MULTI tuple[str, ...].
    """
    if isinstance(f, str):
        f = field(f)
    if _says_none(raw, f):
        return None
    try:
        value = _READERS.get(f.kind, _parse_text)(raw, f)
        if isinstance(value, str) and f.max_length and len(value) > f.max_length:
            # a phone field's several numbers, say: never more than the column holds
            raise ParseError(f"「{f.label}」不能超过{f.max_length}个字，当前为{len(value)}个字")
        return value
    except ParseError as exc:
        if exc.key is None:
            exc.key = f.key
        raise


@dataclass(frozen=True)
class ParsedInput:
    """What one post of the application form (or one column of the indicator template) says,
    read once where it comes in: every declared field's typed value (None where blank or
    unreadable) and, by key, the message of each value that could not be read. The checks, the
    duplicate search, the 申报书 comparison, conflict detection and the save all take this, so
    none of them reads the text again."""

    values: Mapping[str, Any]
    errors: Mapping[str, str] = dc_field(default_factory=dict)


def parse_input(raw: Mapping[str, Any], fields: Mapping[str, Field]) -> ParsedInput:
    """Read every field of ``fields`` (a round's form's) in ``raw`` (key -> what was typed, or a
    typed value) through :func:`parse_field`, once each; keys that are not declared are ignored."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, f in fields.items():
        try:
            values[key] = parse_field(f, raw.get(key))
        except ParseError as exc:
            values[key] = None
            errors[key] = exc.message
    return ParsedInput(values, errors)


def format_field(f: Field | str, value: Any, *, thousands: bool = False) -> str:
    """Text for re-display and exports: money/percent '1234.50', bool 是/否, multi '、'-joined, date ISO.

    ``thousands=True`` is the reports' variant: numbers with separators, '1,234' and '1,234.50'
    (a form field must not get them: they are read back)."""
    if isinstance(f, str):
        f = field(f)
    if value is None:
        return ""
    grouping = "," if thousands else ""
    match f.kind:
        case Kind.MONEY | Kind.PERCENT:
            return format(Decimal(value).quantize(Decimal("0.01")), f"{grouping}f")
        case Kind.INT:
            return format(int(value), grouping or "d")
        case Kind.BOOL:
            return "是" if value else "否"
        case Kind.MULTI:
            return "、".join(value) if not isinstance(value, str) else value
        case Kind.DATE:
            return value.isoformat() if isinstance(value, dt.date) else str(value)
        case _:
            return str(value)


def comparable(f: Field | str, value: Any) -> str:
    """A value as "did it change?" sees it: read as the field reads it, written back as text.

    Whatever form a value comes in (a saved list or a parsed tuple of choices in any order,
    Decimal('1000') or '1,000', a date or '2010-3-15', None or '' or []), the same value gives
    the same text; blank is ''. A value the field cannot read is compared as typed."""
    if isinstance(f, str):
        f = field(f)
    try:
        return format_field(f, parse_field(f, value))
    except ParseError:
        return normalize_text(value)


def is_changed(f: Field | str, old: Any, new: Any) -> bool:
    """Whether two values of a field differ as a clerk would see it (see :func:`comparable`)."""
    return comparable(f, old) != comparable(f, new)


def typed_text(f: Field | str, value: Any) -> str:
    """A value already read (a :class:`ParsedInput`'s, or a saved column's: the database keeps
    only what :func:`parse_field` returned) as "did it change?" sees it, without reading it
    again: its text, with choices in the form's order. For such values it is what
    :func:`comparable` gives."""
    if isinstance(f, str):
        f = field(f)
    if f.kind is Kind.MULTI and value and not isinstance(value, str):
        chosen = set(value)
        value = [c for c in f.choices if c in chosen] + [c for c in value if c not in f.choices]
    return format_field(f, value)


def differs(f: Field | str, saved: Any, typed: Any) -> bool:
    """Whether a value read once (:class:`ParsedInput`) differs from the saved one as a clerk
    would see it; :func:`is_changed` for values already read."""
    return typed_text(f, saved) != typed_text(f, typed)
