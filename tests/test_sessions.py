"""Sessions end when they should: log-out ends the session on the server, guessing the current
password counts toward the lock-out, a lock-out ends the account's sessions, log-in answers an
unknown user and a wrong password alike, and one address cannot spray or lock every account."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from xkxl_intranet import clock
from xkxl_intranet.auth import services as auth_services

from helpers import TEST_PASSWORD, CSRFClient, audit_events, login

PAGES = ("/", "/applications/", "/audit/", "/rounds/batch", "/account/password")
START = datetime(2022, 3, 10, 9, 0, tzinfo=clock.SHANGHAI)


@pytest.fixture(autouse=True)
def pinned_clock():
    clock.set_now(START)
    yield
    clock.set_now(None)


def _client(app, address: str = "10.51.1.10") -> CSRFClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _cookie(client) -> str:
    return client.get_cookie("xkxl_session").value


def _with_cookie(app, value: str) -> CSRFClient:
    replay = _client(app)
    replay.set_cookie("xkxl_session", value)
    return replay


def _message(response) -> str:
    """The log-in form's error, whatever the page around it."""
    found = re.search(r'class="flash flash-danger"[^>]*>([^<]*)<', response.get_data(as_text=True))
    return found.group(1).strip() if found else ""


def test_a_cookie_copied_before_log_out_opens_no_page_afterwards(app):
    clerk = _client(app)
    assert login(clerk, "chengdu").status_code == 303
    assert clerk.get("/").status_code == 200
    copied = _cookie(clerk)
    assert _with_cookie(app, copied).get("/").status_code == 200  # a copy works while logged in
    assert clerk.post("/logout").status_code == 303
    for url in PAGES:
        response = _with_cookie(app, copied).get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url
    # Replaying it again later does not bring it back.
    clock.set_now(START + timedelta(minutes=30))
    assert _with_cookie(app, copied).get("/").status_code == 302


def test_log_out_ends_only_that_session(app):
    office, home = _client(app), _client(app, "10.51.1.11")
    login(office, "chengdu")
    login(home, "chengdu")
    office.post("/logout")
    assert office.get("/").status_code == 302
    assert home.get("/").status_code == 200


def test_a_session_ends_twelve_hours_after_log_in_even_when_in_use(app):
    clerk = _client(app)
    login(clerk, "chengdu")
    for hour in range(1, 12):
        clock.set_now(START + timedelta(hours=hour))
        assert clerk.get("/").status_code == 200, hour
    clock.set_now(START + timedelta(hours=12, minutes=1))
    response = clerk.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def _wrong_current(client):
    return client.post("/account/password", data={
        "current_password": "not-my-password", "new_password": "Chengdu-2022x",
        "confirm_password": "Chengdu-2022x"})


def test_guessing_the_current_password_counts_toward_the_lock_out(app):
    clerk, other_device = _client(app), _client(app, "10.51.1.12")
    login(clerk, "chengdu")
    login(other_device, "chengdu")
    for _ in range(4):
        page = _wrong_current(clerk).get_data(as_text=True)
        assert "当前密码不正确" in page
    locked = _wrong_current(clerk)
    assert locked.status_code in (302, 303) and "/login" in locked.headers["Location"]
    assert audit_events(app, "auth.lockout")
    # The lock-out ended every session of the account, and the right password waits 15 minutes.
    assert clerk.get("/").status_code == 302
    assert other_device.get("/").status_code == 302
    assert "锁定" in _message(login(_client(app, "10.51.1.13"), "chengdu"))


def test_a_failed_log_in_then_a_wrong_current_password_add_up(app):
    stranger, clerk = _client(app, "10.51.2.1"), _client(app)
    login(clerk, "chengdu")
    for _ in range(3):
        login(stranger, "chengdu", "guess-1234")
    _wrong_current(clerk)
    locked = _wrong_current(clerk)
    assert locked.status_code in (302, 303)
    assert audit_events(app, "auth.lockout")


def test_a_lock_out_ends_the_accounts_open_sessions(app):
    clerk = _client(app)
    login(clerk, "chengdu")
    attacker = _client(app, "10.51.9.9")
    for _ in range(5):
        login(attacker, "chengdu", "guess-1234")
    assert audit_events(app, "auth.lockout")
    assert clerk.get("/").status_code == 302


def test_an_unknown_user_and_a_wrong_password_get_the_same_words(app):
    for attempt in range(1, 5):
        unknown = _message(login(_client(app, "10.51.3.1"), "nobody", "guess-1234"))
        wrong = _message(login(_client(app, "10.51.3.2"), "chengdu", "guess-1234"))
        assert unknown and unknown == wrong, attempt


def test_an_unknown_user_costs_the_same_password_check(app, monkeypatch):
    checked = []
    real = auth_services.verify_password

    def counting(password_hash, password):
        checked.append(password_hash[:10])
        return real(password_hash, password)

    monkeypatch.setattr(auth_services, "verify_password", counting)
    login(_client(app), "nobody", "guess-1234")
    assert checked == ["$argon2id$"]
    login(_client(app), "chengdu", "guess-1234")
    assert len(checked) == 2


def test_one_address_cannot_spray_guesses_across_the_accounts(app):
    sprayer = _client(app, "10.51.4.4")
    for username in ["chengdu", "mianyang", "province", "viewer"] * 3:
        login(sprayer, username, "guess-1234")
    # Even the right password is no longer checked from that address for a while …
    refused = login(sprayer, "chengdu")
    assert refused.status_code == 200 and "登录失败次数过多" in _message(refused)
    # … while another address logs in as usual.
    assert login(_client(app, "10.51.4.5"), "chengdu").status_code == 303
    assert audit_events(app, "auth.address_throttled")
    clock.set_now(START + timedelta(minutes=16))
    assert login(sprayer, "chengdu").status_code == 303


def test_one_address_cannot_lock_every_account(app):
    locker = _client(app, "10.51.5.5")
    for minute, username in enumerate(["chengdu", "mianyang", "province", "viewer"]):
        clock.set_now(START + timedelta(minutes=20 * minute))
        for _ in range(5):
            login(locker, username, "guess-1234")
    locked = {e.username for e in audit_events(app, "auth.lockout")}
    assert len(locked) < 4
    clock.set_now(START + timedelta(minutes=80))
    for username in {"chengdu", "mianyang", "province", "viewer"} - locked:
        assert login(_client(app, "10.51.5.6"), username, TEST_PASSWORD).status_code == 303, username
