"""Every screen speaks clean Chinese (issue #12): log in as each role on the demo data (every
state of a batch and an application is there), follow every internal link reachable from the
home page, and check every answer: no 5xx (no broken link at all), no Python ``None``, no internal
id such as ``batch #7``, no English interface word, ``<html lang="zh-CN">``, and no form that
would let the browser answer in its own language. Downloads are fetched once per kind and their
text checked too."""
from __future__ import annotations

import io
import re
import time
import tomllib
import zipfile
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from werkzeug.test import TestResponse

from xkxl_intranet import clock
from xkxl_intranet.applications.materials import delete_file, store_bytes
from xkxl_intranet.applications.models import Application
from xkxl_intranet.applications.operations import delete_application, save_application
from xkxl_intranet.audit.models import AuditEvent
from xkxl_intranet.auth.models import User
from xkxl_intranet.auth.services import authenticate, reset_password, update_user
from xkxl_intranet.batches.desk import grant_extension, set_disclosure
from xkxl_intranet.batches.settings import publish_results
from xkxl_intranet.domain.checks import FORM_2022
from xkxl_intranet.domain.indicators import FIELDS
from xkxl_intranet.domain.parsing import format_field, parse_input
from xkxl_intranet.extensions import db
from xkxl_intranet.files.models import StoredFile
from xkxl_intranet.reports.summary import update_contact
from xkxl_intranet.rounds.models import City, Receipt
from xkxl_intranet.rounds.state import batch_for_write, current_round

from helpers import DEMO_PASSWORD, SAMPLE_PDF, TEST_PASSWORD, application_values, login, seed_demo_quickly

# (user name, password): a clerk still filling in, one whose batch the province returned, one
# whose batch is reported; the province; a viewer; the 系统管理员; the 安全审计员.
ROLES = (("chengdu", TEST_PASSWORD), ("leshan", DEMO_PASSWORD), ("mianyang", TEST_PASSWORD),
         ("province", TEST_PASSWORD), ("viewer", TEST_PASSWORD), ("admin", TEST_PASSWORD),
         ("auditor", TEST_PASSWORD))
DOWNLOADS = (".xlsx", ".pdf", ".zip", ".docx", ".toml", ".csv")
MAX_PAGES = 400  # per role: a bound, far above what the demo has

# Names of formats, products and standards, and the units and abbreviations of the notice's own
# forms (工业APP, IaaS, VC/PE, 5G, AR/VR, MB): not interface words to translate.
FORMATS = {"PDF", "ZIP", "OFD", "WPS", "ET", "DOC", "DOCX", "XLS", "XLSX", "CSV", "JPG", "JPEG", "PNG", "TIF",
           "TIFF", "RAR", "TOML"}  # any case: 「.xlsx」 names the format too
ALLOWED_WORDS = {"Excel", "Word", "SHA", "MB", "KB", "GB", "APP", "IaaS", "VC", "PE", "AR", "VR", "AI", "IP"}
ALLOWED_PHRASES = ("manifest.csv", "SHA-256", "E-mail")
# Attributes a person reads (a tooltip, a placeholder, a screen reader's name, a confirmation).
READ_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "data-confirm", "label"}


class Page(HTMLParser):
    """What a person reads on a page, its links, and its forms."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.links: list[str] = []
        self.fragments: list[str] = []
        self.forms: list[dict] = []
        self.date_inputs = 0
        self.empty_links: list[str] = []
        self._skip = 0
        self._link: tuple[str, list[str], bool] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        # <code> shows an identifier (a field's key, a rule's id, a digest), not interface words
        if tag in ("script", "style", "code"):
            self._skip += 1
        for name in READ_ATTRIBUTES & a.keys():
            self.text.append(a[name] or "")
        if tag == "input" and a.get("type") in ("submit", "button"):
            self.text.append(a.get("value") or "")
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
            self._link = (a["href"], [], "aria-label" in a)
        if a.get("hx-get"):
            self.fragments.append(a["hx-get"])
        if tag == "form":
            self.forms.append({"attrs": a, "constrained": False})
            if (a.get("method") or "get").lower() == "get" and a.get("action"):
                self.links.append(a["action"])
        if tag in ("input", "textarea", "select") and self.forms and (
                {"required", "pattern", "min", "max", "minlength"} & a.keys()
                or a.get("type") in ("email", "url", "number")):
            self.forms[-1]["constrained"] = True
        if tag == "input" and a.get("type") == "date":
            self.date_inputs += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "code"):
            self._skip -= 1
        if tag == "a" and self._link:
            href, parts, labelled = self._link
            if not "".join(parts).strip() and not labelled:
                self.empty_links.append(href)
            self._link = None

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)
            if self._link:
                self._link[1].append(data)


def _normal(url: str) -> str | None:
    """A local URL without its fragment and with its query in one order; None for what the
    crawl does not follow (elsewhere, static files, log-out)."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    if parts.path.startswith(("/static/", "/logout")):
        return None
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return parts.path + (f"?{query}" if query else "")


