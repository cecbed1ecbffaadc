"""Every rule of an application (docs/domain.md), declared as data, checked by pure functions.

One code path for everything: :func:`check_parsed` takes every field as read once by
:func:`parsing.parse_input` (text typed by a clerk, a spreadsheet cell) and runs the required
checks, the credit-code checks and the cross-field :data:`RULES`; :func:`check_values` reads
the values first (a value loaded from the database) and :func:`check_application` is the same
for raw form text.

Each finding carries a stable rule id (``sum:apps_source``, ``le:users_paying``,
``required:platform_name``, ``parse:roi``, ``credit_code:other_city`` …) under which a
clerk's acknowledgement of a warning is recorded; see :func:`blocking_findings`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from decimal import Decimal
from typing import Any

from .credit_code import check_credit_code
from .declaration import Form
from .findings import Finding, Severity, Source
from .indicators import SECTIONS, Field
from .parsing import ParsedInput, parse_input
from .rule_kinds import LeRule, MaxRule, NearRule, RangeRule, RequiredIfRule, Rule, SumRule, figure

__all__ = [
    "is_blank",
    "Severity",
    "Source",
    "Finding",
    "SumRule",
    "LeRule",
    "MaxRule",
    "RangeRule",
    "RequiredIfRule",
    "NearRule",
    "Rule",
    "RULES",
    "RULES_BY_ID",
    "FORM_2022",
    "CREDIT_CODE_RULE_IDS",
    "SumStatus",
    "CheckResult",
    "rules_for_field",
    "known_rule_ids",
    "sum_statuses",
    "check_parsed",
    "check_values",
    "check_application",
]

E, W = Severity.ERROR, Severity.WARNING

_APP_KINDS = (
    "apps_safety", "apps_energy", "apps_quality", "apps_supply", "apps_rnd",
    "apps_production", "apps_operation", "apps_logistics", "apps_maintenance",
)
# 申报书 3.1 lists the industries in 22 entries; read otherwise (煤炭/黑色金属矿开采/石油天然气开采 as
# three, 航空/航天 as two) they are 21 to 24, so more than 22 is a question, not an impossibility.
_INDUSTRIES = "申报书所列行业按22类计"
_DOMAINS = "申报书所列九大重点领域"
_HUNDRED = Decimal(100)

# Severities and sources as docs/domain.md states them ("Key indicator figures"): only what cannot
# be true blocks. Every rule but the form's own 「请注明」 is the system's reading of the form.
RULES: tuple[Rule, ...] = (
    # 二(1) 平台基本信息: the form says 「请注明合作企业名称」/「请注明服务商名称」
    RequiredIfRule("required_if:build_partner", "build_partner", "build_mode", "合作共建", E),
    RequiredIfRule("required_if:iaas_provider", "iaas_provider", "iaas_mode", "租用", E),
    # 1.1 工业设备数量
    SumRule("sum:devices_parts",
            ("devices_operating", "devices_processing", "devices_mobile", "devices_other"),
            "devices_total", E, W, "运行 + 加工 + 行走 + 其它设备"),
    SumRule("sum:devices_cloud", ("devices_public_cloud", "devices_private_cloud"),
            "devices_total", W, W, "公有云 + 私有云连接设备"),
    LeRule("le:devices_daily_active_public", "devices_daily_active_public", "devices_public_cloud", E),
    # 1.2 工业模型数量
    SumRule("sum:models_parts", ("models_rd_sim", "models_process", "models_mechanism", "models_algorithm"),
            "models_total", E, W, "研发仿真 + 业务流程 + 行业机理 + 数据算法模型"),
    # 1.3 工业APP数量
    SumRule("sum:apps_source", ("apps_self", "apps_partner"), "apps_total", E, W, "自研 + 生态伙伴"),
    SumRule("sum:apps_origin", ("apps_platform_built", "apps_cloudified"), "apps_total", W, W,
            "基于平台开发 + 传统工业软件云化"),
    SumRule("sum:apps_kinds", _APP_KINDS, "apps_total", W, W, "9类工业APP种类"),
    LeRule("le:apps_monthly_active", "apps_monthly_active", "apps_total", E),
    # 1.4 服务工业企业数量: paying ≤ industrial ≤ registered
    LeRule("le:users_paying", "users_paying", "users_industrial", E),
    LeRule("le:users_industrial", "users_industrial", "users_registered", E),
    # 1.5 平台开发者数量
    LeRule("le:developers_active", "developers_active", "developers_registered", E),
    # 3.1 解决方案供给能力
    MaxRule("max:industries_covered", "industries_covered", 22, W, _INDUSTRIES),
    MaxRule("max:domains_covered", "domains_covered", 9, E, _DOMAINS),
    # 3.2 赋能园区转型成效
    LeRule("le:parks_national", "parks_national", "parks_served", W),
    LeRule("le:parks_provincial", "parks_provincial", "parks_served", W),
    # 4.2 “双链”及“双碳”
    MaxRule("max:dual_industries", "dual_industries", 22, W, _INDUSTRIES),
    MaxRule("max:dual_domains", "dual_domains", 9, E, _DOMAINS),
    # 4.5 参与标准制定情况
    LeRule("le:std_national_led", "std_national_led", "std_national", E),
    LeRule("le:std_industry_led", "std_industry_led", "std_industry", E),
    LeRule("le:std_international_led", "std_international_led", "std_international", E),
    # 5.1 盈利和融资能力
    LeRule("le:revenue_2021", "revenue_2021", "revenue_3y", E),
    LeRule("le:revenue_2021:sales_last_year", "revenue_2021", "sales_last_year", W),
    LeRule("le:cost_2021", "cost_2021", "cost_3y", E),
    # 5.2 公司资源调配能力
    RangeRule("range:rnd_ratio_2020", "rnd_ratio_2020", Decimal(0), _HUNDRED, E),
    RangeRule("range:rnd_ratio_2021", "rnd_ratio_2021", Decimal(0), _HUNDRED, E),
    NearRule("near:rnd_ratio_2021", "rnd_ratio_2021", "rnd_2021", "sales_last_year", W),
)

# The 2022 notice's 申报书 as this module and domain/indicators.py declare it; notices/2022.toml
# declares the same form (tests/rounds/test_notice_file.py), and a round reads its own.
FORM_2022 = Form(SECTIONS, RULES)
RULES = FORM_2022.rules  # bound to 2022's fields
RULES_BY_ID: dict[str, Rule] = FORM_2022.rules_by_id

CREDIT_CODE_RULE_IDS: dict[str, Severity] = {
    "credit_code:length": E,
    "credit_code:charset": E,
    "credit_code:checksum": E,
    "credit_code:not_sichuan": E,
    "credit_code:unknown_division": W,
    "credit_code:other_city": W,
}


def rules_for_field(key: str, *, form: Form) -> list[Rule]:
    """The cross-field rules that involve a field (to show their messages beside it)."""
    return form.rules_for_field(key)


def known_rule_ids(*, form: Form) -> frozenset[str]:
    """Every rule id a finding can carry."""
    return frozenset(
        [*form.rules_by_id, *CREDIT_CODE_RULE_IDS]
        + [f"required:{k}" for k in form.required_keys]
        + [f"parse:{k}" for k in form.fields]
    )


# ------------------------------------------------------------------------ sum status


@dataclass(frozen=True)
class SumStatus:
    """Live state of a sum rule: ``ok`` is None while the total or a part is still blank."""

    rule_id: str
    total_key: str
    parts_sum: int | Decimal
    total: int | Decimal | None
    ok: bool | None
    text: str
    severity: Severity
    parts: tuple[str, ...]


def sum_statuses(values: Mapping[str, Any], *, form: Form) -> list[SumStatus]:
    """For every sum rule: ``分项合计 85 / 总数 90`` (blank parts count as 0 in the running sum).

    ``values`` are parsed values (:class:`CheckResult`.values or a stored application's); they
    are not parsed again, so a keystroke's live check reads every field once.
    """
    parsed = values
    statuses = []
    for rule in form.sum_rules:
        present = [parsed.get(k) for k in rule.parts]
        parts_sum = sum(v for v in present if v is not None)
        total = parsed.get(rule.total)
        complete = total is not None and all(v is not None for v in present)
        ok = (parts_sum == total) if complete else None
        text = f"分项合计 {figure(parts_sum)} / 总数 {figure(total) if total is not None else '—'}"
        # The running sum is already an error while it exceeds the whole, even before every part
        # is filled; below the whole it is at most a question.
        severity = rule.severity_of(parts_sum, total) if total is not None else rule.under
        if total is not None and parts_sum > total:
            ok = False
        statuses.append(SumStatus(rule.id, rule.total, parts_sum, total, ok, text, severity, rule.parts))
    return statuses


# ------------------------------------------------------------------------ whole application


@dataclass
class CheckResult:
    values: dict[str, Any]  # every key of the form -> parsed value or None
    form: Form  # what the values were checked against (the round's 申报书)
    findings: list[Finding] = dc_field(default_factory=list)
    parse_errors: dict[str, str] = dc_field(default_factory=dict)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is E]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is W]

    @property
    def has_errors(self) -> bool:
        return any(f.severity is E for f in self.findings)

    def for_field(self, key: str) -> list[Finding]:
        return [f for f in self.findings if f.field == key]

    def by_field(self) -> dict[str, list[Finding]]:
        grouped: dict[str, list[Finding]] = {}
        for f in self.findings:
            grouped.setdefault(f.field, []).append(f)
        return grouped


def is_blank(value: Any) -> bool:
    """Blank as the required rule counts it (the outline counts what is filled the same way)."""
    return value is None or (isinstance(value, str) and not value.strip()) or value == ()


def check_values(values: Mapping[str, Any], *, clerk_city_code: str | None, form: Form) -> CheckResult:
    """Check an application given as parsed values (as stored) or as raw text: every value is read
    by ``parsing.parse_input`` (typed values pass through, checked), then :func:`check_parsed`.
    Keys the form does not declare are ignored."""
    return check_parsed(parse_input(values, form.fields), clerk_city_code=clerk_city_code, form=form)


def check_parsed(parsed_input: ParsedInput, *, clerk_city_code: str | None, form: Form) -> CheckResult:
    """Check an application read once (:class:`parsing.ParsedInput`), so that form saving, Excel
    import and reporting share this one implementation and nothing reads a value twice."""
    parsed = {key: parsed_input.values.get(key) for key in form.fields}
    parse_errors = dict(parsed_input.errors)
    findings: list[Finding] = [
        Finding(key, E, message, f"parse:{key}") for key, message in parse_errors.items()
    ]

    for key in form.required_keys:
        if key not in parse_errors and is_blank(parsed[key]):
            f: Field = form.fields[key]
            findings.append(Finding(key, E, f.required_message, f"required:{key}"))

    if parsed.get("credit_code"):
        code, code_findings = check_credit_code(parsed["credit_code"], clerk_city_code=clerk_city_code)
        parsed["credit_code"] = code
        findings.extend(code_findings)

    for rule in form.rules:
        unreadable = any(k in parse_errors for k in rule.fields)
        # A figure that could not be read already has its error; it is not also "blank".
        findings.extend(f for f in rule.check(parsed)
                        if not (unreadable and f.rule.endswith(":unverifiable")))

    sort_findings(findings, form=form)
    return CheckResult(parsed, form, findings, parse_errors)


def sort_findings(findings: list[Finding], *, form: Form) -> None:
    """In place: in the form's field order, errors before warnings at each field."""
    order = form.field_order
    findings.sort(key=lambda f: (order.get(f.field, len(order)), f.severity is not E))


def check_application(raw: Mapping[str, Any], *, clerk_city_code: str | None, form: Form) -> CheckResult:
    """Check what a clerk typed (key -> text). Same code path as :func:`check_values`."""
    return check_values(raw, clerk_city_code=clerk_city_code, form=form)
