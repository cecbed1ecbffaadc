"""``make bundle`` → ``install.sh`` on a machine without network: the bundle is built (wheels from
build/wheelhouse, so only a first build ever asks the package index), unpacked, and installed
with Debian's own Python into a fresh virtual environment with every route to an index
blocked; the installed program, run from outside the repository, migrates a new instance,
serves through waitress with the server's options, backs up and verifies; a newer bundle installed
while it serves is staged, and switched in only once the service has stopped.

Slow (≈ 50 s on the 2-core build machine: build ≈ 9 s, install ≈ 18 s, run and upgrade ≈ 21 s), so marked;
``make test`` runs it (not on PostgreSQL: nothing in it depends on the database).
"""
from __future__ import annotations

import contextlib
import json
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import POSTGRES_URL

REPO = Path(__file__).resolve().parents[2]
UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing answers there

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(bool(POSTGRES_URL), reason="independent of the database: runs on SQLite")]


def _python() -> str:
    """The server's interpreter: Debian's python3.11 when there is one."""
    debian = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
    return str(debian) if debian.exists() else sys._base_executable


def _offline_env(home: Path, **extra) -> dict:
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
            "http_proxy": UNREACHABLE, "https_proxy": UNREACHABLE, "HTTP_PROXY": UNREACHABLE,
            "HTTPS_PROXY": UNREACHABLE, "PIP_INDEX_URL": f"{UNREACHABLE}/simple", **extra}


def _root_beside_the_service_user(home: Path) -> str:
    """A PATH as root's clean one (no /usr/sbin) on a server where install.sh made the user xkxl:
    an `id` that says so, whoever runs the test (`make test` as root on such a server)."""
    fake = home / "fake-root-bin"
    fake.mkdir()
    (fake / "id").write_text('#!/bin/sh\ncase "$*" in\n  -u) echo 0 ;;\n  xkxl) echo "uid=999(xkxl)" ;;\n'
                             '  *) exec /usr/bin/id "$@" ;;\nesac\n')
    (fake / "id").chmod(0o755)
    return f"{fake}:/usr/local/bin:/usr/bin:/bin"


def _run(command, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str, deadline: float, headers: dict | None = None) -> tuple[int, bytes]:
    while True:
        try:
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy: loopback
            with opener.open(urllib.request.Request(url, headers=headers or {}), timeout=5) as response:
                return response.status, response.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _service_command(prefix: Path, port: int) -> list[str]:
    """The systemd unit's own ExecStart, pointed at the installed prefix and a free port: the
    bundle is checked with the command it will be served with."""
    unit = (REPO / "deploy/xkxl.service").read_text(encoding="utf-8").replace("\\\n", " ")
    [command] = re.findall(r"^ExecStart=(.+)$", unit, flags=re.M)
    words = [w.replace("/opt/xkxl", str(prefix)) for w in shlex.split(command)]
    return [w.replace("--port=8000", f"--port={port}") for w in words]


