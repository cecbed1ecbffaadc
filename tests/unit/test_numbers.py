from decimal import Decimal

import pytest

from xkxl_intranet.domain.numbers import (
    NumberParseError,
    normalize_text,
    parse_int,
    parse_money,
    parse_percent,
)

SALES = "上年销售（万元）"
COUNT = "工业APP数量"


def test_normalize_text_full_width():
    assert normalize_text("　１２３，４５６．７８％ ") == "123,456.78%"
    assert normalize_text(None) == ""


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("123", 123),
        ("１２３", 123),
        (" 1,234 ", 1234),
        ("1，234", 1234),
        ("1 234", 1234),
        ("1　234", 1234),
        ("1,234,567", 1234567),
        ("12.0", 12),
        ("+7", 7),
        ("0", 0),
        ("无", 0),
        ("“无”", 0),
        ("'无'", 0),
        ("120个", 120),
        (42, 42),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_parse_int_accepts(raw, expected):
    assert parse_int(raw, COUNT, unit="个") == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("12.5", "应为整数"),
        ("-5", "不能为负数"),
        ("abc", "请填写数字"),
        ("很多", "请填写数字"),  # no figure at all: not the 约/余/多 hint
        ("暂无", "请填写数字"),
        ("12a", "不是有效的数字"),
        ("几百", "确切的数字"),
        ("约100", "确切的数字"),
        ("100余", "确切的数字"),
        ("100多", "确切的数字"),
        ("1e5", "不是有效的数字"),
        ("1.2.3", "不是有效的数字"),
        ("12,34", "千位分隔符"),
        ("1,2345", "千位分隔符"),
        ("12%", "%"),
        (True, "不是有效的数字"),
    ],
)
def test_parse_int_refuses(raw, fragment):
    with pytest.raises(NumberParseError) as exc:
        parse_int(raw, COUNT)
    assert f"「{COUNT}」" in exc.value.message
    assert fragment in exc.value.message
    assert isinstance(exc.value, ValueError)


def test_parse_int_negative_when_allowed():
    assert parse_int("-5", COUNT, allow_negative=True) == -5
    assert parse_int("－５", COUNT, allow_negative=True) == -5


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("１２３，４５６．７８", Decimal("123456.78")),
        (" 1,234 ", Decimal("1234.00")),
        ("1234.5", Decimal("1234.50")),
        ("1.230", Decimal("1.23")),
        ("无", Decimal("0.00")),
        ("0", Decimal("0.00")),
        ("500万元", Decimal("500.00")),
        (Decimal("12.3"), Decimal("12.30")),
        (7, Decimal("7.00")),
        ("", None),
    ],
)
def test_parse_money_accepts(raw, expected):
    value = parse_money(raw, SALES)
    assert value == expected
    if value is not None:
        assert isinstance(value, Decimal)
        assert value.as_tuple().exponent == -2


def test_parse_money_message_example():
    with pytest.raises(NumberParseError) as exc:
        parse_money("12a", SALES)
    assert exc.value.message == "「上年销售（万元）」不是有效的数字：“12a”"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("1.234", "最多保留2位小数"),
        ("-5", "不能为负数"),
        ("abc", "请填写数字"),
        ("约100", "确切的数字"),
        ("1e5", "不是有效的数字"),
        ("1..2", "不是有效的数字"),
        ("12345678901234", "数值过大"),
    ],
)
def test_parse_money_refuses(raw, fragment):
    with pytest.raises(NumberParseError) as exc:
        parse_money(raw, SALES)
    assert f"「{SALES}」" in exc.value.message
    assert fragment in exc.value.message


def test_parse_money_negative_profit():
    assert parse_money("-5", "上年利润（万元）", allow_negative=True) == Decimal("-5.00")
    assert parse_money("-1,234.5", "上年利润（万元）", allow_negative=True) == Decimal("-1234.50")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12.5%", Decimal("12.50")),
        ("１２％", Decimal("12.00")),
        ("12.5", Decimal("12.50")),
        (" 8 % ", Decimal("8.00")),
        ("无", Decimal("0.00")),
        ("", None),
    ],
)
def test_parse_percent_accepts(raw, expected):
    assert parse_percent(raw, "负债率（%）") == expected


@pytest.mark.parametrize("raw", ["12.345%", "-3%", "abc%", "%"])
def test_parse_percent_refuses(raw):
    with pytest.raises(NumberParseError) as exc:
        parse_percent(raw, "负债率（%）")
    assert "「负债率（%）」" in exc.value.message


def test_parse_percent_negative_when_allowed():
    assert parse_percent("-3.5%", "投资回报率（%）", allow_negative=True) == Decimal("-3.50")
