"""Fixtures of the review tests."""
from __future__ import annotations

import pytest

from .helpers import fill, give, open_review, passed, report


@pytest.fixture
def half(app):
    """Two experts per application, 成都 reported. 甲: both submitted (80, 90); 乙: expert1
    submitted 70, expert2 has not yet. Returns (甲, 乙, 乙's open sheet)."""
    open_review(app, n=2)
    full, partial = passed(app, platform_name="甲平台"), passed(app, platform_name="乙平台")
    report(app, "chengdu")
    fill(app, give(app, full, "expert1"), 8)
    fill(app, give(app, full, "expert2"), 9)
    fill(app, give(app, partial, "expert1"), 7)
    waiting = give(app, partial, "expert2")
    return full, partial, waiting
