"""Reports: 附件3 per city, the province-wide roster, the comparison, the indicator template and
its import. A city clerk sees only their own city's reports (another city's is a 404); the
roster and the comparison are for province staff and viewers.

Each route validates, calls one use case (:mod:`.summary`, :mod:`.roster`, :mod:`.compare`,
:mod:`.imports`), renders, and commits through ``unit_of_work``. The pending upload's token
lives in the session: that is HTTP's business, so it is kept here.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from ..audit.services import record_download
from ..auth.scoping import city_or_404, city_required, is_own_city_clerk, round_or_404, staff_required
from ..clock import now
from ..filenames import ascii_name, display_name
from ..generated import PDF, XLSX, fetch
from ..guards import accepts_upload
from ..review.marking import quota_standing
from ..rounds.state import all_cities, lock_reason
from ..web import render_page_or_fragment, send_document, unit_of_work, wants_fragment
from . import compare as comparisons
from . import imports
from . import roster as rosters
from . import summary as summaries
from .forms import CancelForm, ContactForm, ImportConfirmForm, ImportUploadForm, MoveForm
from .layouts import ROSTER_LISTS
from .sheet import STALE_SCAN_MESSAGE, scan_is_stale
from .template_reader import ERROR, MAX_APPLICATIONS, MAX_FILE_BYTES, WARNING
from .workbooks import roster_workbook, summary_workbook

bp = Blueprint("reports", __name__, url_prefix="/reports")

IMPORT_SESSION_KEY = "reports_import"
INVALID_REQUEST = "请求无效，请刷新页面后重试。"


# ---- index -----------------------------------------------------------------------------------------

@bp.route("/")
@login_required
def index():
    round_ = round_or_404()
    if current_user.is_city:
        city = city_or_404(current_user.city_id)
        return render_template("reports/index.html", round_=round_, city=city,
                               summary=summaries.build_summary(current_user, round_, city))
    return render_template("reports/index.html", round_=round_, cities=all_cities(), lists=ROSTER_LISTS,
                           counts=rosters.roster_counts(current_user, round_),
                           passed=summaries.passed_counts(current_user, round_))


# ---- 附件3 推荐信息汇总表 ---------------------------------------------------------------------

@bp.route("/summary")
@login_required
@city_required
def own_summary():
    return redirect(url_for("reports.summary", city_id=current_user.city_id))


def _summary_context(round_, city) -> dict:
    return dict(round_=round_, city=city, summary=summaries.build_summary(current_user, round_, city),
                editable=is_own_city_clerk(current_user, city.id),
                locked=summaries.summary_locked(round_, city), move_form=MoveForm(),
                scan_stale=scan_is_stale(round_, city), stale_scan_message=STALE_SCAN_MESSAGE)


def _summary_page(round_, city, contact_form: ContactForm, status: int = 200):
    return render_template("reports/summary.html", contact_form=contact_form,
                           cities=[] if current_user.is_city else all_cities(),
                           **_summary_context(round_, city)), status


@bp.route("/cities/<id:city_id>/summary")
@login_required
def summary(city_id: int):
    city = city_or_404(city_id)
    contact_form = ContactForm(formdata=None, contact_name=city.contact_name, contact_phone=city.contact_phone,
                               contact_email=city.contact_email)
    return _summary_page(round_or_404(), city, contact_form)


def _summary_file(city_id: int, file_kind, write):
    """The city's 附件3 as a file, made once per version of what it prints (another city's is a
    404 before any file is looked up)."""
    round_, city = round_or_404(), city_or_404(city_id)

    def make() -> tuple[bytes, str]:
        summary_ = summaries.build_summary(current_user, round_, city)
        return write(summary_), f"{summary_.file_stem}{file_kind.suffix}"

    versions = summaries.summary_versions(current_user, round_, city)
    return send_document(fetch(f"summary{file_kind.suffix}", versions, file_kind, make),
                         lambda name: record_download(current_user, "download.summary", name, object_type="city",
                                                      object_id=city.id, city_id=city.id),
                         fallback=ascii_name("fujian3", city.pinyin, round_.year, ext=file_kind.suffix))


@bp.route("/cities/<id:city_id>/summary.xlsx")
@login_required
def summary_xlsx(city_id: int):
    return _summary_file(city_id, XLSX, summary_workbook)


@bp.route("/cities/<id:city_id>/summary.pdf")
@login_required
def summary_pdf(city_id: int):
    return _summary_file(city_id, PDF, summaries.summary_pdf)


@bp.route("/cities/<id:city_id>/summary/move", methods=["POST"])
@login_required
@city_required
def move(city_id: int):
    """Up or down one place; htmx swaps the table in place, a plain form comes back to the page."""
    round_, city = round_or_404(), city_or_404(city_id)
    form = MoveForm()
    message, level = INVALID_REQUEST, "danger"
    if form.validate_on_submit():
        with unit_of_work(flash_refusal=False) as work:
            message = summaries.move_application(current_user, round_, city, form.application_id.data,
                                                 form.direction.data)
        message, level = (message, "success") if work.refused is None else (work.refused.message, "danger")
    if wants_fragment():  # the moved row's button keeps the keyboard focus (autofocus after the swap)
        moved = (form.application_id.data, form.direction.data) if form.application_id.data else None
        return render_template("reports/_summary_table.html", message=message, level=level, moved=moved,
                               **_summary_context(round_, city))
    flash(message, level)
    return redirect(url_for("reports.summary", city_id=city.id) + "#summary-table", 303)


@bp.route("/cities/<id:city_id>/contact", methods=["POST"])
@login_required
@city_required
def contact(city_id: int):
    """A refused contact comes back in place (422) as typed, the reason beside its field: a
    redirect would put the saved values back and lose what the clerk typed."""
    round_ = round_or_404()
    city = city_or_404(city_id)
    form = ContactForm()
    if form.validate_on_submit():
        with unit_of_work(flash_refusal=False) as work:
            summaries.update_contact(current_user, round_, city, form.contact_name.data,
                                     form.contact_phone.data, form.contact_email.data)
        refusal = work.refused
        if refusal is None:
            flash("联系人和联系方式已保存，将打印在推荐信息汇总表上。", "success")
            return redirect(url_for("reports.summary", city_id=city.id), 303)
        if refusal.field in ("contact_name", "contact_phone", "contact_email"):
            form[refusal.field].errors = [*form[refusal.field].errors, refusal.message]
        else:
            form.form_errors.append(refusal.message)
    else:  # the CSRF token (CSRFProtect refuses a missing one before this route)
        form.form_errors.append(INVALID_REQUEST)
    return _summary_page(round_, city, form, 422)


# ---- the roster ------------------------------------------------------------------------------------

def _roster_file(list_key: str, file_kind, write):
    """A list as a file, made once per version of its rows and per day (it prints its 导出时间);
    the quota's line is counted only when the file is made."""
    round_ = round_or_404()

    def make() -> tuple[bytes, str]:
        roster = rosters.build_roster(current_user, round_, list_key)
        return write(roster, quota_line=quota_standing(round_).line), f"{roster.file_stem}{file_kind.suffix}"

    versions = rosters.roster_versions(current_user, round_, list_key)
    return send_document(fetch(f"roster{file_kind.suffix}", versions, file_kind, make, dated=True),
                         lambda name: record_download(current_user, "download.roster", name, object_type="round",
                                                      object_id=round_.id),
                         fallback=ascii_name("roster", None if list_key == "all" else list_key, round_.year,
                                             ext=file_kind.suffix))


