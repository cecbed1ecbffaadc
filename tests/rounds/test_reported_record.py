"""The reported record is exact: a reported batch is closed, reading writes nothing, the province
counts what cities reported, marks stay internal until published, deadlines and their
confirmations, and what reporting requires."""
import io
import re
from datetime import datetime, timedelta

import pytest

from xkxl_intranet import clock
from xkxl_intranet.applications.models import Application
from xkxl_intranet.applications.operations import save_application
from xkxl_intranet.audit.models import AuditEvent
from xkxl_intranet.auth.models import User
from xkxl_intranet.demo import seed_demo
from xkxl_intranet.domain.checks import FORM_2022
from xkxl_intranet.domain.errors import Refused
from xkxl_intranet.domain.parsing import parse_input
from xkxl_intranet.extensions import db
from xkxl_intranet.rounds.models import City, CityBatch, Receipt, Round
from xkxl_intranet.rounds.state import current_round

from helpers import application_values, create_application, get_application, logged_in_client, user_by_name

DEADLINE = datetime(2022, 3, 21, 23, 59, 59, tzinfo=clock.SHANGHAI)
BEFORE = DEADLINE - timedelta(days=2)


@pytest.fixture(autouse=True)
def before_the_deadline():
    clock.set_now(BEFORE)
    yield
    clock.set_now(None)


def _passed(app, client, username="chengdu", **overrides) -> int:
    application_id = create_application(app, username, **overrides)
    assert client.post(f"/applications/{application_id}/review", data={"decision": "passed"}).status_code == 303
    return application_id


def _report(client):
    return client.post("/rounds/batch/report", data={"scan_missing_acknowledged": "y"})


def _batch_rows(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(CityBatch))


def _application_count(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(Application))


# ---- a reported batch is closed ------------------------------------------------------------

@pytest.mark.parametrize("state", ["reported", "accepted"])
def test_a_reported_or_accepted_batch_takes_no_new_application(app, city_client, state):
    _passed(app, city_client)
    assert _report(city_client).status_code == 303
    if state == "accepted":
        province = logged_in_client(app, "province")
        city_id = user_by_name(app, "chengdu").city_id
        assert province.post(f"/rounds/cities/{city_id}/accept").status_code == 303
    count = _application_count(app)
    listing = city_client.get("/applications/").get_data(as_text=True)
    assert "新建申报" not in listing and "已报送，申报为只读" in listing
    reports = city_client.get("/reports/").get_data(as_text=True)
    assert "上传导入" not in reports
    # A direct request gets the same Chinese refusal as the edit page, and nothing is created.
    page = city_client.get("/applications/new", follow_redirects=True).get_data(as_text=True)
    assert "申报已报送，申报内容为只读" in page
    posted = city_client.post("/applications/new", data=application_values(), follow_redirects=True)
    assert "申报已报送，申报内容为只读" in posted.get_data(as_text=True)
    imported = city_client.post("/reports/import", data={"file": (io.BytesIO(b"PK"), "指标.xlsx")},
                                content_type="multipart/form-data", follow_redirects=True)
    assert "申报已报送，申报内容为只读" in imported.get_data(as_text=True)
    contact = city_client.post(f"/reports/cities/{user_by_name(app, 'chengdu').city_id}/contact",
                               data={"contact_name": "李四", "contact_phone": "13912345678"},
                               follow_redirects=True)
    assert "联系人不能再修改" in contact.get_data(as_text=True)
    assert _application_count(app) == count


def test_the_service_refuses_a_new_application_in_a_reported_batch(app, city_client):
    _passed(app, city_client)
    _report(city_client)
    with app.app_context():
        clerk = db.session.scalar(db.select(User).where(User.username == "chengdu"))
        with pytest.raises(Refused, match="只读"):
            save_application(clerk, None, parse_input(application_values(), FORM_2022.fields), city=clerk.city, round_=current_round(),
                             expected_version=None)


def test_only_a_return_reopens_the_batch(app, city_client, province_client):
    _passed(app, city_client)
    _report(city_client)
    city_id = user_by_name(app, "chengdu").city_id
    province_client.post(f"/rounds/cities/{city_id}/return", data={"reason": "补充材料"})
    assert "新建申报" in city_client.get("/applications/").get_data(as_text=True)
    response = city_client.post("/applications/new", data=application_values())
    assert response.status_code == 303


