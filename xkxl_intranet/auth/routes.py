"""Log-in (with its second step), log-out, one's own password, and the 系统管理员's account management."""
from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer

from ..clock import now
from ..domain.errors import NotFound
from ..domain.login_throttle import ThrottleLimits
from ..domain.password_policy import POLICY_HINT, PasswordExpiry
from ..extensions import db, htmx
from ..rounds.models import City
from ..rounds.state import all_cities
from ..urls import safe_local_path
from ..web import render_page_or_fragment, return_to_url, unit_of_work, wants_fragment
from .failures import recent_failures, unlock_account
from .forms import ChangePasswordForm, LoginForm, OwnEmailForm, UserCreateForm, UserEditForm
from .models import User
from .password_expiry import expiry_of
from .scoping import accounts_required
from .second_factor.forms import LoginCodeForm
from .second_factor.services import is_enabled as second_factor_enabled
from .services import (
    LoginOutcome,
    authenticate,
    change_password,
    create_user,
    get_user,
    list_users,
    record_logout,
    reset_password,
    set_own_email,
    update_user,
    verify_second_factor,
)
from .sessions import (
    TOKEN_KEY,
    Client,
    SessionPolicy,
    end_other_sessions,
    end_own_session,
    own_sessions,
)

bp = Blueprint("auth", __name__)


def _throttle_limits() -> ThrottleLimits:
    """The log-in throttle's settings (the README's table; defaults: ``ThrottleLimits``)."""
    config = current_app.config
    return ThrottleLimits(free_per_pair=config["LOGIN_GUESSES_PER_PAIR"],
                          free_per_address=config["LOGIN_GUESSES_PER_ADDRESS"],
                          first_delay=timedelta(seconds=config["LOGIN_FIRST_DELAY_SECONDS"]),
                          max_delay=timedelta(seconds=config["LOGIN_MAX_DELAY_SECONDS"]),
                          window=timedelta(minutes=config["LOGIN_WINDOW_MINUTES"]),
                          lock_failures=config["LOGIN_LOCK_FAILURES"],
                          lock_addresses=config["LOGIN_LOCK_ADDRESSES"],
                          lock_duration=timedelta(minutes=config["LOGIN_LOCK_MINUTES"]))


def password_expiry(user: User) -> PasswordExpiry | None:
    """When ``user``'s password expires (``PASSWORD_MAX_AGE_DAYS``, warned
    ``PASSWORD_EXPIRY_WARNING_DAYS`` before; 0 days: never)."""
    config = current_app.config
    return expiry_of(user, max_age_days=config["PASSWORD_MAX_AGE_DAYS"],
                     warning_days=config["PASSWORD_EXPIRY_WARNING_DAYS"])


@bp.app_context_processor
def password_expiry_warning() -> dict:
    """``password_expires_at`` for the banner of every page (base.html), in the days before."""
    if not current_user.is_authenticated:
        return {}
    expiry = password_expiry(current_user)
    if expiry is None or not expiry.warns(now()):
        return {}
    return {"password_expires_at": expiry.expires_at}


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
                                   client=_client(), limits=_throttle_limits(),
                                   sessions=_session_policy())
        if outcome.second_factor_due and outcome.user is not None:
            _hold_for_second_factor(outcome.user)
            return redirect(url_for("auth.login_verify", next=request.args.get("next")), 303)
        if outcome.user is not None:
            return _signed_in(outcome)
        error = outcome.message
    return render_template("auth/login.html", form=form, error=error)


def _signed_in(outcome: LoginOutcome):
    """The session starts (the password and, if it has one, the second factor were right); the
    new session is told, once, of the failures since the previous log-in and of any session the
    account's limit ended."""
    user, token = outcome.user, outcome.token
    assert user is not None and token is not None  # callers pass only a successful outcome
    _start(user, token)
    if outcome.notice:
        flash(outcome.notice, "warning")
    for ended in outcome.evicted:
        flash(f"本账号最多同时保持{_session_policy().max_per_account}个登录会话，"
              f"已结束最早的一个登录会话（{ended.describe()}）。", "warning")
    if user.must_change_password:
        flash("首次登录或密码已被重置，请先修改密码。", "warning")
        return redirect(url_for("auth.change_password_view"), 303)
    return redirect(safe_local_path(request.args.get("next")) or url_for("core.index"), 303)


# The log-in's second step: between the password and the code the browser holds only this signed,
# timed marker (no session): "the password of user X (at session version V) was right".
SECOND_STEP_KEY = "_second_step"
SECOND_STEP_SECONDS = 5 * 60


class _ClockSigner(TimestampSigner):
    """Dates the marker by the application's clock (which tests may pin), not the system's."""

    def get_timestamp(self) -> int:
        return int(now().timestamp())


def _second_step_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="xkxl-login-second-step", signer=_ClockSigner)


