"""Issue #12, screen by screen: what each page says, beside the crawl (test_screens_crawl.py) that
checks every page for None, internal ids and English."""
import re
from datetime import datetime, timedelta

from xkxl_intranet import clock
from xkxl_intranet.applications.models import Application
from xkxl_intranet.applications.operations import save_application, set_review
from xkxl_intranet.audit.models import AuditEvent
from xkxl_intranet.batches.desk import return_batch
from xkxl_intranet.batches.reporting import report
from xkxl_intranet.domain.checks import FORM_2022
from xkxl_intranet.domain.parsing import parse_input
from xkxl_intranet.domain.review_criteria import CRITERIA_2022
from xkxl_intranet.extensions import db
from xkxl_intranet.reports.charts import bar_chart, fit_label
from xkxl_intranet.rounds.models import City, Round
from xkxl_intranet.rounds.reference import AREA_CODES, CITIES
from xkxl_intranet.rounds.state import batch_for_write, current_round
from xkxl_intranet.trail.changes import change_rows, display_value, key_names
from xkxl_intranet.trail.objects import describe_objects

from helpers import (
    application_values,
    attach_form,
    create_application,
    get_application,
    logged_in_client,
    seed_demo_quickly,
)
from reports.helpers import city_id, make_passed, set_batch_state, user

SHANGHAI_NOON = datetime(2022, 3, 18, 12, 0, tzinfo=clock.SHANGHAI)


def _edit(client, application_id: int, **changes):
    """Post the edit form as the browser would, with the version the editor loaded."""
    application = get_application(client.application, application_id)
    values = application_values(**changes)
    for key in ("credit_code", "enterprise_name", "platform_name"):
        values.setdefault(key, getattr(application, key))
        values[key] = changes.get(key, getattr(application, key))
    values.update(version=str(application.version), application_id=str(application_id))
    return client.post(f"/applications/{application_id}/edit", data=values)


# ---- the form guides instead of shouting ------------------------------------------------------

def test_the_version_rises_by_one_per_save(app, city_client):
    application_id = create_application(app, with_form=False)
    versions = [get_application(app, application_id).version]
    for employees in ("2601", "2602", "2603"):
        assert _edit(city_client, application_id, employees=employees).status_code == 303
        versions.append(get_application(app, application_id).version)
    assert versions == [1, 2, 3, 4]


def test_a_save_that_undoes_the_review_is_still_one_version_and_drops_the_old_comment(app, city_client):
    application_id = make_passed(app)
    with app.app_context():
        application = db.session.get(Application, application_id)
        set_review(user("chengdu"), application, "passed", "材料齐全，同意推荐。")
        db.session.commit()
    before = get_application(app, application_id).version
    values = application_values()
    response = _edit(city_client, application_id, devices_operating=str(int(values["devices_operating"]) + 7))
    after = get_application(app, application_id)
    assert after.version == before + 1
    assert after.review_state == "draft" and after.review_comment == "" and after.reviewed_at is None
    message = city_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "初审结论已退回草稿" in message and "尚有 1 个错误" in message
    assert "初审意见：材料齐全" not in message  # the old comment is not shown as current
    with app.app_context():
        reverted = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "application.review_reverted"))
        assert reverted.before["review_comment"] == "材料齐全，同意推荐。"  # the trail keeps it


def test_withdrawing_a_review_leaves_no_current_comment(app, city_client):
    application_id = make_passed(app)
    city_client.post(f"/applications/{application_id}/review", data={"decision": "not_recommended",
                                                                     "comment": "规模尚小"})
    page = city_client.get(f"/applications/{application_id}").get_data(as_text=True)
    assert "初审意见：规模尚小" in page
    city_client.post(f"/applications/{application_id}/review", data={"decision": "draft", "comment": ""})
    page = city_client.get(f"/applications/{application_id}").get_data(as_text=True)
    assert "初审意见：" not in page and get_application(app, application_id).review_comment == ""
    assert re.search(r'<textarea[^>]*name="comment"[^>]*>\s*</textarea>', page)


