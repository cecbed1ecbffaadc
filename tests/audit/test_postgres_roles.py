"""deploy/postgres-roles.sql: the application's PostgreSQL account reads and appends the audit
trail but can neither change nor delete a row (make test-postgres)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from xkxl_intranet import normalise_database_url
from xkxl_intranet.audit.services import record
from xkxl_intranet.extensions import db

# The documented address (postgresql://…), read as the program reads DATABASE_URL.
POSTGRES_URL = normalise_database_url(os.environ.get("TEST_DATABASE_URL", ""))

ROLES_SQL = Path(__file__).resolve().parents[2] / "deploy" / "postgres-roles.sql"

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL only (make test-postgres)")


def test_the_app_role_cannot_update_or_delete_audit_rows(app):
    with app.app_context():
        record("round.deadline_changed", user=None, summary="before the roles")
        db.session.commit()
        db.session.connection().exec_driver_sql(ROLES_SQL.read_text(encoding="utf-8"))
        db.session.commit()
    as_app = sa.create_engine(sa.engine.make_url(POSTGRES_URL).set(username="xkxl_app", password=None),
                              poolclass=NullPool)
    try:
        with as_app.begin() as connection:  # it reads and appends
            assert connection.scalar(sa.text("SELECT count(*) FROM audit_event")) == 1
            connection.execute(sa.text("INSERT INTO audit_event (at, username, ip, action, object_type, object_id,"
                                       " summary, seq) VALUES (now(), '', '', 'x.y', '', '', '', 999)"))
        for statement in ("UPDATE audit_event SET summary = 'changed'", "DELETE FROM audit_event",
                          "TRUNCATE audit_event", "INSERT INTO audit_archive (at, first_seq, last_seq, last_hash,"
                          " row_count, file_name, sha256, signature) VALUES (now(), 1, 999, '', 0, '', '', '')"):
            with as_app.begin() as connection, pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                connection.execute(sa.text(statement))
    finally:
        as_app.dispose()