@bp.route("/roster/<list_key>")
@login_required
@staff_required
def roster(list_key: str):
    """The list on screen, a page at a time (its Excel and PDF hold every row), with the columns
    they print; for htmx, the table and its pager alone."""
    round_ = round_or_404()
    result = rosters.roster_page(current_user, round_, list_key, page=request.args.get("page", 1, type=int))
    return render_page_or_fragment("reports/roster.html", "reports/_roster_table.html", roster=result,
                                   quota=quota_standing(round_))


@bp.route("/roster/<list_key>.xlsx")
@login_required
@staff_required
def roster_xlsx(list_key: str):
    return _roster_file(list_key, XLSX, roster_workbook)


@bp.route("/roster/<list_key>.pdf")
@login_required
@staff_required
def roster_pdf(list_key: str):
    return _roster_file(list_key, PDF, rosters.roster_pdf)


# ---- comparison ---------------------------------------------------------------------------------------

@bp.route("/compare")
@login_required
@staff_required
def compare():
    """One URL for the page and, for htmx, the table and chart alone."""
    round_ = round_or_404()
    result = comparisons.comparison(
        current_user, round_, request.args.get("indicator", comparisons.DEFAULT_INDICATOR),
        scope=request.args.get("scope", "all"), sort=request.args.get("sort", "rank"),
        descending=request.args.get("desc") == "1")
    return render_page_or_fragment("reports/compare.html", "reports/_compare.html", result=result,
                                   groups=comparisons.indicator_groups(round_.form), scopes=comparisons.SCOPES,
                                   sorts=comparisons.sorts(round_.form))


# ---- the indicator template and its import ------------------------------------------------------------

