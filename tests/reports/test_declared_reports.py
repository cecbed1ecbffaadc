"""附件3, the roster, the indicator template and the comparison follow the round's declaration
(issue 21): a later round whose notice renames a 附件3 heading, changes a header line, adds a
column of a figure and drops a field from its 申报书 prints and reads exactly that, while the 2022
round's documents stay as they were (tests/golden)."""
from __future__ import annotations

import re
from datetime import datetime

import pytest

from xkxl_intranet import clock
from xkxl_intranet.batches.settings import open_round
from xkxl_intranet.extensions import db
from xkxl_intranet.notice.loader import parse_notice
from xkxl_intranet.reports.layouts import template_rows
from xkxl_intranet.rounds.models import Round
from xkxl_intranet.rounds.state import current_round

from .helpers import (
    NOTICE_2022,
    as_bytes,
    city_id,
    make_passed,
    pdf_reader,
    pdf_text,
    template,
    upload,
    user,
    workbook,
)
from helpers import get_application, notice_text

DROPPED = "revenue_2021"
DROPPED_LABEL = NOTICE_2022.form.fields[DROPPED].heading  # 2021年平台相关的业务收入（万元）
APPS = 360  # 工业APP数量 of tests/helpers.application_values


def _replace(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def variant_text() -> str:
    """The 2023 notice of tests/helpers with 附件3's platform column renamed, its contact line
    reworded, a column of 工业APP数量 added, and 2021's revenue no longer asked for (its field,
    its place in 5.1 and its two rules gone)."""
    text = notice_text()
    text = _replace(text, 'heading = "工业互联网平台名称"', 'heading = "平台名称（全称）"')
    text = _replace(text, '"联系人：{contact_name}",', '"联系人（处室）：{contact_name}",')
    text = _replace(text, '  heading = "联系方式（手机）"\n  value = "contact_mobile"\n',
                    '  heading = "联系方式（手机）"\n  value = "contact_mobile"\n\n'
                    '  [[summary.column]]\n  heading = "工业APP数量"\n  value = "apps_total"\n')
    text = _replace(text, '  "{revenue_2021}",\n', "")
    text, fields = re.subn(r'  \[\[section\.field\]\]\n  key = "revenue_2021"\n(?:  .*\n)*\n', "", text)
    text, rules = re.subn(r'\[\[rule\]\]\nid = "le:revenue_2021[^"]*"\n(?:.*\S.*\n)*\n', "", text)
    assert (fields, rules) == (1, 2)
    return text


VARIANT = parse_notice(variant_text())


@pytest.fixture
def second_round(app):
    """The 2023 round opened from the variant notice, now the current one, with one 初审通过
    application of 成都 in it; yields that application's id."""
    clock.set_now(datetime(2022, 3, 19, 12, 0, tzinfo=clock.SHANGHAI))
    with app.app_context():
        opened = open_round(user("province"), VARIANT, notice_file="2023.toml", confirm_replace=True)
        db.session.commit()
        assert DROPPED not in opened.form.fields and DROPPED in NOTICE_2022.form.fields
    application_id = make_passed(app, platform_name="蜀数工业互联网平台")
    assert get_application(app, application_id).values()["apps_total"] == APPS
    yield application_id
    clock.set_now(None)


def test_the_summary_workbook_prints_the_rounds_columns_and_lines(app, city_client, second_round):
    application = get_application(app, second_round)
    ws = workbook(city_client.get(f"/reports/cities/{city_id(app, '510100')}/summary.xlsx")).active
    cells = [[c.value for c in row] for row in ws.iter_rows()]
    assert cells[1][0] == "2023年跨行业跨领域工业互联网平台推荐信息汇总表"
    assert cells[2][0] == "市（州）经济和信息化主管部门（盖章）：成都市经济和信息化局"
    assert cells[3][0].startswith("联系人（处室）：") and cells[4][0].startswith("联系方式：")
    assert cells[5] == ["序号", "平台名称（全称）", "依托企业", "联系人", "联系方式（手机）", "工业APP数量"]
    assert cells[6] == [1, "蜀数工业互联网平台", application.enterprise_name, application.contact_name,
                        application.contact_mobile, "360"]
    assert not any("工业互联网平台名称" in str(v) for row in cells for v in row if v)
    assert re.fullmatch(r"'附件3'!\$A\$1:\$F\$\d+", ws.print_area)  # the six columns


def test_the_summary_pdf_and_page_print_the_rounds_columns_and_lines(app, city_client, second_round):
    path = f"/reports/cities/{city_id(app, '510100')}/summary"
    text = re.sub(r"\s+", "", pdf_text(pdf_reader(city_client.get(path + ".pdf"))))
    assert "平台名称（全称）" in text and "工业APP数量" in text
    assert "联系人（处室）：" in text and "工业互联网平台名称" not in text
    page = city_client.get(path).get_data(as_text=True)
    assert "<th>平台名称（全称）</th>" in page and "<th>工业APP数量</th>" in page and "<td>360</td>" in page
    assert 'id="contact-form"' in page  # where the reworded contact line is, its clerk edits it


def test_the_roster_shows_the_rounds_fields_and_not_the_dropped_one(app, province_client, second_round):
    ws = workbook(province_client.get("/reports/roster/unreported.xlsx")).active
    headings = [c.value for c in ws[3]]
    assert DROPPED_LABEL not in headings and "工业APP数量（个）" in headings
    assert ws.cell(row=4, column=headings.index("工业APP数量（个）") + 1).value == APPS
    page = province_client.get("/reports/roster/unreported").get_data(as_text=True)
    assert DROPPED_LABEL not in page and "蜀数工业互联网平台" in page


def test_the_import_template_lists_the_rounds_fields_and_reads_its_own(app, city_client, second_round):
    wb = template(city_client, filled=True)
    ws = wb["指标"]
    keys = [c.value for (c,) in ws.iter_rows(min_row=4, min_col=1, max_col=1) if c.value]
    with app.app_context():
        assert keys == [r.key for r in template_rows(current_round().form) if r.key]
    assert DROPPED not in keys and "apps_total" in keys
    page = upload(city_client, as_bytes(wb)).get_data(as_text=True)
    assert '<span class="tag">无变化</span>' in page  # the round's own template reads back as stored


def test_a_template_of_the_2022_form_is_refused_by_the_round(app, city_client, second_round):
    with app.app_context():
        first = db.session.scalar(db.select(Round).where(Round.year == 2022))
        first.is_current, current_round().is_current = True, False
        db.session.commit()
    wb = template(city_client)
    assert "revenue_2021" in [c.value for (c,) in wb["指标"].iter_rows(min_col=1, max_col=1)]
    wb["模板信息"]["B4"] = 2023  # even were it of the right year: its rows are 2022's
    with app.app_context():
        first = db.session.scalar(db.select(Round).where(Round.year == 2022))
        second = db.session.scalar(db.select(Round).where(Round.year == 2023))
        first.is_current, second.is_current = False, True
        db.session.commit()
    page = upload(city_client, as_bytes(wb)).get_data(as_text=True)
    assert "是旧版本的指标模板" in page


def test_the_comparison_offers_the_rounds_figures(app, province_client, second_round):
    page = province_client.get("/reports/compare").get_data(as_text=True)
    assert f'<option value="{DROPPED}"' not in page and '<option value="apps_total"' in page
    dropped = province_client.get(f"/reports/compare?indicator={DROPPED}").get_data(as_text=True)
    assert "<figcaption>工业APP数量（个）" in dropped  # not the round's: the default figure
