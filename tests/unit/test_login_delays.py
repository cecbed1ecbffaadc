from datetime import datetime, timedelta

from xkxl_intranet.clock import SHANGHAI
from xkxl_intranet.domain.login_throttle import Tally, ThrottleLimits, delay_after, locks_account, retry_at

LIMITS = ThrottleLimits()


def test_three_failures_are_free_then_each_one_doubles_the_wait_up_to_a_quarter_hour():
    waits = [delay_after(failures, 3, LIMITS).total_seconds() for failures in range(16)]
    assert waits == [0, 0, 0, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900, 900]
    assert delay_after(10_000, 3, LIMITS) == timedelta(minutes=15)


def test_a_rule_with_no_free_failures_is_off():
    assert delay_after(50, 0, LIMITS) == timedelta(0)


def test_the_next_try_waits_from_the_latest_failure():
    latest = datetime(2022, 3, 10, 9, 0, tzinfo=SHANGHAI)
    assert retry_at(Tally(2, latest), 3, LIMITS) is None
    assert retry_at(Tally(4, latest), 3, LIMITS) == latest + timedelta(seconds=4)
    assert retry_at(Tally(0, None), 3, LIMITS) is None


def test_only_many_failures_from_several_addresses_lock():
    assert not locks_account(1000, 2, LIMITS)  # one or two machines never lock an account
    assert not locks_account(19, 3, LIMITS)
    assert locks_account(20, 3, LIMITS)
    assert not locks_account(20, 3, ThrottleLimits(lock_failures=0))
