"""The stamped 附件3 scan is a picture of the sheet on the day it was printed: the sheet's
fingerprint is kept with the scan, and a later change of what 附件3 prints (order, contacts,
an application's listed values) makes the scan stale until a new one is uploaded."""
import io
from datetime import datetime

import pytest

from xkxl_intranet import clock
from xkxl_intranet.batches.reporting import outstanding, readiness, report
from xkxl_intranet.domain.errors import Refused
from xkxl_intranet.extensions import db
from xkxl_intranet.files.models import StoredFile
from xkxl_intranet.reports.sheet import STALE_SCAN_MESSAGE, scan_is_stale
from xkxl_intranet.reports.summary import move_application, update_contact
from xkxl_intranet.reports.summary_scan import store_scan_bytes
from xkxl_intranet.rounds.models import City, Receipt
from xkxl_intranet.rounds.state import current_round

from .helpers import city_id, make_passed, set_fields, user
from helpers import SAMPLE_PDF

CHENGDU = "510100"
BEFORE = datetime(2022, 3, 19, 10, 0, tzinfo=clock.SHANGHAI)


@pytest.fixture
def before_deadline():
    clock.set_now(BEFORE)
    yield
    clock.set_now(None)


def _chengdu():
    return db.session.scalar(db.select(City).where(City.code == CHENGDU))


def _upload_scan(app, tag: str) -> None:
    with app.app_context():
        store_scan_bytes(user("chengdu"), SAMPLE_PDF + f"% scan {tag}\n".encode(), f"附件3_{tag}.pdf",
                         city=_chengdu(), round_=current_round())
        db.session.commit()


def test_the_fingerprint_is_kept_and_any_printed_change_makes_the_scan_stale(app, before_deadline):
    first, second = make_passed(app, platform_name="甲平台"), make_passed(app, platform_name="乙平台")
    _upload_scan(app, "1")
    with app.app_context():
        round_, chengdu = current_round(), _chengdu()
        scan = db.session.scalar(db.select(StoredFile).where(StoredFile.category == "summary_scan"))
        assert len(scan.summary_digest) == 64
        assert not scan_is_stale(round_, chengdu) and not readiness(round_, chengdu).summary_scan_stale
        move_application(user("chengdu"), round_, chengdu, first, "down")  # 下移
        db.session.commit()
        assert scan_is_stale(round_, chengdu)
        move_application(user("chengdu"), round_, chengdu, first, "up")  # back as printed: not stale
        db.session.commit()
        assert not scan_is_stale(round_, chengdu)
        update_contact(user("chengdu"), round_, chengdu, "赵六", "13912345678")
        db.session.commit()
        assert scan_is_stale(round_, chengdu)
        ready = readiness(round_, chengdu)
        assert ready.summary_scan_stale and not ready.summary_scan_missing
        assert STALE_SCAN_MESSAGE in [t.text for t in outstanding(round_, chengdu)]
    _upload_scan(app, "2")  # printed, stamped and uploaded again
    with app.app_context():
        assert not scan_is_stale(current_round(), _chengdu())
    set_fields(app, second, enterprise_name="四川乙科技有限公司（更名）")  # a listed value
    with app.app_context():
        assert scan_is_stale(current_round(), _chengdu())


def test_reporting_with_a_stale_scan_needs_the_same_acknowledgement(app, before_deadline):
    application_id = make_passed(app)
    _upload_scan(app, "1")
    set_fields(app, application_id, contact_name="王五")
    with app.app_context():
        round_, chengdu = current_round(), _chengdu()
        with pytest.raises(Refused, match="附件3已在扫描件上传后修改"):
            report(user("chengdu"), round_, chengdu)
        db.session.rollback()
        receipt = report(user("chengdu"), round_, chengdu, scan_missing_acknowledged=True)
        db.session.commit()
        content = db.session.get(Receipt, receipt.id).content
        assert content["summary_scan_stale"] is True and content["summary_scan_missing"] is False


def test_the_pages_say_the_scan_is_stale(app, city_client, before_deadline):
    first = make_passed(app, platform_name="甲平台")
    make_passed(app, platform_name="乙平台")
    response = city_client.post("/files/city/summary-scan", content_type="multipart/form-data",
                                data={"file": (io.BytesIO(SAMPLE_PDF + b"% scan\n"), "附件3.pdf")})
    assert response.status_code == 303
    cid = city_id(app, CHENGDU)
    pages = ("/", f"/reports/cities/{cid}/summary", "/files/city", "/rounds/batch", "/rounds/batch/report")
    for url in pages:
        assert STALE_SCAN_MESSAGE not in city_client.get(url).get_data(as_text=True), url
    city_client.post(f"/reports/cities/{cid}/summary/move", data={"application_id": first, "direction": "down"})
    for url in pages:
        assert STALE_SCAN_MESSAGE in city_client.get(url).get_data(as_text=True), url
    confirm = city_client.get("/rounds/batch/report").get_data(as_text=True)
    assert 'id="scan-stale"' in confirm and 'name="scan_missing_acknowledged"' in confirm
    # a new scan: the notices go
    city_client.post("/files/city/summary-scan", content_type="multipart/form-data",
                     data={"file": (io.BytesIO(SAMPLE_PDF + b"% scan 2\n"), "附件3.pdf")})
    for url in pages:
        assert STALE_SCAN_MESSAGE not in city_client.get(url).get_data(as_text=True), url
