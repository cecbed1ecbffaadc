from markupsafe import Markup
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm.exc import StaleDataError

from ..auth.scoping import city_required
from ..domain.checks import sum_statuses
from ..domain.indicators import FIELDS, SECTIONS
from ..extensions import db, htmx
from ..rounds.services import all_cities, current_round
from .forms import (AcknowledgeForm, ApplicationForm, DeleteForm, ReviewForm, expected_version,
                    form_data, raw_values)
from .models import ReviewState
from .services import (ApplicationError, EditConflict, acknowledge_warning, delete_application,
                       duplicate_ids, evaluate, evaluate_input, extra_requirements,
                       get_application_or_404, history, is_editable, list_applications,
                       save_application, set_review, state_counts)

bp = Blueprint("applications", __name__, url_prefix="/applications")


def _round_or_404():
    round_ = current_round()
    if round_ is None:
        abort(404)
    return round_


def _files_section(application) -> tuple[Markup, list[str]]:
    """The files domain's fragment for this application, and what its files still lack
    (computed from the same query, so the page reads the files once)."""
    from ..files.services import files_context

    context = files_context(application)
    html = Markup(render_template("files/_application_files.html", **context))
    return html, context["file_panel"].missing


@bp.route("/")
@login_required
def index():
    round_ = _round_or_404()
    filters = {"q": request.args.get("q", "").strip(), "state": request.args.get("state", ""),
               "city_id": request.args.get("city_id", type=int) if not current_user.is_city else None,
               "problems": request.args.get("problems", "")}
    applications = list_applications(round_, **filters)
    context = dict(applications=applications, filters=filters, duplicates=duplicate_ids(round_),
                   counts=state_counts(round_), cities=all_cities(), states=list(ReviewState))
    if htmx and not htmx.boosted:
        return render_template("applications/_table.html", **context)
    return render_template("applications/index.html", **context)


def _form_page(form, *, application, evaluation, conflict=None, status=200):
    values = evaluation.result.values if evaluation else (application.values() if application else {})
    return render_template(
        "applications/edit.html", form=form, application=application, sections=SECTIONS,
        fields=FIELDS, evaluation=evaluation, sums={s.rule_id: s for s in sum_statuses(values)},
        conflict=conflict), status


@bp.route("/new", methods=["GET", "POST"])
@login_required
@city_required
def new():
    round_ = _round_or_404()
    form = ApplicationForm()
    evaluation = None
    if form.validate_on_submit():
        application, evaluation = save_application(None, raw_values(form), city=current_user.city,
                                                   round_=round_, expected_version=None)
        if application is not None:
            db.session.commit()
            flash(_saved_message(evaluation), "success")
            return redirect(url_for("applications.detail", application_id=application.id), 303)
        flash("有内容无法识别，尚未保存。请按红色提示修改后再保存。", "danger")
    return _form_page(form, application=None, evaluation=evaluation)


def _saved_message(evaluation) -> str:
    if not evaluation.blocking:
        return "已保存。各项检查均已通过，可进行市州初审。"
    return (f"已保存为草稿。尚有 {len(evaluation.errors)} 个错误、{len(evaluation.open_warnings)} 个待确认提示，"
            "处理完毕后才能初审通过。")


@bp.route("/<int:application_id>")
@login_required
def detail(application_id: int):
    application = get_application_or_404(application_id)
    evaluation = evaluate(application)
    files_html, missing_files = _files_section(application)
    return render_template(
        "applications/detail.html", application=application, sections=SECTIONS,
        evaluation=evaluation, editable=current_user.is_city and is_editable(application),
        review_form=ReviewForm(decision=application.review_state, comment=application.review_comment),
        ack_form=AcknowledgeForm(), delete_form=DeleteForm(), events=history(application),
        extra=missing_files, files_html=files_html,
        sums={s.rule_id: s for s in sum_statuses(application.values())})


