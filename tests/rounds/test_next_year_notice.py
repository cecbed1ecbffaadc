"""tests/notices/2023.toml, the "next year" notice (issue 21): it differs from notices/2022.toml in
every way a new notice may, and these tests hold each difference in place, so that the file cannot
silently lose one and the tests that open a round from it go on testing what they mean to."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

from xkxl_intranet.domain.deadlines import SHANGHAI
from xkxl_intranet.domain.findings import Severity
from xkxl_intranet.domain.indicators import Kind
from xkxl_intranet.notice.loader import load_notice
from xkxl_intranet.notice.shipped import FIRST_NOTICE

NEXT_YEAR_FILE = Path(__file__).resolve().parent.parent / "notices" / "2023.toml"
OLD = load_notice(FIRST_NOTICE)
NEW = load_notice(NEXT_YEAR_FILE)
IDENTITY = ("enterprise_name", "platform_name", "credit_code", "contact_name", "contact_mobile")


def test_the_notice_itself():
    assert NEW.year == 2023
    assert NEW.title == "2023年跨行业跨领域工业互联网平台"
    assert NEW.deadline == datetime(2023, 6, 30, 17, 0, tzinfo=SHANGHAI)
    assert NEW.deadline.utcoffset() == OLD.deadline.utcoffset()  # +08:00, written with its time of day
    assert (OLD.paper.form_copies, NEW.paper.form_copies) == (3, 2)
    assert NEW.paper.forms_label == "申报书纸质版（一式两份）"
    assert NEW.quota.limit == 2
    assert NEW.digest != OLD.digest


def test_fields_renamed_dropped_and_added():
    assert all(key in NEW.fields for key in IDENTITY)
    renamed = {key: (OLD.fields[key].label, NEW.fields[key].label) for key in OLD.fields.keys() & NEW.fields.keys()
               if OLD.fields[key].label != NEW.fields[key].label}
    assert renamed == {"builder": ("建设主体", "建设运营主体"),
                       "developers_registered": ("第三方开发者注册总数", "第三方开发者注册数量")}
    assert OLD.fields.keys() - NEW.fields.keys() == {"region_honors", "dual_domains"}
    added = NEW.fields.keys() - OLD.fields.keys()
    assert added == {"served_industry", "developers_certified"}
    assert (NEW.fields["served_industry"].kind, NEW.fields["served_industry"].section) == (Kind.TEXT, "二(1)")
    certified = NEW.fields["developers_certified"]
    assert (certified.kind, certified.section, certified.required) == (Kind.INT, "1.5", True)
    # no section lost or gained: the new fields went into existing ones
    assert [s.code for s in NEW.sections] == [s.code for s in OLD.sections]
    # the printed 4.2 lost the dropped field's line, 1.5 gained the new one's
    assert "{dual_domains}" not in "".join(NEW.sections_by_code["4.2"].form_lines)
    assert "{developers_certified}" in "".join(NEW.sections_by_code["1.5"].form_lines)


def test_rules_changed_and_added_and_none_names_a_dropped_field():
    assert OLD.rules_by_id.keys() - NEW.rules_by_id.keys() == {"max:dual_domains"}
    assert NEW.rules_by_id.keys() - OLD.rules_by_id.keys() == {"le:developers_certified"}
    added = NEW.rules_by_id["le:developers_certified"]
    assert (added.small, added.big, added.severity) == ("developers_certified", "developers_registered",
                                                        Severity.ERROR)
    changed = {rule_id for rule_id in OLD.rules_by_id.keys() & NEW.rules_by_id.keys()
               if OLD.rules_by_id[rule_id] != NEW.rules_by_id[rule_id]}
    assert changed == {"near:rnd_ratio_2021"}
    assert (OLD.rules_by_id["near:rnd_ratio_2021"].tolerance,
            NEW.rules_by_id["near:rnd_ratio_2021"].tolerance) == (Decimal(1), Decimal(2))
    assert all(key in NEW.fields for rule in NEW.rules for key in rule.fields)


def test_criteria_title_wording_and_weights():
    assert NEW.criteria.title == "申报能力要求"
    assert NEW.criteria.indicators["profitability"].label == "平台盈利和融资能力"
    relabelled = {key for key, indicator in NEW.criteria.indicators.items()
                  if OLD.criteria.indicators[key].label != indicator.label}
    assert relabelled == {"profitability"}
    assert OLD.criteria.default_weights == {"resources": 25, "technology": 20, "empowerment": 25,
                                            "contribution": 15, "sustainability": 15}
    assert NEW.criteria.default_weights == {**OLD.criteria.default_weights, "resources": 20, "technology": 25}
    assert sum(NEW.criteria.default_weights.values()) == 100


def test_summary_columns():
    old = [(c.heading, c.value) for c in OLD.summary.columns]
    new = [(c.heading, c.value) for c in NEW.summary.columns]
    assert ("依托企业", "enterprise_name") in old and ("申报企业", "enterprise_name") in new
    assert ("主要服务行业", "served_industry") in new
    assert [c for c in new if c not in old] == [("申报企业", "enterprise_name"), ("主要服务行业", "served_industry")]
    assert all(c.value == "number" or c.value in NEW.fields for c in NEW.summary.columns)


def test_the_file_says_what_differs_and_why_it_exists():
    head = NEXT_YEAR_FILE.read_text(encoding="utf-8").split("format = 1")[0]
    for said in ("测试用", "region_honors", "dual_domains", "served_industry", "developers_certified",
                 "一式两份", "near:rnd_ratio_2021", "le:developers_certified", "申报能力要求", "依托企业"):
        assert said in head, said
