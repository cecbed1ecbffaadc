"""Several experts' totals: mean, spread, outliers and the rank with ties
(domain/review_aggregation.py)."""
from __future__ import annotations

from decimal import Decimal

from xkxl_intranet.domain.review_aggregation import OUTLIER_GAP, aggregate, competition_ranks, completion


def D(text) -> Decimal:
    return Decimal(str(text))


def test_mean_range_and_population_standard_deviation():
    result = aggregate([D(80), D(90), D(85)])
    assert (result.count, result.mean, result.range) == (3, D("85.00"), D("10.00"))
    assert result.stdev == D("4.08")  # √(50/3)
    assert not result.outliers and not result.disagreement


def test_the_mean_is_rounded_half_up_to_two_places():
    assert aggregate([D("80.00"), D("80.01")]).mean == D("80.01")  # 80.005
    assert aggregate([D("77.53"), D("78.53")]).mean == D("78.03")
    assert aggregate([D("70.00"), D("70.00"), D("70.01")]).mean == D("70.00")  # 70.00333…


def test_an_expert_far_from_the_panels_median_is_an_outlier():
    assert aggregate([D(80), D(82), D(60)]).outliers == frozenset({2})  # 60 is 20 from the median 80
    assert aggregate([D(70), D(72), D(95), D(71)]).outliers == frozenset({2})  # median 71.5
    # The one who is off does not drag the others along: 90 is 2 from the median 88, though 16
    # from the mean of the two others (88 and 60).
    assert aggregate([D(90), D(88), D(60)]).outliers == frozenset({2})
    # Evenly spread is not an outlier, and exactly the gap is not "more than" it.
    assert aggregate([D(60), D(75), D(90)]).outliers == frozenset()
    assert aggregate([D(80), D(80), D(80) - OUTLIER_GAP]).outliers == frozenset()


def test_two_experts_far_apart_disagree_and_nobody_is_singled_out():
    apart = aggregate([D(90), D(70)])
    assert apart.disagreement and apart.outliers == frozenset()
    assert not aggregate([D(90), D(75)]).disagreement


def test_nothing_submitted_has_no_figures():
    empty = aggregate([])
    assert (empty.count, empty.mean, empty.range, empty.stdev) == (0, None, None, None)


def test_ranks_share_ties_and_skip_the_next_place():
    ranks = competition_ranks({"a": D(90), "b": D("85.00"), "c": D(85), "d": D(80), "e": None})
    assert ranks == {"a": 1, "b": 2, "c": 2, "d": 4}


def test_ties_are_judged_on_the_mean_as_printed():
    ranks = competition_ranks({"a": D("85.004"), "b": D("85.001"), "c": D("85.006")})
    assert ranks == {"c": 1, "a": 2, "b": 2}


def test_one_score_has_a_mean_but_no_spread():
    one = aggregate([D(82)])
    assert (one.count, one.mean, one.range, one.stdev) == (1, D("82.00"), None, None)


def test_scoring_is_complete_when_every_active_sheet_is_in_and_enough_experts():
    assert completion(2, 2, 2).complete and completion(2, 3, 3).complete and completion(2, 3, 3).note == ""
    half = completion(2, 2, 1)
    assert not half.complete and half.note == "评分未完成（1/2）" and half.missing_experts == 0
    recused = completion(2, 1, 1)  # the other expert recused: all submitted, but one short
    assert not recused.complete and recused.note == "评分未完成（1/2），缺1位专家"
    assert completion(3, 4, 3).note == "评分未完成（3/4）"  # a fourth expert given it counts too
    assert not completion(1, 0, 0).complete
