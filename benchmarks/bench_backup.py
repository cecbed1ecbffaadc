"""Backup and restore of a full-size instance, side by side with plain ``tar`` of the same folder.

Set-up: 21 × 40 applications and FILES stored files (256 KiB to 4 MiB, incompressible, ≈ 0.5 GiB).
Measured in one run, the files warm in the page cache for every contender (so the figures are
the work each one adds, not the disk):

- ``tar cf`` of the instance folder: what "back up instance/" used to mean (not a snapshot);
- ``flask backup`` to ``.tar``: database snapshot, pins, every file hashed into the manifest;
- ``flask backup`` to ``.tar.gz``;
- ``tar xf`` of the plain archive vs ``flask restore`` (every hash checked, then verify-files'
  own pass over every file);
- the nightly backup into a folder: a full one, then NEW_FILES new files (a busy day before the
  deadline) and the next night's incremental one beside a second full one; its size and time
  against the full's, and a restore of the chain against a restore of the full archive.

Prints seconds, MB/s and the ratio to tar; not a test.

Run: .venv/bin/python benchmarks/bench_backup.py
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import fill_applications, make_app, table  # noqa: E402

from xkxl_intranet import clock, create_app  # noqa: E402
from xkxl_intranet.applications.models import Application  # noqa: E402
from xkxl_intranet.clock import now  # noqa: E402
from xkxl_intranet.extensions import db  # noqa: E402
from xkxl_intranet.filenames import random_storage_name, storage_relpath  # noqa: E402
from xkxl_intranet.files.cli import verify_storage  # noqa: E402
from xkxl_intranet.files.models import StoredFile  # noqa: E402
from xkxl_intranet.ops.backup import make_backup  # noqa: E402
from xkxl_intranet.ops.restore import restore_backup  # noqa: E402

FILES = 400
NEW_FILES = 8  # a day's new uploads: 2 % of the files
NIGHTS = 30  # the retention the deploy guide ships (XKXL_BACKUP_KEEP_DAYS)
SIZES = (256 * 1024, 512 * 1024, 1024 * 1024, 2 * 1024 * 1024, 4 * 1024 * 1024)


def fill_files(app, files: int = FILES, first: int = 0) -> int:
    total = 0
    root = Path(app.config["UPLOAD_FOLDER"])
    with app.app_context():
        applications = db.session.scalars(db.select(Application).order_by(Application.id)).all()
        block = os.urandom(4 * 1024 * 1024)
        for n in range(first, first + files):
            name = random_storage_name()
            path = root / storage_relpath(name)
            path.parent.mkdir(parents=True, exist_ok=True)
            data = n.to_bytes(4, "big") + block[4:SIZES[n % len(SIZES)]]
            path.write_bytes(data)
            total += len(data)
            application = applications[n % len(applications)]
            db.session.add(StoredFile(
                round_id=application.round_id, city_id=application.city_id, application_id=application.id,
                category=f"evidence{1 + n % 6}", original_name=f"证明材料{n:03d}.pdf", storage_name=name,
                size=len(data), sha256=hashlib.sha256(data).hexdigest(), kind="pdf",
                mime="application/pdf", uploaded_at=now()))
        db.session.commit()
        db.engine.dispose()
    return total


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def incremental_nights(app, url: str, uploads: Path, work: Path, restored, target: Path) -> str:
    """The nightly backup into a folder: full, then a day's new files, then the incremental one
    and (for comparison, into another folder) the full one the old nightly backup wrote."""
    nightly, other = work / "nightly", work / "other"
    nightly.mkdir()
    other.mkdir()
    start = now()
    try:
        clock.set_now(start)
        t_full = timed(lambda: make_backup(nightly, database_url=url, upload_root=uploads, config_file=None))
        fill_files(app, NEW_FILES, first=FILES)
        clock.set_now(start + timedelta(days=1))
        t_incr = timed(lambda: make_backup(nightly, database_url=url, upload_root=uploads, config_file=None))
        t_full2 = timed(lambda: make_backup(other, database_url=url, upload_root=uploads, config_file=None))
    finally:
        clock.set_now(None)
    full, incremental = sorted(p for p in nightly.iterdir() if p.name.endswith(".tar"))
    [full2] = [p for p in other.iterdir() if p.name.endswith(".tar")]
    assert full.name.endswith("-full.tar") and incremental.name.endswith("-incr.tar")

    def restore(archive: Path) -> float:
        with restored.app_context():  # a pooled connection would still read the replaced file
            db.engine.dispose()
        shutil.rmtree(target)
        target.mkdir()
        start_time = time.perf_counter()
        restore_backup(archive, database_url=restored.config["SQLALCHEMY_DATABASE_URI"],
                       upload_root=target / "uploads", instance_path=target)
        elapsed = time.perf_counter() - start_time
        with restored.app_context():
            assert verify_storage() == 0
            db.engine.dispose()
        return elapsed

    t_restore_full, t_restore_chain = restore(full2), restore(incremental)
    size_full, size_incr = full2.stat().st_size, incremental.stat().st_size
    mib = 1048576
    weekly = -(-NIGHTS // 7) + 1  # full backups a retention of NIGHTS keeps (whole chains)
    rows = [
        ("full (the old nightly)", f"{size_full / mib:.1f}", f"{t_full2:.2f}", "1.00", "1.00"),
        (f"incremental ({NEW_FILES} new files)", f"{size_incr / mib:.1f}", f"{t_incr:.2f}",
         f"{size_incr / size_full:.3f}", f"{t_incr / t_full2:.3f}"),
        ("restore: the full archive", "", f"{t_restore_full:.2f}", "", "1.00"),
        ("restore: full + incremental", "", f"{t_restore_chain:.2f}", "", f"{t_restore_chain / t_restore_full:.2f}"),
    ]
    projection = (f"{NIGHTS} nights kept: every night full {NIGHTS * size_full / mib:.0f} MiB; "
                  f"a weekly full and incremental nights ≈ {(weekly * size_full + NIGHTS * size_incr) / mib:.0f} MiB "
                  f"({weekly} full + {NIGHTS} incremental; first full backup {t_full:.2f} s)")
    return table(rows, ("nightly backup", "MiB", "seconds", "size × full", "time × full")) + "\n" + projection


def main() -> None:
    app, instance = make_app()
    work = Path(tempfile.mkdtemp(prefix="xkxl-bench-backup-"))
    try:
        fill_applications(app, 40)
        size = fill_files(app)
        mb = size / 1048576
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        uploads = Path(app.config["UPLOAD_FOLDER"])
        subprocess.run(["tar", "cf", "/dev/null", "-C", instance, "."], check=True)  # warm the cache

        plain = work / "plain.tar"
        t_tar = timed(lambda: subprocess.run(["tar", "cf", plain, "-C", instance, "."], check=True))
        t_backup = timed(lambda: make_backup(work / "b.tar", database_url=url, upload_root=uploads,
                                             config_file=None))
        t_gz = timed(lambda: make_backup(work / "b.tar.gz", database_url=url, upload_root=uploads,
                                         config_file=None))
        untarred = work / "untarred"
        untarred.mkdir()
        t_untar = timed(lambda: subprocess.run(["tar", "xf", plain, "-C", untarred], check=True))

        target = work / "restored"
        target.mkdir()
        restored = create_app({"SECRET_KEY": "bench", "INSTANCE_PATH": str(target),
                               "SQLALCHEMY_DATABASE_URI": f"sqlite:///{target / 'xkxl.sqlite3'}",
                               "UPLOAD_FOLDER": str(target / "uploads")})

        def restore():
            restore_backup(work / "b.tar", database_url=restored.config["SQLALCHEMY_DATABASE_URI"],
                           upload_root=target / "uploads", instance_path=target)
            with restored.app_context():
                assert verify_storage() == 0

        t_restore = timed(restore)
        nightly = incremental_nights(app, url, uploads, work, restored, target)
        rows = [
            ("tar cf instance/ (not a snapshot)", f"{t_tar:.2f}", f"{mb / t_tar:.0f}", "1.00"),
            ("flask backup → .tar", f"{t_backup:.2f}", f"{mb / t_backup:.0f}", f"{t_backup / t_tar:.2f}"),
            ("flask backup → .tar.gz", f"{t_gz:.2f}", f"{mb / t_gz:.0f}", f"{t_gz / t_tar:.2f}"),
            ("tar xf", f"{t_untar:.2f}", f"{mb / t_untar:.0f}", "1.00"),
            ("flask restore + verify-files", f"{t_restore:.2f}", f"{mb / t_restore:.0f}",
             f"{t_restore / t_untar:.2f}"),
        ]
        print(f"{FILES} stored files, {mb:.0f} MiB; 21 × 40 applications; sizes: plain tar "
              f"{plain.stat().st_size / 1048576:.0f} MiB, backup {(work / 'b.tar').stat().st_size / 1048576:.0f} "
              f"MiB, .tar.gz {(work / 'b.tar.gz').stat().st_size / 1048576:.0f} MiB")
        print(table(rows, ("what", "seconds", "MB/s", "× tar")))
        print()
        print(nightly)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
