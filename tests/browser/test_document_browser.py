"""The 申报书 in a real browser: upload a filled .docx on the application page, see what was read
beside the application, fill the empty fields from it and save."""
import pytest

from xkxl_intranet.applications.models import Application
from xkxl_intranet.applications.reading_job import read_form_job
from xkxl_intranet.domain.checks import FORM_2022
from xkxl_intranet.domain.form_layout import form_blocks, texts_for
from xkxl_intranet.extensions import db
from xkxl_intranet.files.form_template import form_docx
from xkxl_intranet.files.models import StoredFile

from helpers import browser_login, create_application

pytestmark = pytest.mark.browser
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def test_clerk_uploads_the_docx_sees_the_difference_and_fills_the_empty_fields(page, app):
    application_id = create_application(app, with_form=False, models_total="", patents="")
    with app.app_context():
        values = db.session.get(Application, application_id).values()
    data = form_docx(form_blocks(texts_for(values, form=FORM_2022) | {"models_total": "468", "patents": "43",
                                                      "devices_total": "9,999"}, form=FORM_2022))
    browser_login(page, "chengdu")
    page.goto(f"/applications/{application_id}")
    box = page.locator(f"#files-{application_id}-form")
    box.locator("input[type=file]").set_input_files(
        files=[{"name": "申报书.docx", "mimeType": DOCX_MIME, "buffer": data}])
    box.locator("tr.is-current").wait_for()
    page.evaluate("window.__marker = 'same page'")
    panel = page.locator("#document")
    # The panels that depend on the 申报书 are fetched again by themselves: no reload needed.
    panel.locator("#document-summary", has_text="与申报表不一致 1").wait_for()
    assert page.evaluate("window.__marker") == "same page"
    assert "与申报表不一致 1" in panel.locator("#document-summary").inner_text()
    difference = panel.locator("#document-differences tbody tr").inner_text()
    assert "可连接的工业设备/产品/产线数量" in difference and "9,999 台/套" in difference
    page.locator("#findings", has_text="申报书中为 9,999 台/套").wait_for()  # fetched again too

    panel.get_by_role("link", name="用申报书填写空白项（2 项）").click()
    page.locator("#filled-note").wait_for()
    assert page.locator("input[name=models_total]").input_value() == "468"
    assert page.locator("input[name=patents]").input_value() == "43"
    assert page.locator("input[name=devices_total]").input_value() == str(values["devices_total"])
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(f"**/applications/{application_id}")
    assert "申报表未填" not in page.locator("#document-summary").inner_text()
    with app.app_context():
        saved = db.session.get(Application, application_id)
        assert (saved.values()["models_total"], saved.values()["patents"]) == (468, 43)


def test_the_panel_says_it_is_reading_and_shows_the_reading_once_a_worker_has_kept_it(page, app):
    """Reading is a job: the upload is answered at once, the panel says 正在读取 and asks for
    itself every 2 s; when the worker has kept the reading, panel and findings change in place."""
    app.config["JOBS_INLINE"] = False  # the job waits in the queue until the test plays the worker
    application_id = create_application(app, with_form=False)
    with app.app_context():
        values = db.session.get(Application, application_id).values()
    data = form_docx(form_blocks(texts_for(values, form=FORM_2022) | {"devices_total": "9,999"}, form=FORM_2022))
    browser_login(page, "chengdu")
    page.goto(f"/applications/{application_id}")
    box = page.locator(f"#files-{application_id}-form")
    box.locator("input[type=file]").set_input_files(
        files=[{"name": "申报书.docx", "mimeType": DOCX_MIME, "buffer": data}])
    panel = page.locator("#document")
    panel.locator("#document-status", has_text="正在读取").wait_for()
    page.evaluate("window.__marker = 'same page'")
    with app.app_context():
        file_id = db.session.scalar(db.select(StoredFile.id).where(StoredFile.application_id == application_id))
        assert read_form_job(file_id) == "done"
    panel.locator("#document-summary", has_text="与申报表不一致 1").wait_for(timeout=8_000)
    page.locator("#findings", has_text="申报书中为 9,999 台/套").wait_for()
    assert page.evaluate("window.__marker") == "same page"
    assert panel.get_attribute("hx-trigger") is None  # it stopped asking
