import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from xkxl_intranet.domain import indicators
from xkxl_intranet.domain.indicators import (
    ENTERPRISE_KEYS,
    FIELDS,
    INDICATOR_KEYS,
    PLATFORM_KEYS,
    SECTIONS,
    Kind,
    field,
)
from xkxl_intranet.domain.parsing import ParseError, format_field, parse_field

# domain.md's field keys, kept beside this test (the test never reads outside the repository).
DOMAIN_KEYS = Path(__file__).with_name("domain_keys.txt")

SECTION_ORDER = [
    "一", "二(1)", "1.1", "1.2", "1.3", "1.4", "1.5", "2.1", "2.2", "2.3",
    "3.1", "3.2", "3.3", "3.4", "4.1", "4.2", "4.5", "5.1", "5.2",
]


def test_sections_in_form_order():
    assert [s.code for s in SECTIONS] == SECTION_ORDER
    assert SECTIONS[0].title == "申报企业基本信息"
    assert next(s for s in SECTIONS if s.code == "2.3").title == "自研杀手锏工业APP情况"


def test_no_ocr_typo():
    texts = [s.title + s.note for s in SECTIONS] + [f.label + f.hint for f in FIELDS.values()]
    assert not any("杀手铜" in t for t in texts)


def test_keys_partition_and_order():
    assert list(FIELDS) == [*ENTERPRISE_KEYS, *PLATFORM_KEYS, *INDICATOR_KEYS]
    assert ENTERPRISE_KEYS[0] == "enterprise_name"
    assert PLATFORM_KEYS[0] == "platform_name"
    assert INDICATOR_KEYS[0] == "devices_total"
    assert INDICATOR_KEYS[-1] == "employees"
    for s in SECTIONS:
        assert all(f.section == s.code for f in s.fields)


def test_every_domain_key_declared_once():
    lines = DOMAIN_KEYS.read_text(encoding="utf-8").splitlines()
    keys = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert len(keys) == len(set(keys)) == 102
    assert set(keys) == set(FIELDS)
    assert len(FIELDS) == 102


def test_field_lookup():
    assert field("apps_total").label == "工业APP数量"
    with pytest.raises(KeyError):
        field("nope")


REQUIRED_TOP = {"enterprise_name", "credit_code", "contact_name", "contact_mobile", "platform_name"}
STARRED = {"1.1", "1.2", "1.3", "1.4", "1.5", "2.1", "2.3", "3.2", "3.3", "3.4", "4.1", "4.5", "5.1", "5.2"}


def test_required_fields():
    for f in FIELDS.values():
        numeric_starred = f.section in STARRED and f.kind in (Kind.INT, Kind.MONEY, Kind.PERCENT, Kind.BOOL)
        assert f.required == (f.key in REQUIRED_TOP or numeric_starred), f.key
    assert not field("industries_covered").required  # 3.1 not starred
    assert field("killer_cross_platform").required  # 2.3 starred 是/否
    assert not field("sec_data").required  # 2.2 not starred
    assert field("roi").required


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("founded_on", Kind.DATE), ("built_on", Kind.DATE), ("build_mode", Kind.CHOICE),
        ("iaas_mode", Kind.CHOICE), ("sec_data", Kind.BOOL), ("killer_cross_platform", Kind.BOOL),
        ("listed_or_vc", Kind.BOOL), ("technologies", Kind.MULTI), ("contact_mobile", Kind.MOBILE),
        ("contact_email", Kind.EMAIL), ("contact_phone", Kind.PHONE), ("contact_fax", Kind.PHONE),
        ("credit_code", Kind.CREDIT_CODE), ("credit_rating", Kind.TEXT), ("debt_ratio", Kind.PERCENT),
        ("roi", Kind.PERCENT), ("profit_last_year", Kind.MONEY), ("total_assets", Kind.MONEY),
        ("killer_monthly_revenue", Kind.MONEY), ("sme_contract_amount", Kind.MONEY),
        ("devices_total", Kind.INT), ("employees", Kind.INT),
    ],
)
def test_kinds(key, kind):
    assert field(key).kind is kind


