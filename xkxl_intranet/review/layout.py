"""The 评审汇总表's layout, independent of how it is written (Excel, PDF): its columns and its
rows built from the ranking. No Flask."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..applications.models import ProvinceMark
from ..clock import now
from ..domain.deadlines import format_deadline
from ..domain.review_aggregation import OUTLIER_GAP
from ..domain.review_criteria import Opinion
from ..print_widths import words_print_width
from .aggregation import ApplicationReview, Ranking
from .setup import weights_text

# The longest mark (列入省级培育名单) on one line, at the print's geometry (reports.layouts).
MARK_PRINT_WIDTH = words_print_width(max(len(mark.label) for mark in ProvinceMark))


@dataclass(frozen=True)
class SummaryColumn:
    heading: str
    kind: str  # "seq", "text", "score", "int", "note" (text printed broken only after "，")
    width: float  # Excel characters
    print_width: float  # percent of the printed width

    @property
    def is_number(self) -> bool:
        return self.kind in ("seq", "score", "int")


SUMMARY_COLUMNS: tuple[SummaryColumn, ...] = (
    SummaryColumn("排名", "seq", 6, 4),
    SummaryColumn("市（州）", "text", 10, 6.5),
    SummaryColumn("工业互联网平台名称", "text", 26, 13),
    SummaryColumn("依托企业", "text", 26, 12.5),
    SummaryColumn("各专家综合得分（意见）", "text", 40, 19.5 - (MARK_PRINT_WIDTH - 7.5)),
    SummaryColumn("有效评分", "int", 8, 4.5),
    SummaryColumn("平均分", "score", 9, 5.5),
    SummaryColumn("极差", "score", 8, 4.5),
    SummaryColumn("标准差", "score", 8, 4.5),
    SummaryColumn("推荐", "int", 6, 3.5),
    SummaryColumn("可培育", "int", 7, 3.5),
    SummaryColumn("不推荐", "int", 7, 3.5),
    SummaryColumn("省厅标记", "text", 16, MARK_PRINT_WIDTH),
    # Why a row has no rank although it has scores (its city's batch was returned, its scoring
    # is not complete) and who recused.
    SummaryColumn("备注", "note", 14, 7.5),
)
assert abs(sum(c.print_width for c in SUMMARY_COLUMNS) - 100) < 0.01


def _experts_cell(row: ApplicationReview) -> str:
    parts = []
    for score in row.scores:
        name = score.sheet.expert.display_name or score.sheet.expert.username
        if score.total is None:
            parts.append(f"{name} {score.sheet.state_enum.label}")
            continue
        opinion = score.sheet.opinion_enum.label if score.sheet.opinion_enum else ""
        parts.append(f"{name} {score.total}（{opinion}）" + ("△" if score.outlier else ""))
    return "；".join(parts)


def _cells(row: ApplicationReview) -> tuple[Any, ...]:
    opinions = row.opinions
    result = row.result
    return (row.rank, row.application.city.name, row.application.platform_name or "",
            row.application.enterprise_name or "", _experts_cell(row), result.count, result.mean, result.range,
            result.stdev, opinions[Opinion.RECOMMEND.label], opinions[Opinion.CULTIVATE.label],
            opinions[Opinion.REJECT.label], row.mark.label if row.mark else "",
            row.remarks)


@dataclass(frozen=True)
class ReviewSummary:
    title: str
    lines: tuple[str, ...]  # printed under the title
    generated_at: datetime
    rows: tuple[tuple[Any, ...], ...]
    columns: tuple[SummaryColumn, ...] = SUMMARY_COLUMNS
    note: str = ("说明：综合得分满分100分，为各维度得分之和（维度得分 = 权重 × 该维度各指标得分之和 ÷ 该维度满分）；"
                 f"平均分只计已提交的评分表，全部专家提交后才排名；一位专家的得分无极差、标准差（—）；△ 表示该专家的得分与全部专家得分的中位数相差超过{OUTLIER_GAP}分。")

    @property
    def file_stem(self) -> str:
        return f"{self.title}_{self.generated_at:%Y%m%d%H%M}"

    @staticmethod
    def text(column: SummaryColumn, value: Any) -> str:
        if value is None:
            return "—" if column.is_number else ""
        if isinstance(value, Decimal):
            return f"{value:.2f}"
        return str(value)

    @classmethod
    def phrases(cls, column: SummaryColumn, value: Any) -> list[str]:
        """The printed text in the pieces a line should break between: a note after each "，" or
        "；" (「批次已退回，」「不参与排名」), any other cell whole."""
        text = cls.text(column, value)
        if column.kind != "note":
            return [text]
        pieces = re.split(r"(?<=[，；])", text)
        return [piece for piece in pieces if piece]


def build_summary(ranking: Ranking) -> ReviewSummary:
    review = ranking.review
    counts = ranking.counts
    return ReviewSummary(
        f"{review.round.title}评审汇总表",
        (f"评审截止：{format_deadline(review.deadline)}（北京时间） · 权重：{weights_text(review.weight_map, review.criteria)}",
         f"申报 {counts['applications']} 份，已排名 {counts['ranked']} 份"
         + (f"（另有 {counts['excluded']} 份不参与排名，原因见备注）" if counts["excluded"] else "")
         + (f"（{counts['incomplete']} 份评分未完成，暂不排名）" if counts["incomplete"] else "")
         + f"；评分表已提交 {counts['submitted']} / {counts['assigned']} 份"),
        now(), tuple(_cells(row) for row in ranking.rows))
