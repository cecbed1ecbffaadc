"""Every generated download is made once per version of what it prints (generated.py): the keys
change when, and only when, the document's data changes. A log-in or a save in another city
leaves a city's 附件3 and the roster cached; an edit of 成都's application makes 成都's 附件3 and
the roster again and leaves 绵阳's. Authorization comes first: another city's document is a 404
before any file is looked up, and never a file another city's clerk had made."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from xkxl_intranet import clock
from xkxl_intranet.applications.models import Application
from xkxl_intranet.audit.models import AuditEvent
from xkxl_intranet.extensions import db
from xkxl_intranet.rounds.models import Receipt

from .helpers import city_id, make_passed, pdf_reader, pdf_text, set_batch_state, set_fields
from helpers import create_application, generated_counts, logged_in_client, login, made_again

CHENGDU, MIANYANG = "510100", "510700"


def newest_audit_event(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.max(AuditEvent.id)))


def get_all(client, urls) -> dict:
    responses = {url: client.get(url) for url in urls}
    assert {url: r.status_code for url, r in responses.items()} == dict.fromkeys(urls, 200)
    return responses


@pytest.fixture
def cities(app):
    """成都: two 初审通过 applications, filling in; 绵阳: one reported and a draft."""
    cd1 = make_passed(app, platform_name="成都甲平台")
    cd2 = make_passed(app, platform_name="成都乙平台")
    my1 = make_passed(app, "mianyang", platform_name="绵阳甲平台")
    my_draft = create_application(app, "mianyang", platform_name="绵阳草稿平台", with_form=False)
    set_batch_state(app, MIANYANG, "reported")
    return {"cd1": cd1, "cd2": cd2, "my1": my1, "my_draft": my_draft,
            "chengdu": city_id(app, CHENGDU), "mianyang": city_id(app, MIANYANG)}


def test_a_log_in_or_another_citys_save_leaves_the_files_and_an_edit_makes_its_own_again(app, cities):
    province = logged_in_client(app, "province")
    cd, my = cities["chengdu"], cities["mianyang"]
    cd_summary = {f"/reports/cities/{cd}/summary.pdf", f"/reports/cities/{cd}/summary.xlsx"}
    my_summary = {f"/reports/cities/{my}/summary.pdf"}
    reported_roster = {"/reports/roster/all.pdf", "/reports/roster/recommended.xlsx"}
    full_roster = {"/reports/roster/unreported.pdf", "/reports/roster/unreported.xlsx"}
    urls = cd_summary | my_summary | reported_roster | full_roster
    first = get_all(province, urls)
    assert generated_counts(app) == {"renders": len(urls), "hits": 0}

    stamp = newest_audit_event(app)
    assert login(app.test_client(), "viewer").status_code == 303  # a log-in, audited
    assert made_again(app, province, urls) == set()
    assert newest_audit_event(app) > stamp  # which emptied the caches keyed on the audit trail

    set_fields(app, cities["my_draft"], platform_name="绵阳草稿平台二期")  # a save in 绵阳, not on its 附件3
    assert made_again(app, province, urls - full_roster) == set()
    assert made_again(app, province, full_roster) == full_roster  # the list of everything shows drafts

    set_fields(app, cities["cd1"], platform_name="成都甲平台二期")  # an edit in 成都, not yet reported
    assert made_again(app, province, urls) == cd_summary | full_roster
    text = pdf_text(pdf_reader(province.get(f"/reports/cities/{cd}/summary.pdf")))
    assert "成都甲平台二期" in text and "成都甲平台二期" not in pdf_text(pdf_reader(first[f"/reports/cities/{cd}/summary.pdf"]))

    set_fields(app, cities["my1"], province_mark="recommended")  # a mark on what 绵阳 reported
    assert made_again(app, province, urls) == my_summary | reported_roster | full_roster


def test_the_order_contact_and_disclosure_printed_on_a_summary_are_part_of_its_key(app, cities):
    clerk = logged_in_client(app, "chengdu")
    cd = cities["chengdu"]
    url = f"/reports/cities/{cd}/summary.xlsx"
    assert made_again(app, clerk, [url]) == {url}
    assert made_again(app, clerk, [url]) == set()
    # the order is changed by a plain UPDATE that leaves the applications' versions as they were
    assert clerk.post(f"/reports/cities/{cd}/summary/move",
                      data={"application_id": cities["cd2"], "direction": "up"}).status_code == 303
    assert made_again(app, clerk, [url]) == {url}
    assert clerk.post(f"/reports/cities/{cd}/contact",
                      data={"contact_name": "李娜", "contact_phone": "13912345678"}).status_code == 303
    assert made_again(app, clerk, [url]) == {url}
    assert clerk.post("/rounds/batch/disclosure", data={"disclosure": "依申请公开"}).status_code == 303
    assert made_again(app, clerk, [url]) == {url}
    assert made_again(app, clerk, [url]) == set()


def test_another_citys_document_is_a_404_before_any_file_is_looked_up(app, cities):
    chengdu, mianyang = logged_in_client(app, "chengdu"), logged_in_client(app, "mianyang")
    cd = cities["chengdu"]
    urls = [f"/reports/cities/{cd}/summary.pdf", f"/reports/cities/{cd}/summary.xlsx",
            f"/applications/{cities['cd1']}/form.docx"]
    made = get_all(chengdu, urls)
    before = generated_counts(app)
    assert before == {"renders": len(urls), "hits": 0}
    for url in urls:
        response = mianyang.get(url)
        assert response.status_code == 404 and response.data != made[url].data, url
    assert generated_counts(app) == before  # neither found nor made
    assert {r.status_code for r in (logged_in_client(app, "expert1").get(u) for u in urls)} == {404}


def test_the_download_goes_through_the_servers_file_wrapper(app, cities):
    """waitress's wrapper sends a file from its event loop, holding no worker thread."""
    wrapped = []

    class FileWrapper:
        def __init__(self, file, block_size=8192):
            wrapped.append(file)
            self.file, self.block_size = file, block_size

        def __iter__(self):
            while block := self.file.read(self.block_size):
                yield block

        def close(self):
            self.file.close()

    province = logged_in_client(app, "province")
    for _ in range(2):  # made, then found
        response = province.get("/reports/roster/all.pdf", environ_overrides={"wsgi.file_wrapper": FileWrapper})
        assert response.status_code == 200 and response.data.startswith(b"%PDF")
        assert response.headers["Content-Length"] == str(len(response.data))
        assert "attachment" in response.headers["Content-Disposition"] and response.headers["Cache-Control"] == "no-store"
    assert len(wrapped) == 2


