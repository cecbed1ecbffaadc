"""Prints of the review: each expert's signed 评分表 (PDF, one per expert, with a signature
line and date) and the 评审汇总表 (XLSX and PDF), in the style of the other reports. The
汇总表's layout is built once (``review/layout.py``) and written by ``review/workbook.py``
(Excel) and ``templates/review/summary_print.html`` (PDF)."""
from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup
from sqlalchemy import and_, or_, select

from ..applications.models import Application
from ..applications.queries import counted_in_round
from ..auth.models import User
from ..clock import now
from ..domain.errors import Refused
from ..domain.review_criteria import Opinion
from ..domain.review_scoring import SheetTotals, sheet_totals
from ..extensions import db
from ..generated import rows
from ..printing import css_string, print_pdf, render_pdf, render_print, static_base_url
from ..rounds.models import City, CityBatch, Round
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


def sheet_print(sheet: Assignment) -> SheetPrint:
    if not sheet.is_submitted:
        raise Refused(NOT_SUBMITTED)
    review = sheet.review_round
    return SheetPrint(sheet, sheet_totals(sheet.score_values(), review.weight_map, criteria=review.criteria),
                      sheet_number(sheet))


def sheets_html(prints: list[SheetPrint], review: ReviewRound) -> str:
    """The HTML the 评分表 PDF is laid out from: the sheets, with 附件1 of the review's round,
    whose dimensions and indicators they print."""
    printed = now()
    return render_print("review/sheet_print.html", prints=prints, review=review, round=review.round,
                        criteria=review.criteria, dimensions=review.criteria.dimensions, printed=printed,
                        footer=Markup(css_string(f"打印时间：{printed:%Y-%m-%d %H:%M}")))


def _sheets_pdf(prints: list[SheetPrint], review: ReviewRound) -> bytes:
    return render_pdf(sheets_html(prints, review), base_url=static_base_url())


def sheet_pdf(sheet: Assignment) -> tuple[bytes, str]:
    """The signed 评分表 of one expert: the PDF and its file name."""
    page = sheet_print(sheet)
    expert = sheet.expert.display_name or sheet.expert.username
    return (_sheets_pdf([page], sheet.review_round),
            f"评分表_{page.application.title}_{expert}_{page.number}.pdf")


def application_sheets_pdf(review: ReviewRound, application: Application) -> tuple[bytes, str]:
    """Every submitted sheet of one application, one expert per page."""
    sheets = [s for s in sheets_by_application(review).get(application.id, []) if s.is_submitted]
    if not sheets:
        raise Refused("这份申报尚无已提交的评分表。")
    return (_sheets_pdf([sheet_print(s) for s in sheets], review),
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


# ---- what each print depends on (the keys of their files, see generated.py) ------------------------
# Each is one query of versions: a sheet's ``version`` is bumped by every save, submission and
# reopening, an application's by every change of its row; the experts' names are read beside.

def _settings(review: ReviewRound) -> list:
    return [review.id, review.round.title, review.round.year, review.deadline, review.weights,
            review.experts_per_application]


def _sheet_versions(*conditions) -> list:
    stmt = (select(ReviewRound.id, Round.title, Round.year, ReviewRound.deadline, ReviewRound.weights,
                   ReviewRound.experts_per_application, Assignment.id, Assignment.version, Assignment.state,
                   User.display_name, User.username, Application.id, Application.version, City.name,
                   City.department_name)
            .join(ReviewRound, ReviewRound.id == Assignment.review_round_id)
            .join(Round, Round.id == ReviewRound.round_id)
            .join(User, User.id == Assignment.expert_id)
            .join(Application, Application.id == Assignment.application_id)
            .join(City, City.id == Application.city_id)
            .where(*conditions).order_by(Assignment.id))
    return rows(db.session.execute(stmt))


def sheet_versions(sheet: Assignment) -> list:
    """One expert's 评分表: the sheet, its expert, its application and the review's settings."""
    return _sheet_versions(Assignment.id == sheet.id)


def application_sheets_versions(review: ReviewRound, application: Application) -> list:
    """Every sheet of one application (the print takes the submitted ones)."""
    return _sheet_versions(Assignment.review_round_id == review.id, Assignment.application_id == application.id)


def ranking_versions(review: ReviewRound, sort: str, descending: bool) -> list:
    """The 评审汇总表: every application the experts review or that holds a sheet (its city, its
    batch's state) with its sheets and their experts, the review's settings and the order asked
    for. A draft saved in a city changes none of it."""
    stmt = (select(Application.id, Application.version, Application.position, City.name, City.sort_order,
                   CityBatch.state, Assignment.id, Assignment.version, Assignment.state, User.display_name,
                   User.username)
            .join(City, City.id == Application.city_id)
            .outerjoin(CityBatch, and_(CityBatch.round_id == Application.round_id,
                                       CityBatch.city_id == Application.city_id))
            .outerjoin(Assignment, and_(Assignment.application_id == Application.id,
                                        Assignment.review_round_id == review.id))
            .outerjoin(User, User.id == Assignment.expert_id)
            .where(Application.round_id == review.round_id,
                   or_(counted_in_round(review.round_id), Assignment.id.is_not(None)))
            .order_by(Application.id, Assignment.id))
    return [*_settings(review), sort, descending, rows(db.session.execute(stmt))]
