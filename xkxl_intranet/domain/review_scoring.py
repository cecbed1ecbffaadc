"""One expert's score sheet: reading the points typed, the province's weights, the running and
final totals, what a submission still lacks, and the review deadline. Pure: no Flask, no
database. Every function takes the :class:`~.review_criteria.Criteria` of the review's round
(its notice's 附件1): the indicators read, the dimensions weighted and totalled.

Every printed number adds up by hand: a dimension's weighted score is rounded to two places,
and the sheet's total is the sum of those rounded scores (so the signed 评分表 shows figures
an officer can add up on paper).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import NamedTuple

from .deadlines import effective_deadline, format_deadline, has_passed
from .findings import ParseError, echo
from .numbers import NumberParseError, normalize_text
from .review_criteria import Criteria, Dimension, Indicator, Opinion, count_words

TWO_PLACES = Decimal("0.01")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
MAX_COMMENT = 2000  # characters of a dimension comment or the overall opinion


def two_places(value: Decimal | int) -> Decimal:
    """Round half up to two places (the way a total is printed)."""
    return Decimal(value).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def format_points(value: Decimal | None) -> str:
    """Points as an expert writes them: ``8``, ``7.5``, ``23.5``; blank for ``None``."""
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return text


# ---- reading what the expert typed ----------------------------------------------------------------

def _read_decimal(raw: object, label: str) -> Decimal | None:
    """A number as typed (full-width digits and a trailing 分 accepted); blank is ``None``."""
    text = normalize_text(raw)
    if text.endswith("分"):
        text = text[:-1].rstrip()
    if not text:
        return None
    if not _NUMBER.fullmatch(text):
        raise NumberParseError(f"「{label}」不是有效的数字：“{echo(normalize_text(raw))}”")
    return Decimal(text)


def parse_score(raw: object, indicator: Indicator) -> Decimal | None:
    """Points for one indicator: 0 to its maximum, at most one decimal; blank is ``None``.
    The message names the indicator as the sheet prints it."""
    label = indicator.heading
    value = _read_decimal(raw, label)
    if value is None:
        return None
    shown = normalize_text(raw)
    if value < 0 or value > indicator.max_score:
        raise NumberParseError(f"「{label}」的评分应在0至{indicator.max_score}分之间：“{echo(shown)}”")
    if value != value.quantize(Decimal("0.1")):
        raise NumberParseError(f"「{label}」的评分最多保留1位小数：“{echo(shown)}”")
    return value.quantize(Decimal("0.1")) if value % 1 else value.quantize(Decimal(1))


def read_scores(raw: Mapping[str, object], *, criteria: Criteria,
                ) -> tuple[dict[str, Decimal | None], dict[str, str]]:
    """Every indicator's points from ``raw`` (indicator key -> text): the values read, and the
    message of each one that cannot be read (nothing of those is kept)."""
    scores: dict[str, Decimal | None] = {}
    errors: dict[str, str] = {}
    for key, indicator in criteria.indicators.items():
        try:
            scores[key] = parse_score(raw.get(key), indicator)
        except ParseError as err:
            errors[key] = err.message
    return scores, errors


def stored_scores(stored: Mapping[str, str] | None, *, criteria: Criteria) -> dict[str, Decimal | None]:
    """A sheet's stored points (indicator key -> "7.5") as decimals; unknown keys are ignored."""
    stored = stored or {}
    return {key: (Decimal(str(stored[key])) if stored.get(key) not in (None, "") else None)
            for key in criteria.indicators}


def parse_weights(raw: Mapping[str, object], *, criteria: Criteria) -> dict[str, int]:
    """The province's weights: a whole percentage per dimension, summing to 100. The message
    names the dimension, or says what the weights add up to."""
    weights: dict[str, int] = {}
    for dimension in criteria.dimensions:
        label = f"{dimension.heading}权重"
        typed = raw.get(dimension.key)
        value = _read_decimal("" if typed is None else normalize_text(typed).rstrip("%"), label)
        if value is None:
            raise NumberParseError(f"请填写「{label}」（百分比，0至100的整数）")
        if value != value.to_integral_value() or not 0 <= value <= 100:
            raise NumberParseError(f"「{label}」应为0至100的整数：“{echo(normalize_text(raw.get(dimension.key)))}”")
        weights[dimension.key] = int(value)
    total = sum(weights.values())
    if total != 100:
        raise NumberParseError(f"{count_words(len(criteria.dimensions))}个维度的权重合计应为100，现为{total}。")
    return weights


def complete_weights(weights: Mapping[str, int] | None, *, criteria: Criteria) -> dict[str, int]:
    """Stored weights with every dimension present (a dimension missing takes its default)."""
    weights = weights or {}
    return {key: int(weights.get(key, default)) for key, default in criteria.default_weights.items()}


# ---- totals -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DimensionTotal:
    dimension: Dimension
    weight: int
    scored: int  # indicators with points
    points: Decimal  # the points given so far
    weighted: Decimal  # weight × points / points possible, two places

    @property
    def complete(self) -> bool:
        return self.scored == len(self.dimension.indicators)

    @property
    def points_text(self) -> str:
        return format_points(self.points)

    @property
    def max_points(self) -> int:
        return self.dimension.max_points


