"""The hash chain that makes the trail tamper evident.

Every row gets, when it is flushed, its place ``seq`` (1, 2, 3 … without gaps), the previous
row's hash and its own: HMAC-SHA256 over a canonical serialisation of its fields and the
previous hash, keyed by the chain key. The key lives outside the database (``AUDIT_KEY_FILE``,
by default ``instance/audit-chain.key``, 32 random bytes made on first use), so whoever can
write the database but not read the key cannot forge a row, and one changed, removed or
inserted row breaks the chain from there on (``flask audit verify``).

Writers append one at a time through the one-row ``audit_chain_head`` (:func:`seal`), so two
transactions never both follow the same row.
"""
from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from flask import current_app
from sqlalchemy import Table, event, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ..clock import now
from ..extensions import db
from .models import AuditArchive, AuditChainHead, AuditEvent

KEY_BYTES = 32
HEAD_ID = 1
# The fields a row's hash covers, in this order (not ``id``: the database gives it at insert).
SEALED_FIELDS = ("seq", "at", "user_id", "username", "ip", "action", "object_type", "object_id",
                 "city_id", "summary", "before", "after")
_DEFAULTS = {"username": "", "ip": "", "object_type": "", "object_id": "", "summary": ""}
_HEAD = cast(Table, AuditChainHead.__table__)
_EVENTS = cast(Table, AuditEvent.__table__)
_ARCHIVES = cast(Table, AuditArchive.__table__)


# ---- the key -------------------------------------------------------------------------------------

def ensure_key_file(path: Path) -> bytes:
    """The chain key in ``path``, made (32 random bytes, mode 600) if there is none yet."""
    try:
        return _read_key(path)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole under a name of its own, then linked into place: a writer in another
        # thread or process never reads a key half written (os.link fails if one is there).
        descriptor, written = tempfile.mkstemp(prefix=".audit-chain-", dir=path.parent)
        try:
            with os.fdopen(descriptor, "wb") as out:
                out.write(secrets.token_bytes(KEY_BYTES))
                out.flush()
                os.fsync(out.fileno())
            with contextlib.suppress(FileExistsError):  # another writer's key came first: it is the key
                os.link(written, path)
        finally:
            os.unlink(written)
        return _read_key(path)


def _read_key(path: Path) -> bytes:
    key = path.read_bytes()
    if len(key) < KEY_BYTES:
        raise RuntimeError(f"audit chain key {path} is shorter than {KEY_BYTES} bytes")
    return key


def key_path() -> Path:
    return Path(current_app.config["AUDIT_KEY_FILE"])


def chain_key() -> bytes:
    """This app's chain key (read once per process)."""
    key = current_app.extensions.get("xkxl_audit_key")
    if key is None:
        key = current_app.extensions.setdefault("xkxl_audit_key", ensure_key_file(key_path()))
    return key


# ---- sealing ---------------------------------------------------------------------------------------

def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(values: Mapping[str, Any]) -> bytes:
    """The row's sealed fields as one line of JSON: keys sorted, times in UTC to the
    microsecond, the JSON columns as they read back from the database (tuples as lists …)."""
    fields: dict[str, Any] = {}
    for name in SEALED_FIELDS:
        value = values.get(name)
        if isinstance(value, datetime):
            value = _utc(value)
        elif name in ("before", "after") and value is not None:
            value = json.loads(json.dumps(value))
        fields[name] = value
    return json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def row_hash(key: bytes, values: Mapping[str, Any], prev_hash: str) -> str:
    return hmac.new(key, canonical(values) + b"\n" + prev_hash.encode("ascii"), hashlib.sha256).hexdigest()


def event_values(event_: AuditEvent) -> dict[str, Any]:
    return {name: getattr(event_, name) for name in SEALED_FIELDS}


def lock_head(connection: Connection) -> tuple[int, str]:
    """Take the chain's lock for this transaction and read its newest link (seq, hash)."""
    head = _HEAD
    if connection.dialect.name == "sqlite":  # the write lock first: no other writer between read and write
        connection.execute(update(head).where(head.c.id == HEAD_ID).values(seq=head.c.seq))
    return read_head(connection)


def read_head(connection: Connection) -> tuple[int, str]:
    """The newest link (seq, hash); on PostgreSQL its row locked for this transaction."""
    head = _HEAD
    row = connection.execute(select(head.c.seq, head.c.hash).where(head.c.id == HEAD_ID).with_for_update()).first()
    if row is not None:
        return row.seq, row.hash
    # No head row (a database whose tables were emptied): start after the newest link there is;
    # of writers doing so at once one inserts it, the others then read (and lock) it.
    seq, last = newest_link(connection)
    insert = (postgresql.insert(head).on_conflict_do_nothing() if connection.dialect.name == "postgresql"
              else head.insert().prefix_with("OR IGNORE"))
    connection.execute(insert.values(id=HEAD_ID, seq=seq, hash=last))
    row = connection.execute(select(head.c.seq, head.c.hash).where(head.c.id == HEAD_ID).with_for_update()).one()
    return row.seq, row.hash


