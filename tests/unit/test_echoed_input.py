"""A message that quotes what was typed quotes it short: 5,000 pasted nines are not 5,000
characters of message. Every reader of the domain that echoes its input is walked here."""
import datetime as dt

import pytest

from xkxl_intranet.domain.checks import FORM_2022, check_application
from xkxl_intranet.domain.credit_code import analyze_code
from xkxl_intranet.domain.deadlines import parse_deadline
from xkxl_intranet.domain.findings import ECHO_KEEP, ECHO_WHOLE, ParseError, echo
from xkxl_intranet.domain.indicators import FIELDS, Kind
from xkxl_intranet.domain.parsing import parse_field
from xkxl_intranet.domain.review_criteria import CRITERIA_2022, INDICATORS
from xkxl_intranet.domain.review_scoring import parse_score, parse_weights

LONG = 5000
# The longest a message may be whatever was typed: its own words plus a short quotation.
MESSAGE_LIMIT = 200


def test_echo_keeps_short_input_whole_and_cuts_long_input_with_its_length():
    assert echo("12a") == "12a"
    assert echo("x" * ECHO_WHOLE) == "x" * ECHO_WHOLE
    assert echo("9" * LONG) == "9" * ECHO_KEEP + f"…（共{LONG}位）"
    assert echo("1,234,567," * 10) == "1,234,567,1,234,567," + "…（共100位）"
    assert echo("成都" * 100) == "成都" * 10 + "…（共200个字）"
    assert echo("a\n\n b " * 20, unit="位").startswith("a b a b")
    assert echo("ABC" * 20, unit="位").endswith("…（共60位）")


def test_the_walked_huge_number_gives_a_short_message():
    with pytest.raises(ParseError) as caught:
        parse_field("sales_last_year", "9" * LONG)
    assert caught.value.message == (
        f"「上年销售（万元）」数值过大（整数部分最多13位）：“{'9' * ECHO_KEEP}…（共{LONG}位）”")


# What a clerk might paste into a field of each kind, far too long, that the field refuses.
_GARBAGE = {
    Kind.INT: "9" * LONG, Kind.MONEY: "约" + "9" * LONG, Kind.PERCENT: "1" * LONG + "%",
    Kind.DATE: "2015年" + "3" * LONG, Kind.BOOL: "是" * LONG, Kind.CHOICE: "自建" * LONG,
    Kind.MULTI: "5G" + "云" * LONG, Kind.EMAIL: "a" * LONG + "@@example.com",
    Kind.MOBILE: "1" * LONG, Kind.PHONE: "电话" * LONG, Kind.CREDIT_CODE: "9151" * LONG,
    Kind.TEXT: "成" * LONG,
}


@pytest.mark.parametrize("key", list(FIELDS))
def test_every_field_refuses_a_long_paste_with_a_short_message(key):
    f = FIELDS[key]
    with pytest.raises(ParseError) as caught:
        parse_field(f, _GARBAGE[f.kind])
    message = caught.value.message
    assert f"「{f.label}」" in message
    assert len(message) < MESSAGE_LIMIT, message


def test_a_whole_form_of_long_pastes_keeps_every_message_short():
    raw = {key: _GARBAGE[f.kind] for key, f in FIELDS.items()}
    result = check_application(raw, clerk_city_code="510100", form=FORM_2022)
    assert len(result.parse_errors) == len(FIELDS)
    assert all(len(finding.message) < MESSAGE_LIMIT for finding in result.findings)


def test_a_long_credit_code_is_refused_before_it_outgrows_its_column():
    """A draft keeps a mistyped code (its checks say what is wrong), but never more than the
    column holds (40): PostgreSQL would refuse the save."""
    assert parse_field("credit_code", "9151 0100 MA6C 9H2N 5P12 3") == "91510100MA6C9H2N5P123"
    with pytest.raises(ParseError) as caught:
        parse_field("credit_code", "91510100MA6C9H2N5P" * 3)
    assert caught.value.message == "「统一社会信用代码」应为18位，当前为54位：“91510100MA6C9H2N5P91…（共54位）”"
    short = analyze_code("91510100MA6C9H2N5P" * 2)  # 36: kept as a draft, the check says why
    assert short.findings[0].message == "「统一社会信用代码」长度应为18位，当前为36位：“91510100MA6C9H2N5P91…（共36位）”"


def test_a_phone_field_never_holds_more_than_its_column():
    numbers = "、".join(["028-86264036"] * 10)
    with pytest.raises(ParseError) as caught:
        parse_field("contact_phone", numbers)
    assert caught.value.message == f"「电话」不能超过50个字，当前为{len(numbers)}个字"


def test_a_deadline_typed_wrong_is_quoted_short():
    with pytest.raises(ValueError) as caught:
        parse_deadline("2022-03-25 " + "1" * LONG)
    assert len(str(caught.value)) < MESSAGE_LIMIT and f"（共{LONG + 11}位）" in str(caught.value)


def test_a_score_or_weight_typed_wrong_is_quoted_short():
    indicator = next(iter(INDICATORS.values()))
    for typed in ("9" * LONG, "九" * LONG):
        with pytest.raises(ParseError) as caught:
            parse_score(typed, indicator)
        assert len(caught.value.message) < MESSAGE_LIMIT
    with pytest.raises(ParseError) as caught:
        parse_weights({"resources": "1" * LONG}, criteria=CRITERIA_2022)
    assert len(caught.value.message) < MESSAGE_LIMIT


def test_short_input_is_still_quoted_whole():
    with pytest.raises(ParseError) as caught:
        parse_field("founded_on", "2015年13月")
    assert "“2015年13月”" in caught.value.message
    with pytest.raises(ParseError) as caught:
        parse_field("contact_mobile", "1380000123")
    assert caught.value.message.endswith("：“1380000123”")
    assert parse_field("founded_on", "2015-3-1") == dt.date(2015, 3, 1)
