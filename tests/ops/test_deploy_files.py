"""The deployment files agree with the application and with each other, so that they cannot
drift apart: the upload limit of nginx and of the app, the request id, the unprivileged user
and the folders it may write, the log file and its rotation."""
from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from xkxl_intranet import create_app
from xkxl_intranet.core.requestlog import _INCOMING_ID
from xkxl_intranet.extensions import db
from xkxl_intranet.guards import UPLOAD_MARGIN, MiB, upload_body_limit
from xkxl_intranet.serving import make_server

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
STATIC = Path(__file__).resolve().parents[2] / "xkxl_intranet" / "static"


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _settings() -> dict[str, str]:
    lines = (DEPLOY / "xkxl.env").read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_the_app_limits_a_request_to_one_file_plus_form_data(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path)})
    # One file at the limit plus the form's few fields (guards.upload_body_limit).
    assert app.config["MAX_CONTENT_LENGTH"] == upload_body_limit(app.config["MAX_UPLOAD_MB"] * MiB)
    assert app.config["MAX_CONTENT_LENGTH"] < (app.config["MAX_UPLOAD_MB"] + 1) * MiB
    smaller = create_app({"TESTING": True, "SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path),
                          "MAX_UPLOAD_MB": 50})
    assert smaller.config["MAX_CONTENT_LENGTH"] == upload_body_limit(50 * MiB)


def test_nginx_lets_the_app_answer_an_upload_just_over_the_limit(tmp_path):
    nginx = (DEPLOY / "nginx-xkxl.conf").read_text(encoding="utf-8")
    limit_mb = create_app({"TESTING": True, "SECRET_KEY": "x",
                           "INSTANCE_PATH": str(tmp_path)}).config["MAX_UPLOAD_MB"]
    [body] = re.findall(r"^\s*client_max_body_size (\d+)m;", nginx, re.M)
    assert limit_mb + 1 < int(body) <= limit_mb + 20  # above the app's limit, not far above
    # Over client_max_body_size, nginx answers with the page the app ships, which states the
    # same limit, in the words of the app's own 413 page.
    assert re.search(r"^\s*error_page 413 /static/errors/413\.html;$", nginx, re.M)
    alias = re.search(r"location = /static/errors/413\.html \{[^}]*alias (\S+);[^}]*ssi on;", nginx)
    assert alias and alias[1] == "/opt/xkxl/current/static/errors/413.html"
    # The redirected request keeps its body: an inherited limit refused it again (HTTP/2 got
    # nginx's English page); the live test below sends it over HTTP/2.
    assert re.search(r"location = /static/errors/413\.html \{[^}]*client_max_body_size 0;", nginx)
    page = (STATIC / "errors" / "413.html").read_text(encoding="utf-8")
    assert f"上传的文件超过了系统允许的大小（每个文件不超过 {limit_mb} MB），未保存。" in page
    assert '<!--# echo var="request_id"' in page and "<title>文件过大</title>" in page
    assert "return 413" not in nginx  # no second wording of the page inside nginx
    assert "proxy_set_header X-Request-ID $request_id;" in nginx
    assert _INCOMING_ID.fullmatch("0123456789abcdef0123456789abcdef")  # nginx's $request_id form


def test_the_guide_states_the_upload_limits_the_code_derives(tmp_path):
    """Before: the guide said waitress's limit was "MAX_UPLOAD_MB + 1 MB (201 MB)"; it is the app's
    limit (one file plus the form's 64 KB) plus one byte. The numbers in the guide are the code's."""
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path),
                      "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    server = make_server(app, host="127.0.0.1", port=0)
    try:
        waitress_limit = server.adj.max_request_body_size
    finally:
        server.close()
    app_limit = upload_body_limit(app.config["MAX_UPLOAD_MB"] * MiB)
    guide = (DEPLOY.parent / "docs/deploy.md").read_text(encoding="utf-8")
    [stated] = [line for line in guide.split("配置要点", 1)[1].split("* ")
                if line.startswith("`client_max_body_size")]
    assert f"{app_limit:,} 字节" in stated and f"{waitress_limit:,} 字节" in stated, stated
    assert f"{app.config['MAX_UPLOAD_MB']} MiB + {UPLOAD_MARGIN // 1024} KiB" in stated
    assert "201 MB" not in guide and "MAX_UPLOAD_MB + 1` MB" not in guide


