"""两步验证 (issue 22, deliverable 3): TOTP enrolment from the page's own secret, the log-in's
second step, replayed and wrong codes, recovery codes, XKXL_REQUIRE_2FA, turning it off and the
administrator's reset. Codes are computed here with pyotp from the secret read out of the page."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import segno

from xkxl_intranet import clock, create_app
from xkxl_intranet.auth.models import User
from xkxl_intranet.auth.second_factor import codes as code_rules
from xkxl_intranet.auth.second_factor import routes as second_factor_routes
from xkxl_intranet.auth.second_factor import services as second_factor_services
from xkxl_intranet.auth.second_factor.models import RecoveryCode, SecondFactor
from xkxl_intranet.extensions import db
from xkxl_intranet.trail.queries import ACTION_LABELS

from helpers import TEST_PASSWORD, audit_events, logged_in_client, login, user_by_name

START = datetime(2026, 12, 14, 2, 0, 5, tzinfo=UTC)  # 10:00:05 in Chengdu, 5 s into a TOTP step


@pytest.fixture(autouse=True)
def pinned_clock():
    clock.set_now(START)
    yield
    clock.set_now(None)


def advance(seconds: float) -> None:
    clock.set_now(clock.now() + timedelta(seconds=seconds))


def code_now(secret: str, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(clock.now() + timedelta(seconds=30 * steps))


def secret_on_page(html: str) -> str:
    match = re.search(r"<code data-secret>([A-Z2-7 ]+)</code>", html)
    assert match, html
    return match.group(1).replace(" ", "")


def recovery_codes_on_page(html: str) -> list[str]:
    return re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", html)


def enrol(client) -> tuple[str, list[str]]:
    """Enrol through the page as a person would: the secret typed into the app, its code back."""
    page = client.get("/account/second-factor")
    assert page.status_code == 200
    secret = secret_on_page(page.get_data(as_text=True))
    done = client.post("/account/second-factor", data={"code": code_now(secret)})
    assert done.status_code == 200, done.get_data(as_text=True)
    codes = recovery_codes_on_page(done.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10
    advance(30)  # the next log-in's code is a later one
    return secret, codes


def password_step(client, username: str):
    response = login(client, username)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login/verify")
    return response


# ---- enrolment ---------------------------------------------------------------------------------

def test_the_page_shows_a_locally_drawn_qr_and_the_secret_in_groups_of_four(app, city_client):
    html = city_client.get("/account/second-factor").get_data(as_text=True)
    assert "<svg" in html and 'class="qr-code"' in html and "两步验证二维码" in html
    assert "https://" not in html.split("<svg", 1)[1].split("</svg>", 1)[0]  # drawn here, not fetched
    grouped = re.search(r"<code data-secret>([A-Z2-7 ]+)</code>", html).group(1)
    assert re.fullmatch(r"([A-Z2-7]{4} )+[A-Z2-7]{1,4}", grouped)
    assert "四川省经信厅工业互联网平台申报" in html
    # The page shows the same secret on a second visit (it waits in the database for its code).
    assert secret_on_page(city_client.get("/account/second-factor").get_data(as_text=True)) == \
        grouped.replace(" ", "")


def test_the_qr_carries_the_otpauth_uri_with_issuer_and_user_name(app, city_client, monkeypatch):
    drawn, make = [], segno.make
    monkeypatch.setattr(second_factor_routes.segno, "make", lambda uri, **kw: drawn.append(uri) or make(uri, **kw))
    secret = secret_on_page(city_client.get("/account/second-factor").get_data(as_text=True))
    assert drawn == [pyotp.TOTP(secret).provisioning_uri(name="chengdu", issuer_name="四川省经信厅工业互联网平台申报")]
    assert pyotp.parse_uri(drawn[0]).issuer == "四川省经信厅工业互联网平台申报"


def test_enrolment_with_a_current_code_turns_it_on_and_shows_ten_recovery_codes_once(app, city_client):
    assert "未启用" in city_client.get("/account/").get_data(as_text=True)
    _secret, codes = enrol(city_client)
    account = city_client.get("/account/").get_data(as_text=True)
    assert "已启用" in account and "/account/second-factor" in account
    assert [e.username for e in audit_events(app, "auth.2fa_enabled")] == ["chengdu"]
    with app.app_context():
        stored = db.session.scalars(db.select(RecoveryCode)).all()
        assert len(stored) == 10
        kept = " ".join(f"{r.salt} {r.code_sha256}" for r in stored)
        assert not any(code.replace("-", "") in kept for code in codes)  # hashes only
    # Shown once: the page now manages the factor and shows no code.
    assert recovery_codes_on_page(city_client.get("/account/second-factor").get_data(as_text=True)) == []


def test_a_wrong_code_does_not_turn_it_on_and_is_recorded(app, city_client):
    secret = secret_on_page(city_client.get("/account/second-factor").get_data(as_text=True))
    wrong = f"{(int(code_now(secret)) + 1) % 1_000_000:06d}"
    response = city_client.post("/account/second-factor", data={"code": wrong})
    assert response.status_code == 422
    assert "验证码不正确" in response.get_data(as_text=True)
    assert "未启用" in city_client.get("/account/").get_data(as_text=True)
    assert [e.summary for e in audit_events(app, "auth.2fa_failed")] == ["启用两步验证时验证码错误"]


def test_one_step_of_drift_is_accepted_and_two_are_not(app, city_client):
    secret = secret_on_page(city_client.get("/account/second-factor").get_data(as_text=True))
    assert city_client.post("/account/second-factor", data={"code": code_now(secret, -2)}).status_code == 422
    assert city_client.post("/account/second-factor", data={"code": code_now(secret, 2)}).status_code == 422
    assert city_client.post("/account/second-factor", data={"code": code_now(secret, -1)}).status_code == 200


# ---- the log-in step ---------------------------------------------------------------------------

def test_log_in_asks_for_the_code_before_any_session_starts(app, client):
    secret, _codes = enrol(logged_in_client(app, "chengdu"))
    password_step(client, "chengdu")
    # The password alone opens nothing.
    assert client.get("/account/").status_code == 302
    assert audit_events(app, "auth.login") == []
    page = client.get("/login/verify")
    assert page.status_code == 200 and "两步验证" in page.get_data(as_text=True)
    done = client.post("/login/verify", data={"code": code_now(secret)})
    assert done.status_code == 303 and done.headers["Location"] == "/"
    assert client.get("/account/").status_code == 200
    assert [e.summary for e in audit_events(app, "auth.login")] == ["登录成功（两步验证）"]


def test_the_next_page_survives_the_second_step(app, client):
    secret, _codes = enrol(logged_in_client(app, "chengdu"))
    response = client.post("/login?next=/applications/", data={"username": "chengdu", "password": TEST_PASSWORD})
    assert response.headers["Location"] == "/login/verify?next=/applications/"
    done = client.post("/login/verify?next=/applications/", data={"code": code_now(secret)})
    assert done.headers["Location"] == "/applications/"


def test_a_wrong_code_is_a_failed_log_in_with_the_one_message(app, client):
    secret, _codes = enrol(logged_in_client(app, "chengdu"))
    password_step(client, "chengdu")
    wrong = f"{(int(code_now(secret)) + 1) % 1_000_000:06d}"
    response = client.post("/login/verify", data={"code": wrong})
    assert response.status_code == 200
    assert "验证码不正确或已使用过，或尝试过于频繁，请稍后再试" in response.get_data(as_text=True)
    assert client.get("/account/").status_code == 302
    failed = audit_events(app, "auth.login_failed")
    assert len(failed) == 1 and "两步验证" in failed[0].summary and failed[0].username == "chengdu"


def test_wrong_codes_count_for_the_address_throttle(app, client):
    app.config["LOGIN_GUESSES_PER_ADDRESS"] = 2
    secret, _codes = enrol(logged_in_client(app, "chengdu"))
    password_step(client, "chengdu")
    for wrong in ("000000", "999999"):
        client.post("/login/verify", data={"code": wrong})
    # The third try is not even checked, the right code included.
    response = client.post("/login/verify", data={"code": code_now(secret)})
    assert "尝试过于频繁" in response.get_data(as_text=True)
    assert client.get("/account/").status_code == 302
    assert len(audit_events(app, "auth.address_throttled")) == 1


def test_a_code_cannot_be_used_twice(app, client):
    secret, _codes = enrol(logged_in_client(app, "chengdu"))
    code = code_now(secret)
    password_step(client, "chengdu")
    assert client.post("/login/verify", data={"code": code}).status_code == 303
    other = app.test_client()
    advance(10)  # the same 30-second step
    password_step(other, "chengdu")
    refused = other.post("/login/verify", data={"code": code})
    assert refused.status_code == 200 and "已使用过" in refused.get_data(as_text=True)
    assert other.get("/account/").status_code == 302
    # Nor can the step before it (it lies within the drift allowed).
    assert other.post("/login/verify", data={"code": code_now(secret, -1)}).status_code == 200
    advance(30)
    assert other.post("/login/verify", data={"code": code_now(secret)}).status_code == 303


def test_a_recovery_code_opens_one_log_in(app, client):
    _secret, codes = enrol(logged_in_client(app, "chengdu"))
    password_step(client, "chengdu")
    assert client.post("/login/verify", data={"code": codes[3].upper().replace("-", " ")}).status_code == 303
    assert [e.summary for e in audit_events(app, "auth.2fa_recovery_used")] == ["使用恢复码登录（剩余9个）"]
    again = app.test_client()
    password_step(again, "chengdu")
    assert again.post("/login/verify", data={"code": codes[3]}).status_code == 200
    assert again.get("/account/").status_code == 302


def test_the_marker_lasts_five_minutes(app, client):
    secret, _codes = enrol(logged_in_client(app, "chengdu"))
    password_step(client, "chengdu")
    advance(5 * 60 + 1)
    response = client.post("/login/verify", data={"code": code_now(secret)})
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")
    assert client.get("/account/").status_code == 302
    assert audit_events(app, "auth.login") == []


def test_without_a_second_factor_log_in_is_as_before(app, client):
    response = login(client, "chengdu")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert client.get("/account/").status_code == 200


# ---- XKXL_REQUIRE_2FA ----------------------------------------------------------------------

def test_require_2fa_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("XKXL_REQUIRE_2FA", "1")
    assert create_app({"TESTING": True, "SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path),
                       "SQLALCHEMY_DATABASE_URI": "sqlite://"}).config["REQUIRE_2FA"] is True


def test_require_2fa_sends_the_province_and_the_administrator_to_enrol_first_and_not_a_city(app, client):
    app.config["REQUIRE_2FA"] = True
    province = app.test_client()
    login(province, "province")
    assert province.get("/").headers["Location"] == "/account/second-factor"
    response = login(client, "admin")
    assert response.status_code == 303
    for path in ("/", "/account/", "/admin/users", "/admin/system"):
        blocked = client.get(path)
        assert blocked.status_code == 302 and blocked.headers["Location"] == "/account/second-factor", path
    assert client.get("/account/second-factor", headers={"HX-Request": "true"}).status_code == 200
    assert client.get("/", headers={"HX-Request": "true"}).headers["HX-Redirect"] == "/account/second-factor"
    assert "设置完成后才能继续使用" in client.get("/account/second-factor").get_data(as_text=True)
    enrol(client)
    assert client.get("/admin/users").status_code == 200

    city = app.test_client()
    login(city, "chengdu")
    assert city.get("/").status_code == 200


def test_require_2fa_refuses_to_turn_it_off_for_the_province(app, province_client):
    secret, _codes = enrol(province_client)
    app.config["REQUIRE_2FA"] = True
    response = province_client.post("/account/second-factor/disable", data={
        "disable-password": TEST_PASSWORD, "disable-code": code_now(secret)})
    assert "不能关闭" in response.get_data(as_text=True)
    assert audit_events(app, "auth.2fa_disabled") == []


# ---- turning it off, new recovery codes, the administrator's reset -------------------------

def test_turning_it_off_needs_the_password_and_a_code(app, city_client):
    secret, _codes = enrol(city_client)
    wrong_password = city_client.post("/account/second-factor/disable", data={
        "disable-password": "Not-the-pass-1", "disable-code": code_now(secret)})
    assert wrong_password.status_code == 422 and "当前密码或验证码不正确" in wrong_password.get_data(as_text=True)
    wrong_code = city_client.post("/account/second-factor/disable", data={
        "disable-password": TEST_PASSWORD, "disable-code": "000000" if code_now(secret) != "000000" else "111111"})
    assert wrong_code.status_code == 422
    assert city_client.post("/account/second-factor/disable", data={"disable-password": TEST_PASSWORD}
                            ).status_code == 422  # no code at all
    assert len(audit_events(app, "auth.2fa_failed")) == 2
    assert "已启用" in city_client.get("/account/").get_data(as_text=True)
    done = city_client.post("/account/second-factor/disable", data={
        "disable-password": TEST_PASSWORD, "disable-code": code_now(secret)})
    assert done.status_code == 303 and done.headers["Location"] == "/account/"
    assert "未启用" in city_client.get("/account/").get_data(as_text=True)
    assert [e.username for e in audit_events(app, "auth.2fa_disabled")] == ["chengdu"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(RecoveryCode.id))) == 0
    assert login(app.test_client(), "chengdu").headers["Location"] == "/"


def test_five_failures_stop_the_forms_for_a_quarter_hour(app, city_client):
    secret, _codes = enrol(city_client)
    for _ in range(5):
        city_client.post("/account/second-factor/disable", data={
            "disable-password": f"Guess-{_}-pass", "disable-code": code_now(secret)})
    stopped = city_client.post("/account/second-factor/disable", data={
        "disable-password": TEST_PASSWORD, "disable-code": code_now(secret)})
    assert "尝试过于频繁" in stopped.get_data(as_text=True)
    assert audit_events(app, "auth.2fa_disabled") == []


def test_new_recovery_codes_need_the_password_and_a_code_and_replace_the_old(app, city_client, client):
    secret, old_codes = enrol(city_client)
    refused = city_client.post("/account/second-factor/recovery-codes", data={
        "recovery-password": "Not-the-pass-1", "recovery-code": code_now(secret)})
    assert refused.status_code == 422 and recovery_codes_on_page(refused.get_data(as_text=True)) == []
    response = city_client.post("/account/second-factor/recovery-codes", data={
        "recovery-password": TEST_PASSWORD, "recovery-code": code_now(secret)})
    new_codes = recovery_codes_on_page(response.get_data(as_text=True))
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    assert [e.username for e in audit_events(app, "auth.2fa_recovery_regenerated")] == ["chengdu"]
    password_step(client, "chengdu")
    assert client.post("/login/verify", data={"code": old_codes[0]}).status_code == 200
    assert client.post("/login/verify", data={"code": new_codes[0]}).status_code == 303


def test_the_administrator_resets_a_lost_second_factor(app, admin_client, client):
    enrol(logged_in_client(app, "chengdu"))
    user = user_by_name(app, "chengdu")
    edit = admin_client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "重置两步验证" in edit and "已启用" in edit
    response = admin_client.post(f"/admin/users/{user.id}/reset-second-factor")
    assert response.status_code == 303
    # A city need not enrol again (no XKXL_REQUIRE_2FA for it): the message says so, not more.
    assert "本人登录时只需密码" in admin_client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    [reset] = audit_events(app, "account.2fa_reset")
    assert (reset.username, reset.object_id, reset.summary) == ("admin", str(user.id), "重置账号 chengdu 的两步验证")
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(SecondFactor.id))) == 0
    assert login(client, "chengdu").headers["Location"] == "/"  # the password alone, until enrolled again


def test_only_the_administrator_resets(app, city_client, other_city_client, province_client):
    enrol(city_client)
    user = user_by_name(app, "chengdu")
    assert other_city_client.post(f"/admin/users/{user.id}/reset-second-factor").status_code == 404
    assert province_client.post(f"/admin/users/{user.id}/reset-second-factor").status_code == 404
    assert audit_events(app, "account.2fa_reset") == []


def test_the_new_actions_have_chinese_labels():
    for action in ("auth.2fa_enabled", "auth.2fa_disabled", "auth.2fa_recovery_regenerated",
                   "auth.2fa_recovery_used", "auth.2fa_failed", "account.2fa_reset"):
        assert re.search(r"[\u4e00-\u9fff]", ACTION_LABELS[action]), action


def test_two_log_ins_racing_with_one_code_cannot_both_win(app, city_client, monkeypatch):
    """The replay guard is the database's: a request that read the factor before another accepted
    the same code (here: a check that ignores the last step, as that stale read would) still loses."""
    secret, _codes = enrol(city_client)
    code = code_now(secret)
    checked_on_a_stale_read = code_rules.matching_step
    monkeypatch.setattr(code_rules, "matching_step",
                        lambda secret, typed, at, after_step: checked_on_a_stale_read(secret, typed, at, None))
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == "chengdu"))
        assert second_factor_services.accept_login_code(user, code, clock.now()) is True
        assert second_factor_services.accept_login_code(user, code, clock.now()) is False
