"""The same enterprise or platform put forward twice in a round: how names and codes compare,
and what the clerk is told. Pure; the queries live in ``applications/evaluation.py``."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from .findings import Finding, Severity


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
    """One warning per kind of duplicate, naming where the other applications are."""
    findings = []
    for kind in DUPLICATE_KINDS:
        same = [h for h in hits if h.kind == kind]
        if not same:
            continue
        where = "、".join(sorted({f"{h.city_name}（{h.enterprise_name or '未填企业名称'}，"
                                 f"{h.platform_name or '未填平台名称'}）" for h in same}))
        what = "统一社会信用代码（组织机构代码）" if kind == "credit_code" else "平台名称"
        findings.append(Finding(kind, Severity.WARNING,
                                f"本批次中{what}与以下申报重复：{where}。同一企业或平台重复推荐，请与相关市（州）核实。",
                                f"duplicate:{kind}"))
    return findings
