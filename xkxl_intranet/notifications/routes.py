"""/notifications/: the signed-in person's notices. Marking read is a plain form post (htmx
swaps the list in place); opening a notice marks it read and goes where it leads. The header's
badge is a fragment of its own, which htmx asks for again every minute as a background poll
(not activity: an open page must not keep a session alive past the idle limit)."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.routing import BuildError

from ..urls import safe_local_path
from ..web import render_page_or_fragment, unit_of_work, wants_fragment
from .models import Notification
from .operations import mark_all_read, mark_read, own_notice
from .queries import notice_page, unread_count

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


def link_of(notice: Notification) -> str | None:
    """The notice's destination as a URL; ``None`` when it has none or the page no longer exists."""
    if not notice.link_endpoint:
        return None
    try:
        return url_for(notice.link_endpoint, **(notice.link_args or {}))
    except BuildError:
        return None


@bp.app_context_processor
def inject_unread_notices():
    """The header's badge on every whole page of a signed-in person. An htmx fragment (the
    dashboard refreshing itself, a sheet's live totals) has no header, so it pays no count; the
    fragments that show one (the badge, the list) are given it by their route."""
    if not (current_user and current_user.is_authenticated) or wants_fragment():
        return {}
    return {"unread_notices": unread_count(current_user)}


def _page_number() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


def _list_response(page: int = 1):
    listing = notice_page(current_user, page)
    return render_page_or_fragment("notifications/index.html", "notifications/_list.html",
                                   listing=listing, unread_notices=listing.unread)


@bp.route("/")
@login_required
def index():
    return _list_response(_page_number())


@bp.route("/badge")
@login_required
def badge():
    return render_template("notifications/_badge.html", unread_notices=unread_count(current_user))


@bp.route("/<id:notice_id>")
@login_required
def open_notice(notice_id: int):
    """Opening a notice reads it: marked read, then to where it leads (or back to the list)."""
    with unit_of_work() as work:
        notice = mark_read(current_user, notice_id)
    target = link_of(notice) if work.ok else None
    return redirect(target or url_for("notifications.index"), 303)


def _back():
    page = _page_number_from_form()
    if wants_fragment():
        return _list_response(page)
    target = safe_local_path(request.form.get("next")) or url_for("notifications.index", page=page)
    return redirect(target, 303)


def _page_number_from_form() -> int:
    try:
        return max(1, int(request.form.get("page", "1")))
    except ValueError:
        return 1


@bp.route("/<id:notice_id>/read", methods=["POST"], endpoint="mark_read")
@login_required
def mark_read_view(notice_id: int):
    own_notice(current_user, notice_id)  # another person's notice: 404, before anything else
    with unit_of_work():
        mark_read(current_user, notice_id)
    return _back()


@bp.route("/read-all", methods=["POST"], endpoint="mark_all_read")
@login_required
def mark_all_read_view():
    with unit_of_work():
        mark_all_read(current_user)
    return _back()

