"""系统设置与状态, the 系统管理员's read-only view of the security settings in effect. The settings
come from the deployment (environment variables, ``instance/config.py``), not from a page: the
administrator sees them and the operator changes them, so that a changed limit is a change to the
deployment, in its own record, not a click."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ..auth.sessions import MAX_AGE
from ..domain.durations import format_duration


@dataclass(frozen=True)
class Setting:
    label: str
    key: str  # in the Flask config
    source: str  # where the deployment sets it ("": fixed in the code)
    shown: Callable[[Any], str]
    literal: bool = False  # a path or a name, shown as written (not words of the interface)


def _on_off(value: Any) -> str:
    return "开启" if value else "关闭"


def _count(unit: str, off: str = "不限") -> Callable[[Any], str]:
    return lambda value: f"{value} {unit}" if value else off


def _duration(value: Any) -> str:
    return format_duration(value) if isinstance(value, timedelta) else f"{value} 秒"


def _seconds(value: Any) -> str:
    return format_duration(timedelta(seconds=value)) if value else "不等待"


def _minutes(value: Any) -> str:
    return format_duration(timedelta(minutes=value)) if value else "不限"


SETTINGS = (
    Setting("空闲自动退出", "PERMANENT_SESSION_LIFETIME", "XKXL_IDLE_MINUTES", _duration),
    Setting("空闲退出前提醒", "IDLE_WARNING", "instance/config.py", _duration),
    Setting("同一账号同时登录的会话上限", "MAX_SESSIONS_PER_ACCOUNT", "XKXL_MAX_SESSIONS_PER_ACCOUNT", _count("个")),
    Setting("密码有效期", "PASSWORD_MAX_AGE_DAYS", "XKXL_PASSWORD_MAX_AGE_DAYS", _count("天", "不过期")),
    Setting("密码到期前提醒", "PASSWORD_EXPIRY_WARNING_DAYS", "XKXL_PASSWORD_EXPIRY_WARNING_DAYS", _count("天", "不提醒")),
    Setting("省厅和系统管理员须用两步验证登录", "REQUIRE_2FA", "XKXL_REQUIRE_2FA", _on_off),
    Setting("同一账号名、同一地址不计等待的登录失败", "LOGIN_GUESSES_PER_PAIR", "XKXL_LOGIN_GUESSES_PER_PAIR", _count("次")),
    Setting("同一地址不计等待的登录失败", "LOGIN_GUESSES_PER_ADDRESS", "XKXL_LOGIN_GUESSES_PER_ADDRESS", _count("次")),
    Setting("超出后首次等待（此后每次加倍）", "LOGIN_FIRST_DELAY_SECONDS", "XKXL_LOGIN_FIRST_DELAY_SECONDS", _seconds),
    Setting("最长等待", "LOGIN_MAX_DELAY_SECONDS", "XKXL_LOGIN_MAX_DELAY_SECONDS", _seconds),
    Setting("登录失败的统计时段", "LOGIN_WINDOW_MINUTES", "XKXL_LOGIN_WINDOW_MINUTES", _minutes),
    Setting("账号暂停新登录：失败次数", "LOGIN_LOCK_FAILURES", "XKXL_LOGIN_LOCK_FAILURES", _count("次", "不暂停")),
    Setting("账号暂停新登录：来自不同地址数", "LOGIN_LOCK_ADDRESSES", "XKXL_LOGIN_LOCK_ADDRESSES", _count("个")),
    Setting("账号暂停新登录的时长（已登录的会话不受影响）", "LOGIN_LOCK_MINUTES", "XKXL_LOGIN_LOCK_MINUTES", _minutes),
    Setting("单个上传文件上限", "MAX_UPLOAD_MB", "instance/config.py", lambda value: f"{value} MB"),
    Setting("登录凭据仅经加密连接发送", "SESSION_COOKIE_SECURE", "XKXL_SECURE_COOKIES", _on_off),
    Setting("监控读取健康详情的令牌", "HEALTH_TOKEN", "XKXL_HEALTH_TOKEN", lambda value: "已设置" if value else "未设置"),
    Setting("审计记录在线保存天数（之后移入签名归档）", "AUDIT_RETENTION_DAYS", "XKXL_AUDIT_RETENTION_DAYS",
            _count("天", "一直在线")),
    Setting("审计记录归档目录", "AUDIT_ARCHIVE_DIR", "XKXL_AUDIT_ARCHIVE_DIR", str, literal=True),
    Setting("审计记录散列链密钥文件", "AUDIT_KEY_FILE", "XKXL_AUDIT_KEY_FILE", str, literal=True),
    Setting("省厅账号兼管账号和审计（三权合一）", "COMBINED_DUTIES", "XKXL_COMBINED_DUTIES", _on_off),
)


@dataclass(frozen=True)
class SettingShown:
    label: str
    value: str
    source: str
    literal: bool = False


def settings_in_effect(config: Mapping[str, Any]) -> list[SettingShown]:
    """Each security setting as this process runs with it (the app factory names every one), and where it is set; then the limits
    written in the code (the same in every deployment)."""
    shown = [SettingShown(s.label, s.shown(config[s.key]), s.source, s.literal) for s in SETTINGS]
    shown += [
        SettingShown("会话最长时间（自登录起）", format_duration(MAX_AGE), ""),
    ]
    return shown
