"""Issue #12 in a real browser: the report journey with JavaScript switched off (plain form posts
only, as on an old 360 or QQ browser with scripts blocked), and the application form's
required-field messages with it on."""
from datetime import timedelta

import pytest

from xkxl_intranet import clock
from xkxl_intranet.domain.indicators import FIELDS, Kind
from xkxl_intranet.extensions import db
from xkxl_intranet.rounds.models import CityBatch, Round

from helpers import SAMPLE_PDF, application_values, browser_login, create_application
from reports.helpers import city_id, set_batch_state

pytestmark = pytest.mark.browser


def _deadline_ahead(app) -> None:
    with app.app_context():
        db.session.scalar(db.select(Round)).deadline = clock.now() + timedelta(days=3)
        db.session.commit()


def _no_js_page(browser, live_server):
    context = browser.new_context(java_script_enabled=False, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  base_url=live_server.url)
    context.set_default_timeout(10_000)
    return context, context.new_page()


def _fill_application(page, values: dict) -> None:
    """Type every value into the form, one control at a time (no script to do it for us)."""
    for key, value in values.items():
        f = FIELDS.get(key)
        if f is None:
            continue
        if f.kind is Kind.MULTI:
            for choice in value:
                page.check(f'input[name="{key}"][value="{choice}"]')
        elif f.kind in (Kind.BOOL, Kind.CHOICE):
            page.check(f'input[name="{key}"][value="{value}"]')
        else:
            page.fill(f"#{key}", value)


def _flash(page) -> str:
    return page.locator(".flashes").inner_text()


def _batch_state(app, code: str) -> str:
    with app.app_context():
        return db.session.scalar(db.select(CityBatch.state).where(CityBatch.city_id == city_id(app, code)))


def test_report_journey_without_javascript(app, browser, live_server):
    _deadline_ahead(app)
    chengdu = city_id(app, "510100")
    clerk_context, clerk = _no_js_page(browser, live_server)
    province_context, province = _no_js_page(browser, live_server)

    # The clerk saves a new application with a plain form post.
    browser_login(clerk, "chengdu")
    clerk.goto("/applications/new")
    values = application_values()
    _fill_application(clerk, values)
    clerk.click("button[type=submit]:has-text('保存')")
    clerk.wait_for_url("**/applications/*")
    assert "已保存为草稿。尚未上传申报书" in _flash(clerk) and "尚有 0" not in _flash(clerk)
    application_id = int(clerk.url.rstrip("/").rsplit("/", 1)[1])

    # Uploads the 申报书 through the box's own 上传 button.
    box = clerk.locator(f"#files-{application_id}-form")
    assert box.locator(".upload-submit").is_visible()
    box.locator("input[type=file]").set_input_files(
        files=[{"name": "申报书.pdf", "mimeType": "application/pdf", "buffer": SAMPLE_PDF}])
    box.locator(".upload-submit").click()
    clerk.wait_for_load_state()
    assert "申报书.pdf" in clerk.locator(f"#files-{application_id}-form").inner_text()
    assert "可以初审通过" in clerk.locator("#findings").inner_text()

    # 市州初审, then 报送 (the confirmation prompt needs JavaScript; without it the form just posts).
    clerk.check("input[name=decision][value=passed]")
    clerk.click("button:has-text('保存初审结论')")
    clerk.wait_for_load_state()
    assert "初审结论已保存：市州初审通过" in _flash(clerk)
    clerk.goto("/rounds/batch")
    clerk.click("text=进入报送确认")
    clerk.check("input[name=scan_missing_acknowledged]")
    clerk.click("button:has-text('确认报送')")
    clerk.wait_for_url("**/rounds/receipts/*")
    assert "报送成功" in _flash(clerk) and "HZ2022-510100-01" in clerk.content()
    assert _batch_state(app, "510100") == "reported"

    # The province returns it; without a reason the server answers in Chinese (no browser bubble).
    browser_login(province, "province")
    province.goto(f"/rounds/cities/{chengdu}")
    province.click("button:has-text('退回修改')")
    province.wait_for_load_state()
    assert "请填写退回原因" in province.locator("#return-reason-error").inner_text()  # beside the box
    province.fill("#return-reason", "汇总表联系人手机号有误，请核对后重新报送。")
    province.click("button:has-text('退回修改')")
    province.wait_for_load_state()
    assert "已退回修改" in _flash(province)
    assert _batch_state(app, "510100") == "returned"

    # The clerk's home page says why, first; the clerk reports again.
    clerk.goto("/")
    assert "汇总表联系人手机号有误" in clerk.locator("#return-reason").inner_text()
    clerk.goto("/rounds/batch/report")
    clerk.check("input[name=scan_missing_acknowledged]")
    clerk.click("button:has-text('确认报送')")
    clerk.wait_for_url("**/rounds/receipts/*")
    assert "HZ2022-510100-02" in clerk.content()

    # And the province accepts.
    province.goto(f"/rounds/cities/{chengdu}")
    province.click("button:has-text('受理')")
    province.wait_for_load_state()
    assert "已受理" in _flash(province)
    assert _batch_state(app, "510100") == "accepted"
    clerk.goto("/")
    assert "省厅已受理本市（州）的报送" in clerk.locator("#city-status").inner_text()
    clerk_context.close()
    province_context.close()


