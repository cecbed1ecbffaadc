from decimal import Decimal

import pytest

from xkxl_intranet.domain.checks import (
    FORM_2022,
    RULES,
    RULES_BY_ID,
    CheckResult,
    Finding,
    LeRule,
    Severity,
    Source,
    SumRule,
    check_application,
    check_values,
    known_rule_ids,
    rules_for_field,
    sum_statuses,
)
from xkxl_intranet.domain.credit_code import make_credit_code
from xkxl_intranet.domain.evaluation import Evaluation
from xkxl_intranet.domain.indicators import FIELDS, REQUIRED_KEYS

E, W = Severity.ERROR, Severity.WARNING
CHENGDU = "510100"


def good_application() -> dict[str, str]:
    """A complete application, as typed, that passes every rule."""
    return {
        "enterprise_name": "四川某某工业互联网科技有限公司",
        "credit_code": make_credit_code("510104", "20189125"),
        "founded_on": "2015-03-01",
        "address": "成都市高新区天府大道1号",
        "contact_name": "张三",
        "contact_title": "总经理",
        "contact_phone": "028-86264036",
        "contact_mobile": "138 0013 8000",
        "contact_fax": "028-86264037",
        "contact_email": "zhangsan@example.com",
        "total_assets": "100,000",
        "debt_ratio": "40%",
        "credit_rating": "AAA",
        "sales_last_year": "50000",
        "tax_last_year": "2000",
        "profit_last_year": "3000",
        "platform_name": "某某工业互联网平台",
        "builder": "四川某某工业互联网科技有限公司",
        "built_on": "2018年6月",
        "investment": "8000",
        "build_mode": "自建",
        "build_partner": "",
        "iaas_mode": "租用",
        "iaas_provider": "某某云",
        "devices_total": "1000", "devices_operating": "400", "devices_processing": "300",
        "devices_mobile": "200", "devices_other": "100",
        "devices_public_cloud": "600", "devices_private_cloud": "400",
        "devices_daily_active_public": "500", "protocols": "50",
        "models_total": "100", "models_rd_sim": "40", "models_process": "30",
        "models_mechanism": "20", "models_algorithm": "10",
        "apps_total": "90", "apps_self": "60", "apps_partner": "30",
        "apps_platform_built": "70", "apps_cloudified": "20",
        "apps_safety": "10", "apps_energy": "10", "apps_quality": "10", "apps_supply": "10",
        "apps_rnd": "10", "apps_production": "10", "apps_operation": "10", "apps_logistics": "10",
        "apps_maintenance": "10", "apps_monthly_active": "80",
        "users_registered": "1000", "users_industrial": "800", "users_paying": "200",
        "developers_registered": "500", "developers_active": "100",
        "patents": "30", "software_copyrights": "120",
        "sec_device_access": "是", "sec_data": "是", "sec_code": "是", "sec_application": "是", "sec_access": "否",
        "killer_cross_platform": "是", "killer_daily_calls": "10000", "killer_monthly_revenue": "50.5",
        "killer_awards": "2",
        "industries_covered": "10", "domains_covered": "9", "solutions": "20", "technologies": "5G、大数据",
        "parks_served": "10", "parks_national": "2", "parks_provincial": "3",
        "cases_ministry": "1", "cases_provincial": "2",
        "sme_served": "300", "sme_contract_amount": "1,200",
        "honors_stability": "1", "region_honors": "无",
        "dual_solutions": "3", "dual_industries": "5", "dual_domains": "4",
        "std_national": "5", "std_national_led": "2", "std_industry": "3", "std_industry_led": "1",
        "std_international": "无", "std_international_led": "无",
        "revenue_3y": "30000", "revenue_2021": "12000", "cost_3y": "20000", "cost_2021": "8000",
        "roi": "15%", "listed_or_vc": "否",
        "rnd_2020": "4000", "rnd_2021": "5000", "rnd_ratio_2020": "9.5", "rnd_ratio_2021": "10",
        "employees": "800",
    }