def test_the_service_runs_unprivileged_and_writes_only_its_folders():
    unit = (DEPLOY / "xkxl.service").read_text(encoding="utf-8")
    settings = _settings()
    assert re.search(r"^User=xkxl$", unit, re.M) and "ProtectSystem=strict" in unit
    writable = re.search(r"^ReadWritePaths=(.+)$", unit, re.M)[1].split()
    for needed in (settings["XKXL_INSTANCE_PATH"], str(Path(settings["XKXL_LOG_FILE"]).parent)):
        assert any(needed == w or needed.startswith(w + "/") for w in writable), needed
    assert "--host=127.0.0.1 --port=8000" in unit and "upstream xkxl_app" in (
        DEPLOY / "nginx-xkxl.conf").read_text() and "server 127.0.0.1:8000;" in (
        DEPLOY / "nginx-xkxl.conf").read_text()
    assert settings["XKXL_SECURE_COOKIES"] == "1"


def test_the_log_file_is_the_one_logrotate_rotates_for_six_months():
    rotate = (DEPLOY / "logrotate-xkxl").read_text(encoding="utf-8")
    folder = Path(_settings()["XKXL_LOG_FILE"]).parent
    assert f"{folder}/*.log {{" in rotate
    assert int(re.search(r"^\s*rotate (\d+)$", rotate, re.M)[1]) >= 183
    assert not re.search(r"^\s*copytruncate", rotate, re.M)  # the app reopens the file itself


def test_nginx_sends_the_built_archives_from_the_folder_the_app_builds_them_in():
    """X-Accel-Redirect: the app's prefix is nginx's internal location, whose alias is the folder
    the service writes its archives to (and may write: ReadWritePaths), made readable for nginx."""
    settings = _settings()
    nginx = (DEPLOY / "nginx-xkxl.conf").read_text(encoding="utf-8")
    prefix, folder = settings["XKXL_X_ACCEL_REDIRECT"], settings["XKXL_GENERATED_FOLDER"]
    location = re.search(r"location (\S+) \{\s*internal;\s*alias (\S+);\s*\}", nginx)
    assert location and location[1] == prefix and location[2].rstrip("/") == folder.rstrip("/")
    unit = (DEPLOY / "xkxl.service").read_text(encoding="utf-8")
    assert folder in re.search(r"^ReadWritePaths=(.+)$", unit, re.M)[1].split()
    install = (DEPLOY / "install.sh").read_text(encoding="utf-8")
    assert re.search(rf"install -d -o xkxl -g .*www-data.* -m 2750 {re.escape(folder)}$", install, re.M)


def test_the_documented_postgresql_address_builds_an_engine(tmp_path, monkeypatch):
    """DATABASE_URL as deploy/xkxl.env, README and deploy.md write it (no driver named) gives an
    engine on a fresh install, where only the driver the bundle ships is present; CI's address
    (scripts/test-postgres.sh) has the same form, so the suite on PostgreSQL goes through it."""
    [documented] = re.findall(r"^# DATABASE_URL=(postgresql://\S+)$",
                              (DEPLOY / "xkxl.env").read_text(encoding="utf-8"), re.M)
    guides = (DEPLOY.parent / "README.md").read_text(encoding="utf-8") + (
        DEPLOY.parent / "docs/deploy.md").read_text(encoding="utf-8")
    assert "DATABASE_URL=postgresql://user:pw@host/db" in guides
    assert "`postgresql://xkxl:密码@127.0.0.1:5432/xkxl`" in guides
    ci = (DEPLOY.parent / "scripts/test-postgres.sh").read_text(encoding="utf-8")
    assert re.search(r'^TEST_DATABASE_URL="postgresql://', ci, re.M)
    monkeypatch.setenv("DATABASE_URL", documented)
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path)})
    with app.app_context():
        engine = db.engine  # builds the engine and loads its driver, without connecting
        assert engine.url.get_backend_name() == "postgresql"
        assert (engine.url.host, engine.url.port, engine.url.database) == ("127.0.0.1", 5432, "xkxl")
        assert engine.dialect.dbapi is not None


