"""What the province reads: per application each expert's total, the mean, spread, outliers and
the rank (ties shared); the ranking across the province, sortable; the mark set from it,
audited with the scores the officer saw."""
from __future__ import annotations

import pytest

from xkxl_intranet.applications.models import Application
from xkxl_intranet.domain.errors import Refused
from xkxl_intranet.extensions import db
from xkxl_intranet.review.aggregation import application_review, ranking
from xkxl_intranet.review.marking import mark_application
from xkxl_intranet.review.queries import review_for
from xkxl_intranet.review.setup import save_settings
from xkxl_intranet.rounds.state import current_round

from .helpers import deadline_in, fill, give, make_expert, open_review, passed, report, user
from helpers import audit_events


@pytest.fixture
def panel(app):
    """Four reported applications, three experts, three per application. A: 80, 90, 85 → 85.00;
    B: 85, 85 and expert3 not yet → 85.00 but not ranked (2/3); C: 90, 88, 60 → 79.33 with an
    outlier; D: nothing submitted."""
    make_expert(app, "expert3", "王志强")
    open_review(app, n=3)
    apps = {name: passed(app, "chengdu", platform_name=f"平台{name}") for name in "ABCD"}
    report(app, "chengdu")
    sheets = {}
    for name, points in {"A": (8, 9, 8.5), "B": (8.5, 8.5, None), "C": (9, 8.8, 6), "D": (None, None, None)}.items():
        for expert, p in zip(("expert1", "expert2", "expert3"), points, strict=True):
            sheet_id = give(app, apps[name], expert)
            sheets[(name, expert)] = sheet_id
            if p is not None:
                fill(app, sheet_id, p, opinion="recommend" if p >= 8 else "reject")
    return apps, sheets


def _row(app, application_id):
    with app.app_context():
        return application_review(review_for(current_round()), db.session.get(Application, application_id))


def test_each_application_has_its_experts_totals_mean_spread_and_rank(app, panel):
    apps, _ = panel
    with app.app_context():
        rows = {r.application.platform_name: r for r in ranking(review_for(current_round())).rows}
        a, b, c, d = rows["平台A"], rows["平台B"], rows["平台C"], rows["平台D"]
        assert [str(s.total) for s in a.submitted] == ["80.00", "90.00", "85.00"]
        assert (str(a.result.mean), str(a.result.range), str(a.result.stdev)) == ("85.00", "10.00", "4.08")
        # B's 85.00 is 2 of 3 experts: not ranked until expert3 submits.
        assert (a.rank, b.rank, c.rank, d.rank) == (1, None, 2, None)
        assert b.result.count == 2 and len(b.scores) == 3 and b.completion.note == "评分未完成（2/3）"
        assert str(c.result.mean) == "79.33"
        assert [s.outlier for s in c.scores] == [False, False, True]  # 60 against 89
        assert c.opinions == {"推荐": 2, "可培育": 0, "不推荐": 1}
        assert a.ranked == 2 and d.result.count == 0


