"""Issue 25 (5): the expert's sheet marks its six required opinion boxes, and a refused save or
submit comes back headed by an error summary (GOV.UK style) that links each field and takes the
focus, as a plain form and as htmx."""
from __future__ import annotations

import html
import re

import pytest

from xkxl_intranet.domain.review_criteria import CRITERIA_2022, DIMENSIONS, Opinion
from xkxl_intranet.domain.review_scoring import submission_gaps
from xkxl_intranet.review.models import SheetState

from .helpers import fill, form_data, give, open_review, reported, sheet


@pytest.fixture
def sheet_id(app):
    open_review(app, days=10)
    return give(app, reported(app), "expert1")


def _summary(text: str) -> str:
    found = re.search(r'<div class="error-summary" id="sheet-error-summary".*?</ul>', text, re.S)
    assert found, "no error summary"
    return html.unescape(found.group(0))


def test_submission_gaps_name_the_field_each_one_is_typed_into():
    scores = {i.key: None for d in DIMENSIONS for i in d.indicators}
    gaps = submission_gaps(scores, {DIMENSIONS[0].key: "好"}, None, " ", criteria=CRITERIA_2022)
    fields = [g.field for g in gaps]
    assert fields[0] == f"score_{DIMENSIONS[0].indicators[0].key}"
    assert f"comment_{DIMENSIONS[0].key}" not in fields and f"comment_{DIMENSIONS[1].key}" in fields
    assert fields[-2:] == ["opinion", "overall_comment"]
    full = {k: 5 for k in scores}
    assert submission_gaps(full, {d.key: "好" for d in DIMENSIONS}, Opinion.RECOMMEND, "好",
                           criteria=CRITERIA_2022) == []


def test_the_six_opinion_boxes_are_marked_required(app, sheet_id, expert_client):
    page = expert_client.get(f"/applications/{sheet(app, sheet_id).application_id}").get_data(as_text=True)
    boxes = re.findall(r"<textarea[^>]*>", page)
    assert len(boxes) == len(DIMENSIONS) + 1 == 6
    assert all('aria-required="true"' in box for box in boxes)
    assert page.count('<span class="required-mark">必填</span>') == 7  # the six boxes and the opinion
    assert 'id="sheet-error-summary"' not in page  # nothing refused yet


def test_a_plain_refused_submit_shows_the_sheet_with_the_summary_focused(app, sheet_id, expert_client):
    data = form_data(7, action="submit", version=1)
    data[f"comment_{DIMENSIONS[1].key}"] = ""
    data["overall_comment"] = ""
    response = expert_client.post(f"/review/sheets/{sheet_id}", data=data)
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in text  # the sheet's own page, not a redirect
    summary = _summary(text)
    assert "autofocus" in summary and 'tabindex="-1"' in summary and "尚未提交" in summary
    assert f'href="#comment_{DIMENSIONS[1].key}"' in summary and 'href="#overall_comment"' in summary
    assert 'href="#opinion-recommend"' not in summary  # the opinion was chosen
    assert f'aria-describedby="comment_{DIMENSIONS[1].key}-error"' in text
    assert 'id="overall_comment" rows="3" maxlength="2000" aria-required="true" aria-invalid="true"' in text
    assert sheet(app, sheet_id).state == SheetState.DRAFT  # saved as a draft, not lost
    # The indicators' links lead to the 申报书 on the application page.
    assert f'href="/applications/{sheet(app, sheet_id).application_id}#section-' in text


def test_an_htmx_refused_submit_puts_the_summary_in_the_fragment(app, sheet_id, expert_client):
    data = form_data(7, action="submit", version=1)
    data["opinion"] = ""
    response = expert_client.post(f"/review/sheets/{sheet_id}", data=data, headers={"HX-Request": "true"})
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in text
    summary = _summary(text)
    assert 'href="#opinion-recommend"' in summary and "尚未选择综合意见" in summary
    assert 'aria-describedby="opinion-error"' in text
    assert sheet(app, sheet_id).state == SheetState.DRAFT


def test_unreadable_points_are_listed_and_linked_in_the_summary(app, sheet_id, expert_client):
    data = form_data(7, version=1)
    data["score_killer_apps"] = "7.55"
    text = expert_client.post(f"/review/sheets/{sheet_id}", data=data).get_data(as_text=True)
    summary = _summary(text)
    assert "尚未保存" in summary and 'href="#score_killer_apps"' in summary and "最多保留1位小数" in summary


def test_a_plain_draft_save_still_goes_back_to_the_application(app, sheet_id, expert_client):
    saved = expert_client.post(f"/review/sheets/{sheet_id}", data=form_data(7, version=1, complete=False))
    assert saved.status_code == 303
    fill(app, sheet_id, 8)  # a complete submission: no summary, the locked sheet
    assert sheet(app, sheet_id).state == SheetState.SUBMITTED
