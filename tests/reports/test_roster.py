"""The province-wide roster and its filtered lists: Excel sheets, counts, print set-up, PDF, access."""
import re
from decimal import Decimal

import pytest

from xkxl_intranet.applications.models import Application
from xkxl_intranet.domain.errors import NotFound
from xkxl_intranet.domain.indicators import FIELDS
from xkxl_intranet.extensions import db
from xkxl_intranet.reports.roster import build_roster, roster_counts, roster_pdf
from xkxl_intranet.rounds.state import current_round

from .helpers import (
    embedded_fonts,
    make_passed,
    page_size_mm,
    pdf_reader,
    pdf_text,
    set_batch_state,
    set_fields,
    user,
    workbook,
)
from helpers import create_application, sql_statements

HEADERS = ["序号", "市（州）", "平台名称", "企业名称", "统一社会信用代码", "联系人", "手机", "状态", "省厅标记",
           "可连接的工业设备/产品/产线数量（台/套）", "工业模型数量（个）", "工业APP数量（个）", "注册企业用户数（个）",
           "第三方开发者注册总数（个）", "2021年平台相关的业务收入（万元）"]


def _data(app, *, report=True):
    """成都: 2 passed (one recommended, one cultivation) + 1 draft; 绵阳: 1 recommended, 1 not selected.
    Both cities have reported (成都's batch accepted) unless ``report=False``."""
    cd1 = make_passed(app, platform_name="成都甲平台", enterprise_name="成都甲公司")
    cd2 = make_passed(app, platform_name="成都乙平台", enterprise_name="成都乙公司")
    cd3 = create_application(app, platform_name="成都丙平台", enterprise_name="成都丙公司", with_form=False)
    my1 = make_passed(app, "mianyang", platform_name="绵阳甲平台", enterprise_name="绵阳甲公司")
    my2 = make_passed(app, "mianyang", platform_name="绵阳乙平台", enterprise_name="绵阳乙公司")
    set_fields(app, cd1, province_mark="recommended", revenue_2021=Decimal("12345.67"), devices_total=1234567)
    set_fields(app, cd2, province_mark="cultivation")
    set_fields(app, my1, province_mark="recommended")
    set_fields(app, my2, province_mark="not_selected")
    if report:
        set_batch_state(app, "510100", "accepted")
        set_batch_state(app, "510700", "reported")
    return cd1, cd2, cd3, my1, my2


def _rows(ws):
    return [row for row in ws.iter_rows(min_row=4, values_only=True) if row[0] is not None]


def test_roster_workbook_has_every_application_and_one_sheet_per_mark(app, province_client):
    _data(app)
    wb = workbook(province_client.get("/reports/roster/all.xlsx"))
    assert wb.sheetnames == ["全部", "推荐工信部", "列入省级培育名单", "未入选"]
    ws = wb["全部"]
    assert ws["A1"].value == "2022年跨行业跨领域工业互联网平台全省申报名单"
    assert "共 4 项" in ws["A2"].value and "导出时间" in ws["A2"].value
    assert [c.value for c in ws[3]] == HEADERS
    rows = _rows(ws)
    assert [r[0] for r in rows] == [1, 2, 3, 4]
    # Only what the cities reported: the draft 成都丙平台 is not on the province's roster.
    assert [(r[1], r[2]) for r in rows] == [("成都市", "成都甲平台"), ("成都市", "成都乙平台"),
                                           ("绵阳市", "绵阳甲平台"), ("绵阳市", "绵阳乙平台")]
    first = rows[0]
    assert first[3] == "成都甲公司" and len(first[4]) == 18 and first[5] == "张三" and first[6] == "13800001234"
    assert first[7] == "市州初审通过" and first[8] == "推荐工信部"
    assert first[9] == 1234567 and Decimal(str(first[14])) == Decimal("12345.67")
    assert all(r[7] == "市州初审通过" for r in rows)
    assert [r[2] for r in _rows(wb["推荐工信部"])] == ["成都甲平台", "绵阳甲平台"]
    assert [r[0] for r in _rows(wb["推荐工信部"])] == [1, 2]
    assert [r[2] for r in _rows(wb["列入省级培育名单"])] == ["成都乙平台"]
    assert wb["列入省级培育名单"]["A1"].value == "2022年跨行业跨领域工业互联网平台列入省级培育名单"
    assert wb["推荐工信部"]["A1"].value == "2022年跨行业跨领域工业互联网平台推荐工信部名单"
    assert wb["未入选"]["A1"].value == "2022年跨行业跨领域工业互联网平台未入选名单"
    assert [r[2] for r in _rows(wb["未入选"])] == ["绵阳乙平台"]
    # formats and print set-up
    assert ws["J4"].number_format == "#,##0" and ws["O4"].number_format == "#,##0.00"
    assert ws.freeze_panes == "D4"
    assert ws.auto_filter.ref == "A3:O7"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws.print_title_rows == "$3:$3" and ws.print_area == "'全部'!$A$1:$O$7"
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
    assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text


