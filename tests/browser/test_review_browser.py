"""An expert's journey in the browser: log in, land on their list, open an assigned application,
score it with live running totals, save a draft, fix an unreadable point, submit (the sheet is
then locked), and find another application closed to them."""
import pytest

from xkxl_intranet.domain.review_criteria import DIMENSIONS, INDICATORS

from helpers import browser_login
from review.helpers import give, open_review, passed, report

pytestmark = pytest.mark.browser


def test_an_expert_scores_an_application_with_live_totals_and_submits(page, app):
    open_review(app, days=5)
    mine = passed(app, "chengdu", platform_name="浏览器评审平台")
    other = passed(app, "chengdu", platform_name="他人评审平台")
    report(app, "chengdu")
    give(app, mine, "expert1")
    give(app, other, "expert2")

    browser_login(page, "expert1")
    assert page.url.endswith("/review/")
    assert "距评审截止不足7天" in page.locator(".reminder").inner_text()
    assert "评审截止" in page.locator(".round-bar").inner_text()
    page.click("text=开始评分")
    page.wait_for_url(f"**/applications/{mine}#score-sheet")
    assert "浏览器评审平台" in page.locator("h1").inner_text()

    # Live running totals while typing, as on the application form.
    for key in ("devices", "models", "apps", "enterprises", "developers"):
        page.fill(f"#score_{key}", "10")
    page.locator("#score_developers").press("Tab")
    page.wait_for_function("() => document.querySelector('#sheet-dim-resources').innerText.includes('折合 25.00 分')")
    assert "综合得分 25.00" in page.locator("#sheet-total").inner_text()
    page.fill("#score_innovation", "12")
    page.locator("#score_innovation").press("Tab")
    page.locator("#score-msg-innovation .msg-error").wait_for()
    assert "0至10分之间" in page.locator("#score-msg-innovation").inner_text()

    # Saving with an unreadable point keeps everything typed and names the indicator.
    page.click("button[value=save]")
    page.locator("#score-sheet .error-summary").wait_for()  # issue 25: the error summary, not a flash
    assert "尚未保存" in page.locator("#score-sheet").inner_text()
    assert page.input_value("#score_devices") == "10" and page.input_value("#score_innovation") == "12"

    # Fill in the rest, save a draft, then submit.
    for key in INDICATORS:
        if key not in ("devices", "models", "apps", "enterprises", "developers"):
            page.fill(f"#score_{key}", "8")
    page.click("button[value=save]")
    page.locator("#score-sheet .flash-warning").wait_for()
    assert "尚未填写评价意见" in page.locator("#score-sheet .flash-warning").inner_text()
    for dimension in DIMENSIONS:
        page.fill(f"#comment_{dimension.key}", f"{dimension.label}表现良好")
    page.check("#opinion-recommend")
    page.fill("#overall_comment", "跨行业跨领域能力突出，建议推荐。")
    page.wait_for_function("() => document.querySelector('#sheet-total').innerText.includes('85.00')")
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.click("button[value=submit]")
    page.locator("#score-sheet .ok-line").wait_for()
    assert len(asked) == 1 and "锁定" in asked[0]  # complete: asked once before locking
    assert "评分表已锁定" in page.locator("#score-sheet").inner_text()
    assert page.locator("#score_devices").count() == 0  # locked: no inputs any more
    assert page.locator("a:has-text('下载签字版评分表')").count() == 1

    page.goto("/review/")
    row = page.locator("tr", has_text="浏览器评审平台")
    assert "已提交" in row.inner_text() and "85.00" in row.inner_text()
    assert "他人评审平台" not in page.content()
    assert page.goto(f"/applications/{other}").status == 404
    assert page.goto("/rounds/dashboard").status == 404