def test_reading_never_creates_a_batch_row(app, city_client, viewer_client, province_client):
    assert _batch_rows(app) == 0
    with app.app_context():
        city_ids = db.session.scalars(db.select(City.id)).all()
    for city_id in city_ids[:5]:
        assert viewer_client.get(f"/rounds/cities/{city_id}").status_code == 200
        assert province_client.get(f"/rounds/cities/{city_id}").status_code == 200
    for url in ("/rounds/batch", "/rounds/batch/report", "/", "/reports/summary", "/applications/"):
        assert city_client.get(url, follow_redirects=True).status_code == 200, url
    assert _batch_rows(app) == 0
    create_application(app)  # the first write creates it
    assert _batch_rows(app) == 1


# ---- the province counts and prints what cities reported -----------------------------------

def test_the_dashboard_counts_only_reported_applications_by_default(app, city_client, province_client):
    _passed(app, city_client)
    create_application(app)  # a draft of 成都
    create_application(app, "mianyang")  # 绵阳 has not reported
    html = province_client.get("/rounds/dashboard").get_data(as_text=True)
    assert re.search(r'id="reported-total">0<', html)
    _report(city_client)
    html = province_client.get("/rounds/dashboard").get_data(as_text=True)
    assert re.search(r'id="reported-total">1<', html)
    rows = dict(re.findall(r'<tr data-city="(\w+)">(.*?)</tr>', html, re.S))
    assert re.findall(r'<td class="num">(\d+)', rows["chengdu"])[:1] == ["1"]
    assert re.findall(r'<td class="num">(\d+)', rows["mianyang"])[:1] == ["0"]
    assert "填报中" in rows["mianyang"]  # its state still shows the work going on
    everything = province_client.get("/rounds/dashboard?scope=all").get_data(as_text=True)
    assert "（含未报送）" in everything
    rows = dict(re.findall(r'<tr data-city="(\w+)">(.*?)</tr>', everything, re.S))
    assert re.findall(r'<td class="num">(\d+)', rows["chengdu"])[:2] == ["2", "1"]


# ---- marks stay internal until the round's results are published -------------------------------

def test_marks_reach_the_city_only_when_the_province_publishes(app, city_client, province_client):
    application_id = _passed(app, city_client)
    _report(city_client)
    mark = province_client.post(f"/rounds/applications/{application_id}/mark",
                                data={"mark": "recommended", "note": "综合评审"})
    assert mark.status_code == 303
    for url in (f"/applications/{application_id}", "/applications/"):
        assert "推荐工信部" not in city_client.get(url).get_data(as_text=True), url
    assert "推荐工信部" in province_client.get(f"/applications/{application_id}").get_data(as_text=True)
    with app.app_context():
        round_id = db.session.scalar(db.select(Round.id))
    # 20 cities have not reported and the deadline is ahead: the province confirms it publishes early.
    assert province_client.post(f"/rounds/{round_id}/results",
                                data={"publish": "1", "confirm_early": "y"}).status_code == 303
    for url in (f"/applications/{application_id}", "/applications/"):
        assert "推荐工信部" in city_client.get(url).get_data(as_text=True), url
    province_client.post(f"/rounds/{round_id}/results", data={"publish": "0"})
    assert "推荐工信部" not in city_client.get("/applications/").get_data(as_text=True)
    with app.app_context():
        actions = db.session.scalars(db.select(AuditEvent.action).where(AuditEvent.object_type == "round")).all()
    assert "round.results_published" in actions and "round.results_withdrawn" in actions
    assert city_client.post(f"/rounds/{round_id}/results", data={"publish": "1"}).status_code == 404


# ---- deadlines ------------------------------------------------------------------------------------

def test_an_extension_in_the_past_needs_a_confirmation(app):
    city_id = user_by_name(app, "chengdu").city_id
    clock.set_now(DEADLINE + timedelta(days=5))
    province_client = logged_in_client(app, "province")
    past = {"deadline": "2022-03-24 18:00", "reason": "补交材料"}
    refused = province_client.post(f"/rounds/cities/{city_id}/extension", data=past, follow_redirects=True)
    assert "已过：保存后成都市将立即不能报送" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(CityBatch.extension_deadline)) is None
    province_client.post(f"/rounds/cities/{city_id}/extension", data={**past, "confirm_past": "y"})
    with app.app_context():
        assert db.session.scalar(db.select(CityBatch.extension_deadline)) == datetime(
            2022, 3, 24, 18, 0, tzinfo=clock.SHANGHAI)


