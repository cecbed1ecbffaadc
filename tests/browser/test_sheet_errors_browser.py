"""Issue 25 (5): an expert's refused submit is answered by an error summary at the top of the
sheet that takes the focus (with htmx in the application page's scrolled panel, and as a plain
form without JavaScript); each of its links puts the cursor in its field."""
import pytest

from helpers import browser_login
from review.helpers import give, open_review, passed, report

pytestmark = pytest.mark.browser


def _assigned(app) -> int:
    open_review(app, days=5)
    application = passed(app, "chengdu", platform_name="摘要评审平台")
    report(app, "chengdu")
    give(app, application, "expert1")
    return application


def _in_viewport(page, selector: str) -> bool:
    return page.evaluate("""(s) => { const r = document.querySelector(s).getBoundingClientRect();
        return r.top >= 0 && r.top < window.innerHeight; }""", selector)


def test_a_refused_submit_focuses_the_error_summary_at_the_top_of_the_sheet(page, app):
    application = _assigned(app)
    browser_login(page, "expert1")
    page.goto(f"/applications/{application}")
    page.fill("#score_devices", "8")
    asked: list[str] = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.locator("button[value=submit]").scroll_into_view_if_needed()
    page.click("button[value=submit]")
    page.locator("#sheet-error-summary").wait_for()
    assert asked == []  # not "提交后将锁定，确定？" for a sheet the server refuses as incomplete
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'sheet-error-summary'")
    assert _in_viewport(page, "#sheet-error-summary")  # not 2,000 px above, out of sight
    summary = page.locator("#sheet-error-summary").inner_text()
    assert "尚未提交" in summary and "尚未填写综合评价" in summary and "1.2、1.3" in summary
    # Each required opinion box carries its mark and, now, its message.
    assert page.locator("#score-sheet .required-mark").count() == 7  # six boxes and the opinion choice
    assert page.get_attribute("#overall_comment", "aria-invalid") == "true"

    page.click("#sheet-error-summary a[href='#overall_comment']")
    page.wait_for_function("() => document.activeElement.id === 'overall_comment'")
    page.keyboard.type("整体较好")
    assert page.input_value("#overall_comment") == "整体较好"


def test_without_javascript_the_summary_is_focused_on_the_sheets_own_page(browser, live_server, app):
    application = _assigned(app)
    context = browser.new_context(java_script_enabled=False, locale="zh-CN", base_url=live_server.url)
    page = context.new_page()
    try:
        browser_login(page, "expert1")
        page.goto(f"/applications/{application}")
        page.fill("#score_devices", "8")
        page.click("button[value=submit]")
        page.locator("#sheet-error-summary").wait_for()
        assert "/review/sheets/" in page.url
        assert page.evaluate("() => document.activeElement.id") == "sheet-error-summary"
        assert page.input_value("#score_devices") == "8"  # the draft was saved and is shown
        page.click("#sheet-error-summary a[href='#comment_resources']")
        assert page.url.endswith("#comment_resources")
    finally:
        context.close()


def test_publishing_early_without_the_tick_says_so_in_the_apps_words(page, app):
    """The walkthrough saw the browser's own bubble (its language, not the app's) on 公布推荐结果."""
    _assigned(app)
    browser_login(page, "province")
    page.goto("/review/ranking")
    asked: list[str] = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    form = page.locator("form:has(input[name=confirm_early])")
    form.get_by_role("button", name="公布推荐结果").click()
    message = form.locator(".msg-error")
    message.wait_for()
    assert message.inner_text() == "请先勾选“确认提前公布”。"
    assert page.evaluate("() => document.activeElement.name") == "confirm_early"
    assert asked == []  # no "确定公布？" for a form that cannot be sent yet
