"""The ministry's quota (domain.md, "The province's recommendation"): a third 推荐工信部, not
counting the platforms the province flags 「2020年已获评，不占名额」, asks the province to
confirm, quoting the notice; confirmed, it is marked and the count audited; never a block. The
ranking, the desk and the roster show the count against 2."""
from __future__ import annotations

import re

import pytest

from xkxl_intranet.applications.models import Application
from xkxl_intranet.domain.errors import Refused
from xkxl_intranet.domain.recommendation_quota import QUOTA
from xkxl_intranet.extensions import db
from xkxl_intranet.review.marking import mark_application, quota_standing
from xkxl_intranet.rounds.state import current_round

from .helpers import open_review, passed, report, user
from helpers import audit_events, get_application, logged_in_client
from reports.helpers import pdf_reader, pdf_text, workbook

NOTICE_WORDS = ("工信厅信发函〔2022〕38号", "「一般不超过2个」", "「2020年已获评的平台需重新申报但不占地方申报名额」")


@pytest.fixture
def four(app):
    """Four platforms 初审通过 in 成都's reported batch; no expert review."""
    ids = [passed(app, platform_name=f"平台{n}") for n in range(1, 5)]
    report(app, "chengdu")
    return ids


def _mark(app, application_id: int, mark: str = "recommended", note: str = "", **kwargs):
    with app.app_context():
        mark_application(user("province"), db.session.get(Application, application_id), mark, note, **kwargs)
        db.session.commit()


def _standing(app):
    with app.app_context():
        return quota_standing(current_round())


def _city_id(app, application_id: int) -> int:
    return get_application(app, application_id).city_id


def test_a_third_recommendation_asks_to_confirm_quoting_the_notice(app, four):
    first, second, third, _ = four
    _mark(app, first)
    _mark(app, second)
    with pytest.raises(Refused) as refused:
        _mark(app, third)
    assert refused.value.field == "confirm_quota"
    assert "将有 3 个" in refused.value.message and all(w in refused.value.message for w in NOTICE_WORDS)
    assert get_application(app, third).province_mark is None
    _mark(app, third, confirm_quota=True)  # a warning, never a block
    assert get_application(app, third).province_mark == "recommended"
    event = audit_events(app, "application.marked")[-1]
    assert event.after["quota"] == {"counted": 3, "limit": 2, "exempt": 0, "confirmed": True}
    assert "推荐工信部 3 / 2（不含2020年已获评 0 个），经确认超出名额" in event.summary
    _mark(app, third, note="排名第三")  # already counted: saving it again asks nothing
    _mark(app, four[3], "cultivation")  # other marks are not counted


def test_platforms_named_in_2020_are_not_counted(app, four):
    first, second, third, fourth = four
    _mark(app, first, quota_exempt=True)
    _mark(app, second)
    _mark(app, third)  # the second counted one: no question
    assert (_standing(app).counted, _standing(app).exempt) == (2, 1)
    flagged = [e for e in audit_events(app, "application.marked") if "quota_exempt" in e.after][0]
    assert (flagged.before["quota_exempt"], flagged.after["quota_exempt"]) == (False, True)
    assert flagged.after["quota"]["counted"] == 0 and flagged.after["quota"]["exempt"] == 1
    with pytest.raises(Refused, match="将有 3 个"):
        _mark(app, first, quota_exempt=False)  # taking the flag away makes it count: a third
    _mark(app, fourth, quota_exempt=True)  # flagged: never asked
    assert (_standing(app).counted, _standing(app).exempt) == (2, 2)


def test_the_desk_asks_for_the_confirmation_beside_its_box(app, four, province_client):
    first, second, third, _ = four
    city_id = _city_id(app, first)
    for application_id in (first, second):
        assert province_client.post(f"/rounds/applications/{application_id}/mark",
                                    data={"mark": "recommended"}).status_code == 303
    page = province_client.get(f"/rounds/cities/{city_id}").get_data(as_text=True)
    assert "全省推荐工信部 2 / 2（不含2020年已获评 0 个）" in page
    assert 'name="confirm_quota"' in page and QUOTA.confirm_label in page
    response = province_client.post(f"/rounds/applications/{third}/mark", data={"mark": "recommended", "note": "排名第三"})
    assert response.status_code == 422
    row = re.search(rf'<tr id="app-{third}">(.*?)</tr>', response.get_data(as_text=True), re.S)[1]
    beside = re.search(rf'<div id="mark-{third}-quota-error">(.*?)</div>', row, re.S)[1]
    assert all(w in beside for w in NOTICE_WORDS) and re.search(r'name="confirm_quota"[^>]*autofocus', row)
    assert get_application(app, third).province_mark is None
    confirmed = province_client.post(f"/rounds/applications/{third}/mark",
                                     data={"mark": "recommended", "note": "排名第三", "confirm_quota": "y"})
    assert confirmed.status_code == 303 and get_application(app, third).province_mark == "recommended"


def test_the_flag_is_set_where_the_province_marks_and_never_by_a_city(app, four, province_client, city_client):
    first = four[0]
    response = province_client.post(f"/rounds/applications/{first}/mark",
                                    data={"mark": "recommended", "quota_exempt": "y"})
    assert response.status_code == 303
    assert get_application(app, first).quota_exempt
    page = province_client.get(f"/rounds/cities/{_city_id(app, first)}").get_data(as_text=True)
    assert re.search(r'name="quota_exempt" value="y" checked', page)
    assert city_client.post(f"/rounds/applications/{four[1]}/mark",
                            data={"mark": "", "quota_exempt": "y"}).status_code == 404
    assert city_client.post(f"/review/applications/{four[1]}/mark",
                            data={"mark": "", "quota_exempt": "y"}).status_code == 404
    assert not get_application(app, four[1]).quota_exempt


def test_the_ranking_and_the_roster_show_the_count_against_2(app, four, province_client):
    first, second, third, _ = four
    _mark(app, first, quota_exempt=True)
    _mark(app, second)
    _mark(app, third)
    open_review(app, n=2)  # the ranking exists once the review is set up
    line = "推荐工信部 2 / 2（不含2020年已获评 1 个）"
    ranking = province_client.get("/review/ranking").get_data(as_text=True)
    assert line in ranking and 'name="confirm_quota"' in ranking
    assert line in province_client.get("/reports/roster/recommended").get_data(as_text=True)
    printed = re.sub(r"\s+", "", pdf_text(pdf_reader(province_client.get("/reports/roster/all.pdf"))))
    assert re.sub(r"\s+", "", line) in printed
    assert line in workbook(province_client.get("/reports/roster/all.xlsx")).active["A2"].value
    viewer = logged_in_client(app, "viewer").get("/review/ranking").get_data(as_text=True)
    assert line in viewer and 'name="confirm_quota"' not in viewer