def check(changes=None, city=CHENGDU) -> CheckResult:
    raw = good_application()
    raw.update(changes or {})
    return check_application(raw, clerk_city_code=city, form=FORM_2022)


def test_good_application_has_no_finding():
    result = check()
    assert result.findings == []
    assert not result.has_errors
    assert result.parse_errors == {}
    assert result.values["devices_total"] == 1000
    assert result.values["sales_last_year"] == Decimal("50000.00")
    assert result.values["contact_mobile"] == "13800138000"
    assert set(result.values) == set(FIELDS)


EXPECTED_RULE_IDS = {
    "required_if:build_partner", "required_if:iaas_provider",
    "sum:devices_parts", "sum:devices_cloud", "le:devices_daily_active_public",
    "sum:models_parts",
    "sum:apps_source", "sum:apps_origin", "sum:apps_kinds", "le:apps_monthly_active",
    "le:users_paying", "le:users_industrial", "le:developers_active",
    "max:industries_covered", "max:domains_covered",
    "le:parks_national", "le:parks_provincial",
    "max:dual_industries", "max:dual_domains",
    "le:std_national_led", "le:std_industry_led", "le:std_international_led",
    "le:revenue_2021", "le:revenue_2021:sales_last_year", "le:cost_2021",
    "range:rnd_ratio_2020", "range:rnd_ratio_2021", "near:rnd_ratio_2021",
}


def test_rule_ids_are_stable_and_unique():
    assert set(RULES_BY_ID) == EXPECTED_RULE_IDS
    assert len(RULES) == len(EXPECTED_RULE_IDS)
    ids = known_rule_ids(form=FORM_2022)
    assert ids >= EXPECTED_RULE_IDS
    assert {"credit_code:other_city", "credit_code:checksum", "required:platform_name", "parse:roi"} <= ids


# (rule id, changes that break it, field shown at, severity)
VIOLATIONS = [
    ("required_if:build_partner", {"build_mode": "合作共建", "build_partner": ""}, "build_partner", E),
    ("required_if:iaas_provider", {"iaas_mode": "租用", "iaas_provider": " "}, "iaas_provider", E),
    ("sum:devices_parts", {"devices_other": "150"}, "devices_total", E),
    ("sum:devices_cloud", {"devices_private_cloud": "300"}, "devices_total", W),
    ("le:devices_daily_active_public", {"devices_daily_active_public": "601"}, "devices_daily_active_public", E),
    ("sum:models_parts", {"models_algorithm": "11"}, "models_total", E),
    ("sum:apps_source", {"apps_partner": "35"}, "apps_total", E),
    ("sum:apps_origin", {"apps_cloudified": "21"}, "apps_total", W),
    ("sum:apps_kinds", {"apps_maintenance": "9"}, "apps_total", W),
    ("le:apps_monthly_active", {"apps_monthly_active": "91"}, "apps_monthly_active", E),
    ("le:users_paying", {"users_paying": "801"}, "users_paying", E),
    ("le:users_industrial", {"users_industrial": "1001", "users_paying": "200"}, "users_industrial", E),
    ("le:developers_active", {"developers_active": "501"}, "developers_active", E),
    ("max:industries_covered", {"industries_covered": "23"}, "industries_covered", W),
    ("max:domains_covered", {"domains_covered": "10"}, "domains_covered", E),
    ("le:parks_national", {"parks_national": "11"}, "parks_national", W),
    ("le:parks_provincial", {"parks_provincial": "11"}, "parks_provincial", W),
    ("max:dual_industries", {"dual_industries": "23"}, "dual_industries", W),
    ("max:dual_domains", {"dual_domains": "10"}, "dual_domains", E),
    ("le:std_national_led", {"std_national_led": "6"}, "std_national_led", E),
    ("le:std_industry_led", {"std_industry_led": "4"}, "std_industry_led", E),
    ("le:std_international_led", {"std_international_led": "1"}, "std_international_led", E),
    ("le:revenue_2021", {"revenue_3y": "11999.99"}, "revenue_2021", E),
    ("le:revenue_2021:sales_last_year",
     {"revenue_2021": "50000.01", "revenue_3y": "60000", "rnd_ratio_2021": "10"}, "revenue_2021", W),
    ("le:cost_2021", {"cost_2021": "20000.01"}, "cost_2021", E),
    ("range:rnd_ratio_2020", {"rnd_ratio_2020": "100.01"}, "rnd_ratio_2020", E),
    ("range:rnd_ratio_2021", {"rnd_ratio_2021": "101", "rnd_2021": "50500"}, "rnd_ratio_2021", E),
    ("near:rnd_ratio_2021", {"rnd_ratio_2021": "11.01"}, "rnd_ratio_2021", W),
]


