"""Prints of the review: each expert's signed 评分表 (PDF, one per expert, with a signature
line and date) and the 评审汇总表 (XLSX and PDF), in the style of the other reports. The
汇总表's layout is built once (``review/layout.py``) and written by ``review/workbook.py``
(Excel) and ``templates/review/summary_print.html`` (PDF)."""
from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from ..applications.models import Application
from ..clock import now
from ..domain.errors import Refused
from ..domain.review_criteria import DIMENSIONS, Opinion
from ..domain.review_scoring import SheetTotals, sheet_totals
from ..printing import css_string, print_pdf
from .aggregation import Ranking
from .layout import build_summary
from .models import Assignment, ReviewRound
from .queries import sheets_by_application
from .workbook import summary_workbook

NOT_SUBMITTED = "评分表尚未提交：提交后才能打印签字版评分表。"


@dataclass(frozen=True)
class SheetPrint:
    """One expert's sheet as printed."""

    sheet: Assignment
    totals: SheetTotals
    number: str  # 评分表编号

    @property
    def application(self) -> Application:
        return self.sheet.application

    @property
    def opinions(self) -> tuple[Opinion, ...]:
        return tuple(Opinion)


def sheet_number(sheet: Assignment) -> str:
    return f"PF{sheet.review_round.round.year}-{sheet.id:05d}"


def _sheet_print(sheet: Assignment) -> SheetPrint:
    if not sheet.is_submitted:
        raise Refused(NOT_SUBMITTED)
    return SheetPrint(sheet, sheet_totals(sheet.score_values(), sheet.review_round.weight_map), sheet_number(sheet))


def _sheets_pdf(prints: list[SheetPrint], review: ReviewRound) -> bytes:
    printed = now()
    return print_pdf("review/sheet_print.html", prints=prints, review=review, round=review.round,
                     dimensions=DIMENSIONS, printed=printed,
                     footer=Markup(css_string(f"打印时间：{printed:%Y-%m-%d %H:%M}")))


def sheet_pdf(sheet: Assignment) -> tuple[bytes, str]:
    """The signed 评分表 of one expert: the PDF and its file name."""
    page = _sheet_print(sheet)
    expert = sheet.expert.display_name or sheet.expert.username
    return (_sheets_pdf([page], sheet.review_round),
            f"评分表_{page.application.title}_{expert}_{page.number}.pdf")


def application_sheets_pdf(review: ReviewRound, application: Application) -> tuple[bytes, str]:
    """Every submitted sheet of one application, one expert per page."""
    sheets = [s for s in sheets_by_application(review).get(application.id, []) if s.is_submitted]
    if not sheets:
        raise Refused("这份申报尚无已提交的评分表。")
    return (_sheets_pdf([_sheet_print(s) for s in sheets], review),
            f"评分表_{application.title}_共{len(sheets)}份.pdf")


def summary_xlsx(ranking: Ranking) -> tuple[bytes, str]:
    summary = build_summary(ranking)
    return summary_workbook(summary), f"{summary.file_stem}.xlsx"


def summary_pdf(ranking: Ranking) -> tuple[bytes, str]:
    summary = build_summary(ranking)
    printed = f"{summary.generated_at:%Y-%m-%d %H:%M}"
    data = print_pdf("review/summary_print.html", summary=summary, printed=printed,
                     footer_left=Markup(css_string(f"打印日期：{printed}")),
                     footer_center=Markup(css_string(summary.title)))
    return data, f"{summary.file_stem}.pdf"
