"""Incremental backups (issue 23, item 7): stored files go into the archive by the SHA-256 of their
content, a nightly backup into the backup folder adds only what its chain does not hold yet and
names the full backup it builds on, and a restore reads the chain and checks every hash.

Before: every night was a full copy (150 MB of uploads gave 150 MB a night)."""
from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from datetime import timedelta
from pathlib import Path

import pytest

from xkxl_intranet import clock
from xkxl_intranet.applications.materials import store_bytes
from xkxl_intranet.applications.models import Application
from xkxl_intranet.extensions import db
from xkxl_intranet.files.models import StoredFile
from xkxl_intranet.files.storage import path_for
from xkxl_intranet.ops import chain

from .conftest import clerk, file_digests, table_rows
from .test_backup_restore import backup, populate, restore
from helpers import SAMPLE_PDF, create_application, logged_in_client, monitored_health

START = clock.now().replace(year=2026, month=3, day=1, hour=2, minute=30, second=0, microsecond=0)


@pytest.fixture
def night():
    """The clock of the nightly timer: ``night(n)`` is 02:30 on the n-th night after START."""
    def at(nights: int, minutes: int = 0):
        clock.set_now(START + timedelta(days=nights, minutes=minutes))
    yield at
    clock.set_now(None)


def add_file(app, content: bytes, name: str = "新材料.pdf", application_id: int = 1) -> None:
    with app.app_context():
        store_bytes(clerk(), SAMPLE_PDF + content, name, category="evidence2",
                    application=db.session.get(Application, application_id))
        db.session.commit()


def archives(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.endswith(".tar"))


def manifest_of(archive: Path) -> dict:
    with tarfile.open(archive) as tar:
        return json.loads(tar.extractfile("manifest.json").read())


def blob_members(archive: Path) -> list[str]:
    with tarfile.open(archive) as tar:
        return [n for n in tar.getnames() if n.startswith("blobs/")]


def test_a_nightly_backup_adds_only_new_files_and_names_the_full_one(app, tmp_path, night):
    populate(app)
    add_file(app, b"% a scan\n" + os.urandom(1_000_000), "盖章扫描件.pdf")
    folder = tmp_path / "backups"
    folder.mkdir()
    night(0)
    first = backup(app, folder)
    assert first.exit_code == 0, first.output
    [full] = archives(folder)
    assert full.name.endswith("-full.tar") and "完整备份完成" in first.output
    full_blobs = blob_members(full)

    night(1)
    add_file(app, b"% night 1\n" + os.urandom(20_000))
    second = backup(app, folder)
    assert second.exit_code == 0, second.output
    incremental = archives(folder)[-1]
    assert incremental.name.endswith("-incr.tar")
    assert f"基于 {full.name}，完整备份为 {full.name}" in second.output
    assert f"新写入 1 个上传文件，{len(full_blobs)} 个已在备份链中" in second.output
    manifest = manifest_of(incremental)
    full_sha = hashlib.sha256(full.read_bytes()).hexdigest()
    assert manifest["kind"] == "incremental"
    assert manifest["chain"] == [{"name": full.name, "sha256": full_sha, "size": full.stat().st_size,
                                  "created_at": manifest_of(full)["created_at"]}]
    assert len(blob_members(incremental)) == 1 and len(manifest["uploads"]) == len(manifest_of(full)["uploads"]) + 1
    # the whole database again, but only the new file: far smaller than a full copy
    assert incremental.stat().st_size < full.stat().st_size / 2
    assert (folder / (incremental.name + ".sha256")).read_text().startswith(
        hashlib.sha256(incremental.read_bytes()).hexdigest())

    night(2)  # nothing new: no file written, and the chain goes on from the newest archive
    third = backup(app, folder)
    assert "新写入 0 个上传文件" in third.output and f"基于 {incremental.name}，完整备份为 {full.name}" in third.output
    assert [link["name"] for link in manifest_of(archives(folder)[-1])["chain"]] == [full.name, incremental.name]


