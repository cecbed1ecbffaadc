"""通知公告: the province's list (with read counts), new announcement and per-city read table;
a clerk's list, the announcement (opening it marks it read for the city), 「已阅」 and the
attachments. Another city's announcement, or its attachment, is a 404."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from ..audit.services import record_download
from ..auth.scoping import announcements_required, province_required
from ..files.operations import max_upload_mb
from ..files.storage import path_for
from ..guards import MiB, accepts_upload
from ..rounds.state import all_cities
from ..urls import safe_local_path
from ..web import committed, content_disposition, render_page_or_fragment, unit_of_work, wants_fragment
from . import publishing, queries, reading
from .attachments import ATTACHMENT_KINDS_TEXT
from .forms import AnnouncementForm, ConfirmForm

bp = Blueprint("announcements", __name__, url_prefix="/announcements")


@bp.route("/")
@login_required
@announcements_required
def index():
    return render_page_or_fragment("announcements/index.html", "announcements/_list.html",
                                   listed=queries.announcements_for(current_user), confirm=ConfirmForm())


def _form_page(form: AnnouncementForm, status: int = 200):
    return render_template("announcements/new.html", form=form, cities=all_cities(),
                           kinds=ATTACHMENT_KINDS_TEXT, max_mb=max_upload_mb()), status


@bp.route("/new", methods=["GET", "POST"])
@accepts_upload(lambda: max_upload_mb() * MiB, "每个附件", "请压缩或拆分后重新上传。")
@login_required
@province_required
def new():
    form = AnnouncementForm()
    if not form.validate_on_submit():
        if request.method == "POST":  # an expired CSRF token: say so and keep what was typed
            for errors in form.errors.values():
                for message in errors:
                    flash(message, "danger")
            return _form_page(form, 400)
        return _form_page(form)
    with unit_of_work(flash_refusal=False) as work:
        announcement = publishing.publish(current_user, form.draft(), request.files.getlist("attachments"))
        announcement_id = announcement.id
    if not work.ok:
        assert work.refused is not None
        flash(work.refused.message, "danger")
        if request.files.getlist("attachments") and any(f.filename for f in request.files.getlist("attachments")):
            flash("未发布；所选附件未保存，请重新选择附件。", "warning")
        return _form_page(form, 422)
    flash("通知公告已发布。", "success")
    return redirect(url_for(".detail", announcement_id=announcement_id), 303)


@bp.route("/<id:announcement_id>")
@login_required
@announcements_required
def detail(announcement_id: int):
    announcement = queries.get_announcement(current_user, announcement_id)
    if current_user.is_city:
        # Opening it is reading it: the city's home page stops showing it.
        with unit_of_work():
            reading.mark_read(current_user, announcement_id)
    return render_template("announcements/detail.html", announcement=announcement,
                           readings=queries.readings(announcement) if current_user.is_province else None,
                           own_receipt=queries.receipt_of_city(announcement, current_user.city_id))


@bp.route("/<id:announcement_id>/read", methods=["POST"])
@login_required
@announcements_required
def mark_read(announcement_id: int):
    """「已阅」 on the home page: htmx removes the item, a plain form goes back."""
    form = ConfirmForm()
    if form.validate_on_submit():
        with unit_of_work():
            reading.mark_read(current_user, announcement_id)
    else:
        flash("页面已过期，请刷新后重试。", "danger")
    if wants_fragment():
        return ""
    return redirect(safe_local_path(request.form.get("next")) or url_for("core.index"), 303)


@bp.route("/<id:announcement_id>/files/<id:attachment_id>")
@login_required
@announcements_required
def download(announcement_id: int, attachment_id: int):
    attachment = queries.get_attachment(current_user, announcement_id, attachment_id)
    path = path_for(attachment.storage_name)
    if not path.is_file():
        abort(404)
    committed(lambda: record_download(current_user, "download.announcement_file", attachment.original_name,
                                      object_type="announcement", object_id=announcement_id,
                                      city_id=current_user.city_id))
    response = send_file(path, mimetype=attachment.mime, conditional=True, etag=attachment.sha256, max_age=0)
    response.headers["Content-Disposition"] = content_disposition(attachment.original_name, fallback=attachment.plain_download_name)
    response.headers["Cache-Control"] = "no-store"
    return response
