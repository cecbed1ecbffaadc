"""Archiving the trail: the oldest rows move into a signed file, and the chain goes on from it.

``archive_before(moment, folder)`` takes the chain's prefix of rows older than ``moment`` (in
``seq`` order, up to the first younger row), writes them as gzip'd JSON lines into
``folder/audit-<first>-<last>.jsonl.gz`` with a signature beside it (``.sig``: HMAC-SHA256 of
the file with the chain key, and what the file holds), records the file in ``audit_archive``
(first/last seq, last hash, name, SHA-256, row count, signature) and deletes the rows, in one
transaction; the database lets a row be deleted only once such a record covers it (the
migration's triggers). The file is written and synced before the rows go; if anything fails the
rows stay and the file is removed.
"""
from __future__ import annotations

import gzip
import hashlib
import hmac
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select

from ..clock import now
from ..domain.errors import Refused
from ..extensions import db
from .chain import SEALED_FIELDS, Break, Verdict, check_rows, lock_head, verify_online
from .models import AuditArchive, AuditEvent

ROW_FIELDS = ("id", *SEALED_FIELDS, "prev_hash", "hash")


@dataclass(frozen=True)
class Archived:
    file: Path
    first_seq: int
    last_seq: int
    rows: int


def _line(row: dict[str, Any]) -> bytes:
    values = {k: (v.isoformat(timespec="microseconds") if isinstance(v, datetime) else v) for k, v in row.items()}
    return json.dumps(values, ensure_ascii=False, sort_keys=True).encode("utf-8") + b"\n"


def sign(key: bytes, data: bytes) -> str:
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def writable(folder: Path) -> bool:
    """Whether archives can be written into ``folder`` (made if missing)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".probe-"):
            return True
    except OSError:
        return False


def _prefix(moment: datetime) -> list[dict[str, Any]]:
    columns = [getattr(AuditEvent, name) for name in ROW_FIELDS]
    rows = []
    for row in db.session.execute(select(*columns).order_by(AuditEvent.seq)
                                  .execution_options(yield_per=2000)).mappings():
        if row["seq"] is None or row["at"] >= moment:
            break
        rows.append(dict(row))
    return rows


def archive_before(moment: datetime, folder: Path, key: bytes) -> Archived | None:
    """Move the rows older than ``moment`` into a signed file in ``folder`` (see the module);
    ``None`` when there are none. Flushes and commits: this is a command's whole unit of work."""
    if not writable(folder):
        raise Refused(f"归档目录（DEST）{folder} 不存在且无法创建，或不可写：审计记录未移动。")
    lock_head(db.session.connection())  # no two archivers at once, and writers wait a moment
    rows = _prefix(moment)
    if not rows:
        db.session.rollback()
        return None
    first, last = rows[0], rows[-1]
    name = f"audit-{first['seq']:010d}-{last['seq']:010d}.jsonl.gz"
    path = folder / name
    data = gzip.compress(b"".join(_line(r) for r in rows), mtime=0)
    digest, signature = hashlib.sha256(data).hexdigest(), sign(key, data)
    _write_synced(path, data)
    _write_synced(path.with_name(name + ".sig"), json.dumps({
        "file": name, "first_seq": first["seq"], "last_seq": last["seq"], "last_hash": last["hash"],
        "rows": len(rows), "sha256": digest, "hmac_sha256": signature}, indent=1).encode("utf-8"))
    try:
        db.session.add(AuditArchive(first_seq=first["seq"], last_seq=last["seq"], last_hash=last["hash"],
                                    row_count=len(rows), file_name=name, sha256=digest, signature=signature))
        db.session.flush()
        db.session.execute(delete(AuditEvent).where(AuditEvent.seq <= last["seq"]))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        path.unlink(missing_ok=True)
        path.with_name(name + ".sig").unlink(missing_ok=True)
        raise
    return Archived(path, first["seq"], last["seq"], len(rows))


def _write_synced(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".part")
    with open(partial, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    partial.replace(path)


def archives() -> list[AuditArchive]:
    return list(db.session.scalars(select(AuditArchive).order_by(AuditArchive.last_seq)))


def online_start() -> tuple[int, str]:
    """Where the rows still online continue the chain: the last archive's last link."""
    last = db.session.execute(select(AuditArchive.last_seq, AuditArchive.last_hash)
                              .order_by(AuditArchive.last_seq.desc()).limit(1)).first()
    return (last[0], last[1]) if last is not None else (0, "")


def _file_rows(data: bytes) -> Iterator[dict[str, Any]]:
    for line in gzip.decompress(data).splitlines():
        row = json.loads(line)
        row["at"] = datetime.fromisoformat(row["at"]) if row.get("at") else None
        yield row


def verify_archives(folder: Path, key: bytes) -> Verdict:
    """Check every archive file against its record (present, SHA-256, signature) and the chain
    inside it, each continuing from the one before."""
    seq, last, checked = 0, "", 0
    for record in archives():
        path = folder / record.file_name
        where = f"归档文件 {record.file_name}"
        if not path.is_file():
            return Verdict(checked, seq, last, Break(record.first_seq, None, record.at, f"{where} 不存在"))
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != record.sha256:
            return Verdict(checked, seq, last, Break(record.first_seq, None, record.at, f"{where} 的 SHA-256 不符"))
        if not hmac.compare_digest(sign(key, data), record.signature):
            return Verdict(checked, seq, last, Break(record.first_seq, None, record.at, f"{where} 的签名不符"))
        count, seq, last, broken = check_rows(_file_rows(data), key, seq, last)
        checked += count
        if broken is not None:
            return Verdict(checked, seq, last, Break(broken.seq, broken.id, broken.at, f"{where}：{broken.what}"))
        if (seq, last) != (record.last_seq, record.last_hash):
            return Verdict(checked, seq, last, Break(seq, None, record.at, f"{where} 的末条记录与归档记录不符"))
    return Verdict(checked, seq, last, None)


def verify(key: bytes, archive_folder: Path | None = None) -> Verdict:
    """The whole chain: the archives' files if ``archive_folder`` is given, then the rows online
    from the last archive's last link on."""
    checked = 0
    if archive_folder is not None:
        files = verify_archives(archive_folder, key)
        if files.broken is not None:
            return files
        checked = files.checked
    online = verify_online(key, online_start())
    return Verdict(checked + online.checked, online.head_seq, online.head_hash, online.broken)


# ---- retention ---------------------------------------------------------------------------------

# The daily job runs once a day; rows this much past the retention mean it did not.
OVERDUE_GRACE = timedelta(days=2)


def archive_expired(retention_days: int, folder: Path, key: bytes) -> Archived | None:
    """The daily job: archive the rows older than ``retention_days`` (0: keep every row online).
    An unwritable ``folder`` refuses and deletes nothing."""
    if retention_days <= 0:
        return None
    return archive_before(now() - timedelta(days=retention_days), folder, key)


def archive_overdue(retention_days: int) -> bool:
    """Whether rows older than the retention (and a grace for the daily job) are still online."""
    if retention_days <= 0:
        return False
    oldest = db.session.scalar(select(func.min(AuditEvent.at)))
    return oldest is not None and oldest < now() - timedelta(days=retention_days) - OVERDUE_GRACE
