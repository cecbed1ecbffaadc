"""How a printed label and what is written after it are found in a document's text: labels
matched loosely (spaces anywhere, full- or half-width signs, any quotes, 杀手铜/杀手锏,
其它/其他), the figure in a blank (``：12,345台/套``, ``：3,120、3,672万元``), and which box of a
是/否 or a choice is ticked (☑ ☒ ■ √ … of :mod:`.form_marks`, or the one option left standing). Each
run of marks answers one option: the one it touches or stands only spaces from, so that the √ of
「□是 √否」 is 否's alone. Pure."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from .findings import ParseError
from .form_marks import CHECKED, EMPHASIS, MARKS, TICKS, UNCHECKED
from .indicators import Field, Kind
from .parsing import parse_bool

__all__ = ["loose_pattern", "compiled", "normal", "numeric_raw", "looks_like_a_figure", "boxes", "options_go_on",
           "STRIP"]

# ---------------------------------------------------------------- loose matching

_QUOTES = "\"'“”‘’「」『』„‟"
_EQUIVALENT = {"锏": "锏铜", "铜": "锏铜", "它": "它他", "他": "它他"}
_GAP = r"[\s" + EMPHASIS + "]*"  # (the sign of an emphasized option is no letter of a label)


def _char_class(char: str) -> str:
    if char in _QUOTES:
        return "[" + re.escape(_QUOTES) + "]"
    options = {char, *_EQUIVALENT.get(char, "")}
    if 0x21 <= ord(char) <= 0x7E:
        options.add(chr(ord(char) + 0xFEE0))  # its full-width form
    if len(options) == 1:
        return re.escape(char)
    return "[" + "".join(re.escape(o) for o in sorted(options)) + "]"


@lru_cache(maxsize=2048)
def loose_pattern(text: str) -> str:
    """A regular expression for ``text`` as documents print it: spaces (and line breaks)
    anywhere, full- or half-width signs, any quotes."""
    chars = [c for c in unicodedata.normalize("NFKC", text) if not c.isspace()]
    return _GAP.join(_char_class(c) for c in chars)


@lru_cache(maxsize=2048)
def compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE | re.MULTILINE)


def normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text)



_APPROX = ("约", "大约", "超过", "近", "不足", "不到", "至少", "逾")
STRIP = " \t:：_＿\u3000"

# ---------------------------------------------------------------- blanks in a line (表二(2))

def _unit_options(f: Field) -> list[str]:
    unit = normal(f.unit)
    options = {unit, *unit.split("/")} - {""}
    if f.kind is Kind.PERCENT:
        options.add("%")
    return sorted(options, key=len, reverse=True)


def numeric_raw(segment: str, f: Field, blank: int) -> str:
    """The text in the ``blank``-th blank of a segment such as ``：3,120.00、3,672.00万元，…``."""
    units = tuple(_unit_options(f))
    unit_re = re.compile("|".join(re.escape(u) for u in units)) if units else None
    text = normal(segment)
    for index in range(blank + 1):
        text = text.lstrip(STRIP)
        raw, rest = _one_blank(text, unit_re)
        if index == blank:
            return raw
        rest = rest.lstrip(" \t")
        if not rest.startswith("、"):
            return ""
        text = rest[1:]
    return ""  # pragma: no cover - the loop always returns


_HARD_STOP = re.compile(r"[;。:\t、()\[\]\n]|,(?!\d{3})|\s+(?=[^\d\s.,])")


def _one_blank(text: str, unit_re: re.Pattern[str] | None) -> tuple[str, str]:
    """The first value of ``text`` and what follows it (after its unit)."""
    stop = _HARD_STOP.search(text)
    end = stop.start() if stop else len(text)
    if unit_re is not None:
        unit = unit_re.search(text, 0, end)
        if unit is not None:
            return text[:unit.start()].strip(), text[unit.end():]
    return text[:end].strip(), text[end:]


def looks_like_a_figure(raw: str) -> bool:
    return bool(raw) and (raw[0] in "0123456789+-.－−" or raw.startswith("无")
                          or raw.startswith(_APPROX))


_MARK_RUN = re.compile("[" + re.escape(MARKS + EMPHASIS) + "]+")
_SPACES = " \u3000"


def _option_spans(segment: str, options: tuple[str, ...]) -> list[tuple[int, int, str]]:
    """Where each option stands in the segment (the longer one where two overlap)."""
    spans = sorted(((m.start(), m.end(), option) for option in options
                    for m in compiled(loose_pattern(option)).finditer(segment)),
                   key=lambda span: (span[0], span[0] - span[1]))
    kept: list[tuple[int, int, str]] = []
    for span in spans:
        if not kept or span[0] >= kept[-1][1]:
            kept.append(span)
    return kept


def _bound_option(segment: str, start: int, end: int, spans: list[tuple[int, int, str]]) -> int | None:
    """The option a run of marks at ``[start, end)`` answers: the one it touches, or stands
    only spaces from; between two, the nearer, and at equal distance the one after it (the form
    prints its boxes before their options: in 「□是 √否」 the √ is 否's)."""
    after = len(segment[end:]) - len(segment[end:].lstrip(_SPACES))
    before = len(segment[:start]) - len(segment[:start].rstrip(_SPACES))
    following = next((i for i, span in enumerate(spans) if span[0] == end + after), None)
    preceding = next((i for i, span in enumerate(spans) if span[1] == start - before), None)
    if following is not None and (preceding is None or after <= before):
        return following
    return preceding


def _box_states(segment: str, options: tuple[str, ...]) -> tuple[dict[str, set[str]], set[str]]:
    """Per option found: ticked, an empty box, or standing plain; and the options marked by
    emphasis (:data:`.form_marks.EMPHASIS`). Each run of marks answers one option only."""
    spans = _option_spans(segment, options)
    marks: dict[int, str] = {}
    for run in _MARK_RUN.finditer(segment):
        index = _bound_option(segment, run.start(), run.end(), spans)
        if index is not None:
            marks[index] = marks.get(index, "") + run.group()
    states: dict[str, set[str]] = {}
    emphasized: set[str] = set()
    for index, (_, _, option) in enumerate(spans):
        found = marks.get(index, "")
        if any(c in CHECKED or c in TICKS for c in found):
            state = "checked"
        else:
            state = "unchecked" if any(c in UNCHECKED for c in found) else "plain"
        states.setdefault(option, set()).add(state)
        if EMPHASIS in found:
            emphasized.add(option)
    return states, emphasized


def _choices(f: Field) -> tuple[str, ...]:
    return ("是", "否") if f.kind is Kind.BOOL else f.choices


def _multiple(segment: str, options: tuple[str, ...], states: dict[str, set[str]],
              singled_out: list[str]) -> tuple[str, str, str] | None:
    checked = [o for o in options if "checked" in states.get(o, ())]
    if checked:
        return "value", "、".join(checked), ""
    if singled_out:
        return "unreadable", "、".join(singled_out), "emphasis"
    if any("unchecked" in s for s in states.values()):
        return "blank", "", ""
    return ("value", segment.replace(EMPHASIS, "").strip(STRIP), "") if states else None


def boxes(segment: str, f: Field) -> tuple[str, str, str] | None:
    """Which option is ticked, as (``value`` | ``blank`` | ``unreadable``, text, why): why is
    ``both`` (two options ticked), ``emphasis`` (none ticked, but some bold or underlined: what
    the writer meant cannot be told) or "". ``None`` when the segment has none of the options."""
    segment = re.split(r"请\s*注\s*明", segment)[0]
    options = _choices(f)
    states, emphasized = _box_states(segment, options)
    # emphasis singles an option out only where its fellows are not emphasized too
    singled_out = [o for o in options if o in emphasized] if emphasized != set(states) else []
    if f.kind is Kind.MULTI:
        return _multiple(segment, options, states, singled_out)
    checked = [o for o in options if "checked" in states.get(o, ())]
    if len(checked) == 1:
        return "value", checked[0], ""
    if len(checked) > 1:
        return "unreadable", "、".join(checked), "both"
    if singled_out:
        return "unreadable", "、".join(singled_out), "emphasis"
    plain = [o for o in options if states.get(o) == {"plain"}]
    if len(plain) == 1 and not any("unchecked" in s for s in states.values()):
        return "value", plain[0], ""
    if states:
        return "blank", "", ""
    text = segment.replace(EMPHASIS, "").strip(STRIP)
    if f.kind is Kind.BOOL and 0 < len(text) <= 4:
        try:
            value = parse_bool(text, f.label)
        except ParseError:
            return None
        return "value", "是" if value else "否", ""
    return None


def _squashed(text: str) -> str:
    return re.sub(r"\s+", "", normal(text)).casefold()


def options_go_on(segment: str, following: str, f: Field) -> bool:
    """Whether the boxes after a 是/否, choice or multiple choice label go on in the ``following``
    line, as in a PDF whose line broke among them (「…☐区块链」, then 「☐工业AR/VR」): it starts
    with a box or tick and one of the options, or the segment ends in a box or inside an option
    that the following line completes (「☐数字」, then 「孪生 ☐区块链」)."""
    options = _choices(f)
    head = following.lstrip(" \u3000")
    marked = compiled(rf"^[{re.escape(MARKS + EMPHASIS)}]+[ \u3000]*(?:{'|'.join(map(loose_pattern, options))})")
    if marked.match(head):
        return True
    last_box = max((segment.rfind(box) for box in MARKS + EMPHASIS), default=-1)
    if last_box < 0:
        return False
    tail = _squashed(segment[last_box + 1:])
    joined = tail + _squashed(head)
    return any(len(tail) < len(option) and joined.startswith(option) for option in map(_squashed, options))
