"""``flask backup`` and ``flask restore``: one archive with a manifest, every hash checked before
anything is written, refusals for a non-empty or live instance, and a round trip that gives
back every application, every row and every file."""
from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from xkxl_intranet.applications.materials import store_bytes
from xkxl_intranet.applications.models import Application
from xkxl_intranet.audit.chain import ensure_key_file
from xkxl_intranet.audit.models import AuditEvent
from xkxl_intranet.extensions import db
from xkxl_intranet.files.models import StoredFile
from xkxl_intranet.files.storage import path_for

from .conftest import POSTGRES_URL, clerk, file_digests, table_rows
from helpers import SAMPLE_PDF, create_application, logged_in_client

REPO = Path(__file__).resolve().parents[2]


def backup(app, dest, *args):
    return app.test_cli_runner().invoke(args=["backup", str(dest), *args])


def restore(app, archive, *args):
    return app.test_cli_runner().invoke(args=["restore", str(archive), *args])


def populate(app, applications: int = 3) -> None:
    """Applications with a 申报书 (one with a replaced version) and evidence, and a 汇总表 scan."""
    ids = [create_application(app, "chengdu") for _ in range(applications)]
    ids.append(create_application(app, "mianyang"))
    with app.app_context():
        user = clerk()
        application = db.session.get(Application, ids[0])
        store_bytes(user, SAMPLE_PDF + b"% v2\n", "申报书（修改后）.pdf", category="form", application=application)
        store_bytes(user, SAMPLE_PDF + b"% evidence\n", "设备清单.pdf", category="evidence1",
                    application=application)
        db.session.commit()


def only_archive(folder: Path) -> Path:
    [archive] = [p for p in folder.iterdir() if p.name.endswith(".tar")]
    return archive


def test_backup_then_restore_gives_back_every_row_and_file(app, restored_app, tmp_path):
    populate(app)
    folder = tmp_path / "backups"
    folder.mkdir()
    result = backup(app, folder)
    assert result.exit_code == 0, result.output
    archive = only_archive(folder)
    assert archive.name.startswith("xkxl-backup-") and "备份完成" in result.output
    assert "4 份申报" in result.output and "数据库快照" in result.output
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600  # password hashes and the secret key
    sidecar = (folder / (archive.name + ".sha256")).read_text()
    assert sidecar == f"{hashlib.sha256(archive.read_bytes()).hexdigest()}  {archive.name}\n"
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no partial, no work folder
    assert not (Path(app.config["UPLOAD_FOLDER"]) / ".backup-pins").exists() or \
        not any((Path(app.config["UPLOAD_FOLDER"]) / ".backup-pins").iterdir())

    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())
        sums = tar.extractfile("SHA256SUMS").read().decode()
        for member, entry in manifest["files"].items():
            data = tar.extractfile(member).read()
            assert hashlib.sha256(data).hexdigest() == entry["sha256"] and len(data) == entry["size"]
            assert f"{entry['sha256']}  {member}\n" in sums
    database = "database.pgdump" if POSTGRES_URL else "database.sqlite3"
    assert names[0] == database and names[-2:] == ["manifest.json", "SHA256SUMS"]
    assert manifest["engine"] == ("postgresql" if POSTGRES_URL else "sqlite")
    assert manifest["counts"]["application"] == 4 and manifest["revision"]
    # every stored file by the SHA-256 of its content: one blob per content, named by it
    assert len(manifest["uploads"]) == manifest["counts"]["stored_file"] == 6
    blobs = sorted(n for n in names if n.startswith("blobs/"))
    assert blobs == sorted(f"blobs/{d[:2]}/{d[2:]}" for d in set(manifest["uploads"].values()))
    assert manifest["kind"] == "full" and manifest["chain"] == [] and manifest["format_version"] == 2

    result = restore(restored_app, archive)
    assert result.exit_code == 0, result.output
    assert "备份校验通过" in result.output and "已恢复" in result.output
    assert "发现问题 0 个" in result.output
    assert table_rows(restored_app) == table_rows(app)
    assert file_digests(restored_app) == file_digests(app)
    # The restored instance works: a clerk sees the city's applications.
    page = logged_in_client(restored_app, "chengdu").get("/applications/")
    assert page.status_code == 200


def test_compressed_archive(app, restored_app, tmp_path):
    populate(app, applications=1)
    archive = tmp_path / "nightly.tar.gz"
    assert backup(app, archive).exit_code == 0
    with tarfile.open(archive, "r:gz") as tar:
        assert "manifest.json" in tar.getnames()
    result = restore(restored_app, archive)
    assert result.exit_code == 0, result.output
    assert file_digests(restored_app) == file_digests(app)


