"""Issue 19, item 1: the notice decides what blocks. The issue's own cases, end to end: a clerk
saves them, sees a warning that says it is the system's reading, acknowledges it and reports."""
from datetime import datetime

import pytest

from xkxl_intranet import clock
from xkxl_intranet.applications.evaluation import evaluate, recount_all
from xkxl_intranet.applications.models import Application
from xkxl_intranet.extensions import db
from xkxl_intranet.rounds.models import CityBatch

from helpers import application_values, create_application, get_application

BEFORE = datetime(2022, 3, 19, 10, 0, tzinfo=clock.SHANGHAI)
SYSTEM_NOTE = "申报书未规定此项，系系统校核"


@pytest.fixture(autouse=True)
def before_deadline():
    clock.set_now(BEFORE)
    yield
    clock.set_now(None)


def _ninety_of_a_hundred() -> dict:
    """Four device categories that add up to 90 of a total of 100 (the issue's case)."""
    return {"devices_total": "100", "devices_operating": "40", "devices_processing": "30",
            "devices_mobile": "10", "devices_other": "10", "devices_public_cloud": "60",
            "devices_private_cloud": "40", "devices_daily_active_public": "50"}


def _acknowledge_all(app, client, application_id: int) -> None:
    with app.app_context():
        application = db.session.get(Application, application_id)
        rules = [f.rule for f in evaluate(application).open_warnings]
    assert rules
    for rule in rules:
        response = client.post(f"/applications/{application_id}/acknowledge",
                               data={"rule": rule, "note": "企业说明：设备分类有交叉，已核实"})
        assert response.status_code == 303


def test_the_issues_cases_save_warn_and_report(app, city_client):
    application_id = create_application(app, **_ninety_of_a_hundred(), industries_covered="23",
                                        contact_fax="无")
    stored = get_application(app, application_id)
    assert (stored.error_count, stored.values()["contact_fax"]) == (0, None)
    assert stored.open_warning_count == 2  # 90 of 100, 23 industries

    page = city_client.get(f"/applications/{application_id}").get_data(as_text=True)
    assert "分项合计 90 小于总数 100" in page and "超过22" in page and SYSTEM_NOTE in page

    _acknowledge_all(app, city_client, application_id)
    assert city_client.post(f"/applications/{application_id}/review",
                            data={"decision": "passed"}).status_code == 303
    response = city_client.post("/rounds/batch/report", data={"scan_missing_acknowledged": "y"})
    assert response.status_code == 303 and "/rounds/receipts/" in response.headers["Location"]


def test_a_part_larger_than_its_whole_still_blocks_reporting(app, city_client):
    application_id = create_application(app, devices_total="100", devices_operating="70",
                                        devices_processing="30", devices_mobile="10", devices_other="0",
                                        devices_public_cloud="60", devices_private_cloud="40",
                                        devices_daily_active_public="50")
    assert get_application(app, application_id).error_count == 1
    city_client.post(f"/applications/{application_id}/review", data={"decision": "passed"})
    city_client.post("/rounds/batch/report", data={"scan_missing_acknowledged": "y"})
    with app.app_context():
        assert db.session.scalar(db.select(CityBatch.state)) != "reported"


def test_the_live_check_colours_a_sum_below_its_whole_as_a_warning(app, city_client):
    values = application_values(**_ninety_of_a_hundred())
    html = city_client.post("/applications/check", data=values).get_data(as_text=True)
    assert 'id="sum-sum-devices_parts"' in html
    status = html.split('id="sum-sum-devices_parts"', 1)[0].rsplit("<div", 1)[1]
    assert "is-warning" in status and "is-error" not in status


def test_counts_stored_under_the_old_rules_are_recounted_on_upgrade(app):
    application_id = create_application(app, **_ninety_of_a_hundred())
    with app.app_context():
        application = db.session.get(Application, application_id)
        application.error_count, application.open_warning_count = 1, 0  # as the old rules stored it
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["recheck"])
    assert result.exit_code == 0, result.output
    assert "1 份申报" in result.output
    stored = get_application(app, application_id)
    assert (stored.error_count, stored.open_warning_count) == (0, 1)
    with app.app_context():
        assert recount_all() == 0  # nothing left to change
