"""Fixtures for operations: a second, empty instance to restore into (a SQLite file, or a fresh
PostgreSQL database on the test server), and ways to compare two instances row by row."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from xkxl_intranet import create_app, normalise_database_url
from xkxl_intranet.auth.models import User
from xkxl_intranet.extensions import db
from xkxl_intranet.files.models import StoredFile

from helpers import CSRFClient

# The documented address (postgresql://…), read as the program reads DATABASE_URL.
POSTGRES_URL = normalise_database_url(os.environ.get("TEST_DATABASE_URL", ""))


def instance_config(instance: Path, database_uri: str) -> dict:
    return {"TESTING": True, "SECRET_KEY": "test-secret-key", "INSTANCE_PATH": str(instance),
            "SQLALCHEMY_DATABASE_URI": database_uri, "UPLOAD_FOLDER": str(instance / "uploads"),
            "JOBS_INLINE": True}  # as the suite's other apps: no worker process in these tests


def _admin_engine():
    return create_engine(make_url(POSTGRES_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")


@pytest.fixture
def empty_database_url(tmp_path):
    """Where a restore goes: a file that does not exist yet, or a new empty PostgreSQL database."""
    if not POSTGRES_URL:
        (tmp_path / "restored").mkdir(exist_ok=True)
        yield f"sqlite:///{tmp_path / 'restored' / 'xkxl.sqlite3'}"
        return
    name = f"xkxl_restore_{os.getpid()}"
    engine = _admin_engine()
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def app_on_empty_instance(instance: Path, database_url: str):
    """Fixture body: an app on the empty instance folder ``instance`` and database, closed after."""
    instance.mkdir(exist_ok=True)
    application = create_app(instance_config(instance, database_url))
    application.test_client_class = CSRFClient
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def restored_app(tmp_path, empty_database_url):
    """An app on an empty instance folder (``tmp_path/restored``)."""
    yield from app_on_empty_instance(tmp_path / "restored", empty_database_url)


def table_rows(app, tables=None) -> dict[str, list[tuple]]:
    """Every row of every table (or of ``tables``), in primary-key order."""
    with app.app_context():
        found = {}
        for table in db.metadata.sorted_tables:
            if tables is None or table.name in tables:
                statement = select(table).order_by(*table.primary_key.columns)
                found[table.name] = [tuple(row) for row in db.session.execute(statement)]
        db.session.remove()
        return found


def file_digests(app) -> dict[str, str]:
    """storage name -> SHA-256 of the bytes on disk, for every stored_file row."""
    root = Path(app.config["UPLOAD_FOLDER"])
    with app.app_context():
        names = db.session.scalars(select(StoredFile.storage_name)).all()
        db.session.remove()
    return {name: hashlib.sha256((root / name[:2] / name[2:]).read_bytes()).hexdigest()
            for name in names}


def clerk(username: str = "chengdu") -> User:
    return db.session.scalar(select(User).where(User.username == username))
