"""THE single declaration of every field of an application (申报书 附件2, 表一 and 表二).

Keys are the project's vocabulary from ``docs/domain.md``; forms, models, the Excel
template and the exports all iterate over :data:`SECTIONS` / :data:`FIELDS`.
:func:`parse_field` reads what a clerk typed (or a typed value from a spreadsheet
or the database) and :func:`format_field` writes it back.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from email_validator import EmailNotValidError, validate_email

from .credit_code import normalize_code
from .findings import ParseError
from .numbers import ZERO_WORDS, normalize_text, parse_int, parse_money, parse_percent

__all__ = [
    "Kind",
    "Field",
    "Section",
    "SECTIONS",
    "SECTIONS_BY_CODE",
    "FIELDS",
    "ENTERPRISE_KEYS",
    "PLATFORM_KEYS",
    "INDICATOR_KEYS",
    "NUMERIC_KINDS",
    "REQUIRED_KEYS",
    "STARRED_SECTIONS",
    "TECHNOLOGIES",
    "BUILD_MODES",
    "IAAS_MODES",
    "ParseError",
    "field",
    "parse_field",
    "format_field",
    "parse_date",
    "parse_bool",
    "parse_mobile",
    "parse_email",
    "parse_phone",
]


class Kind(StrEnum):
    TEXT = "text"
    DATE = "date"
    INT = "int"
    MONEY = "money"
    PERCENT = "percent"
    BOOL = "bool"
    CHOICE = "choice"
    MULTI = "multi"
    EMAIL = "email"
    MOBILE = "mobile"
    PHONE = "phone"
    CREDIT_CODE = "credit_code"


NUMERIC_KINDS = frozenset({Kind.INT, Kind.MONEY, Kind.PERCENT})


@dataclass(frozen=True)
class Field:
    key: str
    label: str  # the form's wording, complete enough to name the field in a message
    section: str  # '一', '二(1)', '1.1' … '5.2'
    kind: Kind
    unit: str = ""  # written after the blank on the form (台/套, 个, 万元, %…)
    required: bool = False
    choices: tuple[str, ...] = ()
    allow_negative: bool = False
    hint: str = ""
    max_length: int | None = None

    @property
    def is_numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS

    @property
    def heading(self) -> str:
        """Label with its unit, e.g. for an Excel column: ``工业APP数量（个）``."""
        if not self.unit or self.unit in self.label:
            return self.label
        return f"{self.label}（{self.unit}）"

    @property
    def required_message(self) -> str:
        if self.is_numeric:
            return f"「{self.label}」为必填项，如果没有可填“无”"
        return f"「{self.label}」为必填项"


@dataclass(frozen=True)
class Section:
    code: str
    title: str
    fields: tuple[Field, ...]
    starred: bool = False  # 带*标记项目: objective figures must be filled (无 allowed)
    note: str = ""

    @property
    def heading(self) -> str:
        star = "*" if self.starred else ""
        return f"{self.code} {self.title}{star}" if self.code[0].isdigit() else f"{self.code}、{self.title}"


BUILD_MODES = ("自建", "合作共建")
IAAS_MODES = ("自建", "租用")
TECHNOLOGIES = ("5G", "大数据", "人工智能", "数字孪生", "区块链", "工业AR/VR")

_INDUSTRIES_HINT = (
    "行业分类共22类：煤炭/黑色金属矿开采/石油天然气开采、黑色金属、有色金属、石化化工、建材、医药、纺织、"
    "家电、食品、烟草、轻工、机械、汽车、航空/航天、船舶、轨道交通、电子、电力、热力和燃气、建筑业、农业、服务业"
)
_DOMAINS_HINT = "领域指安全生产、节能减排、质量管控、供应链管理、研发设计、生产制造、运营管理、仓储物流、运维服务九大重点领域"

T, D, I, M, P, B = Kind.TEXT, Kind.DATE, Kind.INT, Kind.MONEY, Kind.PERCENT, Kind.BOOL


def _f(key: str, label: str, kind: Kind, unit: str = "", **kw: Any) -> tuple[str, str, Kind, str, dict]:
    return key, label, kind, unit, kw


def _section(code: str, title: str, *specs: tuple, starred: bool = False, note: str = "") -> Section:
    fields = []
    for key, label, kind, unit, kw in specs:
        if starred and kind in NUMERIC_KINDS:
            kw.setdefault("required", True)
        if kind is Kind.TEXT:
            kw.setdefault("max_length", 200)
        fields.append(Field(key, label, code, kind, unit, **kw))
    return Section(code, title, tuple(fields), starred, note)


_TAI = "台/套"
_GE = "个"
_WAN = "万元"
_PCT = "%"

SECTIONS: tuple[Section, ...] = (
    _section(
        "一", "申报企业基本信息",
        _f("enterprise_name", "企业名称", T, required=True),
        _f("credit_code", "统一社会信用代码", Kind.CREDIT_CODE, required=True, max_length=18,
           hint="申报书中的“组织机构代码”栏，填写18位统一社会信用代码（旧的9位组织机构代码也可接受）"),
        _f("founded_on", "成立时间", D, hint="如 2015-03-01 或 2015年3月"),
        _f("address", "单位地址", T),
        _f("contact_name", "联系人", T, required=True, max_length=50),
        _f("contact_title", "职务", T, max_length=50),
        _f("contact_phone", "电话", Kind.PHONE, max_length=50, hint="如 028-86264036"),
        _f("contact_mobile", "手机", Kind.MOBILE, required=True, max_length=11, hint="11位手机号码"),
        _f("contact_fax", "传真", Kind.PHONE, max_length=50),
        _f("contact_email", "E-mail", Kind.EMAIL, max_length=254),
        _f("total_assets", "总资产（万元）", M, _WAN),
        _f("debt_ratio", "负债率（%）", P, _PCT),
        _f("credit_rating", "信用等级", T, max_length=20, hint="如 AAA"),
        _f("sales_last_year", "上年销售（万元）", M, _WAN),
        _f("tax_last_year", "上年税金（万元）", M, _WAN),
        _f("profit_last_year", "上年利润（万元）", M, _WAN, allow_negative=True, hint="亏损填负数"),
    ),
    _section(
        "二(1)", "工业互联网平台基本信息",
        _f("platform_name", "平台名称", T, required=True),
        _f("builder", "建设主体", T),
        _f("built_on", "建设时间", D, hint="如 2018-06-01 或 2018年6月"),
        _f("investment", "投资金额（万元）", M, _WAN),
        _f("build_mode", "建设方式", Kind.CHOICE, choices=BUILD_MODES),
        _f("build_partner", "合作企业名称", T, hint="建设方式为“合作共建”时必填"),
        _f("iaas_mode", "IaaS基础设施", Kind.CHOICE, choices=IAAS_MODES),
        _f("iaas_provider", "IaaS服务商名称", T, hint="IaaS基础设施为“租用”时必填"),
    ),
    _section(
        "1.1", "工业设备数量",
        _f("devices_total", "可连接的工业设备/产品/产线数量", I, _TAI),
        _f("devices_operating", "运行设备", I, _TAI,
           hint="包括采矿设备、化工设备、冶炼设备、电力设备、建材设备、动力设备、仪器仪表等"),
        _f("devices_processing", "加工设备", I, _TAI, hint="包括机床、机器人、电工、电子设备、轻工设备等"),
        _f("devices_mobile", "行走设备", I, _TAI, hint="包括工程机械、农林机械、物流设备、交通设备等"),
        _f("devices_other", "其它设备", I, _TAI, hint="包括安全生产设备、污染防治设备等"),
        _f("devices_public_cloud", "公有云连接设备", I, _TAI),
        _f("devices_private_cloud", "私有云连接设备", I, _TAI),
        _f("devices_daily_active_public", "基于公有云的工业设备日运行数量", I, _TAI,
           hint="指每日上传实时运行数据的工业设备数量"),
        _f("protocols", "工业协议兼容适配数量", I, "种"),
        starred=True,
    ),
    _section(
        "1.2", "工业模型数量",
        _f("models_total", "工业模型数量", I, _GE),
        _f("models_rd_sim", "研发仿真模型", I, _GE),
        _f("models_process", "业务流程模型", I, _GE),
        _f("models_mechanism", "行业机理模型", I, _GE),
        _f("models_algorithm", "数据算法模型", I, _GE),
        starred=True,
    ),
    _section(
        "1.3", "工业APP数量",
        _f("apps_total", "工业APP数量", I, _GE),
        _f("apps_self", "自研工业APP数量", I, _GE),
        _f("apps_partner", "生态伙伴工业APP数量", I, _GE),
        _f("apps_platform_built", "基于平台开发的工业APP数量", I, _GE),
        _f("apps_cloudified", "传统工业软件云化APP数量", I, _GE),
        _f("apps_safety", "安全生产类工业APP", I, _GE),
        _f("apps_energy", "节能减排类工业APP", I, _GE),
        _f("apps_quality", "质量管控类工业APP", I, _GE),
        _f("apps_supply", "供应链管理类工业APP", I, _GE),
        _f("apps_rnd", "研发设计类工业APP", I, _GE),
        _f("apps_production", "生产制造类工业APP", I, _GE),
        _f("apps_operation", "运营管理类工业APP", I, _GE),
        _f("apps_logistics", "仓储物流类工业APP", I, _GE),
        _f("apps_maintenance", "运维服务类工业APP", I, _GE),
        _f("apps_monthly_active", "工业APP月活跃数量", I, _GE,
           hint="指当月有用户访问或者调用过的工业APP数量"),
        starred=True,
        note="工业APP指基于工业互联网平台，承载工业知识和经验，满足特定需求的工业应用软件",
    ),
    _section(
        "1.4", "服务工业企业数量",
        _f("users_registered", "注册企业用户数", I, _GE),
        _f("users_industrial", "工业企业数", I, _GE, hint="注册企业用户中的工业企业数"),
        _f("users_paying", "付费工业企业数", I, _GE),
        starred=True,
    ),
    _section(
        "1.5", "平台开发者数量",
        _f("developers_registered", "第三方开发者注册总数", I, _GE),
        _f("developers_active", "第三方活跃开发者数", I, _GE,
           hint="活跃开发者为每月至少登陆1次平台且对平台的工具或者环境进行调用的开发者"),
        starred=True,
    ),
    _section(
        "2.1", "平台技术创新能力",
        _f("patents", "平台核心软硬件技术获得的专利数量", I, _GE),
        _f("software_copyrights", "平台核心软硬件技术获得的软著数量", I, _GE),
        starred=True,
    ),
    _section(
        "2.2", "平台产品可靠性和安全防护能力",
        _f("sec_device_access", "具有设备和数据接入安全防护手段", B),
        _f("sec_data", "具有数据安全防护", B),
        _f("sec_code", "具有代码安全防护", B),
        _f("sec_application", "具有应用安全防护", B),
        _f("sec_access", "具有访问安全防护", B),
    ),
    _section(
        "2.3", "自研杀手锏工业APP情况",
        _f("killer_cross_platform", "杀手锏APP支持跨平台调用", B),
        _f("killer_daily_calls", "公有云杀手锏APP日活", I, "次",
           hint="指部署在公有云上的杀手锏工业APP平均每天被调用的次数"),
        _f("killer_monthly_revenue", "2021年杀手锏APP月平均收入（万元）", M, _WAN,
           hint="5个杀手锏APP累计月均收入"),
        _f("killer_awards", "获评省部级优秀APP数量（2020年以来）", I, _GE),
        starred=True,
        note="杀手锏APP指平台上订阅用户数最多的5个工业APP",
    ),
    _section(
        "3.1", "解决方案供给能力",
        _f("industries_covered", "覆盖的行业数量", I, _GE, hint=_INDUSTRIES_HINT),
        _f("domains_covered", "覆盖的领域数量", I, _GE, hint=_DOMAINS_HINT),
        _f("solutions", "提供有效解决方案数量", I, _GE,
           hint="有效解决方案指解决方案之间不能有交叉，边界清晰，例如A行业供应链管理、B行业供应链管理、"
                "C行业供应链管理，只能认定为1个有效解决方案"),
        _f("technologies", "运用技术", Kind.MULTI, choices=TECHNOLOGIES),
    ),
    _section(
        "3.2", "赋能园区转型成效",
        _f("parks_served", "累计服务园区数量", I, _GE),
        _f("parks_national", "服务园区获评国家级示范园区、工业和信息化部“平台+园区”示范项目数量", I, _GE),
        _f("parks_provincial", "服务园区获评省级示范园区数量", I, _GE),
        starred=True,
        note="数据均从2020年开始计算",
    ),
    _section(
        "3.3", "赋能行业和领域成效",
        _f("cases_ministry", "获评工业和信息化部应用案例", I, _GE),
        _f("cases_provincial", "获评省级应用案例", I, _GE),
        starred=True,
        note="数据均从2020年开始计算",
    ),
    _section(
        "3.4", "中小企业服务能力",
        _f("sme_served", "累计服务中小企业数量", I, _GE),
        _f("sme_contract_amount", "累计服务中小企业合同金额（万元）", M, _WAN),
        starred=True,
        note="数据均从2020年开始计算",
    ),
    _section(
        "4.1", "稳增长支撑能力",
        _f("honors_stability", "服务地方获“六稳”“六保”省部级荣誉数量", I, _GE),
        _f("region_honors", "注册地获“建设信息基础设施和推进产业数字化成效明显市（州）”", I, _GE),
        starred=True,
        note="数据均从2020年开始计算",
    ),
    _section(
        "4.2", "“双链”及“双碳”支撑能力",
        _f("dual_solutions", "“双链”“双碳”有效解决方案数量", I, _GE),
        _f("dual_industries", "“双链”“双碳”覆盖的行业数量", I, _GE),
        _f("dual_domains", "“双链”“双碳”覆盖的领域数量", I, _GE),
    ),
    _section(
        "4.5", "参与标准制定情况",
        _f("std_national", "国家标准数量", I, _GE),
        _f("std_national_led", "国家标准中牵头制定数量", I, _GE),
        _f("std_industry", "行业标准数量", I, _GE),
        _f("std_industry_led", "行业标准中牵头制定数量", I, _GE),
        _f("std_international", "国际标准数量", I, _GE),
        _f("std_international_led", "国际标准中牵头制定数量", I, _GE),
        starred=True,
    ),
    _section(
        "5.1", "盈利和融资能力",
        _f("revenue_3y", "近三年平台相关的累计业务收入（万元）", M, _WAN),
        _f("revenue_2021", "2021年平台相关的业务收入（万元）", M, _WAN),
        _f("cost_3y", "近三年平台相关的累计业务成本（万元）", M, _WAN),
        _f("cost_2021", "2021年平台相关的业务成本（万元）", M, _WAN),
        _f("roi", "投资回报率（%）", P, _PCT, allow_negative=True, hint="可为负数"),
        _f("listed_or_vc", "企业已上市或已获得VC/PE投资", B),
        starred=True,
    ),
    _section(
        "5.2", "公司资源调配能力",
        _f("rnd_2020", "2020年企业研发投入（万元）", M, _WAN),
        _f("rnd_2021", "2021年企业研发投入（万元）", M, _WAN),
        _f("rnd_ratio_2020", "2020年研发投入占主营业务收入比例（%）", P, _PCT),
        _f("rnd_ratio_2021", "2021年研发投入占主营业务收入比例（%）", P, _PCT),
        _f("employees", "从业人员数量", I, "人"),
        starred=True,
    ),
)

SECTIONS_BY_CODE: dict[str, Section] = {s.code: s for s in SECTIONS}
FIELDS: dict[str, Field] = {f.key: f for s in SECTIONS for f in s.fields}
ENTERPRISE_KEYS: tuple[str, ...] = tuple(f.key for f in SECTIONS_BY_CODE["一"].fields)
PLATFORM_KEYS: tuple[str, ...] = tuple(f.key for f in SECTIONS_BY_CODE["二(1)"].fields)
INDICATOR_KEYS: tuple[str, ...] = tuple(
    f.key for s in SECTIONS if s.code not in ("一", "二(1)") for f in s.fields
)
REQUIRED_KEYS: tuple[str, ...] = tuple(k for k, f in FIELDS.items() if f.required)
STARRED_SECTIONS: tuple[str, ...] = tuple(s.code for s in SECTIONS if s.starred)

assert len(FIELDS) == sum(len(s.fields) for s in SECTIONS), "duplicate field key"


def field(key: str) -> Field:
    try:
        return FIELDS[key]
    except KeyError:
        raise KeyError(f"unknown field key {key!r}") from None


# ---------------------------------------------------------------- parsing helpers

_QUOTES = "\"'“”‘’「」"
_CHECKBOX = "□☐☑☒■√✓✔"


def _clean(raw: object) -> str:
    return normalize_text(raw).strip(_QUOTES).strip()


_DATE_PATTERNS = (
    re.compile(r"(?P<y>\d{4})\s*[-/.]\s*(?P<m>\d{1,2})\s*[-/.]\s*(?P<d>\d{1,2})"),
    re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]?"),
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})"),
    re.compile(r"(?P<y>\d{4})\s*[-/.]\s*(?P<m>\d{1,2})"),
    re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月?"),
)
_TIME_SUFFIX = re.compile(r"\s+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$")


def parse_date(raw: object, label: str) -> dt.date | None:
    """2015-03-01, 2015/3/1, 2015.3.1, 20150301, 2015年3月1日; month only (2015年3月, 2015.3,
    2015-03) means the first day of that month. A year alone is refused."""
    if raw is None:
        return None
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    text = _TIME_SUFFIX.sub("", _clean(raw))
    if not text:
        return None
    for pattern in _DATE_PATTERNS:
        m = pattern.fullmatch(text)
        if m:
            year, month = int(m["y"]), int(m["m"])
            day = int(m["d"]) if "d" in m.groupdict() and m["d"] else 1
            try:
                value = dt.date(year, month, day)
            except ValueError:
                break
            if not 1900 <= year <= 2100:
                break
            return value
    if re.fullmatch(r"\d{4}\s*年?", text):
        raise ParseError(f"「{label}」请至少填写到月份，如“{text.rstrip('年')}年3月”：“{text}”")
    raise ParseError(f"「{label}」不是有效的日期：“{text}”，请按“2015-03-01”或“2015年3月”的格式填写")


_TRUE_WORDS = frozenset({"是", "有", "yes", "y", "true", "t", "1", "√", "✓", "✔", "☑", "对"})
_FALSE_WORDS = frozenset({"否", "无", "没有", "不是", "no", "n", "false", "f", "0", "×", "✗", "✘", "☒", "x"})


def parse_bool(raw: object, label: str) -> bool | None:
    if raw is None:
        return None
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    text = _clean(raw).lower()
    if not text:
        return None
    if text in _TRUE_WORDS:
        return True
    if text in _FALSE_WORDS:
        return False
    raise ParseError(f"「{label}」请填写“是”或“否”：“{text}”")


def parse_choice(raw: object, label: str, choices: tuple[str, ...]) -> str | None:
    text = re.sub(r"\s+", "", _clean(raw)).strip(_CHECKBOX)
    if not text:
        return None
    for choice in choices:
        if text == choice:
            return choice
    options = "或".join(f"“{c}”" for c in choices) if len(choices) == 2 else "、".join(f"“{c}”" for c in choices)
    raise ParseError(f"「{label}」应为{options}：“{text}”")


_TECH_ALIASES: tuple[tuple[str, str], ...] = tuple(
    sorted(
        {
            "5G": "5G",
            "大数据": "大数据",
            "人工智能": "人工智能",
            "AI": "人工智能",
            "数字孪生": "数字孪生",
            "区块链": "区块链",
            "工业AR/VR": "工业AR/VR",
            "AR/VR": "工业AR/VR",
            "工业AR": "工业AR/VR",
            "工业VR": "工业AR/VR",
            "AR": "工业AR/VR",
            "VR": "工业AR/VR",
        }.items(),
        key=lambda kv: len(kv[0]),
        reverse=True,
    )
)
_MULTI_SEPARATORS = re.compile(r"[\s、,;:|" + re.escape(_CHECKBOX) + r"]+")


def parse_multi(raw: object, label: str, choices: tuple[str, ...] = TECHNOLOGIES) -> tuple[str, ...] | None:
    """Any of the choices, separated by 、 , ; or spaces (a trailing 技术 is fine).
    Returned in the form's order without duplicates; blank -> None."""
    if raw is None:
        return None
    if isinstance(raw, (list, tuple, set, frozenset)):
        items = [normalize_text(x) for x in raw]
        if not any(items):
            return None
        text = "、".join(items)
    else:
        text = _clean(raw)
    text = _MULTI_SEPARATORS.sub("", text)
    if not text or text in ZERO_WORDS:
        return None
    chosen: set[str] = set()
    upper = text.upper()
    i = 0
    while i < len(text):
        for alias, canonical in _TECH_ALIASES:
            if upper.startswith(alias.upper(), i):
                if canonical in choices:
                    chosen.add(canonical)
                    i += len(alias)
                    if text.startswith("技术", i):
                        i += 2
                    break
        else:
            if text.startswith("技术", i):
                i += 2
                continue
            allowed = "、".join(choices)
            raise ParseError(f"「{label}」只能从以下选项中选择：{allowed}；无法识别：“{text[i:]}”")
    return tuple(c for c in choices if c in chosen)


