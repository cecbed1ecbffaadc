"""An application's declared values as the database keeps them: one JSON document per
application (``application.answers``), each value typed by the round's declaration.

Why a document and not a row per value or a column per field: a round's notice declares its
own fields (domain.declaration.Form), so a new notice must need no migration; an application
is read and written whole (the form, the checks, 附件3, the 申报书), never one value at a time;
and one document per application is one row to lock for the optimistic version check.
Why these five stay columns (:data:`IDENTITY_KEYS`): the system itself names, searches and
de-duplicates applications by them on every list, in SQL, whatever the year's notice; every
notice must declare them (notice.form_checks).

JSON has no decimal and no date: a money or percent figure is kept as its exact text
("1234.50", never a float), a date as ISO text. :func:`to_stored` and :func:`from_stored` are each
other's inverse for every value :func:`.parsing.parse_field` returns.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .indicators import Field, Kind

__all__ = ["IDENTITY_COLUMNS", "IDENTITY_KEYS", "identity_problems", "to_stored", "from_stored",
           "stored_document", "declared_values"]

# The fields the system names applications by, each a column of its own (see the module's doc):
# the kind every notice must declare it as, and the most characters its column holds.
IDENTITY_COLUMNS: dict[str, tuple[Kind, int]] = {
    "enterprise_name": (Kind.TEXT, 200),
    "platform_name": (Kind.TEXT, 200),
    "credit_code": (Kind.CREDIT_CODE, 40),  # a draft may hold a mistyped code; the checks say so
    "contact_name": (Kind.TEXT, 50),
    "contact_mobile": (Kind.MOBILE, 11),
}
IDENTITY_KEYS: tuple[str, ...] = tuple(IDENTITY_COLUMNS)


def identity_problems(fields: Mapping[str, Field]) -> list[tuple[str, str]]:
    """What a notice's fields get wrong about the identity fields, as (key, message in Chinese)."""
    problems = []
    for key, (kind, length) in IDENTITY_COLUMNS.items():
        f = fields.get(key)
        if f is None:
            problems.append((key, f"申报书须声明字段 “{key}”（类型 {kind.value}）：系统按它列出、查找和查重申报"))
        elif f.kind is not kind:
            problems.append((key, f"字段 “{key}” 的类型须为 {kind.value}（当前为 {f.kind.value}）"))
        elif kind is Kind.TEXT and (f.max_length is None or f.max_length > length):
            problems.append((key, f"字段 “{key}” 须写 max_length，且不超过 {length}（数据库中此列最多 {length} 个字）"))
    return problems


def to_stored(f: Field, value: Any) -> Any:
    """A typed value (as parse_field returns it) as the JSON document keeps it; None for blank."""
    if value is None:
        return None
    match f.kind:
        case Kind.MONEY | Kind.PERCENT:
            return format(Decimal(value), "f")
        case Kind.INT:
            return int(value)
        case Kind.BOOL:
            return bool(value)
        case Kind.DATE:
            return value.isoformat() if isinstance(value, dt.date) else str(value)
        case Kind.MULTI:
            return [str(v) for v in value]
        case _:
            return str(value)


def from_stored(f: Field, stored: Any) -> Any:
    """What :func:`to_stored` kept, typed again as parse_field returns it (a list for a multi
    choice, as the columns gave it)."""
    if stored is None:
        return None
    match f.kind:
        case Kind.MONEY | Kind.PERCENT:
            return Decimal(stored)
        case Kind.INT:
            return int(stored)
        case Kind.BOOL:
            return bool(stored)
        case Kind.DATE:
            return dt.date.fromisoformat(stored)
        case Kind.MULTI:
            return list(stored)
        case _:
            return str(stored)


def stored_document(fields: Mapping[str, Field], values: Mapping[str, Any]) -> dict[str, Any]:
    """The document for ``values`` (key -> typed value) of the declared ``fields`` that are not
    identity columns: blank values are left out."""
    document = {}
    for key, f in fields.items():
        if key in IDENTITY_KEYS:
            continue
        stored = to_stored(f, values.get(key))
        if stored is not None:
            document[key] = stored
    return document


def declared_values(fields: Mapping[str, Field], document: Mapping[str, Any] | None,
                    identity: Mapping[str, Any]) -> dict[str, Any]:
    """Every declared field's typed value, in the form's order: identity fields from their
    columns (``identity``), the others from the document; None where blank."""
    document = document or {}
    return {key: identity.get(key) if key in IDENTITY_KEYS else from_stored(f, document.get(key))
            for key, f in fields.items()}
