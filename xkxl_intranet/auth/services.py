"""Accounts: log-in with lockout, password changes, and the 系统管理员's account management."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from ..audit.services import diff, record
from ..clock import now
from ..domain.errors import NotFound, Refused
from ..extensions import db
from ..rounds.models import City
from .models import ROLE_LABELS, Role, User
from .passwords import dummy_hash, generate_password, hash_password, needs_rehash, verify_password
from .sessions import end_all_sessions, end_session, session_user, start_session
from .throttle import AddressLimits, blocked_until, note_throttled

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
# One answer for an unknown user and a wrong password (and as slow: both check a hash).
WRONG_CREDENTIALS = f"用户名或密码错误。同一账号连续输错{MAX_FAILED_LOGINS}次密码将被锁定15分钟。"
WRONG_CURRENT_PASSWORD = f"当前密码不正确。同一账号连续输错{MAX_FAILED_LOGINS}次密码将被锁定15分钟。"


@dataclass
class LoginOutcome:
    user: User | None
    message: str = ""
    token: str | None = None  # the new session's, for the cookie


def find_user(username: str) -> User | None:
    return db.session.scalar(
        select(User).where(func.lower(User.username) == username.strip().lower()))


def authenticate(username: str, password: str, *, address: str = "",
                 limits: AddressLimits | None = None) -> LoginOutcome:
    """Check a password, counting failures; the fifth in a row locks for 15 minutes and ends the
    account's sessions. An unknown user costs the same hash check as a wrong password and reads
    the same words; an ``address`` with too many recent failures is not checked at all."""
    at = now()
    limits = limits or AddressLimits()
    until = blocked_until(address, limits, at)
    if until is not None:
        note_throttled(address, until, username.strip(), limits, at)
        return LoginOutcome(None, f"此地址（{address}）登录失败次数过多，已暂停从此地址登录，请于 "
                                  f"{until:%H:%M} 后再试；如需帮助，请联系省厅大数据与信息化处。")
    user = find_user(username)
    password_ok = verify_password(user.password_hash if user is not None else dummy_hash(), password)
    if user is None:
        record("auth.login_failed", user=None, object_type="user", username=username.strip()[:60],
               summary="登录失败：用户名不存在")
        return LoginOutcome(None, WRONG_CREDENTIALS)
    if user.is_locked(at):
        record("auth.login_refused_locked", user=user, object_type="user", object_id=user.id,
               city_id=user.city_id, summary="账号锁定期间尝试登录")
        return LoginOutcome(None, _locked_message(user))
    if not password_ok:
        locked = _count_failure(user, at, "auth.login_failed", "密码错误")
        return LoginOutcome(None, _locked_message(user) if locked else WRONG_CREDENTIALS)
    if not user.is_enabled:
        record("auth.login_refused_disabled", object_type="user", object_id=user.id, user=user,
               city_id=user.city_id, summary="已停用的账号尝试登录")
        return LoginOutcome(None, "该账号已停用，请联系省厅大数据与信息化处。")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = at
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    record("auth.login", object_type="user", object_id=user.id, user=user, city_id=user.city_id,
           summary="登录成功")
    return LoginOutcome(user, token=start_session(user))


def _count_failure(user: User, at: datetime, action: str, what: str) -> bool:
    """One more wrong password for ``user`` (at log-in or when changing it); the fifth in a row
    locks the account and ends all its sessions. Returns whether it is now locked."""
    user.failed_logins += 1
    if user.failed_logins < MAX_FAILED_LOGINS:
        record(action, object_type="user", object_id=user.id, user=user, city_id=user.city_id,
               summary=f"{what}（第{user.failed_logins}次）")
        db.session.flush()
        return False
    user.locked_until = at + LOCKOUT
    user.failed_logins = 0
    end_all_sessions(user)
    record("auth.lockout", object_type="user", object_id=user.id, user=user, city_id=user.city_id,
           summary=f"连续{MAX_FAILED_LOGINS}次密码错误（最后一次：{what}），账号锁定至 "
                   f"{user.locked_until:%H:%M}，已登录的会话全部结束")
    db.session.flush()
    return True


def _locked_message(user: User) -> str:
    return (f"密码连续错误{MAX_FAILED_LOGINS}次，账号已锁定15分钟，"
            f"请于 {user.locked_until:%H:%M} 后再试，或联系省厅重置密码。")


def record_logout(user: User, token: str | None) -> None:
    """Log-out: the session ends on the server, so a copy of its cookie opens nothing."""
    end_session(token)
    record("auth.logout", object_type="user", object_id=user.id, user=user, city_id=user.city_id,
           summary="退出登录")


@dataclass
class PasswordChange:
    token: str | None = None  # the new session's, when the password was changed
    refusal: str = ""
    locked: bool = False  # the wrong current password was the fifth: the account is locked


def change_password(user: User, current: str, new: str) -> PasswordChange:
    """A wrong current password counts toward the lock-out like a failed log-in (and is kept
    even though the change is refused: the route commits). A change ends every session of the
    account and starts a new one for this browser."""
    at = now()
    if not verify_password(user.password_hash, current):
        if _count_failure(user, at, "auth.password_check_failed", "修改密码时当前密码错误"):
            return PasswordChange(refusal=_locked_message(user), locked=True)
        return PasswordChange(refusal=WRONG_CURRENT_PASSWORD)
    if verify_password(user.password_hash, new):
        return PasswordChange(refusal="新密码不能与当前密码相同")
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.failed_logins = 0
    end_all_sessions(user)
    record("auth.password_changed", object_type="user", object_id=user.id, user=user,
           city_id=user.city_id, summary="修改密码")
    return PasswordChange(token=start_session(user))


def user_snapshot(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "city": user.city.name if user.city else None,
        "phone": user.phone,
        "is_enabled": user.is_enabled,
    }


def _check_role_city(role: str, city: City | None) -> None:
    if role == Role.CITY and city is None:
        raise Refused("市（州）账号必须指定所属市（州）")
    if role != Role.CITY and city is not None:
        raise Refused(f"{ROLE_LABELS[Role(role)]}账号不属于任何市（州），请将所属市（州）留空")


def create_user(actor: User | None, *, username: str, display_name: str, role: str, city: City | None,
                phone: str = "", password: str | None = None,
                must_change_password: bool = True) -> tuple[User, str]:
    """Create an account; returns it with its initial password (shown once). ``actor`` is
    the administrator creating it (``None`` from the command line)."""
    username = username.strip()
    if find_user(username) is not None:
        raise Refused(f"用户名“{username}”已被使用")
    _check_role_city(role, city)
    password = password or generate_password()
    user = User(username=username, display_name=display_name.strip(), role=role, city=city,
                phone=phone.strip(), password_hash=hash_password(password),
                must_change_password=must_change_password, is_enabled=True, created_at=now(),
                failed_logins=0, session_version=1)
    db.session.add(user)
    db.session.flush()
    record("account.created", user=actor, object_type="user", object_id=user.id,
           city_id=city.id if city else None,
           summary=f"创建账号 {username}（{ROLE_LABELS[Role(role)]}）", after=user_snapshot(user))
    return user, password


def update_user(actor: User, user: User, *, display_name: str, role: str, city: City | None,
                phone: str, is_enabled: bool) -> None:
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
    if user.is_enabled and not is_enabled:
        end_all_sessions(user)  # disabling ends the user's open sessions
    user.is_enabled = is_enabled
    db.session.flush()
    old, new = diff(before, user_snapshot(user))
    if old or new:
        record("account.updated", user=actor, object_type="user", object_id=user.id,
               city_id=user.city_id, summary=f"修改账号 {user.username}", before=old, after=new)


def _enabled_admins() -> int:
    return db.session.scalar(select(func.count()).select_from(User).where(
        User.role == Role.ADMIN, User.is_enabled.is_(True))) or 0


def reset_password(actor: User, user: User) -> str:
    password = generate_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.failed_logins = 0
    user.locked_until = None
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


def load_user_by_session_id(session_id: str, token: str | None) -> User | None:
    """Flask-Login's loader: ``session_id`` is ``User.get_id()`` as stored at log-in, ``token``
    the session's own (see :mod:`.sessions`)."""
    try:
        user_id, version = (int(part) for part in session_id.split(":", 1))
    except (ValueError, AttributeError):
        return None
    return session_user(user_id, version, token)
