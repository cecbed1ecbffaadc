"""The uploaded 申报书 next to the application: read on upload (once), its differences a warning
acknowledged like any other and seen by the province, empty fields filled for the clerk to save,
unreadable formats explained, the 申报书模板 offered."""
from __future__ import annotations

import io
import re

import docx
import pytest

from xkxl_intranet.applications.document import document_changed, reread_form, template_docx, template_pdf
from xkxl_intranet.applications.evaluation import evaluate
from xkxl_intranet.applications.models import Application
from xkxl_intranet.applications.operations import acknowledge_warning, set_review
from xkxl_intranet.batches.reporting import readiness
from xkxl_intranet.domain.checks import FORM_2022
from xkxl_intranet.domain.errors import NotFound, Refused
from xkxl_intranet.domain.form_layout import form_blocks, texts_for
from xkxl_intranet.domain.form_marks import option_words
from xkxl_intranet.domain.form_reader import ReadStatus, read_form
from xkxl_intranet.extensions import db
from xkxl_intranet.files import form_reading
from xkxl_intranet.files.form_template import form_docx
from xkxl_intranet.files.form_text import extract_text
from xkxl_intranet.files.models import StoredFile
from xkxl_intranet.rounds.state import current_round

from helpers import audit_events, create_application, store_form, user_by_name, word97_bytes


def _document(app, application_id: int, **changes) -> bytes:
    """The application's 申报书 as the enterprise filled it (``changes``: texts that differ)."""
    with app.app_context():
        application = db.session.get(Application, application_id)
        texts = texts_for(application.values(), form=FORM_2022) | changes
        return form_docx(form_blocks(texts, form=FORM_2022))


def _upload(app, application_id: int, data: bytes, name: str = "申报书.docx") -> StoredFile:
    file_id = store_form(app, application_id, data, name)
    with app.app_context():
        stored = db.session.get(StoredFile, file_id)
        db.session.expunge(stored)
        return stored


def _application(app, application_id: int) -> Application:
    with app.app_context():
        application = db.session.get(Application, application_id)
        db.session.expunge(application)
        return application


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_upload_reads_the_document_once_and_keeps_what_it_says(app):
    application_id = create_application(app, with_form=False)
    stored = _upload(app, application_id, _document(app, application_id, models_total="468"))
    assert stored.reading["status"] == "read" and stored.reading["version"] == form_reading.READER_VERSION
    assert stored.reading["fields"]["models_total"][:3] == ["value", "468", "468"]
    application = _application(app, application_id)
    assert application.open_warning_count == 1
    upload = audit_events(app, "file.uploaded")[-1]
    assert upload.after["category"] == "form"


def test_a_difference_is_a_warning_to_acknowledge_and_it_blocks_until_then(app):
    application_id = create_application(app, with_form=False)
    _upload(app, application_id, _document(app, application_id, devices_total="9,999"))
    with app.app_context():
        application = db.session.get(Application, application_id)
        clerk = db.session.merge(user_by_name(app, "chengdu"))
        [warning] = evaluate(application).open_warnings
        assert warning.rule == "document:devices_total" and "9,999 台/套" in warning.message
        with pytest.raises(Refused, match="9,999"):
            set_review(clerk, application, "passed", "")
        acknowledge_warning(clerk, application, warning.rule, "企业申报书为旧版本，以申报表为准")
        set_review(clerk, application, "passed", "")
        db.session.commit()
        assert application.open_warning_count == 0
        assert not [b for b in readiness(application.round, application.city).blockers if application.title in b.text]


def test_a_passed_application_goes_back_to_draft_when_a_differing_document_arrives(app):
    application_id = create_application(app, with_form=False)
    _upload(app, application_id, _document(app, application_id))
    with app.app_context():
        application = db.session.get(Application, application_id)
        set_review(db.session.merge(user_by_name(app, "chengdu")), application, "passed", "材料齐全，同意推荐")
        db.session.commit()
    _upload(app, application_id, _document(app, application_id, employees="1"))
    reverted = _application(app, application_id)
    # the one rule of an edit (reverting.py): a draft keeps no 初审意见 or date of a review it no longer has
    assert (reverted.review_state, reverted.review_comment, reverted.reviewed_at, reverted.reviewed_by_id) \
        == ("draft", "", None, None)
    event = audit_events(app, "application.review_reverted")[-1]
    assert event.summary.startswith("申报书更换后")
    assert event.before == {"review_state": "市州初审通过", "review_comment": "材料齐全，同意推荐"}


