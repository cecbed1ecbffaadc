"""The 申报书 as a file: the .docx template written from the declaration and a text PDF in the
附件2 layout read back field by field, other formats told apart, and the bounds of reading a
hostile file (a ZIP bomb inside a .docx, huge embedded images, a 200-page PDF, a page of 300,000
glyphs, no time left)."""
from __future__ import annotations

import io
import time
import tracemalloc
import zipfile
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import docx
import pypdfium2 as pdfium
import pytest
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from jobs.hostile import glyph_pdf
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from xkxl_intranet.domain.checks import FORM_2022
from xkxl_intranet.domain.form_layout import form_blocks, texts_for
from xkxl_intranet.domain.form_marks import option_words
from xkxl_intranet.domain.form_reader import FormReading, ReadStatus, past_the_figures, read_form
from xkxl_intranet.domain.indicators import FIELDS
from xkxl_intranet.files import form_reading
from xkxl_intranet.files.form_reading import UNSUPPORTED_MESSAGE, read_form_file
from xkxl_intranet.files.form_template import form_docx
from xkxl_intranet.files.form_text import ReadLimits, Unreadable, extract_text
from xkxl_intranet.printing import print_pdf

from helpers import typed_values

MB = 1024 * 1024

# The spellings clerks and enterprises use: full-width digits and commas, 无, spaces between
# groups of three, units written again, signs.
SPELLINGS = {"devices_total": "１２，３４５", "devices_operating": "6 000", "devices_processing": "无",
             "devices_mobile": "3,000台", "devices_other": "3,345", "models_total": "４６８",
             "sme_contract_amount": "3,200.5万元", "roi": "－3.5", "rnd_ratio_2021": "６.００",
             "total_assets": "２１０，０００.００", "profit_last_year": "-1,234.56", "employees": "5,250人",
             "std_international": "无", "std_international_led": "无"}


def _expected(values: dict) -> dict:
    return values | {"devices_total": 12345, "devices_operating": 6000, "devices_processing": 0,
                     "devices_mobile": 3000, "devices_other": 3345, "models_total": 468,
                     "sme_contract_amount": Decimal("3200.50"), "roi": Decimal("-3.50"),
                     "rnd_ratio_2021": Decimal("6.00"), "total_assets": Decimal("210000.00"),
                     "profit_last_year": Decimal("-1234.56"), "employees": 5250,
                     "std_international": 0, "std_international_led": 0}


def _assert_every_field(reading: FormReading, expected: dict) -> None:
    wrong = {}
    for key in FIELDS:
        read = reading.fields[key]
        if expected.get(key) is None:
            if read.status is not ReadStatus.BLANK:
                wrong[key] = (read.status, read.raw)
        elif read.status is not ReadStatus.VALUE or read.value != expected[key]:
            wrong[key] = (read.status, read.raw, read.value, expected[key])
    assert wrong == {}


def _write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_filled_docx_template_reads_back_every_declared_field(tmp_path):
    values = typed_values()
    texts = texts_for(values, form=FORM_2022) | SPELLINGS
    path = _write(tmp_path, "申报书.docx", form_docx(form_blocks(texts, form=FORM_2022)))
    document = extract_text(path, "docx", options=option_words(FORM_2022))
    reading = read_form(document, form=FORM_2022)
    _assert_every_field(reading, _expected(values))
    s = reading.structure
    assert (s.toc, s.toc_levels, s.pledge, s.recommender) == (True, 4, True, True)


def test_the_blank_docx_template_has_every_label_and_no_value(tmp_path):
    reading = read_form(extract_text(_write(tmp_path, "模板.docx", form_docx(form_blocks({}, form=FORM_2022))), "docx"),
                        form=FORM_2022)
    assert {r.status for r in reading.fields.values()} == {ReadStatus.BLANK}


def test_a_text_pdf_in_the_layout_reads_back_every_declared_field(app, tmp_path):
    values = typed_values()
    texts = texts_for(values, form=FORM_2022) | SPELLINGS
    with app.app_context():
        pdf = print_pdf("applications/form_print.html", blocks=form_blocks(texts, form=FORM_2022), title="申报书", demo=False)
    path = _write(tmp_path, "申报书.pdf", pdf)
    document = extract_text(path, "pdf", options=option_words(FORM_2022))
    assert document.pages >= 8 and not document.truncated
    reading = read_form(document, form=FORM_2022)
    _assert_every_field(reading, _expected(values))
    # the pages after 「（3）工业互联网平台技术架构」 are prose: reading stops there, nothing is lost
    shorter = extract_text(path, "pdf", enough=past_the_figures, options=option_words(FORM_2022))
    assert shorter.pages < document.pages and not shorter.truncated
    _assert_every_field(read_form(shorter, form=FORM_2022), _expected(values))
    s = reading.structure
    assert (s.toc, s.toc_levels, s.pledge, s.recommender) == (True, 4, True, True)


