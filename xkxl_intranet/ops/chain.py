"""Backup chains in a backup folder: which archive the next incremental backup builds on, and
which archives may be deleted without breaking a chain.

Beside each archive lie two small files, written once the archive is complete:
``<archive>.sha256`` (for ``sha256sum -c``) and ``<archive>.manifest.json`` (its manifest, with
the archive's own size and SHA-256). The next backup reads those rather than the archives (a full
one may be gigabytes). A restore never trusts them: it checks each archive of a chain against the
SHA-256 that the incremental archive's own manifest records. Pure Python: no Flask, no database.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

from ..files.health import MiB, disk_usage
from .archive import FULL, Manifest

INDEX_SUFFIX = ".manifest.json"
SUMS_SUFFIX = ".sha256"
ARCHIVE_PREFIX = "xkxl-backup-"
ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz")
# /healthz: the newest archive older than this means last night's backup did not run or failed
# (the timer runs at 02:30; two hours of grace for a long backup or a late boot).
MAX_AGE_HOURS = 26
# ... and room for one more full backup, with this margin for what was uploaded since.
FULL_MARGIN = 1.10
# A new full backup once the chain's full one is this old (XKXL_BACKUP_FULL_DAYS): a week of
# incremental archives keeps a restore to at most eight files read, and a damaged full archive
# costs at most a week of history.
FULL_EVERY_DAYS = 7


@dataclass(frozen=True)
class IndexedArchive:
    """An archive of the folder as its index describes it."""

    path: Path
    manifest: Manifest
    size: int
    sha256: str

    @property
    def created_at(self) -> datetime:
        return datetime.fromisoformat(self.manifest.created_at)

    def link(self) -> dict:
        """How an incremental archive built on this one names it."""
        return {"name": self.path.name, "sha256": self.sha256, "size": self.size,
                "created_at": self.manifest.created_at}

    def links(self) -> list[dict]:
        """The chain an archive built on this one records: this one's chain, then this one."""
        return [*self.manifest.chain, self.link()]

    @property
    def full_name(self) -> str:
        return self.path.name if self.manifest.kind == FULL else self.manifest.chain[0]["name"]

    def full_created_at(self) -> datetime:
        return self.created_at if self.manifest.kind == FULL else datetime.fromisoformat(
            self.manifest.chain[0]["created_at"])


def is_archive_name(name: str) -> bool:
    return name.startswith(ARCHIVE_PREFIX) and name.endswith(ARCHIVE_SUFFIXES)


def index_path(archive: Path) -> Path:
    return archive.with_name(archive.name + INDEX_SUFFIX)


def write_index(archive: Path, manifest: Manifest, size: int, sha256: str) -> None:
    """The index beside a finished archive (mode 600 like the archive: it lists the files)."""
    data = json.dumps({"archive": {"name": archive.name, "size": size, "sha256": sha256},
                       "manifest": asdict(manifest)}, ensure_ascii=False, indent=1, sort_keys=True)
    path = index_path(archive)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(data + "\n")


def read_index(archive: Path) -> IndexedArchive | None:
    """The archive as its index describes it; ``None`` without a readable index, or when the
    archive is gone or no longer has the size the index recorded."""
    try:
        raw = json.loads(index_path(archive).read_text(encoding="utf-8"))
        manifest = Manifest.from_bytes(json.dumps(raw["manifest"]).encode("utf-8"))
        size, sha256 = int(raw["archive"]["size"]), str(raw["archive"]["sha256"])
        if archive.stat().st_size != size:
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return IndexedArchive(archive, manifest, size, sha256)


def _archive_files(folder: Path) -> list[Path]:
    """The files of ``folder`` named as archives (none when the folder is not there)."""
    return [path for path in (folder.iterdir() if folder.is_dir() else ())
            if path.name.endswith(ARCHIVE_SUFFIXES) and path.is_file()]


def indexed_archives(folder: Path) -> list[IndexedArchive]:
    """The archives of ``folder`` with a usable index, oldest first."""
    found = [entry for path in _archive_files(folder) if (entry := read_index(path))]
    return sorted(found, key=lambda entry: (entry.created_at, entry.path.name))


@dataclass(frozen=True)
class ArchiveSummary:
    """What /healthz needs of an archive: its kind, when it was made, its size."""

    kind: str
    created_at: datetime
    size: int


@lru_cache(maxsize=1024)
def _summary(archive: str, index_mtime_ns: int, index_size: int, archive_size: int) -> ArchiveSummary | None:
    """An index read once per version of it and of its archive (the key): a night's index lists
    every stored file, and /healthz, asked every minute, would otherwise parse the whole folder's
    (30 nights of 5,000 files: 42 MiB of JSON, ≈ 0.6 s each call; benchmarks/bench_health.py)."""
    entry = read_index(Path(archive))
    return None if entry is None else ArchiveSummary(entry.manifest.kind, entry.created_at, entry.size)


