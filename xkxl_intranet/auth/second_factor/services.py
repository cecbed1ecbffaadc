"""Use cases of the second factor: enrolment, the code at log-in, recovery codes, turning it off
and the administrator's reset. Services: they take the user and plain values and only flush.

A wrong code or password on the account page is recorded (``auth.2fa_failed``) and answered
with a refusal the route shows, not raised: the failure must be kept although the change is not
made (a raised :class:`Refused` would roll the record back with it). Five such failures within a
quarter hour stop the account page's second-factor forms for the rest of it, so a session left
open cannot be used to guess the password there."""
from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Update, delete, func, or_, select, update

from ...audit.models import AuditEvent
from ...audit.services import record
from ...clock import now
from ...domain.errors import Refused
from ...extensions import db
from ..models import User
from ..passwords import verify_password
from . import codes
from .models import RecoveryCode, SecondFactor

# Roles that must have a second factor when the deployment says so (XKXL_REQUIRE_2FA=1): the
# province's staff and the system administrator (issue 22's admin role, named by value here).
REQUIRED_ROLES = frozenset({"province", "admin"})
FAILURES_ALLOWED = 5
FAILURE_WINDOW = timedelta(minutes=15)
WRONG_CODE = "验证码不正确或已使用过，请输入手机验证器中当前显示的6位数字"
WRONG_PASSWORD_OR_CODE = "当前密码或验证码不正确（验证码须为手机验证器中当前显示的6位数字）"
TOO_MANY = "两步验证的尝试过于频繁，请15分钟后再试"


@dataclass
class Outcome:
    """What a use case on the account page came to: new recovery codes to show once (as
    printed), or the refusal to show beside the field."""

    recovery_codes: list[str] = field(default_factory=list)
    refusal: str = ""


def second_factor_of(user: User) -> SecondFactor | None:
    return db.session.scalar(select(SecondFactor).where(SecondFactor.user_id == user.id))


def is_enabled(user: User) -> bool:
    """Whether log-in asks ``user`` for a code (a confirmed secret)."""
    return db.session.scalar(select(SecondFactor.id).where(
        SecondFactor.user_id == user.id, SecondFactor.confirmed_at.is_not(None))) is not None


