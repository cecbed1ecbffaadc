"""The 申报书 against the saved application (domain/form_compare.py): differences are warnings,
empty fields can be filled, the document's own rules are warnings too."""
import datetime as dt
import math
from decimal import Decimal

from xkxl_intranet.domain.checks import FORM_2022, CheckResult
from xkxl_intranet.domain.credit_code import org_code_check_char
from xkxl_intranet.domain.evaluation import Evaluation
from xkxl_intranet.domain.findings import Severity
from xkxl_intranet.domain.form_compare import (
    BLANK_DOCUMENT_SHARE,
    DOCUMENT_FIELD,
    UNREAD_RULE,
    Match,
    compare,
    document_findings,
    fill_values,
    same_value,
    unread,
)
from xkxl_intranet.domain.form_layout import texts_for
from xkxl_intranet.domain.form_reader import DocumentText, read_form
from xkxl_intranet.domain.indicators import FIELDS

from helpers import form_lines, typed_values


def _reading(texts, **layout):
    return read_form(DocumentText(form_lines(texts, **layout)), form=FORM_2022)


def test_equal_as_the_form_means_it():
    assert same_value(FIELDS["devices_total"], 12345, 12345)
    assert same_value(FIELDS["revenue_2021"], Decimal("1.5"), Decimal("1.50"))
    assert same_value(FIELDS["enterprise_name"], "四川某某（成都）有限公司", "四川某某(成都) 有限公司")
    assert same_value(FIELDS["contact_phone"], "028-8626 4036", "02886264036")
    assert same_value(FIELDS["technologies"], ("5G", "大数据"), ["大数据", "5G"])
    assert same_value(FIELDS["credit_code"], "91510100 ma61q2x7xa", "91510100MA61Q2X7XA")
    assert not same_value(FIELDS["founded_on"], dt.date(2015, 3, 1), dt.date(2015, 3, 15))
    assert not same_value(FIELDS["devices_total"], 12345, 12354)


def test_a_figure_that_differs_is_a_warning_naming_both_values():
    values = typed_values()
    texts = texts_for(values, form=FORM_2022) | {"models_total": "468", "sales_last_year": "99,000.00"}
    findings = document_findings(_reading(texts), values, form=FORM_2022)
    by_rule = {f.rule: f for f in findings}
    assert set(by_rule) == {"document:models_total", "document:sales_last_year"}
    warning = by_rule["document:models_total"]
    assert warning.severity is Severity.WARNING and warning.field == "models_total"
    assert "工业模型数量" in warning.message and "468 个" in warning.message
    assert f"{values['models_total']:,} 个" in warning.message


def test_empty_fields_the_document_has_can_be_filled_and_nothing_else():
    values = typed_values()
    saved = dict(values, models_total=None, contact_fax=None, technologies=None)
    texts = texts_for(values, form=FORM_2022) | {"contact_fax": "028-61234567", "devices_total": "1"}
    reading = _reading(texts)
    assert fill_values(reading, saved, form=FORM_2022) == {"models_total": values["models_total"], "contact_fax": "028-61234567",
                                           "technologies": values["technologies"]}
    matches = {c.field.key: c.match for c in compare(reading, saved, form=FORM_2022)}
    assert matches["devices_total"] is Match.DIFFERENT  # filled already: never overwritten
    assert matches["enterprise_name"] is Match.SAME


def test_the_nine_character_organisation_code_the_form_asks_for_agrees_with_the_credit_code():
    """附件2's label is 组织机构代码: a document printing the 9 characters that are the saved credit
    code's characters 9-17 agrees; other 9 characters still differ, with their own checksum."""
    values = typed_values()
    code = values["credit_code"]
    for printed in (code[8:17], code[8:17].lower(), f"{code[8:16]}-{code[16]}", f" {code[8:12]} {code[12:17]} "):
        reading = _reading(texts_for(values, form=FORM_2022) | {"credit_code": printed})
        [comparison] = [c for c in compare(reading, values, form=FORM_2022) if c.field.key == "credit_code"]
        assert comparison.match is Match.SAME, printed
        assert document_findings(reading, values, form=FORM_2022) == [], printed
    assert same_value(FIELDS["credit_code"], code[8:17], code) and same_value(FIELDS["credit_code"], code, code[8:17])
    assert not same_value(FIELDS["credit_code"], code[:9], code)
    check = org_code_check_char("MA6CQ1X2")
    other = "MA6CQ1X2" + ("0" if check != "0" else "1")  # another enterprise's code, mistyped
    assert other[:8] != code[8:16]
    [warning] = document_findings(_reading(texts_for(values, form=FORM_2022) | {"credit_code": other}), values,
                                  form=FORM_2022)
    assert warning.rule == "document:credit_code"
    assert f"申报书中为 {other}（9位组织机构代码，应与统一社会信用代码第9-17位“{code[8:17]}”相同" in warning.message
    assert f"其校验位应为“{check}”，当前为“{other[8]}”" in warning.message


