import hmac
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import func, select, text

from ..announcements.queries import unread_for_home
from ..audit.archive import archive_overdue, writable
from ..auth.models import User
from ..auth.scoping import accounts_required, combined_duties, sees_system_health
from ..batches.reporting import outstanding
from ..clock import now
from ..domain.notices import NoticeKind
from ..extensions import db
from ..files.health import MIN_FREE_UPLOADS, MiB, uploads_health
from ..files.reading_state import reading_queue
from ..jobs.queue import jobs
from ..notifications.queries import latest as latest_notices
from ..ops.chain import MAX_AGE_HOURS, folder_health
from ..ops.schema import schema_state
from ..rounds.models import City
from ..rounds.state import current_round, deadline_of, find_batch
from .system import settings_in_effect

bp = Blueprint("core", __name__)
# Notices the home page shows in a block of their own (通知公告 until read), not twice.
HOME_OWN_BLOCKS = (NoticeKind.ANNOUNCEMENT.value,)


def home_context(user: User) -> dict:
    """A clerk's home page says where their city stands: a returned batch's reason, the
    deadline that applies to the city, then what is still missing (see core/index.html)."""
    # The province's unread announcements to the city (通知公告), whatever the round.
    announced = {"home_announcements": unread_for_home(user)}
    round_ = current_round()
    if not user.is_city or user.city is None or round_ is None:
        return announced
    batch = find_batch(round_.id, user.city.id)
    return {"home_batch": batch, "home_deadline": deadline_of(round_, batch),
            "home_todo": outstanding(round_, user.city), **announced}


@bp.route("/")
def index():
    # Not @login_required: opening the system's address is not an error, so an anonymous
    # visitor goes to the log-in page without the "请先登录" warning deeper pages get.
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return render_template("core/index.html", home_notices=latest_notices(current_user, 5, besides=HOME_OWN_BLOCKS),
                           **home_context(current_user))


@bp.route("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page links; answer it instead of a 404."""
    return send_from_directory(current_app.static_folder, "favicon.ico",
                               mimetype="image/vnd.microsoft.icon", max_age=86400)


def _uploads() -> dict:
    """The uploads folder: writable, free space, and ``low_space`` below ``HEALTH_MIN_FREE_MB``
    (default: room for 16 uploads at the per-file limit, or a tenth of a smaller disk:
    files/health.py). No path: anyone may ask."""
    config = current_app.config
    configured = config.get("HEALTH_MIN_FREE_MB")
    return uploads_health(Path(config["UPLOAD_FOLDER"]),
                          configured_min_free_bytes=int(configured) * MiB if configured else None,
                          default_min_free_bytes=MIN_FREE_UPLOADS * config["MAX_UPLOAD_MB"] * MiB).as_dict()


# A reading waiting longer than this means no worker is taking jobs (HEALTH_MAX_QUEUE_AGE_SECONDS).
MAX_QUEUE_AGE_SECONDS = 600


def _queue() -> dict:
    """The jobs: how many wait in the queue, the readings the database says are waiting and how
    long the oldest has waited; ``stalled`` past ``HEALTH_MAX_QUEUE_AGE_SECONDS``. No paths."""
    config = current_app.config
    queue = jobs()
    readings = reading_queue()
    oldest = readings.oldest_seconds()
    limit = int(config.get("HEALTH_MAX_QUEUE_AGE_SECONDS") or MAX_QUEUE_AGE_SECONDS)
    pending = None if queue.inline else queue.pending()
    state = "stalled" if oldest is not None and oldest > limit else "ok"
    if pending is None and not queue.inline:
        state = "error"
    return {"state": state, "backend": "inline" if queue.inline else queue.huey.__class__.__name__,
            "pending": pending, "readings_waiting": readings.waiting, "oldest_seconds": oldest,
            "max_age_seconds": limit}


def _audit() -> dict:
    """The audit trail's retention: ``unwritable`` when the archive folder cannot take the daily
    archive (nothing is deleted then), ``overdue`` when rows past the retention are still online
    (the daily job did not run). No path."""
    config = current_app.config
    days = int(config["AUDIT_RETENTION_DAYS"])
    if days > 0 and not writable(Path(config["AUDIT_ARCHIVE_DIR"])):
        state = "unwritable"
    else:
        state = "overdue" if archive_overdue(days) else "ok"
    return {"state": state, "retention_days": days}


def _backups() -> dict | None:
    """The backup folder (``BACKUP_DIR``, set on a server by xkxl.env): free space against the
    next full backup, and the newest archive's age (``HEALTH_BACKUP_MAX_AGE_HOURS``). No path."""
    config = current_app.config
    if not config.get("BACKUP_DIR"):
        return None
    return folder_health(Path(config["BACKUP_DIR"]), moment=now(),
                         max_age_hours=int(config.get("HEALTH_BACKUP_MAX_AGE_HOURS") or MAX_AGE_HOURS))


def _shows_health_details() -> bool:
    """The details are for the system's administrator (:func:`sees_system_health`) or a monitor
    sending ``Authorization: Bearer <HEALTH_TOKEN>`` (compared in constant time; no token set:
    no monitor reads them)."""
    if sees_system_health(current_user, combined_duties=combined_duties()):
        return True
    expected = current_app.config.get("HEALTH_TOKEN") or ""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return bool(expected) and scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode("utf-8"), expected.encode("utf-8"))


