"""Log-in, log-out, one's own password, and the province's account management."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..domain.errors import NotFound
from ..extensions import db, htmx
from ..rounds.models import City
from ..rounds.state import all_cities
from ..urls import safe_local_path
from ..web import render_page_or_fragment, return_to_url, unit_of_work
from .forms import ChangePasswordForm, LoginForm, UserCreateForm, UserEditForm
from .models import User
from .scoping import province_required
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
from .sessions import (
    TOKEN_KEY,
    Client,
    SessionPolicy,
    end_other_sessions,
    end_own_session,
    own_sessions,
)
from .throttle import AddressLimits

bp = Blueprint("auth", __name__)


def _address_limits() -> AddressLimits:
    """The per-address throttle (``LOGIN_GUESSES_PER_ADDRESS`` per 15 minutes,
    ``LOGIN_LOCKOUTS_PER_ADDRESS`` per day; 0 turns either off)."""
    config = current_app.config
    return AddressLimits(guesses=config.get("LOGIN_GUESSES_PER_ADDRESS", 10),
                         lockouts=config.get("LOGIN_LOCKOUTS_PER_ADDRESS", 3))


def _session_policy() -> SessionPolicy:
    """The idle limit (``PERMANENT_SESSION_LIFETIME``) and ``MAX_SESSIONS_PER_ACCOUNT`` (0: no
    bound)."""
    return SessionPolicy(idle=current_app.permanent_session_lifetime,
                         max_per_account=current_app.config.get("MAX_SESSIONS_PER_ACCOUNT", 3))


def _client() -> Client:
    return Client(request.remote_addr or "", request.headers.get("User-Agent", ""))


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
                                   address=request.remote_addr or "", limits=_address_limits(),
                                   user_agent=_client().user_agent, sessions=_session_policy())
        if outcome.user is not None:
            _start(outcome.user, outcome.token)
            for ended in outcome.evicted:
                flash(f"本账号最多同时保持{_session_policy().max_per_account}个登录会话，"
                      f"已结束最早的一个登录会话（{ended.describe()}）。", "warning")
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
    return render_template("auth/account.html", **_sessions_context())


def _sessions_context(messages: tuple[tuple[str, str], ...] = ()) -> dict:
    return {"user_sessions": own_sessions(current_user, session.get(TOKEN_KEY), _session_policy().idle),
            "session_messages": messages}


def _sessions_answer(message: tuple[str, str]):
    """htmx: the 登录会话 section again, with ``message`` in it; a plain form: back to 我的账号."""
    if htmx:
        return render_page_or_fragment("auth/account.html", "auth/_sessions.html",
                                       **_sessions_context((message,)))
    flash(message[1], message[0])
    return redirect(url_for("auth.account") + "#account-sessions", 303)


@bp.route("/account/sessions/<id:session_id>/end", methods=["POST"])
@login_required
def end_session_view(session_id: int):
    """结束此会话: one of one's other sessions ends (a copy of its cookie opens nothing)."""
    message = ("success", "已结束该登录会话。")
    try:
        with unit_of_work(flash_refusal=False) as work:
            end_own_session(current_user, session_id, session.get(TOKEN_KEY), _session_policy().idle)
    except NotFound:  # ended meanwhile, or never one of this account's: one answer for both
        message = ("info", "该登录会话已经结束。")
    if work.refused is not None:
        message = ("danger", work.refused.message)
    return _sessions_answer(message)


@bp.route("/account/sessions/end-others", methods=["POST"])
@login_required
def end_other_sessions_view():
    """结束其他全部会话: every session of the account but this one ends."""
    with unit_of_work():
        ended = end_other_sessions(current_user, session.get(TOKEN_KEY), _session_policy().idle)
    return _sessions_answer(("success", f"已结束其他{len(ended)}个登录会话。") if ended
                            else ("info", "没有其他登录会话。"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password_view():
    form = ChangePasswordForm(username=current_user.username)
    if form.validate_on_submit():
        user = current_user._get_current_object()
        with unit_of_work():  # a wrong current password counts even though the change is refused
            outcome = change_password(user, form.current_password.data, form.new_password.data,
                                      client=_client())
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


# ---- account management (province staff) ---------------------------------------------

@bp.route("/admin/users")
@login_required
@province_required
def users():
    return render_template("auth/users.html", users=list_users())


def _city_or_none(city_id) -> City | None:
    return db.session.get(City, city_id) if city_id else None


@bp.route("/admin/users/new", methods=["GET", "POST"])
@login_required
@province_required
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
@province_required
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
@province_required
def user_reset_password(user_id: int):
    user = get_user(user_id)
    with unit_of_work():
        password = reset_password(current_user, user)
    return render_template("auth/password_shown.html", user=user, password=password,
                           reason="密码已重置，锁定已解除")
