"""Generated documents: every PDF, XLSX and DOCX the system makes (附件3, the roster and its lists,
receipts, score sheets, the 评审汇总表, the 申报书模板, the indicator template), made once for each
version of what it prints and kept as a file under the instance folder (``instance/generated``).
A repeated download is that file, sent through the server's file wrapper (waitress sends it from
its event loop, so a slow reader holds no thread).

**The key** is what the document depends on, and nothing else. Each route passes the values of
one cheap query of the versions of its rows (an application's ``version`` is bumped by every ORM
update; its 附件3 place, the one column a plain UPDATE changes, is read beside it), a city's
contact, a batch's version, a receipt's content digest …: a log-in, or a save in another city,
leaves a city's 附件3 and the roster cached. The code's own fingerprint (the package's modules,
templates and stylesheets, and the versions of the libraries that write the files) is part of
every key, so an upgrade never serves a file the old code made. A document that prints when it
was made (导出时间, 打印时间) is ``dated``: the day is part of its key, so the same data is printed
again the next day with that day's date.

**The bounds.** The folder holds at most ``GENERATED_MAX_MB`` (the least recently used files go
first). At most ``RENDER_SLOTS`` renders run at once in all the processes serving the instance
(one lock file per slot, so a second process counts too); the others wait their turn, up to
``RENDER_WAIT_SECONDS``, and are then answered 503 (:class:`RenderBusy`). Identical renders in
flight are made once: the threads of a process wait for the first one's file (single flight),
and another process waits on the key's lock and then finds the file.

Renders run on ``RENDER_SLOTS`` threads of their own, in the asking request's context (its
context variables: the app, the request, the user, the database session, which the asking
thread leaves alone while it waits). For a PDF that thread only lays out the HTML: under the
serving command the worker prints it (``printing.py``), so what follows concerns the workbooks
and documents made here, and PDFs printed in-process (commands, benchmarks). Memory a render frees goes back to the C allocator's arena
of the thread that rendered, and glibc gives each thread its own arena: rendered on any of the
server's eight threads, eight different renders one after the other left each arena as large
as its render had made it (518 MB added with two at a time, 743 MB with eight); on their own
threads they reuse two arenas (``benchmarks/bench_generated.py``).
"""
from __future__ import annotations

import contextvars
import ctypes
import ctypes.util
import fcntl
import gc
import hashlib
import io
import json
import logging
import os
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, BinaryIO

from flask import current_app

from .clock import now

log = logging.getLogger(__name__)

DEFAULT_MAX_MB = 512
# Each render adds its own peak to the server's memory: 170-200 MB for a receipt of 24
# applications or a roster PDF of 480, 450 MB for a roster PDF of 1,920 (bench_generated.py).
# One at a time across every serving process: eight viewers rendering in a loop took the server
# 432 MB above its quiet figure with two slots (bench_hostile.py; the target is < 300 MB), and a
# document once made is sent from its file, so the wait is paid once per version of its rows.
DEFAULT_RENDER_SLOTS = 1
DEFAULT_WAIT_SECONDS = 120
STALE_TEMPORARY_SECONDS = 3600  # a temporary file this old was left by a process that died writing it
LOCK_STRIPES = 3  # hex digits of the key naming its lock file: 4,096 lock files at most
_POLL_SECONDS = (0.02, 0.25)  # waiting for another process's lock: first and longest pause
# A render this long built a large document (a PDF, a roster): its memory is given back at once
# (a full collection costs 10-30 ms, a small workbook's whole render).
LARGE_RENDER_SECONDS = 0.25


@dataclass(frozen=True)
class FileKind:
    suffix: str
    mimetype: str


