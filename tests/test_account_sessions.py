"""Each person's sessions (issue 22, 会话): 我的账号 lists the account's live sessions and ends any
other one, or all the others; an account holds at most MAX_SESSIONS_PER_ACCOUNT live sessions,
a log-in past it ending the one idle the longest; a session's last activity is kept on the
server to the minute, without a write per page view, and ends an idle session there too."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from xkxl_intranet import clock, create_app
from xkxl_intranet.auth.models import User, UserSession
from xkxl_intranet.extensions import db

from helpers import CSRFClient, audit_events, login, sql_statements

START = datetime(2022, 3, 10, 9, 0, tzinfo=clock.SHANGHAI)
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/120.0.0.0 Safari/537.36")
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"


@pytest.fixture(autouse=True)
def pinned_clock():
    clock.set_now(START)
    yield
    clock.set_now(None)


def _browser(app, address: str, user_agent: str = CHROME) -> CSRFClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    client.environ_base["HTTP_USER_AGENT"] = user_agent
    return client


def _logged_in(app, address: str, user_agent: str = CHROME, username: str = "chengdu") -> CSRFClient:
    client = _browser(app, address, user_agent)
    assert login(client, username).status_code == 303
    return client


def _session_ids(app, username: str = "chengdu") -> list[int]:
    """The account's session rows, oldest first."""
    with app.app_context():
        return list(db.session.scalars(db.select(UserSession.id).join(User, User.id == UserSession.user_id)
                                       .where(User.username == username).order_by(UserSession.id)))


def _is_logged_in(client) -> bool:
    return client.get("/account/").status_code == 200


def _at(minutes: float) -> None:
    clock.set_now(START + timedelta(minutes=minutes))


def test_my_account_lists_my_sessions_with_their_address_and_browser(app):
    office = _logged_in(app, "10.51.1.10", CHROME)
    _at(20)
    _logged_in(app, "10.51.1.77", FIREFOX)
    _logged_in(app, "10.51.9.9", username="mianyang")  # another account's: not listed
    _at(30)
    page = office.get("/account/").get_data(as_text=True)
    section = page[page.index('id="account-sessions"'):]
    assert "登录会话" in section
    rows = re.findall(r"<tr>(.*?)</tr>", section, re.S)[1:]
    assert len(rows) == 2
    current, other = rows  # this session first
    assert "本会话" in current and "10.51.1.10" in current and "Chrome 120 / Windows" in current
    assert "2022-03-10 09:00" in current and "2022-03-10 09:30" in current  # started, last active
    assert "结束此会话" not in current
    assert "10.51.1.77" in other and "Firefox 121 / Linux" in other and "2022-03-10 09:20" in other
    assert "结束此会话" in other and "本会话" not in other
    assert "10.51.9.9" not in page
    assert "结束其他全部会话" in section


def test_ending_another_session_logs_that_browser_out_and_is_audited(app):
    office = _logged_in(app, "10.51.1.10")
    home = _logged_in(app, "10.51.1.77", FIREFOX)
    home_id = _session_ids(app)[1]
    response = office.post(f"/account/sessions/{home_id}/end")
    assert response.status_code == 303 and response.headers["Location"].startswith("/account/")
    assert "已结束该登录会话" in office.get("/account/").get_data(as_text=True)
    assert not _is_logged_in(home)
    assert _is_logged_in(office)
    [event] = audit_events(app, "auth.session_ended")
    assert event.username == "chengdu" and "10.51.1.77" in event.summary and "Firefox 121" in event.summary


def test_ending_a_session_with_htmx_answers_the_section_again(app):
    office = _logged_in(app, "10.51.1.10")
    home = _logged_in(app, "10.51.1.77", FIREFOX)
    home_id = _session_ids(app)[1]
    response = office.post(f"/account/sessions/{home_id}/end", headers={"HX-Request": "true"})
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="account-sessions"' in fragment and "<html" not in fragment
    assert "已结束该登录会话" in fragment and "10.51.1.77" not in fragment
    assert not _is_logged_in(home)


def test_this_session_and_another_accounts_are_not_ended_there(app):
    office = _logged_in(app, "10.51.1.10")
    other_city = _logged_in(app, "10.51.2.2", username="mianyang")
    [own_id] = _session_ids(app)
    [theirs] = _session_ids(app, "mianyang")
    office.post(f"/account/sessions/{own_id}/end")
    assert "退出" in office.get("/account/").get_data(as_text=True) and _is_logged_in(office)
    answer = office.post(f"/account/sessions/{theirs}/end", headers={"HX-Request": "true"})
    assert "该登录会话已经结束" in answer.get_data(as_text=True)  # as for one that has ended
    assert _is_logged_in(other_city)
    assert audit_events(app, "auth.session_ended") == []


def test_ending_all_the_other_sessions_keeps_this_one(app):
    app.config["MAX_SESSIONS_PER_ACCOUNT"] = 0
    office = _logged_in(app, "10.51.1.10")
    others = [_logged_in(app, f"10.51.1.{n}", FIREFOX) for n in (20, 30, 40)]
    response = office.post("/account/sessions/end-others")
    assert response.status_code == 303
    assert "已结束其他3个登录会话" in office.get("/account/").get_data(as_text=True)
    assert _is_logged_in(office) and not any(_is_logged_in(other) for other in others)
    assert len(audit_events(app, "auth.session_ended")) == 3
    assert "没有其他登录会话" in office.post("/account/sessions/end-others",
                                        headers={"HX-Request": "true"}).get_data(as_text=True)


