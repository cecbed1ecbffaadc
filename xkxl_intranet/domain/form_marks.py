"""The marks that answer a box of the 申报书 (是/否, 建设方式, 运用技术 …): which characters tick an
option, which are an empty box, what the symbol fonts' code points stand for, and the sign the
files side puts before an option marked only by bold or underline. Pure.

Word and WPS insert a ticked box as a character of a symbol font (插入 → 符号). A .docx keeps the
font and the code, as ``<w:sym w:font="Wingdings" w:char="F0FE"/>`` or as a run in that font whose
text is the code's letter (``R`` in Wingdings 2) or its private-use code point; a PDF exported
from it maps the glyph to U+F000 + code (Windows' convention for symbol fonts), with the font's
name beside it. :data:`SYMBOL_FONTS` says, per font, what each code that can answer a box stands
for. The code points follow the Unicode mappings of the fonts (Unicode 6.0/7.0 encoded Wingdings
and Wingdings 2; Adobe's Symbol encoding), e.g. Wingdings 0xFE BALLOT BOX WITH CHECK, 0x6F WHITE
SQUARE, 0x78 X IN A RECTANGLE BOX; Wingdings 2 0x52 BALLOT BOX WITH CHECK, 0x50 LIGHT CHECK MARK,
0xA3 WHITE SQUARE, 0x2A EMPTY NOTE PAGE (an empty rectangle, used as a box); Symbol 0xD6 SQUARE
ROOT (√, the tick typed in Chinese documents). Where Unicode's character is not one of
:data:`CHECKED`, :data:`TICKS` or :data:`UNCHECKED` (🗸, 🗵, ⮽, 🗴, EMPTY NOTE PAGE, Wingdings'
bold white square without an equivalent), the table gives the one of them that means the same.

Without the font's name (a PDF whose text layer lost it, text pasted from one) a private-use code
is read by :func:`readable_marks` as the mark it is in every symbol font that has a mark there;
where the fonts disagree (0xA8: Wingdings ◻ empty, Wingdings 2 ▣ filled) it stays unread.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from .declaration import Form
from .indicators import Kind

__all__ = ["CHECKED", "TICKS", "UNCHECKED", "MARKS", "EMPHASIS", "SYMBOL_FONTS", "option_words", "symbol_font",
           "symbol_char", "readable_marks", "is_option_word"]

CHECKED = "☑☒■▣◼●◉⊠⌧✗✘"  # a box ticked, crossed or filled
TICKS = "√✓✔"  # a tick written before or after an option, without a box
UNCHECKED = "□☐○◻❑❒〇⬜"  # an empty box
MARKS = CHECKED + TICKS + UNCHECKED

# Put by the files side before an option that is bold, underlined or highlighted (and whose
# fellow options are not): a Unicode noncharacter, which documents never carry (the files side
# removes any it finds in the text first).
EMPHASIS = "\ufdd0"

# code -> the mark it stands for, per symbol font (keys as :func:`symbol_font` gives them)
SYMBOL_FONTS: dict[str, dict[int, str]] = {
    "Wingdings": {
        0x6C: "●",  # circle6, BLACK CIRCLE
        0x6E: "■",  # square6, BLACK SQUARE
        0x6F: "□",  # box3, WHITE SQUARE
        0x70: "□",  # box4, bold white square (no Unicode equivalent)
        0x71: "❑",  # boxshadowdwn, LOWER RIGHT SHADOWED WHITE SQUARE
        0x72: "❒",  # boxshadowup, UPPER RIGHT SHADOWED WHITE SQUARE
        0x78: "⌧",  # clear, X IN A RECTANGLE BOX
        0xA1: "○",  # ring2, WHITE CIRCLE
        0xA4: "◉",  # ringbutton2, FISHEYE
        0xA8: "◻",  # box2, WHITE MEDIUM SQUARE
        0xFB: "✗",  # xmarkbld, BALLOT X
        0xFC: "✓",  # checkbld, CHECK MARK
        0xFD: "☒",  # boxxmarkbld, BALLOT BOX WITH X
        0xFE: "☑",  # boxcheckbld, BALLOT BOX WITH CHECK
    },
    "Wingdings 2": {
        0x2A: "□",  # EMPTY NOTE PAGE (U+1F5C6): an empty rectangle
        0x4F: "✗",  # BALLOT SCRIPT X (U+1F5F4)
        0x50: "✓",  # LIGHT CHECK MARK (U+1F5F8)
        0x51: "☒",  # BALLOT BOX WITH SCRIPT X (U+1F5F5)
        0x52: "☑",  # BALLOT BOX WITH CHECK
        0x53: "☒",  # BALLOT BOX WITH LIGHT X (U+2BBD)
        0x54: "☒",  # BALLOT BOX WITH X
        0x9E: "◉",  # CIRCLED BULLET (U+29BF)
        0xA2: "■",  # BLACK SQUARE
        0xA3: "□",  # WHITE SQUARE
        0xA8: "▣",  # WHITE SQUARE CONTAINING BLACK SMALL SQUARE
    },
    "Symbol": {
        0xD6: "√",  # radical, SQUARE ROOT
    },
}
_PRIVATE_USE = 0xF000  # Windows maps a symbol font's code c to U+F000 + c


def _agreed() -> dict[int, str]:
    """Each code whose mark every symbol font that has a mark there agrees on: filled, tick or empty."""
    kinds: dict[int, set[str]] = {}
    chars: dict[int, str] = {}
    for table in SYMBOL_FONTS.values():
        for code, char in table.items():
            kinds.setdefault(code, set()).add("empty" if char in UNCHECKED else "ticked")
            chars.setdefault(code, char)
    return {code: chars[code] for code, kind in kinds.items() if len(kind) == 1}


_ANY_FONT = _agreed()
_PRIVATE_USE_MARK = re.compile("[" + "".join(chr(_PRIVATE_USE + code) for code in sorted(_ANY_FONT)) + "]")


def symbol_font(name: str | None) -> str | None:
    """The key of :data:`SYMBOL_FONTS` for a font as a .docx or a PDF names it: ``Wingdings 2``,
    ``Wingdings2``, ``ABCDEF+Wingdings-Regular`` (a PDF's subset), ``SymbolMT``; None for others."""
    squashed = re.sub(r"[^a-z0-9]", "", (name or "").rpartition("+")[2].lower())
    if squashed.startswith("wingdings2"):
        return "Wingdings 2"
    if squashed.startswith("wingdings") and not squashed[9:10].isdigit():
        return "Wingdings"
    if squashed.startswith("symbol"):
        return "Symbol"
    return None


def symbol_char(font: str | None, code: int) -> str | None:
    """The mark a symbol font's ``code`` (0x20-0xFF, or its private-use U+F020-U+F0FF) stands for;
    None where it is no mark (or the font is no symbol font)."""
    table = SYMBOL_FONTS.get(symbol_font(font) or "")
    if table is None:
        return None
    return table.get(code - _PRIVATE_USE if _PRIVATE_USE <= code <= _PRIVATE_USE + 0xFF else code)


def readable_marks(text: str) -> str:
    """``text`` with the private-use code points of symbol fonts that every font agrees is a mark
    replaced by that mark (a PDF's text whose fonts were not named); anything else as it is."""
    if not _PRIVATE_USE_MARK.search(text):
        return text
    return _PRIVATE_USE_MARK.sub(lambda m: _ANY_FONT[ord(m.group()) - _PRIVATE_USE], text)


@lru_cache(maxsize=16)
def option_words(form: Form) -> frozenset[str]:
    """Every option a box of ``form``'s 申报书 offers (是/否 and each choice), squashed as
    :func:`is_option_word` compares them."""
    words = {"是", "否"}
    for section in form.sections:
        for f in section.fields:
            if f.kind in (Kind.CHOICE, Kind.MULTI):
                words.update(f.choices)
    return frozenset(unicodedata.normalize("NFKC", word).upper() for word in words)


_NOT_WORD = re.compile(r"[\s" + re.escape(MARKS) + "]+")


def is_option_word(text: str, options: frozenset[str]) -> bool:
    """Whether ``text`` (a run of a .docx, a bold or underlined stretch of a PDF line) is one of
    ``options`` (:func:`option_words`), with at most its box and spaces around it: then its
    emphasis marks that option."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text)).upper() in options

