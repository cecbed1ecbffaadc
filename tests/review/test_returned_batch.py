"""An application whose city's batch the province returned (退回修改) after experts were assigned:
its scores stay on every list and print, but it takes no rank, pushes no one down and is not
counted among the ranked; its row says why; marking it from the ranking is refused until the city
has reported again, when it is ranked again."""
from __future__ import annotations

import re

import pytest

from xkxl_intranet.applications.models import Application
from xkxl_intranet.applications.operations import set_review
from xkxl_intranet.batches.desk import return_batch
from xkxl_intranet.domain.errors import Refused
from xkxl_intranet.extensions import db
from xkxl_intranet.review.aggregation import application_review, ranking
from xkxl_intranet.review.marking import mark_application
from xkxl_intranet.review.queries import review_for
from xkxl_intranet.rounds.state import current_round, find_batch

from .helpers import CITY_CODES, fill, give, open_review, passed, report, set_batch_state, user
from helpers import audit_events
from reports.helpers import pdf_reader, pdf_text, workbook

NOTE = "批次已退回，不参与排名"


@pytest.fixture
def scored(app):
    """成都: 成都甲 (85.00), 成都乙 (80.00); 绵阳: 绵阳甲 (90.00), the best of the round. Both batches
    reported, every sheet submitted by both experts."""
    open_review(app, n=2)
    apps = {"成都甲": passed(app, "chengdu", platform_name="成都甲平台"),
            "成都乙": passed(app, "chengdu", platform_name="成都乙平台"),
            "绵阳甲": passed(app, "mianyang", platform_name="绵阳甲平台")}
    report(app, "chengdu", "mianyang")
    for name, (first, second) in {"成都甲": (8, 9), "成都乙": (8, 8), "绵阳甲": (9, 9)}.items():
        fill(app, give(app, apps[name], "expert1"), first)
        fill(app, give(app, apps[name], "expert2"), second)
    return apps


def _return(app, username: str = "mianyang") -> None:
    """The province returns the city's batch through its desk, as the officer would."""
    with app.app_context():
        city = user(username).city
        return_batch(user("province"), find_batch(current_round().id, city.id), "请补充财务报表。")
        db.session.commit()


def _ranks(app) -> dict[str, tuple]:
    with app.app_context():
        result = ranking(review_for(current_round()))
        return {r.application.platform_name: (r.rank, r.ranked, r.exclusion.note if r.exclusion else None,
                                              str(r.result.mean)) for r in result.rows}


def _mark(app, application_id: int, mark: str = "recommended"):
    with app.app_context():
        review = review_for(current_round())
        application = db.session.get(Application, application_id)
        seen = application_review(review, application).fingerprint()
        row = mark_application(user("province"), application, mark, "", seen=seen)
        db.session.commit()
        return row


def test_a_returned_batch_keeps_its_scores_but_takes_no_rank(app, scored):
    assert _ranks(app)["绵阳甲平台"][:2] == (1, 3)  # reported: the best of three
    _return(app)
    assert _ranks(app) == {"成都甲平台": (1, 2, None, "85.00"), "成都乙平台": (2, 2, None, "80.00"),
                           "绵阳甲平台": (None, 2, NOTE, "90.00")}
    with app.app_context():
        result = ranking(review_for(current_round()))
        assert [r.application.platform_name for r in result.rows] == ["成都甲平台", "成都乙平台", "绵阳甲平台"]
        assert result.counts == {"applications": 2, "ranked": 2, "excluded": 1, "incomplete": 0,
                                                   "assigned": 6, "submitted": 6, "outliers": 0}
        by_mean = [r.application.platform_name for r in ranking(review_for(current_round()), "mean").rows]
        assert by_mean[0] == "绵阳甲平台"  # still visible with its mean: nothing is hidden
        returned = application_review(review_for(current_round()),
                                      db.session.get(Application, scored["绵阳甲"]))
        assert returned.rank is None and len(returned.submitted) == 2
        assert returned.line == f"评审：{NOTE}，平均分 90.00（已分配2位专家）"


def test_marking_a_returned_row_is_refused_with_the_reason(app, scored):
    _return(app)
    with pytest.raises(Refused, match="批次已退回修改，不参与排名，暂不能标记推荐结果；该市（州）重新报送后恢复排名"):
        _mark(app, scored["绵阳甲"])
    with pytest.raises(Refused, match="不参与排名"):
        _mark(app, scored["绵阳甲"], "")  # clearing a mark too: nothing is decided on a returned batch
    with app.app_context():
        assert db.session.get(Application, scored["绵阳甲"]).province_mark is None
    assert not audit_events(app, "application.marked")
    row = _mark(app, scored["成都甲"])  # the others are marked as before, ranked among themselves
    assert (row.rank, row.ranked) == (1, 2)
    assert "评审第1名（共2份）" in audit_events(app, "application.marked")[-1].summary


def test_reported_again_it_is_ranked_again(app, scored):
    _return(app)
    set_batch_state(app, CITY_CODES["mianyang"], "reported")  # the city corrected and reported again
    assert _ranks(app) == {"成都甲平台": (2, 3, None, "85.00"), "成都乙平台": (3, 3, None, "80.00"),
                           "绵阳甲平台": (1, 3, None, "90.00")}
    set_batch_state(app, CITY_CODES["mianyang"], "accepted")
    assert _ranks(app)["绵阳甲平台"] == (1, 3, None, "90.00")
    assert _mark(app, scored["绵阳甲"]).rank == 1
    assert audit_events(app, "application.marked")[-1].after["review"]["ranked"] == 3


