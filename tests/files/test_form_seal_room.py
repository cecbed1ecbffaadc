"""The 申报书模板 leaves room for the seals: the 真实性承诺 row (法定代表人签章, 公章) and the 推荐单位
row (推荐单位公章) are each at least as tall as their text and 4 cm more (``w:trHeight``
``hRule="atLeast"``), and neither splits across two pages (``w:cantSplit``), read back from the
.docx's XML; every other row keeps the height of its text."""
from __future__ import annotations

import io
import math

import docx
import pytest
from docx.oxml.ns import qn
from docx.shared import Cm, Emu

from xkxl_intranet.domain.checks import FORM_2022
from xkxl_intranet.domain.form_layout import form_blocks, texts_for
from xkxl_intranet.files.form_template import form_docx

from helpers import typed_values

SEAL_ROOM_PT = Cm(4).pt
SIGNATURES = {"真实性承诺": "法定代表人签章", "推荐单位": "推荐单位公章"}
LINE = 1.3  # a single-spaced line of a CJK font, as a multiple of its size
CELL_PADDING_PT = Cm(0.38).pt  # Word's Table Grid: 0.19 cm a side


def _text_height(cell) -> float:
    """The points the cell's text takes: every CJK character a square of the run's size, any
    other character half of one, lines as wide as the cell less its padding."""
    size = max(run.font.size.pt for p in cell.paragraphs for run in p.runs)
    text = cell.text
    wide = sum(1 for ch in text if ord(ch) >= 0x2E80)
    ems = wide + (len(text) - wide) / 2
    width = Emu(cell._tc.width).pt - CELL_PADDING_PT
    return math.ceil(ems * size / width) * size * LINE


def _rows(data: bytes) -> dict[str, tuple]:
    """Each row of the template's tables by its first cell's text: (row, its value cell)."""
    rows = {}
    for table in docx.Document(io.BytesIO(data)).tables:
        for row in table.rows:
            rows.setdefault(row.cells[0].text, (row, row.cells[-1]))
    return rows


@pytest.mark.parametrize("layout", [{}, {"city": "成都市经济和信息化局", "date": "2022年3月15日"}],
                         ids=["blank", "filled"])
def test_the_rows_signed_and_sealed_leave_four_centimetres_under_their_text(layout):
    data = form_docx(form_blocks(texts_for(typed_values(), form=FORM_2022) if layout else {}, **layout, form=FORM_2022))
    rows = _rows(data)
    for title, signature in SIGNATURES.items():
        row, cell = rows[title]
        assert signature in cell.text, cell.text
        properties = row._tr.trPr
        assert properties is not None, title
        height = properties.find(qn("w:trHeight"))
        assert height is not None and height.get(qn("w:hRule")) == "atLeast", title
        height_pt = int(height.get(qn("w:val"))) / 20  # twips
        assert height_pt - _text_height(cell) >= SEAL_ROOM_PT - 0.05, (title, height_pt, _text_height(cell))
        assert properties.find(qn("w:cantSplit")) is not None, title
        # the order the schema asks for: w:cantSplit before w:trHeight
        tags = [child.tag for child in properties]
        assert tags.index(qn("w:cantSplit")) < tags.index(qn("w:trHeight"))
    others = [row for key, (row, _) in rows.items() if key not in SIGNATURES]
    assert others and all(row._tr.trPr is None or row._tr.trPr.find(qn("w:trHeight")) is None for row in others)


def test_a_page_break_after_a_table_adds_no_paragraph_of_its_own():
    """表一 and the seals' rows fill the page: the page break after them goes into the paragraph
    that follows the table, or that paragraph would be pushed onto a page left blank."""
    document = docx.Document(io.BytesIO(form_docx(form_blocks({}, form=FORM_2022))))
    body = list(document.element.body)
    declaration = next(i for i, element in enumerate(body)
                       if element.tag == qn("w:tbl") and "真实性承诺" in "".join(element.itertext()))
    after = body[declaration + 1]
    assert after.tag == qn("w:p") and "".join(after.itertext()) == ""
    assert [br.get(qn("w:type")) for br in after.iter(qn("w:br"))] == ["page"]
    assert body[declaration + 2].tag == qn("w:p") and not list(body[declaration + 2].iter(qn("w:br")))
