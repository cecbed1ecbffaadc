"""What a new password must be, and when a password expires (issue 22, GB/T 22239-2019 third level:
身份鉴别, "口令具有复杂度要求并定期更换").

The rules, each refused with a sentence naming the field 新密码:

- at least :data:`MIN_LENGTH` characters, with :data:`CLASSES_NEEDED` of the four classes (upper-case
  letter, lower-case letter, digit, other character: a symbol, a space, a Chinese character);
- not containing the user name (case-insensitive, when it has :data:`NAME_MIN_LENGTH` characters or
  more: a shorter one would be found inside too many good passwords);
- not containing the pinyin of any of the province's cities (``chengdu``, ``mianyang`` …), whoever's
  account it is: a city's clerk reaches first for their own city, the province's staff and the
  experts for 成都 or their home town, and a guesser tries all 21 of them as readily as one;
- not among the 10,000 most common passwords (:func:`common_passwords`), compared lowercased, and
  not one of them once the digits and symbols at its two ends are taken off: ``Password2024!`` is
  ``password`` with the decorations every guessing list adds.

Reuse of the last :data:`HISTORY_SIZE` passwords needs their hashes and is checked by the service
(``auth/password_history.py``). Nothing here knows Flask or the database.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

MIN_LENGTH = 8
CLASSES_NEEDED = 3
NAME_MIN_LENGTH = 3
HISTORY_SIZE = 5  # the current password and the four before it
COMMON_COUNT = 10_000
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent / "data" / "common-passwords-10k.txt"

REUSED = f"新密码不能与最近{HISTORY_SIZE}次使用过的密码相同"
POLICY_HINT = (f"至少{MIN_LENGTH}位，包含大写字母、小写字母、数字、符号中的至少{CLASSES_NEEDED}类；"
               f"不能包含用户名或市（州）名称的拼音（如 chengdu），不能是常见密码，"
               f"不能与最近{HISTORY_SIZE}次使用过的密码相同")


@cache
def common_passwords() -> frozenset[str]:
    """The 10,000 most common passwords, lowercased (``data/NOTICE.md`` says where they come
    from). Read once per process."""
    return frozenset(COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").split())


def character_classes(password: str) -> int:
    """How many of the four classes ``password`` uses: upper-case, lower-case, digit, other."""
    upper = any(c.isupper() for c in password)
    lower = any(c.islower() for c in password)
    digit = any(c.isdigit() for c in password)
    other = any(not (c.isupper() or c.islower() or c.isdigit()) for c in password)
    return upper + lower + digit + other


def common_core(password: str) -> str:
    """``password`` lowercased without the digits and symbols at its two ends: ``Password2024!``
    gives ``password``."""
    lowered = password.lower()
    start, end = 0, len(lowered)
    while start < end and not lowered[start].isalpha():
        start += 1
    while end > start and not lowered[end - 1].isalpha():
        end -= 1
    return lowered[start:end]


def password_problems(password: str, *, username: str = "", city_pinyins: Iterable[str] = ()) -> list[str]:
    """Every rule ``password`` breaks, as sentences for the person choosing it; none: it may be
    used. ``city_pinyins``: the pinyin of every city (``City.pinyin``)."""
    problems = []
    lowered = password.lower()
    if len(password) < MIN_LENGTH:
        problems.append(f"新密码至少需要{MIN_LENGTH}位")
    if character_classes(password) < CLASSES_NEEDED:
        problems.append(f"新密码需包含大写字母、小写字母、数字、符号四类中的至少{CLASSES_NEEDED}类")
    name = username.strip().lower()
    if len(name) >= NAME_MIN_LENGTH and name in lowered:
        problems.append("新密码不能包含用户名")
    found = sorted({p.lower() for p in city_pinyins if p and p.lower() in lowered and p.lower() != name})
    if found:
        problems.append(f"新密码不能包含市（州）名称的拼音（{'、'.join(found)}）")
    common = common_passwords()
    if lowered in common:
        problems.append("新密码是最常见的10000个密码之一，很容易被猜中")
    elif (core := common_core(password)) in common:
        problems.append(f"新密码去掉首尾的数字和符号后是常见密码“{core}”，很容易被猜中")
    return problems


@dataclass(frozen=True)
class PasswordExpiry:
    """When a password expires, and from when the pages say so."""

    expires_at: datetime
    warn_from: datetime

    def has_expired(self, at: datetime) -> bool:
        return at >= self.expires_at

    def warns(self, at: datetime) -> bool:
        return self.warn_from <= at < self.expires_at


def password_expiry(changed_at: datetime, *, max_age_days: int, warning_days: int) -> PasswordExpiry | None:
    """The expiry of a password set at ``changed_at``; ``None`` when passwords do not expire
    (``max_age_days`` 0)."""
    if max_age_days <= 0:
        return None
    expires_at = changed_at + timedelta(days=max_age_days)
    return PasswordExpiry(expires_at, expires_at - timedelta(days=max(warning_days, 0)))
