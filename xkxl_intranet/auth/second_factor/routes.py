"""两步验证 on 我的账号 (enrolment, recovery codes, turning it off) and the administrator's reset.
The log-in's own second step is ``auth.login_verify`` (auth/routes.py)."""
from __future__ import annotations

import segno
from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from markupsafe import Markup

from ...web import unit_of_work
from ..scoping import accounts_required
from ..services import get_user
from . import codes
from .forms import ConfirmEnrolmentForm, PasswordAndCodeForm
from .services import (
    confirm_enrolment,
    disable,
    must_enrol,
    pending_enrolment,
    recovery_codes_left,
    regenerate_recovery_codes,
    reset,
    second_factor_of,
)

bp = Blueprint("second_factor", __name__)

# What a person who must enrol (XKXL_REQUIRE_2FA=1) may still open: this page and its posts.
ENROLMENT_ENDPOINTS = frozenset({"second_factor.page", "second_factor.confirm"})


def _required() -> bool:
    return bool(current_app.config.get("REQUIRE_2FA"))


def _qr_svg(uri: str) -> Markup:
    """The enrolment QR as inline SVG, drawn here: the secret never leaves the server for a
    QR service, and the page needs no script or image request."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, title="两步验证二维码", svgclass="qr-code", omitsize=True)
    return Markup(svg)  # segno's own markup, the URI escaped inside it


def _render(confirm_form=None, recovery_form=None, disable_form=None, status: int = 200):
    user = current_user._get_current_object()
    factor = second_factor_of(user)
    context: dict[str, object] = {"factor": factor, "forced": must_enrol(user, _required()), "required": _required()}
    if factor is None or factor.confirmed_at is None:
        with unit_of_work():  # the secret waits for its first code in the database, not the cookie
            factor = pending_enrolment(user)
            secret, uri = factor.secret, codes.provisioning_uri(factor.secret, user.username)
        context |= {"factor": None, "qr": _qr_svg(uri), "secret_groups": codes.in_groups(secret),
                    "issuer": codes.ISSUER, "confirm_form": confirm_form or ConfirmEnrolmentForm()}
    else:
        context |= {"codes_left": recovery_codes_left(user),
                    "recovery_form": recovery_form or PasswordAndCodeForm(prefix="recovery"),
                    "disable_form": disable_form or PasswordAndCodeForm(prefix="disable")}
    return render_template("auth/second_factor.html", **context), status


@bp.route("/account/second-factor")
@login_required
def page():
    return _render()


def _recovery_codes_or_refusal(ok: bool, outcome, form, reason: str):
    """The new recovery codes, shown once, when the step made them; else its refusal goes beside
    the code box (and ``None``: the page is shown again)."""
    if ok and outcome.recovery_codes:
        return render_template("auth/recovery_codes.html", recovery_codes=outcome.recovery_codes, reason=reason)
    if ok:
        form.code.errors.append(outcome.refusal)
    return None


@bp.route("/account/second-factor", methods=["POST"])
@login_required
def confirm():
    form = ConfirmEnrolmentForm()
    if form.validate_on_submit():
        with unit_of_work() as work:  # a wrong code is recorded although nothing else changes
            outcome = confirm_enrolment(current_user._get_current_object(), form.code.data)
        shown = _recovery_codes_or_refusal(work.ok, outcome, form, "两步验证已启用")
        if shown is not None:
            return shown
    return _render(confirm_form=form, status=422 if form.errors else 200)


@bp.route("/account/second-factor/recovery-codes", methods=["POST"])
@login_required
def regenerate():
    form = PasswordAndCodeForm(prefix="recovery")
    if form.validate_on_submit():
        with unit_of_work() as work:
            outcome = regenerate_recovery_codes(current_user._get_current_object(), form.password.data,
                                                form.code.data)
        shown = _recovery_codes_or_refusal(work.ok, outcome, form, "恢复码已重新生成，原恢复码作废")
        if shown is not None:
            return shown
    return _render(recovery_form=form, status=422 if form.errors else 200)


@bp.route("/account/second-factor/disable", methods=["POST"])
@login_required
def turn_off():
    form = PasswordAndCodeForm(prefix="disable")
    if form.validate_on_submit():
        with unit_of_work() as work:
            outcome = disable(current_user._get_current_object(), form.password.data, form.code.data,
                              required=_required())
        if work.ok and not outcome.refusal:
            flash("两步验证已关闭。", "success")
            return redirect(url_for("auth.account"), 303)
        if work.ok:
            form.code.errors.append(outcome.refusal)
    return _render(disable_form=form, status=422 if form.errors else 200)


@bp.route("/admin/users/<id:user_id>/reset-second-factor", methods=["POST"])
@login_required
@accounts_required
def admin_reset(user_id: int):
    user = get_user(user_id)
    with unit_of_work() as work:
        reset(current_user._get_current_object(), user)
    if work.ok:
        after = ("本人下次登录后须先重新设置，才能继续使用" if must_enrol(user, _required())
                 else "本人登录时只需密码，可在“我的账号 › 两步验证”重新设置")
        flash(f"已重置账号 {user.username} 的两步验证，原密钥和恢复码作废：{after}。", "success")
    return redirect(url_for("auth.user_edit", user_id=user_id), 303)
