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
