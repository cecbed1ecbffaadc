from datetime import datetime, timedelta

from argon2 import PasswordHasher, extract_parameters

from xkxl_intranet import clock
from xkxl_intranet.auth.models import User
from xkxl_intranet.auth.passwords import HASH_COSTS, verify_password
from xkxl_intranet.extensions import db

from helpers import TEST_PASSWORD, audit_events, logged_in_client, login, user_by_name


def test_login_page_is_chinese_and_has_fields(client):
    page = client.get("/login").get_data(as_text=True)
    assert "登录" in page and 'name="username"' in page and 'name="password"' in page
    assert 'name="csrf_token"' in page


def test_login_and_logout(app, client):
    response = login(client, "chengdu")
    assert response.status_code == 303
    home = client.get("/")
    assert home.status_code == 200 and "成都市" in home.get_data(as_text=True)
    assert audit_events(app, "auth.login")
    response = client.post("/logout")
    assert response.status_code == 303
    assert client.get("/").status_code == 302
    assert audit_events(app, "auth.logout")


def test_session_cookie_is_httponly_and_samesite_lax(client):
    response = login(client, "chengdu")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_wrong_password_message_and_audit(app, client):
    response = login(client, "chengdu", "wrong-password")
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "用户名或密码错误，或尝试过于频繁，请稍后再试" in text
    assert audit_events(app, "auth.login_failed")


def test_unknown_user_gets_the_same_message(client):
    text = login(client, "nobody", "x").get_data(as_text=True)
    assert "用户名或密码错误" in text


def test_disabled_account_cannot_log_in(app, client):
    """已停用 is said only after the right password, which tells a stranger nothing."""
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == "mianyang"))
        user.is_enabled = False
        db.session.commit()
    assert "已停用" not in login(client, "mianyang", "guess-1234").get_data(as_text=True)
    text = login(client, "mianyang").get_data(as_text=True)
    assert "已停用" in text
    assert client.get("/").status_code == 302


def test_disabling_ends_an_open_session(app, admin_client):
    clerk = logged_in_client(app, "mianyang")
    assert clerk.get("/").status_code == 200
    user = user_by_name(app, "mianyang")
    response = admin_client.post(f"/admin/users/{user.id}", data={
        "display_name": "绵阳市经济和信息化局", "role": "city", "city_id": str(user.city_id),
        "phone": ""})  # is_enabled unchecked
    assert response.status_code == 303
    assert clerk.get("/").status_code == 302


def test_new_account_must_change_password_at_first_login(app, admin_client, client):
    response = admin_client.post("/admin/users/new", data={
        "username": "deyang2", "display_name": "德阳市经信局 李明", "role": "city",
        "city_id": "5", "phone": "0838-1234567"})
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "只显示这一次" in text
    initial = text.split("<code>")[1].split("</code>")[0]
    assert audit_events(app, "account.created")

    response = login(client, "deyang2", initial)
    assert response.status_code == 303 and response.headers["Location"].endswith("/account/password")
    # Every other page sends them back to the password form.
    assert client.get("/").headers["Location"].endswith("/account/password")
    bad = client.post("/account/password", data={"current_password": initial,
                                                 "new_password": "short", "confirm_password": "short"})
    assert "至少需要8位" in bad.get_data(as_text=True)
    ok = client.post("/account/password", data={"current_password": initial,
                                                "new_password": "Furong-Hua-2031",
                                                "confirm_password": "Furong-Hua-2031"})
    assert ok.status_code == 303
    assert client.get("/").status_code == 200
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == "deyang2"))
        assert not user.must_change_password
        assert user.password_hash.startswith("$argon2")
        assert verify_password(user.password_hash, "Furong-Hua-2031")


def test_city_account_needs_a_city(admin_client):
    text = admin_client.post("/admin/users/new", data={
        "username": "nocity", "display_name": "x", "role": "city", "city_id": ""}).get_data(as_text=True)
    assert "必须指定所属市（州）" in text


def test_reset_password_lets_the_owner_in_at_once_and_forces_change(app, admin_client, client):
    for _ in range(5):  # the owner's address would now wait
        login(client, "chengdu", "bad")
    user = user_by_name(app, "chengdu")
    text = admin_client.post(f"/admin/users/{user.id}/reset-password").get_data(as_text=True)
    new_password = text.split("<code>")[1].split("</code>")[0]
    response = login(client, "chengdu", new_password)
    assert response.headers["Location"].endswith("/account/password")
    assert audit_events(app, "account.password_reset")


def test_only_the_administrator_opens_account_management(city_client, viewer_client, province_client,
                                                        auditor_client, expert_client, admin_client):
    for url in ("/admin/users", "/admin/users/new", "/admin/users/1"):
        for other in (city_client, viewer_client, province_client, auditor_client, expert_client):
            assert other.get(url).status_code == 404, url
        assert admin_client.get(url).status_code == 200, url
    for other in (city_client, province_client, auditor_client):
        assert other.post("/admin/users/1/reset-password").status_code == 404


