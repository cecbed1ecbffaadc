from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from xkxl_intranet.domain.deadlines import (
    SHANGHAI,
    effective_deadline,
    extension_example,
    format_deadline,
    in_reminder_window,
    last_instant,
    parse_deadline,
    reporting_window,
)

DEADLINE = datetime(2022, 3, 21, 23, 59, 59, tzinfo=SHANGHAI)
SECOND = timedelta(seconds=1)


def test_on_time_up_to_and_including_the_deadline_second():
    assert reporting_window(DEADLINE - SECOND, DEADLINE, None).allowed
    window = reporting_window(DEADLINE, DEADLINE, None)
    assert window.allowed and not window.late


def test_one_second_after_the_deadline_is_refused_with_the_deadline_in_the_message():
    window = reporting_window(DEADLINE + SECOND, DEADLINE, None)
    assert not window.allowed
    assert "2022年03月21日 23:59" in window.message and "延期" in window.message


def test_deadline_and_now_in_other_time_zones_compare_as_instants():
    utc_deadline = datetime(2022, 3, 21, 15, 59, 59, tzinfo=UTC)  # = 23:59:59 in Chengdu
    new_york = ZoneInfo("America/New_York")
    just_before = (DEADLINE - SECOND).astimezone(new_york)
    just_after = (DEADLINE + SECOND).astimezone(new_york)
    assert reporting_window(just_before, utc_deadline, None).allowed
    assert not reporting_window(just_after, utc_deadline, None).allowed
    assert reporting_window(just_before, utc_deadline, None).deadline.tzinfo == SHANGHAI


def test_extension_allows_late_reporting_and_marks_it_late():
    extension = DEADLINE + timedelta(days=3)
    window = reporting_window(DEADLINE + timedelta(hours=1), DEADLINE, extension)
    assert window.allowed and window.late and window.deadline == extension
    assert "延期" in window.message
    assert reporting_window(extension, DEADLINE, extension).allowed
    after = reporting_window(extension + SECOND, DEADLINE, extension)
    assert not after.allowed and "延期截止时间" in after.message


def test_extension_does_not_mark_on_time_reports_late():
    window = reporting_window(DEADLINE - timedelta(days=1), DEADLINE, DEADLINE + timedelta(days=3))
    assert window.allowed and not window.late


def test_effective_deadline_is_the_later_one():
    assert effective_deadline(DEADLINE, None) == DEADLINE
    assert effective_deadline(DEADLINE, DEADLINE - timedelta(days=1)) == DEADLINE
    assert effective_deadline(DEADLINE, DEADLINE + timedelta(days=1)) == DEADLINE + timedelta(days=1)


def test_reminder_window_is_the_last_seven_days():
    assert not in_reminder_window(DEADLINE - timedelta(days=7, seconds=1), DEADLINE)
    assert in_reminder_window(DEADLINE - timedelta(days=7), DEADLINE)
    assert in_reminder_window(DEADLINE, DEADLINE)
    assert not in_reminder_window(DEADLINE + SECOND, DEADLINE)


@pytest.mark.parametrize("text, expected", [
    ("2022-03-25 18:00", datetime(2022, 3, 25, 18, 0, tzinfo=SHANGHAI)),
    ("2022-03-25T18:00", datetime(2022, 3, 25, 18, 0, tzinfo=SHANGHAI)),
    ("2022-03-25", datetime(2022, 3, 25, 23, 59, 59, tzinfo=SHANGHAI)),
    ("2022-03-25T10:00:00+00:00", datetime(2022, 3, 25, 18, 0, tzinfo=SHANGHAI)),
])
def test_parse_deadline(text, expected):
    parsed = parse_deadline(text)
    assert parsed == expected and parsed.tzinfo == SHANGHAI


@pytest.mark.parametrize("text", ["", "明天", "2022-13-01"])
def test_parse_deadline_refuses_junk(text):
    with pytest.raises(ValueError):
        parse_deadline(text)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        reporting_window(datetime(2022, 3, 21), DEADLINE, None)


# ---- a deadline includes the whole unit it was written to -----------------------------------

MICRO = timedelta(microseconds=1)


