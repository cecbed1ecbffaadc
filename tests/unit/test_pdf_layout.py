"""A PDF page's lines rebuilt from where its glyphs and rules are drawn (files/pdf_layout.py),
pure: the drawing order of the content stream does not matter, a table row reads as a .docx row
does (cells joined by tabs, a cell's wrapped lines joined), an underline is no border."""
from __future__ import annotations

import random

import pytest

from xkxl_intranet.files.pdf_layout import MAX_RULES, MAX_WORK, Box, Glyph, join_wrapped, page_lines

SIZE = 12.0


def _width(char: str, size: float) -> float:
    return size if ord(char) >= 0x2E80 or char in "☑☐□" else size / 2


def glyphs(text: str, x: float, y: float, size: float = SIZE) -> list[Glyph]:
    """``text`` drawn from (x, baseline y), a CJK character square, any other half as wide;
    a space advances without a glyph."""
    out = []
    for char in text:
        width = _width(char, size)
        if char != " ":
            out.append(Glyph(char, x, y - 0.12 * size, x + width, y + 0.88 * size, size))
        x += width
    return out


def rule(x0: float, y0: float, x1: float, y1: float, stroke: float = 0.5) -> Box:
    """A stroked line as PDFium bounds it (the stroke's width around it)."""
    half = stroke / 2
    return Box(min(x0, x1) - half, min(y0, y1) - half, max(x0, x1) + half, max(y0, y1) + half)


def grid(columns: list[float], rows: list[float]) -> list[Box]:
    """A full grid: every row line across all columns, every column line down all rows."""
    return ([rule(columns[0], y, columns[-1], y) for y in rows]
            + [rule(x, rows[0], x, rows[-1]) for x in columns])


def test_portions_drawn_apart_read_in_their_places():
    """LibreOffice draws a line's symbol-font portion (the boxes) before its Chinese one."""
    line = glyphs("☑自建 ☐合作共建 请注明合作企业名称：", 100, 700)
    symbols = [g for g in line if g.char in "☑☐"]
    chinese = [g for g in line if g.char not in "☑☐"]
    assert page_lines(symbols + chinese) == ["☑自建 ☐合作共建 请注明合作企业名称："]
    quoted = glyphs("服务地方获“六稳”“六保”省部级荣誉数量：1 个", 100, 600)
    quotes = [g for g in quoted if g.char in "“”"]
    assert page_lines(quotes + [g for g in quoted if g.char not in "“”"]) == [
        "服务地方获“六稳”“六保”省部级荣誉数量：1 个"]


def test_lines_run_top_to_bottom_whatever_the_drawing_order():
    drawn = glyphs("第二行", 100, 680) + glyphs("第一行 text", 100, 700) + glyphs("第三行", 100, 660)
    random.Random(7).shuffle(drawn)
    assert page_lines(drawn) == ["第一行 text", "第二行", "第三行"]


def test_a_gap_is_one_space_and_spaces_do_not_pile_up():
    words = glyphs("Page", 72, 700) + glyphs("12", 72 + 2 * SIZE + 20, 700)
    assert page_lines(words) == ["Page 12"]
    spaced = glyphs("目", 72, 700) + [Glyph(" ", 84, 698.6, 90, 710.6, SIZE)] * 3 + glyphs("录", 108, 700)
    assert page_lines(spaced) == ["目 录"]
    # the letters of a ligature share its box: both stay, in their order
    ligature = glyphs("o", 72, 700) + [Glyph(c, 78, 698.6, 90, 710.6, SIZE) for c in "ffi"] + glyphs("ce", 90, 700)
    assert page_lines(ligature) == ["office"]


# 表一's rows as the template lays them out: label, value, label, value (points)
COLUMNS = [70.0, 155.0, 331.0, 416.0, 535.0]


def test_a_table_row_reads_as_its_cells_joined_by_tabs_with_wrapped_cells_joined():
    rows = [720.0, 690.0, 660.0]
    page = (glyphs("职务", 76, 705) + glyphs("数字化事业部", 161, 705) + glyphs("总经理", 161, 692)
            + glyphs("手机", 337, 705) + glyphs("1380000123", 422, 705) + glyphs("4", 422, 692)
            + glyphs("总资产（万", 76, 675) + glyphs("元）", 76, 662) + glyphs("208,000.00", 161, 675)
            + glyphs("负债率", 337, 675) + glyphs("40.50%", 422, 675))
    random.Random(3).shuffle(page)
    assert page_lines(page, grid(COLUMNS, rows)) == ["职务\t数字化事业部总经理\t手机\t13800001234",
                                                     "总资产（万元）\t208,000.00\t负债率\t40.50%"]


