"""Review (专家评审): an expert's list and score sheet (on the application page everyone uses),
the province's set-up, assignment and ranking with its marks, and the prints.

Experts reach only the pages listed in ``auth.scoping.EXPERT_ENDPOINTS``; their sheets and
applications are scoped to their assignments. Each route validates, calls one use case, renders,
and commits through ``unit_of_work``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_htmx import make_response
from flask_login import current_user, login_required

from ..applications.queries import get_application
from ..audit.services import record_download
from ..auth.scoping import expert_required, province_required, round_or_404, staff_required
from ..clock import now
from ..domain.errors import NotFound, Refused
from ..filenames import ascii_name
from ..forms import Form
from ..generated import PDF, XLSX, fetch
from ..notifications.queries import latest as latest_notices
from ..rounds.forms import PublishForm
from ..rounds.models import Round
from ..rounds.state import cities_not_reported
from ..web import (
    flash_form_errors,
    render_page_or_fragment,
    return_to_url,
    send_document,
    unit_of_work,
    wants_fragment,
)
from . import aggregation, assignment, marking, prints, scoring, setup
from .forms import (
    WEIGHT_PREFIX,
    AssignForm,
    BalancedForm,
    ConfirmForm,
    ExtensionForm,
    MarkForm,
    RecuseForm,
    ReopenForm,
    expected_version,
    settings_form_class,
    sheet_form_class,
    typed_mark,
    typed_sheet,
    typed_weights,
)
from .models import ReviewRound, SheetState
from .panels import sheet_panel
from .queries import (
    conflicts_of,
    expert_accounts,
    expert_loads,
    expert_sheets,
    get_assignment,
    review_for,
    reviewable_applications,
    sheets_by_application,
    submitted_count,
)

bp = Blueprint("review", __name__, url_prefix="/review")


def _review_or_404() -> ReviewRound:
    review = review_for(round_or_404())
    if review is None:
        raise NotFound
    return review


# ---- the expert -----------------------------------------------------------------------------------

@bp.route("/")
@login_required
@expert_required
def mine():
    review = review_for(round_or_404())
    mine_ = expert_sheets(current_user, review) if review else []
    sheets = [sheet_panel(a) for a in mine_ if a.state != SheetState.RECUSED]
    recused = [a for a in mine_ if a.state == SheetState.RECUSED]
    # 我的评审 is the expert's home: the latest notices (sheets assigned, one returned) head it.
    return render_template("review/mine.html", review=review, sheets=sheets, recused=recused,
                           recuse_form=RecuseForm(), criteria=review.criteria if review else None,
                           home_notices=latest_notices(current_user, 5))


def _sheet_answer(panel, *, saved: bool):
    """htmx: the sheet again, in place. A plain form: back to the application page when saved,
    else the sheet on its own page with what was typed and why it was not saved (or, a refused
    submit, what is missing), headed by the error summary that takes the focus (issue 25)."""
    if wants_fragment():
        return make_response(render_template("review/_sheet.html", panel=panel),
                             trigger="sheet-saved" if saved else None)
    if saved and not panel.refused:
        if panel.message:
            flash(panel.message, panel.level)
        return redirect(url_for("applications.detail", application_id=panel.assignment.application_id)
                        + "#score-sheet", 303)
    return render_template("review/sheet.html", panel=panel)


@bp.route("/sheets/<id:assignment_id>", methods=["POST"])
@login_required
@expert_required
def save_sheet(assignment_id: int):
    sheet = get_assignment(current_user, assignment_id)
    criteria = sheet.review_round.criteria
    form = sheet_form_class(criteria)()
    if not form.validate_on_submit():
        abort(400)
    typed = typed_sheet(form, criteria)
    with unit_of_work(flash_refusal=False) as work:
        outcome = scoring.save_sheet(current_user, sheet, typed, submit=request.form.get("action") == "submit",
                                     expected_version=expected_version(form))
    if work.refused is not None:
        return _sheet_answer(sheet_panel(sheet, typed, message=work.refused.message, level="danger", refused=True),
                             saved=False)
    if not outcome.saved:
        return _sheet_answer(sheet_panel(sheet, typed, errors=outcome.errors, message=outcome.message,
                                         level="danger", refused=True), saved=False)
    if outcome.submitted:
        # The locked sheet's own line (已于…提交，评分表已锁定…) says it: not a second message too.
        return _sheet_answer(sheet_panel(sheet), saved=True)
    if outcome.submit_refused:
        return _sheet_answer(sheet_panel(sheet, gaps=outcome.gaps, refused=True), saved=True)
    level = "success" if not outcome.missing else "warning"
    return _sheet_answer(sheet_panel(sheet, message=outcome.message, level=level), saved=True)


@bp.route("/sheets/<id:assignment_id>/totals", methods=["POST"])
@login_required
@expert_required
def sheet_totals(assignment_id: int):
    """Live running totals while the expert types: every subtotal, the total and each point's
    message, swapped out of band so that the input being typed in is never replaced."""
    sheet = get_assignment(current_user, assignment_id)
    criteria = sheet.review_round.criteria
    form = sheet_form_class(criteria)()
    if not form.validate_on_submit():
        abort(400)
    return render_template("review/_totals.html", panel=sheet_panel(sheet, typed_sheet(form, criteria)))


@bp.route("/sheets/<id:assignment_id>/recuse", methods=["POST"])
@login_required
@expert_required
def recuse(assignment_id: int):
    sheet = get_assignment(current_user, assignment_id)
    form = RecuseForm()
    if form.validate_on_submit():
        with unit_of_work() as work:
            assignment.declare_conflict(current_user, sheet, form.reason.data)
        if work.ok:
            flash(f"已申请回避：{sheet.application.title}。省厅将另行安排专家；这份申报已移至下方“已回避”，"
                  "无需您再评分。", "success")
    else:
        flash_form_errors(form)
    return redirect(url_for("review.mine"), 303)


@bp.route("/sheets/<id:assignment_id>.pdf")
@login_required
def sheet_pdf(assignment_id: int):
    """The signed 评分表 of one expert (the expert's own, or any for province staff)."""
    sheet = get_assignment(current_user, assignment_id)  # another expert's: 404 before any file
    return send_document(fetch("sheet.pdf", prints.sheet_versions(sheet), PDF,
                               lambda: prints.sheet_pdf(sheet), dated=True),
                         lambda name: record_download(current_user, "download.sheet", name, object_type="assignment",
                                                      object_id=sheet.id, city_id=sheet.application.city_id),
                         fallback=ascii_name("score-sheet", sheet.application.city.pinyin,
                                             sheet.review_round.round.year, sheet.id, ext="pdf"))


# ---- the province: set-up and assignment --------------------------------------------------------------

def _settings_form(round_: Round, review: ReviewRound | None) -> Form:
    """The settings as saved, or before the review is set up the defaults of the round's 附件1."""
    criteria = round_.declaration.criteria
    weights = review.weight_map if review else criteria.default_weights
    data: dict[str, Any] = {f"{WEIGHT_PREFIX}{k}": str(v) for k, v in weights.items()}
    data["experts_per_application"] = review.experts_per_application if review else 3
    form = settings_form_class(criteria)(data=data)
    if review is not None and not form.deadline.data:
        form.deadline.data = review.deadline.strftime("%Y-%m-%d %H:%M:%S" if review.deadline.second
                                                      else "%Y-%m-%d %H:%M")
    return form


@bp.route("/manage")
@login_required
@staff_required
def manage():
    return _manage_page()


@dataclass(frozen=True)
class AssignRefusal:
    """A refused manual assignment, shown again in its row: the expert chosen and why not."""

    application_id: int
    expert_id: int | None
    message: str


def _manage_page(*, settings_form: Form | None = None, weights_errors: tuple[str, ...] = (),
                 assign_refusal: AssignRefusal | None = None):
    """组织与分配. A refused settings form or manual assignment comes back on this page (422)
    as typed, each message beside its field: a redirect would put the saved values back."""
    round_ = round_or_404()
    review = review_for(round_)
    experts = expert_accounts(enabled_only=False)
    enabled = [e for e in experts if e.is_enabled]
    context: dict[str, Any] = {
        "round_": round_, "review": review, "settings_form": settings_form or _settings_form(round_, review),
        "weights_errors": weights_errors, "assign_refusal": assign_refusal, "experts": experts,
        "enabled_count": len(enabled), "dimensions": round_.declaration.criteria.dimensions}
    if review is not None:
        balanced = BalancedForm(data={"n": review.experts_per_application, "experts": [e.id for e in enabled]})
        balanced.experts.choices = [(e.id, e.display_name or e.username) for e in enabled]
        applications, sheets = reviewable_applications(round_), sheets_by_application(review)
        context.update(
            balanced_form=balanced, assign_form=AssignForm(), confirm_form=ConfirmForm(),
            reopen_form=ReopenForm(), extension_form=ExtensionForm(),
            applications=applications, sheets=sheets, outside=aggregation.outside_scope(review, applications, sheets),
            shortfall=aggregation.shortfall(review, sheets),
            loads=expert_loads(review), conflicts=conflicts_of(review), submitted=submitted_count(review))
    status = 422 if settings_form is not None or assign_refusal is not None else 200
    return render_template("review/manage.html", **context), status


def _put_beside_field(form, refusal: Refused | None) -> None:
    """The service's refusal beside the field it names; it and what no visible field carries
    (the CSRF token's message) at the head of the form."""
    if form.csrf_token.errors:
        form.form_errors.extend(form.csrf_token.errors)
        form.csrf_token.errors = []
    if refusal is not None and refusal.field and refusal.field in form:
        form[refusal.field].errors = [*form[refusal.field].errors, refusal.message]
    elif refusal is not None:
        form.form_errors.append(refusal.message)


@bp.route("/settings", methods=["POST"])
@login_required
@province_required
def settings():
    round_ = round_or_404()
    criteria = round_.declaration.criteria
    form = settings_form_class(criteria)()
    if form.validate_on_submit():
        with unit_of_work(flash_refusal=False) as work:
            setup.save_settings(current_user, round_, deadline=form.deadline.moment,
                                weights=typed_weights(form, criteria),
                                experts_per_application=form.experts_per_application.data,
                                confirm_past=form.confirm_past.data)
        if work.ok:
            flash("评审设置已保存。", "success")
            return redirect(url_for("review.manage"), 303)
        refusal = work.refused
        if refusal.field == "weights":
            return _manage_page(settings_form=form, weights_errors=(refusal.message,))
        _put_beside_field(form, refusal)
    else:
        _put_beside_field(form, None)
    return _manage_page(settings_form=form)


@bp.route("/assign/balanced", methods=["POST"])
@login_required
@province_required
def assign_balanced():
    review = _review_or_404()
    form = BalancedForm()
    form.experts.choices = [(e.id, e.username) for e in expert_accounts()]
    if form.validate_on_submit():
        with unit_of_work() as work:
            result = assignment.assign_balanced(current_user, review, form.n.data, form.experts.data or [])
        if work.ok:
            flash(result.message, "warning" if result.short else "success")
    else:
        flash_form_errors(form)
    return redirect(url_for("review.manage"), 303)


@bp.route("/applications/<id:application_id>/assign", methods=["POST"])
@login_required
@province_required
def assign(application_id: int):
    review = _review_or_404()
    application = get_application(current_user, application_id)
    form = AssignForm()
    experts = {e.id: e for e in expert_accounts()}
    form.expert_id.choices = [(e.id, e.username) for e in experts.values()]
    if not (form.validate_on_submit() and form.expert_id.data in experts):
        message = form.csrf_token.errors[0] if form.csrf_token.errors else "请选择一位启用中的评审专家。"
        return _manage_page(assign_refusal=AssignRefusal(application.id, form.expert_id.data, message))
    expert = experts[form.expert_id.data]
    with unit_of_work(flash_refusal=False) as work:
        assignment.assign(current_user, review, application, expert)
    if work.refused is not None:
        return _manage_page(assign_refusal=AssignRefusal(application.id, expert.id, work.refused.message))
    flash(f"已将“{application.title}”分配给专家 {expert.display_name or expert.username}。", "success")
    return redirect(return_to_url(url_for("review.manage")), 303)


def _sheet_action(assignment_id: int, form_class, action, success: str):
    """One province action on a sheet: validate, act, come back where the form was."""
    sheet = get_assignment(current_user, assignment_id)
    form = form_class()
    if form.validate_on_submit():
        with unit_of_work() as work:
            action(sheet, form)
        if work.ok:
            flash(success, "success")
    else:
        flash_form_errors(form)
    return redirect(return_to_url(url_for("review.manage")), 303)


@bp.route("/sheets/<id:assignment_id>/remove", methods=["POST"])
@login_required
@province_required
def remove(assignment_id: int):
    return _sheet_action(assignment_id, ConfirmForm, lambda s, f: assignment.unassign(current_user, s),
                         "已撤销该专家的评分任务。")


@bp.route("/sheets/<id:assignment_id>/reopen", methods=["POST"])
@login_required
@province_required
def reopen(assignment_id: int):
    return _sheet_action(
        assignment_id, ReopenForm,
        lambda s, f: scoring.reopen(current_user, s, f.reason.data, extension=f.extension.moment),
        "评分表已退回，专家可以修改后重新提交。")


@bp.route("/sheets/<id:assignment_id>/extension", methods=["POST"])
@login_required
@province_required
def extension(assignment_id: int):
    return _sheet_action(
        assignment_id, ExtensionForm,
        lambda s, f: scoring.grant_extension(current_user, s, f.deadline.moment, f.reason.data),
        "已为该评分表延期。")


# ---- the province: ranking, marks and prints ----------------------------------------------------------

def _ranking_file(file_kind, write):
    """The 评审汇总表 as a file, made once per version of the scores and rows and per day."""
    review = _review_or_404()
    sort = request.args.get("sort", "rank")
    sort, descending = (sort if sort in aggregation.SORTS else "rank"), request.args.get("desc") == "1"
    return send_document(fetch(f"ranking{file_kind.suffix}", prints.ranking_versions(review, sort, descending),
                               file_kind, lambda: write(aggregation.ranking(review, sort, descending)), dated=True),
                         lambda name: record_download(current_user, "download.ranking", name, object_type="review",
                                                      object_id=review.id),
                         fallback=ascii_name("review-ranking", review.round.year, ext=file_kind.suffix))


@bp.route("/ranking")
@login_required
@staff_required
def ranking():
    return _ranking_page()


def _ranking_page(*, mark_form: MarkForm | None = None, refused_application_id: int | None = None):
    """评审排名. A refused mark comes back on this page (422) as typed, its messages beside its
    fields in its row: a redirect would lose the reason typed for marking without the scores."""
    round_ = round_or_404()
    review = review_for(round_)
    result = aggregation.ranking(review, request.args.get("sort", "rank"),
                                 request.args.get("desc") == "1") if review else None
    if mark_form is not None:
        assert result is not None  # a mark is posted only to a round with its review (_review_or_404)
        if not any(r.application.id == refused_application_id for r in result.rows):
            flash_form_errors(mark_form)  # no row of the ranking to put the messages in
    response = render_page_or_fragment(
        "review/ranking.html", "review/_ranking.html", ranking=result, review=review, sorts=aggregation.SORTS,
        mark_form=mark_form or MarkForm(formdata=None, quota=round_.declaration.quota),
        refused_application_id=refused_application_id,
        marking=marking.marking_panel(round_, result.rows if result else None), outlier_gap=aggregation.OUTLIER_GAP,
        # issue 25 (6a): the province publishes the results here too, where it sets the marks.
        round_=round_, publish_form=PublishForm(), now=now(),
        not_reported=cities_not_reported(round_.id).get(round_.id, 0))
    if mark_form is not None:
        response.status_code = 422
    return response


@bp.route("/applications/<id:application_id>/mark", methods=["POST"])
@login_required
@province_required
def mark(application_id: int):
    """The mark set from the ranking, by the same rule as from the city desk. The form's action
    carries the ranking's sort, so that a refused mark comes back in the order it was made in."""
    review = _review_or_404()
    application = get_application(current_user, application_id)
    form = MarkForm(quota=review.round.declaration.quota)
    refusal = None
    if form.validate_on_submit():
        with unit_of_work(flash_refusal=False) as work:
            marking.mark_application(current_user, application, **typed_mark(form))
        if work.ok:
            flash(f"已标记：{application.mark.label if application.mark else '未标记'}（{application.title}）。",
                  "success")
            return redirect(return_to_url(url_for("review.ranking")) + f"#rank-{application_id}", 303)
        refusal = work.refused
    _put_beside_field(form, refusal)
    return _ranking_page(mark_form=form, refused_application_id=application_id)


@bp.route("/ranking.xlsx")
@login_required
@staff_required
def ranking_xlsx():
    return _ranking_file(XLSX, prints.summary_xlsx)


@bp.route("/ranking.pdf")
@login_required
@staff_required
def ranking_pdf():
    return _ranking_file(PDF, prints.summary_pdf)


@bp.route("/applications/<id:application_id>/sheets.pdf")
@login_required
@staff_required
def application_sheets_pdf(application_id: int):
    """Every submitted 评分表 of one application, one expert per page."""
    review = _review_or_404()
    application = get_application(current_user, application_id)
    return send_document(fetch("sheets.pdf", prints.application_sheets_versions(review, application), PDF,
                               lambda: prints.application_sheets_pdf(review, application), dated=True),
                         lambda name: record_download(current_user, "download.sheets", name, object_type="application",
                                                      object_id=application.id, city_id=application.city_id),
                         fallback=ascii_name("score-sheets", application.city.pinyin, review.round.year, application.id,
                                             ext="pdf"))