def test_a_receipt_is_made_once_and_only_for_its_own_city(app, cities):
    clock.set_now(datetime(2022, 3, 19, 9, 0, tzinfo=clock.SHANGHAI))
    chengdu = logged_in_client(app, "chengdu")
    assert chengdu.post("/rounds/batch/report", data={"scan_missing_acknowledged": "y"}).status_code == 303
    with app.app_context():
        url = f"/rounds/receipts/{db.session.scalar(select(Receipt.id))}.pdf"
    assert made_again(app, chengdu, [url]) == {url}
    first = chengdu.get(url)
    assert generated_counts(app) == {"renders": 1, "hits": 1}
    again = chengdu.get(url)
    assert again.data == first.data and again.headers["Content-Disposition"] == first.headers["Content-Disposition"]
    before = generated_counts(app)
    assert logged_in_client(app, "mianyang").get(url).status_code == 404
    assert generated_counts(app) == before
    assert made_again(app, logged_in_client(app, "province"), [url]) == set()  # the same receipt


def test_the_templates_are_made_once_and_the_prefilled_one_again_after_an_edit(app, cities):
    clerk = logged_in_client(app, "chengdu")
    blank = ["/applications/form-template.docx", "/applications/form-template.pdf", "/reports/template.xlsx"]
    prefilled = [f"/applications/{cities['cd1']}/form.docx", "/reports/template.xlsx?filled=1"]
    assert made_again(app, clerk, blank + prefilled) == set(blank + prefilled)
    assert made_again(app, clerk, blank + prefilled) == set()
    assert made_again(app, logged_in_client(app, "mianyang"), blank[:2]) == set()  # the same for everyone
    set_fields(app, cities["cd1"], enterprise_name="成都甲公司（新）")
    assert made_again(app, clerk, blank + prefilled) == set(prefilled)
    with app.app_context():
        assert db.session.get(Application, cities["cd1"]).enterprise_name == "成都甲公司（新）"
