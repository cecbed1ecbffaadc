"""Streaming ZIP export, manifest CSV, hashing."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import zipfile
from datetime import UTC, datetime

import pytest

from xkxl_intranet.filenames import archive_member
from xkxl_intranet.files.zipstream import (
    CHUNK_SIZE,
    ZipMember,
    manifest_csv,
    sha256_file,
    stream_zip,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    """~20 MB of pseudo-random (incompressible) data."""
    path = tmp_path_factory.mktemp("big") / "big.pdf"
    block = hashlib.sha256(b"seed").digest() * (CHUNK_SIZE // 32)
    with open(path, "wb") as fh:
        for i in range(20):
            fh.write(bytes([i]) + block[1:])
        fh.write(b"tail")
    return path


def _collect(members) -> tuple[bytes, list[int]]:
    chunks = list(stream_zip(members))
    assert all(isinstance(c, bytes) and c for c in chunks)
    return b"".join(chunks), [len(c) for c in chunks]


def test_stream_zip_round_trip(tmp_path, big_file):
    doc = tmp_path / "stored-name-1"
    doc.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"Word text " * 5000)
    members = [
        ZipMember(archive_member("成都市", "01_四川某某科技有限公司", "申报书", "申报书（盖章版）.pdf"), data=PDF),
        ZipMember(archive_member("成都市", "01_四川某某科技有限公司", "附件6 财务报表", "2021年审计报告.doc"), path=doc),
        ZipMember(archive_member("成都市", "02_绵阳某某公司", "附件1 工业设备清单", "设备.pdf"), path=str(big_file)),
        ZipMember("清单.csv", data=manifest_csv([{"a": "企业"}], ["a"]),
                  mtime=datetime(2022, 5, 1, 1, 2, 4, tzinfo=UTC)),
    ]
    archive, sizes = _collect(members)
    assert max(sizes) <= CHUNK_SIZE + 64 * 1024  # flat memory: never the whole file at once
    assert len(sizes) > 20

    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        assert zf.testzip() is None  # all CRCs verified
        names = zf.namelist()
        assert names == [
            "成都市/01_四川某某科技有限公司/申报书/申报书（盖章版）.pdf",
            "成都市/01_四川某某科技有限公司/附件6 财务报表/2021年审计报告.doc",
            "成都市/02_绵阳某某公司/附件1 工业设备清单/设备.pdf",
            "清单.csv",
        ]
        infos = zf.infolist()
        assert all(i.flag_bits & 0x800 for i in infos)  # UTF-8 name flag
        assert zf.read(names[0]) == PDF
        assert zf.read(names[1]) == doc.read_bytes()
        assert infos[0].compress_type == zipfile.ZIP_STORED
        assert infos[1].compress_type == zipfile.ZIP_DEFLATED
        assert infos[1].compress_size < infos[1].file_size
        assert infos[3].date_time == (2022, 5, 1, 9, 2, 4)  # shown in China time
        with zf.open(names[2]) as fh:
            digest = hashlib.sha256()
            while block := fh.read(CHUNK_SIZE):
                digest.update(block)
        assert digest.hexdigest() == sha256_file(big_file)
        assert infos[2].file_size == os.path.getsize(big_file)


def test_stream_zip_is_lazy(tmp_path):
    """Chunks come out while members are still being produced."""
    produced = []

    def members():
        for i in range(3):
            produced.append(i)
            yield ZipMember(f"{i}.txt", data=b"x" * 10)

    gen = stream_zip(members())
    first = next(gen)
    assert first.startswith(b"PK\x03\x04")
    assert produced == [0]
    rest = b"".join(gen)
    assert produced == [0, 1, 2]
    with zipfile.ZipFile(io.BytesIO(first + rest)) as zf:
        assert zf.namelist() == ["0.txt", "1.txt", "2.txt"]


def test_stream_zip_sanitises_and_deduplicates():
    archive, _ = _collect(
        [
            ZipMember("../../etc/passwd", data=b"a"),
            ZipMember("成都市/证明.pdf", data=b"1"),
            ZipMember("成都市/证明.pdf", data=b"2"),
            ZipMember("成都市/证明.PDF", data=b"3"),
            ZipMember("成都市/无扩展名", data=b"4"),
            ZipMember("成都市/无扩展名", data=b"5"),
        ]
    )
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        assert zf.namelist() == [
            "_/_/etc/passwd",
            "成都市/证明.pdf",
            "成都市/证明 (2).pdf",
            "成都市/证明 (3).PDF",
            "成都市/无扩展名",
            "成都市/无扩展名 (2)",
        ]
        assert zf.read("成都市/证明 (3).PDF") == b"3"


def test_stream_zip_empty_and_old_dates():
    archive, _ = _collect([])
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        assert zf.namelist() == []
    archive, _ = _collect([ZipMember("a.txt", data=b"", mtime=datetime(1970, 1, 1))])
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        assert zf.getinfo("a.txt").date_time == (1980, 1, 1, 0, 0, 0)
        assert zf.read("a.txt") == b""


def test_stream_zip_missing_file_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        list(stream_zip([ZipMember("a.pdf", path=tmp_path / "missing")]))


def test_zipmember_needs_exactly_one_source():
    with pytest.raises(ValueError):
        ZipMember("a.pdf")
    with pytest.raises(ValueError):
        ZipMember("a.pdf", path="/x", data=b"")


def test_manifest_csv():
    rows = [
        {"seq": 1, "company": "四川某某科技有限公司", "file": "申报书.pdf", "ok": True, "at": datetime(2022, 6, 1, 9, 30)},
        {"seq": 2, "company": '含"引号",逗号', "file": "=HYPERLINK(\"http://evil\")", "ok": False, "at": None},
        {"seq": 3, "company": "-5", "file": "+86 028", "ok": None},
    ]
    data = manifest_csv(rows, [("seq", "序号"), ("company", "企业名称"), ("file", "文件名"), ("ok", "通过"),
                               ("at", "上传时间")])
    assert data.startswith(b"\xef\xbb\xbf")
    text = data[3:].decode("utf-8")
    assert "\r\n" in text
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed[0] == ["序号", "企业名称", "文件名", "通过", "上传时间"]
    assert parsed[1] == ["1", "四川某某科技有限公司", "申报书.pdf", "是", "2022-06-01 09:30:00"]
    assert parsed[2] == ["2", '含"引号",逗号', "'=HYPERLINK(\"http://evil\")", "否", ""]
    assert parsed[3] == ["3", "-5", "'+86 028", "", ""]
    # keys as headers, and a mapping
    assert manifest_csv([{"a": 1}], ["a"]) == b"\xef\xbb\xbfa\r\n1\r\n"
    assert manifest_csv([{"a": 1}], {"a": "列"}) == "\ufeff列\r\n1\r\n".encode()


def test_sha256_file(tmp_path):
    p = tmp_path / "x"
    p.write_bytes(b"abc" * 1000)
    assert sha256_file(p) == hashlib.sha256(b"abc" * 1000).hexdigest()


def test_stream_zip_zip64_entries_readable(monkeypatch, tmp_path):
    """The ZIP64 path (used for entries >= 2 GiB) produces a valid archive."""
    from xkxl_intranet.files import zipstream

    monkeypatch.setattr(zipstream, "_FORCE_ZIP64_FROM", 0)
    p = tmp_path / "f"
    p.write_bytes(b"z" * 3000)
    archive, _ = _collect([ZipMember("大文件.pdf", path=p), ZipMember("b.doc", data=b"y" * 100)])
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        assert zf.testzip() is None
        assert zf.read("大文件.pdf") == b"z" * 3000
        assert zf.read("b.doc") == b"y" * 100
