"""An expert's score sheet: drafts, unreadable points, submission and its lock, the province
reopening a sheet, the review deadline and an extension, live running totals, and the same
through the web as a plain form and as htmx."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from xkxl_intranet import clock
from xkxl_intranet.domain.errors import NotFound, Refused
from xkxl_intranet.extensions import db
from xkxl_intranet.review.models import Assignment, SheetState
from xkxl_intranet.review.scoring import grant_extension, reopen, save_sheet

from .helpers import deadline_in, fill, form_data, give, open_review, reported, sheet, sheet_input, user
from helpers import audit_events, logged_in_client


@pytest.fixture
def sheet_id(app):
    open_review(app, days=10)
    return give(app, reported(app), "expert1")


def test_a_draft_keeps_what_was_typed_and_says_what_a_submission_lacks(app, sheet_id):
    outcome = fill(app, sheet_id, {"devices": "9", "models": "７．５"}, submit=True)
    assert outcome.saved and not outcome.submitted
    assert "已保存为草稿" in outcome.message and "1.3、1.4、1.5 尚未评分" in outcome.message
    saved = sheet(app, sheet_id)
    assert saved.state == SheetState.DRAFT and saved.scores == {"devices": "9", "models": "7.5"}
    assert audit_events(app, "review.sheet_saved")[-1].after["scores"] == {"devices": "9", "models": "7.5"}


def test_unreadable_points_save_nothing_and_name_the_indicator(app, sheet_id):
    fill(app, sheet_id, 7, submit=False)
    with app.app_context():
        sheet_ = db.session.get(Assignment, sheet_id)
        typed = sheet_input(7)
        typed.scores["parks"] = "十"
        typed.scores["sme"] = "10.5"
        outcome = save_sheet(user("expert1"), sheet_, typed)
        db.session.commit()
    assert not outcome.saved and set(outcome.errors) == {"parks", "sme"}
    assert "3.2 赋能园区转型成效" in outcome.errors["parks"] and "0至10分之间" in outcome.errors["sme"]
    assert sheet(app, sheet_id).scores["parks"] == "7"  # what was saved before is kept


def test_a_complete_submission_locks_the_sheet_until_the_province_reopens_it(app, sheet_id):
    outcome = fill(app, sheet_id, 8)
    assert outcome.submitted and "已提交" in outcome.message
    submitted = sheet(app, sheet_id)
    assert submitted.state == SheetState.SUBMITTED and submitted.submitted_at is not None
    assert audit_events(app, "review.sheet_submitted")[-1].after["total"] == "80.00"
    with app.app_context():
        sheet_ = db.session.get(Assignment, sheet_id)
        with pytest.raises(Refused, match="评分表已提交，不能再修改"):
            save_sheet(user("expert1"), sheet_, sheet_input(9))
        with pytest.raises(Refused, match="退回原因"):
            reopen(user("province"), sheet_, "")
        reopen(user("province"), sheet_, "3.2 评分与评价意见不一致，请复核")
        db.session.commit()
    reopened = sheet(app, sheet_id)
    assert reopened.state == SheetState.DRAFT and "复核" in reopened.reopen_reason
    assert fill(app, sheet_id, 9).submitted
    assert sheet(app, sheet_id).scores["devices"] == "9"
    assert audit_events(app, "review.sheet_reopened")[-1].username == "province"


def test_another_experts_sheet_cannot_be_written(app, sheet_id):
    with app.app_context(), pytest.raises(NotFound):
        save_sheet(user("expert2"), db.session.get(Assignment, sheet_id), sheet_input(8))


def test_after_the_review_deadline_only_a_sheet_given_more_time_is_saved(app, sheet_id):
    clock.set_now(deadline_in(11))
    with app.app_context():
        sheet_ = db.session.get(Assignment, sheet_id)
        with pytest.raises(Refused, match="已超过评审截止时间"):
            save_sheet(user("expert1"), sheet_, sheet_input(8))
        with pytest.raises(Refused, match="已过"):
            grant_extension(user("province"), sheet_, deadline_in(-0.5), "专家出差")
        grant_extension(user("province"), sheet_, clock.now() + timedelta(days=2), "专家出差，延期两天")
        db.session.commit()
    assert fill(app, sheet_id, 8).submitted
    with app.app_context():
        with pytest.raises(Refused, match="请同时填写该评分表的延期截止时间"):
            clock.set_now(clock.now() + timedelta(days=3))
            reopen(user("province"), db.session.get(Assignment, sheet_id), "请复核")
        reopen(user("province"), db.session.get(Assignment, sheet_id), "请复核",
               extension=clock.now() + timedelta(days=1))
        db.session.commit()
    assert sheet(app, sheet_id).state == SheetState.DRAFT


def test_a_stale_page_is_refused_and_nothing_is_lost(app, sheet_id, expert_client):
    page = expert_client.get(f"/applications/{sheet(app, sheet_id).application_id}")
    assert page.status_code == 200 and 'name="version" value="1"' in page.get_data(as_text=True)
    fill(app, sheet_id, 6, submit=False)  # saved in another window meanwhile
    response = expert_client.post(f"/review/sheets/{sheet_id}", data=form_data(9, version=1))
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "已在其他窗口保存过" in text
    assert 'value="9"' in text  # what was typed is still in the form
    assert sheet(app, sheet_id).scores["devices"] == "6"


def test_the_web_form_saves_a_draft_and_submits(app, sheet_id, expert_client):
    saved = expert_client.post(f"/review/sheets/{sheet_id}", data=form_data(7, version=1))
    assert saved.status_code == 303 and saved.headers["Location"].endswith("#score-sheet")
    page = expert_client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "已保存为草稿。各项已填写完整，可以提交。" in page and "综合得分 <strong>70.00</strong>" in page
    submitted = expert_client.post(f"/review/sheets/{sheet_id}",
                                   data=form_data(7, action="submit", version=sheet(app, sheet_id).version),
                                   headers={"HX-Request": "true"})
    fragment = submitted.get_data(as_text=True)
    assert submitted.status_code == 200 and "<html" not in fragment and 'id="score-sheet"' in fragment
    assert "评分表已锁定" in fragment and 'name="score_devices"' not in fragment
    assert fragment.count("如需修改，请联系省厅退回") == 1  # said once, not also in a message above
    assert submitted.headers["HX-Trigger"] == "sheet-saved"
    assert sheet(app, sheet_id).state == SheetState.SUBMITTED


def test_a_plain_form_with_unreadable_points_shows_them_again_with_the_message(app, sheet_id, expert_client):
    data = form_data(7, version=1)
    data["score_killer_apps"] = "7.55"
    response = expert_client.post(f"/review/sheets/{sheet_id}", data=data)
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "尚未保存" in text
    assert "2.3 自研杀手锏工业APP情况" in text and "最多保留1位小数" in text and 'value="7.55"' in text
    assert sheet(app, sheet_id).scores == {}


def test_live_totals_follow_what_is_typed(app, sheet_id, expert_client):
    typed = form_data({"devices": "10", "models": "10", "apps": "10", "enterprises": "10", "developers": "10",
                       "innovation": "12"})
    response = expert_client.post(f"/review/sheets/{sheet_id}/totals", data=typed, headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'hx-swap-oob="true"' in html
    assert 'id="sheet-dim-resources"' in html and "折合 25.00 分" in html
    assert "综合得分 <strong>25.00</strong>" in html and "已评 5/21 项" in html
    assert "0至10分之间" in html  # 2.1 typed as 12
    assert sheet(app, sheet_id).scores == {}  # nothing is saved while typing


def test_the_experts_list_shows_a_draft_total_as_provisional_and_a_submitted_one_as_final(app, sheet_id):
    expert = logged_in_client(app, "expert1")
    fill(app, sheet_id, {"devices": "9", "models": "7.5"}, submit=False)  # 2 of 21 items scored
    row = _sheet_row(expert.get("/review/").get_data(as_text=True), sheet_id)
    assert "暂计 8.25" in row and "已评 2/21 项，未评项按0分计" in row
    fill(app, sheet_id, 8, submit=False)  # every item scored, not yet submitted
    row = _sheet_row(expert.get("/review/").get_data(as_text=True), sheet_id)
    assert "暂计 80.00" in row and "已评全部 21 项，未提交" in row
    fill(app, sheet_id, 8)
    row = _sheet_row(expert.get("/review/").get_data(as_text=True), sheet_id)
    assert "80.00" in row and "暂计" not in row


def _sheet_row(page: str, sheet_id: int) -> str:
    return re.search(rf'<tr id="sheet-row-{sheet_id}">(.*?)</tr>', page, re.S)[1]


def test_a_submission_is_confirmed_once(app, sheet_id, expert_client):
    """The locked sheet's line says it was submitted: no second message saying the same."""
    plain = expert_client.post(f"/review/sheets/{sheet_id}", data=form_data(7, action="submit", version=1),
                               follow_redirects=True).get_data(as_text=True)
    assert plain.count("如需修改，请联系省厅退回") == 1 and "评分表已锁定" in plain
