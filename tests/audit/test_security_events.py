"""Every security event writes a row: downloads, refused access, CSRF failures, reading the trail;
and a refused operation keeps the rows of its attempt although its changes are rolled back."""
from __future__ import annotations

from datetime import datetime, timedelta
from io import BytesIO

import pytest

from xkxl_intranet import clock
from xkxl_intranet.audit.services import record
from xkxl_intranet.domain.errors import Refused
from xkxl_intranet.extensions import db
from xkxl_intranet.web import unit_of_work

from helpers import audit_events, create_application, logged_in_client

BEFORE_DEADLINE = datetime(2022, 3, 19, 10, 0, tzinfo=clock.SHANGHAI)


@pytest.fixture
def before_deadline():
    clock.set_now(BEFORE_DEADLINE)
    yield
    clock.set_now(None)


def _file_id(app, application_id: int) -> int:
    from xkxl_intranet.files.models import StoredFile
    with app.app_context():
        return db.session.scalar(db.select(StoredFile.id).where(StoredFile.application_id == application_id))


def test_a_stored_file_download_is_recorded_with_what_was_downloaded(app, city_client, before_deadline):
    application_id = create_application(app)
    file_id = _file_id(app, application_id)
    response = city_client.get(f"/files/{file_id}/download")
    assert response.status_code == 200
    [row] = audit_events(app, "download.file")
    assert (row.username, row.object_type, row.object_id) == ("chengdu", "stored_file", str(file_id))
    assert row.city_id is not None and row.summary.startswith("下载：") and row.after["file"]


@pytest.mark.parametrize(("url", "action"), [
    ("/reports/cities/{city}/summary.xlsx", "download.summary"),
    ("/reports/roster/all.xlsx", "download.roster"),
    ("/files/cities/{city}/files.zip", "download.city_zip"),
    ("/files/all.zip", "download.all_zip"),
])
def test_exports_and_archives_are_recorded(app, province_client, before_deadline, url, action):
    create_application(app)
    from xkxl_intranet.rounds.models import City
    with app.app_context():
        city = db.session.scalar(db.select(City.id).where(City.code == "510100"))
    response = province_client.get(url.format(city=city))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    [row] = audit_events(app, action)
    assert row.username == "province" and row.after["file"] and row.object_id


def test_the_blank_templates_are_not_recorded(app, city_client):
    assert city_client.get("/reports/template.xlsx").status_code == 200
    with app.app_context():
        from xkxl_intranet.audit.models import AuditEvent
        assert not db.session.scalar(db.select(AuditEvent.id).where(AuditEvent.action.startswith("download.")))
    assert city_client.get("/reports/template.xlsx?filled=1").status_code == 200
    assert len(audit_events(app, "download.indicator_filled")) == 1


def test_another_citys_record_is_a_recorded_404(app, other_city_client, before_deadline):
    application_id = create_application(app)
    assert other_city_client.get(f"/applications/{application_id}").status_code == 404
    assert other_city_client.get(f"/applications/{application_id}").status_code == 404  # same minute: one row
    [row] = audit_events(app, "access.not_found")
    assert row.username == "mianyang" and f"GET /applications/{application_id} → 404" in row.summary


def test_an_unassigned_application_is_a_recorded_404_for_an_expert(app, expert_client, before_deadline):
    application_id = create_application(app)
    assert expert_client.get(f"/applications/{application_id}").status_code == 404
    [row] = audit_events(app, "access.not_found")
    assert row.username == "expert1"


def test_an_anonymous_404_is_not_recorded(app, client):
    assert client.get("/no-such-page").status_code == 404
    assert audit_events(app, "access.not_found") == []


def test_a_viewers_post_is_recorded(app, viewer_client):
    assert viewer_client.post("/rounds/settings/deadline", data={}).status_code == 404
    [row] = audit_events(app, "access.viewer_write")
    assert row.username == "viewer" and "POST /rounds/settings/deadline" in row.summary


def test_a_csrf_failure_is_recorded_even_anonymous(app, client, city_client):
    assert client.post("/login", data={"username": "x", "password": "y"}, csrf=False).status_code == 400
    assert city_client.post("/logout", csrf=False).status_code == 400
    rows = audit_events(app, "access.csrf_failed")
    assert [r.username for r in rows] == ["", "chengdu"]
    assert "POST /login" in rows[0].summary and rows[0].ip == "127.0.0.1"


