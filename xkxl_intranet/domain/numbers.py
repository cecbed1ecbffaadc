"""Reading numbers the way clerks type (or paste from Word/WPS) them.

Accepted: full-width digits and signs (１２３，４５６．７８％), thousands separators
(``,`` ``，`` or spaces between groups of three digits), surrounding spaces and quotes,
the field's own unit written after the number (``120台``), and the word 无 meaning 0.
A blank value is ``None`` (whether it is required is checked elsewhere).
Everything else raises :class:`NumberParseError` whose message names the field.

No float is ever used: counts are ``int``, money and percentages ``Decimal`` with
two places.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from .findings import ParseError, echo

__all__ = [
    "NumberParseError",
    "ParseError",
    "ZERO_WORDS",
    "normalize_text",
    "parse_int",
    "parse_money",
    "parse_percent",
]

TWO_PLACES = Decimal("0.01")
ZERO_WORDS = frozenset({"无"})
MAX_INTEGER_DIGITS = 13  # far above any real figure; keeps DB columns safe

_QUOTES = "\"'“”‘’「」『』《》"
_APPROX_WORDS = ("大约", "约", "余", "多", "左右", "以上", "以下", "超过", "不足", "不到", "近", "上下", "至少", "几")
_CHINESE_NUMERALS = frozenset("零〇一二两三四五六七八九十百千万亿几")
_NUMBER_RE = re.compile(
    r"(?P<sign>[+-]?)\s*"
    r"(?P<int>\d+(?:(?:\s*,\s*|\s+)\d+)*)?"
    r"(?:\.(?P<frac>\d+))?"
)
_GROUP_SEP_RE = re.compile(r"\s*,\s*|\s+")
_EXTRA_MINUS = str.maketrans({"\u2212": "-", "\u2012": "-", "\u2013": "-", "\ufe63": "-"})


class NumberParseError(ParseError):
    """A number that cannot be read; ``.message`` is Chinese and names the field."""


def normalize_text(raw: object) -> str:
    """NFKC-normalise (full-width digits, signs, ％，． and spaces become ASCII) and strip."""
    if raw is None:
        return ""
    return unicodedata.normalize("NFKC", str(raw)).strip()


def _strip_quotes(text: str) -> str:
    previous = None
    while previous != text:
        previous = text
        text = text.strip().strip(_QUOTES).strip()
    return text


def _unit_suffixes(unit: str) -> list[str]:
    if not unit:
        return []
    unit = normalize_text(unit)
    options = {unit, *(u for u in unit.split("/") if u)}
    return sorted(options, key=len, reverse=True)


def _typed_text(raw: object, label: str, allow_negative: bool) -> str | tuple[Decimal, str]:
    """An int is already a value; a Decimal, a str or a spreadsheet's float becomes text."""
    if isinstance(raw, bool):
        raise NumberParseError(f"「{label}」不是有效的数字：“{echo(raw)}”")
    if isinstance(raw, int):
        value = Decimal(raw)
        if value < 0 and not allow_negative:
            raise NumberParseError(f"「{label}」不能为负数：“{echo(raw)}”")
        return value, ""
    if isinstance(raw, Decimal):
        if not raw.is_finite():
            raise NumberParseError(f"「{label}」不是有效的数字：“{echo(raw)}”")
        return format(raw, "f")
    return str(raw)


def _without_unit(text: str, *, allow_percent: bool, unit: str) -> str:
    if allow_percent and text.endswith("%"):
        text = text[:-1].rstrip()
    for suffix in _unit_suffixes(unit):
        if text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)].rstrip()
    return text


def _not_a_number(text: str, label: str, shown: str) -> NumberParseError:
    if not any(c.isdigit() or c in _CHINESE_NUMERALS for c in text):  # 很多, 暂无数据: no figure at all
        return NumberParseError(f"「{label}」请填写数字：“{echo(shown)}”")
    if any(word in text for word in _APPROX_WORDS):  # 约500, 300多, 几百: a figure, but not exact
        return NumberParseError(
            f"「{label}」请填写确切的数字，不要使用“约”“余”“多”“左右”等字样：“{echo(shown)}”")
    if "%" in text:
        return NumberParseError(f"「{label}」不应带“%”：“{echo(shown)}”")
    return NumberParseError(f"「{label}」不是有效的数字：“{echo(shown)}”")


