"""Files: an application's files page, uploads, downloads, deletion, the city's 汇总表 scan
and the ZIP archives. Uploads and deletions answer htmx with the category box again (and an
``HX-Trigger: files-changed``), a plain form with a flash and a redirect back. An upload of
which nothing was kept answers 4xx (see :data:`_REFUSAL_STATUS`): htmx gets the box with the
message, a plain form the page again, and the log line the reason code.

A ZIP is sent as a file built beforehand (archive_builds): waitress sends a file from its event
loop, so a client reading slowly holds no worker thread; behind nginx (``X_ACCEL_REDIRECT``)
nginx sends it. While a large archive is being built, the same URL answers a page that says how
far it is and asks again (htmx every 2 s; without JavaScript a refresh every 3 s)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_htmx import make_response
from flask_login import current_user, login_required
from werkzeug.wrappers import Response as BaseResponse

from ..applications import materials
from ..applications.file_panels import Section, files_context
from ..applications.queries import get_application
from ..audit.services import record_download
from ..auth.scoping import city_or_404, city_required, round_or_404, staff_required
from ..files import operations, queries
from ..files.archive_cache import ZIP_FOLDER, CacheLimits
from ..files.categories import application_categories
from ..files.operations import Message
from ..files.storage import UploadRequest, path_for
from ..guards import MiB, accepts_upload
from ..reports.summary_scan import store_scans, summary_section
from ..rounds.state import all_cities
from ..urls import record_id
from ..web import (
    committed,
    content_disposition,
    log_reason,
    render_page_or_fragment,
    return_to_url,
    unit_of_work,
    wants_fragment,
)
from .archive_builds import ArchiveBuilds, BuildSettings, State
from .archives import archive_ascii_name, archive_fingerprint, archive_name, archive_plan

bp = Blueprint("files", __name__, url_prefix="/files")


@bp.record_once
def _stream_uploads_into_storage(state) -> None:
    """Multipart file parts are written straight into ``UPLOAD_FOLDER/tmp`` and hashed on the
    way (see storage.UploadRequest), so an upload is never copied a second time."""
    state.app.request_class = UploadRequest


def _requested_round():
    """The round in ``?round_id=``, else the current one."""
    return round_or_404(request.args.get("round_id", type=record_id) or None)


# An upload of which nothing was kept: the rules forbid it now (the batch is reported: 409, as
# for a refused save), the file is over the limit (413, as the server's own limit), else the
# file itself is not acceptable (422). htmx swaps the box only when REFUSED_HEADER says it is one
# (static/js/files.js); any other 4xx (the server's 413, a CSRF failure) is said beside it.
_REFUSAL_STATUS = {"locked": 409, "refused": 409, "too_large": 413}
REFUSED_HEADER = "X-Upload-Refused"


@dataclass
class _Stored:
    """What an upload request did: the files to show as changed, what to tell the clerk, and
    the 4xx status when every file was refused."""
    changed_ids: list[int]
    messages: list[Message]
    refused_status: int | None = None


def _respond(section: Section, messages: list[Message], *, changed_ids: list[int],
             default_url: str, panel=None, refused_status: int | None = None,
             page_again: Callable[[], str] | None = None) -> BaseResponse:
    """htmx: the category box again (with its messages, and the requirements box out of band);
    with an ``HX-Trigger`` when files changed. Otherwise flash and go back (303). A refused
    upload answers ``refused_status``: the box for htmx, ``page_again()`` for a plain form."""
    if wants_fragment():
        trigger = ({"files-changed": {"category": section.category.key, "ids": changed_ids}}
                   if changed_ids else None)
        response = make_response(render_template("files/_upload_response.html", section=section,
                                                 file_panel=panel), trigger=trigger)
        if refused_status is not None:
            response.status_code = refused_status
            response.headers[REFUSED_HEADER] = "1"
        return response
    if refused_status is not None and page_again is not None:
        return make_response(page_again(), refused_status)
    for level, text in messages:
        flash(text, level)
    return redirect(return_to_url(default_url), 303)


def _respond_for_application(application, category_key: str, messages: list[Message], *,
                             changed_ids: list[int], refused_status: int | None = None) -> BaseResponse:
    default_url = url_for(".application_page", application_id=application.id)
    context = files_context(current_user, application, return_to=return_to_url(default_url),
                            messages={category_key: messages})
    panel = context["file_panel"]
    return _respond(panel.section(category_key), messages, panel=panel, changed_ids=changed_ids,
                    default_url=default_url, refused_status=refused_status,
                    page_again=lambda: _application_page(application, context))


def _respond_for_city(city, round_, messages: list[Message], *, changed_ids: list[int],
                      refused_status: int | None = None) -> BaseResponse:
    default_url = url_for(".city_files")
    section = summary_section(current_user, city, round_, return_to=return_to_url(default_url),
                              messages=messages)
    return _respond(section, messages, changed_ids=changed_ids, default_url=default_url,
                    refused_status=refused_status,
                    page_again=lambda: render_template("files/city.html",
                                                       **_city_context(round_, city, section)))


def _store_uploads(store, **where) -> _Stored:
    """Keep the request's files through the use case ``store`` (committed); the reasons of
    what was refused go on the request's log line."""
    with unit_of_work(flash_refusal=False) as work:
        outcome = store(current_user, request.files.getlist("file"), **where)
        changed = [f.id for f in outcome.saved + outcome.repeated]
    if work.refused is not None:
        log_reason("refused")
        return _Stored([], [("danger", work.refused.message)], _REFUSAL_STATUS["refused"])
    reasons = [r.reason for r in outcome.refusals] + (["repeated"] if outcome.repeated else [])
    if reasons:
        log_reason(",".join(dict.fromkeys(reasons)))
    status = (_REFUSAL_STATUS.get(outcome.refusals[0].reason, 422) if outcome.nothing_kept else None)
    return _Stored(changed, outcome.messages, status)


