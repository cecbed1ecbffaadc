"""The roster on screen a page at a time: at 2,016 applications one page of every row was about
1 MB of HTML; now 100 rows a page with the pager of 全部申报, and the Excel and PDF still hold
every row."""
from __future__ import annotations

import re

from xkxl_intranet.reports.roster import ROSTER_PAGE_SIZE

from .helpers import reported_round, workbook

PER_CITY = 96  # × 21 cities = 2,016 applications, the size the issue measured


def _rows(html: str) -> list[list[str]]:
    body = html[html.index("<tbody>"):html.index("</tbody>")]
    return [[re.sub(r"<[^>]+>|\s+", "", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_the_roster_page_is_paged_and_its_files_hold_every_row(app, province_client):
    reported_round(app, PER_CITY)
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
    reported_round(app, 2)
    html = viewer_client.get("/reports/roster/all").get_data(as_text=True)
    assert len(_rows(html)) == 42 and "共 42 项" in html and 'class="pager"' not in html
    assert province_client.get("/reports/roster/recommended").get_data(as_text=True).count("（无）") == 1
    assert city_client.get("/reports/roster/all?page=2").status_code == 404
    assert province_client.get("/reports/roster/nonsense?page=2").status_code == 404
