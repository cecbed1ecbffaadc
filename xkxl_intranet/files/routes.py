import json

from flask import (Blueprint, Response, abort, flash, redirect, render_template, request,
                   send_file, stream_with_context, url_for)
from flask_login import current_user, login_required
from werkzeug.routing import BuildError

from ..auth.scoping import city_required, staff_required
from ..extensions import db, htmx
from ..rounds.models import Round
from ..rounds.state import all_cities, current_round
from . import operations, queries, services
from ..applications.queries import get_application
from ..auth.scoping import city_or_404
from ..domain.errors import Refused
from .categories import APPLICATION_CATEGORIES, SUMMARY_SCAN, category as category_by_key
from ..web import content_disposition
from .storage import UploadRequest, path_for

bp = Blueprint("files", __name__, url_prefix="/files")


@bp.record_once
def _stream_uploads_into_storage(state) -> None:
    """Multipart file parts are written straight into ``UPLOAD_FOLDER/tmp`` and hashed on the
    way (see storage.UploadRequest), so an upload is never copied a second time."""
    state.app.request_class = UploadRequest


def _round_or_404() -> Round:
    round_id = request.args.get("round_id", type=int)
    round_ = db.session.get(Round, round_id) if round_id else current_round()
    if round_ is None:
        abort(404)
    return round_


def _respond(section, messages, *, changed_ids, default_url: str, panel=None):
    """htmx: the category box again (200, with its messages, and the requirements box out of
    band); with an ``HX-Trigger`` when files changed. Otherwise flash and go back (303)."""
    if htmx and not htmx.boosted:
        response = Response(render_template("files/_upload_response.html", section=section,
                                            file_panel=panel))
        if changed_ids:
            response.headers["HX-Trigger"] = json.dumps(
                {"files-changed": {"category": section.category.key, "ids": changed_ids}})
        return response
    for level, text in messages:
        flash(text, level)
    return redirect(services.return_to_url(default_url), 303)


# ---- one application's files ----------------------------------------------------------------

@bp.route("/applications/<int:application_id>")
@login_required
def application_page(application_id: int):
    application = get_application(current_user, application_id)
    context = services.files_context(application)
    try:
        detail_url = url_for("applications.detail", application_id=application.id)
    except BuildError:  # the applications pages are not installed
        detail_url = None
    return render_template("files/application.html", detail_url=detail_url, **context)


@bp.route("/applications/<int:application_id>/<category>/upload", methods=["POST"])
@login_required
@city_required
def upload(application_id: int, category: str):
    application = get_application(current_user, application_id)
    cat = category_by_key(category)
    if cat is None or cat not in APPLICATION_CATEGORIES:
        abort(404)
    outcome = operations.store_uploads(current_user, request.files.getlist("file"), category=cat,
                                     application=application)
    db.session.commit()
    panel = services.files_context(application, messages={cat.key: outcome.messages})["file_panel"]
    return _respond(panel.section(cat.key), outcome.messages, panel=panel,
                    changed_ids=[f.id for f in outcome.saved],
                    default_url=url_for(".application_page", application_id=application.id))


@bp.route("/<int:file_id>/download")
@login_required
def download(file_id: int):
    stored = queries.get_file(current_user, file_id)
    path = path_for(stored.storage_name)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=stored.mime, conditional=True, etag=stored.sha256,
                         max_age=0)
    response.headers["Content-Disposition"] = content_disposition(stored.original_name)
    response.headers["Cache-Control"] = "private, max-age=0"
    return response


@bp.route("/<int:file_id>/delete", methods=["POST"])
@login_required
@city_required
def delete(file_id: int):
    stored = queries.get_file(current_user, file_id)
    application = stored.application
    cat = stored.category_info
    name = stored.original_name
    try:
        operations.delete_file(current_user, stored)
    except Refused as err:
        messages, changed = [("danger", str(err))], []
    else:
        db.session.commit()
        messages, changed = [("success", f"已删除{cat.label}“{name}”。")], [file_id]
    if application is None:  # a city's 汇总表 scan
        section = services.summary_section(stored.city, db.session.get(Round, stored.round_id),
                                           messages=messages)
        return _respond(section, messages, changed_ids=changed, default_url=url_for(".city_files"))
    panel = services.files_context(application, messages={cat.key: messages})["file_panel"]
    return _respond(panel.section(cat.key), messages, panel=panel, changed_ids=changed,
                    default_url=url_for(".application_page", application_id=application.id))


# ---- a city's files: the 汇总表 scan and the archives ------------------------------------

@bp.route("/city")
@login_required
def city_files():
    round_ = _round_or_404()
    if current_user.is_city:
        city = city_or_404(current_user.city_id)
    else:
        city_id = request.args.get("city_id", type=int)
        city = city_or_404(city_id) if city_id else None
    context = {"round_": round_, "city": city, "cities": all_cities()}
    if city is not None:
        applications = queries.city_applications(round_.id, city.id)
        context.update(section=services.summary_section(city, round_),
                       applications=applications,
                       counts=queries.file_counts(round_.id, city.id),
                       categories=APPLICATION_CATEGORIES)
    return render_template("files/city.html", **context)


@bp.route("/city/summary-scan", methods=["POST"])
@login_required
@city_required
def upload_summary_scan():
    round_ = current_round()
    city = city_or_404(current_user.city_id)
    if round_ is None:
        abort(404)
    outcome = operations.store_uploads(current_user, request.files.getlist("file"), category=SUMMARY_SCAN,
                                     city=city, round_=round_)
    db.session.commit()
    section = services.summary_section(city, round_, messages=outcome.messages)
    return _respond(section, outcome.messages, changed_ids=[f.id for f in outcome.saved],
                    default_url=url_for(".city_files"))


def _zip_response(archive):
    response = Response(stream_with_context(archive.stream()), mimetype="application/zip")
    response.headers["Content-Disposition"] = content_disposition(archive.filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/cities/<int:city_id>/files.zip")
@login_required
def city_zip(city_id: int):
    round_ = _round_or_404()
    city = city_or_404(city_id)
    return _zip_response(services.archive_for(round_, [city]))


@bp.route("/all.zip")
@login_required
@staff_required
def all_zip():
    round_ = _round_or_404()
    return _zip_response(services.archive_for(round_, all_cities()))
