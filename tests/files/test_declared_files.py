"""The files a round's notice asks for are that round's everywhere a file is named: a kind of file
that only a later notice declares (附件7) is uploaded, listed, named on the stored file, asked
for while missing, and foldered and labelled in the city's ZIP and its manifest (issue 21)."""
from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime

from xkxl_intranet import clock
from xkxl_intranet.batches.settings import open_round
from xkxl_intranet.extensions import db
from xkxl_intranet.files.models import StoredFile
from xkxl_intranet.notice.loader import parse_notice
from xkxl_intranet.rounds.models import City

from .conftest import pdf, upload
from helpers import audit_events, create_application, notice_text, user_by_name

SCAN = '[[file]]\nkey = "summary_scan"'
EVIDENCE7 = '''[[file]]
key = "evidence7"
label = "附件7 知识产权证明"
kinds = ["pdf", "jpg", "png"]
versioned = false
per_city = false
required = true

'''


def _open_2023_with_evidence7(app) -> None:
    text = notice_text(2023, deadline="2023-06-30T17:00:00+08:00")
    assert text.count(SCAN) == 1
    clock.set_now(datetime(2023, 5, 8, 9, 0, tzinfo=clock.SHANGHAI))
    with app.app_context():
        open_round(db.session.merge(user_by_name(app, "province")), parse_notice(text.replace(SCAN, EVIDENCE7 + SCAN)),
                   notice_file="2023.toml", confirm_replace=True)
        db.session.commit()


def test_a_kind_of_file_only_the_rounds_notice_declares(app, city_client):
    _open_2023_with_evidence7(app)
    application_id = create_application(app, enterprise_name="四川新材料有限公司")
    page = city_client.get(f"/files/applications/{application_id}").get_data(as_text=True)
    assert "附件7 知识产权证明" in page and "尚未上传附件7 知识产权证明" in page

    response = upload(city_client, application_id, "evidence7", ("专利证书.pdf", pdf("patent")))
    assert response.status_code in (200, 303), response.get_data(as_text=True)[:1000]
    with app.app_context():
        stored = db.session.scalar(db.select(StoredFile).where(StoredFile.category == "evidence7"))
        assert stored is not None and stored.category_info.label == "附件7 知识产权证明"
        chengdu = db.session.scalar(db.select(City).where(City.code == "510100")).id
    page = city_client.get(f"/files/applications/{application_id}").get_data(as_text=True)
    assert "专利证书.pdf" in page and "尚未上传附件7 知识产权证明" not in page

    archive = zipfile.ZipFile(io.BytesIO(city_client.get(f"/files/cities/{chengdu}/files.zip").get_data()))
    assert any("/附件7 知识产权证明/专利证书.pdf" in name for name in archive.namelist()), archive.namelist()
    manifest = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode("utf-8-sig"))))
    assert [row["类别"] for row in manifest if row["文件名"] == "专利证书.pdf"] == ["附件7 知识产权证明"]

    deleted = city_client.post(f"/files/{stored.id}/delete")
    assert deleted.status_code in (200, 303)
    [event] = audit_events(app, "file.deleted")
    assert "附件7 知识产权证明" in event.summary
