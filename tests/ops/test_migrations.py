"""Upgrades keep last year's data: a database created at the first migration, with data in it,
goes through every later migration one at a time (on SQLite, whose batch mode copies tables,
and on PostgreSQL), and after each step every row written so far is still there, column for
column. Each revision that creates a table also gets a row in it, so a migration added later
is covered without touching this test. At the head the application reads the old data, the
old account logs in, and ``init-db --demo`` (what ``make run`` does) keeps every application.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import downgrade, upgrade

from xkxl_intranet.applications.evaluation import recount_all
from xkxl_intranet.applications.models import Application
from xkxl_intranet.auth import services as auth_services
from xkxl_intranet.auth.passwords import hash_password
from xkxl_intranet.extensions import db
from xkxl_intranet.notice.loader import load_notice
from xkxl_intranet.notice.shipped import FIRST_NOTICE
from xkxl_intranet.rounds.models import City, Round

from .conftest import app_on_empty_instance, table_rows
from helpers import SAMPLE_PDF, TEST_PASSWORD, login

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations" / "versions"


def _migration(name: str):
    spec = importlib.util.spec_from_file_location(name, MIGRATIONS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The migration that moved 2022's declared fields out of their columns into application_answers:
# a moved column's value must be in the document, typed as the document keeps it.
ANSWERS = _migration("5d2e7a4c9b13_application_answers")
MOVED = {key: kind for key, kind, _length in ANSWERS.MOVED}

MOMENT = datetime(2022, 3, 10, 1, 30, tzinfo=UTC)  # 09:30 in Chengdu, during last year's round
FORM_SHA = hashlib.sha256(SAMPLE_PDF).hexdigest()
STORAGE_NAME = "ab" + "c" * 30
ATTACHMENT_STORAGE_NAME = "cd" + "e" * 30  # an announcement's attachment (issue 24)

# Realistic rows for the tables of the existing revisions; any other column is filled in.
ROWS = {
    "city": [{"code": "510100", "name": "成都市", "pinyin": "chengdu", "sort_order": 1,
              "department_name": "成都市经济和信息化局", "contact_name": "张伟",
              "contact_phone": "028-61881234"}],
    "round": [{"year": 2022, "title": "2022年跨行业跨领域工业互联网平台", "notice_number": "川经信办函〔2022〕71号",
               "deadline": datetime(2022, 3, 21, 9, 0, tzinfo=UTC), "is_current": True, "is_demo": False}],
    "user_account": [{"username": "chengdu", "display_name": "成都市经济和信息化局", "role": "city",
                      "is_enabled": True, "must_change_password": False, "failed_logins": 0,
                      "session_version": 1}],
    "audit_event": [{"username": "chengdu", "ip": "10.20.3.41", "action": "auth.login",
                     "object_type": "user", "object_id": "1", "summary": "登录",
                     "before": None, "after": {"note": "去年的审计记录"}}],
    "application": [{"enterprise_name": "四川去年科技有限公司", "platform_name": "去年的工业互联网平台",
                     "credit_code": "91510100MA61234567", "review_state": "draft", "version": 1,
                     "position": 1, "acknowledgements": {}, "total_assets": 123456}],  # 万元, in hundredths
    "stored_file": [{"category": "form", "original_name": "去年的申报书.pdf", "storage_name": STORAGE_NAME,
                     "size": len(SAMPLE_PDF), "sha256": FORM_SHA, "kind": "pdf", "mime": "application/pdf"}],
    "announcement_attachment": [{"original_name": "通知.pdf", "storage_name": ATTACHMENT_STORAGE_NAME,
                                 "size": len(SAMPLE_PDF), "sha256": FORM_SHA, "kind": "pdf",
                                 "mime": "application/pdf"}],
}


def _value(column: sa.Column, engine: str):
    """A value for a NOT NULL column the test does not name."""
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.DateTime):
        return MOMENT if engine == "postgresql" else MOMENT.replace(tzinfo=None)
    if isinstance(kind, sa.Date):
        return date(2022, 3, 10)
    if isinstance(kind, sa.JSON):
        return {}
    if isinstance(kind, sa.Integer | sa.Numeric):
        return 0
    return ""


def _row(table: sa.Table, connection, engine: str) -> dict:
    row = {}
    for column in table.columns:
        if column.primary_key and isinstance(column.type, sa.Integer) and not column.foreign_keys:
            continue
        if column.foreign_keys:
            target = next(iter(column.foreign_keys)).column
            row[column.name] = connection.scalar(sa.select(sa.column(target.name))
                                                 .select_from(sa.table(target.table.name)).limit(1))
        elif not column.nullable:
            row[column.name] = _value(column, engine)
    for given in ROWS.get(table.name, [{}]):
        for key, value in given.items():
            if isinstance(value, datetime) and engine == "sqlite":
                value = value.replace(tzinfo=None)
            row[key] = value
    return row


def _insert_into_new_tables(known: set[str], engine: str) -> None:
    metadata = sa.MetaData()
    with db.engine.begin() as connection:
        metadata.reflect(bind=connection)
        for table in metadata.sorted_tables:
            filled = connection.scalar(sa.select(sa.func.count()).select_from(table))  # by the migration itself
            if table.name not in known and table.name != "alembic_version" and not filled:
                row = _row(table, connection, engine)
                if table.name == "user_account":
                    row["password_hash"] = hash_password(TEST_PASSWORD)
                connection.execute(table.insert().values(**row))


def _snapshot() -> dict[str, tuple[list[str], list[tuple]]]:
    """Every table's columns and rows, as the database holds them now."""
    metadata = sa.MetaData()
    found = {}
    with db.engine.connect() as connection:
        metadata.reflect(bind=connection)
        for table in metadata.sorted_tables:
            columns = [c.name for c in table.columns]
            rows = connection.execute(sa.select(table).order_by(*table.primary_key.columns)).all()
            found[table.name] = (columns, [tuple(r) for r in rows])
    return found


