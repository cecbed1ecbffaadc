"""Reporting (报送), receipts, deadlines, read-only batches and the province's desk."""
import hashlib
import io
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from xkxl_intranet import clock
from xkxl_intranet.audit.models import AuditEvent
from xkxl_intranet.extensions import db
from xkxl_intranet.rounds.models import CityBatch, Receipt, Round

from helpers import (
    audit_events,
    create_application,
    get_application,
    logged_in_client,
    notice_text,
    user_by_name,
)

DEADLINE = datetime(2022, 3, 21, 23, 59, 59, tzinfo=clock.SHANGHAI)
BEFORE = DEADLINE - timedelta(days=2)


def _passed(app, client, username="chengdu", **overrides) -> int:
    application_id = create_application(app, username, **overrides)
    response = client.post(f"/applications/{application_id}/review", data={"decision": "passed"})
    assert response.status_code == 303
    assert get_application(app, application_id).review_state == "passed"
    return application_id


def _batch(app, username="chengdu") -> CityBatch:
    user = user_by_name(app, username)
    with app.app_context():
        batch = db.session.scalar(db.select(CityBatch).where(CityBatch.city_id == user.city_id))
        if batch is not None:
            db.session.expunge(batch)
        return batch


def _clients(app):
    return logged_in_client(app, "chengdu"), logged_in_client(app, "province")


@pytest.fixture
def at_before_deadline():
    clock.set_now(BEFORE)
    yield BEFORE
    clock.set_now(None)


def _report(city, **data):
    """Report as the clerk confirms it (no stamped 附件3 scan uploaded in these tests)."""
    return city.post("/rounds/batch/report", data={"scan_missing_acknowledged": "y", **data})


def test_batch_moves_from_not_started_to_filling(app, at_before_deadline):
    city, _ = _clients(app)
    assert "未开始" in city.get("/rounds/batch").get_data(as_text=True)
    create_application(app)
    page = city.get("/rounds/batch").get_data(as_text=True)
    assert "填报中" in page
    assert _batch(app).state == "filling"


def test_report_lists_files_with_hashes_and_makes_a_receipt(app, at_before_deadline):
    city, province = _clients(app)
    application_id = _passed(app, city)
    draft_id = create_application(app)  # a draft is not reported
    confirm = city.get("/rounds/batch/report").get_data(as_text=True)
    application = get_application(app, application_id)
    assert application.platform_name in confirm and "确认报送 1 份申报" in confirm
    with app.app_context():
        from xkxl_intranet.files.models import StoredFile
        from xkxl_intranet.files.storage import path_for
        stored = db.session.scalar(db.select(StoredFile).where(StoredFile.application_id == application_id))
        on_disk = hashlib.sha256(Path(path_for(stored.storage_name)).read_bytes()).hexdigest()
    assert stored.sha256 == on_disk and on_disk in confirm

    response = _report(city)
    assert response.status_code == 303 and "/rounds/receipts/" in response.headers["Location"]
    batch = _batch(app)
    assert batch.state == "reported" and not batch.is_late and batch.reported_at == BEFORE
    with app.app_context():
        receipt = db.session.scalar(db.select(Receipt))
        assert receipt.number == "HZ2022-510100-01"
        files = receipt.content["applications"][0]["files"]
        assert [f["sha256"] for f in files] == [on_disk]
        assert len(receipt.content["applications"]) == 1
        from xkxl_intranet.batches.reporting import content_digest
        assert receipt.content_sha256 == content_digest(receipt.content)
        assert db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "batch.reported"))
    page = city.get(response.headers["Location"]).get_data(as_text=True)
    assert "报送回执" in page and "HZ2022-510100-01" in page and on_disk in page
    assert "2022-03-19 23:59:59" in page
    assert get_application(app, draft_id).review_state == "draft"


