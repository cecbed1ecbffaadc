"""The roster on screen a page at a time: at 2,016 applications one page of every row was about
1 MB of HTML; now 100 rows a page with the pager of 全部申报, and the Excel and PDF still hold
every row."""
from __future__ import annotations

import re

from sqlalchemy import insert

from xkxl_intranet.applications.models import Application
from xkxl_intranet.extensions import db
from xkxl_intranet.reports.roster import ROSTER_PAGE_SIZE
from xkxl_intranet.rounds.state import all_cities, batch_for_write, current_round

from .helpers import workbook

PER_CITY = 96  # × 21 cities = 2,016 applications, the size the issue measured


def _reported_round(app, per_city: int = PER_CITY) -> None:
    """``per_city`` 初审通过 applications in every city, each city's batch reported (inserted in
    bulk: the roster, not the application form, is under test)."""
    with app.app_context():
        round_ = current_round()
        rows = [{"round_id": round_.id, "city_id": city.id, "position": n + 1, "review_state": "passed",
                 "enterprise_name": f"{city.name}测试企业{n:03d}有限公司",
                 "platform_name": f"{city.name}平台{n:03d}", "credit_code": "91510100MA6C000001",
                 "contact_name": "张三", "contact_mobile": "13800001234", "devices_total": 1000 + n,
                 "acknowledgements": {}}
                for city in all_cities() for n in range(per_city)]
        db.session.execute(insert(Application), rows)
        for city in all_cities():
            batch_for_write(round_.id, city.id).state = "reported"
        db.session.commit()


def _rows(html: str) -> list[list[str]]:
    body = html[html.index("<tbody>"):html.index("</tbody>")]
    return [[re.sub(r"<[^>]+>|\s+", "", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_the_roster_page_is_paged_and_its_files_hold_every_row(app, province_client):
    _reported_round(app)
    response = province_client.get("/reports/roster/all")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and len(response.data) <= 200 * 1024
    rows = _rows(html)
    assert len(rows) == ROSTER_PAGE_SIZE == 100
    assert [r[0] for r in rows] == [str(n) for n in range(1, 101)]
    assert "共 2016 项" in html and "第 1/21 页" in html and "Excel 和 PDF 含全部 2016 项" in html
    pager = re.search(r'<nav class="pager" aria-label="分页">(.*?)</nav>', html, re.S)[1]
    assert 'href="/reports/roster/all?page=2"' in pager and 'hx-target="#roster-table"' in pager
    assert 'href="/reports/roster/all?page=21"' in pager and "上一页" not in pager

    wb = workbook(province_client.get("/reports/roster/all.xlsx"))
    every = [r for r in wb["全部"].iter_rows(min_row=4, values_only=True) if r[0] is not None]
    assert len(every) == 2016
    last = province_client.get("/reports/roster/all?page=21", headers={"HX-Request": "true"})
    fragment = last.get_data(as_text=True)
    assert "<html" not in fragment and 'id="quota-line"' not in fragment  # the table and its pager
    last_rows = _rows(fragment)
    assert [r[0] for r in last_rows] == [str(n) for n in range(2001, 2017)]
    # The same rows in the same order as the Excel's: page 21 is its last sixteen.
    assert [r[2] for r in last_rows] == [r[2] for r in every[2000:]]
    second = _rows(province_client.get("/reports/roster/all?page=2").get_data(as_text=True))
    assert [r[2] for r in second] == [r[2] for r in every[100:200]]
    beyond = province_client.get("/reports/roster/all?page=99").get_data(as_text=True)
    assert "第 21/21 页" in beyond and "下一页" not in beyond


def test_a_short_list_has_no_pager(app, province_client, viewer_client, city_client):
    _reported_round(app, per_city=2)
    html = viewer_client.get("/reports/roster/all").get_data(as_text=True)
    assert len(_rows(html)) == 42 and "共 42 项" in html and 'class="pager"' not in html
    assert province_client.get("/reports/roster/recommended").get_data(as_text=True).count("（无）") == 1
    assert city_client.get("/reports/roster/all?page=2").status_code == 404
    assert province_client.get("/reports/roster/nonsense?page=2").status_code == 404
