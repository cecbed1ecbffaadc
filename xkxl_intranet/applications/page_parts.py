"""What packages above applications add to an application's page without applications importing
them: the page sends :data:`detail_shown` and each receiver answers with template context of its
own (``review/panels.py``: an expert's score sheet, or the review's totals for staff)."""
from __future__ import annotations

from typing import Any

from blinker import Namespace

from ..auth.models import User
from .models import Application

_signals = Namespace()

# Sent with the acting user as sender and ``application=``; a receiver returns a dict of context.
detail_shown = _signals.signal("application-detail-shown")


def parts_of_detail(user: User, application: Application) -> dict[str, Any]:
    """The context every receiver of :data:`detail_shown` adds to ``application``'s page."""
    context: dict[str, Any] = {}
    for _receiver, part in detail_shown.send(user, application=application):
        context.update(part)
    return context
