"""The outline beside the long application form (issue 25): each section's state as one short
text — 完成, N 处错误, N 条提示, N 项未填, 选填未填 — from one evaluation of what is typed or stored. Pure.

A blank required field is counted apart from the other errors: on a new form every section has
blanks, and an outline that turned red before the clerk typed a word would say nothing useful.
A section of optional fields all left blank is not 完成 (nothing was done there; the walkthrough
read 完成 beside sections never opened) but 选填未填: nothing is missing, and nothing was typed.
"""
from __future__ import annotations

from dataclasses import dataclass

from .checks import is_blank
from .evaluation import Evaluation
from .indicators import Section

__all__ = ["SectionState", "section_states"]


@dataclass(frozen=True)
class SectionState:
    section: Section
    errors: int = 0
    warnings: int = 0  # open ones: an acknowledged warning is dealt with
    blanks: int = 0  # required fields left blank
    filled: int = 0  # fields with a value (or an unreadable text, which is counted as an error)

    @property
    def code(self) -> str:
        return self.section.code

    @property
    def level(self) -> str:
        """The worst of it, for the colour: error, warning, blank or ok."""
        if self.errors:
            return "error"
        if self.warnings:
            return "warning"
        if self.blanks:
            return "blank"
        return "ok" if self.filled else "empty"

    @property
    def text(self) -> str:
        parts = [f"{n} {what}" for n, what in ((self.errors, "处错误"), (self.warnings, "条提示"),
                                               (self.blanks, "项未填")) if n]
        return "，".join(parts) or ("完成" if self.filled else "选填未填")


def section_states(evaluation: Evaluation) -> list[SectionState]:
    """One state per section of the evaluated form, in the form's order."""
    form = evaluation.result.form
    section_of = {key: f.section for key, f in form.fields.items()}
    counts: dict[str, list[int]] = {s.code: [0, 0, 0] for s in form.sections}
    open_warnings = {id(f) for f in evaluation.open_warnings}
    for finding in evaluation.findings:
        code = section_of.get(finding.field)
        if code not in counts:
            continue  # a finding of no field of the form (none today) has no section to count in
        if finding.is_error:
            counts[code][2 if finding.rule.startswith("required:") else 0] += 1
        elif id(finding) in open_warnings:
            counts[code][1] += 1
    values, unreadable = evaluation.result.values, evaluation.result.parse_errors
    filled = {s.code: sum(1 for f in s.fields if f.key in unreadable or not is_blank(values.get(f.key)))
              for s in form.sections}
    return [SectionState(s, errors=counts[s.code][0], warnings=counts[s.code][1], blanks=counts[s.code][2],
                         filled=filled[s.code]) for s in form.sections]
