"""The kinds of file the system keeps, per application and per city.

Which files an application of a round is asked for, and which of them it must have, is the
round's notice's (``[[file]]``, :class:`~..notice.schema.RequestedFile`):
:func:`application_categories`. The constants below are 2022's, which the stored files' keys
still name (their labels in archives, the audit trail and reports).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..notice.schema import RequestedFile
from .upload_rules import APPLICATION_FORM_KINDS, EVIDENCE_KINDS, SCAN_KINDS


@dataclass(frozen=True)
class Category:
    key: str
    label: str  # shown on pages and used as the folder name in ZIP archives
    kinds: frozenset[str]
    versioned: bool  # one current file; a new upload supersedes it and the old one is kept
    per_city: bool = False  # belongs to a city and round rather than to an application
    required: bool = False


FORM = Category("form", "申报书", APPLICATION_FORM_KINDS, versioned=True, required=True)
EVIDENCE = tuple(
    Category(f"evidence{n}", f"附件{n} {title}", EVIDENCE_KINDS, versioned=False)
    for n, title in enumerate(("工业设备清单", "工业模型清单", "工业APP清单", "服务企业清单",
                               "解决方案清单", "财务报表等其他材料"), start=1))
SUMMARY_SCAN = Category("summary_scan", "附件3 汇总表（盖章扫描件）", SCAN_KINDS, versioned=True,
                        per_city=True)

APPLICATION_CATEGORIES: tuple[Category, ...] = (FORM, *EVIDENCE)
CATEGORIES: dict[str, Category] = {c.key: c for c in (*APPLICATION_CATEGORIES, SUMMARY_SCAN)}
SUMMARY_FOLDER = "汇总表"  # 市州/汇总表/原文件名 in the archives


def category(key: str) -> Category | None:
    return CATEGORIES.get(key)


def requested_category(requested: RequestedFile) -> Category:
    """The category of a kind of file a notice asks for."""
    return Category(requested.key, requested.label, requested.kinds, requested.versioned, requested.per_city,
                    requested.required)


def round_categories(requested: Iterable[RequestedFile]) -> dict[str, Category]:
    """Every category a round's stored files can have, by key, in the notice's order: what its
    notice asks for, then the city's 附件3 scan and 2022's kinds (a file kept under a key the
    notice does not name still has its name and its folder)."""
    declared = {r.key: requested_category(r) for r in requested}
    return declared | {key: c for key, c in CATEGORIES.items() if key not in declared}


def application_categories(requested: Iterable[RequestedFile]) -> tuple[Category, ...]:
    """The categories of the files a notice (its ``files``) asks of each application, in its
    order; the city's own (附件3 scan) are not among them."""
    return tuple(requested_category(r) for r in requested if not r.per_city)