def test_the_panel_shows_both_values_side_by_side_for_the_clerk_and_the_province(app, city_client,
                                                                                  province_client,
                                                                                  other_city_client):
    application_id = create_application(app, with_form=False)
    _upload(app, application_id, _document(app, application_id, models_total="468", patents=""))
    for client in (city_client, province_client):
        html = client.get(f"/applications/{application_id}").get_data(as_text=True)
        text = _text(html)
        assert "申报书中读取的数据" in text
        table = _text(html[html.index('id="document-differences"'):html.index("</table>",
                                                                               html.index('id="document-differences"'))])
        assert "工业模型数量" in table and "468 个" in table
        saved = _application(app, application_id).values()["models_total"]
        assert f"{saved:,} 个" in table
        assert "「工业模型数量」申报书中为 468 个" in text  # the warning, in 检查结果
        assert "申报书中未填" in text  # patents: blank in the document, in the one warning for such fields
    assert other_city_client.get(f"/applications/{application_id}").status_code == 404


def test_the_page_never_reads_the_document_again(app, city_client, monkeypatch):
    application_id = create_application(app, with_form=False)
    _upload(app, application_id, _document(app, application_id))

    def no_reading(*args, **kwargs):
        raise AssertionError("a page read the document")

    monkeypatch.setattr(form_reading, "extract_text", no_reading)
    response = city_client.get(f"/applications/{application_id}")
    assert response.status_code == 200 and "与申报表不一致 0" in _text(response.get_data(as_text=True))


def test_fill_empty_fields_puts_the_documents_values_in_the_form_and_saves_nothing(app, city_client):
    application_id = create_application(app, with_form=False, models_total="", patents="", technologies=[])
    document = _document(app, application_id, models_total="468", patents="43", technologies=("5G", "大数据"),
                         devices_total="1")
    _upload(app, application_id, document)
    before = _application(app, application_id)
    html = city_client.get(f"/applications/{application_id}").get_data(as_text=True)
    assert "用申报书填写空白项（3 项）" in html
    response = city_client.get(f"/applications/{application_id}/edit?fill=document")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="filled-note"' in html
    assert re.search(r'name="models_total"[^>]*value="468"', html)
    assert re.search(r'name="patents"[^>]*value="43"', html)
    assert re.search(r'value="5G" checked|checked[^>]*value="5G"', html)
    devices_total = before.values()["devices_total"]
    assert re.search(rf'name="devices_total"[^>]*value="{devices_total}"', html)  # filled: unchanged
    after = _application(app, application_id)
    assert (after.values()["models_total"], after.values()["patents"], after.version) == (None, None, before.version)
    # the clerk saves as usual: the audit trail has the filled fields
    form = {k: (v if isinstance(v, list) else str(v)) for k, v in texts_for(after.values(), form=FORM_2022).items()}
    form = {k: v.replace(",", "") if isinstance(v, str) else list(v) for k, v in form.items()}
    form.update(models_total="468", patents="43", technologies=["5G", "大数据"], version=str(after.version))
    assert city_client.post(f"/applications/{application_id}/edit", data=form).status_code == 303
    updated = audit_events(app, "application.updated")[-1]
    assert {"models_total", "patents", "technologies"} <= set(updated.after)


def test_fill_is_for_the_applications_own_clerk(app, province_client):
    application_id = create_application(app, with_form=False, models_total="")
    _upload(app, application_id, _document(app, application_id, models_total="468"))
    assert province_client.get(f"/applications/{application_id}/edit?fill=document").status_code == 404


def test_a_word_97_file_is_kept_and_the_panel_says_it_cannot_be_read(app, city_client):
    application_id = create_application(app, with_form=False)
    response = city_client.post(f"/files/applications/{application_id}/form/upload",
                                data={"file": (io.BytesIO(word97_bytes()), "申报书.doc")},
                                content_type="multipart/form-data")
    assert response.status_code == 303
    html = _text(city_client.get(f"/applications/{application_id}").get_data(as_text=True))
    assert "该格式无法自动读取，请上传 .docx 或 PDF 版本以便核对" in html
    assert "格式无法读取" in html