def test_roster_counts_match_the_database(app, province_client):
    _data(app, report=False)
    for n in range(3):
        create_application(app, "mianyang", with_form=False, platform_name=f"绵阳草稿{n}")
    set_batch_state(app, "510100", "accepted")
    set_batch_state(app, "510700", "reported")
    wb = workbook(province_client.get("/reports/roster/all.xlsx"))
    with app.app_context():
        passed = db.select(Application).where(Application.review_state == "passed").subquery()
        total = db.session.scalar(db.select(db.func.count()).select_from(passed))
        by_mark = dict(db.session.execute(db.select(passed.c.province_mark, db.func.count())
                                          .group_by(passed.c.province_mark)).all())
        codes = set(db.session.scalars(db.select(passed.c.credit_code)))
        everything = db.session.scalar(db.select(db.func.count()).select_from(Application))
    assert len(_rows(wb["全部"])) == total == 4  # the 4 drafts are not reported
    assert everything == 8
    assert len(_rows(wb["推荐工信部"])) == by_mark["recommended"]
    assert len(_rows(wb["列入省级培育名单"])) == by_mark["cultivation"]
    assert len(_rows(wb["未入选"])) == by_mark["not_selected"]
    assert {r[4] for r in _rows(wb["全部"])} == codes
    page = province_client.get("/reports/").get_data(as_text=True)
    assert re.search(r"全省申报名单</a></td>\s*<td class=\"num\">4</td>", page)
    assert re.search(r"全省申报名单（含未报送）</a></td>\s*<td class=\"num\">8</td>", page)
    assert re.search(r"推荐工信部名单</a></td>\s*<td class=\"num\">2</td>", page)


def test_filtered_lists_use_the_same_layout(app, viewer_client):
    _data(app)
    wb = workbook(viewer_client.get("/reports/roster/recommended.xlsx"))
    assert wb.sheetnames == ["推荐工信部名单"]
    ws = wb.active
    assert ws["A1"].value == "2022年跨行业跨领域工业互联网平台推荐工信部名单"
    assert [c.value for c in ws[3]] == HEADERS
    assert [r[2] for r in _rows(ws)] == ["成都甲平台", "绵阳甲平台"]
    ws = workbook(viewer_client.get("/reports/roster/cultivation.xlsx")).active
    assert ws["A1"].value == "2022年跨行业跨领域工业互联网平台列入省级培育名单"
    assert [r[2] for r in _rows(ws)] == ["成都乙平台"]
    assert viewer_client.get("/reports/roster/nonsense.xlsx").status_code == 404


def test_roster_headings_come_from_the_declaration():
    from xkxl_intranet.domain.checks import FORM_2022
    from xkxl_intranet.reports.layouts import ROSTER_FIGURE_WIDTHS, roster_columns

    by_key = {c.key: c for c in roster_columns(FORM_2022)}
    for key in ROSTER_FIGURE_WIDTHS:
        assert by_key[key].heading == FIELDS[key].heading
        assert FIELDS[key].unit in by_key[key].heading


def test_roster_pdf_is_landscape_with_page_numbers_date_and_every_row(app, province_client):
    ids = _data(app)
    response = province_client.get("/reports/roster/all.pdf")
    reader = pdf_reader(response)
    assert page_size_mm(reader) == (297, 210)
    text = re.sub(r"[ \t]+", "", pdf_text(reader))
    assert "2022年跨行业跨领域工业互联网平台全省申报名单" in text and "共4项" in text
    for heading in ("序号", "市（州）", "统一社会信用代码", "省厅标记"):
        assert heading in text
    assert re.search(r"第1页/共\d+页", text) and "打印日期：" in text
    with province_client.application.app_context():
        names = db.session.scalars(db.select(Application.platform_name).where(Application.id.in_(ids))).all()
    for name in names:
        assert (name in text) == (name != "成都丙平台"), name  # the draft is not reported
    assert "1,234,567" in text and "12,345.67" in text
    assert any("CJK" in name for name, _ in embedded_fonts(reader))


def test_a_repeated_download_of_unchanged_data_is_not_made_again(app, province_client, viewer_client):
    """The province's second click on the roster is answered from the cache (one query of the
    rows' versions, none of their printed columns, no printing); a change of a row makes the
    next download new."""
    cd1, *_ = _data(app)
    for url in ("/reports/roster/all.pdf", "/reports/roster/recommended.xlsx"):
        first = province_client.get(url)
        with sql_statements(app) as statements:
            again = province_client.get(url)
        assert again.status_code == 200 and again.data == first.data
        assert again.headers["Content-Disposition"] == first.headers["Content-Disposition"]
        reads = [s for s in statements if "FROM application" in s]
        assert len(reads) == 1 and "platform_name" not in reads[0], statements
    viewer_copy = viewer_client.get("/reports/roster/all.pdf")  # another role: its own entry
    assert viewer_copy.status_code == 200
    set_fields(app, cd1, platform_name="成都甲平台二期")
    text = re.sub(r"[ \t]+", "", pdf_text(pdf_reader(province_client.get("/reports/roster/all.pdf"))))
    assert "成都甲平台二期" in text
    assert province_client.get("/reports/roster/nonsense.pdf").status_code == 404