@bp.route("/<int:application_id>/edit", methods=["GET", "POST"])
@login_required
@city_required
def edit(application_id: int):
    application = get_application_or_404(application_id)
    if not is_editable(application):
        flash("本市（州）的申报已报送，申报内容为只读。", "warning")
        return redirect(url_for("applications.detail", application_id=application.id), 303)
    if request.method == "GET":
        form = ApplicationForm(data=form_data(application))
        return _form_page(form, application=application, evaluation=evaluate(application))
    form = ApplicationForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        saved, evaluation = save_application(application, raw_values(form), city=application.city,
                                             round_=application.round,
                                             expected_version=expected_version(form))
    except EditConflict as conflict:
        db.session.rollback()
        application = get_application_or_404(application_id)
        evaluation = evaluate_input(raw_values(form), city=application.city, round_=application.round,
                                    application=application)
        return _form_page(form, application=application, evaluation=evaluation, conflict=conflict,
                          status=409 if not htmx else 200)
    except StaleDataError:  # two saves in the same instant: the database caught it
        db.session.rollback()
        flash("保存未成功：他人刚刚保存了这份申报。请刷新页面核对后再保存。", "danger")
        return _form_page(form, application=get_application_or_404(application_id),
                          evaluation=None, status=409)
    except ApplicationError as err:
        db.session.rollback()
        flash(str(err), "danger")
        return redirect(url_for("applications.detail", application_id=application_id), 303)
    if saved is None:
        flash("有内容无法识别，尚未保存。请按红色提示修改后再保存。", "danger")
        return _form_page(form, application=application, evaluation=evaluation)
    db.session.commit()
    flash(_saved_message(evaluation), "success")
    return redirect(url_for("applications.detail", application_id=application.id), 303)


@bp.route("/check", methods=["POST"])
@login_required
@city_required
def check():
    """Live checks while typing: every field's message and every running total, swapped
    out-of-band so that the input being typed in is never replaced."""
    round_ = _round_or_404()
    form = ApplicationForm()
    application = None
    if form.application_id.data:
        try:
            application = get_application_or_404(int(form.application_id.data))
        except ValueError:
            abort(404)
    city = application.city if application else current_user.city
    evaluation = evaluate_input(raw_values(form), city=city, round_=round_, application=application)
    return render_template("applications/_check.html", evaluation=evaluation, fields=FIELDS,
                           sums=sum_statuses(evaluation.result.values))


@bp.route("/<int:application_id>/acknowledge", methods=["POST"])
@login_required
@city_required
def acknowledge(application_id: int):
    application = get_application_or_404(application_id)
    form = AcknowledgeForm()
    error = None
    if form.validate_on_submit():
        try:
            acknowledge_warning(application, form.rule.data, form.note.data)
        except ApplicationError as err:
            error = str(err)
        else:
            db.session.commit()
    if htmx and not htmx.boosted:
        response = render_template("applications/_findings.html", application=application,
                                   evaluation=evaluate(application), ack_form=AcknowledgeForm(),
                                   editable=is_editable(application), ack_error=error,
                                   ack_rule=form.rule.data, extra=extra_requirements(application))
        return response, 200, {"HX-Trigger": "findings-changed"}
    flash(error or "已确认该提示。", "danger" if error else "success")
    return redirect(url_for("applications.detail", application_id=application_id) + "#findings", 303)


@bp.route("/<int:application_id>/review", methods=["POST"])
@login_required
@city_required
def review(application_id: int):
    application = get_application_or_404(application_id)
    form = ReviewForm()
    if form.validate_on_submit():
        try:
            set_review(application, form.decision.data, form.comment.data)
        except ApplicationError as err:
            db.session.rollback()
            flash(str(err), "danger")
        else:
            db.session.commit()
            flash(f"初审结论已保存：{application.state.label}。", "success")
    return redirect(url_for("applications.detail", application_id=application_id) + "#review", 303)


@bp.route("/<int:application_id>/delete", methods=["POST"])
@login_required
@city_required
def delete(application_id: int):
    application = get_application_or_404(application_id)
    title = application.title
    try:
        delete_application(application)
    except ApplicationError as err:
        db.session.rollback()
        flash(str(err), "danger")
        return redirect(url_for("applications.detail", application_id=application_id), 303)
    db.session.commit()
    flash(f"已删除申报：{title}。", "success")
    return redirect(url_for("applications.index"), 303)