def test_reading_again_is_the_clerks_and_is_audited(app, city_client, province_client):
    application_id = create_application(app, with_form=False)
    stored = _upload(app, application_id, _document(app, application_id))
    with app.app_context():
        row = db.session.get(StoredFile, stored.id)
        row.reading = None  # uploaded before reading existed
        db.session.commit()
    html = _text(city_client.get(f"/applications/{application_id}").get_data(as_text=True))
    assert "尚未读取" in html and "重新读取申报书" in html
    assert province_client.post(f"/applications/{application_id}/document/read").status_code == 404
    response = city_client.post(f"/applications/{application_id}/document/read")
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(StoredFile, stored.id).reading["status"] == "read"
        application = db.session.get(Application, application_id)
        with pytest.raises(NotFound):
            reread_form(db.session.merge(user_by_name(app, "mianyang")), application)
    # The event records the request; a worker (here: inline, after the commit) did the reading.
    assert audit_events(app, "file.read")[-1].after == {"state": "pending"}


def test_the_documents_own_rules_are_warnings(app):
    application_id = create_application(app, with_form=False)
    with app.app_context():
        application = db.session.get(Application, application_id)
        blocks = [b for b in form_blocks(texts_for(application.values(), form=FORM_2022), contents=False, form=FORM_2022)
                  if not (b.kind == "table" and "真实性承诺" in b.rows[0][0].text)]
    _upload(app, application_id, form_docx(blocks))
    with app.app_context():
        rules = [w.rule for w in evaluate(db.session.get(Application, application_id)).open_warnings]
    assert rules == ["document:toc", "document:pledge", "document:recommender"]


def test_an_unreadable_value_names_its_field_and_quotes_it_once(app, city_client):
    application_id = create_application(app, with_form=False)
    _upload(app, application_id, _document(app, application_id, roi="约百分之十四",
                                           contact_title="职" * 60))
    html = city_client.get(f"/applications/{application_id}").get_data(as_text=True)
    start = html.index('id="document-unreadable"')
    items = [_text(li).strip() for li in re.findall(r"<li>(.*?)</li>", html[start:html.index("</ul>", start)])]
    [roi] = [item for item in items if "投资回报率" in item]
    assert roi.startswith("「投资回报率（%）」") and roi.endswith("：“约百分之十四”")
    assert roi.count("投资回报率") == 1 and roi.count("约百分之十四") == 1
    [title] = [item for item in items if "职务" in item]  # the message counts; the value is quoted after
    assert title.count("「职务」") == 1 and title.count("职" * 20) == 1
    assert title.endswith("…（共60个字）”")


BLANK = "申报书中未填写申报数据（读取 0 项"


@pytest.mark.parametrize("name", ["申报书模板.docx", "申报书模板.pdf"])
def test_the_blank_template_uploaded_as_it_is_is_a_warning_the_province_sees(
        app, city_client, province_client, name):
    application_id = create_application(app, with_form=False)
    with app.app_context():
        round_ = current_round()
        data = template_docx(round_) if name.endswith(".docx") else template_pdf(round_)
    response = city_client.post(f"/files/applications/{application_id}/form/upload",
                                data={"file": [(io.BytesIO(data), name)]},
                                content_type="multipart/form-data")
    assert response.status_code == 303
    with app.app_context():
        application = db.session.get(Application, application_id)
        [warning] = evaluate(application).open_warnings
        assert warning.rule == "document:blank"
        assert warning.message.startswith(BLANK) and "可能上传了空白模板；请上传填写完整的申报书" in warning.message
    assert _application(app, application_id).open_warning_count == 1
    for client in (city_client, province_client):
        html = client.get(f"/applications/{application_id}").get_data(as_text=True)
        panel = _text(html[html.index('id="document-blank"'):html.index("</p>", html.index('id="document-blank"'))])
        assert BLANK in panel
        findings = _text(html[html.index('id="findings"'):])
        assert BLANK in findings  # 检查结果, to be acknowledged like any warning
    with app.app_context():
        application = db.session.get(Application, application_id)
        clerk = db.session.merge(user_by_name(app, "chengdu"))
        acknowledge_warning(clerk, application, "document:blank", "企业纸质申报书另行报送，以申报表为准")
        db.session.commit()
        assert evaluate(application).open_warnings == []


