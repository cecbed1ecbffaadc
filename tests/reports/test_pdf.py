"""The report PDFs: print templates render with only what they are given (no request, no
context processors), and the lean user-agent stylesheet (printing.py) gives the same pages."""
import io
import re
from pathlib import Path

from pypdf import PdfReader

from xkxl_intranet.printing import render_print, write_pdf
from xkxl_intranet.reports.summary_layout import Summary

from .helpers import NOTICE_2022, row_2022


def _pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def test_lean_and_default_user_agent_stylesheets_give_the_same_pages(app):
    rows = tuple(row_2022(n, f"平台{n}" * 3, f"四川某某科技有限公司{n}", "张三", "13800001234")
                 for n in range(1, 25))
    summary = Summary(NOTICE_2022, "2022年跨行业跨领域工业互联网平台", "成都市", "成都市经济和信息化局", "张伟", "028-61881234",
                      "主动公开", rows)
    with app.app_context():  # no request: a print template needs none
        html = render_print("reports/summary_print.html", summary=summary)
    lean, default = _pages(write_pdf(html)), _pages(write_pdf(html, lean=False))
    assert len(lean) == len(default) >= 2  # the table runs over a page: its header is repeated
    assert lean == default
    assert all("序号" in page and "联系方式（手机）" in page for page in lean)


def test_css_strings_cannot_break_out_of_the_style_element():
    from xkxl_intranet.printing import css_string

    assert css_string("2022年名单") == '"2022年名单"'
    escaped = css_string('a"b\\c</style><script>\n')
    assert escaped.count('"') == 2 and "<" not in escaped and "\n" not in escaped
    assert escaped == '"a\\22 b\\5C c\\3C /style\\3E \\3C script\\3E \\A "'


def test_every_print_extends_the_print_layout_and_loads_nothing_from_outside():
    """The rules all prints share live in templates/print/ once; no print repeats the head or
    names a URL (the PDFs, like the pages, load nothing from outside the server)."""
    templates = Path(__file__).parents[2] / "xkxl_intranet" / "templates"
    prints = sorted(templates.glob("*/*_print.html"))
    assert len(prints) >= 6
    for path in prints:
        source = path.read_text(encoding="utf-8")
        assert source.startswith('{% extends "print/'), path.name
        assert "<!doctype" not in source.lower() and "<style" not in source, path.name
    for path in [*prints, *templates.glob("print/*.html"), *templates.glob("rounds/_receipt_body.html")]:
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"https?:|//[\w.-]+\.\w|@import|url\(|<link|<img|<script", source), path.name
