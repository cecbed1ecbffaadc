"""queue_mail and the send job against a real SMTP server in the test process."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from xkxl_intranet import clock
from xkxl_intranet.auth.models import User
from xkxl_intranet.extensions import db
from xkxl_intranet.jobs.queue import SEND_MAIL_JOB, Jobs
from xkxl_intranet.mail.models import MailMessage, MailState
from xkxl_intranet.mail.outbox import queue_mail
from xkxl_intranet.mail.sending import send_mail_job, sweep_mail
from xkxl_intranet.mail.settings import mail_settings, settings_from_environment

from .conftest import free_port

SUBJECT = "关于退回成都市推荐申报的通知（川经信办函〔2022〕71号）"
BODY = "成都市经济和信息化局：\n您市报送的申报已退回修改，原因：申报书缺少盖章页。\n四川省经济和信息化厅"
AT = datetime(2022, 3, 10, 9, 30, tzinfo=clock.SHANGHAI)


def _rows() -> list[MailMessage]:
    return list(db.session.scalars(select(MailMessage).order_by(MailMessage.id)))


def _phone_changed_with_mail(recipients: list[str]) -> None:
    """An action and the mail it causes, in one unit of work (as a notice will do)."""
    user = db.session.scalar(select(User).where(User.username == "chengdu"))
    user.phone = "028-61880000"
    queue_mail(recipients, SUBJECT, BODY, reference=7)
    db.session.commit()


def test_a_queued_mail_reaches_the_server_in_utf8(mail_app, smtp_server):
    clock.set_now(AT)
    with mail_app.app_context():
        rows = queue_mail(["chengdu@example.gov.cn", "", "无", "CHENGDU@example.gov.cn", "zhang@example.gov.cn"],
                          SUBJECT, BODY, reference=7)
        assert [r.to_address for r in rows] == ["chengdu@example.gov.cn", "zhang@example.gov.cn"]
        assert not smtp_server.received  # nothing leaves before the commit
        db.session.commit()
        kept = _rows()
    assert [r.state for r in kept] == [MailState.SENT.value] * 2
    assert all(r.attempts == 1 and r.sent_at == AT and r.reference == 7 and r.last_error is None for r in kept)
    assert sorted(m.rcpt_tos[0] for m in smtp_server.received) == ["chengdu@example.gov.cn", "zhang@example.gov.cn"]
    first = smtp_server.received[0]
    assert first.mail_from == "xkxl@example.gov.cn"
    assert first.subject == SUBJECT  # RFC 2047 on the wire, the same Chinese once decoded
    assert first.body.replace("\r\n", "\n").strip() == BODY  # CRLF on the wire
    assert first.message.get_content_charset() == "utf-8"


def test_a_rolled_back_action_sends_nothing(mail_app, smtp_server):
    with mail_app.app_context():
        queue_mail(["chengdu@example.gov.cn"], SUBJECT, BODY)
        db.session.rollback()
        assert _rows() == []
    assert smtp_server.received == []


@pytest.mark.parametrize("refusal, expected", [
    ("data", "邮件服务器拒绝：550 5.7.1 Message rejected as spam"),
    ("rcpt", "邮件服务器拒绝收件人：550 5.1.1 No such user"),
])
def test_a_refusing_server_fails_the_mail_not_the_action(mail_app, smtp_server, refusal, expected):
    smtp_server.refuse_data = "550 5.7.1 Message rejected as spam" if refusal == "data" else None
    smtp_server.refuse_rcpt = "550 5.1.1 No such user" if refusal == "rcpt" else None
    with mail_app.app_context():
        _phone_changed_with_mail(["chengdu@example.gov.cn"])
    with mail_app.app_context():  # a fresh session: what was committed
        assert db.session.scalar(select(User.phone).where(User.username == "chengdu")) == "028-61880000"
        (row,) = _rows()
        # Inline (no worker to retry later), the first failure is final and says why.
        assert (row.state, row.attempts, row.last_error) == (MailState.FAILED.value, 1, expected)
        assert row.sent_at is None
    assert smtp_server.received == []


def test_a_server_that_is_not_there_fails_the_mail(app):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_SECURITY="none", SMTP_TIMEOUT_SECONDS=2)
    with app.app_context():
        _phone_changed_with_mail(["chengdu@example.gov.cn"])
        (row,) = _rows()
        assert row.state == MailState.FAILED.value
        assert row.last_error.startswith("无法连接邮件服务器（连接被拒绝：邮件服务器未运行，或地址、端口不对）：ConnectionRefusedError")


def test_without_a_server_nothing_is_kept_or_enqueued(app, monkeypatch):
    enqueued = []
    monkeypatch.setattr(Jobs, "enqueue", lambda self, name, *args, **kw: enqueued.append(name))
    assert app.config["SMTP_HOST"] is None and mail_settings(app.config) is None
    with app.app_context():
        _phone_changed_with_mail(["chengdu@example.gov.cn"])
        assert db.session.scalar(select(func.count()).select_from(MailMessage)) == 0
        assert db.session.scalar(select(User.phone).where(User.username == "chengdu")) == "028-61880000"
    assert enqueued == []
    app.config.update(SMTP_HOST="127.0.0.1")  # a host without a port is still off
    with app.app_context():
        assert queue_mail(["chengdu@example.gov.cn"], SUBJECT, BODY) == []


def test_failures_are_retried_after_1_5_and_30_minutes_then_failed(mail_app, smtp_server, monkeypatch):
    later: list[tuple] = []

    def enqueue_later(self, name, *args, delay_seconds):
        later.append((name, *args, delay_seconds))
        return True  # a worker would run it then: the test runs it itself below

    monkeypatch.setattr(Jobs, "enqueue_later", enqueue_later)
    smtp_server.refuse_data = "451 4.3.0 Try again later"
    clock.set_now(AT)
    with mail_app.app_context():
        (row,) = queue_mail(["chengdu@example.gov.cn"], SUBJECT, BODY)
        db.session.commit()
        message_id = row.id
        for attempt, minutes in ((1, 1), (2, 5), (3, 30)):
            assert later[-1] == (SEND_MAIL_JOB, message_id, attempt, minutes * 60)
            row = db.session.get(MailMessage, message_id, populate_existing=True)
            assert (row.state, row.attempts) == (MailState.QUEUED.value, attempt)
            assert row.last_error == "邮件服务器拒绝：451 4.3.0 Try again later"
            assert row.next_attempt_at == AT + timedelta(minutes=minutes)
            assert send_mail_job(message_id, attempt - 1) is None  # an old job delivered again: no-op
            assert send_mail_job(message_id, attempt) in (MailState.QUEUED.value, MailState.FAILED.value)
        assert len(later) == 3
        row = db.session.get(MailMessage, message_id, populate_existing=True)
        assert (row.state, row.attempts, row.next_attempt_at) == (MailState.FAILED.value, 4, None)


def test_a_retry_that_succeeds_is_sent_once(mail_app, smtp_server, monkeypatch):
    monkeypatch.setattr(Jobs, "enqueue_later", lambda self, name, *args, delay_seconds: True)
    smtp_server.refuse_data = "421 4.3.2 Service not available"
    with mail_app.app_context():
        (row,) = queue_mail(["chengdu@example.gov.cn"], SUBJECT, BODY)
        db.session.commit()
        message_id = row.id
        smtp_server.refuse_data = None
        assert send_mail_job(message_id, 1) == MailState.SENT.value
        assert send_mail_job(message_id, 1) is None  # delivered twice by the queue: sent once
        row = db.session.get(MailMessage, message_id, populate_existing=True)
        assert (row.state, row.attempts, row.last_error) == (MailState.SENT.value, 2, None)
    assert len(smtp_server.received) == 1


def test_the_sweep_enqueues_what_a_lost_queue_left_waiting(mail_app, smtp_server, monkeypatch):
    clock.set_now(AT)
    with mail_app.app_context():
        lost = MailMessage(to_address="chengdu@example.gov.cn", subject=SUBJECT, body=BODY, state="queued",
                           attempts=0, created_at=AT, next_attempt_at=AT)
        fresh = MailMessage(to_address="zhang@example.gov.cn", subject=SUBJECT, body=BODY, state="queued",
                            attempts=0, created_at=AT, next_attempt_at=AT + timedelta(minutes=2))
        db.session.add_all([lost, fresh])
        db.session.commit()
        clock.set_now(AT + timedelta(minutes=3))
        assert sweep_mail() == 1  # the fresh one's job may still be on its way
        assert [r.state for r in _rows()] == [MailState.SENT.value, MailState.QUEUED.value]
    assert [m.rcpt_tos for m in smtp_server.received] == [["chengdu@example.gov.cn"]]


def test_settings_from_the_environment():
    found = settings_from_environment({"XKXL_SMTP_HOST": "mail.sc.gov.cn", "XKXL_SMTP_PORT": "465",
                                       "XKXL_SMTP_USER": "xkxl@sc.gov.cn", "XKXL_SMTP_PASSWORD": "secret"})
    settings = mail_settings(found)
    assert (settings.host, settings.port, settings.security, settings.sender) == (
        "mail.sc.gov.cn", 465, "ssl", "xkxl@sc.gov.cn")
    assert settings.retry_minutes == (1, 5, 30)
    assert mail_settings({**found, "SMTP_PORT": 587}).security == "starttls"
    assert mail_settings(settings_from_environment({"XKXL_SMTP_HOST": "relay", "XKXL_SMTP_PORT": "25",
                                                    "XKXL_SMTP_SECURITY": "none"})).sender == "xkxl-noreply@relay"
    assert mail_settings(settings_from_environment({})) is None
    with pytest.raises(ValueError, match="XKXL_SMTP_SECURITY"):
        settings_from_environment({"XKXL_SMTP_SECURITY": "tls"})
    with pytest.raises(ValueError, match="XKXL_SMTP_PORT"):
        settings_from_environment({"XKXL_SMTP_PORT": "smtp"})
