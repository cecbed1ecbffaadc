"""The serving command's guard (:func:`guard_schema`): serve only on a schema at this program's
head, migrating first when ``XKXL_AUTO_MIGRATE=1``. Alembic is imported only by a start that
migrates (:mod:`.migrating`; :mod:`.schema` says why)."""
from __future__ import annotations

import os

from flask import Flask

from ..extensions import db
from .schema import AUTO_MIGRATE_VARIABLE, SchemaNotAtHead, schema_state


def _auto_migrate_wanted() -> bool:
    return os.environ.get(AUTO_MIGRATE_VARIABLE, "").strip() == "1"


def guard_schema(app: Flask) -> None:
    """Return when the database is at this program's head, after migrating it first when
    ``XKXL_AUTO_MIGRATE=1`` and it is behind; else raise :class:`SchemaNotAtHead`. A database
    newer than the program is never touched."""
    with app.app_context():
        state = schema_state(db.engine)
        if state.at_head:
            return
        if _auto_migrate_wanted() and state.known:
            from .migrating import migrate_alone  # Alembic, only for a start that migrates
            migrate_alone(app)
            state = schema_state(db.engine)
            if state.at_head:
                app.logger.warning("the database was upgraded to %s at start (%s=1)", state.head,
                                   AUTO_MIGRATE_VARIABLE)
                return
        db.engine.dispose()
    raise SchemaNotAtHead(state.message())