def test_an_underlined_blank_is_not_a_border():
    """The template underlines what the enterprise writes: the underline touches no column rule,
    so the value's second line stays in its cell."""
    columns, rows = [70.0, 172.0, 535.0], [720.0, 680.0]
    page = (glyphs("IaaS基础设施", 76, 705) + glyphs("☐自建 ☑租用 请注明服务商名称：中国", 178, 705)
            + glyphs("电信天翼云", 178, 690))
    underlines = [rule(178 + 15 * SIZE, 702, 530, 702, 1.4), rule(178, 687, 178 + 5 * SIZE, 687, 1.4)]
    assert page_lines(page, grid(columns, rows) + underlines) == [
        "IaaS基础设施\t☐自建 ☑租用 请注明服务商名称：中国电信天翼云"]


def test_a_cell_spanning_rows_goes_with_its_first_row_and_shading_snaps_onto_the_borders():
    rows = [720.0, 705.0, 690.0, 675.0]
    columns = [70.0, 155.0, 212.0, 535.0]
    borders = ([rule(70, y, 535, y) for y in (rows[0], rows[-1])] + [rule(155, y, 535, y) for y in rows[1:-1]]
               + [rule(x, rows[-1], x, rows[0]) for x in columns])
    shading = [Box(70.25, 675.25, 154.75, 719.75), Box(155.25, 705.25, 211.75, 719.75)]  # filled, inside
    page = (glyphs("联系人", 76, 709) + glyphs("姓名", 161, 709) + glyphs("张三", 218, 709)
            + glyphs("职务", 161, 694) + glyphs("总经理", 218, 694) + glyphs("传真", 161, 679))
    assert page_lines(page, borders + shading) == ["联系人\t姓名\t张三", "职务\t总经理", "传真"]


def test_text_around_a_table_keeps_its_place_and_a_frame_keeps_its_lines():
    rows = [650.0, 630.0]
    page = (glyphs("（1）工业互联网平台基本信息", 72, 660) + glyphs("平台名称", 76, 636)
            + glyphs("测试平台", 161, 636) + glyphs("（2）工业互联网平台能力介绍", 72, 610))
    assert page_lines(page, grid([70.0, 155.0, 535.0], rows)) == [
        "（1）工业互联网平台基本信息", "平台名称\t测试平台", "（2）工业互联网平台能力介绍"]
    frame = [Box(40, 40, 555, 800)]  # a page border: one cell alone in its row
    assert page_lines(glyphs("第一行", 72, 700) + glyphs("第二行", 72, 680), frame) == ["第一行", "第二行"]


def test_a_page_drawing_more_rules_than_a_form_reads_as_plain_lines():
    rows = [720.0, 690.0]
    page = glyphs("平台名称", 76, 705) + glyphs("测试平台", 161, 705)
    hatching = [rule(600, 10 + i * 0.01, 610, 10 + i * 0.01) for i in range(MAX_RULES)]
    assert page_lines(page, grid([70.0, 155.0, 535.0], rows)) == ["平台名称\t测试平台"]
    assert page_lines(page, grid([70.0, 155.0, 535.0], rows) + hatching) == ["平台名称 测试平台"]
    # fewer rules, but so many glyphs besides that finding each one's cell would take too long
    columns = [70.0, 155.0, 240.0] + [245.0 + 5 * i for i in range(40)]
    assert page_lines(page, grid(columns, rows)) == ["平台名称\t测试平台"]
    crowd = [Glyph("字", 72 + i % 400, 100 + i // 400 * 0.5, 73 + i % 400, 101 + i // 400 * 0.5, 1.0)
             for i in range(MAX_WORK // (len(columns) + len(rows)) + 1)]
    assert page_lines(page + crowd, grid(columns, rows))[0] == "平台名称 测试平台"


@pytest.mark.parametrize(("lines", "joined"), [
    (["数字化事业部", "总经理"], "数字化事业部总经理"),
    (["zhangsan@e", "xample.com"], "zhangsan@example.com"),
    (["028-", "86264036"], "028-86264036"),
    (["208,000.", "00"], "208,000.00"),
    (["Chengdu Smart Manufacturing", "Cloud Co., Ltd."], "Chengdu Smart Manufacturing Cloud Co., Ltd."),
    (["☐自建 ☑租用 请注明服务商名称：China", "Telecom"], "☐自建 ☑租用 请注明服务商名称：China Telecom"),
    (["四川某某", "", "Cloud"], "四川某某Cloud"),
])
def test_a_cells_wrapped_lines_join_as_the_paragraph_they_are(lines, joined):
    assert join_wrapped(lines) == joined
