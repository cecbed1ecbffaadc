"""One marking rule for the city desk and the ranking (review/marking.py): while the round's
review has sheets, a mark waits for complete scoring or is set 「不经专家评审直接标记」 with a
reason, audited with the scores seen; without any sheet marks need none; clearing is always
possible. Both routes go through the one service, and both forms offer the same fields."""
from __future__ import annotations

import re

import pytest

from xkxl_intranet.applications.models import Application
from xkxl_intranet.domain.errors import Refused
from xkxl_intranet.extensions import db
from xkxl_intranet.review import marking
from xkxl_intranet.review.aggregation import application_review
from xkxl_intranet.review.marking import BYPASS_LABEL, mark_application
from xkxl_intranet.review.queries import review_for
from xkxl_intranet.rounds.state import current_round

from .helpers import fill, open_review, passed, report, user
from helpers import audit_events, get_application

REASON = "工信部催报，专家评审下周完成，先行报送名单"


def _mark(app, application_id: int, mark: str = "recommended", **kwargs):
    with app.app_context():
        row = mark_application(user("province"), db.session.get(Application, application_id), mark,
                               kwargs.pop("note", ""), **kwargs)
        db.session.commit()
        return row


def _fingerprint(app, application_id: int) -> str:
    with app.app_context():
        return application_review(review_for(current_round()),
                                  db.session.get(Application, application_id)).fingerprint()


def _row(page: str, application_id: int, prefix: str) -> str:
    return re.search(rf'<tr id="{prefix}-{application_id}"[^>]*>(.*?)</tr>', page, re.S)[1]


# ---- the rule, in the service ----------------------------------------------------------------------

def test_a_mark_waits_for_complete_scoring_while_the_round_has_sheets(app, half):
    full, partial, _ = half
    with pytest.raises(Refused) as refused:
        _mark(app, partial)
    assert refused.value.field == "bypass"
    assert "评分未完成（1/2）" in refused.value.message and f"「{BYPASS_LABEL}」" in refused.value.message
    assert get_application(app, partial).province_mark is None and not audit_events(app, "application.marked")
    assert _mark(app, full).completion.complete  # complete scoring: marked as before


def test_marking_without_the_scores_needs_a_reason(app, half):
    _, partial, _ = half
    with pytest.raises(Refused) as refused:
        _mark(app, partial, bypass=True, bypass_reason="  ")
    assert refused.value.field == "bypass_reason"
    assert "请填写「不经专家评审直接标记的理由」" in refused.value.message
    assert get_application(app, partial).province_mark is None


def test_a_mark_without_the_scores_is_audited_with_the_scores_seen(app, half):
    _, partial, _ = half
    _mark(app, partial, "cultivation", bypass=True, bypass_reason=REASON, seen=_fingerprint(app, partial))
    assert get_application(app, partial).province_mark == "cultivation"
    event = audit_events(app, "application.marked")[-1]
    assert event.after["province_mark"] == "列入省级培育名单" and event.after["review_bypass"] == REASON
    assert [s["total"] for s in event.after["review"]["sheets"]] == ["70.00", None]  # what was there to see
    assert event.after["review"]["rank"] is None
    assert f"{BYPASS_LABEL}：{REASON}" in event.summary and "评分未完成（1/2）" in event.summary


def test_clearing_a_mark_is_always_possible_and_audited(app, half):
    _, partial, _ = half
    _mark(app, partial, bypass=True, bypass_reason=REASON)
    _mark(app, partial, "")  # no scores, no reason, no fingerprint needed
    assert get_application(app, partial).province_mark is None
    event = audit_events(app, "application.marked")[-1]
    assert (event.before["province_mark"], event.after["province_mark"]) == ("推荐工信部", None)
    assert "清除标记" in event.summary and "review" in event.after


def test_a_mark_on_scores_that_changed_since_the_page_is_refused_even_with_the_bypass(app, half):
    _, partial, waiting = half
    seen = _fingerprint(app, partial)
    fill(app, waiting, 6)  # the second expert submits after the page was drawn
    with pytest.raises(Refused, match="评分刚有变化"):
        _mark(app, partial, bypass=True, bypass_reason=REASON, seen=seen)


def test_without_any_sheet_in_the_round_marks_need_no_scores(app, province_client):
    """A review set up but nothing given to experts: the ranking marks as the desk does."""
    open_review(app, n=2)
    application_id = passed(app)
    report(app, "chengdu")
    response = province_client.post(f"/review/applications/{application_id}/mark",
                                    data={"mark": "recommended", "note": "综合排名第一"})
    assert response.status_code == 303
    assert get_application(app, application_id).province_mark == "recommended"
    assert "review" not in audit_events(app, "application.marked")[-1].after
    page = province_client.get("/review/ranking").get_data(as_text=True)
    assert 'name="bypass"' not in page  # nothing to bypass


