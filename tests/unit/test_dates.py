"""Dates typed by province staff: a day of receipt is a day; a filter takes a day or a month."""
from datetime import date

import pytest

from xkxl_intranet.domain.dates import DAY_EXAMPLES, Span, read_day, read_day_or_month
from xkxl_intranet.domain.findings import ParseError


@pytest.mark.parametrize("typed", ["2022-03-18", "2022/3/18", "2022.3.18", "20220318", "2022年3月18日",
                                   "2022年3月18号", "２０２２年３月１８日", " “2022-03-18” ", "2022 - 3 - 18"])
def test_a_day_as_clerks_type_it(typed):
    assert read_day(typed, "收到日期") == date(2022, 3, 18)


def test_blank_is_no_day():
    assert read_day("  ", "收到日期") is None and read_day(None, "收到日期") is None


@pytest.mark.parametrize(("typed", "message"), [
    ("2022年3月", "「收到日期」请填写到哪一天：“2022年3月”只有月份，请按 2022-03-18、2022/3/18 或 2022年3月18日 的格式填写"),
    ("2022-03", "「收到日期」请填写到哪一天：“2022-03”只有月份"),
    ("2026-11-2x", "「收到日期」不是有效的日期：“2026-11-2x”，请按 2022-03-18、2022/3/18 或 2022年3月18日 的格式填写"),
    ("2022-02-30", "「收到日期」不是有效的日期：“2022-02-30”这一天不存在"),
    ("3202-03-18", "「收到日期」不是有效的日期：“3202-03-18”的年份不对"),
    ("昨天", "「收到日期」不是有效的日期：“昨天”"),
])
def test_what_is_not_a_day_is_refused_naming_the_field(typed, message):
    with pytest.raises(ParseError) as refused:
        read_day(typed, "收到日期")
    assert refused.value.message.startswith(message)
    assert "2015" not in refused.value.message and DAY_EXAMPLES in refused.value.message


@pytest.mark.parametrize(("typed", "span"), [
    ("2022-03-21", Span(date(2022, 3, 21), date(2022, 3, 21))),
    ("2022年3月21日", Span(date(2022, 3, 21), date(2022, 3, 21))),
    ("2022-03", Span(date(2022, 3, 1), date(2022, 3, 31))),
    ("2022/2", Span(date(2022, 2, 1), date(2022, 2, 28))),
    ("2024年2月", Span(date(2024, 2, 1), date(2024, 2, 29))),
    ("2022.12", Span(date(2022, 12, 1), date(2022, 12, 31))),
])
def test_a_filter_takes_a_day_or_a_whole_month(typed, span):
    assert read_day_or_month(typed, "起始日期") == span
    assert span.whole_month == (span.first != span.last)


@pytest.mark.parametrize("typed", ["2022-13", "三月", "2022", "2022-03-32"])
def test_a_filter_date_that_is_neither_says_what_it_takes(typed):
    with pytest.raises(ParseError) as refused:
        read_day_or_month(typed, "截止日期")
    assert refused.value.message.startswith("「截止日期」不是有效的日期")
    assert "2022-03-21、2022/3/21、2022年3月21日，或只填月份（整月）如 2022-03、2022年3月" in refused.value.message
