"""Rounds: the city's 报送 page and receipts, the province's dashboard and desk, round settings."""
from collections.abc import Callable
from functools import partial
from pathlib import Path

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select

from ..applications.queries import get_application
from ..audit.services import audit_stamp, record_download
from ..auth.scoping import city_or_404, city_required, province_required, round_or_404, staff_required
from ..clock import now
from ..domain.deadlines import extension_example, format_deadline, has_passed
from ..domain.errors import NotFound, Refused
from ..extensions import db
from ..filenames import ascii_name
from ..files.queries import current_version, summary_scans
from ..fragment_cache import FragmentCache
from ..generated import PDF, fetch
from ..guards import accepts_upload
from ..notice.compare import column_source, field_kind_label
from ..printing import print_pdf
from ..review import marking
from ..review.forms import MarkForm, typed_mark
from ..rounds.forms import (
    DATE_HINT,
    MAX_CARRIED_BYTES,
    MAX_NOTICE_BYTES,
    ConfirmForm,
    DeadlineForm,
    DisclosureForm,
    ExtensionForm,
    NewRoundForm,
    PaperForm,
    PublishForm,
    ReportForm,
    ReturnForm,
)
from ..rounds.models import BatchState, Round
from ..rounds.paper import paper_copies
from ..rounds.state import batch_for_write, cities_not_reported, deadline_of
from ..web import (
    content_disposition,
    render_page_or_fragment,
    return_to_url,
    send_document,
    unit_of_work,
    unit_of_work_on_fresh_data,
)
from . import dashboard as dashboard_rows
from . import desk, reporting, round_notice, settings

bp = Blueprint("rounds", __name__, url_prefix="/rounds")


# ---- city side --------------------------------------------------------------------------------

@bp.route("/batch")
@login_required
@city_required
def batch():
    round_ = round_or_404()
    ready = reporting.readiness(round_, current_user.city)
    return render_template("rounds/batch.html", ready=ready, batch=ready.batch,
                           deadline=deadline_of(round_, ready.batch),
                           receipts=reporting.receipts_for(current_user, round_.id, current_user.city_id),
                           disclosure_form=DisclosureForm(disclosure=ready.batch.disclosure))


@bp.route("/batch/report", methods=["GET", "POST"])
@login_required
@city_required
def report():
    round_ = round_or_404()
    form = ReportForm()
    if form.validate_on_submit():
        with unit_of_work() as work:
            receipt = reporting.report(current_user, round_, current_user.city,
                                       scan_missing_acknowledged=form.scan_missing_acknowledged.data)
        if work.ok:
            flash(f"报送成功。回执号 {receipt.number}，请打印或下载回执留存。", "success")
            return redirect(url_for("rounds.receipt", receipt_id=receipt.id), 303)
    ready = reporting.readiness(round_, current_user.city)
    return render_template("rounds/report_confirm.html", ready=ready, form=form,
                           deadline=deadline_of(round_, ready.batch))


@bp.route("/batch/disclosure", methods=["POST"])
@login_required
@city_required
def disclosure():
    round_ = round_or_404()
    form = DisclosureForm()
    if form.validate_on_submit():
        with unit_of_work() as work:
            desk.set_disclosure(current_user, batch_for_write(round_.id, current_user.city_id),
                                form.disclosure.data)
        if work.ok:
            flash("信息公开选项已保存。", "success")
    return redirect(url_for("rounds.batch"), 303)


@bp.route("/receipts/<id:receipt_id>")
@login_required
def receipt(receipt_id: int):
    return render_template("rounds/receipt.html", receipt=reporting.get_receipt(current_user, receipt_id),
                           printable=False)


@bp.route("/receipts/<id:receipt_id>.pdf")
@login_required
def receipt_pdf(receipt_id: int):
    receipt_ = reporting.get_receipt(current_user, receipt_id)  # another city's: 404 before any file

    def make() -> tuple[bytes, str]:
        return (print_pdf("rounds/receipt_print.html", receipt=receipt_),
                f"报送回执_{receipt_.city.name}_{receipt_.number}.pdf")

    return send_document(fetch("receipt.pdf", reporting.receipt_versions(receipt_), PDF, make),
                         lambda name: record_download(current_user, "download.receipt", name, object_type="receipt",
                                                      object_id=receipt_.id, city_id=receipt_.city_id),
                         fallback=ascii_name("receipt", receipt_.city.pinyin, receipt_.number, ext="pdf"))


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
    round_ = round_or_404()
    sort = request.args.get("sort", "city")
    if sort not in dashboard_rows.SORT_KEYS:
        sort = "city"
    descending = request.args.get("desc") == "1"
    include_unreported = request.args.get("scope") == "all"  # the view 「含未报送」

    def table_context() -> dict:
        rows = dashboard_rows.sort_rows(
            dashboard_rows.dashboard_rows(round_, include_unreported=include_unreported), sort, descending)
        return {"view": dashboard_rows.dashboard_view(rows), "states": list(BatchState),
                "colors": dashboard_rows.STATE_COLORS}

    context = {"sort": sort, "descending": descending, "include_unreported": include_unreported,
               "refreshed_at": now()}
    if current_app.config["DASHBOARD_CACHE"]:
        key = (round_.id, audit_stamp(), sort, descending, include_unreported, current_user.role)
        context["table"] = Markup(dashboard_cache().get_or_render(key, lambda: render_template(
            "rounds/_dashboard_table.html", **context, **table_context())))
    else:  # the table is rendered within the page or fragment: one template render
        context.update(table_context())
    return render_page_or_fragment("rounds/dashboard.html", "rounds/_dashboard.html", **context)


