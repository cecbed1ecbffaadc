"""Reading an uploaded 申报书, as a job in the worker: claim the row, read the file in a child
process with limits (``jobs/limits.py``), keep what it says, and let the application's checks
see it (``applications.document.document_changed``).

A row is claimed with one conditional UPDATE (pending → running, with who and when), committed
before the file is opened: two workers given the same job (a message enqueued twice, a sweep
after a restart) read it once. The result is written only under the same claim, so a reading
asked for again meanwhile (「重新读取申报书」) is not overwritten by the older one.

A reading killed at a limit says 「超出处理限度，未能读取」; the file stays stored and the
upload was answered long before. The sweep (``sweep_readings``) puts back in the queue what the
rows say is waiting: every pending row when the worker starts (a queue lost with the machine),
and a claim whose worker is gone (kill -9, a crash) or which is older than any reading can be.
"""
from __future__ import annotations

import logging
import os
import secrets
import socket
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import or_, select, update

from ..clock import now
from ..domain.declaration import Form
from ..extensions import db
from ..files.categories import FORM
from ..files.form_reading import FAILED_MESSAGE, limits, read_form_file
from ..files.models import StoredFile
from ..files.reading_state import ReadingState, base_reading, over_limit_reading
from ..files.storage import path_for
from ..jobs.limits import ChildFailed, LimitExceeded, Limits, run_limited
from ..jobs.queue import READ_FORM_JOB, handler, jobs
from ..rounds.models import Round
from ..rounds.state import batch_is_locked
from .document import document_changed

log = logging.getLogger(__name__)

# A reading's worker died this many times (the sweep gave it back each time): it is not tried again.
MAX_ATTEMPTS = 3
# A claim older than the wall-clock limit by this much belongs to a worker that is gone.
CLAIM_GRACE = timedelta(seconds=60)
GAVE_UP_MESSAGE = "多次读取均未完成，未能读取；文件已正常保存，请人工核对"


def job_limits(config) -> Limits:
    """The child's limits, from ``JOBS_MEMORY_MB``, ``JOBS_CPU_SECONDS``, ``JOBS_WALL_SECONDS``."""
    defaults = Limits()
    return Limits(memory_mb=int(config.get("JOBS_MEMORY_MB") or defaults.memory_mb),
                  cpu_seconds=int(config.get("JOBS_CPU_SECONDS") or defaults.cpu_seconds),
                  wall_seconds=float(config.get("JOBS_WALL_SECONDS") or defaults.wall_seconds))


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def claim(file_id: int) -> str | None:
    """Take the row for this worker (pending → running); its claim, or None if it is not pending
    (read already, being read, deleted). Commits."""
    token = _worker_id()
    taken = db.session.execute(  # type: ignore[attr-defined]  # a CursorResult, typed as Result
        update(StoredFile).where(StoredFile.id == file_id,
                                 StoredFile.reading_state == ReadingState.PENDING.value)
        .values(reading_state=ReadingState.RUNNING.value, reading_claimed_by=token, reading_claimed_at=now(),
                reading_attempts=StoredFile.reading_attempts + 1)).rowcount
    db.session.commit()
    return token if taken == 1 else None


def read_isolated(path, kind: str, form: Form, config) -> tuple[dict[str, Any], ReadingState]:
    """The reading (of the fields ``form`` declares) and its state: in a limited child
    (``JOBS_ISOLATE``, the default), or here (tests that run jobs inline)."""
    bounds = limits(config)
    if not config.get("JOBS_ISOLATE", True):
        return read_form_file(path, kind, form, bounds), ReadingState.DONE
    job = job_limits(config)
    try:
        return run_limited(read_form_file, path, kind, form, bounds, limits=job), ReadingState.DONE
    except LimitExceeded as over:
        log.warning("reading %s (%s) stopped at a limit: %s", path, kind, over)
        return over_limit_reading(kind, over.reason, memory_mb=job.memory_mb, cpu_seconds=job.cpu_seconds,
                                  wall_seconds=job.wall_seconds), ReadingState.FAILED
    except ChildFailed as failure:
        log.error("reading %s (%s) failed: %s", path, kind, failure)
        return {**base_reading(kind), "status": "failed", "message": FAILED_MESSAGE}, ReadingState.FAILED


