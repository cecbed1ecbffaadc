"""Where in a notice file a problem is: the loader names a problem by its table and key
(「[[section.field]] 一 第2个（credit_code）：类型 kind = “creditcode” 不存在」); an operator editing
the file also wants the line. :func:`with_lines` puts 「第N行」 before each problem it can place.

The loader reads data, not text (a round's kept copy has no text), so the lines are found
afterwards from the problem's own words: the table (``[paper]``, ``[[rule]]``…), the entry's
identifier in （…） (a field's or file's ``key``, a rule's ``id``, a section's ``code``) or its
ordinal (第3个), then the key the message names (``kind =``, “form_copies”) inside that entry.
"""
from __future__ import annotations

import re

__all__ = ["with_lines", "line_of"]

_HEADER = re.compile(r"^\s*(\[\[?)\s*([\w.]+)\s*\]\]?\s*(#.*)?$")
_PLACE = re.compile(r"^(\[\[?)([\w.]+)\]\]?\s*(.*?)：")
_ORDINAL = re.compile(r"第(\d+)[个条列项]")
_IDENT = re.compile(r"（([^（）]*)）$")
_NAMED = re.compile(r"(?<![\w.])([a-z][a-z0-9_]*)\s*=|“([a-z][a-z0-9_]*)”")
# What names an entry of each array of tables.
_IDENTIFIER = {"section": "code", "section.field": "key", "rule": "id", "file": "key",
               "criteria.dimension": "key", "criteria.dimension.indicator": "key"}


def _blocks(lines: list[str]) -> list[tuple[str, int, int]]:
    """(table name, first line index, end index) of every [table] and [[array]] header."""
    found = []
    for i, line in enumerate(lines):
        m = _HEADER.match(line)
        if m:
            found.append((m.group(2), i))
    ends = [start for _name, start in found[1:]] + [len(lines)]
    return [(name, start, end) for (name, start), end in zip(found, ends, strict=True)]


def _assigns(lines: list[str], start: int, end: int, name: str, value: str | None = None) -> int | None:
    pattern = re.compile(rf"^\s*{re.escape(name)}\s*=" + (rf"\s*\"{re.escape(value)}\"" if value else ""))
    return next((i for i in range(start, end) if pattern.match(lines[i])), None)


def line_of(text: str, problem: str) -> int | None:
    """The 1-based line of ``problem`` (a loader message) in the notice file ``text``, or None."""
    place = _PLACE.match(problem)
    if place is None:
        return None
    table, rest = place.group(2), place.group(3)
    lines = text.splitlines()
    blocks = [(start, end) for name, start, end in _blocks(lines) if name == table]
    if not blocks:
        return None
    chosen = None
    ident = _IDENT.search(rest)
    if ident and ident.group(1) not in ("", "?") and table in _IDENTIFIER:
        chosen = next(((s, e) for s, e in blocks
                       if _assigns(lines, s, e, _IDENTIFIER[table], ident.group(1)) is not None), None)
    ordinal = _ORDINAL.search(rest)
    # 第N个 counts the whole file unless a scope comes first (「一 第2个」: the 2nd field of section 一)
    if chosen is None and ordinal and place.group(1) == "[[" and rest.startswith("第"):
        n = int(ordinal.group(1))
        chosen = blocks[n - 1] if 0 < n <= len(blocks) else None
    if chosen is None and place.group(1) == "[":
        chosen = blocks[0]
    if chosen is None:
        return None
    start, end = chosen
    message = problem[place.end():]
    for m in _NAMED.finditer(message):
        at = _assigns(lines, start, end, m.group(1) or m.group(2))
        if at is not None:
            return at + 1
    return start + 1


def with_lines(text: str, problems: list[str]) -> list[str]:
    """Each problem with 「第N行 」 before it where its line can be found."""
    placed = []
    for problem in problems:
        line = line_of(text, problem)
        placed.append(f"第{line}行 {problem}" if line is not None else problem)
    return placed
