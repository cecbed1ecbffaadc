from pathlib import Path

from flask import Blueprint, current_app, jsonify, render_template
from flask_login import login_required
from sqlalchemy import func, select, text

from ..clock import now
from ..extensions import db
from ..files.health import MIN_FREE_UPLOADS, MiB, uploads_health
from ..rounds.models import City

bp = Blueprint("core", __name__)


@bp.route("/")
@login_required
def index():
    return render_template("core/index.html")


def _uploads() -> dict:
    """The uploads folder: writable, free space, and ``low_space`` below ``HEALTH_MIN_FREE_MB``
    (default: room for 16 uploads at the per-file limit). No path: anyone may ask."""
    config = current_app.config
    min_free_mb = config.get("HEALTH_MIN_FREE_MB") or MIN_FREE_UPLOADS * config["MAX_UPLOAD_MB"]
    return uploads_health(Path(config["UPLOAD_FOLDER"]), min_free_mb * MiB).as_dict()


@bp.route("/healthz")
def healthz():
    """Liveness, database state and the uploads folder, for the operator's monitoring. No login
    needed. ``degraded`` (still 200: pages work) when uploads cannot be stored or room is short;
    ``error`` (503) when the database does not answer."""
    body = {"status": "ok", "time": now().isoformat(), "database": {"backend": db.engine.dialect.name}}
    try:
        db.session.execute(text("SELECT 1"))
        body["database"]["state"] = "ok"
        body["database"]["cities"] = db.session.scalar(select(func.count()).select_from(City))
        try:
            body["database"]["revision"] = db.session.scalar(
                text("SELECT version_num FROM alembic_version"))
        except Exception:  # schema not migrated yet
            db.session.rollback()
            body["database"]["revision"] = None
        status = 200
    except Exception as err:  # the whole point is to report it, not to crash
        db.session.rollback()
        body["status"] = "error"
        body["database"]["state"] = "error"
        body["database"]["error"] = err.__class__.__name__
        status = 503
    body["uploads"] = _uploads()
    if body["status"] == "ok" and body["uploads"]["state"] != "ok":
        body["status"] = "degraded"
    return jsonify(body), status
