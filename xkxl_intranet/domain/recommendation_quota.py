"""THE declaration of the ministry's quota for the province's 推荐工信部 marks (domain.md, "The
province's recommendation"). The ministry notice that the Sichuan notice carries out,
工信厅信发函〔2022〕38号, has each province recommend 「一般不超过2个」 platforms, and a platform
already named a 跨行业跨领域 platform in 2020 「需重新申报但不占地方申报名额」.

「一般」 leaves the province room: a mark beyond the quota is a warning the officer confirms,
never a block. The marking service, the ranking and the roster all read :data:`QUOTA`; a later
round brings its own notice, so this is the 2022 notice's quota, the first of them.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["QUOTA", "RecommendationQuota"]

CONFIRM_WORDS = "确认超出名额"


@dataclass(frozen=True)
class RecommendationQuota:
    """How many platforms a province recommends to the ministry, and who is not counted."""

    limit: int
    notice: str  # the ministry notice that sets it
    limit_words: str  # the notice's own words for the limit
    exempt_words: str  # the notice's own words for the platforms it does not count
    exempt_who: str  # those platforms, briefly: 2020年已获评

    @property
    def exempt_label(self) -> str:
        """The province's flag on such a platform: 「2020年已获评，不占名额」."""
        return f"{self.exempt_who}，不占名额"

    def standing(self, counted: int, exempt: int) -> str:
        """「推荐工信部 3 / 2（不含2020年已获评 1 个）」: the marks counted against the quota."""
        return f"推荐工信部 {counted} / {self.limit}（不含{self.exempt_who} {exempt} 个）"

    @property
    def confirm_label(self) -> str:
        return f"{CONFIRM_WORDS}：{self.notice}要求「{self.limit_words}」，仍推荐工信部"

    def over(self, counted: int) -> str:
        """Why a mark that makes ``counted`` unflagged 推荐工信部 asks to be confirmed."""
        return (f"保存后「推荐工信部」将有 {counted} 个（不含{self.exempt_who}的平台），"
                f"超过{self.notice}的名额：各省推荐「{self.limit_words}」，"
                f"「{self.exempt_words}」。如确需推荐，请勾选「{CONFIRM_WORDS}」后再保存；"
                f"如该平台{self.exempt_who}，请勾选「{self.exempt_label}」。")


QUOTA = RecommendationQuota(
    limit=2,
    notice="工信厅信发函〔2022〕38号",
    limit_words="一般不超过2个",
    exempt_words="2020年已获评的平台需重新申报但不占地方申报名额",
    exempt_who="2020年已获评",
)
