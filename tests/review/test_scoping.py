"""The expert's world: only the applications assigned to them (with figures, files and 申报书,
read-only) and their own sheets; a city sees nothing of the review; a viewer reads it without
changing it. The route × role walks for experts are in test_security_routes.py and the
application and report walks."""
from __future__ import annotations

import re

from xkxl_intranet.applications import rules
from xkxl_intranet.extensions import db
from xkxl_intranet.files.models import StoredFile

from .helpers import fill, give, open_review, passed, report
from helpers import audit_events, logged_in_client, login


def _file_id(app, application_id: int) -> int:
    with app.app_context():
        return db.session.scalar(db.select(StoredFile.id).where(StoredFile.application_id == application_id))


def test_an_expert_reads_an_assigned_application_with_its_files_and_nothing_else(app, expert_client):
    open_review(app)
    mine = passed(app, "chengdu", platform_name="专家可见平台")
    other = passed(app, "chengdu", platform_name="未分配平台")
    report(app, "chengdu")
    give(app, mine, "expert1")
    other_sheet = give(app, mine, "expert2")
    fill(app, other_sheet, 3)
    page = expert_client.get(f"/applications/{mine}").get_data(as_text=True)
    assert "专家可见平台" in page and 'id="score-sheet"' in page and "评分表" in page
    assert "申报书" in page and "/files/" in page  # the files and the 申报书, to read
    assert "修改记录" not in page and "李佳音" not in page and "30.00" not in page  # no other expert's score
    assert "保存初审结论" not in page and 'type="file"' not in page  # read-only: no 初审, no upload
    assert expert_client.get(f"/applications/{other}").status_code == 404
    assert expert_client.get(f"/files/{_file_id(app, mine)}/download").status_code == 200
    assert expert_client.get(f"/files/{_file_id(app, other)}/download").status_code == 404
    assert expert_client.get(f"/files/applications/{mine}").status_code == 200
    assert expert_client.get(f"/files/applications/{other}").status_code == 404
    listing = expert_client.get("/review/").get_data(as_text=True)
    assert "专家可见平台" in listing and "未分配平台" not in listing


def test_an_expert_reads_no_application_while_the_review_declares_no_assignments(app, expert_client, monkeypatch):
    """applications/ sits below review/: review declares which applications an expert may read
    (review/rules.py). Without that declaration the answer is none, never every one."""
    open_review(app)
    mine = passed(app, "chengdu")
    report(app, "chengdu")
    give(app, mine, "expert1")
    assert expert_client.get(f"/applications/{mine}").status_code == 200
    monkeypatch.setattr(rules, "_expert_applications", None)
    assert expert_client.get(f"/applications/{mine}").status_code == 404
    assert expert_client.get(f"/files/{_file_id(app, mine)}/download").status_code == 404
    assert expert_client.get(f"/files/applications/{mine}").status_code == 404


def test_an_expert_never_reaches_another_experts_sheet(app, expert_client):
    open_review(app)
    application_id = passed(app)
    report(app, "chengdu")
    theirs = give(app, application_id, "expert2")
    fill(app, theirs, 8)
    assert expert_client.get(f"/review/sheets/{theirs}.pdf").status_code == 404
    assert expert_client.post(f"/review/sheets/{theirs}", data={"action": "save"}).status_code == 404
    assert expert_client.post(f"/review/sheets/{theirs}/totals", data={}).status_code == 404
    assert expert_client.post(f"/review/sheets/{theirs}/recuse", data={"reason": "x"}).status_code == 404
    assert expert_client.get(f"/applications/{application_id}").status_code == 404


def test_after_recusal_the_application_is_gone_from_the_expert(app, expert_client):
    open_review(app)
    application_id = passed(app)
    report(app, "chengdu")
    sheet_id = give(app, application_id, "expert1")
    refused = expert_client.post(f"/review/sheets/{sheet_id}/recuse", data={"reason": ""}, follow_redirects=True)
    assert "请填写回避理由" in refused.get_data(as_text=True)
    done = expert_client.post(f"/review/sheets/{sheet_id}/recuse", data={"reason": "曾在该企业任职"},
                              follow_redirects=True).get_data(as_text=True)
    assert "已申请回避" in done and "已回避" in done and "曾在该企业任职" in done
    assert expert_client.get(f"/applications/{application_id}").status_code == 404


