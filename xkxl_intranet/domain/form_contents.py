"""The 申报书's 目录 (附件2 注4: 申报书需添加目录，粒度至少达到三级): whether it has one, and how many
levels of headings it shows that the document's body really has. Pure.

What a 目录 can claim and what is counted instead:

- 附件 are no level. A 目录 of two levels of headings whose third "level" is 附件1 工业设备清单 …
  附件6 (the evidence lists put after the form) shows two levels of the 申报书: entries and
  headings that start with 附件 or 附表 never count.
- Only what the body has counts. A 目录 typed by hand, left from another document, or with entries
  styled toc 3 that lead nowhere claims levels the body lacks: an entry counts only where its
  heading stands in the body, i.e. a line after the 目录 that reads as the entry without its leader,
  page number and heading number (Word's multilevel lists print 「1.1」 in the entry, not in the
  heading's text). When the body was not read to its end (a PDF is read only up to the figures, a
  long one only to its page limit), the entries after the last one found count as the 目录 shows
  them: the body that would hold them was not read. A line of the 目录 page that the body repeats
  page after page (a running header ending in its page number) is no entry.
- An entry's level:
  - .docx whose 目录 is made of entry paragraphs (styles toc 1 … toc 9, as Word's and WPS's 目录
    write them): the style's number. Word makes entry N from a heading N or an outline level N, or
    from any style a \\t switch names, so the entry's style is the level and the heading's presence
    in the body is what makes it count.
  - .docx with a 目录 field but no entries (never updated): no entries to read, so the levels of
    the body's own headings (heading N styles, outline levels) up to the field's \\o "1-N", 附件
    headings left out.
  - A 目录 printed as text (a PDF; a .docx typed by hand): the lines after the line 目录 that end
    in a page number, up to the body (the first line that is an entry's title again). A PDF knows only where text is drawn, and every office suite indents a 目录's
    levels, so there an entry's level is its indentation: entries starting within
    :data:`INDENT_SNAP` points of one another are one level. Where every entry starts at one place
    (a flat list, or a .docx's lines, which carry no position), the kind of number it starts with
    (一、 （一） （1） 1. 1.1 1.1.1) is its level, and an entry without a number has none.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from .form_marks import EMPHASIS

__all__ = ["TOC_ENTRY", "INDENT_SNAP", "Entry", "numbering_class", "is_annex", "entry_title", "text_entries",
           "counted_levels"]

TOC_ENTRY = re.compile(r"\S.*?[\t .…·_\-－—]\s*\d{1,3}\s*$")  # a title, a leader or gap, a page number
INDENT_SNAP = 4.0  # points: 目录 lines whose left edges are this close start at the same indentation
MAX_CONTENTS_LINE = 600  # the line 目录 is looked for among the document's first lines
_CN_NUMBERS = "一二三四五六七八九十"
_PAGE_NUMBER = re.compile(r"[\t .…·_\-－—]*\d{1,3}\s*$")
_ANNEX = re.compile(r"^\s*附\s*[件表]")
_MIN_PREFIX = 6  # characters: a heading line and an entry agree on at least this much when one is cut
RUNNING = 3  # a 目录 line the body repeats this often is a running header or footer, no entry


@dataclass(frozen=True)
class Entry:
    """One entry of the 目录: the line it is on, its level (None: unknown) and its title."""

    line: int
    level: int | str | None  # a style's number, an indentation's rank or a kind of number
    title: str  # squashed: no spaces, leader, page number or star


def numbering_class(text: str) -> str | None:
    """The kind of number a heading or 目录 entry starts with: 一、 （一） （1） 1. 1.1 1.1.1 附件1."""
    text = unicodedata.normalize("NFKC", text).strip()
    for name, pattern in (("cn", rf"[{_CN_NUMBERS}]+\s*、"), ("cn()", rf"\(\s*[{_CN_NUMBERS}]+\s*\)"),
                          ("n()", r"\(\s*\d+\s*\)"), ("n.n.n", r"\d+\s*\.\s*\d+\s*\.\s*\d+"),
                          ("n.n", r"\d+\s*\.\s*\d+"), ("n.", r"\d+\s*[.、](?!\d)"), ("att", r"附\s*件\s*\d")):
        if re.match(pattern, text):
            return name
    return None


def is_annex(text: str) -> bool:
    """附件1 工业设备清单, 附表 …: what is appended to the 申报书, not one of its headings."""
    return bool(_ANNEX.match(unicodedata.normalize("NFKC", text).replace(EMPHASIS, "")))


# A heading's number: Word's multilevel lists print it in the 目录's entry but keep it out of the
# heading's text, so titles are compared without it.
_HEADING_NUMBER = re.compile(rf"^(?:\d+(?:\.\d+)*[.、]?|第[{_CN_NUMBERS}\d]+[章节部分篇][、.]?|[{_CN_NUMBERS}]+[、.]"
                             rf"|\([{_CN_NUMBERS}\d]+\))")


def _squashed(text: str) -> str:
    """A title as compared: no spaces, stars or number before it."""
    squashed = re.sub(rf"[\s*{EMPHASIS}]+", "", unicodedata.normalize("NFKC", text)).casefold()
    return _HEADING_NUMBER.sub("", squashed, count=1)


def entry_title(entry: str) -> str:
    """A 目录 entry's title as compared with the body's lines: without its leader, page number
    and heading number, squashed."""
    return _squashed(_PAGE_NUMBER.sub("", entry))


def _indent_levels(lefts: Sequence[float]) -> list[int] | None:
    """Each left edge's indentation rank; None when they all start at one place."""
    starts: list[float] = []
    for left in sorted(lefts):
        if not starts or left - starts[-1] > INDENT_SNAP:
            starts.append(left)
    if len(starts) < 2:
        return None
    return [max(i for i, start in enumerate(starts) if left >= start - 0.01) for left in lefts]


