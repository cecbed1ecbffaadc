"""``flask audit archive``: old rows move into a signed file, the chain goes on from it, and the
daily job does the same after the retention, never deleting when it cannot write."""
from __future__ import annotations

import gzip
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from xkxl_intranet import clock
from xkxl_intranet.audit.archive import archive_expired
from xkxl_intranet.audit.chain import chain_key
from xkxl_intranet.audit.models import AuditArchive, AuditEvent
from xkxl_intranet.audit.services import record
from xkxl_intranet.extensions import db

OLD = datetime(2022, 1, 10, 9, 0, tzinfo=clock.SHANGHAI)


@pytest.fixture(autouse=True)
def _reset_clock():
    yield
    clock.set_now(None)


def _record_on(app, moment: datetime, count: int) -> None:
    clock.set_now(moment)
    with app.app_context():
        for n in range(count):
            record("round.deadline_changed", user=None, summary=f"{moment:%m-%d} 第{n}条")
        db.session.commit()


def _online(app) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(db.select(AuditEvent.seq).order_by(AuditEvent.seq)))


def test_archive_moves_the_old_prefix_into_a_signed_file_and_verify_goes_on(app, tmp_path):
    _record_on(app, OLD, 3)
    _record_on(app, OLD + timedelta(days=30), 2)
    dest = tmp_path / "archive"
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit", "archive", "--before", "2022-01-20", str(dest)])
    assert result.exit_code == 0, result.output
    assert "已归档 3 条审计记录（序号 1–3）" in result.output
    assert _online(app) == [4, 5]
    [file] = dest.glob("*.jsonl.gz")
    lines = [json.loads(line) for line in gzip.decompress(file.read_bytes()).splitlines()]
    assert [line["seq"] for line in lines] == [1, 2, 3]
    signature = json.loads(file.with_name(file.name + ".sig").read_text())
    with app.app_context():
        [kept] = db.session.scalars(db.select(AuditArchive)).all()
        assert (kept.first_seq, kept.last_seq, kept.row_count, kept.last_hash) == (1, 3, 3, lines[-1]["hash"])
        assert signature["hmac_sha256"] == kept.signature
    verified = runner.invoke(args=["audit", "verify", "--archives", str(dest)])
    assert verified.exit_code == 0 and "已核对 5 条审计记录" in verified.output, verified.output
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0  # online only: from the archive's last hash

    data = bytearray(file.read_bytes())
    data[-5] ^= 1
    file.write_bytes(bytes(data))
    broken = runner.invoke(args=["audit", "verify", "--archives", str(dest)])
    assert broken.exit_code == 1 and f"归档文件 {file.name} 的 SHA-256 不符" in broken.output


def test_an_unarchived_row_cannot_be_deleted_but_an_archived_one_could(app, tmp_path):
    _record_on(app, OLD, 2)
    with app.app_context(), pytest.raises(Exception, match="only be deleted once archived"):
        db.session.execute(db.delete(AuditEvent))
        db.session.commit()


def test_the_daily_job_archives_after_the_retention(app, tmp_path):
    _record_on(app, OLD, 2)
    _record_on(app, OLD + timedelta(days=200), 1)
    clock.set_now(OLD + timedelta(days=200))
    with app.app_context():
        done = archive_expired(180, tmp_path / "a", chain_key())
        assert done is not None and (done.first_seq, done.last_seq) == (1, 2)
        assert archive_expired(0, tmp_path / "a", chain_key()) is None  # 0: keep everything online
    assert _online(app) == [3]


def test_an_unwritable_archive_folder_deletes_nothing_and_health_says_degraded(app, client, tmp_path):
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")
    app.config.update(AUDIT_ARCHIVE_DIR=str(blocked / "archive"), AUDIT_RETENTION_DAYS=180)
    _record_on(app, OLD, 2)
    clock.set_now(OLD + timedelta(days=200))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit", "archive", "--before", "2022-06-01", str(blocked / "archive")])
    assert result.exit_code == 1 and "不可写" in result.output
    assert _online(app) == [1, 2]
    app.config["HEALTH_TOKEN"] = "monitor"
    health = client.get("/healthz", headers={"Authorization": "Bearer monitor"})
    assert health.get_json()["status"] == "degraded"
    assert health.get_json()["audit"]["state"] != "ok"


def test_the_archive_folder_defaults_into_the_instance(app):
    assert Path(app.config["AUDIT_ARCHIVE_DIR"]) == Path(app.instance_path) / "audit-archive"
    assert app.config["AUDIT_RETENTION_DAYS"] == 180