@pytest.mark.skipif(os.geteuid() != 0 or _user_exists("xkxl"), reason="root, with no real user xkxl")
def test_the_admin_command_finds_runuser_outside_a_path_without_sbin(tmp_path):
    """`sudo xkxl …` switches to the service's user with runuser, which lives in /usr/sbin: a PATH
    without it (cron, a clean environment) still reaches it. An `id` that says the user exists; the
    real runuser then answers that it does not, which shows it was found and called."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "id").write_text('#!/bin/sh\ncase "$*" in\n  -u) echo 0 ;;\n  xkxl) exit 0 ;;\n'
                             '  *) exec /usr/bin/id "$@" ;;\nesac\n')
    (fake / "id").chmod(0o755)
    result = subprocess.run([str(DEPLOY / "xkxl"), "--help"], capture_output=True, text=True,
                            env={"PATH": f"{fake}:/usr/bin:/bin", "LANG": "C.UTF-8"})
    assert result.returncode != 0 and "not found" not in result.stderr
    assert re.search(r"runuser: user xkxl does not exist", result.stderr), result.stderr


def test_the_upgrade_switches_releases_only_when_the_service_starts():
    """install.sh stages a release; the guide's upgrade switches it in while the service is
    stopped, migrates, asks for the 申报书 to be read by the new reader, then starts; and the unit
    switches a staged release itself as it starts, never under a running service."""
    guide = (DEPLOY.parent / "docs/deploy.md").read_text(encoding="utf-8")
    upgrade = guide.split("## 5. 升级", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    steps = [line.split("#", 1)[0].strip() for line in upgrade.strip().splitlines()]
    order = ["sudo ./install.sh", "sudo systemctl stop xkxl", "sudo xkxl activate", "sudo xkxl init-db",
             "sudo xkxl read-forms", "sudo systemctl start xkxl"]
    found = [next(i for i, step in enumerate(steps) if re.search(rf"(^|&& ){re.escape(wanted)}( |$)", step))
             for wanted in order]
    assert found == sorted(found) and len(set(found)) == len(found), steps
    unit = (DEPLOY / "xkxl.service").read_text(encoding="utf-8")
    assert re.search(r"^ExecStartPre=\+/opt/xkxl/bin/xkxl activate$", unit, re.M)
    install = (DEPLOY / "install.sh").read_text(encoding="utf-8")
    assert re.search(r'mv -T "\$PREFIX/staged.new" "\$PREFIX/staged"', install)


def test_the_nightly_backup_prunes_whole_chains_with_the_apps_own_command():
    """Before: ``find -mtime +30 -delete`` would take a full backup from under the incremental
    ones of the nights after it. The unit calls ``backup-prune`` with the env file's settings."""
    unit = (DEPLOY / "xkxl-backup.service").read_text(encoding="utf-8")
    assert not re.search(r"^Exec.*(find|-delete)", unit, flags=re.M)
    assert re.search(r"^ExecStart=/opt/xkxl/bin/xkxl backup \$\{XKXL_BACKUP_DIR\}$", unit, flags=re.M)
    assert re.search(r"^ExecStartPost=/opt/xkxl/bin/xkxl backup-prune \$\{XKXL_BACKUP_DIR\} "
                     r"--keep-days \$\{XKXL_BACKUP_KEEP_DAYS\}$", unit, flags=re.M)
    env = (DEPLOY / "xkxl.env").read_text(encoding="utf-8")
    assert re.search(r"^XKXL_BACKUP_DIR=/var/backups/xkxl$", env, flags=re.M)
    assert re.search(r"^XKXL_BACKUP_KEEP_DAYS=\d+$", env, flags=re.M)
    commands = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"}).cli.list_commands(None)
    assert {"backup", "backup-prune", "restore"} <= set(commands)


# ---- the shipped nginx file, run by a real nginx -------------------------------------------------

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _h2_frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    return len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big") + payload


def _h2_literal(name: str, value: str) -> bytes:
    """A header "literal without indexing, new name", no Huffman coding (RFC 7541, 6.2.2)."""
    raw_name, raw_value = name.encode(), value.encode()
    return b"\x00" + bytes([len(raw_name)]) + raw_name + bytes([len(raw_value)]) + raw_value


def _post_over_h2c(port: int, path: str, declared: int) -> tuple[bytes, bytes]:
    """POST over HTTP/2 (cleartext, prior knowledge), as a browser sends an upload: the headers
    with the file's length, then its first 16 KB; nginx answers from the length. Returns the
    response's header block and body (the stream ends or is reset once nginx has answered)."""
    block = b"".join(_h2_literal(k, v) for k, v in (
        (":method", "POST"), (":scheme", "http"), (":path", path), (":authority", f"127.0.0.1:{port}"),
        ("content-type", "application/octet-stream"), ("content-length", str(declared))))
    found = {1: b"", 0: b""}
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + _h2_frame(4, 0, 0)  # preface, SETTINGS
                     + _h2_frame(1, 0x4, 1, block) + _h2_frame(0, 0, 1, b"x" * 16384))  # HEADERS, DATA
        pending = b""
        while chunk := conn.recv(65536):
            pending += chunk
            while len(pending) >= 9 and len(pending) >= 9 + int.from_bytes(pending[:3], "big"):
                length = int.from_bytes(pending[:3], "big")
                kind, flags, stream = pending[3], pending[4], int.from_bytes(pending[5:9], "big") & 0x7FFFFFFF
                payload, pending = pending[9:9 + length], pending[9 + length:]
                if kind == 4 and not flags & 0x1:
                    conn.sendall(_h2_frame(4, 0x1, 0))  # acknowledge the server's SETTINGS
                if stream == 1 and kind in found:
                    found[kind] += payload
                if kind == 7 or (stream == 1 and (kind == 3 or (kind in found and flags & 0x1))):
                    return found[1], found[0]  # GOAWAY, RST_STREAM or the end of the answer
    return found[1], found[0]


