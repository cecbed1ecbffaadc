from flask import Blueprint, render_template
from flask_login import login_required
from sqlalchemy import select

from ..extensions import db
from .models import Round

bp = Blueprint("rounds", __name__, url_prefix="/rounds")


@bp.route("/")
@login_required
def index():
    rounds = db.session.scalars(select(Round).order_by(Round.year.desc())).all()
    return render_template("rounds/index.html", rounds=rounds)
