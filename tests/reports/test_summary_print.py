"""附件3's foot: 「信息公开选项」, the bureau's name with a blank square of at least 4 cm for its
seal, and 「填报日期：　年　月　日」 print together, on the page of the table's last row, whatever
the number of rows: in the PDF (each page's text read back) and in the workbook (its row heights,
scale, margins and manual page breaks read back, the pages laid out as Excel lays them)."""
from __future__ import annotations

import io
import math
import re

import pypdfium2 as pdfium
from openpyxl import load_workbook
from pypdf import PdfReader

from xkxl_intranet.reports.summary import summary_pdf
from xkxl_intranet.reports.summary_layout import Summary
from xkxl_intranet.reports.workbooks import summary_workbook

from .helpers import NOTICE_2022, row_2022

SEAL_LINE = "成都市经济和信息化局（盖章）"  # the foot names the bureau whose seal goes there
DATE_LINE = "填报日期：\u3000\u3000年\u3000\u3000月\u3000\u3000日"
DISCLOSURE = "信息公开选项：主动公开"
SEAL_MM = 40
MM_PER_PT = 25.4 / 72
ROW_COUNTS = range(0, 61)


def _summary(count: int) -> Summary:
    """``count`` rows; every fourth platform name long enough to wrap, so rows differ in height."""
    rows = tuple(row_2022(n, f"第{n:02d}号工业互联网平台" + ("（制造业数字化转型公共服务平台）" if n % 4 == 0 else ""),
                            f"四川蜀数{n:02d}科技有限公司", "李明", "13912345678")
                 for n in range(1, count + 1))
    return Summary(NOTICE_2022, "2022年跨行业跨领域工业互联网平台", "成都市", "成都市经济和信息化局", "张伟", "028-61881234",
                   "主动公开", rows)


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


# ---- the PDF ---------------------------------------------------------------------------------------

def test_the_pdf_foot_is_whole_and_on_the_page_of_the_last_row_for_any_number_of_rows(app):
    with app.app_context():
        documents = {count: summary_pdf(_summary(count)) for count in ROW_COUNTS}
    page_counts = set()
    for count, data in documents.items():
        pages = [_flat(page.extract_text()) for page in PdfReader(io.BytesIO(data)).pages]
        page_counts.add(len(pages))
        with_foot = [i for i, page in enumerate(pages) if DISCLOSURE in page]
        assert with_foot == [len(pages) - 1], (count, with_foot, len(pages))
        last = pages[-1]
        # the whole foot, in its order, after the table
        assert last.index(DISCLOSURE) < last.rindex(SEAL_LINE) < last.index(_flat(DATE_LINE)), (count, last)
        assert last.rindex(SEAL_LINE) > last.index(DISCLOSURE)
        # never alone: the last row (or the line saying there is none) is on the same page, under the header
        last_row = f"第{count:02d}号工业互联网平台" if count else "（暂无市州初审通过的申报）"
        assert last_row in last and last.index(last_row) < last.index(DISCLOSURE), (count, last)
        assert "序号" in last and "联系方式（手机）" in last
        for page in pages[:-1]:
            assert _flat(DATE_LINE) not in page and DISCLOSURE not in page
    assert max(page_counts) >= 4  # the rows ran over several pages


def _boxes(page, words: str) -> list[tuple[float, float, float, float]]:
    """(left, bottom, right, top) of each occurrence of ``words`` on the page, in points."""
    textpage = page.get_textpage()
    try:
        searcher = textpage.search(words)
        found = []
        while (hit := searcher.get_next()) is not None:
            start, length = hit
            boxes = [textpage.get_charbox(i) for i in range(start, start + length)]
            found.append((min(b[0] for b in boxes), min(b[1] for b in boxes),
                          max(b[2] for b in boxes), max(b[3] for b in boxes)))
        return found
    finally:
        textpage.close()


def test_the_pdf_leaves_a_blank_square_of_four_centimetres_for_the_seal(app):
    with app.app_context():
        data = summary_pdf(_summary(3))
    document = pdfium.PdfDocument(data)
    try:
        page = document[len(document) - 1]
        seal = _boxes(page, SEAL_LINE)[-1]  # the foot's (the heading's line says （盖章）：成都市…)
        date = _boxes(page, "填报日期")[0]
        assert (seal[2] - seal[0]) * MM_PER_PT >= SEAL_MM  # as wide as the name above it
        gap = (seal[1] - date[3]) * MM_PER_PT  # y grows upwards
        assert gap >= SEAL_MM, gap
        textpage = page.get_textpage()
        try:  # nothing printed in the square
            inside = textpage.get_text_bounded(left=seal[0], bottom=date[3] + 1, right=seal[2], top=seal[1] - 1)
        finally:
            textpage.close()
        assert inside.strip() == ""
    finally:
        document.close()