def test_a_city_sees_nothing_of_the_review(app, city_client):
    open_review(app)
    application_id = passed(app)
    report(app, "chengdu")
    fill(app, give(app, application_id, "expert1"), 8)
    page = city_client.get(f"/applications/{application_id}").get_data(as_text=True)
    assert "专家评审" not in page and "张明远" not in page and "评分表" not in page
    for rule in (r for r in app.url_map.iter_rules() if r.endpoint.startswith("review.")):
        url = rule.build({k: 1 for k in rule.arguments}, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            assert city_client.open(url, method=method, data={}).status_code == 404, (rule.rule, method)
    trail = city_client.get("/audit/").get_data(as_text=True)
    assert "分配评审" not in trail and "评分表" not in trail


def test_a_viewer_reads_the_review_and_changes_nothing(app, viewer_client):
    open_review(app)
    application_id = passed(app)
    report(app, "chengdu")
    sheet_id = give(app, application_id, "expert1")
    fill(app, sheet_id, 8)
    manage = viewer_client.get("/review/manage").get_data(as_text=True)
    assert "张明远" in manage and "按人数均衡分配" not in manage and "开始评审" not in manage
    ranking = viewer_client.get("/review/ranking").get_data(as_text=True)
    assert "80.00" in ranking and 'name="seen"' not in ranking and 'name="mark"' not in ranking
    assert viewer_client.get(f"/review/sheets/{sheet_id}.pdf").status_code == 200
    for url in ("/review/settings", "/review/assign/balanced", f"/review/applications/{application_id}/assign",
                f"/review/applications/{application_id}/mark", f"/review/sheets/{sheet_id}/reopen",
                f"/review/sheets/{sheet_id}/extension", f"/review/sheets/{sheet_id}/remove"):
        assert viewer_client.post(url, data={}).status_code == 404, url


def test_an_expert_lands_on_their_list_and_sees_the_review_deadline(app):
    open_review(app, days=5)
    application_id = passed(app)
    report(app, "chengdu")
    give(app, application_id, "expert1")
    expert = logged_in_client(app, "expert1")
    home = expert.get("/", follow_redirects=True).get_data(as_text=True)
    assert "我的评审" in home and "评审截止" in home and "报送截止" not in home
    assert "距评审截止不足7天" in home and "1 份评分表尚未提交" in home


def test_the_administrator_creates_an_expert_account_like_any_other(app, admin_client, client):
    form = admin_client.get("/admin/users/new").get_data(as_text=True)
    assert 'value="expert"' in form and "评审专家" in form
    with_city = admin_client.post("/admin/users/new", data={
        "username": "wang.expert", "display_name": "王专家", "role": "expert", "city_id": "1", "phone": ""})
    assert "评审专家账号不属于任何市（州）" in with_city.get_data(as_text=True)
    created = admin_client.post("/admin/users/new", data={
        "username": "wang.expert", "display_name": "王专家", "role": "expert", "city_id": "", "phone": ""})
    text = created.get_data(as_text=True)
    assert created.status_code == 200 and "账号已创建" in text
    password = re.search(r'<code[^>]*>([^<]+)</code>', text)[1]
    assert audit_events(app, "account.created")[-1].after["role"] == "expert"
    assert login(client, "wang.expert", password).status_code == 303
    assert client.get("/").headers["Location"].endswith("/account/password")  # must change it first
    assert "评审专家" in admin_client.get("/admin/users").get_data(as_text=True)


def test_a_recused_application_moves_to_the_recused_section(app, expert_client):
    open_review(app)
    first, second = passed(app, platform_name="回避平台"), passed(app, platform_name="继续平台")
    report(app, "chengdu")
    recused, kept = give(app, first, "expert1"), give(app, second, "expert1")
    done = expert_client.post(f"/review/sheets/{recused}/recuse", data={"reason": "曾在该企业任职"},
                              follow_redirects=True).get_data(as_text=True)
    assert "已移至下方“已回避”" in done and "不再向您显示" not in done
    assigned, moved = done.split('<section class="card" id="recused">')
    assigned = assigned[assigned.index("分配给我的申报"):]
    assert "分配给我的申报（1 份）" in assigned and f'id="sheet-row-{kept}"' in assigned
    assert f'id="sheet-row-{recused}"' not in assigned and "回避平台" not in assigned
    assert "已回避（1 份）" in moved and "回避平台" in moved and "曾在该企业任职" in moved


def test_an_experts_reading_of_an_application_is_recorded_once_a_minute(app, expert_client):
    open_review(app)
    mine = passed(app)
    report(app, "chengdu")
    give(app, mine, "expert1")
    assert expert_client.get(f"/applications/{mine}").status_code == 200
    assert expert_client.get(f"/applications/{mine}").status_code == 200
    [row] = audit_events(app, "access.expert_read")
    assert (row.username, row.object_id) == ("expert1", str(mine)) and row.city_id is not None


def test_the_city_does_not_read_which_expert_opened_its_application(app, expert_client, city_client):
    """The review is the province's: an expert's reading is a security event for the auditor,
    not a line of the city's 操作记录 naming the expert."""
    open_review(app)
    mine = passed(app)
    report(app, "chengdu")
    give(app, mine, "expert1")
    expert_client.get(f"/applications/{mine}")
    assert audit_events(app, "access.expert_read")
    assert "评审专家查阅申报" not in city_client.get("/audit/").get_data(as_text=True)
