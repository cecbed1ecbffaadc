"""The 申报书模板's own output read back exactly as an upload is read: the .docx the clerk
downloads filled with the application's values, and the same file exported to PDF by LibreOffice
(as an enterprise with WPS or LibreOffice would hand it back), say what was entered, for every
declared field, for applications filled in differently (the choices other way round, names long
enough to wrap in their cells, optional fields left empty). A value changed in the document is
still the difference found, naming its field."""
from __future__ import annotations

import io

from xkxl_intranet.applications.document import blocks_for, document_panel
from xkxl_intranet.applications.evaluation import evaluate
from xkxl_intranet.applications.models import Application
from xkxl_intranet.domain.form_compare import RULE_PREFIX, UNREAD_RULE, Match
from xkxl_intranet.extensions import db
from xkxl_intranet.files.form_template import form_docx

from helpers import create_application, logged_in_client, needs_office, office_pdfs, user_by_name

LONG = {
    "enterprise_name": "四川省某某工业互联网科技集团股份有限公司成都高新技术产业开发区分公司",
    "address": "四川省成都市高新区天府大道北段1700号环球中心E1区12楼1205室（邮编610041）",
    "contact_title": "数字化转型事业部副总经理兼首席信息官",
    "contact_phone": "0816-2345678",
    "contact_fax": "028-85123456",
    "contact_email": "digital.transformation.office@sichuan-industrial-internet.com.cn",
    "credit_rating": "AA+",
    "platform_name": "某某跨行业跨领域工业互联网平台（制造业数字化转型公共服务平台）",
    "builder": "Chengdu Smart Manufacturing Cloud Technology Co., Ltd. and its Partners",
    "build_mode": "合作共建",
    "build_partner": "中国电子信息产业集团有限公司第三十研究所与成都某某软件股份有限公司联合体",
    "iaas_mode": "自建", "iaas_provider": "",
    "technologies": ["5G", "大数据", "人工智能", "数字孪生", "区块链", "工业AR/VR"],
    "sec_data": "否", "sec_access": "否", "killer_cross_platform": "否", "listed_or_vc": "是",
}
EMPTY_OPTIONAL = {key: "" for key in (
    "founded_on", "address", "contact_title", "contact_phone", "contact_fax", "contact_email", "total_assets",
    "debt_ratio", "credit_rating", "sales_last_year", "tax_last_year", "profit_last_year", "builder",
    "built_on", "investment", "build_mode", "build_partner", "iaas_mode", "iaas_provider", "sec_device_access",
    "sec_data", "sec_code", "sec_application", "sec_access", "industries_covered", "domains_covered",
    "solutions", "dual_solutions", "dual_industries", "dual_domains")} | {"technologies": []}
VARIANTS = {
    "as the helpers fill it": {},
    "long names, other choices, large figures": LONG | {"scale": 250},
    "optional fields empty": EMPTY_OPTIONAL,
    "other spellings": {"iaas_provider": "阿里云计算有限公司（Alibaba Cloud）", "technologies": ["区块链", "工业AR/VR"],
                        "contact_title": "总经理", "build_mode": "自建", "scale": 1},
}


def _download(client, application_id: int) -> bytes:
    response = client.get(f"/applications/{application_id}/form.docx")
    assert response.status_code == 200
    return response.data


def _upload(client, application_id: int, name: str, data: bytes) -> None:
    response = client.post(f"/files/applications/{application_id}/form/upload",
                           data={"file": [(io.BytesIO(data), name)]}, content_type="multipart/form-data")
    assert response.status_code in (200, 303), response.status_code


def _differences(app, application_id: int) -> tuple[str, dict, list[str]]:
    """The reading's status, every field the panel does not show as 一致 or 均未填, and the
    application's warnings about its 申报书."""
    with app.app_context():
        application = db.session.get(Application, application_id)
        panel = document_panel(user_by_name(app, "chengdu"), application)
        shown = {c.field.key: (c.match.value, c.document_text, c.saved_text) for c in panel.comparisons
                 if c.match not in (Match.SAME, Match.BOTH_BLANK)}
        rules = [f.rule for f in evaluate(application).findings if f.rule.startswith(RULE_PREFIX)]
        return panel.state.status, shown, rules


def _applications(app) -> dict[str, int]:
    return {name: create_application(app, with_form=False, **overrides) for name, overrides in VARIANTS.items()}


def test_the_prefilled_docx_uploaded_as_it_is_reads_back_with_no_difference(app):
    client = logged_in_client(app, "chengdu")
    for name, application_id in _applications(app).items():
        _upload(client, application_id, "申报书.docx", _download(client, application_id))
        assert _differences(app, application_id) == ("read", {}, []), name


@needs_office
def test_the_prefilled_docx_exported_to_pdf_by_libreoffice_reads_back_with_no_difference(app, tmp_path):
    client = logged_in_client(app, "chengdu")
    applications = _applications(app)
    sources = []
    for index, application_id in enumerate(applications.values()):
        sources.append(tmp_path / f"申报书{index}.docx")
        sources[-1].write_bytes(_download(client, application_id))
    for (name, application_id), pdf in zip(applications.items(), office_pdfs(tmp_path, *sources), strict=True):
        _upload(client, application_id, "申报书.pdf", pdf.read_bytes())
        assert _differences(app, application_id) == ("read", {}, []), name


def _changed(app, application_id: int, **changes) -> bytes:
    """The application's 申报书 as an enterprise returned it with ``changes`` written instead."""
    with app.app_context():
        application = db.session.get(Application, application_id)
        return form_docx(blocks_for(application.round, application, changes))


CHANGES = {"contact_title": "办公室主任", "technologies": ("5G", "工业AR/VR"), "devices_total": "9,999",
           "listed_or_vc": "是", "iaas_mode": "自建"}


@needs_office
def test_values_changed_in_the_document_are_still_the_differences_found(app, tmp_path):
    """The document says 自建 (so its 服务商 blank is empty), another title, other technologies,
    another figure, 是 for 否: each is found and named, in the .docx and in its PDF; the 服务商 the
    application holds and the document leaves blank is the one warning for fields left unread."""
    client = logged_in_client(app, "chengdu")
    application_id = create_application(app, with_form=False, **LONG | {"iaas_mode": "租用",
                                                                        "iaas_provider": "中国电信天翼云",
                                                                        "listed_or_vc": "否"})
    source = tmp_path / "改过的申报书.docx"
    source.write_bytes(_changed(app, application_id, **CHANGES, iaas_provider=""))
    expected = {key: "different" for key in CHANGES} | {"iaas_provider": "not_in_document"}
    for name, data in (("申报书.docx", source.read_bytes()),
                       ("申报书.pdf", office_pdfs(tmp_path, source)[0].read_bytes())):
        _upload(client, application_id, name, data)
        status, shown, rules = _differences(app, application_id)
        assert status == "read"
        assert {key: match for key, (match, _, _) in shown.items()} == expected, name
        assert shown["contact_title"][1:] == ("办公室主任", LONG["contact_title"])
        assert shown["technologies"][1:] == ("5G、工业AR/VR", "、".join(LONG["technologies"]))
        assert shown["devices_total"][1] == "9,999 台/套"
        assert sorted(rules) == sorted([RULE_PREFIX + key for key in CHANGES] + [UNREAD_RULE]), name
