"""The 申报书 one round declares: its sections, their fields and the rules between them.

Every rule, check, label and layout of an application is read from a :class:`Form`, never from a
module-level list, so that two rounds with different notices live side by side: 2022's
(:data:`.checks.FORM_2022`, which ``notices/2022.toml`` declares again) and any later year's, read
from its notice file (``notice.loader``) and kept by its round.

A rule names its fields by key; a :class:`Form` binds each of its rules to the fields it declares
(:func:`.rule_kinds.bind`), so that a rule's message uses the label *this* form prints.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from .indicators import Field, Section
from .rule_kinds import Rule, SumRule, bind

__all__ = ["Form"]


# eq=False: a form is itself (hashed by identity, so pages can cache what they derive from it);
# whether two forms declare the same thing is their sections' and rules' equality.
@dataclass(frozen=True, eq=False)
class Form:
    """A round's 申报书: sections in the form's order, their fields, the rules between fields."""

    sections: tuple[Section, ...]
    rules: tuple[Rule, ...]

    def __post_init__(self) -> None:
        fields = {f.key: f for s in self.sections for f in s.fields}
        if len(fields) != sum(len(s.fields) for s in self.sections):
            raise ValueError("duplicate field key")
        if len({r.id for r in self.rules}) != len(self.rules):
            raise ValueError("duplicate rule id")
        unknown = [(r.id, k) for r in self.rules for k in r.fields if k not in fields]
        if unknown:
            raise ValueError(f"rules name undeclared fields: {unknown}")
        # Frozen: the bound rules replace the declared ones once, here.
        object.__setattr__(self, "rules", tuple(bind(r, fields) for r in self.rules))

    @cached_property
    def fields(self) -> dict[str, Field]:
        return {f.key: f for s in self.sections for f in s.fields}

    def anchor_of(self, key: str) -> str:
        """The id a link to ``key`` on the edit form points at: its control (Field.control_id), or
        the field's block ``f-key`` for a key the form does not declare."""
        declared = self.fields.get(key)
        return declared.control_id if declared is not None else f"f-{key}"

    @cached_property
    def sections_by_code(self) -> dict[str, Section]:
        return {s.code: s for s in self.sections}

    @cached_property
    def required_keys(self) -> tuple[str, ...]:
        return tuple(k for k, f in self.fields.items() if f.required)

    @cached_property
    def starred_sections(self) -> tuple[str, ...]:
        return tuple(s.code for s in self.sections if s.starred)

    @cached_property
    def rules_by_id(self) -> dict[str, Rule]:
        return {r.id: r for r in self.rules}

    @cached_property
    def sum_rules(self) -> tuple[SumRule, ...]:
        return tuple(r for r in self.rules if isinstance(r, SumRule))

    @cached_property
    def field_order(self) -> dict[str, int]:
        """Position of each key in the form (findings and changes are listed in this order)."""
        return {key: i for i, key in enumerate(self.fields)}

    def field(self, key: str) -> Field:
        try:
            return self.fields[key]
        except KeyError:
            raise KeyError(f"unknown field key {key!r}") from None

    def rules_for_field(self, key: str) -> list[Rule]:
        """The cross-field rules that involve a field (to show their messages beside it)."""
        return [r for r in self.rules if key in r.fields]

    def keys_of(self, code: str) -> tuple[str, ...]:
        """The keys of one section's fields, or () when the form has no such section."""
        section = self.sections_by_code.get(code)
        return tuple(f.key for f in section.fields) if section else ()