def archive_summaries(folder: Path) -> list[ArchiveSummary]:
    """The archives of ``folder`` with a usable index (as :func:`indexed_archives`), oldest first."""
    found = []
    for path in _archive_files(folder):
        try:
            index, size = index_path(path).stat(), path.stat().st_size
        except OSError:
            continue
        if summary := _summary(str(path), index.st_mtime_ns, index.st_size, size):
            found.append((summary, path.name))
    return [summary for summary, _ in sorted(found, key=lambda pair: (pair[0].created_at, pair[1]))]


def chain_complete(entry: IndexedArchive, by_name: dict[str, IndexedArchive]) -> bool:
    """Is every archive ``entry`` builds on in the folder, the same file its manifest names?"""
    for link in entry.manifest.chain:
        other = by_name.get(link["name"])
        if other is None or (other.size, other.sha256) != (link["size"], link["sha256"]):
            return False
    return True


def choose_base(folder: Path, *, engine: str, moment: datetime,
                full_every_days: int = FULL_EVERY_DAYS) -> IndexedArchive | None:
    """The archive the next incremental backup in ``folder`` builds on: the newest one of the same
    database engine whose chain is whole and whose full backup is younger than
    ``full_every_days``; ``None`` when the next backup should be a full one."""
    archives = indexed_archives(folder)
    by_name = {entry.path.name: entry for entry in archives}
    for entry in reversed(archives):
        if entry.manifest.engine != engine or entry.manifest.format_version < 2:
            continue
        if not chain_complete(entry, by_name):
            continue
        if moment - entry.full_created_at() >= timedelta(days=full_every_days):
            return None  # the newest chain is old enough for a new full backup
        return entry
    return None


@dataclass
class PrunedChain:
    full_name: str
    paths: list[Path]


def _moment_of(path: Path, indexed: dict[str, IndexedArchive], tz) -> datetime:
    entry = indexed.get(path.name)
    return entry.created_at if entry else datetime.fromtimestamp(path.stat().st_mtime, tz)


def prune(folder: Path, *, keep_days: int, moment: datetime) -> list[PrunedChain]:
    """Delete the archives older than ``keep_days``, a chain at a time: a full archive goes only
    with every incremental one built on it, and only once the chain's newest archive is past
    ``keep_days``; the newest chain always stays. Archives without an index (format 1, or an index
    lost) count as a chain of their own, dated by the file. Returns what was deleted."""
    archives = sorted(p for p in folder.iterdir() if p.is_file() and is_archive_name(p.name))
    indexed = {entry.path.name: entry for entry in indexed_archives(folder)}
    chains: dict[str, list[Path]] = {}
    for path in archives:
        entry = indexed.get(path.name)
        chains.setdefault(entry.full_name if entry else path.name, []).append(path)
    newest = {key: max(_moment_of(p, indexed, moment.tzinfo) for p in paths) for key, paths in chains.items()}
    if not newest:
        return []
    latest = max(newest, key=lambda key: newest[key])
    cutoff = moment - timedelta(days=keep_days)
    pruned = []
    for key, paths in sorted(chains.items()):
        if key == latest or newest[key] >= cutoff:
            continue
        for path in paths:
            for sidecar in (path, path.with_name(path.name + SUMS_SUFFIX), index_path(path)):
                sidecar.unlink(missing_ok=True)
        pruned.append(PrunedChain(key, paths))
    return pruned


def folder_health(folder: Path, *, moment: datetime, max_age_hours: int = MAX_AGE_HOURS) -> dict:
    """The backup folder as ``/healthz`` reports it (no path): ``missing`` when it is not there or
    not writable, ``low_space`` when the disk has less room than the next full backup needs (the
    newest full one's size and a margin), ``stale`` when the newest archive is older than
    ``max_age_hours``, ``none`` before the first backup (not an alarm: a new server), else ``ok``."""
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        return {"state": "missing"}
    archives = archive_summaries(folder)
    fulls = [entry for entry in archives if entry.kind == FULL]
    needed = int(fulls[-1].size * FULL_MARGIN) if fulls else 0
    free, total = disk_usage(folder)
    body: dict = {"free_bytes": free, "free_mb": None if free is None else free // MiB, "total_bytes": total,
                  "min_free_bytes": needed, "archives": len(archives), "max_age_hours": max_age_hours}
    if archives:
        newest = archives[-1]
        body["newest_kind"] = newest.kind
        body["newest_age_hours"] = round((moment - newest.created_at).total_seconds() / 3600, 1)
    if free is not None and free < needed:
        body["state"] = "low_space"
    elif not archives:
        body["state"] = "none"
    elif body["newest_age_hours"] > max_age_hours:
        body["state"] = "stale"
    else:
        body["state"] = "ok"
    return body
