"""Whether a field's value changed, whatever form each side comes in: a saved JSON list or a
parsed tuple, a Decimal or typed text with separators, a date or its spelling, None or blank."""
import datetime as dt
from decimal import Decimal

import pytest

from xkxl_intranet.domain.indicators import FIELDS, Kind
from xkxl_intranet.domain.parsing import comparable, differs, is_changed, parse_field, typed_text

SAME = [
    # multi-choice: the saved list against the parsed tuple, in any order, or as typed
    ("technologies", ["5G", "大数据", "人工智能", "数字孪生"], ("5G", "大数据", "人工智能", "数字孪生")),
    ("technologies", ["数字孪生", "5G"], ("5G", "数字孪生")),
    ("technologies", ["5G", "大数据"], "大数据、5G"),
    ("technologies", [], None),
    ("technologies", (), ""),
    # numbers: formatting is not a change
    ("sales_last_year", Decimal("1000"), "1,000"),
    ("sales_last_year", Decimal("1000.00"), Decimal("1000")),
    ("sales_last_year", Decimal("1000.5"), "１，０００．５０"),
    ("devices_total", 1000, "1 000"),
    ("devices_total", 1000, Decimal("1000")),
    ("devices_total", 0, "无"),
    ("debt_ratio", Decimal("50"), "50%"),
    # dates
    ("founded_on", dt.date(2010, 3, 15), "2010-3-15"),
    ("founded_on", dt.date(2010, 3, 15), "2010年3月15日"),
    ("founded_on", dt.date(2010, 3, 1), "2010年3月"),
    # blanks
    ("contact_title", None, ""),
    ("contact_title", None, "   "),
    ("contact_phone", "", None),
    ("sales_last_year", None, ""),
    ("founded_on", None, " "),
    ("sec_data", None, ""),
    # text, codes, choices, yes/no
    ("contact_title", "总经理", " 总经理 "),
    ("credit_code", "91510100MA6C9H2N5P", "9151 0100 ma6c 9h2n 5p"),
    ("contact_mobile", "13812345678", "138 1234 5678"),
    ("contact_email", "zs@example.com", " zs@example.com "),
    ("contact_phone", "028-86264036", "028-86264036 "),
    ("build_mode", "自建", " 自建 "),
    ("sec_data", True, "是"),
    ("sec_data", False, "否"),
]

CHANGED = [
    ("technologies", ["5G", "大数据"], ("5G",)),
    ("technologies", ["5G"], None),
    ("sales_last_year", Decimal("1000"), "1,000.01"),
    ("devices_total", 1000, "1001"),
    ("devices_total", 0, None),
    ("founded_on", dt.date(2010, 3, 15), "2010-03-16"),
    ("founded_on", None, "2010-03-16"),
    ("contact_title", "总经理", "副总经理"),
    ("contact_title", "总经理", None),
    ("sec_data", True, "否"),
    ("sec_data", False, None),
    ("build_mode", "自建", "合作共建"),
]


@pytest.mark.parametrize(("key", "old", "new"), SAME)
def test_the_same_value_in_another_form_is_not_a_change(key, old, new):
    assert not is_changed(FIELDS[key], old, new)
    assert not is_changed(key, new, old)


@pytest.mark.parametrize(("key", "old", "new"), CHANGED)
def test_a_real_change_is_one(key, old, new):
    assert is_changed(FIELDS[key], old, new)
    assert is_changed(key, new, old)


def test_every_kind_of_field_is_covered():
    assert {FIELDS[key].kind for key, *_ in SAME} == set(Kind)
    assert {FIELDS[key].kind for key, *_ in CHANGED} >= {
        Kind.MULTI, Kind.MONEY, Kind.INT, Kind.DATE, Kind.TEXT, Kind.BOOL, Kind.CHOICE}


def test_a_value_the_field_cannot_read_is_compared_as_typed():
    assert comparable("devices_total", "12a") == "12a"
    assert is_changed("devices_total", 12, "12a")
    assert not is_changed("devices_total", "12a", "12a")


@pytest.mark.parametrize(("key", "old", "new"), SAME + CHANGED)
def test_a_value_read_once_compares_with_the_saved_one_as_if_read_again(key, old, new):
    """Conflict detection and the import's changes take the typed values (``ParsedInput``) and
    do not read them again: the answer is the one :func:`is_changed` gives on the text."""
    typed = parse_field(FIELDS[key], new)
    assert differs(FIELDS[key], old, typed) == is_changed(FIELDS[key], old, new)
    assert typed_text(key, typed) == comparable(key, new)