def test_save_messages_count_only_what_is_there(app, city_client):
    # A complete application without its 申报书: no "0 个错误", and the missing file is named.
    response = city_client.post("/applications/new", data=application_values(), follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "已保存为草稿。尚未上传申报书" in page
    assert "0 个错误" not in page and "可进行市州初审" not in page
    # Warnings only.
    values = application_values()
    values["apps_safety"] = str(int(values["apps_safety"]) + 3)
    page = city_client.post("/applications/new", data=values, follow_redirects=True).get_data(as_text=True)
    assert "尚有 1 个待确认提示" in page and "0 个错误" not in page
    # Everything there: the clerk may review it.
    application_id = create_application(app)
    page = _edit(city_client, application_id, employees="2700")
    page = city_client.get(page.headers["Location"]).get_data(as_text=True)
    assert "可进行市州初审" in page and "可以初审通过" in page
    # Already 初审通过: no invitation to a review it has.
    passed = make_passed(app)
    page = city_client.get(_edit(city_client, passed, employees="2800").headers["Location"]).get_data(as_text=True)
    assert "仍为市州初审通过" in page and "可进行市州初审" not in page and "可以初审通过" not in page
    assert "各项检查均已通过；市州初审已通过。" in page


def test_required_messages_are_marked_and_blank_fields_counted_on_one_line(app, city_client):
    html = city_client.post("/applications/check", data={"enterprise_name": "四川测试有限公司"}).get_data(as_text=True)
    required = sum(1 for key in ("platform_name", "contact_name")
                   if re.search(rf'id="msg-{key}"[^>]*>\s*<p class="msg msg-error msg-required">', html))
    assert required == 2
    summary = html.split('id="check-summary"', 1)[1]
    assert re.search(r"尚有 \d+ 项必填内容未填写", summary)
    assert summary.count("为必填项") == 0  # the list names the fields, not 68 sentences
    form = city_client.get("/applications/new").get_data(as_text=True)
    assert 'class="application-form"' in form  # a new form has not been "tried" yet
    application_id = create_application(app, with_form=False, platform_name="")
    assert 'class="application-form was-validated"' in city_client.get(
        f"/applications/{application_id}/edit").get_data(as_text=True)


def test_no_form_attribute_says_none(city_client):
    form = city_client.get("/applications/new").get_data(as_text=True)
    assert "None" not in form
    assert re.search(r'<input[^>]*id="founded_on"[^>]*>', form) and 'inputmode="decimal"' in form
    founded = re.search(r'<input[^>]*id="founded_on"[^>]*>', form).group(0)
    assert "inputmode" not in founded and "maxlength" not in founded


def test_an_unnamed_application_is_named_by_its_number_everywhere(app, city_client, province_client):
    with app.app_context():
        clerk = user("chengdu")
        application, _ = save_application(clerk, None, parse_input({}, FORM_2022.fields), city=clerk.city, round_=current_round(),
                                          expected_version=None)
        db.session.commit()
        application_id, position = application.id, application.position
    assert get_application(app, application_id).title == f"未填名称的申报（序号 {position}）"
    desk = province_client.get(f"/rounds/cities/{city_id(app, '510100')}").get_data(as_text=True)
    assert "（未填平台名称）" in desk and "（未填企业名称）" in desk and "None" not in desk
    assert f"#{application_id}" not in city_client.get("/audit/").get_data(as_text=True)


# ---- the audit trail names things -------------------------------------------------------------

def test_audit_values_read_as_a_clerk_writes_them():
    names = key_names(FORM_2022, CRITERIA_2022)
    assert names("review_state") == "初审状态" and names("employees") == "从业人员数量"
    assert display_value("late", False, names) == "否" and display_value("is_enabled", True, names) == "是"
    assert display_value("province_mark", None, names) == "（空）"
    assert display_value("deadline", "2022-03-21T15:59:59+00:00", names) == "2022-03-21 23:59:59"
    assert display_value("category", "evidence1", names) == "附件1 工业设备清单"
    assert display_value("role", "city", names) == "市（州）经信部门"
    assert display_value("size", 2048, names) == "2.0 KB"
    assert display_value("order", ["甲平台", "乙平台"], names) == "甲平台、乙平台"
    rows = change_rows({"province_mark": None}, {"province_mark": "推荐工信部", "rule": "x:y"}, names)
    assert rows == [("推荐结果", "（空）", "推荐工信部")]  # the rule id is for the machine
    assert change_rows(None, {"application_id": 3, "category": "form", "name": "a.pdf"}, names) == [
        ("类别", "", "申报书"), ("文件名", "", "a.pdf")]


def test_audit_objects_are_named_and_linked_where_the_reader_may_open_them(app, monkeypatch):
    seed_demo_quickly(app, monkeypatch)
    with app.app_context():
        # in the order they were recorded: "the first 绵阳 application created" must not depend on
        # the order PostgreSQL happens to return rows in
        events = list(db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id)))
        reported = next(e for e in events if e.action == "batch.reported" and e.city.name == "绵阳市")
        created = next(e for e in events if e.action == "application.created" and e.city.name == "绵阳市")
        account = next(e for e in events if e.action == "account.created" and e.object_id)
        for username in ("province", "viewer", "mianyang"):
            named = describe_objects(user(username), events)
            assert named[reported.id].text == "绵阳市 报送批次"
            assert (named[reported.id].endpoint, named[reported.id].params) == (
                ("rounds.batch", {}) if username == "mianyang"
                else ("rounds.city_desk", {"city_id": city_id(app, "510700")}))
            assert named[created.id].text == "智联家电工业互联网平台（绵州智联科技股份有限公司）"
            assert (named[created.id].endpoint, named[created.id].params) == (
                "applications.detail", {"application_id": int(created.object_id)})
            account_ref = named[account.id]
            assert account_ref.text.endswith(f"（{account.after['username']}）")
            assert (account_ref.endpoint == "auth.user_edit") == (username == "province")
        # The expert review's events name the sheet (expert and application) and the review.
        sheet_event = next(e for e in events if e.object_type == "assignment")
        review_event = next(e for e in events if e.object_type == "review")
        named = describe_objects(user("province"), events)
        assert re.fullmatch(r"(张明远|李佳音)的评分表（.+）", named[sheet_event.id].text)
        assert named[sheet_event.id].endpoint == "applications.detail"
        assert named[review_event.id].text.endswith("专家评审") and named[review_event.id].endpoint == "review.manage"


