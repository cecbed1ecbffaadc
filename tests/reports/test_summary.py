"""附件3 推荐信息汇总表: content, order set by the clerk, contacts, Excel print set-up, PDF, scoping."""
import re

import pytest

from xkxl_intranet.domain.errors import NotFound, Refused
from xkxl_intranet.extensions import db
from xkxl_intranet.reports import summary_layout as layouts
from xkxl_intranet.reports.summary import (
    build_summary,
    move_application,
    passed_counts,
    summary_pdf,
    update_contact,
)
from xkxl_intranet.reports.summary_layout import Summary, summary_print_widths
from xkxl_intranet.rounds.models import City
from xkxl_intranet.rounds.state import current_round

from .helpers import (
    NOTICE_2022,
    city_id,
    embedded_fonts,
    events,
    make_passed,
    page_size_mm,
    pdf_reader,
    pdf_text,
    row_2022,
    set_batch_state,
    user,
    workbook,
)
from helpers import create_application, get_application

TITLE = "2022年跨行业跨领域工业互联网平台推荐信息汇总表"
CHENGDU, MIANYANG = "510100", "510700"
HTMX = {"HX-Request": "true"}


def _three_passed(app):
    ids = [make_passed(app, platform_name=f"蜀{n}工业互联网平台", enterprise_name=f"四川蜀{n}科技有限公司",
                       contact_name=f"联系人{n}", contact_mobile=f"1380000000{n}") for n in (1, 2, 3)]
    create_application(app, platform_name="草稿平台", enterprise_name="草稿企业")  # not on 附件3
    return ids


def _numbered_rows(ws, first_row=7):
    rows = []
    for row in ws.iter_rows(min_row=first_row, values_only=True):
        if isinstance(row[0], int):
            rows.append(row[:5])
    return rows


def test_city_page_lists_passed_applications_in_order_with_contact_and_disclosure(app, city_client):
    _three_passed(app)
    page = city_client.get(f"/reports/cities/{city_id(app, CHENGDU)}/summary").get_data(as_text=True)
    assert TITLE in page
    assert "市（州）经济和信息化主管部门（盖章）：成都市经济和信息化局" in page
    assert 'value="张伟"' in page and 'value="028-61881234"' in page  # the contact form
    assert "信息公开选项：主动公开" in page and "/rounds/batch" in page
    assert page.index("蜀1工业互联网平台") < page.index("蜀2工业互联网平台") < page.index("蜀3工业互联网平台")
    assert "草稿平台" not in page
    assert city_client.get("/reports/summary").headers["Location"].endswith(
        f"/reports/cities/{city_id(app, CHENGDU)}/summary")


def test_summary_workbook_matches_the_official_layout_and_prints_on_a4(app, city_client):
    _three_passed(app)
    response = city_client.get(f"/reports/cities/{city_id(app, CHENGDU)}/summary.xlsx")
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    ws = workbook(response).active
    assert ws["A1"].value == "附件3"
    assert ws["A2"].value == TITLE and "A2:E2" in {str(r) for r in ws.merged_cells.ranges}
    assert ws["A3"].value == "市（州）经济和信息化主管部门（盖章）：成都市经济和信息化局"
    assert ws["A4"].value == "联系人：张伟" and ws["A5"].value == "联系方式：028-61881234"
    assert [c.value for c in ws[6]] == ["序号", "工业互联网平台名称", "依托企业", "联系人", "联系方式（手机）"]
    assert _numbered_rows(ws) == [
        (n, f"蜀{n}工业互联网平台", f"四川蜀{n}科技有限公司", f"联系人{n}", f"1380000000{n}") for n in (1, 2, 3)]
    assert ws["A11"].value == "信息公开选项：主动公开"
    assert ws["C12"].value == "成都市经济和信息化局（盖章）"  # the bureau whose seal goes there
    assert ws["C14"].value == "填报日期：\u3000\u3000年\u3000\u3000月\u3000\u3000日"
    assert all(ws.cell(row=r, column=c).border.left.style == "thin"
               for r in range(6, 10) for c in range(1, 6))
    # print set-up: a fixed scale at which the columns fit the width (Excel ignores manual page
    # breaks in a sheet fitted to the page; tests/reports/test_summary_print.py lays the pages out)
    assert ws.page_setup.paperSize == 9 and ws.page_setup.orientation == "portrait"
    assert ws.print_area == "'附件3'!$A$1:$E$14"
    assert ws.print_title_rows == "$6:$6"
    assert not ws.sheet_properties.pageSetUpPr.fitToPage and 10 <= ws.page_setup.scale < 100
    assert [ws.column_dimensions[c].width for c in "ABCDE"] == [7, 34, 34, 12, 18]


