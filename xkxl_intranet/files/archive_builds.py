"""Who builds an archive, and what the request that asked for it gets meanwhile.

An archive already built for its key (:mod:`.archive_cache`) is ready at once. A small one
(its files under ``inline_bytes`` together, and not too many of them) is built in the request's
own thread: milliseconds, and the clerk gets the file in the same click. A larger one is built
by a small pool of background threads, so that no request thread packs gigabytes: the request
is answered at once with where the build stands, and the page asks again until it is ready.
Identical requests (the same key) share one build, whichever thread runs it; another process
asking for the same key waits for this one's file lock instead of building twice.

The pool stands in for a job queue: the work itself is :func:`archive_cache.build_archive`, a
plain function of plain values. No Flask here.
"""
from __future__ import annotations

import errno
import logging
import queue
import threading
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from .archive_cache import CacheLimits, NotEnoughSpace, build_archive, cached_archive
from .archives import Archive
from .naming import human_size

log = logging.getLogger(__name__)

# An archive of more files than this is built in the background whatever its size: each member
# costs a header, a stat and an open.
INLINE_FILES = 500
# How long a second identical request waits for a build running in another request's thread
# before it is told to come back (such builds are small: this is rarely reached).
INLINE_WAIT_SECONDS = 10.0

FILE_GONE_MESSAGE = "打包期间有文件被删除或替换，请重新下载。"
FAILED_MESSAGE = "打包出错，请稍后重试；如仍不成功，请联系系统管理员。"


class State(Enum):
    READY = "ready"
    BUILDING = "building"
    FAILED = "failed"


@dataclass(frozen=True)
class BuildSettings:
    folder: Path  # where the archives are kept
    limits: CacheLimits
    inline_bytes: int  # smaller archives are built in the request's thread
    threads: int  # background builds at once (each reads and writes the disk flat out)


@dataclass(frozen=True)
class Outcome:
    """Where an archive stands for the request that asked for it."""

    state: State
    path: Path | None = None
    message: str = ""  # why it failed, for the clerk
    written: int = 0  # bytes of the archive written so far
    total_bytes: int = 0  # the packed files' bytes
    files: int = 0
    seconds: float = 0.0  # since the build started

    @property
    def percent(self) -> int:
        """How far the build is, by bytes written (never 100 before it is done)."""
        if self.state is State.READY:
            return 100
        return min(99, self.written * 100 // self.total_bytes) if self.total_bytes else 0


class _Build:
    def __init__(self, archive: Archive):
        self.key = archive.key
        self.total_bytes = archive.total_bytes
        self.files = len(archive.members)
        self.started = time.monotonic()
        self.written = 0
        self.finished = threading.Event()
        self.path: Path | None = None
        self.error: str | None = None

    def advance(self, written: int) -> None:
        self.written = written

    def outcome(self) -> Outcome:
        common = {"written": self.written, "total_bytes": self.total_bytes, "files": self.files,
                  "seconds": time.monotonic() - self.started}
        if not self.finished.is_set():
            return Outcome(State.BUILDING, **common)
        if self.error is not None:
            return Outcome(State.FAILED, message=self.error, **common)
        return Outcome(State.READY, path=self.path, **common)


def failure_message(error: BaseException) -> str:
    """What the clerk reads when a build fails."""
    if isinstance(error, NotEnoughSpace):
        return (f"服务器磁盘空间不足，无法打包（需要约 {human_size(error.needed)}，"
                f"现有 {human_size(error.free)}）。请联系系统管理员清理磁盘后重试。")
    if isinstance(error, FileNotFoundError):
        return FILE_GONE_MESSAGE
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        return "服务器磁盘空间不足，无法打包。请联系系统管理员清理磁盘后重试。"
    if isinstance(error, OSError):
        return f"服务器无法写入打包文件（{error.strerror or error}），请联系系统管理员。"
    return FAILED_MESSAGE


class ArchiveBuilds:
    """The builds of one process: at most one per key, at most ``threads`` in the background."""

    def __init__(self, settings: BuildSettings):
        self.settings = settings
        self._lock = threading.Lock()
        self._builds: dict[str, _Build] = {}
        self._queue: queue.SimpleQueue[tuple[_Build, Archive]] = queue.SimpleQueue()
        self._workers: list[threading.Thread] = []

    def obtain(self, archive: Archive) -> Outcome:
        """The archive's file if it is built; else its build, started if nobody has started it
        (a small archive is built here and now). A failure is told once; asking again retries."""
        path = cached_archive(self.settings.folder, archive.key)
        if path is not None:
            return Outcome(State.READY, path=path, total_bytes=archive.total_bytes,
                           files=len(archive.members))
        inline = (archive.total_bytes < self.settings.inline_bytes
                  and len(archive.members) <= INLINE_FILES)
        with self._lock:
            build = self._builds.get(archive.key)
            mine = build is None
            if mine:
                build = self._builds[archive.key] = _Build(archive)
            elif build.finished.is_set():  # a failure nobody has been told of yet
                del self._builds[archive.key]
                return build.outcome()
        if mine and inline:
            self._run(build, archive)
        elif mine:
            self._submit(build, archive)
        elif inline:
            build.finished.wait(INLINE_WAIT_SECONDS)
        outcome = build.outcome()
        if outcome.state is State.FAILED:
            self._forget(build)  # told now
        return outcome

    def _forget(self, build: _Build) -> None:
        with self._lock:
            if self._builds.get(build.key) is build:
                del self._builds[build.key]

    def _run(self, build: _Build, archive: Archive) -> None:
        try:
            build.path = build_archive(self.settings.folder, archive.key, archive.all_members(),
                                       size_hint=archive.total_bytes, limits=self.settings.limits,
                                       progress=build.advance)
        except Exception as error:  # told to the clerk; an unexpected one's trace goes to the log
            log.warning("building archive %s (%s) failed", archive.key, archive.filename,
                        exc_info=not isinstance(error, OSError))
            build.error = failure_message(error)
        finally:
            build.finished.set()
        if build.error is None:
            self._forget(build)  # from now on the file itself answers

    def _submit(self, build: _Build, archive: Archive) -> None:
        self._queue.put((build, archive))
        with self._lock:
            if len(self._workers) < self.settings.threads:
                worker = threading.Thread(target=self._work, name=f"archive-builder-{len(self._workers) + 1}",
                                          daemon=True)
                self._workers.append(worker)
                worker.start()

    def _work(self) -> None:
        while True:
            build, archive = self._queue.get()
            self._run(build, archive)
