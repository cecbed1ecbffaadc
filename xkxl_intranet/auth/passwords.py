"""Password hashing (argon2id) and drawing a password; the policy is ``domain/password_policy.py``.
No Flask here."""
from __future__ import annotations

import secrets
import string
from functools import cache
from typing import TypedDict

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..domain.password_policy import password_problems


class HashCosts(TypedDict):
    time_cost: int
    memory_cost: int
    parallelism: int


# argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): about 30 ms of one core per
# log-in here. The library's default (RFC 9106's 64 MiB, 3 passes) costs about 130 ms and 64 MiB
# per log-in: the night before the deadline 200 clerks logging in within half a minute took 27 s
# of CPU from a 2-core server and pushed every clerk's p99 past 5 s (bench_rush.py, README).
# Online guessing is stopped by the lock-out after 5 failures; hashes made with other costs are
# rehashed at their next log-in (``needs_rehash``).
HASH_COSTS: HashCosts = {"time_cost": 2, "memory_cost": 19 * 1024, "parallelism": 1}
_hasher = PasswordHasher(**HASH_COSTS)


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


def generate_password(length: int = 12, *, username: str = "") -> str:
    """A random password that meets the policy (``domain/password_policy.py``) and avoids
    look-alike characters. Its letters are consonants only, so that no city's pinyin and no word
    (rude or otherwise) can appear in it: 49 symbols, 67 bits at 12 characters."""
    alphabet = "".join(c for c in string.ascii_letters + string.digits
                       if c not in "Il1O0o" and c.lower() not in "aeiou")
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if not password_problems(candidate, username=username):
            return candidate
