"""Helpers the tests share: log-ins, audit events, and applications made through the services
as a clerk would make them. Fixtures live in ``conftest.py``; helpers live here, imported as
``from helpers import ...``."""
from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager

from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import event

from xkxl_intranet import clock
from xkxl_intranet.applications.demo import figures
from xkxl_intranet.applications.models import Application
from xkxl_intranet.applications.operations import save_application
from xkxl_intranet.audit.models import AuditEvent
from xkxl_intranet.auth.models import User
from xkxl_intranet.domain.credit_code import make_credit_code
from xkxl_intranet.extensions import db
from xkxl_intranet.files.operations import store_bytes
from xkxl_intranet.rounds.state import current_round

TEST_PASSWORD = "Test-pass-2022"

# username, display name, role, city code
TEST_USERS = (
    ("province", "省厅大数据与信息化处", "province", None),
    ("viewer", "厅领导", "viewer", None),
    ("chengdu", "成都市经济和信息化局", "city", "510100"),
    ("mianyang", "绵阳市经济和信息化局", "city", "510700"),
)


class CSRFClient(FlaskClient):
    """A test client that sends a valid CSRF token with every unsafe request,
    unless called with ``csrf=False`` (to prove that such requests are refused)."""

    def csrf_token(self) -> str:
        with self.session_transaction() as sess:
            raw = sess.get("csrf_token")
            if raw is None:
                raw = hashlib.sha1(os.urandom(64)).hexdigest()
                sess["csrf_token"] = raw
        serializer = URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token")
        return serializer.dumps(raw)

    def open(self, *args, **kwargs):
        send_token = kwargs.pop("csrf", True)
        method = (kwargs.get("method") or "GET").upper()
        if send_token and method in {"POST", "PUT", "PATCH", "DELETE"}:
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRFToken", self.csrf_token())
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)


def audit_events(app, action: str) -> list:
    """The audit events of one action, oldest first, usable outside the app context."""
    with app.app_context():
        rows = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == action)
                                  .order_by(AuditEvent.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


@contextmanager
def sql_statements(app) -> Iterator[list[str]]:
    """The SQL statements the block runs (through the app's engine), one string each."""
    seen: list[str] = []
    with app.app_context():
        engine = db.engine

    def remember(conn, cursor, statement, *args):
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", remember)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", remember)


def user_by_name(app, username: str):
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == username))
        db.session.expunge(user)
        return user


def logged_in_client(app, username: str) -> CSRFClient:
    user = user_by_name(app, username)
    test_client = app.test_client()
    with test_client.session_transaction() as sess:
        sess["_user_id"] = user.get_id()
        sess["_fresh"] = True
        sess["seen_at"] = clock.now().timestamp()
    return test_client


def login(test_client, username: str, password: str = TEST_PASSWORD, **kwargs):
    return test_client.post("/login", data={"username": username, "password": password}, **kwargs)


def browser_login(page, username: str, password: str = TEST_PASSWORD) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()



_BODIES = iter(f"MA6{n:04d}{chr(65 + n % 26) if chr(65 + n % 26) not in 'IOSVZ' else 'A'}" for n in range(1, 10_000))


def application_values(city_code: str = "510100", *, scale: int = 2, **overrides) -> dict:
    """A complete, valid application as a clerk would post it (every rule passes)."""
    body = next(_BODIES)
    values = {key: (value if isinstance(value, list) else str(value))
              for key, value in figures(scale).items()}
    values.update({
        "enterprise_name": f"四川测试科技有限公司{body[-4:]}", "credit_code": make_credit_code(city_code, body),
        "address": "成都市高新区天府大道1号", "contact_name": "张三", "contact_mobile": "13800001234",
        "contact_phone": "028-86264036", "contact_email": "zhangsan@example.com",
        "platform_name": f"测试工业互联网平台{body[-4:]}", "builder": "四川测试科技有限公司",
    })
    values.update({k: (v if isinstance(v, list) else str(v)) for k, v in overrides.items()})
    return values


SAMPLE_PDF = (b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
              b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")


def attach_form(app, application_id: int, name: str = "申报书.pdf", data: bytes | None = None) -> str:
    """Store a 申报书 for the application (as its city's clerk); returns its SHA-256."""
    with app.app_context():
        application = db.session.get(Application, application_id)
        clerk = db.session.scalar(db.select(User).where(User.city_id == application.city_id,
                                                        User.role == "city"))
        stored = store_bytes(clerk, data or SAMPLE_PDF + f"% {application_id}\n".encode(), name,
                             category="form", application=application)
        db.session.commit()
        return stored.sha256


def create_application(app, username: str = "chengdu", *, with_form: bool = True, **overrides) -> int:
    """Create an application through the service, as the given clerk would (with a 申报书)."""
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == username))
        values = application_values(user.city.code, **overrides)
        application, evaluation = save_application(user, None, values, city=user.city, round_=current_round(),
                                                   expected_version=None)
        assert application is not None, evaluation.result.parse_errors
        db.session.commit()
        application_id = application.id
    if with_form:
        attach_form(app, application_id)
    return application_id


def get_application(app, application_id: int):
    with app.app_context():
        application = db.session.get(Application, application_id)
        if application is not None:
            _ = application.city  # load before leaving the session
            db.session.expunge(application)
        return application