@bp.route("/cities/<id:city_id>")
@login_required
@staff_required
def city_desk(city_id: int):
    return _desk_page(round_or_404(), city_or_404(city_id))


# The slot of the city desk each form fills.
DESK_FORMS = {ExtensionForm: "extension_form", ReturnForm: "return_form", PaperForm: "paper_form",
              MarkForm: "mark_form", ConfirmForm: "confirm_form"}


def _desk_page(round_, city, *, refused=None, refused_application_id: int | None = None):
    """The city desk. ``refused``: a desk form the rules or the input refused, shown again as
    the officer typed it, each message beside its field (or at the head of its form), in a 422
    answer: a redirect would put the saved values back in place of what was typed (and a
    session cookie is too small to carry a long reason there)."""
    ready = reporting.readiness(round_, city)
    batch_ = ready.batch
    context = {"extension_form": ExtensionForm(formdata=None), "return_form": ReturnForm(formdata=None),
               "confirm_form": ConfirmForm(formdata=None), "paper_form": PaperForm(formdata=None, obj=batch_, paper=paper_copies(round_)),
               "mark_form": MarkForm(formdata=None, quota=round_.declaration.quota)}
    if refused is not None:
        context[DESK_FORMS[type(refused)]] = refused
        rows = {a.id for a in ready.applications + ready.not_reviewed}
        if refused_application_id is not None and refused_application_id not in rows:
            for message in refused.form_errors:  # no row of this desk to put them in
                flash(message, "danger")
    page = render_template(
        "rounds/city_desk.html", city=city, batch=batch_, ready=ready, marking=marking.marking_panel(round_),
        deadline=deadline_of(round_, batch_), round_deadline=round_.deadline,
        extension_example=extension_example(round_.deadline),
        round_closed=has_passed(round_.deadline, now()), refused_application_id=refused_application_id,
        date_hint=DATE_HINT,
        receipts=reporting.receipts_for(current_user, round_.id, city.id),
        # issue 25 (6b): the stamped 附件3 scan in force, linked from the desk with the city's files.
        summary_scan=current_version(summary_scans(city.id, round_.id)), **context)
    return page, 200 if refused is None else 422


def _put_beside_fields(form, refusal: Refused | None) -> None:
    """The service's refusal goes beside the field it names; it and whatever no visible field
    carries (the CSRF token's message) go to the head of the form."""
    if "csrf_token" in form and form.csrf_token.errors:
        form.form_errors.extend(form.csrf_token.errors)
        form.csrf_token.errors = []
    if refusal is None:
        return
    if refusal.field and refusal.field in form:
        form[refusal.field].errors = [*form[refusal.field].errors, refusal.message]
    else:
        form.form_errors.append(refusal.message)


def _round_options(form_class, round_) -> dict:
    """What a desk form of ``form_class`` takes from the round's notice."""
    if form_class is PaperForm:
        return {"paper": paper_copies(round_)}
    if form_class is MarkForm:
        return {"quota": round_.declaration.quota}
    return {}


def _desk_action(city_id: int, form_class, action, success: str | Callable[[], str], *, application=None):
    """One form on the city desk: validate, act on the city's batch, come back to the desk. A
    refused form comes back as typed, with the reason beside the field it is about."""
    round_ = round_or_404()
    city = city_or_404(city_id)
    # The paper form's label, and the messages that quote it, name the copies the round asks for;
    # the mark form's flag and confirmation, the round's quota.
    form = form_class(**_round_options(form_class, round_))
    refusal = None
    if form.validate_on_submit():
        # Two province sessions at the same instant: the loser reads the batch afresh and gets
        # the refusal a second, later request would get.
        work, _ = unit_of_work_on_fresh_data(lambda: action(batch_for_write(round_.id, city.id), form),
                                             flash_refusal=False)
        if work.ok:
            flash(success() if callable(success) else success, "success")
            anchor = f"#app-{application.id}" if application is not None else ""
            return redirect(url_for("rounds.city_desk", city_id=city_id) + anchor, 303)
        refusal = work.refused
    _put_beside_fields(form, refusal)
    return _desk_page(round_, city, refused=form,
                      refused_application_id=application.id if application is not None else None)


