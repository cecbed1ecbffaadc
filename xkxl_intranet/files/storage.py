"""Where the bytes live: uploads streamed into instance storage, moved into place atomically.

An uploaded file part is written by werkzeug's multipart parser straight into a temporary
file *inside* the storage folder (``UPLOAD_FOLDER/tmp``), hashed as it is written (see
:class:`UploadRequest`, installed as ``app.request_class``), so the upload is never copied
a second time. A file that is accepted is fsynced and ``os.replace``d to
``UPLOAD_FOLDER/<ab>/<rest of a random name>``; the database row follows, and the file is
removed again if that transaction does not commit. Temporary files are removed when the
request ends; those left by a crash are cleaned by ``flask verify-files``.

Nothing a user sends takes part in a path: storage names come from
:func:`filenames.random_storage_name` and go through :func:`filenames.storage_relpath`.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import logging
import os
import queue
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, ParamSpec, TypeVar

from flask import Request, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session, scoped_session

from ..filenames import is_storage_name, random_storage_name, storage_relpath

TMP_DIRNAME = "tmp"
PINS_DIRNAME = ".backup-pins"  # hard links a running backup holds (see ops/backup.py)
TMP_PREFIX = "upload-"
TMP_SUFFIX = ".part"
COPY_CHUNK = 1024 * 1024
PIPELINE_FROM = 1024 * 1024  # bytes written in the request thread before helpers take over
PIPELINE_BATCH = 1024 * 1024  # werkzeug hands over 64 KB at a time; helpers get 1 MB blocks
PIPELINE_DEPTH = 4  # blocks waiting per helper: memory stays flat
WRITEBACK_EVERY = 8 * 1024 * 1024
log = logging.getLogger(__name__)
P = ParamSpec("P")  # storage_errors keeps the signature it decorates
R = TypeVar("R")


class StorageUnavailable(Exception):
    """The uploads folder could not take a file: the disk is full, the folder read-only or gone.
    Nothing of the upload is kept (its temporary file goes with the request, a moved file with
    the rolled-back transaction); ``cause`` is the operating system's error, for the log."""

    def __init__(self, cause: OSError):
        super().__init__(f"the uploads folder could not take the file: {cause}")
        self.cause = cause


def storage_errors(function: Callable[P, R]) -> Callable[P, R]:
    """Decorator: an ``OSError`` while writing into the storage becomes
    :class:`StorageUnavailable`, which the clerk reads as a clear message (core/errors.py)."""

    @functools.wraps(function)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except OSError as err:
            raise StorageUnavailable(err) from err
    return wrapped


def upload_root() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"])


def tmp_dir(root: Path | None = None) -> Path:
    return (root or upload_root()) / TMP_DIRNAME


def path_for(storage_name: str, root: Path | None = None) -> Path:
    """The file of a stored row; raises ``ValueError`` for anything but a storage name."""
    return (root or upload_root()) / storage_relpath(storage_name)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


_STOP = object()


class _Stage(threading.Thread):
    """One step of the upload pipeline (writing or hashing), fed through a bounded queue."""

    def __init__(self, step, name: str):
        super().__init__(name=name, daemon=True)
        self.step = step
        self.queue: queue.Queue = queue.Queue(maxsize=PIPELINE_DEPTH)
        self.error: BaseException | None = None
        self.start()

    def run(self) -> None:
        while (data := self.queue.get()) is not _STOP:
            if self.error is None:
                try:
                    self.step(data)
                except BaseException as err:  # reported to the writer of the upload
                    self.error = err

    def put(self, data) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(data)

    def stop(self) -> None:
        self.queue.put(_STOP)
        self.join()
        if self.error is not None:
            raise self.error


