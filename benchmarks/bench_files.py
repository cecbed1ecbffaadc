"""Files: a 100 MB upload and a 1 GB streamed ZIP through a real server over loopback.

- Upload throughput is compared with ``cp`` of the same file on the same disk in the same run
  (target: at least 50 % of cp's throughput); the server process's peak RSS growth during the
  upload must stay under 30 MB (the body is streamed to disk, never held in memory).
- A ZIP of 1 GB of stored files is streamed to the client; the server's peak RSS growth must
  stay under 50 MB.

The app runs in a subprocess under waitress (as ``make run`` serves it) and under werkzeug's
threaded server; memory is read from /proc/<pid>/status (VmHWM after resetting it through
/proc/<pid>/clear_refs, cross-checked by sampling VmRSS). Prints a table; not a test.

Run: .venv/bin/python benchmarks/bench_files.py
"""
from __future__ import annotations

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

PASSWORD = "Bench-pass-2022"
UPLOAD_MB = 100
UPLOAD_RUNS = 5  # the median is reported: a small VM is noisy
ZIP_GB_FILES = 16  # files of 64 MiB each: 1 GiB
ZIP_FILE_MB = 64
CHUNK = 1024 * 1024
TARGET_UPLOAD_RATIO = 0.5
TARGET_UPLOAD_RSS_MB = 30
TARGET_ZIP_RSS_MB = 50


def _config(instance: Path) -> dict:
    return {"SECRET_KEY": "bench-files", "INSTANCE_PATH": str(instance),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'bench.sqlite3'}",
            "UPLOAD_FOLDER": str(instance / "uploads")}


# ---- the server subprocess --------------------------------------------------------------------

def serve(kind: str, instance: str) -> None:
    import logging

    from xkxl_intranet import create_app

    logging.disable(logging.WARNING)
    app = create_app(_config(Path(instance)))
    if kind == "waitress":
        from waitress import create_server

        server = create_server(app, host="127.0.0.1", port=0, threads=4)
        print(server.effective_port, flush=True)
        server.run()
    else:
        from werkzeug.serving import make_server

        server = make_server("127.0.0.1", 0, app, threaded=True)
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
    from xkxl_intranet.clock import now
    from xkxl_intranet.extensions import db
    from xkxl_intranet.files.models import StoredFile
    from xkxl_intranet.files.naming import random_storage_name, storage_relpath
    from xkxl_intranet.rounds.models import City
    from xkxl_intranet.rounds.settings import ensure_reference_data
    from xkxl_intranet.rounds.state import current_round

    app = create_app(_config(instance))
    with app.app_context():
        upgrade()
        ensure_reference_data()
        chengdu = db.session.scalar(db.select(City).where(City.code == "510100"))
        deyang = db.session.scalar(db.select(City).where(City.code == "510600"))
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
        info = {"application_id": target.id, "deyang_id": deyang.id}
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

    def upload(self, path: str, token: str, filename: str, source: Path) -> tuple[int, bytes, float]:
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
        with open(source, "rb") as fh:  # zero-copy, like a browser on another machine costs us nothing
            conn.sock.sendfile(fh)
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

def timed_cp(source: Path, target: Path, *, sync: bool) -> float:
    start = time.perf_counter()
    subprocess.run(["cp", str(source), str(target)], check=True)
    if sync:
        subprocess.run(["sync", str(target)], check=True)
    elapsed = time.perf_counter() - start
    target.unlink()
    return elapsed


def run_server(kind: str, instance: Path, info: dict, source: Path, digest: str) -> dict:
    with open(instance.parent / f"{kind}.log", "w+") as log:
        child = subprocess.Popen([sys.executable, __file__, "--serve", kind, str(instance)],
                                 stdout=subprocess.PIPE, stderr=log, text=True, cwd=ROOT)
        try:
            line = child.stdout.readline()
            if not line.strip().isdigit():
                log.seek(0)
                raise SystemExit(f"the {kind} server did not start:\n{log.read()}")
            return measure(int(line), child.pid, info, source, digest)
        finally:
            child.terminate()
            child.wait(timeout=10)


