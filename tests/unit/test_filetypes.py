"""Content-based upload checks (xkxl_intranet.files.filetypes sniffs, .upload_rules decides)."""

from __future__ import annotations

import io
import struct
import uuid
import zipfile

import pytest

from xkxl_intranet.domain.errors import Refused
from xkxl_intranet.filenames import display_name
from xkxl_intranet.files.filetypes import detect, mime_for
from xkxl_intranet.files.upload_rules import (
    APPLICATION_FORM_KINDS,
    EVIDENCE_KINDS,
    SCAN_KINDS,
    Detected,
    FileRejected,
    accept_attribute,
    check_upload,
    describe_kinds,
)

# --------------------------------------------------------------------------- fake files

PDF = (
    b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"xref\n0 3\n0000000000 65535 f \n0000000015 00000 n \n0000000064 00000 n \n"
    b"trailer\n<< /Size 3 /Root 1 0 R >>\nstartxref\n113\n%%EOF\n"
)
PNG = (
    b"\x89PNG\r\n\x1a\n"
    + struct.pack(">I", 13) + b"IHDR" + struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    + b"\x90wS\xde"
    + struct.pack(">I", 0) + b"IEND" + b"\xaeB`\x82"
)
JPG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56
MACHO = b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + b"\x00" * 24
SCRIPT = b"#!/bin/sh\nrm -rf /\n"
HTML = b"\xef\xbb\xbf  \n<!DOCTYPE html>\n<html><body><script>alert(1)</script></body></html>"
SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
BARE_SVG = b'  <svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
SCRIPT_TAG = b"<script>fetch('/admin')</script>"
UTF16_HTML = "\ufeff<html><body>x</body></html>".encode("utf-16-le")
RTF = b"{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 SimSun;}} \\f0 \\'c9\\'ea\\'b1\\'a8}"
TEXT = "这是一个纯文本文件，不是PDF。\n".encode()
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,"


def make_zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


