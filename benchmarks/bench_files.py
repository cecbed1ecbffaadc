"""Files: a 100 MB upload and a 1 GB streamed ZIP through a real server over loopback.

- Upload time is compared with a bare WSGI handler on the same server (the serving command's
  waitress and settings) that streams the same request body to the same disk with the same
  write-back hint and fsync, measured in turns with the app's uploads in the same run (target:
  at most 1.2× the bare handler). ``cp`` from the page cache was the wrong anchor: it measures
  memory copies, not a network upload that must reach the disk.
- Where an upload's time goes: waitress buffers each request body (in memory, then in a spill file)
  before it hands the request to a worker thread; the handler's own time is measured inside the
  server, the rest is that buffering. werkzeug's server, which streams the body to the handler as
  it arrives, is measured for comparison.
- The server process's peak RSS growth during the upload must stay under 30 MB (the body is
  streamed to disk, never held in memory); a ZIP of 1 GB of stored files is built to a file and
  sent with peak RSS growth under 50 MB.
- all.zip at 19,992 applications through the real serving command (``_zip_national.py``): first
  byte of the page that says it is being packed and of the ready download under 1 s; another
  clerk's page under 1 s while eight clients read all.zip at 1 KB/s, beside the same page
  without them.

Memory is read from /proc/<pid>/status (VmHWM after resetting it through /proc/<pid>/clear_refs,
cross-checked by sampling VmRSS). Prints a table; not a test.

Run: .venv/bin/python benchmarks/bench_files.py [--national-only]
"""
from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import _zip_national  # noqa: E402  (after the path: it imports the app)

PASSWORD = "Bench-pass-2022"
UPLOAD_MB = 100
UPLOAD_RUNS = 5  # the median is reported: a small VM is noisy
PACED_MB = 24  # an upload sent at PACED_RATE, as from a clerk's PC over the intranet
PACED_RATE = 12 * 1024 * 1024  # bytes/s: ~100 Mbit/s
ZIP_GB_FILES = 16  # files of 64 MiB each: 1 GiB
ZIP_FILE_MB = 64
CHUNK = 1024 * 1024
TARGET_UPLOAD_RATIO = 1.2  # the app's upload time / the bare handler's
TARGET_UPLOAD_RSS_MB = 30
TARGET_ZIP_RSS_MB = 50


def _config(instance: Path) -> dict:
    return {"SECRET_KEY": "bench-files", "INSTANCE_PATH": str(instance),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'bench.sqlite3'}",
            "UPLOAD_FOLDER": str(instance / "uploads")}


# ---- the server subprocess --------------------------------------------------------------------

class HandlerClock:
    """Times each POST inside the server (from the handler's call to its last byte), so that the
    client's upload time splits into the server's buffering and the handler's own work.
    ``GET /__handler_seconds`` answers the last one."""

    def __init__(self, app):
        self.app = app
        self.last = 0.0

    def __call__(self, environ, start_response):
        if environ["PATH_INFO"] == "/__handler_seconds":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [f"{self.last:.6f}".encode()]
        if environ["REQUEST_METHOD"] != "POST":
            return self.app(environ, start_response)  # downloads stream through untouched
        started = time.perf_counter()
        body = list(self.app(environ, start_response))
        self.last = time.perf_counter() - started
        return body


