"""The database half of a backup: a consistent snapshot taken while the app writes, and putting
one back.

SQLite: the online backup API copies the whole database in one step, inside one read
transaction (WAL mode lets writers go on meanwhile), into a plain file; the rows a backup
needs (stored files, counts, revision) are then read from that copy, so they are exactly the
snapshot's. PostgreSQL: a REPEATABLE READ transaction exports its snapshot, ``pg_dump
--snapshot`` dumps exactly that state, and the same transaction reads the rows.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from .. import models as _models  # noqa: F401  (every model, so every table of files/owners.py, declared)
from ..domain.errors import Refused
from ..files.owners import FILE_TABLES

Query = Callable[[str], list]


@dataclass
class DatabaseSnapshot:
    path: Path  # a SQLite file or a pg_dump archive (custom format)
    engine: str  # "sqlite" or "postgresql"
    revision: str | None
    counts: dict[str, int]  # rows per table
    files: list[tuple[str, int, str]]  # (storage name, size, SHA-256) of every stored_file row


def engine_of(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise Refused(f"数据库类型 {backend} 不受支持：备份只支持 SQLite 和 PostgreSQL")
    return backend


def sqlite_file(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise Refused("内存数据库无法备份或恢复：请在 instance/config.py 或 DATABASE_URL 中指定数据库文件")
    return Path(database)


def _tables(query: Query, engine: str) -> list[str]:
    if engine == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    else:
        sql = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    return sorted(row[0] for row in query(sql))


def _read_state(query: Query, engine: str) -> tuple[str | None, dict[str, int], list]:
    tables = _tables(query, engine)
    counts = {t: query(f'SELECT count(*) FROM "{t}"')[0][0] for t in tables if t != "alembic_version"}
    versions = query("SELECT version_num FROM alembic_version") if "alembic_version" in tables else []
    revision = versions[0][0] if versions else None
    # Every table that owns stored bytes (files/owners.py): an announcement's attachments too.
    owners = [t for t in FILE_TABLES if t in tables]
    files = [tuple(row) for row in query(
        " UNION ALL ".join(f'SELECT storage_name, size, sha256 FROM "{t}"' for t in owners)
        + " ORDER BY storage_name")] if owners else []
    return revision, counts, files


# ---- SQLite --------------------------------------------------------------------------------

def _snapshot_sqlite(url: str, work_dir: Path) -> DatabaseSnapshot:
    source_path = sqlite_file(url)
    if not source_path.is_file():
        raise Refused(f"找不到数据库文件 {source_path}")
    target_path = work_dir / "database.sqlite3"
    target_path.unlink(missing_ok=True)  # an earlier attempt's snapshot
    source = sqlite3.connect(source_path, timeout=30)
    target = sqlite3.connect(target_path)
    try:
        source.execute("PRAGMA busy_timeout = 30000")
        source.backup(target)  # one step = one read transaction = one moment
        target.execute("PRAGMA journal_mode = DELETE")  # a single self-contained file
        check = target.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise Refused(f"数据库快照未通过 SQLite 完整性检查：{check}")
        revision, counts, files = _read_state(lambda sql: target.execute(sql).fetchall(), "sqlite")
    finally:
        target.close()
        source.close()
    return DatabaseSnapshot(target_path, "sqlite", revision, counts, files)


def sqlite_has_tables(path: Path) -> bool:
    """Does the file hold data (anything that is not an empty SQLite database counts)?"""
    if not path.is_file() or path.stat().st_size == 0:
        return False
    connection = sqlite3.connect(path)
    try:
        return bool(_tables(lambda sql: connection.execute(sql).fetchall(), "sqlite"))
    except sqlite3.DatabaseError:  # not a database at all: keep it, never overwrite it silently
        return True
    finally:
        connection.close()


def _sealed(query: Query, engine: str) -> bool:
    tables = _tables(query, engine)
    head = query("SELECT max(seq) FROM audit_chain_head")[0][0] if "audit_chain_head" in tables else None
    rows = query("SELECT count(*) FROM audit_event")[0][0] if "audit_event" in tables else 0
    return bool(head) or bool(rows)


def audit_rows_sealed(url: str) -> bool:
    """Was any audit row ever sealed in this database (its chain head past 0, or a row at all)?
    If not, the chain key beside it sealed nothing here: e.g. the one create_app made when an
    empty instance was first opened. Anything unreadable counts as sealed (kept, never lost)."""
    if engine_of(url) == "sqlite":
        path = sqlite_file(url)
        if not path.is_file() or path.stat().st_size == 0:
            return False
        connection = sqlite3.connect(path)
        try:
            return _sealed(lambda sql: connection.execute(sql).fetchall(), "sqlite")
        except sqlite3.DatabaseError:
            return True
        finally:
            connection.close()
    with _pg_connection(url) as connection:
        return _sealed(lambda sql: connection.execute(text(sql)).all(), "postgresql")


SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def install_sqlite(staged: Path, url: str, *, keep_previous_as: Path | None) -> None:
    """Put the restored file in place of the database (the engine must be disposed of). The
    old database moves aside with its WAL under one new name, so it still opens as it was."""
    path = sqlite_file(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in SQLITE_COMPANIONS:
        # A WAL or shared-memory file of the database being replaced must not meet the new one.
        with contextlib.suppress(FileNotFoundError):
            if keep_previous_as is not None:
                os.replace(f"{path}{suffix}", f"{keep_previous_as}{suffix}")
            elif suffix:
                os.unlink(f"{path}{suffix}")
    os.replace(staged, path)
    fsync_dir(path.parent)


# ---- PostgreSQL ----------------------------------------------------------------------------

def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A connection string for pg_dump/pg_restore, the password in the environment (not in ps)."""
    parsed: URL = make_url(url)
    env = dict(os.environ, PGCONNECT_TIMEOUT="15")
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    dsn = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return dsn, env


