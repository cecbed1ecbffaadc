"""The job queue, as the web process sees it: jobs are named, enqueued after the commit that asks
for them, and run by the worker (``python -m xkxl_intranet.worker``, which the serving
command starts and supervises).

huey keeps the queue: ``SqliteHuey`` in the instance folder by default (no server to install),
``PriorityRedisHuey`` when ``XKXL_QUEUE_URL`` (or the config's ``QUEUE_URL``) is ``redis://…``,
for workers on other machines (redis-py is needed then, and only then). The web process never
imports what a job does: it enqueues a job by its name through a generic huey task (``run``, or
``call`` when a page waits for the result), and the worker fills :data:`HANDLERS` with the
functions (``job_handlers.py``, which imports the document readers). ``JOBS_INLINE`` (tests)
runs a job right after the commit in this process instead, in an app context and a database
session of its own, as a worker would.

What a job is *for* is kept in the database, not the queue (a 申报书's ``reading_state``): a
queue lost in a crash is refilled from there when the worker starts (``worker.py``).
"""
from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from huey import PriorityRedisHuey, SqliteHuey
from huey.api import Huey
from huey.exceptions import HueyException, ResultTimeout
from sqlalchemy import event
from sqlalchemy.orm import Session, scoped_session

log = logging.getLogger(__name__)

EXTENSION = "xkxl_jobs"
QUEUE_FILE = "jobs.sqlite3"
# Jobs by name; their functions are registered by job_handlers.py.
READ_FORM_JOB = "read_form"  # an uploaded 申报书 (applications/reading_job.py)
FORM_DOCX_JOB = "form_docx"  # the 申报书模板 as .docx, waited for (files/template_job.py)
PRINT_PDF_JOB = "print_pdf"  # HTML to PDF (WeasyPrint), waited for (print_job.py)
SEND_MAIL_JOB = "send_mail"  # one outbox row to the SMTP server (mail/sending.py)
CREDENTIAL_SLIPS_JOB = "credential_slips"  # new accounts' 凭条 PDF, kept for one download (auth/onboarding/slip_job.py)
HANDLERS: dict[str, Callable[..., Any]] = {}
# A job someone waits for goes before the readings (SqliteHuey and PriorityRedisHuey keep order
# by priority, then by arrival).
URGENT = 10
_AFTER_COMMIT = "xkxl_jobs_after_commit"


class JobUnavailable(Exception):
    """A job waited for did not answer in time (no worker, or all of them busy)."""


def handler(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the function that does job ``name`` (in the worker, or a test process)."""

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        HANDLERS[name] = function
        return function

    return register


def queue_url(app: Flask) -> str:
    return str(app.config.get("QUEUE_URL") or os.environ.get("XKXL_QUEUE_URL") or "")


def make_huey(app: Flask) -> Huey:
    """The queue of ``app``'s configuration, with the one task every job travels in."""
    url = queue_url(app)
    if url.startswith(("redis://", "rediss://", "unix://")):
        huey: Huey = PriorityRedisHuey("xkxl", url=url)
    else:
        huey = SqliteHuey("xkxl", filename=str(Path(app.instance_path) / QUEUE_FILE))

    @huey.task(name="run")
    def run(name: str, *args: Any) -> None:
        with app.app_context():
            run_handler(name, *args)  # nothing kept: nobody waits for it

    @huey.task(name="call")
    def call(name: str, *args: Any) -> Any:
        with app.app_context():
            return run_handler(name, *args)  # kept until the page waiting for it reads it

    huey.xkxl_run, huey.xkxl_call = run, call
    return huey


def run_handler(name: str, *args: Any) -> Any:
    try:
        function = HANDLERS[name]
    except KeyError:
        raise HueyException(f"job {name!r} has no handler in this process "
                            "(the worker imports xkxl_intranet.job_handlers)") from None
    return function(*args)


class Jobs:
    """The app's queue (``app.extensions["xkxl_jobs"]``)."""

    def __init__(self, app: Flask):
        self.app = app
        self._huey: Huey | None = None

    @property
    def inline(self) -> bool:
        return bool(self.app.config.get("JOBS_INLINE"))

    @property
    def huey(self) -> Huey:
        if self._huey is None:  # made on first use: commands that enqueue nothing never open it
            self._huey = make_huey(self.app)
        return self._huey

    def enqueue(self, name: str, *args: Any, priority: int = 0) -> None:
        """Run job ``name`` soon. Never raises: what the job is for is in the database, and the
        worker's sweep finds it if the queue could not take it now."""
        if self.inline:
            with self.app.app_context():
                run_handler(name, *args)
            return
        try:
            self.huey.enqueue(self.huey.xkxl_run.s(name, *args, priority=priority))
        except Exception:  # the queue's disk or server: logged, the sweep makes up for it
            # The job's name only: its arguments may be what must not be written down.
            log.exception("could not enqueue job %s", name)

    def enqueue_later(self, name: str, *args: Any, delay_seconds: float) -> bool:
        """Run job ``name`` in ``delay_seconds`` (a retry's back-off). False when nothing will:
        inline (tests: no worker runs it later) or the queue could not take it. The caller
        then settles what the job was for itself (the mailer marks its row failed)."""
        if self.inline:
            return False
        try:
            self.huey.enqueue(self.huey.xkxl_run.s(name, *args, delay=delay_seconds))
        except Exception:
            log.exception("could not enqueue job %s for later", name)
            return False
        return True

    def call(self, name: str, *args: Any, timeout: float | None = None) -> Any:
        """Job ``name``'s result, waited for (before the readings in the queue). Raises
        :class:`JobUnavailable` past ``timeout`` (default ``JOBS_CALL_SECONDS``)."""
        if self.inline:
            with self.app.app_context():
                return run_handler(name, *args)
        timeout = timeout or float(self.app.config.get("JOBS_CALL_SECONDS") or 30)
        try:
            result = self.huey.enqueue(self.huey.xkxl_call.s(name, *args, priority=URGENT))
            found = result.get(blocking=True, timeout=timeout, max_delay=0.2)
        except HueyException as err:  # ResultTimeout, TaskException
            log.warning("job %s: %s", name, err)
            if isinstance(err, ResultTimeout):
                result.revoke()  # nobody waits for it any more
            raise JobUnavailable(str(err)) from err
        except Exception as err:  # the queue's disk or server
            log.exception("job %s: the queue does not answer", name)
            raise JobUnavailable(str(err)) from err
        return found

    def pending(self) -> int | None:
        """Jobs waiting in the queue; None if the queue does not answer."""
        try:
            return int(self.huey.pending_count())
        except Exception:
            log.exception("queue does not answer")
            return None


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = Jobs(app)


def jobs(app: Flask | None = None) -> Jobs:
    return (app or current_app).extensions[EXTENSION]


def after_commit(session: Session | scoped_session[Any], name: str, *args: Any) -> None:
    """Enqueue job ``name`` once ``session`` commits (the worker must see what it is for); a
    rollback forgets it."""
    session.info.setdefault(_AFTER_COMMIT, []).append((name, args))


@event.listens_for(Session, "after_commit")
def _enqueue_committed(session: Session) -> None:
    waiting = session.info.pop(_AFTER_COMMIT, ())
    if waiting:
        queue = jobs()
        for name, args in waiting:
            queue.enqueue(name, *args)


@event.listens_for(Session, "after_transaction_end")
def _forget_uncommitted(session: Session, transaction) -> None:
    if transaction.nested or transaction.parent is not None:
        return
    session.info.pop(_AFTER_COMMIT, None)