def must_enrol(user: User, required: bool) -> bool:
    """Whether ``user`` may do nothing before enrolling (``required``: XKXL_REQUIRE_2FA)."""
    return required and user.role in REQUIRED_ROLES and not is_enabled(user)


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(select(func.count(RecoveryCode.id)).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


def pending_enrolment(user: User) -> SecondFactor:
    """The secret waiting for its first code (a new one if none waits), for the QR code."""
    factor = second_factor_of(user)
    if factor is not None and factor.confirmed_at is not None:
        raise Refused("两步验证已启用")
    if factor is None:
        factor = SecondFactor(user_id=user.id, secret=codes.new_secret(), created_at=now())
        db.session.add(factor)
        db.session.flush()
    return factor


def confirm_enrolment(user: User, typed: str) -> Outcome:
    """The first code from the phone proves it holds the secret: the second factor is on, and
    ten recovery codes are made (returned once, kept only as hashes)."""
    at = now()
    factor = second_factor_of(user)
    if factor is None or factor.confirmed_at is not None:
        raise Refused("没有待确认的两步验证设置，请刷新页面重新扫码")
    if _too_many_failures(user, at):
        return Outcome(refusal=TOO_MANY)
    step = codes.matching_step(factor.secret, typed, at, factor.last_step)
    if step is None or not _claim_step(factor, step):
        _record_failure(user, "启用两步验证时验证码错误")
        return Outcome(refusal=WRONG_CODE)
    factor.confirmed_at = at
    recovery = _new_recovery_codes(user, at)
    record("auth.2fa_enabled", user=user, object_type="user", object_id=user.id, city_id=user.city_id,
           summary="启用两步验证（已生成10个恢复码）")
    db.session.flush()
    return Outcome(recovery_codes=recovery)


def accept_login_code(user: User, typed: str, at: datetime) -> bool:
    """The second step of a log-in: a current code not used before, or an unused recovery code
    (then used up). A failure is the caller's to count (it is a failed log-in)."""
    factor = second_factor_of(user)
    if factor is None or factor.confirmed_at is None:
        return False
    if codes.looks_like_totp(typed):
        return _accept_totp(factor, typed, at)
    code = _unused_recovery_code(user, typed)
    if code is None or not _use_recovery_code(code, at):
        return False
    left = recovery_codes_left(user)
    record("auth.2fa_recovery_used", user=user, object_type="user", object_id=user.id, city_id=user.city_id,
           summary=f"使用恢复码登录（剩余{left}个）")
    return True


def regenerate_recovery_codes(user: User, password: str, typed: str) -> Outcome:
    """Ten new recovery codes; the old ones stop working. Needs the password and a current code."""
    at = now()
    factor = second_factor_of(user)
    if factor is None or factor.confirmed_at is None:
        raise Refused("尚未启用两步验证")
    refusal = _check_password_and_code(user, factor, password, typed, at, "重新生成恢复码")
    if refusal:
        return Outcome(refusal=refusal)
    recovery = _new_recovery_codes(user, at)
    record("auth.2fa_recovery_regenerated", user=user, object_type="user", object_id=user.id,
           city_id=user.city_id, summary="重新生成恢复码（原恢复码作废）")
    db.session.flush()
    return Outcome(recovery_codes=recovery)


def disable(user: User, password: str, typed: str, *, required: bool) -> Outcome:
    """Turn the second factor off (the secret and the recovery codes are deleted). Needs the
    password and a current code (or, the phone lost, an unused recovery code); refused for a
    role that must have it (``required``: XKXL_REQUIRE_2FA)."""
    at = now()
    factor = second_factor_of(user)
    if factor is None or factor.confirmed_at is None:
        raise Refused("尚未启用两步验证")
    if required and user.role in REQUIRED_ROLES:
        raise Refused("本系统要求本账号使用两步验证，不能关闭；如手机丢失，可用恢复码登录后重新生成，"
                      "或请系统管理员重置两步验证")
    refusal = _check_password_and_code(user, factor, password, typed, at, "关闭两步验证",
                                       recovery_allowed=True)
    if refusal:
        return Outcome(refusal=refusal)
    _delete_second_factor(user)
    record("auth.2fa_disabled", user=user, object_type="user", object_id=user.id, city_id=user.city_id,
           summary="关闭两步验证")
    return Outcome()


def reset(actor: User, user: User) -> None:
    """The administrator's reset for a person who lost both the phone and the recovery codes:
    the secret and the codes are deleted, and the person enrols again after the password."""
    if second_factor_of(user) is None:
        raise Refused(f"账号 {user.username} 没有设置两步验证，无需重置")
    _delete_second_factor(user)
    record("account.2fa_reset", user=actor, object_type="user", object_id=user.id, city_id=user.city_id,
           summary=f"重置账号 {user.username} 的两步验证")


# ---- helpers -------------------------------------------------------------------------------

def _accept_totp(factor: SecondFactor, typed: str, at: datetime) -> bool:
    step = codes.matching_step(factor.secret, typed, at, factor.last_step)
    return step is not None and _claim_step(factor, step)


def _claim_step(factor: SecondFactor, step: int) -> bool:
    """Remember ``step`` as the last accepted, unless another request just accepted it or a
    later one (one conditional UPDATE: two log-ins racing with one code cannot both win).
    From now on the same code, or an earlier one, is refused."""
    claimed = _rows_updated(
        update(SecondFactor).where(SecondFactor.id == factor.id,
                                   or_(SecondFactor.last_step.is_(None), SecondFactor.last_step < step))
        .values(last_step=step))
    db.session.refresh(factor)
    return claimed == 1


def _use_recovery_code(code: RecoveryCode, at: datetime) -> bool:
    """Mark ``code`` used, unless another request just did (one conditional UPDATE)."""
    used = _rows_updated(update(RecoveryCode).where(RecoveryCode.id == code.id, RecoveryCode.used_at.is_(None))
                         .values(used_at=at))
    db.session.refresh(code)
    return used == 1


def _rows_updated(statement: Update) -> int:
    result = cast(CursorResult[Any], db.session.execute(statement.execution_options(synchronize_session=False)))
    return result.rowcount


def _unused_recovery_code(user: User, typed: str) -> RecoveryCode | None:
    unused = db.session.scalars(select(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)))
    for code in unused:
        if hmac.compare_digest(codes.recovery_digest(code.salt, typed), code.code_sha256):
            return code
    return None


def _check_password_and_code(user: User, factor: SecondFactor, password: str, typed: str, at: datetime,
                             what: str, *, recovery_allowed: bool = False) -> str:
    """The refusal for a wrong password or code ("" when both are right). Both are checked and
    one answer names both, so the form cannot be used to test passwords one at a time."""
    if _too_many_failures(user, at):
        return TOO_MANY
    password_ok = verify_password(user.password_hash, password)
    if codes.looks_like_totp(typed) or not recovery_allowed:
        step = codes.matching_step(factor.secret, typed, at, factor.last_step) if password_ok else None
        if step is not None and _claim_step(factor, step):
            return ""
    elif password_ok and (code := _unused_recovery_code(user, typed)) is not None and _use_recovery_code(code, at):
        record("auth.2fa_recovery_used", user=user, object_type="user", object_id=user.id,
               city_id=user.city_id, summary=f"{what}时使用恢复码")
        return ""
    _record_failure(user, f"{what}时密码或验证码错误")
    return WRONG_PASSWORD_OR_CODE


def _record_failure(user: User, summary: str) -> None:
    record("auth.2fa_failed", user=user, object_type="user", object_id=user.id, city_id=user.city_id,
           summary=summary)
    db.session.flush()


def _too_many_failures(user: User, at: datetime) -> bool:
    failures = db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.user_id == user.id, AuditEvent.action == "auth.2fa_failed",
        AuditEvent.at >= at - FAILURE_WINDOW)) or 0
    return failures >= FAILURES_ALLOWED


def _new_recovery_codes(user: User, at: datetime) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    made = [codes.new_recovery_code() for _ in range(codes.RECOVERY_CODE_COUNT)]
    for code in made:
        salt = codes.new_salt()
        db.session.add(RecoveryCode(user_id=user.id, salt=salt, code_sha256=codes.recovery_digest(salt, code),
                                    created_at=at))
    return [codes.shown(code) for code in made]


def _delete_second_factor(user: User) -> None:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(delete(SecondFactor).where(SecondFactor.user_id == user.id))
    db.session.flush()