def test_cities_cannot_get_the_roster_or_the_comparison(app, city_client):
    for url in ("/reports/roster/all.xlsx", "/reports/roster/all.pdf", "/reports/roster/recommended.xlsx",
                "/reports/roster/cultivation.pdf", "/reports/compare"):
        assert city_client.get(url).status_code == 404, url


def test_roster_services_are_scoped_to_the_acting_user_and_need_no_request(app):
    _data(app)
    with app.app_context():
        round_ = current_round()
        full = build_roster(user("province"), round_, "all")
        assert len(full.entries) == 4 and [s.name for s in full.sheets][1:] == ["推荐工信部", "列入省级培育名单", "未入选"]
        own = build_roster(user("chengdu"), round_, "unreported")  # a clerk's query holds only their city
        assert {e.values[0] for e in own.entries} == {"成都市"} and len(own.entries) == 3
        assert roster_counts(user("province"), round_) == {"all": 4, "unreported": 5, "recommended": 2,
                                                           "cultivation": 1, "not_selected": 1}
        assert roster_counts(user("mianyang"), round_)["all"] == 2
        with pytest.raises(NotFound):
            build_roster(user("province"), round_, "nonsense")
        assert roster_pdf(build_roster(user("viewer"), round_, "recommended")).startswith(b"%PDF")


def test_printed_figures_use_the_one_formatter():
    from xkxl_intranet.domain.checks import FORM_2022
    from xkxl_intranet.domain.parsing import format_field
    from xkxl_intranet.reports.layouts import roster_columns

    by_key = {c.key: c for c in roster_columns(FORM_2022)}
    assert by_key["devices_total"].text(1234567) == "1,234,567" == format_field("devices_total", 1234567,
                                                                                 thousands=True)
    assert by_key["revenue_2021"].text(Decimal("12345.6")) == "12,345.60"
    assert by_key["revenue_2021"].text(None) == "" and by_key["city"].text("成都市") == "成都市"
    assert format_field("revenue_2021", Decimal("12345.6")) == "12345.60"  # the form's text: no separators


def test_the_roster_counts_only_what_the_cities_reported(app, province_client):
    _data(app, report=False)  # nobody has reported yet
    set_batch_state(app, "510700", "reported")
    wb = workbook(province_client.get("/reports/roster/all.xlsx"))
    assert [r[2] for r in _rows(wb["全部"])] == ["绵阳甲平台", "绵阳乙平台"]
    set_batch_state(app, "510700", "returned")  # being corrected: not counted until reported again
    assert _rows(workbook(province_client.get("/reports/roster/all.xlsx"))["全部"]) == []
    set_batch_state(app, "510100", "accepted")
    assert [r[2] for r in _rows(workbook(province_client.get("/reports/roster/all.xlsx"))["全部"])] == [
        "成都甲平台", "成都乙平台"]


def test_the_view_with_unreported_applications_says_so_in_every_print(app, province_client):
    _data(app)
    wb = workbook(province_client.get("/reports/roster/unreported.xlsx"))
    ws = wb["全部"]
    assert ws["A1"].value == "2022年跨行业跨领域工业互联网平台全省申报名单（含未报送）"
    assert "成都丙平台" in [r[2] for r in _rows(ws)] and "草稿" in [r[7] for r in _rows(ws)]
    text = re.sub(r"[ \t]+", "", pdf_text(pdf_reader(province_client.get("/reports/roster/unreported.pdf"))))
    assert "全省申报名单（含未报送）" in text and "成都丙平台" in text
    response = province_client.get("/reports/roster/unreported.xlsx")
    assert "%E5%90%AB%E6%9C%AA%E6%8A%A5%E9%80%81" in response.headers["Content-Disposition"]  # 含未报送


def test_roster_pdf_prints_state_and_mark_words_whole(app, province_client):
    """「市州初审通过/过」 was cut inside the word; each state and mark is on one line of its cell."""
    _data(app)
    lines = pdf_text(pdf_reader(province_client.get("/reports/roster/all.pdf"))).splitlines()
    cells = [part for line in lines for part in line.split()]
    assert "市州初审通过" in cells
    assert {"推荐工信部", "列入省级培育名单", "未入选"} <= set(cells)
    assert not any(cell in ("市州初审通", "过", "列入省级培育名", "单") for cell in cells), cells
