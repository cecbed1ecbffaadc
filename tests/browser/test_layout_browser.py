"""What only a browser can tell of the layout: the 通知文件 box is styled as the other boxes, the
dashboard's actions stand at the right of its heading, and the idle warning never covers the
sticky 检查结果 panel of the application form."""
import pytest

from helpers import browser_login

pytestmark = pytest.mark.browser

BOX_STYLE = """el => { const s = getComputedStyle(el);
  return [s.height, s.paddingTop, s.paddingLeft, s.borderTopWidth, s.borderTopColor, s.borderRadius,
          s.fontSize, s.width]; }"""


def test_the_notice_box_is_styled_as_the_other_boxes(page):
    browser_login(page, "province")
    page.goto("/rounds/")
    notice, title = page.locator("select[name=notice_file]"), page.locator("input[name=title]")
    # all but the height, which a select takes from the browser (Chromium's is 1 px less)
    assert notice.evaluate(BOX_STYLE)[1:] == title.evaluate(BOX_STYLE)[1:]


@pytest.mark.parametrize("scope", ["", "?scope=all"])
def test_the_dashboard_actions_stand_at_the_right_of_its_heading(page, scope):
    browser_login(page, "province")
    page.goto("/rounds/dashboard" + scope)
    head = page.locator(".page-head").bounding_box()
    title = page.locator(".page-head h1").bounding_box()
    button = page.locator(".page-head .button").bounding_box()
    note = page.get_by_text("秒自动刷新").bounding_box()
    assert abs((button["x"] + button["width"]) - (head["x"] + head["width"])) < 1  # flush right
    assert note["x"] + note["width"] <= button["x"]  # the refresh note just before it
    assert note["x"] > title["x"] + title["width"] + 100  # not in the middle of the heading
    assert button["y"] < title["y"] + title["height"] and title["y"] < button["y"] + button["height"]  # one row


def test_the_idle_warning_does_not_cover_the_check_panel(page):
    """The warning sticks to the top of the window; while it shows, the sticky 检查结果 panel stands
    below it, and goes back up once the clerk goes on (继续使用)."""
    page.clock.install()
    browser_login(page, "chengdu")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto("/applications/new")
    page.evaluate("window.scrollTo(0, 3000)")
    panel = page.locator(".check-panel")
    top_alone = panel.bounding_box()["y"]
    page.clock.run_for("01:55:30")
    warning = page.locator("#idle-warning")
    assert warning.is_visible()
    page.evaluate("window.scrollTo(0, 3000)")
    banner = warning.bounding_box()
    assert banner["y"] == 0  # still in view at the top of the window
    assert panel.bounding_box()["y"] >= banner["y"] + banner["height"], (panel.bounding_box(), banner)
    heading_y = panel.bounding_box()["y"] + 5  # its heading is not under the warning
    assert page.evaluate("y => document.elementFromPoint(1100, y).closest('.check-panel') !== null", heading_y)
    with page.expect_response("**/session/keep-alive"):
        warning.get_by_role("button", name="继续使用").click()
    page.clock.run_for(2000)
    assert warning.is_hidden()
    assert panel.bounding_box()["y"] == top_alone
