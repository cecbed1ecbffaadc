"""Structured results of a check: a finding is one message shown beside one field.

Kept in its own module so that both ``credit_code`` and ``checks`` can use it
without importing each other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

# What a clerk typed, quoted in a message: whole up to ECHO_WHOLE characters, else its first
# ECHO_KEEP and how long it was. 5,000 pasted nines must not make a message 5,000 characters wide.
ECHO_WHOLE = 30
ECHO_KEEP = 20
_FIGURE = re.compile(r"[\d\s,.+\-%]*")


class Source(StrEnum):
    """Where a rule comes from. The notice (its 申报书 and what it asks of the applicant) or the
    system's own reading of the form's words: the notice states no arithmetic rule, so a clerk
    must be able to tell an enterprise which is which."""

    NOTICE = "通知"
    SYSTEM = "系统校核"


# Said in every message of a rule that is the system's own reading (docs/domain.md).
SYSTEM_NOTE = "申报书未规定此项，系系统校核"


def with_source(message: str, source: Source) -> str:
    """A rule's message as the clerk reads it: the system's own readings say so."""
    return f"{message}（{SYSTEM_NOTE}）" if source is Source.SYSTEM else message


class Severity(StrEnum):
    """E blocks reporting; W must be acknowledged by the clerk with a note."""

    ERROR = "E"
    WARNING = "W"

    @property
    def label(self) -> str:
        return "错误" if self is Severity.ERROR else "警告"

    @property
    def label_of_rule(self) -> str:
        """As a rule's description says it: an error blocks, a warning is a question (提示)."""
        return "错误" if self is Severity.ERROR else "提示"


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

    @property
    def anchor(self) -> str:
        """The id the finding has on the application page, for links from other pages."""
        return finding_anchor(self.rule)


def finding_anchor(rule: str) -> str:
    """``duplicate:credit_code`` -> ``finding-duplicate-credit_code``."""
    return "finding-" + rule.replace(":", "-")


def echo(text: object, *, unit: str | None = None) -> str:
    """Input as a message quotes it: ``9999…（共5000位）`` instead of all 5,000 digits.

    ``unit`` counts what was typed: by default ``位`` for a figure (digits, separators, signs)
    and ``个字`` for anything else. The caller adds the quotation marks. Of a long input,
    whitespace runs (a pasted paragraph's line breaks) in the part shown become one space; the
    count is of what was typed."""
    text = str(text)
    if len(text) <= ECHO_WHOLE:
        return text
    if unit is None:
        unit = "位" if _FIGURE.fullmatch(text) else "个字"
    return f"{' '.join(text[:ECHO_KEEP].split())}…（共{len(text)}{unit}）"


class ParseError(ValueError):
    """A value that cannot be read; ``message`` is Chinese and names the field."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.key = key

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message
