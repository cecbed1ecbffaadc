"""Fixtures: an app on a temporary instance folder, clients, a logged-in client per role.

The schema is migrated once per session (Alembic, as in production) into a template
database; each test then gets a fresh copy (SQLite) or truncated tables (PostgreSQL,
when TEST_DATABASE_URL is set by ``make test-postgres``).
"""
from __future__ import annotations

import hashlib
import os
import shutil
import threading
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import text

from xkxl_intranet import clock, create_app
from xkxl_intranet.extensions import db

TEST_PASSWORD = "Test-pass-2022"
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")

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


def _seed(app) -> None:
    from xkxl_intranet.auth.models import User
    from xkxl_intranet.auth.passwords import hash_password
    from xkxl_intranet.rounds.models import City
    from xkxl_intranet.rounds.services import ensure_reference_data

    ensure_reference_data()
    password_hash = _password_hash(hash_password)
    cities = {c.code: c for c in db.session.scalars(db.select(City))}
    for username, display_name, role, city_code in TEST_USERS:
        db.session.add(User(username=username, display_name=display_name, role=role,
                            city=cities.get(city_code), password_hash=password_hash,
                            must_change_password=False, is_enabled=True, failed_logins=0,
                            session_version=1))
    for code, (name, phone) in {"510100": ("张伟", "028-61881234"),
                                "510700": ("王芳", "0816-2345678")}.items():
        cities[code].contact_name, cities[code].contact_phone = name, phone
    db.session.commit()


_HASH_CACHE: dict[str, str] = {}


def _password_hash(hash_password) -> str:
    if "h" not in _HASH_CACHE:
        _HASH_CACHE["h"] = hash_password(TEST_PASSWORD)
    return _HASH_CACHE["h"]


def _config(instance: Path, database_uri: str) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "INSTANCE_PATH": str(instance),
        "SQLALCHEMY_DATABASE_URI": database_uri,
        "UPLOAD_FOLDER": str(instance / "uploads"),
        "SERVER_NAME": None,
    }


@pytest.fixture(scope="session")
def template_database(tmp_path_factory) -> str:
    """Migrate once: a SQLite file to copy per test, or the PostgreSQL schema."""
    from flask_migrate import upgrade

    if POSTGRES_URL:
        instance = tmp_path_factory.mktemp("pg-instance")
        app = create_app(_config(instance, POSTGRES_URL))
        with app.app_context():
            db.session.execute(text("DROP SCHEMA public CASCADE"))
            db.session.execute(text("CREATE SCHEMA public"))
            db.session.commit()
            upgrade()
            db.engine.dispose()
        return POSTGRES_URL
    instance = tmp_path_factory.mktemp("template")
    path = instance / "template.sqlite3"
    app = create_app(_config(instance, f"sqlite:///{path}"))
    with app.app_context():
        upgrade()
        _seed(app)
        db.engine.dispose()
    return str(path)


def _truncate_all(app) -> None:
    tables = [t.name for t in db.metadata.sorted_tables]
    db.session.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables)
                            + " RESTART IDENTITY CASCADE"))
    db.session.commit()


@pytest.fixture
def app(tmp_path, template_database):
    instance = tmp_path / "instance"
    instance.mkdir()
    if POSTGRES_URL:
        application = create_app(_config(instance, POSTGRES_URL))
        with application.app_context():
            _truncate_all(application)
            _seed(application)
    else:
        target = instance / "xkxl.sqlite3"
        shutil.copyfile(template_database, target)
        application = create_app(_config(instance, f"sqlite:///{target}"))
    application.test_client_class = CSRFClient
    yield application
    clock.set_now(None)
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app) -> CSRFClient:
    return app.test_client()


def audit_events(app, action: str) -> list:
    """The audit events of one action, oldest first, usable outside the app context."""
    from xkxl_intranet.audit.models import AuditEvent

    with app.app_context():
        rows = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == action)
                                  .order_by(AuditEvent.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def user_by_name(app, username: str):
    from xkxl_intranet.auth.models import User

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


@pytest.fixture
def province_client(app):
    return logged_in_client(app, "province")


@pytest.fixture
def viewer_client(app):
    return logged_in_client(app, "viewer")


@pytest.fixture
def city_client(app):
    """A clerk of 成都市."""
    return logged_in_client(app, "chengdu")


@pytest.fixture
def other_city_client(app):
    """A clerk of 绵阳市, to prove that one city never sees another's records."""
    return logged_in_client(app, "mianyang")


# ---- browser tests -------------------------------------------------------------------

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage"]


@pytest.fixture
def live_server(app):
    """The app served by werkzeug on a free local port in a background thread."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    yield server
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not os.path.exists(executable):
        pytest.fail(f"浏览器测试需要 {executable}（make test 会安装 Debian 的 chromium）")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, headless=True,
                                              args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai",
                                  base_url=live_server.url)
    context.set_default_timeout(10_000)
    page_ = context.new_page()
    yield page_
    context.close()


def browser_login(page, username: str, password: str = TEST_PASSWORD) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


# ---- applications --------------------------------------------------------------------

_BODIES = iter(f"MA6{n:04d}{chr(65 + n % 26) if chr(65 + n % 26) not in 'IOSVZ' else 'A'}" for n in range(1, 10_000))


def application_values(city_code: str = "510100", *, scale: int = 2, **overrides) -> dict:
    """A complete, valid application as a clerk would post it (every rule passes)."""
    from xkxl_intranet.applications.demo import figures
    from xkxl_intranet.domain.credit_code import make_credit_code

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
    from flask_login import login_user

    from xkxl_intranet.applications.models import Application
    from xkxl_intranet.auth.models import User
    from xkxl_intranet.files.services import store_bytes

    with app.test_request_context("/"):
        application = db.session.get(Application, application_id)
        clerk = db.session.scalar(db.select(User).where(User.city_id == application.city_id,
                                                        User.role == "city"))
        login_user(clerk)
        stored = store_bytes(data or SAMPLE_PDF + f"% {application_id}\n".encode(), name,
                             category="form", application=application)
        db.session.commit()
        return stored.sha256


def create_application(app, username: str = "chengdu", *, with_form: bool = True, **overrides) -> int:
    """Create an application through the service, as the given clerk would (with a 申报书)."""
    from flask_login import login_user

    from xkxl_intranet.applications.services import save_application
    from xkxl_intranet.auth.models import User
    from xkxl_intranet.rounds.services import current_round

    with app.test_request_context("/"):
        user = db.session.scalar(db.select(User).where(User.username == username))
        login_user(user)
        values = application_values(user.city.code, **overrides)
        application, evaluation = save_application(None, values, city=user.city, round_=current_round(),
                                                   expected_version=None)
        assert application is not None, evaluation.result.parse_errors
        db.session.commit()
        application_id = application.id
    if with_form:
        attach_form(app, application_id)
    return application_id


def get_application(app, application_id: int):
    from xkxl_intranet.applications.models import Application

    with app.app_context():
        application = db.session.get(Application, application_id)
        if application is not None:
            application.city  # load before leaving the session
            db.session.expunge(application)
        return application
