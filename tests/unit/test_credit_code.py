import pytest

from xkxl_intranet.domain.credit_code import (
    CITY_NAMES,
    PREFIX_KINDS,
    analyze_code,
    check_credit_code,
    credit_code_check_char,
    division_city_code,
    is_valid_credit_code,
    is_valid_org_code,
    make_credit_code,
    normalize_code,
    org_code_check_char,
)
from xkxl_intranet.domain.findings import Severity

# Computed by hand from GB 32100-2015 / GB 11714 (independently of the module).
VALID_CODES = [
    "91510700205412308D",  # 绵阳
    "9151010020189125X7",  # 成都, embedded org code ends in X
    "91510104MA61QY3B28",  # 成都 锦江区
    "91513400734802125U",  # 凉山
    "91350100M000100Y43",  # 福建 (the standard's usual example)
    "91110108801848378N",  # 北京
]


@pytest.mark.parametrize("code", VALID_CODES)
def test_valid_credit_codes(code):
    assert is_valid_credit_code(code)
    assert credit_code_check_char(code[:17]) == code[17]


@pytest.mark.parametrize(
    ("division", "body"),
    [("510100", "20189125"), ("510300", "12345678"), ("513300", "MA62T1AB"), ("512000", "00000000")],
)
def test_make_credit_code_is_valid(division, body):
    code = make_credit_code(division, body)
    assert len(code) == 18
    assert code.startswith("91" + division + body)
    assert is_valid_credit_code(code)
    assert is_valid_org_code(code[8:17])
    assert division_city_code(code) == division[:4] + "00"


def test_make_credit_code_refuses_bad_input():
    with pytest.raises(ValueError):
        make_credit_code("5101", "12345678")
    with pytest.raises(ValueError):
        make_credit_code("510100", "1234567")


@pytest.mark.parametrize(
    "code",
    [
        "91510700205412308A",  # wrong check char
        "91510700205412309D",  # one digit changed
        "91510700205412308",  # 17 characters
        "91510700205412308DD",  # 19 characters
        "9151070020541230I8",  # I is not in the alphabet
        "915107002054123O8D",
        "91510700S05412308D",
        "91510700V05412308D",
        "91510700Z05412308D",
        "",
    ],
)
def test_invalid_credit_codes(code):
    assert not is_valid_credit_code(code)


def test_normalize_lower_case_and_spaces():
    assert normalize_code(" 9151 0700 2054 1230 8d ") == "91510700205412308D"
    assert normalize_code("９１５１０７００２０５４１２３０８ｄ") == "91510700205412308D"
    assert is_valid_credit_code("91510700 205412308d")


def test_org_code_check_chars():
    assert org_code_check_char("D2143569") == "X"  # 10 -> X
    assert org_code_check_char("00000000") == "0"  # 11 -> 0
    assert org_code_check_char("12345678") == "8"
    assert org_code_check_char("20541230") == "8"


@pytest.mark.parametrize("code", ["D2143569X", "D2143569-X", "d2143569-x", "000000000", "123456788", "20541230-8"])
def test_valid_org_codes(code):
    assert is_valid_org_code(code)


@pytest.mark.parametrize("code", ["D21435691", "123456789", "12345678", "1234567890", "D2143569?", ""])
def test_invalid_org_codes(code):
    assert not is_valid_org_code(code)


def test_city_names_are_the_21_cities():
    assert len(CITY_NAMES) == 21
    assert CITY_NAMES["510100"] == "成都市"
    assert CITY_NAMES["513400"] == "凉山彝族自治州"
    assert CITY_NAMES["513200"] == "阿坝藏族羌族自治州"
    assert "511200" not in CITY_NAMES


@pytest.mark.parametrize(
    ("code", "city"),
    [
        ("91510700205412308D", "510700"),
        ("91510104MA61QY3B28", "510100"),
        ("91513400734802125U", "513400"),
        ("91350100M000100Y43", None),
        (make_credit_code("510000", "12345678"), None),
        ("", None),
    ],
)
def test_division_city_code(code, city):
    assert division_city_code(code) == city


def test_check_same_city_has_no_finding():
    code, findings = check_credit_code("91510104ma61qy3b28", clerk_city_code="510100")
    assert code == "91510104MA61QY3B28"
    assert findings == []


def test_check_without_clerk_city_has_no_finding():
    assert check_credit_code("91510700205412308D", clerk_city_code=None)[1] == []


def test_check_other_sichuan_city_warns_and_names_it():
    code, findings = check_credit_code("91510700205412308D", clerk_city_code="510100")
    assert code == "91510700205412308D"
    assert len(findings) == 1
    (f,) = findings
    assert f.severity is Severity.WARNING
    assert f.rule == "credit_code:other_city"
    assert f.field == "credit_code"
    assert f.message == "「统一社会信用代码」登记地为绵阳市，与本市（州）不一致，请核实（申报书未规定此项，系系统校核）"