def test_idle_session_ends_after_two_hours(app):
    start = datetime(2022, 3, 10, 9, 0, tzinfo=clock.SHANGHAI)
    clock.set_now(start)
    clerk = logged_in_client(app, "chengdu")
    assert clerk.get("/").status_code == 200
    clock.set_now(start + timedelta(hours=1, minutes=59))
    assert clerk.get("/").status_code == 200
    clock.set_now(start + timedelta(hours=4))
    response = clerk.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert app.permanent_session_lifetime == timedelta(hours=2)


def test_keep_alive_from_the_idle_warning_counts_as_activity(app):
    """继续使用 (the warning shown five minutes before the limit) is a request of the clerk's
    own: the two hours start again from it. As a plain form post it goes back to the page."""
    start = datetime(2022, 3, 10, 9, 0, tzinfo=clock.SHANGHAI)
    clock.set_now(start)
    clerk = logged_in_client(app, "chengdu")
    page = clerk.get("/applications/").get_data(as_text=True)
    assert 'id="idle-warning"' in page and 'data-idle-limit="7200"' in page and 'data-idle-warn="300"' in page
    assert "超过2小时未操作即退出" in page
    clock.set_now(start + timedelta(hours=1, minutes=56))
    response = clerk.post("/session/keep-alive", headers={"HX-Request": "true"})
    assert response.status_code == 204
    clock.set_now(start + timedelta(hours=3, minutes=50))  # 1 h 54 min after 继续使用
    response = clerk.post("/session/keep-alive", data={"next": "/applications/"})
    assert response.status_code == 303 and response.headers["Location"] == "/applications/"
    clock.set_now(start + timedelta(hours=6))
    response = clerk.post("/session/keep-alive", headers={"HX-Request": "true"})
    assert response.status_code == 401 and response.headers["HX-Redirect"] == "/login"
    assert "超过2小时未操作，已自动退出" in clerk.get("/login").get_data(as_text=True)


def test_the_idle_limit_is_said_as_configured(app):
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=30)
    start = datetime(2022, 3, 10, 9, 0, tzinfo=clock.SHANGHAI)
    clock.set_now(start)
    clerk = logged_in_client(app, "chengdu")
    assert "超过30分钟未操作即退出" in clerk.get("/").get_data(as_text=True)
    clock.set_now(start + timedelta(minutes=31))
    assert clerk.get("/").status_code == 302
    assert "超过30分钟未操作，已自动退出" in clerk.get("/login").get_data(as_text=True)


def test_login_next_parameter_only_allows_local_paths(client):
    response = client.post("/login?next=https://evil.example/", data={
        "username": "chengdu", "password": TEST_PASSWORD})
    assert response.headers["Location"] == "/"
    response = client.post("/logout")
    response = client.post("/login?next=/audit/", data={"username": "chengdu", "password": TEST_PASSWORD})
    assert response.headers["Location"] == "/audit/"


def test_dashboard_polling_does_not_keep_an_idle_session_alive(app):
    start = datetime(2022, 3, 10, 9, 0, tzinfo=clock.SHANGHAI)
    clock.set_now(start)
    officer = logged_in_client(app, "province")
    page = officer.get("/rounds/dashboard").get_data(as_text=True)
    assert '"X-Background-Poll": "1"' in page
    poll = {"HX-Request": "true", "X-Background-Poll": "1"}
    for minutes in (30, 60, 90, 119):
        clock.set_now(start + timedelta(minutes=minutes))
        assert officer.get("/rounds/dashboard", headers=poll).status_code == 200
    clock.set_now(start + timedelta(hours=2, minutes=1))
    response = officer.get("/rounds/dashboard", headers=poll)
    assert response.status_code == 401 and response.headers["HX-Redirect"] == "/login"


def test_a_hash_made_with_other_costs_is_replaced_at_log_in(app, client):
    """Accounts hashed with argon2's heavier default (before the rush's costs) keep working and
    move to the configured costs at their next log-in."""
    heavy = PasswordHasher().hash(TEST_PASSWORD)
    assert extract_parameters(heavy).memory_cost != HASH_COSTS["memory_cost"]
    with app.app_context():
        db.session.execute(db.update(User).where(User.username == "chengdu").values(password_hash=heavy))
        db.session.commit()
    assert login(client, "chengdu").status_code == 303
    stored = user_by_name(app, "chengdu").password_hash
    parameters = extract_parameters(stored)
    assert (parameters.time_cost, parameters.memory_cost, parameters.parallelism) == (
        HASH_COSTS["time_cost"], HASH_COSTS["memory_cost"], HASH_COSTS["parallelism"])
    assert verify_password(stored, TEST_PASSWORD)


def test_the_account_page_is_reachable_from_every_page_header(city_client):
    page = city_client.get("/").get_data(as_text=True)
    assert 'href="/account/"' in page and "我的账号" in page
    account = city_client.get("/account/").get_data(as_text=True)
    assert "我的账号" in account and 'href="/account/password"' in account
