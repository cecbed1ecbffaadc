from markupsafe import Markup
from flask import Blueprint, Response, current_app, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ..applications.services import get_application_or_404
from ..auth.scoping import city_required, province_required, staff_required
from ..clock import now
from ..extensions import db, htmx
from ..fragment_cache import FragmentCache, audit_stamp
from . import batches
from .forms import (ConfirmForm, DeadlineForm, DisclosureForm, ExtensionForm, MarkForm, NewRoundForm,
                    PaperForm, ReturnForm)
from .models import BatchState, City, Round
from .services import current_round

bp = Blueprint("rounds", __name__, url_prefix="/rounds")


def _round_or_404() -> Round:
    from flask import g

    if "current_round" not in g:  # shared with the layout's context processor
        g.current_round = current_round()
    round_ = g.current_round
    if round_ is None:
        abort(404)
    return round_


def _flash_errors(form) -> None:
    for errors in form.errors.values():
        for message in errors:
            flash(message, "danger")


def _city_or_404(city_id: int) -> City:
    city = db.session.get(City, city_id)
    if city is None:
        abort(404)
    return city


# ---- city side --------------------------------------------------------------------------------

@bp.route("/batch")
@login_required
@city_required
def batch():
    round_ = _round_or_404()
    ready = batches.readiness(round_, current_user.city)
    db.session.commit()  # the batch row may have been created
    return render_template("rounds/batch.html", ready=ready, batch=ready.batch,
                           deadline=batches.deadline_for(ready.batch),
                           receipts=batches.receipts_for(round_.id, current_user.city_id),
                           disclosure_form=DisclosureForm(disclosure=ready.batch.disclosure))


@bp.route("/batch/report", methods=["GET", "POST"])
@login_required
@city_required
def report():
    round_ = _round_or_404()
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            receipt = batches.report(round_, current_user.city)
        except batches.BatchError as err:
            db.session.rollback()
            flash(str(err), "danger")
        else:
            db.session.commit()
            flash(f"报送成功。回执号 {receipt.number}，请打印或下载回执留存。", "success")
            return redirect(url_for("rounds.receipt", receipt_id=receipt.id), 303)
    ready = batches.readiness(round_, current_user.city)
    db.session.commit()
    return render_template("rounds/report_confirm.html", ready=ready, form=form,
                           deadline=batches.deadline_for(ready.batch))


@bp.route("/batch/disclosure", methods=["POST"])
@login_required
@city_required
def disclosure():
    round_ = _round_or_404()
    form = DisclosureForm()
    if form.validate_on_submit():
        try:
            batches.set_disclosure(batches.get_batch(round_, current_user.city), form.disclosure.data)
        except batches.BatchError as err:
            db.session.rollback()
            flash(str(err), "danger")
        else:
            db.session.commit()
            flash("信息公开选项已保存。", "success")
    return redirect(url_for("rounds.batch"), 303)


@bp.route("/receipts/<int:receipt_id>")
@login_required
def receipt(receipt_id: int):
    return render_template("rounds/receipt.html", receipt=batches.get_receipt_or_404(receipt_id),
                           printable=False)


@bp.route("/receipts/<int:receipt_id>.pdf")
@login_required
def receipt_pdf(receipt_id: int):
    from ..files.naming import content_disposition
    from .printing import html_to_pdf

    receipt_ = batches.get_receipt_or_404(receipt_id)
    html = render_template("rounds/receipt_print.html", receipt=receipt_)
    pdf = html_to_pdf(html)
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": content_disposition(f"报送回执_{receipt_.city.name}_{receipt_.number}.pdf")})


# ---- province side ------------------------------------------------------------------------------

def dashboard_cache() -> FragmentCache:
    """The dashboard polls every few seconds from every open province page; its table is
    rendered once per change of data (see fragment_cache), not once per poll. One cache
    per application object, since each one has its own database."""
    return current_app.extensions.setdefault("xkxl_dashboard_cache",
                                             FragmentCache(max_entries=32, max_age_seconds=30))


@bp.route("/dashboard")
@login_required
@staff_required
def dashboard():
    round_ = _round_or_404()
    sort = request.args.get("sort", "city")
    if sort not in batches.SORT_KEYS:
        sort = "city"
    descending = request.args.get("desc") == "1"

    def render_table() -> str:
        rows = batches.sort_rows(batches.dashboard_rows(round_), sort, descending)
        return render_template("rounds/_dashboard_table.html", rows=rows, sort=sort,
                               descending=descending, states=list(BatchState))

    if current_app.config["DASHBOARD_CACHE"]:
        key = (round_.id, audit_stamp(), sort, descending, current_user.role)
        table = dashboard_cache().get_or_render(key, render_table)
    else:
        table = render_table()
    context = dict(table=Markup(table),
                   sort=sort, descending=descending, refreshed_at=now())
    if htmx and not htmx.boosted:
        return render_template("rounds/_dashboard.html", **context)
    return render_template("rounds/dashboard.html", **context)


