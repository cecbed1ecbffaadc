"""The demo's 2022 documents as the province downloads them, normalised to reviewable text.

Issue 21 moves every field, rule, criterion and 附件3 column out of ``domain/`` into a declared
notice file; these texts pin what 2022's records print and export today, so that the move is
checked against them (``test_2022_outputs.py``; ``scripts/update_golden.py`` writes them anew).

The demo is seeded at :data:`SEEDED_AT` and the files are downloaded at :data:`PRINTED_AT`, both
on the pinned clock, so that every date a document prints (报送时间, 导出时间, 打印时间) is the same
on every run. Each document is fetched through its route with the province's session, as a
user downloads it, and turned into text:

* a workbook: its download name, then per sheet the print set-up (paper, orientation, scale,
  fitting, margins, print area, print titles, footer, manual page breaks), merged ranges, column
  widths, and every row that holds a value or has a height of its own: the height and the cell
  values (with the number format where it is not General);
* a PDF: its download name, its page count and the text of each page (pypdf).
"""
from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time
from urllib.parse import unquote

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from pypdf import PdfReader

from xkxl_intranet import clock
from xkxl_intranet.applications import demo as demo_applications
from xkxl_intranet.applications.models import Application
from xkxl_intranet.extensions import db
from xkxl_intranet.files.form_template import form_docx
from xkxl_intranet.files.models import StoredFile
from xkxl_intranet.reports.layouts import ROSTER_LISTS
from xkxl_intranet.review.models import Assignment
from xkxl_intranet.review.prints import sheet_number
from xkxl_intranet.rounds.models import Receipt
from xkxl_intranet.rounds.state import all_cities, current_round

from helpers import logged_in_client, seed_demo_quickly

SEEDED_AT = datetime(2022, 3, 11, 9, 0, tzinfo=clock.SHANGHAI)
PRINTED_AT = datetime(2022, 3, 14, 10, 30, tzinfo=clock.SHANGHAI)


def seed_2022_demo(app, monkeypatch) -> None:
    """``seed_demo`` on the pinned clock (its round's deadline is ten days after SEEDED_AT), then
    the clock at PRINTED_AT for the downloads. The demo's 申报书 (.docx) are written with the
    seeding moment as their members' time: python-docx stamps them with the wall clock, and the
    receipts print each file's SHA-256."""
    monkeypatch.setattr(demo_applications, "form_docx", lambda blocks: zip_dated(form_docx(blocks), SEEDED_AT))
    clock.set_now(SEEDED_AT)
    seed_demo_quickly(app, monkeypatch)
    clock.set_now(PRINTED_AT)


def zip_dated(data: bytes, moment: datetime) -> bytes:
    """The zip archive ``data`` with every member dated ``moment`` (the same members, in the same
    order, compressed the same way)."""
    written = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(written, "w") as target:
        for member in source.infolist():
            dated = zipfile.ZipInfo(member.filename, date_time=moment.timetuple()[:6])
            dated.compress_type, dated.external_attr = member.compress_type, member.external_attr
            target.writestr(dated, source.read(member))
    return written.getvalue()


# ---- what the demo has to print -------------------------------------------------------------------

def _document_urls(app) -> Iterator[tuple[str, str]]:
    """(golden name, URL) of every document the demo has: each city's 附件3, each roster list, each
    submitted 评分表 alone and per application, the 评审汇总表 and each receipt. Named by what
    stays put (city codes, receipt and sheet numbers), never by a database id."""
    with app.app_context():
        for city in all_cities():
            for suffix in ("xlsx", "pdf"):
                yield f"summary/{city.code}-{city.pinyin}.{suffix}", f"/reports/cities/{city.id}/summary.{suffix}"
        for key in ROSTER_LISTS:
            for suffix in ("xlsx", "pdf"):
                yield f"roster/{key}.{suffix}", f"/reports/roster/{key}.{suffix}"
        # the current round's sheets (another round's are another year's documents)
        sheets = list(db.session.scalars(db.select(Assignment).join(Application, Assignment.application_id == Application.id)
                                         .where(Application.round_id == current_round().id).order_by(Assignment.id)))
        for sheet in sheets:
            if sheet.is_submitted:
                yield f"review/sheet-{sheet_number(sheet)}.pdf", f"/review/sheets/{sheet.id}.pdf"
        applications = sorted({s.application for s in sheets if s.is_submitted},
                              key=lambda a: (a.city.code, a.position))
        for application in applications:
            yield (f"review/sheets-{application.city.code}-{application.position}.pdf",
                   f"/review/applications/{application.id}/sheets.pdf")
        for suffix in ("xlsx", "pdf"):
            yield f"review/ranking.{suffix}", f"/review/ranking.{suffix}"
        # Last: a receipt prints each 申报书's size and SHA-256, and the demo's 申报书 are written
        # from the field declaration, so a changed label changes them too; the failure's diff
        # shows the documents in this order, the reports' own differences first.
        receipts = db.select(Receipt).where(Receipt.round_id == current_round().id).order_by(Receipt.number)
        for receipt in db.session.scalars(receipts):
            yield f"receipt/{receipt.number}.pdf", f"/rounds/receipts/{receipt.id}.pdf"


