"""系统设置与状态, the 系统管理员's read-only view of the security settings in effect. The settings
come from the deployment (environment variables, ``instance/config.py``), not from a page: the
administrator sees them and the operator changes them, so that a changed limit is a change to the
deployment, in its own record, not a click."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ..auth.services import LOCKOUT, MAX_FAILED_LOGINS
from ..auth.sessions import MAX_AGE
from ..domain.durations import format_duration


@dataclass(frozen=True)
class Setting:
    label: str
    key: str  # in the Flask config
    source: str  # where the deployment sets it ("": fixed in the code)
    default: Any  # in effect when the config does not name it
    shown: Callable[[Any], str]


def _on_off(value: Any) -> str:
    return "开启" if value else "关闭"


def _count(unit: str, off: str = "不限") -> Callable[[Any], str]:
    return lambda value: f"{value} {unit}" if value else off


def _duration(value: Any) -> str:
    return format_duration(value) if isinstance(value, timedelta) else f"{value} 秒"


SETTINGS = (
    Setting("空闲自动退出", "PERMANENT_SESSION_LIFETIME", "instance/config.py", timedelta(hours=2), _duration),
    Setting("空闲退出前提醒", "IDLE_WARNING", "instance/config.py", timedelta(minutes=5), _duration),
    Setting("密码有效期", "PASSWORD_EXPIRY_DAYS", "XKXL_PASSWORD_EXPIRY_DAYS", 90, _count("天", "不过期")),
    Setting("省厅和系统管理员须用第二因素登录", "REQUIRE_2FA", "XKXL_REQUIRE_2FA", False, _on_off),
    Setting("同一地址15分钟内登录失败上限", "LOGIN_GUESSES_PER_ADDRESS", "instance/config.py", 10, _count("次")),
    Setting("同一地址每天锁定账号上限", "LOGIN_LOCKOUTS_PER_ADDRESS", "instance/config.py", 3, _count("个")),
    Setting("单个上传文件上限", "MAX_UPLOAD_MB", "instance/config.py", 200, lambda value: f"{value} MB"),
    Setting("登录凭据仅经加密连接发送", "SESSION_COOKIE_SECURE", "XKXL_SECURE_COOKIES", False, _on_off),
    Setting("省厅账号兼管账号和审计（三权合一）", "COMBINED_DUTIES", "XKXL_COMBINED_DUTIES", False, _on_off),
)


@dataclass(frozen=True)
class SettingShown:
    label: str
    value: str
    source: str


def settings_in_effect(config: Mapping[str, Any]) -> list[SettingShown]:
    """Each security setting as this process runs with it, and where it is set; then the limits
    written in the code (the same in every deployment)."""
    shown = [SettingShown(s.label, s.shown(config.get(s.key, s.default)), s.source) for s in SETTINGS]
    shown += [
        SettingShown("会话最长时间（自登录起）", format_duration(MAX_AGE), ""),
        SettingShown("同一账号连续密码错误锁定", f"{MAX_FAILED_LOGINS} 次，锁定 {format_duration(LOCKOUT)}", ""),
    ]
    return shown
