"""Password hashing (argon2id) and the password policy. No Flask here."""
from __future__ import annotations

import secrets
import string
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2id with the library's current recommended costs

MIN_LENGTH = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def dummy_hash() -> str:
    """The hash an unknown user name is checked against: the same costs as a real one, so that
    a log-in for a user who does not exist takes as long as a wrong password."""
    return _hasher.hash(secrets.token_urlsafe(24))


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def password_problems(password: str, *, username: str = "") -> list[str]:
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"新密码至少需要{MIN_LENGTH}位")
    if not any(c.isdigit() for c in password) or not any(c.isalpha() for c in password):
        problems.append("新密码需同时包含字母和数字")
    if username and password.lower() == username.lower():
        problems.append("新密码不能与用户名相同")
    return problems


def generate_password(length: int = 12) -> str:
    """A random password that meets the policy and avoids look-alike characters."""
    alphabet = "".join(c for c in string.ascii_letters + string.digits if c not in "Il1O0o")
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if not password_problems(candidate):
            return candidate
