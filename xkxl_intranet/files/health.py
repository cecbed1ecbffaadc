"""The uploads folder as monitoring sees it: can a file be written there, and how much room is
left. No Flask: ``/healthz`` passes the folder and the threshold."""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .storage import tmp_dir

MiB = 1024 * 1024
# The reasoned default of HEALTH_MIN_FREE_MB, in uploads at the per-file limit: the 8 server
# threads each receiving one, counted twice (waitress buffers the body to a temporary file, the
# storage writes it again), which is the room the busiest minute before a deadline needs.
MIN_FREE_UPLOADS = 16


@dataclass(frozen=True)
class UploadsHealth:
    writable: bool
    free_bytes: int | None
    min_free_bytes: int

    @property
    def state(self) -> str:
        if not self.writable:
            return "not_writable"
        if self.free_bytes is not None and self.free_bytes < self.min_free_bytes:
            return "low_space"
        return "ok"

    def as_dict(self) -> dict:
        return {"state": self.state, "writable": self.writable, "free_bytes": self.free_bytes,
                "free_mb": None if self.free_bytes is None else self.free_bytes // MiB,
                "min_free_bytes": self.min_free_bytes}


def _can_write(root: Path) -> bool:
    """Really write (and remove) a small file where uploads are first written: permissions, a
    read-only mount, a full disk and a missing folder all show."""
    try:
        folder = tmp_dir(root)
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".healthz-", dir=folder)
        try:
            os.write(fd, b"ok")
        finally:
            os.close(fd)
            os.unlink(name)
    except OSError:
        return False
    return True


def _free_bytes(root: Path) -> int | None:
    path = root
    while not path.is_dir() and path != path.parent:  # the folder may not exist yet
        path = path.parent
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


def uploads_health(root: Path, min_free_bytes: int) -> UploadsHealth:
    return UploadsHealth(_can_write(root), _free_bytes(root), min_free_bytes)