def _hold_for_second_factor(user: User) -> None:
    session.clear()
    session[SECOND_STEP_KEY] = _second_step_signer().dumps([user.id, user.session_version])


def _held_for_second_factor() -> tuple[int, int] | None:
    try:
        user_id, version = _second_step_signer().loads(session.get(SECOND_STEP_KEY) or "",
                                                       max_age=SECOND_STEP_SECONDS)
        return int(user_id), int(version)
    except (BadSignature, TypeError, ValueError):
        return None


@bp.route("/login/verify", methods=["GET", "POST"])
def login_verify():
    """两步验证 at log-in: a current code from the phone, or a recovery code."""
    if current_user.is_authenticated:
        return redirect(url_for("core.index"))
    held = _held_for_second_factor()
    if held is None:
        session.pop(SECOND_STEP_KEY, None)
        flash("登录验证已超时（须在输入密码后5分钟内完成），请重新登录。", "warning")
        return redirect(url_for("auth.login", next=request.args.get("next")), 303)
    form = LoginCodeForm()
    error = None
    if form.validate_on_submit():
        with unit_of_work():  # a wrong code counts as a failed log-in
            outcome = verify_second_factor(*held, form.code.data, client=_client(),
                                           limits=_throttle_limits(), sessions=_session_policy())
        if outcome.user is not None:
            return _signed_in(outcome)
        error = outcome.message
    return render_template("auth/login_verify.html", form=form, error=error)


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
    return _account_page(OwnEmailForm(email=current_user.email or ""))


def _account_page(email_form: OwnEmailForm, status: int = 200):
    return render_template("auth/account.html", expiry=password_expiry(current_user), at=now(),
                           second_factor_on=second_factor_enabled(current_user._get_current_object()),
                           failures=recent_failures(current_user), email_form=email_form,
                           **_sessions_context()), status


@bp.route("/account/email", methods=["POST"])
@login_required
def account_email_view():
    """电子邮箱 on 我的账号, a plain form post: saved, back to 我的账号 (htmx: the section again,
    saying so); refused, the section or page again (422) with the address as typed and the
    reason beside the field."""
    form = OwnEmailForm()
    if form.validate_on_submit():
        with unit_of_work(flash_refusal=False) as work:
            set_own_email(current_user._get_current_object(), form.email.data)
        if work.refused is None:
            message = "电子邮箱已保存。" if form.email.data else "电子邮箱已清除，系统将不再向您发送邮件通知。"
            if wants_fragment():
                return render_template("auth/_email.html", email_form=form, email_saved=message)
            flash(message, "success")
            return redirect(url_for("auth.account") + "#account-email", 303)
        form.email.errors = [work.refused.message]
    if wants_fragment():
        return render_template("auth/_email.html", email_form=form), 422
    return _account_page(form, 422)


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
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        with unit_of_work():  # a wrong current password counts even though the change is refused
            outcome = change_password(user, form.current_password.data, form.new_password.data,
                                      client=_client(), limits=_throttle_limits())
        if outcome.refusal:
            form.current_password.errors.append(outcome.refusal)
        elif outcome.problems:
            form.new_password.errors.extend(outcome.problems)
        else:
            _start(user, outcome.token)  # every other session of the account has ended
            flash("密码已修改；本账号在其他地方的登录会话已全部结束。", "success")
            return redirect(url_for("core.index"), 303)
    return render_template("auth/change_password.html", form=form, policy=POLICY_HINT,
                           expiry=password_expiry(current_user), at=now())


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
                role=form.role.data, city=_city_or_none(form.city_id.data), phone=form.phone.data,
                email=form.email.data)
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
                        is_enabled=form.is_enabled.data, email=form.email.data)
        if work.ok:
            flash(f"账号 {user.username} 已保存。", "success")
            return redirect(url_for("auth.users"), 303)
    return render_template("auth/user_form.html", form=form, user=user, failures=recent_failures(user),
                           second_factor_on=second_factor_enabled(user))


@bp.route("/admin/users/<id:user_id>/unlock", methods=["POST"])
@login_required
@accounts_required
def user_unlock(user_id: int):
    """解除锁定 of an account-wide lock (new log-ins refused after failures from several
    addresses); the account's failures stay listed."""
    user = get_user(user_id)
    with unit_of_work() as work:
        unlock_account(current_user, user)
    if work.ok:
        flash(f"账号 {user.username} 已解除锁定。", "success")
    return redirect(url_for("auth.user_edit", user_id=user_id), 303)


@bp.route("/admin/users/<id:user_id>/reset-password", methods=["POST"])
@login_required
@accounts_required
def user_reset_password(user_id: int):
    user = get_user(user_id)
    was_locked = user.is_locked(now())
    with unit_of_work():
        password = reset_password(current_user, user)
    return render_template("auth/password_shown.html", user=user, password=password,
                           reason="密码已重置" + ("，锁定已解除" if was_locked else ""))