def _symbol(paragraph, font: str, char: str) -> None:
    run = paragraph.add_run()
    sym = OxmlElement("w:sym")
    sym.set(qn("w:font"), font)
    sym.set(qn("w:char"), char)
    run._r.append(sym)


def test_a_docx_made_by_hand_with_word_checkboxes_and_a_toc_content_control(tmp_path):
    """What Word users do: ☑ inserted from Wingdings 2 (as a symbol or as the letter R), a 目录
    in a content control, figures in a table of the enterprise's own."""
    document = docx.Document()
    sdt = OxmlElement("w:sdt")
    properties, gallery_object, gallery = OxmlElement("w:sdtPr"), OxmlElement("w:docPartObj"), OxmlElement(
        "w:docPartGallery")
    gallery.set(qn("w:val"), "Table of Contents")
    gallery_object.append(gallery)
    properties.append(gallery_object)
    sdt.append(properties)
    content = OxmlElement("w:sdtContent")
    for level, title in ((1, "一、申报企业基本信息"), (2, "（1）工业互联网平台基本信息"), (3, "1. 平台资源管理能力")):
        entry = document.add_paragraph(f"{title}\t3", style=f"toc {level}" if f"toc {level}" in
                                       [s.name for s in document.styles] else None)
        content.append(entry._p)
    sdt.append(content)
    document.element.body.insert(0, sdt)
    document.add_heading("2.2 平台产品可靠性和安全防护能力", level=4)
    p = document.add_paragraph("□具有数据安全防护：")
    _symbol(p, "Wingdings 2", "F052")
    p.add_run("是 ")
    _symbol(p, "Wingdings 2", "F0A3")
    p.add_run("否")
    p = document.add_paragraph("□具有代码安全防护：")
    letters = p.add_run("£")
    letters.font.name = "Wingdings 2"
    p.add_run("是 ")
    ticked = p.add_run("R")
    ticked.font.name = "Wingdings 2"
    p.add_run("否")
    document.add_heading("2.3 自研杀手锏工业APP情况*", level=4)
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "公有云杀手锏 APP 日活："
    table.cell(0, 1).text = "５０，０００次"
    buffer = io.BytesIO()
    document.save(buffer)
    text = extract_text(_write(tmp_path, "自制.docx", buffer.getvalue()), "docx", options=option_words(FORM_2022))
    assert text.toc_field
    fields = read_form(text, form=FORM_2022).fields
    assert fields["sec_data"].value is True
    assert fields["sec_code"].value is False
    assert fields["killer_daily_calls"].value == 50000


def test_formats_that_cannot_be_read_say_so(tmp_path, app):
    for kind in ("doc", "wps", "ofd"):
        result = read_form_file(_write(tmp_path, f"申报书.{kind}", b"x"), kind, FORM_2022)
        assert (result["status"], result["message"]) == ("unsupported", UNSUPPORTED_MESSAGE)
    scanned = _write(tmp_path, "扫描件.pdf", _pdf_pages(3, text=False))
    broken = _write(tmp_path, "坏.docx", form_docx(form_blocks({}, form=FORM_2022))[:2000])
    with app.app_context():
        result = read_form_file(scanned, "pdf", FORM_2022)
        assert result["status"] == "no_text" and "扫描件" in result["message"]
        result = read_form_file(broken, "docx", FORM_2022)
    assert (result["status"], result["message"]) == ("failed", "申报书文件已损坏，无法自动读取")


def test_a_read_failure_is_a_status_never_an_exception(tmp_path, monkeypatch, app):
    def explode(*args, **kwargs):
        raise RecursionError("hostile")

    monkeypatch.setattr(form_reading, "extract_text", explode)
    with app.app_context():
        result = read_form_file(_write(tmp_path, "a.docx", b"PK"), "docx", FORM_2022)
    assert result["status"] == "failed" and "文件已正常保存" in result["message"]


# ---- hostile files ---------------------------------------------------------------------------