def test_every_rule_has_a_violation_case():
    assert {v[0] for v in VIOLATIONS} == EXPECTED_RULE_IDS


@pytest.mark.parametrize(("rule_id", "changes", "field", "severity"), VIOLATIONS, ids=[v[0] for v in VIOLATIONS])
def test_rule_fires(rule_id, changes, field, severity):
    result = check(changes)
    fired = [f for f in result.findings if f.rule == rule_id]
    assert len(fired) == 1, result.findings
    (finding,) = fired
    assert finding.field == field
    assert finding.severity is severity
    assert finding.field in RULES_BY_ID[rule_id].fields
    assert finding in result.for_field(field)
    assert ("「" in finding.message) or ("：分项合计" in finding.message)
    others = [f for f in result.findings if f.rule != rule_id]
    assert others == [], others
    assert result.has_errors is (severity is E)


# boundary values that must pass
BOUNDARIES = [
    {"build_mode": "合作共建", "build_partner": "某某集团"},
    {"iaas_mode": "自建", "iaas_provider": ""},
    {"devices_daily_active_public": "600"},
    {"apps_monthly_active": "90"},
    {"users_paying": "800", "users_industrial": "800"},
    {"users_industrial": "1000"},
    {"developers_active": "500"},
    {"industries_covered": "22", "dual_industries": "22"},
    {"domains_covered": "9", "dual_domains": "9"},
    {"parks_national": "10", "parks_provincial": "10"},
    {"std_national_led": "5", "std_industry_led": "3"},
    {"revenue_2021": "30000", "revenue_3y": "30000", "sales_last_year": "30000", "rnd_ratio_2021": "16.67"},
    {"cost_2021": "20000"},
    {"rnd_ratio_2020": "0", "rnd_ratio_2021": "0", "rnd_2021": "无"},
    {"rnd_ratio_2020": "100"},
    {"rnd_ratio_2021": "11"},  # exactly 1 point away from 10
    {"rnd_ratio_2021": "9"},
    {"sales_last_year": "无", "revenue_2021": "无", "revenue_3y": "无", "rnd_ratio_2021": "50"},  # 0 sales: near skipped
    {"devices_total": "无", "devices_operating": "0", "devices_processing": "0", "devices_mobile": "0",
     "devices_other": "0", "devices_public_cloud": "0", "devices_private_cloud": "0",
     "devices_daily_active_public": "0"},
]


@pytest.mark.parametrize("changes", BOUNDARIES)
def test_rule_passes_at_boundary(changes):
    assert check(changes).findings == []


def _missing_cases():
    for rule in RULES:
        if isinstance(rule, (SumRule, LeRule)) or hasattr(rule, "numerator"):
            for key in rule.fields:
                yield rule.id, key


@pytest.mark.parametrize(("rule_id", "blank_key"), list(_missing_cases()))
def test_rules_skip_when_a_value_is_missing(rule_id, blank_key):
    # break the rule using the violation case, then blank one of its fields: no finding from the rule
    changes = dict(next(v[1] for v in VIOLATIONS if v[0] == rule_id))
    changes[blank_key] = ""
    result = check(changes)
    assert [f for f in result.findings if f.rule == rule_id] == []
    if FIELDS[blank_key].required:
        assert any(f.rule == f"required:{blank_key}" for f in result.findings)


