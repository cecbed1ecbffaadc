"""bench_files.py's 20,000-application case (issue 20): all.zip of 19,992 applications, each
with its 申报书, through the real server (``python -m xkxl_intranet.serving``, the command
``make run`` and bench_rush.py start), over loopback.

Printed side by side in one run:

- the archive's plan (which file goes where, the manifest, its key) read as plain columns, in
  turns with what the plan cost before: every application and file loaded as a full object;
- time to first byte of all.zip on a cold cache (the page 「正在打包…」, answered while a
  background thread builds), how long the build takes, and time to first byte of the ready
  download (the plan again, then the file sent by waitress's file wrapper) and its whole
  length;
- another clerk's page (the files page of 成都市) while eight clients read all.zip at 1 KB/s,
  beside the same page without them (before and after): before issue 20 the eight held all
  eight worker threads and nobody else was answered for 60 s.

Targets: first byte of all.zip (page or download) under 1 s; the clerk's page under 1 s with
the slow readers.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from _common import wait_until_serving
from flask_migrate import upgrade
from sqlalchemy import insert, select

from xkxl_intranet import create_app
from xkxl_intranet.applications.models import Application
from xkxl_intranet.auth.models import User
from xkxl_intranet.auth.passwords import hash_password
from xkxl_intranet.batches.settings import ensure_reference_data
from xkxl_intranet.clock import now
from xkxl_intranet.extensions import db
from xkxl_intranet.filenames import random_storage_name, storage_relpath
from xkxl_intranet.files.models import StoredFile
from xkxl_intranet.materials.archives import archive_for
from xkxl_intranet.rounds.state import all_cities, current_round

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Bench-pass-2022"
PER_CITY = 952  # 19,992 applications
FILE_BYTES = 2048  # each 申报书 (a few KB: the count, not the bytes, is what this case measures)
SLOW_READERS = 8  # as many as the server's worker threads
SLOW_RATE = 1024  # bytes/s each
PAGE_SAMPLES = 20
TARGET_FIRST_BYTE = 1.0
TARGET_PAGE = 1.0


def prepare(instance: Path) -> dict:
    """The schema, the 21 cities, two accounts, 19,992 applications (inserted in bulk, all
    初审通过 so that each folder carries its 序号) and a 申报书 each, stored."""
    app = create_app({"SECRET_KEY": "bench-national", "INSTANCE_PATH": str(instance),
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'xkxl.sqlite3'}",
                      "UPLOAD_FOLDER": str(instance / "uploads")})
    with app.app_context():
        upgrade()
        ensure_reference_data()
        cities = all_cities()
        round_ = current_round()
        password_hash = hash_password(PASSWORD)
        chengdu = next(c for c in cities if c.code == "510100")
        db.session.add_all([
            User(username="province", display_name="省厅", role="province", password_hash=password_hash,
                 must_change_password=False),
            User(username="chengdu", display_name="成都市经济和信息化局", role="city", city=chengdu,
                 password_hash=password_hash, must_change_password=False)])
        db.session.execute(insert(Application), [
            {"round_id": round_.id, "city_id": city.id, "position": n + 1, "review_state": "passed",
             "enterprise_name": f"{city.name[:2]}测试企业{n:03d}有限公司",
             "platform_name": f"{city.name[:2]}工业互联网平台{n:03d}", "acknowledgements": {}}
            for city in cities for n in range(PER_CITY)])
        root = Path(app.config["UPLOAD_FOLDER"])
        files = []
        padding = os.urandom(FILE_BYTES)
        for application_id, city_id in db.session.execute(select(Application.id, Application.city_id)):
            name = random_storage_name()
            data = b"%PDF-1.7\n" + f"% {application_id}\n".encode() + padding
            path = root / storage_relpath(name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            files.append({"round_id": round_.id, "city_id": city_id, "application_id": application_id,
                          "category": "form", "original_name": "申报书.pdf", "storage_name": name,
                          "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "kind": "pdf",
                          "mime": "application/pdf", "uploaded_at": now()})
        db.session.execute(insert(StoredFile), files)
        db.session.commit()
        chengdu_id = chengdu.id
    return {"app": app, "applications": 21 * PER_CITY, "files": len(files), "chengdu_id": chengdu_id}


def plan_costs(app, repeat: int = 3) -> tuple[float, float]:
    """Median seconds of the archive's plan now, and of loading what the plan loaded before (every
    application and file of the round as a full object), in turns."""
    def plan():
        with app.app_context():
            province = db.session.scalar(select(User).where(User.username == "province"))
            archive_for(province, current_round(), all_cities())

    def full_objects():
        with app.app_context():
            round_id = current_round().id
            db.session.scalars(select(Application).where(Application.round_id == round_id)).all()
            db.session.scalars(select(StoredFile).where(StoredFile.round_id == round_id)).all()

    samples = {plan: [], full_objects: []}
    for _ in range(repeat):
        for fn in samples:
            started = time.perf_counter()
            fn()
            samples[fn].append(time.perf_counter() - started)
    return statistics.median(samples[plan]), statistics.median(samples[full_objects])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(instance: Path, port: int) -> subprocess.Popen:
    env = dict(os.environ, XKXL_INSTANCE_PATH=str(instance))
    for key in ("DATABASE_URL", "XKXL_X_ACCEL_REDIRECT", "XKXL_GENERATED_FOLDER"):
        env.pop(key, None)
    log = open(instance / "server.log", "w")  # noqa: SIM115  (closed with the server)
    server = subprocess.Popen([sys.executable, "-m", "xkxl_intranet.serving", "--host=127.0.0.1",
                               f"--port={port}"], cwd=ROOT, env=env, stdout=log, stderr=log)
    wait_until_serving(server, port, instance / "server.log")
    time.sleep(2)  # the serving command warms up printing in the background
    return server


def first_byte(port: int, cookies: str, path: str, headers: dict | None = None,
               read_all: bool = False) -> tuple[int, float, float, bytes]:
    """(status, seconds to the answer's head, seconds to its last byte, its last 64 KB)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    started = time.perf_counter()
    conn.request("GET", path, headers={"Cookie": cookies, **(headers or {})})
    response = conn.getresponse()
    head = time.perf_counter() - started
    tail = b""
    while block := response.read(1024 * 1024):
        tail = (tail + block)[-65536:]
    conn.close()
    return response.status, head, time.perf_counter() - started, tail


class SlowReader(threading.Thread):
    """A client that asks for ``path`` and reads its answer at ``rate`` bytes/s until stopped."""

    def __init__(self, port: int, cookies: str, path: str, rate: int):
        super().__init__(daemon=True)
        self.port, self.cookies, self.path, self.rate = port, cookies, path, rate
        self.stop = threading.Event()
        self.received = 0
        self.status = b""

    def run(self) -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", self.port))
        sock.sendall(f"GET {self.path} HTTP/1.1\r\nHost: x\r\nCookie: {self.cookies}\r\n\r\n".encode())
        try:
            while not self.stop.wait(1.0):
                chunk = sock.recv(self.rate)
                if not chunk:
                    break
                if not self.received:
                    self.status = chunk.split(b"\r\n", 1)[0]
                self.received += len(chunk)
        finally:
            sock.close()


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


def page_times(port: int, cookies: str, path: str) -> list[float]:
    times = []
    for _ in range(PAGE_SAMPLES):
        status, _, whole, _ = first_byte(port, cookies, path)
        assert status == 200, status
        times.append(whole)
        time.sleep(0.05)
    return times


def _wait_built(port: int, cookies: str) -> float:
    started = time.perf_counter()
    while True:
        status, _, _, box = first_byte(port, cookies, "/files/all.zip", {"HX-Request": "true"})
        assert status == 200, status
        if b"data-auto-download" in box:
            return time.perf_counter() - started
        assert b"\xe6\xad\xa3\xe5\x9c\xa8\xe6\x89\x93\xe5\x8c\x85" in box, box[-500:]  # 正在打包
        time.sleep(0.5)


def _summary(times: list[float]) -> str:
    return f"p50 {statistics.median(times) * 1000:6.0f} ms, max {max(times) * 1000:6.0f} ms"


def run(work: Path, client_class) -> bool:
    """Prepare, measure, print; True when every target is met."""
    instance = work / "national"
    instance.mkdir()
    started = time.perf_counter()
    info = prepare(instance)
    print(f"\n== all.zip at {info['applications']:,} applications ({info['files']:,} files of "
          f"{FILE_BYTES // 1024} KB), set up in {time.perf_counter() - started:.0f} s")
    plan, objects = plan_costs(info["app"])
    with info["app"].app_context():
        db.engine.dispose()
    rows = [("archive plan, plain columns (now)", f"{plan:.2f} s", "in-process, median of 3, in turns"),
            ("  loading every application and file as a full object (before)", f"{objects:.2f} s", "")]
    port = free_port()
    server = start_server(instance, port)
    try:
        province, clerk = client_class(port), client_class(port)
        province.login("province")
        clerk.login("chengdu")
        staff = "; ".join(f"{k}={v}" for k, v in province.cookies.items())
        clerks = "; ".join(f"{k}={v}" for k, v in clerk.cookies.items())
        status, page_head, _, _ = first_byte(port, staff, "/files/all.zip")
        assert status == 202, status
        built = _wait_built(port, staff)
        heads, wholes = [], []
        for _ in range(5):
            status, head, whole, tail = first_byte(port, staff, "/files/all.zip")
            assert status == 200 and b"PK\x05\x06" in tail, status
            heads.append(head)
            wholes.append(whole)
        ready_head = statistics.median(heads)
        size_mb = sum(p.stat().st_size for p in (instance / "generated" / "zip").glob("*.zip")) / 1024 / 1024
        page = f"/files/city?city_id={info['chengdu_id']}"
        quiet = page_times(port, clerks, page)
        rss_before = _rss_mb(server.pid)
        readers = [SlowReader(port, staff, "/files/all.zip", SLOW_RATE) for _ in range(SLOW_READERS)]
        for reader in readers:
            reader.start()
        time.sleep(3)
        loaded = page_times(port, clerks, page)
        rss_loaded = _rss_mb(server.pid)
        reading = sum(1 for r in readers if r.status.startswith(b"HTTP/1.1 200") and r.is_alive())
        for reader in readers:
            reader.stop.set()
        for reader in readers:
            reader.join(5)
        after = page_times(port, clerks, page)
    finally:
        server.terminate()
        server.wait(timeout=10)
    rows += [
        ("all.zip, cold: first byte (the page 「正在打包…」)", f"{page_head * 1000:.0f} ms",
         f"< {TARGET_FIRST_BYTE:g} s", "PASS" if page_head < TARGET_FIRST_BYTE else "FAIL"),
        ("  built in the background in", f"{built:.1f} s", f"{size_mb:.0f} MB archive", ""),
        ("all.zip, ready: first byte (median of 5)", f"{ready_head * 1000:.0f} ms",
         f"< {TARGET_FIRST_BYTE:g} s", "PASS" if ready_head < TARGET_FIRST_BYTE else "FAIL"),
        ("  whole download", f"{statistics.median(wholes):.2f} s", f"{size_mb:.0f} MB", ""),
        (f"a clerk's files page, quiet ({PAGE_SAMPLES} requests)", _summary(quiet), "", ""),
        (f"  with {SLOW_READERS} clients reading all.zip at {SLOW_RATE} B/s ({reading} reading)",
         _summary(loaded), f"< {TARGET_PAGE:g} s", "PASS" if max(loaded) < TARGET_PAGE else "FAIL"),
        ("  quiet again, after them", _summary(after), "", ""),
        ("  server RSS before / with the slow readers", f"{rss_before:.0f} / {rss_loaded:.0f} MB", "", ""),
    ]
    width = max(len(r[0]) for r in rows)
    for row in rows:
        name, figure, note, *verdict = row
        print(f"{name:<{width}}  {figure:>34}  {note:<34} {verdict[0] if verdict else ''}")
    return page_head < TARGET_FIRST_BYTE and ready_head < TARGET_FIRST_BYTE and max(loaded) < TARGET_PAGE