_MOBILE_RE = re.compile(r"1[3-9]\d{9}")


def parse_mobile(raw: object, label: str) -> str | None:
    """11 digits, ``1[3-9]`` then 9 digits; spaces, dashes and a +86 prefix are removed."""
    text = _clean(raw)
    if not text:
        return None
    digits = re.sub(r"[\s\-()]+", "", text)
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == 11 + len(prefix):
            digits = digits[len(prefix):]
            break
    if not _MOBILE_RE.fullmatch(digits):
        raise ParseError(f"「{label}」应为11位手机号码（以13-19开头）：“{text}”")
    return digits


def parse_email(raw: object, label: str) -> str | None:
    text = _clean(raw)
    if not text:
        return None
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        raise ParseError(f"「{label}」不是有效的电子邮箱地址：“{text}”") from None
    return result.normalized


_PHONE_RE = re.compile(r"[\d\-\s()+转/、,]+")


def parse_phone(raw: object, label: str) -> str | None:
    """Lenient: digits, -, spaces, parentheses, +, 转 (extension); several numbers may be
    separated by / 、 or ,. At least 7 digits."""
    text = _clean(raw)
    if not text:
        return None
    text = re.sub(r"\s+", " ", text)
    if not _PHONE_RE.fullmatch(text) or sum(c.isdigit() for c in text) < 7:
        raise ParseError(f"「{label}」格式不正确，只能包含数字、“-”、括号和“转”：“{text}”")
    return text


