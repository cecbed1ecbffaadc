from flask import Blueprint, jsonify, render_template
from flask_login import login_required
from sqlalchemy import func, select, text

from ..clock import now
from ..extensions import db
from ..rounds.models import City

bp = Blueprint("core", __name__)


@bp.route("/")
@login_required
def index():
    return render_template("core/index.html")


@bp.route("/healthz")
def healthz():
    """Liveness and database state, for the operator's monitoring. No login needed."""
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
    return jsonify(body), status