def test_negatives_only_where_allowed():
    assert {k for k, f in FIELDS.items() if f.allow_negative} == {"profit_last_year", "roi"}


def test_every_money_field_is_in_wan_yuan():
    for f in FIELDS.values():
        if f.kind is Kind.MONEY:
            assert f.unit == "万元" and "万元" in f.heading


def test_choices():
    assert field("build_mode").choices == ("自建", "合作共建")
    assert field("iaas_mode").choices == ("自建", "租用")
    assert field("technologies").choices == ("5G", "大数据", "人工智能", "数字孪生", "区块链", "工业AR/VR")
    assert field("devices_daily_active_public").hint == "指每日上传实时运行数据的工业设备数量"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2015-03-01", dt.date(2015, 3, 1)),
        ("2015/3/1", dt.date(2015, 3, 1)),
        ("2015.3.1", dt.date(2015, 3, 1)),
        ("2015年3月1日", dt.date(2015, 3, 1)),
        ("２０１５年３月１日", dt.date(2015, 3, 1)),
        ("2015年3月", dt.date(2015, 3, 1)),
        ("2015.3", dt.date(2015, 3, 1)),
        ("2015-03", dt.date(2015, 3, 1)),
        ("20150301", dt.date(2015, 3, 1)),
        ("2015-03-01 00:00:00", dt.date(2015, 3, 1)),
        (dt.datetime(2015, 3, 1, 8, 0), dt.date(2015, 3, 1)),
        (dt.date(2015, 3, 1), dt.date(2015, 3, 1)),
        ("", None),
    ],
)
def test_parse_date(raw, expected):
    assert parse_field("founded_on", raw) == expected


@pytest.mark.parametrize(("raw", "fragment"), [("2015-02-30", "不是有效的日期"), ("去年", "不是有效的日期"),
                                               ("2015", "至少填写到月份"), ("2015年13月", "不是有效的日期")])
def test_parse_date_refuses(raw, fragment):
    with pytest.raises(ParseError) as exc:
        parse_field("founded_on", raw)
    assert "「成立时间」" in exc.value.message and fragment in exc.value.message
    assert exc.value.key == "founded_on"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("是", True), ("否", False), ("yes", True), ("No", False), ("TRUE", True), ("false", False),
     ("1", True), ("0", False), ("√", True), ("无", False), (True, True), ("", None)],
)
def test_parse_bool(raw, expected):
    assert parse_field("sec_data", raw) is expected


def test_parse_bool_refuses():
    with pytest.raises(ParseError) as exc:
        parse_field("sec_data", "可能")
    assert "「具有数据安全防护」" in exc.value.message


@pytest.mark.parametrize(("raw", "expected"), [("自建", "自建"), (" 合作共建 ", "合作共建"), ("☑合作共建", "合作共建"), ("", None)])
def test_parse_choice(raw, expected):
    assert parse_field("build_mode", raw) == expected


def test_parse_choice_refuses():
    with pytest.raises(ParseError) as exc:
        parse_field("iaas_mode", "合作共建")
    assert exc.value.message == "「IaaS基础设施」应为“自建”或“租用”：“合作共建”"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("5G、大数据、人工智能、数字孪生、区块链、工业 AR/VR 技术",
         ("5G", "大数据", "人工智能", "数字孪生", "区块链", "工业AR/VR")),
        ("大数据，5G", ("5G", "大数据")),
        ("人工智能 人工智能", ("人工智能",)),
        ("ＡＲ／ＶＲ", ("工业AR/VR",)),
        (["区块链", "5G"], ("5G", "区块链")),
        ("", None),
    ],
)
def test_parse_multi(raw, expected):
    assert parse_field("technologies", raw) == expected


def test_parse_multi_refuses():
    with pytest.raises(ParseError) as exc:
        parse_field("technologies", "5G、量子计算")
    assert "「运用技术」" in exc.value.message and "量子计算" in exc.value.message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("13800138000", "13800138000"), ("138 0013 8000", "13800138000"), ("138-0013-8000", "13800138000"),
     ("+86 138 0013 8000", "13800138000"), ("１３８００１３８０００", "13800138000"), ("19912345678", "19912345678")],
)
def test_parse_mobile(raw, expected):
    assert parse_field("contact_mobile", raw) == expected


