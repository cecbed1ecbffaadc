"""Every request is bounded before anything of its body is stored: small bodies for every route
but the upload routes, the per-file limit plus a small margin for those, refused from the
Content-Length before the body is read, and no body of an anonymous client ever on disk."""
from __future__ import annotations

import io
import socket
import threading
from pathlib import Path

import pytest
from waitress import wasyncore
from waitress.buffers import TempfileBasedBuffer

from xkxl_intranet import create_app
from xkxl_intranet.core.requestlog import configure_logging
from xkxl_intranet.files import storage
from xkxl_intranet.guards import upload_body_limit
from xkxl_intranet.serving import make_server

from files.conftest import files_on_disk, make_application, pdf, stored_files
from helpers import audit_events

MiB = 1024 * 1024
ROOT = Path(__file__).resolve().parent.parent


class CountingStream(io.RawIOBase):
    """A request body of ``available`` bytes that counts what the server reads of it."""

    def __init__(self, available: int, head: bytes = b""):
        self.available = available
        self.head = head
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        left = self.available - self.read_bytes
        n = min(len(buffer), left)
        if n <= 0:
            return 0
        start = self.read_bytes
        chunk = (self.head[start:start + n] + b"x" * n)[:n]
        buffer[:n] = chunk
        self.read_bytes += n
        return n


@pytest.fixture
def temp_files(monkeypatch):
    """Every temporary file the storage makes for a request body (none may be made for a body
    the app refuses or for a route that takes no upload)."""
    made: list[Path] = []
    real = storage.HashingTempFile

    class Recording(real):
        def __init__(self, directory):
            made.append(directory)
            super().__init__(directory)

    monkeypatch.setattr(storage, "HashingTempFile", Recording)
    return made


def _post(client, url: str, stream: CountingStream, length: int, content_type: str, **kwargs):
    """POST a body that claims ``length`` bytes (the test client would measure the stream)."""
    return client.post(url, content_type=content_type, environ_overrides={
        "wsgi.input": stream, "CONTENT_LENGTH": str(length)}, **kwargs)


def _multipart(field: str, name: str, data: bytes, boundary: str = "xkxl-bound") -> tuple[bytes, str]:
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def test_a_running_app_sets_a_body_limit(app, tmp_path, monkeypatch):
    """The tests used to set MAX_CONTENT_LENGTH by hand; the app as served must set it itself."""
    monkeypatch.setenv("XKXL_INSTANCE_PATH", str(tmp_path / "served"))
    monkeypatch.setenv("DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"])
    served = create_app()
    limit = served.config["MAX_CONTENT_LENGTH"]
    assert isinstance(limit, int) and 200 * MiB < limit <= 201 * MiB
    stream = CountingStream(2 * MiB)
    response = _post(served.test_client(), "/login", stream, 600 * MiB,
                     "multipart/form-data; boundary=xkxl-bound")
    assert response.status_code == 413
    assert stream.read_bytes == 0


def test_an_anonymous_600_mb_login_is_refused_before_its_body_is_read(app, client, temp_files):
    head, content_type = _multipart("file", "big.bin", b"")
    stream = CountingStream(3 * MiB, head=head)
    response = _post(client, "/login", stream, 600 * MiB, content_type)
    assert response.status_code == 413
    assert "提交的内容过大" in response.get_data(as_text=True)
    assert stream.read_bytes == 0
    assert temp_files == [] and files_on_disk(app) == []


def test_a_file_part_sent_to_a_route_that_takes_no_upload_never_reaches_the_disk(
        app, client, city_client, temp_files):
    body, content_type = _multipart("file", "x.pdf", pdf(size=8_000))
    response = client.post("/login", data=body, content_type=content_type)
    assert response.status_code in (200, 400)
    body, content_type = _multipart("file", "x.pdf", pdf(size=400_000))
    response = city_client.post("/applications/check", data=body, content_type=content_type,
                                headers={"HX-Request": "true"})
    assert response.status_code < 500
    assert temp_files == [] and files_on_disk(app) == []