@pytest.mark.parametrize(
    ("changes", "rule_id", "text"),
    [
        ({"apps_partner": "25"}, "sum:apps_source", "工业APP数量：分项合计 85 小于总数 90（自研 + 生态伙伴）"),
        ({"devices_other": "150"}, "sum:devices_parts", "分项合计 1050 大于总数 1000"),
        ({"devices_private_cloud": "300"}, "sum:devices_cloud", "分项合计 900 ≠ 总数 1000"),
        ({"models_total": "99"}, "sum:models_parts", "工业模型数量：分项合计 100 大于总数 99"),
        ({"apps_cloudified": "21"}, "sum:apps_origin", "分项合计 91 ≠ 总数 90"),
        ({"apps_maintenance": "9"}, "sum:apps_kinds", "分项合计 89 ≠ 总数 90"),
    ],
)
def test_sum_messages_show_live_totals(changes, rule_id, text):
    (finding,) = [f for f in check(changes).findings if f.rule == rule_id]
    assert text in finding.message


def test_le_and_near_messages_name_fields_and_values():
    (f,) = check({"devices_daily_active_public": "601"}).findings
    assert f.message == ("「基于公有云的工业设备日运行数量」（601）不能大于「公有云连接设备」（600）"
                         "（申报书未规定此项，系系统校核）")
    (f,) = check({"parks_provincial": "11"}).findings
    assert "「服务园区获评省级示范园区数量」（11）大于「累计服务园区数量」（10）" in f.message
    (f,) = check({"rnd_ratio_2021": "12"}).findings
    assert "「2021年研发投入占主营业务收入比例（%）」为 12.00" in f.message and "10.00" in f.message
    (f,) = check({"build_mode": "合作共建"}).findings
    assert "「合作企业名称」" in f.message and "合作共建" in f.message
    (f,) = check({"industries_covered": "25"}).findings
    assert "「覆盖的行业数量」为 25，超过22" in f.message and f.severity is W
    (f,) = check({"domains_covered": "10"}).findings
    assert "「覆盖的领域数量」不能超过9" in f.message and f.severity is E


def test_sum_statuses_live():
    statuses = {s.rule_id: s for s in sum_statuses(check().values, form=FORM_2022)}
    assert set(statuses) == {r.id for r in RULES if isinstance(r, SumRule)}
    ok = statuses["sum:apps_source"]
    assert (ok.parts_sum, ok.total, ok.ok, ok.text) == (90, 90, True, "分项合计 90 / 总数 90")
    assert ok.total_key == "apps_total"

    bad = {s.rule_id: s for s in sum_statuses(check({"apps_partner": "25"}).values, form=FORM_2022)}["sum:apps_source"]
    assert (bad.ok, bad.text) == (False, "分项合计 85 / 总数 90")

    partial_values = check_application({"apps_self": "60", "apps_partner": ""}, clerk_city_code=CHENGDU, form=FORM_2022).values
    partial = {s.rule_id: s for s in sum_statuses(partial_values, form=FORM_2022)}["sum:apps_source"]
    assert (partial.parts_sum, partial.total, partial.ok, partial.text) == (60, None, None, "分项合计 60 / 总数 —")


def test_required_checks():
    result = check({"platform_name": " ", "devices_total": "", "contact_mobile": ""})
    by_rule = {f.rule: f for f in result.findings}
    assert by_rule["required:platform_name"].message == "「平台名称」为必填项"
    assert by_rule["required:devices_total"].message == "「可连接的工业设备/产品/产线数量」为必填项，如果没有可填“无”"
    assert by_rule["required:contact_mobile"].severity is E
    assert all(f.severity is E for f in by_rule.values())


def test_everything_blank_reports_each_required_field_once():
    result = check_application({}, clerk_city_code=CHENGDU, form=FORM_2022)
    assert sorted(f.rule for f in result.findings) == sorted(f"required:{k}" for k in REQUIRED_KEYS)


