"""The province's desk for one city: every form refused comes back as the officer typed it, with
the message beside the field; dates of receipt are days up to today; the extension form asks for
a confirmation only when one can matter; publishing early needs an explicit confirmation."""
import html
import re
from datetime import date, datetime, timedelta

import pytest

from xkxl_intranet import clock
from xkxl_intranet.batches import desk, settings
from xkxl_intranet.domain.errors import Refused
from xkxl_intranet.extensions import db
from xkxl_intranet.review import marking
from xkxl_intranet.rounds.models import City, CityBatch, Round
from xkxl_intranet.rounds.state import batch_for_write, current_round

from helpers import audit_events, create_application, logged_in_client, user_by_name
from reports.helpers import user

DEADLINE = datetime(2022, 3, 21, 23, 59, 59, tzinfo=clock.SHANGHAI)
BEFORE = DEADLINE - timedelta(days=2)
AFTER = DEADLINE + timedelta(days=3)


@pytest.fixture(autouse=True)
def before_the_deadline():
    clock.set_now(BEFORE)
    yield
    clock.set_now(None)


def _city_id(app, username="chengdu") -> int:
    return user_by_name(app, username).city_id


def _reported(app, username="chengdu") -> int:
    clerk = logged_in_client(app, username)
    application_id = create_application(app, username)
    assert clerk.post(f"/applications/{application_id}/review", data={"decision": "passed"}).status_code == 303
    assert clerk.post("/rounds/batch/report", data={"scan_missing_acknowledged": "y"}).status_code == 303
    return application_id


def _batch(app, username="chengdu") -> CityBatch:
    with app.app_context():
        found = db.session.scalar(db.select(CityBatch).where(CityBatch.city_id == _city_id(app, username)))
        if found is not None:
            db.session.expunge(found)
        return found


def _input(page: str, name: str) -> str:
    """The tag of the form control named ``name``."""
    match = re.search(rf'<(?:input|textarea)[^>]*\bname="{name}"[^>]*>(?:[^<]*</textarea>)?', page)
    assert match, name
    return html.unescape(match.group(0))


