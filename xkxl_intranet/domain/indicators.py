"""THE single declaration of every field of an application (申报书 附件2, 表一 and 表二).

Keys are the project's vocabulary from ``docs/domain.md``; forms, models, the Excel
template and the exports all iterate over :data:`SECTIONS` / :data:`FIELDS`.
:mod:`.parsing` reads what a clerk typed and writes it back (``parse_field``,
``format_field``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

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
    "field",
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
CHOICE_LIST_KINDS = frozenset({Kind.BOOL, Kind.CHOICE, Kind.MULTI})  # a list of boxes, one per choice


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
    # How 附件2 prints the field, for the 申报书 template and for reading an uploaded 申报书:
    form_label: str = ""  # the words before the blank (or in the label cell); default: label
    form_aliases: tuple[str, ...] = ()  # other wordings found in documents, read but not printed
    form_after: str = ""  # the label that comes first on the same line (国家标准…，其中牵头制定)
    form_blank: int = 0  # which blank after the label (2020、2021年企业研发投入：__、__万元)
    form_cell: bool = False  # printed in a table: the value is the cell after the label

    @property
    def is_numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS

    @property
    def control_id(self) -> str:
        """The id of the field's first control on the form (a list of choices: its first box,
        ``key-0``). Links to a field point here, as GOV.UK's error summary does: following one, the
        browser puts the cursor in the field even without JavaScript."""
        return f"{self.key}-0" if self.kind in CHOICE_LIST_KINDS else self.key

    @property
    def unit_in_label(self) -> bool:
        """The label already ends in its unit: ``上年销售（万元）`` (not ``从业人员数量``, whose
        unit 人 is only a letter of the label)."""
        return bool(self.unit) and f"（{self.unit}）" in self.label

    @property
    def heading(self) -> str:
        """Label with its unit, e.g. for an Excel column: ``工业APP数量（个）``."""
        if not self.unit or self.unit_in_label:
            return self.label
        return f"{self.label}（{self.unit}）"

    @property
    def required_message(self) -> str:
        if self.is_numeric:
            return f"「{self.label}」为必填项，如果没有可填“无”"
        if self.kind is Kind.BOOL:
            return f"「{self.label}」为必填项，请选择“是”或“否”"
        return f"「{self.label}」为必填项"

    @property
    def short_label(self) -> str:
        """The label without its unit: ``上年销售（万元）`` -> ``上年销售``."""
        return self.label.split("（")[0]

    @property
    def printed_label(self) -> str:
        """The label as the 申报书 (附件2) prints it: a blank's unit follows the blank, not the
        label (``累计服务中小企业合同金额：____万元``)."""
        if self.form_label:
            return self.form_label
        if not self.form_cell and self.unit_in_label:
            return self.short_label
        return self.label

    @property
    def printed_labels(self) -> tuple[tuple[str, int], ...]:
        """Every wording a document may use before this field's blank, with the blank it names:
        the printed label (its own blank), then the aliases, the declared label and the label
        without its unit (each with the first blank)."""
        seen = {self.printed_label}
        variants = [(self.printed_label, self.form_blank)]
        for text in (*self.form_aliases, self.label, self.short_label):
            if text not in seen and (self.form_blank == 0 or text not in (self.label, self.short_label)):
                seen.add(text)
                variants.append((text, 0))
        return tuple(variants)


@dataclass(frozen=True)
class Section:
    code: str
    title: str
    fields: tuple[Field, ...]
    starred: bool = False  # 带*标记项目: objective figures must be filled (无 allowed)
    note: str = ""
    table: bool = False  # printed as a table of label and value cells (表一, 表二(1))
    # The lines of the section as 附件2 prints them: text with {key} for a labelled blank and
    # {key,key} for one label with several blanks. Empty: one line per field.
    form_lines: tuple[str, ...] = ()

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


_Spec = tuple[str, str, Kind, str, dict[str, Any]]  # a field as _f writes it down for _section


def _f(key: str, label: str, kind: Kind, unit: str = "", **kw: Any) -> _Spec:
    return key, label, kind, unit, kw


def _section(code: str, title: str, *specs: _Spec, starred: bool = False, note: str = "",
             table: bool = False, lines: tuple[str, ...] = ()) -> Section:
    fields = []
    for key, label, kind, unit, kw in specs:
        # The notice's ★: every figure and every 是/否 of a starred section must be answered.
        if starred and (kind in NUMERIC_KINDS or kind is Kind.BOOL):
            kw.setdefault("required", True)
        if kind is Kind.TEXT:
            kw.setdefault("max_length", 200)
        if table:
            kw.setdefault("form_cell", True)
        fields.append(Field(key, label, code, kind, unit, **kw))
    return Section(code, title, tuple(fields), starred, note, table, lines)


_TAI = "台/套"
_GE = "个"
_WAN = "万元"
_PCT = "%"

SECTIONS: tuple[Section, ...] = (
    _section(
        "一", "申报企业基本信息",
        _f("enterprise_name", "企业名称", T, required=True),
        # 40, not 18: a code pasted with spaces ("9151 0900 MA6B K27Q X8") must reach the
        # normalisation whole; the checks then count its 18 characters.
        _f("credit_code", "统一社会信用代码", Kind.CREDIT_CODE, required=True, max_length=40,
           form_label="组织机构代码", form_aliases=("组织机构代码/统一社会信用代码", "组织机构代码（统一社会信用代码）"),
           hint="申报书中的“组织机构代码”栏，填写营业执照上的18位统一社会信用代码（可带空格粘贴）"),
        _f("founded_on", "成立时间", D, hint="如 2015-03-01 或 2015年3月"),
        _f("address", "单位地址", T),
        # 附件2 prints a 联系人 block whose rows are 姓名/电话, 职务/手机, 传真/E-mail.
        _f("contact_name", "联系人", T, required=True, max_length=50, form_label="姓名",
           form_aliases=("联系人姓名",)),
        _f("contact_title", "职务", T, max_length=50),
        _f("contact_phone", "电话", Kind.PHONE, max_length=50, hint="如 028-86264036", form_aliases=("联系电话",)),
        _f("contact_mobile", "手机", Kind.MOBILE, required=True, max_length=11, hint="11位手机号码"),
        _f("contact_fax", "传真", Kind.PHONE, max_length=50),
        _f("contact_email", "E-mail", Kind.EMAIL, max_length=254, form_aliases=("Email", "电子邮箱", "邮箱")),
        _f("total_assets", "总资产（万元）", M, _WAN),
        _f("debt_ratio", "负债率（%）", P, _PCT, form_label="负债率"),
        _f("credit_rating", "信用等级", T, max_length=20, hint="如 AAA"),
        _f("sales_last_year", "上年销售（万元）", M, _WAN),
        _f("tax_last_year", "上年税金（万元）", M, _WAN),
        _f("profit_last_year", "上年利润（万元）", M, _WAN, allow_negative=True, hint="亏损填负数"),
        table=True,
    ),
    _section(
        "二(1)", "工业互联网平台基本信息",
        _f("platform_name", "平台名称", T, required=True),
        _f("builder", "建设主体", T),
        _f("built_on", "建设时间", D, hint="如 2018-06-01 或 2018年6月"),
        _f("investment", "投资金额（万元）", M, _WAN),
        _f("build_mode", "建设方式", Kind.CHOICE, choices=BUILD_MODES),
        _f("build_partner", "合作企业名称", T, hint="建设方式为“合作共建”时必填",
           form_label="请注明合作企业名称", form_cell=False),
        _f("iaas_mode", "IaaS基础设施", Kind.CHOICE, choices=IAAS_MODES),
        _f("iaas_provider", "IaaS服务商名称", T, hint="IaaS基础设施为“租用”时必填",
           form_label="请注明服务商名称", form_aliases=("服务商名称",), form_cell=False),
        table=True,
    ),
    _section(
        "1.1", "工业设备数量",
        _f("devices_total", "可连接的工业设备/产品/产线数量", I, _TAI,
           form_label="可连接的工业设备/产品/产线种类及数量"),
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
        lines=("□{devices_total}", "其中，{devices_operating}；{devices_processing}；",
               "{devices_mobile}；{devices_other}",
               "（运行设备包括：采矿设备、化工设备、冶炼设备、电力设备、建材设备、动力设备、仪器仪表等；加工设备包括："
               "机床、机器人、电工、电子设备、轻工设备等；行走设备包括：工程机械、农林机械、物流设备、交通设备等；"
               "其他设备包括：安全生产设备、污染防治设备等）",
               "{devices_public_cloud}；{devices_private_cloud}",
               "{devices_daily_active_public}（指每日上传实时运行数据的工业设备数量）",
               "□{protocols}"),
    ),
    _section(
        "1.2", "工业模型数量",
        _f("models_total", "工业模型数量", I, _GE),
        _f("models_rd_sim", "研发仿真模型", I, _GE),
        _f("models_process", "业务流程模型", I, _GE),
        _f("models_mechanism", "行业机理模型", I, _GE),
        _f("models_algorithm", "数据算法模型", I, _GE),
        starred=True,
        lines=("□{models_total}", "其中，{models_rd_sim}；{models_process}；", "{models_mechanism}；{models_algorithm}"),
    ),
    _section(
        "1.3", "工业APP数量",
        _f("apps_total", "工业APP数量", I, _GE),
        _f("apps_self", "自研工业APP数量", I, _GE),
        _f("apps_partner", "生态伙伴工业APP数量", I, _GE),
        _f("apps_platform_built", "基于平台开发的工业APP数量", I, _GE),
        _f("apps_cloudified", "传统工业软件云化APP数量", I, _GE),
        _f("apps_safety", "安全生产类工业APP", I, _GE, form_label="安全生产"),
        _f("apps_energy", "节能减排类工业APP", I, _GE, form_label="节能减排"),
        _f("apps_quality", "质量管控类工业APP", I, _GE, form_label="质量管控"),
        _f("apps_supply", "供应链管理类工业APP", I, _GE, form_label="供应链管理"),
        _f("apps_rnd", "研发设计类工业APP", I, _GE, form_label="研发设计"),
        _f("apps_production", "生产制造类工业APP", I, _GE, form_label="生产制造"),
        _f("apps_operation", "运营管理类工业APP", I, _GE, form_label="运营管理"),
        _f("apps_logistics", "仓储物流类工业APP", I, _GE, form_label="仓储物流"),
        _f("apps_maintenance", "运维服务类工业APP", I, _GE, form_label="运维服务"),
        _f("apps_monthly_active", "工业APP月活跃数量", I, _GE,
           hint="指当月有用户访问或者调用过的工业APP数量"),
        starred=True,
        lines=("□{apps_total}", "其中，{apps_self}、{apps_partner}；", "{apps_platform_built}、{apps_cloudified}",
               "□工业APP种类：", "{apps_safety}；{apps_energy}；", "{apps_quality}；{apps_supply}；",
               "{apps_rnd}；{apps_production}；", "{apps_operation}；{apps_logistics}；", "{apps_maintenance}",
               "□{apps_monthly_active}（指当月有用户访问或者调用过的工业APP数量）"),
        note="工业APP指基于工业互联网平台，承载工业知识和经验，满足特定需求的工业应用软件",
    ),
    _section(
        "1.4", "服务工业企业数量",
        _f("users_registered", "注册企业用户数", I, _GE),
        _f("users_industrial", "工业企业数", I, _GE, hint="注册企业用户中的工业企业数"),
        _f("users_paying", "付费工业企业数", I, _GE),
        starred=True,
        lines=("□{users_registered}", "其中，{users_industrial}，{users_paying}"),
    ),
    _section(
        "1.5", "平台开发者数量",
        _f("developers_registered", "第三方开发者注册总数", I, _GE),
        _f("developers_active", "第三方活跃开发者数", I, _GE,
           hint="活跃开发者为每月至少登陆1次平台且对平台的工具或者环境进行调用的开发者"),
        starred=True,
        lines=("□{developers_registered}",
               "□{developers_active}（活跃开发者为每月至少登陆1次平台且对平台的工具或者环境进行调用的开发者）"),
    ),
    _section(
        "2.1", "平台技术创新能力",
        _f("patents", "平台核心软硬件技术获得的专利数量", I, _GE),
        _f("software_copyrights", "平台核心软硬件技术获得的软著数量", I, _GE),
        starred=True,
        lines=("□{patents}", "□{software_copyrights}"),
    ),
    _section(
        "2.2", "平台产品可靠性和安全防护能力",
        _f("sec_device_access", "具有设备和数据接入安全防护手段", B),
        _f("sec_data", "具有数据安全防护", B),
        _f("sec_code", "具有代码安全防护", B),
        _f("sec_application", "具有应用安全防护", B),
        _f("sec_access", "具有访问安全防护", B),
        lines=("□{sec_device_access}", "□{sec_data}", "□{sec_code}", "□{sec_application}", "□{sec_access}"),
    ),
    _section(
        "2.3", "自研杀手锏工业APP情况",
        _f("killer_cross_platform", "杀手锏APP支持跨平台调用", B, form_label="支持跨平台调用"),
        _f("killer_daily_calls", "公有云杀手锏APP日活", I, "次",
           hint="指部署在公有云上的杀手锏工业APP平均每天被调用的次数"),
        _f("killer_monthly_revenue", "2021年杀手锏APP月平均收入（万元）", M, _WAN,
           hint="5个杀手锏APP累计月均收入", form_label="2021年月平均收入"),
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
        _f("technologies", "运用技术", Kind.MULTI, choices=TECHNOLOGIES, form_label="运用以下技术"),
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
        _f("dual_solutions", "“双链”“双碳”有效解决方案数量", I, _GE, form_label="有效解决方案数量"),
        _f("dual_industries", "“双链”“双碳”覆盖的行业数量", I, _GE, form_label="覆盖的行业数量"),
        _f("dual_domains", "“双链”“双碳”覆盖的领域数量", I, _GE, form_label="覆盖的领域数量"),
        lines=("□{dual_solutions}", "□{dual_industries}", "□{dual_domains}"),
    ),
    _section(
        "4.5", "参与标准制定情况",
        _f("std_national", "国家标准数量", I, _GE, form_label="国家标准"),
        _f("std_national_led", "国家标准中牵头制定数量", I, _GE, form_label="其中牵头制定",
           form_after="国家标准"),
        _f("std_industry", "行业标准数量", I, _GE, form_label="行业标准"),
        _f("std_industry_led", "行业标准中牵头制定数量", I, _GE, form_label="其中牵头制定",
           form_after="行业标准"),
        _f("std_international", "国际标准数量", I, _GE, form_label="国际标准"),
        _f("std_international_led", "国际标准中牵头制定数量", I, _GE, form_label="其中牵头制定",
           form_after="国际标准"),
        starred=True,
        lines=("{std_national}，{std_national_led}", "{std_industry}，{std_industry_led}",
               "{std_international}，{std_international_led}"),
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
        lines=("主营业务收入：", "{revenue_3y}", "{revenue_2021}", "主营业务成本：", "{cost_3y}", "{cost_2021}",
               "{roi}", "{listed_or_vc}"),
    ),
    _section(
        "5.2", "公司资源调配能力",
        _f("rnd_2020", "2020年企业研发投入（万元）", M, _WAN, form_label="2020、2021年企业研发投入"),
        _f("rnd_2021", "2021年企业研发投入（万元）", M, _WAN, form_label="2020、2021年企业研发投入",
           form_blank=1),
        _f("rnd_ratio_2020", "2020年研发投入占主营业务收入比例（%）", P, _PCT, form_label="占主营业务收入"),
        _f("rnd_ratio_2021", "2021年研发投入占主营业务收入比例（%）", P, _PCT, form_label="占主营业务收入",
           form_blank=1),
        _f("employees", "从业人员数量", I, "人"),
        starred=True,
        lines=("□{rnd_2020,rnd_2021}，{rnd_ratio_2020,rnd_ratio_2021}", "□{employees}"),
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