@dataclass(frozen=True)
class SheetTotals:
    dimensions: tuple[DimensionTotal, ...]

    @property
    def total(self) -> Decimal:
        """Out of 100: the sum of the dimensions' rounded weighted scores."""
        return sum((d.weighted for d in self.dimensions), Decimal("0.00"))

    @property
    def scored(self) -> int:
        return sum(d.scored for d in self.dimensions)

    @property
    def indicator_count(self) -> int:
        return sum(len(d.dimension.indicators) for d in self.dimensions)

    @property
    def complete(self) -> bool:
        return self.scored == self.indicator_count

    def of(self, dimension_key: str) -> DimensionTotal:
        return next(d for d in self.dimensions if d.dimension.key == dimension_key)


def _weighted(weight: int, points: Decimal, max_points: int) -> Decimal:
    """``weight × points / max_points`` rounded half up to two places. Decimal division to 28
    digits (the caller's context) rounds as the exact fraction would: the maxima (whole
    points: 2022's are 30 and 50) divide into terminating or repeating decimals, never into one that ends in 4999… just
    below a half."""
    return (Decimal(weight) * points / max_points).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def sheet_totals(scores: Mapping[str, Decimal | None], weights: Mapping[str, int] | None, *,
                 criteria: Criteria) -> SheetTotals:
    """Running totals of a sheet, complete or not: blank indicators count as 0 points."""
    weights = complete_weights(weights, criteria=criteria)
    rows = []
    with localcontext() as context:
        context.prec = 28
        for dimension in criteria.dimensions:
            rows.append(_dimension_total(dimension, weights[dimension.key], scores))
    return SheetTotals(tuple(rows))


def _dimension_total(dimension: Dimension, weight: int, scores: Mapping[str, Decimal | None]) -> DimensionTotal:
    given = [scores.get(i.key) for i in dimension.indicators]
    points = sum((p for p in given if p is not None), Decimal(0))
    return DimensionTotal(dimension, weight, sum(p is not None for p in given), points,
                          _weighted(weight, points, dimension.max_points))


# ---- submission ---------------------------------------------------------------------------------

def read_opinion(raw: object) -> Opinion | None:
    try:
        return Opinion(str(raw)) if raw not in (None, "") else None
    except ValueError:
        return None


class Gap(NamedTuple):
    """One thing a submission lacks, and the form field that supplies it (the sheet's error
    summary links to it, issue 25): ``score_<indicator>``, ``comment_<dimension>``,
    ``opinion`` or ``overall_comment``."""

    field: str
    message: str


def submission_gaps(scores: Mapping[str, Decimal | None], comments: Mapping[str, str],
                    opinion: Opinion | None, overall_comment: str, *, criteria: Criteria) -> list[Gap]:
    """What a sheet still lacks before it can be submitted, in the sheet's order."""
    gaps = []
    for dimension in criteria.dimensions:
        unscored = [i for i in dimension.indicators if scores.get(i.key) is None]
        if unscored:
            gaps.append(Gap(f"score_{unscored[0].key}",
                            f"{dimension.label}：{'、'.join(i.code for i in unscored)} 尚未评分"))
        if not (comments.get(dimension.key) or "").strip():
            gaps.append(Gap(f"comment_{dimension.key}", f"{dimension.label}：尚未填写评价意见"))
    if opinion is None:
        gaps.append(Gap("opinion", "尚未选择综合意见（推荐 / 可培育 / 不推荐）"))
    if not (overall_comment or "").strip():
        gaps.append(Gap("overall_comment", "尚未填写综合评价"))
    return gaps


def missing_for_submission(scores: Mapping[str, Decimal | None], comments: Mapping[str, str],
                           opinion: Opinion | None, overall_comment: str, *, criteria: Criteria) -> list[str]:
    """What a sheet still lacks before it can be submitted, in the sheet's order."""
    return [gap.message for gap in submission_gaps(scores, comments, opinion, overall_comment, criteria=criteria)]


def clean_comments(raw: Mapping[str, object], *, criteria: Criteria) -> dict[str, str]:
    """Each dimension's comment, stripped and cut to :data:`MAX_COMMENT` characters."""
    return {key: str(raw.get(key) or "").strip()[:MAX_COMMENT] for key in criteria.dimensions_by_key}


# ---- the review deadline ------------------------------------------------------------------------

@dataclass(frozen=True)
class ReviewWindow:
    open: bool
    deadline: datetime  # the deadline that applies to this sheet (its extension, if later)
    extended: bool
    message: str


def review_window(now: datetime, deadline: datetime, extension: datetime | None) -> ReviewWindow:
    """May an expert still save or submit a sheet at ``now``? Up to the end of the deadline's
    unit (see :func:`.deadlines.last_instant`), or of the sheet's own extension."""
    applies = effective_deadline(deadline, extension)
    extended = applies != deadline
    if not has_passed(applies, now):
        return ReviewWindow(True, applies, extended, "")
    what = "延期截止时间" if extended else "评审截止时间"
    return ReviewWindow(False, applies, extended,
                        f"已超过{what}（{format_deadline(applies)}），评分表不能再保存或提交。"
                        "如需延期，请联系省厅大数据与信息化处。")