@bp.route("/cities/<id:city_id>/extension", methods=["POST"])
@login_required
@province_required
def extension(city_id: int):
    return _desk_action(
        city_id, ExtensionForm,
        lambda b, f: desk.grant_extension(current_user, b, f.deadline.moment, f.reason.data,
                                          confirm_past=f.confirm_past.data),
        "已准予延期。")


@bp.route("/cities/<id:city_id>/accept", methods=["POST"])
@login_required
@province_required
def accept(city_id: int):
    return _desk_action(city_id, ConfirmForm, lambda b, f: desk.accept(current_user, b), "已受理。")


@bp.route("/cities/<id:city_id>/return", methods=["POST"])
@login_required
@province_required
def return_batch(city_id: int):
    return _desk_action(city_id, ReturnForm,
                        lambda b, f: desk.return_batch(current_user, b, f.reason.data),
                        "已退回修改，市（州）将看到退回原因。")


@bp.route("/cities/<id:city_id>/paper", methods=["POST"])
@login_required
@province_required
def paper(city_id: int):
    def save(b, f):
        desk.record_paper(current_user, b, {k: getattr(f, k).data for k in desk.PAPER_FIELDS},
                          f.paper_note.data)
    return _desk_action(city_id, PaperForm, save, "纸质材料收到情况已登记。")


@bp.route("/applications/<id:application_id>/mark", methods=["POST"])
@login_required
@province_required
def mark(application_id: int):
    application = get_application(current_user, application_id)
    return _desk_action(
        application.city_id, MarkForm,
        lambda b, f: marking.mark_application(current_user, application, **typed_mark(f)),
        lambda: f"已标记：{application.mark.label if application.mark else '未标记'}（{application.title}）。",
        application=application)


# ---- rounds ---------------------------------------------------------------------------------------

@bp.route("/")
@login_required
@staff_required
def index():
    return _rounds_page()


def _rounds_page(*, status: int = 200, refused_round_id: int | None = None, deadline_form: DeadlineForm | None = None,
                 new_form: NewRoundForm | None = None, messages: tuple[str, ...] = ()):
    """申报批次. A refused change comes back on this page (422) with what was typed still in its
    field and the reason beside it, rather than a redirect that would put the old value back."""
    rounds = db.session.scalars(select(Round).order_by(Round.year.desc())).all()
    return render_template("rounds/index.html", rounds=rounds,
                           deadline_form=deadline_form or DeadlineForm(formdata=None),
                           refused_round_id=refused_round_id, refusal_messages=messages,
                           new_form=new_form or _blank_new_round_form(), publish_form=PublishForm(formdata=None),
                           confirm_form=ConfirmForm(formdata=None), running=settings.current_round_running(),
                           not_reported=cities_not_reported(), now=now(),
                           deletable=settings.deletable_round_ids()), status


def _blank_new_round_form() -> NewRoundForm:
    """The new round's form: the latest notice file chosen, every box blank (the notice's)."""
    return NewRoundForm(formdata=None, folder=_notices_folder())


def _notices_folder() -> Path:
    return Path(current_app.config["NOTICES_FOLDER"])


def _messages(form, work=None) -> tuple[str, ...]:
    found = [message for errors in form.errors.values() for message in errors]
    if work is not None and work.refused is not None:
        found.append(work.refused.message)
    return tuple(found)


@bp.route("/<id:round_id>/deadline", methods=["POST"])
@login_required
@province_required
def change_deadline(round_id: int):
    round_ = round_or_404(round_id)
    form = DeadlineForm()
    work = None
    if form.validate_on_submit():
        with unit_of_work(flash_refusal=False) as work:
            settings.change_deadline(current_user, round_, form.deadline.moment,
                                     confirm_past=form.confirm_past.data)
        if work.ok:
            flash(f"截止时间已改为 {format_deadline(round_.deadline)}（北京时间）。", "success")
            return redirect(url_for("rounds.index"), 303)
    return _rounds_page(status=422, refused_round_id=round_.id, deadline_form=form, messages=_messages(form, work))


def _confirmed_round_action(round_id: int, act, success: str):
    """A button on 申报批次 that acts on one round (its confirmation is asked in the page):
    ``success`` may name the round's title as ``{title}``, read before the action."""
    round_ = round_or_404(round_id)
    title = round_.title
    if ConfirmForm().validate_on_submit():
        with unit_of_work() as work:
            act(current_user, round_)
        if work.ok:
            flash(success.format(title=title), "success")
    return redirect(url_for("rounds.index"), 303)


