"""The audit trail page: filters by city, user, action and date, paged; and, for the
安全审计员, its export."""
from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user, login_required

from ..auth.scoping import combined_duties, reads_whole_trail, whole_trail_required
from ..domain.dates import DAY_OR_MONTH_EXAMPLES, Span, read_day_or_month
from ..domain.errors import Refused
from ..domain.findings import ParseError
from ..generated import CSV, XLSX, fetch
from ..rounds.state import all_cities, current_round
from ..urls import page_number, record_id
from ..web import render_page_or_fragment, send_document, unit_of_work
from .objects import describe_events
from .queries import ACTION_LABELS, PAGE_SIZE, TrailFilter, known_actions, trail
from .reading import export_trail, note_exported, note_viewed

bp = Blueprint("audit", __name__, url_prefix="/audit")


DATE_LABELS = {"date_from": "起始日期", "date_to": "截止日期"}


def _date_arg(name: str, problems: dict[str, str]) -> Span | None:
    """A filter date typed as a day (2022-03-21, 2022/3/21, 2022年3月21日) or a whole month
    (2022-03, 2022年3月: 从 its first day, 至 its last); an unreadable one is left out of the
    filter and said so beside its box."""
    try:
        return read_day_or_month(request.args.get(name, ""), DATE_LABELS[name])
    except ParseError as err:
        problems[name] = err.message
        return None


def _filter(problems: dict[str, str]) -> TrailFilter:
    since, until = _date_arg("date_from", problems), _date_arg("date_to", problems)
    return TrailFilter(city_id=request.args.get("city_id", type=record_id),
                       username=request.args.get("username", "").strip(),
                       action=request.args.get("action", "").strip(),
                       date_from=since.first if since else None, date_to=until.last if until else None,
                       page=request.args.get("page", 1, type=page_number))


@bp.route("/")
@login_required
def index():
    problems: dict[str, str] = {}
    f = _filter(problems)
    round_ = current_round()
    combined = combined_duties()
    events, total, f.page = trail(current_user, f, round_, combined_duties=combined)  # f.page: the page shown
    objects, key_names = describe_events(current_user, events, round_)
    actions = known_actions(current_user, round_, combined_duties=combined)
    with unit_of_work():
        note_viewed(current_user, f)
    return render_page_or_fragment("audit/index.html", "audit/_events.html",
                                   events=events, total=total, f=f, page_size=PAGE_SIZE,
                                   labels=ACTION_LABELS, actions=actions, cities=all_cities(),
                                   objects=objects, key_names=key_names,
                                   exports=reads_whole_trail(current_user, combined_duties=combined),
                                   date_problems=problems, typed=request.args, date_examples=DAY_OR_MONTH_EXAMPLES)


@bp.route("/export.xlsx", defaults={"file_format": "xlsx"})
@bp.route("/export.csv", defaults={"file_format": "csv"})
@login_required
@whole_trail_required
def export(file_format: str):
    """The filtered trail (every page of it) as a file, written on a render thread and sent by the
    server's file wrapper; a refusal (too many rows) goes back to the trail with the same filter."""
    f = _filter({})
    try:
        planned = export_trail(current_user, f, current_round(), file_format=file_format,
                               combined_duties=combined_duties())
    except Refused as refusal:
        flash(refusal.message, "danger")
        shown: dict[str, Any] = f.query(page=None)
        return redirect(url_for("audit.index", **shown), 303)
    document = fetch(f"audit-trail.{file_format}", planned.depends_on, XLSX if file_format == "xlsx" else CSV,
                     planned.write)
    return send_document(document, lambda name: note_exported(current_user, planned))
