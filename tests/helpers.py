"""Helpers the tests share: log-ins, audit events, and applications made through the services
as a clerk would make them. Fixtures live in ``conftest.py``; helpers live here, imported as
``from helpers import ...``."""
from __future__ import annotations

import functools
import hashlib
import os
import shutil
import struct
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import event

from xkxl_intranet import clock
from xkxl_intranet.applications.demo import figures
from xkxl_intranet.applications.materials import store_bytes
from xkxl_intranet.applications.models import Application
from xkxl_intranet.applications.operations import save_application
from xkxl_intranet.audit.models import AuditEvent
from xkxl_intranet.auth import services as auth_services
from xkxl_intranet.auth.models import User
from xkxl_intranet.auth.passwords import hash_password
from xkxl_intranet.auth.sessions import TOKEN_KEY, start_session
from xkxl_intranet.demo import seed_demo
from xkxl_intranet.domain import parsing
from xkxl_intranet.domain.checks import FORM_2022, check_values
from xkxl_intranet.domain.credit_code import make_credit_code
from xkxl_intranet.domain.form_layout import form_blocks
from xkxl_intranet.domain.parsing import parse_input
from xkxl_intranet.extensions import db
from xkxl_intranet.notice.shipped import FIRST_NOTICE
from xkxl_intranet.rounds.state import current_round

TEST_PASSWORD = "Test-pass-2022"


def notice_text(year: int = 2023, *, deadline: str = "2023-04-10T23:59:59+08:00",
                title: str = "2023年跨行业跨领域工业互联网平台", notice_number: str = "川经信办函〔2023〕1号",
                ministry_notice_number: str = "工信厅信发函〔2023〕125号") -> str:
    """A later year's notice file, as docs/notice-file.md says to make one: notices/2022.toml
    with its year, title, numbers and deadline changed."""
    text = FIRST_NOTICE.read_text(encoding="utf-8")
    for old, new in (("year = 2022", f"year = {year}"),
                     ('title = "2022年跨行业跨领域工业互联网平台"', f'title = "{title}"'),
                     ('notice_number = "川经信办函〔2022〕71号"', f'notice_number = "{notice_number}"'),
                     ('ministry_notice_number = "工信厅信发函〔2022〕38号"',
                      f'ministry_notice_number = "{ministry_notice_number}"'),
                     ("deadline = 2022-03-21T23:59:59+08:00", f"deadline = {deadline}")):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text

# username, display name, role, city code
TEST_USERS = (
    ("province", "省厅大数据与信息化处", "province", None),
    ("viewer", "厅领导", "viewer", None),
    ("chengdu", "成都市经济和信息化局", "city", "510100"),
    ("mianyang", "绵阳市经济和信息化局", "city", "510700"),
    ("expert1", "张明远", "expert", None),
    ("expert2", "李佳音", "expert", None),
    ("admin", "系统管理员", "admin", None),
    ("auditor", "安全审计员", "auditor", None),
)


class CSRFClient(FlaskClient):
    """A test client that sends a valid CSRF token with every unsafe request,
    unless called with ``csrf=False`` (to prove that such requests are refused)."""

    def csrf_token(self) -> str:
        with self.session_transaction() as sess:
            raw = sess.get("csrf_token")
            if raw is None:
                raw = hashlib.sha1(os.urandom(64)).hexdigest()
                sess["csrf_token"] = raw
        serializer = URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token")
        return serializer.dumps(raw)

    def open(self, *args, **kwargs):
        send_token = kwargs.pop("csrf", True)
        method = (kwargs.get("method") or "GET").upper()
        if send_token and method in {"POST", "PUT", "PATCH", "DELETE"}:
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRFToken", self.csrf_token())
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)


DEMO_PASSWORD = "Demo-pass-2022"


@functools.cache
def _password_hash(password: str) -> str:
    return hash_password(password)


def seed_demo_quickly(app, monkeypatch) -> None:
    """``seed_demo`` (every state of a batch and an application) with the demo's accounts sharing
    one argon2 hash of ``DEMO_PASSWORD``, computed once per run: hashing it for each of the 21
    accounts takes half a second a time, as conftest avoids for the test accounts."""
    monkeypatch.setenv("XKXL_DEMO_PASSWORD", DEMO_PASSWORD)
    monkeypatch.setattr(auth_services, "hash_password", _password_hash)
    with app.app_context():
        seed_demo()
        db.session.commit()


