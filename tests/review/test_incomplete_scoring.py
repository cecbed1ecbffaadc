"""An application whose scoring is not complete (an expert still to submit, or one recused and
none assigned in their place) takes no rank, shows no spread for a single score, is marked only
「不经专家评审直接标记」 with a reason (tests/review/test_marking.py), and says so on the ranking,
the assignment page and the 评审汇总表."""
from __future__ import annotations

import re

import pytest

from xkxl_intranet.applications.models import Application
from xkxl_intranet.domain.errors import Refused
from xkxl_intranet.extensions import db
from xkxl_intranet.review.aggregation import application_review, ranking, shortfall
from xkxl_intranet.review.assignment import declare_conflict
from xkxl_intranet.review.marking import mark_application
from xkxl_intranet.review.models import Assignment
from xkxl_intranet.review.queries import review_for
from xkxl_intranet.rounds.state import current_round

from .helpers import fill, user
from reports.helpers import pdf_reader, pdf_text, workbook


def _rows(app):
    with app.app_context():
        return {r.application.platform_name: (r.rank, r.completion.note, r.result.range, r.remarks)
                for r in ranking(review_for(current_round())).rows}


def test_an_application_half_scored_is_not_ranked_and_has_no_spread(app, half):
    rows = _rows(app)
    assert rows["甲平台"][:2] == (1, "")
    assert rows["乙平台"] == (None, "评分未完成（1/2）", None, "评分未完成（1/2）")
    with app.app_context():
        result = ranking(review_for(current_round()))
        assert (result.counts["ranked"], result.counts["incomplete"]) == (1, 1)


def test_marking_a_half_scored_application_is_refused(app, half):
    full, partial, waiting = half
    with app.app_context():
        review, application = review_for(current_round()), db.session.get(Application, partial)
        seen = application_review(review, application).fingerprint()
        with pytest.raises(Refused, match=r"评分未完成（1/2），暂不排名：本批次已分配评审专家"):
            mark_application(user("province"), application, "recommended", "", seen=seen)
        assert application.province_mark is None
    fill(app, waiting, 8)  # the second expert submits: ranked, and it can be marked
    assert _rows(app)["乙平台"][:2] == (2, "")


def test_the_ranking_page_flags_the_row_and_shows_no_spread(app, half, province_client):
    full, partial, _ = half
    page = province_client.get("/review/ranking").get_data(as_text=True)
    row = page[page.index(f'<tr id="rank-{partial}"'):]
    row = row[:row.index("</tr>")]
    assert "评分未完成（1/2）" in row and ">0.00<" not in row
    cells = re.findall(r'<td class="num">([^<]*)</td>', row)
    assert cells[-2:] == ["—", "—"]  # 极差, 标准差
    # The mark waits for the scores, or is set 「不经专家评审直接标记」 with a reason.
    assert "mark-form" in row and 'name="bypass"' in row and 'name="bypass_reason"' in row
    assert "专家评分 1/2 已提交" in row and "暂不能标记" not in row
    assert "1 份评分未完成，暂不排名" in page
    detail = province_client.get(f"/applications/{partial}").get_data(as_text=True)
    assert "评分未完成（1/2）" in detail and "第 2 名" not in detail


def test_a_recusal_leaves_the_application_short_and_says_who(app, half, province_client):
    full, partial, waiting = half
    with app.app_context():
        declare_conflict(user("expert2"), db.session.get(Assignment, waiting), "曾在该企业任职")
        db.session.commit()
        assert shortfall(review_for(current_round())) == {partial: 1}
    assert _rows(app)["乙平台"] == (None, "评分未完成（1/2），缺1位专家", None,
                                    "评分未完成（1/2），缺1位专家；李佳音回避")
    manage = province_client.get("/review/manage").get_data(as_text=True)
    row = manage[manage.index(f'<tr id="app-{partial}"'):]
    row = row[:row.index("</tr>")]
    assert "缺 1 位专家" in row and f'action="/review/applications/{partial}/assign"' in row
    assert "缺 1 位专家" not in manage[manage.index(f'<tr id="app-{full}"'):manage.index(f'<tr id="app-{partial}"')]
    ws = workbook(province_client.get("/review/ranking.xlsx")).active
    header = next(r for r in range(1, 8) if ws.cell(row=r, column=1).value == "排名")
    headings = [c.value for c in ws[header] if c.value]
    rows = {values[2]: dict(zip(headings, values, strict=False))
            for values in ws.iter_rows(min_row=header + 1, values_only=True) if values[1]}
    assert rows["乙平台"]["备注"] == "评分未完成（1/2），缺1位专家；李佳音回避"
    assert rows["乙平台"]["排名"] is None and rows["乙平台"]["极差"] is None
    text = re.sub(r"\s+", "", pdf_text(pdf_reader(province_client.get("/review/ranking.pdf"))))
    assert "李佳音回避" in text and "缺1位专家" in text
    page = province_client.get("/review/ranking").get_data(as_text=True)
    assert "李佳音回避" in page
