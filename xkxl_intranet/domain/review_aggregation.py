"""What the province reads from several experts' totals: the mean, the spread, who is far from
the others, and the rank within the round. Pure: no Flask, no database.

- **Mean**: of the submitted sheets' totals (each already rounded to two places, as signed),
  rounded half up to two places.
- **Spread**: the range (最高分 − 最低分, what an officer checks first) and the population
  standard deviation (the panel is all the experts there are, not a sample of them). One score
  has no spread: both are blank (—), not 0.00, which would read as "the experts agree".
- **Outliers**: with three or more sheets, an expert whose total lies more than
  :data:`OUTLIER_GAP` points from the panel's median. The median, because one expert who is
  off pulls a mean (even the mean of the *others*: with 90, 88 and 60 the others of 90 average
  74, and 90 would look as far off as 60). With two sheets nobody can say which one is off: a
  gap of more than :data:`OUTLIER_GAP` is a *disagreement*, and the officer may add an expert.
- **Rank**: by the mean as printed (two places), highest first, ties share a rank and the next
  rank skips (1, 2, 2, 4: standard competition ranking, how 名次 are usually given).
- **Complete**: only an application whose scoring is complete is ranked (:func:`completion`):
  every active (not recused) sheet submitted, and at least as many as the review asks per
  application. A mean of one expert out of two would sit among full panels' means as if it were
  final, and a later second score could move it anywhere.
"""
from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import TypeVar

from .review_scoring import two_places

OUTLIER_GAP = Decimal(15)  # points out of 100: a grade apart (e.g. 良 vs 中)

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Aggregate:
    count: int
    mean: Decimal | None
    range: Decimal | None
    stdev: Decimal | None
    outliers: frozenset[int]  # positions in the totals given
    disagreement: bool  # two sheets more than OUTLIER_GAP apart


def aggregate(totals: Sequence[Decimal]) -> Aggregate:
    """Mean, spread and outliers of the submitted totals (in the order given). The totals have
    two places, so sums, differences and the median are exact; a mean divided out to 28 digits
    rounds as the exact fraction would (a repeating decimal never ends in 4999… below a half)."""
    n = len(totals)
    if n == 0:
        return Aggregate(0, None, None, None, frozenset(), False)
    with localcontext() as context:
        context.prec = 28
        mean = sum(totals, Decimal(0)) / n
        stdev = (sum(((x - mean) ** 2 for x in totals), Decimal(0)) / n).sqrt()
        outliers: set[int] = set()
        if n >= 3:
            ordered = sorted(totals)
            median = (ordered[(n - 1) // 2] + ordered[n // 2]) / 2
            outliers = {index for index, x in enumerate(totals) if abs(x - median) > OUTLIER_GAP}
        disagreement = n == 2 and abs(totals[0] - totals[1]) > OUTLIER_GAP
        if n == 1:  # one score has no spread
            return Aggregate(n, two_places(mean), None, None, frozenset(), False)
        return Aggregate(n, two_places(mean), two_places(max(totals) - min(totals)), two_places(stdev),
                         frozenset(outliers), disagreement)


@dataclass(frozen=True)
class Completion:
    """How far an application's scoring is: ``submitted`` of the ``expected`` sheets (the
    review's number per application, or more where more experts were given it)."""

    required: int  # experts per application, as set up
    active: int  # sheets given and not recused
    submitted: int

    @property
    def expected(self) -> int:
        return max(self.required, self.active)

    @property
    def missing_experts(self) -> int:
        """Experts still to be assigned (after a recusal, say) to reach the number required."""
        return max(self.required - self.active, 0)

    @property
    def complete(self) -> bool:
        return self.submitted >= 1 and self.submitted == self.active and self.missing_experts == 0

    @property
    def note(self) -> str:
        """「评分未完成（1/2）」, with 「缺1位专家」 where experts are missing; "" once complete."""
        if self.complete:
            return ""
        text = f"评分未完成（{self.submitted}/{self.expected}）"
        return text + (f"，缺{self.missing_experts}位专家" if self.missing_experts else "")


def completion(required: int, active: int, submitted: int) -> Completion:
    return Completion(required, active, submitted)


def competition_ranks(means: Mapping[K, Decimal | None]) -> dict[K, int]:
    """Rank by mean (highest first) with ties sharing a rank: 1, 2, 2, 4. Entries without a mean
    are left out."""
    ordered = sorted((two_places(m) for m in means.values() if m is not None), reverse=True)
    first_place: dict[Decimal, int] = {}
    for position, mean in enumerate(ordered, start=1):
        first_place.setdefault(mean, position)
    return {key: first_place[two_places(m)] for key, m in means.items() if m is not None}
