"""ZIP downloads that never pin a worker thread: an archive is built once per key (the files'
digests and the manifest) into the instance folder and sent as a file (waitress's file wrapper,
or nginx by X-Accel-Redirect); a large one is built in the background while the page says how
far it is; identical requests share one build."""
from __future__ import annotations

import hashlib
import io
import os
import socket
import threading
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import event
from waitress import wasyncore
from werkzeug.test import EnvironBuilder

from xkxl_intranet.applications.models import Application
from xkxl_intranet.clock import now
from xkxl_intranet.extensions import db
from xkxl_intranet.filenames import random_storage_name, storage_relpath
from xkxl_intranet.files.archive_cache import CacheLimits, build_archive, evict
from xkxl_intranet.files.models import StoredFile
from xkxl_intranet.materials import archive_builds as builds_module
from xkxl_intranet.materials import routes
from xkxl_intranet.materials.archive_builds import ArchiveBuilds, BuildSettings, State
from xkxl_intranet.materials.archives import archive_fingerprint, archive_for
from xkxl_intranet.rounds.models import City
from xkxl_intranet.rounds.state import all_cities, current_round
from xkxl_intranet.serving import make_server

from .conftest import make_application, pdf, set_review_state, upload
from helpers import user_by_name

MiB = 1024 * 1024


def _city_id(app, code: str = "510100") -> int:
    with app.app_context():
        return db.session.scalar(db.select(City.id).where(City.code == code))


def _store(app, application_id: int, name: str, data: bytes, category: str = "evidence1") -> None:
    """A stored file put in place directly (large test files without the upload's checks)."""
    with app.app_context():
        application = db.session.get(Application, application_id)
        storage_name = random_storage_name()
        path = Path(app.config["UPLOAD_FOLDER"]) / storage_relpath(storage_name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        db.session.add(StoredFile(round_id=application.round_id, city_id=application.city_id,
                                  application_id=application_id, category=category, original_name=name,
                                  storage_name=storage_name, size=len(data),
                                  sha256=hashlib.sha256(data).hexdigest(), kind="pdf",
                                  mime="application/pdf", uploaded_at=now()))
        db.session.commit()


def _archive(app, username: str = "chengdu", code: str = "510100"):
    with app.app_context():
        city = db.session.scalar(db.select(City).where(City.code == code))
        return archive_for(user_by_name(app, username), current_round(), [city])


def _zip_folder(app) -> Path:
    return Path(app.config["GENERATED_FOLDER"]) / "zip"


# ---- sent as a file ---------------------------------------------------------------------------

class _FileWrapper:
    """``wsgi.file_wrapper`` as a server offers it (waitress's sends the file from its event
    loop): records what the app hands it."""

    def __init__(self, file, block_size=8192):
        self.file = file

    def __iter__(self):
        return iter(lambda: self.file.read(65536), b"")

    def close(self):
        self.file.close()


def test_a_zip_is_sent_from_a_file_built_once_for_its_key(app, city_client):
    application_id = make_application(app, enterprise_name="四川甲科技有限公司")
    upload(city_client, application_id, "form", ("申报书.pdf", pdf("v1")))
    url = f"/files/cities/{_city_id(app)}/files.zip"
    environ = EnvironBuilder(path=url, headers={
        "Cookie": f"xkxl_session={city_client.get_cookie('xkxl_session').value}"}).get_environ()
    environ["wsgi.file_wrapper"] = _FileWrapper
    answer = {}
    body = app(environ, lambda status, headers, exc_info=None: answer.update(status=status, headers=dict(headers)))
    # The server's file wrapper around the built file, not a generator that a worker thread
    # drives until the client has read the last byte.
    assert answer["status"] == "200 OK" and isinstance(body, _FileWrapper)
    key = _archive(app).key
    built = _zip_folder(app) / f"{key}.zip"
    assert Path(body.file.name) == built and answer["headers"]["ETag"] == f'"{key}"'
    data = b"".join(body)
    body.close()
    assert data == built.read_bytes() and answer["headers"]["Content-Length"] == str(len(data))
    assert zipfile.ZipFile(io.BytesIO(data)).read(
        "成都市/未列入汇总表_四川甲科技有限公司/申报书/申报书.pdf") == pdf("v1")
    inode = built.stat().st_ino
    assert city_client.get(url).get_data() == data and built.stat().st_ino == inode  # not rebuilt


def test_the_key_changes_when_a_file_is_replaced_and_only_then(app, city_client):
    application_id = make_application(app, enterprise_name="四川甲科技有限公司")
    upload(city_client, application_id, "form", ("申报书.pdf", pdf("v1")))
    first = _archive(app)
    assert _archive(app).key == first.key  # the same files: the same key
    upload(city_client, application_id, "form", ("申报书.pdf", pdf("v2")))  # a new version
    second = _archive(app)
    assert second.key != first.key
    set_review_state(app, application_id, "passed")  # on the 附件3 now: its folder is 01_…
    third = _archive(app)
    assert third.key not in (first.key, second.key)


def test_an_unchanged_archive_is_sent_without_planning_it_again(app, city_client, monkeypatch):
    """The plan (every file's place, the manifest) runs once per change: a repeat download, or a
    poll of the page, costs the fingerprint's two aggregate queries. Any saved change (a new
    version, an application moved onto the 附件3) is a new fingerprint and a new plan."""
    plans = []
    real_plan = routes.archive_plan
    monkeypatch.setattr(routes, "archive_plan", lambda *args: plans.append(args) or real_plan(*args))
    application_id = make_application(app, enterprise_name="四川甲科技有限公司")
    upload(city_client, application_id, "form", ("申报书.pdf", pdf("v1")))
    url = f"/files/cities/{_city_id(app)}/files.zip"

    def member(name: str) -> bytes:
        zf = zipfile.ZipFile(io.BytesIO(city_client.get(url).get_data()))
        return zf.read(f"成都市/{name}/申报书/申报书.pdf")

    assert member("未列入汇总表_四川甲科技有限公司") == pdf("v1") and len(plans) == 1
    assert member("未列入汇总表_四川甲科技有限公司") == pdf("v1") and len(plans) == 1  # not planned again
    upload(city_client, application_id, "form", ("申报书.pdf", pdf("v2")))
    assert member("未列入汇总表_四川甲科技有限公司") == pdf("v2") and len(plans) == 2
    set_review_state(app, application_id, "passed")
    assert member("01_四川甲科技有限公司") == pdf("v2") and len(plans) == 3


def test_the_plan_reads_columns_not_whole_applications(app, city_client):
    """At 20,000 applications loading each as a full object (120-odd columns) cost 18 s before
    the first byte: the archive's plan reads only the columns its layout names."""
    for n in range(3):
        application_id = make_application(app, enterprise_name=f"四川{n}号公司", position=n)
        upload(city_client, application_id, "form", ("申报书.pdf", pdf(str(n))))
    loaded = []
    listener = lambda target, context: loaded.append(target)  # noqa: E731
    event.listen(Application, "load", listener)
    event.listen(StoredFile, "load", listener)
    try:
        archive = _archive(app)
    finally:
        event.remove(Application, "load", listener)
        event.remove(StoredFile, "load", listener)
    assert len(archive.members) == 3 and loaded == []


# ---- a slow reader holds no worker thread -----------------------------------------------------

@pytest.fixture
def one_thread_server(app):
    """The app behind waitress with the serving settings, but a single worker thread: whatever
    holds it, holds the server."""
    server = make_server(app, host="127.0.0.1", port=0, threads=1)
    runner = threading.Thread(target=server.run, daemon=True)
    runner.start()
    yield int(server.effective_port)
    server.task_dispatcher.shutdown()
    wasyncore.close_all(server._map)
    runner.join(timeout=5)


def _get(port: int, path: str, cookie: str, timeout: float) -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1]), answer


