"""The paper copies a round's notice asks the cities to send (通知 二(三)), for the pages and the
desk that name them: 「申报书纸质版一式三份」 in 2022, 一式两份 in a round whose notice says so.

A round that keeps its notice answers from it as read back once per process
(``Round.declaration``); data kept without a digest is read straight from its ``[paper]`` table,
as the loader would have accepted it."""
from __future__ import annotations

from typing import Any

from ..notice.schema import PaperCopies, chinese_count
from ..notice.stored import first_notice
from .models import Round

__all__ = ["paper_copies", "first_notice_paper"]


def first_notice_paper() -> PaperCopies:
    """The 2022 notice's paper copies: what every round opened before rounds kept their notice
    ran on (``init-db`` fills such a round with that notice; until it has, this stands in)."""
    return first_notice().paper


def _copies(value: Any) -> int | None:
    """A count of copies as the loader accepts it (an integer 1 to 10), else ``None``."""
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    try:
        chinese_count(value)
    except ValueError:
        return None
    return value


def paper_copies(round_: Round | None) -> PaperCopies:
    """What ``round_``'s notice asks for on paper; the 2022 notice's for a round that keeps no
    notice (or no round at all), and for kept data whose ``[paper]`` is not what the loader
    would have accepted (the kept form only ever holds a loaded notice's)."""
    if round_ is not None and round_.notice_digest is not None:
        # The notice the round keeps, read once per process (Round.declaration): reading the
        # deferred JSON here would load ~30 KB on every home page.
        return round_.declaration.paper
    data = round_.notice if round_ is not None else None
    paper = data.get("paper") if isinstance(data, dict) else None
    if not isinstance(paper, dict):
        return first_notice_paper()
    form_copies, summary_copies = _copies(paper.get("form_copies")), _copies(paper.get("summary_copies"))
    form_disc = paper.get("form_disc")
    if form_copies is None or summary_copies is None or not isinstance(form_disc, bool):
        return first_notice_paper()
    return PaperCopies(form_copies=form_copies, form_disc=form_disc, summary_copies=summary_copies)
