"""A PDF page's text in reading order, rebuilt from where each glyph is drawn and from the rules
(lines, rectangles) drawn around it. Pure: ``files/form_text.py`` takes the glyphs and rules from
PDFium and hands them here.

Why positions and not the order of the content stream: a PDF need not draw its text in reading
order. LibreOffice draws a line's symbol and Latin portions apart from its Chinese one (the ☑ ☐
of 「☑自建 ☐合作共建」 and the quotes of 「“平台+园区”」 come before or after the Chinese words,
not between them), and draws a table cell's second line after the rest of its row, so that
「数字化事业部总经理」 wrapped in its cell reads as 「数字化事业部」 and, a line later, 「总经理」.

- Lines: glyphs whose vertical centres are within half a glyph's height are one line, ordered
  left to right; a gap wider than :data:`SPACE` font sizes is a space.
- Table cells: the horizontal and vertical rules drawn, each of whose ends meets a crossing rule
  (so an underlined blank or a struck-through word is no border); a glyph's cell is bounded by
  the nearest such rule on each side. Cells with the same top rule are a row. A row of two or
  more cells with text becomes one line, its cells left to right joined by tabs and each cell's
  wrapped lines joined into one: the shape a .docx table row has when read (``form_text``).
  A frame around the page or a shaded paragraph (one cell alone in its row) stays plain lines.
- Emphasis: an option of a box (「是」, 「自建」 …) drawn bold (``Glyph.emphasis``, from the font)
  or underlined (a rule just under it) while the glyphs beside it are not is preceded by
  :data:`~xkxl_intranet.domain.form_marks.EMPHASIS`, as a .docx's bold run is: the reader then
  knows that option was singled out without a tick.
- Each line keeps where it starts (its left edge), for the 目录's indentation.
"""
from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from ..domain.form_marks import EMPHASIS, is_option_word

__all__ = ["Glyph", "Box", "PageLine", "page_lines", "page_layout", "join_wrapped", "MAX_RULES", "MAX_WORK"]

THIN = 2.5  # points: a rule is at most this thick; a larger filled rectangle gives its four edges
SNAP = 2.0  # rules this close to one another are one rule
TOUCH = 2.5  # how close a rule's end comes to the rule it meets
SPACE = 0.25  # a gap wider than this many font sizes between two glyphs is a space
MAX_RULES = 4000  # a page drawing more rules (a diagram) is read as plain lines
MAX_WORK = 2_000_000  # glyphs × borders: beyond it (a hostile page), plain lines too


@dataclass(frozen=True, slots=True)
class Glyph:
    """One character as drawn: its font box (PDF points, y upwards) and font size."""

    char: str
    left: float
    bottom: float
    right: float
    top: float
    size: float
    emphasis: bool = False  # drawn bold (or, once the rules are known, underlined)
    x: float = field(init=False)  # the box's centre
    y: float = field(init=False)
    height: float = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "x", (self.left + self.right) / 2)
        object.__setattr__(self, "y", (self.bottom + self.top) / 2)
        object.__setattr__(self, "height", max(self.top - self.bottom, self.size * 0.5, 0.1))


@dataclass(frozen=True)
class Box:
    """The bounds of a drawn path (a rule, a cell's border or shading)."""

    left: float
    bottom: float
    right: float
    top: float


@dataclass(frozen=True)
class _Rule:
    at: float  # y of a horizontal rule, x of a vertical one
    start: float
    end: float

    def spans(self, position: float) -> bool:
        return self.start - TOUCH <= position <= self.end + TOUCH


# ---------------------------------------------------------------- rules

def _edges(boxes: Iterable[Box]) -> tuple[list[_Rule], list[_Rule]]:
    horizontal: list[_Rule] = []
    vertical: list[_Rule] = []
    for b in boxes:
        width, height = b.right - b.left, b.top - b.bottom
        if width <= THIN and height <= THIN:
            continue
        if height <= THIN:
            horizontal.append(_Rule((b.top + b.bottom) / 2, b.left, b.right))
        elif width <= THIN:
            vertical.append(_Rule((b.left + b.right) / 2, b.bottom, b.top))
        else:
            horizontal += [_Rule(b.bottom, b.left, b.right), _Rule(b.top, b.left, b.right)]
            vertical += [_Rule(b.left, b.bottom, b.top), _Rule(b.right, b.bottom, b.top)]
    return horizontal, vertical


