"""The same enterprise or platform put forward twice in a round: how names and codes compare,
and what the clerk is told. Pure; the queries live in ``applications/evaluation.py``."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from .findings import Finding, Severity, Source, with_source


def platform_key(name: str | None) -> str | None:
    """Compare platform names ignoring width, case, spaces and punctuation."""
    if not name:
        return None
    text = unicodedata.normalize("NFKC", name).lower()
    key = "".join(ch for ch in text if ch.isalnum())
    return key[:200] or None


def org_code_key(code: str | None) -> str | None:
    """Characters 9-17 of a credit code are the 9-character 组织机构代码; compare on those."""
    if not code:
        return None
    if len(code) == 18:
        return code[8:17]
    if len(code) == 9:
        return code
    return None


@dataclass(frozen=True)
class DuplicateHit:
    """Another application of the round with the same code or platform."""

    kind: str  # "credit_code" | "platform_name"
    other_id: int
    city_name: str
    enterprise_name: str
    platform_name: str
    same_city: bool


DUPLICATE_KINDS = ("credit_code", "platform_name")


def duplicate_findings(hits: list[DuplicateHit]) -> list[Finding]:
    """One warning per kind of duplicate, naming only the cities of the other applications.

    Another city's enterprise, platform and figures are that city's: a clerk learns *that*
    a city put the same enterprise forward (to talk to that city), never what it entered, so
    that guessing codes reveals nothing. The province sees the full pair on its own pages.
    """
    findings = []
    for kind in DUPLICATE_KINDS:
        same = [h for h in hits if h.kind == kind]
        if not same:
            continue
        where = "、".join(sorted({"本市（州）另一份申报" if h.same_city else h.city_name for h in same}))
        what = "统一社会信用代码" if kind == "credit_code" else "平台名称"
        message = f"本批次中{what}与{where}的申报重复。同一企业或平台重复推荐，请与相关市（州）核实。"
        findings.append(Finding(kind, Severity.WARNING, with_source(message, Source.SYSTEM), f"duplicate:{kind}"))
    return findings
