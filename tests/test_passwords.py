"""Issue 22, passwords: the policy on 修改密码 and on accounts made with a password, the last five
refused, and expiry (a warning on every page in the last 7 days, then nothing but changing it)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from xkxl_intranet import clock, create_app
from xkxl_intranet.auth.models import PasswordHistory, User
from xkxl_intranet.auth.passwords import verify_password
from xkxl_intranet.auth.services import create_user, reset_password
from xkxl_intranet.envsettings import SettingError
from xkxl_intranet.extensions import db

from helpers import TEST_PASSWORD, audit_events, login, user_by_name

SET_AT = datetime(2026, 1, 5, 9, 0, tzinfo=clock.SHANGHAI)
EXPIRES_ON = "2026-04-05"  # SET_AT + 90 days


def _change(client, current: str, new: str):
    return client.post("/account/password", data={"current_password": current, "new_password": new,
                                                   "confirm_password": new})


def _password_set_at(app, username: str, moment: datetime) -> None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        user.password_changed_at = moment
        db.session.commit()


def _history_rows(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(PasswordHistory).join(User)
                                 .where(User.username == username))


@pytest.mark.parametrize(("new", "problem"), [
    ("password1", "新密码是最常见的10000个密码之一"),
    ("aaaaaaa1", "新密码需包含大写字母、小写字母、数字、符号四类中的至少3类"),
    ("Chengdu1x", "新密码不能包含用户名"),
    ("Mianyang2022!", "新密码不能包含市（州）名称的拼音（mianyang）"),
    ("Sunshine2024!", "新密码去掉首尾的数字和符号后是常见密码“sunshine”"),
    (TEST_PASSWORD, "新密码不能与当前密码相同"),
])
def test_a_refused_new_password_keeps_the_form_and_names_the_field(app, client, new, problem):
    login(client, "chengdu")
    response = _change(client, TEST_PASSWORD, new)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and problem in page
    # The sentence stands under 新密码, the form is there to try again, and nothing changed.
    field = page.split('for="new_password"')[1].split("</div>")[0]
    assert problem in field and 'name="current_password"' in page
    assert verify_password(user_by_name(app, "chengdu").password_hash, TEST_PASSWORD)


def test_the_hint_states_the_policy(city_client):
    page = city_client.get("/account/password").get_data(as_text=True)
    assert "至少8位，包含大写字母、小写字母、数字、符号中的至少3类" in page
    assert "不能与最近5次使用过的密码相同" in page


def test_the_last_five_passwords_are_refused_the_sixth_back_allowed(app, client):
    login(client, "chengdu")
    chosen = [f"Furong-{n}-Xq" for n in range(1, 7)]
    current = TEST_PASSWORD
    for password in chosen:
        assert _change(client, current, password).status_code == 303, password
        current = password
    assert _history_rows(app, "chengdu") == 5  # the table keeps five an account
    page = _change(client, current, current).get_data(as_text=True)  # the current one: said as such
    assert "新密码不能与当前密码相同" in page
    for back, password in enumerate(reversed(chosen[1:-1]), start=2):  # four before it
        page = _change(client, current, password).get_data(as_text=True)
        assert "新密码不能与最近5次使用过的密码相同" in page, back
    assert _change(client, current, chosen[0]).status_code == 303  # the sixth back
    assert verify_password(user_by_name(app, "chengdu").password_hash, chosen[0])
    assert len(audit_events(app, "auth.password_changed")) == 7


def test_a_reset_s_one_time_password_is_not_kept_but_cannot_be_kept_either(app, client):
    with app.app_context():
        province = db.session.scalar(select(User).where(User.username == "province"))
        clerk = db.session.scalar(select(User).where(User.username == "chengdu"))
        one_time = reset_password(province, clerk)
        db.session.commit()
    assert _history_rows(app, "chengdu") == 0
    login(client, "chengdu", one_time)
    page = _change(client, one_time, one_time).get_data(as_text=True)
    assert "新密码不能与当前密码相同" in page
    assert _change(client, one_time, "Furong-Hua-2031").status_code == 303
    assert _history_rows(app, "chengdu") == 1


def test_an_account_made_with_a_password_must_meet_the_policy(app, monkeypatch):
    with app.app_context():
        with pytest.raises(Exception, match="账号 zigong2 的密码不符合要求：新密码至少需要8位"):
            create_user(None, username="zigong2", display_name="x", role="expert", city=None, password="short1A")
        db.session.rollback()
        user, password = create_user(None, username="expert9", display_name="x", role="expert", city=None,
                                     password="Furong-Hua-2031", must_change_password=False)
        db.session.commit()
        assert password == "Furong-Hua-2031" and db.session.scalar(
            select(func.count()).select_from(PasswordHistory).where(PasswordHistory.user_id == user.id)) == 1
    monkeypatch.setenv("XKXL_DEMO_PASSWORD", "password1")
    result = app.test_cli_runner().invoke(args=["init-db", "--demo"])
    assert result.exit_code != 0 and "新密码是最常见的10000个密码之一" in result.output
    with app.app_context():
        assert db.session.scalar(select(User).where(User.username == "zigong")) is None


def test_every_page_warns_in_the_last_seven_days(app, client):
    _password_set_at(app, "chengdu", SET_AT)
    clock.set_now(SET_AT + timedelta(days=82))
    login(client, "chengdu")
    assert "密码将于" not in client.get("/").get_data(as_text=True)
    clock.set_now(SET_AT + timedelta(days=84))
    login(client, "chengdu")  # two days idle ended the session
    for path in ("/", "/applications/", "/account/"):
        page = client.get(path).get_data(as_text=True)
        assert f"密码将于 {EXPIRES_ON} 到期" in page, path
        assert 'href="/account/password"' in page.split('id="password-expiry"')[1].split("</div>")[0]
    assert client.get("/").status_code == 200  # a warning, not yet a gate


def test_an_expired_password_must_be_changed_before_anything_else(app, client):
    _password_set_at(app, "chengdu", SET_AT)
    clock.set_now(SET_AT + timedelta(days=90))
    response = login(client, "chengdu")
    assert response.status_code == 303
    for path in ("/", "/applications/", "/account/"):
        assert client.get(path).headers["Location"].endswith("/account/password"), path
    page = client.get("/account/password").get_data(as_text=True)
    assert f"密码已于 {EXPIRES_ON} 到期" in page
    [event] = audit_events(app, "auth.password_expired")  # once, for all those requests
    assert event.username == "chengdu" and EXPIRES_ON in event.summary
    assert _change(client, TEST_PASSWORD, "Furong-Hua-2031").status_code == 303
    assert client.get("/").status_code == 200
    assert user_by_name(app, "chengdu").password_changed_at == SET_AT + timedelta(days=90)


def test_a_session_that_outlives_the_password_is_sent_to_change_it(app, client):
    _password_set_at(app, "chengdu", SET_AT)
    clock.set_now(SET_AT + timedelta(days=90, minutes=-30))
    login(client, "chengdu")
    assert client.get("/").status_code == 200
    clock.set_now(SET_AT + timedelta(days=90, minutes=1))
    assert client.get("/").headers["Location"].endswith("/account/password")
    assert len(audit_events(app, "auth.password_expired")) == 1


def test_expiry_off(app, client):
    app.config["PASSWORD_MAX_AGE_DAYS"] = 0
    _password_set_at(app, "chengdu", SET_AT)
    clock.set_now(SET_AT + timedelta(days=400))
    login(client, "chengdu")
    page = client.get("/account/").get_data(as_text=True)
    assert client.get("/").status_code == 200 and "密码将于" not in page and "密码不设有效期" in page
    assert audit_events(app, "auth.password_expired") == []


def test_the_account_page_says_when_the_password_expires(app, client):
    _password_set_at(app, "chengdu", SET_AT)
    clock.set_now(SET_AT + timedelta(days=10))
    login(client, "chengdu")
    page = client.get("/account/").get_data(as_text=True)
    assert f"密码将于 {EXPIRES_ON} 到期" in page and "上次修改：2026-01-05" in page
    assert 'id="password-expiry"' not in page  # no banner yet


def test_the_settings_come_from_the_environment(tmp_path, monkeypatch):
    base = {"TESTING": True, "SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite3'}"}
    defaults = create_app(base, commands=False).config
    assert (defaults["PASSWORD_MAX_AGE_DAYS"], defaults["PASSWORD_EXPIRY_WARNING_DAYS"]) == (90, 7)
    monkeypatch.setenv("XKXL_PASSWORD_MAX_AGE_DAYS", "0")
    monkeypatch.setenv("XKXL_PASSWORD_EXPIRY_WARNING_DAYS", "14")
    config = create_app(base, commands=False).config
    assert (config["PASSWORD_MAX_AGE_DAYS"], config["PASSWORD_EXPIRY_WARNING_DAYS"]) == (0, 14)
    monkeypatch.setenv("XKXL_PASSWORD_MAX_AGE_DAYS", "ninety")
    with pytest.raises(SettingError, match="^XKXL_PASSWORD_MAX_AGE_DAYS must be a whole number"):
        create_app(base, commands=False)
