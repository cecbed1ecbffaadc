"""An uploaded indicator template between preview and confirm: parsed once, when it arrives, and
kept as its parsed cells (JSON under a random token that only the clerk's session holds), never
as a workbook to read again. Every preview and the confirmation read that JSON; the workbook
itself is deleted as soon as it has been read. Kept a day at most."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

from flask import current_app

from ..domain.declaration import Form
from ..domain.errors import Refused
from ..files.storage import storage_errors
from .template_reader import MAX_FILE_BYTES, ImportColumn, Problem, ReadResult, read_workbook

IMPORT_TTL_SECONDS = 24 * 3600
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{32}")
TOO_LARGE_MESSAGE = f"文件过大：指标模板不超过 {MAX_FILE_BYTES // 1048576} MB。"
SUFFIX = ".json"


@dataclass
class ParsedImport:
    """What the preview and the confirmation work from: the file's name as the clerk knows it,
    its SHA-256, and what the reader made of it."""

    name: str
    sha256: str
    result: ReadResult


def read_upload(path: Path, *, name: str, expected_year: int | None, form: Form) -> ParsedImport:
    """Read an uploaded workbook once, through ``form`` (the round's 申报书); no storage: for the
    route, through :func:`receive`."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1024 * 1024):
            digest.update(block)
    return ParsedImport(name, digest.hexdigest(), read_workbook(path, form=form, name=name,
                                                                 expected_year=expected_year))


# ---- the folder ------------------------------------------------------------------------------------

def imports_folder() -> Path:
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sweep_imports(max_age: float = IMPORT_TTL_SECONDS) -> int:
    """Delete what was uploaded more than a day ago and never confirmed nor cancelled."""
    removed = 0
    limit = time.time() - max_age
    for path in imports_folder().iterdir():
        try:
            if path.suffix in (SUFFIX, ".xlsx", ".tmp") and path.stat().st_mtime < limit:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            pass
    return removed


def _path(token: str | None) -> Path | None:
    if not token or not TOKEN_PATTERN.fullmatch(token):
        return None
    return imports_folder() / f"{token}{SUFFIX}"


@storage_errors
def receive(stream: BinaryIO, *, name: str, expected_year: int | None, form: Form) -> str:
    """Take an upload (at most :data:`MAX_FILE_BYTES`, else :class:`Refused`), read it once, keep
    what was read under a new token and delete the workbook. Returns the token."""
    sweep_imports()
    token = secrets.token_urlsafe(24)
    upload = imports_folder() / f"{token}.xlsx"  # openpyxl goes by the name's extension
    try:
        size = 0
        with open(upload, "wb") as out:
            while chunk := stream.read(64 * 1024):
                size += len(chunk)
                if size > MAX_FILE_BYTES:
                    raise Refused(TOO_LARGE_MESSAGE)
                out.write(chunk)
        parsed = read_upload(upload, name=name, expected_year=expected_year, form=form)
    finally:
        upload.unlink(missing_ok=True)
    target = _path(token)
    assert target is not None  # a token of ours
    temporary = target.with_suffix(".tmp")
    temporary.write_text(json.dumps(_encode_parsed(parsed), ensure_ascii=False), encoding="utf-8")
    os.replace(temporary, target)
    return token


def load(token: str | None) -> ParsedImport | None:
    """The upload kept under ``token``; ``None`` for a token that is not one of ours (or gone)."""
    path = _path(token)
    if path is None or not path.is_file():
        return None
    try:
        return _decode_parsed(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def discard(token: str | None) -> None:
    path = _path(token)
    if path is not None:
        path.unlink(missing_ok=True)


# ---- JSON, with the types the reader produces -------------------------------------------------------

def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$": "decimal", "v": str(value)}
    if isinstance(value, dt.datetime):
        return {"$": "datetime", "v": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$": "date", "v": value.isoformat()}
    if isinstance(value, tuple):
        return {"$": "tuple", "v": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return value


DECODERS: dict[str, Callable[[Any], Any]] = {
    "decimal": Decimal, "datetime": dt.datetime.fromisoformat, "date": dt.date.fromisoformat,
    "tuple": lambda items: tuple(_decode(v) for v in items)}


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$", "v"} and value["$"] in DECODERS:
            return DECODERS[value["$"]](value["v"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _encode_parsed(parsed: ParsedImport) -> dict:
    result = parsed.result
    return {"name": parsed.name, "sha256": parsed.sha256, "meta": _encode(result.meta),
            "problems": [asdict(p) for p in result.problems],
            "columns": [{"number": c.number, "parsed": _encode(c.parsed), "errors": c.errors,
                         "rows": c.rows, "problems": [asdict(p) for p in c.problems]}
                        for c in result.columns]}


def _decode_parsed(data: dict) -> ParsedImport:
    columns = [ImportColumn(number=c["number"], parsed=_decode(c["parsed"]), errors=c["errors"],
                            rows=c["rows"], problems=[Problem(**p) for p in c["problems"]])
               for c in data["columns"]]
    result = ReadResult(columns=columns, problems=[Problem(**p) for p in data["problems"]],
                        meta=_decode(data["meta"]))
    return ParsedImport(data["name"], data["sha256"], result)
