"""A notice as a round keeps it (docs/notice-file.md, "一轮申报保存它的通知"): the canonical form as
JSON data (``round.notice``) beside its digest (``round.notice_digest``). The round keeps what the
file declared when the round was opened; editing or deleting the file later changes neither.

:func:`notice_from_stored` turns the kept data back into a :class:`~.schema.Notice` (for the
round's page and the TOML it offers), through the loader and its checks, and refuses data whose
digest is not the one kept beside it."""
from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from ..domain.indicators import NUMERIC_KINDS
from .dump import canonical_json, canonical_text, text_digest
from .form_checks import RULE_KEYS
from .loader import NoticeError, load_notice, read_notice_data
from .reading import NUMBER
from .schema import Notice
from .shipped import FIRST_NOTICE

__all__ = ["stored_form", "stored_digest", "notice_from_stored", "kept_notice_of", "first_notice"]

_NUMERIC = {k.value for k in NUMERIC_KINDS}


def stored_form(notice: Notice) -> dict[str, Any]:
    """What a round keeps: the canonical form as JSON data (figures and moments as text)."""
    data: dict[str, Any] = json.loads(canonical_json(notice))
    return data


def stored_digest(data: dict[str, Any]) -> str:
    """The digest of kept data: the notice's own digest while the data is what was kept."""
    return text_digest(canonical_text(data))


def _as_file_gives_it(data: dict[str, Any]) -> dict[str, Any]:
    """The kept data with the values JSON holds as text typed again as TOML gives them: the
    deadline a moment, a rule's figures Decimals."""
    typed = copy.deepcopy(data)
    head = typed.get("notice")
    if isinstance(head, dict) and isinstance(head.get("deadline"), str):
        head["deadline"] = datetime.fromisoformat(head["deadline"])
    numeric_fields = {f.get("key") for s in typed.get("section", []) for f in s.get("field", [])
                      if f.get("kind") in _NUMERIC}
    for rule in typed.get("rule", []):
        for name, key in RULE_KEYS.get(rule.get("kind"), {}).items():
            if key.type is NUMBER and isinstance(rule.get(name), str):
                rule[name] = Decimal(rule[name])
        # A condition on a figure (when_value may be text, a figure or true/false).
        if rule.get("when_key") in numeric_fields and isinstance(rule.get("when_value"), str):
            rule["when_value"] = Decimal(rule["when_value"])
    return typed


def notice_from_stored(data: dict[str, Any], digest: str) -> Notice:
    """The notice a round keeps, or :class:`~.loader.NoticeError` when the kept data is not the
    notice its digest names."""
    if stored_digest(data) != digest:
        raise NoticeError([f"数据库中保存的通知与其摘要 {digest} 不符：保存后被改动过"])
    notice = read_notice_data(_as_file_gives_it(data))
    if notice.digest != digest:  # a value JSON could not keep as the file had it
        raise NoticeError([f"数据库中保存的通知不能还原为摘要 {digest} 的通知"])
    return notice


@cache
def first_notice() -> Notice:
    """The 2022 notice file's notice: what a round that keeps none yet runs on (every round opened
    before rounds kept their notice ran on it; ``init-db`` gives each such round a copy)."""
    return load_notice(FIRST_NOTICE)


# Kept notices read back, by digest: a digest names one notice for good, so a process reads each
# round's kept data once (about 30 KB of JSON and the loader's checks), not on every request.
_READ_BACK: dict[str, Notice] = {}
_READ_BACK_LOCK = threading.Lock()


def kept_notice_of(digest: str | None, data: Callable[[], dict[str, Any] | None]) -> Notice:
    """The notice a round keeps under ``digest``; ``data`` gives the kept data when this process
    has not read that digest yet. A round that keeps none runs on :func:`first_notice`; kept data
    that is not its digest's notice raises :class:`~.loader.NoticeError`."""
    if digest is None:
        return first_notice()
    notice = _READ_BACK.get(digest)
    if notice is None:
        kept = data()
        if kept is None:
            raise NoticeError([f"数据库中没有摘要为 {digest} 的通知"])
        notice = notice_from_stored(kept, digest)
        with _READ_BACK_LOCK:
            notice = _READ_BACK.setdefault(digest, notice)
    return notice
