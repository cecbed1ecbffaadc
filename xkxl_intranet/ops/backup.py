"""``flask backup``: one archive holding a consistent snapshot of the database and every stored
file that snapshot refers to, taken while the app goes on serving writes.

How it stays consistent without stopping anything:

1. The database is snapshotted at one moment (see :mod:`.database`); its ``stored_file`` rows
   say which files belong to that moment.
2. Each of those files is *pinned*: hard-linked into ``UPLOAD_FOLDER/.backup-pins/<run>/``.
   Stored files never change once in place (a new version is a new file), so a pin holds
   exactly the snapshot's bytes, even if a clerk deletes the file a second later.
3. A file that is already gone when it is pinned was deleted after the snapshot (its row is
   gone too, in a later commit): the database is snapshotted again and the new rows pinned,
   until every row of one snapshot is pinned. A file missing from two snapshots in a row is
   really missing; it is named in the manifest and the command ends with a non-zero status.
4. The archive is written from the snapshot and the pins, hashed as it goes, then renamed
   into place (a crash never leaves a complete-looking archive); the pins are removed.

Files go into the archive by the SHA-256 of their content (the row's ``sha256``): the same
content uploaded twice is one blob, and an *incremental* backup adds only the blobs that the
archive it builds on (see :mod:`.chain`) does not already restore. Each archive still holds the
whole database: a restore of any archive gives the state of its moment.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..clock import now
from ..domain.errors import Refused
from ..files.storage import PINS_DIRNAME, path_for
from .archive import (
    AUDIT_KEY_MEMBER,
    CONFIG_MEMBER,
    DATABASE_MEMBERS,
    FULL,
    INCREMENTAL,
    MANIFEST,
    SUMS,
    HashingReader,
    HashingWriter,
    Manifest,
    blob_member,
    upload_member,
)
from .chain import FULL_EVERY_DAYS, IndexedArchive, choose_base, write_index
from .database import DatabaseSnapshot, engine_of, fsync_dir, take_snapshot

MAX_SNAPSHOTS = 5
SUFFIXES = (".tar", ".tar.gz", ".tgz")
STALE_UNLOCKED_PINS = 3600  # seconds: a pin folder without its lock is a crashed start
COPY_BUFFER = 1024 * 1024  # tarfile's default 16 KiB makes Python, not the disk, the limit
GZIP_LEVEL = 1


class Progress:
    """What a command shows while it works; this one shows nothing (tests, cron)."""

    def step(self, message: str) -> None:
        pass

    @contextlib.contextmanager
    def bar(self, total: int, label: str) -> Iterator[Callable[[int], None]]:
        yield lambda advance: None


# What ``flask backup --kind`` asks for: an incremental backup when the folder holds a chain to
# build on (AUTO), or always a full one, or an incremental one or nothing.
AUTO = "auto"
KINDS = (AUTO, FULL, INCREMENTAL)


@dataclass
class BackupResult:
    path: Path
    size: int
    sha256: str
    manifest: Manifest
    snapshots: int  # how many database snapshots it took (more than one: files were deleted)
    base: IndexedArchive | None = None  # the archive an incremental backup builds on
    blobs_written: int = 0
    blobs_in_chain: int = 0  # files the chain already holds, not written again


def archive_path(dest: Path, kind: str = FULL) -> Path:
    """The archive to write: ``dest`` itself, or a dated name inside ``dest`` if it is a folder
    (``…-full.tar`` or ``…-incr.tar``, so a listing shows the chains)."""
    if dest.is_dir():
        dest = dest / f"xkxl-backup-{now():%Y%m%d-%H%M%S}-{'full' if kind == FULL else 'incr'}.tar"
    if not dest.name.endswith(SUFFIXES):
        raise Refused(f"备份文件名须以 .tar、.tar.gz 或 .tgz 结尾：{dest}")
    if dest.exists():
        raise Refused(f"备份文件 {dest} 已存在，不会覆盖：请换一个文件名")
    if not dest.parent.is_dir():
        raise Refused(f"备份目录 {dest.parent} 不存在")
    return dest


class Pins:
    """Hard links that keep the snapshot's files while the archive is written."""

    def __init__(self, upload_root: Path):
        self.root = upload_root
        base = upload_root / PINS_DIRNAME
        base.mkdir(parents=True, exist_ok=True)
        remove_stale_pins(base)
        self.dir = Path(tempfile.mkdtemp(dir=base, prefix=f"{now():%Y%m%d-%H%M%S}-"))
        self._lock = os.open(self.dir / ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(self._lock, fcntl.LOCK_EX)  # says "this backup is running" to the next one
        self.pinned: dict[str, Path] = {}

    def pin(self, storage_name: str) -> bool:
        """Hold the file of a row; ``False`` if it is not in the storage (any more)."""
        if storage_name in self.pinned:
            return True
        try:
            source = path_for(storage_name, self.root)
        except ValueError:  # not a storage name: the row is broken, verify-files says so
            return False
        target = self.dir / storage_name
        try:
            os.link(source, target)
        except FileNotFoundError:
            return False
        except OSError:  # a file system without hard links: a copy holds the bytes too
            try:
                shutil.copyfile(source, target)
            except FileNotFoundError:
                return False
        self.pinned[storage_name] = target
        return True

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
        os.close(self._lock)
        with contextlib.suppress(OSError):  # only if no other backup is running
            self.dir.parent.rmdir()


def remove_stale_pins(base: Path) -> None:
    """Remove the pins of backups that were killed (their lock is free)."""
    for folder in base.iterdir():
        lock_path = folder / ".lock"
        if not lock_path.exists():
            if folder.is_dir() and time.time() - folder.stat().st_mtime > STALE_UNLOCKED_PINS:
                shutil.rmtree(folder, ignore_errors=True)
            continue
        fd = os.open(lock_path, os.O_RDWR | os.O_CLOEXEC)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # another backup is running
        finally:
            os.close(fd)
        shutil.rmtree(folder, ignore_errors=True)


def _consistent_snapshot(url: str, work: Path, pins: Pins,
                         progress: Progress) -> tuple[DatabaseSnapshot, set[str], int]:
    previous: set[str] | None = None
    for attempt in range(1, MAX_SNAPSHOTS + 1):
        snapshot = take_snapshot(url, work)
        size = snapshot.path.stat().st_size
        progress.step(f"数据库快照（{'SQLite 在线备份' if snapshot.engine == 'sqlite' else 'pg_dump'}）："
                      f"{size / 1048576:.1f} MB，{snapshot.counts.get('application', 0)} 份申报，"
                      f"{len(snapshot.files)} 条文件记录")
        missing = {name for name, _size, _sha in snapshot.files if not pins.pin(name)}
        if not missing or missing == previous or attempt == MAX_SNAPSHOTS:
            return snapshot, missing, attempt
        progress.step(f"快照之后有 {len(missing)} 个文件被删除，重新快照（第 {attempt + 1} 次）")
        previous = missing
    raise AssertionError("unreachable")


def _add_file(tar: tarfile.TarFile, member: str, source: Path,
              advance: Callable[[int], None]) -> tuple[int, str]:
    info = tarfile.TarInfo(member)
    stat = source.stat()
    info.size, info.mtime, info.mode = stat.st_size, int(stat.st_mtime), 0o600
    with open(source, "rb") as raw:
        reader = HashingReader(raw, advance)
        tar.addfile(info, reader)
    return reader.size, reader.hash.hexdigest()


def _add_bytes(tar: tarfile.TarFile, member: str, data: bytes) -> None:
    info = tarfile.TarInfo(member)
    info.size, info.mtime, info.mode = len(data), int(now().timestamp()), 0o600
    tar.addfile(info, HashingReader(_BytesReader(data)))


class _BytesReader:
    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size < 0 else self.at + size
        chunk, self.at = self.data[self.at:end], min(end, len(self.data))
        return chunk


def _members(snapshot: DatabaseSnapshot, pins: Pins, config_file: Path | None,
             audit_key_file: Path | None = None, *, in_chain: frozenset[str] = frozenset(),
             uploads: dict[str, str] | None = None) -> list[tuple[str, Path, str | None]]:
    """(member, source, SHA-256 the row records) in archive order: database, config, then one
    blob per content not in ``in_chain`` (the blobs the archive built on restores already).
    Fills ``uploads`` with storage name -> SHA-256 of every pinned file."""
    members: list[tuple[str, Path, str | None]] = [(DATABASE_MEMBERS[snapshot.engine], snapshot.path, None)]
    if config_file is not None and config_file.is_file():
        members.append((CONFIG_MEMBER, config_file, None))
    if audit_key_file is not None and audit_key_file.is_file():
        members.append((AUDIT_KEY_MEMBER, audit_key_file, None))
    written: set[str] = set()
    for name, _size, digest in sorted(snapshot.files):
        if name not in pins.pinned:
            continue
        if uploads is not None:
            uploads[name] = digest
        if digest in in_chain or digest in written:
            continue
        written.add(digest)
        members.append((blob_member(digest), pins.pinned[name], digest))
    return members


def _write_members(tar: tarfile.TarFile, members: list, manifest: Manifest, progress: Progress) -> None:
    total = sum(source.stat().st_size for _member, source, _digest in members)
    with progress.bar(total, "写入备份") as advance:
        for member, source, recorded in members:
            size, digest = _add_file(tar, member, source, advance)
            manifest.files[member] = {"size": size, "sha256": digest}
            if recorded is not None and digest != recorded:
                manifest.damaged.append(member)
    _add_bytes(tar, MANIFEST, manifest.to_bytes())
    _add_bytes(tar, SUMS, manifest.sums())


def _write_archive(path: Path, members: list, manifest: Manifest, progress: Progress) -> str:
    """Write ``path`` (mode 600: it holds password hashes and the secret key) via a hidden
    partial file; returns the archive's SHA-256."""
    compressed = path.name.endswith((".tar.gz", ".tgz"))
    # Uploads are mostly compressed already (PDF, DOCX, JPEG): gzip's fastest level gets the
    # database's gain at a fraction of the cost of the default level 9.
    options = {"mode": "w:gz", "compresslevel": GZIP_LEVEL} if compressed else {"mode": "w|"}
    partial = path.with_name(f".{path.name}.partial")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "wb") as raw:
            out = HashingWriter(raw)
            # tarfile.open hands copybufsize to TarFile, and a stream needs only write(): typeshed
            # knows neither
            with tarfile.open(fileobj=out, format=tarfile.PAX_FORMAT,  # type: ignore[call-overload]
                              copybufsize=COPY_BUFFER, **options) as tar:
                _write_members(tar, members, manifest, progress)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, path)
        fsync_dir(path.parent)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return out.hash.hexdigest()


