"""Where a credential slip (凭条) PDF waits for its one download. No Flask here.

The PDF holds one-time passwords in clear, so it is kept as little as possible: in a folder of
its own (``ONBOARDING_SLIPS_FOLDER``, under the instance folder, mode 0700, never the generated
files' folder that nginx reads), under a random name that also carries the creating
administrator's id (nobody else's request finds it), for one download (the file is removed as it
is handed out) or ``ONBOARDING_SLIP_MINUTES`` at most (every look at the folder removes what is
older). What it is for is not in the database: a lost slip is replaced by resetting the account's
password, which prints nothing and is shown once.

Per slip: ``<creator>-<token>.pending`` (asked for, being made), then ``.pdf`` (made) or
``.failed`` (the job failed); a ``.part`` while the PDF is being written, renamed into place.
The accounts to print (their passwords) wait for the worker in ``.request`` beside them, read and
removed by the job: never in the job queue, whose SQLite file (and its write-ahead log) would
keep them after the job has run, nor in a log line should the queue refuse the job.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import time
from enum import StrEnum
from pathlib import Path

TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
FILE_MODE = 0o600
FOLDER_MODE = 0o700


class SlipState(StrEnum):
    BUILDING = "building"
    READY = "ready"
    FAILED = "failed"
    GONE = "gone"  # downloaded already, expired, or never this administrator's


def new_token() -> str:
    return secrets.token_urlsafe(18)


def _stem(folder: Path, creator_id: int, token: str) -> Path:
    if not TOKEN.match(token):
        raise ValueError("not a slip token")
    return folder / f"{int(creator_id)}-{token}"


def _open_folder(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
    return folder


def _touch(path: Path, data: bytes = b"") -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, FILE_MODE)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def announce(folder: Path, creator_id: int, token: str) -> None:
    """The slip is asked for: its page says 正在生成 until the job has written it."""
    _touch(_stem(_open_folder(folder), creator_id, token).with_suffix(".pending"))


def put_request(folder: Path, creator_id: int, token: str, accounts: list[list[str]]) -> None:
    """The accounts the job prints, [user name, city, one-time password] each (mode 0600)."""
    _touch(_stem(_open_folder(folder), creator_id, token).with_suffix(".request"),
           json.dumps(accounts, ensure_ascii=False).encode("utf-8"))


def take_request(folder: Path, creator_id: int, token: str) -> list[list[str]] | None:
    """The job's accounts, removed as they are read; None if there are none (swept, or taken)."""
    path = _stem(folder, creator_id, token).with_suffix(".request")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    path.unlink(missing_ok=True)
    return json.loads(data)


def forget(folder: Path, creator_id: int, token: str) -> None:
    """Everything of one slip (the accounts were not created after all, or it was handed out)."""
    stem = _stem(folder, creator_id, token)
    for suffix in (".request", ".pending", ".pdf", ".failed", ".part"):
        stem.with_suffix(suffix).unlink(missing_ok=True)


def store(folder: Path, creator_id: int, token: str, pdf: bytes) -> None:
    """The job's result: written whole under a temporary name, then renamed into place."""
    stem = _stem(_open_folder(folder), creator_id, token)
    part = stem.with_suffix(".part")
    _touch(part, pdf)
    os.replace(part, stem.with_suffix(".pdf"))
    stem.with_suffix(".pending").unlink(missing_ok=True)


def mark_failed(folder: Path, creator_id: int, token: str) -> None:
    stem = _stem(_open_folder(folder), creator_id, token)
    _touch(stem.with_suffix(".failed"))
    stem.with_suffix(".pending").unlink(missing_ok=True)
    stem.with_suffix(".part").unlink(missing_ok=True)


def sweep(folder: Path, keep_seconds: float, at: float | None = None) -> int:
    """Remove every slip file older than ``keep_seconds``; how many were removed."""
    if not folder.is_dir():
        return 0
    limit = (time.time() if at is None else at) - keep_seconds
    removed = 0
    for path in folder.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < limit:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # handed out or swept by another process meanwhile
            continue
    return removed


def state(folder: Path, creator_id: int, token: str) -> SlipState:
    stem = _stem(folder, creator_id, token)
    if stem.with_suffix(".pdf").exists():
        return SlipState.READY
    if stem.with_suffix(".failed").exists():
        return SlipState.FAILED
    if stem.with_suffix(".pending").exists():
        return SlipState.BUILDING
    return SlipState.GONE


def take(folder: Path, creator_id: int, token: str) -> bytes | None:
    """The PDF, removed as it is read: a second download finds nothing."""
    path = _stem(folder, creator_id, token).with_suffix(".pdf")
    claimed = path.with_suffix(".taken")
    try:
        os.replace(path, claimed)  # one of two simultaneous downloads wins
    except FileNotFoundError:
        return None
    try:
        return claimed.read_bytes()
    finally:
        claimed.unlink(missing_ok=True)
