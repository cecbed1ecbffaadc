"""统一社会信用代码 (GB 32100-2015) and the older 9-character 组织机构代码 (GB 11714).

The credit code's characters 3-8 are the administrative division code of the
registering authority: Sichuan codes start with ``51`` and the first four digits
name the city (``5101`` 成都 … ``5134`` 凉山). Characters 9-17 are the organisation
code (8 body characters and its own check character); character 18 checks the whole.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

from .findings import Finding, Severity, Source, echo, with_source

__all__ = [
    "CREDIT_ALPHABET",
    "CREDIT_WEIGHTS",
    "ORG_WEIGHTS",
    "CITY_NAMES",
    "PROVINCE_NAMES",
    "CodeCheck",
    "normalize_code",
    "credit_code_check_char",
    "is_valid_credit_code",
    "org_code_check_char",
    "is_valid_org_code",
    "division_city_code",
    "make_credit_code",
    "analyze_code",
    "check_credit_code",
]

FIELD_KEY = "credit_code"
FIELD_LABEL = "统一社会信用代码"

CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 symbols: no I O S V Z
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # value = index (A = 10 … Z = 35)

CITY_NAMES: dict[str, str] = {
    "510100": "成都市",
    "510300": "自贡市",
    "510400": "攀枝花市",
    "510500": "泸州市",
    "510600": "德阳市",
    "510700": "绵阳市",
    "510800": "广元市",
    "510900": "遂宁市",
    "511000": "内江市",
    "511100": "乐山市",
    "511300": "南充市",
    "511400": "眉山市",
    "511500": "宜宾市",
    "511600": "广安市",
    "511700": "达州市",
    "511800": "雅安市",
    "511900": "巴中市",
    "512000": "资阳市",
    "513200": "阿坝藏族羌族自治州",
    "513300": "甘孜藏族自治州",
    "513400": "凉山彝族自治州",
}

# First two digits of an administrative division code -> province-level name (GB/T 2260).
PROVINCE_NAMES: dict[str, str] = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区",
    "21": "辽宁省", "22": "吉林省", "23": "黑龙江省",
    "31": "上海市", "32": "江苏省", "33": "浙江省", "34": "安徽省", "35": "福建省", "36": "江西省",
    "37": "山东省",
    "41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区",
    "46": "海南省",
    "50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省", "54": "西藏自治区",
    "61": "陕西省", "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区", "65": "新疆维吾尔自治区",
    "71": "台湾省", "81": "香港特别行政区", "82": "澳门特别行政区",
}

SICHUAN_PREFIX = "51"
_SICHUAN_PROVINCE_LEVEL = "5100"  # registered with a province-level authority: no city to compare

CodeKind = Literal["credit_code", "org_code"]


# Zero-width and other invisible characters that a paste from a web page or a PDF carries.
_INVISIBLE = re.compile(r"[\u200b-\u200f\u2028-\u202f\u2060-\u206f\ufeff\u00ad]")

# Characters 1-2: 登记管理部门 + 机构类别. "91" is 工商 · 企业, the only kind the notice admits
# (一(一), 一(二): 独立法人资格的企业).
ENTERPRISE_PREFIX = "91"
PREFIX_KINDS: dict[str, str] = {
    "11": "机关", "12": "事业单位", "13": "编办直接管理机构编制的群众团体", "19": "其他机构编制单位",
    "21": "外国常驻新闻机构", "29": "其他外交单位", "31": "司法行政机构登记的律师事务所",
    "32": "公证处", "33": "基层法律服务所", "34": "司法鉴定机构", "35": "仲裁委员会",
    "39": "其他司法行政单位", "41": "外国在华文化中心", "49": "其他文化单位", "51": "社会团体",
    "52": "民办非企业单位（社会服务机构）", "53": "基金会", "59": "其他民政登记单位",
    "61": "外国旅游部门常驻代表机构", "62": "港澳台地区旅游部门常驻内地（大陆）代表机构",
    "69": "其他旅游单位", "71": "宗教活动场所", "72": "宗教院校", "79": "其他宗教单位",
    "81": "基层工会", "89": "其他工会单位", "92": "个体工商户", "93": "农民专业合作社",
    "A1": "军队事业单位", "A9": "其他军队单位", "N1": "农村集体经济组织", "N2": "村民委员会",
    "N3": "居民委员会", "N9": "其他农业单位", "Y1": "其他单位",
}


def normalize_code(raw: object) -> str:
    """Upper-case, full-width to ASCII (NFKC); spaces, dashes and invisible characters (a
    zero-width space from a paste) removed, so that they never count toward the length."""
    if raw is None:
        return ""
    text = unicodedata.normalize("NFKC", _INVISIBLE.sub("", str(raw))).upper()
    return re.sub(r"[\s\-_]+", "", text)


def credit_code_check_char(first17: str) -> str:
    """The 18th character for the given first 17 characters."""
    if len(first17) != 17 or any(c not in CREDIT_ALPHABET for c in first17):
        raise ValueError(f"need 17 characters of {CREDIT_ALPHABET!r}, got {first17!r}")
    total = sum(CREDIT_ALPHABET.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def is_valid_credit_code(code: str) -> bool:
    code = normalize_code(code)
    if len(code) != 18 or any(c not in CREDIT_ALPHABET for c in code):
        return False
    return credit_code_check_char(code[:17]) == code[17]


def org_code_check_char(first8: str) -> str:
    """The 9th character of a 组织机构代码 for its 8 body characters (digits / A-Z)."""
    if len(first8) != 8 or any(c not in _ORG_ALPHABET for c in first8):
        raise ValueError(f"need 8 digits or upper-case letters, got {first8!r}")
    total = sum(_ORG_ALPHABET.index(c) * w for c, w in zip(first8, ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def is_valid_org_code(code: str) -> bool:
    code = normalize_code(code)
    if len(code) != 9 or any(c not in _ORG_ALPHABET for c in code[:8]):
        return False
    return org_code_check_char(code[:8]) == code[8]


def division_city_code(credit_code: str) -> str | None:
    """The Sichuan city code (e.g. ``'510100'``) for the division in characters 3-6, else None."""
    code = normalize_code(credit_code)
    if len(code) < 6:
        return None
    city = code[2:6] + "00"
    return city if city in CITY_NAMES else None


def make_credit_code(division6: str, org_body8: str, *, prefix: str = "91") -> str:
    """Build a valid credit code: prefix (登记管理部门 + 机构类别, '91' = 工商 企业),
    division, the organisation code (body + its check character), and the check character."""
    if len(prefix) != 2 or len(division6) != 6 or not division6.isdigit():
        raise ValueError("prefix must be 2 characters and division6 6 digits")
    org_check = org_code_check_char(org_body8)
    first17 = f"{prefix}{division6}{org_body8}{org_check}"
    return first17 + credit_code_check_char(first17)


@dataclass(frozen=True)
class CodeCheck:
    """What is known about a code: its normalised form, its kind, its city, and the findings."""

    code: str
    kind: CodeKind | None
    city_code: str | None = None
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(f.is_error for f in self.findings)


def _error(message: str, rule: str) -> Finding:
    return Finding(FIELD_KEY, Severity.ERROR, message, f"credit_code:{rule}")


def _warning(message: str, rule: str, source: Source = Source.SYSTEM) -> Finding:
    """A warning on the code: the system's own reading (GB 11714's check character, the region
    the code names) unless the notice itself asks for it (an enterprise: 具有独立法人资格)."""
    return Finding(FIELD_KEY, Severity.WARNING, with_source(message, source), f"credit_code:{rule}")


def _illegal_chars(code: str, alphabet: str) -> list[str]:
    seen: list[str] = []
    for c in code:
        if c not in alphabet and c not in seen:
            seen.append(c)
    return seen


_BAD_SHOWN = 5  # illegal characters named in a message; a pasted paragraph has hundreds


def _charset_and_checksum(code: str, label: str) -> Finding | None:
    bad = _illegal_chars(code, CREDIT_ALPHABET)
    if bad:
        shown = "、".join(f"“{c}”" for c in bad[:_BAD_SHOWN])
        if len(bad) > _BAD_SHOWN:
            shown += f"等{len(bad)}个"
        return _error(f"{label}含非法字符：{shown}（统一社会信用代码不使用 I、O、S、V、Z）", "charset")
    expected = credit_code_check_char(code[:17])
    if code[17] != expected:
        body = code[8:16]
        org_check = org_code_check_char(body) if all(c in _ORG_ALPHABET for c in body) else code[16]
        if org_check != code[16] and org_check in CREDIT_ALPHABET:
            # Both check characters disagree: most likely the 17th was mistyped. Name it first, so
            # that correcting the last character alone does not lead to a second message.
            whole = credit_code_check_char(code[:16] + org_check)
            return _error(f"{label}校验位错误：第17位（组织机构代码的校验位）应为“{org_check}”，"
                          f"相应地最后一位应为“{whole}”；若第17位无误，最后一位应为“{expected}”。"
                          "请对照营业执照核对", "checksum")
        return _error(f"{label}校验位错误，最后一位应为“{expected}”，请核对是否录入有误", "checksum")
    return None


def _shape_findings(code: str, label: str) -> list[Finding]:
    """Warnings on what the code says of its holder: an enterprise (91), and the organisation
    code in characters 9-17 with its own check character (GB 11714)."""
    findings = []
    if code[:2] != ENTERPRISE_PREFIX:
        kind = PREFIX_KINDS.get(code[:2], "非企业")
        findings.append(_warning(
            f"{label}前两位为“{code[:2]}”（{kind}），不是企业（91）；通知要求申报单位为具有独立法人资格的企业，"
            "请核实后填写确认说明", "not_enterprise", Source.NOTICE))
    body, check = code[8:16], code[16]
    if all(c in _ORG_ALPHABET for c in body) and org_code_check_char(body) != check:
        findings.append(_warning(
            f"{label}第9-17位（组织机构代码）的校验位应为“{org_code_check_char(body)}”，当前为“{check}”，"
            "请核对是否录入有误", "org_checksum"))
    return findings


def _region_findings(code: str, label: str, clerk_city_code: str | None) -> tuple[str | None, list[Finding]]:
    division = code[2:8]
    if not division.startswith(SICHUAN_PREFIX):
        province = PROVINCE_NAMES.get(division[:2])
        where = f"{province}（行政区划代码{division}）" if province else f"行政区划代码{division}"
        return None, [_error(f"{label}登记地为{where}，不在四川省；申报单位应在川注册", "not_sichuan")]
    city = division_city_code(code)
    if city is None:
        if division.startswith(_SICHUAN_PROVINCE_LEVEL):
            return None, []  # registered at province level
        return None, [_warning(f"{label}中的行政区划代码{division}不属于四川省任何市（州），请核实",
                               "unknown_division")]
    if clerk_city_code and city != clerk_city_code:
        return city, [_warning(f"{label}登记地为{CITY_NAMES[city]}，与本市（州）不一致，请核实", "other_city")]
    return city, []


def analyze_code(raw: object, *, clerk_city_code: str | None = None) -> CodeCheck:
    """Full analysis of a credit code as entered.

    A 9-character 组织机构代码 is an error: every enterprise has had an 18-character 统一社会信用代码
    since 2018, and only that code names the region, which the Sichuan rule needs.
    """
    code = normalize_code(raw)
    if not code:
        return CodeCheck(code, None)
    label = f"「{FIELD_LABEL}」"
    if len(code) == 9:
        return CodeCheck(code, "org_code", None, [_error(
            f"{label}应填写18位统一社会信用代码；“{code}”是9位的旧组织机构代码，"
            "请向企业索取营业执照上的统一社会信用代码", "org_code")])
    if len(code) != 18:
        return CodeCheck(code, None, None, [_error(
            f"{label}长度应为18位，当前为{len(code)}位：“{echo(code, unit='位')}”", "length")])
    invalid = _charset_and_checksum(code, label)
    if invalid:
        return CodeCheck(code, "credit_code", None, [invalid])
    city, region = _region_findings(code, label, clerk_city_code)
    if any(f.is_error for f in region):
        return CodeCheck(code, "credit_code", None, region)
    return CodeCheck(code, "credit_code", city, _shape_findings(code, label) + region)


def check_credit_code(raw: object, *, clerk_city_code: str | None) -> tuple[str, list[Finding]]:
    """The normalised code and its findings (empty input: ``('', [])``; required-ness is checked elsewhere).

    Error rules: ``credit_code:org_code`` (9 characters), ``credit_code:length``,
    ``credit_code:charset``, ``credit_code:checksum``, ``credit_code:not_sichuan``; warnings:
    ``credit_code:not_enterprise``, ``credit_code:org_checksum``, ``credit_code:other_city``,
    ``credit_code:unknown_division``.
    """
    result = analyze_code(raw, clerk_city_code=clerk_city_code)
    return result.code, list(result.findings)