def _data_strings(app) -> list[str]:
    """Everything the demo's people typed or were given (names, addresses, e-mail, codes, file
    names, log-in names, receipt numbers): data, not interface, and taken out before looking for
    English words. Longest first, so that a name is removed before a part of it."""
    with app.app_context():
        strings = set()
        for application in db.session.scalars(db.select(Application)):
            for key, value in application.values().items():
                f = FIELDS[key]
                if value is not None and not f.is_numeric:
                    strings.add(format_field(f, value))
        strings |= set(db.session.scalars(db.select(StoredFile.original_name)))
        strings |= set(db.session.scalars(db.select(User.username)))
        strings |= set(db.session.scalars(db.select(AuditEvent.username)))  # as typed at a log-in
        strings |= set(db.session.scalars(db.select(User.display_name)))
        strings |= set(db.session.scalars(db.select(User.email)))  # before the log-in name in it
        strings |= set(db.session.scalars(db.select(Receipt.number)))
        strings |= set(db.session.scalars(db.select(City.contact_phone)))
    return sorted((s for s in strings if s), key=len, reverse=True)


DATA_PATTERNS = (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"),  # e-mail addresses
                 re.compile(r"[^\s“”（）()、：:，]+\.(pdf|docx?|xlsx?|wps|et|ofd|zip|rar|jpe?g|png|tiff?)\b",
                            re.IGNORECASE),  # file names (of deleted files too)
                 re.compile(r"\b[0-9A-Z]{18}\b"))  # credit codes
# A SHA-256 digest (also when a label runs into one). Taken out before the data strings: a digest
# is random, and a short typed value (a phone number, a receipt number) found inside one would cut
# it into pieces too short to look like a digest, leaving runs such as "cdbfc" behind.
DIGEST = re.compile(r"[0-9a-f]{32,}")


def english_words(text: str, data: list[str]) -> set[str]:
    text = DIGEST.sub(" ", text)
    for value in data:
        text = text.replace(value, " ")
    for phrase in ALLOWED_PHRASES:
        text = text.replace(phrase, " ")
    for pattern in DATA_PATTERNS:
        text = pattern.sub(" ", text)
    return {w for w in re.findall(r"[A-Za-z][A-Za-z-]+", text)
            if w.strip("-") not in ALLOWED_WORDS and w.strip("-").upper() not in FORMATS}


def check_text(where: str, html: str, page: Page, data: list[str], problems: list[str]) -> None:
    text = " ".join(page.text)
    if re.search(r"\bNone\b", html):
        problems.append(f"{where}: None")
    if ids := re.findall(r"#\s?\d+", text):
        problems.append(f"{where}: internal id {ids[:3]}")
    if words := english_words(text, data):
        word = sorted(words)[0]
        at = re.search(rf"(?<![A-Za-z]){re.escape(word)}(?![A-Za-z])", text)
        context = " ".join(text[max(0, at.start() - 40):at.end() + 20].split()) if at else ""
        problems.append(f"{where}: English {sorted(words)[:8]} in 「{context}」")
    if page.empty_links:
        problems.append(f"{where}: link without text {page.empty_links[:3]}")


def check_page(where: str, html: str, page: Page, data: list[str], problems: list[str]) -> None:
    check_text(where, html, page, data, problems)
    if html.lstrip().lower().startswith("<!doctype html") and '<html lang="zh-CN">' not in html:
        problems.append(f"{where}: no <html lang=\"zh-CN\">")
    for form in page.forms:
        if form["constrained"] and "novalidate" not in form["attrs"]:
            problems.append(f"{where}: a form the browser would validate in its own language ({form['attrs']})")
    if page.date_inputs:
        problems.append(f"{where}: <input type=date> shows the PC's pattern (mm/dd/yyyy on English Windows)")


def check_download(where: str, response, problems: list[str]) -> None:
    """A download answers 200; the text of a PDF or workbook shows no None."""
    body = response.get_data()
    response.close()
    if response.status_code != 200:
        problems.append(f"{where}: {response.status_code}")
        return
    text = ""
    if where.split("?")[0].endswith(".pdf") or response.mimetype == "application/pdf":
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages)
    elif where.split("?")[0].endswith(".xlsx"):
        book = load_workbook(io.BytesIO(body), read_only=True)
        text = "\n".join(str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True)
                         for v in row if v is not None)
    elif where.split("?")[0].endswith(".zip"):
        assert zipfile.ZipFile(io.BytesIO(body)).testzip() is None
    elif where.split("?")[0].endswith(".toml"):  # a round's notice: a file for the notice loader
        text = body.decode("utf-8")
        tomllib.loads(text)
    if re.search(r"\bNone\b", text):
        problems.append(f"{where}: None in the file")


@dataclass(frozen=True)
class Visit:
    """One URL the walk reached: a page (``response``, and ``page`` when it is HTML) or a download
    (``response`` None: the caller fetches the kinds it wants)."""
    url: str
    response: TestResponse | None
    page: Page | None = None


