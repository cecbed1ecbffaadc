"""The audit trail page: filters by city, user, action and date, paged."""
from datetime import date

from flask import Blueprint, request
from flask_login import current_user, login_required

from ..rounds.state import all_cities, current_round
from ..urls import page_number, record_id
from ..web import render_page_or_fragment
from .queries import ACTION_LABELS, PAGE_SIZE, TrailFilter, known_actions, trail

bp = Blueprint("audit", __name__, url_prefix="/audit")


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


@bp.route("/")
@login_required
def index():
    f = TrailFilter(city_id=request.args.get("city_id", type=record_id),
                    username=request.args.get("username", "").strip(),
                    action=request.args.get("action", "").strip(),
                    date_from=_date_arg("date_from"), date_to=_date_arg("date_to"),
                    page=request.args.get("page", 1, type=page_number))
    events, total, f.page = trail(current_user, f, current_round())  # f.page: the page shown
    return render_page_or_fragment("audit/index.html", "audit/_events.html",
                                   events=events, total=total, f=f, page_size=PAGE_SIZE,
                                   labels=ACTION_LABELS, actions=known_actions(), cities=all_cities())
