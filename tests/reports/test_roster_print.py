"""The printed roster's columns are wide enough for what they print, at the print's font size: an
18-character 统一社会信用代码 (of the widest letters) and an 11-digit 手机 each on one line, and the
columns of states (状态, 报送情况, 省厅标记) each label whole, in the official roster and in the
view 「含未报送」 alike."""
from __future__ import annotations

from itertools import product

import pytest

from xkxl_intranet.applications.models import ProvinceMark, ReviewState
from xkxl_intranet.domain.checks import FORM_2022
from xkxl_intranet.domain.credit_code import is_valid_credit_code, make_credit_code
from xkxl_intranet.print_widths import CODE_FONT, code_print_width, print_width_for, words_print_width
from xkxl_intranet.reports.layouts import CREDIT_CODE_LENGTH, LONGEST_LABEL, roster_columns
from xkxl_intranet.reports.roster import STANDINGS

from .helpers import embedded_fonts, make_passed, pdf_reader, pdf_text, set_batch_state, set_fields

ROSTER_COLUMNS = roster_columns(FORM_2022)
UNREPORTED_ROSTER_COLUMNS = roster_columns(FORM_2022, include_unreported=True)
VIEWS = {"all": ROSTER_COLUMNS, "unreported": UNREPORTED_ROSTER_COLUMNS}
LABELS = {"state": [s.label for s in ReviewState], "mark": [m.label for m in ProvinceMark], "standing": STANDINGS}
STANDING = next(c for c in UNREPORTED_ROSTER_COLUMNS if c.key == "standing")


def widest_code(division: str = "510100") -> str:
    """A valid code of 成都 with as many Ws and Ms (the widest letters of a proportional font) as
    its check characters allow."""
    codes = (make_credit_code(division, "".join(body)) for body in product("WM", repeat=8))
    return max(codes, key=lambda code: (sum(ch in "WM" for ch in code), code))


def test_a_code_column_holds_its_code_on_one_line_at_the_print_font_size():
    assert CREDIT_CODE_LENGTH == 18
    assert print_width_for(0) > 0 and print_width_for(9) > print_width_for(8)
    for columns in VIEWS.values():
        by_key = {c.key: c for c in columns}
        assert by_key["credit_code"].print_width >= code_print_width(18)
        assert by_key["contact_mobile"].print_width >= code_print_width(11)
        assert abs(sum(c.print_width for c in columns) - 100) < 0.01


def test_a_column_of_states_holds_its_longest_label_whole():
    """Each piece of a label (「市州初审通过」 and 「（未报送）」 of 「市州初审通过（未报送）」) on one line."""
    for key, labels in LABELS.items():
        assert LONGEST_LABEL[key] == max(len(piece) for label in labels for piece in STANDING.pieces(label)), key
    assert {len(STANDING.pieces(label)) for label in STANDINGS} == {1, 2}
    for name, columns in VIEWS.items():
        for column in columns:
            if column.key in LABELS:
                assert column.keep_whole, (name, column.key)
                assert column.print_width >= words_print_width(LONGEST_LABEL[column.key]), (name, column.key)


@pytest.fixture
def wide(app):
    """A reported 成都 application and a 绵阳 draft, each with the widest code their city allows."""
    chengdu, mianyang = widest_code("510100"), widest_code("510700")
    assert is_valid_credit_code(chengdu) and chengdu.count("W") + chengdu.count("M") >= 9
    reported = make_passed(app, platform_name="成都宽码平台", credit_code=chengdu, contact_mobile="13888888888")
    set_fields(app, reported, province_mark=ProvinceMark.CULTIVATION.value)
    set_batch_state(app, "510100", "reported")
    make_passed(app, "mianyang", platform_name="绵阳宽码平台", credit_code=mianyang)
    set_batch_state(app, "510700", "returned")
    return chengdu, mianyang


@pytest.mark.parametrize("list_key", ["all", "unreported"])
def test_the_widest_code_prints_on_one_line(app, wide, province_client, list_key):
    reader = pdf_reader(province_client.get(f"/reports/roster/{list_key}.pdf"))
    cells = [cell for line in pdf_text(reader).splitlines() for cell in line.split()]
    printed = wide if list_key == "unreported" else wide[:1]
    for code in printed:
        assert code in cells, (code, [c for c in cells if c[:4] in code])
    assert "13888888888" in cells
    assert "列入省级培育名单" in cells
    if list_key == "unreported":
        assert {"市州初审通过", "已报送", "退回修改"} <= set(cells)
    assert any(name.endswith(CODE_FONT.replace(" ", "-")) for name, _ in embedded_fonts(reader)), \
        embedded_fonts(reader)

