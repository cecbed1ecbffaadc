"""An application's findings as the pages and the rules of reporting see them: the checks,
the duplicates, and which warnings the clerk has acknowledged. Pure."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .checks import CheckResult, SumStatus, sort_findings, sum_statuses
from .duplicates import DuplicateHit, duplicate_findings
from .findings import SYSTEM_NOTE, Finding, Severity


def _what_it_says(message: object) -> str:
    """A message without the note of whose rule it is: that note was added to the messages after
    clerks had acknowledged them, and saying where a rule comes from changes no figure."""
    return str(message or "").removesuffix(f"（{SYSTEM_NOTE}）")


def is_acknowledged(finding: Finding, acknowledgements: Mapping[str, Any]) -> bool:
    """A warning is acknowledged by a note given for it *as it read then*: new figures that
    change the message need a new look. Errors are never acknowledged."""
    if finding.severity is not Severity.WARNING:
        return False
    ack = acknowledgements.get(finding.rule)
    return bool(ack and str(ack.get("note") or "").strip()
                and _what_it_says(ack.get("message")) == _what_it_says(finding.message))


@dataclass
class Evaluation:
    """Everything the pages need to show what is wrong and what still blocks."""

    result: CheckResult
    duplicates: list[DuplicateHit] = field(default_factory=list)
    acknowledged: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, result: CheckResult, duplicates: list[DuplicateHit],
           acknowledged: Mapping[str, Any] | None, document: list[Finding] | None = None) -> Evaluation:
        """``document``: what the uploaded 申报书 disagrees on (``form_compare.document_findings``)."""
        result.findings.extend(duplicate_findings(duplicates))
        result.findings.extend(document or ())
        sort_findings(result.findings, form=result.form)
        return cls(result, list(duplicates), dict(acknowledged or {}))

    @property
    def findings(self) -> list[Finding]:
        return self.result.findings

    @property
    def values(self) -> dict[str, Any]:
        return self.result.values

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.WARNING]

    def is_acknowledged(self, finding: Finding) -> bool:
        return is_acknowledged(finding, self.acknowledged)

    @property
    def open_warnings(self) -> list[Finding]:
        return [f for f in self.warnings if not self.is_acknowledged(f)]

    @property
    def blocking(self) -> list[Finding]:
        """What stops 初审通过 and reporting: every error and every open warning."""
        return self.errors + self.open_warnings

    def by_field(self) -> dict[str, list[Finding]]:
        return self.result.by_field()

    def sums(self) -> dict[str, SumStatus]:
        """The running totals, by rule id, from the values already parsed."""
        return {s.rule_id: s for s in sum_statuses(self.result.values, form=self.result.form)}
