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
    city.check("input[name=scan_missing_acknowledged]")  # no stamped 附件3 scan uploaded yet
    city.on("dialog", lambda dialog: dialog.accept())  # the confirmation prompt
    city.click("button:has-text('确认报送')")
    city.wait_for_url("**/rounds/receipts/*")
    assert "报送回执" in city.locator("h1").inner_text()

    row.locator("text=已报送").wait_for(timeout=10_000)
    assert province.evaluate("window.__marker") == "same page"  # no reload happened
    province_context.close()
    city_context.close()