def test_reading_the_trail_is_recorded_once_a_minute_per_filter(app, province_client):
    clock.set_now(BEFORE_DEADLINE)
    try:
        province_client.get("/audit/")
        province_client.get("/audit/")
        province_client.get("/audit/?action=auth")
        clock.set_now(BEFORE_DEADLINE + timedelta(seconds=61))
        province_client.get("/audit/")
    finally:
        clock.set_now(None)
    rows = audit_events(app, "audit.viewed")
    assert [r.summary for r in rows] == ["查看审计日志：全部记录", "查看审计日志：操作：auth", "查看审计日志：全部记录"]


# ---- a refused operation keeps its audit rows --------------------------------------------------------

def test_kept_rows_survive_a_refusal_and_changes_do_not(app):
    with app.test_request_context("/x", method="POST"):
        with unit_of_work(flash_refusal=False) as work:
            record("auth.password_check_failed", user=None, summary="attempt")
            record("account.updated", user=None, summary="a change")
            raise Refused("不行")
        assert not work.ok
    assert [r.summary for r in audit_events(app, "auth.password_check_failed")] == ["attempt"]
    assert audit_events(app, "account.updated") == []
    [refused] = audit_events(app, "operation.refused")
    assert refused.summary == "POST /x：不行"


def test_a_wrong_current_password_leaves_its_row_sealed(app, city_client):
    response = city_client.post("/account/password", data={"current_password": "wrong-one",
                                                           "new_password": "Another-pass-2024",
                                                           "confirm_password": "Another-pass-2024"})
    assert response.status_code == 200
    [row] = audit_events(app, "auth.password_check_failed")
    assert row.seq is not None and row.hash
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0


def test_a_refused_upload_leaves_its_row(app, before_deadline):
    city = logged_in_client(app, "chengdu")
    application_id = create_application(app)
    city.post(f"/applications/{application_id}/review", data={"decision": "passed"})
    assert city.post("/rounds/batch/report", data={"scan_missing_acknowledged": "y"}).status_code == 303
    response = city.post(f"/files/applications/{application_id}/evidence1/upload",
                         data={"file": (BytesIO(b"%PDF-1.4\n%%EOF\n"), "清单.pdf")},
                         content_type="multipart/form-data")
    assert response.status_code == 409  # the rules forbid it now, as for a refused save
    assert "只读" in response.get_data(as_text=True)
    [row] = audit_events(app, "file.upload_refused")
    assert (row.username, row.object_id) == ("chengdu", str(application_id)) and "只读" in row.summary
    assert row.after == {"category": "evidence1", "name": "清单.pdf", "size": 15, "reason": "locked"}


def test_a_refused_file_leaves_its_row_beside_the_kept_ones(app, city_client, before_deadline):
    application_id = create_application(app, with_form=False)
    response = city_client.post(f"/files/applications/{application_id}/evidence1/upload",
                                data={"file": [(BytesIO(b"MZ\x90\x00" + b"\x00" * 60), "清单.pdf"),
                                               (BytesIO(b"%PDF-1.4\n%%EOF\n"), "清单2.pdf")]},
                                content_type="multipart/form-data")
    assert response.status_code == 303
    [row] = audit_events(app, "file.upload_refused")
    assert "清单.pdf" in row.summary
    assert len(audit_events(app, "file.uploaded")) == 1


def test_a_refused_batch_report_leaves_its_row(app, before_deadline):
    city = logged_in_client(app, "chengdu")
    response = city.post("/rounds/batch/report", data={"scan_missing_acknowledged": "y"})
    assert "不能报送" in response.get_data(as_text=True)
    [row] = audit_events(app, "operation.refused")
    assert "POST /rounds/batch/report" in row.summary and "不能报送" in row.summary
    assert audit_events(app, "batch.reported") == []


def test_a_refusal_reaching_the_error_handler_leaves_its_row(app, city_client):
    @app.route("/refuse-unexpectedly", methods=["POST"])
    def refuse_unexpectedly():
        record("download.file", user=None, summary="attempt")
        raise Refused("未预料的拒绝")

    assert city_client.post("/refuse-unexpectedly").status_code == 409
    assert [r.summary for r in audit_events(app, "download.file")] == ["attempt"]
    assert "未预料的拒绝" in audit_events(app, "operation.refused")[0].summary
