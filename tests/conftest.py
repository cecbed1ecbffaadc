"""Fixtures: an app on a temporary instance folder, clients, a logged-in client per role.

The schema is migrated once per session (Alembic, as in production) into a template
database; each test then gets a fresh copy (SQLite) or truncated tables (PostgreSQL,
when TEST_DATABASE_URL is set by ``make test-postgres``).
"""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from xkxl_intranet import (
    clock,
    create_app,
    job_handlers,  # noqa: F401  (jobs run inline in the test process)
    normalise_database_url,
)
from xkxl_intranet.auth.models import User
from xkxl_intranet.auth.passwords import hash_password
from xkxl_intranet.batches.settings import ensure_reference_data
from xkxl_intranet.extensions import db
from xkxl_intranet.rounds.models import City

from helpers import TEST_PASSWORD, TEST_USERS, CSRFClient, logged_in_client

# The documented address (postgresql://…), read as the program reads DATABASE_URL.
POSTGRES_URL = normalise_database_url(os.environ.get("TEST_DATABASE_URL", ""))


def _seed(app) -> None:
    ensure_reference_data()
    password_hash = _password_hash(hash_password)
    cities = {c.code: c for c in db.session.scalars(db.select(City))}
    for username, display_name, role, city_code in TEST_USERS:
        db.session.add(User(username=username, display_name=display_name, role=role,
                            city=cities.get(city_code), password_hash=password_hash,
                            must_change_password=False, is_enabled=True,
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
        # A job runs right after the commit that asks for it, in this process (tests that run a
        # real worker or the limited child say so: tests/jobs/).
        "JOBS_INLINE": True,
        "JOBS_ISOLATE": False,
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


@pytest.fixture
def province_client(app):
    return logged_in_client(app, "province")


@pytest.fixture
def admin_client(app):
    """The 系统管理员: accounts and the system's settings, nothing of the business."""
    return logged_in_client(app, "admin")


@pytest.fixture
def auditor_client(app):
    """The 安全审计员: reads and exports the whole audit trail, nothing else."""
    return logged_in_client(app, "auditor")


@pytest.fixture
def viewer_client(app):
    return logged_in_client(app, "viewer")


@pytest.fixture
def city_client(app):
    """A clerk of 成都市."""
    return logged_in_client(app, "chengdu")


@pytest.fixture
def expert_client(app):
    """A review expert (评审专家), who sees only the applications assigned to them."""
    return logged_in_client(app, "expert1")


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



