"""Migrating the database at the serving command's start (``XKXL_AUTO_MIGRATE=1``): the one path
of a server that needs Alembic, imported only then (:mod:`.schema` says why)."""
from __future__ import annotations

from flask import Flask
from flask_migrate import Migrate, upgrade

from ..extensions import db
from ..instance_lock import InstanceBusy, exclusive, hold_shared
from .schema import AUTO_MIGRATE_VARIABLE, MIGRATIONS_DIR, SchemaNotAtHead


def migrate_alone(app: Flask) -> None:
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
