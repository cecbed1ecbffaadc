"""Applications: the list, the form (with live checks), the detail page, 市州初审, delete."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_htmx import make_response
from flask_login import current_user, login_required
from markupsafe import Markup

from ..audit.services import record_download, record_unless_lately
from ..auth.scoping import city_required, round_or_404
from ..domain.checks import sum_statuses
from ..domain.errors import Refused
from ..domain.form_outline import section_states
from ..domain.parsing import parse_input
from ..filenames import ascii_name
from ..files.queries import missing_requirements
from ..generated import DOCX, PDF, fetch
from ..rounds.state import all_cities, batch_is_locked, lock_reason
from ..urls import record_id
from ..web import render_page_or_fragment, send_document, unit_of_work, wants_fragment
from .document import (
    document_panel,
    fill_form_data,
    prefilled_docx,
    prefilled_versions,
    reread_form,
    template_docx,
    template_pdf,
    template_versions,
)
from .evaluation import evaluate, evaluate_input
from .file_panels import files_context
from .forms import (
    AcknowledgeForm,
    ConfirmForm,
    DeleteForm,
    ReviewForm,
    application_form,
    expected_version,
    form_data,
    typed_values,
)
from .models import ReviewState
from .operations import (
    EditConflict,
    acknowledge_warning,
    delete_application,
    edit_conflict,
    is_editable,
    save_application,
    set_review,
)
from .page_parts import parts_of_detail
from .queries import (
    duplicate_ids,
    get_application,
    history,
    list_applications,
    number_in_summary,
    state_counts,
)
from .rules import marks_visible_to

bp = Blueprint("applications", __name__, url_prefix="/applications")

def _files_section(application) -> tuple[Markup, list[str]]:
    """The files domain's fragment for this application, and what its files still lack
    (computed from the same query, so the page reads the files once)."""
    here = url_for("applications.detail", application_id=application.id)
    context = files_context(current_user, application, return_to=here)
    html = Markup(render_template("files/_application_files.html", **context))
    return html, context["file_panel"].missing


@bp.route("/")
@login_required
def index():
    round_ = round_or_404()
    filters = {"q": request.args.get("q", "").strip(), "state": request.args.get("state", ""),
               "city_id": request.args.get("city_id", type=record_id) if not current_user.is_city else None,
               "problems": request.args.get("problems", "")}
    page = list_applications(current_user, round_, **filters, page=request.args.get("page", 1, type=int))
    return render_page_or_fragment(
        "applications/index.html", "applications/_table.html",
        applications=page.items, listing=page, filters=filters,
        page_args={k: v for k, v in filters.items() if v},
        duplicates=duplicate_ids(round_, among=[a.id for a in page.items]),
        counts=state_counts(current_user, round_), cities=all_cities(), states=list(ReviewState))


def _form_page(form, *, application, evaluation, conflict=None, status=200, filled=(), refused=False):
    """``refused``: a save that could not store what was typed (unreadable values): the page
    opens with an error summary linking to each such field (issue 25, the GOV.UK pattern)."""
    values = evaluation.values if evaluation else (application.values() if application else {})
    declared = form.declared
    return render_template(
        "applications/edit.html", form=form, application=application, sections=declared.sections,
        fields=declared.fields, evaluation=evaluation,
        sums={s.rule_id: s for s in sum_statuses(values, form=declared)},
        outline={s.code: s for s in section_states(evaluation)} if evaluation else {},
        conflict=conflict, filled=filled, refused=refused), status


def saved_message(application, evaluation, missing_files: list[str], *, was_passed: bool) -> str:
    """What a save tells the clerk: the same counts as the side panel, only those that are not
    zero, the files still missing, and never an invitation to a review the application has."""
    counts = [f"{n} 个{what}" for n, what in ((len(evaluation.errors), "错误"),
                                              (len(evaluation.open_warnings), "待确认提示")) if n]
    pending = "；".join(([f"尚有 {'、'.join(counts)}"] if counts else []) + missing_files)
    if application.state is ReviewState.PASSED:
        return "已保存。仍为市州初审通过。"
    if application.state is ReviewState.NOT_RECOMMENDED:
        return "已保存。初审结论仍为市州不推荐。"
    if was_passed:
        return f"已保存。{pending}，初审结论已退回草稿，处理完毕后请重新初审。"
    if not pending:
        return "已保存。各项检查均已通过，申报书已上传，可进行市州初审。"
    return f"已保存为草稿。{pending}，处理完毕后才能初审通过。"


@bp.route("/new", methods=["GET", "POST"])
@login_required
@city_required
def new():
    round_ = round_or_404()
    if batch_is_locked(round_.id, current_user.city_id):
        flash(lock_reason(round_.id), "warning")
        return redirect(url_for("applications.index"), 303)
    form = application_form(round_.form)()
    evaluation = None
    if form.validate_on_submit():
        with unit_of_work() as work:
            application, evaluation = save_application(
                current_user, None, typed_values(form), city=current_user.city, round_=round_,
                expected_version=None)
            # What the page says is worked out before the commit expires the row.
            new_id = application.id if application is not None else None
            message = (saved_message(application, evaluation, missing_requirements(application),
                                     was_passed=False) if application is not None else "")
        if work.ok and new_id is not None:
            flash(message, "success")
            return redirect(url_for("applications.detail", application_id=new_id), 303)
        if work.ok:  # unreadable values: the error summary says so (no flash: said once)
            return _form_page(form, application=None, evaluation=evaluation, refused=True)
    return _form_page(form, application=None, evaluation=evaluation)


@bp.route("/<id:application_id>")
@login_required
def detail(application_id: int):
    application = get_application(current_user, application_id)
    if current_user.is_expert:  # an expert's reading of an enterprise's data is recorded (once a minute)
        with unit_of_work(flash_refusal=False):
            record_unless_lately("access.expert_read", user=current_user, object_type="application",
                                 object_id=application.id, city_id=application.city_id,
                                 summary=f"评审专家查阅申报：{application.title}")
    evaluation = evaluate(application)
    files_html, missing_files = _files_section(application)
    return render_template(
        "applications/detail.html", application=application, sections=application.round.form.sections,
        evaluation=evaluation, editable=current_user.is_city and is_editable(application),
        review_form=ReviewForm(decision=application.review_state,
                               comment=application.review_comment if application.review_state != "draft" else ""),
        ack_form=AcknowledgeForm(), delete_form=DeleteForm(), events=history(current_user, application),
        extra=missing_files, files_html=files_html, sums=evaluation.sums(),
        document=document_panel(current_user, application),
        summary_number=number_in_summary(application),
        mark_visible=marks_visible_to(current_user, application.round), **parts_of_detail(current_user, application))


@bp.route("/<id:application_id>/edit", methods=["GET", "POST"])
@login_required
@city_required
def edit(application_id: int):
    application = get_application(current_user, application_id)
    detail_url = url_for("applications.detail", application_id=application_id)
    if request.method == "GET":
        if not is_editable(application):
            flash(lock_reason(application.round_id), "warning")
            return redirect(detail_url, 303)
        if request.args.get("fill") == "document":
            return _filled_from_document(application)
        form = application_form(application.round.form)(data=form_data(application))
        return _form_page(form, application=application, evaluation=evaluate(application))
    form = application_form(application.round.form)()
    if not form.validate_on_submit():
        abort(400)
    was_passed = application.state is ReviewState.PASSED
    typed = typed_values(form)
    with unit_of_work(flash_refusal=False) as work:
        saved, evaluation = save_application(current_user, application, typed,
                                             city=application.city, round_=application.round,
                                             expected_version=expected_version(form))
        # The page's words are worked out before the commit expires the row (one read per save).
        message = (saved_message(saved, evaluation, missing_requirements(saved), was_passed=was_passed)
                   if saved is not None else "")
    if isinstance(work.refused, EditConflict) or work.stale:
        # Refused, so never a redirect that reads like a success: the form again with what the
        # clerk typed and what the other save changed. A save that lost the race at the commit
        # itself (work.stale: both passed the version check) meets the other's save as a
        # conflict found before the save would.
        application = get_application(current_user, application_id)
        evaluation = evaluate_input(typed, city=application.city, round_=application.round,
                                    application=application)
        conflict = (work.refused if isinstance(work.refused, EditConflict)
                    else edit_conflict(application, evaluation.values))
        return _form_page(form, application=application, evaluation=evaluation,
                          conflict=conflict, status=200 if wants_fragment() else 409)
    if work.refused is not None:
        locked = work.refused.message == lock_reason(application.round_id)
        flash(work.refused.message, "warning" if locked else "danger")
        return redirect(detail_url, 303)
    if saved is None:
        return _form_page(form, application=application, evaluation=evaluation, refused=True)
    flash(message, "success")
    return redirect(detail_url, 303)


def _filled_from_document(application):
    """The form with its empty fields filled from the 申报书: nothing is saved until the clerk
    saves, so every check and the audit apply as to anything typed."""
    data = form_data(application)
    try:
        filled = fill_form_data(current_user, application, data)
    except Refused as refusal:
        flash(refusal.message, "warning")
        return redirect(url_for("applications.detail", application_id=application.id) + "#document", 303)
    declared = application.round.form
    evaluation = evaluate_input(parse_input(data, declared.fields), city=application.city, round_=application.round,
                                application=application)
    return _form_page(application_form(declared)(data=data), application=application, evaluation=evaluation,
                      filled=filled)


@bp.route("/<id:application_id>/document/read", methods=["POST"])
@login_required
@city_required
def read_document(application_id: int):
    """Read the current 申报书 again (one uploaded before reading existed, or after an update)."""
    application = get_application(current_user, application_id)
    if ConfirmForm().validate_on_submit():
        with unit_of_work() as work:
            reread_form(current_user, application)
        if work.ok:
            flash("已安排重新读取申报书，读取完成后“申报书中读取的数据”自动更新。", "success")
    return redirect(url_for("applications.detail", application_id=application_id) + "#document", 303)


@bp.route("/<id:application_id>/document")
@login_required
def document(application_id: int):
    """The panel 「申报书中读取的数据」 alone: a page, or for htmx the fragment the panel polls
    while its reading is waiting for a worker. The poll that finds it done also brings the
    findings, which the reading changes (swapped out of band)."""
    application = get_application(current_user, application_id)
    panel = document_panel(current_user, application)
    context = {"application": application, "document": panel}
    if wants_fragment() and not panel.pending:
        context |= {"evaluation": evaluate(application), "ack_form": AcknowledgeForm(),
                    "editable": current_user.is_city and is_editable(application),
                    "extra": missing_requirements(application), "findings_out_of_band": True}
    return render_page_or_fragment("applications/document.html", "applications/_document.html", **context)


@bp.route("/form-template.docx")
@login_required
def form_template():
    """The blank 申报书模板 (附件2 laid out from the field declaration) for enterprises."""
    round_ = round_or_404()
    return send_document(fetch("form-template.docx", template_versions(round_), DOCX,
                               lambda: (template_docx(round_), f"{round_.title}申报书模板.docx")),
                         fallback=ascii_name("form-template", round_.year, ext="docx"))


@bp.route("/form-template.pdf")
@login_required
def form_template_pdf():
    """The same template as PDF, to look at or print (with its 目录's page numbers)."""
    round_ = round_or_404()
    return send_document(fetch("form-template.pdf", template_versions(round_), PDF,
                               lambda: (template_pdf(round_), f"{round_.title}申报书模板.pdf")),
                         fallback=ascii_name("form-template", round_.year, ext="pdf"))


@bp.route("/<id:application_id>/form.docx")
@login_required
def prefilled_form(application_id: int):
    """The template filled with the saved values (to hand to the enterprise for checking)."""
    application = get_application(current_user, application_id)  # another city's: 404 before any file

    def make() -> tuple[bytes, str]:
        return (prefilled_docx(current_user, application),
                f"{application.enterprise_name or application.title}_申报书（按申报表预填）.docx")

    return send_document(fetch("form.docx", prefilled_versions(application), DOCX, make),
                         lambda name: record_download(current_user, "download.prefilled_form", name,
                                                      object_type="application", object_id=application.id,
                                                      city_id=application.city_id),
                         fallback=ascii_name("form", application.city.pinyin, application.round.year, application.id,
                                             ext="docx"))


@bp.route("/check", methods=["POST"])
@login_required
@city_required
def check():
    """Live checks while typing: every field's message and every running total, swapped
    out-of-band so that the input being typed in is never replaced. An application's values are
    checked by its round's form; a new one's by the current round's."""
    round_ = round_or_404()
    form = application_form(round_.form)()
    application = None
    if form.application_id.data:
        try:
            application = get_application(current_user, record_id(form.application_id.data))
        except ValueError:
            abort(404)
        if application.round_id != round_.id:
            round_ = application.round
            form = application_form(round_.form)()
    city = application.city if application else current_user.city
    evaluation = evaluate_input(typed_values(form), city=city, round_=round_, application=application)
    return render_template("applications/_check.html", evaluation=evaluation, fields=round_.form.fields,
                           sums=list(evaluation.sums().values()), outline=section_states(evaluation))


@bp.route("/<id:application_id>/acknowledge", methods=["POST"])
@login_required
@city_required
def acknowledge(application_id: int):
    application = get_application(current_user, application_id)
    form = AcknowledgeForm()
    refused = None
    if form.validate_on_submit():
        with unit_of_work(flash_refusal=False) as work:
            acknowledge_warning(current_user, application, form.rule.data, form.note.data)
        refused = work.refused
    if wants_fragment():
        evaluation = evaluate(application)
        html = render_template("applications/_findings.html", application=application,
                               evaluation=evaluation, ack_form=AcknowledgeForm(),
                               editable=is_editable(application),
                               ack_error=refused.message if refused else None,
                               ack_rule=form.rule.data,
                               extra=missing_requirements(application))
        return make_response(html, trigger="findings-changed")
    flash(refused.message if refused else "已确认该提示。", "danger" if refused else "success")
    return redirect(url_for("applications.detail", application_id=application_id) + "#findings", 303)


@bp.route("/<id:application_id>/review", methods=["POST"])
@login_required
@city_required
def review(application_id: int):
    application = get_application(current_user, application_id)
    form = ReviewForm()
    if form.validate_on_submit():
        with unit_of_work() as work:
            set_review(current_user, application, form.decision.data, form.comment.data)
        if work.ok:
            flash(f"初审结论已保存：{application.state.label}。", "success")
    return redirect(url_for("applications.detail", application_id=application_id) + "#review", 303)


@bp.route("/<id:application_id>/delete", methods=["POST"])
@login_required
@city_required
def delete(application_id: int):
    application = get_application(current_user, application_id)
    title = application.title
    with unit_of_work() as work:
        delete_application(current_user, application)
    if not work.ok:
        return redirect(url_for("applications.detail", application_id=application_id), 303)
    flash(f"已删除申报：{title}。", "success")
    return redirect(url_for("applications.index"), 303)