def _document(stored) -> dict:
    return stored if isinstance(stored, dict) else json.loads(stored) if stored else {}


# Columns a migration drops on purpose because they never held anything the app reads (their rows
# lose nothing): user_account.failed_logins, written 0 since issue 22 counts failures in the trail.
RETIRED = {"user_account": {"failed_logins"}}


def _still_there(before: dict, after: dict) -> list[str]:
    """Rows of ``before`` missing or changed in ``after`` (on the columns ``before`` had)."""
    lost = []
    for table, (columns, rows) in before.items():
        if table == "alembic_version":
            continue
        if table not in after:
            lost.append(f"table {table} dropped")
            continue
        now_columns, now_rows = after[table]
        dropped = set(columns) - set(now_columns) - RETIRED.get(table, set())
        moved = dropped if table == "application" and "application_answers" in after and dropped <= set(MOVED) else set()
        if dropped - moved:
            lost.append(f"{table}: columns {sorted(dropped - moved)} dropped")
            continue
        kept = [c for c in columns if c not in moved and c in now_columns]
        positions = [now_columns.index(c) for c in kept]
        if [tuple(r[p] for p in positions) for r in now_rows] != [tuple(r[columns.index(c)] for c in kept)
                                                                   for r in rows]:
            lost.append(f"{table}: rows changed")
        if moved:
            answer_columns, answer_rows = after["application_answers"]
            by_id = {r[answer_columns.index("application_id")]: r[answer_columns.index("document")] for r in answer_rows}
            documents = [_document(by_id.get(r[columns.index("id")])) for r in rows]
            expected = [{key: ANSWERS._to_answer(MOVED[key], r[columns.index(key)]) for key in moved
                         if r[columns.index(key)] is not None} for r in rows]
            if [{k: d.get(k) for k in e} for d, e in zip(documents, expected, strict=True)] != expected:
                lost.append(f"{table}: moved values not in answers")
    return lost


@pytest.fixture
def old_app(tmp_path, empty_database_url):
    yield from app_on_empty_instance(tmp_path / "last-year", empty_database_url)