def audit_events(app, action: str) -> list:
    """The audit events of one action, oldest first, usable outside the app context."""
    with app.app_context():
        rows = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == action)
                                  .order_by(AuditEvent.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


@contextmanager
def sql_statements(app) -> Iterator[list[str]]:
    """The SQL statements the block runs (through the app's engine), one string each."""
    seen: list[str] = []
    with app.app_context():
        engine = db.engine

    def remember(conn, cursor, statement, *args):
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", remember)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", remember)


def count_parses(monkeypatch) -> Counter:
    """From now on, how many times each field's value is read by ``parsing.parse_field``, by
    field key, wherever a module of the app holds the function."""
    original = parsing.parse_field
    calls: Counter = Counter()

    def counting(f, raw):
        calls[f if isinstance(f, str) else f.key] += 1
        return original(f, raw)

    for name, module in list(sys.modules.items()):
        if name.startswith("xkxl_intranet") and getattr(module, "parse_field", None) is original:
            monkeypatch.setattr(module, "parse_field", counting)
    return calls


def generated_counts(app) -> dict:
    """How many generated files the app made, and found made, so far (generated.py)."""
    cache = app.extensions.get("xkxl_generated")
    return {key: cache.counts[key] if cache else 0 for key in ("renders", "hits")}


def made_again(app, client, urls) -> set:
    """The URLs whose file was made (not found among the generated files) on this download."""
    made = set()
    for url in urls:
        before = generated_counts(app)["renders"]
        assert client.get(url).status_code == 200, url
        if generated_counts(app)["renders"] > before:
            made.add(url)
    return made


def user_by_name(app, username: str):
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == username))
        db.session.expunge(user)
        return user


def logged_in_client(app, username: str) -> CSRFClient:
    """A client with a live session of ``username``, as after a log-in (without its audit event)."""
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == username))
        user_id, token = user.get_id(), start_session(user).token
        db.session.commit()
    test_client = app.test_client()
    with test_client.session_transaction() as sess:
        sess["_user_id"] = user_id
        sess["_fresh"] = True
        sess[TOKEN_KEY] = token
        sess["seen_at"] = clock.now().timestamp()
    return test_client


MONITOR_TOKEN = "monitor-token-for-tests"


def monitored_health(app, test_client):
    """``/healthz`` as the operator's monitor reads it: with the ``HEALTH_TOKEN``, details and all."""
    app.config["HEALTH_TOKEN"] = MONITOR_TOKEN
    return test_client.get("/healthz", headers={"Authorization": f"Bearer {MONITOR_TOKEN}"})


def login(test_client, username: str, password: str = TEST_PASSWORD, **kwargs):
    return test_client.post("/login", data={"username": username, "password": password}, **kwargs)


def browser_login(page, username: str, password: str = TEST_PASSWORD) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()



_BODIES = iter(f"MA6{n:04d}{chr(65 + n % 26) if chr(65 + n % 26) not in 'IOSVZ' else 'A'}" for n in range(1, 10_000))


def application_values(city_code: str = "510100", *, scale: int = 2, **overrides) -> dict:
    """A complete, valid application as a clerk would post it (every rule passes)."""
    body = next(_BODIES)
    values = {key: (value if isinstance(value, list) else str(value))
              for key, value in figures(scale).items()}
    values.update({
        "enterprise_name": f"四川测试科技有限公司{body[-4:]}", "credit_code": make_credit_code(city_code, body),
        "address": "成都市高新区天府大道1号", "contact_name": "张三", "contact_mobile": "13800001234",
        "contact_phone": "028-86264036", "contact_email": "zhangsan@example.com",
        "platform_name": f"测试工业互联网平台{body[-4:]}", "builder": "四川测试科技有限公司",
    })
    values.update({k: (v if isinstance(v, list) else str(v)) for k, v in overrides.items()})
    return values


