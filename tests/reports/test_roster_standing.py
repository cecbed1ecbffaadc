"""The province roster 「含未报送」 says where each application stands: 报送情况 is the application's
own, not its batch's (a draft in an accepted batch is 「草稿（未报送）」, never 「已受理」): a 市州初审通过
application is 已报送, 已受理 or 退回修改 with its batch, anything else says its 市州初审 state and
「（未报送）」; on the page, in every sheet of its workbook and in its PDF. 状态 beside it keeps the
市州初审 state; the default roster keeps the official columns."""
from __future__ import annotations

import re

import pytest

from xkxl_intranet.applications.models import Application, ReviewState
from xkxl_intranet.applications.operations import set_review
from xkxl_intranet.domain.checks import FORM_2022
from xkxl_intranet.extensions import db
from xkxl_intranet.reports.layouts import ROSTER_LISTS, roster_columns
from xkxl_intranet.reports.roster import STANDINGS, build_roster, standing_label
from xkxl_intranet.rounds.models import BatchState
from xkxl_intranet.rounds.state import current_round

from .helpers import make_passed, pdf_reader, pdf_text, set_batch_state, set_fields, user, workbook
from helpers import create_application

ROSTER_COLUMNS = roster_columns(FORM_2022)
UNREPORTED_ROSTER_COLUMNS = roster_columns(FORM_2022, include_unreported=True)
OFFICIAL = [c.heading for c in ROSTER_COLUMNS]
WITH_STANDING = OFFICIAL[:8] + ["报送情况"] + OFFICIAL[8:]  # after 状态


@pytest.fixture
def round_data(app):
    """成都 still filling in: 成都甲 通过 (推荐工信部), 成都丙 a draft. 绵阳 returned: 绵阳甲 通过
    (列入省级培育名单), 绵阳乙 不推荐 (未入选)."""
    ids = {"成都甲": make_passed(app, platform_name="成都甲平台"),
           "成都丙": create_application(app, platform_name="成都丙平台", with_form=False),
           "绵阳甲": make_passed(app, "mianyang", platform_name="绵阳甲平台"),
           "绵阳乙": create_application(app, "mianyang", platform_name="绵阳乙平台")}
    with app.app_context():
        set_review(user("mianyang"), db.session.get(Application, ids["绵阳乙"]), "not_recommended", "规模不足")
        db.session.commit()
    set_fields(app, ids["成都甲"], province_mark="recommended")
    set_fields(app, ids["绵阳甲"], province_mark="cultivation")
    set_fields(app, ids["绵阳乙"], province_mark="not_selected")
    set_batch_state(app, "510700", "returned")
    return ids


# 报送情况 (the application's own) and 状态 (its 市州初审 state).
EXPECTED = {"成都甲平台": "市州初审通过（未报送）", "成都丙平台": "草稿（未报送）", "绵阳甲平台": "退回修改",
            "绵阳乙平台": "市州不推荐（未报送）"}
STATES = {"成都甲平台": "市州初审通过", "成都丙平台": "草稿", "绵阳甲平台": "市州初审通过", "绵阳乙平台": "市州不推荐"}
# once 绵阳 has reported again and 成都's batch is accepted: the draft stays unreported
REPORTED = {"成都甲平台": "已受理", "成都丙平台": "草稿（未报送）", "绵阳甲平台": "已报送",
            "绵阳乙平台": "市州不推荐（未报送）"}
assert set(EXPECTED.values()) | set(REPORTED.values()) == set(STANDINGS)
assert set(STATES.values()) == {s.label for s in ReviewState}


def _table(ws):
    """Headings (row 3) and the rows below as dicts by heading."""
    headings = [c.value for c in ws[3]]
    return headings, [dict(zip(headings, row, strict=True))
                      for row in ws.iter_rows(min_row=4, values_only=True) if row[0] is not None]


