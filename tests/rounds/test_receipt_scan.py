"""The receipt lists the stamped 附件3 scan reported with the batch (file name, size, SHA-256) and
whether the clerk chose 「纸质版另行报送」, on its page and in its PDF; the choice is kept on the
receipt (``paper_summary_follows``) and in the audit trail. A receipt made before either was kept
still renders, and says what it does not know."""
from __future__ import annotations

import hashlib
import re
from datetime import datetime
from io import BytesIO

import pytest
from pypdf import PdfReader

from xkxl_intranet import clock
from xkxl_intranet.batches.reporting import content_digest
from xkxl_intranet.extensions import db
from xkxl_intranet.reports.summary_scan import store_scan_bytes
from xkxl_intranet.rounds.models import City, Receipt
from xkxl_intranet.rounds.state import current_round

from helpers import SAMPLE_PDF, audit_events, create_application, logged_in_client, user_by_name

BEFORE = datetime(2022, 3, 19, 9, 0, tzinfo=clock.SHANGHAI)
SCAN_NAME = "成都市附件3汇总表_盖章扫描件.pdf"


@pytest.fixture
def at_before_deadline():
    clock.set_now(BEFORE)
    yield BEFORE
    clock.set_now(None)


def _passed(app, city) -> int:
    application_id = create_application(app, platform_name="蜀数工业互联网平台")
    assert city.post(f"/applications/{application_id}/review", data={"decision": "passed"}).status_code == 303
    return application_id


def _upload_scan(app) -> tuple[int, str]:
    """The clerk's stamped 附件3 scan; its size and SHA-256."""
    data = SAMPLE_PDF + b"% stamped summary\n"
    with app.app_context():
        chengdu = db.session.scalar(db.select(City).where(City.code == "510100"))
        store_scan_bytes(db.session.merge(user_by_name(app, "chengdu")), data, SCAN_NAME,
                         city=chengdu, round_=current_round())
        db.session.commit()
    return len(data), hashlib.sha256(data).hexdigest()


def _receipt(app) -> Receipt:
    with app.app_context():
        receipt = db.session.scalar(db.select(Receipt).order_by(Receipt.id.desc()))
        db.session.expunge(receipt)
        return receipt


def _page(city, receipt_id: int) -> str:
    """The receipt page's 附件3 section as text."""
    page = city.get(f"/rounds/receipts/{receipt_id}").get_data(as_text=True)
    section = page.split('id="receipt-summary-scan"', 1)[1].split("</table>", 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))


def _pdf_words(city, receipt_id: int) -> list[str]:
    response = city.get(f"/rounds/receipts/{receipt_id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return [word for page in PdfReader(BytesIO(response.data)).pages for word in page.extract_text().split()]


def test_the_receipt_lists_the_stamped_scan_with_its_size_and_hash(app, at_before_deadline):
    city = logged_in_client(app, "chengdu")
    _passed(app, city)
    size, sha256 = _upload_scan(app)
    assert city.post("/rounds/batch/report", data={}).status_code == 303  # nothing to acknowledge
    receipt = _receipt(app)
    assert receipt.paper_summary_follows is False
    assert receipt.summary_scan == {"category": "附件3 汇总表（盖章扫描件）", "name": SCAN_NAME, "size": size,
                                    "sha256": sha256, "uploaded_at": BEFORE.isoformat(timespec="seconds")}
    assert receipt.content_sha256 == content_digest(receipt.content)  # the scan is under the digest
    section = _page(city, receipt.id)
    assert f"文件名 {SCAN_NAME}" in section and f"大小（字节） {size}" in section and f"SHA-256 {sha256}" in section
    assert "纸质版另行报送 否" in section
    words = _pdf_words(city, receipt.id)
    assert SCAN_NAME in words and str(size) in words and sha256 in words  # the hash on one line
    assert words[words.index("纸质版另行报送") + 1].startswith("否")


def test_reporting_without_a_scan_keeps_the_choice_of_paper(app, at_before_deadline):
    city = logged_in_client(app, "chengdu")
    _passed(app, city)
    assert city.post("/rounds/batch/report", data={"scan_missing_acknowledged": "y"}).status_code == 303
    receipt = _receipt(app)
    assert receipt.paper_summary_follows is True and receipt.content["paper_summary_follows"] is True
    assert receipt.records_summary_scan and receipt.summary_scan is None
    section = _page(city, receipt.id)
    assert "扫描件 报送时未上传" in section
    assert "纸质版另行报送 是：报送时未上传扫描件，报送人已确认加盖公章的汇总表纸质版另行报送" in section
    words = _pdf_words(city, receipt.id)
    assert words[words.index("纸质版另行报送") + 1].startswith("是：报送时未上传扫描件")
    (event,) = audit_events(app, "batch.reported")
    assert event.after["paper_summary_follows"] is True


def test_a_stale_scan_is_listed_and_the_paper_copy_follows(app, at_before_deadline):
    city = logged_in_client(app, "chengdu")
    application_id = _passed(app, city)
    size, sha256 = _upload_scan(app)
    with app.app_context():  # 附件3 prints differently after the scan was made
        chengdu = db.session.scalar(db.select(City).where(City.code == "510100"))
        chengdu.contact_name = "赵六"
        db.session.commit()
    assert city.post("/rounds/batch/report", data={}).status_code == 200  # asked to acknowledge first
    assert city.post("/rounds/batch/report", data={"scan_missing_acknowledged": "y"}).status_code == 303
    receipt = _receipt(app)
    assert receipt.paper_summary_follows is True and receipt.summary_scan["sha256"] == sha256
    section = _page(city, receipt.id)
    assert f"SHA-256 {sha256}" in section and "是：报送时扫描件与当时的汇总表不一致" in section
    assert application_id


def test_a_receipt_made_before_the_scan_was_kept_still_renders(app, at_before_deadline):
    city = logged_in_client(app, "chengdu")
    _passed(app, city)
    _upload_scan(app)
    assert city.post("/rounds/batch/report", data={}).status_code == 303
    with app.app_context():  # as the receipts of earlier reports were stored
        receipt = db.session.scalar(db.select(Receipt))
        content = {k: v for k, v in receipt.content.items() if k not in ("summary_scan", "paper_summary_follows")}
        receipt.content, receipt.content_sha256 = content, content_digest(content)
        receipt.paper_summary_follows = None
        db.session.commit()
        receipt_id = receipt.id
    section = _page(city, receipt_id)
    assert "扫描件 报送时已上传（本回执生成时未记录其文件名和 SHA-256）" in section
    assert "纸质版另行报送 （本回执生成时未记录）" in section
    words = _pdf_words(city, receipt_id)
    assert "纸质版另行报送" in words and "蜀数工业互联网平台" in "".join(words)
