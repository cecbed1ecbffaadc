"""A backup taken while clerks write is a point-in-time snapshot.

A writer thread keeps committing (a new application, a new file, the deletion of an older
file: each its own transaction, logged in order) while ``flask backup`` runs. The backup is
held right after its first database snapshot until the writer has committed several more
transactions, among them deletions of files that snapshot refers to, so the race the backup
must win happens on every run. The archive is restored into an empty instance; the restored
applications and files must be exactly those of one prefix of the writer's log (nothing
half-applied, nothing from after the snapshot, no file missing), every restored application
must equal the live one, and ``verify-files`` must be clean.
"""
from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import select

from xkxl_intranet.applications.materials import delete_file, store_bytes
from xkxl_intranet.applications.models import Application
from xkxl_intranet.extensions import db
from xkxl_intranet.files.models import StoredFile
from xkxl_intranet.ops import backup as backup_module

from .conftest import clerk, file_digests, table_rows
from helpers import SAMPLE_PDF, create_application

WAIT_FOR_OPS = 9  # transactions committed between the first snapshot and the pinning


class Writer(threading.Thread):
    """Commits one small transaction after another and logs each one after its commit."""

    def __init__(self, app, queue: list[str]):
        super().__init__(daemon=True)
        self.app = app
        self.to_delete = list(queue)  # oldest first: the first deletions hit snapshotted files
        self.log: list[tuple[str, object]] = []
        self.stop = threading.Event()
        self.progress = threading.Condition()
        self.error: BaseException | None = None

    def committed(self, op: str, value) -> None:
        with self.progress:
            self.log.append((op, value))
            self.progress.notify_all()

    def wait_for(self, count: int, timeout: float = 60) -> None:
        with self.progress:
            assert self.progress.wait_for(lambda: len(self.log) >= count or self.error, timeout)

    def step(self, n: int) -> None:
        application_id = create_application(self.app, "chengdu", with_form=False)
        self.committed("application", application_id)
        with self.app.app_context():
            user = clerk()
            application = db.session.get(Application, application_id)
            stored = store_bytes(user, SAMPLE_PDF + f"% concurrent {n}\n".encode(), f"材料{n}.pdf",
                                 category="evidence1", application=application)
            db.session.commit()
            self.committed("file+", stored.storage_name)
            self.to_delete.append(stored.storage_name)
            victim = db.session.scalar(select(StoredFile).where(
                StoredFile.storage_name == self.to_delete.pop(0)))
            delete_file(user, victim)
            db.session.commit()
            self.committed("file-", victim.storage_name)
            db.session.remove()

    def run(self) -> None:
        try:
            n = 0
            while not self.stop.is_set() and n < 500:
                n += 1
                self.step(n)
        except BaseException as err:  # reported by the test
            self.error = err
            with self.progress:
                self.progress.notify_all()


def _states(initial_apps: set[int], initial_files: set[str], log):
    """The (applications, files) after each prefix of the log."""
    apps, files = set(initial_apps), set(initial_files)
    yield frozenset(apps), frozenset(files)
    for op, value in log:
        if op == "application":
            apps.add(value)
        elif op == "file+":
            files.add(value)
        else:
            files.discard(value)
        yield frozenset(apps), frozenset(files)


def _apps_and_files(app) -> tuple[set[int], set[str]]:
    with app.app_context():
        apps = set(db.session.scalars(select(Application.id)))
        files = set(db.session.scalars(select(StoredFile.storage_name)))
        db.session.remove()
    return apps, files


def test_backup_while_clerks_write_restores_one_moment(app, restored_app, tmp_path, monkeypatch):
    for _ in range(3):
        application_id = create_application(app, "chengdu")
        with app.app_context():
            for k in range(4):
                store_bytes(clerk(), SAMPLE_PDF + f"% {application_id}-{k}\n".encode(), f"证明{k}.pdf",
                            category="evidence2", application=db.session.get(Application, application_id))
            db.session.commit()
    initial_apps, initial_files = _apps_and_files(app)
    writer = Writer(app, sorted(initial_files))

    real_snapshot = backup_module.take_snapshot
    calls = []

    def snapshot_then_let_clerks_write(url, work):
        snapshot = real_snapshot(url, work)
        calls.append(len(writer.log))
        if len(calls) == 1:  # the race: deletions commit between the snapshot and the pinning
            writer.wait_for(len(writer.log) + WAIT_FOR_OPS)
        return snapshot

    monkeypatch.setattr(backup_module, "take_snapshot", snapshot_then_let_clerks_write)
    archive = tmp_path / "under-load.tar"
    writer.start()
    try:
        writer.wait_for(3)  # writing is under way before the backup starts
        result = app.test_cli_runner().invoke(args=["backup", str(archive)])
        during = len(writer.log)
        writer.wait_for(during + 3)  # and goes on after it
    finally:
        writer.stop.set()
        writer.join(timeout=60)
    assert writer.error is None, writer.error
    assert result.exit_code == 0, result.output
    assert len(calls) >= 2 and "重新快照" in result.output  # a snapshotted file was deleted meanwhile

    outcome = restored_app.test_cli_runner().invoke(args=["restore", str(archive)])
    assert outcome.exit_code == 0, outcome.output
    assert "发现问题 0 个" in outcome.output

    restored_state = tuple(frozenset(s) for s in _apps_and_files(restored_app))
    prefixes = list(_states(initial_apps, initial_files, writer.log))
    assert restored_state in prefixes, "the backup is not the state after any one commit"
    moment = prefixes.index(restored_state)
    assert 3 <= moment < len(writer.log)  # taken after writes began and before they ended
    assert len(writer.log) > during  # ... which went on after the backup

    # Every restored application is the live one, column for column; every file is intact.
    live = {row[0]: row for row in table_rows(app, {"application"})["application"]}
    for row in table_rows(restored_app, {"application"})["application"]:
        assert row == live[row[0]]
    restored_files = file_digests(restored_app)
    with restored_app.app_context():
        recorded = dict(db.session.execute(select(StoredFile.storage_name, StoredFile.sha256)).all())
    assert restored_files == recorded
    assert not any(Path(restored_app.config["UPLOAD_FOLDER"], "tmp").rglob("*.part"))
