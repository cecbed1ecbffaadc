"""Which tables own bytes in the file storage. ``stored_file`` is this package's; a package
above keeps its own rows for files that belong to no round or city (``announcements``) and
declares its table here, so that a backup takes those files too (``ops/database.py``) and
``verify-files`` checks them instead of listing them as orphans (``files/cli.py``).

Each declared table has the columns ``id``, ``storage_name``, ``size``, ``sha256`` and
``original_name``; it is read by name, so this package imports none above it."""
from __future__ import annotations

FILE_TABLES: dict[str, str] = {"stored_file": "文件"}  # table -> what a row is called in messages


def declare_file_table(table: str, label: str) -> None:
    FILE_TABLES[table] = label