def test_an_anonymous_upload_is_turned_away_unread(app, client, temp_files):
    application_id = make_application(app)
    body, content_type = _multipart("file", "申报书.pdf", pdf(size=300_000))
    stream = CountingStream(len(body), head=body)
    response = _post(client, f"/files/applications/{application_id}/form/upload", stream, len(body),
                     content_type)
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]
    assert stream.read_bytes == 0
    assert temp_files == [] and files_on_disk(app) == [] and stored_files(app) == []


def test_uploads_take_the_per_file_limit_plus_a_small_margin(app, city_client, temp_files):
    app.config["MAX_UPLOAD_MB"] = 1
    application_id = make_application(app)
    url = f"/files/applications/{application_id}/evidence2/upload"
    head, content_type = _multipart("file", "模型清单.pdf", b"")
    stream = CountingStream(3 * MiB, head=head)
    refused = _post(city_client, url, stream, 2 * MiB, content_type, headers={"HX-Request": "true"})
    assert refused.status_code == 413 and stream.read_bytes == 0
    assert "每个文件不超过 1 MB" in refused.get_data(as_text=True)
    assert temp_files == []
    # Just over the limit, inside the margin: the file is read and refused by its name.
    body, content_type = _multipart("file", "模型清单.pdf", pdf(size=MiB + 2000))
    named = city_client.post(url, data=body, content_type=content_type, headers={"HX-Request": "true"})
    assert "文件“模型清单.pdf”大小为 1.0 MB，超过了每个文件 1 MB 的上限" in named.get_data(as_text=True)
    assert stored_files(app) == [] and files_on_disk(app) == []


def test_forms_take_small_bodies(app, city_client):
    stream = CountingStream(3 * MiB)
    response = _post(city_client, "/applications/new", stream, 3 * MiB, "application/x-www-form-urlencoded")
    assert response.status_code == 413 and stream.read_bytes == 0
    page = response.get_data(as_text=True)
    assert "提交的内容过大" in page and "1 MB" in page


def test_the_import_takes_its_own_limit_and_says_so(app, city_client, temp_files):
    head, content_type = _multipart("file", "指标模板.xlsx", b"")
    stream = CountingStream(7 * MiB, head=head)
    response = _post(city_client, "/reports/import", stream, 6 * MiB, content_type)
    assert response.status_code == 413 and stream.read_bytes == 0
    assert "指标模板不超过 5 MB" in response.get_data(as_text=True)
    assert temp_files == []
    imports = Path(app.instance_path) / "imports"
    assert not imports.exists() or list(imports.iterdir()) == []


def test_a_real_server_answers_413_before_the_body_is_sent(live_server):
    """Refused from the Content-Length: the client gets its answer without sending a byte."""
    port = live_server.server_port
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall((f"POST /login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                      "Content-Type: multipart/form-data; boundary=xkxl-bound\r\n"
                      f"Content-Length: {600 * MiB}\r\nConnection: close\r\n\r\n").encode())
        conn.settimeout(5)
        answer = conn.recv(200)
    assert answer.startswith(b"HTTP/1.1 413") or answer.startswith(b"HTTP/1.0 413"), answer


