"""A tiny in-process cache for rendered fragments that many people poll (the province's
dashboard table). Generated files (reports, receipts, prints) have their own cache, keyed on
what each depends on: see generated.py.

Entries are keyed by a *stamp* that changes whenever the underlying data does. Every
change that a dashboard shows is written to the audit trail in the same transaction, so
the newest audit event id is such a stamp (``audit.services.audit_stamp``). A time limit
bounds staleness if the database is ever changed outside the application.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class FragmentCache(Generic[T]):
    def __init__(self, max_entries: int = 64, max_age_seconds: float = 60.0):
        self._entries: OrderedDict[Hashable, tuple[float, T]] = OrderedDict()
        self._lock = threading.Lock()
        self.max_entries = max_entries
        self.max_age = max_age_seconds

    def get_or_render(self, key: Hashable, render: Callable[[], T]) -> T:
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and now - hit[0] < self.max_age:
                self._entries.move_to_end(key)
                return hit[1]
        html = render()
        with self._lock:
            self._entries[key] = (now, html)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return html

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