# ---- one application's files ----------------------------------------------------------------

@bp.route("/applications/<id:application_id>")
@login_required
def application_page(application_id: int):
    application = get_application(current_user, application_id)
    return _application_page(application, files_context(current_user, application, return_to=return_to_url(
        url_for(".application_page", application_id=application.id))))


def _application_page(application, context: dict) -> str:
    return render_template("files/application.html", **context, on_files_page=True,
                           detail_url=url_for("applications.detail", application_id=application.id))


@bp.route("/applications/<id:application_id>/<category>/upload", methods=["POST"])
@accepts_upload(lambda: operations.max_upload_mb() * MiB, "每个文件", "请压缩或拆分后重新上传。")
@login_required
@city_required
def upload(application_id: int, category: str):
    application = get_application(current_user, application_id)
    cat = next((c for c in application_categories(application.round.declaration.files) if c.key == category), None)
    if cat is None:  # not a file the application's round asks for
        abort(404)
    stored = _store_uploads(materials.store_uploads, category=cat, application=application)
    return _respond_for_application(application, cat.key, stored.messages, changed_ids=stored.changed_ids,
                                    refused_status=stored.refused_status)


@bp.route("/<id:file_id>/download")
@login_required
def download(file_id: int):
    stored = materials.get_file(current_user, file_id)
    path = path_for(stored.storage_name)
    if not path.is_file():
        abort(404)
    committed(lambda: record_download(current_user, "download.file", stored.original_name, object_type="stored_file",
                                      object_id=stored.id, city_id=stored.city_id))
    response = send_file(path, mimetype=stored.mime, conditional=True, etag=stored.sha256,
                         max_age=0)
    response.headers["Content-Disposition"] = content_disposition(stored.original_name, fallback=stored.plain_download_name)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<id:file_id>/delete", methods=["POST"])
@login_required
@city_required
def delete(file_id: int):
    stored = materials.get_file(current_user, file_id)
    application, city, round_id = stored.application, stored.city, stored.round_id
    cat, name = stored.category_info, stored.original_name
    with unit_of_work(flash_refusal=False) as work:
        materials.delete_file(current_user, stored)
    if work.refused is None:
        messages, changed = [("success", f"已删除{cat.label}“{name}”。")], [file_id]
    else:
        messages, changed = [("danger", work.refused.message)], []
    if application is None:  # a city's 汇总表 scan
        return _respond_for_city(city, round_or_404(round_id), messages, changed_ids=changed)
    return _respond_for_application(application, cat.key, messages, changed_ids=changed)


# ---- a city's files: the 汇总表 scan and the archives ------------------------------------

@bp.route("/city")
@login_required
def city_files():
    round_ = _requested_round()
    if current_user.is_city:
        city = city_or_404(current_user.city_id)
    else:
        city_id = request.args.get("city_id", type=record_id)
        city = city_or_404(city_id) if city_id else None
    section = (summary_section(current_user, city, round_, return_to=return_to_url(url_for(".city_files")))
               if city is not None else None)
    return render_template("files/city.html", **_city_context(round_, city, section))


