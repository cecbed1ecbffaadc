"""Prints of the review: each expert's signed 评分表 (PDF), every sheet of an application, and
the 评审汇总表 in Excel (typed cells, text never a formula) and PDF."""
from __future__ import annotations

import re

from .helpers import fill, give, open_review, passed, report
from reports.helpers import pdf_reader, pdf_text, workbook


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _reviewed(app, **overrides):
    open_review(app)
    application_id = passed(app, "chengdu", **overrides)
    report(app, "chengdu")
    first, second = give(app, application_id, "expert1"), give(app, application_id, "expert2")
    return application_id, first, second


def test_each_expert_prints_their_signed_sheet_once_submitted(app, expert_client, province_client):
    application_id, first, second = _reviewed(app, platform_name="签字测试平台")
    fill(app, first, 7.5, submit=False)
    draft = expert_client.get(f"/review/sheets/{first}.pdf")
    assert draft.status_code == 409 and "评分表尚未提交" in draft.get_data(as_text=True)
    fill(app, first, 7.5)
    response = expert_client.get(f"/review/sheets/{first}.pdf")
    assert "attachment" in response.headers["Content-Disposition"] and "PF" in response.headers["Content-Disposition"]
    reader = pdf_reader(response)
    text = _flat(pdf_text(reader))
    assert "评审评分表" in text and "签字测试平台" in text and "张明远" in text
    assert "1.1工业设备数量" in text and "2.3自研杀手锏工业APP情况" in text and "5.3生态运营能力" in text
    assert "75.00" in text and "综合得分（满分100分）" in text  # every indicator 7.5 → 75
    assert "评审专家（签字）" in text and "日期：" in text and "年" in text
    assert "李佳音" not in text
    assert province_client.get(f"/review/sheets/{first}.pdf").status_code == 200
    assert expert_client.get(f"/review/sheets/{second}.pdf").status_code == 404


def test_every_submitted_sheet_of_an_application_one_expert_per_page(app, province_client):
    application_id, first, second = _reviewed(app)
    assert province_client.get(f"/review/applications/{application_id}/sheets.pdf").status_code == 409
    fill(app, first, 8)
    fill(app, second, 6, opinion="cultivate")
    reader = pdf_reader(province_client.get(f"/review/applications/{application_id}/sheets.pdf"))
    pages = [_flat(page.extract_text()) for page in reader.pages]
    owners = [("张明远" in p, "李佳音" in p) for p in pages]
    assert (True, False) in owners and (False, True) in owners
    assert any("80.00" in p for p in pages) and any("60.00" in p for p in pages)


def test_the_summary_workbook_is_typed_and_text_stays_text(app, province_client):
    application_id, first, second = _reviewed(app, platform_name="=HYPERLINK(\"http://x\",\"点我\")",
                                              enterprise_name="=1+1科技有限公司")
    fill(app, first, 8)
    fill(app, second, 9)
    book = workbook(province_client.get("/review/ranking.xlsx"))
    ws = book.active
    assert ws.title == "评审汇总" and "评审汇总表" in ws["A1"].value
    header = next(r for r in range(1, 8) if ws.cell(row=r, column=1).value == "排名")
    headings = [ws.cell(row=header, column=c).value for c in range(1, 14)]
    assert headings[:3] == ["排名", "市（州）", "工业互联网平台名称"] and "平均分" in headings
    row = header + 1
    values = {h: ws.cell(row=row, column=c + 1) for c, h in enumerate(headings)}
    assert values["排名"].value == 1 and values["有效评分"].value == 2
    assert values["平均分"].value == 85 and values["平均分"].data_type == "n" and values["平均分"].number_format == "0.00"
    assert values["工业互联网平台名称"].data_type == "s" and values["工业互联网平台名称"].value.startswith("=HYPERLINK")
    assert values["依托企业"].data_type == "s"
    assert "张明远 80.00（推荐）" in values["各专家综合得分（意见）"].value
    assert ws.page_setup.orientation == "landscape" and ws.print_title_rows


def test_the_summary_pdf_lists_the_ranking_with_its_weights(app, province_client):
    application_id, first, second = _reviewed(app, platform_name="汇总表测试平台")
    fill(app, first, 8)
    text = _flat(pdf_text(pdf_reader(province_client.get("/review/ranking.pdf"))))
    assert "评审汇总表" in text and "汇总表测试平台" in text and "平台资源管理水平25%" in text
    assert "80.00" in text and "经办人" in text and "审核人" in text


def test_the_roster_writes_names_as_text_too(app, province_client):
    """The same rule for the existing reports: a name starting with "=" stays text."""
    _reviewed(app, enterprise_name="=2+3科技有限公司")
    ws = workbook(province_client.get("/reports/roster/all.xlsx")).active
    cells = [c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=2+3")]
    assert cells and all(c.data_type == "s" for c in cells)
