"""Built ZIP archives kept as files, one per key (:attr:`archives.Archive.key`: the digests of
the files it holds and its manifest), so that a download is a plain file the server sends from
its event loop (waitress's ``wsgi.file_wrapper``) or nginx sends (X-Accel-Redirect), never a
generator that holds a worker thread until a slow client has read it all; and an unchanged set
of files is built once, whoever asks again.

:func:`build_archive` is a plain function of plain values (a folder, a key, the members, the
manifest): the web process runs it in a background thread (:mod:`.archive_builds`), and a job
queue could run it in a worker process as it is. Two processes never build one key at once (a
file lock per key); the archive is written under a temporary name and renamed into place when
complete, so a reader sees a whole archive or none. The folder is bounded in total size: after
each build the archives used longest ago are removed.

No Flask here.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from .zipstream import ZipMember, stream_zip

ZIP_FOLDER = "zip"  # under the generated files' folder
SUFFIX = ".zip"
PART_SUFFIX = ".part"
LOCK_SUFFIX = ".lock"
# A file used this recently is not removed to make room: it may be on its way to a client
# (nginx opens the file only once it has the app's X-Accel-Redirect answer).
IN_USE_SECONDS = 60
# A temporary file this old belongs to a build that was killed (a live build writes all along);
# a lock file this old, to a build that failed (a successful one removes its lock file).
STALE_PART_SECONDS = 3600
STALE_LOCK_SECONDS = 86400
FILE_MODE = 0o644  # under the service's UMask (0027): 0640, readable by nginx in group xkxl


class NotEnoughSpace(OSError):
    """The disk would keep less than its reserve once the archive is written."""

    def __init__(self, needed: int, free: int):
        super().__init__(errno.ENOSPC, f"archive needs {needed} bytes, {free} free")
        self.needed, self.free = needed, free


def archive_path(folder: Path, key: str) -> Path:
    return folder / f"{key}{SUFFIX}"


def cached_archive(folder: Path, key: str) -> Path | None:
    """The archive built for ``key``, if it is there; its time of use is renewed (the oldest
    used are removed first)."""
    path = archive_path(folder, key)
    try:
        os.utime(path)
    except FileNotFoundError:
        return None
    return path


@dataclass(frozen=True)
class CacheLimits:
    max_bytes: int  # the folder's archives together; the one just built is always kept
    reserve_bytes: int  # free space a build must leave on the disk (uploads need it more)


@contextlib.contextmanager
def _key_lock(folder: Path, key: str):
    """One build of ``key`` at a time across threads and processes."""
    fd = os.open(folder / f"{key}{LOCK_SUFFIX}", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _check_space(folder: Path, needed: int, reserve: int) -> None:
    free = shutil.disk_usage(folder).free
    if free - needed < reserve:
        raise NotEnoughSpace(needed + reserve, free)


def _write(part: Path, members: Iterable[ZipMember], progress: Callable[[int], None] | None) -> None:
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
    written = 0
    with os.fdopen(fd, "wb") as out:
        for chunk in stream_zip(members):
            out.write(chunk)
            written += len(chunk)
            if progress is not None:
                progress(written)
        out.flush()
        os.fsync(out.fileno())  # a crash must not leave a short archive under its final name


def build_archive(folder: Path, key: str, members: list[ZipMember], *, size_hint: int = 0,
                  limits: CacheLimits | None = None,
                  progress: Callable[[int], None] | None = None) -> Path:
    """The archive of ``members`` (manifest first) as ``folder/<key>.zip``: built unless it is
    there already (then only its time of use is renewed). ``size_hint``: the packed files'
    bytes, to check the disk's free space first; ``progress(bytes_written)`` is called as the
    archive grows. Raises ``OSError`` (:class:`NotEnoughSpace`, a full disk, a file removed
    from storage meanwhile); nothing is left under the final name then."""
    folder.mkdir(parents=True, exist_ok=True)
    with _key_lock(folder, key):
        path = cached_archive(folder, key)
        if path is not None:  # built meanwhile by another thread or process
            return path
        if limits is not None:
            _check_space(folder, size_hint, limits.reserve_bytes)
        part = folder / f"{key}.{os.getpid()}-{secrets.token_hex(4)}{PART_SUFFIX}"
        try:
            _write(part, members, progress)
            path = archive_path(folder, key)
            os.replace(part, path)
        except BaseException:
            with contextlib.suppress(OSError):
                part.unlink()
            raise
        with contextlib.suppress(OSError):
            os.unlink(folder / f"{key}{LOCK_SUFFIX}")  # a waiter holding it finds the archive
    if limits is not None:
        evict(folder, limits.max_bytes, keep=path)
    return path


def evict(folder: Path, max_bytes: int, *, keep: Path | None = None) -> list[Path]:
    """Remove the archives used longest ago until the rest fit in ``max_bytes`` (``keep`` and
    those in use this last minute stay), and what builds that were killed or failed left.
    Returns what was removed."""
    moment = time.time()
    archives, removed = [], []
    for entry in os.scandir(folder):
        try:
            stat = entry.stat()
        except FileNotFoundError:
            continue
        age = moment - stat.st_mtime
        if ((entry.name.endswith(PART_SUFFIX) and age > STALE_PART_SECONDS)
                or (entry.name.endswith(LOCK_SUFFIX) and age > STALE_LOCK_SECONDS)):
            removed.append(Path(entry.path))
        elif entry.name.endswith(SUFFIX):
            archives.append((stat.st_mtime, stat.st_size, Path(entry.path)))
    total = sum(size for _, size, _ in archives)
    for used, size, path in sorted(archives):
        if total <= max_bytes:
            break
        if path == keep or moment - used < IN_USE_SECONDS:
            continue
        removed.append(path)
        total -= size
    for path in removed:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    return removed
