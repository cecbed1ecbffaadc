"""Several serving processes on one socket (xkxl_intranet/processes.py): the serving command
forks them, every one answers, a dead one is replaced, and a stop ends them all."""
from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from helpers import wait_until

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(parent: int) -> list[int]:
    """The living serving processes of ``parent`` (forked: the same command line, not the worker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == parent and fields[0] != "Z" and b"xkxl_intranet.serving" in cmdline:
            found.append(int(entry.name))
    return sorted(found)


def _get(port: int, path: str = "/healthz") -> int | None:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", path)
        status = connection.getresponse().status
        connection.close()
        return status
    except OSError:
        return None


def test_two_serving_processes_answer_are_replaced_and_stop_together(app, tmp_path):
    port = _free_port()
    env = dict(os.environ, XKXL_INSTANCE_PATH=app.instance_path,
               DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"])
    (Path(app.instance_path) / "config.py").write_text('SECRET_KEY = "test-secret-key"\n', encoding="utf-8")
    server = subprocess.Popen([sys.executable, "-m", "xkxl_intranet.serving", "--host=127.0.0.1",
                               f"--port={port}", "--processes=2", "--workers=0"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: _get(port) == 200, 30, "the server answers")
        wait_until(lambda: len(_children(server.pid)) == 2, 10, "two serving processes")
        first, second = _children(server.pid)
        # every one of a burst of new connections is answered, by either process
        assert all(_get(port, "/login") == 200 for _ in range(20))
        os.kill(first, signal.SIGKILL)
        wait_until(lambda: len(_children(server.pid)) == 2 and first not in _children(server.pid), 15,
              "a new serving process replaces the killed one")
        assert second in _children(server.pid)
        assert all(_get(port, "/login") == 200 for _ in range(10))
        server.send_signal(signal.SIGTERM)  # systemd's stop
        assert server.wait(30) == 0
        wait_until(lambda: not _children(server.pid), 10, "no serving process is left behind")
        assert _get(port) is None
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