def newest_link(connection: Connection) -> tuple[int, str]:
    """The newest sealed row's (seq, hash), else the last archive's, else (0, "")."""
    events, archives = _EVENTS, _ARCHIVES
    row = connection.execute(select(events.c.seq, events.c.hash).where(events.c.seq.is_not(None))
                             .order_by(events.c.seq.desc()).limit(1)).first()
    if row is None:
        row = connection.execute(select(archives.c.last_seq, archives.c.last_hash)
                                 .order_by(archives.c.last_seq.desc()).limit(1)).first()
    return (row[0], row[1]) if row is not None else (0, "")


def _chain(events: list[AuditEvent], key: bytes, seq: int, last: str) -> tuple[int, str]:
    for event_ in events:
        seq += 1
        event_.seq, event_.prev_hash = seq, last
        event_.hash = last = row_hash(key, event_values(event_), last)
    return seq, last


def seal(events: list[AuditEvent], connection: Connection, key: bytes) -> None:
    """Give ``events`` (new, in the order recorded) their places and hashes after the head.

    PostgreSQL: the head's row is locked (``FOR UPDATE``) while it is read. SQLite's driver
    opens the transaction only at its first write, so the head is read, the chain computed and
    the head moved only if it is still where it was read (one UPDATE): that write holds the
    database's write lock, so if another writer moved it in between, it is read again under the
    lock and the chain computed once more. Either way no two transactions follow the same row."""
    for event_ in events:
        if event_.at is None:
            event_.at = now()
        for name, default in _DEFAULTS.items():
            if getattr(event_, name) is None:
                setattr(event_, name, default)
    head = _HEAD
    for _attempt in range(2):
        start = read_head(connection)
        seq, last = _chain(events, key, *start)
        moved = connection.execute(update(head).where(head.c.id == HEAD_ID, head.c.seq == start[0],
                                                      head.c.hash == start[1]).values(seq=seq, hash=last))
        if moved.rowcount == 1:
            return
    raise RuntimeError("the audit chain's head moved twice under one transaction")


@event.listens_for(Session, "before_flush")
def _seal_new_events(session: Session, flush_context, instances) -> None:
    new = [obj for obj in session.new if isinstance(obj, AuditEvent) and obj.hash is None]
    if new:
        seal(new, session.connection(), chain_key())


# ---- checking ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Break:
    """The first row where the chain does not hold."""

    seq: int | None
    id: int | None
    at: datetime | None
    what: str

    def describe(self) -> str:
        when = f"{self.at:%Y-%m-%d %H:%M:%S}" if self.at else "—"
        return f"第一处断裂：序号 {self.seq if self.seq is not None else '—'}，记录 id {self.id or '—'}，时间 {when}：{self.what}"


@dataclass(frozen=True)
class Verdict:
    checked: int
    head_seq: int
    head_hash: str
    broken: Break | None


def check_rows(rows: Iterable[Mapping[Any, Any]], key: bytes, seq: int, last: str,
               first_id: Any = None) -> tuple[int, int, str, Break | None]:
    """Walk ``rows`` (mappings with the sealed fields, ``id``, ``prev_hash``, ``hash``) in
    ``seq`` order from the link (seq, last): how many were checked, the last good link, and the
    first break if there is one."""
    checked = 0
    for row in rows:
        at = row.get("at")
        if row.get("seq") is None or row.get("hash") is None:
            return checked, seq, last, Break(None, row.get("id"), at, "未封存（没有序号或散列）")
        if row["seq"] != seq + 1:
            missing = f"序号 {seq + 1}" + (f"–{row['seq'] - 1}" if row["seq"] - 1 > seq + 1 else "")
            what = f"缺号：{missing} 不存在（被删除）" if row["seq"] > seq + 1 else f"序号重复或倒序（应为 {seq + 1}）"
            return checked, seq, last, Break(row["seq"], row.get("id"), at, what)
        if row["prev_hash"] != last:
            return checked, seq, last, Break(row["seq"], row.get("id"), at, "前一散列不符（链被改接）")
        if not hmac.compare_digest(row_hash(key, row, last), row["hash"]):
            return checked, seq, last, Break(row["seq"], row.get("id"), at, "散列不符（记录内容被修改）")
        checked, seq, last = checked + 1, row["seq"], row["hash"]
    return checked, seq, last, None


def verify_online(key: bytes, start: tuple[int, str]) -> Verdict:
    """Check the rows in the database, continuing the chain from ``start`` (the last archive's
    last link, or (0, "")), and that the head names the last row."""
    columns = [getattr(AuditEvent, name) for name in ("id", *SEALED_FIELDS, "prev_hash", "hash")]
    unsealed = db.session.execute(select(*columns).where(AuditEvent.seq.is_(None))
                                  .order_by(AuditEvent.id).limit(1)).mappings().first()
    if unsealed is not None:
        return Verdict(0, *start, Break(None, unsealed["id"], unsealed["at"], "未封存（没有序号或散列）"))
    result = db.session.execute(select(*columns).order_by(AuditEvent.seq).execution_options(yield_per=2000))
    checked, seq, last, broken = check_rows(result.mappings(), key, *start)
    if broken is None:
        head = db.session.execute(select(AuditChainHead.seq, AuditChainHead.hash)
                                  .where(AuditChainHead.id == HEAD_ID)).first()
        if head is not None and (head.seq, head.hash) != (seq, last):
            broken = Break(head.seq, None, None,
                           f"链头记录为序号 {head.seq}，而最后一条记录为序号 {seq}：其后的记录被删除")
    return Verdict(checked, seq, last, broken)