def test_parse_errors_are_findings_and_not_also_required():
    result = check({"sales_last_year": "12a", "devices_total": "约100", "contact_mobile": "12345", "contact_email": "x@"})
    assert set(result.parse_errors) == {"sales_last_year", "devices_total", "contact_mobile", "contact_email"}
    assert result.parse_errors["sales_last_year"] == "「上年销售（万元）」不是有效的数字：“12a”"
    rules = {f.rule for f in result.findings}
    assert {"parse:sales_last_year", "parse:devices_total", "parse:contact_mobile", "parse:contact_email"} <= rules
    assert "required:devices_total" not in rules
    assert "sum:devices_parts" not in rules  # skipped: total could not be read
    assert result.values["devices_total"] is None
    assert all(f.severity is E for f in result.findings)


def test_credit_code_findings():
    result = check({"credit_code": make_credit_code("510700", "20541230")})
    (f,) = result.findings
    assert (f.rule, f.severity, f.field) == ("credit_code:other_city", W, "credit_code")
    assert "绵阳市" in f.message

    (f,) = check({"credit_code": "91350100M000100Y43"}).findings
    assert (f.rule, f.severity) == ("credit_code:not_sichuan", E)

    (f,) = check({"credit_code": "91510700205412308A"}).findings
    assert (f.rule, f.severity) == ("credit_code:checksum", E)

    assert check({"credit_code": make_credit_code("510700", "20541230")}, city=None).findings == []
    (old,) = check({"credit_code": "d2143569-x"}).findings  # the 9-character 组织机构代码
    assert (old.rule, old.severity) == ("credit_code:org_code", E)
    assert check({"credit_code": "91510104 2018 9125 " + make_credit_code("510104", "20189125")[-2:].lower()}).findings == []

    (f,) = check({"credit_code": ""}).findings
    assert f.rule == "required:credit_code"


def test_check_values_on_stored_values_gives_same_result():
    typed = check().values
    again = check_values(typed, clerk_city_code=CHENGDU, form=FORM_2022)
    assert again.values == typed and again.findings == []
    broken = dict(typed, apps_partner=25, revenue_2021=Decimal("50000.01"), revenue_3y=Decimal("60000"))
    from_values = check_values(broken, clerk_city_code=CHENGDU, form=FORM_2022)
    raw = good_application() | {"apps_partner": "25", "revenue_2021": "50000.01", "revenue_3y": "60000"}
    from_text = check_application(raw, clerk_city_code=CHENGDU, form=FORM_2022)
    assert from_values.findings == from_text.findings
    assert {f.rule for f in from_values.findings} == {"sum:apps_source", "le:revenue_2021:sales_last_year"}


def test_check_values_rechecks_stored_bad_data():
    values = dict(check().values, contact_mobile="12345", devices_total=-1)
    result = check_values(values, clerk_city_code=CHENGDU, form=FORM_2022)
    assert {"parse:contact_mobile", "parse:devices_total"} <= {f.rule for f in result.findings}


def test_result_helpers():
    result = check({"apps_partner": "35", "parks_national": "11"})
    assert [f.rule for f in result.errors] == ["sum:apps_source"]
    assert [f.rule for f in result.warnings] == ["le:parks_national"]
    assert result.has_errors
    assert [f.rule for f in result.for_field("apps_total")] == ["sum:apps_source"]
    assert result.for_field("enterprise_name") == []
    assert set(result.by_field()) == {"apps_total", "parks_national"}


def _acks(notes: dict[str, str], result) -> dict:
    """Acknowledgements as the application stores them: a note for the message as it read."""
    messages = {f.rule: f.message for f in result.findings}
    return {rule: {"note": note, "message": messages.get(rule, "")} for rule, note in notes.items()}


def test_blocking_findings():
    result = check({"apps_partner": "35", "parks_national": "11", "devices_private_cloud": "300"})
    assert {f.rule for f in Evaluation.of(result, [], {}).blocking} == {
        "sum:apps_source", "le:parks_national", "sum:devices_cloud"}
    acknowledged = _acks({"le:parks_national": "含2019年获评园区，已核实", "sum:devices_cloud": "  ",
                          "sum:apps_source": "已核实"}, result)
    # an error cannot be acknowledged; a blank note does not count
    assert {f.rule for f in Evaluation(result, [], acknowledged).blocking} == {
        "sum:apps_source", "sum:devices_cloud"}
    assert Evaluation(check(), [], {}).blocking == []


