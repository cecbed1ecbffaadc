"""One page of a long list (全部申报, the roster on screen): where it stands among all the rows
that match, and which page numbers the pager offers. Pure Python; the templates' pager is
``templates/_pager.html``."""
from __future__ import annotations

from dataclasses import dataclass


def page_count(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


def clamp_page(page: int, total: int, per_page: int) -> int:
    """``page`` within 1 … the last page (a page past the end shows the last)."""
    return min(max(page, 1), page_count(total, per_page))


@dataclass
class Paging:
    total: int  # rows that match
    page: int  # this page, 1 …
    per_page: int

    @property
    def pages(self) -> int:
        return page_count(self.total, self.per_page)

    @property
    def offset(self) -> int:
        """Rows before this page (its first row's 序号 is ``offset + 1``)."""
        return (self.page - 1) * self.per_page

    def window(self, around: int = 2) -> list[int | None]:
        """Page numbers to offer: the first, the last and ``around`` either side of this one;
        ``None`` where numbers are left out."""
        wanted = {1, self.pages, *range(self.page - around, self.page + around + 1)}
        shown: list[int | None] = []
        for number in sorted(n for n in wanted if 1 <= n <= self.pages):
            if shown and number - shown[-1] > 1:
                shown.append(None)
            shown.append(number)
        return shown
