"""Issue 25 (3, 4) in a browser: the application form's errors the GOV.UK way (nothing for merely
passing through, a refused save opens on a focused error summary whose links put the cursor in
the field, a message never moves the fields around it), its section outline, and the links from
elsewhere (去修改, the 申报书 comparison) that land with the cursor in the field."""
import pytest

from xkxl_intranet.applications.models import Application
from xkxl_intranet.domain.checks import FORM_2022
from xkxl_intranet.domain.form_layout import form_blocks, texts_for
from xkxl_intranet.extensions import db
from xkxl_intranet.files.form_template import form_docx

from helpers import application_values, browser_login, create_application, store_form

pytestmark = pytest.mark.browser

VISIBLE_MESSAGES = """() => Array.from(document.querySelectorAll('.application-form .msg'))
    .filter(m => m.getClientRects().length > 0).map(m => m.textContent)"""
FIELD_TOPS = """() => Object.fromEntries(Array.from(document.querySelectorAll('.application-form .afield'))
    .map(f => [f.id, f.getBoundingClientRect().top + window.scrollY]))"""


def _active_id(page) -> str:
    return page.evaluate("() => document.activeElement && document.activeElement.id")


def _section_number(code: str) -> int:
    return [s.code for s in FORM_2022.sections].index(code) + 1


def test_tabbing_through_an_empty_form_shows_no_error_and_no_message_moves_a_field(page):
    page.set_viewport_size({"width": 1366, "height": 900})
    browser_login(page, "chengdu")
    page.goto("/applications/new")
    page.type("#enterprise_name", "四川浏览器测试有限公司", delay=5)
    page.locator("#enterprise_name").press("Tab")  # a change: the live check answers for every field
    page.locator("#check-summary #blank-required").wait_for()
    for _ in range(40):  # through the next forty controls without typing
        page.keyboard.press("Tab")
    page.wait_for_timeout(900)  # longer than the live check's pause
    assert page.evaluate(VISIBLE_MESSAGES) == []
    touched = page.evaluate("() => Array.from(document.querySelectorAll('.afield.is-touched'), f => f.id)")
    assert touched == ["f-enterprise_name"]  # the one field typed in, none passed through

    # Changed and left: now 联系人 says so, and the fields below it stay where they were.
    before = page.evaluate(FIELD_TOPS)
    page.locator("#contact_name").fill("张")
    page.locator("#contact_name").press("Backspace")
    page.locator("#contact_name").press("Tab")
    message = page.locator("#msg-contact_name .msg-required")
    message.wait_for(state="visible")
    assert "「联系人」为必填项" in message.inner_text()
    assert page.evaluate(VISIBLE_MESSAGES) == [message.inner_text()]
    assert page.evaluate(FIELD_TOPS) == before


def _refuse_a_save(page, application_id: int) -> None:
    page.goto(f"/applications/{application_id}/edit")
    page.fill("#devices_total", "约1200")
    page.fill("#apps_total", "12a")
    page.get_by_role("button", name="保存").click()
    page.wait_for_load_state()


def test_a_refused_save_opens_on_the_error_summary_and_its_links_put_the_cursor_in_the_field(app, page):
    application_id = create_application(app)
    browser_login(page, "chengdu")
    _refuse_a_save(page, application_id)
    summary = page.locator("#error-summary")
    assert summary.get_attribute("role") == "alert"
    assert summary.get_by_role("heading").inner_text() == "有 2 处需要修改"
    assert "尚未保存" in summary.inner_text()
    assert _active_id(page) == "error-summary"
    links = summary.get_by_role("link")
    assert links.count() == 2 and "可连接的工业设备/产品/产线数量" in links.nth(0).inner_text()
    links.nth(1).click()
    assert _active_id(page) == "apps_total"
    assert page.locator("#apps_total").input_value() == "12a"  # nothing typed is lost
    page.keyboard.type("5")  # the cursor after the text, as a click at its end would put it
    assert page.locator("#apps_total").input_value() == "12a5"
    box = page.locator("#f-apps_total").bounding_box()
    bar = page.locator(".sticky-actions").bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= bar["y"]  # in view, above the 保存 bar