def _city_context(round_, city, section: Section | None) -> dict:
    context = {"round_": round_, "city": city, "cities": all_cities()}
    if city is not None:
        context.update(section=section, applications=materials.city_applications(round_.id, city.id),
                       counts=queries.file_counts(round_.id, city.id),
                       categories=application_categories(round_.declaration.files))
    return context


@bp.route("/city/summary-scan", methods=["POST"])
@accepts_upload(lambda: operations.max_upload_mb() * MiB, "每个文件", "请压缩或拆分后重新上传。")
@login_required
@city_required
def upload_summary_scan():
    city = city_or_404(current_user.city_id)
    round_ = round_or_404()
    stored = _store_uploads(store_scans, city=city, round_=round_)
    return _respond_for_city(city, round_, stored.messages, changed_ids=stored.changed_ids,
                             refused_status=stored.refused_status)


def archive_builds() -> ArchiveBuilds:
    """This process's archive builds (one registry per application object)."""
    builds = current_app.extensions.get("xkxl_archive_builds")
    if builds is None:
        config = current_app.config
        builds = current_app.extensions.setdefault("xkxl_archive_builds", ArchiveBuilds(BuildSettings(
            folder=Path(config["GENERATED_FOLDER"]) / ZIP_FOLDER,
            limits=CacheLimits(max_bytes=config["ZIP_CACHE_MAX_MB"] * MiB,
                               reserve_bytes=config["ZIP_DISK_RESERVE_MB"] * MiB),
            inline_bytes=config["ZIP_INLINE_BYTES"], threads=config["ZIP_BUILD_THREADS"])))
    return builds


def _send_archive(path: Path, filename: str, key: str, fallback: str | None = None) -> Response:
    """The built archive: handed to nginx by X-Accel-Redirect when configured, else sent by
    waitress's file wrapper (from its event loop: no worker thread waits on the client). Its
    key is its ETag, so an interrupted download resumes (Range) only on the same bytes."""
    prefix = current_app.config.get("X_ACCEL_REDIRECT")
    if prefix:
        inside = path.relative_to(current_app.config["GENERATED_FOLDER"]).as_posix()
        response = Response(mimetype="application/zip")
        response.headers["X-Accel-Redirect"] = prefix.rstrip("/") + "/" + quote(inside)
    else:
        response = send_file(path, mimetype="application/zip", conditional=True, etag=key, max_age=0)
    response.headers["Content-Disposition"] = content_disposition(filename, fallback=fallback)
    response.headers["Cache-Control"] = "no-store"
    return response


_STATUS = {State.READY: 200, State.BUILDING: 202, State.FAILED: 503}


def _zip_response(round_, cities: list, back_url: str) -> Response:
    """The archive if it is built (a small one is built now), else where its build stands:
    the page, or for the page's htmx poll its box (200, so that htmx swaps it; once ready the
    box starts the download and polls no more). The plan runs where the build runs (a large
    one in the background), with an application context of its own."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # a proxy, typed as the app
    user_id, round_id, city_ids = current_user.id, round_.id, [c.id for c in cities]

    def plan():
        with app.app_context():
            return archive_plan(user_id, round_id, city_ids)

    outcome = archive_builds().obtain(archive_fingerprint(current_user, round_, cities), plan)
    filename = archive_name(round_, cities)
    if outcome.state is State.READY and not wants_fragment():
        assert outcome.path is not None  # a ready archive has its file
        one_city = cities[0] if len(cities) == 1 else None
        committed(lambda: record_download(
            current_user, "download.city_zip" if one_city else "download.all_zip", filename,
            object_type="city" if one_city else "round", object_id=one_city.id if one_city else round_.id,
            city_id=one_city.id if one_city else None))
        return _send_archive(outcome.path, filename, outcome.key, archive_ascii_name(round_, cities))
    response = render_page_or_fragment(
        "files/archive_progress.html", "files/_archive_progress.html", filename=filename,
        outcome=outcome, State=State, url=request.full_path.rstrip("?"), back_url=back_url)
    response.status_code = 200 if wants_fragment() else _STATUS[outcome.state]
    return response


@bp.route("/cities/<id:city_id>/files.zip")
@login_required
def city_zip(city_id: int):
    round_ = _requested_round()
    city = city_or_404(city_id)
    return _zip_response(round_, [city], url_for(".city_files", city_id=city.id, round_id=round_.id))


@bp.route("/all.zip")
@login_required
@staff_required
def all_zip():
    round_ = _requested_round()
    return _zip_response(round_, all_cities(), url_for(".city_files", round_id=round_.id))
