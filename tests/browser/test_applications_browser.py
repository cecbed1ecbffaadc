import re

import pytest

from helpers import application_values, browser_login

pytestmark = pytest.mark.browser

FILL_FORM = """values => {
  for (const [key, value] of Object.entries(values)) {
    const inputs = document.querySelectorAll(`[name="${key}"]`);
    if (!inputs.length) continue;
    if (inputs[0].type === 'radio' || inputs[0].type === 'checkbox') {
      const wanted = Array.isArray(value) ? value : [value];
      inputs.forEach(i => { i.checked = wanted.includes(i.value); });
    } else {
      inputs[0].value = value;
    }
  }
}"""


def test_clerk_fixes_a_wrong_subtotal_live_and_saves(page):
    browser_login(page, "chengdu")
    page.goto("/applications/new")
    values = application_values()
    page.evaluate(FILL_FORM, values)
    total = int(values["devices_total"])
    wrong = int(values["devices_operating"]) + 15

    page.fill("#devices_operating", str(wrong))
    page.locator("#devices_operating").press("Tab")  # change event -> live check
    message = page.locator("#msg-devices_total")
    message.locator(".msg-error").wait_for()
    assert f"分项合计 {total + 15} 大于总数 {total}" in message.inner_text()  # a part above its whole: an error
    assert f"分项合计 {total + 15} / 总数 {total}" in page.locator("#sum-sum-devices_parts").inner_text()
    assert "错误 1" in page.locator("#check-summary").inner_text()

    page.fill("#devices_operating", "")
    page.type("#devices_operating", "１２３", delay=20)  # full-width digits are fine too
    page.fill("#devices_operating", values["devices_operating"])
    page.locator("#devices_operating").press("Tab")
    page.wait_for_function("() => !document.querySelector('#msg-devices_total .msg-error')")
    assert page.locator("#sum-sum-devices_parts svg.icon-check[aria-label=符合]").count() == 1  # issue 25 (6e): SVG, no emoji font
    assert "各项检查均已通过" in page.locator("#check-summary").inner_text()

    page.click("button[type=submit]:has-text('保存')")
    page.wait_for_url("**/applications/*")
    assert "已保存" in page.locator(".flashes").inner_text()
    assert values["platform_name"] in page.locator("h1").inner_text()


def test_categories_below_their_total_are_a_warning_and_the_form_still_saves(app, page):
    """Issue 19: four device categories of 90 in a total of 100 are a question, not an error."""
    browser_login(page, "chengdu")
    page.goto("/applications/new")
    values = application_values()
    page.evaluate(FILL_FORM, values)
    total = int(values["devices_total"])
    short = int(values["devices_operating"]) - 10
    page.fill("#devices_operating", str(short))
    page.fill("#contact_fax", "无")
    page.locator("#devices_operating").press("Tab")
    message = page.locator("#msg-devices_total .msg-warning")
    message.wait_for()
    assert f"分项合计 {total - 10} 小于总数 {total}" in message.inner_text()
    assert "申报书未规定此项，系系统校核" in message.inner_text()
    assert "is-warning" in page.locator("#sum-sum-devices_parts").get_attribute("class")
    assert page.locator("#msg-devices_total .msg-error").count() == 0
    assert page.locator("#msg-contact_fax .msg-error").count() == 0
    assert "错误 0" in page.locator("#check-summary").inner_text()
    page.click("button[type=submit]:has-text('保存')")
    page.wait_for_url("**/applications/*")
    assert "已保存" in page.locator(".flashes").inner_text()


def test_leaving_a_half_filled_form_asks_first(app, page):
    browser_login(page, "chengdu")
    page.goto("/applications/new")
    page.fill("input[name=enterprise_name]", "四川未保存科技有限公司")
    dialogs = []

    def stay(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()  # the clerk chooses to stay

    page.on("dialog", stay)
    page.click("a:has-text('工作台')")
    page.wait_for_timeout(300)
    assert dialogs == ["beforeunload"]
    assert page.input_value("input[name=enterprise_name]") == "四川未保存科技有限公司"


def test_enter_in_a_box_moves_on_instead_of_saving_a_half_filled_form(app, page):
    """A clerk copying figures presses Enter after each: the cursor goes to the next box, nothing
    is sent; Enter on 保存 still saves."""
    from xkxl_intranet.applications.models import Application
    from xkxl_intranet.extensions import db

    browser_login(page, "chengdu")
    page.goto("/applications/new")
    page.fill("[name=enterprise_name]", "四川回车测试科技有限公司")
    page.focus("[name=enterprise_name]")
    page.keyboard.press("Enter")
    assert page.url.endswith("/applications/new")
    assert page.evaluate("document.activeElement.name") not in ("enterprise_name", None, "")
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Application)) == 0
    page.focus("form.application-form button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/applications/\d+"))
    with app.app_context():
        assert db.session.scalar(db.select(Application.enterprise_name)) == "四川回车测试科技有限公司"
