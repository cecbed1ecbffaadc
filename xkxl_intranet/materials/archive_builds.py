"""Who builds an archive, and what the request that asked for it gets meanwhile.

A request names what it wants by a fingerprint (:func:`archives.archive_fingerprint`: two
aggregate queries, milliseconds at 20,000 applications) and says how to plan it (which file goes
where, the manifest: :func:`archives.archive_for`, most of a second at that size). Once planned,
the fingerprint's archive key is remembered: a later request with the same fingerprint is sent
the built file without planning again, so a download's first byte and a progress poll cost the
fingerprint alone, and eight clients asking for all.zip at once cost eight fingerprints.

An archive with few and small files is planned and built in the request's own thread (the clerk
gets the file in the same click). A larger one is planned and built by a small pool of
background threads: the request is answered at once with where the build stands, and the page
asks again until it is ready. Identical requests (the same fingerprint) share one build,
whichever thread runs it; another process building the same archive waits for this one's file
lock (:mod:`.archive_cache`) instead of building it twice.

The pool stands in for a job queue: the work is a plan (with its own application context) and
:func:`archive_cache.build_archive`, a plain function of plain values. No Flask here.
"""
from __future__ import annotations

import errno
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from ..filenames import human_size
from ..files.archive_cache import CacheLimits, NotEnoughSpace, build_archive, cached_archive
from .archives import Archive, Fingerprint

log = logging.getLogger(__name__)

# An archive of more files than this is built in the background whatever its size: each member
# costs a header, a stat and an open, and its plan a row of the manifest.
INLINE_FILES = 500
# How long a second identical request waits for a build running in another request's thread
# before it is told to come back (such builds are small: this is rarely reached).
INLINE_WAIT_SECONDS = 10.0
# How long a fingerprint's archive key is trusted without planning again. The fingerprint
# covers every change made through the application (each saved application bumps its version);
# this bounds what it cannot see, such as a stored file put back on the disk by hand.
KNOWN_SECONDS = 1800
KNOWN_MAX = 256

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
    inline_bytes: int  # archives of fewer bytes (and files) are built in the request's thread
    threads: int  # background builds at once (each reads and writes the disk flat out)


@dataclass(frozen=True)
class Outcome:
    """Where an archive stands for the request that asked for it."""

    state: State
    path: Path | None = None  # READY: the archive's file
    key: str = ""  # READY: its key (archives.Archive.key)
    message: str = ""  # FAILED: why, for the clerk
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
    def __init__(self, fingerprint: Fingerprint):
        self.fingerprint = fingerprint.value
        self.total_bytes = fingerprint.total_bytes
        self.files = fingerprint.files
        self.started = time.monotonic()
        self.written = 0
        self.finished = threading.Event()
        self.key = ""
        self.path: Path | None = None
        self.error: str | None = None

    def advance(self, written: int) -> None:
        self.written = written

    def outcome(self) -> Outcome:
        common: dict[str, Any] = {
            "written": self.written, "total_bytes": self.total_bytes, "files": self.files,
            "seconds": time.monotonic() - self.started}
        if not self.finished.is_set():
            return Outcome(State.BUILDING, **common)
        if self.error is not None:
            return Outcome(State.FAILED, message=self.error, **common)
        return Outcome(State.READY, path=self.path, key=self.key, **common)


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
    """The builds of one process: at most one per fingerprint, at most ``threads`` in the
    background; and the archive key of each fingerprint planned lately."""

    def __init__(self, settings: BuildSettings):
        self.settings = settings
        self._lock = threading.Lock()
        self._builds: dict[str, _Build] = {}
        self._known: dict[str, tuple[str, float]] = {}  # fingerprint -> (archive key, when planned)
        self._queue: queue.SimpleQueue[tuple[_Build, Callable[[], Archive]]] = queue.SimpleQueue()
        self._workers: list[threading.Thread] = []

    def obtain(self, fingerprint: Fingerprint, plan: Callable[[], Archive]) -> Outcome:
        """The archive's file if it is built; else its build, started if nobody has started it
        (a small archive is planned and built here and now). A failure is told once; asking
        again retries."""
        ready = self._ready(fingerprint)
        if ready is not None:
            return ready
        small = (fingerprint.total_bytes < self.settings.inline_bytes
                 and fingerprint.files <= INLINE_FILES)
        with self._lock:
            build = self._builds.get(fingerprint.value)
            mine = build is None
            if build is None:
                build = self._builds[fingerprint.value] = _Build(fingerprint)
            elif build.finished.is_set():  # a failure nobody has been told of yet
                del self._builds[fingerprint.value]
                return build.outcome()
        if mine and small:
            self._run(build, plan)
        elif mine:
            self._submit(build, plan)
        elif small:
            build.finished.wait(INLINE_WAIT_SECONDS)
        outcome = build.outcome()
        if outcome.state is State.FAILED:
            self._forget(build)  # told now
        return outcome

    def _ready(self, fingerprint: Fingerprint) -> Outcome | None:
        with self._lock:
            known = self._known.get(fingerprint.value)
        if known is None or time.monotonic() - known[1] > KNOWN_SECONDS:
            return None
        path = cached_archive(self.settings.folder, known[0])
        if path is None:  # removed to make room: built again
            return None
        return Outcome(State.READY, path=path, key=known[0], total_bytes=fingerprint.total_bytes,
                       files=fingerprint.files)

    def _remember(self, fingerprint: str, key: str) -> None:
        with self._lock:
            self._known.pop(fingerprint, None)
            self._known[fingerprint] = (key, time.monotonic())
            while len(self._known) > KNOWN_MAX:
                del self._known[next(iter(self._known))]

    def _forget(self, build: _Build) -> None:
        with self._lock:
            if self._builds.get(build.fingerprint) is build:
                del self._builds[build.fingerprint]

    def _run(self, build: _Build, plan: Callable[[], Archive]) -> None:
        try:
            archive = plan()
            build.key, build.total_bytes, build.files = archive.key, archive.total_bytes, len(archive.members)
            build.path = build_archive(self.settings.folder, archive.key, archive.all_members(),
                                       size_hint=archive.total_bytes, limits=self.settings.limits,
                                       progress=build.advance)
            self._remember(build.fingerprint, archive.key)
        except Exception as error:  # told to the clerk; an unexpected one's trace goes to the log
            log.warning("building archive %s failed", build.key or build.fingerprint,
                        exc_info=not isinstance(error, OSError))
            build.error = failure_message(error)
        finally:
            build.finished.set()
        if build.error is None:
            self._forget(build)  # from now on the file itself answers

    def _submit(self, build: _Build, plan: Callable[[], Archive]) -> None:
        self._queue.put((build, plan))
        with self._lock:
            if len(self._workers) < self.settings.threads:
                worker = threading.Thread(target=self._work, name=f"archive-builder-{len(self._workers) + 1}",
                                          daemon=True)
                self._workers.append(worker)
                worker.start()

    def _work(self) -> None:
        while True:
            build, plan = self._queue.get()
            self._run(build, plan)
