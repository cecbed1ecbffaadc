"""Reports in Chromium: reordering 附件3 with htmx, a download with its progress note, the comparison,
the roster a page at a time."""
import pytest

from .helpers import city_id, make_passed, reported_round
from helpers import browser_login

pytestmark = pytest.mark.browser


def test_clerk_reorders_and_downloads_the_summary(app, page, tmp_path):
    for n in (1, 2, 3):
        make_passed(app, platform_name=f"蜀{n}工业互联网平台")
    browser_login(page, "chengdu")
    page.goto(f"/reports/cities/{city_id(app, '510100')}/summary")
    page.evaluate("window.__notReloaded = true")
    page.locator("tr", has_text="蜀1工业互联网平台").locator("button[value=down]").click()
    page.wait_for_selector("text=下移至第 2 位")
    rows = page.locator("#summary-table tbody tr").all_inner_texts()
    assert rows[0].startswith("1") and "蜀2工业互联网平台" in rows[0]
    assert rows[1].startswith("2") and "蜀1工业互联网平台" in rows[1]
    assert page.evaluate("window.__notReloaded") is True  # swapped in place, no reload
    # the keyboard focus stays on the moved row's button, not on <body>
    page.wait_for_function("() => document.activeElement && document.activeElement.tagName === 'BUTTON'")
    focused = page.evaluate("[document.activeElement.value, document.activeElement.closest('tr').innerText]")
    assert focused[0] == "down" and "蜀1工业互联网平台" in focused[1]
    page.keyboard.press("Enter")  # 下移 again, from the keyboard: now last, focus moves to 上移
    page.wait_for_selector("text=下移至第 3 位")
    page.wait_for_function("() => document.activeElement && document.activeElement.value === 'up'")
    assert "蜀1工业互联网平台" in page.evaluate("document.activeElement.closest('tr').innerText")

    with page.expect_download() as download_info:
        page.click("text=下载 PDF（打印盖章）")
    download = download_info.value
    assert download.suggested_filename == "附件3_推荐信息汇总表_成都市.pdf"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    assert target.read_bytes().startswith(b"%PDF")
    page.wait_for_selector(".download-status:has-text('已生成')")


def test_province_compares_an_indicator(app, page):
    make_passed(app, platform_name="甲平台")
    make_passed(app, "mianyang", platform_name="乙平台")
    browser_login(page, "province")
    page.goto("/reports/compare")
    page.select_option("select[name=indicator]", "revenue_2021")
    page.wait_for_selector("figcaption:has-text('2021年平台相关的业务收入')")
    assert "indicator=revenue_2021" in page.url
    assert page.locator("svg.bar-chart rect").count() == 2
    page.click("th a:has-text('市（州）')")
    page.wait_for_selector("th a:has-text('市（州） ▲')")
    assert page.locator(".compare-table tbody tr").first.inner_text().split("\t")[1] == "成都市"


def test_province_pages_through_the_roster(app, page):
    reported_round(app, 12)  # 252 applications: three pages of 100
    browser_login(page, "province")
    page.goto("/reports/roster/all")
    page.evaluate("window.__notReloaded = true")
    rows = page.locator("#roster-table tbody tr")
    assert rows.count() == 100 and rows.first.inner_text().startswith("1\t")
    assert "第 1/3 页" in page.locator("#roster-table").inner_text()
    page.locator("#roster-table nav.pager a", has_text="下一页").click()
    page.wait_for_selector("#roster-table :text('第 2/3 页')")
    assert rows.first.inner_text().startswith("101\t") and rows.count() == 100
    assert page.url.endswith("/reports/roster/all?page=2")  # the address says where the reader is
    assert page.evaluate("window.__notReloaded") is True  # only the table was swapped
    assert page.locator("#quota-line").is_visible()
    page.locator("#roster-table nav.pager a", has_text="3").click()
    page.wait_for_selector("#roster-table :text('第 3/3 页')")
    assert rows.count() == 52 and rows.last.inner_text().startswith("252\t")
    page.go_back()  # the browser's back button returns to page 2
    page.wait_for_selector("#roster-table :text('第 2/3 页')")
