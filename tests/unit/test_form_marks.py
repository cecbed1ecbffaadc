"""The marks that answer a box (domain/form_marks.py): the symbol fonts' tick and box code points
as Word and WPS store them, under every name a .docx or a PDF gives the font."""
import pytest

from xkxl_intranet.domain.checks import FORM_2022
from xkxl_intranet.domain.form_marks import (
    CHECKED,
    TICKS,
    UNCHECKED,
    is_option_word,
    option_words,
    readable_marks,
    symbol_char,
    symbol_font,
)


@pytest.mark.parametrize(("name", "font"), [
    ("Wingdings", "Wingdings"), ("ABCDEF+Wingdings-Regular", "Wingdings"), ("Wingdings 2", "Wingdings 2"),
    ("Wingdings2", "Wingdings 2"), ("PUGXWG+Wingdings-2,", "Wingdings 2"), ("SymbolMT", "Symbol"),
    ("Symbol", "Symbol"), ("Wingdings 3", None), ("SimSun", None), ("", None), (None, None)])
def test_symbol_fonts_under_the_names_documents_give_them(name, font):
    assert symbol_font(name) == font


@pytest.mark.parametrize(("font", "code", "mark"), [
    ("Wingdings", 0xFE, "☑"), ("Wingdings", 0xFD, "☒"), ("Wingdings", 0xFC, "✓"), ("Wingdings", 0xFB, "✗"),
    ("Wingdings", 0xA8, "◻"), ("Wingdings", 0x6F, "□"), ("Wingdings", 0x71, "❑"), ("Wingdings", 0x78, "⌧"),
    ("Wingdings 2", 0x52, "☑"), ("Wingdings 2", 0x54, "☒"), ("Wingdings 2", 0x50, "✓"), ("Wingdings 2", 0xA3, "□"),
    ("Wingdings 2", 0x2A, "□"), ("Wingdings 2", 0xA8, "▣"), ("Symbol", 0xD6, "√")])
def test_each_code_as_the_letter_or_its_private_use_code_point(font, code, mark):
    assert symbol_char(font, code) == mark == symbol_char(font, 0xF000 + code)
    assert mark in CHECKED + TICKS + UNCHECKED


def test_codes_that_are_no_mark_and_fonts_that_are_no_symbol_font():
    assert symbol_char("Wingdings", ord("R")) is None  # Wingdings R is a sun, Wingdings 2 R is ☑
    assert symbol_char("Wingdings 2", ord("R")) == "☑"
    assert symbol_char("SimSun", 0xF0FE) is None


def test_without_a_font_name_a_code_reads_as_the_mark_every_font_agrees_on():
    assert readable_marks("\uf0fe是 \uf0a3否 \uf052") == "☑是 □否 ☑"
    # 0xA8: Wingdings' empty box, Wingdings 2's filled one: left as it is
    assert readable_marks("\uf0a8是") == "\uf0a8是"
    assert readable_marks("\uf0b7 列表") == "\uf0b7 列表"  # Symbol's bullet is no box


def test_an_option_alone_in_a_run():
    options = option_words(FORM_2022)
    assert is_option_word("是", options) and is_option_word(" □否 ", options)
    assert is_option_word("工业 AR/VR", options) and is_option_word("５ｇ", options)
    assert is_option_word("合作共建", options)
    assert not is_option_word("是否", options) and not is_option_word("大数据平台", options)
    assert not is_option_word("", options)