def run_pg_tool(tool: str, *args: str, url: str) -> None:
    executable = shutil.which(tool)
    if executable is None:
        raise Refused(f"找不到 {tool}：请安装与 PostgreSQL 服务器同一主版本的 postgresql-client")
    dsn, env = _libpq(url)
    result = subprocess.run([executable, *args, f"--dbname={dsn}"], env=env, capture_output=True,
                            text=True, check=False)
    if result.returncode != 0:
        raise Refused(f"{tool} 失败（退出码 {result.returncode}）：{result.stderr.strip()[-2000:]}")


@contextlib.contextmanager
def _pg_connection(url: str, **options) -> Iterator:
    engine = create_engine(url, poolclass=NullPool)
    try:
        try:
            connection = engine.connect()
        except OperationalError as err:
            shown = make_url(url).render_as_string(hide_password=True)
            raise Refused(f"无法连接数据库 {shown}：{str(err.orig).strip()}") from err
        with connection:
            yield connection.execution_options(**options) if options else connection
    finally:
        engine.dispose()


def _snapshot_postgres(url: str, work_dir: Path) -> DatabaseSnapshot:
    path = work_dir / "database.pgdump"
    with _pg_connection(url, isolation_level="REPEATABLE READ") as connection, connection.begin():
        snapshot_id = connection.scalar(text("SELECT pg_export_snapshot()"))
        run_pg_tool("pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                    f"--snapshot={snapshot_id}", f"--file={path}", url=url)
        revision, counts, files = _read_state(lambda sql: connection.execute(text(sql)).all(),
                                              "postgresql")
    return DatabaseSnapshot(path, "postgresql", revision, counts, files)


def postgres_state(url: str) -> tuple[bool, int]:
    """(does the schema hold tables, how many other sessions are connected to the database).
    A session that was just closed may linger for a moment: asked again before it counts."""
    with _pg_connection(url) as connection:
        tables = _tables(lambda sql: connection.execute(text(sql)).all(), "postgresql")
        for _attempt in range(10):
            others = connection.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"))
            if not others:
                break
            time.sleep(0.2)
    return bool(tables), int(others)


def install_postgres(dump: Path, url: str, *, keep_previous_as: Path | None) -> None:
    """Load the dump; with ``keep_previous_as``, dump what is there first and drop it."""
    if keep_previous_as is not None:
        run_pg_tool("pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                    f"--file={keep_previous_as}", url=url)
        with _pg_connection(url) as connection, connection.begin():
            for table in _tables(lambda sql: connection.execute(text(sql)).all(), "postgresql"):
                connection.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
            # The schema's own functions (the audit trail's triggers): the dump creates them again.
            for (function,) in connection.execute(text(
                    "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                    " WHERE n.nspname = 'public' AND p.prokind = 'f'"
                    " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')")).all():
                connection.execute(text(f"DROP FUNCTION IF EXISTS {function} CASCADE"))
    run_pg_tool("pg_restore", "--no-owner", "--no-privileges", "--single-transaction",
                "--exit-on-error", str(dump), url=url)


def take_snapshot(url: str, work_dir: Path) -> DatabaseSnapshot:
    if engine_of(url) == "sqlite":
        return _snapshot_sqlite(url, work_dir)
    return _snapshot_postgres(url, work_dir)


def fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