def test_the_server_gives_waitress_the_same_body_limit(app):
    """``make run`` serves through xkxl_intranet.serving, which hands waitress the app's own limit:
    a larger body is refused before waitress buffers it."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "-m xkxl_intranet.serving" in makefile and "waitress-serve" not in makefile
    served = create_app({"TESTING": True, "SECRET_KEY": "x", "INSTANCE_PATH": app.instance_path,
                         "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    server = make_server(served, host="127.0.0.1", port=0)
    try:
        assert server.adj.max_request_body_size == served.config["MAX_CONTENT_LENGTH"] + 1
    finally:
        server.close()

# ---- the server itself: waitress never spools a body the app would refuse -------------------

@pytest.fixture
def waitress_spools(monkeypatch):
    """Every temporary file waitress makes to buffer a request body (bodies over 512 KB)."""
    made: list[int] = []
    real = TempfileBasedBuffer.newfile

    def recording(self):
        made.append(1)
        return real(self)

    monkeypatch.setattr(TempfileBasedBuffer, "newfile", recording)
    return made


@pytest.fixture
def served(app):
    """The app behind waitress as ``make run`` serves it (xkxl_intranet.serving)."""
    server = make_server(app, host="127.0.0.1", port=0)
    runner = threading.Thread(target=server.run, daemon=True)
    runner.start()
    yield server.effective_port
    server.task_dispatcher.shutdown()
    wasyncore.close_all(server._map)
    runner.join(timeout=5)


def _session_cookie(client) -> str:
    return f"xkxl_session={client.get_cookie('xkxl_session').value}"


def _send(port: int, path: str, body: bytes, content_type: str, headers: dict | None = None) -> tuple[int, dict, str]:
    """POST ``body`` over a socket, all of it (as a client that ignores the page's size check),
    then read the whole answer."""
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    with socket.create_connection(("127.0.0.1", port), timeout=20) as conn:
        conn.sendall((f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
                      f"Content-Length: {len(body)}\r\nConnection: close\r\n{extra}\r\n").encode())
        conn.sendall(body)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head, _, text = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    fields = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), fields, text.decode("utf-8", "replace")


def test_waitress_reads_past_an_anonymous_body_without_keeping_it(app, served, waitress_spools, temp_files):
    """Before: waitress spooled any body up to 200 MB to a temporary file, for anyone, before
    the app refused it. Now the server applies the app's limits from the headers."""
    body, content_type = _multipart("file", "big.bin", b"x" * (3 * MiB))
    status, _, page = _send(served, "/login", body, content_type)
    assert status == 413 and "提交的内容过大" in page and "16 KB" in page
    application_id = make_application(app)
    status, fields, _ = _send(served, f"/files/applications/{application_id}/form/upload", body, content_type)
    assert status in (302, 303) and "/login" in fields["Location"]  # sent to log in, unread
    assert waitress_spools == [] and temp_files == []
    assert files_on_disk(app) == [] and stored_files(app) == []


def test_waitress_applies_a_logged_in_clerks_limits_and_passes_a_real_upload(
        app, city_client, served, waitress_spools):
    city_client.get("/")
    cookie, token = _session_cookie(city_client), city_client.csrf_token()
    big_form = b"enterprise_name=" + b"x" * (3 * MiB)
    status, _, page = _send(served, "/applications/new", big_form, "application/x-www-form-urlencoded",
                            {"Cookie": cookie, "X-CSRFToken": token})
    assert status == 413 and "1 MB" in page and waitress_spools == []
    # A real upload of a logged-in clerk (2 MB, under the file limit) is buffered and stored.
    application_id = make_application(app)
    body, content_type = _multipart("file", "申报书.pdf", pdf("gate", size=2 * MiB))
    status, _, _ = _send(served, f"/files/applications/{application_id}/form/upload", body, content_type,
                         {"Cookie": cookie, "X-CSRFToken": token, "HX-Request": "true"})
    assert status == 200 and len(waitress_spools) == 1
    assert [f.original_name for f in stored_files(app)] == ["申报书.pdf"]


def test_a_forged_or_foreign_session_cookie_is_treated_as_no_log_in(app, served, waitress_spools):
    body, content_type = _multipart("file", "big.bin", b"x" * MiB)
    for cookie in ("xkxl_session=eyJfc2lkIjoieCJ9.forged.signature", "other=1"):
        status, _, _ = _send(served, "/applications/new", body, content_type, {"Cookie": cookie})
        assert status == 413, cookie
    assert waitress_spools == []


@pytest.fixture
def served_at_one_mb(app):
    """The app served as ``make run`` does, with a 1 MB upload limit given at start-up, so that
    waitress's own body limit derives from it as it does from the deployed 200 MB."""
    served_app = create_app({"TESTING": True, "SECRET_KEY": app.config["SECRET_KEY"], "MAX_UPLOAD_MB": 1,
                             "INSTANCE_PATH": app.instance_path, "JOBS_INLINE": True,
                             "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    server = make_server(served_app, host="127.0.0.1", port=0)
    runner = threading.Thread(target=server.run, daemon=True)
    runner.start()
    yield server
    server.task_dispatcher.shutdown()
    wasyncore.close_all(server._map)
    runner.join(timeout=5)


def test_a_file_over_the_limit_gets_the_chinese_page_from_waitress_too(
        app, city_client, served_at_one_mb, waitress_spools, temp_files):
    """Before: a body over waitress's own limit (the app's) got waitress's English "Request Entity
    Too Large … (generated by xkxl)" and a closed connection (nginx's 502 when it was still
    sending); the app never saw it, so nothing was logged. Now the body is read past and the app
    answers its Chinese page, with or without htmx."""
    city_client.get("/")
    cookie, token = _session_cookie(city_client), city_client.csrf_token()
    app_limit = upload_body_limit(1 * MiB)  # waitress's limit derives from MAX_UPLOAD_MB
    assert served_at_one_mb.adj.max_request_body_size == app_limit + 1
    application_id = make_application(app)
    url = f"/files/applications/{application_id}/form/upload"
    headers = {"Cookie": cookie, "X-CSRFToken": token}
    overhead = len(_multipart("file", "申报书.pdf", b"")[0])
    for size in (app_limit + 1 - overhead, 2 * MiB):  # a body one byte over the limit, and far over
        body, content_type = _multipart("file", "申报书.pdf", b"x" * size)
        for extra in ({}, {"HX-Request": "true"}):
            status, _, page = _send(served_at_one_mb.effective_port, url, body, content_type,
                                    {**headers, **extra})
            assert status == 413, (size, extra, page[:200])
            assert "文件过大" in page and "每个文件不超过 1 MB" in page and "generated by" not in page
    assert waitress_spools == [] and temp_files == []  # nothing over the limit was kept
    # A body exactly at the limit is the app's to answer, not waitress's to cut off.
    body, content_type = _multipart("file", "申报书.pdf", b"x" * (app_limit - overhead))
    status, _, page = _send(served_at_one_mb.effective_port, url, body, content_type,
                            {**headers, "HX-Request": "true"})
    assert "1 MB" in page and "generated by" not in page and stored_files(app) == []


@pytest.fixture
def app_log(app, tmp_path):
    """The application's log (one line per request), written to a file for the test to read."""
    path = tmp_path / "app.log"
    app.config["LOG_FILE"] = str(path)
    configure_logging(app)
    yield path
    app.config.pop("LOG_FILE")
    configure_logging(app)


def _request_lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if " xkxl_intranet.requests " in line]


def _send_chunked(port: int, path: str, body: bytes, content_type: str, headers: dict) -> tuple[int, str]:
    """POST ``body`` with ``Transfer-Encoding: chunked`` (no Content-Length), as ``curl -T``."""
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    with socket.create_connection(("127.0.0.1", port), timeout=20) as conn:
        conn.sendall((f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
                      f"Transfer-Encoding: chunked\r\nConnection: close\r\n{extra}\r\n").encode())
        for start in range(0, len(body), 65536):
            piece = body[start:start + 65536]
            conn.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        conn.sendall(b"0\r\n\r\n")
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head, _, text = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), text.decode("utf-8", "replace")


def test_a_chunked_upload_over_the_limit_gets_the_chinese_page_and_a_log_line(
        app, city_client, served_at_one_mb, app_log, temp_files):
    """Before: a chunked body (no Content-Length) just over the limit, straight to waitress, got
    waitress's English "Request Entity Too Large … (generated by xkxl)" and no line in the app's
    log. Now the server counts it as it arrives, lets go of it past the route's limit, and the
    app answers 413 as for a Content-Length over the limit: page, log line, audit row."""
    city_client.get("/")
    headers = {"Cookie": _session_cookie(city_client), "X-CSRFToken": city_client.csrf_token()}
    application_id = make_application(app)
    url = f"/files/applications/{application_id}/form/upload"
    app_limit = upload_body_limit(1 * MiB)
    overhead = len(_multipart("file", "申报书.pdf", b"")[0])
    body, content_type = _multipart("file", "申报书.pdf", b"x" * (app_limit + 1 - overhead))
    assert len(body) == app_limit + 1
    for extra in ({}, {"HX-Request": "true"}):
        status, page = _send_chunked(served_at_one_mb.effective_port, url, body, content_type, {**headers, **extra})
        assert status == 413, page[:300]
        assert "文件过大" in page and "每个文件不超过 1 MB" in page and "generated by" not in page
    lines = [line for line in _request_lines(app_log) if " method=POST " in line]
    assert len(lines) == 2 and all("route=files.upload" in line and " status=413 " in line
                                   and line.endswith(" reason=too_large") for line in lines), lines
    [row] = audit_events(app, "file.upload_refused")  # the same attempt twice in a minute: one row
    assert row.after == {"category": "form", "name": None, "size": app_limit + 1, "reason": "too_large"}
    assert temp_files == [] and stored_files(app) == []
    # A chunked upload within the limit is kept and stored as before.
    body, content_type = _multipart("file", "申报书.pdf", pdf("chunked", size=300_000))
    status, page = _send_chunked(served_at_one_mb.effective_port, url, body, content_type,
                                 {**headers, "HX-Request": "true"})
    assert status == 200 and [f.original_name for f in stored_files(app)] == ["申报书.pdf"], page[:300]


def test_a_client_cannot_claim_the_servers_own_marks(app, city_client, served_at_one_mb):
    """The marks the server sets for the app (body discarded, its size) are dropped from a client."""
    city_client.get("/")
    application_id = make_application(app)
    body, content_type = _multipart("file", "申报书.pdf", pdf("mark", size=10_000))
    status, _, _ = _send(served_at_one_mb.effective_port, f"/files/applications/{application_id}/form/upload",
                         body, content_type, {"Cookie": _session_cookie(city_client), "HX-Request": "true",
                                              "X-CSRFToken": city_client.csrf_token(),
                                              "Xkxl-Body-Discarded": "1", "Xkxl-Body-Bytes": "5"})
    assert status == 200 and [f.original_name for f in stored_files(app)] == ["申报书.pdf"]


def test_an_upload_refused_from_its_length_is_logged_with_a_reason_and_audited(app, city_client, app_log):
    """Before: ``status=413 ms=6`` with no reason and no audit row; the app answered from the
    Content-Length without reading the body, so the row has the declared size and no file name."""
    app.config["MAX_UPLOAD_MB"] = 1
    application_id = make_application(app)
    head, content_type = _multipart("file", "申报书.pdf", b"")
    stream = CountingStream(3 * MiB, head=head)
    response = _post(city_client, f"/files/applications/{application_id}/form/upload", stream, 2 * MiB,
                     content_type)
    assert response.status_code == 413 and stream.read_bytes == 0
    [line] = _request_lines(app_log)
    assert " status=413 " in line and line.endswith(" reason=too_large") and "user=chengdu" in line
    [row] = audit_events(app, "file.upload_refused")
    assert row.after == {"category": "form", "name": None, "size": 2 * MiB, "reason": "too_large"}
    assert row.username == "chengdu" and "每个文件不超过 1 MB" in row.summary
    # A form too large is no upload: its 413 says so in the page, with no upload reason or row.
    _post(city_client, "/applications/new", CountingStream(3 * MiB), 3 * MiB, "application/x-www-form-urlencoded")
    assert "reason=" not in _request_lines(app_log)[-1] and len(audit_events(app, "file.upload_refused")) == 1