def test_restore_takes_the_chain_and_gives_back_every_file(app, restored_app, tmp_path, night):
    populate(app)
    folder = tmp_path / "backups"
    folder.mkdir()
    night(0)
    backup(app, folder)
    night(1)
    add_file(app, b"% night 1\n")
    backup(app, folder)
    night(2)
    add_file(app, b"% night 2\n")
    with app.app_context():  # a file deleted after the full backup stays deleted
        gone = db.session.scalars(db.select(StoredFile).where(StoredFile.category == "evidence1")).one()
        db.session.delete(gone)
        db.session.commit()
    result = backup(app, folder)
    assert result.exit_code == 0, result.output
    full, first, last = archives(folder)

    restored = restore(restored_app, last)
    assert restored.exit_code == 0, restored.output
    assert f"增量备份，基于完整备份 {full.name} 及其后的 1 个增量备份" in restored.output
    assert "按备份链恢复，另读取并核对了" in restored.output and "发现问题 0 个" in restored.output
    assert table_rows(restored_app) == table_rows(app)
    assert file_digests(restored_app) == file_digests(app)


def test_the_same_content_twice_is_one_blob_and_restores_as_two_files(app, restored_app, tmp_path):
    first = create_application(app, "chengdu")
    second = create_application(app, "chengdu")
    same = "% the same 营业执照\n".encode()
    add_file(app, same, "营业执照.pdf", first)
    add_file(app, same, "营业执照.pdf", second)
    archive = tmp_path / "b.tar"
    assert backup(app, archive).exit_code == 0
    manifest = manifest_of(archive)
    digest = hashlib.sha256(SAMPLE_PDF + same).hexdigest()
    assert list(manifest["uploads"].values()).count(digest) == 2
    assert blob_members(archive).count(f"blobs/{digest[:2]}/{digest[2:]}") == 1
    assert restore(restored_app, archive).exit_code == 0
    assert file_digests(restored_app) == file_digests(app)


def _chain(app, tmp_path, night) -> tuple[Path, Path, Path]:
    populate(app, applications=1)
    folder = tmp_path / "backups"
    folder.mkdir()
    night(0)
    backup(app, folder)
    night(1)
    add_file(app, b"% night 1\n")
    backup(app, folder)
    full, incremental = archives(folder)
    return folder, full, incremental


def _nothing_restored(restored_app) -> bool:
    instance = Path(restored_app.instance_path)
    uploads = Path(restored_app.config["UPLOAD_FOLDER"])
    return not (instance / "xkxl.sqlite3").exists() and not [
        p for p in uploads.rglob("*") if p.is_file() and ".tmp" not in p.parts]


def test_an_incremental_backup_without_its_full_one_is_refused_by_name(app, restored_app, tmp_path, night):
    folder, full, incremental = _chain(app, tmp_path, night)
    elsewhere = tmp_path / "offline"
    elsewhere.mkdir()
    full.rename(elsewhere / full.name)
    result = restore(restored_app, incremental)
    assert result.exit_code != 0
    assert f"增量备份依赖的 {full.name}" in result.output and "--chain-dir" in result.output
    assert _nothing_restored(restored_app)
    # ... found where the operator says it is
    result = restore(restored_app, incremental, "--chain-dir", str(elsewhere))
    assert result.exit_code == 0, result.output
    assert file_digests(restored_app) == file_digests(app)