def test_a_database_from_the_first_migration_survives_every_later_one(old_app, monkeypatch):
    demo_hash = hash_password("Demo-pass-2022")  # 22 demo accounts need not be hashed one by one
    monkeypatch.setattr(auth_services, "hash_password", lambda password: demo_hash)
    engine = sa.engine.make_url(old_app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name()
    with old_app.app_context():
        config = current_app.extensions["migrate"]
        script = ScriptDirectory.from_config(config.migrate.get_config(config.directory))
        revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
        assert len(revisions) >= 4 and revisions[-1] == script.get_current_head()
        state: dict = {}
        for revision in revisions:
            upgrade(revision=revision)
            now = _snapshot()
            assert _still_there(state, now) == [], f"upgrade to {revision} lost data"
            _insert_into_new_tables(set(state), engine)
            state = _snapshot()
        assert {name for name, (_c, rows) in state.items() if name != "alembic_version" and not rows} == set()

        # The application itself reads last year's rows, in Beijing time.
        round_ = db.session.scalar(sa.select(Round))
        assert round_.deadline.isoformat() == "2022-03-21T17:00:00+08:00"
        # the city's columns of later revisions are not there yet
        old = db.session.scalar(sa.select(Application).options(sa.orm.joinedload(Application.city).defer(City.contact_email)))
        assert (old.enterprise_name, old.city.name, old.values()["total_assets"]) == (
            "四川去年科技有限公司", "成都市", Decimal("1234.56"))
        db.session.remove()

    uploads = Path(old_app.config["UPLOAD_FOLDER"]) / STORAGE_NAME[:2]
    uploads.mkdir(parents=True)
    (uploads / STORAGE_NAME[2:]).write_bytes(SAMPLE_PDF)
    (uploads.parent / ATTACHMENT_STORAGE_NAME[:2]).mkdir(parents=True, exist_ok=True)
    (uploads.parent / ATTACHMENT_STORAGE_NAME[:2] / ATTACHMENT_STORAGE_NAME[2:]).write_bytes(SAMPLE_PDF)
    with old_app.app_context():  # the counts as this version's rules make them (init-db recounts)
        recount_all()
        db.session.commit()
    applications = table_rows(old_app, {"application", "stored_file"})

    runner = old_app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0  # at the head: nothing to do
    result = runner.invoke(args=["init-db", "--demo"])  # what make run does
    assert result.exit_code == 0, result.output
    assert "新增市（州）20 个，新增批次 0 个" in result.output  # 成都市 and the 2022 round were kept
    # last year's round keeps the notice it ran on, the shipped 2022 file's
    assert "已为 1 个批次保存通知（notices/2022.toml" in result.output
    with old_app.app_context():
        round_ = db.session.scalar(sa.select(Round))
        assert round_.notice_digest == load_notice(FIRST_NOTICE).digest
        assert round_.notice["notice"]["notice_number"] == "川经信办函〔2022〕71号"
        db.session.remove()
    assert table_rows(old_app, {"application", "stored_file"}) == applications
    verified = runner.invoke(args=["verify-files"])
    assert verified.exit_code == 0 and "共 2 条文件记录，2 个完好" in verified.output, verified.output
    response = login(old_app.test_client(), "chengdu")
    assert response.status_code in (302, 303) and "/login" not in response.headers["Location"]


def test_the_declared_values_move_into_answers_and_back(old_app):
    """Every kind of 2022 value survives the move into application_answers exactly (money as
    its exact text, a date as ISO text, choices as a list), and a downgrade puts it back."""
    typed = {"total_assets": 123456, "roi": -350, "employees": 4321, "founded_on": date(2010, 3, 15),
             "sec_data": True, "technologies": ["5G", "大数据"], "address": "成都市高新区天府大道"}
    with old_app.app_context():
        upgrade(revision=ANSWERS.down_revision)
        metadata = sa.MetaData()
        with db.engine.begin() as connection:
            metadata.reflect(bind=connection)
            engine = connection.dialect.name
            for name in ("city", "round"):
                connection.execute(metadata.tables[name].insert().values(
                    **_row(metadata.tables[name], connection, engine)))
            row = _row(metadata.tables["application"], connection, engine) | typed
            connection.execute(metadata.tables["application"].insert().values(**row))
        upgrade(revision=ANSWERS.revision)
        with db.engine.connect() as connection:
            answers = _document(connection.scalar(sa.text("SELECT document FROM application_answers")))
        assert {k: answers.get(k) for k in typed} == {
            "total_assets": "1234.56", "roi": "-3.50", "employees": 4321, "founded_on": "2010-03-15",
            "sec_data": True, "technologies": ["5G", "大数据"], "address": "成都市高新区天府大道"}
        old = db.session.scalar(sa.select(Application).options(sa.orm.joinedload(Application.city).defer(City.contact_email)))
        values = old.values()
        assert (values["total_assets"], values["roi"], values["founded_on"], values["technologies"]) == (
            Decimal("1234.56"), Decimal("-3.50"), date(2010, 3, 15), ["5G", "大数据"])
        db.session.remove()

        downgrade(revision=ANSWERS.down_revision)
        with db.engine.connect() as connection:
            back = connection.execute(sa.text(
                "SELECT total_assets, roi, employees, founded_on, sec_data, address FROM application")).one()
        assert (back.total_assets, back.roi, back.employees, str(back.founded_on), bool(back.sec_data),
                back.address) == (123456, -350, 4321, "2010-03-15", True, "成都市高新区天府大道")
