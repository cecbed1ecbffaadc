"""The small vocabulary of rules between an application's fields: parts and their whole, ≤, a
fixed maximum, a range, required when, a ratio within a tolerance. Each rule is data (its fields,
its severity, its :class:`~.findings.Source`) and checks parsed values into findings; the rules
themselves are declared in :mod:`.checks`.

Severity follows docs/domain.md: only what cannot be true blocks. A part (其中) larger than its
whole is an error; parts that add up to *less* than their whole may be honest (categories that
overlap or are not exhaustive), so that is a warning to acknowledge. The notice states no
arithmetic rule, so every rule of this kind that is the system's own reading says so in its
message (:func:`.findings.with_source`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .findings import Finding, Severity, Source, with_source
from .indicators import Field

__all__ = [
    "SumRule",
    "LeRule",
    "MaxRule",
    "RangeRule",
    "RequiredIfRule",
    "NearRule",
    "Rule",
    "bind",
    "figure",
]

E, W = Severity.ERROR, Severity.WARNING


class _Declared:
    """What every rule has beside its own data: the fields it names, as the form that holds it
    declares them (:func:`bind`), so that its messages use that form's labels."""

    declared: Mapping[str, Field]

    def _field(self, key: str) -> Field:
        try:
            return self.declared[key]
        except KeyError:
            raise LookupError(f"rule {getattr(self, 'id', '?')} is not bound to a form (domain.declaration)") from None

    def _label(self, key: str) -> str:
        return self._field(key).label

    def _unverifiable(self, rule_id: str, at: str, blanks: tuple[str, ...], source: Source) -> list[Finding]:
        """A rule that needs an optional figure left blank says so instead of silently not
        running. (A blank required figure has its own error; nothing more is said of it here.)"""
        optional = [self._field(k) for k in blanks if not self._field(k).required]
        if not optional:
            return []
        names = "、".join(f.short_label for f in optional)
        message = f"未能核对：{names}未填（「{self._label(at)}」需与之核对，请补填或说明）"
        return [Finding(at, W, with_source(message, source), f"{rule_id}:unverifiable")]


# The fields a rule is bound to: not part of what the rule is (equality, hash, the notice's digest).
def _declared() -> Any:
    return dc_field(default_factory=dict, compare=False, repr=False)


