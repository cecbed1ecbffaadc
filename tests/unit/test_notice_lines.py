"""A notice file's problems name the line (notice/lines.py), as an operator editing it needs."""
from __future__ import annotations

import pytest

from xkxl_intranet.notice.loader import NoticeError, parse_notice
from xkxl_intranet.notice.shipped import FIRST_NOTICE

TEXT = FIRST_NOTICE.read_text(encoding="utf-8")


def _problems(text: str) -> list[str]:
    with pytest.raises(NoticeError) as raised:
        parse_notice(text)
    return raised.value.problems


def _line(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


@pytest.mark.parametrize(("old", "new", "needle", "says"), [
    ('  key = "credit_code"\n  label = "统一社会信用代码"\n  kind = "credit_code"',
     '  key = "credit_code"\n  label = "统一社会信用代码"\n  kind = "creditcode"', 'kind = "creditcode"', "（credit_code）"),
    ("form_copies = 3", "form_copies = 30", "form_copies = 30", "[paper]"),
    ('id = "le:users_paying"', 'id = "le:users_paying"\nbogus = 1', "bogus = 1", "未知的项 “bogus”"),
    ('value = "contact_mobile"', 'value = "contact_cell"', 'value = "contact_cell"', "[[summary.column]] 第5列"),
])
def test_a_problem_names_its_line_and_key(old, new, needle, says):
    assert TEXT.count(old) == 1
    text = TEXT.replace(old, new)
    problems = [p for p in _problems(text) if says in p]
    assert problems, _problems(text)
    assert problems[0].startswith(f"第{_line(text, needle)}行 "), problems[0]


def test_a_field_the_file_lacks_has_no_line_to_name():
    text = TEXT.replace('key = "contact_mobile"', 'key = "contact_cell"')
    missing = next(p for p in _problems(text) if "须声明字段 “contact_mobile”" in p)
    assert not missing.startswith("第")