def _integer_digits(int_part: str, label: str, shown: str) -> str:
    groups = _GROUP_SEP_RE.split(int_part)
    if len(groups) > 1 and (
        not 1 <= len(groups[0]) <= 3 or any(len(g) != 3 for g in groups[1:])
    ):
        raise NumberParseError(f"「{label}」千位分隔符位置不正确：“{echo(shown)}”")
    digits = "".join(groups).lstrip("0") or "0"
    if len(digits) > MAX_INTEGER_DIGITS:
        raise NumberParseError(f"「{label}」数值过大（整数部分最多{MAX_INTEGER_DIGITS}位）：“{echo(shown)}”")
    return digits


def _read_decimal(
    raw: object,
    label: str,
    *,
    allow_negative: bool,
    allow_percent: bool,
    unit: str,
) -> tuple[Decimal, str] | None:
    """Return ``(value, digits after the point)`` or ``None`` for a blank value."""
    if raw is None:
        return None
    typed = _typed_text(raw, label, allow_negative)
    if isinstance(typed, tuple):
        return typed
    shown = normalize_text(typed)
    text = _strip_quotes(shown.translate(_EXTRA_MINUS))
    if not text:
        return None
    if text in ZERO_WORDS:
        return Decimal(0), ""
    text = _without_unit(text, allow_percent=allow_percent, unit=unit)
    match = _NUMBER_RE.fullmatch(text)
    if not match or (match["int"] is None and match["frac"] is None):
        raise _not_a_number(text, label, shown)
    digits = _integer_digits(match["int"] or "0", label, shown)
    frac = match["frac"] or ""
    try:
        value = Decimal(f"{match['sign']}{digits}.{frac or '0'}")
    except InvalidOperation:  # pragma: no cover - the regex already guarantees digits
        raise NumberParseError(f"「{label}」不是有效的数字：“{echo(shown)}”") from None
    if value < 0 and not allow_negative:
        raise NumberParseError(f"「{label}」不能为负数：“{echo(shown)}”")
    if value == 0:
        value = abs(value)  # no "-0"
    return value, frac


def parse_int(raw: object, label: str, *, allow_negative: bool = False, unit: str = "") -> int | None:
    """A count: a whole number (``12.0`` is accepted, ``12.5`` is refused)."""
    read = _read_decimal(raw, label, allow_negative=allow_negative, allow_percent=False, unit=unit)
    if read is None:
        return None
    value, frac = read
    if frac.strip("0"):
        raise NumberParseError(f"「{label}」应为整数：“{echo(normalize_text(raw))}”")
    return int(value)


def _two_places(raw: object, label: str, read: tuple[Decimal, str] | None, hint: str) -> Decimal | None:
    if read is None:
        return None
    value, frac = read
    if len(frac.rstrip("0")) > 2:
        raise NumberParseError(f"「{label}」最多保留2位小数：“{echo(normalize_text(raw))}”{hint}")
    return value.quantize(TWO_PLACES)


def parse_money(raw: object, label: str, *, allow_negative: bool = False, unit: str = "万元") -> Decimal | None:
    """An amount (万元) as an exact Decimal with 2 places; more than 2 decimals is refused."""
    read = _read_decimal(raw, label, allow_negative=allow_negative, allow_percent=False, unit=unit)
    return _two_places(raw, label, read, "（如为千位分隔，请使用逗号或不加分隔）")


def parse_percent(raw: object, label: str, *, allow_negative: bool = False) -> Decimal | None:
    """A percentage, as the number of percent (``"12.5%"`` -> ``Decimal("12.50")``).

    A trailing ``%``/``％`` is optional; more than 2 decimals is refused.
    """
    read = _read_decimal(raw, label, allow_negative=allow_negative, allow_percent=True, unit="")
    return _two_places(raw, label, read, "")