SAMPLE_PDF = (b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
              b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")


def store_form(app, application_id: int, data: bytes, name: str = "申报书.docx") -> int:
    """Store ``data`` as the application's 申报书, as its city's clerk uploads it; the file's id."""
    with app.app_context():
        application = db.session.get(Application, application_id)
        clerk = db.session.scalar(db.select(User).where(User.city_id == application.city_id,
                                                        User.role == "city"))
        stored = store_bytes(clerk, data, name, category="form", application=application)
        db.session.commit()
        return stored.id


def attach_form(app, application_id: int, name: str = "申报书.pdf", data: bytes | None = None) -> str:
    """Store a 申报书 for the application (as its city's clerk); returns its SHA-256."""
    data = data or SAMPLE_PDF + f"% {application_id}\n".encode()
    store_form(app, application_id, data, name)
    return hashlib.sha256(data).hexdigest()


def wait_until(condition, seconds: float, what: str) -> None:
    """Poll ``condition`` every 0.2 s until it holds; fail naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {seconds} s: {what}")


def dead_pid() -> int:
    """A process id no process has now (for a claim left by a process that is gone)."""
    pid = 4_000_000
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        pid += 1


def create_application(app, username: str = "chengdu", *, with_form: bool = True, **overrides) -> int:
    """Create an application through the service, as the given clerk would (with a 申报书)."""
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == username))
        values = application_values(user.city.code, **overrides)
        application, evaluation = save_application(user, None, parse_input(values, FORM_2022.fields), city=user.city,
                                                   round_=current_round(), expected_version=None)
        assert application is not None, evaluation.result.parse_errors
        db.session.commit()
        application_id = application.id
    if with_form:
        attach_form(app, application_id)
    return application_id


def get_application(app, application_id: int):
    with app.app_context():
        application = db.session.get(Application, application_id)
        if application is not None:
            _ = application.city  # load before leaving the session
            db.session.expunge(application)
        return application


# ---- 申报书 documents (附件2 laid out from the declaration) ------------------------------------

def typed_values(city_code: str = "510100", **overrides) -> dict:
    """A complete application's values as stored (typed: int, Decimal, date, bool …)."""
    result = check_values(application_values(city_code, **overrides), clerk_city_code=city_code, form=FORM_2022)
    assert not result.parse_errors, result.parse_errors
    return result.values


def form_lines(texts: dict, **layout) -> tuple[str, ...]:
    """The 申报书 (2022's, or ``form=``'s) as plain text lines (a table row's cells joined by
    tabs), as a .docx reads."""
    blocks = form_blocks(texts, **{"form": FORM_2022, **layout})
    lines = []
    for block in blocks:
        if block.kind == "contents":  # as Word or a PDF prints it: entries with page numbers
            lines += [f"{b.text}\t{page}" for page, b in enumerate(blocks) if b.kind == "heading"]
        elif block.kind in ("paragraph", "heading"):
            lines.append(block.text)
        elif block.kind == "table":
            lines += ["\t".join(cell.text for cell in row) for row in block.rows]
    return tuple(lines)


# LibreOffice is not a dependency of the project: the tests that turn a .docx into PDF with it, as
# a clerk's office suite does, are skipped where it is not installed.
needs_office = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")


def office_pdfs(tmp_path, *sources) -> list:
    """``sources`` (.docx paths) exported to PDF by LibreOffice in one run, with a profile of its
    own under ``tmp_path``; the PDFs' paths, in the same order."""
    target = tmp_path / "office-pdf"
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/office-profile", "--headless",
                    "--convert-to", "pdf", "--outdir", str(target), *map(str, sources)],
                   check=True, capture_output=True, timeout=300)
    return [target / f"{source.stem}.pdf" for source in sources]


def word97_bytes() -> bytes:
    """A minimal Word 97 (.doc) file: an OLE2 compound file whose root holds a WordDocument
    stream (enough for the upload's content check; it has no text to read)."""
    free, end, fat_sector, none = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF

    def entry(name: str, kind: int, child: int = none) -> bytes:
        raw = (name + "\0").encode("utf-16-le")
        return (raw.ljust(64, b"\0") + struct.pack("<HBB", len(raw), kind, 1) + struct.pack("<III", none, none, child)
                + b"\0" * 36 + struct.pack("<IQ", end, 0))

    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
              + b"\0" * 6 + struct.pack("<IIII", 0, 1, 0, 0) + struct.pack("<IIIII", 4096, end, 0, end, 0)
              + struct.pack("<109I", 1, *([free] * 108)))
    directory = (entry("Root Entry", 5, child=1) + entry("WordDocument", 2)).ljust(512, b"\0")
    fat = struct.pack("<128I", end, fat_sector, *([free] * 126))
    return header + directory + fat