def test_the_ranking_sorts_by_any_column(app, panel, province_client):
    with app.app_context():
        review = review_for(current_round())
        by_mean = [r.application.platform_name for r in ranking(review, "mean", descending=False).rows]
        assert by_mean[:2] in (["平台A", "平台B"], ["平台B", "平台A"]) and by_mean[-1] == "平台D"
        by_range = [r.application.platform_name for r in ranking(review, "range").rows]
        assert by_range[0] == "平台C"  # the largest spread first
    page = province_client.get("/review/ranking").get_data(as_text=True)
    assert "平台A" in page and "偏离" in page and "评审汇总表 Excel" in page
    fragment = province_client.get("/review/ranking?sort=city", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    assert "HX-Request" in fragment.headers["Vary"]


def test_the_application_page_shows_the_province_the_review(app, panel, province_client, viewer_client):
    apps, sheets = panel
    page = province_client.get(f"/applications/{apps['C']}").get_data(as_text=True)
    assert "专家评审" in page and "第 2 名" in page and "79.33" in page and "偏离" in page
    assert "王志强" in page and "退回评分表" in page
    read_only = viewer_client.get(f"/applications/{apps['C']}").get_data(as_text=True)
    assert "第 2 名" in read_only and "退回评分表" not in read_only


def test_the_mark_is_the_provinces_and_keeps_the_scores_it_saw(app, panel, province_client):
    apps, sheets = panel
    seen = _row(app, apps["A"]).fingerprint()
    response = province_client.post(f"/review/applications/{apps['A']}/mark",
                                    data={"mark": "recommended", "note": "综合排名第一", "seen": seen})
    assert response.status_code == 303 and f"#rank-{apps['A']}" in response.headers["Location"]
    with app.app_context():
        marked = db.session.get(Application, apps["A"])
        assert marked.province_mark == "recommended" and marked.marked_by_id == user("province").id
    event = audit_events(app, "application.marked")[-1]
    review = event.after["review"]
    assert event.after["province_mark"] == "推荐工信部"
    assert (review["rank"], review["mean"], review["ranked"]) == (1, "85.00", 2)
    assert [s["total"] for s in review["sheets"]] == ["80.00", "90.00", "85.00"]
    assert "评审第1名（共2份），平均分 85.00" in event.summary
    assert all("expert" not in str(s) and "张明远" not in str(s) for s in review["sheets"])


def test_a_mark_on_scores_that_changed_meanwhile_is_refused(app, panel):
    apps, sheets = panel
    seen = _row(app, apps["B"]).fingerprint()
    fill(app, sheets[("B", "expert3")], 4, opinion="reject")  # submitted after the page was drawn
    with app.app_context():
        with pytest.raises(Refused, match="评分刚有变化"):
            mark_application(user("province"), db.session.get(Application, apps["B"]), "recommended", "", seen=seen)
        mark_application(user("province"), db.session.get(Application, apps["B"]), "cultivation", "",
                         seen=_row(app, apps["B"]).fingerprint())


def test_weights_are_fixed_once_a_sheet_is_submitted(app, panel):
    with app.app_context():
        with pytest.raises(Refused, match="权重不能再修改"):
            save_settings(user("province"), current_round(), deadline=deadline_in(10),
                          weights={"resources": 40, "technology": 20, "empowerment": 20, "contribution": 10,
                                   "sustainability": 10}, experts_per_application=3)
        later = deadline_in(20)
        save_settings(user("province"), current_round(), deadline=later,
                      weights=review_for(current_round()).weight_map, experts_per_application=3)
        assert review_for(current_round()).deadline == later


def test_weights_change_every_total_before_scoring(app):
    open_review(app, n=1, weights={"resources": 100, "technology": 0, "empowerment": 0, "contribution": 0,
                                   "sustainability": 0})
    application_id = passed(app)
    report(app, "chengdu")
    sheet_id = give(app, application_id, "expert1")
    fill(app, sheet_id, {k: 10 for k in ("devices", "models", "apps", "enterprises", "developers")} | {
        k: 0 for k in ("innovation", "reliability", "killer_apps", "solutions", "parks", "industries", "sme",
                       "international", "growth", "dual", "analysis", "ministry_work", "standards",
                       "profitability", "resourcing", "ecosystem")})
    assert str(_row(app, application_id).result.mean) == "100.00"


def test_setting_up_needs_sound_weights_and_a_future_deadline(app, province_client):
    data = {"deadline": "2099-04-08 18:00", "experts_per_application": "2", "weight_resources": "25",
            "weight_technology": "20", "weight_empowerment": "25", "weight_contribution": "15",
            "weight_sustainability": "10"}
    refused = province_client.post("/review/settings", data=data)
    assert refused.status_code == 422 and "合计应为100，现为95" in refused.get_data(as_text=True)
    past = province_client.post("/review/settings", data={**data, "weight_sustainability": "15",
                                                          "deadline": "2020-01-01"})
    assert past.status_code == 422 and "确认立即截止" in past.get_data(as_text=True)
    ok = province_client.post("/review/settings", data={**data, "weight_sustainability": "15"})
    assert ok.status_code == 303
    with app.app_context():
        assert review_for(current_round()).deadline.year == 2099
    assert audit_events(app, "review.opened")[-1].after["weights"]["resources"] == 25