def test_without_javascript_the_summary_is_there_and_takes_the_focus(app, browser, live_server):
    application_id = create_application(app)
    context = browser.new_context(locale="zh-CN", base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        browser_login(page, "chengdu")
        _refuse_a_save(page, application_id)
        summary = page.locator("#error-summary")
        assert summary.get_by_role("heading").inner_text() == "有 2 处需要修改"
        assert summary.get_attribute("autofocus") is not None
        assert page.locator("#error-summary:focus").count() == 1  # the browser's own autofocus
        # GOV.UK's links to the control itself: the browser puts the cursor there, no script needed.
        summary.locator("a[href='#apps_total']").click()
        assert page.locator("#apps_total:focus").count() == 1
        # … with its label in view above it, not cut off at the window's top (scroll-margin-top).
        assert page.locator("label[for=apps_total]").bounding_box()["y"] >= 0
    finally:
        context.close()


def test_the_outline_shows_each_sections_state_and_follows_the_live_check(app, page):
    right = application_values()["devices_operating"]
    application_id = create_application(app, devices_operating=str(int(right) + 5), contact_name="")  # 1.1 wrong
    page.set_viewport_size({"width": 1366, "height": 900})
    browser_login(page, "chengdu")
    page.goto(f"/applications/{application_id}/edit")
    outline = page.locator("nav.form-outline")
    assert outline.locator("details").get_attribute("open") is not None
    state = outline.locator(f"#outline-state-{_section_number('1.1')}")
    assert "处错误" in state.inner_text()
    assert outline.locator(f"#outline-state-{_section_number('一')}").inner_text() == "1 项未填"
    assert outline.locator(f"#outline-state-{_section_number('1.2')}").inner_text() == "完成"
    assert outline.get_by_role("link", name="申报书中读取的数据（与申报表核对）").get_attribute("href").endswith(
        f"/applications/{application_id}#document")
    page.evaluate("window.scrollTo(0, 4000)")  # sticky beside the form
    assert 0 <= outline.bounding_box()["y"] < 100
    page.fill("#devices_operating", right)
    page.locator("#devices_operating").press("Tab")
    page.wait_for_function(f"() => document.getElementById('outline-state-{_section_number('1.1')}')"
                           ".textContent.trim() === '完成'")


def test_on_a_narrow_screen_the_outline_is_folded_after_the_form(page):
    """After the form, as in the page's order: the live check filling 检查结果 moves nothing above
    the clerk's pointer (the walkthrough saw the form pushed 113 px down at 800×600)."""
    page.set_viewport_size({"width": 700, "height": 900})
    browser_login(page, "chengdu")
    page.goto("/applications/new")
    outline = page.locator("nav.form-outline")
    assert outline.locator("details").get_attribute("open") is None
    assert outline.bounding_box()["y"] > page.locator(".application-form").bounding_box()["y"]
    outline.locator("summary").click()
    assert outline.get_by_role("link", name=FORM_2022.sections[2].heading).is_visible()


def test_the_comparison_and_go_fix_links_land_with_the_cursor_in_the_field(app, page):
    application_id = create_application(app, with_form=False)
    with app.app_context():
        values = db.session.get(Application, application_id).values()
    store_form(app, application_id, form_docx(form_blocks(
        texts_for(values, form=FORM_2022) | {"devices_total": "9,999"}, form=FORM_2022)))
    browser_login(page, "chengdu")
    page.goto(f"/applications/{application_id}")
    page.locator("#document-differences").get_by_role("link", name="可连接的工业设备/产品/产线数量").click()
    page.wait_for_url(f"**/applications/{application_id}/edit#devices_total")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'devices_total'")

    page.fill("#devices_operating", str(int(values["devices_total"]) + 5))
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(f"**/applications/{application_id}")
    page.locator("#findings").get_by_role("link", name="去修改").first.click()
    page.wait_for_url(f"**/applications/{application_id}/edit#*")
    key = page.url.rsplit("#", 1)[1]
    page.wait_for_function("key => document.activeElement && document.activeElement.id === key", arg=key)


def test_after_the_skip_link_the_next_tab_stops_are_the_forms_not_the_outlines(page):
    """The walkthrough counted 22 Tabs from the skip link to 企业名称 (19 of them the outline's links)."""
    browser_login(page, "chengdu")
    page.goto("/applications/new")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the skip link: into <main>
    stops = []
    for _ in range(6):
        page.keyboard.press("Tab")
        stops.append(page.evaluate("() => !!document.activeElement.closest('.application-form')"))
    assert any(stops[:4]) and not page.evaluate("() => !!document.activeElement.closest('nav.form-outline')")


def test_a_message_of_several_lines_moves_nothing_under_the_pointer(app, page):
    """A one-line message has its line kept; the duplicate hint (three lines in its column at 1366 px)
    grew the field and pushed the rows below 41 px under the clerk's mouse. The page now scrolls by
    what the element under the pointer moved, so a click aimed at it still lands on it."""
    taken = application_values("510700")["credit_code"]
    create_application(app, "mianyang", credit_code=taken)
    page.set_viewport_size({"width": 1366, "height": 768})
    browser_login(page, "chengdu")
    page.goto("/applications/new")
    page.locator("#f-credit_code").scroll_into_view_if_needed()
    below = page.evaluate("""() => {
        const box = document.getElementById('f-credit_code').getBoundingClientRect();
        const next = Array.from(document.querySelectorAll('.application-form .afield input:not([type=hidden])'))
            .find(i => { const r = i.getBoundingClientRect(); return r.top > box.bottom + 4 && r.left < box.right && r.right > box.left; });
        return next.id;
    }""")
    target = page.locator(f"#{below}")
    point = target.bounding_box()
    x, y = point["x"] + 8, point["y"] + point["height"] / 2
    page.locator("#credit_code").type(taken, delay=5)
    page.mouse.move(x, y)  # on the way to the field below while the live check works
    page.locator("#msg-credit_code .msg-warning", has_text="重复").wait_for(state="visible")
    line = page.evaluate("() => parseFloat(getComputedStyle(document.documentElement).fontSize) * .88 * 1.6")
    assert page.locator("#msg-credit_code").bounding_box()["height"] > 3 * line  # beyond the kept line
    page.wait_for_timeout(100)
    assert page.evaluate("([x, y]) => document.elementFromPoint(x, y).id", [x, y]) == below
    assert abs(target.bounding_box()["y"] - point["y"]) < 1
    page.mouse.click(x, y)
    assert _active_id(page) == below
