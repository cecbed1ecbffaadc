"""The worker sends the reminders itself: a huey periodic task every five minutes that commits
what it made and, run again, makes nothing."""
from __future__ import annotations

from datetime import datetime

from xkxl_intranet import clock
from xkxl_intranet.extensions import db
from xkxl_intranet.jobs.queue import jobs
from xkxl_intranet.notifications.models import Notification
from xkxl_intranet.worker import register_reminders


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(Notification))


def test_the_worker_runs_the_reminders_every_five_minutes(app):
    register_reminders(app)
    huey = jobs(app).huey
    (task,) = [t for t in huey._registry._periodic_tasks if t.__name__ == "send_due_reminders"]
    assert task().validate_datetime(datetime(2022, 3, 19, 9, 5))
    assert not task().validate_datetime(datetime(2022, 3, 19, 9, 6))
    clock.set_now(datetime(2022, 3, 19, 9, 0, tzinfo=clock.SHANGHAI))
    task().execute()
    assert _count(app) == 2  # 成都 and 绵阳: three days to the deadline
    task().execute()
    assert _count(app) == 2