def health_report() -> tuple[dict, int]:
    """Liveness, database state, the uploads folder and the job queue, and the HTTP status that
    says it: ``degraded`` when uploads cannot be stored, room is short or the queue does not move;
    ``error`` when the database does not answer or its schema is not this program's head (both
    revisions are given). Both answer 503: a monitor that reads only the status code (the usual
    HTTP check) must alert on either, and pages still working is no reason to stay silent."""
    body: dict[str, Any] = {"status": "ok", "time": now().isoformat(), "database": {"backend": db.engine.dialect.name}}
    try:
        db.session.execute(text("SELECT 1"))
        body["database"]["state"] = "ok"
        schema = schema_state(db.engine)
        body["database"]["revision"], body["database"]["head"] = schema.revision, schema.head
        status = 200
        if schema.at_head:
            body["database"]["cities"] = db.session.scalar(select(func.count()).select_from(City))
        else:  # new code on a database not upgraded: pages would fail, the server refuses to start
            body["status"] = "error"
            body["database"]["state"] = "schema_not_at_head"
            status = 503
    except Exception as err:  # the whole point is to report it, not to crash
        db.session.rollback()
        body["status"] = "error"
        body["database"]["state"] = "error"
        body["database"]["error"] = err.__class__.__name__
        status = 503
    body["uploads"] = _uploads()
    if (backups := _backups()) is not None:
        body["backups"] = backups
    if body["status"] == "ok":
        body["queue"] = _queue()
        body["audit"] = _audit()
    if body["status"] == "ok" and (body["uploads"]["state"] != "ok" or body.get("queue", {}).get("state") != "ok"
                                   or body.get("audit", {}).get("state") != "ok"
                                   or body.get("backups", {}).get("state", "ok") not in ("ok", "none")):
        body["status"] = "degraded"
        status = 503
    return body, status


@bp.route("/healthz")
def healthz():
    """:func:`health_report`, for the operator's monitoring. No login needed for the verdict:
    anyone else gets that word alone; the details (database backend and revision, cities, free
    space, the queue) tell an intruder what runs here, so they need the administrator or the
    monitor's token."""
    body, status = health_report()
    if not _shows_health_details():
        body = {"status": body["status"]}
    return jsonify(body), status


@bp.route("/admin/system")
@login_required
@accounts_required
def system():
    """系统设置与状态: the security settings in effect and the system's health, read-only."""
    health, _ = health_report()
    return render_template("core/system.html", settings=settings_in_effect(current_app.config), health=health)
