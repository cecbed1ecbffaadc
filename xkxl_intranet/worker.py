"""The worker: ``python -m xkxl_intranet.worker``. The serving command starts it as a child
process and restarts it if it dies (``jobs/supervisor.py``); on another machine it runs on its
own, against the same database, uploads folder and Redis queue (docs/deploy.md).

It is the process that imports the document readers (``job_handlers.py``). On start it puts
back in the queue every reading the database says is waiting (a queue lost with the machine, a
reading cut short by kill -9), then runs huey's consumer: ``JOBS_WORKERS`` worker processes
(forked, each single-threaded, so that each job can fork its limited child safely), polling the
queue at least once a second, and the sweep once a minute.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path

from flask import Flask
from huey import consumer as huey_consumer
from huey import crontab

from . import (
    create_app,
    job_handlers,  # noqa: F401  (registers what the worker runs)
)
from .applications.reading_job import sweep_readings
from .audit.archive import archive_expired
from .audit.chain import chain_key
from .batches.reminders import reminder_settings, send_due_reminders
from .clock import now
from .domain.errors import Refused
from .extensions import db
from .jobs.queue import jobs
from .jobs.supervisor import SUPERVISED
from .mail.sending import sweep_mail
from .print_job import warm_up
from .processes import die_with_parent

log = logging.getLogger(__name__)
def _stop_with_parent() -> None:
    """Started by the serving command: stop (gracefully) when it ends, even by kill -9."""
    if die_with_parent(signal.SIGINT) and os.getppid() == 1:  # the parent was gone already
        sys.exit(0)


class _DiesWithConsumer:
    """huey's worker and scheduler processes end with the consumer that forked them: killed with
    it (kill -9), they would otherwise go on taking jobs nobody supervises. A reading cut short
    so is read again by the next worker (its claim names a process that is gone)."""

    def initialize(self) -> None:
        super().initialize()  # type: ignore[misc]
        die_with_parent(signal.SIGKILL)


class Worker(_DiesWithConsumer, huey_consumer.Worker):
    pass


class Scheduler(_DiesWithConsumer, huey_consumer.Scheduler):
    pass


class Consumer(huey_consumer.Consumer):
    worker_class = Worker
    scheduler_class = Scheduler


def register_sweep(app: Flask) -> None:
    """The sweep, once a minute, in a worker (a periodic task of this process's queue only)."""
    huey = jobs(app).huey

    @huey.periodic_task(crontab(minute="*"), name="sweep_readings")
    def sweep() -> None:
        with app.app_context():
            sweep_readings(everything_pending=False)
            sweep_mail()  # outbox rows whose job was lost or whose worker died mid-send


def register_audit_retention(app: Flask) -> None:
    """Once a day (03:17), rows older than ``AUDIT_RETENTION_DAYS`` move into a signed archive
    in ``AUDIT_ARCHIVE_DIR`` (audit/archive.py); an unwritable folder deletes nothing, is logged
    and makes /healthz say degraded."""
    huey = jobs(app).huey

    @huey.periodic_task(crontab(minute="17", hour="3"), name="archive_audit_trail")
    def archive_audit_trail() -> None:
        with app.app_context():
            try:
                done = archive_expired(int(app.config["AUDIT_RETENTION_DAYS"]),
                                       Path(app.config["AUDIT_ARCHIVE_DIR"]), chain_key())
            except Refused as refusal:
                log.error("audit trail not archived: %s", refusal.message)
                return
            if done is not None:
                log.info("audit trail: %d rows (seq %d-%d) archived into %s", done.rows, done.first_seq,
                         done.last_seq, done.file)


def register_reminders(app: Flask) -> None:
    """Every 5 minutes, the reminders that have come due (batches/reminders.py): a deadline's
    thresholds, the review's, passwords near expiry. Each is sent once however often this runs
    (a dedupe key per person and threshold), so a run missed while the worker was down is made
    up by the next one. huey's scheduler is the one timer; cron may also run
    ``flask notifications remind``."""
    huey = jobs(app).huey

    @huey.periodic_task(crontab(minute="*/5"), name="send_due_reminders")
    def remind() -> None:
        with app.app_context():
            try:
                done = send_due_reminders(now(), **reminder_settings(app.config))
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("reminders not sent")
                return
            finally:
                db.session.remove()
            if done.total:
                log.info("reminders: %d notices sent", done.total)


def make_consumer(app: Flask, workers: int):
    """The consumer, after the start-up sweep; its processes fork from here, so nothing open is
    shared with them (database connections, the queue's own file)."""
    warm_up()  # WeasyPrint and the CJK font, inherited by every process forked from here
    with app.app_context():
        sweep_readings(everything_pending=True)
        sweep_mail()
        db.session.remove()
        db.engine.dispose()
    register_sweep(app)
    register_audit_retention(app)
    register_reminders(app)
    return Consumer(jobs(app).huey, workers=workers, worker_type="process", periodic=True,
                    initial_delay=0.1, backoff=1.15, max_delay=1.0,
                    check_worker_health=True, health_check_interval=5)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m xkxl_intranet.worker",
                                     description="四川省工业互联网平台推荐申报系统：后台任务（读取申报书等）")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default JOBS_WORKERS, 2)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if os.environ.get(SUPERVISED) == "1":
        _stop_with_parent()
    app = create_app(commands=False)
    if app.config.get("JOBS_INLINE"):
        parser.exit(2, "JOBS_INLINE is set: jobs run in the web process, no worker is needed\n")
    workers = args.workers or int(app.config.get("JOBS_WORKERS") or 2)
    # Below the web server's priority: on the night before the deadline a page comes before a
    # reading (inherited by the worker processes and their children).
    os.nice(int(app.config.get("JOBS_NICE", 10)))
    make_consumer(app, workers).run()


if __name__ == "__main__":
    main()