@bp.route("/template.xlsx")
@login_required
@city_required
def template_xlsx():
    round_, city = round_or_404(), city_or_404(current_user.city_id)
    filled = request.args.get("filled") == "1"

    def make() -> tuple[bytes, str]:
        return (imports.template_workbook(current_user, round_, city, filled=filled),
                imports.template_name(city, filled=filled))

    # The blank template holds no data; the filled one holds the city's applications.
    recorded = (lambda name: record_download(current_user, "download.indicator_filled", name, object_type="city",
                                             object_id=city.id, city_id=city.id)) if filled else None
    return send_document(fetch("indicator-template.xlsx",
                               imports.template_versions(current_user, round_, city, filled=filled), XLSX, make),
                         recorded, fallback=ascii_name("indicator-template", city.pinyin, round_.year,
                                                       "filled" if filled else None, ext="xlsx"))


def _pending_import():
    """The upload waiting for confirmation, as read when it arrived: (session entry, parsed
    upload) or (None, None)."""
    entry = session.get(IMPORT_SESSION_KEY)
    if not isinstance(entry, dict):
        return None, None
    parsed = imports.pending_import(entry.get("token"))
    if parsed is None:
        session.pop(IMPORT_SESSION_KEY, None)
        return None, None
    return entry, parsed


def _back_to_import(anchor: str = ""):
    return redirect(url_for("reports.import_page") + anchor, 303)


@bp.route("/import", methods=["GET"])
@login_required
@city_required
def import_page():
    round_, city = round_or_404(), city_or_404(current_user.city_id)
    entry, parsed = _pending_import()
    preview = None
    if parsed is not None:
        preview = imports.preview_import(current_user, parsed, round_=round_, city=city)
        session[IMPORT_SESSION_KEY] = {**entry, "digest": preview.digest}
    return render_template("reports/import.html", city=city, preview=preview,
                           token=entry.get("token") if entry else None,
                           upload_form=ImportUploadForm(), confirm_form=ImportConfirmForm(),
                           cancel_form=CancelForm(), locked=imports.import_locked(round_, city),
                           max_mb=MAX_FILE_BYTES // 1048576, max_apps=MAX_APPLICATIONS)


@bp.route("/import", methods=["POST"])
@accepts_upload(lambda: MAX_FILE_BYTES, "指标模板", "请只保留模板中“指标”工作表的数据后重新上传。")
@login_required
@city_required
def import_upload():
    if imports.import_locked(round_or_404(), current_user.city):
        flash(lock_reason(round_or_404().id), "danger")
        return _back_to_import()
    form = ImportUploadForm()
    if not form.validate_on_submit():
        flash(INVALID_REQUEST, "danger")
        return _back_to_import()
    upload = form.file.data
    if upload is None or not upload.filename:
        flash("请选择填写好的指标模板（.xlsx）。", "danger")
        return _back_to_import()
    previous = session.get(IMPORT_SESSION_KEY)
    if isinstance(previous, dict):
        imports.discard_import(previous.get("token"))
        session.pop(IMPORT_SESSION_KEY, None)
    name = display_name(upload.filename)
    with unit_of_work() as work:  # read once, here; the previews read what was kept
        token = imports.receive_import(current_user, upload.stream, name=name, round_=round_or_404(),
                                       city=city_or_404(current_user.city_id))
    if not work.ok:
        return _back_to_import()
    session[IMPORT_SESSION_KEY] = {"token": token, "name": name, "at": now().isoformat(timespec="seconds")}
    return _back_to_import("#preview")


def _imported_message(preview) -> str:
    findings = preview.count(ERROR) + preview.count(WARNING)
    return (f"导入完成：新建 {len(preview.created)} 份、更新 {len(preview.updated)} 份、"
            f"无变化 {len(preview.unchanged)} 份。"
            + ("有错误或提示的申报已保存为草稿，请逐份处理后再初审。" if findings else ""))


@bp.route("/import/confirm", methods=["POST"])
@login_required
@city_required
def import_confirm():
    round_, city = round_or_404(), city_or_404(current_user.city_id)
    form = ImportConfirmForm()
    entry, parsed = _pending_import()
    if not form.validate_on_submit() or parsed is None or form.token.data != entry.get("token"):
        flash("没有待确认的导入（可能已确认、已取消或超过一天已过期），请重新上传。", "warning")
        return _back_to_import()
    with unit_of_work() as work:
        preview = imports.apply_import(current_user, parsed, round_=round_, city=city,
                                       expected_digest=entry.get("digest"))
    if not work.ok:
        return _back_to_import("#preview")
    imports.discard_import(entry.get("token"))
    session.pop(IMPORT_SESSION_KEY, None)
    flash(_imported_message(preview), "success")
    return redirect(url_for("applications.index"), 303)


@bp.route("/import/cancel", methods=["POST"])
@login_required
@city_required
def import_cancel():
    form = CancelForm()
    if form.validate_on_submit():
        entry = session.get(IMPORT_SESSION_KEY)
        if isinstance(entry, dict):
            imports.discard_import(entry.get("token"))
        session.pop(IMPORT_SESSION_KEY, None)
        flash("已取消导入，上传的文件已删除。", "success")
    return _back_to_import()
