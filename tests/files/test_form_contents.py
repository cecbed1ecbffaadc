"""The 申报书模板's 目录: written as Word leaves a TOC field after 「更新域」, so that a template filled
in without anyone updating the field passes the app's own check of the 目录 (附件2 注4: at least
three levels), read back exactly as an upload is read."""
from __future__ import annotations

import io
import re
import zipfile

import docx
from docx.oxml.ns import qn

from xkxl_intranet.domain.checks import FORM_2022
from xkxl_intranet.domain.form_compare import document_findings
from xkxl_intranet.domain.form_layout import Contents, Heading, form_blocks, outline, texts_for
from xkxl_intranet.domain.form_reader import DocumentText, read_form
from xkxl_intranet.files.form_reading import read_form_file, stored_reading
from xkxl_intranet.files.form_template import TOC_HINT, contents_entries, estimated_pages, form_docx
from xkxl_intranet.files.form_text import extract_text

from helpers import needs_office, office_pdfs, typed_values


def _upload_reading(app, tmp_path, data: bytes, values: dict):
    """What the upload stores and the pages show: read once, kept as JSON, read back."""
    path = tmp_path / "申报书.docx"
    path.write_bytes(data)
    with app.app_context():
        stored = read_form_file(path, "docx", FORM_2022)
    assert stored["status"] == "read"
    reading = stored_reading(stored, form=FORM_2022).reading
    return reading, [f.rule for f in document_findings(reading, values, form=FORM_2022)]


def test_the_template_as_uploaded_without_updating_its_field_has_no_toc_finding(app, tmp_path):
    values = typed_values()
    for blocks, saved in ((form_blocks({}, form=FORM_2022), {}), (form_blocks(texts_for(values, form=FORM_2022), form=FORM_2022), values)):
        reading, rules = _upload_reading(app, tmp_path, form_docx(blocks), saved)
        assert "document:toc" not in rules
        assert (reading.structure.toc, reading.structure.toc_levels) == (True, 4)
        # the levels come from the 目录's own entries (目录 1–4), not from the headings below it
        text = extract_text(tmp_path / "申报书.docx", "docx")
        assert text.toc_field and text.toc_field_levels == 4
        assert {level for _, level in text.toc_entries} == {1, 2, 3, 4}


def test_as_text_alone_the_contents_shows_four_levels(tmp_path):
    """What a PDF exported without updating the field holds: the 目录's lines as text."""
    path = tmp_path / "申报书.docx"
    path.write_bytes(form_docx(form_blocks(texts_for(typed_values(), form=FORM_2022), form=FORM_2022)))
    lines = extract_text(path, "docx").lines
    start = lines.index("目  录")
    assert lines[start + 1] == "一、申报企业基本信息 3"
    assert lines[start + len(outline(FORM_2022)) + 1] == TOC_HINT
    structure = read_form(DocumentText(lines), form=FORM_2022).structure
    assert (structure.toc, structure.toc_levels) == (True, 4)


def test_a_document_without_a_contents_still_gets_the_finding(app, tmp_path):
    blocks = form_blocks({}, contents=False, form=FORM_2022)
    assert contents_entries(blocks) == {}
    data = form_docx(blocks)
    assert b"_Toc" not in zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml")
    reading, rules = _upload_reading(app, tmp_path, data, {})
    assert not reading.structure.toc and "document:toc" in rules


def _field_parts(paragraph) -> list[tuple[str, str]]:
    """The paragraph's field characters, instructions and text, in document order."""
    parts = []
    for element in paragraph._p.iter(qn("w:fldChar"), qn("w:instrText"), qn("w:t"), qn("w:hyperlink")):
        if element.tag == qn("w:fldChar"):
            parts.append(("char", element.get(qn("w:fldCharType"))))
        elif element.tag == qn("w:instrText"):
            parts.append(("instr", element.text.strip()))
        elif element.tag == qn("w:hyperlink"):
            parts.append(("link", element.get(qn("w:anchor"))))
        else:
            parts.append(("text", element.text))
    return parts


