from datetime import timedelta

import pytest

from xkxl_intranet.domain.durations import format_duration


@pytest.mark.parametrize(("length", "text"), [
    (timedelta(hours=2), "2小时"), (timedelta(minutes=30), "30分钟"),
    (timedelta(hours=1, minutes=30), "1小时30分钟"), (timedelta(minutes=5, seconds=59), "5分钟"),
    (timedelta(seconds=45), "45秒"), (timedelta(0), "0秒"),
])
def test_a_length_of_time_as_the_pages_say_it(length, text):
    assert format_duration(length) == text