def test_the_deadline_second_is_whole_to_the_microsecond():
    assert reporting_window(DEADLINE.replace(microsecond=400_000), DEADLINE, None).allowed
    assert reporting_window(DEADLINE.replace(microsecond=999_999), DEADLINE, None).allowed
    next_day = datetime(2022, 3, 22, 0, 0, 0, tzinfo=SHANGHAI)
    assert not reporting_window(next_day, DEADLINE, None).allowed
    assert not reporting_window(DEADLINE + SECOND - MICRO + MICRO, DEADLINE, None).allowed


def test_a_minute_deadline_includes_the_whole_minute():
    six = parse_deadline("2022-03-25 18:00")
    assert reporting_window(six.replace(second=59, microsecond=999_999), six, None).allowed
    assert not reporting_window(six + timedelta(minutes=1), six, None).allowed
    assert last_instant(six) == datetime(2022, 3, 25, 18, 0, 59, 999_999, tzinfo=SHANGHAI)


def test_an_extension_includes_its_whole_unit_too():
    extension = parse_deadline("2022-03-25")
    late = reporting_window(datetime(2022, 3, 25, 23, 59, 59, 999_999, tzinfo=SHANGHAI), DEADLINE, extension)
    assert late.allowed and late.late
    assert not reporting_window(datetime(2022, 3, 26, tzinfo=SHANGHAI), DEADLINE, extension).allowed


WHOLE_DAY = datetime(2022, 3, 25, 23, 59, 59, tzinfo=SHANGHAI)


@pytest.mark.parametrize("text", [
    "2022-03-25", "20220325", "2022/3/25", "2022/03/25", "2022.3.25", "2022年3月25日", "2022年03月25日",
    " 2022 年 3 月 25 日 ", "2022-3-25",
])
def test_a_bare_date_means_the_whole_day_in_every_spelling(text):
    parsed = parse_deadline(text)
    assert parsed == WHOLE_DAY and parsed.tzinfo == SHANGHAI
    assert reporting_window(parsed.replace(microsecond=999_999), parsed, None).allowed
    assert not reporting_window(datetime(2022, 3, 26, tzinfo=SHANGHAI), parsed, None).allowed


@pytest.mark.parametrize("text, expected", [
    ("2022/03/25 18:00", datetime(2022, 3, 25, 18, 0, tzinfo=SHANGHAI)),
    ("2022年3月25日18时", datetime(2022, 3, 25, 18, 0, tzinfo=SHANGHAI)),
    ("2022年3月25日 18时30分", datetime(2022, 3, 25, 18, 30, tzinfo=SHANGHAI)),
    ("2022年3月25日18点", datetime(2022, 3, 25, 18, 0, tzinfo=SHANGHAI)),
    ("2022-03-21 23:59:59", DEADLINE),
    ("2022-03-21 23:59:59.4", DEADLINE),
    ("20220325 18:00", datetime(2022, 3, 25, 18, 0, tzinfo=SHANGHAI)),
])
def test_times_in_common_spellings(text, expected):
    assert parse_deadline(text) == expected


@pytest.mark.parametrize("text", ["2022-02-30", "2022年3月25日25时", "2022-03-25 18", "20221325"])
def test_impossible_dates_and_times_are_refused_with_the_format(text):
    with pytest.raises(ValueError, match="2022-03-25 18:00"):
        parse_deadline(text)


def test_messages_show_seconds_only_when_the_deadline_has_them():
    assert format_deadline(DEADLINE) == "2022年03月21日 23:59:59"
    assert format_deadline(parse_deadline("2022-03-25 18:00")) == "2022年03月25日 18:00"
    refused = reporting_window(datetime(2022, 3, 25, 18, 1, tzinfo=SHANGHAI),
                               parse_deadline("2022-03-25 18:00"), None)
    assert "2022年03月25日 18:00）" in refused.message


def test_the_extension_example_is_of_the_round_in_hand_and_reads_back_as_typed():
    """The desk's example was 2022-03-25 18:00 whatever the round: earlier than a later round's deadline."""
    typed, written = extension_example(datetime(2027, 3, 31, 23, 59, 59, tzinfo=SHANGHAI))
    assert (typed, written) == ("2027-04-04 18:00", "2027年4月4日")
    assert parse_deadline(typed) == datetime(2027, 4, 4, 18, 0, tzinfo=SHANGHAI)
    assert parse_deadline(written) > datetime(2027, 3, 31, 23, 59, 59, tzinfo=SHANGHAI)