def _message_beside(page: str, field_id: str) -> str:
    """The messages of the box ``aria-describedby`` points to from the field ``field_id``."""
    field = re.search(rf'<(?:input|textarea|select)[^>]*\bid="{field_id}"[^>]*>', page)
    assert field and 'aria-invalid="true"' in field.group(0), field_id
    described = re.search(r'aria-describedby="([^"]+)"', field.group(0))[1]
    box = re.search(rf'<div id="{described}"[^>]*>(.*?)</div>', page, re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", box[1]))


# ---- 纸质材料 --------------------------------------------------------------------------------------

def test_a_refused_paper_record_keeps_all_four_values_and_says_which_field(app, province_client):
    city_id = _city_id(app)
    saved = {"paper_forms_received_on": "2022-03-17", "paper_disc_received_on": "",
             "paper_summary_received_on": "", "paper_note": "EMS 1"}
    assert province_client.post(f"/rounds/cities/{city_id}/paper", data=saved).status_code == 303
    typed = {"paper_forms_received_on": "2022-03-1x", "paper_disc_received_on": "2022年3月18日",
             "paper_summary_received_on": "", "paper_note": "光盘一张"}
    response = province_client.post(f"/rounds/cities/{city_id}/paper", data=typed)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'value="2022-03-1x"' in _input(page, "paper_forms_received_on")
    assert 'value="2022年3月18日"' in _input(page, "paper_disc_received_on")
    assert 'value="光盘一张"' in _input(page, "paper_note")
    beside = _message_beside(page, "paper_forms_received_on")
    assert "「申报书纸质版（一式三份）收到日期」不是有效的日期：“2022-03-1x”" in beside
    assert "2022-03-18、2022/3/18 或 2022年3月18日" in beside and "2015" not in page
    assert "autofocus" in _input(page, "paper_forms_received_on")  # the place to correct
    batch = _batch(app)  # nothing saved is lost, nothing half-typed is kept
    assert batch.paper_forms_received_on == date(2022, 3, 17) and batch.paper_disc_received_on is None
    assert batch.paper_note == "EMS 1"
    desk_page = province_client.get(f"/rounds/cities/{city_id}").get_data(as_text=True)
    assert "光盘一张" not in desk_page and 'value="2022-03-17"' in desk_page  # typed values shown once


def test_a_date_of_receipt_is_a_day_not_a_month(app, province_client):
    response = province_client.post(f"/rounds/cities/{_city_id(app)}/paper",
                                    data={"paper_disc_received_on": "2022年3月"})
    assert response.status_code == 422
    beside = _message_beside(response.get_data(as_text=True), "paper_disc_received_on")
    assert "「电子版光盘收到日期」请填写到哪一天：“2022年3月”只有月份" in beside
    assert _batch(app) is None or _batch(app).paper_disc_received_on is None


def test_a_date_of_receipt_after_today_is_refused_by_the_service(app):
    with app.app_context():
        province = user("province")
        batch = batch_for_write(current_round().id, _city_id(app))
        tomorrow = BEFORE.date() + timedelta(days=1)
        with pytest.raises(Refused) as refused:
            desk.record_paper(province, batch, {"paper_forms_received_on": BEFORE.date(),
                                                "paper_disc_received_on": tomorrow}, "")
        assert refused.value.field == "paper_disc_received_on"
        assert refused.value.message == ("「电子版光盘收到日期」2022-03-20：收到日期不能晚于今天（2022-03-19）。")
        desk.record_paper(province, batch, {"paper_forms_received_on": BEFORE.date()}, "")  # today is fine
        assert batch.paper_forms_received_on == BEFORE.date()


def test_a_future_date_of_receipt_is_refused_beside_its_field(app, province_client):
    typed = {"paper_forms_received_on": "2022-03-18", "paper_disc_received_on": "",
             "paper_summary_received_on": "2030-01-01", "paper_note": "汇总表"}
    response = province_client.post(f"/rounds/cities/{_city_id(app)}/paper", data=typed)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "收到日期不能晚于今天（2022-03-19）" in _message_beside(page, "paper_summary_received_on")
    assert 'value="2022-03-18"' in _input(page, "paper_forms_received_on")
    assert 'value="汇总表"' in _input(page, "paper_note")
    assert _batch(app) is None or _batch(app).paper_forms_received_on is None  # nothing of it saved


def test_the_paper_form_hints_at_a_day(app, province_client):
    page = province_client.get(f"/rounds/cities/{_city_id(app)}").get_data(as_text=True)
    assert "日期如 2022-03-18、2022/3/18 或 2022年3月18日；未收到的留空。" in page
    assert "2015" not in page


# ---- 延期 ------------------------------------------------------------------------------------------

def test_a_refused_extension_keeps_deadline_reason_and_confirmation(app):
    clock.set_now(AFTER)
    province_client = logged_in_client(app, "province")
    city_id = _city_id(app)
    typed = {"deadline": "2022-03-22 18:00", "reason": "企业补充审计报告", "confirm_past": ""}
    response = province_client.post(f"/rounds/cities/{city_id}/extension", data=typed)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'value="2022-03-22 18:00"' in _input(page, "deadline") and "企业补充审计报告" in _input(page, "reason")
    assert "已过：保存后成都市将立即不能报送" in _message_beside(page, "confirm_past")
    # Ticked, but no reason: the reason is asked for beside its box and the tick stays.
    response = province_client.post(f"/rounds/cities/{city_id}/extension",
                                    data={**typed, "reason": "", "confirm_past": "y"})
    page = response.get_data(as_text=True)
    assert "请填写延期原因" in _message_beside(page, "ext-reason")
    assert "checked" in _input(page, "confirm_past") and 'value="2022-03-22 18:00"' in _input(page, "deadline")
    assert _batch(app) is None or _batch(app).extension_deadline is None


def test_the_confirmation_is_offered_only_when_the_round_deadline_has_passed(app, province_client):
    city_id = _city_id(app)
    page = province_client.get(f"/rounds/cities/{city_id}").get_data(as_text=True)
    assert 'name="confirm_past"' not in page  # before it, any extension beyond it is ahead too
    assert "须晚于本批次截止时间 2022年03月21日 23:59:59" in page
    clock.set_now(AFTER)
    page = logged_in_client(app, "province").get(f"/rounds/cities/{city_id}").get_data(as_text=True)
    assert 'name="confirm_past"' in page and "确认立即截止：所填延期时间也已过去" in page


def test_an_extension_must_end_after_the_round_deadline_to_the_second(app):
    with app.app_context():
        round_ = current_round()
        round_.deadline = datetime(2022, 3, 21, 18, 0, tzinfo=clock.SHANGHAI)  # admits 18:00:59
        province = user("province")
        batch = batch_for_write(round_.id, _city_id(app))
        with pytest.raises(Refused) as refused:
            desk.grant_extension(province, batch, datetime(2022, 3, 21, 18, 0, 30, tzinfo=clock.SHANGHAI), "补材料")
        assert refused.value.field == "deadline"
        assert refused.value.message.startswith(
            "延期截止时间应晚于本批次截止时间（2022年03月21日 18:00）：所填的 2022年03月21日 18:00:30 不晚于它")
        desk.grant_extension(province, batch, datetime(2022, 3, 21, 18, 1, tzinfo=clock.SHANGHAI), "补材料")
        assert batch.extension_deadline == datetime(2022, 3, 21, 18, 1, tzinfo=clock.SHANGHAI)


def test_an_extension_before_the_round_deadline_is_refused_beside_the_time(app, province_client):
    typed = {"deadline": "2022-03-21", "reason": "市州申请"}  # the whole day: the round's own deadline
    response = province_client.post(f"/rounds/cities/{_city_id(app)}/extension", data=typed)
    assert response.status_code == 422
    beside = _message_beside(response.get_data(as_text=True), "ext-deadline")
    assert "延期截止时间应晚于本批次截止时间（2022年03月21日 23:59:59）" in beside


# ---- 退回、受理、推荐结果 -----------------------------------------------------------------------------

def test_a_refused_return_keeps_the_reason(app, province_client):
    city_id = _city_id(app)
    _reported(app)
    assert province_client.post(f"/rounds/cities/{city_id}/return", data={"reason": "材料不全"}).status_code == 303
    reason = "第二份申报缺少审计报告，请补充后重新报送。" * 3
    response = province_client.post(f"/rounds/cities/{city_id}/return", data={"reason": reason})
    assert response.status_code == 422  # already returned: the reason typed is still there to copy
    page = response.get_data(as_text=True)
    assert "成都市当前为“退回修改”，不能退回。" in page and reason in _input(page, "reason")
    assert _batch(app).return_reason == "材料不全"


def test_an_empty_return_reason_is_asked_for_beside_its_box(app, province_client):
    _reported(app)
    response = province_client.post(f"/rounds/cities/{_city_id(app)}/return", data={"reason": " "})
    assert response.status_code == 422
    assert "请填写退回原因" in _message_beside(response.get_data(as_text=True), "return-reason")
    assert _batch(app).state == "reported"


def test_a_refused_mark_keeps_the_choice_and_the_note_in_its_row(app, province_client, monkeypatch):
    application_id = _reported(app)

    def refuse(*args, **kwargs):
        raise Refused("评分在此期间有变化，请核对后再标记。")
    monkeypatch.setattr(marking, "mark_application", refuse)
    response = province_client.post(f"/rounds/applications/{application_id}/mark",
                                    data={"mark": "cultivation", "note": "综合评审第五"})
    assert response.status_code == 422
    row = re.search(rf'<tr id="app-{application_id}">(.*?)</tr>', response.get_data(as_text=True), re.S)[1]
    assert "评分在此期间有变化，请核对后再标记。" in row
    assert re.search(r'<option value="cultivation" selected>', row) and 'value="综合评审第五"' in row
    assert re.search(r'<select name="mark"[^>]*autofocus', row)


def test_a_mark_of_an_unreported_application_says_why(app, province_client):
    application_id = create_application(app)
    response = province_client.post(f"/rounds/applications/{application_id}/mark",
                                    data={"mark": "recommended", "note": "x"})
    assert response.status_code == 422
    assert "只有已报送的申报可以标记推荐结果。" in response.get_data(as_text=True)


# ---- 公布推荐结果 -----------------------------------------------------------------------------------

def test_publishing_early_needs_a_confirmation_that_says_why(app):
    _reported(app)
    with app.app_context():
        round_ = current_round()
        with pytest.raises(Refused) as refused:
            settings.publish_results(user("province"), round_, True)
        assert refused.value.message.startswith(
            "现在公布推荐结果为时尚早：尚有 20 个市（州）未报送；报送截止时间（2022年03月21日 23:59:59）未到。")
        assert not round_.results_published
        settings.publish_results(user("province"), round_, True, confirm_early=True)
        db.session.commit()
        assert round_.results_published
    event = audit_events(app, "round.results_published")[-1]
    assert "经确认提前公布：尚有 20 个市（州）未报送；报送截止时间（2022年03月21日 23:59:59）未到" in event.summary


def test_after_the_deadline_with_every_city_reported_publishing_needs_no_confirmation(app):
    clock.set_now(AFTER)
    with app.app_context():
        round_ = current_round()
        assert settings.reasons_to_wait(round_) == ["尚有 21 个市（州）未报送"]
        for city_id in db.session.scalars(db.select(City.id)):
            batch_for_write(round_.id, city_id).state = "reported"
        assert settings.reasons_to_wait(round_) == []
        settings.publish_results(user("province"), round_, True)
        settings.publish_results(user("province"), round_, False)  # withdrawing never asks
        assert not round_.results_published


def test_a_plain_post_without_the_confirmation_is_refused(app, province_client):
    with app.app_context():
        round_id = db.session.scalar(db.select(Round.id))
    page = province_client.post(f"/rounds/{round_id}/results", data={"publish": "1"},
                                follow_redirects=True).get_data(as_text=True)
    assert "现在公布推荐结果为时尚早：尚有 21 个市（州）未报送；报送截止时间（2022年03月21日 23:59:59）未到。" in page
    assert "请勾选“确认提前公布”" in page
    with app.app_context():
        assert not db.session.get(Round, round_id).results_published
    assert province_client.post(f"/rounds/{round_id}/results",
                                data={"publish": "1", "confirm_early": "y"}).status_code == 303
    with app.app_context():
        assert db.session.get(Round, round_id).results_published