def measure(port: int, pid: int, info: dict, source: Path, digest: str) -> dict:
    clerk = Client(port)
    clerk.login("chengdu")
    page = f"/files/applications/{info['application_id']}"
    token = clerk.csrf_from(page)
    upload_url = f"{page}/evidence6/upload"
    # Warm up (imports, templates, first write into storage) with a small file.
    small = source.with_name("warm-up.pdf")
    small.write_bytes(b"%PDF-1.7\n" + os.urandom(200_000))
    status, _, _ = clerk.upload(upload_url, token, "warm-up.pdf", small)
    assert status == 200, status
    small.unlink()

    times, growth = [], []
    for n in range(UPLOAD_RUNS):
        with Memory(pid) as memory:
            status, body, elapsed = clerk.upload(upload_url, token, f"大文件{n}.pdf", source)
        assert status == 200 and digest.encode() in body, (status, body[:500])
        times.append(elapsed)
        growth.append(memory.growth_mb)
    baseline = memory.baseline_mb

    staff = Client(port)
    staff.login("province")
    # Warm up the archive path on a city with nothing in it.
    status, _, _, _ = staff.download("/files/cities/1/files.zip")
    assert status == 200
    with Memory(pid) as memory:
        status, total, last, zip_seconds = staff.download(
            f"/files/cities/{info['deyang_id']}/files.zip")
    assert status == 200 and b"PK\x05\x06" in last, status
    return {"upload_seconds": sorted(times)[len(times) // 2], "upload_growth": max(growth),
            "upload_range": (min(times), max(times)),
            "baseline": baseline, "zip_seconds": zip_seconds, "zip_bytes": total,
            "zip_growth": memory.growth_mb, "hwm_reset": memory.hwm_reset}


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="xkxl-bench-files-"))
    try:
        instance = work / "instance"
        instance.mkdir()
        started = time.perf_counter()
        info = prepare(instance)
        source = work / "source.pdf"
        digest = hashlib.sha256()
        with open(source, "wb") as fh:
            block = b"%PDF-1.7\n" + os.urandom(CHUNK - 9)
            for i in range(UPLOAD_MB):
                data = block if i == 0 else os.urandom(CHUNK)
                fh.write(data)
                digest.update(data)
        digest = digest.hexdigest()
        size_mb = source.stat().st_size / CHUNK
        os.sync()  # the set-up's 1.1 GB of dirty pages must not be written back during the runs
        print(f"set-up: {ZIP_GB_FILES * ZIP_FILE_MB} MiB of stored files and a {size_mb:.0f} MiB "
              f"upload in {time.perf_counter() - started:.1f} s (instance on the same disk: {work})")

        same_disk = instance / "uploads" / "cp-target"
        cp_plain = sorted(timed_cp(source, same_disk, sync=False) for _ in range(3))[1]
        cp_sync = sorted(timed_cp(source, same_disk, sync=True) for _ in range(3))[1]

        results = {kind: run_server(kind, instance, info, source, digest)
                   for kind in ("waitress", "werkzeug")}

        rows = [("cp (page cache, no fsync)", f"{size_mb / cp_plain:8.0f} MB/s", "", ""),
                ("cp + fsync (sync FILE)", f"{size_mb / cp_sync:8.0f} MB/s", "", "")]
        verdicts = []
        for kind, r in results.items():
            rate = size_mb / r["upload_seconds"]
            ratio = rate / (size_mb / cp_plain)
            ok_rate = ratio >= TARGET_UPLOAD_RATIO
            ok_mem = r["upload_growth"] < TARGET_UPLOAD_RSS_MB
            slow, fast = (size_mb / t for t in reversed(r["upload_range"]))
            rows.append((f"upload via {kind} ({size_mb:.0f} MiB, median of {UPLOAD_RUNS})",
                         f"{rate:8.0f} MB/s",
                         f"{ratio * 100:3.0f}% of cp (≥ {TARGET_UPLOAD_RATIO:.0%}); "
                         f"{rate / (size_mb / cp_sync) * 100:.0f}% of cp+fsync",
                         "PASS" if ok_rate else "FAIL"))
            rows.append(("  spread of the runs", f"{slow:4.0f}–{fast:.0f}", "MB/s", ""))
            rows.append(("  server peak RSS growth during upload", f"{r['upload_growth']:8.1f} MB",
                         f"< {TARGET_UPLOAD_RSS_MB} MB (RSS before {r['baseline']:.0f} MB)",
                         "PASS" if ok_mem else "FAIL"))
            zip_rate = r["zip_bytes"] / CHUNK / r["zip_seconds"]
            ok_zip = r["zip_growth"] < TARGET_ZIP_RSS_MB
            rows.append((f"ZIP via {kind} ({r['zip_bytes'] / CHUNK / 1024:.2f} GiB streamed)",
                         f"{zip_rate:8.0f} MB/s", f"{r['zip_seconds']:.1f} s", ""))
            rows.append(("  server peak RSS growth during ZIP", f"{r['zip_growth']:8.1f} MB",
                         f"< {TARGET_ZIP_RSS_MB} MB", "PASS" if ok_zip else "FAIL"))
            verdicts += [ok_rate, ok_mem, ok_zip]
        width = max(len(r[0]) for r in rows)
        print()
        print(f"{'measure':<{width}}  {'figure':>13}  {'target / note':<44} result")
        print("-" * (width + 70))
        for name, figure, note, verdict in rows:
            print(f"{name:<{width}}  {figure:>13}  {note:<44} {verdict}")
        memory_source = "VmHWM after clear_refs + 5 ms VmRSS sampling" if all(
            r["hwm_reset"] for r in results.values()) else "5 ms VmRSS sampling"
        print(f"\nmemory: {memory_source}; CPUs: {os.cpu_count()}; "
              f"total run {time.perf_counter() - started:.0f} s")
        print("ALL PASS" if all(verdicts) else "SOME TARGETS MISSED")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(sys.argv[2], sys.argv[3])
    else:
        main()
