"""An application of a round whose notice declares another 申报书 than 2022's: the edit page, the
live check, the 申报书模板 and the reading of a filled 申报书 follow the application's round's
form, not 2022's (issue 21), even while another round is the current one."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import docx
import pytest

from xkxl_intranet import clock
from xkxl_intranet.applications.document import template_docx
from xkxl_intranet.applications.evaluation import current_form_reading
from xkxl_intranet.applications.models import Application
from xkxl_intranet.batches.settings import make_current, open_round
from xkxl_intranet.domain.form_layout import form_blocks, texts_for
from xkxl_intranet.extensions import db
from xkxl_intranet.files.form_template import form_docx
from xkxl_intranet.files.models import StoredFile
from xkxl_intranet.notice.loader import parse_notice
from xkxl_intranet.rounds.models import Round

from helpers import create_application, notice_text, store_form, user_by_name

FAX = '''  [[section.field]]
  key = "contact_fax"
  label = "传真"
  kind = "phone"
  max_length = 50
  form_cell = true

'''
WEBSITE = '''  [[section.field]]
  key = "website"
  label = "企业网址"
  kind = "text"
  required = true
  max_length = 200
  form_cell = true

'''


EVIDENCE6 = """[[file]]
key = "evidence6"
label = "附件6 财务报表等其他材料"
kinds = ["doc", "docx", "et", "jpg", "ofd", "pdf", "png", "wps", "xls", "xlsx", "zip"]
versioned = false
per_city = false
required = false

"""
EVIDENCE1 = 'label = "附件1 工业设备清单"'


def _variant_text() -> str:
    """2023's notice whose 表一 calls 单位地址 注册地址 (and asks for it), has no 传真 and asks
    for the enterprise's 企业网址; which asks for no 附件6 and requires 附件1."""
    text = notice_text(2023)
    assert text.count(FAX) == 1 and text.count('label = "单位地址"') == 1
    assert text.count(EVIDENCE6) == 1 and text.count(EVIDENCE1) == 1
    text = text.replace(FAX, "").replace(EVIDENCE6, "")
    evidence1 = text.index(EVIDENCE1)
    required = text.index("required = false", evidence1)
    text = text[:required] + "required = true" + text[required + len("required = false"):]
    text = text.replace('label = "单位地址"\n  kind = "text"\n', 'label = "注册地址"\n  kind = "text"\n  required = true\n')
    contact = '  [[section.field]]\n  key = "contact_name"'
    assert text.count(contact) == 1
    return text.replace(contact, WEBSITE + contact)


VARIANT = parse_notice(_variant_text())


@pytest.fixture
def variant_application(app) -> int:
    """An application of the 2023 round opened with the variant notice, with its address left
    blank; then 2022 is made the current round again, so that only the application's round
    declares the variant."""
    with app.app_context():
        province = db.session.merge(user_by_name(app, "province"))
        first_id = db.session.scalar(db.select(Round.id).where(Round.is_current))
        open_round(province, VARIANT, notice_file="2023.toml", deadline=clock.now() + timedelta(days=30),
                   confirm_replace=True)
        db.session.commit()
    application_id = create_application(app, with_form=False, address="")
    with app.app_context():
        make_current(db.session.merge(user_by_name(app, "province")), db.session.get(Round, first_id))
        db.session.commit()
    return application_id


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_edit_page_shows_the_rounds_fields_and_labels(app, city_client, variant_application):
    with app.app_context():  # the variant's round current again, as when the clerk entered it
        make_current(db.session.merge(user_by_name(app, "province")),
                     db.session.get(Application, variant_application).round)
        db.session.commit()
    html = city_client.get(f"/applications/{variant_application}/edit").get_data(as_text=True)
    assert 'name="website"' in html and 'name="address"' in html and 'name="contact_fax"' not in html
    assert "单位地址" not in html
    # the required fields left blank, listed under their round's labels
    assert '<a href="#address">注册地址</a>' in html and '<a href="#website">企业网址</a>' in html


def test_an_application_of_a_round_that_is_not_current_says_so_and_is_read_only(app, city_client,
                                                                               variant_application):
    detail = city_client.get(f"/applications/{variant_application}").get_data(as_text=True)
    assert 'id="other-round"' in detail and "2023年跨行业跨领域工业互联网平台" in detail
    assert "注册地址" in detail and "单位地址" not in detail  # its round's labels, read-only
    assert f'href="/applications/{variant_application}/edit"' not in detail
    edit = city_client.get(f"/applications/{variant_application}/edit")
    assert edit.status_code == 303
    page = city_client.get(edit.headers["Location"]).get_data(as_text=True)
    assert "该批次已不是当前批次，申报和材料为只读" in page
    refused = city_client.post(f"/applications/{variant_application}/review", data={"decision": "passed"})
    assert refused.status_code == 303
    with app.app_context():
        assert db.session.get(Application, variant_application).review_state == "draft"


def test_the_live_check_speaks_of_the_rounds_labels(app, city_client, variant_application):
    with app.app_context():
        data = {"application_id": str(variant_application), "version": "1", "enterprise_name": "测试企业",
                "address": "成" * 201}
    html = city_client.post("/applications/check", data=data).get_data(as_text=True)
    text = _text(html)
    assert "「注册地址」不能超过200个字" in text and "单位地址" not in text
    assert "企业网址" in text and "传真" not in text


def test_the_form_template_of_the_round_prints_its_labels(app, variant_application):
    with app.app_context():
        round_ = db.session.get(Application, variant_application).round
        document = docx.Document(io.BytesIO(template_docx(round_)))
    cells = {cell.text for table in document.tables for row in table.rows for cell in row.cells}
    assert {"注册地址", "企业网址"} <= cells
    assert "单位地址" not in cells and "传真" not in cells


def test_a_filled_form_of_the_round_is_read_as_its_form(app, variant_application):
    with app.app_context():
        application = db.session.get(Application, variant_application)
        form = application.round.form
        texts = texts_for(application.values(), form=form) | {"address": "成都市高新区天府大道1号",
                                                               "website": "www.example.cn"}
        data = form_docx(form_blocks(texts, form=form, title=application.round.title, year=2023))
    file_id = store_form(app, variant_application, data)
    with app.app_context():
        stored = db.session.get(StoredFile, file_id)
        assert stored.reading["status"] == "read"
        assert stored.reading["fields"]["website"][:3] == ["value", "www.example.cn", "www.example.cn"]
        assert "contact_fax" not in stored.reading["fields"]
        read = current_form_reading(variant_application, db.session.get(Round, stored.round_id).form).values()
        assert read["address"] == "成都市高新区天府大道1号" and read["website"] == "www.example.cn"


def test_the_files_asked_for_are_the_rounds(app, city_client, variant_application):
    html = city_client.get(f"/files/applications/{variant_application}").get_data(as_text=True)
    assert "附件1 工业设备清单" in html and "附件6 财务报表等其他材料" not in html
    assert "尚未上传附件1 工业设备清单" in _text(html)
    refused = city_client.post(f"/files/applications/{variant_application}/evidence6/upload",
                               data={"files": (io.BytesIO(b"%PDF-1.7"), "a.pdf")})
    assert refused.status_code == 404