def _entry_lines(lines: Sequence[str], first: int, body_start: int) -> list[int]:
    """The 目录's entry lines from ``first``: lines ending in a page number, up to the body (the
    first line that is the title of an entry already seen, or ``body_start``)."""
    numbers: list[int] = []
    titles: set[str] = set()
    for index in range(first, body_start):
        line = lines[index]
        if TOC_ENTRY.fullmatch(line.strip()):
            numbers.append(index)
            titles.add(entry_title(line))
        elif titles and _squashed(line) in titles:
            break
    return numbers


def text_entries(lines: Sequence[str], lefts: Sequence[float], body_start: int) -> tuple[bool, list[Entry]]:
    """A 目录 printed as text: whether the line 目录 stands before ``body_start``, and its entries."""
    for index, line in enumerate(lines[:min(MAX_CONTENTS_LINE, body_start)]):
        if re.sub(r"\s+", "", line) in ("目录", "目次"):
            numbers = _entry_lines(lines, index + 1, body_start)
            indents = _indent_levels([lefts[i] for i in numbers]) if len(lefts) == len(lines) else None
            levels: Sequence[int | str | None] = indents or [numbering_class(lines[i]) for i in numbers]
            return True, [Entry(i, level, entry_title(lines[i])) for i, level in zip(numbers, levels, strict=True)]
    return False, []


def _in_body(title: str, body: set[str], prefixes: Sequence[str]) -> bool:
    if title in body:
        return True
    return len(title) >= _MIN_PREFIX and any(
        line.startswith(title) or (len(line) >= _MIN_PREFIX and title.startswith(line)) for line in prefixes)


def _running(title: str, body_lines: Sequence[str]) -> bool:
    """Whether ``title`` is a page's running header or footer (「…申报书 2」 ends like an entry):
    the body has it, with a page number or without, on :data:`RUNNING` lines or more."""
    pattern = re.compile(re.escape(title) + r"\d{0,3}")
    return sum(1 for line in body_lines if pattern.fullmatch(line)) >= RUNNING


def counted_levels(lines: Sequence[str], entries: Sequence[Entry], *, read_to_end: bool) -> int:
    """How many levels of the 目录's ``entries`` the body has (see the module's docstring)."""
    if not entries:
        return 0
    body_lines = [_squashed(line) for line in lines[max(e.line for e in entries) + 1:]]
    entries = [e for e in entries if e.level is not None and e.title and not is_annex(e.title)
               and not _running(e.title, body_lines)]
    body = {line for line in body_lines if line}
    prefixes = sorted(body)
    found = [_in_body(e.title, body, prefixes) for e in entries]
    last_found = max((i for i, hit in enumerate(found) if hit), default=-1)
    counted = {e.level for i, (e, hit) in enumerate(zip(entries, found, strict=True))
               if hit or (not read_to_end and i > last_found)}
    return len(counted)