def test_check_not_sichuan_is_an_error_naming_the_division():
    _, findings = check_credit_code("91350100M000100Y43", clerk_city_code="510100")
    (f,) = findings
    assert f.severity is Severity.ERROR
    assert f.rule == "credit_code:not_sichuan"
    assert "福建省" in f.message and "350100" in f.message and "统一社会信用代码" in f.message


def test_check_province_level_sichuan_code_is_accepted():
    assert check_credit_code(make_credit_code("510000", "12345678"), clerk_city_code="510100")[1] == []


def test_check_unknown_sichuan_division_warns():
    _, findings = check_credit_code(make_credit_code("511200", "12345678"), clerk_city_code="510100")
    (f,) = findings
    assert (f.severity, f.rule) == (Severity.WARNING, "credit_code:unknown_division")


@pytest.mark.parametrize(
    ("raw", "rule", "fragment"),
    [
        ("9151070020541230", "credit_code:length", "长度应为18位"),
        ("91510700205412308DX", "credit_code:length", "当前为19位"),
        ("9151070020541230I8", "credit_code:charset", "含非法字符：“I”"),
        ("91510700205412308A", "credit_code:checksum", "校验位错误，最后一位应为“D”"),
        ("D21435691", "credit_code:org_code", "应填写18位统一社会信用代码"),
    ],
)
def test_check_errors(raw, rule, fragment):
    _, findings = check_credit_code(raw, clerk_city_code="510100")
    (f,) = findings
    assert f.severity is Severity.ERROR
    assert f.rule == rule
    assert fragment in f.message
    assert "「统一社会信用代码」" in f.message


def test_the_old_9_character_org_code_is_an_error_that_asks_for_the_credit_code():
    code, findings = check_credit_code("D2143569-X", clerk_city_code="510100")
    (f,) = findings
    assert code == "D2143569X"
    assert (f.severity, f.rule) == (Severity.ERROR, "credit_code:org_code")
    assert "18位统一社会信用代码" in f.message and "D2143569X" in f.message
    assert not analyze_code("D2143569X", clerk_city_code="510100").ok


@pytest.mark.parametrize("prefix", sorted(PREFIX_KINDS))
def test_a_code_that_is_not_an_enterprise_is_a_warning_naming_its_kind(prefix):
    code = make_credit_code("510104", "MA61QY3B", prefix=prefix)
    _, findings = check_credit_code(code, clerk_city_code="510100")
    (f,) = findings
    assert (f.severity, f.rule) == (Severity.WARNING, "credit_code:not_enterprise")
    assert f"“{prefix}”" in f.message and "企业（91）" in f.message and PREFIX_KINDS[prefix] in f.message


def test_an_enterprise_code_has_no_prefix_warning():
    assert check_credit_code(make_credit_code("510104", "MA61QY3B"), clerk_city_code="510100")[1] == []


def test_a_wrong_organisation_check_character_inside_the_code_is_a_warning():
    good = make_credit_code("510104", "20541230")
    first17 = good[:16] + ("9" if good[16] != "9" else "7")  # wrong 17th character
    bad = first17 + credit_code_check_char(first17)  # the 18th still checks the whole
    _, findings = check_credit_code(bad, clerk_city_code="510100")
    (f,) = findings
    assert (f.severity, f.rule) == (Severity.WARNING, "credit_code:org_checksum")
    assert f"应为“{good[16]}”" in f.message


@pytest.mark.parametrize("pasted", [
    "9151 0104 MA61 QY3B 28", "91510104\u200bMA61QY3B28", "\ufeff91510104MA61QY3B28",
    "9151-0104-MA61QY3B28", "９１５１０１０４ＭＡ６１ＱＹ３Ｂ２８", "91510104MA61QY3B28\u00ad",
])
def test_spaces_and_invisible_characters_disappear_in_normalisation(pasted):
    code, findings = check_credit_code(pasted, clerk_city_code="510100")
    assert (code, findings) == ("91510104MA61QY3B28", [])


def test_empty_code_has_no_finding():
    assert check_credit_code("  ", clerk_city_code="510100") == ("", [])


def test_when_both_check_characters_disagree_the_17th_is_named_first():
    code = make_credit_code("510100", "MA6ABCDE")
    typo = code[:16] + ("1" if code[16] != "1" else "2") + "2"  # 17th and 18th both wrong
    (f,) = check_credit_code(typo, clerk_city_code="510100")[1]
    assert f.rule == "credit_code:checksum"
    assert f"第17位（组织机构代码的校验位）应为“{code[16]}”" in f.message
    assert f"相应地最后一位应为“{code[17]}”" in f.message  # fixing both gives the valid code