# ---- the workbook ----------------------------------------------------------------------------------

A4_HEIGHT_PT, A4_WIDTH_PT = 297 / MM_PER_PT, 210 / MM_PER_PT


def _column_pt(width: float) -> float:
    """Excel: a column of width w is trunc((256 w + trunc(128 / 7)) / 256 × 7) pixels of ¾ pt
    (Calibri 11, the workbook's default font)."""
    return math.trunc((256 * width + 18) / 256 * 7) * 0.75


def _laid_out(ws, share: float = 1.0) -> list[list[int]]:
    """The rows of each printed page: Excel ends a page at each manual break, and where a page
    is full (its printable height, at the sheet's scale; ``share`` of it for a printer that
    takes more) even without one; every page after the first repeats the title rows."""
    assert not ws.sheet_properties.pageSetUpPr.fitToPage  # a fitted sheet ignores manual breaks
    scale = ws.page_setup.scale
    holds = (A4_HEIGHT_PT - (ws.page_margins.top + ws.page_margins.bottom) * 72) * 100 / scale * share
    title_first, title_last = (int(n) for n in re.findall(r"\d+", ws.print_title_rows))
    repeated = sum(ws.row_dimensions[r].height for r in range(title_first, title_last + 1))
    breaks = {brk.id for brk in ws.row_breaks.brk}
    last_row = int(re.findall(r"\d+", ws.print_area)[-1])
    pages, used = [[]], 0.0
    for row in range(1, last_row + 1):
        height = ws.row_dimensions[row].height
        assert height, row  # every row states its height: nothing is left to Excel's measure
        if used + height > holds and pages[-1]:
            pages.append([])
            used = repeated
        pages[-1].append(row)
        used += height
        if row in breaks and row != last_row:
            pages.append([])
            used = repeated
    return pages


def test_the_workbook_foot_is_kept_with_the_last_row_on_a4_for_any_number_of_rows():
    for count in ROW_COUNTS:
        ws = load_workbook(io.BytesIO(summary_workbook(_summary(count)))).active
        assert int(ws.page_setup.paperSize) == 9 and ws.page_setup.orientation == "portrait"
        assert ws.print_title_rows == "$6:$6"
        printable_width = A4_WIDTH_PT - (ws.page_margins.left + ws.page_margins.right) * 72
        assert sum(_column_pt(ws.column_dimensions[c].width) for c in "ABCDE") * ws.page_setup.scale / 100 \
            <= printable_width
        column_a = {row[0].row: row[0].value for row in ws.iter_rows(min_col=1, max_col=1)}
        column_c = {row[0].row: row[0].value for row in ws.iter_rows(min_col=3, max_col=3)}
        last_data = max([r for r, v in column_a.items() if isinstance(v, int)] or
                        [r for r, v in column_a.items() if v == "（暂无市州初审通过的申报）"])
        disclosure = next(r for r, v in column_a.items() if v == DISCLOSURE)
        seal = next(r for r, v in column_c.items() if v == SEAL_LINE)
        date = next(r for r, v in column_c.items() if v == DATE_LINE)
        assert last_data < disclosure < seal < date, count
        blank = sum(ws.row_dimensions[r].height for r in range(seal + 1, date))
        assert blank >= SEAL_MM / MM_PER_PT, (count, blank)  # ≥ 113.4 pt of blank rows for the seal
        assert f"C{seal + 1}:E{date - 1}" in {str(r) for r in ws.merged_cells.ranges}
        pages = _laid_out(ws)
        assert pages[-1][-1] == date == int(re.findall(r"\d+", ws.print_area)[-1])
        assert {last_data, disclosure, seal, date} <= set(pages[-1]), (count, pages[-1])
        assert len(pages) == 1 or pages[-1][0] > 6  # a later page starts with a table row
        # every page ends at a manual break, not where Excel would have to break it itself, even
        # if a page held 4 % less (rows rounded to whole pixels, a printer's own margins)
        breaks = sorted(brk.id for brk in ws.row_breaks.brk)
        assert breaks == [page[-1] for page in pages[:-1]], (count, breaks, pages)
        assert _laid_out(ws, 0.96) == pages, count