@pytest.mark.parametrize("raw", ["12800138000", "1380013800", "138001380001", "028-86264036", "abc"])
def test_parse_mobile_refuses(raw):
    with pytest.raises(ParseError) as exc:
        parse_field("contact_mobile", raw)
    assert "「手机」" in exc.value.message


@pytest.mark.parametrize(("raw", "expected"), [("879603923@qq.com", "879603923@qq.com"), (" a.b@Example.COM ", "a.b@example.com")])
def test_parse_email(raw, expected):
    assert parse_field("contact_email", raw) == expected


@pytest.mark.parametrize("raw", ["879603923qq.com", "a@b", "a@@b.com", "a b@c.com"])
def test_parse_email_refuses(raw):
    with pytest.raises(ParseError) as exc:
        parse_field("contact_email", raw)
    assert "「E-mail」" in exc.value.message


@pytest.mark.parametrize("raw", ["028-86264036", "(028)86264036", "028-86264036转8001", "028 8626 4036", "028-86264036/86264037"])
def test_parse_phone(raw):
    assert parse_field("contact_phone", raw) == raw


@pytest.mark.parametrize("raw", ["call me", "12345", "028-8626403x"])
def test_parse_phone_refuses(raw):
    with pytest.raises(ParseError) as exc:
        parse_field("contact_fax", raw)
    assert "「传真」" in exc.value.message


def test_parse_text_keeps_full_width_brackets_and_limits_length():
    assert parse_field("enterprise_name", " 某某科技（成都）有限公司 ") == "某某科技（成都）有限公司"
    with pytest.raises(ParseError) as exc:
        parse_field("credit_rating", "A" * 21)
    assert "「信用等级」不能超过20个字" in exc.value.message


def test_parse_credit_code_only_normalises():
    assert parse_field("credit_code", "91510700 205412308d") == "91510700205412308D"
    assert parse_field("credit_code", "") is None


def test_parse_numbers_through_fields():
    assert parse_field("devices_total", "１，２００台") == 1200
    assert parse_field("profit_last_year", "-5") == Decimal("-5.00")
    assert parse_field("roi", "-3%") == Decimal("-3.00")
    with pytest.raises(ParseError) as exc:
        parse_field("sales_last_year", "12a")
    assert exc.value.message == "「上年销售（万元）」不是有效的数字：“12a”"
    assert exc.value.key == "sales_last_year"
    with pytest.raises(ParseError):
        parse_field("devices_total", "-5")


@pytest.mark.parametrize(
    ("key", "value", "text"),
    [
        ("sales_last_year", Decimal("1234.5"), "1234.50"),
        ("profit_last_year", Decimal("-3"), "-3.00"),
        ("debt_ratio", Decimal("12.5"), "12.50"),
        ("devices_total", 1200, "1200"),
        ("sec_data", True, "是"),
        ("listed_or_vc", False, "否"),
        ("technologies", ("5G", "大数据"), "5G、大数据"),
        ("founded_on", dt.date(2015, 3, 1), "2015-03-01"),
        ("enterprise_name", "某公司", "某公司"),
        ("devices_total", None, ""),
    ],
)
def test_format_field(key, value, text):
    assert format_field(key, value) == text


def test_format_then_parse_round_trips():
    values = {
        "sales_last_year": Decimal("1234.50"), "roi": Decimal("-2.25"), "employees": 300,
        "sec_code": True, "technologies": ("5G", "工业AR/VR"), "built_on": dt.date(2018, 6, 1),
        "build_mode": "合作共建", "contact_mobile": "13800138000",
    }
    for key, value in values.items():
        assert parse_field(key, format_field(key, value)) == value


def test_module_is_pure():
    import sys

    assert "flask" not in indicators.__dict__ and "sqlalchemy" not in indicators.__dict__
    for name in ("numbers", "credit_code", "indicators", "checks", "findings"):
        module = sys.modules.get(f"xkxl_intranet.domain.{name}")
        if module is not None:
            src = Path(module.__file__).read_text(encoding="utf-8")
            assert "import flask" not in src.lower() and "sqlalchemy" not in src.lower()
            assert "float(" not in src
