"""Small URL helpers shared by the blueprints."""
from __future__ import annotations

from urllib.parse import urlsplit


def safe_local_path(target: str | None) -> str | None:
    """Only same-site relative paths, so no form or log-in link can redirect elsewhere."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target
