"""The province returns a batch; the city clerk's header count of unread notices changes on the
page already open (htmx asks for it again as a background poll), and the notice names the
reason. Marking it read takes the count away."""
from __future__ import annotations

import re
from datetime import datetime

import pytest
from playwright.sync_api import expect

from xkxl_intranet import clock

from helpers import browser_login, user_by_name
from reports.helpers import set_batch_state

pytestmark = pytest.mark.browser


def test_a_returned_batch_reaches_the_clerks_header_without_a_reload(app, browser, live_server):
    app.config["NOTICE_POLL_SECONDS"] = 1
    clock.set_now(datetime(2022, 3, 19, 10, 0, tzinfo=clock.SHANGHAI))
    set_batch_state(app, "510100", "reported")
    city_id = user_by_name(app, "chengdu").city_id

    clerk_context = browser.new_context(locale="zh-CN", base_url=live_server.url)
    clerk = clerk_context.new_page()
    browser_login(clerk, "chengdu")
    clerk.goto("/rounds/batch")
    badge = clerk.locator("#notice-badge")
    assert badge.get_attribute("aria-label") is None  # its name is its text (WCAG 2.5.3)
    expect(badge).to_have_accessible_name(re.compile(r"^通知\s*（没有未读）$"))
    clerk.evaluate("window.__marker = 'same page'")

    province_context = browser.new_context(locale="zh-CN", base_url=live_server.url)
    province = province_context.new_page()
    browser_login(province, "province")
    province.goto(f"/rounds/cities/{city_id}")
    province.on("dialog", lambda dialog: dialog.accept())
    province.fill("#return-reason", "附件3 汇总表未盖章")
    province.click("button:has-text('退回修改')")
    province.wait_for_load_state()

    expect(badge).to_have_accessible_name(re.compile(r"^通知\s*（1 条未读）$"), timeout=10_000)
    assert clerk.evaluate("window.__marker") == "same page"  # no reload
    assert badge.locator(".count").inner_text() == "1"  # the visible count

    badge.click()
    clerk.wait_for_url("**/notifications/")
    item = clerk.locator("#notices li").first
    assert "附件3 汇总表未盖章" in item.inner_text() and "未读" in item.inner_text()
    item.locator("button:has-text('标为已读')").click()
    expect(badge).to_have_accessible_name(re.compile(r"^通知\s*（没有未读）$"), timeout=10_000)
    assert "其中 0 条未读" in clerk.locator("#notice-summary").inner_text()
    clerk_context.close()
    province_context.close()