@bp.route("/<id:round_id>/delete", methods=["POST"])
@login_required
@province_required
def delete_round(round_id: int):
    return _confirmed_round_action(round_id, settings.delete_round, "已删除批次：{title}。")


@bp.route("/<id:round_id>/current", methods=["POST"])
@login_required
@province_required
def make_current(round_id: int):
    return _confirmed_round_action(round_id, settings.make_current, "“{title}”已设为当前批次，各页面现在显示该批次。")


@bp.route("/<id:round_id>/results", methods=["POST"])
@login_required
@province_required
def publish_results(round_id: int):
    round_ = round_or_404(round_id)
    form = PublishForm()
    if form.validate_on_submit():
        publish = form.publish.data == "1"
        with unit_of_work() as work:
            settings.publish_results(current_user, round_, publish, confirm_early=form.confirm_early.data)
        if work.ok:
            flash("推荐结果已公布，各市（州）现在可以看到省厅的推荐标记。" if publish
                  else "已撤回公布，推荐标记仅省厅可见。", "success")
    # Back where the form was: 申报批次, or the ranking (issue 25, 6a).
    return redirect(return_to_url(url_for("rounds.index")), 303)


@bp.route("/new/preview", methods=["POST"])
@accepts_upload(lambda: MAX_NOTICE_BYTES, "通知文件", "通知文件是 .toml 文本文件，请核对所选文件。")
@login_required
@province_required
def preview_round():
    """What the round opened from the chosen or uploaded notice will be, and what it changes from
    the current round's, before the officer opens it (the page posts to :func:`new_round`)."""
    form = NewRoundForm(folder=_notices_folder())
    if form.validate_on_submit():
        form.carry()
        return _preview_page(form)
    return _rounds_page(status=422, new_form=form)


def _preview_page(form: NewRoundForm, *, status: int = 200, messages: tuple[str, ...] = ()):
    assert form.notice is not None
    return render_template("rounds/notice_preview.html", form=form, preview=round_notice.preview_notice(form.notice),
                           running=settings.current_round_running(), refusal_messages=messages,
                           kind_label=field_kind_label, column_source=column_source), status


@bp.route("/new", methods=["POST"])
@accepts_upload(lambda: MAX_CARRIED_BYTES, "通知文件", "通知文件是 .toml 文本文件，请核对所选文件。")
@login_required
@province_required
def new_round():
    form = NewRoundForm(folder=_notices_folder())
    work = None
    if form.validate_on_submit():
        with unit_of_work(flash_refusal=False) as work:
            round_ = settings.open_round(
                current_user, form.notice, notice_file=form.notice_source, deadline=form.deadline.moment,
                title=form.title.data or "", notice_number=form.notice_number.data or "",
                ministry_notice_number=form.ministry_notice_number.data or "",
                contact_name=form.contact_name.data or "", contact_phone=form.contact_phone.data or "",
                contact_email=form.contact_email.data or "", confirm_replace=form.confirm_replace.data)
        if work.ok:
            flash(f"已开启新批次：{round_.title}（依据{form.notice_described}）。各市（州）和账号沿用。", "success")
            return redirect(url_for("rounds.index"), 303)
    refusal = (work.refused.message,) if work is not None and work.refused else ()
    if form.carried() and form.notice is not None:  # from the preview: back to it, the file still carried
        return _preview_page(form, status=422, messages=refusal)
    # Field errors stand beside their fields (a notice file's problems beside it); the service's
    # refusal, and a carried file that no longer reads, head the card.
    return _rounds_page(status=422, new_form=form, messages=(*form.notice_data.errors, *refusal))


@bp.route("/<id:round_id>/notice")
@login_required
@staff_required
def notice(round_id: int):
    """The notice the round keeps (read-only): what it declares, its digest, the download."""
    round_ = round_or_404(round_id)
    kept = round_notice.kept_notice(round_)
    summary_text = partial(round_notice.sample_summary_text, kept.notice) if kept and kept.notice else None
    return render_template("rounds/notice.html", round_=round_, kept=kept, summary_text=summary_text,
                           kind_label=field_kind_label, column_source=column_source)


@bp.route("/<id:round_id>/notice.toml")
@login_required
@staff_required
def notice_toml(round_id: int):
    round_ = round_or_404(round_id)
    text = round_notice.kept_notice_toml(round_)
    if text is None:
        raise NotFound
    response = Response(text.encode("utf-8"), content_type="application/toml; charset=utf-8")
    response.headers["Content-Disposition"] = content_disposition(f"{round_.year}年批次保存的通知.toml",
                                                                  fallback=ascii_name("notice", round_.year, ext="toml"))
    return response