def test_required_messages_wait_until_a_field_is_left_or_a_save_is_tried(app, page):
    browser_login(page, "chengdu")
    page.goto("/applications/new")
    page.type("#enterprise_name", "四川浏览器测试有限公司", delay=10)
    page.locator("#enterprise_name").press("Tab")  # a change: the live check answers for every field
    summary = page.locator("#check-summary")
    summary.locator("#blank-required").wait_for()
    blanks = sum(1 for f in FIELDS.values() if f.required) - 1
    assert f"尚有 {blanks} 项必填内容未填写" in summary.inner_text()
    # Still typing at the top: the fields below do not shout yet.
    assert page.locator("#msg-platform_name .msg-required").count() == 1
    assert not page.locator("#msg-platform_name .msg-required").is_visible()
    assert not page.locator("#msg-contact_name .msg-required").is_visible()

    # Passing through 联系人 says nothing (issue 25); emptied and left, it says so, and only it.
    page.focus("#contact_name")
    page.locator("#contact_name").press("Tab")
    assert not page.locator("#msg-contact_name .msg-required").is_visible()
    page.locator("#contact_name").type("张")
    page.locator("#contact_name").press("Backspace")
    page.locator("#contact_name").press("Tab")
    assert page.locator("#msg-contact_name .msg-required").is_visible()
    assert "「联系人」为必填项" in page.locator("#msg-contact_name").inner_text()
    assert not page.locator("#msg-platform_name .msg-required").is_visible()

    # Saving a draft is allowed; back in the form every blank required field says so.
    page.click("button[type=submit]:has-text('保存')")
    page.wait_for_url("**/applications/*")
    assert "已保存为草稿" in page.locator(".flashes").inner_text()
    page.goto(page.url.split("#")[0] + "/edit")
    assert page.locator("#msg-platform_name .msg-required").is_visible()


def test_a_blank_return_reason_gets_the_apps_own_chinese_message(app, page):
    create_application(app, "chengdu")
    set_batch_state(app, "510100", "reported")
    browser_login(page, "province")
    desk = f"/rounds/cities/{city_id(app, '510100')}"
    page.goto(desk)
    dialogs = []

    def answer(dialog):  # the officer's answer to the confirmation: first 取消, then 确定
        dialogs.append(dialog.message)
        dialog.accept() if len(dialogs) > 1 else dialog.dismiss()
    page.on("dialog", answer)
    page.click("button:has-text('退回修改')")
    message = page.locator("#return-reason ~ .msg-error[role=alert]")
    message.wait_for()
    assert message.inner_text() == "请填写“退回原因”。"
    assert page.url.endswith(desk) and page.locator(".flashes").count() == 0  # nothing was sent
    assert page.evaluate("document.activeElement.id") == "return-reason"
    assert dialogs == []  # no confirmation for a form that could not be sent anyway
    page.fill("#return-reason", "请补充附件1")
    assert page.locator("#return-reason ~ .msg-error").count() == 0
    page.click("button:has-text('退回修改')")  # 取消: nothing is sent, the reason stays typed
    assert dialogs == ["确认将成都市的报送退回修改？退回后该市（州）可以修改并须重新报送。"]
    assert page.locator(".flashes").count() == 0 and page.input_value("#return-reason") == "请补充附件1"
    page.click("button:has-text('退回修改')")  # 确定
    page.wait_for_load_state()
    assert len(dialogs) == 2
    assert "已退回修改" in page.locator(".flashes").inner_text()