def test_fields_the_document_leaves_unread_are_one_warning_acknowledged_once():
    """Blank in the document, unreadable there, or not found, while the application holds a value:
    one warning naming each, with one rule id, so one note acknowledges it."""
    values = typed_values()
    texts = texts_for(values, form=FORM_2022) | {"models_total": "约500", "address": ""}
    del texts["patents"]
    lines = [line for line in form_lines(texts) if "私有云连接设备" not in line]  # public and private cloud
    reading = read_form(DocumentText(lines), form=FORM_2022)
    findings = document_findings(reading, values, form=FORM_2022)
    [warning] = [f for f in findings if f.rule == UNREAD_RULE]
    assert [f.rule for f in findings] == [UNREAD_RULE]
    labels = [FIELDS[key].label for key in ("address", "devices_public_cloud", "devices_private_cloud",
                                            "models_total", "patents")]
    assert warning.message == (f"申报书中 5 项未能读取，请人工核对：{'、'.join(labels)}"
                               "（申报书中未填、无法识别或未找到，申报表中已填写）")
    assert warning.severity is Severity.WARNING and warning.field == DOCUMENT_FIELD
    assert [c.field.key for c in unread(compare(reading, values, form=FORM_2022))] == [
        "address", "devices_public_cloud", "devices_private_cloud", "models_total", "patents"]
    evaluation = Evaluation.of(CheckResult(values=values, form=FORM_2022), [], {UNREAD_RULE: {"note": "已电话核实", "message":
                                                                          warning.message}}, findings)
    assert evaluation.open_warnings == []
    # what the application leaves empty too is nothing to check
    assert document_findings(reading, dict(values, address=None, patents=None, models_total=None,
                                           devices_public_cloud=None, devices_private_cloud=None), form=FORM_2022) == []


def test_the_blank_template_is_one_warning_not_two():
    values = typed_values()
    rules = [f.rule for f in document_findings(_reading({}), values, form=FORM_2022)]
    assert rules == ["document:blank"]


def test_the_documents_own_rules():
    values = typed_values()
    lines = [line for line in form_lines(texts_for(values, form=FORM_2022), contents=False)
             if "真实性承诺" not in line and "同意推荐" not in line]
    findings = document_findings(read_form(DocumentText(tuple(lines)), form=FORM_2022), values, form=FORM_2022)
    assert [f.rule for f in findings] == ["document:toc", "document:pledge", "document:recommender"]
    assert "目录" in findings[0].message and "三级" in findings[0].message
    assert all(f.severity is Severity.WARNING and f.field == "document" for f in findings)
    assert document_findings(None, values, form=FORM_2022) == []


def _blank_rule(texts, values):
    return [f for f in document_findings(_reading(texts), values, form=FORM_2022) if f.rule == "document:blank"]


def test_a_document_with_almost_none_of_the_applications_fields_is_taken_for_the_blank_template():
    values = typed_values()
    filled = [k for k, v in values.items() if v not in (None, "", [], ())]
    # The blank template: every place found, none filled in.
    [warning] = _blank_rule({}, values)
    assert warning.severity is Severity.WARNING and warning.field == DOCUMENT_FIELD
    assert warning.message.startswith("申报书中未填写申报数据（读取 0 项；")
    assert f"申报表已填写的 {len(filled)} 项中，申报书填写了 0 项" in warning.message
    # Just under the threshold of the fields the application has: still blank.
    all_texts = texts_for(values, form=FORM_2022)
    under = math.ceil(BLANK_DOCUMENT_SHARE * len(filled)) - 1
    assert _blank_rule({k: all_texts[k] for k in filled[:under]}, values)
    # At the threshold: a partly filled document, whose differences speak for themselves.
    at = math.ceil(BLANK_DOCUMENT_SHARE * len(filled))
    assert _blank_rule({k: all_texts[k] for k in filled[:at]}, values) == []
    # An application with only its name, a document without it: blank too.
    assert _blank_rule({}, {"enterprise_name": "四川某某科技有限公司"})
    # Nothing filled in the application: nothing to say the document lacks.
    assert _blank_rule({}, {}) == []
