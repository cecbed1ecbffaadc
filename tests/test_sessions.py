"""Sessions end when they should: log-out ends the session on the server, and log-in answers an
unknown user and a wrong password alike. The throttle, which ends no session: test_login_throttle.py."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from xkxl_intranet import clock
from xkxl_intranet.auth import services as auth_services

from helpers import CSRFClient, login

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