PDF = FileKind(".pdf", "application/pdf")
XLSX = FileKind(".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
DOCX = FileKind(".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
CSV = FileKind(".csv", "text/csv; charset=utf-8")


class RenderBusy(Exception):
    """Every render slot stayed taken for ``RENDER_WAIT_SECONDS``."""


@dataclass
class Document:
    """A generated file, opened for sending (the response closes it)."""

    file: BinaryIO
    size: int
    name: str  # the download name, in Chinese
    mimetype: str


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """SHA-256 of what makes the files: the package's modules, templates and stylesheets (the
    field declaration among them) and the libraries that write PDF, XLSX and DOCX."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".html", ".css") and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(package)).encode())
            digest.update(path.read_bytes())
    for library in ("weasyprint", "openpyxl", "python-docx"):
        with suppress(metadata.PackageNotFoundError):
            digest.update(f"{library}={metadata.version(library)}".encode())
    return digest.hexdigest()


def document_key(kind: str, depends_on: Any, database: Any = None) -> str:
    """The file's name in the cache: SHA-256 of the code, the database's identity, the document's
    kind and what it depends on (rows become lists; dates, decimals and the like their text)."""
    canonical = json.dumps([code_fingerprint(), database, kind, depends_on], ensure_ascii=False,
                           sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def rows(result) -> list[list]:
    """The rows of a query as plain lists, for a key."""
    return [list(row) for row in result]


class _Flight:
    """One render in progress and what it made, for the threads waiting for it."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.data: bytes | None = None
        self.name = ""


class GeneratedFiles:
    """The cache of one instance folder (one object per application)."""

    def __init__(self, folder: str | os.PathLike, *, max_bytes: int, slots: int = DEFAULT_RENDER_SLOTS,
                 wait_seconds: float = DEFAULT_WAIT_SECONDS, database: Any = None):
        self.folder = Path(folder)
        self.database = database  # ids and versions start again in another database
        self.locks = self.folder / ".locks"
        self.locks.mkdir(parents=True, exist_ok=True)
        self.max_bytes, self.slots, self.wait_seconds = max_bytes, max(1, slots), wait_seconds
        self._renderers = ThreadPoolExecutor(self.slots, thread_name_prefix="render")
        self._lock = threading.Lock()
        self._flights: dict[str, _Flight] = {}
        self.counts: Counter[str] = Counter()  # hits, renders, shared, evicted, busy

    # ---- the one entry point ------------------------------------------------------------------

    def fetch(self, kind: str, depends_on: Any, file_kind: FileKind, make: Callable[[], tuple[bytes, str]],
              *, dated: bool = False) -> Document:
        """The document ``kind`` for ``depends_on``: the cached file, or ``make()`` (the bytes and
        the download name) run once, in a render slot, by the first of the threads asking."""
        key = document_key(kind, [depends_on, now().date().isoformat()] if dated else depends_on, self.database)
        document = self._open(key, file_kind)
        if document is not None:
            self._count("hits")
            return document
        flight, leader = self._join(key)
        if leader:
            try:
                self._render(key, file_kind, make, flight)
            except BaseException as error:
                flight.error = error
                raise
            finally:
                with self._lock:
                    self._flights.pop(key, None)
                flight.done.set()
        else:
            self._count("shared")
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
        document = self._open(key, file_kind)
        if document is None and flight.data is not None:  # not stored (disk full): from memory
            document = Document(io.BytesIO(flight.data), len(flight.data), flight.name, file_kind.mimetype)
        if document is None:
            raise FileNotFoundError(f"generated file {key} vanished as it was made")
        return document

    def _count(self, what: str, n: int = 1) -> None:
        with self._lock:
            self.counts[what] += n

    def _join(self, key: str) -> tuple[_Flight, bool]:
        with self._lock:
            flight = self._flights.get(key)
            if flight is not None:
                return flight, False
            flight = self._flights[key] = _Flight()
            return flight, True

    def _render(self, key: str, file_kind: FileKind, make, flight: _Flight) -> None:
        with self._key_lock(key):  # another process making the same file: wait for it
            if self._path(key, file_kind.suffix).is_file():
                return
            data, name = self.render(make)
            self._count("renders")
            flight.data, flight.name = data, name
            self._store(key, file_kind, data, name)

    # ---- files --------------------------------------------------------------------------------

    def _path(self, key: str, suffix: str) -> Path:
        return self.folder / f"{key}{suffix}"

    def _open(self, key: str, file_kind: FileKind) -> Document | None:
        """The stored file, opened (so that an eviction from now on cannot take it away), and
        marked as just used; ``None`` when it is not there (or half there)."""
        path = self._path(key, file_kind.suffix)
        try:
            file = open(path, "rb")  # noqa: SIM115  (the response closes it)
        except FileNotFoundError:
            return None
        try:
            name = json.loads(self._path(key, ".json").read_text(encoding="utf-8"))["name"]
            os.utime(path)
        except (OSError, ValueError, KeyError, TypeError):
            file.close()
            return None
        return Document(file, os.fstat(file.fileno()).st_size, name, file_kind.mimetype)

    def _write(self, path: Path, data: bytes) -> None:
        """Whole or not at all: a reader never sees half a file."""
        fd, temporary = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def _store(self, key: str, file_kind: FileKind, data: bytes, name: str) -> None:
        try:  # the name first: the data file's presence means the entry is whole
            self._write(self._path(key, ".json"), json.dumps({"name": name}, ensure_ascii=False).encode("utf-8"))
            self._write(self._path(key, file_kind.suffix), data)
        except OSError as error:  # a full disk: this download is sent from memory, nothing kept
            log.warning("generated file not kept (%s): %s", name, error)
            return
        self._evict(keep=key)

    def _evict(self, *, keep: str) -> None:
        """Remove the least recently used files until the folder is within its bound, and any
        temporary file a dead process left."""
        total, files, moment = 0, [], time.time()
        with os.scandir(self.folder) as entries:
            for entry in entries:
                try:
                    if not entry.is_file(follow_symlinks=False):
                        continue
                    stat = entry.stat(follow_symlinks=False)
                except FileNotFoundError:  # renamed or removed since the folder was listed
                    continue
                if entry.name.startswith(".tmp-"):
                    if moment - stat.st_mtime > STALE_TEMPORARY_SECONDS:
                        Path(entry.path).unlink(missing_ok=True)
                    continue
                total += stat.st_size
                key = entry.name.split(".", 1)[0]
                if not entry.name.endswith(".json") and key != keep:
                    files.append((stat.st_mtime, entry.name, key))
        files.sort()
        for _, name, key in files:
            if total <= self.max_bytes:
                break
            total -= self._remove(self.folder / name) + self._remove(self._path(key, ".json"))
            self._count("evicted")

    @staticmethod
    def _remove(path: Path) -> int:
        try:
            size = path.stat().st_size
            path.unlink()
            return size
        except FileNotFoundError:  # another process evicted it first
            return 0

    def clear(self) -> None:
        clear_folder(self.folder)

    # ---- locks ----------------------------------------------------------------------------------

    def _try_lock(self, path: Path) -> int | None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return fd

    def _wait_for_lock(self, paths: list[Path], deadline: float) -> int:
        """An exclusive lock on one of ``paths``, waiting until ``deadline``: a lock held by
        another process (or another thread's descriptor) is polled, briefly at first."""
        pause = _POLL_SECONDS[0]
        while True:
            for path in paths:
                fd = self._try_lock(path)
                if fd is not None:
                    return fd
            if time.monotonic() >= deadline:
                self._count("busy")
                raise RenderBusy
            time.sleep(pause)
            pause = min(pause * 2, _POLL_SECONDS[1])

    @contextmanager
    def _key_lock(self, key: str) -> Iterator[None]:
        fd = self._wait_for_lock([self.locks / f"key-{key[:LOCK_STRIPES]}.lock"],
                                 time.monotonic() + self.wait_seconds)
        try:
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def render(self, make: Callable[[], tuple[bytes, str]]) -> tuple[bytes, str]:
        """``make()`` on one of the render threads, once one is free and a slot in the folder is
        (waiting up to ``wait_seconds`` for both), in the caller's context; its result or its
        exception is the caller's."""
        deadline = time.monotonic() + self.wait_seconds
        started = threading.Event()

        def in_slot() -> tuple[bytes, str]:
            started.set()
            fd = self._wait_for_lock([self.locks / f"slot-{n}.lock" for n in range(self.slots)], deadline)
            began = time.monotonic()
            try:
                return make()
            finally:
                os.close(fd)
                if time.monotonic() - began >= LARGE_RENDER_SECONDS:
                    give_memory_back()

        job = self._renderers.submit(contextvars.copy_context().run, in_slot)
        if not started.wait(self.wait_seconds) and job.cancel():
            self._count("busy")
            raise RenderBusy
        return job.result()


def _malloc_trim() -> Callable[[int], int] | None:
    path = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(path).malloc_trim if path else None
    except (OSError, AttributeError):  # not glibc
        return None


_MALLOC_TRIM = _malloc_trim()


def give_memory_back() -> None:
    """After a render: collect its cycles now (the server collects rarely, see serving.py), and
    hand the C allocator's free memory back to the system, so that the next render starts from
    what is in use, not from the last one's peak."""
    gc.collect()
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def clear_folder(folder: str | os.PathLike) -> int:
    """Forget every generated file in ``folder`` (after a restore: the restored rows' versions
    will count up again from where the backup left them); returns how many."""
    removed = 0
    with suppress(FileNotFoundError):
        for path in Path(folder).iterdir():
            if path.is_file():
                path.unlink(missing_ok=True)
                removed += not path.name.endswith(".json") and not path.name.startswith(".tmp-")
    return removed


def identify_database_with(app, identity: Callable[[], list]) -> None:
    """What tells the app's database from any other, part of every key (a database created anew
    numbers its rows and versions from 1 again, for other data): the app factory gives
    ``audit.services.database_identity``, the database's first audit event."""
    app.extensions["xkxl_database_identity"] = identity


_registry_lock = threading.Lock()


def generated_files() -> GeneratedFiles:
    """The application's cache, made on first use from its configuration."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # a proxy, typed as the app
    cache = app.extensions.get("xkxl_generated")
    if cache is None:
        with _registry_lock:
            cache = app.extensions.get("xkxl_generated")
            if cache is None:
                config = app.config
                cache = app.extensions["xkxl_generated"] = GeneratedFiles(
                    config.get("GENERATED_FOLDER") or os.path.join(app.instance_path, "generated"),
                    max_bytes=int(config.get("GENERATED_MAX_MB", DEFAULT_MAX_MB) * 1024 * 1024),
                    slots=int(config.get("RENDER_SLOTS", DEFAULT_RENDER_SLOTS)),
                    wait_seconds=float(config.get("RENDER_WAIT_SECONDS", DEFAULT_WAIT_SECONDS)),
                    database=app.extensions["xkxl_database_identity"]())
    return cache


def fetch(kind: str, depends_on: Any, file_kind: FileKind, make: Callable[[], tuple[bytes, str]],
          *, dated: bool = False) -> Document:
    """:meth:`GeneratedFiles.fetch` of the application's cache."""
    return generated_files().fetch(kind, depends_on, file_kind, make, dated=dated)
