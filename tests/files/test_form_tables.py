"""The 申报书模板's tables: the column grid (``w:tblGrid``), which LibreOffice and WPS lay a table
out from, is written from the layout's widths, so that label columns are narrow and value
columns wide in every office suite, not only in Word (which also reads each cell's own width)."""
from __future__ import annotations

import io

import docx
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from docx.oxml.ns import qn
from docx.shared import Cm

from xkxl_intranet.domain.checks import FORM_2022
from xkxl_intranet.domain.form_layout import Table, form_blocks, texts_for
from xkxl_intranet.files.form_template import form_docx

from helpers import needs_office, office_pdfs, typed_values


def _template() -> tuple[list[Table], bytes]:
    blocks = form_blocks(texts_for(typed_values(), form=FORM_2022), form=FORM_2022)
    return [b for b in blocks if isinstance(b, Table)], form_docx(blocks)


def test_the_grid_holds_the_layouts_widths_and_each_cell_the_columns_it_spans():
    layouts, data = _template()
    tables = docx.Document(io.BytesIO(data)).tables
    assert [len(t.columns) for t in tables] == [layout.columns for layout in layouts]
    for layout, table in zip(layouts, tables, strict=True):
        grid = [column.w for column in table._tbl.tblGrid.gridCol_lst]
        assert [round(width.cm, 2) for width in grid] == list(layout.widths)
        assert abs(sum(grid) - Cm(sum(layout.widths))) < Cm(0.01)
        assert table._tbl.tblPr.find(qn("w:tblLayout")).get(qn("w:type")) == "fixed"
        for tr in table._tbl.tr_lst:
            start = 0
            for tc in tr.tc_lst:  # merged cells too (表一's 企业名称 spans four columns, 联系人 three rows)
                assert tc.width == sum(grid[start:start + tc.grid_span])
                start += tc.grid_span
            assert start == layout.columns


def _columns(pdf_path, words: str) -> list[float]:
    """The x of every vertical rule on the first page holding ``words`` (PDF points)."""
    document = pdfium.PdfDocument(str(pdf_path))
    try:
        for page in document:
            textpage = page.get_textpage()
            found = words in textpage.get_text_range()
            textpage.close()
            if found:
                bounds = [item.get_bounds() for item in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_PATH])]
                return sorted({round((left + right) / 2) for left, bottom, right, top in bounds
                               if right - left < 2 and top - bottom > 10})
        raise AssertionError(words)
    finally:
        document.close()


@needs_office
def test_libreoffice_lays_the_columns_out_as_the_layout_says(tmp_path):
    """Rendered by LibreOffice, each column's borders stand as far apart as its width: 表一's
    labels 3 cm and 2 cm, its values 4.2 cm; 表二(1)'s labels 3.6 cm, its values 12.8 cm."""
    layouts, data = _template()
    source = tmp_path / "申报书.docx"
    source.write_bytes(data)
    [pdf] = office_pdfs(tmp_path, source)
    for words, layout in (("组织机构代码", layouts[0]), ("建设方式", layouts[2])):
        borders = _columns(pdf, words)
        gaps = [right - left for left, right in zip(borders, borders[1:], strict=False)]
        assert len(gaps) == layout.columns
        assert all(abs(gap - Cm(width).pt) <= 1.5 for gap, width in zip(gaps, layout.widths, strict=True)), (
            gaps, [Cm(w).pt for w in layout.widths])