def test_audit_page_names_objects_links_them_and_never_shows_keys(app, province_client, city_client):
    application_id = create_application(app)
    city_client.post(f"/applications/{application_id}/delete")
    html = province_client.get("/audit/").get_data(as_text=True)
    assert f'href="/applications/{application_id}"' not in html  # deleted: named, not linked
    assert "（已删除）" in html
    assert not re.search(r"\b(application|batch|user|file|round) #\d", html)
    assert "<td>enterprise_name</td>" not in html and "企业名称" in html


def test_audit_date_filter_reads_chinese_dates_and_says_what_it_cannot(app, province_client):
    create_application(app)
    today = clock.now().date()
    chinese, slashed = f"{today.year}年{today.month}月{today.day}日", f"{today.year}/{today.month}/{today.day}"
    html = province_client.get(f"/audit/?date_from={chinese}&date_to={slashed}").get_data(as_text=True)
    assert "新建申报" in html
    yesterday = today - timedelta(days=1)
    html = province_client.get(f"/audit/?date_to={yesterday.isoformat()}").get_data(as_text=True)
    assert "没有符合条件的记录" in html
    html = province_client.get("/audit/?date_from=三月").get_data(as_text=True)
    assert "「起始日期」不是有效的日期" in html and 'type="date"' not in html


# ---- the clerk sees their own situation first --------------------------------------------------

