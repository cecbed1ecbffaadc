"""What checking a notice file says, in Chinese, for ``python -m xkxl_intranet.notice`` and
``flask notice check`` alike: every problem, or what the file declares and its digest."""
from __future__ import annotations

from os import PathLike

from .loader import NoticeError, load_notice

__all__ = ["check_report"]


def check_report(path: str | PathLike[str]) -> tuple[bool, list[str]]:
    """Whether a round can use the file at ``path``, and the lines that say so."""
    try:
        notice = load_notice(path)
    except NoticeError as error:
        return False, [f"{path}：有 {len(error.problems)} 处问题，不能使用",
                       *(f"  - {problem}" for problem in error.problems)]
    return True, [f"{path}：可以使用。{notice.title}（{notice.notice_number}），"
                  f"截止 {notice.deadline:%Y-%m-%d %H:%M:%S}（北京时间），{len(notice.sections)} 个部分、"
                  f"{len(notice.fields)} 个字段、{len(notice.rules)} 条规则、{len(notice.criteria.indicators)} 项评审指标；"
                  f"摘要 {notice.digest}"]
