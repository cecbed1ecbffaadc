"""Each notice also by mail (issue 24): to the account's own address and, for a city, to its 附件3
contact's; sent by the job after the commit, through a real SMTP server in the test process."""
from __future__ import annotations

from xkxl_intranet.announcements.publishing import Draft, publish
from xkxl_intranet.batches import desk
from xkxl_intranet.extensions import db
from xkxl_intranet.mail.models import MailMessage
from xkxl_intranet.rounds.models import City
from xkxl_intranet.rounds.state import batch_for_write, current_round

from helpers import logged_in_client
from reports.helpers import set_batch_state, user


def _return_chengdu(app) -> None:
    set_batch_state(app, "510100", "reported")
    with app.app_context():
        city = db.session.scalar(db.select(City).where(City.code == "510100"))
        desk.return_batch(user("province"), batch_for_write(current_round().id, city.id),
                          "附件3 汇总表未盖章，请补盖后重新上传。")
        db.session.commit()


def test_a_returned_batch_is_mailed_to_the_clerk_and_the_citys_contact(mail_app, smtp_server):
    mail_app.config["PUBLIC_URL"] = "https://xkxl.scjxt.gov.cn/"
    with mail_app.app_context():
        user("chengdu").email = "clerk@chengdu.example.gov.cn"
        db.session.scalar(db.select(City).where(City.code == "510100")).contact_email = "contact@chengdu.example.gov.cn"
        user("mianyang").email = "clerk@mianyang.example.gov.cn"
        db.session.commit()
    _return_chengdu(mail_app)
    received = {tuple(r.rcpt_tos): r for r in smtp_server.received}
    assert set(received) == {("clerk@chengdu.example.gov.cn",), ("contact@chengdu.example.gov.cn",)}
    clerk = received[("clerk@chengdu.example.gov.cn",)]
    assert clerk.subject.startswith("【工业互联网平台申报】") and "退回" in clerk.subject
    assert "附件3 汇总表未盖章" in clerk.body
    sender = clerk.message["From"]  # the system's name, not a bare address a clerk does not know
    assert (sender.addresses[0].display_name, sender.addresses[0].addr_spec) == ("四川省工业互联网平台申报", "xkxl@example.gov.cn")
    assert "查看：https://xkxl.scjxt.gov.cn/notifications/" in clerk.body
    contact = received[("contact@chengdu.example.gov.cn",)]
    assert "请登录系统查看：https://xkxl.scjxt.gov.cn/" in contact.body
    with mail_app.app_context():
        assert {m.state for m in db.session.scalars(db.select(MailMessage))} == {"sent"}


def test_the_contact_who_is_also_the_clerk_gets_one_mail(mail_app, smtp_server):
    with mail_app.app_context():
        user("chengdu").email = "Same@chengdu.example.gov.cn"
        db.session.scalar(db.select(City).where(City.code == "510100")).contact_email = "same@chengdu.example.gov.cn"
        db.session.commit()
    _return_chengdu(mail_app)
    assert [r.rcpt_tos for r in smtp_server.received] == [["Same@chengdu.example.gov.cn"]]


def test_an_announcement_notifies_and_mails_the_chosen_cities_only(mail_app, smtp_server):
    with mail_app.app_context():
        for name in ("chengdu", "mianyang"):
            user(name).email = f"{name}@example.gov.cn"
        chosen = [c.id for c in db.session.scalars(db.select(City).where(City.code == "510100"))]
        publish(user("province"), Draft("关于报送纸质材料的补充通知", "请于3月25日前寄出纸质材料。", False, frozenset(chosen)))
        db.session.commit()
    assert [r.rcpt_tos for r in smtp_server.received] == [["chengdu@example.gov.cn"]]
    assert all("关于报送纸质材料的补充通知" in r.subject and "3月25日" in r.body for r in smtp_server.received)
    page = logged_in_client(mail_app, "chengdu").get("/notifications/").get_data(as_text=True)
    assert "通知公告：关于报送纸质材料的补充通知" in page
    assert "关于报送纸质材料" not in logged_in_client(mail_app, "mianyang").get("/notifications/").get_data(as_text=True)


def test_without_smtp_a_notice_stays_in_the_app_and_nothing_is_queued(app):
    with app.app_context():
        user("chengdu").email = "clerk@chengdu.example.gov.cn"
        db.session.commit()
    _return_chengdu(app)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(MailMessage)) == 0


def test_the_city_sets_its_contacts_email_on_the_summary_page_and_a_bad_one_is_named(app):
    client = logged_in_client(app, "chengdu")
    with app.app_context():
        city_id = db.session.scalar(db.select(City.id).where(City.code == "510100"))
    page = client.get(f"/reports/cities/{city_id}/summary")
    assert page.status_code == 200 and "电子邮箱（选填，不打印" in page.get_data(as_text=True)
    bad = client.post(f"/reports/cities/{city_id}/contact", data={
        "contact_name": "张三", "contact_phone": "13800000000", "contact_email": "不是邮箱"})
    assert bad.status_code == 422 and "电子邮箱" in bad.get_data(as_text=True)
    assert 'value="张三"' in bad.get_data(as_text=True)  # what was typed stays
    good = client.post(f"/reports/cities/{city_id}/contact", data={
        "contact_name": "张三", "contact_phone": "13800000000", "contact_email": "zhang@chengdu.example.gov.cn"})
    assert good.status_code == 303
    with app.app_context():
        assert db.session.get(City, city_id).contact_email == "zhang@chengdu.example.gov.cn"


def test_a_city_that_has_reported_can_still_set_its_contacts_email(app):
    """The walkthrough: once reported, the contact form was gone, and with it the e-mail, which is not
    printed; the printed contact stays as reported."""
    set_batch_state(app, "510100", "reported")
    client = logged_in_client(app, "chengdu")
    with app.app_context():
        city = db.session.scalar(db.select(City).where(City.code == "510100"))
        city_id, name, phone = city.id, city.contact_name, city.contact_phone
    page = client.get(f"/reports/cities/{city_id}/summary").get_data(as_text=True)
    assert 'id="contact-email-form"' in page and "保存邮箱" in page
    saved = client.post(f"/reports/cities/{city_id}/contact", data={
        "contact_name": name, "contact_phone": phone, "contact_email": "contact@chengdu.example.gov.cn"})
    assert saved.status_code == 303
    refused = client.post(f"/reports/cities/{city_id}/contact", data={
        "contact_name": "别人", "contact_phone": phone, "contact_email": "contact@chengdu.example.gov.cn"})
    assert refused.status_code == 422 and "已报送" in refused.get_data(as_text=True)
    with app.app_context():
        city = db.session.get(City, city_id)
        assert (city.contact_name, city.contact_email) == (name, "contact@chengdu.example.gov.cn")


def test_the_home_page_shows_an_announcement_once(app):
    with app.app_context():
        city_id = db.session.scalar(db.select(City.id).where(City.code == "510100"))
        publish(user("province"), Draft("关于补充材料的通知", "正文", False, frozenset({city_id})))
        db.session.commit()
    home = logged_in_client(app, "chengdu").get("/").get_data(as_text=True)
    assert home.count("关于补充材料的通知") == 1 and 'id="home-announcements"' in home