class HashingTempFile:
    """A temporary file in the storage folder that hashes what is written to it.

    Behaves like a binary file (werkzeug writes the part, then seeks to 0; readers seek and
    read). The SHA-256 and size are known as soon as the last byte is written, unless
    someone writes after seeking, in which case :meth:`finish` hashes the file again.

    Large uploads are written and hashed by two helper threads while the request thread
    goes on parsing (file writes and ``hashlib`` release the GIL), through queues of at most
    ``PIPELINE_DEPTH`` chunks, so memory stays flat. Written data is handed to the kernel's
    writeback as it goes, so the final fsync has little left to do.
    """

    @storage_errors
    def __init__(self, directory: Path):
        directory.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=TMP_SUFFIX, dir=directory)
        self.name = name
        self._file: io.FileIO = os.fdopen(fd, "w+b", buffering=0)
        self._hash = hashlib.sha256()
        self.size = 0
        self._appending = True  # every write so far went to the end, in order
        self._hash_ok = True
        self.moved = False
        self._stages: tuple[_Stage, _Stage] | None = None
        self._batch: list[bytes] = []  # chunks gathered for the helpers (up to PIPELINE_BATCH)
        self._batched = 0
        self._written = 0  # bytes the writer stage has put into the file
        self._flushed = 0  # bytes already handed to writeback

    # -- writing, as the multipart parser does
    @storage_errors
    def write(self, data) -> int:
        n = len(data)
        if not self._appending:
            self._hash_ok = False
            self._settle()
            self._file.write(data)
            self.size += n
            return n
        self.size += n
        if self._stages is None and self.size > PIPELINE_FROM:
            self._stages = (_Stage(self._write_chunks, "upload-write"),
                            _Stage(self._hash_chunks, "upload-hash"))
        if self._stages is not None:
            self._batch.append(bytes(data))  # the caller may reuse its buffer
            self._batched += n
            if self._batched >= PIPELINE_BATCH:
                self._hand_over()
        else:
            self._hash.update(data)
            self._write_step(data)
        return n

    def _hand_over(self) -> None:
        if self._batch:
            chunks = tuple(self._batch)  # shared by both helpers, never copied
            self._batch, self._batched = [], 0
            assert self._stages is not None  # batches are gathered only while the helpers run
            for stage in self._stages:
                stage.put(chunks)

    def _hash_chunks(self, chunks) -> None:
        self._hash.update(b"".join(chunks))  # one call per block: hashlib drops the GIL for it

    def _write_chunks(self, chunks) -> None:
        fd = self._file.fileno()
        total = sum(len(c) for c in chunks)
        written = os.writev(fd, chunks)
        if written < total:  # a short write: finish the rest one by one
            rest = memoryview(b"".join(chunks))[written:]
            while rest:
                rest = rest[os.write(fd, rest):]
        self._written += total
        self._advise_writeback()

    def _write_step(self, data) -> None:
        view = memoryview(data)
        while view:
            written = self._file.write(view)
            view = view[written:]
        self._written += len(data)
        self._advise_writeback()

    def _advise_writeback(self) -> None:
        if self._written - self._flushed >= WRITEBACK_EVERY:
            # Start writing these pages to disk now (asynchronously) rather than at fsync.
            with contextlib.suppress(AttributeError, OSError):
                os.posix_fadvise(self._file.fileno(), self._flushed, self._written - self._flushed,
                                 os.POSIX_FADV_DONTNEED)
            self._flushed = self._written

    @storage_errors
    def _settle(self) -> None:
        """Wait until the helper threads have done everything queued (and stop them)."""
        if self._stages is not None:
            self._hand_over()
            stages, self._stages = self._stages, None
            errors = []
            for stage in stages:
                try:
                    stage.stop()
                except BaseException as err:
                    errors.append(err)
            if errors:
                raise errors[0]

    # -- reading, as check_upload and FileStorage users do
    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        self._settle()
        self._appending = False
        return self._file.seek(offset, whence)

    def read(self, size: int = -1) -> bytes:
        self._settle()
        self._appending = False
        return self._file.read(size)

    def readinto(self, buffer) -> int:
        self._settle()
        self._appending = False
        return self._file.readinto(buffer)

    def tell(self) -> int:
        self._settle()
        return self._file.tell()

    def flush(self) -> None:
        self._settle()

    def fileno(self) -> int:
        self._settle()
        return self._file.fileno()

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    @property
    def closed(self) -> bool:
        return self._file.closed

    def close(self) -> None:
        """Stop the helpers and close. A helper's error was raised to the writer already (or
        is raised by :meth:`finish`); closing only releases."""
        try:
            self._settle()
        except Exception:
            pass
        finally:
            self._file.close()

    def __iter__(self):
        self._settle()
        self._appending = False
        return iter(self._file)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __getattr__(self, name):  # anything else a file-like consumer may ask for
        if name.startswith("_"):
            raise AttributeError(name)
        self._settle()
        return getattr(self._file, name)

    # -- completing
    @storage_errors
    def sha256(self) -> str:
        """The SHA-256 of what was written so far; the file stays open (``finish`` follows)."""
        self._settle()
        return self._hash.hexdigest() if self._hash_ok else _hash_path(self.name)

    @storage_errors
    def finish(self) -> tuple[int, str]:
        """Flush and fsync; return (size, SHA-256 hex) of the complete file."""
        digest = self.sha256()
        os.fsync(self._file.fileno())
        if not self._hash_ok:
            self.size = os.path.getsize(self.name)
        self._file.close()
        return self.size, digest

    def discard(self) -> None:
        """Close and delete unless the file was moved into storage."""
        self.close()
        if not self.moved:
            _unlink_all([self.name])


