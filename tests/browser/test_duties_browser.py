"""三权分立 in a browser: each of the administrator and the auditor lands on their own page, with a
menu of their own; the auditor's filter (htmx) carries over to the export links."""
import pytest

from helpers import browser_login, login

pytestmark = pytest.mark.browser


def test_the_administrator_lands_on_accounts_with_a_menu_of_their_own(page):
    browser_login(page, "admin")
    assert page.url.endswith("/admin/users")
    menu = page.locator("nav").first.inner_text()
    assert "账号管理" in menu and "系统设置与状态" in menu
    assert "审计日志" not in menu and "全部申报" not in menu and "报表" not in menu
    page.get_by_role("link", name="系统设置与状态").click()
    page.wait_for_url("**/admin/system")
    assert "空闲自动退出" in page.locator("#system-settings").inner_text()


def test_the_auditors_filter_carries_over_to_the_export(app, page):
    login(app.test_client(), "chengdu", "wrong")
    browser_login(page, "auditor")
    assert page.url.endswith("/audit/")
    menu = page.locator("nav").first.inner_text()
    assert "审计日志" in menu and "账号管理" not in menu and "全部申报" not in menu
    with page.expect_response(lambda r: "action=auth.login_failed" in r.url):
        page.select_option("select[name=action]", "auth.login_failed")
    export = page.locator("#export-xlsx")
    export.wait_for()
    assert export.get_attribute("href") == "/audit/export.xlsx?action=auth.login_failed"
    with page.expect_download() as download:
        export.click()
    assert download.value.suggested_filename.startswith("审计日志_")
    assert download.value.suggested_filename.endswith(".xlsx")
