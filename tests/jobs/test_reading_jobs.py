"""Reading an uploaded 申报书 is a job (applications/reading_job.py): the upload answers once the file is stored,
the panel says 正在读取 and asks for itself until the reading is kept, a reading killed at a limit
says 「超出处理限度，未能读取」 and the file stays, a row is read by one worker at a time, and what
the rows say is waiting goes back in the queue."""
from __future__ import annotations

import io
import json
import os
import socket
from datetime import timedelta

import pytest
from huey import PriorityRedisHuey
from huey.exceptions import ConfigurationError

from xkxl_intranet import clock
from xkxl_intranet.applications.models import Application
from xkxl_intranet.applications.reading_job import claim, finish, read_form_job, sweep_readings
from xkxl_intranet.batches.reporting import readiness
from xkxl_intranet.domain.checks import FORM_2022
from xkxl_intranet.domain.form_layout import form_blocks, texts_for
from xkxl_intranet.extensions import db
from xkxl_intranet.files.form_template import form_docx
from xkxl_intranet.files.models import StoredFile
from xkxl_intranet.files.reading_state import ReadingState, request_reading
from xkxl_intranet.jobs.queue import jobs, make_huey
from xkxl_intranet.rounds.state import current_round

from .hostile import expanding_docx
from helpers import create_application, dead_pid, monitored_health, store_form

POLL = 'hx-trigger="every 2s"'
NO_SCRIPT_REFRESH = '<noscript><meta http-equiv="refresh"'


@pytest.fixture
def queued(app):
    """Jobs go to the app's own queue (SQLite in its instance folder); no worker runs them."""
    app.config["JOBS_INLINE"] = False
    return app


def _document(app, application_id: int) -> bytes:
    with app.app_context():
        application = db.session.get(Application, application_id)
        return form_docx(form_blocks(texts_for(application.values(), form=FORM_2022), form=FORM_2022))


def _form(app, application_id: int) -> StoredFile:
    with app.app_context():
        stored = db.session.scalar(db.select(StoredFile).where(StoredFile.application_id == application_id,
                                                               StoredFile.category == "form"))
        db.session.expunge(stored)
        return stored


def _blocker_texts(app) -> list[str]:
    with app.app_context():
        round_ = current_round()
        city = db.session.get(Application, 1).city
        return [b.text for b in readiness(round_, city).blockers]