def _docx_with(extra: dict[str, int], document_xml_size: int | None = None) -> bytes:
    """The blank template plus members of ``size`` bytes of zeros (they deflate to almost nothing);
    ``document_xml_size`` pads the main document part itself to that size."""
    template = zipfile.ZipFile(io.BytesIO(form_docx(form_blocks({}, form=FORM_2022))))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for info in template.infolist():
            data = template.read(info)
            if info.filename == "word/document.xml" and document_xml_size:
                with out.open(info.filename, "w", force_zip64=True) as handle:
                    handle.write(data[:-len(b"</w:document>")])
                    written = len(data)
                    while written < document_xml_size:
                        handle.write(b" " * MB)
                        written += MB
                    handle.write(b"</w:document>")
                continue
            out.writestr(info, data)
        for name, size in extra.items():
            with out.open(name, "w", force_zip64=True) as handle:
                for _ in range(size // MB):
                    handle.write(bytes(MB))
    return buffer.getvalue()


def _peak_while(function):
    tracemalloc.start()
    try:
        result = function()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_zip_bomb_in_the_docx_is_refused_before_it_is_unpacked(tmp_path):
    data = _docx_with({}, document_xml_size=100 * MB)
    assert len(data) < 2 * MB  # 100 MB of XML in under 2 MB
    path = _write(tmp_path, "炸弹.docx", data)
    result, peak = _peak_while(lambda: read_form_file(path, "docx", FORM_2022, ReadLimits()))
    assert result["status"] == "too_large" and "解压后超过 32 MB" in result["message"]
    assert peak < 8 * MB


def test_embedded_files_are_never_unpacked(tmp_path):
    """200 MB of 'images' beside the text: the text is read, the images are not touched."""
    path = _write(tmp_path, "大图.docx", _docx_with({"word/media/image1.png": 200 * MB,
                                                    "word/embeddings/oleObject1.bin": 100 * MB}))
    result, peak = _peak_while(lambda: read_form_file(path, "docx", FORM_2022, ReadLimits()))
    assert result["status"] == "read"
    assert peak < 32 * MB


def _pdf_pages(count: int, *, text: bool = True) -> bytes:
    writer = PdfWriter()
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    for number in range(1, count + 1):
        page = writer.add_blank_page(595, 842)
        if text:
            stream = DecodedStreamObject()
            stream.set_data(f"BT /F1 12 Tf 72 760 Td (Page {number} of the application form) Tj ET".encode())
            page[NameObject("/Contents")] = writer._add_object(stream)
            page[NameObject("/Resources")] = DictionaryObject(
                {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_a_200_page_pdf_is_read_only_up_to_the_page_limit(tmp_path):
    path = _write(tmp_path, "长.pdf", _pdf_pages(200))
    document = extract_text(path, "pdf", ReadLimits(max_pages=100))
    assert document.pages == 100
    assert document.truncated == "文件共200页，只读取了前100页"
    assert document.lines[-1] == "Page 100 of the application form"


def test_pdfs_read_in_several_threads_at_once_are_each_read_whole(tmp_path):
    """waitress serves with several threads and PDFium runs in one at a time (form_text's lock):
    readings at the same moment wait for one another, and each gets every line."""
    path = _write(tmp_path, "长.pdf", _pdf_pages(40))
    expected = extract_text(path, "pdf").lines
    assert len(expected) == 40
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: extract_text(path, "pdf").lines, range(24)))
    assert results == [expected] * 24


def test_reading_stops_when_its_time_is_up(tmp_path):
    path = _write(tmp_path, "长.pdf", _pdf_pages(30))
    with pytest.raises(Unreadable) as stopped:
        extract_text(path, "pdf", ReadLimits(seconds=0.0))
    assert (stopped.value.status, stopped.value.message) == ("too_large", "读取超过0秒，只读取了文件的前面部分")
    docx_path = _write(tmp_path, "a.docx", form_docx(form_blocks(texts_for(typed_values(), form=FORM_2022), form=FORM_2022)))
    started = time.monotonic()
    partial = extract_text(docx_path, "docx", ReadLimits(seconds=0.0))
    assert partial.truncated.startswith("读取超过0秒") and len(partial.lines) <= 1
    assert time.monotonic() - started < 5


def test_pages_with_oversized_content_are_skipped(tmp_path):
    path = _write(tmp_path, "复杂.pdf", _pdf_pages(5))
    with pytest.raises(Unreadable) as refused:
        extract_text(path, "pdf", ReadLimits(max_page_chars=10))
    assert (refused.value.status, refused.value.message) == ("too_large", "5页内容过于复杂，无法自动读取")


def test_a_page_drawing_too_many_glyphs_is_skipped_before_pdfium_lays_them_out(tmp_path, monkeypatch):
    """300,000 glyphs in a 3 KB file: PDFium counts a page's characters only in its text page, at
    ~200 bytes each (the issue's 3.5 million: 750 MB), so the page is refused by what its drawing
    already holds, before any text page is built. A page of 50,000 glyphs is still read."""
    built = []
    get_textpage = pdfium.PdfPage.get_textpage
    monkeypatch.setattr(pdfium.PdfPage, "get_textpage", lambda page: built.append(page) or get_textpage(page))
    path = _write(tmp_path, "字符.pdf", glyph_pdf(300_000))
    assert path.stat().st_size < 5_000
    with pytest.raises(Unreadable) as refused:
        extract_text(path, "pdf")
    assert (refused.value.status, refused.value.message) == ("too_large", "1页内容过于复杂，无法自动读取")
    assert built == []
    dense = extract_text(_write(tmp_path, "密.pdf", glyph_pdf(50_000)), "pdf")
    assert (dense.pages, len(built)) == (1, 1) and dense.lines[0].startswith("AAAA")
