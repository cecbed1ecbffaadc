"""Issue 25, deliverables 1 and 2, in Chromium.

1. axe-core (tests/browser/vendor/axe-core, the npm package's ``axe.min.js``) finds no violation
   of any impact on the pages the screen crawl visits, for every role. The crawl of
   tests/test_screens_crawl.py runs first with the test client over the same demo data; of the
   pages it reaches, the browser visits one per distinct route (the path with its numbers taken
   out, plus the names of its query parameters): every page template and each of its variants
   (?scope=all, a filter, a tab) once, without the 300 applications that share one template.
2. A skip link is the first thing Tab reaches, shows itself, and takes the focus into <main>; and
   tabbing through the application form never leaves the focused field under a sticky bar.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_screens_crawl import ROLES, _more_of_everything, walk

from xkxl_intranet import clock
from xkxl_intranet.auth.models import User
from xkxl_intranet.domain.notices import NoticeKind
from xkxl_intranet.extensions import db
from xkxl_intranet.notifications.operations import Link, notify

from helpers import browser_login, login, seed_demo_quickly

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
# The crawl's roles and the 评审专家 (whose sheet the crawl's roles never see).
A11Y_ROLES = ROLES + (("expert1", ROLES[0][1]),)


def _route(url: str) -> str:
    """Pages of one route share a template: /review/applications/12 and /13 are one."""
    path, _, query = url.partition("?")
    names = sorted({pair.split("=", 1)[0] for pair in query.split("&") if pair})
    return re.sub(r"\d+", "N", path) + ("?" + "&".join(names) if names else "")


def _routes(client) -> list[str]:
    """The crawl's pages (its walk, without htmx's fragment URLs), one URL per route, in the order
    first met."""
    chosen: dict[str, str] = {}
    for visit in walk(client, follow_fragments=False):
        if visit.page is not None:
            chosen.setdefault(_route(visit.url), visit.url)
    return list(chosen.values())


@pytest.fixture
def demo_app(app, monkeypatch):
    clock.set_now(None)
    seed_demo_quickly(app, monkeypatch)
    _more_of_everything(app)
    return app


def _axe(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    # Every rule axe has for WCAG A/AA and its best practices (the defaults), any impact.
    return page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ['violations']});
        return result.violations.map(v => ({id: v.id, impact: v.impact,
            targets: v.nodes.slice(0, 3).map(n => n.target.join(' ')), count: v.nodes.length}));
    }""")


def _unread_notices(app, username: str) -> None:
    """Two unread notices, so that every page shows the header badge with its count (axe found
    the badge's name and text apart only in that state: WCAG 2.5.3)."""
    with app.app_context():
        person = db.session.scalar(db.select(User).where(User.username == username))
        for n in (1, 2):
            notify([person], NoticeKind.DEADLINE_CHANGED, f"未读通知 {n}", "正文", Link("core.index"))
        db.session.commit()


def test_no_axe_violation_on_any_page_for_any_role(demo_app, browser, live_server):
    problems: list[str] = []
    visited: dict[str, list[str]] = {}
    for username, password in A11Y_ROLES:
        client = demo_app.test_client()
        assert login(client, username, password).status_code in (302, 303), username
        urls = _routes(client)
        assert len(urls) > (2 if username == "auditor" else 5), (username, urls)
        _unread_notices(demo_app, username)  # the crawl opened (read) them all: the badge's other state
        visited[username] = urls
        # bypass_csp: the app's CSP allows only its own scripts; axe is the test's.
        context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai",
                                      base_url=live_server.url, bypass_csp=True)
        context.set_default_timeout(15_000)
        page = context.new_page()
        browser_login(page, username, password)
        for url in urls:
            response = page.goto(url)
            assert response is not None and response.ok, (username, url)
            page.wait_for_load_state("networkidle")  # fragments htmx loads on load are in too
            for v in _axe(page):
                problems.append(f"[{username}] {url}: {v['id']} ({v['impact']}) ×{v['count']} at {v['targets']}")
        context.close()
    print({user: len(urls) for user, urls in visited.items()})
    print(sorted({_route(url) for urls in visited.values() for url in urls}))
    assert not problems, "\n".join(problems)