@bp.route("/cities/<int:city_id>")
@login_required
@staff_required
def city_desk(city_id: int):
    round_ = _round_or_404()
    city = _city_or_404(city_id)
    ready = batches.readiness(round_, city)
    db.session.commit()
    batch_ = ready.batch
    return render_template(
        "rounds/city_desk.html", city=city, batch=batch_, ready=ready,
        deadline=batches.deadline_for(batch_), receipts=batches.receipts_for(round_.id, city.id),
        extension_form=ExtensionForm(), return_form=ReturnForm(), confirm_form=ConfirmForm(),
        paper_form=PaperForm(obj=batch_), mark_form=MarkForm())


def _desk_action(city_id: int, form_class, action, success: str):
    round_ = _round_or_404()
    city = _city_or_404(city_id)
    form = form_class()
    if form.validate_on_submit():
        try:
            action(batches.get_batch(round_, city), form)
        except batches.BatchError as err:
            db.session.rollback()
            flash(str(err), "danger")
        else:
            db.session.commit()
            flash(success, "success")
    else:
        _flash_errors(form)
    return redirect(url_for("rounds.city_desk", city_id=city_id), 303)


@bp.route("/cities/<int:city_id>/extension", methods=["POST"])
@login_required
@province_required
def extension(city_id: int):
    return _desk_action(city_id, ExtensionForm,
                        lambda b, f: batches.grant_extension(b, f.deadline.moment, f.reason.data),
                        "已准予延期。")


@bp.route("/cities/<int:city_id>/accept", methods=["POST"])
@login_required
@province_required
def accept(city_id: int):
    return _desk_action(city_id, ConfirmForm, lambda b, f: batches.accept(b), "已受理。")


@bp.route("/cities/<int:city_id>/return", methods=["POST"])
@login_required
@province_required
def return_batch(city_id: int):
    return _desk_action(city_id, ReturnForm, lambda b, f: batches.return_batch(b, f.reason.data),
                        "已退回修改，市（州）将看到退回原因。")


@bp.route("/cities/<int:city_id>/paper", methods=["POST"])
@login_required
@province_required
def paper(city_id: int):
    def save(b, f):
        batches.record_paper(b, {k: getattr(f, k).data for k in batches.PAPER_FIELDS}, f.paper_note.data)
    return _desk_action(city_id, PaperForm, save, "纸质材料收到情况已登记。")


@bp.route("/applications/<int:application_id>/mark", methods=["POST"])
@login_required
@province_required
def mark(application_id: int):
    application = get_application_or_404(application_id)
    form = MarkForm()
    if form.validate_on_submit():
        try:
            batches.mark_application(application, form.mark.data, form.note.data)
        except batches.BatchError as err:
            db.session.rollback()
            flash(str(err), "danger")
        else:
            db.session.commit()
            flash(f"已标记：{application.mark.label if application.mark else '未标记'}（{application.title}）。", "success")
    return redirect(url_for("rounds.city_desk", city_id=application.city_id) + f"#app-{application.id}", 303)


# ---- rounds ---------------------------------------------------------------------------------------

@bp.route("/")
@login_required
@staff_required
def index():
    rounds = db.session.scalars(select(Round).order_by(Round.year.desc())).all()
    return render_template("rounds/index.html", rounds=rounds, deadline_form=DeadlineForm(),
                           new_form=NewRoundForm())


@bp.route("/<int:round_id>/deadline", methods=["POST"])
@login_required
@province_required
def change_deadline(round_id: int):
    round_ = db.session.get(Round, round_id) or abort(404)
    form = DeadlineForm()
    if form.validate_on_submit():
        batches.change_deadline(round_, form.deadline.moment)
        db.session.commit()
        flash(f"截止时间已改为 {round_.deadline:%Y-%m-%d %H:%M:%S}（北京时间）。", "success")
    else:
        _flash_errors(form)
    return redirect(url_for("rounds.index"), 303)


@bp.route("/new", methods=["POST"])
@login_required
@province_required
def new_round():
    form = NewRoundForm()
    if form.validate_on_submit():
        try:
            round_ = batches.open_round(year=form.year.data, title=form.title.data,
                                        notice_number=form.notice_number.data or "",
                                        deadline=form.deadline.moment,
                                        contact_name=form.contact_name.data or "",
                                        contact_phone=form.contact_phone.data or "",
                                        contact_email=form.contact_email.data or "")
        except batches.BatchError as err:
            db.session.rollback()
            flash(str(err), "danger")
        else:
            db.session.commit()
            flash(f"已开启新批次：{round_.title}。各市（州）和账号沿用。", "success")
    else:
        _flash_errors(form)
    return redirect(url_for("rounds.index"), 303)
