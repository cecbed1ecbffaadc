"""The two ways a use case says no.

Services raise these; they never know about HTTP. The route layer turns :class:`NotFound`
into the 404 page and :class:`Refused` into the clerk's message (``web.unit_of_work``).
"""
from __future__ import annotations


class Refused(Exception):
    """A step the rules do not allow now; ``str(err)`` is the Chinese sentence for the user.
    ``field``: the name of the form field the refusal is about, where there is one, so that the
    page can show the sentence beside that field."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


class NotFound(Exception):
    """The record does not exist or the acting user may not see it: the same answer for both,
    so that another city's record never confirms that it exists."""
