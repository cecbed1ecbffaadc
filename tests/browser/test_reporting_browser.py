import pytest

from helpers import browser_login, create_application

pytestmark = pytest.mark.browser


def test_city_reports_and_the_province_dashboard_changes_without_reload(app, browser, live_server):
    app.config["DASHBOARD_REFRESH_SECONDS"] = 1
    from datetime import timedelta

    from xkxl_intranet import clock
    from xkxl_intranet.extensions import db
    from xkxl_intranet.rounds.models import Round

    with app.app_context():
        db.session.scalar(db.select(Round)).deadline = clock.now() + timedelta(days=3)
        db.session.commit()
    application_id = create_application(app, "chengdu")

    province_context = browser.new_context(locale="zh-CN", base_url=live_server.url)
    province = province_context.new_page()
    browser_login(province, "province")
    province.goto("/rounds/dashboard")
    row = province.locator('tr[data-city="chengdu"]')
    assert "填报中" in row.inner_text()
    province.evaluate("window.__marker = 'same page'")

    city_context = browser.new_context(locale="zh-CN", base_url=live_server.url)
    city = city_context.new_page()
    browser_login(city, "chengdu")
    city.goto(f"/applications/{application_id}")
    city.check("input[name=decision][value=passed]")
    city.click("button:has-text('保存初审结论')")
    city.wait_for_load_state()
    assert "市州初审通过" in city.locator("#review").inner_text()
    city.goto("/rounds/batch/report")
    dialogs = []

    def confirm(dialog):
        dialogs.append(dialog.message)
        dialog.accept()
    city.on("dialog", confirm)  # the confirmation prompt
    # Unticked: the app's own message, and no "确定报送？" for a form that cannot be sent yet.
    city.click("button:has-text('确认报送')")
    message = city.locator("#scan-missing .msg-error[role=alert]")
    message.wait_for()
    assert message.inner_text() == "请先勾选“已知悉：扫描件尚未上传，纸质版另行报送”。"
    assert dialogs == [] and city.url.endswith("/rounds/batch/report")
    city.check("input[name=scan_missing_acknowledged]")  # no stamped 附件3 scan uploaded yet
    city.click("button:has-text('确认报送')")
    city.wait_for_url("**/rounds/receipts/*")
    assert "报送回执" in city.locator("h1").inner_text()
    assert dialogs == ["确定报送？报送后不能再修改，除非省厅退回。"]

    row.locator("text=已报送").wait_for(timeout=10_000)
    assert province.evaluate("window.__marker") == "same page"  # no reload happened
    province_context.close()
    city_context.close()