def _base_for(kind: str, dest: Path, engine: str, full_every_days: int) -> IndexedArchive | None:
    """The archive an incremental backup into ``dest``'s folder builds on, or ``None`` for a full
    one; ``AUTO`` chooses incremental only into a folder (a file name asks for one archive)."""
    if kind == FULL or (kind == AUTO and not dest.is_dir()):
        return None
    folder = dest if dest.is_dir() else dest.parent
    base = choose_base(folder, engine=engine, moment=now(), full_every_days=full_every_days)
    if base is None and kind == INCREMENTAL:
        raise Refused(f"{folder} 中没有可作为基础的备份（完整备份须在 {full_every_days} 天内，且其后的增量备份"
                      "都在）：请先做一次完整备份（--kind full）")
    return base


def make_backup(dest: Path, *, database_url: str, upload_root: Path, config_file: Path | None,
                progress: Progress | None = None, app_version: str = "",
                audit_key_file: Path | None = None, kind: str = AUTO,
                full_every_days: int = FULL_EVERY_DAYS) -> BackupResult:
    progress = progress or Progress()
    engine = engine_of(database_url)
    base = _base_for(kind, dest, engine, full_every_days)
    path = archive_path(dest, INCREMENTAL if base else FULL)
    if base is not None:
        progress.step(f"增量备份：基于 {base.path.name}（完整备份 {base.full_name}）")
    in_chain = frozenset(set(base.manifest.uploads.values()) - base.manifest.damaged_blobs()) if base else frozenset()
    with contextlib.ExitStack() as cleanup:
        work = Path(tempfile.mkdtemp(dir=path.parent, prefix=".xkxl-backup-"))
        cleanup.callback(shutil.rmtree, work, ignore_errors=True)
        pins = Pins(upload_root)
        cleanup.callback(pins.close)
        snapshot, missing, snapshots = _consistent_snapshot(database_url, work, pins, progress)
        progress.step(f"已固定 {len(pins.pinned)} 个文件（硬链接，不占额外空间）")
        manifest = Manifest(snapshot.engine, now().isoformat(timespec="seconds"), snapshot.revision,
                            snapshot.counts, missing=sorted(upload_member(n) for n in missing),
                            app_version=app_version, kind=INCREMENTAL if base else FULL,
                            chain=base.links() if base else [])
        members = _members(snapshot, pins, config_file, audit_key_file, in_chain=in_chain, uploads=manifest.uploads)
        blobs_written = sum(1 for member, _source, digest in members if digest is not None)
        in_chain_count = len(set(manifest.uploads.values()) & in_chain)
        if base is not None:
            progress.step(f"{in_chain_count} 个文件已在备份链中，本次写入 {blobs_written} 个新文件")
        digest = _write_archive(path, members, manifest, progress)
    size = path.stat().st_size
    sidecar = path.with_name(path.name + ".sha256")
    sidecar.write_text(f"{digest}  {path.name}\n", encoding="utf-8")
    write_index(path, manifest, size, digest)
    return BackupResult(path, size, digest, manifest, snapshots, base, blobs_written, in_chain_count)
