"""The review's prints are generated files too (generated.py): a score sheet is made once per
version of the sheet (its expert and the province download the same file), again once it is
reopened and submitted anew; the 评审汇总表 once per version of the scores and rows, not again
for a draft saved in a city; another expert's sheet is a 404 before any file is looked up."""
from __future__ import annotations

from xkxl_intranet.applications.models import Application
from xkxl_intranet.extensions import db
from xkxl_intranet.review.models import Assignment
from xkxl_intranet.review.scoring import reopen

from .helpers import fill, give, open_review, passed, report, user
from helpers import create_application, generated_counts, logged_in_client, made_again


def _reviewed(app):
    open_review(app)
    application_id = passed(app, "chengdu", platform_name="缓存测试平台")
    report(app, "chengdu")
    return application_id, give(app, application_id, "expert1"), give(app, application_id, "expert2")


def test_a_sheet_is_made_once_per_version_and_only_for_who_may_read_it(app):
    application_id, first, second = _reviewed(app)
    expert, province = logged_in_client(app, "expert1"), logged_in_client(app, "province")
    url = f"/review/sheets/{first}.pdf"
    fill(app, first, 7, submit=False)
    assert expert.get(url).status_code == 409  # a draft is not printed, nothing is kept
    assert generated_counts(app) == {"renders": 0, "hits": 0}
    fill(app, first, 7)
    assert made_again(app, expert, [url]) == {url}
    assert made_again(app, expert, [url]) == set()
    assert made_again(app, province, [url]) == set()  # the same sheet for the province
    before = generated_counts(app)
    assert expert.get(f"/review/sheets/{second}.pdf").status_code == 404  # another expert's
    assert generated_counts(app) == before
    with app.app_context():
        reopen(user("province"), db.session.get(Assignment, first), "请复核1.1项")
        db.session.commit()
    fill(app, first, 9)
    assert made_again(app, expert, [url]) == {url}
    with app.app_context():
        assert db.session.get(Assignment, first).is_submitted


def test_the_review_summary_is_made_again_when_scores_change_not_for_a_draft_elsewhere(app):
    application_id, first, second = _reviewed(app)
    fill(app, first, 8)
    province = logged_in_client(app, "province")
    urls = ["/review/ranking.xlsx", "/review/ranking.pdf", f"/review/applications/{application_id}/sheets.pdf"]
    assert made_again(app, province, urls) == set(urls)
    assert made_again(app, province, urls) == set()
    assert made_again(app, province, ["/review/ranking.xlsx?sort=mean&desc=1"]) == {"/review/ranking.xlsx?sort=mean&desc=1"}
    create_application(app, "mianyang", platform_name="绵阳草稿", with_form=False)  # a draft in another city
    assert made_again(app, province, urls) == set()
    fill(app, second, 6)
    assert made_again(app, province, urls) == set(urls)
    with app.app_context():
        assert db.session.get(Application, application_id).platform_name == "缓存测试平台"