def test_withdrawn_by_the_city_while_returned_it_says_so(app, scored):
    """The city, while its batch was back with it, did not recommend the platform any more and
    reported again: its sheets stay visible, unranked, with the 市州初审 state as the reason."""
    _return(app)
    with app.app_context():
        set_review(user("mianyang"), db.session.get(Application, scored["绵阳甲"]), "not_recommended", "企业撤回")
        db.session.commit()
    set_batch_state(app, CITY_CODES["mianyang"], "reported")
    assert _ranks(app)["绵阳甲平台"] == (None, 2, "市州初审为“市州不推荐”，不参与排名", "90.00")
    with pytest.raises(Refused, match="市州初审为“市州不推荐”"):
        _mark(app, scored["绵阳甲"])


def test_the_summary_workbook_and_pdf_say_why_a_row_has_no_rank(app, scored, province_client):
    _return(app)
    ws = workbook(province_client.get("/review/ranking.xlsx")).active
    header = next(r for r in range(1, 8) if ws.cell(row=r, column=1).value == "排名")
    headings = [c.value for c in ws[header] if c.value]
    assert headings[-1] == "备注"
    rows = {values[2]: dict(zip(headings, values, strict=False))
            for values in ws.iter_rows(min_row=header + 1, values_only=True) if values[1]}
    assert (rows["成都甲平台"]["排名"], rows["成都乙平台"]["排名"]) == (1, 2)
    assert rows["绵阳甲平台"]["排名"] is None and rows["绵阳甲平台"]["备注"] == NOTE
    assert rows["绵阳甲平台"]["平均分"] == 90 and rows["成都甲平台"]["备注"] in ("", None)
    assert "已排名 2 份（另有 1 份不参与排名，原因见备注）" in ws.cell(row=3, column=1).value
    printed = pdf_text(pdf_reader(province_client.get("/review/ranking.pdf")))
    assert {"批次已退回，", "不参与排名"} <= set(printed.split())  # broken after the comma only
    text = re.sub(r"\s+", "", printed)
    assert "批次已退回，不参与排名" in text and "绵阳甲平台" in text and "90.00" in text
    assert "已排名2份（另有1份不参与排名，原因见备注）" in text


def test_the_ranking_page_shows_the_reason_and_refuses_the_mark(app, scored, province_client, viewer_client):
    _return(app)
    page = province_client.get("/review/ranking").get_data(as_text=True)
    row = re.search(rf'<tr id="rank-{scored["绵阳甲"]}"[^>]*>(.*?)</tr>', page, re.S).group(1)
    assert NOTE in row and "90.00" in row and "<strong>—</strong>" in row
    assert "/mark" not in row and "暂不能标记" in row  # no mark form on a returned row
    assert "已排名 2 份" in page and "另有 1 份不参与排名" in page
    first = re.search(rf'<tr id="rank-{scored["成都甲"]}"[^>]*>(.*?)</tr>', page, re.S).group(1)
    assert "<strong>1</strong>" in first and "/mark" in first
    with app.app_context():
        seen = application_review(review_for(current_round()),
                                  db.session.get(Application, scored["绵阳甲"])).fingerprint()
    refused = province_client.post(f"/review/applications/{scored['绵阳甲']}/mark",
                                   data={"mark": "recommended", "note": "", "seen": seen}, follow_redirects=True)
    assert refused.status_code == 422  # the ranking again, the reason in the row
    row = re.search(rf'<tr id="rank-{scored["绵阳甲"]}"[^>]*>(.*?)</tr>', refused.get_data(as_text=True), re.S)[1]
    assert "批次已退回修改，不参与排名，暂不能标记推荐结果" in row
    with app.app_context():
        assert db.session.get(Application, scored["绵阳甲"]).province_mark is None
    detail = viewer_client.get(f"/applications/{scored['绵阳甲']}").get_data(as_text=True)
    assert NOTE in detail and "名</span>" not in detail and "90.00" in detail


def test_the_assignment_page_lists_a_returned_rows_sheets_and_lets_an_open_one_go(app, province_client):
    """组织与分配 lists the reviewable applications; one whose batch was returned after it was
    assigned keeps its sheets, shown in a section of their own with the reason, where a sheet not
    yet submitted can be taken back (a submitted one stays)."""
    open_review(app, n=2)
    mianyang = passed(app, "mianyang", platform_name="绵阳甲平台")
    report(app, "mianyang")
    submitted = give(app, mianyang, "expert1")
    fill(app, submitted, 9)
    still_open = give(app, mianyang, "expert2")
    _return(app)
    page = province_client.get("/review/manage").get_data(as_text=True)
    section = re.search(r'<section class="card" id="outside-scope">(.*?)</section>', page, re.S)
    assert section and "已分配但暂不在评审范围的申报（1 份）" in section[1]
    assert "绵阳甲平台" in section[1] and NOTE in section[1]
    assert section[1].count("/remove") == 1  # only the open sheet can be taken back
    scope = re.search(r'<section class="card" id="applications">(.*?)</section>', page, re.S)[1]
    assert "绵阳甲平台" not in scope
    response = province_client.post(f"/review/sheets/{still_open}/remove",
                                    data={"next": "/review/manage#outside-scope"})
    assert response.status_code in (302, 303)
    page = province_client.get("/review/manage").get_data(as_text=True)
    section = re.search(r'<section class="card" id="outside-scope">(.*?)</section>', page, re.S)[1]
    assert "/remove" not in section and "已提交" in section


def test_the_longest_mark_prints_on_one_line(app, scored, province_client):
    """省厅标记 is as wide as its longest label (列入省级培育名单) at the print's font size."""
    _mark(app, scored["成都甲"], "cultivation")
    printed = pdf_text(pdf_reader(province_client.get("/review/ranking.pdf")))
    assert "列入省级培育名单" in printed.split()
