"""What the application form does with extreme input in the browser: a huge number's message
wraps inside the page, a paste cut at a field's maxlength says so, and the live check types
quietly (no console errors for the requests it replaces)."""
import time

import pytest

from helpers import browser_login

pytestmark = pytest.mark.browser


def _page_width(page) -> int:
    return page.evaluate("() => document.documentElement.scrollWidth")


def test_a_huge_number_is_quoted_short_and_the_page_keeps_its_width(page):
    page.set_viewport_size({"width": 1366, "height": 900})
    browser_login(page, "chengdu")
    page.goto("/applications/new")
    width = page.evaluate("() => window.innerWidth")
    page.fill("#sales_last_year", "9" * 5000)
    page.locator("#sales_last_year").press("Tab")  # change -> live check
    message = page.locator("#msg-sales_last_year .msg-error")
    message.wait_for()
    text = message.inner_text()
    assert "「上年销售（万元）」数值过大" in text and "（共5000位）" in text
    assert len(text) < 120
    assert _page_width(page) <= width
    panel = page.locator("#check-summary")
    assert "（共5000位）" in panel.inner_text()
    box = page.locator(".check-panel").bounding_box()
    assert box["x"] + box["width"] <= width


def test_a_long_unbroken_message_wraps_inside_its_column(page):
    """A message may still quote a long word (a text field's own value, 200 characters of
    Latin letters in the 申报书 comparison): messages wrap anywhere, the page does not widen."""
    page.set_viewport_size({"width": 1366, "height": 900})
    browser_login(page, "chengdu")
    page.goto("/applications/new")
    width = page.evaluate("() => window.innerWidth")
    page.evaluate("""() => {
        const box = document.getElementById('msg-address');
        box.innerHTML = '<p class="msg msg-warning">' + 'A'.repeat(400) + '</p>';
        document.querySelector('#check-summary').insertAdjacentHTML('beforeend',
            '<ol class="finding-list"><li class="is-warning"><a href="#f-address">' + 'B'.repeat(400) + '</a></li></ol>');
    }""")
    assert _page_width(page) <= width


def _paste(page, selector: str, text: str) -> None:
    """A real paste (Ctrl+V from the clipboard), as a clerk does it."""
    page.evaluate("text => navigator.clipboard.writeText(text)", text)
    page.locator(selector).focus()
    page.keyboard.press("Control+V")


@pytest.fixture
def clipboard_page(page):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    return page


def test_a_paste_cut_at_the_maxlength_is_pointed_out_until_shortened(clipboard_page):
    page = clipboard_page
    browser_login(page, "chengdu")
    page.goto("/applications/new")
    _paste(page, "#address", "成" * 25_000)
    assert len(page.input_value("#address")) == 200
    notice = page.locator("#f-address .maxlength-notice")
    notice.wait_for()
    assert notice.inner_text() == "“单位地址”最多200个字，超出的部分未能填入（粘贴了25000个字）"

    page.locator("#address").press("Backspace")
    notice.wait_for(state="detached")
    assert len(page.input_value("#address")) == 199

    # Typing at the limit says so too, without the paste's count; a paste that fits says nothing.
    page.locator("#address").type("都都")
    notice.wait_for()
    assert notice.inner_text() == "“单位地址”最多200个字，超出的部分未能填入"
    page.fill("#address", "")
    _paste(page, "#address", "成都市高新区天府大道1号")
    page.wait_for_timeout(200)
    assert notice.count() == 0
    assert page.input_value("#address") == "成都市高新区天府大道1号"


def test_an_input_method_commit_cut_at_the_maxlength_is_pointed_out(page):
    browser_login(page, "chengdu")
    page.goto("/applications/new")
    page.fill("#contact_name", "张" * 48)
    page.locator("#contact_name").focus()
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.imeSetComposition", {"text": "欧阳修", "selectionStart": 3, "selectionEnd": 3})
    cdp.send("Input.insertText", {"text": "欧阳修"})
    notice = page.locator("#f-contact_name .maxlength-notice")
    notice.wait_for()
    assert notice.inner_text() == "“联系人”最多50个字，超出的部分未能填入"
    assert len(page.input_value("#contact_name")) == 50


def test_typing_while_a_live_check_is_running_logs_no_console_error(app, page):
    """A pause in typing sends a live check; one still running when the next is due was aborted
    (hx-sync replace), and htmx reports every aborted request as two console errors
    (htmx:afterRequest, htmx:sendAbort). The server is slowed so that every check overlaps."""
    view = app.view_functions["applications.check"]
    answered = []

    def slow_check(*args, **kwargs):
        time.sleep(0.6)
        answered.append(time.monotonic())
        return view(*args, **kwargs)

    app.view_functions["applications.check"] = slow_check
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    browser_login(page, "chengdu")
    page.goto("/applications/new")
    field = page.locator("#enterprise_name")
    for word in ("四川", "锦城", "智造", "科技"):
        field.type(word, delay=20)
        page.wait_for_timeout(750)  # the live check's pause (700 ms) passes while one is running
    page.locator("#contact_name").fill("王建")
    page.locator("#contact_name").press("Tab")
    page.wait_for_function("() => !document.querySelector('.htmx-request')", timeout=10_000)
    page.wait_for_timeout(1500)
    assert len(answered) >= 2
    assert errors == []
    # The last word typed was checked: the message for a blank enterprise name is gone.
    assert "企业名称" not in page.locator("#msg-enterprise_name").inner_text()
