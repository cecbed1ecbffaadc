"""评审设置 and manual assignment refused: the page comes back in place (422) with everything
typed and the message beside its field; the number of experts per application is bounded by
the enabled experts; locked weights look locked."""
from __future__ import annotations

import re

import pytest

from xkxl_intranet.domain.errors import Refused
from xkxl_intranet.extensions import db
from xkxl_intranet.review.queries import review_for
from xkxl_intranet.review.setup import save_settings
from xkxl_intranet.rounds.state import current_round

from .helpers import deadline_in, fill, give, make_expert, open_review, passed, report, user
from helpers import user_by_name

WEIGHTS = {"weight_resources": "25", "weight_technology": "20", "weight_empowerment": "25",
           "weight_contribution": "15", "weight_sustainability": "15"}


def _field(page: str, name: str) -> str:
    """The markup of one form field's ``<div class="field">`` on the page."""
    match = re.search(r'<div class="field[^"]*">(?:(?!<div class="field).)*?name="' + name + r'".*?</div>',
                      page, re.S)
    assert match, name
    return match.group(0)


def test_a_refused_past_deadline_keeps_what_was_typed(app, province_client):
    make_expert(app, "expert3", "王志强")
    open_review(app, n=2)  # saved: a deadline 10 days ahead, 2 experts
    typed = {**WEIGHTS, "deadline": "2020-11-01 18:00", "experts_per_application": "3"}
    response = province_client.post("/review/settings", data=typed)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="2020-11-01 18:00"' in _field(page, "deadline")
    assert 'value="3"' in _field(page, "experts_per_application")
    confirm = _field(page, "confirm_past")
    assert "has-error" in confirm and "请勾选“确认立即截止”" in confirm
    with app.app_context():
        assert review_for(current_round()).experts_per_application == 2  # nothing saved


def test_zero_experts_is_out_of_range_not_missing(app, province_client):
    response = province_client.post("/review/settings", data={**WEIGHTS, "deadline": "2099-04-08 18:00",
                                                              "experts_per_application": "0"})
    field = _field(response.get_data(as_text=True), "experts_per_application")
    assert response.status_code == 422 and 'value="0"' in field
    assert "每份申报的评审专家人数应在1至2之间" in field and "请填写" not in field


def test_more_experts_per_application_than_enabled_experts_is_refused(app, province_client):
    with app.app_context():  # two experts (expert1, expert2) are enabled
        with pytest.raises(Refused, match="应在1至2之间（目前启用的评审专家共2位）") as refused:
            save_settings(user("province"), current_round(), deadline=deadline_in(), weights={
                k.removeprefix("weight_"): v for k, v in WEIGHTS.items()}, experts_per_application=3)
        assert refused.value.field == "experts_per_application"
    make_expert(app, "expert3", "王志强")
    response = province_client.post("/review/settings", data={**WEIGHTS, "deadline": "2099-04-08 18:00",
                                                              "experts_per_application": "3"})
    assert response.status_code == 303


def test_refused_weights_come_back_beside_the_weights(app, province_client):
    response = province_client.post("/review/settings", data={**WEIGHTS, "weight_sustainability": "10",
                                                              "deadline": "2099-04-08 18:00",
                                                              "experts_per_application": "2"})
    page = response.get_data(as_text=True)
    weights = page[page.index('<fieldset class="weights'):page.index("</fieldset>")]
    assert response.status_code == 422 and "has-error" in weights and "合计应为100，现为95" in weights
    assert 'value="10"' in weights and 'value="2099-04-08 18:00"' in page


def test_locked_weights_are_marked_locked(app, province_client):
    open_review(app)
    application_id = passed(app)
    report(app, "chengdu")
    fill(app, give(app, application_id, "expert1"), 8)
    page = province_client.get("/review/manage").get_data(as_text=True)
    weights = page[page.index('<fieldset class="weights'):page.index("</fieldset>")]
    assert "is-locked" in weights and "已锁定" in weights
    assert weights.count("readonly") == 5 and 'aria-describedby="weights-locked"' in weights


def test_a_refused_manual_assignment_comes_back_in_its_row(app, province_client):
    open_review(app)
    application_id = passed(app)
    report(app, "chengdu")
    give(app, application_id, "expert2")
    expert2 = user_by_name(app, "expert2").id
    response = province_client.post(f"/review/applications/{application_id}/assign",
                                    data={"expert_id": str(expert2)})
    page = response.get_data(as_text=True)
    row = page[page.index(f'<tr id="app-{application_id}"'):]
    row = row[:row.index("</tr>")]
    assert response.status_code == 422
    assert f'<option value="{expert2}" selected>' in row and "已分配给专家 李佳音" in row
    assert 'aria-label="撤销 李佳音 的分配"' in row  # the display name, not the login name


def test_the_page_warns_when_an_expert_was_disabled_since(app, province_client):
    make_expert(app, "expert3", "王志强")
    open_review(app, n=3)
    with app.app_context():
        user("expert3").is_enabled = False
        db.session.commit()
    page = province_client.get("/review/manage").get_data(as_text=True)
    assert "每份申报需 3 位专家，但目前启用的评审专家只有 2 位" in page
