"""What a city sees of the province's marks (applications.rules.marks_visible_to, one rule for every page,
list, export and audit trail it reads): a mark once the results are published and while its batch
stands 已报送 or 已受理. Returning the batch clears its marks (each audited with the mark it
cleared); a returned batch shows none until it is reported and marked again, and the marks of an
earlier report stay the province's."""
import io
import re
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from xkxl_intranet import clock
from xkxl_intranet.applications.models import Application
from xkxl_intranet.extensions import db
from xkxl_intranet.rounds.models import CityBatch, Receipt, Round

from helpers import audit_events, create_application, get_application, logged_in_client, user_by_name
from reports.helpers import set_fields

DEADLINE = datetime(2022, 3, 21, 23, 59, 59, tzinfo=clock.SHANGHAI)
BEFORE = DEADLINE - timedelta(days=2)
NOTE = "综合评审第一"
SHOWN = '<span class="tag tag-ok">推荐工信部</span>'


@pytest.fixture(autouse=True)
def before_the_deadline():
    clock.set_now(BEFORE)
    yield
    clock.set_now(None)


def _report(client):
    assert client.post("/rounds/batch/report", data={"scan_missing_acknowledged": "y"}).status_code == 303


@pytest.fixture
def marked(app, city_client, province_client):
    """成都 reported one platform, the province marked it 推荐工信部 and published the results."""
    application_id = create_application(app)
    assert city_client.post(f"/applications/{application_id}/review", data={"decision": "passed"}).status_code == 303
    _report(city_client)
    assert province_client.post(f"/rounds/applications/{application_id}/mark",
                                data={"mark": "recommended", "note": NOTE}).status_code == 303
    with app.app_context():
        round_id = db.session.scalar(db.select(Round.id))
    assert province_client.post(f"/rounds/{round_id}/results",
                                data={"publish": "1", "confirm_early": "y"}).status_code == 303
    return application_id


def _return(app, province_client):
    city_id = user_by_name(app, "chengdu").city_id
    assert province_client.post(f"/rounds/cities/{city_id}/return", data={"reason": "请补充审计报告"}).status_code == 303


def _city_sees(city_client, application_id: int) -> dict[str, bool]:
    """Where the city reads the mark: its list, the application's page and its 修改记录, the trail."""
    detail = city_client.get(f"/applications/{application_id}").get_data(as_text=True)
    trail = city_client.get("/audit/").get_data(as_text=True)
    return {"list": SHOWN in city_client.get("/applications/").get_data(as_text=True),
            "page": SHOWN in detail.split('<div class="detail-layout">')[0],
            "history": "省厅标记：推荐工信部" in detail.split('<div class="detail-layout">')[1],
            "trail": "省厅标记：推荐工信部" in trail}


NOWHERE = {"list": False, "page": False, "history": False, "trail": False}
EVERYWHERE = {"list": True, "page": True, "history": True, "trail": True}


def test_published_and_reported_the_city_sees_its_mark(app, marked, city_client):
    assert _city_sees(city_client, marked) == EVERYWHERE


def test_returning_the_batch_clears_its_marks_and_the_city_sees_none(app, marked, city_client, province_client):
    _return(app, province_client)
    assert get_application(app, marked).province_mark is None
    cleared = audit_events(app, "application.marked")[-1]
    assert cleared.before == {"province_mark": "推荐工信部", "province_note": NOTE}
    assert cleared.after == {"province_mark": None, "province_note": ""}
    assert "退回成都市的报送，清除省厅标记：推荐工信部" in cleared.summary
    returned = audit_events(app, "batch.returned")[-1]  # the city reads this one: it names no mark
    assert "推荐工信部" not in str(returned.after) + returned.summary
    assert _city_sees(city_client, marked) == NOWHERE
    trail = city_client.get("/audit/").get_data(as_text=True)
    assert "退回修改" in trail and "清除省厅标记" not in trail and 'value="application.marked"' not in trail


def test_reported_again_the_city_sees_only_the_mark_set_again(app, marked, city_client, province_client):
    _return(app, province_client)
    _report(city_client)  # corrected and reported again: the province has not marked yet
    assert _city_sees(city_client, marked) == NOWHERE
    assert province_client.post(f"/rounds/applications/{marked}/mark",
                                data={"mark": "cultivation", "note": "补充材料后复核"}).status_code == 303
    again = '<span class="tag tag-ok">列入省级培育名单</span>'
    assert again in city_client.get("/applications/").get_data(as_text=True)
    detail = city_client.get(f"/applications/{marked}").get_data(as_text=True)
    assert again in detail and "省厅标记：列入省级培育名单" in detail
    assert _city_sees(city_client, marked) == NOWHERE  # the marks of the earlier report stay the province's
    trail = city_client.get("/audit/").get_data(as_text=True)
    assert "省厅标记：列入省级培育名单" in trail and "清除省厅标记" not in trail
    assert "省厅标记：推荐工信部" in province_client.get("/audit/").get_data(as_text=True)


def test_a_mark_left_on_a_returned_batch_is_not_the_citys_to_see(app, marked, city_client):
    """Whatever a returned batch still holds (a mark from before marks were cleared on return):
    the city sees no mark while its batch is back with it."""
    with app.app_context():
        db.session.scalar(db.select(CityBatch)).state = "returned"
        db.session.commit()
    set_fields(app, marked, province_mark="recommended", province_note=NOTE)
    assert _city_sees(city_client, marked) == NOWHERE
    assert SHOWN in logged_in_client(app, "province").get(f"/applications/{marked}").get_data(as_text=True)


def _text_of(response) -> str:
    assert response.status_code == 200, response.request.path
    if response.mimetype == "application/pdf":
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    if response.mimetype.endswith("spreadsheetml.sheet"):
        workbook = load_workbook(io.BytesIO(response.data))
        return "\n".join(str(v) for ws in workbook for row in ws.iter_rows(values_only=True) for v in row if v)
    return response.get_data(as_text=True)


def test_city_pages_and_exports_never_show_a_mark_of_a_returned_batch(app, marked, city_client, province_client):
    _return(app, province_client)
    set_fields(app, marked, province_mark="recommended", province_note=NOTE)  # even one left in place
    city_id = user_by_name(app, "chengdu").city_id
    with app.app_context():
        receipts = [f"/rounds/receipts/{r}" for r in db.session.scalars(db.select(Receipt.id))]
    urls = ["/", "/applications/", f"/applications/{marked}", "/audit/", "/rounds/batch", "/reports/",
            f"/reports/cities/{city_id}/summary", f"/reports/cities/{city_id}/summary.xlsx",
            f"/reports/cities/{city_id}/summary.pdf", "/reports/template.xlsx?filled=1", "/files/city",
            f"/files/applications/{marked}", *receipts]
    for url in urls:
        text = _text_of(city_client.get(url))
        assert not re.search(r"推荐工信部|列入省级培育名单|未入选", text) and NOTE not in text, url
    with app.app_context():
        assert db.session.get(Application, marked).province_mark == "recommended"  # there, and not shown
