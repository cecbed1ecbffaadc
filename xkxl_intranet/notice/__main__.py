"""``python -m xkxl_intranet.notice notices/2023.toml``: check a notice file before a round uses it
(docs/notice-file.md; ``flask notice check`` says the same). Says every problem, or what the file
declares and its digest; the exit status is 1 when a file has problems."""
from __future__ import annotations

import sys

from .report import check_report


def main(paths: list[str]) -> int:
    if not paths:
        print("用法：python -m xkxl_intranet.notice 通知文件.toml …", file=sys.stderr)
        return 2
    status = 0
    for path in paths:
        usable, lines = check_report(path)
        if not usable:
            status = 1
        for line in lines:
            print(line)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