def _snapped(rules: list[_Rule]) -> list[_Rule]:
    """Rules a stroke apart (a border and the edge of a cell's shading) put on one line, and
    pieces of one line joined."""
    rules = sorted(rules, key=lambda r: r.at)
    groups: list[list[_Rule]] = []
    for rule in rules:
        if groups and rule.at - groups[-1][0].at <= SNAP:
            groups[-1].append(rule)
        else:
            groups.append([rule])
    joined: list[_Rule] = []
    for group in groups:
        at = sum(r.at for r in group) / len(group)
        pieces = sorted(group, key=lambda r: r.start)
        start, end = pieces[0].start, pieces[0].end
        for piece in pieces[1:]:
            if piece.start <= end + SNAP:
                end = max(end, piece.end)
            else:
                joined.append(_Rule(at, start, end))
                start, end = piece.start, piece.end
        joined.append(_Rule(at, start, end))
    return joined


class _Index:
    """Rules of one direction sorted by position, for 'the nearest one before/after'."""

    def __init__(self, rules: list[_Rule]):
        self.rules = sorted(rules, key=lambda r: r.at)
        self.positions = [r.at for r in self.rules]

    def near(self, at: float, across: float) -> bool:
        """Whether a rule at ``at`` (± TOUCH) spans ``across``."""
        first = bisect.bisect_left(self.positions, at - TOUCH)
        last = bisect.bisect_right(self.positions, at + TOUCH)
        return any(r.spans(across) for r in self.rules[first:last])

    def within(self, low: float, high: float, across: float) -> bool:
        """Whether a rule between ``low`` and ``high`` spans ``across``."""
        first = bisect.bisect_left(self.positions, low)
        last = bisect.bisect_right(self.positions, high)
        return any(r.spans(across) for r in self.rules[first:last])

    def before(self, at: float, across: float) -> _Rule | None:
        for index in range(bisect.bisect_right(self.positions, at) - 1, -1, -1):
            if self.rules[index].spans(across):
                return self.rules[index]
        return None

    def after(self, at: float, across: float) -> _Rule | None:
        for index in range(bisect.bisect_left(self.positions, at), len(self.rules)):
            if self.rules[index].spans(across):
                return self.rules[index]
        return None


def _borders(boxes: Iterable[Box]) -> tuple[_Index, _Index] | None:
    """Horizontal and vertical rules that meet crossing rules at both ends: a table's borders."""
    horizontal, vertical = _edges(boxes)
    if len(horizontal) + len(vertical) > MAX_RULES:
        return None
    horizontal, vertical = _snapped(horizontal), _snapped(vertical)
    across_h, across_v = _Index(vertical), _Index(horizontal)
    rows = [r for r in horizontal if across_h.near(r.start, r.at) and across_h.near(r.end, r.at)]
    columns = [r for r in vertical if across_v.near(r.start, r.at) and across_v.near(r.end, r.at)]
    if not rows or not columns:
        return None
    return _Index(rows), _Index(columns)


def _cell(glyph: Glyph, rows: _Index, columns: _Index) -> tuple[float, float, float, float] | None:
    """The cell around a glyph: its left, right, top and bottom rules; None outside a table."""
    x, y = glyph.x, glyph.y
    left, right = columns.before(x, y), columns.after(x, y)
    if left is None or right is None:
        return None
    bottom, top = rows.before(y, x), rows.after(y, x)
    if bottom is None or top is None:
        return None
    return left.at, right.at, top.at, bottom.at


# ---------------------------------------------------------------- lines

def _line_text(glyphs: Sequence[Glyph], options: frozenset[str]) -> str:
    """One line's glyphs left to right; a wide gap or a drawn space is one space."""
    out: list[str] = []
    emphasized: list[bool] = []
    previous: Glyph | None = None
    pending = False
    for glyph in sorted(glyphs, key=lambda g: g.left):  # stable: a ligature's letters keep their order
        if glyph.char.isspace():
            pending = True
            continue
        if previous is not None and (pending or glyph.left - previous.right > SPACE * min(glyph.size, previous.size)):
            out.append(" ")
            emphasized.append(glyph.emphasis and previous.emphasis)
        out.append(glyph.char)
        emphasized.append(glyph.emphasis)
        previous, pending = glyph, False
    return _marked(out, emphasized, options) if any(emphasized) and options else "".join(out)