def _post_over_http11(port: int, path: str, declared: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall((f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {declared}\r\n"
                      "Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n").encode()
                     + b"x" * 16384)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return answer


@pytest.fixture
def shipped_nginx(tmp_path):
    """deploy/nginx-xkxl.conf run by Debian's nginx, changed only where a test must: addresses
    (HTTP/2 without TLS, "h2c", on one port, HTTP/1.1 on another; nginx 1.22 takes h2c on a
    port of its own), no certificate, folders under tmp_path and the repository's static files."""
    if NGINX is None:
        pytest.skip("nginx is not installed (apt-get install nginx)")
    h2c, plain, redirect, upstream = (_free_port() for _ in range(4))
    site = (DEPLOY / "nginx-xkxl.conf").read_text(encoding="utf-8")
    assert "listen 443 ssl http2;" in site and "listen 80;" in site
    site = site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{h2c} http2; listen 127.0.0.1:{plain};")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{redirect};")
    site = re.sub(r"^\s*ssl_\w+ .*$", "", site, flags=re.M)
    site = site.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream};")  # nobody there
    site = site.replace("/opt/xkxl/current/static/", f"{STATIC}/").replace("/var/log/nginx/", f"{tmp_path}/")
    site = site.replace("/var/cache/xkxl/", f"{tmp_path}/cache/")
    temp = tmp_path / "temp"
    temp.mkdir()
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""  # tmp_path is 0700
    temps = " ".join(f"{kind}_temp_path {temp}/{kind};" for kind in ("client_body", "proxy", "fastcgi",
                                                                      "uwsgi", "scgi"))
    config = tmp_path / "nginx.conf"
    config.write_text(f"{user}\ndaemon off;\npid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
                      f"events {{}}\nhttp {{\n{temps}\n{site}\n}}\n", encoding="utf-8")
    process = subprocess.Popen([NGINX, "-c", str(config), "-p", str(tmp_path)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", plain), timeout=1).close()
                socket.create_connection(("127.0.0.1", h2c), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(process.stdout.read().decode() if process.stdout else "") from None
                time.sleep(0.05)
        yield {"h2c": h2c, "http1": plain}
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_body_over_nginx_limit_gets_the_chinese_page_over_http2_and_http11(shipped_nginx, tmp_path):
    """Before: over HTTP/2 nginx answered its English "413 Request Entity Too Large": the page's
    location inherited client_max_body_size and refused the redirected request once more."""
    limit_mb = create_app({"TESTING": True, "SECRET_KEY": "x",
                           "INSTANCE_PATH": str(tmp_path / "i")}).config["MAX_UPLOAD_MB"]
    [nginx_mb] = re.findall(r"^\s*client_max_body_size (\d+)m;",
                            (DEPLOY / "nginx-xkxl.conf").read_text(encoding="utf-8"), re.M)
    over = int(nginx_mb) * MiB + 1  # declared, never sent: nginx answers from the length
    headers, body = _post_over_h2c(shipped_nginx["h2c"], "/files/applications/1/form/upload", over)
    assert b"\x08\x03413" in headers or b"\x48\x03413" in headers, headers  # ":status: 413", raw
    page = body.decode("utf-8")
    assert f"每个文件不超过 {limit_mb} MB" in page and "<title>文件过大</title>" in page, page
    assert re.search(r"请求编号：<code>[0-9a-f]{32}</code>", page) and "nginx/" not in page
    answer = _post_over_http11(shipped_nginx["http1"], "/files/applications/1/form/upload", over)
    assert answer.startswith(b"HTTP/1.1 413") and f"每个文件不超过 {limit_mb} MB".encode() in answer
    assert (tmp_path / "xkxl.access.log").read_text().count('" 413 ') == 2


def test_the_guide_disables_debian_s_default_nginx_site():
    """Debian's default site (default_server) otherwise answers http:// requests to the IP."""
    guide = (DEPLOY.parent / "docs/deploy.md").read_text(encoding="utf-8")
    nginx = guide.split("### 2.2 nginx", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    steps = [line.split("#", 1)[0].strip() for line in nginx.strip().splitlines()]
    removal = next(i for i, s in enumerate(steps) if re.fullmatch(r"sudo rm (-f )?/etc/nginx/sites-enabled/default", s))
    assert removal < next(i for i, s in enumerate(steps) if "systemctl reload nginx" in s)
    install = (DEPLOY / "install.sh").read_text(encoding="utf-8")
    assert "删除 /etc/nginx/sites-enabled/default" in install  # the first install's hint says so too