def test_receipt_pdf_has_the_city_and_hashes(app, at_before_deadline):
    from io import BytesIO

    from pypdf import PdfReader

    city, _ = _clients(app)
    _passed(app, city)
    receipt_url = _report(city).headers["Location"]
    response = city.get(receipt_url + ".pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(response.data)).pages)
    assert "报送回执" in text and "成都市" in text and "HZ2022-510100-01" in text


def test_nothing_is_reported_while_anything_blocks(app, at_before_deadline):
    city, _ = _clients(app)
    response = _report(city)
    assert response.status_code == 200 and "不能报送" in response.get_data(as_text=True)
    page = city.get("/rounds/batch").get_data(as_text=True)
    assert "没有市州初审通过的申报" in page
    assert _batch(app) is None  # neither the refused report nor the GET wrote a batch row
    # A passed application that later became a duplicate blocks until the warning is acknowledged.
    from xkxl_intranet.domain.credit_code import make_credit_code
    code = make_credit_code("510100", "MA6BLK01")
    application_id = _passed(app, city, credit_code=code)
    create_application(app, "mianyang", credit_code=code)
    text = city.post("/rounds/batch/report", data={}, follow_redirects=True).get_data(as_text=True)
    assert "不能报送" in text and "重复" in text
    assert _batch(app).state == "filling"
    city.post(f"/applications/{application_id}/acknowledge",
              data={"rule": "duplicate:credit_code", "note": "集团内两家子公司，已与绵阳核实"})
    assert _report(city).status_code == 303 and _batch(app).state == "reported"


def test_reporting_after_the_deadline_is_refused_unless_extended(app):
    city, province = _clients(app)
    clock.set_now(BEFORE)
    _passed(app, city)
    clock.set_now(DEADLINE + timedelta(seconds=1))
    city, province = _clients(app)
    text = city.post("/rounds/batch/report", data={}, follow_redirects=True).get_data(as_text=True)
    assert "已超过报送截止时间（2022年03月21日 23:59:59）" in text
    assert _batch(app).state == "filling"
    # The province grants this city an extension: reporting works and is marked late.
    city_id = user_by_name(app, "chengdu").city_id
    response = province.post(f"/rounds/cities/{city_id}/extension",
                             data={"deadline": "2022-03-25 18:00", "reason": "企业补充财务审计报告"})
    assert response.status_code == 303
    assert _batch(app).extension_deadline == datetime(2022, 3, 25, 18, 0, tzinfo=clock.SHANGHAI)
    assert "已延期" in city.get("/").get_data(as_text=True)
    assert _report(city).status_code == 303
    batch = _batch(app)
    assert batch.state == "reported" and batch.is_late
    with app.app_context():
        assert db.session.scalar(db.select(Receipt)).is_late
    dashboard = province.get("/rounds/dashboard").get_data(as_text=True)
    assert "逾期" in dashboard


def test_reporting_exactly_at_the_deadline_second_is_on_time(app):
    clock.set_now(BEFORE)
    city, _ = _clients(app)
    _passed(app, city)
    clock.set_now(DEADLINE)
    city, _ = _clients(app)
    assert _report(city).status_code == 303
    assert _batch(app).state == "reported" and not _batch(app).is_late


def test_a_deadline_typed_in_another_time_zone(app):
    _, province = _clients(app)
    with app.app_context():
        round_id = db.session.scalar(db.select(Round.id))
    past = {"deadline": "2022-03-21T16:00:00+00:00"}
    refused = province.post(f"/rounds/{round_id}/deadline", data=past, follow_redirects=True)
    assert "已过" in refused.get_data(as_text=True) and "全部市（州）将立即不能报送" in refused.get_data(as_text=True)
    response = province.post(f"/rounds/{round_id}/deadline", data={**past, "confirm_past": "y"})
    assert response.status_code == 303
    with app.app_context():
        deadline = db.session.get(Round, round_id).deadline
    assert deadline == datetime(2022, 3, 22, 0, 0, tzinfo=clock.SHANGHAI)
    assert deadline.tzinfo is not None and str(deadline.tzinfo) == "Asia/Shanghai"
    clock.set_now(datetime(2022, 3, 21, 23, 59, 59, tzinfo=clock.SHANGHAI))
    city, _ = _clients(app)
    _passed(app, city)
    assert _report(city).status_code == 303 and _batch(app).state == "reported"


def test_reported_batch_is_read_only_on_every_write_route(app, at_before_deadline):
    city, _ = _clients(app)
    application_id = _passed(app, city)
    draft_id = create_application(app)
    _report(city)
    before = get_application(app, application_id)
    for target in (application_id, draft_id):
        assert city.get(f"/applications/{target}/edit").status_code == 303
        response = city.post(f"/applications/{target}/edit", data={"employees": "1", "version": "1"},
                             follow_redirects=True)
        assert "只读" in response.get_data(as_text=True)
        response = city.post(f"/applications/{target}/review", data={"decision": "draft"},
                             follow_redirects=True)
        assert "只读" in response.get_data(as_text=True)
        response = city.post(f"/applications/{target}/delete", follow_redirects=True)
        assert "只读" in response.get_data(as_text=True)
        response = city.post(f"/applications/{target}/acknowledge", data={"rule": "x", "note": "y"},
                             follow_redirects=True)
        assert "只读" in response.get_data(as_text=True)
    from io import BytesIO
    upload = city.post(f"/files/applications/{application_id}/evidence1/upload",
                       data={"file": (BytesIO(b"%PDF-1.4\n%%EOF\n"), "清单.pdf")},
                       content_type="multipart/form-data", follow_redirects=True)
    assert "只读" in upload.get_data(as_text=True)
    with app.app_context():
        from xkxl_intranet.files.models import StoredFile
        draft_file = db.session.scalar(db.select(StoredFile.id).where(StoredFile.application_id == draft_id))
    refused = city.post(f"/files/{draft_file}/delete", follow_redirects=True)
    assert "只读" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(StoredFile, draft_file) is not None
    after = get_application(app, application_id)
    assert after.version == before.version and after.review_state == "passed"
    assert get_application(app, draft_id) is not None
    assert "修改" not in re.findall(r'class="button primary"[^>]*>([^<]+)<',
                                    city.get(f"/applications/{application_id}").get_data(as_text=True))


def test_return_lets_the_city_edit_and_report_again(app, at_before_deadline):
    city, province = _clients(app)
    application_id = _passed(app, city)
    _report(city)
    city_id = user_by_name(app, "chengdu").city_id
    empty = province.post(f"/rounds/cities/{city_id}/return", data={"reason": ""}, follow_redirects=True)
    assert "请填写退回原因" in empty.get_data(as_text=True)
    response = province.post(f"/rounds/cities/{city_id}/return", data={"reason": "请补充2021年审计报告"})
    assert response.status_code == 303 and _batch(app).state == "returned"
    page = city.get("/rounds/batch").get_data(as_text=True)
    assert "省厅已退回修改" in page and "请补充2021年审计报告" in page
    assert city.get(f"/applications/{application_id}/edit").status_code == 200
    receipt_url = _report(city).headers["Location"]
    assert "HZ2022-510100-02" in city.get(receipt_url).get_data(as_text=True)
    assert _batch(app).state == "reported" and _batch(app).report_count == 2


def test_transitions_refused_by_state_and_role(app, at_before_deadline):
    city, province = _clients(app)
    viewer = logged_in_client(app, "viewer")
    city_id = user_by_name(app, "chengdu").city_id
    text = province.post(f"/rounds/cities/{city_id}/accept", data={}, follow_redirects=True).get_data(as_text=True)
    assert "不能受理" in text
    text = province.post(f"/rounds/cities/{city_id}/return", data={"reason": "x"},
                         follow_redirects=True).get_data(as_text=True)
    assert "不能退回" in text
    for url in (f"/rounds/cities/{city_id}/accept", f"/rounds/cities/{city_id}/return",
                f"/rounds/cities/{city_id}/extension", f"/rounds/cities/{city_id}/paper", "/rounds/new"):
        assert city.post(url, data={}).status_code == 404
        assert viewer.post(url, data={}).status_code == 404
    for url in ("/rounds/dashboard", f"/rounds/cities/{city_id}", "/rounds/"):
        assert city.get(url).status_code == 404
        assert viewer.get(url).status_code == 200
    for url in ("/rounds/batch", "/rounds/batch/report"):
        assert province.get(url).status_code == 404
        assert viewer.get(url).status_code == 404
    _passed(app, city)
    _report(city)
    assert "报送" not in "".join(re.findall(r"<button[^>]*>([^<]*)</button>",
                                          city.get("/rounds/batch/report").get_data(as_text=True)))
    text = city.post("/rounds/batch/report", data={}, follow_redirects=True).get_data(as_text=True)
    assert "不能重复报送" in text
    assert province.post(f"/rounds/cities/{city_id}/accept", data={}).status_code == 303
    assert _batch(app).state == "accepted"
    assert "不能重复报送" in city.post("/rounds/batch/report", data={}, follow_redirects=True).get_data(as_text=True)


def test_other_city_cannot_see_a_receipt(app, at_before_deadline):
    city, province = _clients(app)
    _passed(app, city)
    receipt_url = _report(city).headers["Location"]
    other = logged_in_client(app, "mianyang")
    assert other.get(receipt_url).status_code == 404
    assert other.get(receipt_url + ".pdf").status_code == 404
    assert province.get(receipt_url).status_code == 200


def test_province_marks_only_reported_passed_applications(app, at_before_deadline):
    city, province = _clients(app)
    application_id = _passed(app, city)
    text = province.post(f"/rounds/applications/{application_id}/mark", data={"mark": "recommended"},
                         follow_redirects=True).get_data(as_text=True)
    assert "只有已报送的申报可以标记" in text
    _report(city)
    province.post(f"/rounds/applications/{application_id}/mark", data={"mark": "recommended", "note": "综合排名第一"})
    application = get_application(app, application_id)
    assert application.province_mark == "recommended" and application.province_note == "综合排名第一"
    assert "推荐工信部" in province.get(f"/applications/{application_id}").get_data(as_text=True)
    assert "推荐工信部" not in city.get(f"/applications/{application_id}").get_data(as_text=True)  # unpublished
    assert city.post(f"/rounds/applications/{application_id}/mark", data={"mark": "recommended"}).status_code == 404


def test_paper_copies_are_recorded_with_dates(app):
    clock.set_now(DEADLINE + timedelta(days=1))  # the summary's paper copy came on the last day
    _, province = _clients(app)
    city_id = user_by_name(app, "chengdu").city_id
    province.post(f"/rounds/cities/{city_id}/paper", data={
        "paper_forms_received_on": "2022-03-20", "paper_disc_received_on": "2022-03-20",
        "paper_summary_received_on": "2022-03-21", "paper_note": "EMS 1234"})
    batch = _batch(app)
    assert batch.paper_complete and batch.paper_summary_received_on.isoformat() == "2022-03-21"
    assert "已收齐" in province.get("/rounds/dashboard").get_data(as_text=True)


def test_dashboard_counts_and_fragment(app, at_before_deadline):
    city, province = _clients(app)
    _passed(app, city)
    create_application(app)
    values = {"devices_operating": "1"}  # an error makes it a problem application
    create_application(app, "mianyang", **values)
    fragment = province.get("/rounds/dashboard?scope=all&sort=total&desc=1", headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert "<html" not in html and "HX-Request" in fragment.headers["Vary"]
    rows = re.findall(r'<tr data-city="(\w+)">(.*?)</tr>', html, re.S)
    assert len(rows) == 21
    assert rows[0][0] == "chengdu"  # sorted by number of applications, descending
    numbers = re.findall(r'<td class="num">(?:<span class="tag tag-warning">)?(\d+)', rows[0][1])
    assert numbers[:2] == ["2", "1"]
    mianyang = dict(rows)["mianyang"]
    assert '<span class="tag tag-warning">1</span>' in mianyang
    assert "填报中" in mianyang
    assert "未开始" in dict(rows)["zigong"]
    assert 'hx-trigger="every' in province.get("/rounds/dashboard").get_data(as_text=True)


def test_new_round_becomes_current_and_keeps_cities_and_accounts(app, at_before_deadline):
    _, province = _clients(app)
    response = province.post("/rounds/new", data=_new_round(confirm_replace="y"))
    assert response.status_code == 303
    page = logged_in_client(app, "chengdu").get("/").get_data(as_text=True)
    assert "2023年跨行业跨领域工业互联网平台" in page and "2023年04月10日 23:59" in page
    duplicate = province.post("/rounds/new", data=_new_round(), follow_redirects=True)
    assert "2023年的申报批次已存在" in duplicate.get_data(as_text=True)


def test_a_refused_deadline_change_keeps_what_the_officer_typed(app, at_before_deadline):
    """Refused (a moment already past without the confirmation, or a time that cannot be read):
    the page comes back with the typed text in the field and the reason beside it, and the
    round's deadline is unchanged."""
    _, province = _clients(app)
    with app.app_context():
        round_ = db.session.scalar(db.select(Round))
        round_id, before = round_.id, round_.deadline
    for typed, reason in (("2022年3月1日18时", "已过"), ("2022-13-45", "「报送截止时间（北京时间）」：日期“2022-13-45”不存在"), ("明天下午", "「报送截止时间（北京时间）」：")):
        page = province.post(f"/rounds/{round_id}/deadline", data={"deadline": typed})
        html = page.get_data(as_text=True)
        assert page.status_code == 422, typed
        field = re.search(r'<input type="text" name="deadline" value="([^"]*)"[^>]*aria-invalid="true"', html)
        assert field and field[1] == typed, typed
        error = re.search(rf'id="deadline-error-{round_id}" role="alert">(.*?)</div>', html, re.S)
        assert error and reason in error[1], (typed, error and error[1])
    with app.app_context():
        assert db.session.get(Round, round_id).deadline == before
    confirmed = province.post(f"/rounds/{round_id}/deadline", data={"deadline": "2022年3月1日18时", "confirm_past": "y"})
    assert confirmed.status_code == 303


def test_a_refused_new_round_keeps_every_field_typed(app, at_before_deadline):
    """The 2022 notice file (shipped, offered first) names a year that has its round: refused,
    with every box as typed and the notice chosen still chosen."""
    _, province = _clients(app)
    typed = {"notice_file": "2022.toml", "title": "2022年重复批次", "notice_number": "川经信办函〔2022〕99号",
             "deadline": "2022/4/1", "contact_name": "魏鹏程", "contact_phone": "028-86264036",
             "contact_email": "879603923@qq.com"}
    page = province.post("/rounds/new", data=typed)
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and "2022年的申报批次已存在（通知文件 2022.toml 是2022年的通知）" in html
    for name, value in typed.items():
        if name != "notice_file":
            assert re.search(rf'name="{name}"[^>]*value="{re.escape(value)}"|value="{re.escape(value)}"[^>]*name="{name}"', html), name
    assert re.search(r'<option selected value="2022.toml">2022.toml（2022年跨行业跨领域工业互联网平台，', html)
    page = province.post("/rounds/new", data={**typed, "deadline": "明天下午"})
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and "「报送截止时间（北京时间）」：" in html
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*name="deadline"|<input[^>]*name="deadline"[^>]*aria-invalid="true"', html)
    assert 'value="2022年重复批次"' in html


NOTICE_2023 = notice_text().encode("utf-8")


def _new_round(**fields) -> dict:
    """The 开启新批次 form with the 2023 notice uploaded (a fresh stream per request)."""
    return {"notice_upload": (io.BytesIO(NOTICE_2023), "2023.toml"), **fields}


NEW_TITLE = "2023年跨行业跨领域工业互联网平台"


def _current_title(app) -> str:
    with app.app_context():
        return db.session.scalar(db.select(Round.title).where(Round.is_current))


def test_a_new_round_does_not_replace_one_still_under_way_without_confirmation(app, at_before_deadline):
    """Opening a round makes it the current one for every page and every city: while the current
    round's deadline has not passed (or cities wait for 受理) it takes an explicit confirmation,
    and the earlier round can be put back."""
    city, province = _clients(app)
    before = _current_title(app)
    page = province.get("/rounds/").get_data(as_text=True)
    assert 'id="round-running"' in page and "报送截止时间" in page and "未到" in page
    refused = province.post("/rounds/new", data=_new_round())
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "尚未结束" in html and "请勾选“确认开启新批次”" in html
    assert "上传的 2023.toml 可以使用（2023年跨行业跨领域工业互联网平台" in html and "请再次选择该文件" in html
    assert _current_title(app) == before
    opened = province.post("/rounds/new", data=_new_round(confirm_replace="y"))
    assert opened.status_code == 303 and _current_title(app) == NEW_TITLE
    with app.app_context():
        earlier = db.session.scalar(db.select(Round).where(Round.title == before))
        earlier_id = earlier.id
    page = province.get("/rounds/").get_data(as_text=True)
    assert f"/rounds/{earlier_id}/current" in page and "设为当前批次" in page
    assert city.post(f"/rounds/{earlier_id}/current").status_code == 404  # the province's alone
    back = province.post(f"/rounds/{earlier_id}/current", follow_redirects=True)
    assert "已设为当前批次" in back.get_data(as_text=True) and _current_title(app) == before
    [opened_event] = audit_events(app, "round.opened")
    [back_event] = audit_events(app, "round.made_current")
    assert opened_event.before == {"current": before} and back_event.id > opened_event.id
    assert back_event.before == {"current": NEW_TITLE} and back_event.after == {"current": before}


def test_a_round_over_is_replaced_without_a_question(app):
    clock.set_now(DEADLINE + timedelta(days=30))
    try:
        _, province = _clients(app)
        assert 'id="round-running"' not in province.get("/rounds/").get_data(as_text=True)
        assert province.post("/rounds/new", data=_new_round()).status_code == 303
    finally:
        clock.set_now(None)


def test_a_new_rounds_contacts_are_read_like_every_phone_and_email(app, at_before_deadline):
    _, province = _clients(app)
    page = province.post("/rounds/new", data=_new_round(contact_phone="abc", contact_email="not-an-email",
                                                        confirm_replace="y"))
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "「联系电话」格式不正确" in html and "「电子邮箱」不是有效的电子邮箱地址" in html
    assert _current_title(app) != NEW_TITLE
    home = logged_in_client(app, "chengdu").get("/").get_data(as_text=True)
    assert "（依据工信厅信发函〔2022〕38号）" in home
    province.post("/rounds/new", data=_new_round(confirm_replace="y"))
    home = logged_in_client(app, "chengdu").get("/").get_data(as_text=True)
    assert "（依据工信厅信发函〔2023〕125号）" in home  # the new notice's


def test_a_new_round_needs_a_future_deadline_and_takes_the_notices_contacts(app, at_before_deadline):
    """A round opened with a deadline already past would close reporting for every city at once:
    refused. A box left blank is the notice's (its contacts); one filled in is the round's."""
    _, province = _clients(app)
    page = province.get("/rounds/").get_data(as_text=True)
    assert re.search(r'<input id="contact_name" name="contact_name" placeholder="留空则按通知" type="text" value="">', page)
    past = province.post("/rounds/new", data=_new_round(deadline="2022年3月1日", confirm_replace="y"))
    html = past.get_data(as_text=True)
    assert past.status_code == 422 and "「报送截止时间」2022年03月01日" in html and "已过" in html
    assert _current_title(app) != NEW_TITLE
    opened = province.post("/rounds/new", data=_new_round(contact_name="", contact_phone="028-86260000",
                                                          deadline="2023-05-20 17:00", confirm_replace="y"))
    assert opened.status_code == 303
    with app.app_context():
        round_ = db.session.scalar(db.select(Round).where(Round.is_current))
        assert (round_.year, round_.title, round_.contact_name, round_.contact_phone, round_.contact_email) == (
            2023, NEW_TITLE, "大数据与信息化处 魏鹏程", "028-86260000", "879603923@qq.com")
        assert round_.deadline == datetime(2023, 5, 20, 17, 0, tzinfo=clock.SHANGHAI)
        # the notice kept is the file's, deadline and all: what was typed is the round's
        assert round_.notice["notice"]["deadline"] == "2023-04-10T23:59:59+08:00"


def test_a_round_opened_by_mistake_can_be_deleted_while_it_holds_nothing(app, at_before_deadline):
    city, province = _clients(app)
    create_application(app, with_form=False)  # the earlier round holds an application
    province.post("/rounds/new", data=_new_round(confirm_replace="y"))
    with app.app_context():
        ids = dict(db.session.execute(db.select(Round.title, Round.id)).all())
    mistaken, earlier = ids[NEW_TITLE], next(i for t, i in ids.items() if t != NEW_TITLE)
    refused = province.post(f"/rounds/{mistaken}/delete", follow_redirects=True).get_data(as_text=True)
    assert "是当前批次，不能删除" in refused
    province.post(f"/rounds/{earlier}/current")
    page = province.get("/rounds/").get_data(as_text=True)  # offered for the empty round alone
    assert f'action="/rounds/{mistaken}/delete"' in page and f'action="/rounds/{earlier}/delete"' not in page
    held = province.post(f"/rounds/{mistaken}/delete", follow_redirects=True)
    assert "已删除批次" in held.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Round, mistaken) is None
    province.post("/rounds/new", data=_new_round(confirm_replace="y"))
    with app.app_context():
        again = db.session.scalar(db.select(Round.id).where(Round.title == NEW_TITLE))
    province.post(f"/rounds/{again}/current")  # already current: refused, harmless
    refused = province.post(f"/rounds/{earlier}/delete", follow_redirects=True).get_data(as_text=True)
    assert "不能删除" in refused and "1 项申报" in refused
    assert f'action="/rounds/{earlier}/delete"' not in refused  # it holds an application: not offered
    assert city.post(f"/rounds/{again}/delete").status_code == 404
    assert [e.summary for e in audit_events(app, "round.deleted")] == [f"删除批次：{NEW_TITLE}"]


def test_reminder_banner_from_seven_days_before(app):
    clock.set_now(DEADLINE - timedelta(days=8))
    city, _ = _clients(app)
    create_application(app, with_form=False)
    assert "距报送截止不足7天" not in city.get("/applications/").get_data(as_text=True)
    clock.set_now(DEADLINE - timedelta(days=6))
    city, _ = _clients(app)
    page = city.get("/applications/").get_data(as_text=True)
    assert "距报送截止不足7天" in page and "1 份申报未上传申报书" in page and "尚未完成市州初审" in page


def test_publishing_early_is_asked_for_in_the_page(app, at_before_deadline):
    """Cities unreported and the deadline ahead: the 公布推荐结果 form carries the 确认提前公布
    box the service needs (a plain post without it is refused, with the reasons)."""
    _, province = _clients(app)
    page = province.get("/rounds/").get_data(as_text=True)
    form = re.search(r'<form[^>]*/results"[^>]*>(.*?)</form>', page, re.S)[1]
    assert 'name="confirm_early" value="y" required' in form and "确认提前公布" in form
    with app.app_context():
        round_id = db.session.scalar(db.select(Round.id).where(Round.is_current))
    refused = province.post(f"/rounds/{round_id}/results", data={"publish": "1"}, follow_redirects=True)
    assert "为时尚早" in refused.get_data(as_text=True) and "个市（州）未报送" in refused.get_data(as_text=True)
    province.post(f"/rounds/{round_id}/results", data={"publish": "1", "confirm_early": "y"})
    with app.app_context():
        assert db.session.get(Round, round_id).results_published
