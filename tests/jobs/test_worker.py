"""The worker for real: ``python -m xkxl_intranet.worker`` on the test's instance, killed with
kill -9 and started again, and the serving command that starts, restarts and stops it."""
from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from xkxl_intranet.applications.models import Application
from xkxl_intranet.clock import now
from xkxl_intranet.domain.checks import FORM_2022
from xkxl_intranet.domain.form_layout import form_blocks, texts_for
from xkxl_intranet.extensions import db
from xkxl_intranet.files.form_template import form_docx
from xkxl_intranet.files.models import StoredFile

from helpers import create_application, dead_pid, store_form, wait_until

ROOT = Path(__file__).resolve().parent.parent.parent


def _env(app, instance: Path) -> dict:
    env = dict(os.environ, XKXL_INSTANCE_PATH=str(instance), DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def _store_form(app) -> int:
    application_id = create_application(app, with_form=False)
    with app.app_context():
        data = form_docx(form_blocks(texts_for(db.session.get(Application, application_id).values(), form=FORM_2022), form=FORM_2022))
    return store_form(app, application_id, data)


def _states(app, ids) -> dict[int, str]:
    with app.app_context():
        db.session.expire_all()
        return {i: db.session.get(StoredFile, i).reading_state for i in ids}


def _processes_of(instance: Path) -> list[int]:
    """Processes started for this instance (the worker passes XKXL_INSTANCE_PATH to all it forks)."""
    marker = f"XKXL_INSTANCE_PATH={instance}\0".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker in (entry / "environ").read_bytes():
                    stat = (entry / "stat").read_text()
                    if stat.rsplit(")", 1)[1].split()[0] != "Z":
                        found.append(int(entry.name))
            except OSError:
                continue
    return found


def _start_worker(app, instance: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "xkxl_intranet.worker"], cwd=ROOT, env=_env(app, instance),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_jobs_left_by_a_worker_killed_outright_run_after_a_restart(app, instance):
    first = _store_form(app)  # queued before any worker runs: the queue keeps it
    worker = _start_worker(app, instance)
    try:
        wait_until(lambda: _states(app, [first])[first] == "done", 30, "the first worker reads what was queued")
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        # Its huey processes go with it (they would otherwise take jobs nobody supervises).
        wait_until(lambda: not _processes_of(instance), 10, "the killed worker's processes end")
        queued = _store_form(app)  # queued while no worker runs
        cut_short = _store_form(app)  # being read by the killed worker: its claim names a dead process
        with app.app_context():
            stored = db.session.get(StoredFile, cut_short)
            stored.reading_state, stored.reading_claimed_at, stored.reading_attempts = "running", now(), 1
            stored.reading_claimed_by = f"{socket.gethostname()}:{dead_pid()}:x"
            db.session.commit()
        worker = _start_worker(app, instance)
        wait_until(lambda: set(_states(app, [queued, cut_short]).values()) == {"done"}, 30,
              "the restarted worker reads both")
        with app.app_context():
            assert db.session.get(StoredFile, cut_short).reading_attempts == 2
            assert db.session.get(StoredFile, queued).reading["status"] == "read"
        worker.send_signal(signal.SIGINT)  # as the serving command stops it
        assert worker.wait(15) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthz(port: int) -> int | None:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        connection.request("GET", "/healthz")
        status = connection.getresponse().status
        connection.close()
        return status
    except OSError:
        return None


def _worker_children(parent: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == parent and fields[0] != "Z" and b"xkxl_intranet.worker" in cmdline:
                children.append(int(entry.name))
    return children


def test_the_serving_command_starts_restarts_and_stops_its_worker(app, instance):
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "xkxl_intranet.serving", "--host=127.0.0.1", f"--port={port}"],
                              cwd=ROOT, env=_env(app, instance), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: _healthz(port) == 200, 30, "the server answers")
        wait_until(lambda: len(_worker_children(server.pid)) == 1, 10, "the worker runs beside it")
        first = _worker_children(server.pid)[0]
        os.kill(first, signal.SIGKILL)
        wait_until(lambda: _worker_children(server.pid) not in ([], [first]), 15, "a new worker replaces it")
        queued = _store_form(app)
        wait_until(lambda: _states(app, [queued])[queued] == "done", 30, "the new worker reads")
        server.send_signal(signal.SIGTERM)  # systemd's stop
        assert server.wait(30) == 0
        wait_until(lambda: not _processes_of(instance), 15, "no worker is left behind")
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