def test_a_damaged_or_different_full_backup_stops_the_restore(app, restored_app, tmp_path, night):
    folder, full, incremental = _chain(app, tmp_path, night)
    original = full.read_bytes()
    with tarfile.open(full) as tar:
        member = next(m for m in tar.getmembers() if m.name.startswith("blobs/"))
    damaged = bytearray(original)
    damaged[member.offset_data + 3] ^= 0xFF
    full.write_bytes(bytes(damaged))
    result = restore(restored_app, incremental)
    assert result.exit_code != 0 and f"备份链中的 {full.name} 与增量备份记录的不是同一个文件" in result.output
    assert _nothing_restored(restored_app)

    # a full backup of the same name made later (another chain) is not the one it builds on
    full.unlink()
    other = tmp_path / "other"
    other.mkdir()
    backup(app, other / full.name, "--kind", "full")
    os.replace(other / full.name, full)
    result = restore(restored_app, incremental)
    assert result.exit_code != 0 and "不是同一个文件" in result.output
    assert _nothing_restored(restored_app)


def test_a_blob_whose_content_does_not_match_its_name_is_refused(app, restored_app, tmp_path):
    """A blob is its hash: an archive rewritten with another content under the name (and a
    manifest to match) still does not restore."""
    populate(app, applications=1)
    archive = tmp_path / "b.tar"
    backup(app, archive)
    forged = tmp_path / "forged.tar"
    with tarfile.open(archive) as source, tarfile.open(forged, "w") as target:
        manifest = json.loads(source.extractfile("manifest.json").read())
        blob = next(n for n in source.getnames() if n.startswith("blobs/"))
        for member in source.getmembers():
            if member.name in ("manifest.json", "SHA256SUMS"):
                continue
            data = source.extractfile(member).read()
            if member.name == blob:
                data = b"%PDF-1.4 forged\n"
                manifest["files"][blob] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            info = tarfile.TarInfo(member.name)
            info.size = len(data)
            target.addfile(info, io.BytesIO(data))
        data = json.dumps(manifest).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        target.addfile(info, io.BytesIO(data))
    result = restore(restored_app, forged)
    assert result.exit_code != 0 and f"{blob} 的内容与其 SHA-256 名称不符" in result.output
    assert _nothing_restored(restored_app)


def test_a_new_full_backup_each_week_and_on_request(app, tmp_path, night):
    populate(app, applications=1)
    folder = tmp_path / "backups"
    folder.mkdir()
    kinds = []
    for n in range(9):
        night(n)
        assert backup(app, folder).exit_code == 0
        kinds.append(archives(folder)[-1].name.rsplit("-", 1)[1])
    assert kinds == ["full.tar"] + ["incr.tar"] * 6 + ["full.tar", "incr.tar"]
    night(9)
    assert "完整备份完成" in backup(app, folder, "--kind", "full").output
    night(10)
    empty = tmp_path / "empty"
    empty.mkdir()
    refused = backup(app, empty, "--kind", "incremental")
    assert refused.exit_code != 0 and "没有可作为基础的备份" in refused.output


def test_a_broken_chain_starts_a_new_full_backup(app, tmp_path, night):
    folder, full, incremental = _chain(app, tmp_path, night)
    full.unlink()
    night(2)
    result = backup(app, folder)
    assert result.exit_code == 0 and "完整备份完成" in result.output


def test_prune_deletes_whole_chains_only(app, tmp_path, night):
    populate(app, applications=1)
    folder = tmp_path / "backups"
    folder.mkdir()
    for n in range(40):  # 40 nights: chains start on nights 0, 7, 14, 21, 28, 35
        night(n)
        assert backup(app, folder).exit_code == 0
    night(40)
    result = app.test_cli_runner().invoke(args=["backup-prune", str(folder), "--keep-days", "30"])
    assert result.exit_code == 0, result.output
    left = archives(folder)
    # the chain of night 0 ends on night 6, older than 30 days: gone whole; the chain of night 7
    # still has night 13 within 30 days, so its full backup of night 7 stays
    assert "已删除备份链" in result.output and len(left) == 33
    assert left[0].name.endswith("-full.tar") and left[0].name.startswith(f"xkxl-backup-{START + timedelta(days=7):%Y%m%d}")
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [p.name for p in left] + [p.name + ".sha256" for p in left] + [p.name + ".manifest.json" for p in left])
    # every chain that is left restores: each incremental's full one is still there
    for archive in left:
        chain = manifest_of(archive)["chain"]
        assert all((folder / link["name"]).exists() for link in chain)


