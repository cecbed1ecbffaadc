"""File names for display, download headers, ZIP members and storage."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote

import pytest

from xkxl_intranet.filenames import (
    FALLBACK_NAME,
    archive_member,
    display_name,
    extension_of,
    is_storage_name,
    random_storage_name,
    safe_arcname,
    storage_relpath,
)
from xkxl_intranet.web import content_disposition


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("申报书.pdf", "申报书.pdf"),
        (r"C:\fakepath\申报书.pdf", "申报书.pdf"),
        ("../../etc/passwd", "passwd"),
        ("..\\x.pdf", "x.pdf"),
        ("..\\..\\", FALLBACK_NAME),
        ("..", FALLBACK_NAME),
        ("", FALLBACK_NAME),
        (None, FALLBACK_NAME),
        ("   ", FALLBACK_NAME),
        ("申报\x00书.pdf", "申报书.pdf"),
        ("申报书\r\n.pdf", "申报书 .pdf"),
        ("  某某   公司\t申报书.pdf  ", "某某 公司 申报书.pdf"),
        ("申报书\u3000（盖章版）.pdf", "申报书 （盖章版）.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),  # bidi override stripped
        ("\ufeff申报书.pdf", "申报书.pdf"),
        ("bad\udcffname.pdf", "badname.pdf"),  # lone surrogate
    ],
)
def test_display_name(raw, shown):
    assert display_name(raw) == shown


def test_display_name_nfc():
    decomposed = unicodedata.normalize("NFD", "Café.pdf")
    assert decomposed != "Café.pdf"
    assert display_name(decomposed) == "Café.pdf"


def test_display_name_truncates_keeping_extension():
    long = "四川省" * 100 + ".docx"  # 305 chars
    shown = display_name(long)
    assert len(shown) == 200
    assert shown.endswith("四川省.docx") or shown.endswith(".docx")
    assert shown.startswith("四川省四川省")
    no_ext = "a" * 300
    assert display_name(no_ext) == "a" * 200


@pytest.mark.parametrize(
    "name, ext",
    [
        ("申报书.PDF", "pdf"),
        ("a.tar.gz", "gz"),
        (r"C:\fakepath\照片.JPEG", "jpeg"),
        ("申报书", ""),
        (".pdf", ""),
        ("申报书.", ""),
        ("", ""),
        (None, ""),
        ("dir.d/file", ""),
        ("申报书.pdf ", "pdf"),
    ],
)
def test_extension_of(name, ext):
    assert extension_of(name) == ext


def _filename_star(header: str) -> str:
    m = re.search(r"filename\*=UTF-8''(\S+)$", header)
    assert m, header
    return unquote(m.group(1), encoding="utf-8")


@pytest.mark.parametrize(
    "name",
    ["2022年跨行业跨领域工业互联网平台申报书.pdf", "成都市 汇总表（盖章）.pdf", 'a "quoted" name;.pdf', "100% 完成.xlsx"],
)
def test_content_disposition_round_trips(name):
    header = content_disposition(name)
    assert header.startswith('attachment; filename="')
    assert _filename_star(header) == name
    fallback = re.search(r'filename="([^"]*)"', header).group(1)
    assert fallback.isascii()
    assert "\\" not in fallback and "%" not in fallback
    header.encode("latin-1")  # valid as an HTTP header value


def test_content_disposition_shape():
    assert content_disposition("申报书.pdf") == (
        "attachment; filename=\"download.pdf\"; filename*=UTF-8''%E7%94%B3%E6%8A%A5%E4%B9%A6.pdf"
    )  # issue 25 (6f): not ___.pdf
    assert content_disposition("附件3.xlsx", fallback="fujian3-chengdu-2022.xlsx").startswith(
        'attachment; filename="fujian3-chengdu-2022.xlsx"; filename*=UTF-8')
    assert content_disposition("a.pdf", inline=True).startswith('inline; filename="a.pdf"')


def test_content_disposition_no_header_injection():
    header = content_disposition("x.pdf\r\nSet-Cookie: a=b")
    assert "\r" not in header and "\n" not in header


def test_archive_member():
    path = archive_member("成都市", "01_四川某某科技有限公司", "附件1 工业设备清单", "设备清单.xlsx")
    assert path == "成都市/01_四川某某科技有限公司/附件1 工业设备清单/设备清单.xlsx"


@pytest.mark.parametrize(
    "part",
    ["../../etc/passwd", "..", ".", "..\\..\\x.pdf", "/abs/path", "C:\\fakepath\\a.pdf", "a\x00b\nc",
     ".hidden", "a<b>c:d\"e|f?g*h"],
)
def test_archive_member_parts_are_safe(part):
    path = archive_member("成都市", part)
    city, _, rest = path.partition("/")
    assert city == "成都市"
    assert "/" not in rest and "\\" not in rest
    assert rest and not rest.startswith(".")
    assert not re.search(r'[<>:"|?*\x00-\x1f]', rest)
    assert ".." not in path.split("/")


def test_archive_member_windows_quirks():
    assert archive_member("CON") == "_CON"
    assert archive_member("nul.txt") == "_nul.txt"
    assert archive_member("名称. . ") == "名称"
    assert archive_member("") == "_"
    assert archive_member(None, 7) == "_/7"


def test_archive_member_truncates_and_is_idempotent():
    path = archive_member("成都市", "某" * 300 + ".pdf")
    last = path.split("/")[-1]
    assert len(last) <= 100 and last.endswith(".pdf")
    for sample in [path, archive_member("a/b", "..", " x. "), archive_member("成都市", "C:\\fakepath\\申报书.pdf")]:
        assert safe_arcname(sample) == sample


def test_safe_arcname():
    assert safe_arcname("../../etc/passwd") == "_/_/etc/passwd"
    assert safe_arcname("/abs//x.pdf") == "abs/x.pdf"
    assert safe_arcname("a\\b\\c.pdf") == "a/b/c.pdf"


def test_random_storage_name_and_path():
    names = {random_storage_name() for _ in range(100)}
    assert len(names) == 100
    name = names.pop()
    assert re.fullmatch(r"[0-9a-f]{32}", name)
    assert is_storage_name(name)
    assert storage_relpath(name) == f"{name[:2]}/{name[2:]}"
    for bad in ["../" + "a" * 29, "A" * 32, "", "申报书.pdf"]:
        assert not is_storage_name(bad)
        with pytest.raises(ValueError):
            storage_relpath(bad)
