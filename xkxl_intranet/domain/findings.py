"""Structured results of a check: a finding is one message shown beside one field.

Kept in its own module so that both ``credit_code`` and ``checks`` can use it
without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """E blocks reporting; W must be acknowledged by the clerk with a note."""

    ERROR = "E"
    WARNING = "W"

    @property
    def label(self) -> str:
        return "错误" if self is Severity.ERROR else "警告"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found in an application.

    ``field`` is the key of the field the message is shown at; ``rule`` is a stable
    identifier of the rule (used to store a clerk's acknowledgement of a warning).
    """

    field: str
    severity: Severity
    message: str
    rule: str

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    @property
    def is_warning(self) -> bool:
        return self.severity is Severity.WARNING


class ParseError(ValueError):
    """A value that cannot be read; ``message`` is Chinese and names the field."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.key = key

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message
