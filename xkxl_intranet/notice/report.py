"""What checking a notice file says, in Chinese, for ``python -m xkxl_intranet.notice`` and
``flask notice check`` alike: every problem, or what the file declares and its digest."""
from __future__ import annotations

from datetime import datetime
from os import PathLike

from .loader import NoticeError, load_notice

__all__ = ["check_report"]


def check_report(path: str | PathLike[str], moment: datetime | None = None) -> tuple[bool, list[str]]:
    """Whether a round can use the file at ``path``, and the lines that say so; given the time
    ``moment`` (the app's clock), also whether its deadline has passed already."""
    try:
        notice = load_notice(path)
    except NoticeError as error:
        return False, [f"{path}：有 {len(error.problems)} 处问题，不能使用",
                       *(f"  - {problem}" for problem in error.problems)]
    lines = [f"{path}：可以使用。{notice.title}（{notice.notice_number}），"
             f"截止 {notice.deadline:%Y-%m-%d %H:%M:%S}（北京时间），{len(notice.sections)} 个部分、"
             f"{len(notice.fields)} 个字段、{len(notice.rules)} 条规则、{len(notice.criteria.indicators)} 项评审指标；"
             f"摘要 {notice.digest}"]
    if moment is not None and notice.deadline <= moment:  # a copy of last year's file whose deadline was not changed
        lines.append(f"  注意：截止时间 {notice.deadline:%Y-%m-%d} 已过，用它开启的批次各市（州）将无法报送；"
                     "如果这是今年的通知，请先改好 deadline。")
    return True, lines
