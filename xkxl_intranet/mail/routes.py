"""邮件发送: the outbox's failed and waiting mails with their errors, and 「重新发送」 of a failed
one (the 系统管理员 and the province: ``auth.scoping.reads_mail_outbox``)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..auth.scoping import mail_outbox_required
from ..web import render_page_or_fragment, unit_of_work, wants_fragment
from .resend import outbox, resend_mail

bp = Blueprint("mail", __name__, url_prefix="/admin/mail")


@bp.route("/")
@login_required
@mail_outbox_required
def outbox_page():
    return render_page_or_fragment("mail/outbox.html", "mail/_outbox.html", box=outbox(), messages=())


@bp.route("/<id:message_id>/resend", methods=["POST"])
@login_required
@mail_outbox_required
def resend(message_id: int):
    """A plain form post (back to the page); htmx gets the list again with the outcome in it."""
    with unit_of_work(flash_refusal=False) as work:
        message = resend_mail(current_user, message_id)
    outcome = (("danger", work.refused.message) if work.refused is not None
               else ("success", f"已重新排队发送给 {message.to_address}。"))
    if wants_fragment():
        return render_template("mail/_outbox.html", box=outbox(), messages=(outcome,))
    flash(outcome[1], outcome[0])
    return redirect(url_for("mail.outbox_page"), 303)