def _parse_text(raw: object, f: Field) -> str | None:
    if raw is None:
        return None
    text = re.sub(r"\s+", " ", str(raw)).strip()  # no NFKC: keep a name's full-width brackets
    if not text:
        return None
    if f.max_length and len(text) > f.max_length:
        raise ParseError(f"「{f.label}」不能超过{f.max_length}个字，当前为{len(text)}个字")
    return text


def parse_field(f: Field | str, raw: object) -> Any:
    """Read one field. Blank -> None. Raises :class:`ParseError` (Chinese, names the label).

    ``raw`` is usually the text a clerk typed; already-typed values (int, Decimal, date,
    bool, a list for MULTI) from a spreadsheet or the database are accepted and checked too.
    Return types: TEXT/EMAIL/MOBILE/PHONE/CHOICE/CREDIT_CODE str, DATE date, INT int,
    MONEY/PERCENT Decimal (2 places), BOOL bool, MULTI tuple[str, ...].
    """
    if isinstance(f, str):
        f = field(f)
    try:
        match f.kind:
            case Kind.INT:
                return parse_int(raw, f.label, allow_negative=f.allow_negative, unit=f.unit)
            case Kind.MONEY:
                return parse_money(raw, f.label, allow_negative=f.allow_negative, unit=f.unit or "万元")
            case Kind.PERCENT:
                return parse_percent(raw, f.label, allow_negative=f.allow_negative)
            case Kind.DATE:
                return parse_date(raw, f.label)
            case Kind.BOOL:
                return parse_bool(raw, f.label)
            case Kind.CHOICE:
                return parse_choice(raw, f.label, f.choices)
            case Kind.MULTI:
                return parse_multi(raw, f.label, f.choices)
            case Kind.EMAIL:
                return parse_email(raw, f.label)
            case Kind.MOBILE:
                return parse_mobile(raw, f.label)
            case Kind.PHONE:
                return parse_phone(raw, f.label)
            case Kind.CREDIT_CODE:
                # validity (length, checksum, region) is reported by checks.check_credit_code
                return normalize_code(raw) or None
            case _:
                return _parse_text(raw, f)
    except ParseError as exc:
        if exc.key is None:
            exc.key = f.key
        raise


def format_field(f: Field | str, value: Any) -> str:
    """Text for re-display and exports: money/percent '1234.50', bool 是/否, multi '、'-joined, date ISO."""
    if isinstance(f, str):
        f = field(f)
    if value is None:
        return ""
    match f.kind:
        case Kind.MONEY | Kind.PERCENT:
            return format(Decimal(value).quantize(Decimal("0.01")), "f")
        case Kind.INT:
            return str(int(value))
        case Kind.BOOL:
            return "是" if value else "否"
        case Kind.MULTI:
            return "、".join(value) if not isinstance(value, str) else value
        case Kind.DATE:
            return value.isoformat() if isinstance(value, dt.date) else str(value)
        case _:
            return str(value)
