"""Back to draft: the one rule for an application whose 初审 conclusion no longer stands.

An application that passed 初审 goes back to draft when something it holds now blocks: an edit
(``operations.save_application``) or a new 申报书 whose reading disagrees
(``document.document_changed``). A conclusion withdrawn by the clerk (``set_review`` to 草稿)
clears the same way. A draft shows no 初审意见 or date of a review it no longer has; the audit
trail keeps both.
"""
from __future__ import annotations

from ..audit.services import record
from ..auth.models import User
from ..domain.evaluation import Evaluation
from .models import Application, ReviewState


def no_longer_passes(application: Application, evaluation: Evaluation) -> bool:
    """Whether ``application`` passed 初审 and now has something that blocks it."""
    return application.state is ReviewState.PASSED and bool(evaluation.blocking)


def clear_review(application: Application) -> str:
    """Back to draft without the review it no longer has; returns the comment it had."""
    old_comment = application.review_comment
    application.review_state = ReviewState.DRAFT
    application.review_comment = ""
    application.reviewed_at = None
    application.reviewed_by_id = None
    return old_comment


def record_reverted(user: User | None, application: Application, *, old_comment: str, because: str) -> None:
    """The audit event of a conclusion undone by a change (``user``: None when the worker read a
    new 申报书 and no one acted)."""
    record("application.review_reverted", user=user, object_type="application", object_id=application.id,
           city_id=application.city_id, summary=because,
           before={"review_state": ReviewState.PASSED.label, "review_comment": old_comment},
           after={"review_state": ReviewState.DRAFT.label})
