"""The review follows the notice of its round (issue 21): a later round whose 附件1 renames an
indicator (1.1 工业设备连接数量), moves five points of default weight from 可持续发展 to 资源管理
and adds an indicator (5.4 人才培养能力), whose quota is one platform, and whose 申报书 calls
employees 从业人员总数. The review's default weights, the expert's score sheet, the printed
评分表, the ranking, the quota warning and the audit trail all say what that notice says."""
from __future__ import annotations

import html
import re
from datetime import datetime

import pytest

from xkxl_intranet import clock
from xkxl_intranet.applications.models import Application
from xkxl_intranet.applications.operations import save_application
from xkxl_intranet.batches.settings import open_round
from xkxl_intranet.domain.errors import Refused
from xkxl_intranet.domain.parsing import parse_input
from xkxl_intranet.extensions import db
from xkxl_intranet.notice.loader import parse_notice
from xkxl_intranet.review.aggregation import ranking
from xkxl_intranet.review.marking import mark_application
from xkxl_intranet.review.models import Assignment
from xkxl_intranet.review.prints import sheet_print, sheets_html
from xkxl_intranet.review.queries import review_for
from xkxl_intranet.rounds.state import current_round

from .helpers import give, passed, report, user
from helpers import application_values, notice_text

NEW_INDICATOR = '''
  [[criteria.dimension.indicator]]
  key = "talent"
  code = "5.4"
  label = "人才培养能力"
  guidance = "评价平台培养工业互联网人才的情况。"
'''


def _variant_text() -> str:
    text = notice_text()
    for old, new, count in (
            ('  label = "工业设备数量"', '  label = "工业设备连接数量"', 1),  # the indicator, not the section
            ('label = "平台资源管理水平"\nweight = 25', 'label = "平台资源管理水平"\nweight = 30', 1),
            ('label = "平台可持续发展能力"\nweight = 15', 'label = "平台可持续发展能力"\nweight = 10', 1),
            ("方面情况。\"\n\n# ==== 附件3", "方面情况。\"\n" + NEW_INDICATOR + "\n# ==== 附件3", 1),
            ("limit = 2", "limit = 1", 1), ('limit_words = "一般不超过2个"', 'limit_words = "一般不超过1个"', 1),
            ('label = "从业人员数量"', 'label = "从业人员总数"', 1)):
        assert text.count(old) == count, old
        text = text.replace(old, new)
    return text


VARIANT = parse_notice(_variant_text())


@pytest.fixture
def variant_round(app):
    """The 2023 round, opened from the variant notice, is the current round."""
    clock.set_now(datetime(2023, 3, 20, 10, 0, tzinfo=clock.SHANGHAI))
    with app.app_context():
        open_round(user("province"), VARIANT, notice_file="2023.toml", confirm_replace=True)
        db.session.commit()
    yield
    clock.set_now(None)


def _inputs(page: str, prefix: str) -> dict[str, str]:
    return dict(re.findall(rf'name="{prefix}([a-z_]+)"[^>]*?value="([^"]*)"', page))


def _set_up_review(province_client) -> None:
    """The province saves the review's settings as the page offers them, one expert each."""
    page = province_client.get("/review/manage").get_data(as_text=True)
    weights = _inputs(page, "weight_")
    assert weights == {"resources": "30", "technology": "20", "empowerment": "25", "contribution": "15",
                       "sustainability": "10"}
    data = {f"weight_{k}": v for k, v in weights.items()}
    data.update({"deadline": "2023-03-30 18:00", "experts_per_application": "1"})
    assert province_client.post("/review/settings", data=data).status_code == 303


def _sheet_data(points: dict[str, str]) -> dict[str, str]:
    data = {f"score_{key}": value for key, value in points.items()}
    data.update({f"comment_{d.key}": "评价意见" for d in VARIANT.criteria.dimensions})
    data.update({"opinion": "recommend", "overall_comment": "建议推荐。", "action": "submit"})
    return data


