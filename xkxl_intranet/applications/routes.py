"""Applications: the list, the form (with live checks), the detail page, 市州初审, delete."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_htmx import make_response
from flask_login import current_user, login_required
from markupsafe import Markup

from ..auth.scoping import city_required, round_or_404
from ..domain.checks import sum_statuses
from ..domain.indicators import FIELDS, SECTIONS
from ..files.panels import files_context
from ..files.queries import missing_requirements
from ..rounds.state import LOCKED_MESSAGE, all_cities, batch_is_locked
from ..web import render_page_or_fragment, unit_of_work, wants_fragment
from .evaluation import evaluate, evaluate_input
from .forms import (
    AcknowledgeForm,
    ApplicationForm,
    DeleteForm,
    ReviewForm,
    expected_version,
    form_data,
    raw_values,
)
from .models import ReviewState
from .operations import (
    EditConflict,
    acknowledge_warning,
    delete_application,
    is_editable,
    save_application,
    set_review,
)
from .queries import duplicate_ids, get_application, history, list_applications, state_counts

bp = Blueprint("applications", __name__, url_prefix="/applications")

UNREADABLE = "有内容无法识别，尚未保存。请按红色提示修改后再保存。"


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
               "city_id": request.args.get("city_id", type=int) if not current_user.is_city else None,
               "problems": request.args.get("problems", "")}
    page = list_applications(current_user, round_, **filters, page=request.args.get("page", 1, type=int))
    return render_page_or_fragment(
        "applications/index.html", "applications/_table.html",
        applications=page.items, listing=page, filters=filters,
        page_args={k: v for k, v in filters.items() if v},
        duplicates=duplicate_ids(round_, among=[a.id for a in page.items]),
        counts=state_counts(current_user, round_), cities=all_cities(), states=list(ReviewState))


def _form_page(form, *, application, evaluation, conflict=None, status=200):
    values = evaluation.values if evaluation else (application.values() if application else {})
    return render_template(
        "applications/edit.html", form=form, application=application, sections=SECTIONS,
        fields=FIELDS, evaluation=evaluation, sums={s.rule_id: s for s in sum_statuses(values)},
        conflict=conflict), status


def _saved_message(evaluation) -> str:
    if not evaluation.blocking:
        return "已保存。各项检查均已通过，可进行市州初审。"
    return (f"已保存为草稿。尚有 {len(evaluation.errors)} 个错误、{len(evaluation.open_warnings)} 个待确认提示，"
            "处理完毕后才能初审通过。")


@bp.route("/new", methods=["GET", "POST"])
@login_required
@city_required
def new():
    round_ = round_or_404()
    if batch_is_locked(round_.id, current_user.city_id):
        flash(LOCKED_MESSAGE, "warning")
        return redirect(url_for("applications.index"), 303)
    form = ApplicationForm()
    evaluation = None
    if form.validate_on_submit():
        with unit_of_work() as work:
            application, evaluation = save_application(
                current_user, None, raw_values(form), city=current_user.city, round_=round_,
                expected_version=None)
            new_id = application.id if application is not None else None  # before the commit expires it
        if work.ok and new_id is not None:
            flash(_saved_message(evaluation), "success")
            return redirect(url_for("applications.detail", application_id=new_id), 303)
        if work.ok:
            flash(UNREADABLE, "danger")
    return _form_page(form, application=None, evaluation=evaluation)


@bp.route("/<int:application_id>")
@login_required
def detail(application_id: int):
    application = get_application(current_user, application_id)
    evaluation = evaluate(application)
    files_html, missing_files = _files_section(application)
    return render_template(
        "applications/detail.html", application=application, sections=SECTIONS,
        evaluation=evaluation, editable=current_user.is_city and is_editable(application),
        review_form=ReviewForm(decision=application.review_state, comment=application.review_comment),
        ack_form=AcknowledgeForm(), delete_form=DeleteForm(), events=history(current_user, application),
        extra=missing_files, files_html=files_html, sums=evaluation.sums())


@bp.route("/<int:application_id>/edit", methods=["GET", "POST"])
@login_required
@city_required
def edit(application_id: int):
    application = get_application(current_user, application_id)
    detail_url = url_for("applications.detail", application_id=application_id)
    if request.method == "GET":
        if not is_editable(application):
            flash(LOCKED_MESSAGE, "warning")
            return redirect(detail_url, 303)
        form = ApplicationForm(data=form_data(application))
        return _form_page(form, application=application, evaluation=evaluate(application))
    form = ApplicationForm()
    if not form.validate_on_submit():
        abort(400)
    # One read of the application: the save checks the lock itself (refusing with the same
    # message), and nothing below touches the row again after the commit.
    with unit_of_work(flash_refusal=False) as work:
        saved, evaluation = save_application(current_user, application, raw_values(form),
                                             city=application.city, round_=application.round,
                                             expected_version=expected_version(form))
    if isinstance(work.refused, EditConflict):
        application = get_application(current_user, application_id)
        evaluation = evaluate_input(raw_values(form), city=application.city, round_=application.round,
                                    application=application)
        return _form_page(form, application=application, evaluation=evaluation,
                          conflict=work.refused, status=200 if wants_fragment() else 409)
    if not work.ok:
        flash(work.refused.message, "warning" if work.refused.message == LOCKED_MESSAGE else "danger")
        return redirect(detail_url, 303)
    if saved is None:
        flash(UNREADABLE, "danger")
        return _form_page(form, application=application, evaluation=evaluation)
    flash(_saved_message(evaluation), "success")
    return redirect(detail_url, 303)


@bp.route("/check", methods=["POST"])
@login_required
@city_required
def check():
    """Live checks while typing: every field's message and every running total, swapped
    out-of-band so that the input being typed in is never replaced."""
    round_ = round_or_404()
    form = ApplicationForm()
    application = None
    if form.application_id.data:
        try:
            application = get_application(current_user, int(form.application_id.data))
        except ValueError:
            abort(404)
    city = application.city if application else current_user.city
    evaluation = evaluate_input(raw_values(form), city=city, round_=round_, application=application)
    return render_template("applications/_check.html", evaluation=evaluation, fields=FIELDS,
                           sums=list(evaluation.sums().values()))


@bp.route("/<int:application_id>/acknowledge", methods=["POST"])
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


@bp.route("/<int:application_id>/review", methods=["POST"])
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


@bp.route("/<int:application_id>/delete", methods=["POST"])
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
