"""The log-in throttle's rules, as numbers: when a failed log-in makes the next try wait, and
when failures against one account from several addresses lock it.

A stranger must not be able to lock an owner out. So the waits are per (name as typed,
address) and per address, never per account alone: guessing from one machine slows that
machine down, while the owner at another address logs in as usual. Only failures from several
addresses at once (a spread-out attack, which no one address can mount) lock the account, for
a while, and only against new log-ins.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class ThrottleLimits:
    """Defaults, and why (the README's settings table says the same):

    - ``free_per_pair`` 3: a person who mistypes a password three times in a row is not kept
      waiting; the fourth try waits ``first_delay``, each later failure doubles it.
    - ``free_per_address`` 10: an office of clerks behind one NAT address mistyping now and then
      does not slow each other; a machine guessing across names does, after ten.
    - ``first_delay`` 2 s doubling up to ``max_delay`` 15 min: a few seconds for a person; about
      15 guesses an hour per address for a machine (3 free, ten growing waits, then one each
      quarter hour), instead of thousands.
    - ``window`` 1 hour: failures older than that are forgotten (and a success from a pair
      forgets the pair's).
    - ``lock_failures`` 20 from ``lock_addresses`` 3 within the window lock the account for
      ``lock_duration`` 15 min: more than one address's hourly budget can reach, so one machine
      never locks anyone; 等保's "登录失败处理" (limit the tries, lock) for a spread attack.

    A count of 0 turns its rule off (``free_per_pair``, ``free_per_address``, ``lock_failures``).
    """

    free_per_pair: int = 3
    free_per_address: int = 10
    first_delay: timedelta = timedelta(seconds=2)
    max_delay: timedelta = timedelta(minutes=15)
    window: timedelta = timedelta(hours=1)
    lock_failures: int = 20
    lock_addresses: int = 3
    lock_duration: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class Tally:
    """Failures counted in the window: how many, and when the latest was."""

    failures: int = 0
    latest: datetime | None = None


def delay_after(failures: int, free: int, limits: ThrottleLimits) -> timedelta:
    """How long the next try waits after ``failures`` failures when ``free`` of them cost
    nothing: 0 up to ``free``, then ``first_delay`` doubling with each further failure, at most
    ``max_delay``. ``free`` 0: the rule is off."""
    if free <= 0 or failures < free:
        return timedelta(0)
    doublings = failures - free
    if doublings >= 40:  # far past any cap; keeps the power small
        return limits.max_delay
    grown: timedelta = limits.first_delay * (1 << doublings)
    return min(grown, limits.max_delay)


def retry_at(tally: Tally, free: int, limits: ThrottleLimits) -> datetime | None:
    """When the next try may be made, or ``None`` if it may be made at any time."""
    wait = delay_after(tally.failures, free, limits)
    if not wait or tally.latest is None:
        return None
    return tally.latest + wait


def locks_account(failures: int, addresses: int, limits: ThrottleLimits) -> bool:
    """Whether so many failures from so many addresses lock the account."""
    return (limits.lock_failures > 0 and failures >= limits.lock_failures
            and addresses >= limits.lock_addresses)
