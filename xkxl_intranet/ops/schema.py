"""Is the database's schema the one this program was written for?

New code on a database that was not upgraded (a skipped ``xkxl db upgrade``, a restart after
``install.sh``) answered every log-in with a 500 while /healthz said ``ok``. The serving command
checks here before it serves (:func:`guard_schema`: it refuses to start, or migrates when
``XKXL_AUTO_MIGRATE=1``) and /healthz reports the same comparison (``error`` with both
revisions). The database's revision is read from its ``alembic_version`` table; the program's
head from the ``revision`` / ``down_revision`` lines of its migration scripts, read once per
process (the code a process runs does not change under it). Not through Alembic: importing it
and loading every script cost each start of the serving command about 0.15 s
(``benchmarks/bench_startup.py``), and only a start that migrates needs it
(:mod:`.migrating`; ``tests/ops/test_schema_guard.py`` checks that both read the same head).
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

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


_REVISION = re.compile(r"^revision\s*(?::[^=]*)?=\s*['\"](\w+)['\"]", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision\s*(?::[^=]*)?=\s*(.+)$", re.MULTILINE)
_QUOTED = re.compile(r"['\"](\w+)['\"]")


@dataclass(frozen=True)
class Migrations:
    revisions: frozenset[str]
    heads: tuple[str, ...]  # the revisions no other one follows (one, in a linear history)


@functools.cache
def program_migrations(directory: str) -> Migrations:
    """Every revision of the migration scripts in ``directory``, and its heads."""
    revisions: set[str] = set()
    followed: set[str] = set()
    for script in Path(directory, "versions").glob("*.py"):
        source = script.read_text(encoding="utf-8")
        revision, down = _REVISION.search(source), _DOWN_REVISION.search(source)
        if revision is None:
            continue
        revisions.add(revision.group(1))
        if down is not None:
            followed.update(_QUOTED.findall(down.group(1)))
    return Migrations(frozenset(revisions), tuple(sorted(revisions - followed)))


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
        return all(rev in program_migrations(MIGRATIONS_DIR).revisions for rev in self.current)

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
        current: list[str] = []
        if inspect(connection).has_table("alembic_version"):
            current = list(connection.scalars(text("SELECT version_num FROM alembic_version")))
    heads = program_migrations(MIGRATIONS_DIR).heads
    return SchemaState(tuple(sorted(current)), ",".join(heads))