def test_backup_refuses_to_overwrite_or_guess(app, tmp_path):
    existing = tmp_path / "x.tar"
    existing.write_bytes(b"keep me")
    result = backup(app, existing)
    assert result.exit_code != 0 and "已存在，不会覆盖" in result.output
    assert existing.read_bytes() == b"keep me"
    assert "须以 .tar、.tar.gz 或 .tgz 结尾" in backup(app, tmp_path / "x.zip").output
    assert "不存在" in backup(app, tmp_path / "no" / "such" / "x.tar").output


def test_a_file_missing_from_the_storage_is_named_and_the_backup_fails(app, restored_app, tmp_path):
    populate(app, applications=1)
    with app.app_context():
        lost = db.session.scalars(db.select(StoredFile).order_by(StoredFile.id)).first()
        path_for(lost.storage_name, Path(app.config["UPLOAD_FOLDER"])).unlink()
        name = lost.storage_name
    result = backup(app, tmp_path / "b.tar")
    assert result.exit_code == 1
    assert f"存储中缺失，未能备份：uploads/{name[:2]}/{name[2:]}" in result.output
    restored = restore(restored_app, tmp_path / "b.tar")
    assert restored.exit_code == 1 and "缺失：文件" in restored.output


def _flip_a_byte_of(archive: Path, member: str) -> None:
    with tarfile.open(archive) as tar:
        offset = tar.getmember(member).offset_data
    data = bytearray(archive.read_bytes())
    data[offset + 3] ^= 0xFF
    archive.write_bytes(bytes(data))


def test_a_damaged_archive_is_refused_before_anything_is_written(app, restored_app, tmp_path):
    populate(app, applications=1)
    archive = tmp_path / "b.tar"
    backup(app, archive)
    with tarfile.open(archive) as tar:
        member = next(n for n in tar.getnames() if n.startswith("blobs/"))
    _flip_a_byte_of(archive, member)
    result = restore(restored_app, archive)
    assert result.exit_code != 0
    assert f"备份文件校验失败，实例目录未被改动：{member} 的 SHA-256 与清单不符" in result.output
    instance = Path(restored_app.instance_path)
    uploads = Path(restored_app.config["UPLOAD_FOLDER"])
    assert not (instance / "xkxl.sqlite3").exists()
    assert not [p for p in uploads.rglob("*") if p.is_file()]
    assert not [p for p in instance.iterdir() if p.name.startswith(".xkxl-restore")]

    truncated = tmp_path / "truncated.tar"
    truncated.write_bytes(archive.read_bytes()[:4096])
    result = restore(restored_app, truncated)
    assert result.exit_code != 0 and ("不完整" in result.output or "无法读取" in result.output)


def test_a_missing_archive_is_named(restored_app, tmp_path):
    result = restore(restored_app, tmp_path / "nowhere.tar")
    assert result.exit_code != 0 and f"备份文件（ARCHIVE）{tmp_path / 'nowhere.tar'} 不存在" in result.output


def test_foreign_content_in_an_archive_is_refused(restored_app, tmp_path):
    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as tar:
        info = tarfile.TarInfo("../../etc/cron.d/x")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"bad"))
    result = restore(restored_app, archive)
    assert result.exit_code != 0 and "不认识的内容：../../etc/cron.d/x" in result.output


def test_restore_refuses_an_instance_with_data_unless_forced_and_keeps_what_it_replaces(
        app, restored_app, tmp_path):
    populate(app, applications=1)
    archive = tmp_path / "b.tar"
    backup(app, archive)
    assert restore(restored_app, archive).exit_code == 0
    # Later work in the restored instance: a new file that the backup does not have.
    with restored_app.app_context():
        user = clerk()
        store_bytes(user, SAMPLE_PDF + b"% later\n", "后来的.pdf", category="evidence2",
                    application=db.session.get(Application, 1))
        db.session.commit()

    # ... and a document generated from it: a version of a row that the restored data will reach again
    assert logged_in_client(restored_app, "chengdu").get("/applications/1/form.docx").status_code == 200
    generated = Path(restored_app.config["GENERATED_FOLDER"])
    assert [p for p in generated.iterdir() if p.suffix == ".docx"]

    refused = restore(restored_app, archive)
    assert refused.exit_code != 0 and "目标实例不是空的" in refused.output and "--force" in refused.output

    forced = restore(restored_app, archive, "--force")
    assert forced.exit_code == 0, forced.output
    assert "原有数据另存为" in forced.output
    assert "已清除恢复前生成的 1 个" in forced.output and not [p for p in generated.iterdir() if p.is_file()]
    assert table_rows(restored_app) == table_rows(app)
    instance = Path(restored_app.instance_path)
    aside = [p for p in instance.iterdir() if p.name.startswith("uploads-before-restore-")]
    assert len(aside) == 1 and len([p for p in aside[0].rglob("*") if p.is_file()]) == 1
    if not POSTGRES_URL:
        kept_db = [p for p in instance.iterdir() if ".sqlite3.before-restore-" in p.name]
        assert len(kept_db) == 1