def test_city_home_shows_return_reason_then_deadline_then_what_is_missing(app):
    clock.set_now(SHANGHAI_NOON)
    application_id = make_passed(app)
    with app.app_context():
        report(user("chengdu"), current_round(), user("chengdu").city, scan_missing_acknowledged=True)
        batch = batch_for_write(current_round().id, user("chengdu").city_id)
        return_batch(user("province"), batch, "请补充附件1 工业设备清单。")
        db.session.commit()
    create_application(app, with_form=False)  # a second one, without its 申报书
    page = logged_in_client(app, "chengdu").get("/").get_data(as_text=True)
    reason, deadline, todo = (page.index("请补充附件1 工业设备清单"), page.index('id="home-deadline"'),
                              page.index('id="home-todo"'))
    assert reason < deadline < todo
    assert "2022年03月21日 23:59:59" in page[deadline:todo]
    items = re.findall(r'<li><a href="([^"]+)">([^<]+)</a></li>', page[todo:].split("</ol>", 1)[0])
    assert ("/files/city", "1 份申报未上传申报书") in items
    assert ("/applications/?state=draft", "1 份申报尚未完成市州初审") in items
    assert items[-1] == ("/rounds/batch", "退回修改后尚未重新报送")
    assert get_application(app, application_id).review_state == "passed"


def test_city_home_shows_the_extended_deadline_and_a_reported_batch(app):
    clock.set_now(SHANGHAI_NOON)
    with app.app_context():
        batch = batch_for_write(current_round().id, user("chengdu").city_id)
        batch.extension_deadline = datetime(2022, 3, 25, 18, 0, tzinfo=clock.SHANGHAI)
        db.session.commit()
    page = logged_in_client(app, "chengdu").get("/").get_data(as_text=True)
    deadline = page.split('id="home-deadline"', 1)[1].split("</dd>", 1)[0]
    assert "2022年03月25日 18:00" in deadline and "省厅已准予本市（州）延期" in deadline
    assert "尚未录入任何申报" in page
    set_batch_state(app, "510100", "reported")
    page = logged_in_client(app, "chengdu").get("/").get_data(as_text=True)
    assert "已报送，等待省厅受理" in page and 'id="home-todo"' not in page


def test_the_excel_import_is_under_applications(city_client):
    page = city_client.get("/applications/").get_data(as_text=True)
    assert re.search(r'<a class="button" href="/reports/import" id="excel-import">Excel 批量导入</a>', page)
    assert "返回申报管理" in city_client.get("/reports/import").get_data(as_text=True)


def test_demo_contacts_use_each_citys_own_area_code(app, monkeypatch):
    assert set(AREA_CODES) == {code for code, *_ in CITIES}
    with app.app_context():
        for city in db.session.scalars(db.select(City)):
            city.contact_name = city.contact_phone = ""
        db.session.commit()
    seed_demo_quickly(app, monkeypatch)
    with app.app_context():
        for city in db.session.scalars(db.select(City)):
            assert city.contact_phone.startswith(AREA_CODES[city.code] + "-"), (city.name, city.contact_phone)
        mianyang = db.session.scalar(db.select(Application).where(Application.enterprise_name == "绵州智联科技股份有限公司"))
        assert mianyang.values()["contact_phone"].startswith("0816-")
    summary = logged_in_client(app, "province").get(f"/reports/cities/{city_id(app, '510700')}/summary")
    assert "0816-" in summary.get_data(as_text=True)


def test_footer_names_the_division_once(app, city_client):
    footer = city_client.get("/").get_data(as_text=True).split('<footer class="site-footer">', 1)[1]
    assert footer.count("大数据与信息化处") == 1 and "魏鹏程" in footer
    with app.app_context():
        db.session.scalar(db.select(Round)).contact_name = "魏鹏程"
        db.session.commit()
    footer = city_client.get("/").get_data(as_text=True).split('<footer class="site-footer">', 1)[1]
    assert footer.count("大数据与信息化处") == 1


def test_anonymous_root_goes_to_log_in_without_a_warning(client):
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    page = client.get("/login").get_data(as_text=True)
    assert "请先登录" not in page
    deeper = client.get("/applications/")
    assert "next=" in deeper.headers["Location"]
    assert "请先登录" in client.get(deeper.headers["Location"]).get_data(as_text=True)