def test_a_client_reading_a_zip_slowly_holds_no_worker_thread(app, city_client, one_thread_server):
    """Before: the ZIP was a generator response, and waitress's only thread stayed with it until
    the slow client had read it all (eight such clients held all eight threads for 60 s)."""
    app.config["ZIP_INLINE_BYTES"] = 64 * MiB  # built in the request: the test needs no polling
    application_id = make_application(app, enterprise_name="四川大文件公司")
    big = b"%PDF-1.7\n" + os.urandom(24 * MiB)  # more than waitress buffers before it waits
    _store(app, application_id, "扫描件.pdf", big)
    cookie = f"xkxl_session={city_client.get_cookie('xkxl_session').value}"
    port = one_thread_server
    slow = socket.socket()
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
    slow.settimeout(20)
    slow.connect(("127.0.0.1", port))
    try:
        slow.sendall(f"GET /files/cities/{_city_id(app)}/files.zip HTTP/1.1\r\nHost: x\r\n"
                     f"Cookie: {cookie}\r\nConnection: close\r\n\r\n".encode())
        received = slow.recv(1024)  # the headers and the first bytes; then it stops reading
        assert received.startswith(b"HTTP/1.1 200")
        time.sleep(0.5)
        started = time.monotonic()
        status, _ = _get(port, "/healthz", "", timeout=10)
        assert status == 200 and time.monotonic() - started < 3  # the one thread is free
        while chunk := slow.recv(1024 * 1024):  # the slow client reads on: the whole archive
            received += chunk
    finally:
        slow.close()
    body = received.partition(b"\r\n\r\n")[2]
    zf = zipfile.ZipFile(io.BytesIO(body))
    assert zf.read("成都市/未列入汇总表_四川大文件公司/附件1 工业设备清单/扫描件.pdf") == big