def test_the_upload_answers_before_the_reading_and_the_panel_asks_until_it_is_kept(queued, city_client):
    app = queued
    application_id = create_application(app, with_form=False)
    data = _document(app, application_id)
    response = city_client.post(f"/files/applications/{application_id}/form/upload",
                                data={"file": (io.BytesIO(data), "申报书.docx")},
                                content_type="multipart/form-data")
    assert response.status_code == 303
    stored = _form(app, application_id)
    assert (stored.reading_state, stored.reading) == ("pending", None) and stored.reading_requested_at
    assert jobs(app).pending() == 1  # in the queue, for a worker

    page = city_client.get(f"/applications/{application_id}").get_data(as_text=True)
    assert "正在读取" in page and POLL in page and NO_SCRIPT_REFRESH in page
    fragment = city_client.get(f"/applications/{application_id}/document", headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert POLL in html and "<html" not in html and 'id="findings"' not in html
    with app.app_context():
        db.session.get(Application, application_id).review_state = "passed"
        db.session.commit()
    assert any("申报书正在读取" in text for text in _blocker_texts(app))

    with app.app_context():
        assert read_form_job(stored.id) == "done"  # what the worker does with the message
        assert read_form_job(stored.id) is None  # a second message for it finds nothing to do
    stored = _form(app, application_id)
    assert stored.reading_state == "done" and stored.reading["status"] == "read"
    html = city_client.get(f"/applications/{application_id}/document",
                           headers={"HX-Request": "true"}).get_data(as_text=True)
    assert POLL not in html and "读取" in html
    assert 'id="findings" hx-swap-oob="true"' in html  # the reading's warnings come with it
    page = city_client.get(f"/applications/{application_id}").get_data(as_text=True)
    assert POLL not in page and NO_SCRIPT_REFRESH not in page
    assert not any("申报书正在读取" in text for text in _blocker_texts(app))


def test_the_panel_is_a_page_of_its_own_without_javascript(queued, city_client, other_city_client):
    application_id = create_application(queued, with_form=False)
    store_form(queued, application_id, _document(queued, application_id))
    page = city_client.get(f"/applications/{application_id}/document").get_data(as_text=True)
    assert "<html" in page and "正在读取" in page and NO_SCRIPT_REFRESH in page and ">刷新</a>" in page
    assert other_city_client.get(f"/applications/{application_id}/document").status_code == 404


def test_a_reading_killed_at_a_limit_says_so_and_the_file_stays(app, city_client):
    """Inline, but in the limited child as in the worker: 80 KB of .docx whose XML expands to 28 MB."""
    app.config.update(JOBS_ISOLATE=True, JOBS_MEMORY_MB=256)
    application_id = create_application(app, with_form=False)
    data = expanding_docx(800_000)
    response = city_client.post(f"/files/applications/{application_id}/form/upload",
                                data={"file": (io.BytesIO(data), "申报书.docx")},
                                content_type="multipart/form-data")
    assert response.status_code == 303
    stored = _form(app, application_id)
    assert stored.reading_state == "failed" and stored.reading["status"] == "over_limit"
    assert stored.reading["message"].startswith("超出处理限度，未能读取（所需内存超过256 MB）")
    assert city_client.get(f"/files/{stored.id}/download").data == data
    page = city_client.get(f"/applications/{application_id}").get_data(as_text=True)
    assert "超出处理限度，未能读取" in page and POLL not in page


def test_one_file_is_read_by_one_worker_and_a_newer_request_wins(queued):
    application_id = create_application(queued, with_form=False)
    file_id = store_form(queued, application_id, _document(queued, application_id))
    with queued.app_context():
        first = claim(file_id)
        assert first and claim(file_id) is None  # the second worker finds it taken
        stored = db.session.get(StoredFile, file_id)
        assert (stored.reading_state, stored.reading_attempts) == ("running", 1)
        request_reading(stored)  # 「重新读取」 while it is being read
        db.session.commit()
        assert not finish(file_id, first, {"status": "read"}, ReadingState.DONE)  # the older one is not kept
        stored = db.session.get(StoredFile, file_id)
        assert stored.reading_state == "pending" and stored.reading is None


def test_what_the_rows_say_is_waiting_goes_back_in_the_queue(queued):
    """A worker killed while reading (kill -9: its claim names a process that is gone), a claim
    older than any reading can be, and a request whose message was lost, are queued again when
    a worker starts; a live worker's claim is left alone."""
    ids = []
    for _ in range(4):
        application_id = create_application(queued, with_form=False)
        ids.append(store_form(queued, application_id, _document(queued, application_id)))
    host = socket.gethostname()
    with queued.app_context():
        jobs().huey.flush()  # every message lost
        claims = {ids[0]: (f"{host}:{dead_pid()}:a", clock.now()),
                  ids[1]: (f"{host}:{os.getpid()}:b", clock.now()),
                  ids[2]: ("elsewhere:1:c", clock.now() - timedelta(minutes=10))}
        for file_id, (who, when) in claims.items():
            stored = db.session.get(StoredFile, file_id)
            stored.reading_state, stored.reading_claimed_by, stored.reading_claimed_at = "running", who, when
        db.session.commit()
        assert sweep_readings(everything_pending=True) == 3
        states = {f: db.session.get(StoredFile, f).reading_state for f in ids}
        assert states == {ids[0]: "pending", ids[1]: "running", ids[2]: "pending", ids[3]: "pending"}
        assert jobs().pending() == 3


def test_healthz_reports_the_queue_without_paths(queued, city_client, client):
    application_id = create_application(queued, with_form=False)
    store_form(queued, application_id, _document(queued, application_id))
    body = monitored_health(queued, client).get_json()
    assert body["status"] == "ok"
    queue = body["queue"]
    assert (queue["state"], queue["pending"], queue["readings_waiting"]) == ("ok", 1, 1)
    assert 0 <= queue["oldest_seconds"] < 60 and queue["backend"] == "SqliteHuey"
    assert queued.instance_path not in json.dumps(body)
    clock.set_now(clock.now() + timedelta(minutes=20))  # no worker took it for 20 minutes
    body = monitored_health(queued, client).get_json()
    assert body["status"] == "degraded" and body["queue"]["state"] == "stalled"
    assert body["queue"]["oldest_seconds"] >= 1200


def test_reading_again_and_read_forms_ask_a_worker(queued, city_client):
    application_id = create_application(queued, with_form=False)
    file_id = store_form(queued, application_id, _document(queued, application_id))
    with queued.app_context():
        read_form_job(file_id)
    assert city_client.post(f"/applications/{application_id}/document/read").status_code == 303
    stored = _form(queued, application_id)
    assert stored.reading_state == "pending" and stored.reading["status"] == "read"  # kept until replaced
    with queued.app_context():
        read_form_job(file_id)
    result = queued.test_cli_runner().invoke(args=["read-forms", "--all"])
    assert result.exit_code == 0 and "1 份申报书" in result.output
    assert _form(queued, application_id).reading_state == "pending"
    assert jobs(queued).pending() == 3  # upload, 重新读取, read-forms


def test_the_template_docx_is_written_by_a_worker_and_a_page_does_not_wait_forever(queued, city_client):
    queued.config["JOBS_CALL_SECONDS"] = 0.3
    response = city_client.get("/applications/form-template.docx")
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert "后台处理繁忙" in response.get_data(as_text=True)
    queued.config["JOBS_INLINE"] = True  # as if a worker had answered
    response = city_client.get("/applications/form-template.docx")
    assert response.status_code == 200 and response.data[:2] == b"PK"


def test_a_redis_url_chooses_redis_and_nothing_else_needs_it(app):
    """SQLite in the instance folder by default; ``XKXL_QUEUE_URL=redis://…`` (or QUEUE_URL) for
    workers on other machines, which needs redis-py then and only then."""
    assert jobs(app).huey.storage.filename == os.path.join(app.instance_path, "jobs.sqlite3")
    app.config["QUEUE_URL"] = "redis://127.0.0.1:1/0"
    try:
        import redis  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigurationError, match="redis"):
            make_huey(app)
    else:  # pragma: no cover - redis-py is not a dependency
        assert isinstance(make_huey(app), PriorityRedisHuey)
