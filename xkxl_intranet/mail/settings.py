"""The SMTP server the mailer sends through, from the app's config (the app factory fills it from
``XKXL_SMTP_*`` and ``XKXL_MAIL_FROM``; ``instance/config.py`` or a test may set the same keys).

Mail is on only when both ``SMTP_HOST`` and ``SMTP_PORT`` are set: without them
``outbox.queue_mail`` keeps nothing and enqueues nothing.

``SMTP_SECURITY``: ``ssl`` (TLS from the first byte, port 465), ``starttls`` (plain connection
upgraded before anything is sent, port 587 or 25) or ``none`` (an intranet relay without TLS).
Unset, it is ``ssl`` on port 465 and ``starttls`` on any other: a password or a notice never
crosses the network in clear unless the deployment says ``none``.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..envsettings import whole_number

SECURITY_CHOICES = ("starttls", "ssl", "none")
# Retries after a failed attempt, in minutes: 1, 5 and 30, so four attempts in all over ~36 minutes
# (a relay restarting, a full mailbox freed); then the row is failed and waits for 「重新发送」.
DEFAULT_RETRY_MINUTES = (1, 5, 30)
DEFAULT_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    security: str
    user: str
    password: str
    sender: str
    timeout: float
    retry_minutes: tuple[int, ...]


def _default_security(port: int) -> str:
    return "ssl" if port == 465 else "starttls"


def settings_from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The config keys from ``XKXL_SMTP_HOST``, ``XKXL_SMTP_PORT``, ``XKXL_SMTP_USER``,
    ``XKXL_SMTP_PASSWORD``, ``XKXL_SMTP_SECURITY`` and ``XKXL_MAIL_FROM``. A port that is not a
    number or an unknown security stops the start, naming the variable (a mailer that silently
    sends nothing would be found out only when a notice is missed)."""
    env = os.environ if environ is None else environ
    port = whole_number("XKXL_SMTP_PORT", minimum=1, maximum=65535, environ=env)
    security = env.get("XKXL_SMTP_SECURITY", "").strip().lower() or None
    if security is not None and security not in SECURITY_CHOICES:
        raise ValueError(f"XKXL_SMTP_SECURITY must be one of {', '.join(SECURITY_CHOICES)}, not {security!r}")
    return {
        "SMTP_HOST": env.get("XKXL_SMTP_HOST", "").strip() or None,
        "SMTP_PORT": port,
        "SMTP_USER": env.get("XKXL_SMTP_USER", "") or None,
        "SMTP_PASSWORD": env.get("XKXL_SMTP_PASSWORD", "") or None,
        "SMTP_SECURITY": security,
        "MAIL_FROM": env.get("XKXL_MAIL_FROM", "").strip() or None,
        "SMTP_TIMEOUT_SECONDS": DEFAULT_TIMEOUT_SECONDS,
        "MAIL_RETRY_MINUTES": DEFAULT_RETRY_MINUTES,
    }


def mail_settings(config: Mapping[str, Any]) -> MailSettings | None:
    """The server to send through, or None when mail is off (no host or no port)."""
    host, port = config.get("SMTP_HOST"), config.get("SMTP_PORT")
    if not host or not port:
        return None
    port = int(port)
    security = str(config.get("SMTP_SECURITY") or _default_security(port)).lower()
    if security not in SECURITY_CHOICES:
        raise ValueError(f"SMTP_SECURITY must be one of {', '.join(SECURITY_CHOICES)}, not {security!r}")
    user = str(config.get("SMTP_USER") or "")
    # Without XKXL_MAIL_FROM: the account's own address where it is one, else a no-reply
    # address at the server's name (most relays refuse a sender without a domain).
    sender = str(config.get("MAIL_FROM") or (user if "@" in user else f"xkxl-noreply@{host}"))
    return MailSettings(host=str(host), port=port, security=security, user=user,
                        password=str(config.get("SMTP_PASSWORD") or ""), sender=sender,
                        timeout=float(config.get("SMTP_TIMEOUT_SECONDS") or DEFAULT_TIMEOUT_SECONDS),
                        retry_minutes=tuple(int(m) for m in config.get("MAIL_RETRY_MINUTES",
                                                                      DEFAULT_RETRY_MINUTES)))
