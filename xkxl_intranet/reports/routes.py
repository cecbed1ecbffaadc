"""Reports: 附件3 per city, the province-wide roster, the comparison, the indicator template and
its import. A city clerk sees only their own city's reports (another city's is a 404); the
roster and the comparison are for province staff and viewers."""
from __future__ import annotations

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template, request,
                   session, url_for)
from flask_login import current_user, login_required
from markupsafe import Markup

from ..auth.scoping import city_required, staff_required
from ..clock import now
from ..extensions import db, htmx
from ..web import content_disposition
from ..rounds.state import all_cities, current_round
from . import importing, services
from .forms import CancelForm, ContactForm, ImportConfirmForm, ImportUploadForm, MoveForm
from .layouts import ROSTER_COLUMNS, ROSTER_LISTS, SUMMARY_HEADERS
from ..printing import css_string, render_pdf
from .workbooks import roster_workbook, summary_workbook

bp = Blueprint("reports", __name__, url_prefix="/reports")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IMPORT_SESSION_KEY = "reports_import"


def _round_or_404():
    round_ = current_round()
    if round_ is None:
        abort(404)
    return round_


def _download(data: bytes, name: str, mimetype: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(name)
    response.headers["Cache-Control"] = "no-store"
    return response


# ---- index -----------------------------------------------------------------------------------------

@bp.route("/")
@login_required
def index():
    round_ = _round_or_404()
    if current_user.is_city:
        city = current_user.city
        return render_template("reports/index.html", round_=round_, city=city,
                               summary=services.build_summary(round_, city))
    return render_template("reports/index.html", round_=round_, cities=all_cities(),
                           counts=services.roster_counts(round_), lists=ROSTER_LISTS,
                           passed=services.passed_counts(round_))


# ---- 附件3 推荐信息汇总表 ---------------------------------------------------------------------

@bp.route("/summary")
@login_required
@city_required
def own_summary():
    return redirect(url_for("reports.summary", city_id=current_user.city_id))


def _summary_context(round_, city, **extra):
    summary = services.build_summary(round_, city)
    editable = bool(current_user.is_city and current_user.city_id == city.id)
    return dict(round_=round_, city=city, summary=summary, headers=SUMMARY_HEADERS, editable=editable,
                locked=services.summary_locked(round_, city), move_form=MoveForm(), **extra)


@bp.route("/cities/<int:city_id>/summary")
@login_required
def summary(city_id: int):
    round_ = _round_or_404()
    city = services.city_or_404(city_id)
    context = _summary_context(round_, city)
    contact_form = ContactForm(contact_name=city.contact_name, contact_phone=city.contact_phone)
    return render_template("reports/summary.html", contact_form=contact_form,
                           cities=all_cities() if not current_user.is_city else [], **context)


@bp.route("/cities/<int:city_id>/summary.xlsx")
@login_required
def summary_xlsx(city_id: int):
    round_ = _round_or_404()
    summary_ = services.build_summary(round_, services.city_or_404(city_id))
    return _download(summary_workbook(summary_), f"{summary_.file_stem}.xlsx", XLSX)


def html_to_pdf(html: str) -> bytes:
    return render_pdf(html, base_url=current_app.static_folder + "/")


def render_summary_pdf(summary_) -> bytes:
    return html_to_pdf(render_template("reports/summary_print.html", summary=summary_, headers=SUMMARY_HEADERS))


@bp.route("/cities/<int:city_id>/summary.pdf")
@login_required
def summary_pdf(city_id: int):
    round_ = _round_or_404()
    summary_ = services.build_summary(round_, services.city_or_404(city_id))
    return _download(render_summary_pdf(summary_), f"{summary_.file_stem}.pdf", "application/pdf")


@bp.route("/cities/<int:city_id>/summary/move", methods=["POST"])
@login_required
@city_required
def move(city_id: int):
    round_ = _round_or_404()
    city = services.city_or_404(city_id)
    form = MoveForm()
    message, level = None, "success"
    if form.validate_on_submit():
        try:
            message = services.move_application(round_, city, form.application_id.data, form.direction.data)
        except services.ReportError as err:
            db.session.rollback()
            message, level = str(err), "danger"
        else:
            db.session.commit()
    else:
        message, level = "请求无效，请刷新页面后重试。", "danger"
    if htmx and not htmx.boosted:
        return render_template("reports/_summary_table.html", message=message, level=level,
                               **_summary_context(round_, city))
    flash(message, level)
    return redirect(url_for("reports.summary", city_id=city.id) + "#summary-table", 303)


@bp.route("/cities/<int:city_id>/contact", methods=["POST"])
@login_required
@city_required
def contact(city_id: int):
    city = services.city_or_404(city_id)
    form = ContactForm()
    if form.validate_on_submit():
        try:
            services.update_contact(city, form.contact_name.data, form.contact_phone.data)
        except services.ReportError as err:
            db.session.rollback()
            flash(str(err), "danger")
        else:
            db.session.commit()
            flash("联系人和联系方式已保存，将打印在推荐信息汇总表上。", "success")
    else:
        flash("请求无效，请刷新页面后重试。", "danger")
    return redirect(url_for("reports.summary", city_id=city.id), 303)


# ---- the roster ------------------------------------------------------------------------------------

def _roster_list_or_404(list_key: str):
    if list_key not in ROSTER_LISTS:
        abort(404)
    return list_key


@bp.route("/roster/<list_key>.xlsx")
@login_required
@staff_required
def roster_xlsx(list_key: str):
    roster = services.build_roster(_round_or_404(), _roster_list_or_404(list_key))
    return _download(roster_workbook(roster), f"{roster.file_stem}.xlsx", XLSX)


def render_roster_pdf(roster) -> bytes:
    printed = roster.generated_at.strftime("%Y-%m-%d %H:%M")
    return html_to_pdf(render_template(
        "reports/roster_print.html", roster=roster, columns=ROSTER_COLUMNS, printed=printed,
        footer_left=Markup(css_string(f"打印日期：{printed}")), footer_center=Markup(css_string(roster.title))))


@bp.route("/roster/<list_key>.pdf")
@login_required
@staff_required
def roster_pdf(list_key: str):
    roster = services.build_roster(_round_or_404(), _roster_list_or_404(list_key))
    return _download(render_roster_pdf(roster), f"{roster.file_stem}.pdf", "application/pdf")


# ---- comparison ---------------------------------------------------------------------------------------

@bp.route("/compare")
@login_required
@staff_required
def compare():
    round_ = _round_or_404()
    result = services.comparison(round_, request.args.get("indicator", services.DEFAULT_INDICATOR),
                                 scope=request.args.get("scope", "all"), sort=request.args.get("sort", "rank"),
                                 descending=request.args.get("desc") == "1")
    context = dict(result=result, groups=services.indicator_groups(), scopes=services.SCOPES,
                   sorts=services.SORTS)
    if htmx and not htmx.boosted:
        return render_template("reports/_compare.html", **context)
    return render_template("reports/compare.html", **context)


# ---- the indicator template and its import ------------------------------------------------------------

@bp.route("/template.xlsx")
@login_required
@city_required
def template_xlsx():
    round_ = _round_or_404()
    city = current_user.city
    filled = request.args.get("filled") == "1"
    data = services.template_workbook(round_, city, filled=filled)
    name = f"申报指标模板_{city.name}{'_含现有申报' if filled else ''}.xlsx"
    return _download(data, name, XLSX)


def _pending_import():
    """The uploaded workbook waiting for confirmation: (session entry, path) or (None, None)."""
    entry = session.get(IMPORT_SESSION_KEY)
    if not isinstance(entry, dict):
        return None, None
    path = services.import_path(entry.get("token"))
    if path is None:
        session.pop(IMPORT_SESSION_KEY, None)
        return None, None
    return entry, path


@bp.route("/import", methods=["GET"])
@login_required
@city_required
def import_page():
    round_ = _round_or_404()
    city = current_user.city
    entry, path = _pending_import()
    preview = None
    if path is not None:
        preview = services.preview_import(path, name=entry.get("name", ""), round_=round_, city=city)
        entry["digest"] = preview.digest
        session[IMPORT_SESSION_KEY] = entry
    return render_template("reports/import.html", preview=preview, token=entry.get("token") if entry else None,
                           upload_form=ImportUploadForm(), confirm_form=ImportConfirmForm(),
                           cancel_form=CancelForm(), locked=services.summary_locked(round_, city),
                           max_mb=importing.MAX_FILE_BYTES // 1048576, max_apps=importing.MAX_APPLICATIONS)


@bp.route("/import", methods=["POST"])
@login_required
@city_required
def import_upload():
    if request.content_length and request.content_length > importing.MAX_FILE_BYTES + 256 * 1024:
        flash(f"文件过大：指标模板不超过 {importing.MAX_FILE_BYTES // 1048576} MB。", "danger")
        return redirect(url_for("reports.import_page"), 303)
    form = ImportUploadForm()
    if not form.validate_on_submit():
        flash("请求无效，请刷新页面后重试。", "danger")
        return redirect(url_for("reports.import_page"), 303)
    upload = form.file.data
    if upload is None or not upload.filename:
        flash("请选择填写好的指标模板（.xlsx）。", "danger")
        return redirect(url_for("reports.import_page"), 303)
    previous, _ = _pending_import()
    if previous:
        services.discard_import(previous.get("token"))
    try:
        token = services.store_import(upload.stream)
    except services.ReportError as err:
        flash(str(err), "danger")
        return redirect(url_for("reports.import_page"), 303)
    from ..files.naming import display_name

    session[IMPORT_SESSION_KEY] = {"token": token, "name": display_name(upload.filename),
                                   "at": now().isoformat(timespec="seconds")}
    return redirect(url_for("reports.import_page") + "#preview", 303)


@bp.route("/import/confirm", methods=["POST"])
@login_required
@city_required
def import_confirm():
    round_ = _round_or_404()
    form = ImportConfirmForm()
    entry, path = _pending_import()
    if not form.validate_on_submit() or path is None or form.token.data != entry.get("token"):
        flash("没有待确认的导入（可能已确认、已取消或超过一天已过期），请重新上传。", "warning")
        return redirect(url_for("reports.import_page"), 303)
    try:
        preview = services.apply_import(path, name=entry.get("name", ""), round_=round_, city=current_user.city,
                                        expected_digest=entry.get("digest"))
    except services.ReportError as err:
        db.session.rollback()
        flash(str(err), "danger")
        return redirect(url_for("reports.import_page") + "#preview", 303)
    db.session.commit()
    services.discard_import(entry.get("token"))
    session.pop(IMPORT_SESSION_KEY, None)
    findings = preview.count(importing.ERROR) + preview.count(importing.WARNING)
    flash(f"导入完成：新建 {len(preview.created)} 份、更新 {len(preview.updated)} 份、无变化 {len(preview.unchanged)} 份。"
          + ("有错误或提示的申报已保存为草稿，请逐份处理后再初审。" if findings else ""), "success")
    return redirect(url_for("applications.index"), 303)


@bp.route("/import/cancel", methods=["POST"])
@login_required
@city_required
def import_cancel():
    form = CancelForm()
    if form.validate_on_submit():
        entry, _ = _pending_import()
        if entry:
            services.discard_import(entry.get("token"))
        session.pop(IMPORT_SESSION_KEY, None)
        flash("已取消导入，上传的文件已删除。", "success")
    return redirect(url_for("reports.import_page"), 303)