@contextlib.contextmanager
def _serving(prefix: Path, env: dict, cwd: Path) -> Iterator[int]:
    """The service, started as systemd starts it; its port."""
    port = _free_port()
    server = subprocess.Popen(_service_command(prefix, port), cwd=cwd, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _get(f"http://127.0.0.1:{port}/healthz", time.monotonic() + 30)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


def _serve_and_check(prefix: Path, env: dict, cwd: Path) -> None:
    with _serving(prefix, env, cwd) as port:
        deadline = time.monotonic() + 30
        status, body = _get(f"http://127.0.0.1:{port}/healthz", deadline)
        assert status == 200 and json.loads(body) == {"status": "ok"}  # anyone: the verdict alone
        status, body = _get(f"http://127.0.0.1:{port}/healthz", deadline,
                            {"Authorization": f"Bearer {env['XKXL_HEALTH_TOKEN']}"})
        health = json.loads(body)
        assert status == 200 and health["database"]["cities"] == 21
        heads = [p.name.split("_")[0] for p in (REPO / "migrations/versions").glob("*.py")]
        assert health["database"]["revision"] in heads
        status, body = _get(f"http://127.0.0.1:{port}/login", deadline)
        assert status == 200 and "登录" in body.decode()
        htmx = next((prefix / "current/static/vendor").glob("htmx-*.min.js")).name
        assert _get(f"http://127.0.0.1:{port}/static/vendor/{htmx}", deadline)[0] == 200


def _upgrade_while_serving(unpacked: Path, prefix: Path, home: Path, env: dict, server_env: dict) -> None:
    """A newer bundle installed while the service runs is staged: the service keeps its release
    (code, templates, static files) until it is restarted; `xkxl activate` refuses under it and
    switches once it has stopped (xkxl.service runs it as it starts)."""
    newer = unpacked.parent / "newer"
    shutil.copytree(unpacked, newer, symlinks=True)
    bundle_info = (newer / "BUNDLE").read_text()
    old_name = re.search(r"^NAME=(\S+)$", bundle_info, re.M)[1]
    (newer / "BUNDLE").write_text(bundle_info.replace(f"NAME={old_name}", f"NAME={old_name}-next"))
    xkxl = prefix / "bin/xkxl"
    with _serving(prefix, server_env, home) as port:
        _run([newer / "install.sh", "--prefix", prefix, "--no-system", "--python", _python()],
             cwd=home, env=_offline_env(home))
        assert (prefix / "current").resolve() == prefix / "releases" / old_name  # still in use
        assert (prefix / "staged").resolve() == prefix / "releases" / f"{old_name}-next"
        assert _get(f"http://127.0.0.1:{port}/login", time.monotonic() + 10)[0] == 200
        refused = subprocess.run([xkxl, "activate"], cwd=home, env=env, capture_output=True, text=True)
        assert refused.returncode == 1 and "sudo systemctl stop xkxl" in refused.stderr, refused.stderr
        assert (prefix / "current").resolve() == prefix / "releases" / old_name
    assert "已启用" in _run([xkxl, "activate"], cwd=home, env=env).stdout  # the service stopped
    assert (prefix / "current").resolve() == prefix / "releases" / f"{old_name}-next"
    assert not (prefix / "staged").exists()
    assert "没有待启用的版本" in _run([xkxl, "activate"], cwd=home, env=env).stdout


def test_the_bundle_installs_and_runs_with_the_index_unreachable(tmp_path):
    timings = {}
    started = time.monotonic()
    _run([sys.executable, REPO / "scripts/bundle.py", "--output", tmp_path / "dist"], cwd=REPO)
    timings["build"] = time.monotonic() - started
    [bundle] = (tmp_path / "dist").glob("xkxl_intranet-*.tar.gz")
    with tarfile.open(bundle) as tar:
        tar.extractall(tmp_path / "unpacked", filter="data")
    [unpacked] = (tmp_path / "unpacked").iterdir()
    _run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=unpacked)
    [wheel] = (unpacked / "wheels").glob("xkxl_intranet-*.whl")
    with zipfile.ZipFile(wheel) as members:  # init-db and 开启新批次 read the shipped notices
        assert "xkxl_intranet/notices/2022.toml" in members.namelist()

    prefix, home = tmp_path / "opt", tmp_path / "home"
    home.mkdir()
    started = time.monotonic()
    installed = _run([unpacked / "install.sh", "--prefix", prefix, "--no-system", "--python", _python()],
                     cwd=home, env=_offline_env(home))
    timings["install"] = time.monotonic() - started
    assert f"自检通过： {prefix}/releases/" in installed.stdout  # the venv's copy, not the repository's
    assert (prefix / "current").resolve().parent == prefix / "releases"

    started = time.monotonic()
    instance = tmp_path / "srv" / "instance"
    server_settings = {"XKXL_INSTANCE_PATH": str(instance), "XKXL_LOG_FILE": str(tmp_path / "app.log"),
                       "XKXL_HEALTH_TOKEN": "the-monitor-s-token"}
    settings = tmp_path / "xkxl.env"  # as /etc/xkxl/xkxl.env, read by systemd and the xkxl command
    settings.write_text("".join(f"{key}={value}\n" for key, value in server_settings.items()))
    # The program-only install's command runs as its caller, even as root beside the service user.
    env = _offline_env(home, XKXL_ENV_FILE=str(settings), PATH=_root_beside_the_service_user(home))
    xkxl = prefix / "bin/xkxl"
    assert "新增市（州）21 个" in _run([xkxl, "init-db"], cwd=REPO, env=env).stdout  # REPO: not imported
    _serve_and_check(prefix, _offline_env(home, **server_settings), home)
    assert "备份完成" in _run([xkxl, "backup", tmp_path / "b.tar"], cwd=home, env=env).stdout
    assert "发现问题 0 个" in _run([xkxl, "verify-files"], cwd=home, env=env).stdout
    assert " route=core.healthz " in (tmp_path / "app.log").read_text()
    _upgrade_while_serving(unpacked, prefix, home, env, _offline_env(home, **server_settings))
    timings["run"] = time.monotonic() - started
    print("bundle timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
