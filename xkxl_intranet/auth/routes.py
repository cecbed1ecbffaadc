"""Log-in, log-out, one's own password, and the 系统管理员's account management."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import db, htmx
from ..rounds.models import City
from ..rounds.state import all_cities
from ..urls import safe_local_path
from ..web import return_to_url, unit_of_work
from .forms import ChangePasswordForm, LoginForm, UserCreateForm, UserEditForm
from .models import User
from .scoping import accounts_required
from .services import (
    authenticate,
    change_password,
    create_user,
    get_user,
    list_users,
    record_logout,
    reset_password,
    update_user,
)
from .sessions import TOKEN_KEY
from .throttle import AddressLimits

bp = Blueprint("auth", __name__)


def _address_limits() -> AddressLimits:
    """The per-address throttle (``LOGIN_GUESSES_PER_ADDRESS`` per 15 minutes,
    ``LOGIN_LOCKOUTS_PER_ADDRESS`` per day; 0 turns either off)."""
    config = current_app.config
    return AddressLimits(guesses=config.get("LOGIN_GUESSES_PER_ADDRESS", 10),
                         lockouts=config.get("LOGIN_LOCKOUTS_PER_ADDRESS", 3))


def _start(user: User, token: str) -> None:
    """A new signed cookie for a new server-side session (nothing of the old one is kept)."""
    session.clear()
    session.permanent = True
    login_user(user)
    session[TOKEN_KEY] = token


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.index"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        with unit_of_work():  # failures count even though the log-in is refused
            outcome = authenticate(form.username.data, form.password.data,
                                   address=request.remote_addr or "", limits=_address_limits())
        if outcome.user is not None:
            _start(outcome.user, outcome.token)
            if outcome.user.must_change_password:
                flash("首次登录或密码已被重置，请先修改密码。", "warning")
                return redirect(url_for("auth.change_password_view"), 303)
            return redirect(safe_local_path(request.args.get("next")) or url_for("core.index"), 303)
        error = outcome.message
    return render_template("auth/login.html", form=form, error=error)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    with unit_of_work():
        record_logout(current_user._get_current_object(), session.get(TOKEN_KEY))
    logout_user()
    session.clear()
    flash("您已安全退出。", "info")
    return redirect(url_for("auth.login"), 303)


@bp.route("/session/keep-alive", methods=["POST"])
@login_required
def keep_alive():
    """继续使用, the idle warning's button: the request itself is the activity (the idle hook
    records it), so nothing else is done. A plain form post goes back to its page."""
    if htmx:
        return "", 204
    return redirect(return_to_url(url_for("core.index")), 303)


@bp.route("/account/")
@login_required
def account():
    """我的账号: one's own account, and from it the password and whatever else secures it."""
    return render_template("auth/account.html")


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password_view():
    form = ChangePasswordForm(username=current_user.username)
    if form.validate_on_submit():
        user = current_user._get_current_object()
        with unit_of_work():  # a wrong current password counts even though the change is refused
            outcome = change_password(user, form.current_password.data, form.new_password.data)
        if outcome.locked:  # the lock-out ended this session too
            logout_user()
            session.clear()
            flash(outcome.refusal, "danger")
            return redirect(url_for("auth.login"), 303)
        if outcome.refusal:
            form.current_password.errors.append(outcome.refusal)
        else:
            _start(user, outcome.token)  # every other session of the account has ended
            flash("密码已修改。", "success")
            return redirect(url_for("core.index"), 303)
    return render_template("auth/change_password.html", form=form)


# ---- account management (the 系统管理员) ---------------------------------------------

@bp.route("/admin/users")
@login_required
@accounts_required
def users():
    return render_template("auth/users.html", users=list_users())


def _city_or_none(city_id) -> City | None:
    return db.session.get(City, city_id) if city_id else None


@bp.route("/admin/users/new", methods=["GET", "POST"])
@login_required
@accounts_required
def user_new():
    form = UserCreateForm()
    form.set_city_choices(all_cities())
    if form.validate_on_submit():
        with unit_of_work() as work:
            user, password = create_user(
                current_user, username=form.username.data, display_name=form.display_name.data,
                role=form.role.data, city=_city_or_none(form.city_id.data), phone=form.phone.data)
        if work.ok:
            return render_template("auth/password_shown.html", user=user, password=password,
                                   reason="账号已创建")
    return render_template("auth/user_form.html", form=form, user=None)


@bp.route("/admin/users/<id:user_id>", methods=["GET", "POST"])
@login_required
@accounts_required
def user_edit(user_id: int):
    user = get_user(user_id)
    form = UserEditForm(obj=user)
    form.set_city_choices(all_cities())
    if form.validate_on_submit():
        with unit_of_work() as work:
            update_user(current_user, user, display_name=form.display_name.data, role=form.role.data,
                        city=_city_or_none(form.city_id.data), phone=form.phone.data,
                        is_enabled=form.is_enabled.data)
        if work.ok:
            flash(f"账号 {user.username} 已保存。", "success")
            return redirect(url_for("auth.users"), 303)
    return render_template("auth/user_form.html", form=form, user=user)


@bp.route("/admin/users/<id:user_id>/reset-password", methods=["POST"])
@login_required
@accounts_required
def user_reset_password(user_id: int):
    user = get_user(user_id)
    with unit_of_work():
        password = reset_password(current_user, user)
    return render_template("auth/password_shown.html", user=user, password=password,
                           reason="密码已重置，锁定已解除")