def test_reordering_renumbers_densely_and_is_reflected_in_the_workbook(app, city_client):
    first, second, third = _three_passed(app)
    cid = city_id(app, CHENGDU)
    response = city_client.post(f"/reports/cities/{cid}/summary/move",
                                data={"application_id": third, "direction": "up"}, headers=HTMX)
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in fragment and 'id="summary-table"' in fragment
    assert "已将“蜀3工业互联网平台”上移至第 2 位" in fragment
    assert fragment.index("蜀3工业互联网平台") < fragment.index("蜀2工业互联网平台")
    # without JavaScript: a redirect back to the page, the same result
    response = city_client.post(f"/reports/cities/{cid}/summary/move",
                                data={"application_id": first, "direction": "down"})
    assert response.status_code == 303 and response.headers["Location"].endswith("#summary-table")
    rows = _numbered_rows(workbook(city_client.get(f"/reports/cities/{cid}/summary.xlsx")).active)
    assert [(r[0], r[1]) for r in rows] == [(1, "蜀3工业互联网平台"), (2, "蜀1工业互联网平台"), (3, "蜀2工业互联网平台")]
    positions = sorted(get_application(app, i).position for i in (first, second, third))
    assert positions == sorted(set(positions)) and max(positions) <= 4  # dense, with the draft
    moved = events(app, "summary.reordered")
    assert len(moved) == 2 and moved[0].city_id == cid
    assert moved[0].before["order"][2] == "蜀3工业互联网平台" and moved[0].after["order"][1] == "蜀3工业互联网平台"
    # the first cannot move up: a message, nothing changes
    response = city_client.post(f"/reports/cities/{cid}/summary/move",
                                data={"application_id": third, "direction": "up"}, headers=HTMX)
    assert "已在第一位" in response.get_data(as_text=True)
    assert len(events(app, "summary.reordered")) == 2


def test_reordering_keeps_the_application_version(app, city_client):
    first, second, _ = _three_passed(app)
    version = get_application(app, second).version
    city_client.post(f"/reports/cities/{city_id(app, CHENGDU)}/summary/move",
                     data={"application_id": second, "direction": "up"})
    assert get_application(app, second).version == version  # an open edit form is not made stale
    assert get_application(app, second).position < get_application(app, first).position


def test_reordering_is_refused_once_reported(app, city_client):
    _, second, _ = _three_passed(app)
    set_batch_state(app, CHENGDU, "reported")
    cid = city_id(app, CHENGDU)
    page = city_client.get(f"/reports/cities/{cid}/summary").get_data(as_text=True)
    assert "↑ 上移" not in page and "顺序已锁定" in page
    response = city_client.post(f"/reports/cities/{cid}/summary/move",
                                data={"application_id": second, "direction": "up"}, headers=HTMX)
    assert "已报送" in response.get_data(as_text=True) and "不能再调整" in response.get_data(as_text=True)
    response = city_client.post(f"/reports/cities/{cid}/summary/move",
                                data={"application_id": second, "direction": "up"}, follow_redirects=True)
    assert "不能再调整" in response.get_data(as_text=True)
    assert events(app, "summary.reordered") == []