# ---- large archives are built in the background -----------------------------------------------

def _wait_until_built(app, key: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not (_zip_folder(app) / f"{key}.zip").exists():
        assert time.monotonic() < deadline, "the archive was not built"
        time.sleep(0.05)


def _held_builds(monkeypatch) -> threading.Event:
    """Background builds wait for the returned event (at most 10 s) before they build."""
    gate, real_build = threading.Event(), builds_module.build_archive
    monkeypatch.setattr(builds_module, "build_archive",
                        lambda *args, **kwargs: gate.wait(10) and real_build(*args, **kwargs))
    return gate


def test_a_large_archive_is_built_in_the_background_while_the_page_says_so(app, city_client, monkeypatch):
    app.config["ZIP_INLINE_BYTES"] = 0  # everything counts as large here
    application_id = make_application(app, enterprise_name="四川甲科技有限公司")
    upload(city_client, application_id, "form", ("申报书.pdf", pdf("v1")))
    url = f"/files/cities/{_city_id(app)}/files.zip"
    gate = _held_builds(monkeypatch)
    page = city_client.get(url)
    assert page.status_code == 202 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "正在打包…" in html and "1 个文件" in html
    assert f'hx-get="{url}" hx-trigger="every 2s"' in html and '"X-Background-Poll": "1"' in html
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in html  # without JS
    poll = city_client.get(url, headers={"HX-Request": "true"})
    assert poll.status_code == 200 and "正在打包…" in poll.get_data(as_text=True)
    assert "<html" not in poll.get_data(as_text=True)
    gate.set()
    _wait_until_built(app, _archive(app).key)
    # the file is in place a moment before the build says it is done (under load, a poll between
    # the two still read 99 %): the page says ready within a few polls
    deadline = time.monotonic() + 10
    while "data-auto-download" not in (ready := city_client.get(url, headers={"HX-Request": "true"})
                                                .get_data(as_text=True)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "data-auto-download" in ready and "hx-trigger" not in ready  # polls no more
    download = city_client.get(url)
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert zipfile.ZipFile(io.BytesIO(download.get_data())).testzip() is None


def test_a_failed_build_says_why_once_and_asking_again_retries(app, city_client, monkeypatch):
    app.config.update(ZIP_INLINE_BYTES=0, ZIP_DISK_RESERVE_MB=1 << 40)  # no disk has that room
    application_id = make_application(app, enterprise_name="四川甲科技有限公司")
    upload(city_client, application_id, "form", ("申报书.pdf", pdf("v1")))
    url = f"/files/cities/{_city_id(app)}/files.zip"
    gate = _held_builds(monkeypatch)
    assert city_client.get(url).status_code == 202
    gate.set()
    deadline = time.monotonic() + 10
    while "正在打包" in (box := city_client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert "打包未成功：服务器磁盘空间不足" in box and "hx-trigger" not in box  # polls no more
    # Told once: the next request builds again (and, with room on the disk, gets the file).
    builds = app.extensions["xkxl_archive_builds"]
    builds.settings = replace(builds.settings, limits=CacheLimits(1 << 40, 0), inline_bytes=1 << 30)
    download = city_client.get(url)
    assert download.status_code == 200 and download.mimetype == "application/zip"


def test_a_failed_build_names_the_cause(app, city_client):
    app.config.update(ZIP_DISK_RESERVE_MB=1 << 40)  # a small archive: built in the request
    application_id = make_application(app, enterprise_name="四川甲科技有限公司")
    upload(city_client, application_id, "form", ("申报书.pdf", pdf("v1")))
    page = city_client.get(f"/files/cities/{_city_id(app)}/files.zip")
    assert page.status_code == 503
    text = page.get_data(as_text=True)
    assert "打包未成功：服务器磁盘空间不足，无法打包（需要约" in text and "重新打包" in text
    assert not list(_zip_folder(app).glob("*.zip")) and not list(_zip_folder(app).glob("*.part"))


def _counting_builds(monkeypatch, tmp_path, *, inline: bool):
    calls, gate = [], threading.Event()
    real_build = builds_module.build_archive

    def counted(*args, **kwargs):
        calls.append(args[1])
        gate.wait(10)
        return real_build(*args, **kwargs)

    monkeypatch.setattr(builds_module, "build_archive", counted)
    settings = BuildSettings(tmp_path / "zip", CacheLimits(1 << 40, 0), (1 << 30) if inline else 0, 2)
    return ArchiveBuilds(settings), calls, gate


@pytest.mark.parametrize("inline", [False, True], ids=["background", "in-request"])
def test_identical_concurrent_requests_build_once(app, city_client, monkeypatch, tmp_path, inline):
    application_id = make_application(app, enterprise_name="四川甲科技有限公司")
    upload(city_client, application_id, "form", ("申报书.pdf", pdf("v1")))
    with app.app_context():
        province, round_, cities = user_by_name(app, "province"), current_round(), all_cities()
        archive = archive_for(province, round_, cities)
        fingerprint = archive_fingerprint(province, round_, cities)
    builds, calls, gate = _counting_builds(monkeypatch, tmp_path, inline=inline)
    outcomes = []
    askers = [threading.Thread(target=lambda: outcomes.append(builds.obtain(fingerprint, lambda: archive)))
              for _ in range(8)]
    for asker in askers:
        asker.start()
    if inline:  # one asker builds in its own thread; the others wait for that build
        time.sleep(0.3)
    else:  # all eight are answered at once while the one build waits at the gate
        for asker in askers:
            asker.join(15)
    assert calls == [archive.key]
    gate.set()
    for asker in askers:
        asker.join(15)
    assert len(outcomes) == 8 and calls == [archive.key]
    if inline:
        assert {o.state for o in outcomes} == {State.READY}
    else:
        assert {o.state for o in outcomes} == {State.BUILDING}
        _wait_until_built_in(tmp_path / "zip", archive.key)
    again = builds.obtain(fingerprint, lambda: archive)
    assert again.state is State.READY and again.key == archive.key and calls == [archive.key]
    assert {o.path for o in outcomes if o.path} <= {again.path}


def _wait_until_built_in(folder: Path, key: str) -> None:
    deadline = time.monotonic() + 15
    while not (folder / f"{key}.zip").exists():
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_two_builders_of_one_key_write_it_once(tmp_path, monkeypatch):
    """Across processes the file lock is what keeps a key to one build: two builders running
    at once (as two server processes would) write the archive once."""
    from xkxl_intranet.files import archive_cache
    from xkxl_intranet.files.zipstream import ZipMember

    writes, real_write = [], archive_cache._write

    def slow_write(part, members, progress):
        writes.append(part)
        time.sleep(0.3)
        real_write(part, members, progress)

    monkeypatch.setattr(archive_cache, "_write", slow_write)
    members = [ZipMember("a.txt", data=b"hello")]
    paths = []
    builders = [threading.Thread(target=lambda: paths.append(build_archive(tmp_path, "k" * 64, members)))
                for _ in range(2)]
    for builder in builders:
        builder.start()
    for builder in builders:
        builder.join(10)
    assert len(writes) == 1 and len(paths) == 2 and paths[0] == paths[1]
    assert zipfile.ZipFile(paths[0]).read("a.txt") == b"hello"


def test_the_folder_keeps_to_its_bound_removing_the_archives_used_longest_ago(tmp_path):
    from xkxl_intranet.files.zipstream import ZipMember

    folder = tmp_path / "zip"
    old = time.time() - 7200
    made = []
    for n in range(3):
        made.append(build_archive(folder, f"{n}" * 64, [ZipMember("x.bin", data=os.urandom(100_000))]))
        os.utime(made[-1], (old + n, old + n))
    crashed = folder / ("9" * 64 + ".123-ab.part")
    crashed.write_bytes(b"half")
    os.utime(crashed, (old, old))
    size = made[0].stat().st_size
    newest = build_archive(folder, "n" * 64, [ZipMember("x.bin", data=os.urandom(100_000))],
                           limits=CacheLimits(max_bytes=2 * size + size // 2, reserve_bytes=0))
    # Room for two: the two used longest ago went, the one just built stays.
    assert sorted(p.name for p in folder.iterdir()) == sorted([made[2].name, newest.name])
    assert evict(folder, 0, keep=newest) == [made[2]] and newest.exists()


# ---- behind nginx: X-Accel-Redirect ------------------------------------------------------------

def test_behind_nginx_an_authorized_download_is_handed_over_by_x_accel_redirect(
        app, client, city_client, other_city_client):
    app.config["X_ACCEL_REDIRECT"] = "/protected/"
    application_id = make_application(app, enterprise_name="四川甲科技有限公司")
    upload(city_client, application_id, "form", ("申报书.pdf", pdf("v1")))
    url = f"/files/cities/{_city_id(app)}/files.zip"
    response = city_client.get(url)
    key = _archive(app).key
    assert response.status_code == 200 and response.get_data() == b""
    assert response.headers["X-Accel-Redirect"] == f"/protected/zip/{key}.zip"
    assert response.mimetype == "application/zip" and "filename*=UTF-8''" in response.headers["Content-Disposition"]
    assert (Path(app.config["GENERATED_FOLDER"]) / "zip" / f"{key}.zip").is_file()  # what nginx sends
    for refused in (other_city_client.get(url), city_client.get("/files/all.zip"), client.get(url)):
        assert refused.status_code in (302, 303, 404) and "X-Accel-Redirect" not in refused.headers