def test_an_acknowledgement_lapses_when_the_message_changes():
    result = check({"parks_national": "11"})
    warning = next(f for f in result.warnings if f.rule == "le:parks_national")
    stale = {"le:parks_national": {"note": "已核实", "message": warning.message + "（旧）"}}
    assert warning in Evaluation(result, [], stale).blocking
    assert warning not in Evaluation(result, [], _acks({"le:parks_national": "已核实"}, result)).blocking


def test_rules_know_their_fields():
    assert {r.id for r in rules_for_field("apps_total", form=FORM_2022)} == {
        "sum:apps_source", "sum:apps_origin", "sum:apps_kinds", "le:apps_monthly_active"}
    assert {r.id for r in rules_for_field("sales_last_year", form=FORM_2022)} == {"le:revenue_2021:sales_last_year", "near:rnd_ratio_2021"}
    for rule in RULES:
        assert rule.fields and all(k in FIELDS for k in rule.fields)
        assert rule.description


def test_finding_is_a_value():
    f = Finding("apps_total", E, "x", "sum:apps_source")
    assert f.is_error and not f.is_warning
    assert f == Finding("apps_total", E, "x", "sum:apps_source")


def test_a_rule_that_needs_a_blank_optional_figure_says_it_could_not_check():
    result = check({"sales_last_year": ""})
    unverifiable = {f.rule: f for f in result.findings if f.rule.endswith(":unverifiable")}
    assert set(unverifiable) == {"le:revenue_2021:sales_last_year:unverifiable",
                                 "near:rnd_ratio_2021:unverifiable"}
    for finding in unverifiable.values():
        assert finding.severity is W and finding.message.startswith("未能核对：上年销售未填")
    assert unverifiable["near:rnd_ratio_2021:unverifiable"].field == "rnd_ratio_2021"


def test_nothing_to_check_means_nothing_unverifiable():
    result = check({"sales_last_year": "", "revenue_2021": "", "rnd_ratio_2021": ""})
    assert not any(f.rule.startswith(("le:revenue_2021:sales", "near:rnd_ratio_2021:unv"))
                   and f.rule.endswith(":unverifiable") for f in result.findings)


def test_starred_yes_no_items_are_required():
    result = check({"killer_cross_platform": "", "listed_or_vc": ""})
    required = {f.rule: f for f in result.errors if f.rule.startswith("required:")}
    assert {"required:killer_cross_platform", "required:listed_or_vc"} <= set(required)
    assert "请选择“是”或“否”" in required["required:listed_or_vc"].message
    assert "required:sec_data" not in {f.rule for f in check({"sec_data": ""}).findings}  # 2.2 not starred


# ---- issue 19: the notice decides what blocks ------------------------------------------------


@pytest.mark.parametrize(("changes", "rule_id"), [
    ({"devices_other": "10"}, "sum:devices_parts"),  # 400 + 300 + 200 + 10 = 910 of 1000
    ({"models_algorithm": "0"}, "sum:models_parts"),
    ({"apps_partner": "20"}, "sum:apps_source"),
])
def test_parts_that_add_up_to_less_than_their_whole_are_a_warning(changes, rule_id):
    result = check(changes)
    (finding,) = result.findings
    assert (finding.rule, finding.severity) == (rule_id, W)
    assert "小于总数" in finding.message
    assert not result.has_errors


def test_four_device_categories_of_90_in_a_total_of_100_do_not_block():
    """The issue's own case: a clerk could not report 90 of 100 devices by category."""
    result = check({"devices_total": "100", "devices_operating": "40", "devices_processing": "30",
                    "devices_mobile": "10", "devices_other": "10", "devices_public_cloud": "60",
                    "devices_private_cloud": "40", "devices_daily_active_public": "50"})
    assert not result.has_errors
    assert [(f.rule, f.severity) for f in result.findings] == [("sum:devices_parts", W)]
    assert "分项合计 90 小于总数 100" in result.findings[0].message