def test_moving_a_draft_or_another_citys_application_is_a_404(app, city_client):
    make_passed(app)
    draft = create_application(app)
    other = make_passed(app, "mianyang")
    cid = city_id(app, CHENGDU)
    assert city_client.post(f"/reports/cities/{cid}/summary/move",
                            data={"application_id": draft, "direction": "up"}).status_code == 404
    assert city_client.post(f"/reports/cities/{cid}/summary/move",
                            data={"application_id": other, "direction": "up"}).status_code == 404
    assert city_client.post(f"/reports/cities/{city_id(app, MIANYANG)}/summary/move",
                            data={"application_id": other, "direction": "up"}).status_code == 404


def test_contact_is_edited_by_the_clerk_audited_and_printed(app, city_client):
    cid = city_id(app, CHENGDU)
    response = city_client.post(f"/reports/cities/{cid}/contact",
                                data={"contact_name": " 李 娜 ", "contact_phone": "13912345678"},
                                follow_redirects=True)
    assert "联系人和联系方式已保存" in response.get_data(as_text=True)
    ws = workbook(city_client.get(f"/reports/cities/{cid}/summary.xlsx")).active
    assert ws["A4"].value == "联系人：李 娜" and ws["A5"].value == "联系方式：13912345678"
    changed = events(app, "city.contact_updated")
    assert changed[-1].before == {"contact_name": "张伟", "contact_phone": "028-61881234", "contact_email": ""}
    assert changed[-1].after == {"contact_name": "李 娜", "contact_phone": "13912345678", "contact_email": ""}
    refused = city_client.post(f"/reports/cities/{cid}/contact",
                               data={"contact_name": "李娜", "contact_phone": "打电话"})
    assert "「联系方式」格式不正确" in refused.get_data(as_text=True)
    refused = city_client.post(f"/reports/cities/{cid}/contact",
                               data={"contact_name": "", "contact_phone": "13912345678"})
    assert "请填写「联系人」" in refused.get_data(as_text=True)
    assert len(events(app, "city.contact_updated")) == 1


