"""One log line per request (user, city, route, status, duration, request id) and the request
id on the error pages, so that "my upload at 21:40 failed" can be found in the log."""
from __future__ import annotations

import io
import re

import pytest

from xkxl_intranet.core.requestlog import configure_logging

LINE = re.compile(r"^(?P<at>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00) INFO rid=(?P<rid>\S+) "
                  r"xkxl_intranet\.requests user=(?P<user>\S+) city=(?P<city>\S+) method=(?P<method>\S+) "
                  r"route=(?P<route>\S+) path=(?P<path>\S+) status=(?P<status>\d+) ms=(?P<ms>\d+) "
                  r"ip=(?P<ip>\S+)(?: reason=(?P<reason>\S+))?$")


@pytest.fixture
def log_file(app, tmp_path):
    path = tmp_path / "app.log"
    app.config["LOG_FILE"] = str(path)
    configure_logging(app)
    yield path
    app.config.pop("LOG_FILE")
    configure_logging(app)  # back to standard error; the file handler is closed


def _lines(path):
    return path.read_text(encoding="utf-8").splitlines()


def _request_lines(path):
    found = [LINE.match(line) for line in _lines(path) if " xkxl_intranet.requests " in line]
    assert all(found), _lines(path)
    return found


def test_each_request_is_one_line_with_user_city_route_status_and_duration(app, city_client, log_file):
    response = city_client.get("/")
    assert response.status_code == 200
    [line] = _request_lines(log_file)
    assert line["user"] == "chengdu" and line["city"] == "510100"
    assert (line["method"], line["route"], line["path"], line["status"]) == ("GET", "core.index", "/", "200")
    assert int(line["ms"]) >= 0 and line["rid"] == response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{16}", line["rid"])


def test_anonymous_and_province_requests(app, client, province_client, log_file):
    client.get("/healthz")
    province_client.get("/")
    anonymous, province = _request_lines(log_file)
    assert (anonymous["user"], anonymous["city"], anonymous["route"]) == ("-", "-", "core.healthz")
    assert (province["user"], province["city"]) == ("province", "-")


def test_error_page_shows_the_request_id_of_the_log_line(app, city_client, log_file):
    response = city_client.get("/no/such/page")
    assert response.status_code == 404
    rid = response.headers["X-Request-ID"]
    assert f"请求编号：<code>{rid}</code>" in response.get_data(as_text=True)
    [line] = _request_lines(log_file)
    assert (line["rid"], line["status"], line["user"]) == (rid, "404", "chengdu")
    fragment = city_client.get("/no/such/page", headers={"HX-Request": "true"})
    assert fragment.headers["X-Request-ID"] in fragment.get_data(as_text=True)


def test_nginx_request_id_is_kept_and_a_forged_one_is_not(app, client, log_file):
    nginx_id = "0123456789abcdef0123456789abcdef"
    assert client.get("/healthz", headers={"X-Request-ID": nginx_id}).headers["X-Request-ID"] == nginx_id
    forged = client.get("/healthz", headers={"X-Request-ID": "x\" user=province"})
    assert forged.headers["X-Request-ID"] != "x\" user=province"
    assert [line["rid"] for line in _request_lines(log_file)] == [nginx_id, forged.headers["X-Request-ID"]]


def test_a_failed_upload_at_2140_is_found_by_user_and_time(app, city_client, log_file):
    """The clerk's complaint: an upload refused as too large, traced by user, route and id."""
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = city_client.post("/files/applications/1/form/upload",
                                data={"file": (io.BytesIO(b"%PDF-" + b"x" * 4096), "申报书.pdf")},
                                content_type="multipart/form-data")
    assert response.status_code == 413
    rid = response.headers["X-Request-ID"]
    assert rid in response.get_data(as_text=True) and "文件过大" in response.get_data(as_text=True)
    [line] = _request_lines(log_file)
    assert (line["user"], line["status"], line["route"]) == ("chengdu", "413", "files.upload")
    assert line["rid"] == rid and line["reason"] == "too_large"


def test_csrf_failure_still_has_an_id(app, city_client, log_file):
    response = city_client.post("/logout", csrf=False)
    assert response.status_code == 400
    assert response.headers["X-Request-ID"] in response.get_data(as_text=True)


def test_a_crash_logs_its_traceback_under_the_request_id(app, city_client, log_file):
    def boom():
        raise RuntimeError("磁盘已满")

    app.add_url_rule("/boom", "boom", boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = city_client.get("/boom")
    assert response.status_code == 500
    rid = response.headers["X-Request-ID"]
    assert rid in response.get_data(as_text=True)
    text = log_file.read_text(encoding="utf-8")
    assert re.search(rf"ERROR rid={rid} xkxl_intranet Exception on /boom \[GET\]", text)
    assert "RuntimeError: 磁盘已满" in text
    assert _request_lines(log_file)[-1]["status"] == "500"


def test_paths_cannot_break_the_line(app, client, log_file):
    client.get("/files/%0Afake%20line user=province")
    [line] = _request_lines(log_file)
    assert line["user"] == "-" and "%0A" in line["path"] and "%20" in line["path"]