def test_a_format_1_archive_still_restores(app, restored_app, tmp_path):
    """Archives written before incremental backups stored each file under its storage name."""
    populate(app, applications=1)
    archive = tmp_path / "b.tar"
    backup(app, archive)
    old = tmp_path / "old.tar"
    with tarfile.open(archive) as source, tarfile.open(old, "w") as target:
        manifest = json.loads(source.extractfile("manifest.json").read())
        blobs = {m.name: source.extractfile(m).read() for m in source.getmembers() if m.name.startswith("blobs/")}
        files = {}
        for member in source.getmembers():
            if member.name.startswith(("blobs/", "manifest.json", "SHA256SUMS")):
                continue
            data = source.extractfile(member).read()
            files[member.name] = data
        for name, digest in manifest["uploads"].items():
            files[f"uploads/{name[:2]}/{name[2:]}"] = blobs[f"blobs/{digest[:2]}/{digest[2:]}"]
        manifest = {key: value for key, value in manifest.items() if key not in ("uploads", "chain", "kind")}
        manifest["format_version"] = 1
        manifest["files"] = {n: {"size": len(d), "sha256": hashlib.sha256(d).hexdigest()} for n, d in files.items()}
        for name, data in [*files.items(), ("manifest.json", json.dumps(manifest).encode())]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            target.addfile(info, io.BytesIO(data))
    result = restore(restored_app, old)
    assert result.exit_code == 0, result.output
    assert file_digests(restored_app) == file_digests(app)
    with restored_app.app_context():
        assert all(path_for(f.storage_name, Path(restored_app.config["UPLOAD_FOLDER"])).is_file()
                   for f in db.session.scalars(db.select(StoredFile)))


def test_healthz_counts_the_backup_folders_free_space_and_the_newest_backups_age(app, tmp_path, night, monkeypatch):
    """Before: /healthz looked at the uploads folder only; a backup disk filling up, or a timer
    that stopped running, stayed silent until the restore was needed."""
    populate(app, applications=1)
    folder = tmp_path / "backups"
    folder.mkdir()
    app.config["BACKUP_DIR"] = str(folder)
    client = app.test_client()
    night(0)
    health = monitored_health(app, client)
    assert health.status_code == 200 and health.get_json()["backups"]["state"] == "none"
    backup(app, folder)
    night(0, minutes=60)
    body = monitored_health(app, client).get_json()
    assert body["status"] == "ok" and body["backups"]["state"] == "ok"
    assert body["backups"]["archives"] == 1 and body["backups"]["newest_kind"] == "full"
    [full] = archives(folder)
    assert body["backups"]["min_free_bytes"] == int(full.stat().st_size * 1.1)

    # the disk cannot take the next full backup
    monkeypatch.setattr(chain, "disk_usage", lambda path: (full.stat().st_size, 10 * full.stat().st_size))
    response = monitored_health(app, client)
    assert response.status_code == 503 and response.get_json()["status"] == "degraded"
    assert response.get_json()["backups"]["state"] == "low_space"
    page = logged_in_client(app, "admin").get("/admin/system").get_data(as_text=True)
    assert "备份目录" in page and "剩余空间不足" in page and "下一次完整备份所需" in page
    monkeypatch.undo()

    night(1, minutes=60 * 3)  # 27 hours later, no backup since: last night's did not run
    response = monitored_health(app, client)
    assert response.status_code == 503 and response.get_json()["backups"]["state"] == "stale"
    assert response.get_json()["backups"]["newest_age_hours"] == 27.0

    app.config["BACKUP_DIR"] = str(tmp_path / "not-mounted")
    assert monitored_health(app, client).get_json()["backups"] == {"state": "missing"}