def test_a_refused_contact_comes_back_as_typed_beside_its_field(app, city_client):
    """The walk: 赵六 with “028-8621-0000 ext 8” was answered with a redirect that put 张伟 back."""
    cid = city_id(app, CHENGDU)
    response = city_client.post(f"/reports/cities/{cid}/contact",
                                data={"contact_name": "赵六", "contact_phone": "028-8621-0000 ext 8"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'value="赵六"' in page and 'value="028-8621-0000 ext 8"' in page
    assert 'value="张伟"' not in page
    error = re.search(r'<div id="contact_phone-error">(.*?)</div>', page, re.S)
    assert error and "「联系方式」格式不正确" in error.group(1)
    assert re.search(r'<input[^>]*aria-describedby="contact_phone-error"[^>]*autofocus', page) or \
        re.search(r'<input[^>]*autofocus[^>]*aria-describedby="contact_phone-error"', page)
    # an empty 联系人: the same path, the message beside 联系人, the phone as typed
    response = city_client.post(f"/reports/cities/{cid}/contact",
                                data={"contact_name": " ", "contact_phone": "13912345678"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'value="13912345678"' in page
    assert re.search(r'<div id="contact_name-error">.*请填写「联系人」', page, re.S)
    with app.app_context():
        assert db.session.get(City, cid).contact_name == "张伟"  # nothing saved
    assert events(app, "city.contact_updated") == []


def test_summary_pdf_columns_follow_the_content(app, city_client):
    """The walk: “成都导入测试甲科技有限公司” wrapped leaving “司” alone while the platform
    column had room. Names that fit the page print on one line; names that cannot share the room
    in proportion, so that both wrap alike."""
    make_passed(app, platform_name="公式平台", enterprise_name="成都公式测试有限公司")
    make_passed(app, platform_name="蜀数工业互联网平台", enterprise_name="四川蜀数智造科技有限公司")
    make_passed(app, platform_name="甲工业互联网平台", enterprise_name="成都导入测试甲科技有限公司")
    text = pdf_text(pdf_reader(city_client.get(f"/reports/cities/{city_id(app, CHENGDU)}/summary.pdf")))
    lines = [re.sub(r"\s+", "", line) for line in text.splitlines()]
    for name in ("成都导入测试甲科技有限公司", "四川蜀数智造科技有限公司", "蜀数工业互联网平台"):
        assert any(name in line for line in lines), (name, lines)
    assert "司" not in lines and "联系方式（手机）" in "".join(lines)


def test_summary_print_widths_balance_long_names():
    def sheet(*rows):
        return Summary(NOTICE_2022, "2022年", "成都市", "", "", "", "主动公开",
                       tuple(row_2022(n, p, e, "李明", "13912345678") for n, (p, e) in enumerate(rows, 1)))
    short = summary_print_widths(sheet(("甲平台", "成都导入测试甲科技有限公司")))
    assert round(sum(short), 1) == 100 and short[2] > short[1]
    table = layouts.SUMMARY_TABLE_MM
    assert short[2] / 100 * table >= layouts._summary_mm(layouts.text_ems("成都导入测试甲科技有限公司"))
    # both too long for one line: the room is shared in proportion to the longest names
    long_ = summary_print_widths(sheet(("四川" + "工业互联网" * 5 + "平台", "四川" + "科技" * 14 + "有限公司")))
    assert round(sum(long_), 1) == 100
    assert abs(long_[1] / long_[2] - 29 / 34) < 0.02
    # several phones in one cell wrap rather than squeeze the names
    many = summary_print_widths(Summary(NOTICE_2022, "2022年", "成都市", "", "", "", "", (
        row_2022(1, "甲平台", "甲公司", "李明", "13912345678/" * 4),)))
    assert many[4] <= 22


def test_disclosure_chosen_on_the_batch_page_is_printed(app, city_client):
    make_passed(app)
    city_client.get("/rounds/batch")
    city_client.post("/rounds/batch/disclosure", data={"disclosure": "依申请公开"})
    ws = workbook(city_client.get(f"/reports/cities/{city_id(app, CHENGDU)}/summary.xlsx")).active
    assert ws["A9"].value == "信息公开选项：依申请公开"


def test_summary_pdf_is_a4_with_every_row_and_an_embedded_cjk_font(app, city_client):
    _three_passed(app)
    response = city_client.get(f"/reports/cities/{city_id(app, CHENGDU)}/summary.pdf")
    reader = pdf_reader(response)
    assert page_size_mm(reader) == (210, 297)
    text = re.sub(r"[ \t]+", "", pdf_text(reader))
    assert "附件3" in text and TITLE in text
    assert "市（州）经济和信息化主管部门（盖章）：成都市经济和信息化局" in text
    assert "联系人：张伟" in text and "联系方式：028-61881234" in text
    for heading in ("序号", "工业互联网平台名称", "依托企业", "联系方式（手机）"):
        assert heading in text
    for n in (1, 2, 3):
        assert f"蜀{n}工业互联网平台" in text and f"四川蜀{n}科技有限公司" in text and f"1380000000{n}" in text
    assert "信息公开选项：主动公开" in text and "第1页/共1页" in text
    fonts = embedded_fonts(reader)
    assert any("CJK" in name and "Noto" in name for name, _ in fonts), fonts


def test_staff_see_every_city_and_clerks_only_their_own(app, city_client, other_city_client, province_client,
                                                        viewer_client):
    make_passed(app)
    cid = city_id(app, CHENGDU)
    for suffix in ("", ".xlsx"):
        assert city_client.get(f"/reports/cities/{cid}/summary{suffix}").status_code == 200
        assert province_client.get(f"/reports/cities/{cid}/summary{suffix}").status_code == 200
        assert viewer_client.get(f"/reports/cities/{cid}/summary{suffix}").status_code == 200
    for suffix in ("", ".xlsx", ".pdf"):
        assert other_city_client.get(f"/reports/cities/{cid}/summary{suffix}").status_code == 404
    assert province_client.get("/reports/cities/9999/summary").status_code == 404
    contact = {"contact_name": "x", "contact_phone": "13912345678"}
    assert other_city_client.post(f"/reports/cities/{cid}/contact", data=contact).status_code == 404
    staff_page = province_client.get(f"/reports/cities/{cid}/summary").get_data(as_text=True)
    assert "保存联系人" not in staff_page and "↑ 上移" not in staff_page and "联系人：张伟" in staff_page
    assert province_client.post(f"/reports/cities/{cid}/contact",
                                data={"contact_name": "x", "contact_phone": "13912345678"}).status_code == 404
    assert province_client.get("/reports/summary").status_code == 404


def test_index_pages(app, city_client, province_client, viewer_client):
    make_passed(app)
    city_page = city_client.get("/reports/").get_data(as_text=True)
    assert "推荐信息汇总表（附件3）" in city_page and "/reports/template.xlsx" in city_page
    assert "/reports/roster/" not in city_page
    for client in (province_client, viewer_client):
        page = client.get("/reports/").get_data(as_text=True)
        assert "/reports/roster/all.xlsx" in page and "/reports/roster/recommended.pdf" in page
        assert page.count("/summary.pdf") == 21 and "/reports/compare" in page
        assert 'src="/static/js/reports.js"' in page


# ---- the use case, called as a command or another service would: the acting user, no request ----

def test_summary_services_take_the_acting_user_and_need_no_request(app):
    ids = _three_passed(app)
    with app.app_context():
        round_, chengdu = current_round(), db.session.get(City, city_id(app, CHENGDU))
        summary = build_summary(user("chengdu"), round_, chengdu)
        assert [r.application_id for r in summary.rows] == ids and summary.contact_name == "张伟"
        assert build_summary(user("viewer"), round_, chengdu) == summary
        with pytest.raises(NotFound):  # another city's summary is not there for a clerk
            build_summary(user("mianyang"), round_, chengdu)
        assert passed_counts(user("province"), round_) == {chengdu.id: 3}
        assert passed_counts(user("mianyang"), round_) == {}
        assert summary_pdf(summary).startswith(b"%PDF")  # the print template needs no request


def test_only_the_citys_clerk_reorders_and_sets_the_contact(app):
    first, second, _ = _three_passed(app)
    with app.app_context():
        round_, chengdu = current_round(), db.session.get(City, city_id(app, CHENGDU))
        for other in ("province", "viewer", "mianyang"):
            with pytest.raises(NotFound):
                move_application(user(other), round_, chengdu, second, "up")
            with pytest.raises(NotFound):
                update_contact(user(other), round_, chengdu, "李娜", "13912345678")
        with pytest.raises(Refused, match="请选择上移或下移"):
            move_application(user("chengdu"), round_, chengdu, second, "sideways")
        with pytest.raises(NotFound):
            move_application(user("chengdu"), round_, chengdu, 99999, "up")
        message = move_application(user("chengdu"), round_, chengdu, second, "up")
        assert message == "已将“蜀2工业互联网平台”上移至第 1 位。"
        with pytest.raises(Refused, match="「联系人」不能超过40个字"):
            update_contact(user("chengdu"), round_, chengdu, "李" * 41, "13912345678")
        with pytest.raises(Refused, match="请填写「联系方式」"):
            update_contact(user("chengdu"), round_, chengdu, "李娜", " ")
        db.session.commit()
    assert [e.summary for e in events(app, "summary.reordered")] == [
        "调整推荐信息汇总表顺序：“蜀2工业互联网平台”上移至第 1 位"]
    assert events(app, "summary.reordered")[0].username == "chengdu"
    assert get_application(app, second).position < get_application(app, first).position
    assert events(app, "city.contact_updated") == []


def test_an_order_of_one_row_offers_nothing_to_move(app, city_client):
    """附件3 with one platform offered 上移/下移, both disabled: a column of buttons that do nothing."""
    make_passed(app, platform_name="蜀1工业互联网平台")
    page = city_client.get(f"/reports/cities/{city_id(app, CHENGDU)}/summary").get_data(as_text=True)
    assert "蜀1工业互联网平台" in page and "调整顺序" not in page and "↑ 上移" not in page
    make_passed(app, platform_name="蜀2工业互联网平台")
    page = city_client.get(f"/reports/cities/{city_id(app, CHENGDU)}/summary").get_data(as_text=True)
    assert "调整顺序" in page and page.count("↑ 上移") == 2
