"""``python -m xkxl_intranet.notice notices/2023.toml``: check a notice file before a round uses it
(docs/notice-file.md). Says every problem, or what the file declares and its digest; the exit
status is 1 when a file has problems."""
from __future__ import annotations

import sys

from .loader import NoticeError, load_notice


def main(paths: list[str]) -> int:
    if not paths:
        print("用法：python -m xkxl_intranet.notice 通知文件.toml …", file=sys.stderr)
        return 2
    status = 0
    for path in paths:
        try:
            notice = load_notice(path)
        except NoticeError as error:
            status = 1
            print(f"{path}：有 {len(error.problems)} 处问题，不能使用")
            for problem in error.problems:
                print(f"  - {problem}")
            continue
        print(f"{path}：可以使用。{notice.title}（{notice.notice_number}），"
              f"截止 {notice.deadline:%Y-%m-%d %H:%M:%S}（北京时间），{len(notice.sections)} 个部分、"
              f"{len(notice.fields)} 个字段、{len(notice.rules)} 条规则、{len(notice.criteria.indicators)} 项评审指标；"
              f"摘要 {notice.digest}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
