import re

import pytest

from helpers import browser_login

pytestmark = pytest.mark.browser


def test_clerk_logs_in_and_sees_the_countdown_tick(page):
    browser_login(page, "chengdu")
    assert page.locator(".user-name").inner_text().startswith("成都市")
    countdown = page.locator(".round-bar [data-countdown-deadline]")
    first = countdown.inner_text()
    assert first == "已截止" or first.startswith("剩余")
    # The 2022 deadline has passed in the test database; the JS keeps it correct.
    assert first == "已截止"
    assert "is-over" in countdown.get_attribute("class")


def test_countdown_ticks_for_a_future_deadline(page, app):
    from datetime import timedelta

    from xkxl_intranet import clock
    from xkxl_intranet.extensions import db
    from xkxl_intranet.rounds.models import Round

    with app.app_context():
        round_ = db.session.scalar(db.select(Round))
        round_.deadline = clock.now() + timedelta(hours=5)
        db.session.commit()
    browser_login(page, "chengdu")
    countdown = page.locator(".round-bar [data-countdown-deadline]")
    first = countdown.inner_text()
    assert re.match(r"剩余 4 小时 59 分 \d+ 秒", first), first
    page.wait_for_function(
        "text => document.querySelector('.round-bar [data-countdown-deadline]').textContent !== text", arg=first)
    assert countdown.inner_text() != first


def test_the_page_warns_before_the_idle_limit_and_keep_alive_starts_it_again(page):
    """Five minutes before two hours without a request the page says so, with 继续使用; a live
    check while typing counts as activity too. The browser's clock is run forward (Playwright's
    clock), the server's idle rule is tested in test_auth.py."""
    page.clock.install()
    browser_login(page, "chengdu")
    page.goto("/applications/")
    warning = page.locator("#idle-warning")
    assert warning.is_hidden()
    page.clock.run_for("01:54:00")
    assert warning.is_hidden()
    page.clock.run_for("01:10")
    assert warning.is_visible()
    assert re.fullmatch(r"\d 分 \d+ 秒", page.locator("#idle-warning [data-idle-left]").inner_text())
    assert "正在填写的内容请先保存" in warning.inner_text()
    with page.expect_response("**/session/keep-alive") as answer:
        warning.get_by_role("button", name="继续使用").click()
    assert answer.value.status == 204
    page.clock.run_for(2000)
    assert warning.is_hidden()
    page.clock.run_for("01:55:30")  # nothing done since 继续使用
    assert warning.is_visible() and warning.get_by_role("button", name="继续使用").is_visible()
    page.clock.run_for("05:00")
    assert "登录已失效" in warning.inner_text()
    assert warning.get_by_role("button", name="继续使用").is_hidden()