def test_the_city_home_shows_its_own_deadline_and_the_dashboard_drops_a_passed_extension(
        app, city_client, province_client):
    city_id = user_by_name(app, "chengdu").city_id
    province_client.post(f"/rounds/cities/{city_id}/extension",
                         data={"deadline": "2022年3月25日", "reason": "企业补充审计报告"})
    home = city_client.get("/").get_data(as_text=True)
    assert "2022年03月25日 23:59:59" in home and "省厅已准予本市（州）延期" in home
    assert "2022年03月25日 23:59:59" not in logged_in_client(app, "mianyang").get("/").get_data(as_text=True)
    dashboard = province_client.get("/rounds/dashboard").get_data(as_text=True)
    assert "延期至 03-25" in dashboard
    with app.app_context():
        round_id = db.session.scalar(db.select(Round.id))
    province_client.post(f"/rounds/{round_id}/deadline", data={"deadline": "2022-03-28"})
    assert "延期至" not in province_client.get("/rounds/dashboard").get_data(as_text=True)


# ---- what reporting requires ---------------------------------------------------------------------

def test_reporting_needs_the_contact_of_the_summary_and_a_word_on_the_missing_scan(app, city_client):
    _passed(app, city_client)
    with app.app_context():
        city = db.session.scalar(db.select(City).where(City.code == "510100"))
        city.contact_name, city.contact_phone = "", "电话待定"
        db.session.commit()
    page = city_client.get("/rounds/batch/report").get_data(as_text=True)
    assert "尚未填写联系人" in page and "「联系方式」格式不正确" in page
    assert _report(city_client).status_code == 200
    with app.app_context():
        city = db.session.scalar(db.select(City).where(City.code == "510100"))
        city.contact_name, city.contact_phone = "张伟", "028-61881234"
        db.session.commit()
    page = city_client.get("/rounds/batch/report").get_data(as_text=True)
    assert 'name="scan_missing_acknowledged"' in page
    refused = city_client.post("/rounds/batch/report", data={}, follow_redirects=True)
    assert "扫描件尚未上传" in refused.get_data(as_text=True)
    assert _report(city_client).status_code == 303
    with app.app_context():
        content = db.session.scalar(db.select(Receipt)).content
    assert content["contact_name"] == "张伟" and content["summary_scan_missing"] is True


def test_the_credit_code_input_takes_a_pasted_code_with_spaces(app, city_client):
    form = city_client.get("/applications/new").get_data(as_text=True)
    field = re.search(r'<input[^>]*name="credit_code"[^>]*>', form).group(0)
    assert 'maxlength="40"' in field
    values = application_values(credit_code="9151 0104 MA61 QY3B 28\u200b")
    assert city_client.post("/applications/new", data=values).status_code == 303
    with app.app_context():
        assert db.session.scalar(db.select(Application.credit_code)) == "91510104MA61QY3B28"


def test_the_demo_keeps_a_reported_and_an_accepted_city(app):
    with app.app_context():
        seed_demo()
        db.session.commit()
        states = set(db.session.scalars(db.select(CityBatch.state)))
    assert {"reported", "accepted"} <= states
    assert get_application(app, 1) is not None


def test_a_refused_extension_keeps_what_the_officer_typed(app, province_client):
    city_id = user_by_name(app, "chengdu").city_id
    typed = {"deadline": "12月10号晚上", "reason": "企业补充审计报告，市局已书面申请"}
    page = province_client.post(f"/rounds/cities/{city_id}/extension", data=typed,
                                follow_redirects=True).get_data(as_text=True)
    assert "无法识别" in page or "格式" in page  # the Chinese refusal ...
    assert typed["reason"] in page and 'value="12月10号晚上"' in page  # ... and nothing to type again
    again = province_client.get(f"/rounds/cities/{city_id}").get_data(as_text=True)
    assert typed["reason"] not in again  # shown once, not forever


def test_publishing_results_says_how_many_cities_have_not_reported(app, city_client, province_client):
    page = province_client.get("/rounds/").get_data(as_text=True)
    assert "尚有 21 个市（州）未报送；报送截止时间（2022年03月21日 23:59:59）未到；" in page
    _passed(app, city_client)
    _report(city_client)
    assert "尚有 20 个市（州）未报送" in province_client.get("/rounds/").get_data(as_text=True)
