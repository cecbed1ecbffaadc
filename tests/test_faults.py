"""Faults get a clear message: a full disk or an uploads folder that cannot be written tells the
clerk, in Chinese, that the upload was not stored and to tell the province; the cause is logged;
nothing half-stored remains. ``/healthz`` reports the uploads folder."""
from __future__ import annotations

import collections
import errno
import logging
import os
import shutil
import sqlite3
import tempfile

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from files.conftest import files_on_disk, make_application, pdf, stored_files, upload
from helpers import audit_events, login, monitored_health

NOT_STORED = "未保存"
TELL_PROVINCE = "省厅大数据与信息化处"


def _fail(err: int):
    def raising(*args, **kwargs):
        raise OSError(err, os.strerror(err))
    return raising


@pytest.fixture
def server_errors_as_pages(app):
    app.testing = False
    app.config["PROPAGATE_EXCEPTIONS"] = False


@pytest.mark.parametrize("where", ["mkstemp", "write", "fsync", "replace"])
@pytest.mark.parametrize("htmx", [False, True])
def test_a_full_disk_is_a_clear_message_and_nothing_is_kept(
        app, city_client, monkeypatch, caplog, server_errors_as_pages, where, htmx):
    application_id = make_application(app)
    targets = {"mkstemp": (tempfile, "mkstemp"), "write": (os, "writev"), "fsync": (os, "fsync"),
               "replace": (os, "replace")}
    module, name = targets[where]
    monkeypatch.setattr(module, name, _fail(errno.ENOSPC))
    size = 3_000_000 if where == "write" else 50_000  # big enough for the pipelined writer
    with caplog.at_level(logging.ERROR):
        response = upload(city_client, application_id, "form", ("申报书.pdf", pdf(size=size)), htmx=htmx)
    monkeypatch.undo()
    text = response.get_data(as_text=True)
    assert response.status_code == 507, (where, response.status_code)
    assert NOT_STORED in text and TELL_PROVINCE in text and "系统内部错误" not in text
    assert ("<html" in text) is not htmx
    assert any("No space left on device" in r.getMessage() + str(r.exc_info) for r in caplog.records)
    assert stored_files(app) == [] and files_on_disk(app) == []
    assert audit_events(app, "file.uploaded") == []


def test_an_uploads_folder_that_cannot_be_written_is_a_clear_message(
        app, city_client, tmp_path, caplog, server_errors_as_pages):
    application_id = make_application(app)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("the uploads folder cannot be made under a file")
    app.config["UPLOAD_FOLDER"] = str(blocker / "uploads")
    with caplog.at_level(logging.ERROR):
        response = upload(city_client, application_id, "evidence1", ("设备清单.pdf", pdf()), htmx=True)
    assert response.status_code == 507
    assert NOT_STORED in response.get_data(as_text=True)
    assert any(r.levelno >= logging.ERROR and "Not a directory" in r.getMessage() + str(r.exc_info)
               for r in caplog.records)
    assert stored_files(app) == []


def test_a_read_only_uploads_folder_is_a_clear_message(app, city_client, monkeypatch, server_errors_as_pages):
    application_id = make_application(app)
    monkeypatch.setattr(tempfile, "mkstemp", _fail(errno.EROFS))
    response = upload(city_client, application_id, "form", ("申报书.pdf", pdf()))
    monkeypatch.undo()
    assert response.status_code == 507 and NOT_STORED in response.get_data(as_text=True)
    assert stored_files(app) == [] and files_on_disk(app) == []


def test_healthz_reports_the_uploads_folder(app, client, tmp_path):
    body = monitored_health(app, client).get_json()
    uploads = body["uploads"]
    assert uploads["writable"] is True and uploads["free_bytes"] > 0
    # the reasoned default (16 uploads at the limit), or a tenth of a smaller disk
    assert uploads["min_free_bytes"] == min(16 * 200 * 1024 * 1024, uploads["total_bytes"] // 10)
    assert body["status"] == "ok"

    app.config["HEALTH_MIN_FREE_MB"] = 10 ** 12  # more than any disk: below the threshold
    response = monitored_health(app, client)
    # degraded answers 503, so a monitor that reads only the status code alerts
    assert response.status_code == 503 and response.get_json()["status"] == "degraded"
    assert client.get("/healthz").status_code == 503  # the verdict alone, for anyone
    assert response.get_json()["uploads"]["state"] == "low_space"

    app.config["HEALTH_MIN_FREE_MB"] = 1
    blocker = tmp_path / "file"
    blocker.write_text("x")
    app.config["UPLOAD_FOLDER"] = str(blocker / "uploads")
    body = monitored_health(app, client).get_json()
    assert body["status"] == "degraded" and body["uploads"]["writable"] is False
    assert body["uploads"]["state"] == "not_writable"
    assert str(blocker) not in str(body)  # no paths, even for the monitor


DiskUsage = collections.namedtuple("DiskUsage", "total used free")


def test_the_free_space_threshold_fits_a_small_disk(app, client, monkeypatch):
    """A 20 GB disk with 2.5 GB free is not short of room (the 3.2 GB of 16 uploads marked every
    small disk degraded for good): a tenth of it, 2 GB, is the threshold; at 1.5 GB it is."""
    gib = 1024 ** 3

    def small_disk(free: int):
        return lambda path: DiskUsage(20 * gib, 20 * gib - free, free)

    monkeypatch.setattr(shutil, "disk_usage", small_disk(int(2.5 * gib)))
    response = monitored_health(app, client)
    uploads = response.get_json()["uploads"]
    assert (uploads["state"], uploads["min_free_bytes"]) == ("ok", 2 * gib)
    assert response.status_code == 200
    monkeypatch.setattr(shutil, "disk_usage", small_disk(int(1.5 * gib)))
    assert monitored_health(app, client).get_json()["uploads"]["state"] == "low_space"
    app.config["HEALTH_MIN_FREE_MB"] = 1024  # the operator's own threshold is taken as given
    assert monitored_health(app, client).get_json()["uploads"]["min_free_bytes"] == gib


def test_a_database_on_a_full_disk_keeps_no_file_and_says_so(
        app, city_client, monkeypatch, caplog, server_errors_as_pages):
    """The file is in storage when the commit fails: it goes with the rolled-back transaction."""
    application_id = make_application(app)

    def full(self):
        raise OperationalError("COMMIT", {}, sqlite3.OperationalError("database or disk is full"))

    monkeypatch.setattr(Session, "commit", full)
    with caplog.at_level(logging.ERROR):
        response = upload(city_client, application_id, "form", ("申报书.pdf", pdf()))
    monkeypatch.undo()
    assert response.status_code == 507 and NOT_STORED in response.get_data(as_text=True)
    assert any("database or disk is full" in r.getMessage() for r in caplog.records)
    assert stored_files(app) == [] and files_on_disk(app) == []


def test_a_full_disk_at_log_in_says_what_it_is(app, client, monkeypatch, server_errors_as_pages):
    """Log-in writes its session and audit rows: on a full disk it failed on a page titled
    「文件未能保存」, with no file in sight."""
    def full(self):
        raise OperationalError("COMMIT", {}, sqlite3.OperationalError("database or disk is full"))

    monkeypatch.setattr(Session, "commit", full)
    response = login(client, "chengdu")
    monkeypatch.undo()
    text = response.get_data(as_text=True)
    assert response.status_code == 507
    assert "存储空间已满" in text and "无法登录" in text and "文件未能保存" not in text