def _hash_path(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(COPY_CHUNK):
            digest.update(block)
    return digest.hexdigest()


class UploadRequest(Request):
    """Flask's request, with multipart file parts streamed into the storage's tmp folder on an
    upload route of a live session (``guards.bound_request`` says so); anywhere else a file part
    stays in memory, the body being bounded small there, and never touches the disk."""

    streams_into_storage = False

    def _get_file_stream(self, total_content_length, content_type, filename=None,
                         content_length=None):
        if not self.streams_into_storage:
            return io.BytesIO()
        temp = HashingTempFile(tmp_dir())
        self.__dict__.setdefault("_upload_temps", []).append(temp)
        return temp

    def close(self) -> None:
        try:
            super().close()
        finally:
            for temp in self.__dict__.pop("_upload_temps", ()):
                temp.discard()


def spool(stream: IO[bytes], root: Path | None = None) -> HashingTempFile:
    """Copy any readable stream into a :class:`HashingTempFile` (for callers that did not
    come through :class:`UploadRequest`, e.g. a file made in memory)."""
    temp = HashingTempFile(tmp_dir(root))
    try:
        with contextlib.suppress(AttributeError, OSError):
            stream.seek(0)
        while block := stream.read(COPY_CHUNK):
            temp.write(block)
        temp.seek(0)
    except BaseException:
        temp.discard()
        raise
    return temp


@storage_errors
def move_into_storage(temp: HashingTempFile, root: Path | None = None) -> tuple[str, int, str]:
    """fsync the complete temp file and move it to its random storage name.

    Returns (storage_name, size, sha256). The caller registers the path with
    :func:`remove_unless_committed` before adding the row.
    """
    root = root or upload_root()
    size, digest = temp.finish()
    name = random_storage_name()
    final = path_for(name, root)
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(temp.name, final)
    temp.moved = True
    _fsync_dir(final.parent)
    return name, size, digest


# ---- files follow their rows: created files vanish on rollback, deleted ones on commit ----

_ON_ROLLBACK = "xkxl_files_remove_on_rollback"
_ON_COMMIT = "xkxl_files_remove_on_commit"


def remove_unless_committed(session: Session | scoped_session[Any], path: Path) -> None:
    session.info.setdefault(_ON_ROLLBACK, []).append(Path(path))


def remove_after_commit(session: Session | scoped_session[Any], path: Path) -> None:
    session.info.setdefault(_ON_COMMIT, []).append(Path(path))


def _unlink_all(paths) -> None:
    for path in paths:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError:  # left as an orphan; verify-files reports it
            log.exception("could not remove %s", path)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    session.info.pop(_ON_ROLLBACK, None)
    _unlink_all(session.info.pop(_ON_COMMIT, ()))


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction) -> None:
    if transaction.nested or transaction.parent is not None:
        return
    # Reached without a commit (rollback or close): new files go, deletions are undone.
    session.info.pop(_ON_COMMIT, None)
    _unlink_all(session.info.pop(_ON_ROLLBACK, ()))


# ---- checking the storage against the rows ----------------------------------------------

@dataclass(frozen=True)
class Leftover:
    """A file under the storage root that no row points at."""

    path: Path
    kind: str  # "orphan", "temp" (an upload's part file) or "pin" (a backup's hard link)
    size: int
    mtime: float
    old: bool  # written before the grace period: not an upload in progress


@dataclass
class StorageScan:
    leftovers: list[Leftover] = field(default_factory=list)

    def _paths(self, kind: str, old: bool) -> list[Path]:
        return [item.path for item in self.leftovers if item.kind == kind and item.old is old]

    @property
    def orphans(self) -> list[Path]:  # files no row points at, older than the grace period
        return self._paths("orphan", True)

    @property
    def recent(self) -> list[Path]:  # too new to judge (maybe an upload in progress)
        return [item.path for item in self.leftovers if not item.old and item.kind != "pin"]


def _kind(relative: Path, filename: str, known_names: set[str]) -> str | None:
    """What a file at ``relative/filename`` is: ``None`` for a stored file that has a row."""
    top = relative.parts[:1]
    if top == (TMP_DIRNAME,):
        return "temp"
    if top == (PINS_DIRNAME,):
        return "pin"
    name = "".join(relative.parts) + filename if len(relative.parts) == 1 else None
    if name is not None and is_storage_name(name) and name in known_names:
        return None
    return "orphan"


def scan_storage(root: Path, known_names: set[str], *, grace_seconds: float) -> StorageScan:
    """Every file under ``root`` that is not a known storage name: an orphan, a temp file or
    a backup's pin, each with its size and time, whatever its age."""
    scan = StorageScan()
    if not root.is_dir():
        return scan
    cutoff = time.time() - grace_seconds
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        relative = here.relative_to(root)
        dirnames.sort()
        for filename in sorted(filenames):
            kind = _kind(relative, filename, known_names)
            if kind is None:
                continue
            path = here / filename
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            scan.leftovers.append(Leftover(path, kind, stat.st_size, stat.st_mtime,
                                           old=stat.st_mtime < cutoff))
    return scan
