"""两步验证 in a real browser: enrolling from 我的账号 with the secret shown on the page, then
logging in with the password and a code from the phone's app (computed here with pyotp)."""
from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from xkxl_intranet import clock

from helpers import browser_login

pytestmark = pytest.mark.browser


def test_a_clerk_enrols_and_logs_in_with_a_code(page, app):
    clock.set_now(datetime(2026, 12, 14, 2, 0, 5, tzinfo=UTC))
    browser_login(page, "chengdu")
    page.get_by_role("link", name="我的账号").click()
    section = page.locator("section[aria-labelledby=account-second-factor]")
    assert "未启用" in section.inner_text()
    section.get_by_role("link", name="设置两步验证").click()
    assert page.locator("svg.qr-code").is_visible()
    secret = page.locator("[data-secret]").inner_text().replace(" ", "")
    totp = pyotp.TOTP(secret)
    page.fill("input[name=code]", totp.at(clock.now()))
    page.get_by_role("button", name="确认并启用").click()
    assert page.locator("h1").inner_text() == "两步验证已启用"
    recovery = page.locator(".recovery-codes li").all_inner_texts()
    assert len(recovery) == 10

    page.get_by_role("button", name="退出").click()
    clock.set_now(clock.now() + timedelta(seconds=30))
    browser_login(page, "chengdu")
    assert page.url.endswith("/login/verify")
    assert page.locator(".user-name").count() == 0  # no session yet
    page.fill("input[name=code]", totp.at(clock.now()))
    page.get_by_role("button", name="验证并登录").click()
    page.wait_for_load_state()
    assert page.locator(".user-name").inner_text().startswith("成都市")
    page.get_by_role("link", name="我的账号").click()
    assert "已启用" in page.locator("section[aria-labelledby=account-second-factor]").inner_text()
