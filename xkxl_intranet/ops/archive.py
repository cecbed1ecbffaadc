"""The backup archive: what it holds, its manifest, and the names a restore accepts.

A backup is one tar file (``.tar``, or ``.tar.gz``/``.tgz`` compressed)::

    database.sqlite3 | database.pgdump   the snapshot (SQLite online backup / pg_dump -Fc)
    instance/config.py                   the instance's settings and secret key, if present
    instance/audit-chain.key             the audit trail's chain key, if present
    blobs/ab/cdef…                       stored files by the SHA-256 of their content (format 2)
    manifest.json                        what is inside: each member's size and SHA-256,
                                         database engine and revision, row counts, which blob
                                         each stored file is, and the chain it builds on
    SHA256SUMS                           the same hashes for ``sha256sum -c`` after ``tar x``

A *full* backup holds every blob its snapshot's rows need. An *incremental* one holds the whole
database again (it is small) but only the blobs its chain does not hold yet: its manifest names
the archives it builds on, the full one first, each with the SHA-256 of the whole archive, so a
restore finds them and knows them for the same files. Format 1 (before incremental backups)
stored each file under its storage name (``uploads/ab/cdef…``); a restore still reads it.

The manifest comes last because the hashes are taken while the members are written. Pure
Python: no Flask, no database.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import BinaryIO, Protocol

FORMAT = "xkxl-backup"
FORMAT_VERSION = 2
FULL, INCREMENTAL = "full", "incremental"
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
DATABASE_MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
CONFIG_MEMBER = "instance/config.py"
# The audit trail's chain key: without it the restored trail could not be verified or extended.
AUDIT_KEY_MEMBER = "instance/audit-chain.key"
_UPLOAD_MEMBER = re.compile(r"uploads/([0-9a-f]{2})/([0-9a-f]{30})")
_BLOB_MEMBER = re.compile(r"blobs/([0-9a-f]{2})/([0-9a-f]{62})")
READ_CHUNK = 1024 * 1024


@dataclass
class Manifest:
    engine: str  # "sqlite" or "postgresql"
    created_at: str  # ISO time, Asia/Shanghai
    revision: str | None  # Alembic revision of the snapshot
    counts: dict[str, int]  # rows per table
    files: dict[str, dict] = field(default_factory=dict)  # member -> {"size", "sha256"}
    missing: list[str] = field(default_factory=list)  # rows whose file was not in the storage
    damaged: list[str] = field(default_factory=list)  # rows whose file's SHA-256 differs
    app_version: str = ""
    format: str = FORMAT
    format_version: int = FORMAT_VERSION
    kind: str = FULL
    # storage name -> SHA-256 of every stored file the snapshot holds (format 2): the blob that
    # restores it, in this archive or in one of ``chain``
    uploads: dict[str, str] = field(default_factory=dict)
    # the archives an incremental backup builds on, oldest (the full one) first:
    # [{"name", "sha256", "size", "created_at"}]; empty for a full backup
    chain: list[dict] = field(default_factory=list)

    @property
    def database_member(self) -> str:
        return DATABASE_MEMBERS[self.engine]

    @property
    def full_backup(self) -> dict | None:
        """The full archive an incremental one builds on (``None`` for a full one)."""
        return self.chain[0] if self.chain else None

    def blobs(self) -> set[str]:
        """The SHA-256 of every blob held by this archive itself."""
        return {digest for member in self.files if (digest := blob_digest_of(member)) is not None}

    def damaged_blobs(self) -> set[str]:
        """Blobs written as found although their content differs from the row's SHA-256."""
        return {digest for member in self.damaged if (digest := blob_digest_of(member)) is not None}

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        try:
            raw = json.loads(data.decode("utf-8"))
            known = {name: raw[name] for name in cls.__dataclass_fields__ if name in raw}
            manifest = cls(**known)
        except (ValueError, TypeError, KeyError) as err:
            raise ValueError(f"清单 {MANIFEST} 无法读取（{err}）") from err
        if manifest.format != FORMAT or manifest.engine not in DATABASE_MEMBERS:
            raise ValueError(f"不是本系统的备份文件（{MANIFEST} 的格式为 {manifest.format!r}）")
        if manifest.format_version > FORMAT_VERSION:
            raise ValueError(f"备份格式版本 {manifest.format_version} 比本程序新，请先升级程序")
        if manifest.kind not in (FULL, INCREMENTAL) or (manifest.kind == INCREMENTAL) != bool(manifest.chain):
            raise ValueError(f"清单 {MANIFEST} 的备份类型 {manifest.kind!r} 与其备份链不符")
        return manifest

    def sums(self) -> bytes:
        return "".join(f"{entry['sha256']}  {member}\n"
                       for member, entry in sorted(self.files.items())).encode("utf-8")


def upload_member(storage_name: str) -> str:
    return f"uploads/{storage_name[:2]}/{storage_name[2:]}"


def storage_name_of(member: str) -> str | None:
    """The storage name of an ``uploads/ab/cdef…`` member (format 1), or ``None`` for anything else."""
    match = _UPLOAD_MEMBER.fullmatch(member)
    return match[1] + match[2] if match else None


def blob_member(sha256: str) -> str:
    return f"blobs/{sha256[:2]}/{sha256[2:]}"


def blob_digest_of(member: str) -> str | None:
    """The SHA-256 a ``blobs/ab/cdef…`` member is named by, or ``None`` for anything else."""
    match = _BLOB_MEMBER.fullmatch(member)
    return match[1] + match[2] if match else None


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class Writable(Protocol):
    def write(self, data: bytes, /) -> int: ...


class HashingReader:
    """A file read through once: SHA-256 and size of what was read, and a progress callback."""

    def __init__(self, raw: Readable, on_read: Callable[[int], None] | None = None):
        self.raw = raw
        self.hash = hashlib.sha256()
        self.size = 0
        self.on_read = on_read

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.hash.update(data)
        self.size += len(data)
        if self.on_read is not None and data:
            self.on_read(len(data))
        return data


class HashingWriter:
    """The archive file as it is written: its SHA-256 comes for free."""

    def __init__(self, raw: BinaryIO):
        self.raw = raw
        self.hash = hashlib.sha256()

    def write(self, data) -> int:
        self.hash.update(data)
        return self.raw.write(data)

    def flush(self) -> None:
        self.raw.flush()


def copy_hashing(source: Readable, target: Writable) -> tuple[int, str]:
    """Copy and hash in one pass; returns (size, SHA-256)."""
    digest = hashlib.sha256()
    size = 0
    while block := source.read(READ_CHUNK):
        digest.update(block)
        target.write(block)
        size += len(block)
    return size, digest.hexdigest()
