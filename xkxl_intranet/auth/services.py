"""Accounts: log-in (throttled), password changes, and the 系统管理员's account management."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from ..audit.services import diff, record
from ..clock import now
from ..domain.errors import NotFound, Refused
from ..domain.login_throttle import ThrottleLimits
from ..domain.parsing import ParseError, parse_email
from ..domain.password_policy import REUSED, password_problems
from ..extensions import db
from ..rounds.models import City
from .failures import failures_since_last_login
from .models import ROLE_LABELS, Role, User, UserSession
from .password_history import password_reused, remember_password
from .passwords import dummy_hash, generate_password, hash_password, needs_rehash, verify_password
from .second_factor import services as second_factor
from .sessions import (
    UNKNOWN_CLIENT,
    Client,
    SessionPolicy,
    SessionView,
    Started,
    end_all_sessions,
    end_session,
    session_user,
    start_session,
)
from .throttle import count_failure, lift_lock, must_wait, name_key

# One answer for every failed log-in: a wrong password, an unknown name, a try the throttle
# refuses, a locked account. Nothing in it tells a stranger which names exist or what the
# throttle is doing (an unknown name also costs the same hash check; a refused try costs none).
LOGIN_REFUSED = "用户名或密码错误，或尝试过于频繁，请稍后再试"
WRONG_CURRENT_PASSWORD = "当前密码不正确，或尝试过于频繁，请稍后再试"
WRONG_SECOND_FACTOR = "验证码不正确或已使用过，或尝试过于频繁，请稍后再试"


ONE_TIME_PASSWORD_SPENT = ("该一次性密码已经用于登录过，不能再次使用。请联系系统管理员重置密码。")


def one_time_password_spent(user: User) -> bool:
    """A password the administrator gave (``password_one_time``) opens one log-in: once a log-in
    happened after it was set, it opens no other (that first session must change it). Said only
    after the right password, like a disabled account, so it tells a stranger nothing."""
    return (user.password_one_time and user.last_login_at is not None
            and user.last_login_at >= user.password_changed_at)


@dataclass
class LoginOutcome:
    user: User | None
    message: str = ""
    token: str | None = None  # the new session's, for the cookie
    second_factor_due: bool = False  # the password was right; the code is asked for next
    notice: str = ""  # failures against the account since its previous log-in, said once
    evicted: list[SessionView] = field(default_factory=list)  # ended for the account's limit


def find_user(username: str) -> User | None:
    return db.session.scalar(
        select(User).where(func.lower(User.username) == username.strip().lower()))


def authenticate(username: str, password: str, *, client: Client = UNKNOWN_CLIENT,
                 limits: ThrottleLimits | None = None,
                 sessions: SessionPolicy | None = None) -> LoginOutcome:
    """Check a password unless the throttle says to wait (:mod:`.throttle`): then the try is
    refused unchecked. Every failure reads :data:`LOGIN_REFUSED`. A failure may lock the account
    against new log-ins (failures from several addresses), never ending its live sessions. A
    disabled account says so, but only after the right password, which tells a stranger
    nothing."""
    at = now()
    limits = limits or ThrottleLimits()
    key = name_key(username)
    user = find_user(username)
    if must_wait(key, client.address, limits, at, user=user):
        return LoginOutcome(None, LOGIN_REFUSED)
    password_ok = verify_password(user.password_hash if user is not None else dummy_hash(), password)
    if user is None:
        record("auth.login_failed", user=None, object_type="user", username=key,
               summary="登录失败：用户名不存在")
        return LoginOutcome(None, LOGIN_REFUSED)
    if not password_ok:
        count_failure(user, "auth.login_failed", "登录失败：密码错误", limits, at)
        return LoginOutcome(None, LOGIN_REFUSED)
    if user.is_locked(at):
        record("auth.login_refused_locked", user=user, object_type="user", object_id=user.id,
               city_id=user.city_id, summary="账号暂停登录期间以正确密码尝试登录")
        return LoginOutcome(None, LOGIN_REFUSED)
    if not user.is_enabled:
        record("auth.login_refused_disabled", object_type="user", object_id=user.id, user=user,
               city_id=user.city_id, summary="已停用的账号尝试登录")
        return LoginOutcome(None, "该账号已停用，请联系系统管理员。")
    if one_time_password_spent(user):
        record("auth.login_refused_one_time", object_type="user", object_id=user.id, user=user,
               city_id=user.city_id, summary="一次性密码已用于登录过，再次登录被拒绝")
        return LoginOutcome(None, ONE_TIME_PASSWORD_SPENT)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    if second_factor.is_enabled(user):  # no session yet: the code comes first (verify_second_factor)
        return LoginOutcome(user, second_factor_due=True)
    notice = failures_since_last_login(user)
    started = _finish_login(user, at, "登录成功", client, sessions)
    return LoginOutcome(user, token=started.token, notice=notice, evicted=started.evicted)


def _finish_login(user: User, at: datetime, summary: str, client: Client,
                  sessions: SessionPolicy | None) -> Started:
    """The log-in succeeded: a session starts (its token, and the sessions it ended for the
    account's limit)."""
    user.last_login_at = at
    record("auth.login", object_type="user", object_id=user.id, user=user, city_id=user.city_id,
           summary=summary)
    return start_session(user, client, sessions or SessionPolicy())


def verify_second_factor(user_id: int, session_version: int, code: str, *,
                         limits: ThrottleLimits | None = None, client: Client = UNKNOWN_CLIENT,
                         sessions: SessionPolicy | None = None) -> LoginOutcome:
    """The log-in's second step, for the user whose password was right (``user_id`` at
    ``session_version``, from the browser's signed marker): a current TOTP code not used before
    or an unused recovery code starts the session. A wrong code is a failed log-in of the
    account from ``client.address`` (the throttle counts it, and it may lock the account against new
    log-ins), answered with one message whatever the reason."""
    at = now()
    limits = limits or ThrottleLimits()
    user = db.session.get(User, user_id)
    if user is None or user.session_version != session_version or not user.is_enabled:
        return LoginOutcome(None, WRONG_SECOND_FACTOR)
    if must_wait(name_key(user.username), client.address, limits, at, user=user):
        return LoginOutcome(None, WRONG_SECOND_FACTOR)
    if user.is_locked(at):
        return LoginOutcome(None, WRONG_SECOND_FACTOR)
    if not second_factor.accept_login_code(user, code, at):
        count_failure(user, "auth.login_failed", "登录失败：两步验证码错误", limits, at)
        return LoginOutcome(None, WRONG_SECOND_FACTOR)
    notice = failures_since_last_login(user)
    started = _finish_login(user, at, "登录成功（两步验证）", client, sessions)
    return LoginOutcome(user, token=started.token, notice=notice, evicted=started.evicted)


def record_logout(user: User, token: str | None) -> None:
    """Log-out: the session ends on the server, so a copy of its cookie opens nothing."""
    end_session(token)
    record("auth.logout", object_type="user", object_id=user.id, user=user, city_id=user.city_id,
           summary="退出登录")


@dataclass
class PasswordChange:
    token: str | None = None  # the new session's, when the password was changed
    refusal: str = ""  # of the current password
    problems: list[str] = field(default_factory=list)  # of the new password (domain/password_policy.py)


def city_pinyins() -> list[str]:
    """Every city's pinyin, which no password may contain (domain/password_policy.py says why)."""
    return list(db.session.scalars(select(City.pinyin)))


def new_password_problems(user: User, new: str) -> list[str]:
    """What is wrong with ``new`` as ``user``'s next password: the policy, then the history."""
    problems = password_problems(new, username=user.username, city_pinyins=city_pinyins())
    if not problems and verify_password(user.password_hash, new):
        problems.append("新密码不能与当前密码相同")
    elif not problems and password_reused(user, new):
        problems.append(REUSED)
    return problems


def change_password(user: User, current: str, new: str, *, client: Client = UNKNOWN_CLIENT,
                    limits: ThrottleLimits | None = None) -> PasswordChange:
    """A wrong current password is a failed log-in of the account from ``client.address`` (kept
    although the change is refused: the route commits), so the same throttle holds here and a
    stolen session cannot guess the password freely; it never ends this session. The new one
    must meet the policy and be none of the last five. A change ends every session of the
    account and starts a new one for this browser."""
    at = now()
    limits = limits or ThrottleLimits()
    if must_wait(name_key(user.username), client.address, limits, at, user=user):
        return PasswordChange(refusal=WRONG_CURRENT_PASSWORD)
    if not verify_password(user.password_hash, current):
        count_failure(user, "auth.password_check_failed", "修改密码时当前密码错误", limits, at)
        return PasswordChange(refusal=WRONG_CURRENT_PASSWORD)
    problems = new_password_problems(user, new)
    if problems:
        return PasswordChange(problems=problems)
    user.password_hash = hash_password(new)
    user.password_changed_at = at
    remember_password(user, user.password_hash, at)
    user.must_change_password = False
    user.password_one_time = False
    end_all_sessions(user)
    record("auth.password_changed", object_type="user", object_id=user.id, user=user,
           city_id=user.city_id, summary="修改密码")
    return PasswordChange(token=start_session(user, client).token)


def user_snapshot(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "city": user.city.name if user.city else None,
        "phone": user.phone,
        "email": user.email,
        "is_enabled": user.is_enabled,
    }


def account_email(raw: str | None) -> str | None:
    """An account's e-mail address as kept (normalised), None for none; :class:`Refused` naming
    the field for one that is not an address."""
    try:
        return parse_email(raw, "电子邮箱")
    except ParseError as err:
        raise Refused(str(err), field="email") from None


def _check_role_city(role: str, city: City | None) -> None:
    if role == Role.CITY and city is None:
        raise Refused("市（州）账号必须指定所属市（州）")
    if role != Role.CITY and city is not None:
        raise Refused(f"{ROLE_LABELS[Role(role)]}账号不属于任何市（州），请将所属市（州）留空")


def create_user(actor: User | None, *, username: str, display_name: str, role: str, city: City | None,
                phone: str = "", email: str | None = None, password: str | None = None,
                must_change_password: bool = True) -> tuple[User, str]:
    """Create an account; returns it with its initial password (shown once). ``actor`` is
    the administrator creating it (``None`` from the command line). A ``password`` given (the
    demo's) must meet the policy; one the holder may keep (not ``must_change_password``) is the
    first of its history."""
    username = username.strip()
    if find_user(username) is not None:
        raise Refused(f"用户名“{username}”已被使用")
    _check_role_city(role, city)
    if password:
        problems = password_problems(password, username=username, city_pinyins=city_pinyins())
        if problems:
            raise Refused(f"账号 {username} 的密码不符合要求：" + "；".join(problems))
    else:
        password = generate_password(username=username)
    at = now()
    user = User(username=username, display_name=display_name.strip(), role=role, city=city,
                phone=phone.strip(), email=account_email(email), password_hash=hash_password(password),
                must_change_password=must_change_password, password_one_time=must_change_password,
                is_enabled=True, created_at=at,
                password_changed_at=at, session_version=1)
    db.session.add(user)
    db.session.flush()
    if not must_change_password:
        remember_password(user, user.password_hash, at)
    record("account.created", user=actor, object_type="user", object_id=user.id,
           city_id=city.id if city else None,
           summary=f"创建账号 {username}（{ROLE_LABELS[Role(role)]}）", after=user_snapshot(user))
    return user, password


def update_user(actor: User, user: User, *, display_name: str, role: str, city: City | None,
                phone: str, is_enabled: bool, email: str | None = None) -> None:
    """The administrator's account form, whole: ``email`` None (or empty) keeps no address."""
    if user.id == actor.id and (not is_enabled or role != user.role):
        raise Refused("不能停用自己的账号或修改自己的角色。")
    _check_role_city(role, city)
    if user.role == Role.ADMIN and user.is_enabled and (role != Role.ADMIN or not is_enabled) \
            and _enabled_admins() <= 1:
        raise Refused("至少保留一个启用的系统管理员账号：此账号是唯一启用的系统管理员，不能修改其「角色」"
                      "或取消「启用」；请先创建或启用另一个系统管理员账号。")
    before = user_snapshot(user)
    user.display_name = display_name.strip()
    user.role = role
    user.city = city
    user.phone = phone.strip()
    user.email = account_email(email)
    if user.is_enabled and not is_enabled:
        end_all_sessions(user)  # disabling ends the user's open sessions
    user.is_enabled = is_enabled
    db.session.flush()
    old, new = diff(before, user_snapshot(user))
    if old or new:
        record("account.updated", user=actor, object_type="user", object_id=user.id,
               city_id=user.city_id, summary=f"修改账号 {user.username}", before=old, after=new)


def set_own_email(user: User, email: str | None) -> None:
    """我的账号: the holder sets (or clears) the address the system's notices are mailed to."""
    before = user_snapshot(user)
    user.email = account_email(email)
    db.session.flush()
    old, new = diff(before, user_snapshot(user))
    if old or new:
        record("account.updated", user=user, object_type="user", object_id=user.id, city_id=user.city_id,
               summary=f"修改本人账号 {user.username} 的电子邮箱", before=old, after=new)


def _enabled_admins() -> int:
    return db.session.scalar(select(func.count()).select_from(User).where(
        User.role == Role.ADMIN, User.is_enabled.is_(True))) or 0


def reset_password(actor: User, user: User) -> str:
    """A one-time password, to be changed at the next log-in: not kept in the history (see
    :mod:`.password_history`)."""
    password = generate_password(username=user.username)
    user.password_hash = hash_password(password)
    user.password_changed_at = now()
    user.must_change_password = True
    user.password_one_time = True
    lift_lock(user, now())
    end_all_sessions(user)
    record("account.password_reset", user=actor, object_type="user", object_id=user.id,
           city_id=user.city_id,
           summary=f"重置账号 {user.username} 的密码并解除锁定")
    db.session.flush()
    return password


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound
    return user


def list_users() -> list[User]:
    return list(db.session.scalars(
        select(User).outerjoin(City, User.city_id == City.id)
        .order_by(User.role.desc(), City.sort_order, User.username)))


def load_user_by_session_id(session_id: str, token: str | None) -> tuple[User, UserSession] | None:
    """Flask-Login's loader: ``session_id`` is ``User.get_id()`` as stored at log-in, ``token``
    the session's own (see :mod:`.sessions`); the user with their live session."""
    try:
        user_id, version = (int(part) for part in session_id.split(":", 1))
    except (ValueError, AttributeError):
        return None
    return session_user(user_id, version, token)
