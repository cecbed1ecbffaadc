"""New code never serves on a database that was not upgraded (issue 23, item 1): the serving
command refuses to start with a message naming ``xkxl db upgrade`` (or migrates under the
instance lock with ``XKXL_AUTO_MIGRATE=1``), the deployed unit does not restart it in a loop,
and /healthz says ``error`` with both revisions."""
from __future__ import annotations

import fcntl
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from xkxl_intranet import instance_lock
from xkxl_intranet.extensions import db
from xkxl_intranet.ops.schema import (
    AUTO_MIGRATE_VARIABLE,
    EXIT_SCHEMA_NOT_AT_HEAD,
    MIGRATIONS_DIR,
    SchemaNotAtHead,
    program_migrations,
    schema_state,
)
from xkxl_intranet.ops.schema_guard import guard_schema

from helpers import monitored_health

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def restores_head(app):
    """The database is put back at head after the test: on PostgreSQL the tests share one
    database, which the next test's clean-up (TRUNCATE of every table) expects whole."""
    yield
    with app.app_context():
        state = schema_state(db.engine)
        if not state.known:  # a revision from the future was written over the head
            db.session.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": state.head})
            db.session.commit()
        elif not state.at_head:
            upgrade(directory=MIGRATIONS_DIR)
        db.session.remove()
        db.engine.dispose()


def _one_step_behind(app) -> str:
    """Undo the newest migration, as a database the new release's ``db upgrade`` was skipped on."""
    with app.app_context():
        head = schema_state(db.engine).head
        downgrade(revision="-1")
        db.session.remove()
        db.engine.dispose()
    return head


def _revision(app) -> str | None:
    with app.app_context():
        revision = schema_state(db.engine).revision
        db.engine.dispose()
    return revision


def test_the_serving_command_refuses_a_database_not_upgraded_and_names_the_command(app, restores_head):
    head = _one_step_behind(app)
    behind = _revision(app)
    log = Path(app.instance_path) / "app.log"  # the deployed XKXL_LOG_FILE: the refusal is there too
    env = dict(os.environ, XKXL_INSTANCE_PATH=app.instance_path,
               DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], XKXL_LOG_FILE=str(log))
    env.pop(AUTO_MIGRATE_VARIABLE, None)
    (Path(app.instance_path) / "config.py").write_text('SECRET_KEY = "test-secret-key"\n', encoding="utf-8")
    finished = subprocess.run([sys.executable, "-m", "xkxl_intranet.serving", "--host=127.0.0.1",
                               "--port=0", "--workers=0", "--processes=1"],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert finished.returncode == EXIT_SCHEMA_NOT_AT_HEAD
    assert "xkxl db upgrade" in finished.stderr and "服务未启动" in finished.stderr
    assert behind in finished.stderr and head in finished.stderr
    assert "Serving on" not in finished.stdout + finished.stderr
    logged = log.read_text(encoding="utf-8")
    assert " ERROR " in logged and "xkxl db upgrade" in logged and behind in logged and head in logged
    assert _revision(app) == behind  # nothing was changed on its own


def test_the_deployed_unit_does_not_restart_a_refusal_in_a_loop():
    unit = (ROOT / "deploy" / "xkxl.service").read_text(encoding="utf-8")
    statuses = re.search(r"^RestartPreventExitStatus=(.+)$", unit, flags=re.M)[1].split()
    assert str(EXIT_SCHEMA_NOT_AT_HEAD) in statuses
    assert AUTO_MIGRATE_VARIABLE in (ROOT / "deploy" / "xkxl.env").read_text(encoding="utf-8")


def test_auto_migrate_upgrades_at_start_holding_the_instance_alone(app, restores_head, monkeypatch):
    head = _one_step_behind(app)
    monkeypatch.setenv(AUTO_MIGRATE_VARIABLE, "1")
    try:
        guard_schema(app)
    finally:
        instance_lock.release(app.instance_path)
    assert _revision(app) == head


def test_auto_migrate_waits_for_no_one_while_another_process_uses_the_instance(app, restores_head, monkeypatch):
    _one_step_behind(app)
    behind = _revision(app)
    monkeypatch.setenv(AUTO_MIGRATE_VARIABLE, "1")
    # a backup from cron: another open of the lock file, holding it shared
    fd = os.open(os.path.join(app.instance_path, instance_lock.LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_SH)
    try:
        with pytest.raises(SchemaNotAtHead, match="正被其他进程使用"):
            guard_schema(app)
    finally:
        os.close(fd)
    assert _revision(app) == behind


def test_a_database_newer_than_the_program_is_never_migrated(app, restores_head, monkeypatch):
    with app.app_context():
        db.session.execute(text("UPDATE alembic_version SET version_num = 'f00dfeedbeef'"))
        db.session.commit()
        db.engine.dispose()
    monkeypatch.setenv(AUTO_MIGRATE_VARIABLE, "1")
    with pytest.raises(SchemaNotAtHead, match="本程序不认识"):
        guard_schema(app)
    assert _revision(app) == "f00dfeedbeef"


def test_healthz_says_error_with_both_revisions_on_a_database_not_upgraded(app, restores_head, client):
    head = _one_step_behind(app)
    behind = _revision(app)
    response = client.get("/healthz")
    assert response.status_code == 503 and response.get_json() == {"status": "error"}
    details = monitored_health(app, client).get_json()
    assert details["status"] == "error" and details["database"]["state"] == "schema_not_at_head"
    assert (details["database"]["revision"], details["database"]["head"]) == (behind, head)


def test_the_scripts_read_without_alembic_give_alembic_s_revisions_and_head():
    """ops/schema.py reads the revision lines itself (the serving command does not import
    Alembic at every start): it must agree with Alembic on every revision and on the head."""
    scripts = ScriptDirectory(MIGRATIONS_DIR)
    migrations = program_migrations(MIGRATIONS_DIR)
    assert migrations.revisions == {script.revision for script in scripts.walk_revisions()}
    assert migrations.heads == tuple(scripts.get_heads())


def test_the_serving_command_does_not_import_alembic():
    source = "import sys, xkxl_intranet.serving; print('alembic' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", source], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.stdout.strip() == "False", result.stderr