def test_restore_refuses_a_live_instance(app, restored_app, tmp_path):
    """A server (any process of the app) on the folder holds it; restore will not race it."""
    populate(app, applications=1)
    archive = tmp_path / "b.tar"
    backup(app, archive)
    instance = Path(restored_app.instance_path)
    server = subprocess.Popen(
        [sys.executable, "-c", "import sys, xkxl_intranet as x; x.create_app(); print('ready', flush=True); "
         "sys.stdin.read()"],
        cwd=REPO, env=dict(os.environ, XKXL_INSTANCE_PATH=str(instance)),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline().strip() == "ready"
        result = restore(restored_app, archive)
        assert result.exit_code != 0 and "正在被使用" in result.output and "systemctl stop" in result.output
        assert not (instance / "xkxl.sqlite3").exists()
        forced = restore(restored_app, archive, "--force")
        assert forced.exit_code == 0, forced.output
        assert "请立即重启服务" in forced.output
    finally:
        server.stdin.close()
        server.wait(timeout=10)
    assert restore(restored_app, archive).exit_code != 0  # no longer live, but not empty


@pytest.mark.skipif(bool(POSTGRES_URL), reason="the engine of the test run decides the archive's")
def test_a_backup_of_another_engine_is_refused_by_name(restored_app, tmp_path):
    archive = tmp_path / "pg.tar"
    with tarfile.open(archive, "w") as tar:
        info = tarfile.TarInfo("database.pgdump")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"PGDM"))
    result = restore(restored_app, archive)
    assert result.exit_code != 0 and "这是 PostgreSQL 数据库的备份" in result.output


def test_the_instance_config_travels_with_the_backup(app, restored_app, tmp_path):
    source_config = Path(app.instance_path) / "config.py"
    source_config.write_text("SECRET_KEY = 'from-the-old-server'\nMAX_UPLOAD_MB = 300\n")
    archive = tmp_path / "b.tar"
    assert backup(app, archive).exit_code == 0
    target_config = Path(restored_app.instance_path) / "config.py"
    target_config.write_text("# 本机设置\nMAX_UPLOAD_MB = 100\n")
    result = restore(restored_app, archive)
    assert result.exit_code == 0, result.output
    assert target_config.read_text() == source_config.read_text()
    assert stat.S_IMODE(target_config.stat().st_mode) == 0o600
    [kept] = [p for p in target_config.parent.iterdir() if p.name.startswith("config.py.before-restore-")]
    assert kept.read_text() == "# 本机设置\nMAX_UPLOAD_MB = 100\n" and f"原有数据另存为：{kept}" in result.output


@pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL: other sessions on the target database")
def test_restore_refuses_a_postgres_database_others_are_connected_to(app, restored_app, tmp_path):
    archive = tmp_path / "b.tar"
    assert backup(app, archive).exit_code == 0
    engine = create_engine(restored_app.config["SQLALCHEMY_DATABASE_URI"], poolclass=NullPool)
    other = engine.connect()  # another server on another host, say
    try:
        result = restore(restored_app, archive)
        assert result.exit_code != 0 and "其他连接使用" in result.output
    finally:
        other.close()
        engine.dispose()
    watcher = create_engine(restored_app.config["SQLALCHEMY_DATABASE_URI"], poolclass=NullPool)
    with watcher.connect() as connection:  # the closed session's backend ends asynchronously
        for _ in range(100):
            if not connection.scalar(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND backend_type = 'client backend'")):
                break
            time.sleep(0.1)
    watcher.dispose()
    result = restore(restored_app, archive)
    assert result.exit_code == 0, result.output


def test_a_file_that_is_not_a_database_is_kept_not_overwritten(app, restored_app, tmp_path):
    if POSTGRES_URL:
        pytest.skip("SQLite file")
    archive = tmp_path / "b.tar"
    assert backup(app, archive).exit_code == 0
    database = Path(restored_app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    database.write_bytes(b"notes, not a database")
    assert "已有数据" in restore(restored_app, archive).output
    assert restore(restored_app, archive, "--force").exit_code == 0
    [kept] = database.parent.glob("xkxl.sqlite3.before-restore-*")
    assert kept.read_bytes() == b"notes, not a database"


def test_the_audit_chain_key_travels_with_the_backup_and_the_trail_verifies(app, restored_app, tmp_path):
    populate(app, applications=1)
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0  # makes the key if none yet
    source_key = Path(app.config["AUDIT_KEY_FILE"])
    archive = tmp_path / "b.tar"
    assert backup(app, archive).exit_code == 0
    with tarfile.open(archive) as tar:
        assert tar.extractfile("instance/audit-chain.key").read() == source_key.read_bytes()
    result = restore(restored_app, archive)
    assert result.exit_code == 0, result.output
    target_key = Path(restored_app.config["AUDIT_KEY_FILE"])
    assert target_key.read_bytes() == source_key.read_bytes() and stat.S_IMODE(target_key.stat().st_mode) == 0o600
    verified = restored_app.test_cli_runner().invoke(args=["audit", "verify"])
    assert verified.exit_code == 0 and "散列链完整" in verified.output, verified.output


def test_restore_refuses_a_running_server_even_when_forced(app, restored_app, tmp_path):
    """Before: --force replaced the database under a running server, which went on writing into
    the set-aside file until restarted. Now a server on the folder stops every restore."""
    populate(app, applications=1)
    archive = tmp_path / "b.tar"
    backup(app, archive)
    instance = Path(restored_app.instance_path)
    # The server serves only a schema at head (issue 23's guard): the target's tables first.
    assert restored_app.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    server = subprocess.Popen(
        [sys.executable, "-m", "xkxl_intranet.serving", "--port=0", "--workers=0", "--processes=1"],
        cwd=REPO, env=dict(os.environ, XKXL_INSTANCE_PATH=str(instance),
                           DATABASE_URL=restored_app.config["SQLALCHEMY_DATABASE_URI"]),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert "Serving on" in server.stdout.readline()
        forced = restore(restored_app, archive, "--force")
        assert forced.exit_code != 0 and "服务正在运行" in forced.output
        assert "systemctl stop xkxl" in forced.output and "Ctrl+C" in forced.output
        assert "已恢复" not in forced.output and not list(instance.glob("*before-restore*"))
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert restore(restored_app, archive, "--force").exit_code == 0  # stopped: the restore goes ahead


def _made_on_first_start(restored_app) -> Path:
    """The key the app makes when the (empty) instance is first opened (what create_app's first
    start or any command's does): a key of its own, not the backup's."""
    key = Path(restored_app.config["AUDIT_KEY_FILE"])
    with restored_app.app_context():
        ensure_key_file(key)
    return key


def test_a_key_the_empty_instance_made_itself_is_neither_kept_nor_reported(app, restored_app, tmp_path):
    """A restore drill into an empty instance reported 「原有数据另存为 …audit-chain.key.before-restore-…」
    for the key the command had made moments before: it sealed nothing, so it is just replaced."""
    populate(app, applications=1)
    archive = tmp_path / "b.tar"
    assert backup(app, archive).exit_code == 0
    key = _made_on_first_start(restored_app)
    assert key.read_bytes() != Path(app.config["AUDIT_KEY_FILE"]).read_bytes()
    result = restore(restored_app, archive)
    assert result.exit_code == 0, result.output
    assert "原有数据另存为" not in result.output and not list(key.parent.glob("*before-restore*"))
    assert key.read_bytes() == Path(app.config["AUDIT_KEY_FILE"]).read_bytes()


def test_a_key_that_sealed_rows_here_is_kept_and_reported(app, restored_app, tmp_path):
    populate(app, applications=1)
    archive = tmp_path / "b.tar"
    assert backup(app, archive).exit_code == 0
    key = _made_on_first_start(restored_app)
    own = key.read_bytes()
    assert restored_app.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    with restored_app.app_context():
        db.session.add(AuditEvent(action="login", summary="本机的一条记录"))  # sealed with this key
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    result = restore(restored_app, archive, "--force")
    assert result.exit_code == 0, result.output
    [kept] = key.parent.glob("audit-chain.key.before-restore-*")
    assert kept.read_bytes() == own and f"原有数据另存为：{kept}" in result.output
