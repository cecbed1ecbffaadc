"""Fixtures for the files domain: applications made directly, realistic fake files, uploads."""
from __future__ import annotations

import hashlib
import io
import os
import struct
import zipfile
from pathlib import Path

import pytest

from xkxl_intranet.applications.models import Application
from xkxl_intranet.extensions import db
from xkxl_intranet.files.models import StoredFile
from xkxl_intranet.rounds.models import City
from xkxl_intranet.rounds.state import current_round

from helpers import audit_events as events  # noqa: F401  (used by the files tests)

# ---- realistic fake files ----------------------------------------------------------------------

PDF = (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
       b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")
PNG = (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
       + b"\x90wS\xde" + struct.pack(">I", 0) + b"IEND" + b"\xaeB`\x82")
EXE = (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"
       + b"\x00" * 200)
HTML = (b"<!DOCTYPE html>\n<html><head><title>x</title></head>"
        b"<body><script>alert(document.cookie)</script></body></html>")


def pdf(tag: str = "", size: int = 0) -> bytes:
    """A distinct PDF (``tag`` changes its bytes), padded to ``size`` bytes if given."""
    body = PDF + f"% {tag}\n".encode()
    return body + b"%" * max(0, size - len(body))


def make_zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


DOCX = make_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
XLSX = make_zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---- data ----------------------------------------------------------------------------------------

def make_application(app, city_code: str = "510100", **fields) -> int:
    """An application inserted directly (the applications domain is not under test here)."""
    with app.app_context():
        city = db.session.scalar(db.select(City).where(City.code == city_code))
        values = {"enterprise_name": "四川测试科技有限公司", "platform_name": "测试工业互联网平台", **fields}
        application = Application(round_id=current_round().id, city_id=city.id, **values)
        db.session.add(application)
        db.session.commit()
        return application.id


def set_review_state(app, application_id: int, state: str) -> None:
    with app.app_context():
        db.session.get(Application, application_id).review_state = state
        db.session.commit()


def stored_files(app, **where) -> list:
    with app.app_context():
        stmt = db.select(StoredFile).order_by(StoredFile.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(StoredFile, key) == value)
        rows = db.session.scalars(stmt).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def upload_root(app) -> Path:
    return Path(app.config["UPLOAD_FOLDER"])


def storage_path(app, row) -> Path:
    return upload_root(app) / row.storage_name[:2] / row.storage_name[2:]


def files_on_disk(app) -> list[Path]:
    """Every file under the upload folder (temporary ones included)."""
    root = upload_root(app)
    if not root.exists():
        return []
    return sorted(Path(d) / f for d, _, names in os.walk(root) for f in names)


def upload(client, application_id: int, category: str, *files: tuple[str, bytes], htmx: bool = False,
           **kwargs):
    data = {"file": [(io.BytesIO(content), name) for name, content in files]}
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(f"/files/applications/{application_id}/{category}/upload", data=data,
                       headers=headers, content_type="multipart/form-data", **kwargs)


@pytest.fixture
def application_id(app):
    """A draft application of 成都市."""
    return make_application(app, enterprise_name="四川某某科技有限公司", platform_name="某某工业互联网平台")