def test_the_contents_field_lists_every_heading_as_word_writes_it():
    document = docx.Document(io.BytesIO(form_docx(form_blocks({}, form=FORM_2022))))
    paragraphs = document.paragraphs
    first = next(i for i, p in enumerate(paragraphs) if p.style.name == "toc 1")
    entries = [p for p in paragraphs[first:] if p.style.name.startswith("toc ")][:len(outline(FORM_2022))]
    hint = paragraphs[first + len(entries)]
    # the field: begins in the first entry, ends after the hint, its instruction kept for 「更新域」
    assert _field_parts(entries[0])[:3] == [("char", "begin"), ("instr", 'TOC \\o "1-4" \\h \\z \\u'),
                                            ("char", "separate")]
    assert hint.text == TOC_HINT and _field_parts(hint)[-1] == ("char", "end")
    assert [(p.style.name, p.text.split("\t")[0]) for p in entries] == [
        (f"toc {spec.level}", spec.text) for spec in outline(FORM_2022)]
    bookmarks = {}
    for p in paragraphs:
        for start in p._p.iter(qn("w:bookmarkStart")):
            bookmarks[start.get(qn("w:name"))] = (p.style.name, p.text)
    pages = []
    for spec, entry in zip(outline(FORM_2022), entries, strict=True):
        parts = _field_parts(entry)
        anchor = next(value for kind, value in parts if kind == "link")
        assert ("instr", f"PAGEREF {anchor} \\h") in parts
        assert bookmarks[anchor] == (f"Heading {spec.level}", spec.text)  # the link leads to its heading
        page = parts[parts.index(("instr", f"PAGEREF {anchor} \\h")) + 2]
        assert page[0] == "text" and re.fullmatch(r"\d+", page[1])
        pages.append(int(page[1]))
    assert pages[0] == 3 and pages[1] == 4  # cover, 目录, 表一 (a page of its own), then 二
    assert pages == sorted(pages)
    settings = document.settings.element
    assert settings.find(qn("w:updateFields")).get(qn("w:val")) == "true"
    styles = {s.name: s for s in document.styles}
    assert [styles[f"toc {n}"].element.get(qn("w:styleId")) for n in (1, 2, 3, 4)] == ["TOC1", "TOC2", "TOC3",
                                                                                      "TOC4"]


def test_the_pages_written_follow_what_the_document_holds():
    blocks = form_blocks({}, form=FORM_2022)
    headings = [i for i, b in enumerate(blocks) if isinstance(b, Heading)]
    assert sum(isinstance(b, Contents) for b in blocks) == 1
    blank = estimated_pages(blocks, len(headings))
    long_prose = "工业互联网平台赋能制造业数字化转型，" * 400  # some eight pages of 3号 text
    longer = form_blocks({}, extra={"1.1": long_prose}, form=FORM_2022)
    pushed = estimated_pages(longer, len(headings))
    moved = [pushed[i] - blank[i] for i in headings]
    at = next(i for i, index in enumerate(headings) if blocks[index].text.startswith("1.2 "))
    assert set(moved[:at]) == {0}  # up to 1.1: where they were
    assert all(7 <= m <= 9 for m in moved[at:])  # after it: some eight pages later


@needs_office
def test_exported_to_pdf_by_an_office_suite_without_updating_the_field(app, tmp_path):
    """The filled template turned into PDF by LibreOffice, which keeps the field's result as it is
    (as Word's 「另存为 PDF」 does when nobody updated the field): the 目录 is read from the text."""
    values = typed_values()
    source = tmp_path / "申报书.docx"
    source.write_bytes(form_docx(form_blocks(texts_for(values, form=FORM_2022), form=FORM_2022)))
    [pdf] = office_pdfs(tmp_path, source)
    with app.app_context():
        stored = read_form_file(pdf, "pdf", FORM_2022)
    reading = stored_reading(stored, form=FORM_2022).reading
    assert (reading.structure.toc, reading.structure.toc_levels) == (True, 4)
    assert "document:toc" not in [f.rule for f in document_findings(reading, values, form=FORM_2022)]
