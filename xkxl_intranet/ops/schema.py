"""Is the database's schema the one this program was written for?

New code on a database that was not upgraded (a skipped ``xkxl db upgrade``, a restart after
``install.sh``) answered every log-in with a 500 while /healthz said ``ok``. The serving command
checks here before it serves (:func:`guard_schema`: it refuses to start, or migrates when
``XKXL_AUTO_MIGRATE=1``) and /healthz reports the same comparison (``error`` with both
revisions). The database's revision is read through Alembic's MigrationContext on the app's
own engine; the program's head comes from its migration scripts, read once per process (the
code a process runs does not change under it).
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import Flask
from flask_migrate import Migrate, upgrade
from sqlalchemy.engine import Engine

from ..extensions import db
from ..instance_lock import InstanceBusy, exclusive, hold_shared

_PACKAGE = Path(__file__).resolve().parent.parent
# An installed wheel (make bundle) carries the migrations inside the package; in the source
# tree they sit beside it.
MIGRATIONS_DIR = str(_PACKAGE / "migrations" if (_PACKAGE / "migrations").is_dir()
                     else _PACKAGE.parent / "migrations")
AUTO_MIGRATE_VARIABLE = "XKXL_AUTO_MIGRATE"
# The serving command's exit status when it refuses to serve on the schema: EX_CONFIG of
# sysexits.h. deploy/xkxl.service lists it in RestartPreventExitStatus, so systemd shows the
# unit failed with the message instead of restarting it every few seconds for ever.
EXIT_SCHEMA_NOT_AT_HEAD = 78


class SchemaNotAtHead(Exception):
    """The database is not at this program's head (and was not, or could not be, migrated)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@functools.cache
def _script(directory: str) -> ScriptDirectory:
    return ScriptDirectory(directory)


@dataclass(frozen=True)
class SchemaState:
    current: tuple[str, ...]  # the database's revisions (none: never migrated)
    head: str  # this program's

    @property
    def at_head(self) -> bool:
        return self.current == (self.head,)

    @property
    def known(self) -> bool:
        """Every revision of the database is one of this program's migrations (an unknown one:
        the database was upgraded by a newer program)."""
        try:
            return all(_script(MIGRATIONS_DIR).get_revision(rev) is not None for rev in self.current)
        except CommandError:
            return False

    @property
    def revision(self) -> str | None:
        return ",".join(self.current) or None

    def message(self) -> str:
        """What the operator reads when the program refuses to serve on this schema."""
        if not self.current:
            return (f"数据库尚未建表（本程序的数据库结构版本为 {self.head}），服务未启动。"
                    "首次安装请运行 sudo xkxl init-db；已有数据的数据库请运行 sudo xkxl db upgrade。"
                    "然后再启动服务（systemctl start xkxl）。")
        if not self.known:
            return (f"数据库结构版本 {self.revision} 本程序不认识（比本程序 {self.head} 新？），服务未启动。"
                    "请安装升级数据库时所用的程序版本或更新的版本；不要降级数据库。")
        return (f"数据库结构版本 {self.revision} 落后于本程序（{self.head}），服务未启动。"
                "请先备份（sudo xkxl backup …），再运行 sudo xkxl db upgrade，然后启动服务"
                f"（systemctl start xkxl）；或在 /etc/xkxl/xkxl.env 中设置 {AUTO_MIGRATE_VARIABLE}=1，"
                "由服务启动时自动升级。")


def schema_state(engine: Engine) -> SchemaState:
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    return SchemaState(tuple(sorted(current)), _script(MIGRATIONS_DIR).get_current_head() or "")


def _auto_migrate_wanted() -> bool:
    return os.environ.get(AUTO_MIGRATE_VARIABLE, "").strip() == "1"


def _migrate(app: Flask) -> None:
    """``db upgrade`` in this process, holding the instance alone: no other server or command
    (a backup from cron, a second server) uses the database while its tables change; if one
    does, :class:`~..instance_lock.InstanceBusy` says which to stop."""
    if "migrate" not in app.extensions:  # the serving app registers no commands
        Migrate(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    try:
        with exclusive(app.instance_path):
            upgrade(directory=MIGRATIONS_DIR)
    except InstanceBusy:
        raise SchemaNotAtHead(
            f"数据库需要升级（{AUTO_MIGRATE_VARIABLE}=1），但实例目录 {app.instance_path} 正被其他进程使用"
            "（另一个服务或 xkxl 命令，如备份）：请等它结束或停止它，再启动服务。") from None
    hold_shared(app.instance_path)


def guard_schema(app: Flask) -> None:
    """Return when the database is at this program's head, after migrating it first when
    ``XKXL_AUTO_MIGRATE=1`` and it is behind; else raise :class:`SchemaNotAtHead`. A database
    newer than the program is never touched."""
    with app.app_context():
        state = schema_state(db.engine)
        if state.at_head:
            return
        if _auto_migrate_wanted() and state.known:
            _migrate(app)
            state = schema_state(db.engine)
            if state.at_head:
                app.logger.warning("the database was upgraded to %s at start (%s=1)", state.head,
                                   AUTO_MIGRATE_VARIABLE)
                return
        db.engine.dispose()
    raise SchemaNotAtHead(state.message())
