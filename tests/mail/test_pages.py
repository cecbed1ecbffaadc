"""The account's e-mail (administrator's form, 我的账号), the 邮件发送 page and 「重新发送」."""
from __future__ import annotations

from sqlalchemy import select

from xkxl_intranet.auth.models import Role, User
from xkxl_intranet.extensions import db
from xkxl_intranet.mail.models import MailMessage, MailState
from xkxl_intranet.mail.outbox import queue_mail
from xkxl_intranet.mail.recipients import city_addresses, role_addresses

from helpers import audit_events, user_by_name


def test_the_administrator_sets_an_account_email_and_the_list_shows_it(app, admin_client):
    refused = admin_client.post("/admin/users/new", data={
        "username": "deyang2", "display_name": "德阳市经信局 李明", "role": "city", "city_id": "5", "phone": "",
        "email": "liming@"})
    assert refused.status_code == 200 and "「电子邮箱」不是有效的电子邮箱地址：“liming@”" in refused.get_data(as_text=True)
    with app.app_context():  # nothing kept
        assert db.session.scalar(select(User).where(User.username == "deyang2")) is None
    created = admin_client.post("/admin/users/new", data={
        "username": "deyang2", "display_name": "德阳市经信局 李明", "role": "city", "city_id": "5", "phone": "",
        "email": " LiMing@Example.gov.cn "})
    assert "只显示这一次" in created.get_data(as_text=True)
    user = user_by_name(app, "deyang2")
    assert user.email == "LiMing@example.gov.cn"  # the domain normalised, as the domain rule does
    assert "LiMing@example.gov.cn" in admin_client.get("/admin/users").get_data(as_text=True)
    edit = admin_client.post(f"/admin/users/{user.id}", data={
        "display_name": "德阳市经信局 李明", "role": "city", "city_id": "5", "phone": "", "email": "", "is_enabled": "y"})
    assert edit.status_code == 303 and user_by_name(app, "deyang2").email is None
    assert any(e.before.get("email") == "LiMing@example.gov.cn" for e in audit_events(app, "account.updated"))


def test_a_clerk_sets_their_own_email_on_my_account(app, city_client):
    page = city_client.get("/account/").get_data(as_text=True)
    assert "电子邮箱" in page and 'action="/account/email"' in page
    bad = city_client.post("/account/email", data={"email": "chengdu at example"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "不是有效的电子邮箱地址" in text and 'value="chengdu at example"' in text
    assert "<html" in text.lower()  # a plain form post gets the whole page back
    ok = city_client.post("/account/email", data={"email": "chengdu@example.gov.cn"})
    assert ok.status_code == 303 and ok.headers["Location"].endswith("/account/#account-email")
    assert user_by_name(app, "chengdu").email == "chengdu@example.gov.cn"
    fragment = city_client.post("/account/email", data={"email": ""}, headers={"HX-Request": "true"})
    text = fragment.get_data(as_text=True)
    assert fragment.status_code == 200
    assert 'id="account-email"' in text and "<html" not in text.lower() and "电子邮箱已清除" in text
    assert user_by_name(app, "chengdu").email is None
    assert city_client.post("/account/email", data={"email": "x@example.gov.cn"}, csrf=False).status_code == 400


def test_a_citys_addresses_are_its_enabled_clerks(app):
    with app.app_context():
        for name, address, enabled in (("chengdu", "chengdu@example.gov.cn", True),
                                       ("mianyang", "mianyang@example.gov.cn", True),
                                       ("province", "wei@example.gov.cn", True)):
            user = db.session.scalar(select(User).where(User.username == name))
            user.email, user.is_enabled = address, enabled
        chengdu = db.session.scalar(select(User).where(User.username == "chengdu"))
        db.session.add(User(username="chengdu2", display_name="x", role="city", city_id=chengdu.city_id,
                            password_hash="x", email="off@example.gov.cn", is_enabled=False))
        db.session.commit()
        assert city_addresses(chengdu.city_id) == ["chengdu@example.gov.cn"]
        assert role_addresses(Role.PROVINCE) == ["wei@example.gov.cn"]


def _failed_mail(app) -> int:
    """A mail the (refusing) server failed, committed."""
    with app.app_context():
        (row,) = queue_mail(["chengdu@example.gov.cn"], "成都市的申报已退回", "请查看退回原因。")
        db.session.commit()
        return row.id


def test_the_outbox_lists_a_failed_mail_and_sends_it_again(mail_app, smtp_server, admin_client):
    smtp_server.refuse_rcpt = "550 5.1.1 Mailbox unavailable"
    message_id = _failed_mail(mail_app)
    page = admin_client.get("/admin/mail/")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "成都市的申报已退回" in text and "chengdu@example.gov.cn" in text
    assert "550 5.1.1 Mailbox unavailable" in text and "重新发送" in text and "请查看退回原因" not in text
    assert "邮件发送" in admin_client.get("/admin/users").get_data(as_text=True)  # in the administrator's menu

    smtp_server.refuse_rcpt = None
    again = admin_client.post(f"/admin/mail/{message_id}/resend")
    assert again.status_code == 303
    with mail_app.app_context():
        row = db.session.get(MailMessage, message_id)
        assert (row.state, row.attempts, row.last_error) == (MailState.SENT.value, 1, None)
    assert [m.subject for m in smtp_server.received] == ["成都市的申报已退回"]
    assert "没有发送失败或待发送的邮件" in admin_client.get("/admin/mail/").get_data(as_text=True)
    (event,) = audit_events(mail_app, "mail.resent")
    assert event.before == {"last_error": "邮件服务器拒绝收件人：550 5.1.1 Mailbox unavailable"}

    # A sent mail is not sent again (htmx: the list comes back with the reason).
    twice = admin_client.post(f"/admin/mail/{message_id}/resend", headers={"HX-Request": "true"})
    text = twice.get_data(as_text=True)
    assert twice.status_code == 200 and 'id="mail-outbox"' in text and "只有发送失败的邮件可以重新发送" in text
    assert len(smtp_server.received) == 1


def test_the_outbox_is_the_administrators_and_the_provinces(mail_app, smtp_server, province_client, city_client,
                                                          viewer_client, auditor_client, expert_client):
    smtp_server.refuse_data = "554 5.6.0 Transaction failed"
    message_id = _failed_mail(mail_app)
    assert "554 5.6.0 Transaction failed" in province_client.get("/admin/mail/").get_data(as_text=True)
    for other in (city_client, viewer_client, auditor_client, expert_client):
        assert other.get("/admin/mail/").status_code == 404
        assert other.post(f"/admin/mail/{message_id}/resend").status_code == 404
    with mail_app.app_context():
        assert db.session.get(MailMessage, message_id).state == MailState.FAILED.value
    assert province_client.post("/admin/mail/999999/resend").status_code == 404


def test_without_a_server_the_outbox_says_so(app, admin_client):
    text = admin_client.get("/admin/mail/").get_data(as_text=True)
    assert "未配置邮件服务器" in text and "没有发送失败或待发送的邮件" in text