def test_a_filled_document_or_one_in_another_layout_is_not_called_blank(app):
    application_id = create_application(app, with_form=False)
    _upload(app, application_id, _document(app, application_id))
    with app.app_context():
        assert evaluate(db.session.get(Application, application_id)).open_warnings == []
    # None of the template's labels found (another layout, a letter): not a blank template.
    letter = io.BytesIO()
    word = docx.Document()
    word.add_paragraph("关于推荐工业互联网平台的情况说明：本企业平台建设情况详见附件。")
    word.save(letter)
    _upload(app, application_id, letter.getvalue())
    with app.app_context():
        rules = [w.rule for w in evaluate(db.session.get(Application, application_id)).open_warnings]
    assert "document:blank" not in rules


def test_the_template_downloads(app, city_client, province_client, tmp_path):
    response = province_client.get("/applications/form-template.docx")
    assert response.status_code == 200 and response.mimetype.endswith("wordprocessingml.document")
    assert "%E7%94%B3%E6%8A%A5%E4%B9%A6%E6%A8%A1%E6%9D%BF" in response.headers["Content-Disposition"]
    path = tmp_path / "模板.docx"
    path.write_bytes(response.data)
    reading = read_form(extract_text(path, "docx", options=option_words(FORM_2022)), form=FORM_2022)
    assert {r.status for r in reading.fields.values()} == {ReadStatus.BLANK}
    pdf = province_client.get("/applications/form-template.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    path.with_suffix(".pdf").write_bytes(pdf.data)
    blank = read_form(extract_text(path.with_suffix(".pdf"), "pdf", options=option_words(FORM_2022)), form=FORM_2022)
    assert {r.status for r in blank.fields.values()} == {ReadStatus.BLANK}
    assert (blank.structure.toc, blank.structure.toc_levels) == (True, 4)
    application_id = create_application(app, with_form=False)
    path.write_bytes(city_client.get(f"/applications/{application_id}/form.docx").data)
    values = _application(app, application_id).values()
    read = read_form(extract_text(path, "docx", options=option_words(FORM_2022)), form=FORM_2022).values()
    values["technologies"] = tuple(values["technologies"])
    assert read == {k: v for k, v in values.items() if v is not None}
    with app.app_context():
        application = db.session.get(Application, application_id)
        assert template_docx(application.round)[:2] == b"PK"
        document_changed(db.session.merge(user_by_name(app, "chengdu")), application)  # no document: no change
        assert application.open_warning_count == 0


def test_flask_read_forms_reads_what_was_never_read(app):
    application_id = create_application(app, with_form=False)
    stored = _upload(app, application_id, _document(app, application_id, models_total="468"))
    with app.app_context():
        db.session.get(StoredFile, stored.id).reading = None
        application = db.session.get(Application, application_id)
        application.open_warning_count = 0
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["read-forms"])
    assert result.exit_code == 0 and "已安排读取 1 份申报书" in result.output
    assert _application(app, application_id).open_warning_count == 1
    again = app.test_cli_runner().invoke(args=["read-forms"])
    assert "已安排读取 0 份申报书" in again.output


def test_fields_the_document_leaves_unread_are_one_warning_the_clerk_acknowledges_once(app, city_client):
    """The document leaves 专利数量 blank, cannot be read in 投资回报率 and says 组织机构代码 with
    the 9 characters of the credit code (which agree): one warning naming the two, acknowledged
    with one note, and still acknowledged when the same document is uploaded again."""
    application_id = create_application(app, with_form=False)
    code = _application(app, application_id).credit_code
    document = _document(app, application_id, patents="", roi="约百分之十四", credit_code=code[8:17])
    _upload(app, application_id, document)
    with app.app_context():
        application = db.session.get(Application, application_id)
        [warning] = evaluate(application).open_warnings
        assert warning.rule == "document:unread"
        assert warning.message.startswith("申报书中 2 项未能读取，请人工核对：平台核心软硬件技术获得的专利数量、投资回报率（%）")
        acknowledge_warning(db.session.merge(user_by_name(app, "chengdu")), application, warning.rule,
                            "已与企业电话核实，以申报表为准")
        db.session.commit()
    assert _application(app, application_id).open_warning_count == 0
    _upload(app, application_id, document, "申报书（重新上传）.docx")
    assert _application(app, application_id).open_warning_count == 0
    html = city_client.get(f"/applications/{application_id}").get_data(as_text=True)
    start = html.index('id="document-unread-fields"')
    panel = re.sub(r"\s+", "", _text(html[start:html.index("</div>", start)]))
    assert "申报书中2项未能读取，请人工核对" in panel
    assert "平台核心软硬件技术获得的专利数量：申报书中未填" in panel and "投资回报率（%）：无法识别" in panel
