"""The declared values as application.answers keeps them (domain/answers.py): every kind goes in
and comes out exactly as parse_field reads it, and every notice declares the identity fields."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest

from xkxl_intranet.domain.answers import (
    IDENTITY_KEYS,
    declared_values,
    from_stored,
    stored_document,
    to_stored,
)
from xkxl_intranet.domain.checks import FORM_2022
from xkxl_intranet.domain.indicators import FIELDS, Kind
from xkxl_intranet.domain.parsing import parse_field
from xkxl_intranet.notice.loader import NoticeError, parse_notice
from xkxl_intranet.notice.shipped import FIRST_NOTICE

TYPED = {
    "sales_last_year": "12,345.67", "roi": "-3.5", "employees": "4321", "founded_on": "2010年3月15日",
    "sec_data": "是", "technologies": "大数据、5G", "address": "成都市高新区天府大道",
    "build_mode": "合作共建", "contact_email": "zhang@example.com",
}


@pytest.mark.parametrize("key", sorted(TYPED))
def test_every_kind_goes_through_json_exactly(key):
    f = FIELDS[key]
    value = parse_field(f, TYPED[key])
    kept = json.loads(json.dumps(to_stored(f, value)))  # what the database gives back
    back = from_stored(f, kept)
    assert back == (list(value) if f.kind is Kind.MULTI else value)
    assert type(back) is (list if f.kind is Kind.MULTI else type(value))
    if f.kind in (Kind.MONEY, Kind.PERCENT):
        assert isinstance(kept, str) and str(back) == kept  # exact text, never a float


def test_the_document_leaves_out_blanks_and_identity_columns():
    values = {key: None for key in FORM_2022.fields} | {
        "enterprise_name": "四川某科技有限公司", "employees": 12, "roi": Decimal("-3.50")}
    document = stored_document(FORM_2022.fields, values)
    assert document == {"employees": 12, "roi": "-3.50"}
    again = declared_values(FORM_2022.fields, document, {"enterprise_name": "四川某科技有限公司"})
    assert list(again) == list(FORM_2022.fields)  # every declared field, in the form's order
    assert again == values
    assert set(IDENTITY_KEYS) <= set(FORM_2022.fields)


def test_a_value_the_form_no_longer_declares_is_not_read():
    fields = {k: f for k, f in FORM_2022.fields.items() if k != "employees"}
    assert "employees" not in declared_values(fields, {"employees": 12}, {})


@pytest.mark.parametrize(("old", "new", "message"), [
    ('key = "contact_mobile"', 'key = "contact_cell"', "申报书须声明字段 “contact_mobile”"),
    ('  key = "platform_name"\n  label = "平台名称"\n  kind = "text"',
     '  key = "platform_name"\n  label = "平台名称"\n  kind = "date"', "字段 “platform_name” 的类型须为 text"),
])
def test_a_notice_must_declare_the_fields_the_system_names_applications_by(old, new, message):
    text = FIRST_NOTICE.read_text(encoding="utf-8")
    assert old in text
    with pytest.raises(NoticeError) as raised:
        parse_notice(text.replace(old, new))
    assert any(message in problem for problem in raised.value.problems), raised.value.problems