def test_favicon_is_served_and_linked(client, city_client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    response.close()
    assert 'rel="icon" href="/static/favicon.ico"' in city_client.get("/").get_data(as_text=True)


# ---- charts and statistics ---------------------------------------------------------------------

def test_charts_show_whole_city_names_with_text_alternatives(app, province_client):
    create_application(app, "mianyang")
    html = province_client.get("/rounds/dashboard?scope=all").get_data(as_text=True)
    chart = html.split('aria-labelledby="count-chart-caption count-chart-desc"', 1)[1].split("</svg>", 1)[0]
    for name in ("阿坝藏族羌族自治州", "甘孜藏族自治州", "凉山彝族自治州", "攀枝花市"):
        assert f">{name}</text>" in chart
    assert "绵阳市 1 份，其中初审通过 0 份" in chart
    assert re.search(r'<desc id="state-chart-desc">未开始 \d+ 个，填报中 1 个', html)
    assert re.search(r'<dt class="stat-l">未开始</dt><dd class="stat-n">\d+', html)
    compare = province_client.get("/reports/compare").get_data(as_text=True)
    svg = compare.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert ">绵阳市</text>" in svg and "·" not in svg


def test_long_chart_labels_are_cut_with_an_ellipsis_but_kept_whole_for_the_tooltip():
    assert fit_label("成都市", 100, 11) == "成都市"
    cut = fit_label("四川省成都市高新区超长名称的工业互联网平台有限公司", 120, 11)
    assert cut.endswith("…") and len(cut) <= 11
    chart = bar_chart([("很长很长很长很长很长很长很长很长的平台名称", 5, "5", "阿坝藏族羌族自治州")], label_width=100)
    assert chart.bars[0].label == "很长很长很长很长很长很长很长很长的平台名称"
    assert chart.bars[0].shown.endswith("…") and chart.bars[0].note == "阿坝藏族羌族自治州"


# ---- forms in Chinese --------------------------------------------------------------------------

def test_paper_dates_typed_the_chinese_way(app, province_client):
    clock.set_now(SHANGHAI_NOON)
    chengdu = city_id(app, "510100")
    province_client.post(f"/rounds/cities/{chengdu}/paper", data={
        "paper_forms_received_on": "2022年3月17日", "paper_disc_received_on": "2022/3/17",
        "paper_summary_received_on": "", "paper_note": ""})
    with app.app_context():
        batch = batch_for_write(current_round().id, chengdu)
        assert batch.paper_forms_received_on.isoformat() == batch.paper_disc_received_on.isoformat() == "2022-03-17"
    page = province_client.post(f"/rounds/cities/{chengdu}/paper", data={"paper_forms_received_on": "上周"},
                                follow_redirects=True).get_data(as_text=True)
    assert "「申报书纸质版（一式三份）收到日期」不是有效的日期" in page
    desk = province_client.get(f"/rounds/cities/{chengdu}").get_data(as_text=True)
    assert 'type="date"' not in desk and 'placeholder="年-月-日，如 2022-03-18"' in desk


def test_wtforms_own_messages_are_chinese(app, province_client):
    page = province_client.post("/review/settings", data={"deadline": "2099-04-08 18:00",
                                                          "experts_per_application": "二"},
                                follow_redirects=True).get_data(as_text=True)
    assert "不是有效的整数" in page and "Not a valid" not in page
    page = province_client.post("/review/settings", data={"deadline": "2099-04-08 18:00",
                                                          "experts_per_application": ""},
                                follow_redirects=True).get_data(as_text=True)
    assert "请填写每份申报的评审专家人数" in page


def test_every_post_form_leaves_validation_to_the_app(app, city_client, province_client):
    application_id = create_application(app)
    attach_form(app, application_id)
    set_batch_state(app, "510700", "reported")
    pages = [city_client.get(f"/applications/{application_id}"), city_client.get("/reports/import"),
             province_client.get(f"/rounds/cities/{city_id(app, '510700')}"), province_client.get("/rounds/")]
    for response in pages:
        for form in re.findall(r"<form\b[^>]*>", response.get_data(as_text=True)):
            assert "novalidate" in form, form
