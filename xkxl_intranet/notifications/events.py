"""Notices for what happens in a package below this one, answered through its signal: a lock
is auth's (``auth.throttle.account_locked``), and auth imports nothing above it. The app factory
imports this module, which connects the receivers."""
from __future__ import annotations

from datetime import datetime

from ..auth.models import User
from ..auth.throttle import account_locked
from ..domain.notices import NoticeKind
from .operations import Link, administrators, notify


@account_locked.connect
def _account_locked(user: User, *, until: datetime, **_: object) -> None:
    """The administrators (who may unlock it) and the account itself (read when it next logs in,
    a warning that someone tried its password) are told."""
    title = f"账号 {user.username} 因多次登录失败已暂停新的登录"
    body = (f"账号 {user.display_name or user.username}（{user.username}）多次登录失败，"
            f"暂停新的登录至 {until:%Y-%m-%d %H:%M}（北京时间）。")
    notify(administrators(), NoticeKind.ACCOUNT_LOCKED, title,
           body + "如非本人操作，请核实后在账号管理中处理。", Link("auth.users"))
    notify([user], NoticeKind.ACCOUNT_LOCKED, "您的账号曾因多次登录失败被暂停登录",
           body + "如非本人所为，请尽快修改密码并告知系统管理员。", Link("auth.account"))