CT = (b'<?xml version="1.0" encoding="UTF-8"?>'
      b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
DOCX = make_zip(
    {
        "[Content_Types].xml": CT,
        "_rels/.rels": b"<Relationships/>",
        "word/document.xml": "<w:document><w:body><w:p>申报书</w:p></w:body></w:document>".encode(),
    }
)
XLSX = make_zip(
    {
        "[Content_Types].xml": CT,
        "_rels/.rels": b"<Relationships/>",
        "xl/workbook.xml": b"<workbook/>",
        "xl/worksheets/sheet1.xml": b"<worksheet/>",
    }
)
OFD = make_zip(
    {
        "OFD.xml": (b'<?xml version="1.0" encoding="UTF-8"?>'
                    b'<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" Version="1.0"/>'),
        "Doc_0/Document.xml": b"<ofd:Document/>",
    }
)
PLAIN_ZIP = make_zip({"证明材料/营业执照.pdf": PDF, "说明.txt": "说明".encode()})
EMPTY_ZIP = b"PK\x05\x06" + b"\x00" * 18

NOSTREAM = 0xFFFFFFFF
ENDOFCHAIN = 0xFFFFFFFE
FATSECT = 0xFFFFFFFD
FREESECT = 0xFFFFFFFF


def _dir_entry(name: str, obj_type: int, left=NOSTREAM, right=NOSTREAM, child=NOSTREAM, clsid=b"\0" * 16):
    raw_name = (name + "\0").encode("utf-16-le") if name else b""
    return (
        raw_name.ljust(64, b"\0")
        + struct.pack("<HBB", len(raw_name), obj_type, 1)
        + struct.pack("<III", left, right, child)
        + clsid
        + b"\0" * 4  # state bits
        + b"\0" * 16  # times
        + struct.pack("<IQ", ENDOFCHAIN, 0)
    )


DIFSECT = 0xFFFFFFFC


def make_cfb(entries, clsid=b"\0" * 16, *, version=3, pad_sectors=0) -> bytes:
    """Valid OLE2 compound file: v3 (512-byte sectors) or v4 (4096-byte sectors).

    ``entries``: list of (name, type, left, right, child) for entries 1..n;
    entry 0 is the root, whose child is entry 1.  ``pad_sectors`` unused
    sectors are put before the directory, so a large value forces the FAT to
    be located through DIFAT sectors (files above ~7 MB).
    """
    ss = 512 if version == 3 else 4096
    per = ss // 4
    dirents = [_dir_entry("Root Entry", 5, child=1 if entries else NOSTREAM, clsid=clsid)]
    dirents += [_dir_entry(*e) for e in entries]
    while len(dirents) % (ss // 128):
        dirents.append(b"\0" * 128)
    n_dir = len(dirents) * 128 // ss
    n_fat, n_difat = 1, 0
    while True:
        total = pad_sectors + n_dir + n_fat + n_difat
        need_fat = -(-total // per)
        need_difat = max(0, -(-(need_fat - 109) // (per - 1)))
        if (need_fat, need_difat) == (n_fat, n_difat):
            break
        n_fat, n_difat = need_fat, need_difat
    dir_start = pad_sectors
    fat_start = dir_start + n_dir
    difat_start = fat_start + n_fat
    fat = [FREESECT] * (n_fat * per)
    for i in range(n_dir):
        fat[dir_start + i] = dir_start + i + 1 if i + 1 < n_dir else ENDOFCHAIN
    fat_locations = list(range(fat_start, fat_start + n_fat))
    for loc in fat_locations:
        fat[loc] = FATSECT
    for i in range(n_difat):
        fat[difat_start + i] = DIFSECT
    head_difat = (fat_locations[:109] + [FREESECT] * 109)[:109]
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x3E, version, 0xFFFE, 9 if version == 3 else 12, 6)
        + b"\0" * 6
        + struct.pack("<IIII", 0 if version == 3 else n_dir, n_fat, dir_start, 0)
        + struct.pack("<IIIII", 4096, ENDOFCHAIN, 0, difat_start if n_difat else ENDOFCHAIN, n_difat)
        + struct.pack("<109I", *head_difat)
    )
    assert len(header) == 512
    difat_sectors = b""
    rest = fat_locations[109:]
    for i in range(n_difat):
        chunk = rest[i * (per - 1) : (i + 1) * (per - 1)]
        chunk += [FREESECT] * (per - 1 - len(chunk))
        nxt = difat_start + i + 1 if i + 1 < n_difat else ENDOFCHAIN
        difat_sectors += struct.pack(f"<{per}I", *chunk, nxt)
    return (
        header.ljust(ss, b"\0")
        + b"\0" * (pad_sectors * ss)
        + b"".join(dirents)
        + struct.pack(f"<{len(fat)}I", *fat)
        + difat_sectors
    )


def word_cfb():
    # typical Word 97 root children, as a sibling chain
    names = ["1Table", "WordDocument", "\x05SummaryInformation", "\x05DocumentSummaryInformation",
             "\x01CompObj"]
    return make_cfb([(n, 2, NOSTREAM, i + 2 if i + 1 < len(names) else NOSTREAM)
                     for i, n in enumerate(names)])


DOC = word_cfb()
XLS = make_cfb([("Workbook", 2), ("\x05SummaryInformation", 2)])
# entry 1 Workbook (right -> 2), entry 2 storage MBD0001 whose child is entry 3 WordDocument
XLS_WITH_EMBEDDED_DOC = make_cfb(
    [("Workbook", 2, NOSTREAM, 2), ("MBD0001", 1, NOSTREAM, NOSTREAM, 3), ("WordDocument", 2)]
)
OTHER_CFB = make_cfb([("PowerPoint Document", 2), ("Current User", 2)])
ENCRYPTED_DOCX = make_cfb([("EncryptionInfo", 2, NOSTREAM, 2), ("EncryptedPackage", 2)])
MSI = make_cfb([("\u4840\u3f3f", 2)], clsid=uuid.UUID("000c1084-0000-0000-c000-000000000046").bytes_le)
BARE_OLE_HEADER = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504  # no valid directory


# --------------------------------------------------------------------------- detect


@pytest.mark.parametrize(
    "data, kind",
    [
        (PDF, "pdf"),
        (b"\r\n  " + PDF, "pdf"),
        (PNG, "png"),
        (JPG, "jpg"),
        (DOCX, "docx"),
        (XLSX, "xlsx"),
        (OFD, "ofd"),
        (PLAIN_ZIP, "zip"),
        (EMPTY_ZIP, "zip"),
        (DOC, "doc"),
        (XLS, "xls"),
        (XLS_WITH_EMBEDDED_DOC, "xls"),
        (OTHER_CFB, "ole"),
        (EXE, None),
        (ELF, None),
        (HTML, None),
        (TEXT, None),
        (b"", None),
    ],
)
def test_detect_from_bytes(data, kind):
    assert detect(data) == kind


def test_cfb_v4_and_difat_chain(tmp_path):
    names = [("Workbook", 2, NOSTREAM, 2), ("\x05SummaryInformation", 2)]
    assert detect(make_cfb(names, version=4)) == "xls"
    # directory beyond what the 109 header DIFAT entries cover (> 7 MB file)
    big = make_cfb([("1Table", 2, NOSTREAM, 2), ("WordDocument", 2)], pad_sectors=109 * 128 + 5)
    assert len(big) > 109 * 128 * 512  # FAT sector #110 is needed
    p = tmp_path / "big.doc"
    p.write_bytes(big)
    assert detect(big[:4096], path=p) == "doc"
    assert check_upload("大文件.doc", p, allowed=EVIDENCE_KINDS).kind == "doc"


def test_detect_with_path_and_fileobj(tmp_path):
    p = tmp_path / "whatever.bin"
    p.write_bytes(DOCX)
    assert detect(DOCX[:64], path=p) == "docx"
    assert detect(DOCX[:64], path=str(p)) == "docx"
    fh = io.BytesIO(XLSX)
    fh.seek(5)
    assert detect(XLSX[:64], path=fh) == "xlsx"
    assert fh.tell() == 5  # position restored


# --------------------------------------------------------------------------- accepted

ACCEPTED = [
    ("申报书.pdf", PDF, "pdf", "application/pdf"),
    ("申报书.PDF", PDF, "pdf", "application/pdf"),
    ("申报书.doc", DOC, "doc", "application/msword"),
    ("申报书.docx", DOCX, "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("财务报表.xls", XLS, "xls", "application/vnd.ms-excel"),
    ("财务报表.xlsx", XLSX, "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("申报书.wps", DOC, "wps", mime_for("wps")),
    ("申报书.wps", OTHER_CFB, "wps", mime_for("wps")),
    ("清单.et", XLS, "et", mime_for("et")),
    ("清单.et", OTHER_CFB, "et", mime_for("et")),
    ("申报书.ofd", OFD, "ofd", "application/ofd"),
    ("营业执照.jpg", JPG, "jpg", "image/jpeg"),
    ("营业执照.JPEG", JPG, "jpg", "image/jpeg"),
    ("截图.png", PNG, "png", "image/png"),
    ("证明材料.zip", PLAIN_ZIP, "zip", "application/zip"),
    ("空压缩包.zip", EMPTY_ZIP, "zip", "application/zip"),
]


@pytest.mark.parametrize("name, data, kind, mime", ACCEPTED)
def test_accepted_as_evidence(name, data, kind, mime):
    result = check_upload(name, io.BytesIO(data), allowed=EVIDENCE_KINDS)
    assert result == Detected(kind=kind, extension=name.rsplit(".", 1)[1].lower(), mime=mime)
    assert result.mime == mime_for(kind)


def test_accepts_path_and_restores_position(tmp_path):
    p = tmp_path / "x.bin"
    p.write_bytes(OFD)
    assert check_upload("申报书.ofd", p, allowed=APPLICATION_FORM_KINDS).kind == "ofd"
    assert check_upload("申报书.ofd", str(p), allowed=APPLICATION_FORM_KINDS).kind == "ofd"
    fh = io.BytesIO(PDF)
    fh.seek(7)
    check_upload("申报书.pdf", fh, allowed=APPLICATION_FORM_KINDS)
    assert fh.tell() == 7


def test_windows_fakepath_name():
    assert check_upload(r"C:\fakepath\申报书.pdf", io.BytesIO(PDF), allowed=APPLICATION_FORM_KINDS).kind == "pdf"


def test_large_file_only_head_read(tmp_path):
    """A big PDF: only the head is read (tracked via a counting file object)."""

    class Counting(io.BytesIO):
        read_total = 0

        def read(self, n=-1):
            data = super().read(n)
            Counting.read_total += len(data)
            return data

    big = PDF + b"\0" * (5 * 1024 * 1024)
    assert check_upload("申报书.pdf", Counting(big), allowed=APPLICATION_FORM_KINDS).kind == "pdf"
    assert Counting.read_total <= 16 * 1024


# --------------------------------------------------------------------------- refused


def refused(name, data, allowed=EVIDENCE_KINDS) -> FileRejected:
    with pytest.raises(FileRejected) as exc:
        check_upload(name, io.BytesIO(data), allowed=allowed)
    assert f"“{display_name(name)}”" in exc.value.message
    assert str(exc.value) == exc.value.message
    assert isinstance(exc.value, Refused)  # a route's unit of work shows it to the clerk
    assert exc.value.filename == display_name(name) and exc.value.reason
    return exc.value


def test_empty_file():
    err = refused("申报书.pdf", b"")
    assert "是空文件" in err.message
    assert err.reason == "empty"


@pytest.mark.parametrize("data", [EXE, ELF, MACHO, SCRIPT, MSI])
@pytest.mark.parametrize("name", ["申报书.pdf", "营业执照.jpg", "申报书.wps", "setup.exe"])
def test_executables_refused(name, data):
    err = refused(name, data)
    assert "可执行程序" in err.message


@pytest.mark.parametrize("data", [HTML, SVG, BARE_SVG, SCRIPT_TAG, UTF16_HTML])
def test_markup_refused(data):
    err = refused("申报书.pdf", data)
    assert "网页或脚本" in err.message


def test_extension_not_allowed_lists_formats():
    err = refused("申报书.xlsx", XLSX, APPLICATION_FORM_KINDS)
    assert "仅支持 PDF、Word（DOC/DOCX）、WPS、OFD" in err.message
    err = refused("申报书.txt", TEXT, EVIDENCE_KINDS)
    assert "PDF、Word（DOC/DOCX）、Excel（XLS/XLSX）、WPS（WPS/ET）、OFD、图片（JPG/PNG）、ZIP压缩包" in err.message
    err = refused("汇总表.docx", DOCX, SCAN_KINDS)
    assert "仅支持 PDF、OFD、图片（JPG/PNG）" in err.message


@pytest.mark.parametrize("name", ["申报书", "申报书.", ".pdf", "C:\\fakepath\\申报书"])
def test_no_extension(name):
    err = refused(name, PDF)
    assert err.reason == "no_extension"
    assert "扩展名" in err.message


@pytest.mark.parametrize(
    "name, data",
    [
        ("申报书.pdf", PNG),
        ("申报书.pdf", DOCX),
        ("申报书.pdf", TEXT),
        ("申报书.pdf", GIF),
        ("申报书.pdf", b"\x00\x01\x02\x03garbage"),
        ("财务.xlsx", DOCX),
        ("申报书.docx", XLSX),
        ("申报书.docx", PLAIN_ZIP),
        ("申报书.docx", DOC),
        ("申报书.doc", DOCX),
        ("申报书.doc", PDF),
        ("申报书.doc", XLS),
        ("申报书.doc", OTHER_CFB),
        ("财务.xls", DOC),
        ("申报书.wps", DOCX),
        ("申报书.wps", PDF),
        ("清单.et", XLSX),
        ("申报书.ofd", PLAIN_ZIP),
        ("申报书.ofd", DOCX),
        ("照片.jpg", PNG),
        ("照片.png", JPG),
        ("照片.jpg", GIF),
        ("材料.zip", PDF),
        ("材料.zip", DOC),
    ],
)
def test_content_mismatch(name, data):
    err = refused(name, data)
    assert err.reason == "mismatch"
    assert "的内容不是" in err.message
    assert err.message.endswith("请检查后重新上传")


def test_mismatch_message_shape():
    err = refused("申报书.pdf", PNG)
    assert err.message == "文件“申报书.pdf”的内容不是PDF文件（实际是PNG图片），请检查后重新上传"
    err = refused("申报书.pdf", b"\x00\x01\x02\x03garbage")
    assert err.message == "文件“申报书.pdf”的内容不是PDF文件，请检查后重新上传"


def test_rtf_named_doc_gets_advice():
    err = refused("申报书.doc", RTF)
    assert "RTF" in err.message and "另存为" in err.message


def test_password_protected_office_file():
    err = refused("申报书.docx", ENCRYPTED_DOCX)
    assert "密码" in err.message


def test_corrupt_zip_refused():
    truncated = DOCX[: len(DOCX) // 2]
    err = refused("申报书.docx", truncated)
    assert err.reason == "corrupt"
    err = refused("申报书.doc", BARE_OLE_HEADER)
    assert err.reason == "corrupt"
    err = refused("材料.zip", PLAIN_ZIP[:-30])
    assert err.reason == "corrupt"
    assert "损坏" in err.message


def test_message_uses_clean_display_name():
    err = refused("../../etc/申报书\n.pdf", PNG)
    assert "“申报书 .pdf”" in err.message


def test_unknown_allowed_kind_is_programming_error():
    with pytest.raises(ValueError):
        check_upload("x.pdf", io.BytesIO(PDF), allowed={"pdf", "exe"})


# --------------------------------------------------------------------------- helpers


def test_category_constants():
    assert {"pdf", "doc", "docx", "wps", "ofd"} == APPLICATION_FORM_KINDS
    assert {"pdf", "doc", "docx", "xls", "xlsx", "wps", "et", "ofd", "jpg", "png", "zip"} == EVIDENCE_KINDS
    assert {"pdf", "ofd", "jpg", "png"} == SCAN_KINDS
    for kind in EVIDENCE_KINDS:
        assert "/" in mime_for(kind)


def test_describe_and_accept_attribute():
    assert describe_kinds(APPLICATION_FORM_KINDS) == "PDF、Word（DOC/DOCX）、WPS、OFD"
    assert describe_kinds({"et"}) == "WPS表格（ET）"
    assert accept_attribute(SCAN_KINDS) == ".jpeg,.jpg,.ofd,.pdf,.png"