def test_the_standing_is_the_applications_own():
    for batch in BatchState:
        sent = batch in (BatchState.REPORTED, BatchState.ACCEPTED, BatchState.RETURNED)
        assert standing_label("passed", batch.value) == (batch.label if sent else "市州初审通过（未报送）")
        assert standing_label("draft", batch.value) == "草稿（未报送）"  # never its batch's 已受理
        assert standing_label("not_recommended", batch.value) == "市州不推荐（未报送）"
    assert standing_label("passed", None) == "市州初审通过（未报送）"  # a city without a batch yet
    assert len(set(STANDINGS)) == len(STANDINGS) == 6


def test_every_list_with_a_standing_has_the_state_beside_it():
    """报送情况 leaves the application's 市州初审 state to 状态: a list that printed the one without
    the other would lose it."""
    for roster_list in ROSTER_LISTS.values():
        keys = [c.key for c in roster_list.columns(FORM_2022)]
        assert ("standing" in keys) == roster_list.include_unreported, roster_list.key
        if "standing" in keys:
            assert keys[keys.index("standing") - 1] == "state", keys


def test_the_service_gives_the_view_with_unreported_a_standing_column(app, round_data):
    with app.app_context():
        roster = build_roster(user("province"), current_round(), "unreported")
        assert roster.columns == UNREPORTED_ROSTER_COLUMNS
        assert [c.heading for c in roster.columns] == WITH_STANDING
        standing = [c.key for c in roster.columns].index("standing") - 1  # values have no 序号
        assert {e.values[1]: e.values[standing] for e in roster.entries} == EXPECTED
        assert {e.values[1]: e.values[standing - 1] for e in roster.entries} == STATES  # 状态
        official = build_roster(user("province"), current_round(), "all")
        assert official.columns == ROSTER_COLUMNS and official.entries == ()  # nobody reported yet
        assert all(len(e.values) == len(UNREPORTED_ROSTER_COLUMNS) - 1 for e in roster.entries)
    set_batch_state(app, "510700", "reported")
    set_batch_state(app, "510100", "accepted")
    with app.app_context():
        roster = build_roster(user("province"), current_round(), "unreported")
        assert {e.values[1]: e.values[standing] for e in roster.entries} == REPORTED
        official = build_roster(user("province"), current_round(), "all")
        assert [len(e.values) for e in official.entries] == [len(ROSTER_COLUMNS) - 1] * 2


def test_every_sheet_of_the_unreported_workbook_has_the_column(app, round_data, province_client):
    wb = workbook(province_client.get("/reports/roster/unreported.xlsx"))
    assert wb.sheetnames == ["全部", "推荐工信部", "列入省级培育名单", "未入选"]
    for ws in wb.worksheets:
        headings, rows = _table(ws)
        assert headings == WITH_STANDING, ws.title
        assert ws["A1"].value.endswith("（含未报送）"), ws["A1"].value  # a mark's sheet says so too
        assert all(row["报送情况"] == EXPECTED[row["平台名称"]] for row in rows), ws.title
        assert all(row["状态"] == STATES[row["平台名称"]] for row in rows), ws.title
        assert ws.auto_filter.ref.startswith("A3:P")  # one more column than the official O
    assert [r["平台名称"] for r in _table(wb["全部"])[1]] == list(EXPECTED)
    assert [(r["状态"], r["报送情况"]) for r in _table(wb["未入选"])[1]] == [("市州不推荐", "市州不推荐（未报送）")]
    assert [r["报送情况"] for r in _table(wb["推荐工信部"])[1]] == ["市州初审通过（未报送）"]


def test_the_default_roster_keeps_the_official_columns(app, round_data, province_client):
    set_batch_state(app, "510700", "reported")
    for list_key in ("all", "recommended", "cultivation"):
        wb = workbook(province_client.get(f"/reports/roster/{list_key}.xlsx"))
        for ws in wb.worksheets:
            assert _table(ws)[0] == OFFICIAL, (list_key, ws.title)
            assert "含未报送" not in ws["A1"].value
    text = pdf_text(pdf_reader(province_client.get("/reports/roster/all.pdf")))
    assert "报送情况" not in text and "绵阳甲平台" in text
    page = province_client.get("/reports/roster/all").get_data(as_text=True)
    assert "报送情况" not in page and "绵阳甲平台" in page and "成都丙平台" not in page


