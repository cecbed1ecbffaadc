"""The codes themselves, pure: TOTP (RFC 6238 through pyotp: 6 digits, 30-second steps, SHA-1,
as every authenticator app reads an ``otpauth://`` URI) and the recovery codes."""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime

import pyotp

ISSUER = "四川省经信厅工业互联网平台申报"
# One step of clock drift either way: a phone a little fast or slow, or a code typed just as it
# changed, is accepted; RFC 6238 section 5.2 recommends at most one step back.
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
# No 0/o, 1/l/i: a code is read off paper and typed by hand. 31 symbols, 10 of them: 49.5 bits.
RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
RECOVERY_LENGTH = 10
TOTP_PATTERN = re.compile(r"\d{6}")


def new_secret() -> str:
    """160 random bits in base32 (RFC 4226's recommended key length)."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str) -> str:
    """The ``otpauth://`` URI the QR code carries: the app shows the issuer and the user name."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def in_groups(secret: str, size: int = 4) -> str:
    """``ABCD EFGH …``: the secret to type into an app that cannot scan."""
    return " ".join(secret[i:i + size] for i in range(0, len(secret), size))


def normalise(typed: str) -> str:
    """What was typed, without spaces and hyphens (apps show ``123 456``, paper ``abcde-fghjk``)."""
    return re.sub(r"[\s\-]", "", typed or "").lower()


def looks_like_totp(typed: str) -> bool:
    return TOTP_PATTERN.fullmatch(normalise(typed)) is not None


def matching_step(secret: str, typed: str, at: datetime, after_step: int | None) -> int | None:
    """The time step (within :data:`DRIFT_STEPS` of ``at``) whose code is ``typed`` and that
    is later than ``after_step`` (the last one accepted), or ``None``."""
    code = normalise(typed)
    if not TOTP_PATTERN.fullmatch(code):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(at)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code) and (after_step is None or step > after_step):
            return step
    return None


def new_recovery_code() -> str:
    return "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))


def shown(code: str) -> str:
    """A recovery code as printed: two groups of five."""
    half = RECOVERY_LENGTH // 2
    return f"{code[:half]}-{code[half:]}"


def new_salt() -> str:
    return secrets.token_hex(16)


def recovery_digest(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{normalise(code)}".encode()).hexdigest()
