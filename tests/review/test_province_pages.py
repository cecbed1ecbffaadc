"""The province's review pages through the web, as plain forms: set up, assign (balanced and by
hand), take back, reopen and extend a sheet, each coming back where its form was."""
from __future__ import annotations

from xkxl_intranet.review.models import SheetState

from .helpers import deadline_in, fill, give, passed, report, sheet
from helpers import audit_events, user_by_name

SETTINGS = {"deadline": "2099-04-08 18:00", "experts_per_application": "2", "weight_resources": "25",
            "weight_technology": "20", "weight_empowerment": "25", "weight_contribution": "15",
            "weight_sustainability": "15"}


def test_setting_up_and_assigning_through_the_pages(app, province_client):
    first = passed(app, "chengdu", platform_name="页面甲平台")
    passed(app, "mianyang")
    report(app, "chengdu", "mianyang")
    before = province_client.get("/review/manage").get_data(as_text=True)
    assert "开始评审" in before and "页面甲平台" not in before
    assert "尚未开始专家评审" in province_client.get("/review/ranking").get_data(as_text=True)
    assert province_client.post("/review/assign/balanced", data={"n": "2"}).status_code == 404  # no review yet
    assert province_client.post("/review/settings", data=SETTINGS).status_code == 303
    page = province_client.get("/review/manage").get_data(as_text=True)
    assert "页面甲平台" in page and "按人数均衡分配" in page and "保存设置" in page
    experts = [user_by_name(app, n).id for n in ("expert1", "expert2")]
    done = province_client.post("/review/assign/balanced", data={"n": "1", "experts": experts},
                                follow_redirects=True).get_data(as_text=True)
    assert "已新分配 2 份评分任务" in done
    by_hand = province_client.post(f"/review/applications/{first}/assign",
                                   data={"expert_id": str(experts[1]),
                                         "next": f"/applications/{first}#review-summary"})
    assert by_hand.status_code == 303 and by_hand.headers["Location"] == f"/applications/{first}#review-summary"
    again = province_client.post(f"/review/applications/{first}/assign", data={"expert_id": str(experts[1])},
                                 follow_redirects=True).get_data(as_text=True)
    assert "已分配给专家 李佳音" in again
    assert len(audit_events(app, "review.assigned")) == 3


def test_reopening_extending_and_taking_back_a_sheet(app, province_client):
    province_client.post("/review/settings", data={**SETTINGS, "deadline": deadline_in(3).strftime("%Y-%m-%d %H:%M")})
    application_id = passed(app)
    report(app, "chengdu")
    submitted, draft = give(app, application_id, "expert1"), give(app, application_id, "expert2")
    fill(app, submitted, 8)
    here = f"/applications/{application_id}#review-summary"
    no_reason = province_client.post(f"/review/sheets/{submitted}/reopen", data={"reason": "", "next": here},
                                     follow_redirects=True).get_data(as_text=True)
    assert "请填写退回原因" in no_reason
    reopened = province_client.post(f"/review/sheets/{submitted}/reopen",
                                    data={"reason": "请复核4.5项", "extension": "", "next": here})
    assert reopened.status_code == 303 and reopened.headers["Location"] == here
    assert sheet(app, submitted).state == SheetState.DRAFT
    later = deadline_in(6).strftime("%Y-%m-%d %H:%M")
    province_client.post(f"/review/sheets/{draft}/extension", data={"deadline": later, "reason": "出差"})
    assert sheet(app, draft).extension_deadline.strftime("%Y-%m-%d %H:%M") == later
    page = province_client.get(f"/applications/{application_id}").get_data(as_text=True)
    assert "延期至" in page and "撤销分配" in page
    assert province_client.post(f"/review/sheets/{draft}/remove", data={"next": here}).status_code == 303
    assert sheet(app, draft) is None
