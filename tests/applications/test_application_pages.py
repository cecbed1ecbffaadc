"""Applications through the web: scoping, saving, live checks, review, duplicates, conflicts."""
import re
from datetime import timedelta
from decimal import Decimal

from xkxl_intranet import clock
from xkxl_intranet.applications.models import Application
from xkxl_intranet.auth.models import User
from xkxl_intranet.extensions import db
from xkxl_intranet.review.assignment import assign
from xkxl_intranet.review.demo import seed_demo_review
from xkxl_intranet.review.models import Assignment
from xkxl_intranet.review.setup import save_settings
from xkxl_intranet.rounds.state import batch_for_write, current_round

from helpers import (
    application_values,
    attach_form,
    audit_events,
    create_application,
    get_application,
    logged_in_client,
    login,
    sql_statements,
    user_by_name,
)


def test_clerk_creates_an_application_with_exact_money(app, city_client):
    values = application_values(sales_last_year="１２，３４５．６７", revenue_2021="4,321.09",
                                rnd_2021="740.74", tax_last_year=" 无 ")
    response = city_client.post("/applications/new", data=values)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    application_id = int(response.headers["Location"].rsplit("/", 1)[1])
    application = get_application(app, application_id)
    assert application.values()["sales_last_year"] == Decimal("12345.67")
    assert application.values()["revenue_2021"] == Decimal("4321.09")
    assert application.values()["tax_last_year"] == Decimal("0.00")
    assert application.city.name == "成都市"
    assert application.values()["technologies"] == ["5G", "大数据"]
    assert application.review_state == "draft" and application.error_count == 0
    page = city_client.get(f"/applications/{application_id}").get_data(as_text=True)
    assert "12345.67" in page and "尚未上传申报书" in page
    attach_form(app, application_id)
    page = city_client.get(f"/applications/{application_id}").get_data(as_text=True)
    assert "各项检查均已通过" in page
    created = audit_events(app, "application.created")
    assert created and created[-1].after["sales_last_year"] == "12345.67"


def test_unreadable_number_is_refused_naming_the_field_and_nothing_is_lost(app, city_client):
    values = application_values(devices_total="约1200", apps_total="12a")
    response = city_client.post("/applications/new", data=values)
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "尚未保存" in text
    assert "可连接的工业设备/产品/产线数量" in text and "约1200" in text  # typed value kept
    assert "工业APP数量" in text and 'value="12a"' in text
    with app.app_context():
        from xkxl_intranet.applications.models import Application
        assert db.session.scalar(db.select(db.func.count()).select_from(Application)) == 0


def test_rule_errors_save_a_draft_but_block_the_review(app, city_client):
    values = application_values()
    values["devices_operating"] = str(int(values["devices_operating"]) + 5)
    response = city_client.post("/applications/new", data=values)
    assert response.status_code == 303
    application_id = int(response.headers["Location"].rsplit("/", 1)[1])
    page = city_client.get(f"/applications/{application_id}").get_data(as_text=True)
    assert "初审通过前尚需处理" in page and "分项合计" in page
    refused = city_client.post(f"/applications/{application_id}/review",
                               data={"decision": "passed", "comment": ""}, follow_redirects=True)
    text = refused.get_data(as_text=True)
    assert "不能初审通过" in text and "可连接的工业设备/产品/产线数量" in text
    assert get_application(app, application_id).review_state == "draft"


