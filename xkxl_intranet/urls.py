"""Small URL helpers shared by the blueprints: safe redirects, and ids and page numbers taken
from a URL or a query string (a value no record can have is simply not found, never a 500)."""
from __future__ import annotations

from urllib.parse import urlsplit

from werkzeug.routing import IntegerConverter

# The largest id the database can hold: PostgreSQL's INTEGER (SQLite's is wider). A larger
# number in a URL would overflow the query; it names no record, so it is a 404.
MAX_ID = 2**31 - 1
MAX_PAGE = 100_000


def safe_local_path(target: str | None) -> str | None:
    """Only same-site relative paths, so no form or log-in link can redirect elsewhere."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


class IdConverter(IntegerConverter):
    """``<id:application_id>``: a record id, 1 … :data:`MAX_ID`. Anything else matches no route
    (a 404) instead of reaching the database. Registered as ``id`` by the app factory and used by
    every route that names a record."""

    def __init__(self, map, *args, **kwargs):
        super().__init__(map, min=1, max=MAX_ID)


def record_id(value: str) -> int:
    """``request.args.get("city_id", type=record_id)``: an id, or ``ValueError`` (so the
    argument counts as absent) for anything that cannot be one."""
    number = int(value)
    if not 1 <= number <= MAX_ID:
        raise ValueError(f"not a record id: {value!r}")
    return number


def page_number(value: str) -> int:
    """``request.args.get("page", 1, type=page_number)``: 1 … :data:`MAX_PAGE`; the query clamps
    it to the last page there is."""
    return min(max(int(value), 1), MAX_PAGE)
