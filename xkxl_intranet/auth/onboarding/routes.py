"""开通市州账号 and its credential slips (凭条): the 系统管理员's pages (``services.py`` creates the
accounts, ``slip_job.py`` prints the slips in the worker, ``slips.py`` keeps the PDF for one
download by the administrator who created them)."""
from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, abort, current_app, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ...audit.services import record_download
from ...extensions import db
from ...forms import Form
from ...jobs.queue import CREDENTIAL_SLIPS_JOB, after_commit
from ...rounds.state import all_cities
from ...web import committed, content_disposition, render_page_or_fragment, unit_of_work
from ..models import Role
from ..scoping import accounts_required
from ..second_factor.services import REQUIRED_ROLES
from . import slips
from .services import MAX_PER_CITY, cities_without_accounts, create_city_accounts, parse_per_city

bp = Blueprint("onboarding", __name__)
SLIP_FILE_NAME = "账号开通凭条.pdf"
SLIP_PLAIN_NAME = "account-slips.pdf"  # for a client that ignores the Chinese name


def _folder() -> Path:
    return Path(current_app.config["ONBOARDING_SLIPS_FOLDER"])


def _keep_seconds() -> float:
    return float(current_app.config["ONBOARDING_SLIP_MINUTES"]) * 60


def system_address() -> str:
    """The address printed on a slip: ``PUBLIC_URL`` when the deployment sets it (behind a proxy
    the request's own may be an internal one), else the address this request came to."""
    return str(current_app.config.get("PUBLIC_URL") or request.url_root)


def _city_ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if re.fullmatch(r"\d{1,9}", v)]


@bp.route("/admin/users/onboard", methods=["GET", "POST"])
@login_required
@accounts_required
def new():
    form = Form()
    chosen = _city_ids(request.form.getlist("city_id"))
    per_city_text = request.form.get("per_city", "1")
    all_without = request.form.get("all_without") == "1"
    if form.validate_on_submit():
        creator_id, token = current_user.id, slips.new_token()
        slips.announce(_folder(), creator_id, token)  # the page finds it "being made" at once
        with unit_of_work() as work:
            issued = create_city_accounts(current_user, city_ids=chosen, per_city=parse_per_city(per_city_text),
                                          all_without=all_without)
            second_factor_due = bool(current_app.config.get("REQUIRE_2FA")) and Role.CITY in REQUIRED_ROLES
            # The passwords go to the job through the slips' folder (slips.put_request) and nowhere else.
            slips.put_request(_folder(), creator_id, token, [[a.username, a.city_name, a.password] for a in issued])
            after_commit(db.session, CREDENTIAL_SLIPS_JOB, str(_folder()), creator_id, token, system_address(),
                         second_factor_due)
        if work.ok:
            return redirect(url_for("onboarding.slip", token=token, n=len(issued)), 303)
        slips.forget(_folder(), creator_id, token)
    return render_template("auth/onboard.html", form=form, cities=all_cities(), chosen=set(chosen),
                           per_city=per_city_text, all_without=all_without, max_per_city=MAX_PER_CITY,
                           without=cities_without_accounts())


def _slip_state(token: str) -> slips.SlipState:
    if not slips.TOKEN.match(token):
        abort(404)
    slips.sweep(_folder(), _keep_seconds())
    return slips.state(_folder(), current_user.id, token)


@bp.route("/admin/users/slips/<token>")
@login_required
@accounts_required
def slip(token: str):
    """Where the slips stand: being made (the box asks again), ready (download once), failed, or
    gone. Another administrator's token is simply gone."""
    state = _slip_state(token)
    response = render_page_or_fragment(
        "auth/onboard_slips.html", "auth/_slips_progress.html", state=state, State=slips.SlipState, token=token,
        count=request.args.get("n", type=int), minutes=current_app.config["ONBOARDING_SLIP_MINUTES"])
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/admin/users/slips/<token>/download")
@login_required
@accounts_required
def download(token: str):
    """The PDF, once: it is removed as it is handed out."""
    if _slip_state(token) != slips.SlipState.READY:
        return redirect(url_for("onboarding.slip", token=token), 303)
    data = slips.take(_folder(), current_user.id, token)
    if data is None:  # a second click meanwhile took it
        return redirect(url_for("onboarding.slip", token=token), 303)
    committed(lambda: record_download(current_user, "download.credential_slips", SLIP_FILE_NAME,
                                      object_type="user", object_id=""))
    response = make_response(data)
    response.mimetype = "application/pdf"
    response.headers["Content-Disposition"] = content_disposition(SLIP_FILE_NAME, fallback=SLIP_PLAIN_NAME)
    response.headers["Cache-Control"] = "no-store"
    return response