def _points(resources: str, others: str) -> dict[str, str]:
    return {i.key: resources if i.dimension == "resources" else others for i in VARIANT.criteria.indicators.values()}


def test_the_review_of_a_round_follows_its_notices_criteria_and_quota(app, variant_round, province_client,
                                                                      expert_client):
    first, second = passed(app, platform_name="甲平台"), passed(app, platform_name="乙平台")
    report(app, "chengdu")
    _set_up_review(province_client)
    first_sheet, second_sheet = give(app, first, "expert1"), give(app, second, "expert1")

    # The expert's score sheet: the renamed indicator and the added one, out of 40 for 可持续发展.
    page = html.unescape(expert_client.get(f"/applications/{first}").get_data(as_text=True))
    score_sheet = page[page.index('id="sheet-form"'):]  # the 申报书 above has its section 1.1 工业设备数量
    assert "1.1 工业设备连接数量" in score_sheet and "5.4 人才培养能力" in score_sheet
    assert 'name="score_talent"' in score_sheet and "1.1 工业设备数量" not in score_sheet
    # 甲: 资源管理 full, the rest 6 -> 30 + 0.6 × 70 = 72.00 (by 2022's weights it would be 70.00);
    # 乙: 资源管理 6, the rest 7.4 -> 18 + 0.74 × 70 = 69.80 (70.50 by 2022's: it would come first).
    for sheet_id, points in ((first_sheet, _points("10", "6")), (second_sheet, _points("6", "7.4"))):
        response = expert_client.post(f"/review/sheets/{sheet_id}", data=_sheet_data(points))
        assert response.status_code == 303, response.get_data(as_text=True)

    with app.app_context():
        review = review_for(current_round())
        rows = {row.application.id: row for row in ranking(review, "rank", False).rows}
        assert (rows[first].rank, rows[first].result.mean) == (1, pytest.approx(72))
        assert (rows[second].rank, str(rows[second].result.mean)) == (2, "69.80")

        # The printed 评分表: 附件1 as the round declares it, its weights and the sheet's total.
        sheet = db.session.get(Assignment, first_sheet)
        printed = html.unescape(sheets_html([sheet_print(sheet)], review))
        assert "工业设备连接数量" in printed and "人才培养能力" in printed and "工业设备数量" not in printed
        assert "五、平台可持续发展能力（权重 10%）" in printed and "一、平台资源管理水平（权重 30%）" in printed
        assert "小计 24 / 40 分" in printed and "72.00" in printed

        # The quota: one platform, as this notice says.
        mark_application(user("province"), db.session.get(Application, first), "recommended", "")
        db.session.commit()
        with pytest.raises(Refused) as refused:
            mark_application(user("province"), db.session.get(Application, second), "recommended", "")
        assert "「一般不超过1个」" in refused.value.message and "将有 2 个" in refused.value.message
        db.session.rollback()
    ranking_page = province_client.get("/review/ranking").get_data(as_text=True)
    assert "推荐工信部 1 / 1（不含2020年已获评 0 个）" in ranking_page


def test_the_trail_names_a_changed_field_as_the_applications_round_calls_it(app, variant_round,
                                                                           province_client):
    application_id = passed(app, platform_name="甲平台")
    with app.app_context():
        clerk, application = user("chengdu"), db.session.get(Application, application_id)
        round_ = current_round()
        values = application_values("510100", platform_name="甲平台", enterprise_name=application.enterprise_name,
                                    credit_code=application.credit_code, employees="4321")
        saved, _ = save_application(clerk, application, parse_input(values, round_.form.fields), city=clerk.city,
                                    round_=round_, expected_version=application.version)
        assert saved is not None
        db.session.commit()
    for page in (province_client.get("/audit/?action=application.updated").get_data(as_text=True),
                 province_client.get(f"/applications/{application_id}").get_data(as_text=True)):
        assert "<td>从业人员总数</td>" in page
        assert "<td>从业人员数量</td>" not in page
