"""The deployment files agree with the application and with each other, so that they cannot
drift apart: the upload limit of nginx and of the app, the request id, the unprivileged user
and the folders it may write, the log file and its rotation."""
from __future__ import annotations

import os
import pwd
import re
import subprocess
from pathlib import Path

import pytest

from xkxl_intranet import create_app
from xkxl_intranet.core.requestlog import _INCOMING_ID
from xkxl_intranet.extensions import db
from xkxl_intranet.guards import MiB, upload_body_limit

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
    page = (STATIC / "errors" / "413.html").read_text(encoding="utf-8")
    assert f"上传的文件超过了系统允许的大小（每个文件不超过 {limit_mb} MB），未保存。" in page
    assert '<!--# echo var="request_id"' in page and "<title>文件过大</title>" in page
    assert "return 413" not in nginx  # no second wording of the page inside nginx
    assert "proxy_set_header X-Request-ID $request_id;" in nginx
    assert _INCOMING_ID.fullmatch("0123456789abcdef0123456789abcdef")  # nginx's $request_id form


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


def test_the_guide_disables_debian_s_default_nginx_site():
    """Debian's default site (default_server) otherwise answers http:// requests to the IP."""
    guide = (DEPLOY.parent / "docs/deploy.md").read_text(encoding="utf-8")
    nginx = guide.split("### 2.2 nginx", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    steps = [line.split("#", 1)[0].strip() for line in nginx.strip().splitlines()]
    removal = next(i for i, s in enumerate(steps) if re.fullmatch(r"sudo rm (-f )?/etc/nginx/sites-enabled/default", s))
    assert removal < next(i for i, s in enumerate(steps) if "systemctl reload nginx" in s)
    install = (DEPLOY / "install.sh").read_text(encoding="utf-8")
    assert "删除 /etc/nginx/sites-enabled/default" in install  # the first install's hint says so too