# ---- both routes, one service ------------------------------------------------------------------------

def test_the_desk_and_the_ranking_both_go_through_the_one_service(app, half, province_client, monkeypatch):
    full, partial, _ = half
    calls = []

    def recorded(user_, application, mark, note, **kwargs):
        calls.append((application.id, mark, note, kwargs))
    monkeypatch.setattr(marking, "mark_application", recorded)
    seen = _fingerprint(app, partial)
    typed = {"mark": "cultivation", "note": "说明", "seen": seen, "bypass": "y", "bypass_reason": REASON}
    assert province_client.post(f"/rounds/applications/{partial}/mark", data=typed).status_code == 303
    assert province_client.post(f"/review/applications/{partial}/mark", data=typed).status_code == 303
    expected = (partial, "cultivation", "说明", {"seen": seen, "bypass": True, "bypass_reason": REASON,
                                                 "quota_exempt": False, "confirm_quota": False})
    assert calls == [expected, expected]


def test_the_desk_refuses_what_the_ranking_refuses(app, half, province_client):
    _, partial, _ = half
    city_id = get_application(app, partial).city_id
    desk = province_client.get(f"/rounds/cities/{city_id}").get_data(as_text=True)
    row = _row(desk, partial, "app")
    assert "专家评分 1/2 已提交" in row and 'name="bypass"' in row and 'name="bypass_reason"' in row
    assert f'name="seen" value="{_fingerprint(app, partial)}"' in row
    response = province_client.post(f"/rounds/applications/{partial}/mark",
                                    data={"mark": "recommended", "note": "先行推荐", "seen": _fingerprint(app, partial)})
    assert response.status_code == 422
    row = _row(response.get_data(as_text=True), partial, "app")
    beside = re.search(rf'<div id="mark-{partial}-bypass-error">(.*?)</div>', row, re.S)[1]
    assert "评分未完成（1/2）" in beside and re.search(r'name="bypass"[^>]*autofocus', row)
    assert 'value="先行推荐"' in row and '<option value="recommended" selected>' in row
    assert get_application(app, partial).province_mark is None


def test_the_desk_marks_without_the_scores_as_a_plain_form_post(app, half, province_client):
    _, partial, _ = half
    city_id = get_application(app, partial).city_id
    typed = {"mark": "recommended", "note": "", "seen": _fingerprint(app, partial), "bypass": "y"}
    refused = province_client.post(f"/rounds/applications/{partial}/mark", data=typed)
    assert refused.status_code == 422
    row = _row(refused.get_data(as_text=True), partial, "app")
    assert "请填写「不经专家评审直接标记的理由」" in row and re.search(r'name="bypass_reason"[^>]*autofocus', row)
    assert re.search(r'name="bypass" value="y" checked', row)  # the tick typed is kept
    response = province_client.post(f"/rounds/applications/{partial}/mark", data={**typed, "bypass_reason": REASON})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/rounds/cities/{city_id}#app-{partial}")
    assert get_application(app, partial).province_mark == "recommended"
    assert audit_events(app, "application.marked")[-1].after["review_bypass"] == REASON


def test_the_ranking_offers_the_bypass_and_keeps_what_was_typed(app, half, province_client):
    full, partial, _ = half
    page = province_client.get("/review/ranking?sort=city").get_data(as_text=True)
    row = _row(page, partial, "rank")
    assert "专家评分 1/2 已提交" in row and 'name="bypass"' in row
    assert f'action="/review/applications/{partial}/mark?sort=city"' in row
    assert 'name="bypass"' not in _row(page, full, "rank")  # complete: nothing to bypass
    typed = {"mark": "cultivation", "note": "择优培育", "seen": _fingerprint(app, partial), "bypass": "y",
             "next": "/review/ranking?sort=city"}
    response = province_client.post(f"/review/applications/{partial}/mark?sort=city", data=typed)
    assert response.status_code == 422
    row = _row(response.get_data(as_text=True), partial, "rank")
    assert "请填写「不经专家评审直接标记的理由」" in row and 'value="择优培育"' in row
    response = province_client.post(f"/review/applications/{partial}/mark?sort=city",
                                    data={**typed, "bypass_reason": REASON})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/review/ranking?sort=city#rank-{partial}")
    assert get_application(app, partial).province_mark == "cultivation"
