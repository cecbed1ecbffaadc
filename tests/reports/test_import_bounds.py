"""The Excel import is no way to stop the server: the sheet is checked against the template's
dimensions before it is loaded, read in read-only mode, parsed once per upload (the preview
keeps the parsed cells, not the workbook), and text that would become a formula is refused."""
from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl.utils import get_column_letter

from xkxl_intranet.reports import template_reader

from .helpers import (
    as_bytes,
    confirm,
    count_applications,
    fill,
    imports_dir,
    problems,
    row_of,
    template,
    upload,
)
from helpers import application_values


@pytest.fixture
def loads(monkeypatch):
    """Every call of openpyxl's load_workbook by the reader, with its keyword arguments."""
    calls = []
    real = template_reader.load_workbook

    def recording(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(template_reader, "load_workbook", recording)
    return calls


def _filled(city_client) -> bytes:
    wb = template(city_client)
    fill(wb["指标"], "F", application_values())
    return as_bytes(wb)


def _with_cells(data: bytes, cells: str) -> bytes:
    """The same package with ``cells`` (sheet XML rows) added to the 指标 sheet; its declared
    dimension is left as it was, as a crafted file would."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(b"</sheetData>", cells.encode() + b"</sheetData>")
            package.writestr(item, content)
    return out.getvalue()


def _rows(first: int, count: int, columns: int) -> str:
    return "".join(f'<row r="{r}">' + "".join(f'<c r="{get_column_letter(c)}{r}"><v>1</v></c>'
                                               for c in range(1, columns + 1)) + "</row>"
                   for r in range(first, first + count))


def test_a_sheet_beyond_the_template_is_refused_before_it_is_loaded(app, city_client, loads):
    crafted = _with_cells(_filled(city_client), _rows(1000, 60, 200))
    page = upload(city_client, crafted).get_data(as_text=True)
    assert "工作表“指标”过大：最多 400 行、105 列" in page
    assert loads == []
    assert count_applications(app) == 0


def test_a_crowd_of_cells_inside_the_bounds_is_refused_before_loading(app, city_client, loads):
    crowd = '<row r="399">' + '<c r="F399"><v>1</v></c>' * 60_000 + "</row>"
    page = upload(city_client, _with_cells(_filled(city_client), crowd)).get_data(as_text=True)
    assert "工作表“指标”过大" in page and "单元格" in page
    assert loads == []


def _with_part(data: bytes, part: str, content: bytes, content_type: str | None = None) -> bytes:
    """The same package with ``part`` replaced (or added, with its content type declared)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for item in source.infolist():
            if item.filename == part:
                continue
            body = source.read(item.filename)
            if item.filename == "[Content_Types].xml" and content_type and part.encode() not in body:
                body = body.replace(b"</Types>", f'<Override PartName="/{part}" ContentType="{content_type}"/>'
                                    .encode() + b"</Types>")
            package.writestr(item, body)
        package.writestr(part, content)
    return out.getvalue()


MAIN = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
SST = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
# Each well under the 8 MB a part may unpack to, and a few kilobytes compressed.
BOMBS = {
    "shared strings": ("xl/sharedStrings.xml", b"<sst " + MAIN + b">" + b"<si><t>a</t></si>" * 400_000 + b"</sst>",
                       SST, "共享字符串过多（超过 42250 项）"),
    "styles": ("xl/styles.xml", b"<styleSheet " + MAIN + b'><cellXfs count="300000">'
               + b'<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>' * 150_000 + b"</cellXfs></styleSheet>",
               None, "样式过多（超过 25000 项）"),
    "comments": ("xl/comments9.xml", b"<comments " + MAIN + b"><commentList>"
                 + b'<comment ref="A1" authorId="0"><text><t>x</t></text></comment>' * 100_000
                 + b"</commentList></comments>", COMMENTS, "批注过多（超过 2000 项）"),
    "custom properties": ("docProps/custom.xml", b'<Properties xmlns="http://schemas.openxmlformats.org/'
                          b'officeDocument/2006/custom-properties">' + b"<property/>" * 300_000 + b"</Properties>",
                          None, "结构定义过多（超过 10000 项）"),
}


@pytest.mark.parametrize("bomb", list(BOMBS), ids=list(BOMBS))
def test_parts_loaded_whole_are_bounded_before_loading(app, city_client, loads, bomb):
    """Issue 20: a shared-strings bomb took 4-16 s and a styles bomb 3-10 s to load. Each part that
    loading parses whole is counted first (benchmarks/bench_import.py times the refusals)."""
    part, content, content_type, message = BOMBS[bomb]
    crafted = _with_part(_filled(city_client), part, content, content_type)
    assert len(crafted) < 200_000
    page = upload(city_client, crafted).get_data(as_text=True)
    assert message in page and "不是正常的指标模板" in page
    assert loads == []
    assert count_applications(app) == 0


def test_the_workbook_is_read_in_read_only_mode_and_parsed_once(app, city_client, loads):
    upload(city_client, _filled(city_client))
    for _ in range(3):
        assert "将新建" in city_client.get("/reports/import").get_data(as_text=True)
    assert len(loads) == 1 and loads[0].get("read_only") is True
    assert list(imports_dir(app).glob("*.xlsx")) == []  # the parsed preview is kept, not the workbook
    assert "导入完成" in confirm(city_client).get_data(as_text=True)
    assert len(loads) == 1 and count_applications(app) == 1


def test_text_that_would_become_a_formula_is_refused_by_cell(app, city_client):
    wb = template(city_client)
    ws = wb["指标"]
    fill(ws, "F", application_values())
    for key, text in (("address", "=HYPERLINK(\"http://evil.example/\",\"点此\")"),
                      ("builder", "\t=cmd|' /C calc'!A0")):
        cell = ws[f"F{row_of(ws, key)}"]
        cell.value = text
        cell.data_type = "s"  # text in Excel (typed after an apostrophe), not a formula
    found = problems(upload(city_client, as_bytes(wb)).get_data(as_text=True))
    for key in ("address", "builder"):
        assert any(p.startswith(f"指标!F{row_of(ws, key)} ") and "“=”" in p for p in found), found
    assert count_applications(app) == 0