@handler(READ_FORM_JOB)
def read_form_job(file_id: int) -> str | None:
    """The job: read file ``file_id`` if it is still waiting. Returns the state it ends in."""
    token = claim(file_id)
    if token is None:
        return None
    stored = db.session.get(StoredFile, file_id)
    assert stored is not None  # claimed just now
    if stored.reading_attempts > MAX_ATTEMPTS:
        data = {**base_reading(stored.kind), "status": "failed", "message": GAVE_UP_MESSAGE}
        state = ReadingState.FAILED
    else:
        path, kind = path_for(stored.storage_name), stored.kind
        form = _form_of(stored)
        db.session.rollback()  # nothing held while the file is read
        data, state = read_isolated(path, kind, form, current_app.config)
    return state.value if finish(file_id, token, data, state) else None


def _form_of(stored: StoredFile) -> Form:
    """The 申报书 the file is read as: the form its round declares (an application's file is of its
    application's round)."""
    round_ = db.session.get(Round, stored.round_id)
    assert round_ is not None  # a file belongs to a round
    return round_.form


def finish(file_id: int, token: str, data: dict[str, Any], state: ReadingState) -> bool:
    """Keep the reading under ``token``'s claim; the application's checks follow it (not for a
    reported batch, which stays as reported). Commits. False if the claim was lost."""
    kept = db.session.execute(  # type: ignore[attr-defined]  # a CursorResult, typed as Result
        update(StoredFile).where(StoredFile.id == file_id, StoredFile.reading_claimed_by == token,
                                 StoredFile.reading_state == ReadingState.RUNNING.value)
        .values(reading=data, reading_state=state.value, reading_claimed_by=None,
                reading_claimed_at=None)).rowcount == 1
    if kept:
        stored = db.session.get(StoredFile, file_id, populate_existing=True)
        assert stored is not None  # updated just now
        application = stored.application
        if (stored.superseded_at is None and application is not None
                and not batch_is_locked(application.round_id, application.city_id)):
            document_changed(None, application)
    db.session.commit()
    return kept


def _claim_is_dead(claimed_by: str | None, claimed_at, oldest_alive) -> bool:
    if claimed_at is None or claimed_at < oldest_alive:
        return True
    host, _, rest = (claimed_by or "").partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine's worker: only its age tells
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def sweep_readings(*, everything_pending: bool, pending_before: timedelta = timedelta(minutes=2)) -> int:
    """Enqueue again what the rows say is waiting: claims of workers that are gone (back to
    pending) and pending rows — all of them (``everything_pending``, when the worker starts), or
    those waiting longer than ``pending_before`` while the queue is empty (their message was
    lost). A message too many costs nothing: the claim makes it a no-op. Commits."""
    moment = now()
    oldest_alive = moment - timedelta(seconds=job_limits(current_app.config).wall_seconds) - CLAIM_GRACE
    running = db.session.execute(select(StoredFile.id, StoredFile.reading_claimed_by, StoredFile.reading_claimed_at)
                                 .where(StoredFile.category == FORM.key,
                                        StoredFile.reading_state == ReadingState.RUNNING.value)).all()
    dead = [row.id for row in running if _claim_is_dead(row.reading_claimed_by, row.reading_claimed_at,
                                                        oldest_alive)]
    if dead:
        db.session.execute(update(StoredFile).where(StoredFile.id.in_(dead),
                                                    StoredFile.reading_state == ReadingState.RUNNING.value)
                           .values(reading_state=ReadingState.PENDING.value, reading_claimed_by=None,
                                   reading_claimed_at=None))
    queue = jobs()
    stmt = select(StoredFile.id).where(StoredFile.category == FORM.key,
                                       StoredFile.reading_state == ReadingState.PENDING.value)
    if not everything_pending:
        if queue.pending():
            stmt = stmt.where(StoredFile.id.in_(dead or [0]))
        else:
            stmt = stmt.where(or_(StoredFile.id.in_(dead or [0]),
                                  StoredFile.reading_requested_at < moment - pending_before))
    waiting = list(db.session.scalars(stmt.order_by(StoredFile.reading_requested_at, StoredFile.id)))
    db.session.commit()
    for file_id in waiting:
        queue.enqueue(READ_FORM_JOB, file_id)
    if waiting:
        log.info("reading sweep: %d enqueued (%d claims of workers that are gone)", len(waiting), len(dead))
    return len(waiting)