def walk(client, *, follow_fragments: bool = True, max_pages: int = MAX_PAGES) -> Iterator[Visit]:
    """Breadth first from the home page, each URL once, redirects followed: every page (counted up
    to ``max_pages``) and every download link. ``follow_fragments``: also the URLs htmx fetches
    (hx-get), which serve a whole page as well."""
    seen: set[str] = set()
    queue = deque(["/"])
    pages = 0
    while queue and pages < max_pages:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        path = url.split("?")[0]
        if path.endswith(DOWNLOADS) or "/download" in path:
            yield Visit(url, None)
            continue
        response = client.get(url)
        if response.status_code in (301, 302, 303):
            if target := _normal(response.headers["Location"]):
                queue.append(target)
            continue
        pages += 1
        page = None
        if response.status_code == 200 and response.mimetype == "text/html":
            page = Page()
            page.feed(response.get_data(as_text=True))
            found = page.links + page.fragments if follow_fragments else page.links
            queue.extend(u for u in map(_normal, found) if u and u not in seen)
        yield Visit(url, response, page)


def crawl(client, data: list[str]) -> tuple[list[str], int]:
    """Every page and, once per kind, every download the walk reaches, checked."""
    problems: list[str] = []
    download_kinds: set[str] = set()
    fragments_seen: set[str] = set()
    pages = 0
    for visit in walk(client):
        url, response, page = visit.url, visit.response, visit.page
        if response is None:
            kind = re.sub(r"\d+", "N", url.split("?")[0])
            if kind not in download_kinds:
                download_kinds.add(kind)
                check_download(url, client.get(url), problems)
            continue
        if response.status_code != 200:
            problems.append(f"{url}: {response.status_code}")
            continue
        pages += 1
        html = response.get_data(as_text=True)
        if page is None:
            page = Page()
            page.feed(html)
        check_page(url, html, page, data, problems)
        for fragment_url in {_normal(u) for u in page.fragments} - {None} - fragments_seen:
            fragments_seen.add(fragment_url)
            fragment = client.get(fragment_url, headers={"HX-Request": "true"})
            if fragment.status_code != 200:
                problems.append(f"{fragment_url} (htmx): {fragment.status_code}")
                continue
            fragment_page = Page()
            fragment_html = fragment.get_data(as_text=True)
            fragment_page.feed(fragment_html)
            check_text(f"{fragment_url} (htmx)", fragment_html, fragment_page, data, problems)
    return problems, pages


def _more_of_everything(app) -> None:
    """Besides the demo: the actions whose audit events the demo lacks (an edit, a deleted draft
    and file, an extension, a disclosure, a contact, account changes, an unknown log-in, published
    results) and an application nobody has named yet."""
    with app.app_context():
        def user(name):
            return db.session.scalar(db.select(User).where(User.username == name))

        clerk, province, admin = user("chengdu"), user("province"), user("admin")
        round_ = current_round()
        chengdu, yibin = clerk.city, db.session.scalar(db.select(City).where(City.code == "511500"))
        save_application(clerk, None, parse_input({}, FORM_2022.fields), city=chengdu, round_=round_, expected_version=None)  # unnamed
        edited = db.session.scalar(db.select(Application).where(Application.city_id == chengdu.id,
                                                                Application.review_state == "draft"))
        save_application(clerk, edited, parse_input({**edited.values(), "employees": "3210"}, FORM_2022.fields), city=chengdu,
                         round_=round_,
                         expected_version=edited.version)
        doomed, _ = save_application(clerk, None, parse_input(application_values(), FORM_2022.fields), city=chengdu, round_=round_,
                                     expected_version=None)
        delete_application(clerk, doomed)
        evidence = store_bytes(clerk, SAMPLE_PDF, "设备清单.pdf", category="evidence1", application=edited)
        delete_file(clerk, evidence)
        set_disclosure(clerk, batch_for_write(round_.id, chengdu.id), "依申请公开")
        update_contact(clerk, round_, chengdu, "张伟", "028-61881235")
        grant_extension(province, batch_for_write(round_.id, yibin.id), round_.deadline + timedelta(days=5),
                        "地震影响，准予延期")
        viewer = user("viewer")
        update_user(admin, viewer, display_name="厅领导", role="viewer", city=None, phone="028-86264000",
                    is_enabled=True)
        reset_password(admin, user("zigong"))
        publish_results(province, round_, True, confirm_early=True)
        authenticate("nobody", "wrong-password")
        db.session.commit()


@pytest.fixture
def demo_app(app, monkeypatch):
    clock.set_now(None)
    seed_demo_quickly(app, monkeypatch)
    _more_of_everything(app)
    return app


def test_every_reachable_screen_speaks_clean_chinese(demo_app):
    """One demo, every role in turn (seeding it takes longer than a crawl)."""
    problems = []
    for username, password in ROLES:
        client = demo_app.test_client()
        assert login(client, username, password).status_code in (302, 303), username
        started = time.perf_counter()
        found, pages = crawl(client, _data_strings(demo_app))
        print(f"{username}: {pages} pages in {time.perf_counter() - started:.1f} s")
        assert pages > (2 if username == "auditor" else 5), username  # the auditor: the trail and their account
        problems += [f"[{username}] {p}" for p in found]
    assert not problems, "\n".join(problems)