@pytest.mark.parametrize(("changes", "rule_id"), [
    ({"devices_other": "101"}, "sum:devices_parts"),
    ({"models_algorithm": "11"}, "sum:models_parts"),
    ({"apps_partner": "31"}, "sum:apps_source"),
])
def test_a_part_larger_than_its_whole_stays_an_error(changes, rule_id):
    (finding,) = check(changes).findings
    assert (finding.rule, finding.severity) == (rule_id, E)
    assert "大于总数" in finding.message and "不能大于总数" in finding.message


def test_23_industries_is_a_warning_and_10_domains_an_error():
    result = check({"industries_covered": "23", "dual_industries": "24"})
    assert not result.has_errors
    assert {(f.rule, f.severity) for f in result.findings} == {
        ("max:industries_covered", W), ("max:dual_industries", W)}
    assert check({"domains_covered": "10"}).has_errors


def test_every_rule_of_the_systems_own_reading_says_so():
    """The notice states no arithmetic rule: a clerk must be able to tell the enterprise that a
    message is the system's reading, not the notice's."""
    for _rule, changes, _field, _severity in VIOLATIONS:
        for finding in check(changes).findings:
            rule = RULES_BY_ID[finding.rule]
            assert ("申报书未规定此项，系系统校核" in finding.message) is (rule.source is Source.SYSTEM), finding
    # the form's own 「请注明合作企业名称」 is the notice's
    assert RULES_BY_ID["required_if:build_partner"].source is Source.NOTICE
    assert {r.id for r in RULES if r.source is Source.NOTICE} == {
        "required_if:build_partner", "required_if:iaas_provider"}
    # a starred field left blank is the form's own requirement
    (blank,) = [f for f in check({"devices_total": ""}).findings if f.rule == "required:devices_total"]
    assert "系统校核" not in blank.message
    # a check that could not run says whose rule it was
    unverifiable = check({"sales_last_year": ""}).findings
    assert {f.rule for f in unverifiable} == {"le:revenue_2021:sales_last_year:unverifiable",
                                              "near:rnd_ratio_2021:unverifiable"}
    assert all("申报书未规定此项，系系统校核" in f.message for f in unverifiable)


@pytest.mark.parametrize("key", ["contact_fax", "contact_phone", "contact_email"])
@pytest.mark.parametrize("typed", ["无", " 无 ", "暂无", "／", "—"])
def test_none_in_an_optional_contact_field_reads_as_none(key, typed):
    result = check({key: typed})
    assert result.findings == []
    assert result.values[key] is None


def test_none_in_a_required_contact_field_is_still_refused():
    result = check({"contact_mobile": "无"})
    assert [f.rule for f in result.errors] == ["parse:contact_mobile"]


def test_live_sum_status_is_an_error_only_above_the_whole():
    below = {s.rule_id: s for s in sum_statuses(check({"apps_partner": "20"}).values, form=FORM_2022)}["sum:apps_source"]
    assert (below.ok, below.severity) == (False, W)
    above = {s.rule_id: s for s in sum_statuses(check({"apps_partner": "31"}).values, form=FORM_2022)}["sum:apps_source"]
    assert (above.ok, above.severity) == (False, E)
    # already above the whole while a part is still blank
    partial = {s.rule_id: s for s in sum_statuses(check({"apps_total": "50", "apps_partner": ""}).values, form=FORM_2022)}
    assert (partial["sum:apps_source"].ok, partial["sum:apps_source"].severity) == (False, E)


def test_an_acknowledgement_given_before_the_source_note_still_holds():
    """Saying whose rule it is changes no figure: a note given for the message as it read before
    the note was added still acknowledges it; changed figures still lapse it."""
    result = check({"parks_national": "11"})
    (warning,) = result.warnings
    before = warning.message.removesuffix("（申报书未规定此项，系系统校核）")
    assert before != warning.message
    assert warning not in Evaluation(result, [], {"le:parks_national": {"note": "已核实", "message": before}}).blocking
    other = before.replace("（11）", "（12）")
    assert warning in Evaluation(result, [], {"le:parks_national": {"note": "已核实", "message": other}}).blocking