def _marked(chars: list[str], emphasized: list[bool], options: frozenset[str]) -> str:
    """The line with :data:`EMPHASIS` before each emphasized stretch that is one option."""
    out: list[str] = []
    index = 0
    while index < len(chars):
        end = index
        while end < len(chars) and emphasized[end]:
            end += 1
        if end > index and is_option_word("".join(chars[index:end]), options):
            out.append(EMPHASIS)
        out.extend(chars[index:max(end, index + 1)])
        index = max(end, index + 1)
    return "".join(out)


def _lines(glyphs: Iterable[Glyph], options: frozenset[str]) -> list[tuple[float, float, str]]:
    """Glyphs grouped into lines (top to bottom): each line's top, left and text."""
    grouped: list[list[Glyph]] = []
    for glyph in sorted(glyphs, key=lambda g: -g.y):
        if grouped:
            first = grouped[-1][0]
            if abs(first.y - glyph.y) <= 0.5 * min(first.height, glyph.height):
                grouped[-1].append(glyph)
                continue
        grouped.append([glyph])
    lines = []
    for line in grouped:
        text = _line_text(line, options)
        if text:
            lines.append((max(g.top for g in line), min(g.left for g in line if not g.char.isspace()), text))
    return lines


_WORD_END = re.compile(r"[A-Za-z0-9]$")
_WORD_START = re.compile(r"^[A-Za-z0-9]")


def join_wrapped(lines: Iterable[str]) -> str:
    """A cell's lines as the one paragraph they are: a Chinese text, a number, an e-mail or a
    phone number broken at the cell's edge join without a space; Latin words wrapped at a space
    (the line before holds more than the one word broken) join with one."""
    text, previous = "", ""
    for line in (line.strip() for line in lines):
        if not line:
            continue
        if _WORD_END.search(text) and _WORD_START.search(line) and " " in previous:
            text += " "
        text += line
        previous = line
    return text


@dataclass(frozen=True)
class PageLine:
    text: str
    left: float  # where the line (a table row: its first cell's text) starts, in points


def _underlined(glyphs: Sequence[Glyph], boxes: Sequence[Box]) -> list[Glyph]:
    """The glyphs, those with a rule drawn just under them (between a quarter of the font size
    below the glyph's box and its middle) marked emphasized."""
    horizontal = _Index(_edges(boxes)[0])
    if not horizontal.rules:
        return list(glyphs)
    return [replace(glyph, emphasis=True) if not glyph.emphasis and not glyph.char.isspace()
            and horizontal.within(glyph.bottom - 0.25 * glyph.size, glyph.y, glyph.x) else glyph
            for glyph in glyphs]


def page_layout(glyphs: Sequence[Glyph], boxes: Sequence[Box] = (), *,
                options: frozenset[str] = frozenset()) -> list[PageLine]:
    """The page's lines in reading order (top to bottom), each with where it starts; a table row
    is one line, its cells joined by tabs. ``options``: the words of a form's boxes
    (``form_marks.option_words``), an emphasized one of which is marked; none for other prints."""
    borders = _borders(boxes) if boxes else None
    if borders and len(glyphs) * (len(borders[0].rules) + len(borders[1].rules)) > MAX_WORK:
        borders = None  # finding each glyph's cell would take too long
    if boxes and len(boxes) <= MAX_RULES:
        glyphs = _underlined(glyphs, boxes)
    cells: dict[tuple[float, float, float, float], list[Glyph]] = {}
    plain: list[Glyph] = []
    for glyph in glyphs:
        key = _cell(glyph, *borders) if borders else None
        if key is None:
            plain.append(glyph)
        else:
            cells.setdefault(key, []).append(glyph)
    rows: dict[float, list[tuple[float, float, float, float]]] = {}
    for key in cells:
        rows.setdefault(key[2], []).append(key)
    items: list[tuple[float, float, str]] = []
    for top, keys in rows.items():
        if len(keys) < 2:
            plain += cells[keys[0]]
            continue
        texts = [join_wrapped([text for _, _, text in _lines(cells[key], options)]) for key in sorted(keys)]
        items.append((top, min(g.left for g in cells[min(keys)]), "\t".join(texts)))
    items += _lines(plain, options)
    return [PageLine(text, left) for _, left, text in sorted(items, key=lambda item: -item[0])]


def page_lines(glyphs: Sequence[Glyph], boxes: Sequence[Box] = (), *,
               options: frozenset[str] = frozenset()) -> list[str]:
    """The page's lines in reading order (top to bottom); a table row is one line, its cells
    joined by tabs."""
    return [line.text for line in page_layout(glyphs, boxes, options=options)]
