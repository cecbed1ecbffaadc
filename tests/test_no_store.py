"""Pages and downloads are not kept by the browser: every answer after log-in, the receipt and
its PDF, every file download and every report say ``Cache-Control: no-store``."""
from __future__ import annotations

import re
from datetime import datetime

from xkxl_intranet import clock
from xkxl_intranet.extensions import db
from xkxl_intranet.rounds.models import Receipt

from helpers import attach_form, create_application, logged_in_client, user_by_name

SKIP = {"static", "auth.logout"}


def _reported(app):
    clock.set_now(datetime(2022, 3, 19, 10, 0, tzinfo=clock.SHANGHAI))
    clerk = logged_in_client(app, "chengdu")
    application_id = create_application(app)
    attach_form(app, application_id, "第二版.pdf")
    assert clerk.post(f"/applications/{application_id}/review", data={"decision": "passed"}).status_code == 303
    assert clerk.post("/rounds/batch/report", data={"scan_missing_acknowledged": "y"}).status_code == 303
    with app.app_context():
        receipt_id = db.session.scalar(db.select(Receipt.id))
        file_id = db.session.scalar(db.text("SELECT id FROM stored_file ORDER BY id LIMIT 1"))
    return clerk, application_id, receipt_id, file_id


def _fill(rule, ids: dict) -> str:
    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", lambda m: str(ids.get(m.group(2), "x")), rule.rule)


def test_every_page_and_download_after_log_in_is_no_store(app):
    clerk, application_id, receipt_id, file_id = _reported(app)
    province = logged_in_client(app, "province")
    city_id = user_by_name(app, "chengdu").city_id
    ids = {"application_id": application_id, "receipt_id": receipt_id, "file_id": file_id,
           "city_id": city_id, "round_id": 1, "user_id": user_by_name(app, "chengdu").id,
           "list_key": "all", "category": "form"}
    seen = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP or "GET" not in rule.methods or rule.endpoint == "core.healthz":
            continue
        url = _fill(rule, ids)
        for client in (clerk, province):
            response = client.get(url)
            if response.status_code in (200, 206):
                assert "no-store" in response.headers.get("Cache-Control", ""), (url, response.headers)
                seen += 1
            response.close()
    assert seen >= 25


def test_the_receipt_its_pdf_and_file_downloads_are_no_store(app):
    clerk, _, receipt_id, file_id = _reported(app)
    for url in (f"/rounds/receipts/{receipt_id}", f"/rounds/receipts/{receipt_id}.pdf", f"/files/{file_id}/download"):
        response = clerk.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response.headers.get("Cache-Control", ""), url