STANDING = next(c for c in UNREPORTED_ROSTER_COLUMNS if c.key == "standing")


def _pdf_standings(province_client) -> tuple[dict[str, str], set[str]]:
    """报送情况 of each platform as the PDF prints it (its pieces after the 状态 beside it), and
    every word printed."""
    text = pdf_text(pdf_reader(province_client.get("/reports/roster/unreported.pdf")))
    lines = [line.split() for line in text.splitlines()]
    found = {}
    for platform, state in STATES.items():  # 序号 市（州） 平台名称 … 状态 报送情况
        row = next(cells for cells in lines if platform in cells)
        after = row[row.index(state) + 1:]
        found[platform] = next("".join(after[:n]) for n in (1, 2) if "".join(after[:n]) in STANDINGS)
        assert "·" not in "".join(row), row
    return found, {cell for line in lines for cell in line}


def test_the_unreported_pdf_prints_the_standing_with_each_word_whole(app, round_data, province_client):
    text = pdf_text(pdf_reader(province_client.get("/reports/roster/unreported.pdf")))
    flat = re.sub(r"\s+", "", text)
    assert "全省申报名单（含未报送）" in flat and "报送情况" in flat
    standings, cells = _pdf_standings(province_client)
    assert standings == EXPECTED
    # each label whole on its line, its note 「（未报送）」 whole on the next
    assert STANDING.pieces("市州初审通过（未报送）") == ("市州初审通过", "（未报送）")
    assert {"市州不推荐", "退回修改", "市州初审通过", "草稿", "（未报送）"} <= cells
    assert not cells & {"市州不", "推荐", "退回修", "改", "（未报", "送）", "（未", "报送）"}, cells


def test_a_draft_in_an_accepted_batch_is_not_reported_on_the_page_in_the_workbook_and_pdf(
        app, round_data, province_client):
    """The walk: a draft's 报送情况 showed its batch's 已受理."""
    set_batch_state(app, "510700", "reported")
    set_batch_state(app, "510100", "accepted")
    page = province_client.get("/reports/roster/unreported").get_data(as_text=True)
    rows = re.findall(r"<tr>(.*?)</tr>", page.split("<tbody>")[1], re.S)
    cells = [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
             for row in rows]
    assert {c[2]: c[8] for c in cells} == REPORTED
    wb = workbook(province_client.get("/reports/roster/unreported.xlsx"))
    assert {r["平台名称"]: r["报送情况"] for r in _table(wb["全部"])[1]} == REPORTED
    assert _pdf_standings(province_client)[0] == REPORTED


def test_the_roster_page_shows_the_standing_in_the_unreported_view(app, round_data, province_client,
                                                                   viewer_client, city_client):
    page = province_client.get("/reports/roster/unreported").get_data(as_text=True)
    headings = re.findall(r"<th[^>]*>([^<]+)</th>", page)
    assert headings == WITH_STANDING
    rows = re.findall(r"<tr>(.*?)</tr>", page.split("<tbody>")[1], re.S)
    cells = [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
             for row in rows]
    assert {c[2]: c[8] for c in cells} == EXPECTED
    assert {c[2]: c[7] for c in cells} == STATES
    assert "/reports/roster/unreported.xlsx" in page and "/reports/roster/unreported.pdf" in page
    index = province_client.get("/reports/").get_data(as_text=True)
    assert 'href="/reports/roster/unreported"' in index and 'href="/reports/roster/all"' in index
    assert viewer_client.get("/reports/roster/unreported").status_code == 200
    assert city_client.get("/reports/roster/unreported").status_code == 404
    assert province_client.get("/reports/roster/nonsense").status_code == 404
