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
# ... but never more than this share of the disk: 16 uploads at 200 MB (3.2 GB) marked a small
# disk (a 20 GB virtual machine with the system on it) degraded for good, so a monitor learned to
# ignore it. A tenth of the disk is where monitoring commonly warns (90 % full); on a disk above
# 32 GB the 16 uploads are the smaller and stay the threshold.
MIN_FREE_SHARE = 0.10


def fitting_threshold(configured_bytes: int | None, default_bytes: int, total_bytes: int | None) -> int:
    """The free space below which the uploads folder is ``low_space``: an operator's
    ``HEALTH_MIN_FREE_MB`` as given; else the smaller of ``default_bytes`` (room for the busiest
    minute) and :data:`MIN_FREE_SHARE` of the disk."""
    if configured_bytes:
        return configured_bytes
    if not total_bytes:
        return default_bytes
    return min(default_bytes, int(total_bytes * MIN_FREE_SHARE))


@dataclass(frozen=True)
class UploadsHealth:
    writable: bool
    free_bytes: int | None
    min_free_bytes: int
    total_bytes: int | None = None

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
                "min_free_bytes": self.min_free_bytes, "total_bytes": self.total_bytes}


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


def disk_usage(root: Path) -> tuple[int | None, int | None]:
    """Free (for the service's unprivileged user) and total bytes of the disk under ``root``."""
    path = root
    while not path.is_dir() and path != path.parent:  # the folder may not exist yet
        path = path.parent
    try:
        usage = shutil.disk_usage(path)
    except OSError:
        return None, None
    return usage.free, usage.total


def uploads_health(root: Path, *, configured_min_free_bytes: int | None, default_min_free_bytes: int) -> UploadsHealth:
    free, total = disk_usage(root)
    threshold = fitting_threshold(configured_min_free_bytes, default_min_free_bytes, total)
    return UploadsHealth(_can_write(root), free, threshold, total)