def bare_upload(folder: Path):
    """The anchor: a WSGI handler that streams the request body to a file in the same folder as
    the app's uploads, with the same write-back hint and fsync, and nothing else (no parsing of
    the multipart body, no hashing, no database)."""
    from xkxl_intranet.files.storage import WRITEBACK_EVERY

    folder.mkdir(parents=True, exist_ok=True)

    def app(environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        stream = environ["wsgi.input"]
        fd, name = tempfile.mkstemp(prefix="bare-", suffix=".part", dir=folder)
        written = flushed = 0
        with os.fdopen(fd, "wb", buffering=0) as fh:
            while written < length:
                block = stream.read(min(CHUNK, length - written))
                if not block:
                    break
                fh.write(block)
                written += len(block)
                if written - flushed >= WRITEBACK_EVERY:
                    os.posix_fadvise(fh.fileno(), flushed, written - flushed, os.POSIX_FADV_DONTNEED)
                    flushed = written
            os.fsync(fh.fileno())
        os.unlink(name)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [str(written).encode()]

    return app


def serve(kind: str, instance: str) -> None:
    import logging

    from xkxl_intranet import create_app
    from xkxl_intranet.serving import make_server

    logging.disable(logging.WARNING)
    if kind == "bare":
        app = bare_upload(Path(instance) / "uploads" / "tmp")
    else:
        app = create_app(_config(Path(instance)))
    if kind in ("waitress", "bare"):
        server = make_server(HandlerClock(app), host="127.0.0.1", port=0, threads=4)
        print(server.effective_port, flush=True)
        server.run()
    else:
        from werkzeug.serving import make_server as werkzeug_server

        server = werkzeug_server("127.0.0.1", 0, HandlerClock(app), threaded=True)
        print(server.server_port, flush=True)
        server.serve_forever()


# ---- set-up -----------------------------------------------------------------------------------

def prepare(instance: Path) -> dict:
    """Schema, cities, two accounts, one application, and 1 GiB of stored files."""
    from flask_migrate import upgrade

    from xkxl_intranet import create_app
    from xkxl_intranet.applications.models import Application
    from xkxl_intranet.auth.models import User
    from xkxl_intranet.auth.passwords import hash_password
    from xkxl_intranet.batches.settings import ensure_reference_data
    from xkxl_intranet.clock import now
    from xkxl_intranet.extensions import db
    from xkxl_intranet.filenames import random_storage_name, storage_relpath
    from xkxl_intranet.files.models import StoredFile
    from xkxl_intranet.rounds.models import City
    from xkxl_intranet.rounds.state import current_round

    app = create_app(_config(instance))
    with app.app_context():
        upgrade()
        ensure_reference_data()
        chengdu = db.session.scalar(db.select(City).where(City.code == "510100"))
        deyang = db.session.scalar(db.select(City).where(City.code == "510600"))
        zigong = db.session.scalar(db.select(City).where(City.code == "510300"))
        password_hash = hash_password(PASSWORD)
        clerk = User(username="chengdu", display_name="成都市经济和信息化局", role="city", city=chengdu,
                     password_hash=password_hash, must_change_password=False)
        db.session.add_all([clerk, User(username="province", display_name="省厅", role="province",
                                        password_hash=password_hash, must_change_password=False)])
        round_ = current_round()
        target = Application(round_id=round_.id, city_id=chengdu.id, enterprise_name="上传测试公司",
                             platform_name="上传测试平台")
        archived = [Application(round_id=round_.id, city_id=deyang.id,
                                enterprise_name=f"德阳测试企业{n}", platform_name=f"平台{n}")
                    for n in range(4)]
        db.session.add_all([target, *archived])
        db.session.flush()
        root = Path(app.config["UPLOAD_FOLDER"])
        block = bytearray(os.urandom(CHUNK))
        for n in range(ZIP_GB_FILES):
            name = random_storage_name()
            path = root / storage_relpath(name)
            path.parent.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256()
            with open(path, "wb") as fh:
                head = b"%PDF-1.7\n"
                fh.write(head)
                digest.update(head)
                for i in range(ZIP_FILE_MB):
                    block[:8] = n.to_bytes(4, "big") + i.to_bytes(4, "big")  # no two blocks alike
                    fh.write(block)
                    digest.update(block)
            application = archived[n % len(archived)]
            db.session.add(StoredFile(
                round_id=round_.id, city_id=deyang.id, application_id=application.id,
                category=f"evidence{1 + n % 6}", original_name=f"证明材料{n:02d}.pdf",
                storage_name=name, size=path.stat().st_size, sha256=digest.hexdigest(), kind="pdf",
                mime="application/pdf", uploaded_at=now(), uploaded_by_id=None))
        db.session.commit()
        info = {"application_id": target.id, "deyang_id": deyang.id, "empty_id": zigong.id}
        db.engine.dispose()
    return info


# ---- a tiny HTTP client with a cookie -------------------------------------------------------

class Client:
    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def _conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)

    def _headers(self, extra=None):
        headers = dict(extra or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return headers

    def _keep(self, response):
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]

    def get(self, path: str) -> tuple[int, bytes]:
        conn = self._conn()
        conn.request("GET", path, headers=self._headers())
        response = conn.getresponse()
        body = response.read()
        self._keep(response)
        conn.close()
        return response.status, body

    def post_form(self, path: str, fields: dict[str, str]) -> int:
        from urllib.parse import urlencode

        conn = self._conn()
        conn.request("POST", path, body=urlencode(fields), headers=self._headers(
            {"Content-Type": "application/x-www-form-urlencoded"}))
        response = conn.getresponse()
        response.read()
        self._keep(response)
        conn.close()
        return response.status

    def login(self, username: str) -> None:
        _, page = self.get("/login")
        token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()
        assert self.post_form("/login", {"csrf_token": token, "username": username,
                                         "password": PASSWORD}) == 303

    def csrf_from(self, path: str) -> str:
        _, page = self.get(path)
        return re.search(rb'<meta name="csrf-token" content="([^"]+)"', page).group(1).decode()

    def upload(self, path: str, token: str, filename: str, source: Path,
               rate: float | None = None) -> tuple[int, bytes, float]:
        """POST ``source`` as a multipart upload; ``rate`` (bytes/s) paces it like a slower link."""
        boundary = "----xkxl-bench-" + os.urandom(8).hex()
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                f"filename=\"{filename}\"\r\nContent-Type: application/pdf\r\n\r\n").encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        length = len(head) + source.stat().st_size + len(tail)
        conn = self._conn()
        start = time.perf_counter()
        conn.putrequest("POST", path)
        for key, value in self._headers({
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Content-Length": str(length), "X-CSRFToken": token, "HX-Request": "true"}).items():
            conn.putheader(key, value)
        conn.endheaders()
        conn.send(head)
        with open(source, "rb") as fh:
            if rate is None:  # zero-copy, like a browser on another machine costs us nothing
                conn.sock.sendfile(fh)
            else:
                while block := fh.read(CHUNK // 4):
                    conn.send(block)
                    time.sleep(max(0.0, start + fh.tell() / rate - time.perf_counter()))
        conn.send(tail)
        response = conn.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - start
        conn.close()
        return response.status, body, elapsed

    def download(self, path: str) -> tuple[int, int, bytes, float]:
        conn = self._conn()
        start = time.perf_counter()
        conn.request("GET", path, headers=self._headers())
        response = conn.getresponse()
        total, last = 0, b""
        while block := response.read(CHUNK):
            total += len(block)
            last = (last + block)[-65536:]
        elapsed = time.perf_counter() - start
        conn.close()
        return response.status, total, last, elapsed


# ---- memory of the server process -----------------------------------------------------------

def _status_kb(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


class Memory:
    """Peak RSS growth of ``pid`` over a block: VmHWM (reset first) and a 5 ms sampler."""

    def __init__(self, pid: int):
        self.pid = pid

    def __enter__(self):
        try:
            with open(f"/proc/{self.pid}/clear_refs", "w") as fh:
                fh.write("5")  # resets VmHWM to the current RSS
            self.hwm_reset = True
        except OSError:
            self.hwm_reset = False
        self.baseline = _status_kb(self.pid, "VmRSS")
        self.sampled = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.is_set():
            self.sampled = max(self.sampled, _status_kb(self.pid, "VmRSS"))
            time.sleep(0.005)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        peak = self.sampled
        if self.hwm_reset:
            peak = max(peak, _status_kb(self.pid, "VmHWM"))
        self.growth_mb = (peak - self.baseline) / 1024
        self.baseline_mb = self.baseline / 1024


# ---- the run ----------------------------------------------------------------------------------

@contextlib.contextmanager
def server(kind: str, instance: Path):
    """A server subprocess (``kind``: the app under waitress or werkzeug, or the bare handler under
    waitress): yields (port, pid)."""
    with open(instance.parent / f"{kind}.log", "w+") as log:
        child = subprocess.Popen([sys.executable, __file__, "--serve", kind, str(instance)],
                                 stdout=subprocess.PIPE, stderr=log, text=True, cwd=ROOT)
        try:
            line = child.stdout.readline()
            if not line.strip().isdigit():
                log.seek(0)
                raise SystemExit(f"the {kind} server did not start:\n{log.read()}")
            yield int(line), child.pid
        finally:
            child.terminate()
            child.wait(timeout=10)


class Uploader:
    """Uploads the big file to one server, measuring the client's time, the handler's own time
    inside the server, and the server's peak RSS growth."""

    def __init__(self, port: int, pid: int, info: dict | None, source: Path, digest: str):
        self.client, self.pid, self.source, self.digest = Client(port), pid, source, digest
        self.url, self.token = "/upload", ""
        if info is not None:  # the app: a clerk's evidence upload, as the page sends it
            self.client.login("chengdu")
            page = f"/files/applications/{info['application_id']}"
            self.token = self.client.csrf_from(page)
            self.url = f"{page}/evidence6/upload"
        self.times: list[float] = []
        self.handler: list[float] = []
        self.growth: list[float] = []
        self.baseline = 0.0
        small = source.with_name(f"warm-up-{port}.pdf")  # imports, templates, first write
        small.write_bytes(b"%PDF-1.7\n" + os.urandom(200_000))
        status, _, _ = self.client.upload(self.url, self.token, "warm-up.pdf", small)
        assert status == 200, status
        small.unlink()

    def once(self, n: int) -> None:
        with Memory(self.pid) as memory:
            status, body, elapsed = self.client.upload(self.url, self.token, f"大文件{n}.pdf", self.source)
        assert status == 200, (status, body[:500])
        assert self.token == "" or self.digest.encode() in body, body[:500]
        self.times.append(elapsed)
        self.handler.append(float(self.client.get("/__handler_seconds")[1]))
        self.growth.append(memory.growth_mb)
        self.baseline = memory.baseline_mb

    def median(self, values: list[float]) -> float:
        return sorted(values)[len(values) // 2]

    def paced(self, source: Path, rate: float) -> tuple[float, float]:
        """One upload sent at ``rate``: (the client's time, the time a worker thread held it)."""
        status, _, elapsed = self.client.upload(self.url, self.token, "慢速上传.pdf", source, rate)
        assert status == 200, status
        return elapsed, float(self.client.get("/__handler_seconds")[1])


def zip_download(port: int, pid: int, info: dict) -> dict:
    """The 1 GiB archive: built in the background on the first request (its page answers at once),
    then downloaded; the server's peak RSS growth over both."""
    staff = Client(port)
    staff.login("province")
    status, _, _, _ = staff.download(f"/files/cities/{info['empty_id']}/files.zip")  # warm up: nothing in it
    assert status == 200, status
    url = f"/files/cities/{info['deyang_id']}/files.zip"
    cookies = "; ".join(f"{k}={v}" for k, v in staff.cookies.items())
    with Memory(pid) as memory:
        started = time.perf_counter()
        status, first, _, _ = _zip_national.first_byte(port, cookies, url)
        while status == 202:  # 「正在打包…」: ask again, as the page does (htmx: its box alone)
            time.sleep(0.2)
            _, _, _, box = _zip_national.first_byte(port, cookies, url, {"HX-Request": "true"})
            status = 200 if b"data-auto-download" in box else 202
        built = time.perf_counter() - started
        status, total, last, seconds = staff.download(url)
    assert status == 200 and b"PK\x05\x06" in last, status
    return {"seconds": seconds, "built": built, "first": first, "bytes": total, "growth": memory.growth_mb,
            "hwm_reset": memory.hwm_reset}


def make_source(work: Path) -> tuple[Path, str]:
    source = work / "source.pdf"
    digest = hashlib.sha256()
    with open(source, "wb") as fh:
        block = b"%PDF-1.7\n" + os.urandom(CHUNK - 9)
        for i in range(UPLOAD_MB):
            data = block if i == 0 else os.urandom(CHUNK)
            fh.write(data)
            digest.update(data)
    return source, digest.hexdigest()


def upload_rows(name: str, u: Uploader, size_mb: float) -> list[tuple]:
    total, own = u.median(u.times), u.median(u.handler)
    return [(f"upload via {name} ({size_mb:.0f} MiB, median of {UPLOAD_RUNS})", f"{size_mb / total:8.0f} MB/s",
             f"{total:.2f} s; runs {min(u.times):.2f}–{max(u.times):.2f} s", ""),
            ("  of which the handler's own work / the server's buffering",
             f"{own / total:8.0%}", f"{own:.2f} s / {total - own:.2f} s", "")]


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="xkxl-bench-files-"))
    try:
        instance = work / "instance"
        instance.mkdir()
        started = time.perf_counter()
        info = prepare(instance)
        source, digest = make_source(work)
        slow = work / "paced.pdf"
        with open(source, "rb") as fh:
            slow.write_bytes(fh.read(PACED_MB * CHUNK))
        size_mb = source.stat().st_size / CHUNK
        os.sync()  # the set-up's 1.1 GB of dirty pages must not be written back during the runs
        print(f"set-up: {ZIP_GB_FILES * ZIP_FILE_MB} MiB of stored files and a {size_mb:.0f} MiB "
              f"upload in {time.perf_counter() - started:.1f} s (instance on the same disk: {work})")

        rows, verdicts = [], []
        with server("waitress", instance) as (port, pid), server("bare", instance) as (bare_port, bare_pid):
            app = Uploader(port, pid, info, source, digest)
            bare = Uploader(bare_port, bare_pid, None, source, digest)
            for n in range(UPLOAD_RUNS):  # in turns, so that the disk and the load weigh alike
                app.once(n)
                bare.once(n)
            paced = {"waitress": app.paced(slow, PACED_RATE)}
            zipped = {"waitress": zip_download(port, pid, info)}
        with server("werkzeug", instance) as (port, pid):
            streamed = Uploader(port, pid, info, source, digest)
            for n in range(UPLOAD_RUNS):
                streamed.once(n)
            paced["werkzeug"] = streamed.paced(slow, PACED_RATE)
            zipped["werkzeug"] = zip_download(port, pid, info)

        ratio = app.median(app.times) / bare.median(bare.times)
        rows += upload_rows("the app under waitress", app, size_mb)
        rows += upload_rows("the bare handler under waitress", bare, size_mb)
        rows.append(("  app / bare handler (same server, disk, write-back hint, fsync)", f"{ratio:8.2f}×",
                     f"≤ {TARGET_UPLOAD_RATIO:g}×", "PASS" if ratio <= TARGET_UPLOAD_RATIO else "FAIL"))
        rows += upload_rows("the app under werkzeug (body streamed, no buffering)", streamed, size_mb)
        for kind, (elapsed, held) in paced.items():
            rows.append((f"{PACED_MB} MiB sent at {PACED_RATE / CHUNK:.0f} MiB/s via {kind}: worker thread held",
                         f"{held:8.2f} s", f"of {elapsed:.2f} s ({held / elapsed:.0%})", ""))
        for name, u in (("waitress", app), ("werkzeug", streamed)):
            ok = max(u.growth) < TARGET_UPLOAD_RSS_MB
            rows.append((f"  server peak RSS growth during upload ({name})", f"{max(u.growth):8.1f} MB",
                         f"< {TARGET_UPLOAD_RSS_MB} MB (RSS before {u.baseline:.0f} MB)", "PASS" if ok else "FAIL"))
        verdicts.append(ratio <= TARGET_UPLOAD_RATIO)
        verdicts += [max(u.growth) < TARGET_UPLOAD_RSS_MB for u in (app, streamed)]
        for kind, z in zipped.items():
            ok = z["growth"] < TARGET_ZIP_RSS_MB
            rows.append((f"ZIP via {kind}: first byte of the first request", f"{z['first'] * 1000:8.0f} ms",
                         "the page 「正在打包…」, or the file once built", ""))
            rows.append(("  first request until built (the second server finds it built)", f"{z['built']:8.1f} s",
                         f"{z['bytes'] / CHUNK / 1024:.2f} GiB", ""))
            rows.append(("  then sent from the file", f"{z['bytes'] / CHUNK / z['seconds']:8.0f} MB/s",
                         f"{z['seconds']:.1f} s", ""))
            rows.append(("  server peak RSS growth during ZIP (build and download)", f"{z['growth']:8.1f} MB",
                         f"< {TARGET_ZIP_RSS_MB} MB", "PASS" if ok else "FAIL"))
            verdicts.append(ok)
        width = max(len(r[0]) for r in rows)
        print()
        print(f"{'measure':<{width}}  {'figure':>13}  {'target / note':<44} result")
        print("-" * (width + 70))
        for name, figure, note, verdict in rows:
            print(f"{name:<{width}}  {figure:>13}  {note:<44} {verdict}")
        memory_source = "VmHWM after clear_refs + 5 ms VmRSS sampling" if all(
            z["hwm_reset"] for z in zipped.values()) else "5 ms VmRSS sampling"
        print(f"\nmemory: {memory_source}; CPUs: {os.cpu_count()}; "
              f"total run {time.perf_counter() - started:.0f} s")
        verdicts.append(_zip_national.run(work, Client))
        print("ALL PASS" if all(verdicts) else "SOME TARGETS MISSED")
        if not all(verdicts):
            raise SystemExit(1)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def national_only() -> None:
    work = Path(tempfile.mkdtemp(prefix="xkxl-bench-files-"))
    try:
        ok = _zip_national.run(work, Client)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("ALL PASS" if ok else "SOME TARGETS MISSED")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(sys.argv[2], sys.argv[3])
    elif sys.argv[1:] == ["--national-only"]:
        national_only()
    else:
        main()