def demo_outputs(app) -> dict[str, str]:
    """Every document of the demo, downloaded by the province: golden file name -> text."""
    client = logged_in_client(app, "province")
    outputs = {}
    for name, url in _document_urls(app):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        file_name = download_name(response.headers["Content-Disposition"])
        if name.endswith(".xlsx"):
            outputs[f"{name}.txt"] = workbook_text(file_name, response.data)
        else:
            outputs[f"{name}.txt"] = pdf_text(file_name, response.data)
    return outputs


def stored_names(app) -> list[str]:
    """What is random in the demo's data and must never print: the stored files' names on disk."""
    with app.app_context():
        return [name for name in db.session.scalars(db.select(StoredFile.storage_name)) if name]


def download_name(disposition: str) -> str:
    """The file name a browser saves the download as (RFC 5987 ``filename*``)."""
    encoded = re.search(r"filename\*=UTF-8''(\S+)", disposition)
    assert encoded is not None, disposition
    return unquote(encoded.group(1))


# ---- normalising ------------------------------------------------------------------------------------

def pdf_text(file_name: str, data: bytes) -> str:
    pages = PdfReader(io.BytesIO(data)).pages
    lines = [f"file: {file_name}", f"pages: {len(pages)}"]
    for number, page in enumerate(pages, start=1):
        lines.append(f"=== page {number} ===")
        lines += [line.rstrip() for line in page.extract_text().splitlines()]
    return "\n".join(lines) + "\n"


def _cell(cell) -> object:
    value = cell.value
    if isinstance(value, datetime | date | time):
        value = {type(value).__name__: value.isoformat()}
    if cell.number_format != "General" and value is not None:
        return {"value": value, "format": cell.number_format}
    return value


def _print_setup(ws) -> list[str]:
    setup, margins, footer = ws.page_setup, ws.page_margins, ws.oddFooter
    return [
        f"  paper: {setup.paperSize}  orientation: {setup.orientation}  scale: {setup.scale}"
        f"  fitToPage: {ws.sheet_properties.pageSetUpPr.fitToPage}"
        f"  fitToWidth: {setup.fitToWidth}  fitToHeight: {setup.fitToHeight}",
        f"  margins: left {margins.left} right {margins.right} top {margins.top} bottom {margins.bottom}"
        f"  horizontalCentered: {ws.print_options.horizontalCentered}",
        f"  print_area: {ws.print_area}",
        f"  print_titles: rows {ws.print_title_rows} columns {ws.print_title_cols}",
        f"  footer: left {footer.left.text!r} center {footer.center.text!r} right {footer.right.text!r}",
        f"  freeze_panes: {ws.freeze_panes}",
        f"  row_breaks: {[b.id for b in ws.row_breaks.brk]}",
    ]


def workbook_text(file_name: str, data: bytes) -> str:
    workbook = load_workbook(io.BytesIO(data))
    lines = [f"file: {file_name}"]
    for ws in workbook.worksheets:
        lines += [f"sheet: {ws.title}  ({ws.sheet_state})", *_print_setup(ws)]
        lines.append(f"  merged: {sorted(str(r) for r in ws.merged_cells.ranges)}")
        widths = {letter: dim.width for letter, dim in sorted(ws.column_dimensions.items()) if dim.customWidth}
        lines.append(f"  column_widths: {json.dumps(widths)}")
        lines.append("  rows:")
        for row in ws.iter_rows(min_row=1, max_row=ws.max_row):
            number = row[0].row
            values = [_cell(c) for c in row]
            while values and values[-1] is None:
                values.pop()
            height = ws.row_dimensions[number].height if number in ws.row_dimensions else None
            if values or height is not None:
                lines.append(f"    {number} h={height}: {json.dumps(values, ensure_ascii=False)}")
        validations = [f"{v.sqref} {v.type} {v.formula1}" for v in ws.data_validations.dataValidation]
        if validations:
            lines.append(f"  validations: {validations}")
        lines.append(f"  last column: {get_column_letter(ws.max_column)}")
    return "\n".join(lines) + "\n"
