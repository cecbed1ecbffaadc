"""批量开通市州账号 (issue 24): accounts created in one step, their credential slips printed by a job
and handed out once, and a slip's password good for one log-in."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from xkxl_intranet.audit.models import AuditEvent
from xkxl_intranet.auth.models import User
from xkxl_intranet.auth.onboarding import slips
from xkxl_intranet.auth.onboarding.services import (
    cities_without_accounts,
    create_city_accounts,
    parse_per_city,
)
from xkxl_intranet.auth.passwords import verify_password
from xkxl_intranet.auth.services import ONE_TIME_PASSWORD_SPENT, new_password_problems
from xkxl_intranet.domain.errors import Refused
from xkxl_intranet.extensions import db
from xkxl_intranet.jobs.queue import CREDENTIAL_SLIPS_JOB, HANDLERS
from xkxl_intranet.rounds.models import City

from helpers import audit_events, login


def _city(code: str) -> City:
    return db.session.scalar(db.select(City).where(City.code == code))


def _admin() -> User:
    return db.session.scalar(db.select(User).where(User.username == "admin"))


def _no_password_in_the_trail(passwords) -> None:
    for event in db.session.scalars(db.select(AuditEvent)):
        text = f"{event.summary} {event.before} {event.after} {event.object_id}"
        assert not any(p in text for p in passwords), event.action


def test_the_service_creates_accounts_in_each_city_with_one_time_passwords(app):
    with app.app_context():
        zigong, luzhou = _city("510300"), _city("510500")
        issued = create_city_accounts(_admin(), city_ids=[luzhou.id, zigong.id], per_city=2)
        db.session.commit()
        assert [a.username for a in issued] == ["zigong01", "zigong02", "luzhou01", "luzhou02"]
        assert [a.city_name for a in issued] == ["自贡市", "自贡市", "泸州市", "泸州市"]
        for account in issued:
            user = db.session.get(User, account.user_id)
            assert user.role == "city" and user.city.name == account.city_name
            assert user.must_change_password and user.password_one_time
            assert verify_password(user.password_hash, account.password)
            assert new_password_problems(user, account.password) == ["新密码不能与当前密码相同"]  # meets the policy
        # A second run numbers on, it never takes a name again.
        again = create_city_accounts(_admin(), city_ids=[zigong.id], per_city=1)
        assert [a.username for a in again] == ["zigong03"]
        bulk = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "account.bulk_created")).all()
        assert len(bulk) == 2 and "zigong01" in bulk[0].summary and bulk[0].user_id == _admin().id
        assert [a["username"] for a in bulk[0].after["accounts"]] == ["zigong01", "zigong02", "luzhou01", "luzhou02"]
        _no_password_in_the_trail([a.password for a in issued + again])


def test_all_cities_without_an_account(app):
    with app.app_context():
        before = [c.name for c in cities_without_accounts()]
        assert len(before) == 19 and "成都市" not in before and "绵阳市" not in before
        issued = create_city_accounts(_admin(), city_ids=[], per_city=1, all_without=True)
        assert sorted(a.city_name for a in issued) == sorted(before)
        assert cities_without_accounts() == []
        with pytest.raises(Refused, match="「全部没有账号的市州」"):
            create_city_accounts(_admin(), city_ids=[], per_city=1, all_without=True)


@pytest.mark.parametrize("typed", ["0", "11", "abc", "-1", "1.5"])
def test_the_number_per_city_is_refused_naming_the_field(typed):
    with pytest.raises(Refused, match="「每个市州账号数」"):
        parse_per_city(typed)


def test_no_city_chosen_is_refused(app):
    with app.app_context(), pytest.raises(Refused, match="「市（州）」"):
        create_city_accounts(_admin(), city_ids=[], per_city=1)
    assert parse_per_city("") == 1


def _slip_folder(app) -> Path:
    return Path(app.config["ONBOARDING_SLIPS_FOLDER"])


def test_the_page_creates_the_accounts_and_hands_out_the_slips_once(app, admin_client, monkeypatch):
    jobs_given: list[tuple] = []
    real_job = HANDLERS[CREDENTIAL_SLIPS_JOB]
    monkeypatch.setitem(HANDLERS, CREDENTIAL_SLIPS_JOB, lambda *args: (jobs_given.append(args), real_job(*args))[1])
    page = admin_client.get("/admin/users/onboard")
    assert page.status_code == 200 and "全部没有账号的市州" in page.get_data(as_text=True)
    with app.app_context():
        ids = [str(_city("510300").id), str(_city("510400").id)]
    response = admin_client.post("/admin/users/onboard", data={"city_id": ids, "per_city": "2"})
    assert response.status_code == 303
    slip_url = response.headers["Location"]
    token = re.search(r"/slips/([A-Za-z0-9_-]+)", slip_url).group(1)
    ready = admin_client.get(slip_url)
    assert ready.status_code == 200 and "下载凭条" in ready.get_data(as_text=True)
    assert ready.headers["Cache-Control"] == "no-store"
    fragment = admin_client.get(slip_url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith("<div id=\"slips-progress\"") and "<html" not in fragment
    assert (_slip_folder(app).stat().st_mode & 0o777) == 0o700

    # The passwords waited for the job in the slips' folder, which the job emptied (the job's own
    # arguments carry none: checked below against the password the slip prints).
    assert [f.suffix for f in _slip_folder(app).iterdir()] == [".pdf"]

    pdf = admin_client.get(f"/admin/users/slips/{token}/download")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.headers["Cache-Control"] == "no-store"
    reader = PdfReader(io.BytesIO(pdf.data))
    assert len(reader.pages) == 4
    texts = [page.extract_text() for page in reader.pages]
    for text, name in zip(texts, ["zigong01", "zigong02", "panzhihua01", "panzhihua02"], strict=True):
        assert name in text and "请妥善保管，阅后销毁" in text and "http://localhost/" in text
    assert "自贡市" in texts[0] and "攀枝花市" in texts[3]
    # Handed out once: the file is gone, the page says so and a second download has nothing.
    assert list(_slip_folder(app).iterdir()) == []
    again = admin_client.get(f"/admin/users/slips/{token}/download")
    assert again.status_code == 303
    assert "已下载或已过期" in admin_client.get(slip_url).get_data(as_text=True)
    assert audit_events(app, "download.credential_slips")

    # The password on a slip opens that account, once (passwords: the slip's text).
    password = re.search(r"一次性密码\s*(\S+)", texts[0]).group(1)
    with app.app_context():
        assert verify_password(db.session.scalar(db.select(User).where(User.username == "zigong01")).password_hash,
                               password)
        _no_password_in_the_trail([password])
    assert not any(password in repr(args) for args in jobs_given) and len(jobs_given) == 1


def test_a_refused_creation_keeps_nothing(app, admin_client, monkeypatch):
    from xkxl_intranet.auth.onboarding import services as onboarding

    with app.app_context():
        ids = [str(_city("510300").id), str(_city("510400").id)]
        users_before = db.session.scalar(db.select(db.func.count()).select_from(User))
    calls = []
    real = onboarding.create_user

    def failing_second_city(actor, **kwargs):
        calls.append(kwargs["username"])
        if kwargs["username"].startswith("panzhihua"):
            raise Refused("用户名“panzhihua01”已被使用")
        return real(actor, **kwargs)

    monkeypatch.setattr(onboarding, "create_user", failing_second_city)
    text = admin_client.post("/admin/users/onboard", data={"city_id": ids, "per_city": "1"}).get_data(as_text=True)
    assert calls == ["zigong01", "panzhihua01"] and "已被使用" in text
    assert 'value="' + ids[0] + '" checked' in text  # the choice is shown again
    bad = admin_client.post("/admin/users/onboard", data={"city_id": ids, "per_city": "x"}).get_data(as_text=True)
    assert "「每个市州账号数」" in bad
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(User)) == users_before
    assert audit_events(app, "account.bulk_created") == []
    assert not _slip_folder(app).exists() or list(_slip_folder(app).iterdir()) == []


def test_only_the_account_administrator_opens_onboarding(city_client, province_client, auditor_client, admin_client):
    for other in (city_client, province_client, auditor_client):
        assert other.get("/admin/users/onboard").status_code == 404
        assert other.post("/admin/users/onboard", data={"per_city": "1", "all_without": "1"}).status_code == 404
    assert admin_client.get("/admin/users/onboard").status_code == 200


def test_another_administrators_slip_is_not_found(app, admin_client):
    folder = _slip_folder(app)
    token = slips.new_token()
    slips.store(folder, 9999, token, b"%PDF-1.7 someone else's")
    assert "已下载或已过期" in admin_client.get(f"/admin/users/slips/{token}").get_data(as_text=True)
    assert admin_client.get(f"/admin/users/slips/{token}/download").status_code == 303
    assert slips.state(folder, 9999, token) == slips.SlipState.READY
    assert admin_client.get("/admin/users/slips/..%2F..%2Fetc").status_code == 404


def test_a_job_whose_accounts_are_gone_marks_the_slip_failed(tmp_path):
    """Its request swept (the worker down past the slip's time) or taken by a first run: nothing to
    print, and the page says the slip failed instead of 正在生成 for ever."""
    token = slips.new_token()
    slips.announce(tmp_path, 1, token)
    slips.put_request(tmp_path, 1, token, [["zigong01", "自贡市", "secret-Pass-1"]])
    assert (tmp_path / f"1-{token}.request").stat().st_mode & 0o777 == 0o600
    assert slips.take_request(tmp_path, 1, token) == [["zigong01", "自贡市", "secret-Pass-1"]]
    assert slips.take_request(tmp_path, 1, token) is None  # read once
    HANDLERS[CREDENTIAL_SLIPS_JOB](str(tmp_path), 1, token, "http://intranet/", False)
    assert slips.state(tmp_path, 1, token) == slips.SlipState.FAILED


def test_an_unread_slip_is_removed_after_its_time(tmp_path):
    slips.store(tmp_path, 1, "a" * 24, b"%PDF")
    assert slips.sweep(tmp_path, 60) == 0
    assert slips.sweep(tmp_path, 60, at=__import__("time").time() + 61) == 1
    assert slips.state(tmp_path, 1, "a" * 24) == slips.SlipState.GONE


def test_a_one_time_password_opens_one_log_in(app, client):
    with app.app_context():
        issued = create_city_accounts(_admin(), city_ids=[_city("510600").id], per_city=1)
        db.session.commit()
    name, password = issued[0].username, issued[0].password
    first = login(client, name, password)
    assert first.status_code == 303 and first.headers["Location"].endswith("/account/password")
    assert client.get("/").headers["Location"].endswith("/account/password")  # nothing else first

    second_browser = app.test_client()
    refused = login(second_browser, name, password)
    assert refused.status_code == 200 and ONE_TIME_PASSWORD_SPENT in refused.get_data(as_text=True)
    assert audit_events(app, "auth.login_refused_one_time")

    changed = client.post("/account/password", data={"current_password": password,
                                                     "new_password": "Furong-Hua-2031",
                                                     "confirm_password": "Furong-Hua-2031"})
    assert changed.status_code == 303 and client.get("/").status_code == 200
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == name))
        assert not user.must_change_password and not user.password_one_time
    assert login(app.test_client(), name, password).status_code == 200  # the old one opens nothing
    assert login(app.test_client(), name, "Furong-Hua-2031").status_code == 303  # the new one, any number of times
    assert login(app.test_client(), name, "Furong-Hua-2031").status_code == 303
