"""Scheduled reminders: due at their thresholds, to the people concerned, and never twice
however often they run (the clock is set; send_due_reminders is what the worker runs every five
minutes and ``flask notifications remind`` runs from cron)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from xkxl_intranet import clock
from xkxl_intranet.batches import desk
from xkxl_intranet.batches.reminders import send_due_reminders
from xkxl_intranet.domain.notices import DEADLINE_THRESHOLDS, NoticeKind, due_threshold
from xkxl_intranet.extensions import db
from xkxl_intranet.notifications.models import Notification
from xkxl_intranet.rounds.models import City
from xkxl_intranet.rounds.state import batch_for_write, current_round

from reports.helpers import set_batch_state, user
from review.helpers import fill, give, open_review, passed, report

# The 2022 round's deadline is 2022-03-21 23:59:59 (Beijing time).
DEADLINE = datetime(2022, 3, 21, 23, 59, 59, tzinfo=clock.SHANGHAI)


def _at(*args: int) -> datetime:
    return datetime(*args, tzinfo=clock.SHANGHAI)


def _run(app, at: datetime, **settings) -> int:
    clock.set_now(at)
    with app.app_context():
        done = send_due_reminders(at, **settings)
        db.session.commit()
        return done.total


def _titles(app, username: str, kind: NoticeKind) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(db.select(Notification.title).where(
            Notification.user_id == user(username).id, Notification.kind == kind.value).order_by(Notification.id)))


@pytest.mark.parametrize(("at", "expected"), [
    (_at(2022, 3, 13, 23, 59), None),
    (_at(2022, 3, 14, 0, 0), "7d"),
    (_at(2022, 3, 18, 9, 0), "3d"),
    (_at(2022, 3, 19, 9, 0), "3d"),
    (_at(2022, 3, 20, 9, 0), "1d"),
    (_at(2022, 3, 21, 0, 0), "24h"),
    (_at(2022, 3, 22, 0, 0), None),
])
def test_the_tightest_threshold_crossed_is_the_one_due(at, expected):
    due = due_threshold(DEADLINE_THRESHOLDS, DEADLINE, at)
    assert (due.key if due else None) == expected


def test_deadline_reminders_reach_cities_that_have_not_reported_once_per_threshold(app):
    set_batch_state(app, "510700", "reported")  # 绵阳 has reported: never reminded
    assert _run(app, _at(2022, 3, 10, 9, 0)) == 0  # more than a week ahead
    assert _run(app, _at(2022, 3, 14, 9, 0)) == 1
    assert _run(app, _at(2022, 3, 14, 9, 5)) == 0  # the worker's next run: nothing again
    assert _run(app, _at(2022, 3, 16, 9, 0)) == 0
    assert _run(app, _at(2022, 3, 19, 9, 0)) == 1  # 3 days
    assert _run(app, _at(2022, 3, 20, 9, 0)) == 1  # the day before
    assert _run(app, _at(2022, 3, 21, 0, 0)) == 1  # the last 24 hours
    assert _run(app, _at(2022, 3, 21, 12, 0)) == 0
    assert _run(app, _at(2022, 3, 22, 9, 0)) == 0  # past: nothing
    titles = _titles(app, "chengdu", NoticeKind.DEADLINE_NEAR)
    # the time actually left when the reminder is sent (the walkthrough saw 「还有3天」 with 1 day 20 hours left)
    assert [t.split("：")[0] for t in titles] == ["距成都市报送截止还有7天14小时", "距成都市报送截止还有2天14小时",
                                                "距成都市报送截止还有1天14小时", "距成都市报送截止还有23小时"]
    assert _titles(app, "mianyang", NoticeKind.DEADLINE_NEAR) == []


def test_a_first_run_sends_only_the_tightest_and_an_extension_starts_afresh(app):
    assert _run(app, _at(2022, 3, 20, 9, 0)) == 2  # 成都 and 绵阳, 「还有1天」 only
    assert [t.split("：")[0] for t in _titles(app, "chengdu", NoticeKind.DEADLINE_NEAR)] == ["距成都市报送截止还有1天14小时"]
    with app.app_context():
        city = db.session.scalar(db.select(City).where(City.code == "510100"))
        desk.grant_extension(user("province"), batch_for_write(current_round().id, city.id),
                             _at(2022, 3, 25, 18, 0), "系统故障")
        db.session.commit()
    assert _run(app, _at(2022, 3, 20, 9, 5)) == 1  # 成都's new deadline: 5 days away, 「还有7天」
    assert "2022年03月25日 18:00" in _titles(app, "chengdu", NoticeKind.DEADLINE_NEAR)[-1]
    assert _run(app, _at(2022, 3, 21, 9, 0)) == 1  # 绵阳's last 24 hours; 成都 has had its week's
    assert _run(app, _at(2022, 3, 22, 9, 0)) == 1  # past 绵阳's; 成都's 3 days
    assert len(_titles(app, "mianyang", NoticeKind.DEADLINE_NEAR)) == 2  # 1 day, 24 hours


def test_review_reminders_reach_experts_with_open_sheets(app):
    clock.set_now(_at(2022, 4, 1, 9, 0))
    open_review(app, days=5, n=2)
    application = passed(app)
    report(app, "chengdu")
    fill(app, give(app, application, "expert1"), 8)  # submitted: nothing to remind
    give(app, application, "expert2")
    assert _run(app, _at(2022, 4, 3, 9, 0)) == 1
    assert _run(app, _at(2022, 4, 3, 9, 5)) == 0
    assert _titles(app, "expert1", NoticeKind.REVIEW_DEADLINE_NEAR) == []
    assert _titles(app, "expert2", NoticeKind.REVIEW_DEADLINE_NEAR) == ["距评审截止还有3天：尚有 1 份评分表未提交"]
    assert _run(app, _at(2022, 4, 5, 9, 0)) == 1  # the day before
    assert _titles(app, "chengdu", NoticeKind.REVIEW_DEADLINE_NEAR) == []


def test_a_password_near_expiry_is_reminded_once_per_password(app):
    moment = _at(2022, 6, 1, 9, 0)
    with app.app_context():
        for account in db.session.scalars(db.select(type(user("chengdu")))):
            account.password_changed_at = moment  # every other account fresh
        user("chengdu").password_changed_at = moment - timedelta(days=85)
        db.session.commit()
    settings = {"password_max_age_days": 90, "password_warning_days": 7}
    assert _run(app, moment, **settings) == 1
    assert _run(app, moment + timedelta(hours=1), **settings) == 0
    assert _titles(app, "chengdu", NoticeKind.PASSWORD_EXPIRING) == ["您的密码将于 2022-06-06 到期"]
    assert _run(app, moment, password_max_age_days=0, password_warning_days=7) == 0  # passwords never expire
    with app.app_context():
        user("chengdu").password_changed_at = moment  # changed: the new one is reminded in its time
        db.session.commit()
    # 84 days on, every account (all set at ``moment``) nears expiry, 成都 with its new password
    assert _run(app, moment + timedelta(days=84), **settings) == 8
    assert len(_titles(app, "chengdu", NoticeKind.PASSWORD_EXPIRING)) == 2
