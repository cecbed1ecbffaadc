"""The log-in throttle cannot be turned into a lock-out: waits grow per (name, address) and per
address, only failures from several addresses lock an account (against new log-ins, never its
live sessions), every failure reads the same, and the owner and the administrator see the
failures with their addresses."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from xkxl_intranet import clock, create_app
from xkxl_intranet.auth import services as auth_services
from xkxl_intranet.auth.services import LOGIN_REFUSED, WRONG_CURRENT_PASSWORD

from helpers import TEST_PASSWORD, CSRFClient, audit_events, login, user_by_name

START = datetime(2022, 3, 10, 9, 0, tzinfo=clock.SHANGHAI)
OWNER_ADDRESS = "10.51.1.10"


@pytest.fixture(autouse=True)
def pinned_clock():
    clock.set_now(START)
    yield
    clock.set_now(None)


def _at(**delta) -> None:
    clock.set_now(START + timedelta(**delta))


def _client(app, address: str = OWNER_ADDRESS) -> CSRFClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _logged_in(app, address: str = OWNER_ADDRESS) -> CSRFClient:
    client = _client(app, address)
    assert login(client, "chengdu").status_code == 303
    return client


def _message(response) -> str:
    found = re.search(r'class="flash flash-danger"[^>]*>([^<]*)<', response.get_data(as_text=True))
    return found.group(1).strip() if found else ""


def _counting_password_checks(monkeypatch) -> list:
    checked: list = []
    real = auth_services.verify_password

    def counting(password_hash, password):
        checked.append(password)
        return real(password_hash, password)

    monkeypatch.setattr(auth_services, "verify_password", counting)
    return checked


def test_a_stranger_with_a_hundred_guesses_cannot_keep_the_owner_out(app):
    owner = _logged_in(app)
    stranger = _client(app, "10.51.9.9")
    for guess in range(100):
        _at(seconds=30 * guess)
        refused = login(stranger, "chengdu", f"guess-{guess:04d}")
        assert refused.status_code == 200 and _message(refused) == LOGIN_REFUSED, guess
        assert owner.get("/").status_code == 200, guess  # the owner's session goes on
    assert not audit_events(app, "auth.lockout")
    assert audit_events(app, "auth.address_throttled")
    # The owner logs in from another address at once; the stranger still waits.
    assert login(_client(app, "10.51.1.11"), "chengdu").status_code == 303
    assert _message(login(stranger, "chengdu")) == LOGIN_REFUSED


def test_the_owner_after_three_mistakes_waits_a_few_seconds_then_gets_in(app, monkeypatch):
    checked = _counting_password_checks(monkeypatch)
    owner = _client(app)
    for _ in range(3):
        assert _message(login(owner, "chengdu", "Test-pass-2O22")) == LOGIN_REFUSED
    # The fourth try, right password and all, is refused without checking it …
    assert _message(login(owner, "chengdu")) == LOGIN_REFUSED
    assert len(checked) == 3
    # The refused try is in the trail with the account it was for, and when it may try again.
    [throttled] = audit_events(app, "auth.address_throttled")
    assert (throttled.object_type, throttled.object_id) == ("user", str(user_by_name(app, "chengdu").id))
    assert throttled.city_id is not None and "本次未检查密码" in throttled.summary
    # … and two seconds later it gets in, told once what failed since the last log-in.
    _at(seconds=2)
    response = login(owner, "chengdu")
    assert response.status_code == 303
    notice = f"自上次登录以来，有 3 次失败的登录尝试（来自 {OWNER_ADDRESS}）"
    assert notice in owner.get("/").get_data(as_text=True)
    assert notice not in owner.get("/").get_data(as_text=True)
    # A success forgets the pair's failures: the next mistakes are free again.
    owner.post("/logout")
    _at(seconds=3)
    for _ in range(2):
        login(owner, "chengdu", "Test-pass-2O22")
    assert login(owner, "chengdu").status_code == 303
    assert "有 2 次失败的登录尝试" in owner.get("/").get_data(as_text=True)


def test_a_throttled_try_checks_no_password_for_unknown_and_known_names(app, monkeypatch):
    checked = _counting_password_checks(monkeypatch)
    prober = _client(app, "10.51.7.7")
    for name in ("chengdu", "nobody1"):
        for _ in range(3):
            login(prober, name, "guess-1234")
    assert len(checked) == 6  # an unknown name costs the same hash check as a known one
    login(prober, "chengdu", "guess-1234")
    login(prober, "nobody1", "guess-1234")
    assert len(checked) == 6


def test_one_address_spraying_names_waits_after_its_ten_free_failures(app):
    sprayer = _client(app, "10.51.4.4")
    names = ["chengdu", "mianyang", "province", "viewer", "expert1"]
    for n in range(10):
        assert _message(login(sprayer, names[n % 5], "guess-1234")) == LOGIN_REFUSED
    # Every name has failed twice only, but the address has spent its budget …
    assert _message(login(sprayer, "expert2")) == LOGIN_REFUSED
    # … while another address (the office next door) logs in as usual.
    assert login(_client(app, "10.51.4.5"), "expert2").status_code == 303
    _at(seconds=2)
    assert login(sprayer, "expert2").status_code == 303


def _page(response) -> tuple:
    """Status, headers and body of a log-in answer, the name typed and the CSRF token masked."""
    body = response.get_data(as_text=True)
    body = re.sub(r'[\w-]{20,}\.[\w-]{6}\.[\w-]{20,}', "CSRF-TOKEN", body)
    body = re.sub(r'(name="username"[^>]*value=")[^"]*"', r'\1"', body)
    headers = sorted((key, value) for key, value in response.headers.items()
                     if key not in ("Set-Cookie", "Content-Length", "X-Request-ID"))
    return response.status_code, headers, body


def test_every_failure_gives_the_byte_identical_page(app):
    answers = {
        "wrong password": login(_client(app, "10.51.3.1"), "chengdu", "guess-1234"),
        "unknown name": login(_client(app, "10.51.3.2"), "nobody1", "guess-1234"),
    }
    throttled = _client(app, "10.51.3.3")
    for _ in range(3):
        login(throttled, "mianyang", "guess-1234")
    answers["throttled"] = login(throttled, "mianyang")
    for n in range(7):  # 21 failures from 7 addresses lock the account
        for _ in range(3):
            login(_client(app, f"10.51.6.{n}"), "viewer", "guess-1234")
    assert audit_events(app, "auth.lockout")
    answers["locked, right password"] = login(_client(app, "10.51.3.4"), "viewer")
    pages = {kind: _page(response) for kind, response in answers.items()}
    assert LOGIN_REFUSED in pages["unknown name"][2]
    assert 'name="username"' in pages["unknown name"][2]
    for kind, page in pages.items():
        assert page == pages["unknown name"], kind


def test_failures_from_several_addresses_lock_new_log_ins_but_never_live_sessions(app, admin_client):
    owner = _logged_in(app)
    for n in range(7):
        for _ in range(3):
            login(_client(app, f"10.51.8.{n}"), "chengdu", "guess-1234")
    [lockout] = audit_events(app, "auth.lockout")
    assert "7个地址的20次登录失败" in lockout.summary
    # The owner's session keeps working, reads and writes alike.
    assert owner.get("/").status_code == 200
    assert owner.post("/session/keep-alive", headers={"HX-Request": "true"}).status_code == 204
    # A new log-in waits the quarter hour, even with the right password and from a fresh address.
    assert _message(login(_client(app, "10.51.1.20"), "chengdu")) == LOGIN_REFUSED
    assert audit_events(app, "auth.login_refused_locked")
    users = admin_client.get("/admin/users").get_data(as_text=True)
    assert "锁定至 09:15" in users
    _at(minutes=15, seconds=1)
    assert login(_client(app, "10.51.1.21"), "chengdu").status_code == 303


def test_the_administrator_lifts_a_lock_and_it_is_audited(app, admin_client):
    for n in range(7):
        for _ in range(3):
            login(_client(app, f"10.51.8.{n}"), "chengdu", "guess-1234")
    user = user_by_name(app, "chengdu")
    page = admin_client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "最近的登录失败" in page and "暂停新的登录至" in page and "解除锁定" in page
    assert "10.51.8.0" in page and "10.51.8.6" in page
    assert admin_client.post(f"/admin/users/{user.id}/unlock").status_code == 303
    [unlocked] = audit_events(app, "account.unlocked")
    assert unlocked.username == "admin" and "chengdu" in unlocked.summary
    # The owner gets in at once, even from an address that guessed (its waits start afresh).
    assert login(_client(app, "10.51.8.0"), "chengdu").status_code == 303
    # Lifting a lock that is not there is refused, and says so.
    again = admin_client.post(f"/admin/users/{user.id}/unlock", follow_redirects=True)
    assert "当前未锁定" in again.get_data(as_text=True)
    assert len(audit_events(app, "account.unlocked")) == 1


def _wrong_current(client, current: str = "not-my-password"):
    return client.post("/account/password", data={
        "current_password": current, "new_password": "Chengdu-2022x",
        "confirm_password": "Chengdu-2022x"})


def test_a_wrong_current_password_counts_but_never_ends_the_session(app, monkeypatch):
    owner, other_device = _logged_in(app), _logged_in(app, "10.51.1.12")
    _at(seconds=1)
    checked = _counting_password_checks(monkeypatch)
    for _ in range(3):
        page = _wrong_current(owner)
        assert page.status_code == 200 and WRONG_CURRENT_PASSWORD in page.get_data(as_text=True)
    assert len(audit_events(app, "auth.password_check_failed")) == 3
    # The next guess, even the right one, is refused unchecked: a stolen session cannot guess freely.
    assert WRONG_CURRENT_PASSWORD in _wrong_current(owner, TEST_PASSWORD).get_data(as_text=True)
    assert len(checked) == 3
    # The failures are the account's from that address: a log-in from there waits too.
    assert _message(login(_client(app), "chengdu")) == LOGIN_REFUSED
    for _ in range(10):
        _wrong_current(owner)
    assert owner.get("/").status_code == 200 and other_device.get("/").status_code == 200
    assert not audit_events(app, "auth.lockout")


def test_the_owner_sees_the_failures_and_their_addresses(app):
    _at(days=-40)
    login(_client(app, "10.51.5.1"), "chengdu", "guess-1234")  # older than 30 days: not listed
    _at(minutes=-30)
    for address, count in (("10.51.5.2", 3), ("10.51.5.3", 1)):
        for _ in range(count):
            login(_client(app, address), "ChengDu ", "guess-1234")  # as typed: case and spaces
    login(_client(app, "10.51.5.4"), "mianyang", "guess-1234")  # another account's
    _at()
    owner = _logged_in(app)
    page = owner.get("/account/").get_data(as_text=True)
    section = page.split('id="account-login-failures"')[1]
    assert "最近的登录失败" in page and "该账号当前未锁定" in section
    assert "近30天共 4 次登录失败" in section
    rows = re.findall(r"<tr><td>([\d.]+)</td><td>(\d+)</td>", section)
    assert rows == [("10.51.5.2", "3"), ("10.51.5.3", "1")]
    assert "03-10 08:30" in section  # the time of the latest failure


def test_the_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("XKXL_LOGIN_GUESSES_PER_PAIR", "5")
    monkeypatch.setenv("XKXL_LOGIN_LOCK_MINUTES", "30")
    configured = create_app({"TESTING": True, "SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path),
                             "SQLALCHEMY_DATABASE_URI": "sqlite://"}, commands=False)
    assert configured.config["LOGIN_GUESSES_PER_PAIR"] == 5
    assert configured.config["LOGIN_LOCK_MINUTES"] == 30
    assert configured.config["LOGIN_GUESSES_PER_ADDRESS"] == 10
    monkeypatch.setenv("XKXL_LOGIN_LOCK_FAILURES", "twenty")
    with pytest.raises(ValueError, match="XKXL_LOGIN_LOCK_FAILURES"):
        create_app({"TESTING": True, "SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path),
                    "SQLALCHEMY_DATABASE_URI": "sqlite://"}, commands=False)


def test_the_pair_budget_is_a_setting(app):
    app.config["LOGIN_GUESSES_PER_PAIR"] = 5
    owner = _client(app)
    for _ in range(5):
        login(owner, "chengdu", "guess-1234")
    assert _message(login(owner, "chengdu")) == LOGIN_REFUSED
    _at(seconds=2)
    assert login(owner, "chengdu").status_code == 303