def figure(value: Any) -> str:
    """A figure in a message, exact (Decimal in fixed-point notation)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _strongest(*severities: Severity) -> Severity:
    return E if E in severities else W


class _OneSeverity(_Declared):
    """A rule that is an error or a warning whichever way it is broken."""

    severity: Severity

    @property
    def severity_label(self) -> str:
        return self.severity.label_of_rule


@dataclass(frozen=True)
class SumRule(_Declared):
    """Parts and their whole, shown at the whole. ``over``: the severity when the parts add up to
    more than the whole; ``under``: when they add up to less. A 其中 breakdown is (E, W): its
    parts cannot exceed the whole but may overlap or leave some out; two readings of one whole
    that the form does not call 其中 (公有云 + 私有云) are (W, W)."""

    id: str
    parts: tuple[str, ...]
    total: str
    over: Severity
    under: Severity
    label: str  # short names of the parts, e.g. '自研 + 生态伙伴'
    source: Source = Source.SYSTEM
    declared: Mapping[str, Field] = _declared()

    @property
    def fields(self) -> tuple[str, ...]:
        return (self.total, *self.parts)

    @property
    def severity(self) -> Severity:
        """The strongest it can be (for a rule's one-line description)."""
        return _strongest(self.over, self.under)

    @property
    def severity_label(self) -> str:
        if self.over is self.under:
            return self.over.label_of_rule
        return f"大于为{self.over.label_of_rule}、小于为{self.under.label_of_rule}"

    def severity_of(self, parts_sum: Any, total: Any) -> Severity:
        return self.over if parts_sum > total else self.under

    @property
    def description(self) -> str:
        if self.over is E:
            return f"{self.label} 之和不能大于「{self._label(self.total)}」，小于时请核实"
        return f"{self.label} 之和应等于「{self._label(self.total)}」，不等时请核实"

    def check(self, values: Mapping[str, Any]) -> list[Finding]:
        if any(values.get(k) is None for k in self.fields):
            return []
        parts_sum = sum(values[k] for k in self.parts)
        total = values[self.total]
        if parts_sum == total:
            return []
        severity = self.severity_of(parts_sum, total)
        head = f"{self._label(self.total)}：分项合计 {figure(parts_sum)}"
        if parts_sum > total and severity is E:
            message = f"{head} 大于总数 {figure(total)}（{self.label}），其中各项之和不能大于总数"
        elif self.over is W:
            # two readings of one whole (公有云 + 私有云): either way a question, worded as before
            message = f"{head} ≠ 总数 {figure(total)}（{self.label}），请核实"
        else:
            message = (f"{head} 小于总数 {figure(total)}（{self.label}），"
                       "如分类有交叉或未列全请说明，否则请核实")
        return [Finding(self.total, severity, with_source(message, self.source), self.id)]


@dataclass(frozen=True)
class LeRule(_OneSeverity):
    """small ≤ big. Shown at small."""

    id: str
    small: str
    big: str
    severity: Severity
    source: Source = Source.SYSTEM
    declared: Mapping[str, Field] = _declared()

    @property
    def fields(self) -> tuple[str, ...]:
        return (self.small, self.big)

    @property
    def description(self) -> str:
        # as its message says it: an error cannot be, a warning asks to be checked
        verb = "不能大于" if self.severity is E else "一般不大于"
        return f"「{self._label(self.small)}」{verb}「{self._label(self.big)}」"

    def check(self, values: Mapping[str, Any]) -> list[Finding]:
        small, big = values.get(self.small), values.get(self.big)
        if small is not None and big is None:
            return self._unverifiable(self.id, self.small, (self.big,), self.source)
        if small is None or big is None or small <= big:
            return []
        verb = "不能大于" if self.severity is E else "大于"
        tail = "" if self.severity is E else "，请核实"
        message = (
            f"「{self._label(self.small)}」（{figure(small)}）{verb}「{self._label(self.big)}」（{figure(big)}）{tail}"
        )
        return [Finding(self.small, self.severity, with_source(message, self.source), self.id)]


@dataclass(frozen=True)
class MaxRule(_OneSeverity):
    """key ≤ a fixed maximum (the form's 9 domains; its 22 industries). Shown at key."""

    id: str
    key: str
    maximum: int
    severity: Severity
    reason: str
    source: Source = Source.SYSTEM
    declared: Mapping[str, Field] = _declared()

    @property
    def fields(self) -> tuple[str, ...]:
        return (self.key,)

    @property
    def description(self) -> str:
        verb = "不能超过" if self.severity is E else "一般不超过"
        return f"「{self._label(self.key)}」{verb}{self.maximum}（{self.reason}）"

    def check(self, values: Mapping[str, Any]) -> list[Finding]:
        value = values.get(self.key)
        if value is None or value <= self.maximum:
            return []
        if self.severity is E:
            message = f"「{self._label(self.key)}」不能超过{self.maximum}（{self.reason}），当前为 {figure(value)}"
        else:
            message = (f"「{self._label(self.key)}」为 {figure(value)}，超过{self.maximum}（{self.reason}），"
                       "请核实")
        return [Finding(self.key, self.severity, with_source(message, self.source), self.id)]


@dataclass(frozen=True)
class RangeRule(_OneSeverity):
    """minimum ≤ key ≤ maximum. Shown at key."""

    id: str
    key: str
    minimum: Decimal
    maximum: Decimal
    severity: Severity
    source: Source = Source.SYSTEM
    declared: Mapping[str, Field] = _declared()

    @property
    def fields(self) -> tuple[str, ...]:
        return (self.key,)

    @property
    def description(self) -> str:
        return f"「{self._label(self.key)}」应在{figure(self.minimum)}到{figure(self.maximum)}之间"

    def check(self, values: Mapping[str, Any]) -> list[Finding]:
        value = values.get(self.key)
        if value is None or self.minimum <= value <= self.maximum:
            return []
        message = f"{self.description}，当前为 {figure(value)}"
        return [Finding(self.key, self.severity, with_source(message, self.source), self.id)]


@dataclass(frozen=True)
class RequiredIfRule(_OneSeverity):
    """key must be filled when when_key == when_value. Shown at key. The 申报书 itself asks for
    these (「请注明合作企业名称」), so their source is the notice."""

    id: str
    key: str
    when_key: str
    when_value: Any
    severity: Severity
    source: Source = Source.NOTICE
    declared: Mapping[str, Field] = _declared()

    @property
    def fields(self) -> tuple[str, ...]:
        return (self.key, self.when_key)

    @property
    def description(self) -> str:
        return f"「{self._label(self.when_key)}」为“{self.when_value}”时，须填写「{self._label(self.key)}」"

    def check(self, values: Mapping[str, Any]) -> list[Finding]:
        if values.get(self.when_key) != self.when_value:
            return []
        value = values.get(self.key)
        if value is not None and str(value).strip():
            return []
        return [Finding(self.key, self.severity, with_source(self.description, self.source), self.id)]


@dataclass(frozen=True)
class NearRule(_OneSeverity):
    """key within ``tolerance`` of numerator / denominator × scale (skipped when denominator is 0)."""

    id: str
    key: str
    numerator: str
    denominator: str
    severity: Severity
    tolerance: Decimal = Decimal(1)
    scale: Decimal = Decimal(100)
    source: Source = Source.SYSTEM
    declared: Mapping[str, Field] = _declared()

    @property
    def fields(self) -> tuple[str, ...]:
        return (self.key, self.numerator, self.denominator)

    @property
    def description(self) -> str:
        return (
            f"「{self._label(self.key)}」应与「{self._label(self.numerator)}」÷「{self._label(self.denominator)}」×100"
            f"相差不超过{figure(self.tolerance)}个百分点"
        )

    def check(self, values: Mapping[str, Any]) -> list[Finding]:
        if values.get(self.key) is not None:
            blank = tuple(k for k in (self.numerator, self.denominator) if values.get(k) is None)
            if blank:
                return self._unverifiable(self.id, self.key, blank, self.source)
        if any(values.get(k) is None for k in self.fields):
            return []
        denominator = Decimal(values[self.denominator])
        if denominator == 0:
            return []
        value = Decimal(values[self.key])
        expected = Decimal(values[self.numerator]) / denominator * self.scale
        if abs(value - expected) <= self.tolerance:
            return []
        shown = expected.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        message = (
            f"「{self._label(self.key)}」为 {figure(value)}，按「{self._label(self.numerator)}」÷「{self._label(self.denominator)}」"
            f"计算约为 {figure(shown)}，相差超过{figure(self.tolerance)}个百分点，请核实"
        )
        return [Finding(self.key, self.severity, with_source(message, self.source), self.id)]


Rule = SumRule | LeRule | MaxRule | RangeRule | RequiredIfRule | NearRule


def bind(rule: Rule, fields: Mapping[str, Field]) -> Rule:
    """``rule`` naming its fields as ``fields`` declares them (a KeyError names a missing one)."""
    return dataclasses.replace(rule, declared={k: fields[k] for k in rule.fields})
