"""The kinds of file the system keeps, per application and per city."""
from __future__ import annotations

from dataclasses import dataclass

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