def test_live_check_returns_every_message_out_of_band(app, city_client):
    values = application_values()
    values["apps_self"] = values["apps_total"]
    values["apps_partner"] = "4"  # 4 more than the whole: an error
    values["contact_mobile"] = "1380000"
    response = city_client.post("/applications/check", data=values, headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    total_msg = re.search(r'<div class="msgs" id="msg-apps_total" hx-swap-oob="true"[^>]*>(.*?)</div>', html, re.S)
    assert total_msg and "msg-error" in total_msg.group(1) and "分项合计" in total_msg.group(1)
    assert re.search(r'id="msg-contact_mobile" hx-swap-oob="true"[^>]*><p class="msg msg-error">', html)
    running = re.search(r'id="sum-sum-apps_source" hx-swap-oob="true">(.*?)</div>', html, re.S).group(1)
    apps_total = int(values["apps_total"])
    assert f"分项合计 {apps_total + 4} / 总数 {apps_total}" in running
    assert 'id="check-summary" class="check-summary" hx-swap-oob="true"' in html
    # Fixed: the message disappears, the total shows as matching.
    values["apps_partner"] = "0"
    values["contact_mobile"] = "13800001234"
    html = city_client.post("/applications/check", data=values).get_data(as_text=True)
    assert re.search(r'id="msg-apps_total" hx-swap-oob="true" aria-live="polite"></div>', html)
    assert f"分项合计 {apps_total} / 总数 {apps_total}" in html


def test_warning_must_be_acknowledged_with_a_note_before_review(app, city_client):
    values = application_values()
    values["apps_safety"] = str(int(values["apps_safety"]) + 3)  # W: the 9 kinds do not add up
    response = city_client.post("/applications/new", data=values)
    application_id = int(response.headers["Location"].rsplit("/", 1)[1])
    attach_form(app, application_id)
    application = get_application(app, application_id)
    assert application.error_count == 0 and application.open_warning_count == 1
    refused = city_client.post(f"/applications/{application_id}/review", data={"decision": "passed"},
                               follow_redirects=True).get_data(as_text=True)
    assert "不能初审通过" in refused and "9类工业APP" in refused
    empty = city_client.post(f"/applications/{application_id}/acknowledge",
                             data={"rule": "sum:apps_kinds", "note": "  "}, headers={"HX-Request": "true"})
    assert "请填写确认说明" in empty.get_data(as_text=True)
    ok = city_client.post(f"/applications/{application_id}/acknowledge",
                          data={"rule": "sum:apps_kinds", "note": "部分APP同时属于两类"},
                          headers={"HX-Request": "true"})
    assert ok.status_code == 200 and ok.headers["HX-Trigger"] == "findings-changed"
    assert "部分APP同时属于两类" in ok.get_data(as_text=True)
    assert get_application(app, application_id).open_warning_count == 0
    passed = city_client.post(f"/applications/{application_id}/review",
                              data={"decision": "passed", "comment": "同意推荐"})
    assert passed.status_code == 303
    assert get_application(app, application_id).review_state == "passed"
    assert audit_events(app, "application.warning_acknowledged") and audit_events(app, "application.reviewed")


def test_changed_figures_need_a_new_acknowledgement_and_revert_review(app, city_client):
    values = application_values()
    values["apps_safety"] = str(int(values["apps_safety"]) + 3)
    application_id = int(city_client.post("/applications/new", data=values).headers["Location"].rsplit("/", 1)[1])
    attach_form(app, application_id)
    city_client.post(f"/applications/{application_id}/acknowledge", data={"rule": "sum:apps_kinds", "note": "已核实"})
    city_client.post(f"/applications/{application_id}/review", data={"decision": "passed"})
    assert get_application(app, application_id).review_state == "passed"
    values["apps_safety"] = str(int(values["apps_safety"]) + 7)
    values["version"] = str(get_application(app, application_id).version)
    city_client.post(f"/applications/{application_id}/edit", data=values)
    application = get_application(app, application_id)
    assert application.open_warning_count == 1 and application.review_state == "draft"


def test_not_recommended_needs_a_reason(app, city_client):
    application_id = create_application(app)
    page = city_client.post(f"/applications/{application_id}/review", data={"decision": "not_recommended"},
                            follow_redirects=True).get_data(as_text=True)
    assert "请填写初审意见" in page
    city_client.post(f"/applications/{application_id}/review",
                     data={"decision": "not_recommended", "comment": "规模不足"})
    assert get_application(app, application_id).review_state == "not_recommended"


def test_edit_records_each_changed_field_in_the_audit_trail(app, city_client):
    application_id = create_application(app)
    values = application_values()
    application = get_application(app, application_id)
    values.update(enterprise_name=application.enterprise_name, credit_code=application.credit_code,
                  platform_name=application.platform_name, version=str(application.version))
    values["employees"] = "9999"
    values["contact_name"] = "李四"
    response = city_client.post(f"/applications/{application_id}/edit", data=values)
    assert response.status_code == 303
    event = audit_events(app, "application.updated")[-1]
    assert event.before["employees"] != "9999" and event.after["employees"] == "9999"
    assert event.before["contact_name"] == "张三" and event.after["contact_name"] == "李四"
    assert set(event.after) == {"employees", "contact_name"}
    history = city_client.get(f"/applications/{application_id}").get_data(as_text=True)
    assert "修改申报" in history and "从业人员数量" in history


def _reads_of_the_row(statements: list[str], application_id: int) -> list[str]:
    return [s for s in statements if s.startswith("SELECT application.id")
            and "WHERE application.id = " in s and "application.id !=" not in s]


def test_a_save_reads_its_application_once(app, city_client):
    """Log-in user, the application, its batch's lock, the duplicates, the UPDATE, the audit
    event: and nothing after the commit reads the row again."""
    application_id = create_application(app)
    for n in range(3):  # the same with others in the round
        create_application(app, "mianyang" if n % 2 else "chengdu")
    application = get_application(app, application_id)
    values = application_values()
    values.update(enterprise_name=application.enterprise_name, credit_code=application.credit_code,
                  platform_name=application.platform_name, version=str(application.version),
                  contact_name="李四")
    with sql_statements(app) as statements:
        response = city_client.post(f"/applications/{application_id}/edit", data=values)
    assert response.status_code == 303
    assert len(_reads_of_the_row(statements, application_id)) == 1, statements
    assert sum(s.startswith("SELECT city_batch.state") for s in statements) == 1, statements
    # The audit chain's head, read and moved once per audited transaction (audit/chain.py), aside:
    statements = [s for s in statements if "audit_chain_head" not in s]
    assert [s.split()[0] for s in statements].count("UPDATE") == 1
    # Session and user, the application, its batch's lock, the duplicates, the 申报书 (for the
    # page's message), its figure rows (to write only those that change), the UPDATE, the audit
    # event: nothing grows with the round.
    assert len(statements) <= 10, statements
    assert get_application(app, application_id).contact_name == "李四"


def test_second_concurrent_save_is_refused_and_shows_the_other_change(app, city_client):
    application_id = create_application(app)
    second_clerk = logged_in_client(app, "chengdu")
    application = get_application(app, application_id)
    base = application_values()
    base.update(enterprise_name=application.enterprise_name, credit_code=application.credit_code,
                platform_name=application.platform_name, version=str(application.version))
    first = dict(base, employees="1111")
    second = dict(base, employees="2222", contact_name="王五")
    assert city_client.post(f"/applications/{application_id}/edit", data=first).status_code == 303
    response = second_clerk.post(f"/applications/{application_id}/edit", data=second)
    text = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "保存未成功" in text and "1111" in text and "2222" in text and "王五" in text
    assert get_application(app, application_id).values()["employees"] == 1111  # nothing silently overwritten
    # The re-rendered form carries the new version: saving again (deliberately) works.
    new_version = re.search(r'name="version" value="(\d+)"', text).group(1)
    again = second_clerk.post(f"/applications/{application_id}/edit", data=dict(second, version=new_version))
    assert again.status_code == 303 and get_application(app, application_id).values()["employees"] == 2222


def test_duplicate_credit_code_is_flagged_to_both_cities_and_province(app, city_client, other_city_client,
                                                                     province_client):
    from xkxl_intranet.domain.credit_code import make_credit_code

    code = make_credit_code("510100", "MA6DUP01")
    chengdu_id = create_application(app, "chengdu", credit_code=code, platform_name="星河工业互联网平台")
    mianyang_id = create_application(app, "mianyang", credit_code=code, platform_name="别的平台")
    mianyang_page = other_city_client.get(f"/applications/{mianyang_id}").get_data(as_text=True)
    assert "重复申报" in mianyang_page and "成都市" in mianyang_page
    assert "登记地为成都市" in mianyang_page  # and the other-city warning
    chengdu_page = city_client.get(f"/applications/{chengdu_id}").get_data(as_text=True)
    assert "重复申报" in chengdu_page and "绵阳市" in chengdu_page
    assert get_application(app, chengdu_id).open_warning_count == 1  # refreshed by the other's save
    listing = province_client.get("/applications/").get_data(as_text=True)
    assert listing.count("重复申报") >= 2
    # Only the city, never what the other city entered ...
    assert "别的平台" not in chengdu_page and "星河工业互联网平台" not in mianyang_page
    # ... while the province sees the full pair.
    province_page = province_client.get(f"/applications/{chengdu_id}").get_data(as_text=True)
    assert "别的平台" in province_page and f"/applications/{mianyang_id}" in province_page


def test_typing_another_citys_code_reveals_only_the_city(app, city_client):
    from xkxl_intranet.domain.credit_code import make_credit_code

    code = make_credit_code("510700", "MA6GEC01")
    create_application(app, "mianyang", credit_code=code, platform_name="绵州秘密平台",
                       enterprise_name="绵阳保密科技有限公司", devices_total="98765")
    probe = city_client.post("/applications/check", data={**application_values(), "credit_code": code},
                             headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "绵阳市" in probe and "重复" in probe
    for secret in ("绵州秘密平台", "绵阳保密科技有限公司", "98765", "98,765"):
        assert secret not in probe


def test_duplicate_platform_name_ignores_width_and_spaces(app, city_client):
    first = create_application(app, "chengdu", platform_name="蜀道 工业互联网平台")
    second = create_application(app, "mianyang", platform_name="蜀道工业互联网平台 ")
    assert get_application(app, first).platform_key == get_application(app, second).platform_key
    page = city_client.get(f"/applications/{first}").get_data(as_text=True)
    assert "本批次中平台名称与绵阳市的申报重复" in page


def test_other_city_sees_404_on_every_application_route(app, other_city_client, city_client):
    application_id = create_application(app, "chengdu")
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/applications/<id:application_id>"):
            continue
        url = rule.rule.replace("<id:application_id>", str(application_id))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = other_city_client.open(url, method=method, data={"decision": "draft"})
            assert response.status_code == 404, (url, method)
            checked += 1
    assert checked >= 5
    check = other_city_client.post("/applications/check", data={"application_id": str(application_id)})
    assert check.status_code == 404
    assert city_client.get(f"/applications/{application_id}").status_code == 200


def test_an_expert_sees_404_on_every_application_route_unless_assigned_and_then_only_the_page(
        app, expert_client):
    application_id = create_application(app, "chengdu")
    routes = [r for r in app.url_map.iter_rules() if r.rule.startswith("/applications/<id:application_id>")]

    def walk() -> dict[tuple[str, str], int]:
        return {(r.endpoint, m): expert_client.open(r.rule.replace("<id:application_id>", str(application_id)),
                                                    method=m, data={"decision": "draft"}).status_code
                for r in routes for m in sorted(r.methods - {"HEAD", "OPTIONS"})}

    assert set(walk().values()) == {404} and len(walk()) >= 5
    assert expert_client.post("/applications/check", data={"application_id": str(application_id)}).status_code == 404
    with app.app_context():
        province = db.session.scalar(db.select(User).where(User.username == "province"))
        expert = db.session.scalar(db.select(User).where(User.username == "expert1"))
        application = db.session.get(Application, application_id)
        application.review_state = "passed"
        batch_for_write(current_round().id, application.city_id).state = "reported"
        review = save_settings(province, current_round(), deadline=clock.now() + timedelta(days=5),
                               weights={"resources": 25, "technology": 20, "empowerment": 25,
                                        "contribution": 15, "sustainability": 15}, experts_per_application=2)
        assign(province, review, application, expert)
        db.session.commit()
    statuses = walk()
    assert statuses.pop(("applications.detail", "GET")) == 200
    assert set(statuses.values()) == {404}  # read-only: no edit, 初审, acknowledgement or deletion


def test_list_is_scoped_searchable_and_filterable(app, city_client, other_city_client, province_client,
                                                  viewer_client):
    create_application(app, "chengdu", enterprise_name="成都甲科技有限公司", platform_name="甲平台")
    create_application(app, "chengdu", enterprise_name="成都乙科技有限公司", platform_name="乙平台")
    create_application(app, "mianyang", enterprise_name="绵阳丙科技有限公司", platform_name="丙平台")
    page = city_client.get("/applications/").get_data(as_text=True)
    assert "成都甲" in page and "成都乙" in page and "绵阳丙" not in page
    fragment = city_client.get("/applications/?q=乙平台", headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert "<html" not in html and "成都乙" in html and "成都甲" not in html
    assert "HX-Request" in fragment.headers["Vary"]
    assert "绵阳丙" not in city_client.get("/applications/?q=绵阳").get_data(as_text=True)
    for staff in (province_client, viewer_client):
        page = staff.get("/applications/").get_data(as_text=True)
        assert "成都甲" in page and "绵阳丙" in page
    mianyang = user_by_name(app, "mianyang")
    only = province_client.get(f"/applications/?city_id={mianyang.city_id}").get_data(as_text=True)
    assert "绵阳丙" in only and "成都甲" not in only
    assert "成都甲" not in city_client.get("/applications/?state=passed").get_data(as_text=True)


def test_province_and_viewer_cannot_write(app, province_client, viewer_client):
    application_id = create_application(app)
    for staff in (province_client, viewer_client):
        assert staff.get(f"/applications/{application_id}").status_code == 200
        assert staff.get("/applications/new").status_code == 404
        assert staff.post(f"/applications/{application_id}/edit", data={}).status_code == 404
        assert staff.post(f"/applications/{application_id}/review", data={"decision": "passed"}).status_code == 404
        assert staff.post(f"/applications/{application_id}/delete").status_code == 404
        assert "保存初审结论" not in staff.get(f"/applications/{application_id}").get_data(as_text=True)


def test_delete_only_drafts_and_audited(app, city_client):
    application_id = create_application(app)
    city_client.post(f"/applications/{application_id}/review", data={"decision": "passed"})
    refused = city_client.post(f"/applications/{application_id}/delete", follow_redirects=True)
    assert "只有草稿状态的申报可以删除" in refused.get_data(as_text=True)
    city_client.post(f"/applications/{application_id}/review", data={"decision": "draft"})
    response = city_client.post(f"/applications/{application_id}/delete")
    assert response.status_code == 303
    assert get_application(app, application_id) is None
    deleted = audit_events(app, "application.deleted")[-1]
    assert deleted.before["enterprise_name"].startswith("四川测试科技")


def test_credit_code_from_another_sichuan_city_warns_naming_it(app, city_client):
    from xkxl_intranet.domain.credit_code import make_credit_code

    values = application_values(credit_code=make_credit_code("511500", "MA6YB001"))
    html = city_client.post("/applications/check", data=values).get_data(as_text=True)
    assert "登记地为宜宾市" in html and "msg-warning" in html
    values = application_values(credit_code=make_credit_code("500100", "MA6CQ001"))
    html = city_client.post("/applications/check", data=values).get_data(as_text=True)
    assert "msg-error" in html and "四川" in html


def test_demo_data_shows_every_state(app, monkeypatch, client):
    monkeypatch.setenv("XKXL_DEMO_PASSWORD", "Demo-pass-2022")
    with app.app_context():
        from xkxl_intranet.auth.models import User
        db.session.execute(db.delete(User))  # the demo creates its own accounts
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["init-db", "--demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        from xkxl_intranet.applications.models import Application
        applications = db.session.scalars(db.select(Application)).all()
        assert len(applications) >= 8
        assert len({a.city_id for a in applications}) >= 5
        states = {a.review_state for a in applications}
        assert {"draft", "passed", "not_recommended"} <= states
        assert any(a.error_count for a in applications)  # not yet complete
        assert any(a.open_warning_count and not a.error_count for a in applications)  # warnings
        from xkxl_intranet.applications.queries import duplicate_ids
        from xkxl_intranet.rounds.state import current_round
        cross = [a for a in applications if a.id in duplicate_ids(current_round())]
        assert len({a.city_id for a in cross}) >= 2  # a cross-city duplicate
    _demo_review_is_ready_to_try(app, result.output, client)


def _demo_review_is_ready_to_try(app, output: str, client) -> None:
    """Two experts, expert1 and expert2, with the demo password, and sheets in every state."""
    assert "expert1" in output and "expert2" in output
    with app.app_context():
        experts = {u.username: u for u in db.session.scalars(db.select(User).where(User.role == "expert"))}
        assert set(experts) == {"expert1", "expert2"}
        sheets = db.session.scalars(db.select(Assignment)).all()
        assert {s.expert_id for s in sheets} == {experts["expert1"].id, experts["expert2"].id}
        assert {s.state for s in sheets} >= {"submitted", "draft", "assigned"}
        assert seed_demo_review(current_round()) == 0  # once only
    assert login(client, "expert1", "Demo-pass-2022").status_code == 303
    home = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert "我的评审" in home and "开始评分" in home


def test_long_lists_come_in_pages_in_summary_order_keeping_the_filters(app, province_client, city_client):
    chengdu = [create_application(app, "chengdu", with_form=False, enterprise_name=f"成都页测{n:02d}有限公司")
               for n in range(30)]
    mianyang = [create_application(app, "mianyang", with_form=False, enterprise_name=f"绵阳页测{n:02d}有限公司")
                for n in range(22)]
    first = province_client.get("/applications/").get_data(as_text=True)
    assert "共 52 份申报，第 1/2 页" in first
    assert all(f"/applications/{i}\"" in first for i in chengdu + mianyang[:20])
    assert f"/applications/{mianyang[20]}\"" not in first
    assert 'href="/applications/?page=2"' in first and 'hx-target="#application-table"' in first
    second = province_client.get("/applications/?page=2", headers={"HX-Request": "true"})
    html = second.get_data(as_text=True)
    assert "<html" not in html and "第 2/2 页" in html
    assert [int(i) for i in re.findall(r'href="/applications/(\d+)"', html)] == mianyang[20:]
    assert "第 2/2 页" in province_client.get("/applications/?page=99").get_data(as_text=True)
    # The filters stay on every page link; a filter that fits one page has no pager.
    searched = province_client.get("/applications/?q=页测&state=draft").get_data(as_text=True)
    assert "page=2&amp;q=%E9%A1%B5%E6%B5%8B&amp;state=draft" in searched
    mianyang_city = user_by_name(app, "mianyang").city_id
    only = province_client.get(f"/applications/?city_id={mianyang_city}").get_data(as_text=True)
    assert "共 22 份申报</p>" in only and 'class="pager"' not in only
    # A clerk's list pages the same way, within the city.
    assert "共 30 份申报</p>" in city_client.get("/applications/").get_data(as_text=True)


def test_a_refused_save_renders_the_error_summary_without_javascript(app, city_client):
    """Issue 25 (3): the summary is server-rendered: focused by the browser (autofocus), one link
    per unreadable field, to the field's control (GOV.UK's); the outline says where the errors are."""
    values = application_values(devices_total="约1200", apps_total="12a")
    text = city_client.post("/applications/new", data=values).get_data(as_text=True)
    assert re.search(r'<div class="error-summary" id="error-summary" role="alert" tabindex="-1" autofocus', text)
    summary = text.split('id="error-summary"', 1)[1].split("</div>", 1)[0]
    assert "autofocus" in summary and "有 2 处需要修改" in summary and "尚未保存" in summary
    assert re.findall(r'href="#(\w+)"', summary) == ["devices_total", "apps_total"]
    assert 'class="flash flash-danger"' not in text  # said once, in the summary
    assert "id=\"outline-state-3\"" in text and re.search(r'id="outline-state-3"[^>]*>\s*\d+ 处错误', text)


def test_the_live_check_updates_the_outline_out_of_band(city_client):
    html = city_client.post("/applications/check", data={"enterprise_name": "四川测试有限公司"}).get_data(as_text=True)
    states = re.findall(r'<span class="outline-state is-(\w+)" id="outline-state-(\d+)" hx-swap-oob="true">([^<]*)<', html)
    assert len(states) == 19 and states[0][0] == "blank" and states[0][2].endswith("项未填")


def test_links_to_a_field_point_at_its_control_and_a_group_at_its_first_choice(app, city_client):
    """GOV.UK's links (issue 25, 3): to the control, so that following one puts the cursor in it
    without JavaScript; a group of choices (是/否) is reached at its first box."""
    application_id = create_application(app, killer_cross_platform="", contact_name="")
    page = city_client.get(f"/applications/{application_id}/edit").get_data(as_text=True)
    for anchor in ("contact_name", "killer_cross_platform-0"):
        assert f'href="#{anchor}"' in page, anchor  # the check panel's list of blank required fields
        assert re.search(rf'<input[^>]*id="{anchor}"', page), anchor
    detail = city_client.get(f"/applications/{application_id}").get_data(as_text=True)
    assert f'/applications/{application_id}/edit#killer_cross_platform-0">去修改' in detail