def test_anonymous_pages_have_no_axe_violation(browser, live_server):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai",
                                  base_url=live_server.url, bypass_csp=True)
    page = context.new_page()
    problems = []
    for url in ("/login", "/no-such-page"):
        page.goto(url)
        problems += [f"{url}: {v['id']} ({v['impact']}) at {v['targets']}" for v in _axe(page)]
    context.close()
    assert not problems, "\n".join(problems)


FOCUSED = """() => { const el = document.activeElement, r = el.getBoundingClientRect();
  return {id: el.id, cls: el.className, tag: el.tagName, text: el.textContent.trim().slice(0, 20),
          top: r.top, bottom: r.bottom, left: r.left, right: r.right, outline: getComputedStyle(el).outlineStyle,
          inMain: !!el.closest('main')}; }"""


@pytest.mark.parametrize("url", ["/", "/applications/new", "/files/city"])
def test_the_first_tab_reaches_the_skip_link_and_enter_goes_to_the_content(page, url):
    browser_login(page, "chengdu")
    page.goto(url)
    page.keyboard.press("Tab")
    focused = page.evaluate(FOCUSED)
    assert focused["cls"] == "skip-link" and focused["text"] == "跳到正文", focused
    assert focused["top"] >= 0 and focused["bottom"] - focused["top"] > 20 and focused["left"] >= 0  # on screen
    assert focused["outline"] == "solid"  # the focus ring shows
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")  # the next Tab goes on inside the content, past header and round bar
    assert page.evaluate(FOCUSED)["inMain"]


def test_every_page_has_its_landmarks(page):
    browser_login(page, "chengdu")
    page.goto("/")
    roles = page.evaluate("""() => ['header', 'nav', 'main', 'footer'].map(
        tag => [...document.querySelectorAll(tag)].filter(el => el.checkVisibility()).length)""")
    assert roles[0] == 1 and roles[1] >= 1 and roles[2] == 1 and roles[3] == 1, roles
    assert page.locator("a.skip-link").get_attribute("href") == "#main"


# Whether the focused element's centre is the element itself (or inside it), and not a sticky bar.
UNCOVERED = """() => { const el = document.activeElement, r = el.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return {name: el.name || el.id || el.textContent.trim().slice(0, 10), tag: el.tagName,
          inForm: !!el.closest('.application-form') && !el.closest('.sticky-actions'),
          visible: hit !== null && (hit === el || el.contains(hit) || (el.labels && [...el.labels].some(l => l.contains(hit)))),
          hit: hit ? hit.className || hit.tagName : null, ring: getComputedStyle(el).outlineStyle}; }"""


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 768}, {"width": 800, "height": 600}])
def test_tabbing_through_the_form_never_hides_the_field_under_the_sticky_bar(page, viewport):
    browser_login(page, "chengdu")
    page.set_viewport_size(viewport)
    page.goto("/applications/new")
    page.focus("#enterprise_name")
    checked, hidden = 0, []
    for _ in range(400):  # far more than the form's tab stops
        state = page.evaluate(UNCOVERED)
        if not state["inForm"]:
            break
        checked += 1
        if not state["visible"]:
            hidden.append((state["name"], state["hit"]))
        assert state["ring"] == "solid", state  # focus always visible
        page.keyboard.press("Tab")
    assert checked > 80, checked  # the whole form was walked, not just its top
    assert not hidden, hidden


def test_shift_tab_up_the_form_keeps_the_field_clear_of_the_idle_warning(page):
    """The idle warning sticks to the top of the window: going back up the form, the focused field
    is scrolled below it (scroll-padding-top), not under it."""
    page.clock.install()
    browser_login(page, "chengdu")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto("/applications/new")
    page.clock.run_for("01:55:30")
    assert page.locator("#idle-warning").is_visible()
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.focus(".sticky-actions button[type=submit]")
    checked, hidden = 0, []
    for _ in range(60):
        page.keyboard.press("Shift+Tab")
        state = page.evaluate(UNCOVERED)
        if not state["inForm"]:
            break
        checked += 1
        if not state["visible"]:
            hidden.append((state["name"], state["hit"]))
    assert checked == 60 and not hidden, (checked, hidden)