def test_a_fourth_log_in_ends_the_session_idle_the_longest(app):
    first = _logged_in(app, "10.51.1.1")
    _at(10)
    second = _logged_in(app, "10.51.1.2", FIREFOX)
    _at(20)
    third = _logged_in(app, "10.51.1.3")
    _at(40)
    assert _is_logged_in(first)  # the first is in use: the second is the one idle the longest
    _at(50)
    fourth = _browser(app, "10.51.1.4")
    assert login(fourth, "chengdu").status_code == 303
    page = fourth.get("/").get_data(as_text=True)
    assert "已结束最早的一个登录会话" in page and "10.51.1.2" in page and "Firefox 121 / Linux" in page
    # The browser whose session ended is told why on its next page, once, not merely 请先登录.
    told = second.get("/", follow_redirects=True).get_data(as_text=True)
    assert "您的登录会话已结束" in told
    assert "您的登录会话已结束" not in second.get("/", follow_redirects=True).get_data(as_text=True)
    assert not _is_logged_in(second)
    assert all(_is_logged_in(client) for client in (first, third, fourth))
    [event] = audit_events(app, "auth.session_evicted")
    assert event.username == "chengdu" and "10.51.1.2" in event.summary
    assert len(_session_ids(app)) == 3


def test_sessions_past_their_limits_do_not_count(app):
    idle = _logged_in(app, "10.51.1.1")
    _at(60)
    busy = [_logged_in(app, "10.51.1.2"), _logged_in(app, "10.51.1.3")]
    _at(125)  # the first one has been idle for over 2 hours
    for client in busy:
        assert _is_logged_in(client)
    fourth = _logged_in(app, "10.51.1.4")
    assert "已结束最早的一个登录会话" not in fourth.get("/").get_data(as_text=True)
    assert audit_events(app, "auth.session_evicted") == []
    assert all(_is_logged_in(client) for client in busy)
    assert not _is_logged_in(idle)


def test_the_bound_is_a_setting_and_zero_means_none(app):
    app.config["MAX_SESSIONS_PER_ACCOUNT"] = 0
    clients = [_logged_in(app, f"10.51.1.{n}") for n in range(1, 7)]
    assert all(_is_logged_in(client) for client in clients)
    app.config["MAX_SESSIONS_PER_ACCOUNT"] = 1
    last = _logged_in(app, "10.51.1.9")
    assert not any(_is_logged_in(client) for client in clients) and _is_logged_in(last)
    assert len(audit_events(app, "auth.session_evicted")) == 6


def test_the_settings_come_from_the_environment(app, monkeypatch, tmp_path):
    monkeypatch.setenv("XKXL_MAX_SESSIONS_PER_ACCOUNT", "5")
    monkeypatch.setenv("XKXL_IDLE_MINUTES", "30")
    monkeypatch.setenv("XKXL_HEALTH_TOKEN", "from-the-environment")
    configured = create_app({"TESTING": True, "SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path / "other"),
                             "SQLALCHEMY_DATABASE_URI": "sqlite://"}, commands=False)
    assert configured.config["MAX_SESSIONS_PER_ACCOUNT"] == 5
    assert configured.permanent_session_lifetime == timedelta(minutes=30)
    assert configured.config["HEALTH_TOKEN"] == "from-the-environment"
    assert app.config["MAX_SESSIONS_PER_ACCOUNT"] == 3 and app.config["HEALTH_TOKEN"] is None  # the defaults


def _session_writes(statements: list[str]) -> int:
    return sum(1 for s in statements if s.upper().startswith("UPDATE USER_SESSION"))


def test_last_activity_is_written_at_most_once_a_minute(app):
    clerk = _logged_in(app, "10.51.1.10")
    with sql_statements(app) as statements:
        for second in range(0, 60, 5):
            clock.set_now(START + timedelta(seconds=second))
            assert clerk.get("/account/").status_code == 200
    assert _session_writes(statements) == 0  # twelve page views within the minute of log-in
    with sql_statements(app) as statements:
        for second in (61, 70, 100, 125):
            clock.set_now(START + timedelta(seconds=second))
            assert clerk.get("/account/").status_code == 200
    assert _session_writes(statements) == 2  # at 61 s and at 125 s
    with app.app_context():
        [row] = db.session.scalars(db.select(UserSession)).all()
        assert row.last_seen_at == START + timedelta(seconds=125)


def test_background_polling_is_not_activity_on_the_server_either(app):
    officer = _logged_in(app, "10.51.1.10", username="province")
    with sql_statements(app) as statements:
        for minute in range(1, 30):
            _at(minute)
            officer.get("/account/", headers={"X-Background-Poll": "1"})
    assert _session_writes(statements) == 0


def test_an_idle_session_ends_on_the_server_whatever_the_cookie_says(app):
    """The cookie of the log-in answer carries no last activity of its own: replayed after the
    idle limit, only the server can tell that the session has been idle."""
    clerk = _browser(app, "10.51.1.10")
    login(clerk, "chengdu")
    copied = clerk.get_cookie("xkxl_session").value
    _at(122)  # the row's activity is kept to the minute, and granted that minute
    replay = _browser(app, "10.51.1.99")
    replay.set_cookie("xkxl_session", copied)
    response = replay.get("/account/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "超过2小时未操作，已自动退出" in replay.get("/login").get_data(as_text=True)
    assert _session_ids(app) == []  # the row is gone: no other copy opens it either
