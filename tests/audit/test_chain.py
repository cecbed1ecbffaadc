"""The trail is a hash chain: ``flask audit verify`` walks it and names the first broken row."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from xkxl_intranet.audit.chain import ensure_key_file
from xkxl_intranet.audit.models import AuditChainHead, AuditEvent
from xkxl_intranet.audit.services import record
from xkxl_intranet.extensions import db

from helpers import login


def _events(app, count: int) -> list[int]:
    with app.app_context():
        for n in range(count):
            record("round.deadline_changed", user=None, summary=f"第{n}条", after={"n": n, "t": (1, 2)})
        db.session.commit()
        return list(db.session.scalars(db.select(AuditEvent.id).order_by(AuditEvent.seq)))


def _verify(app, *args: str):
    return app.test_cli_runner().invoke(args=["audit", "verify", *args])


def _raw(app, sql: str, **params) -> None:
    """What someone with the database's owner account could do, behind the application's back."""
    with app.app_context():
        connection = db.engine.raw_connection()
        try:
            cursor = connection.cursor()
            if db.engine.dialect.name == "sqlite":
                cursor.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
                cursor.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
            else:
                cursor.execute("ALTER TABLE audit_event DISABLE TRIGGER USER")
            cursor.execute(str(text(sql).bindparams(**params).compile(
                dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})))
            if db.engine.dialect.name != "sqlite":
                cursor.execute("ALTER TABLE audit_event ENABLE TRIGGER USER")
            connection.commit()
        finally:
            connection.close()


def test_rows_get_gap_free_places_chained_to_the_one_before(app, client):
    login(client, "chengdu")
    ids = _events(app, 3)
    with app.app_context():
        rows = db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.seq)).all()
        assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
        assert all(r.prev_hash == p.hash for p, r in zip(rows, rows[1:], strict=False))
        assert rows[0].prev_hash == "" and len({r.hash for r in rows}) == len(rows)
        head = db.session.get(AuditChainHead, 1)
        assert (head.seq, head.hash) == (rows[-1].seq, rows[-1].hash)
    result = _verify(app)
    assert result.exit_code == 0, result.output
    assert len(ids) == 4  # the log-in too
    assert f"已核对 {len(ids)} 条审计记录" in result.output
    assert f"链头：序号 {len(ids)}，散列 {rows[-1].hash}" in result.output


def test_a_changed_summary_is_named(app):
    ids = _events(app, 4)
    _raw(app, "UPDATE audit_event SET summary = '改过的' WHERE id = :id", id=ids[2])
    result = _verify(app)
    assert result.exit_code == 1
    assert f"序号 3，记录 id {ids[2]}" in result.output and "散列不符（记录内容被修改）" in result.output
    assert "链头" not in result.output  # no head to write down from a broken chain


def test_a_deleted_row_is_a_gap(app):
    ids = _events(app, 4)
    _raw(app, "DELETE FROM audit_event WHERE id = :id", id=ids[1])
    result = _verify(app)
    assert result.exit_code == 1
    assert "缺号：序号 2 不存在（被删除）" in result.output and f"记录 id {ids[2]}" in result.output


def test_a_deleted_newest_row_is_named_by_the_head(app):
    ids = _events(app, 3)
    _raw(app, "DELETE FROM audit_event WHERE id = :id", id=ids[-1])
    result = _verify(app)
    assert result.exit_code == 1 and "链头记录为序号 3，而最后一条记录为序号 2" in result.output


def test_a_row_rewritten_with_a_recomputed_plain_hash_is_caught(app):
    """Without the key a forger cannot recompute the hash: a SHA-256 of the fields will not do."""
    ids = _events(app, 2)
    _raw(app, "UPDATE audit_event SET prev_hash = 'x', hash = 'y' WHERE id = :id", id=ids[1])
    result = _verify(app)
    assert result.exit_code == 1 and "前一散列不符" in result.output


@pytest.mark.parametrize("statement", ["UPDATE audit_event SET summary = 'x'", "DELETE FROM audit_event"])
def test_the_database_refuses_to_change_or_delete_a_row(app, statement):
    _events(app, 1)
    with app.app_context():
        with pytest.raises(Exception, match="audit_event rows can"):
            db.session.execute(text(statement))
        db.session.rollback()


def test_concurrent_writers_do_not_fork_the_chain(app):
    """Writers in several threads (each its own connection) append one after another."""
    failures: list[BaseException] = []

    def write(n: int) -> None:
        try:
            with app.app_context():
                for i in range(15):
                    record("round.deadline_changed", user=None, summary=f"{n}-{i}")
                    db.session.execute(db.select(AuditEvent.id).limit(1))  # a read before the write
                    db.session.commit()
        except BaseException as err:  # noqa: BLE001  (reported below, in the test's thread)
            failures.append(err)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    result = _verify(app)
    assert result.exit_code == 0, result.output
    assert "已核对 60 条审计记录" in result.output


def test_the_key_made_by_writers_at_once_is_one_whole_key(tmp_path):
    """The first writers of a new instance make the key together: each reads a whole key, the same
    one (written under a name of its own, then linked into place)."""
    path = tmp_path / "instance" / "audit-chain.key"
    keys: list[bytes] = []
    failures: list[BaseException] = []

    def make() -> None:
        try:
            keys.append(ensure_key_file(path))
        except BaseException as err:  # noqa: BLE001  (reported below)
            failures.append(err)

    threads = [threading.Thread(target=make) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == [] and len(set(keys)) == 1 and len(keys[0]) == 32
    assert [p.name for p in path.parent.iterdir()] == ["audit-chain.key"]  # no stray temporary file
