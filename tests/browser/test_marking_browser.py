"""The province marks in the browser by the one rule: on the ranking, a platform whose scoring is
incomplete is marked only 「不经专家评审直接标记」 with a reason (the refused form comes back as
typed, the reason's box focused); the city desk then shows the mark beside the scores."""
import os

import pytest

from helpers import browser_login
from review.helpers import fill, give, open_review, passed, report

pytestmark = pytest.mark.browser


def test_the_province_marks_without_the_scores_giving_its_reason(page, app):
    open_review(app, n=2)
    partial = passed(app, "chengdu", platform_name="先行标记平台")
    report(app, "chengdu")
    fill(app, give(app, partial, "expert1"), 8)
    give(app, partial, "expert2")

    browser_login(page, "province")
    page.goto("/review/ranking")
    row = page.locator(f"#rank-{partial}")
    assert "专家评分 1/2 已提交" in row.inner_text()
    row.locator("select[name=mark]").select_option("recommended")
    row.locator("input[name=bypass]").check()
    row.locator("button[type=submit]").click()
    page.wait_for_load_state()
    row = page.locator(f"#rank-{partial}")
    assert "请填写「不经专家评审直接标记的理由」" in row.inner_text()
    assert page.evaluate("() => document.activeElement.name") == "bypass_reason"
    assert row.locator("input[name=bypass]").is_checked()
    assert row.locator("select[name=mark]").input_value() == "recommended"
    if os.environ.get("XKXL_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["XKXL_SCREENSHOTS"], "ranking-refused.png"), full_page=True)

    page.keyboard.type("部里催报，先行推荐")
    row.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "已标记：推荐工信部（先行标记平台）" in page.locator(".flash").first.inner_text()
    assert "推荐工信部 1 / 2（不含2020年已获评 0 个）" in page.locator("#quota-line").inner_text()

    page.goto("/rounds/dashboard")  # the city's desk
    page.locator("a", has_text="成都市").first.click()
    page.wait_for_load_state()
    desk_row = page.locator(f"#app-{partial}")
    assert "推荐工信部" in desk_row.inner_text() and "专家评分 1/2 已提交" in desk_row.inner_text()
    if os.environ.get("XKXL_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["XKXL_SCREENSHOTS"], "desk.png"), full_page=True)
